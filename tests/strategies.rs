//! The bulk and per-user strategies give the same events for the same account (the bulk
//! strategy leaves out only `unmapped.ssh_public_keys_count`), with a fraction of the calls;
//! `auto` falls back to per-user calls when a bulk action is denied.

mod support;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use support::fake_iam::{FakeAccount, FakeIam};
use support::harness::{self, Run};
use support::moto_peer::MotoPeer;
use support::ocsf_schema::assert_valid_event;

const LIMIT: Duration = Duration::from_secs(300);

fn collect(endpoint: &str, keys: (&str, &str), extra: &[&str]) -> Run {
    harness::collect(endpoint, keys, extra, LIMIT)
}

const STUB_KEYS: (&str, &str) = ("AKIDSTRATEGIES000001", "strategies-secret");

/// Events by user ARN, without what differs between two runs by design: the processing
/// time, and the SSH key count the bulk strategy cannot read.
fn comparable(run: &Run) -> BTreeMap<String, Value> {
    run.events()
        .into_iter()
        .map(|line| {
            let mut event = assert_valid_event(line);
            event["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("processed_time");
            event["unmapped"]
                .as_object_mut()
                .unwrap()
                .remove("ssh_public_keys_count");
            (event["user"]["uid"].as_str().unwrap().to_owned(), event)
        })
        .collect()
}

fn assert_same_events(bulk: &Run, per_user: &Run) {
    let (bulk, per_user) = (comparable(bulk), comparable(per_user));
    assert_eq!(bulk.len(), per_user.len());
    for (uid, event) in &per_user {
        assert_eq!(
            bulk.get(uid),
            Some(event),
            "user {uid} differs between strategies"
        );
    }
}

#[test]
fn bulk_and_per_user_give_the_same_events_with_a_fraction_of_the_calls() {
    let iam = FakeIam::start(FakeAccount {
        users: 250,
        ..FakeAccount::default()
    });
    let per_user = collect(
        iam.url(),
        STUB_KEYS,
        &["--strategy", "per-user", "--max-items", "100"],
    );
    assert_eq!(per_user.code, Some(0), "stderr: {}", per_user.stderr);
    let calls_before = iam.calls();
    let bulk = collect(
        iam.url(),
        STUB_KEYS,
        &["--strategy", "bulk", "--max-items", "100"],
    );
    assert_eq!(bulk.code, Some(0), "stderr: {}", bulk.stderr);
    assert_same_events(&bulk, &per_user);
    assert_eq!(comparable(&bulk).len(), 250);
    // GetAccountSummary, the groups, GenerateCredentialReport, GetCredentialReport,
    // ListServiceSpecificCredentials (AllUsers), 3 pages of users, and ListAccessKeys for
    // the 166 users holding keys (i % 3 != 0).
    let bulk_calls = iam.calls() - calls_before;
    assert_eq!(bulk_calls, 1 + 1 + 2 + 1 + 3 + 166);
    assert!(
        bulk.summary().contains(&format!("api_calls={bulk_calls} ")),
        "{}",
        bulk.summary()
    );
    assert!(
        bulk.summary().contains(" strategy=bulk"),
        "{}",
        bulk.summary()
    );
    assert!(
        per_user.summary().contains(" strategy=per-user"),
        "{}",
        per_user.summary()
    );
}

#[test]
fn users_created_after_the_report_get_per_user_calls() {
    let iam = FakeIam::start(FakeAccount {
        users: 40,
        report_users: Some(30),
        ..FakeAccount::default()
    });
    let per_user = collect(iam.url(), STUB_KEYS, &["--strategy", "per-user"]);
    let before = iam.calls();
    let bulk = collect(iam.url(), STUB_KEYS, &["--strategy", "bulk"]);
    assert_eq!(
        (per_user.code, bulk.code),
        (Some(0), Some(0)),
        "{}",
        bulk.stderr
    );
    assert_same_events(&bulk, &per_user);
    // 20 of the 30 reported users hold keys; the 10 newer ones get MFA, login profile, keys,
    // certificates and GetUser each.
    assert_eq!(iam.calls() - before, 1 + 1 + 2 + 1 + 1 + 20 + 10 * 5);
}

#[test]
fn auto_falls_back_to_per_user_calls_when_bulk_is_denied_and_says_so() {
    let iam = FakeIam::start(FakeAccount {
        users: 20,
        denied: vec!["GetAccountAuthorizationDetails"],
        ..FakeAccount::default()
    });
    let auto = collect(iam.url(), STUB_KEYS, &[]);
    assert_eq!(auto.code, Some(0), "stderr: {}", auto.stderr);
    assert!(
        auto.summary().contains(
            " strategy=per-user fallback=\"GetAccountAuthorizationDetails: AccessDenied\""
        ),
        "{}",
        auto.summary()
    );
    let per_user = collect(iam.url(), STUB_KEYS, &["--strategy", "per-user"]);
    let (auto_events, per_user_events) = (comparable(&auto), comparable(&per_user));
    assert_eq!(auto_events, per_user_events);

    let denied_report = FakeIam::start(FakeAccount {
        users: 5,
        denied: vec!["GenerateCredentialReport"],
        ..FakeAccount::default()
    });
    let auto = collect(denied_report.url(), STUB_KEYS, &[]);
    assert_eq!(auto.code, Some(0), "stderr: {}", auto.stderr);
    assert!(
        auto.summary()
            .contains("fallback=\"GenerateCredentialReport: AccessDenied\""),
        "{}",
        auto.summary()
    );
}

#[test]
fn bulk_on_request_fails_clearly_when_denied() {
    let iam = FakeIam::start(FakeAccount {
        users: 5,
        denied: vec!["GetAccountAuthorizationDetails"],
        ..FakeAccount::default()
    });
    let run = collect(iam.url(), STUB_KEYS, &["--strategy", "bulk"]);
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: GetAccountAuthorizationDetails failed: HTTP 403 AccessDenied: not authorized to perform: \
             iam:GetAccountAuthorizationDetails"
        ),
        "{}",
        run.stderr
    );
}

fn moto() -> &'static MotoPeer {
    static PEER: OnceLock<MotoPeer> = OnceLock::new();
    PEER.get_or_init(|| MotoPeer::start(true))
}

#[test]
fn bulk_and_per_user_give_the_same_events_on_moto() {
    let peer = moto();
    let admin = peer.keys("admin");
    let keys = (
        admin.access_key_id.as_str(),
        admin.secret_access_key.as_str(),
    );
    let per_user = collect(&peer.endpoint, keys, &["--strategy", "per-user"]);
    let bulk = collect(&peer.endpoint, keys, &["--strategy", "bulk"]);
    // moto lacks ListServiceSpecificCredentials: partial either way.
    assert_eq!(
        (per_user.code, bulk.code),
        (Some(4), Some(4)),
        "{}\n{}",
        per_user.stderr,
        bulk.stderr
    );
    assert_same_events(&bulk, &per_user);
    assert_eq!(comparable(&bulk).len(), peer.users());
    assert!(
        bulk.summary().contains(" strategy=bulk"),
        "{}",
        bulk.summary()
    );
}
