//! The bulk and per-user strategies give the same events for the same account, with a
//! fraction of the calls; `auto` falls back to per-user calls when a bulk action is denied.
//!
//! The documented differences, and the only ones [`comparable`] leaves out: the per-user
//! strategy alone gives `unmapped.ssh_public_keys(_count)` (and the SSH keys'
//! `user.programmatic_credentials` entries) and `unmapped.password_reset_required`; the
//! bulk strategy alone gives `unmapped.credential_report_time`. Everything else is equal,
//! `user.type_id`, `risk_*`, `enrichments` and `programmatic_credentials[].last_used_time`
//! included. The root user's event is compared apart ([`assert_root_events`]): only the
//! bulk strategy reads the report's `<root_account>` row.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use test_support::fake_iam::{
    access_key_id, user_name, FakeAccount, FakeIam, ACCOUNT_ID, ADMINISTRATOR_ACCESS,
};
use test_support::moto::{Auth, MotoPeer};
use test_support::ocsf_schema::assert_valid_event;

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(300);

fn collect(endpoint: &str, keys: (&str, &str), extra: &[&str]) -> Run {
    harness::collect(endpoint, keys, extra, LIMIT)
}

const STUB_KEYS: (&str, &str) = ("AKIDSTRATEGIES000001", "strategies-secret");

/// Every event of a run, validated, by `user.uid`.
fn events(run: &Run) -> BTreeMap<String, Value> {
    run.events()
        .into_iter()
        .map(|line| {
            let event = assert_valid_event(line);
            (event["user"]["uid"].as_str().unwrap().to_owned(), event)
        })
        .collect()
}

/// The event of the user named `name`.
fn by_name<'a>(events: &'a BTreeMap<String, Value>, name: &str) -> &'a Value {
    events
        .values()
        .find(|e| e["user"]["name"] == name)
        .unwrap_or_else(|| panic!("no event for {name}"))
}

fn is_root(event: &Value) -> bool {
    event["user"]["uid"]
        .as_str()
        .is_some_and(|uid| uid.ends_with(":root"))
}

/// `text` with every number before ` days` replaced by `N`: a risk reason counts days from
/// each run's own collection time, so two runs a moment apart may straddle a day boundary.
fn without_day_counts(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let number = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
            if number
                && words
                    .get(i + 1)
                    .is_some_and(|next| next.starts_with("days"))
            {
                "N"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The IAM users' events of a run by ARN, without what differs by design: the processing
/// time, the documented per-strategy fields (module documentation), and the day counts in
/// risk texts.
pub(crate) fn comparable(run: &Run) -> BTreeMap<String, Value> {
    comparable_but(run, None)
}

/// [`comparable`], also without the last use of the access key `signing_key` (the key the
/// runs sign with: each run uses it anew).
fn comparable_but(run: &Run, signing_key: Option<&str>) -> BTreeMap<String, Value> {
    events(run)
        .into_iter()
        .filter(|(_, event)| !is_root(event))
        .map(|(uid, mut event)| {
            if let Some(key) = signing_key {
                forget_last_use(&mut event, key);
            }
            event["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("processed_time");
            let unmapped = event["unmapped"].as_object_mut().unwrap();
            for field in [
                "ssh_public_keys",
                "ssh_public_keys_count",
                "password_reset_required",
                "mfa_devices",
                "credential_report_time",
            ] {
                unmapped.remove(field);
            }
            for reason in unmapped
                .get_mut("risk_reasons")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                reason["text"] = without_day_counts(reason["text"].as_str().unwrap()).into();
            }
            if let Some(credentials) = event["user"]
                .get_mut("programmatic_credentials")
                .and_then(Value::as_array_mut)
            {
                credentials.retain(|c| c["type"] != "SSH Public Key");
            }
            for enrichment in event
                .get_mut("enrichments")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if enrichment["name"] == "risk_reason" {
                    enrichment["value"] =
                        without_day_counts(enrichment["value"].as_str().unwrap()).into();
                }
            }
            (uid, event)
        })
        .collect()
}

/// Removes from `event` the last use of access key `key`, where it has it.
fn forget_last_use(event: &mut Value, key: &str) {
    for credential in event["user"]
        .get_mut("programmatic_credentials")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter(|c| c["uid"] == key)
    {
        credential.as_object_mut().unwrap().remove("last_used_time");
    }
    for info in event["unmapped"]
        .get_mut("access_keys")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter(|k| k["access_key_id"] == key)
    {
        let info = info.as_object_mut().unwrap();
        for field in ["last_used_time", "last_used_service", "last_used_region"] {
            info.remove(field);
        }
    }
    for enrichment in event
        .get_mut("enrichments")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter(|e| e["name"] == "access_key" && e["value"] == key)
    {
        enrichment["data"]
            .as_object_mut()
            .unwrap()
            .remove("last_logon");
    }
}

/// The per-strategy fields are where the strategy says: none of the per-user ones in bulk
/// events of users the report covers, no report time in per-user events.
fn assert_fields_of_each_strategy(bulk: &Run, per_user: &Run, reported_users: usize) {
    for event in events(bulk).values().filter(|e| !is_root(e)) {
        let unmapped = &event["unmapped"];
        assert_eq!(unmapped.get("ssh_public_keys"), None, "{event}");
        assert_eq!(unmapped.get("ssh_public_keys_count"), None, "{event}");
        assert_eq!(unmapped["credential_report_time"], 1_767_225_600_000i64);
        let name = event["user"]["name"].as_str().unwrap();
        if name < user_name(reported_users).as_str() {
            assert_eq!(unmapped.get("password_reset_required"), None, "{event}");
            assert_eq!(unmapped.get("mfa_devices"), None, "{event}");
        }
    }
    for event in events(per_user).values() {
        assert_eq!(event["unmapped"].get("credential_report_time"), None);
    }
}

fn assert_same_events(bulk: &Run, per_user: &Run) {
    assert_same_events_but(bulk, per_user, None);
}

fn assert_same_events_but(bulk: &Run, per_user: &Run, signing_key: Option<&str>) {
    let (bulk, per_user) = (
        comparable_but(bulk, signing_key),
        comparable_but(per_user, signing_key),
    );
    assert_eq!(bulk.len(), per_user.len());
    for (uid, event) in &per_user {
        assert_eq!(
            bulk.get(uid),
            Some(event),
            "user {uid} differs between strategies"
        );
    }
}

/// The root user's event of the generated account in each strategy: the per-user strategy
/// knows what GetAccountSummary says (MFA on, no access key), the bulk strategy also the
/// report's `<root_account>` row (created 2019-01-01T00:00:00Z = 1546300800000 ms, password
/// last used 2024-06-01T08:00:00Z = 1717228800000 ms, no key slot), so only it can decide
/// ROOT.3 (the password's last use is long past).
fn assert_root_events(bulk: &Run, per_user: &Run) {
    let root_of = |run: &Run| {
        let mut root = events(run)
            .into_values()
            .find(is_root)
            .expect("a root user's event");
        root["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("processed_time");
        root
    };
    let user = json!({
        "uid": format!("arn:aws:iam::{ACCOUNT_ID}:root"),
        "name": "root",
        "type": "Admin",
        "type_id": 2,
        "has_mfa": true,
        "account": {
            "uid": ACCOUNT_ID,
            "name": "generated-account",
            "type": "AWS Account",
            "type_id": 10
        },
        "risk_level": "Info",
        "risk_level_id": 0,
        "risk_score": 0
    });
    let per_user = root_of(per_user);
    assert_eq!(per_user["user"], user);
    assert_eq!(per_user.get("enrichments"), None);
    assert_eq!(
        per_user["unmapped"],
        json!({ "access_keys_present": false, "risk_rules_not_evaluated": ["ROOT.3"] })
    );
    let bulk = root_of(bulk);
    assert_eq!(bulk["user"], user);
    assert_eq!(bulk["time"], 1_546_300_800_000i64);
    assert_eq!(
        bulk["enrichments"],
        json!([{
            "name": "login",
            "value": "console",
            "data": { "is_enabled": true, "last_logon": "2024-06-01T08:00:00Z" }
        }])
    );
    assert_eq!(
        bulk["unmapped"],
        json!({
            "created_time": 1_546_300_800_000i64,
            "password_last_used_time": 1_717_228_800_000i64,
            "access_keys_count": 0,
            "access_keys": [],
            "access_keys_present": false,
            "credential_report_time": 1_767_225_600_000i64
        })
    );
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
    // The account's facts (GetAccountSummary, ListAccountAliases, GetCallerIdentity), 3
    // pages of users, 11 calls per user, GetAccessKeyLastUsed for each of the 249 keys
    // (sum of i % 3 over i < 250), GetUserPolicy for the 25 users with an inline policy
    // (i % 10 == 2), 3 calls per group (its two lists and its one inline document; all 5
    // groups have members among the first 100 users), and GetPolicy + GetPolicyVersion
    // for the 6 customer-managed policies (Managed-team-1..4, ops-all, s3-only-boundary).
    let per_user_calls = iam.calls();
    assert_eq!(per_user_calls, 3 + 3 + 11 * 250 + 249 + 25 + 3 * 5 + 2 * 6);
    let bulk = collect(
        iam.url(),
        STUB_KEYS,
        &["--strategy", "bulk", "--max-items", "100"],
    );
    assert_eq!(bulk.code, Some(0), "stderr: {}", bulk.stderr);
    // Every answer of the generated account is readable and complete: nothing to warn about.
    for run in [&per_user, &bulk] {
        assert!(!run.stderr.contains("warn"), "{}", run.stderr);
    }
    assert_same_events(&bulk, &per_user);
    assert_fields_of_each_strategy(&bulk, &per_user, 250);
    assert_root_events(&bulk, &per_user);
    assert_eq!(comparable(&bulk).len(), 250);
    // Sekoia's own models accept every event of the generated account, in both strategies,
    // and keep each user's type, MFA, groups and risk as emitted.
    for run in [&per_user, &bulk] {
        let emitted: Vec<Value> = events(run).into_values().collect();
        let check = test_support::sekoia::check(&emitted);
        assert!(check.all_accepted(), "{:?}", check.rejected);
        assert_eq!(check.items.len(), 251);
        for (event, kept) in emitted.iter().zip(&check.items) {
            for field in [
                "uid",
                "type_id",
                "has_mfa",
                "groups",
                "risk_level_id",
                "account",
            ] {
                assert_eq!(kept["user"].get(field), event["user"].get(field), "{field}");
            }
            assert_eq!(kept["enrichments"], event["enrichments"]);
        }
    }
    // The account's facts (3), the groups (1 page), the customer-managed policies (1 page),
    // GenerateCredentialReport and GetCredentialReport, ListServiceSpecificCredentials with
    // AllUsers (41 credentials, i % 6 == 4: 1 page), 3 pages of users; then per user only
    // what the report says exists and it cannot name: ListAccessKeys for the 166 key holders
    // (i % 3 != 0) and ListSigningCertificates for the 36 certificate holders (i % 7 == 3).
    // Every key's last use is in the report.
    let bulk_calls = iam.calls() - per_user_calls;
    assert_eq!(bulk_calls, 3 + 1 + 1 + 2 + 1 + 3 + 166 + 36);
    assert!(
        bulk.summary().contains(&format!("api_calls={bulk_calls} ")),
        "{}",
        bulk.summary()
    );
    assert!(
        bulk.summary()
            .contains("users=250 root=1 events=251 skipped_users=0 account_users=250 pages=3"),
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

/// `(uid, last_used_time)` of each access key in `user.programmatic_credentials`, and
/// `(access_key_id, last_used_service, last_used_region, ever_used)` of `unmapped.access_keys`.
type KeyUses = (Vec<(String, Option<i64>)>, Vec<Value>);

fn key_uses(event: &Value) -> KeyUses {
    let credentials = event["user"]["programmatic_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "AWS Access Key")
        .map(|c| {
            (
                c["uid"].as_str().unwrap().to_owned(),
                c.get("last_used_time").map(|t| t.as_i64().unwrap()),
            )
        })
        .collect();
    let keys = event["unmapped"]["access_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            json!([
                k["access_key_id"],
                k.get("last_used_service"),
                k.get("last_used_region"),
                k["ever_used"]
            ])
        })
        .collect();
    (credentials, keys)
}

#[test]
fn bulk_and_per_user_give_the_same_last_used_time_for_the_same_keys_and_none_for_a_key_never_used()
{
    let iam = FakeIam::start(FakeAccount {
        users: 12,
        ..FakeAccount::default()
    });
    let per_user = collect(iam.url(), STUB_KEYS, &["--strategy", "per-user"]);
    let last_used_calls = iam.calls_of("GetAccessKeyLastUsed");
    let bulk = collect(iam.url(), STUB_KEYS, &["--strategy", "bulk"]);
    assert_eq!(
        (per_user.code, bulk.code),
        (Some(0), Some(0)),
        "{}\n{}",
        per_user.stderr,
        bulk.stderr
    );
    // Per-user: one GetAccessKeyLastUsed per key (sum of i % 3 over i < 12 = 12); bulk: none,
    // the report's key slots answer for every key.
    assert_eq!(last_used_calls, 12);
    assert_eq!(iam.calls_of("GetAccessKeyLastUsed"), last_used_calls);
    // Key 0 is used at 2024-03-01T10:00:00Z (s3, eu-west-1) when i is even, key 1 at
    // 2024-04-15T08:30:00Z (iam, us-east-1) when i is odd; a key never used has no
    // last_used_time and ever_used false.
    let expected: [(usize, KeyUses); 3] = [
        (
            2,
            (
                vec![
                    (access_key_id(2, 0), Some(1_709_287_200_000)),
                    (access_key_id(2, 1), None),
                ],
                vec![
                    json!([access_key_id(2, 0), "s3", "eu-west-1", true]),
                    json!([access_key_id(2, 1), null, null, false]),
                ],
            ),
        ),
        (
            5,
            (
                vec![
                    (access_key_id(5, 0), None),
                    (access_key_id(5, 1), Some(1_713_169_800_000)),
                ],
                vec![
                    json!([access_key_id(5, 0), null, null, false]),
                    json!([access_key_id(5, 1), "iam", "us-east-1", true]),
                ],
            ),
        ),
        (
            // Key 1 of user 11 is Inactive (i % 4 == 3); its last use is still known.
            11,
            (
                vec![
                    (access_key_id(11, 0), None),
                    (access_key_id(11, 1), Some(1_713_169_800_000)),
                ],
                vec![
                    json!([access_key_id(11, 0), null, null, false]),
                    json!([access_key_id(11, 1), "iam", "us-east-1", true]),
                ],
            ),
        ),
    ];
    for (run, strategy) in [(&per_user, "per-user"), (&bulk, "bulk")] {
        let events = events(run);
        for (i, uses) in &expected {
            assert_eq!(
                &key_uses(by_name(&events, &user_name(*i))),
                uses,
                "{} with {strategy}",
                user_name(*i)
            );
        }
    }
}

/// `(type_id, unmapped.admin)` of a user.
fn admin_of(event: &Value) -> (Value, Value) {
    (
        event["user"]["type_id"].clone(),
        event["unmapped"]["admin"].clone(),
    )
}

#[test]
fn both_strategies_judge_administrators_and_risk_by_the_documents() {
    let iam = FakeIam::start(FakeAccount {
        users: 45,
        ..FakeAccount::default()
    });
    let per_user = collect(iam.url(), STUB_KEYS, &["--strategy", "per-user"]);
    let bulk = collect(iam.url(), STUB_KEYS, &["--strategy", "bulk"]);
    assert_eq!(
        (per_user.code, bulk.code),
        (Some(0), Some(0)),
        "{}\n{}",
        per_user.stderr,
        bulk.stderr
    );
    assert_same_events(&bulk, &per_user);
    let ops_all = format!("arn:aws:iam::{ACCOUNT_ID}:policy/generated/ops-all");
    for (run, strategy) in [(&per_user, "per-user"), (&bulk, "bulk")] {
        let events = events(run);
        let user = |i: usize| by_name(&events, &user_name(i));
        // User 2: its inline policy allows `*` on `*`.
        assert_eq!(
            admin_of(user(2)),
            (
                json!(2),
                json!({ "verdict": "admin", "granted_by": "inline-user-00002" })
            ),
            "{strategy}"
        );
        assert_eq!(user(2)["user"]["type"], "Admin");
        // User 22: the same kind of inline policy, capped by its s3-only boundary.
        assert_eq!(
            admin_of(user(22)),
            (
                json!(1),
                json!({ "verdict": "not-admin", "granted_by": "inline-user-00022" })
            ),
            "{strategy}"
        );
        assert_eq!(
            user(22)["unmapped"]["permissions_boundary"],
            format!("arn:aws:iam::{ACCOUNT_ID}:policy/generated/s3-only-boundary")
        );
        // User 30: member of team-0, whose attached AdministratorAccess is judged by ARN.
        assert_eq!(
            admin_of(user(30)),
            (
                json!(2),
                json!({
                    "verdict": "admin",
                    "granted_by": ADMINISTRATOR_ACCESS,
                    "judged_by_arn": [ADMINISTRATOR_ACCESS]
                })
            ),
            "{strategy}"
        );
        // User 5: ops-all, whose default version v2 allows iam:* (v1 only iam:Get*).
        assert_eq!(
            admin_of(user(5)),
            (
                json!(2),
                json!({ "verdict": "admin", "granted_by": ops_all })
            ),
            "{strategy}"
        );
        // User 12: its inline policy reads one bucket, its group team-2 describes EC2.
        assert_eq!(
            admin_of(user(12)),
            (json!(1), json!({ "verdict": "not-admin" })),
            "{strategy}"
        );
        // User 15: an administrator (ops-all, and team-0) without MFA (odd i) and with a
        // policy attached to itself; no key, no password: Critical, 80 + 10.
        let risky = user(15);
        assert_eq!(
            (
                &risky["user"]["risk_level"],
                &risky["user"]["risk_level_id"],
                &risky["user"]["risk_score"]
            ),
            (&json!("Critical"), &json!(4), &json!(90)),
            "{strategy}"
        );
        assert_eq!(
            risky["unmapped"]["risk_reasons"],
            json!([
                {
                    "rule": "USER.2",
                    "cis": "1.10, 1.16",
                    "level": "Critical",
                    "text": "administrator without MFA (CIS 1.10, 1.16)"
                },
                {
                    "rule": "USER.7",
                    "cis": "1.15",
                    "level": "Low",
                    "text": "1 policy attached directly to the user (CIS 1.15)"
                }
            ]),
            "{strategy}"
        );
        // User 13: a console password without MFA (High), never used and set 2021 (USER.4),
        // one active key never used and created 2022 (USER.3, USER.5): 50 + 3 × 25, capped.
        let console = user(13);
        let rules: Vec<&Value> = console["unmapped"]["risk_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["rule"])
            .collect();
        assert_eq!(
            rules,
            ["USER.1", "USER.3", "USER.4", "USER.5"],
            "{strategy}"
        );
        assert_eq!(
            (
                &console["user"]["risk_level"],
                &console["user"]["risk_level_id"],
                &console["user"]["risk_score"]
            ),
            (&json!("High"), &json!(3), &json!(100)),
            "{strategy}"
        );
    }
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
        "{}\n{}",
        per_user.stderr,
        bulk.stderr
    );
    assert_same_events(&bulk, &per_user);
    assert_fields_of_each_strategy(&bulk, &per_user, 30);
    // The account's facts (3), groups, customer-managed policies, the report (2), the
    // service-specific credentials and one page of users; for the 30 reported users,
    // ListAccessKeys for the 20 key holders and ListSigningCertificates for the 4
    // certificate holders (3, 10, 17, 24); the 10 newer ones get MFA, login profile, keys,
    // certificates and GetUser each, and GetAccessKeyLastUsed for their 9 keys (sum of
    // i % 3 over 30..40).
    assert_eq!(
        iam.calls() - before,
        3 + 1 + 1 + 2 + 1 + 1 + 20 + 4 + 10 * 5 + 9
    );
    // A newer user's password facts come from GetLoginProfile, reset flag included.
    let newer = events(&bulk);
    assert_eq!(
        by_name(&newer, &user_name(37))["unmapped"].get("password_reset_required"),
        Some(&json!(true))
    );
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
    PEER.get_or_init(|| MotoPeer::start(Auth::On))
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
    assert_eq!(
        (per_user.code, bulk.code),
        (Some(0), Some(0)),
        "{}\n{}",
        per_user.stderr,
        bulk.stderr
    );
    // The admin's key signs both runs, so its last use is each run's own.
    assert_same_events_but(&bulk, &per_user, Some(keys.0));
    for run in [&bulk, &per_user] {
        let events = events(run);
        let signer = events
            .values()
            .flat_map(|e| e["user"]["programmatic_credentials"].as_array())
            .flatten()
            .find(|c| c["uid"] == keys.0)
            .expect("the signing key is listed");
        assert!(signer.get("last_used_time").is_some(), "{signer}");
    }
    assert_eq!(comparable(&bulk).len(), peer.users());
    assert!(
        bulk.summary().contains(" strategy=bulk"),
        "{}",
        bulk.summary()
    );
}
