//! Reliability end to end: throttling, server errors, dropped connections, garbage and
//! oversized bodies from an AWS-shaped loopback IAM, through the harness binary.

use std::time::Duration;

use serde_json::Value;

use test_support::fake_iam::{user_name, FakeAccount, FakeIam, Fault, Faults};
use test_support::iam_stub::{IamStub, Received, Reply};
use test_support::ocsf_schema::assert_valid_event;

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(300);

/// `collect` with the per-user strategy unless `extra` picks one.
fn collect(endpoint: &str, extra: &[&str]) -> Run {
    let keys = ("AKIDRELIABILITY00001", "reliability-secret");
    harness::collect(
        endpoint,
        keys,
        &harness::per_user_unless_given(extra),
        LIMIT,
    )
}

/// The names the events of a collection of the first `users` generated users carry: the
/// root user's event first (the first page adds it), then every user in listing order.
fn expected_names(users: usize) -> Vec<String> {
    std::iter::once("root".to_owned())
        .chain((0..users).map(user_name))
        .collect()
}

fn names(run: &Run) -> Vec<String> {
    run.events()
        .into_iter()
        .map(assert_valid_event)
        .map(|e: Value| e["user"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_thousand_users_with_faults_on_a_tenth_of_calls_yield_each_user_exactly_once() {
    let iam = FakeIam::start(FakeAccount {
        users: 1000,
        faults: Faults {
            every: 10,
            kinds: vec![
                Fault::Throttle,
                Fault::ServerErrorHtml,
                Fault::Unavailable,
                Fault::CutMidBody,
            ],
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = collect(
        iam.url(),
        &[
            "--max-items",
            "100",
            "--retry-base-ms",
            "1",
            "--max-attempts",
            "5",
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        names(&run),
        expected_names(1000),
        "every user once, in listing order"
    );
    for event in run.events().into_iter().map(assert_valid_event) {
        assert_eq!(event["unmapped"].get("collection_errors"), None, "{event}");
    }
    // Without faults (the rules of tests/support/fake_iam.rs): the account's facts
    // (GetAccountSummary, ListAccountAliases, GetCallerIdentity), 10 pages of users, 11
    // calls per user, GetAccessKeyLastUsed for each of the 999 keys (sum of i % 3 over
    // i < 1000), GetUserPolicy for the 100 inline policies (i % 10 == 2), 3 calls per group
    // (5 groups: two lists and the inline document), GetPolicy + GetPolicyVersion for the 6
    // customer-managed policies.
    let clean_calls: u64 = 3 + 10 + 11 * 1000 + 999 + 100 + 3 * 5 + 2 * 6;
    // Every 10th call answered is a fault and each is retried until it succeeds, so the
    // total T has T / 10 faults and T - T / 10 successes, and the last call succeeded.
    let total = (clean_calls..)
        .find(|t| t - t / 10 == clean_calls && t % 10 != 0)
        .unwrap();
    assert_eq!(iam.calls(), total, "faults were injected and retried");
    let line = run.summary();
    assert!(
        line.contains("users=1000 root=1 events=1001 skipped_users=0 account_users=1000 pages=10"),
        "{line}"
    );
    assert!(
        line.contains(&format!("api_calls={} ", iam.calls())),
        "the host counts every call: {line}"
    );
}

#[test]
fn garbage_in_an_enrichment_call_leaves_that_field_out() {
    let iam = IamStub::start(|request: &Received| match request.param("Action") {
        Some("ListUserTags") => Reply::new(200, "\u{0}garbage"),
        _ => FakeAccount {
            users: 3,
            ..FakeAccount::default()
        }
        .reply(request),
    });
    let run = collect(&iam.url, &[]);
    assert_eq!(run.code, Some(4), "partial; stderr: {}", run.stderr);
    let events: Vec<Value> = run.events().into_iter().map(assert_valid_event).collect();
    assert_eq!(events.len(), 1 + 3);
    // The root user's event has no tags to read.
    assert_eq!(events[0]["user"]["name"], "root");
    assert_eq!(events[0]["unmapped"].get("collection_errors"), None);
    for event in &events[1..] {
        assert_eq!(event["unmapped"].get("tags"), None);
        assert_eq!(
            event["unmapped"]["collection_errors"],
            serde_json::json!([{ "action": "ListUserTags", "code": "MalformedResponse" }])
        );
    }
    assert!(
        run.stderr
            .contains("ListUserTags returned an unreadable response (HTTP 200): not XML: "),
        "{}",
        run.stderr
    );
}

#[test]
fn garbage_in_the_listing_is_a_precise_error() {
    let iam = FakeIam::start(FakeAccount {
        users: 3,
        faults: Faults {
            list_users_from: Some((0, Fault::Garbage)),
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = collect(iam.url(), &[]);
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(r#"error: ListUsers returned an unreadable response (HTTP 200): not XML: "\0\u{1}garbage, not XML""#),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifty_megabyte_body_is_refused_by_the_cap() {
    let huge = format!(
        "<ListUsersResponse>{}</ListUsersResponse>",
        " ".repeat(50 * 1024 * 1024)
    );
    let iam = IamStub::start(move |request: &Received| match request.param("Action") {
        Some("ListUsers") => Reply::new(200, huge.clone()),
        _ => FakeAccount {
            users: 1,
            ..FakeAccount::default()
        }
        .reply(request),
    });
    let run = collect(&iam.url, &["--max-attempts", "1"]);
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: ListUsers failed: response body larger than 33554432 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn throttling_that_never_ends_is_reported_after_the_bounded_attempts() {
    let iam = FakeIam::start(FakeAccount {
        users: 3,
        faults: Faults {
            list_users_from: Some((0, Fault::Throttle)),
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = collect(iam.url(), &["--retry-base-ms", "1", "--max-attempts", "4"]);
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: ListUsers failed: HTTP 400 Throttling: Rate exceeded"),
        "{}",
        run.stderr
    );
    // GetAccountSummary, ListAccountAliases and GetCallerIdentity once, then ListUsers four
    // times.
    assert_eq!(iam.calls(), 3 + 4);
}

fn scratch(name: &str) -> std::path::PathBuf {
    test_support::scratch_dir(&format!("reliability-{name}"))
}

fn file_names(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            assert_valid_event(line)["user"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_permanent_fault_ends_precisely_and_the_checkpoint_lets_a_later_run_finish() {
    let dir = scratch("permanent");
    let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
    let (file_arg, cp_arg) = (file.to_str().unwrap(), cp.to_str().unwrap());
    let args = [
        "--max-items",
        "50",
        "--retry-base-ms",
        "1",
        "--output",
        file_arg,
        "--checkpoint",
        cp_arg,
    ];
    let broken = FakeIam::start(FakeAccount {
        users: 250,
        faults: Faults {
            list_users_from: Some((150, Fault::Unavailable)),
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = collect(broken.url(), &args);
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: ListUsers failed: HTTP 503 ServiceUnavailable: Service Unavailable"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "note: {file_arg} holds 151 events; run the same command again to resume from {cp_arg}"
        )),
        "{}",
        run.stderr
    );
    // The root user's event and the 150 users of the first three pages.
    assert_eq!(file_names(&file), expected_names(150));
    assert!(cp.exists());
    drop(broken);

    let healthy = FakeIam::start(FakeAccount {
        users: 250,
        ..FakeAccount::default()
    });
    let run = collect(healthy.url(), &args);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("resuming from {cp_arg} after 151 events")),
        "{}",
        run.stderr
    );
    assert!(
        run.summary().contains("users=100 root=0 events=100"),
        "{}",
        run.summary()
    );
    assert!(
        run.summary().contains("resumed_after_events=151"),
        "{}",
        run.summary()
    );
    assert_eq!(file_names(&file), expected_names(250));
    assert!(!cp.exists(), "a complete collection removes its checkpoint");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_run_without_checkpoint_leaves_the_previous_output_untouched() {
    let dir = scratch("untouched");
    let file = dir.join("users.ndjson");
    std::fs::write(&file, "{\"previous\":true}\n").unwrap();
    let broken = FakeIam::start(FakeAccount {
        users: 120,
        faults: Faults {
            list_users_from: Some((100, Fault::Throttle)),
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = collect(
        broken.url(),
        &[
            "--max-items",
            "50",
            "--retry-base-ms",
            "1",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("note: {} was left unchanged", file.display())),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"previous\":true}\n"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killing_the_harness_at_any_moment_and_rerunning_leaves_every_user_exactly_once() {
    let users = 300;
    let dir = scratch("kill");
    let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
    let iam = FakeIam::start(FakeAccount {
        users,
        latency: Duration::from_millis(2),
        ..FakeAccount::default()
    });
    let component = harness::component();
    let args = [
        "collect",
        "--component",
        component.to_str().unwrap(),
        "--endpoint-url",
        iam.url(),
        "--max-items",
        "20",
        "--output",
        file.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
    ];
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDRELIABILITY00001"),
        ("AWS_SECRET_ACCESS_KEY", "reliability-secret"),
    ];
    // Kill at pseudo-random moments (a fixed-seed LCG, so a failure can be replayed).
    let mut seed: u64 = 0x5eed_1234_abcd;
    let mut kills = Vec::new();
    let started = std::time::Instant::now();
    let finished = loop {
        assert!(
            started.elapsed() < LIMIT,
            "no complete run within {LIMIT:?}; kills at {kills:?}"
        );
        let mut child = harness::spawn(&args, &env);
        let deadline = if kills.len() < 12 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Some(Duration::from_millis(50 + (seed >> 33) % 700))
        } else {
            None
        };
        let begun = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if deadline.is_some_and(|d| begun.elapsed() >= d) {
                child.kill().unwrap();
                child.wait().unwrap();
                kills.push(deadline.unwrap().as_millis());
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(status) = status {
            break status;
        }
    };
    assert!(
        finished.success(),
        "the last run failed: {finished:?}; kills at {kills:?}"
    );
    assert!(
        kills.len() >= 3,
        "the test must actually kill runs mid-way: {kills:?}"
    );
    assert_eq!(
        file_names(&file),
        expected_names(users),
        "kills at {kills:?}"
    );
    assert!(!cp.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs the misbehaving test component; `behaviour` is passed as `--max-items` (see
/// tests/components/misbehaving).
fn misbehave(behaviour: &str, extra: &[&str]) -> Run {
    let iam = FakeIam::start(FakeAccount {
        users: 1,
        ..FakeAccount::default()
    });
    let mut args = vec![
        "collect",
        "--component",
        test_components::MISBEHAVING,
        "--endpoint-url",
        iam.url(),
        "--max-items",
        behaviour,
    ];
    args.extend_from_slice(extra);
    harness::run(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDRELIABILITY00001"),
            ("AWS_SECRET_ACCESS_KEY", "reliability-secret"),
        ],
        Duration::from_secs(60),
    )
}

#[test]
fn a_component_that_loops_forever_is_stopped_by_the_deadline() {
    let run = misbehave("1", &["--deadline-secs", "1"]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: component call collect exceeded its deadline of 1 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_component_that_allocates_without_bound_hits_the_memory_cap() {
    let run = misbehave("2", &["--max-memory-mib", "16"]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: component exceeded the memory limit of 16 MiB in collect"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_component_that_traps_is_a_sandbox_error() {
    let run = misbehave("3", &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("error: component trapped in collect: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_component_that_repeats_its_cursor_or_emits_invalid_events_is_stopped() {
    let run = misbehave("4", &[]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: component protocol violation: collect returned the cursor it was given"
        ),
        "{}",
        run.stderr
    );
    let run = misbehave("5", &[]);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("component returned an invalid event (#0 of its page)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

/// A slow IAM: one 600-user page takes longer than `--deadline-secs` allows. Each call works
/// within its time budget (four fifths of the deadline), ends the page early and the next
/// resumes inside it: the run completes, every user once, never stopped by the deadline.
#[test]
fn a_page_longer_than_the_deadline_ends_early_and_resumes_inside_the_page() {
    let iam = FakeIam::start(FakeAccount {
        users: 600,
        latency: Duration::from_millis(50),
        ..FakeAccount::default()
    });
    let run = collect(iam.url(), &["--max-items", "1000", "--deadline-secs", "5"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        names(&run),
        expected_names(600),
        "every user once, in order"
    );
    let summary = run.summary();
    let pages: u64 = summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix("pages="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    // One listing page, returned in parts: at 50 ms a call and 64 in flight, 600 users take
    // more than the 4 s budget.
    assert!(pages >= 2, "{summary}");
    assert!(
        run.stderr
            .contains("the page's time budget of 4000 ms is spent after"),
        "{}",
        run.stderr
    );
    assert!(summary.contains("users=600 root=1 events=601"), "{summary}");
}
