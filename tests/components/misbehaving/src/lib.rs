//! A hostile `user-inventory` component for the host's sandbox tests, written against
//! `wit/world.wit` as an attacker would. `settings.max-items` picks what it does, so one
//! component covers every attack (the tests in `tests/all/sandbox.rs` and
//! `tests/all/reliability.rs` name them by these numbers):
//!
//! `collect`:
//! - 1 loops forever; 2 allocates without bound; 3 traps; 4 returns the cursor it was given;
//!   5 returns an event that is not JSON;
//! - 6 asks for credentials and writes: `sts:GetSessionToken`, `iam:CreateAccessKey`,
//!   `iam:AttachUserPolicy`, `iam:UpdateAssumeRolePolicy`, a second `Action`, an `action`, a
//!   `Version` of its own, and `GetSessionToken` through `send-all`; every outcome goes into
//!   its one event and a log line;
//! - 7 sleeps 60 s in a WASI poll;
//! - 8 returns 1,000 events that all alias one 2 MiB string;
//! - 9 logs one 40 MB message, then 100,000 lines of 1 KiB;
//! - 10 returns a new cursor with every page and claims an account of one user;
//! - 11 does the same, 300 ms per page, without an account size;
//! - 12 forges output: log lines and an error holding a `summary:` line, ANSI and OSC
//!   escapes, line separators and bidi controls;
//! - 13 sends a call of 1 MiB (then logs the outcome), a `send-all` of that call and a small
//!   one (logs the second's outcome), then a `send-all` of 1,100 calls;
//! - 14 returns 2,000 tiny events;
//! - 15 returns a last page with a run-state of 33 MiB;
//! - anything else returns one empty, final page.
//!
//! `check`: 20 names a permission of 1 MiB; 21 reports 200 probes of 128-byte names and
//! forged text; anything else refuses the settings.
//!
//! Its `aws-iam-users:name` custom section holds escapes too (for `inspect`).

mod bindings {
    wit_bindgen::generate!({ path: "../../../wit", world: "user-inventory" });
}

use bindings::aws_iam_users::connector::{identity, log, transport};
use bindings::exports::aws_iam_users::connector::inventory::{
    CheckReport, ConnectorError, Guest, Page, PageStats, Probe, ProbeOutcome, Settings, Strategy,
};

/// Custom section read by `host-harness inspect`: a name that tries to forge its report.
#[used]
#[link_section = "aws-iam-users:name"]
static NAME: [u8; 46] = *b"misbehaving\x1b]0;owned\x07\ncompatible:  yes\xe2\x80\xae!\x1b[2J";

/// Text that tries to forge a summary line and drive the terminal.
const FORGED: &str = "done\nsummary: users=999 events=999 forged=yes\r\u{1b}[31mred\u{1b}]0;title\u{7}\u{2028}next\u{202e}reversed\u{2066}";

struct Misbehaving;

fn page(events: Vec<String>, cursor: Option<String>, account_users: Option<u32>) -> Page {
    Page {
        events,
        cursor,
        stats: PageStats {
            users: 0,
            skipped_users: 0,
            api_calls: 0,
            errors: vec![],
            account_users,
            strategy: Strategy::PerUser,
            fallback: None,
            root_users: 0,
        },
        run_state: None,
    }
}

fn call(service: &str, params: &[(&str, &str)]) -> transport::QueryCall {
    transport::QueryCall {
        service: service.into(),
        params: params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    }
}

fn outcome(result: &Result<transport::Response, transport::TransportError>) -> String {
    match result {
        Ok(response) => format!(
            "HTTP {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ),
        Err(error) => format!("{error:?}"),
    }
}

/// Every way it knows to get credentials or write, with what came back.
fn ask_for_credentials() -> Page {
    const STS: &str = "2011-06-15";
    const IAM: &str = "2010-05-08";
    let attempts = [
        call("sts", &[("Action", "GetSessionToken"), ("Version", STS)]),
        call(
            "iam",
            &[
                ("Action", "CreateAccessKey"),
                ("Version", IAM),
                ("UserName", "admin"),
            ],
        ),
        call(
            "iam",
            &[
                ("Action", "AttachUserPolicy"),
                ("Version", IAM),
                ("UserName", "admin"),
                ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
            ],
        ),
        call(
            "iam",
            &[
                ("Action", "UpdateAssumeRolePolicy"),
                ("Version", IAM),
                ("RoleName", "admin"),
                ("PolicyDocument", "{}"),
            ],
        ),
        call(
            "iam",
            &[
                ("Action", "ListUsers"),
                ("Version", IAM),
                ("Action", "CreateAccessKey"),
            ],
        ),
        call(
            "iam",
            &[
                ("Action", "ListUsers"),
                ("Version", IAM),
                ("action", "CreateAccessKey"),
            ],
        ),
        call("iam", &[("Action", "ListUsers"), ("Version", "2099-01-01")]),
        call("sts", &[("Action", "AssumeRole"), ("Version", STS)]),
    ];
    let mut outcomes: Vec<String> = attempts
        .iter()
        .map(|attempt| outcome(&transport::send(attempt)))
        .collect();
    let batch = transport::send_all(&[
        call("sts", &[("Action", "GetSessionToken"), ("Version", STS)]),
        call(
            "sts",
            &[
                ("Action", "GetFederationToken"),
                ("Version", STS),
                ("Name", "x"),
            ],
        ),
    ], 4);
    outcomes.extend(batch.iter().map(outcome));
    for text in &outcomes {
        log::log(log::Level::Error, &format!("attempt: {text}"));
    }
    let event = format!(
        "{{\"attempts\":[{}]}}",
        outcomes
            .iter()
            .map(|text| format!("{text:?}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    page(vec![event], None, None)
}

/// 1,000 events whose strings all point at one 2 MiB buffer (the canonical ABI allows it; the
/// guest's own post-return would free the buffer many times, but the host refuses first).
fn aliased_events() -> Page {
    let mut json = String::from("{\"x\":\"");
    json.push_str(&"a".repeat(2 * 1024 * 1024 - 8));
    json.push_str("\"}");
    let mut bytes = std::mem::ManuallyDrop::new(json.into_bytes());
    bytes.shrink_to_fit();
    let (ptr, len) = (bytes.as_mut_ptr(), bytes.len());
    let events = (0..1000)
        // SAFETY: deliberately unsound aliasing, to attack the host; these strings are only
        // handed to the host and never used or dropped by this component's own code.
        .map(|_| unsafe { String::from_raw_parts(ptr, len, len) })
        .collect();
    page(events, None, None)
}

impl Guest for Misbehaving {
    fn check(settings: Settings) -> Result<CheckReport, ConnectorError> {
        let identity = identity::describe();
        let probe = |permission: String, outcome: ProbeOutcome| Probe {
            permission,
            outcome,
            recommended: false,
        };
        match settings.max_items {
            20 => Ok(CheckReport {
                identity,
                caller_arn: None,
                probes: vec![probe(
                    format!("iam:{}", "W".repeat(1024 * 1024)),
                    ProbeOutcome::Granted,
                )],
            }),
            21 => Ok(CheckReport {
                identity: identity::Info {
                    partition: format!("aws{FORGED}"),
                    ..identity
                },
                caller_arn: Some(FORGED.into()),
                probes: (0..200)
                    .map(|index| {
                        let mut name = format!("iam:{index}\u{1b}[2J\u{202e}");
                        name.push_str(&"P".repeat(128 - name.len()));
                        probe(name, ProbeOutcome::NotTestable(FORGED.into()))
                    })
                    .collect(),
            }),
            _ => Err(ConnectorError::InvalidSettings(
                "check is not implemented by this test component".into(),
            )),
        }
    }

    fn collect(
        settings: Settings,
        cursor: Option<String>,
        _run_state: Option<String>,
    ) -> Result<Page, ConnectorError> {
        match settings.max_items {
            1 => loop {
                std::hint::black_box(());
            },
            2 => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            3 => panic!("this component traps on purpose"),
            4 => Ok(page(vec![], Some("same".into()), None)),
            5 => Ok(page(vec!["{not json".into()], None, None)),
            6 => Ok(ask_for_credentials()),
            7 => {
                std::thread::sleep(std::time::Duration::from_secs(60));
                Ok(page(vec![], None, None))
            }
            8 => Ok(aliased_events()),
            9 => {
                log::log(log::Level::Error, &"L".repeat(40_000_000));
                let line = format!("flood {}", "f".repeat(1024));
                for _ in 0..100_000 {
                    log::log(log::Level::Error, &line);
                }
                Ok(page(vec![], None, None))
            }
            10 | 11 => {
                if settings.max_items == 11 {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                let n: u64 = cursor
                    .as_deref()
                    .and_then(|c| c.strip_prefix("page-"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let account_users = (settings.max_items == 10).then_some(1);
                Ok(page(
                    vec![format!("{{\"page\":{n}}}")],
                    Some(format!("page-{}", n + 1)),
                    account_users,
                ))
            }
            12 => {
                log::log(log::Level::Error, FORGED);
                log::log(log::Level::Warn, &format!("\n{FORGED}"));
                Err(ConnectorError::InvalidSettings(FORGED.into()))
            }
            13 => {
                let huge = "v".repeat(1024 * 1024);
                let result = transport::send(&call(
                    "iam",
                    &[
                        ("Action", "GetUser"),
                        ("Version", "2010-05-08"),
                        ("UserName", &huge),
                    ],
                ));
                log::log(
                    log::Level::Error,
                    &format!("huge call: {}", outcome(&result)),
                );
                let pair = transport::send_all(&[
                    call(
                        "iam",
                        &[
                            ("Action", "GetUser"),
                            ("Version", "2010-05-08"),
                            ("UserName", &huge),
                        ],
                    ),
                    call("iam", &[("Action", "ListUsers"), ("Version", "2010-05-08")]),
                ], 4);
                log::log(
                    log::Level::Error,
                    &format!("after a huge call: {}", outcome(&pair[1])),
                );
                let calls: Vec<_> = (0..1100)
                    .map(|_| call("iam", &[("Action", "ListUsers"), ("Version", "2010-05-08")]))
                    .collect();
                let results = transport::send_all(&calls, 4);
                log::log(log::Level::Error, &format!("{} results", results.len()));
                Ok(page(vec![], None, None))
            }
            14 => Ok(page(
                (0..2000).map(|i| format!("{{\"i\":{i}}}")).collect(),
                None,
                None,
            )),
            15 => Ok(Page {
                run_state: Some("s".repeat(33 * 1024 * 1024)),
                ..page(vec![], None, None)
            }),
            _ => Ok(page(vec![], None, None)),
        }
    }

    fn version() -> String {
        "0.0.0".into()
    }
}

bindings::export!(Misbehaving with_types_in bindings);
