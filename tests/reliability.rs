//! Reliability end to end: throttling, server errors, dropped connections, garbage and
//! oversized bodies from an AWS-shaped loopback IAM, through the harness binary.

mod support;

use std::time::Duration;

use serde_json::Value;

use support::fake_iam::{user_name, FakeAccount, FakeIam, Fault, Faults};
use support::harness::{self, Run};
use support::iam_stub::{IamStub, Received, Reply};
use support::ocsf_schema::assert_valid_event;

const LIMIT: Duration = Duration::from_secs(300);

fn collect(endpoint: &str, extra: &[&str]) -> Run {
    let component = harness::component();
    let mut args = vec![
        "collect",
        "--component",
        component.to_str().unwrap(),
        "--endpoint-url",
        endpoint,
    ];
    args.extend_from_slice(extra);
    harness::run(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDRELIABILITY00001"),
            ("AWS_SECRET_ACCESS_KEY", "reliability-secret"),
        ],
        LIMIT,
    )
}

fn names(run: &Run) -> Vec<String> {
    run.events()
        .into_iter()
        .map(assert_valid_event)
        .map(|e: Value| e["user"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn summary(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap_or_else(|| panic!("no summary: {}", run.stderr))
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
    let names = names(&run);
    let expected: Vec<String> = (0..1000).map(user_name).collect();
    assert_eq!(names, expected, "every user once, in listing order");
    for event in run.events().into_iter().map(assert_valid_event) {
        assert_eq!(event["unmapped"].get("collection_errors"), None, "{event}");
    }
    // 1 summary + 10 pages + 10 per user + 2 per group (5 groups), and a tenth more retried.
    let clean_calls = 1 + 10 + 10 * 1000 + 10;
    assert!(
        iam.calls() > clean_calls,
        "faults were injected and retried: {} calls",
        iam.calls()
    );
    let line = summary(&run);
    assert!(
        line.contains("users=1000 events=1000 skipped_users=0 account_users=1000 pages=10"),
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
    assert_eq!(events.len(), 3);
    for event in &events {
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
        run.stderr.contains(
            "error: ListUsers failed: response body larger than 33554432 bytes"
        ),
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
    // GetAccountSummary once, then ListUsers four times.
    assert_eq!(iam.calls(), 1 + 4);
}
