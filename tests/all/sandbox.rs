//! A hostile component against the harness binary: one test per attack, each asserting the
//! exact outcome (the component is `tests/components/misbehaving`, its behaviour picked by
//! `--max-items` for `collect` and `check`), and the host's file, proxy and checkpoint
//! guarantees with the real component.
//!
//! Bounds are asserted with room for a loaded two-core CI machine: a run stopped by a
//! deadline is timed by the harness itself (its `seconds=`), against the deadline plus one
//! second; whole-process times only guard against a hang.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use test_support::fake_iam::{user_name, FakeAccount, FakeIam, Fault, Faults, ACCOUNT_ID};
use test_support::iam_stub::{IamStub, Received, Reply};

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);
const KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIDSANDBOX000000001"),
    ("AWS_SECRET_ACCESS_KEY", "sandbox-secret-do-not-print-7c1e"),
];
/// What a stub answers `sts:GetSessionToken` with, should it ever be asked.
const MINTED_SECRET: &str = "MINTED-secret-access-key-0b5e";
const MINTED_TOKEN: &str = "MINTED-session-token-9d2a";

/// Peak RSS the harness may reach in a bounded attack (a debug build, the component's own
/// memory included: baseline about 50 MiB).
const RSS_BOUND_KIB: u64 = 320 * 1024;

fn hostile_component() -> &'static str {
    test_components::MISBEHAVING
}

/// Runs `command` with the hostile component, behaviour `behaviour`, against `endpoint`.
fn hostile(command: &str, behaviour: &str, endpoint: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        command,
        "--component",
        hostile_component(),
        "--endpoint-url",
        endpoint,
        "--max-items",
        behaviour,
    ];
    args.extend_from_slice(extra);
    harness::run(&args, &KEYS, LIMIT)
}

/// A stub that answers everything as IAM would, credential-issuing actions with minted
/// credentials, and records what it received.
fn minting_stub() -> IamStub {
    IamStub::start(|request: &Received| {
        match request.param("Action") {
        Some("GetSessionToken") | Some("AssumeRole") | Some("CreateAccessKey") => Reply::new(
            200,
            format!(
                "<GetSessionTokenResponse><GetSessionTokenResult><Credentials>\
                 <AccessKeyId>ASIAMINTED</AccessKeyId><SecretAccessKey>{MINTED_SECRET}</SecretAccessKey>\
                 <SessionToken>{MINTED_TOKEN}</SessionToken></Credentials></GetSessionTokenResult>\
                 </GetSessionTokenResponse>"
            ),
        ),
        _ => FakeAccount {
            users: 1,
            ..FakeAccount::default()
        }
        .reply(request),
    }
    })
}

/// The harness's own time for the collection (`seconds=` of its summary).
fn summary_seconds(run: &Run) -> f64 {
    run.summary()
        .split_whitespace()
        .find_map(|field| field.strip_prefix("seconds="))
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {}", run.summary()))
}

/// Asserts no character a terminal or a line reader could misread reaches `text` raw.
fn assert_no_raw_escapes(text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| host_harness::escape::needs_escape(c) && c != '\n')
        .collect();
    assert!(
        raw.is_empty(),
        "raw {raw:?} in: {}",
        &text[..text.len().min(2000)]
    );
}

#[test]
fn credentials_and_write_actions_are_refused_and_never_sent() {
    let stub = minting_stub();
    let run = hostile("collect", "6", &stub.url, &["--debug"]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(stub.received().len(), 0, "nothing reached the server");
    assert!(!run.stderr.contains("debug http:"), "{}", run.stderr);
    let event: serde_json::Value = serde_json::from_str(run.events()[0]).unwrap();
    let attempts: Vec<&str> = event["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let refused = |message: &str| format!("TransportError::Refused({message:?})");
    let two_actions = "the call names 2 actions (\"ListUsers\", \"CreateAccessKey\"); the host \
                       signs calls of exactly one Action";
    let not_signed = |action: &str| {
        refused(&format!(
            "{action} is not an action this host signs (it signs only the read-only IAM and \
             STS actions the connector uses)"
        ))
    };
    assert_eq!(
        attempts,
        [
            not_signed("sts:GetSessionToken"),
            not_signed("iam:CreateAccessKey"),
            not_signed("iam:AttachUserPolicy"),
            not_signed("iam:UpdateAssumeRolePolicy"),
            refused(two_actions),
            refused(two_actions),
            refused(
                "iam:ListUsers with Version \"2099-01-01\": this host signs iam calls of \
                 Version 2010-05-08 only"
            ),
            not_signed("sts:AssumeRole"),
            not_signed("sts:GetSessionToken"),
            not_signed("sts:GetFederationToken"),
        ]
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(MINTED_SECRET) && !text.contains(MINTED_TOKEN));
        assert!(!text.contains("ASIAMINTED") && !text.contains(KEYS[1].1));
    }
}

#[test]
fn a_sleeping_component_is_stopped_at_the_deadline() {
    let started = Instant::now();
    let run = hostile(
        "collect",
        "7",
        "http://127.0.0.1:9",
        &["--deadline-secs", "2"],
    );
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: component call collect exceeded its deadline of 2 s"),
        "{}",
        run.stderr
    );
    let seconds = summary_seconds(&run);
    assert!((2.0..3.0).contains(&seconds), "stopped after {seconds} s");
    // The component sleeps 60 s: the process ended long before.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_sleeping_component_is_stopped_by_max_run_secs() {
    let run = hostile(
        "collect",
        "7",
        "http://127.0.0.1:9",
        &["--deadline-secs", "60", "--max-run-secs", "1"],
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("error: collection stopped: --max-run-secs 1 passed after 0 pages"),
        "{}",
        run.stderr
    );
    let seconds = summary_seconds(&run);
    assert!((1.0..2.0).contains(&seconds), "stopped after {seconds} s");
}

#[test]
fn the_real_component_still_backs_off_and_retries_within_the_deadline() {
    // ListUsers throttled twice: the component sleeps (WASI poll) before each retry.
    let throttled = std::sync::atomic::AtomicU32::new(0);
    let stub = IamStub::start(move |request: &Received| {
        if request.param("Action") == Some("ListUsers")
            && throttled.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2
        {
            return Reply::new(
                400,
                test_support::iam_stub::error_response("Throttling", "Rate exceeded"),
            );
        }
        FakeAccount {
            users: 2,
            ..FakeAccount::default()
        }
        .reply(request)
    });
    let run = harness::collect(
        &stub.url,
        (KEYS[0].1, KEYS[1].1),
        &[
            "--no-root",
            "--strategy",
            "per-user",
            "--retry-base-ms",
            "400",
            "--max-attempts",
            "5",
            "--deadline-secs",
            "30",
        ],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.events().len(), 2);
    let list_users = stub
        .received()
        .iter()
        .filter(|r| r.param("Action") == Some("ListUsers"))
        .count();
    assert_eq!(list_users, 3, "two throttled attempts, then the page");
}

#[test]
fn events_aliasing_one_buffer_are_stopped_by_the_copy_budget() {
    let run = hostile("collect", "8", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: component call collect exceeded a host limit: it handed the host more \
             than 101711872 bytes at once"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout_bytes, 0);
    assert!(run.stderr_bytes < 1024, "{}", run.stderr_bytes);
    assert!(
        run.peak_rss_kib > 0 && run.peak_rss_kib < RSS_BOUND_KIB,
        "{} KiB",
        run.peak_rss_kib
    );
}

#[test]
fn too_many_events_in_a_page_are_refused() {
    let run = hostile("collect", "14", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: component call collect exceeded a host limit: events in a page: 2000, \
             more than 1024"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout_bytes, 0);
}

#[test]
fn an_oversized_run_state_is_refused() {
    let run = hostile("collect", "15", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: component call collect exceeded a host limit: bytes in the run-state: \
             34603008, more than 33554432"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_huge_log_message_is_cut_and_a_flood_is_rate_limited() {
    let run = hostile(
        "collect",
        "9",
        "http://127.0.0.1:9",
        &["--deadline-secs", "2"],
    );
    assert_eq!(
        run.code,
        Some(0),
        "stderr: {}",
        &run.stderr[..run.stderr.len().min(500)]
    );
    let first = run.stderr.lines().next().unwrap();
    assert!(first.starts_with("error guest: LLLL"), "{}", &first[..40]);
    assert!(
        first.ends_with(" … (40000000 bytes)"),
        "{}",
        &first[first.len() - 40..]
    );
    assert!(first.len() < 4200, "{}", first.len());
    let flood = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error guest: flood"))
        .count();
    // The burst (1,000 lines; 1 MiB holds them and a few more), then at most 100 lines a
    // second for as long as the component ran.
    let seconds = summary_seconds(&run);
    assert!(seconds < 2.0, "within the 2 s deadline: {seconds} s");
    assert!(
        flood >= 1000 && flood as f64 <= 1020.0 + 100.0 * (seconds + 0.5),
        "{flood} flood lines in {seconds} s"
    );
    assert!(
        run.stderr.contains("guest log lines dropped in collect"),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(500)..]
    );
    assert!(
        run.stderr_bytes < 2 * 1024 * 1024,
        "{} bytes",
        run.stderr_bytes
    );
    // The component's own 40 MB buffer is part of the process; the host adds little.
    assert!(
        run.peak_rss_kib > 0 && run.peak_rss_kib < RSS_BOUND_KIB,
        "{} KiB",
        run.peak_rss_kib
    );
}

#[test]
fn an_endless_cursor_is_stopped_by_the_page_bound() {
    let dir = scratch("endless");
    let (file, cp) = (dir.join("pages.ndjson"), dir.join("pages.checkpoint"));
    let run = hostile(
        "collect",
        "10",
        "http://127.0.0.1:9",
        &[
            "--output",
            file.to_str().unwrap(),
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
    );
    // The host asks STS who it is for the checkpoint: nothing listens, so it stops there.
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("GetCallerIdentity failed"),
        "{}",
        run.stderr
    );

    let iam = FakeIam::start(FakeAccount::default());
    let run = hostile(
        "collect",
        "10",
        iam.url(),
        &[
            "--output",
            file.to_str().unwrap(),
            "--checkpoint",
            cp.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: collection stopped: the component returned 16 pages and a cursor for \
             more; an account of 1 users fills at most 16 pages at --max-items 10"
        ),
        "{}",
        run.stderr
    );
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 16);
    assert!(std::fs::metadata(&cp).unwrap().len() < 1024);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_slow_endless_run_is_stopped_by_max_run_secs() {
    let run = hostile(
        "collect",
        "11",
        "http://127.0.0.1:9",
        &["--max-run-secs", "2"],
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap();
    assert!(
        error.starts_with("error: collection stopped: --max-run-secs 2 passed after "),
        "{error}"
    );
    let seconds = summary_seconds(&run);
    assert!((2.0..3.0).contains(&seconds), "stopped after {seconds} s");
    assert!(
        (1..=7).contains(&run.events().len()),
        "{}",
        run.events().len()
    );
}

#[test]
fn forged_lines_and_escapes_never_reach_stderr_raw() {
    let run = hostile("collect", "12", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert_no_raw_escapes(&run.stderr);
    let summaries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("summary:"))
        .collect();
    assert_eq!(summaries.len(), 1, "{}", run.stderr);
    assert!(
        summaries[0].starts_with("summary: users=0 root=0 events=0 "),
        "{}",
        summaries[0]
    );
    assert_eq!(
        run.stderr.lines().count(),
        4,
        "two guest lines, the summary, the error"
    );
    assert!(run.stderr.contains(
        "error: component rejected the settings: done\\nsummary: users=999 events=999 \
         forged=yes\\r\\u{1b}[31mred\\u{1b}]0;title\\u{7}\\u{2028}next\\u{202e}reversed\\u{2066}"
    ));
}

#[test]
fn forged_text_in_a_check_report_is_escaped_and_bounded() {
    let run = hostile("check", "21", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(4), "stderr: {}", run.stderr);
    assert_no_raw_escapes(&run.stdout);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2 + 1 + 200 + 1, "{}", &run.stdout[..2000]);
    assert!(lines[0].starts_with("identity: access-keys, partition awsdone\\nsummary: users=999"));
    assert!(
        lines[3].starts_with("iam:0\\u{1b}[2J\\u{202e}PPP"),
        "{}",
        lines[3]
    );
    assert_eq!(lines.last(), Some(&"0/200 granted"));
    assert!(run.stdout_bytes < 100 * 1024, "{}", run.stdout_bytes);

    let json = hostile("check", "21", "http://127.0.0.1:9", &["--json"]);
    assert_eq!(json.code, Some(4), "stderr: {}", json.stderr);
    assert_no_raw_escapes(&json.stdout);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["probes"].as_array().unwrap().len(), 200);
    assert!(report["caller_arn"]
        .as_str()
        .unwrap()
        .contains("\u{202e}reversed"));
}

#[test]
fn a_huge_permission_name_is_refused_without_a_panic_or_padding() {
    let run = hostile("check", "20", "http://127.0.0.1:9", &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        "error: component call check exceeded a host limit: bytes in a probe's permission: \
         1048580, more than 128"
    );
    assert_eq!(run.stdout_bytes, 0);
    assert!(
        run.peak_rss_kib > 0 && run.peak_rss_kib < RSS_BOUND_KIB,
        "{} KiB",
        run.peak_rss_kib
    );
}

#[test]
fn oversized_calls_are_refused_and_oversized_batches_stop_the_component() {
    let stub = minting_stub();
    let run = hostile("collect", "13", &stub.url, &[]);
    assert_eq!(run.code, Some(6), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error guest: huge call: TransportError::Refused(\"the call holds more than the host's limit of \
             16384 bytes\")"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "error guest: after a huge call: TransportError::Refused(\"not read: call #0 of \
             this batch was refused (the call holds more than the host's limit of 16384 \
             bytes)\")"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "error: component call collect exceeded a host limit: calls in one send-all: 1100, \
             more than 1024"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(stub.received().len(), 0);
}

#[test]
fn inspect_escapes_what_the_component_file_says() {
    let run = harness::run(&["inspect", "--component", hostile_component()], &[], LIMIT);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_no_raw_escapes(&run.stdout);
    let compatible: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("compatible:"))
        .collect();
    assert_eq!(compatible.len(), 1, "{}", run.stdout);
    assert!(run.stdout.starts_with(
        "name:        misbehaving\\u{1b}]0;owned\\u{7}\\ncompatible:  yes\\u{202e}!\\u{1b}[2J\n"
    ));
    let json = harness::run(
        &["inspect", "--component", hostile_component(), "--json"],
        &[],
        LIMIT,
    );
    assert_no_raw_escapes(&json.stdout);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(parsed["name"].as_str().unwrap().contains('\u{202e}'));
}

// ---------------------------------------------------------------------------------------
// The environment and files, with the real component.
// ---------------------------------------------------------------------------------------

fn scratch(name: &str) -> PathBuf {
    test_support::scratch_dir(&format!("sandbox-{name}"))
}

/// `collect` of the IAM users alone (`--no-root`: these tests count files' lines, not the
/// root user's event).
fn collect_args<'a>(endpoint: &'a str, component: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "collect",
        "--component",
        component,
        "--endpoint-url",
        endpoint,
        "--strategy",
        "per-user",
        "--retry-base-ms",
        "1",
        "--no-root",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn proxy_variables_are_ignored() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let iam = FakeIam::start(FakeAccount {
        users: 3,
        ..FakeAccount::default()
    });
    let component = harness::component();
    let mut env: Vec<(&str, &str)> = KEYS.to_vec();
    for variable in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        env.push((variable, &proxy_url));
    }
    let run = harness::run(
        &collect_args(iam.url(), component.to_str().unwrap(), &[]),
        &env,
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.events().len(), 3);
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy was contacted"
    );
}

#[test]
fn plain_http_to_localhost_by_name_is_refused() {
    let component = harness::component();
    let run = harness::run(
        &collect_args("http://localhost:9", component.to_str().unwrap(), &[]),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(run.stderr.contains(
        "plain http is allowed only for a loopback IP address (127.0.0.1, [::1]); use https"
    ));
}

#[test]
fn planted_links_at_temporary_names_are_never_followed() {
    let dir = scratch("links");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let iam = FakeIam::start(FakeAccount {
        users: 5,
        ..FakeAccount::default()
    });
    let component = harness::component();
    let output = dir.join("users.ndjson");
    let checkpointed = dir.join("resumable.ndjson");
    let cp = dir.join("resumable.checkpoint");
    // The names earlier versions used, planted before the run (the process id is learnt at
    // spawn, long before the harness opens its output after compiling the component).
    std::os::unix::fs::symlink(&victim, dir.join("resumable.checkpoint.tmp")).unwrap();
    for (args, planted) in [
        (
            vec!["--output", output.to_str().unwrap()],
            "users.ndjson.partial-",
        ),
        (
            vec![
                "--output",
                checkpointed.to_str().unwrap(),
                "--checkpoint",
                cp.to_str().unwrap(),
                "--max-items",
                "2",
            ],
            "resumable.ndjson.partial-",
        ),
    ] {
        let mut command = crate::harness::command();
        command
            .args(collect_args(iam.url(), component.to_str().unwrap(), &args))
            .envs(KEYS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().unwrap();
        let link = dir.join(format!("{planted}{}", child.id()));
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let run = harness::wait(&mut child, &[], started, LIMIT);
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let names = |path: &Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["user"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let expected: Vec<String> = (0..5).map(user_name).collect();
    assert_eq!(names(&output), expected);
    assert_eq!(names(&checkpointed), expected);
    // Nothing left behind but the planted links, the victim and the two outputs.
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 6, "{left:?}");
    use std::os::unix::fs::PermissionsExt;
    for path in [&output, &checkpointed] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_existing_output_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("mode");
    let output = dir.join("users.ndjson");
    std::fs::write(&output, "old\n").unwrap();
    std::fs::set_permissions(&output, std::fs::Permissions::from_mode(0o640)).unwrap();
    let iam = FakeIam::start(FakeAccount {
        users: 2,
        ..FakeAccount::default()
    });
    let component = harness::component();
    let run = harness::run(
        &collect_args(
            iam.url(),
            component.to_str().unwrap(),
            &["--output", output.to_str().unwrap()],
        ),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count(), 2);
    let mode = std::fs::metadata(&output).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_and_checkpoint_on_one_file_is_refused() {
    let dir = scratch("same");
    let file = dir.join("users.ndjson");
    let iam = FakeIam::start(FakeAccount {
        users: 2,
        ..FakeAccount::default()
    });
    let component = harness::component();
    let path = file.to_str().unwrap();
    let run = harness::run(
        &collect_args(
            iam.url(),
            component.to_str().unwrap(),
            &["--output", path, "--checkpoint", path],
        ),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(run.stderr.contains(&format!(
        "error: --output and --checkpoint name the same file ({path}); give the checkpoint \
         its own path"
    )));
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resume_with_another_account_is_refused() {
    let dir = scratch("account");
    let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
    let component = harness::component();
    let args = [
        "--max-items",
        "10",
        "--output",
        file.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
    ];
    let broken = FakeIam::start(FakeAccount {
        users: 30,
        faults: Faults {
            list_users_from: Some((20, Fault::Unavailable)),
            ..Faults::default()
        },
        ..FakeAccount::default()
    });
    let run = harness::run(
        &collect_args(broken.url(), component.to_str().unwrap(), &args),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    let written = std::fs::read(&file).unwrap();
    assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), 20);

    let other = FakeIam::start(FakeAccount {
        users: 30,
        account_id: Some("999988887777"),
        ..FakeAccount::default()
    });
    let run = harness::run(
        &collect_args(other.url(), component.to_str().unwrap(), &args),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "error: checkpoint {}: it was written for account {ACCOUNT_ID}, this run is for \
             account 999988887777; remove it to start a new collection",
            cp.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        written,
        "the output is untouched"
    );
    assert_eq!(other.calls(), 1, "only the host's GetCallerIdentity");

    let same = FakeIam::start(FakeAccount {
        users: 30,
        ..FakeAccount::default()
    });
    let run = harness::run(
        &collect_args(same.url(), component.to_str().unwrap(), &args),
        &KEYS,
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 30);
    std::fs::remove_dir_all(&dir).unwrap();
}
