//! End to end: the built component inside the host harness binary, against a loopback IAM
//! stub (pagination, failures) and against moto in auth mode (real SigV4 verification).

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use test_support::iam_stub::{error_response, escape, list_response, IamStub, Received};
use test_support::moto::{Auth, MotoPeer};
use test_support::ocsf_schema::assert_valid_event;

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);
const STUB_KEY_ID: &str = "AKIASTUBEXAMPLE00001";
/// A recognisable secret: it must never appear in anything the harness prints.
const CANARY_SECRET: &str = "canary-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0ffee";

/// `collect` with the per-user strategy unless `extra` picks one.
fn run_against(endpoint: &str, key_id: &str, secret: &str, extra: &[&str]) -> Run {
    harness::collect(
        endpoint,
        (key_id, secret),
        &harness::per_user_unless_given(extra),
        LIMIT,
    )
}

fn valid_events(run: &Run) -> Vec<Value> {
    run.events().into_iter().map(assert_valid_event).collect()
}

// ---------------------------------------------------------------------------------------
// Loopback stub: an AWS-shaped IAM that paginates everything.
// ---------------------------------------------------------------------------------------

const STUB_USERS: [(&str, &str); 5] = [
    ("alice", "/"),
    ("bob", "/engineering/"),
    ("r&d-lead", "/r&d/"),
    ("svc+deploy=bot@corp.example", "/service-accounts/"),
    ("zoë", "/"),
];

fn stub_user(index: usize) -> String {
    let (name, path) = STUB_USERS[index];
    format!(
        "<member><Path>{}</Path><UserName>{}</UserName><UserId>AIDASTUB{index:013}</UserId>\
         <Arn>arn:aws:iam::111122223333:user{}{}</Arn><CreateDate>2021-07-0{}T00:00:00Z</CreateDate></member>",
        escape(path),
        escape(name),
        escape(path),
        escape(name),
        index + 1
    )
}

fn stub_group(name: &str) -> String {
    format!(
        "<member><Path>/</Path><GroupName>{name}</GroupName><GroupId>AGPA{name}</GroupId>\
         <Arn>arn:aws:iam::111122223333:group/{name}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
    )
}

/// Real IAM paging: at most min(MaxItems, 2) items a page, opaque markers.
fn paged_stub(request: &Received) -> (u16, String) {
    let max_items: usize = request
        .param("MaxItems")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    let page_size = max_items.min(2);
    let start: usize = match request.param("Marker") {
        None => 0,
        Some(marker) => match marker.strip_prefix("opaque/") {
            Some(n) => n.parse().unwrap(),
            None => return (400, error_response("InvalidInput", "bad marker")),
        },
    };
    let page = |items: Vec<String>| {
        let end = (start + page_size).min(items.len());
        let marker = (end < items.len()).then(|| format!("opaque/{end}"));
        (items[start..end].to_vec(), marker)
    };
    match request.param("Action") {
        Some("ListUsers") => {
            let (members, marker) = page((0..STUB_USERS.len()).map(stub_user).collect());
            (
                200,
                list_response("ListUsers", "Users", &members, marker.as_deref()),
            )
        }
        Some("ListGroupsForUser") => {
            let groups = match request.param("UserName") {
                Some("bob") => vec![stub_group("g1"), stub_group("g2"), stub_group("g3")],
                _ => vec![],
            };
            let (members, marker) = page(groups);
            (
                200,
                list_response("ListGroupsForUser", "Groups", &members, marker.as_deref()),
            )
        }
        Some("ListMFADevices") => {
            let user = request.param("UserName").unwrap();
            let devices = if user == "alice" {
                vec![format!(
                    "<member><UserName>alice</UserName><SerialNumber>arn:aws:iam::111122223333:mfa/alice\
                     </SerialNumber><EnableDate>2022-02-02T02:02:02Z</EnableDate></member>"
                )]
            } else {
                vec![]
            };
            (
                200,
                list_response("ListMFADevices", "MFADevices", &devices, None),
            )
        }
        Some("GetLoginProfile") => (
            404,
            error_response("NoSuchEntity", "Login profile cannot be found."),
        ),
        Some("GetUser") => {
            let name = request.param("UserName").unwrap_or_default();
            let index = STUB_USERS.iter().position(|(n, _)| *n == name);
            match index {
                Some(i) => (
                    200,
                    format!(
                        "<GetUserResponse><GetUserResult><User>{}</User></GetUserResult></GetUserResponse>",
                        stub_user(i)
                            .trim_start_matches("<member>")
                            .trim_end_matches("</member>")
                    ),
                ),
                None => (404, error_response("NoSuchEntity", "no such user")),
            }
        }
        Some("GetCallerIdentity") => (
            200,
            "<GetCallerIdentityResponse><GetCallerIdentityResult>\
             <Arn>arn:aws:iam::111122223333:user/automation/reader</Arn><Account>111122223333</Account>\
             </GetCallerIdentityResult></GetCallerIdentityResponse>"
                .to_owned(),
        ),
        Some("GetAccountSummary") => (
            200,
            format!(
                "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key>\
                 <value>{}</value></entry></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>",
                STUB_USERS.len()
            ),
        ),
        Some(action) => match empty_list_element(action) {
            Some(list) => (200, list_response(action, list, &[], None)),
            None => (400, error_response("InvalidAction", action)),
        },
        None => (400, error_response("MissingAction", "no Action")),
    }
}

/// The list element of the List* actions the stub answers with an empty list.
fn empty_list_element(action: &str) -> Option<&'static str> {
    Some(match action {
        "ListAccessKeys" => "AccessKeyMetadata",
        "ListUserTags" => "Tags",
        "ListUserPolicies" | "ListGroupPolicies" => "PolicyNames",
        "ListAttachedUserPolicies" | "ListAttachedGroupPolicies" => "AttachedPolicies",
        "ListSSHPublicKeys" => "SSHPublicKeys",
        "ListSigningCertificates" => "Certificates",
        "ListServiceSpecificCredentials" => "ServiceSpecificCredentials",
        "ListAccountAliases" => "AccountAliases",
        _ => return None,
    })
}

#[test]
fn pagination_through_the_harness_returns_every_user_once() {
    let stub = IamStub::start(paged_stub);
    let run = run_against(
        &stub.url,
        STUB_KEY_ID,
        CANARY_SECRET,
        &["--max-items", "2", "--no-root"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let events = valid_events(&run);
    let names: Vec<_> = events
        .iter()
        .map(|e| e["user"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, STUB_USERS.map(|(name, _)| name));
    let uids: HashSet<_> = events
        .iter()
        .map(|e| e["user"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), 5);

    let bob = &events[1];
    assert_eq!(
        bob["user"]["groups"],
        json!([
            { "uid": "arn:aws:iam::111122223333:group/g1", "name": "g1", "privileges": [] },
            { "uid": "arn:aws:iam::111122223333:group/g2", "name": "g2", "privileges": [] },
            { "uid": "arn:aws:iam::111122223333:group/g3", "name": "g3", "privileges": [] }
        ])
    );
    assert_eq!(bob["user"]["has_mfa"], json!(false));
    assert_eq!(events[0]["user"]["has_mfa"], json!(true));
    let rnd = &events[2];
    assert_eq!(
        rnd["user"]["uid"],
        json!("arn:aws:iam::111122223333:user/r&d/r&d-lead")
    );
    assert_eq!(rnd["unmapped"]["path"], json!("/r&d/"));
    assert_eq!(rnd["time"], json!(1_625_270_400_000_i64));

    let received = stub.received();
    let list_users: Vec<_> = received
        .iter()
        .filter(|r| r.param("Action") == Some("ListUsers"))
        .map(|r| {
            (
                r.param("MaxItems").unwrap().to_owned(),
                r.param("Marker").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        list_users,
        [
            ("2".to_owned(), None),
            ("2".to_owned(), Some("opaque/2".to_owned())),
            ("2".to_owned(), Some("opaque/4".to_owned())),
        ]
    );
    let bob_groups: Vec<_> = received
        .iter()
        .filter(|r| {
            r.param("Action") == Some("ListGroupsForUser") && r.param("UserName") == Some("bob")
        })
        .map(|r| r.param("Marker").map(str::to_owned))
        .collect();
    assert_eq!(bob_groups, [None, Some("opaque/2".to_owned())]);
    // GetAccountSummary and ListAccountAliases, 3 ListUsers pages, 5 users × 11 lookups,
    // bob's second group page, bob's 3 groups × 2 policy lookups (no key, no inline policy:
    // nothing more to read).
    assert_eq!(received.len(), 2 + 3 + 55 + 1 + 6);
    for request in &received {
        assert_eq!(request.param("Version"), Some("2010-05-08"));
        let auth = request
            .authorization
            .as_deref()
            .expect("every call is signed");
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={STUB_KEY_ID}/")),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/iam/aws4_request"), "{auth}");
        assert_eq!(request.security_token, None);
    }
    let summary = run.summary();
    assert!(
        summary.contains(
            "users=5 root=0 events=5 skipped_users=0 account_users=5 pages=3 api_calls=67"
        ),
        "{summary}"
    );
    assert!(!run.stdout.contains(CANARY_SECRET) && !run.stderr.contains(CANARY_SECRET));
}

#[test]
fn output_file_receives_the_ndjson() {
    let stub = IamStub::start(paged_stub);
    let dir = std::env::temp_dir().join(format!("aws-iam-users-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    let run = run_against(
        &stub.url,
        STUB_KEY_ID,
        CANARY_SECRET,
        &["--output", file.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    let written = std::fs::read_to_string(&file).unwrap();
    let events: Vec<Value> = written.lines().map(assert_valid_event).collect();
    let names: Vec<_> = events
        .iter()
        .map(|e| e["user"]["name"].as_str().unwrap())
        .collect();
    // The root user first (the account from STS GetCallerIdentity), then every IAM user.
    let mut expected = vec!["root"];
    expected.extend(STUB_USERS.map(|(name, _)| name));
    assert_eq!(names, expected);
    assert_eq!(
        (&events[0]["user"]["uid"], &events[0]["user"]["type_id"]),
        (&json!("arn:aws:iam::111122223333:root"), &json!(2))
    );
    assert!(
        run.summary().contains("users=5 root=1 events=6"),
        "{}",
        run.summary()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_denied_enrichment_call_keeps_every_user_and_exits_partial() {
    let stub = IamStub::start(|request: &Received| match request.param("Action") {
        Some("ListMFADevices") if request.param("UserName") == Some("bob") => (
            403,
            error_response(
                "AccessDenied",
                "not authorized to perform: iam:ListMFADevices",
            ),
        ),
        _ => paged_stub(request),
    });
    let run = run_against(&stub.url, STUB_KEY_ID, CANARY_SECRET, &["--no-root"]);
    assert_eq!(
        run.code,
        Some(4),
        "partial exit code; stderr: {}",
        run.stderr
    );
    let events = valid_events(&run);
    assert_eq!(events.len(), 5);
    let bob = &events[1];
    assert_eq!(bob["user"]["name"], json!("bob"));
    assert_eq!(bob["user"].get("has_mfa"), None);
    assert_eq!(
        bob["unmapped"]["collection_errors"],
        json!([{ "action": "ListMFADevices", "code": "AccessDenied" }])
    );
    assert_eq!(events[0]["user"]["has_mfa"], json!(true));
    assert!(
        run.stderr
            .contains("ListMFADevices failed: HTTP 403 AccessDenied"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failing_listing_is_a_clear_error_naming_the_action() {
    let stub = IamStub::start(|_: &Received| {
        (
            503,
            "<html><title>Service Unavailable</title></html>".to_owned(),
        )
    });
    let run = run_against(&stub.url, STUB_KEY_ID, CANARY_SECRET, &[]);
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(
            "ListUsers returned an unreadable response (HTTP 503): not XML: an HTML page (\"Service Unavailable\")"
        ),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// moto in auth mode: signatures verified by an independent implementation.
// ---------------------------------------------------------------------------------------

/// One seeded moto for this test binary; it stops when the process exits (stdin closes).
fn moto() -> &'static MotoPeer {
    static PEER: OnceLock<MotoPeer> = OnceLock::new();
    PEER.get_or_init(|| MotoPeer::start(Auth::On))
}

fn by_name<'a>(events: &'a [Value], name: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["user"]["name"] == json!(name))
        .unwrap_or_else(|| panic!("no event for {name}"))
}

fn group_names(event: &Value) -> Vec<&str> {
    event["user"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect()
}

/// The seed table of the moto peer, as `iam_peer.py manifest` prints it.
fn manifest() -> &'static Value {
    static MANIFEST: OnceLock<Value> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let output = std::process::Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tests/peer/iam_peer.py"))
            .arg("manifest")
            .output()
            .expect("run iam_peer.py manifest");
        serde_json::from_slice(&output.stdout).expect("manifest is JSON")
    })
}

/// A group's privileges as the seed table defines them: inline names, then managed ones.
fn seeded_privileges(group: &str) -> Vec<String> {
    let seeded = manifest()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == json!(group))
        .unwrap_or_else(|| panic!("group {group} is not seeded"));
    let inline = seeded["inline_policies"]
        .as_object()
        .unwrap()
        .keys()
        .cloned();
    let managed = seeded["managed_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned());
    inline.chain(managed).collect()
}

fn sorted(values: &Value) -> Vec<String> {
    let mut names: Vec<String> = values
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {values}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    names.sort_unstable();
    names
}

fn key_ids(event: &Value) -> Vec<&str> {
    event["user"]["programmatic_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uid"].as_str().unwrap())
        .collect()
}

/// The seeded user `name` of the manifest.
fn seeded_user(name: &str) -> &'static Value {
    manifest()["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == json!(name))
        .unwrap_or_else(|| panic!("user {name} is not seeded"))
}

/// The moto account collected as the admin principal with `strategy` (`per-user`, `bulk`).
fn moto_collect(strategy: &str) -> Run {
    let peer = moto();
    let admin = peer.keys("admin");
    let run = run_against(
        &peer.endpoint,
        &admin.access_key_id,
        &admin.secret_access_key,
        &["--strategy", strategy],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        !run.stdout.contains(&admin.secret_access_key)
            && !run.stderr.contains(&admin.secret_access_key)
    );
    run
}

#[test]
fn moto_auth_mode_collects_every_seeded_user_field_by_field() {
    let peer = moto();
    let run = moto_collect("per-user");
    let events = valid_events(&run);
    // Every IAM user once, and the root user.
    assert_eq!(events.len(), peer.users() + 1);
    let uids: HashSet<_> = events
        .iter()
        .map(|e| e["user"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), events.len());
    let account = json!({
        "uid": "123456789012", "name": "demo-sandbox", "type": "AWS Account", "type_id": 10
    });
    assert_eq!(manifest()["account_alias"], account["name"]);
    for event in events.iter().filter(|e| e["user"]["name"] != json!("root")) {
        let name = event["user"]["name"].as_str().unwrap();
        let seeded = seeded_user(name);
        assert_eq!(event["unmapped"].get("collection_errors"), None, "{event}");
        assert_eq!(event["user"]["account"], account, "{name}");
        // The administrator rule agrees with the seed's verdict for every user.
        let expected_type = if seeded["admin"] == json!(true) { 2 } else { 1 };
        assert_eq!(
            event["user"]["type_id"],
            json!(expected_type),
            "{name}: {}",
            seeded["admin_reason"]
        );
        assert_eq!(
            event["unmapped"]["permissions_boundary"],
            seeded["permissions_boundary"]
                .get("arn")
                .cloned()
                .unwrap_or(Value::Null)
                .as_str()
                .map_or(Value::Null, |arn| json!(arn)),
            "{name}"
        );
        // Every group's privileges are exactly the policies the seed attached to it.
        for group in event["user"]["groups"].as_array().unwrap() {
            let name = group["name"].as_str().unwrap();
            assert_eq!(
                group["privileges"],
                json!(seeded_privileges(name)),
                "group {name}"
            );
            assert_eq!(
                group["uid"],
                json!(format!(
                    "arn:aws:iam::123456789012:group{}{name}",
                    seeded_group_path(name)
                ))
            );
        }
        // The login enrichment mirrors the console password.
        let login = &event["enrichments"][0];
        assert_eq!(
            (
                &login["name"],
                &login["value"],
                &login["data"]["is_enabled"]
            ),
            (&json!("login"), &json!("console"), &seeded["console"]),
            "{name}"
        );
    }

    // Console and MFA, admin through a customer-managed policy of its group.
    let alice = by_name(&events, "alice");
    assert_eq!(
        alice["user"]["uid"],
        json!("arn:aws:iam::123456789012:user/alice")
    );
    assert_eq!(
        (&alice["user"]["type"], &alice["user"]["has_mfa"]),
        (&json!("Admin"), &json!(true))
    );
    assert_eq!(group_names(alice), ["Admins"]);
    assert_eq!(
        alice["user"]["groups"][0]["privileges"],
        json!(["AdminAll"])
    );
    assert_eq!(
        alice["unmapped"]["admin"],
        json!({ "verdict": "admin", "granted_by": "arn:aws:iam::123456789012:policy/AdminAll" })
    );
    assert_eq!(alice["unmapped"]["is_console_user"], json!(true));
    assert_eq!(alice["unmapped"]["password_reset_required"], json!(false));
    assert_eq!(
        alice["unmapped"]["mfa_devices"][0]["serial_number"],
        json!("arn:aws:iam::123456789012:mfa/alice-mfa-1")
    );
    assert_eq!(
        alice["unmapped"]["mfa_devices"][0]["type"],
        json!("virtual")
    );
    assert_eq!(
        alice["unmapped"]["tags"],
        json!({ "team": "platform", "cost-center": "CC-1001" })
    );
    assert_eq!(alice["unmapped"]["access_keys_count"], json!(2));
    let statuses: Vec<_> = alice["unmapped"]["access_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["status"].clone(), k["ever_used"].clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (json!("Active"), json!(false)),
            (json!("Inactive"), json!(false))
        ]
    );
    // Admin with MFA, keys young and unused for less than 45 days: nothing fires.
    assert_eq!(
        (&alice["user"]["risk_level"], &alice["user"]["risk_score"]),
        (&json!("Info"), &json!(0))
    );

    // Admins decided on documents, not names.
    let ivan = by_name(&events, "ivan");
    assert_eq!(
        ivan["unmapped"]["admin"],
        json!({ "verdict": "admin", "granted_by": "ops-helper" })
    );
    // No MFA: rule USER.2 is Critical.
    assert_eq!(ivan["user"]["risk_level_id"], json!(4));
    assert_eq!(ivan["unmapped"]["risk_reasons"][0]["rule"], json!("USER.2"));
    let judy = by_name(&events, "judy");
    assert_eq!(
        judy["unmapped"]["admin"],
        json!({
            "verdict": "admin",
            "granted_by": "arn:aws:iam::aws:policy/AdministratorAccess",
            "judged_by_arn": ["arn:aws:iam::aws:policy/AdministratorAccess"]
        })
    );
    let trent = by_name(&events, "trent");
    assert_eq!(
        trent["unmapped"]["admin"],
        json!({ "verdict": "not-admin", "granted_by": "break-glass" })
    );
    assert_eq!(trent["user"]["type"], json!("User"));
    let victor = by_name(&events, "victor");
    assert_eq!(victor["unmapped"]["user_policies"], json!(["admin-notes"]));
    assert_eq!(
        victor["unmapped"]["admin"],
        json!({ "verdict": "not-admin" })
    );
    // A console password without MFA (High) and a policy of its own (Low).
    assert_eq!(
        (&victor["user"]["risk_level"], &victor["user"]["risk_score"]),
        (&json!("High"), &json!(60))
    );
    let rules: Vec<_> = victor["unmapped"]["risk_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["USER.1", "USER.7"]);

    // Service-specific credentials: CodeCommit and Keyspaces, then a Bedrock API key.
    let walter = by_name(&events, "walter");
    let mut services: Vec<_> = walter["unmapped"]["service_specific_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["service_name"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["service_user_name"].as_str().unwrap(),
            )
        })
        .collect();
    services.sort_unstable();
    assert_eq!(
        services,
        [
            (
                "cassandra.amazonaws.com",
                "Inactive",
                "walter-at-123456789012"
            ),
            (
                "codecommit.amazonaws.com",
                "Active",
                "walter-at-123456789012"
            )
        ]
    );
    let types: Vec<_> = walter["user"]["programmatic_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Service-Specific Credential"; 2]);
    let bedrock =
        &by_name(&events, "BedrockAPIKey-7k2p")["unmapped"]["service_specific_credentials"][0];
    assert_eq!(bedrock["service_name"], json!("bedrock.amazonaws.com"));
    // Created with a 30-day age limit.
    assert_eq!(
        bedrock["expiration_time"].as_i64().unwrap() - bedrock["created_time"].as_i64().unwrap(),
        30 * 86_400_000
    );

    // Programmatic only, two keys, own policies: the signing principal's key was used.
    let svc = by_name(&events, "svc-ci");
    assert_eq!(svc["unmapped"]["is_console_user"], json!(false));
    assert_eq!(svc["user"]["has_mfa"], json!(false));
    assert_eq!(svc["user"]["groups"], json!([]));
    assert_eq!(svc["unmapped"]["access_keys_count"], json!(2));
    let ids = key_ids(svc);
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter()
            .all(|id| id.starts_with("AKIA") && id.len() == 20),
        "{ids:?}"
    );
    assert_eq!(svc["unmapped"]["user_policies"], json!(["ci-deploy"]));
    let attached: Vec<_> = svc["unmapped"]["attached_policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(attached, ["DeployerAccess", "DevS3Access"]);
    assert_eq!(
        svc["unmapped"]["tags"],
        json!({ "purpose": "ci/cd pipeline" })
    );
    let principal = by_name(&events, "connector-admin");
    let key = &principal["unmapped"]["access_keys"][0];
    assert_eq!(
        (
            &key["ever_used"],
            &key["last_used_service"],
            &key["last_used_region"]
        ),
        (&json!(true), &json!("iam"), &json!("us-east-1"))
    );
    assert_eq!(
        principal["user"]["programmatic_credentials"][0]["last_used_time"],
        key["last_used_time"]
    );

    // Nothing at all.
    let mallory = by_name(&events, "mallory");
    assert_eq!(mallory["user"]["groups"], json!([]));
    assert_eq!(mallory["user"]["has_mfa"], json!(false));
    assert_eq!(mallory["user"]["programmatic_credentials"], json!([]));
    assert_eq!(
        mallory["unmapped"],
        json!({
            "path": "/contractors/",
            "created_time": mallory["time"],
            "is_console_user": false,
            "mfa_devices": [],
            "access_keys_count": 0,
            "access_keys": [],
            "tags": {},
            "user_policies": [],
            "attached_policies": [],
            "admin": { "verdict": "not-admin" },
            "ssh_public_keys_count": 0,
            "ssh_public_keys": [],
            "signing_certificates_count": 0,
            "signing_certificates": [],
            "service_specific_credentials_count": 0,
            "service_specific_credentials": []
        })
    );
    assert_eq!(
        (
            &mallory["user"]["risk_level"],
            &mallory["user"]["risk_level_id"]
        ),
        (&json!("Info"), &json!(0))
    );

    // Ten groups.
    let grace = by_name(&events, "grace");
    let mut grace_groups = group_names(grace);
    grace_groups.sort_unstable();
    assert_eq!(
        grace_groups,
        [
            "Admins",
            "Backend",
            "Billing",
            "Contractors",
            "DataScience",
            "Developers",
            "OnCall",
            "Ops",
            "ReadOnly",
            "Security"
        ]
    );
    assert_eq!(grace["unmapped"]["is_console_user"], json!(true));
    assert_eq!(grace["unmapped"]["password_reset_required"], json!(true));

    // Tags with unicode, an empty value, and characters XML escapes.
    let frank = by_name(&events, "frank");
    assert_eq!(
        frank["unmapped"]["tags"],
        json!({ "expires": "2026-12-31", "note": "R&D <core> \"quoted\" 'single' a>b" })
    );
    let carol = by_name(&events, "carol");
    assert_eq!(
        carol["unmapped"]["tags"],
        json!({ "location": "東京", "empty": "" })
    );
    assert_eq!(carol["unmapped"]["ssh_public_keys_count"], json!(1));
    assert_eq!(carol["user"]["has_mfa"], json!(true));
    assert_eq!(carol["unmapped"]["path"], json!("/engineering/backend/"));
    assert_eq!(carol["time"], carol["unmapped"]["created_time"]);
    let dave = by_name(&events, "dave");
    assert_eq!(dave["unmapped"]["signing_certificates_count"], json!(1));
    assert_eq!(
        dave["user"]["programmatic_credentials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"] == json!("X.509 Signing Certificate"))
            .count(),
        1
    );
    assert_eq!(
        by_name(&events, "bob")["unmapped"]["tags"]["owner"],
        json!("Zoë Ångström")
    );

    // A path with `&`.
    let peggy = by_name(&events, "peggy");
    assert_eq!(
        peggy["user"]["uid"],
        json!("arn:aws:iam::123456789012:user/r&d/peggy")
    );
    assert_eq!(peggy["unmapped"]["path"], json!("/r&d/"));
    assert_eq!(sorted(&json!(group_names(peggy))), ["DataScience"]);

    // The root user: GetAccountSummary's MFA flag and no access key.
    let root = by_name(&events, "root");
    assert_eq!(
        root["user"],
        json!({
            "uid": "arn:aws:iam::123456789012:root",
            "name": "root",
            "type": "Admin",
            "type_id": 2,
            "has_mfa": true,
            "account": account,
            "risk_level": "Info",
            "risk_level_id": 0,
            "risk_score": 0
        })
    );
    assert_eq!(root["unmapped"]["access_keys_present"], json!(false));

    let summary = run.summary();
    let expected = format!(
        "users={0} root=1 events={1} skipped_users=0 account_users={0} pages=1",
        peer.users(),
        peer.users() + 1
    );
    assert!(summary.contains(&expected), "{summary}");
    assert!(summary.contains("field_errors=0"), "{summary}");
}

/// Every event of both strategies passes Sekoia's own models, and what Sekoia keeps of the
/// named users carries their type, MFA, groups with privileges, risk level and login facts.
#[test]
fn moto_events_survive_sekoia_models_in_both_strategies() {
    for strategy in ["per-user", "bulk"] {
        let run = moto_collect(strategy);
        let events = valid_events(&run);
        let check = test_support::sekoia::check(&events);
        assert!(check.all_accepted(), "{strategy}: {:?}", check.rejected);
        assert_eq!(check.items.len(), events.len());
        for path in [
            "user.account.name",
            "user.type_id",
            "user.has_mfa",
            "user.groups[].privileges[]",
            "user.risk_level_id",
            "user.risk_score",
            "enrichments[].data.is_enabled",
            "enrichments[].data.last_time_password_change",
            "enrichments[].value",
        ] {
            assert!(check.keeps(path), "{strategy}: {path} is dropped");
        }
        assert!(
            !check.keeps("unmapped.tags"),
            "unmapped never reaches Sekoia"
        );
        for name in ["alice", "ivan", "judy", "trent", "victor", "grace", "root"] {
            let event = by_name(&events, name);
            let kept = check
                .items
                .iter()
                .find(|i| i["user"]["name"] == json!(name))
                .unwrap_or_else(|| panic!("{name} is not in Sekoia's items"));
            for field in [
                "uid",
                "type_id",
                "type",
                "has_mfa",
                "groups",
                "risk_level_id",
                "risk_level",
                "risk_score",
                "account",
            ] {
                assert_eq!(
                    kept["user"].get(field),
                    event["user"].get(field),
                    "{strategy}: {name}.user.{field}"
                );
            }
            assert_eq!(
                kept["enrichments"], event["enrichments"],
                "{strategy}: {name}.enrichments"
            );
        }
        let victor = check
            .items
            .iter()
            .find(|i| i["user"]["name"] == json!("victor"))
            .unwrap();
        assert_eq!(victor["enrichments"][0]["data"]["is_enabled"], json!(true));
        assert_eq!(victor["user"]["type_id"], json!(1));
    }
}

fn seeded_group_path(group: &str) -> String {
    manifest()["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == json!(group))
        .map(|g| g["path"].as_str().unwrap().to_owned())
        .unwrap()
}

#[test]
fn moto_restricted_principal_keeps_every_user_without_the_denied_fields() {
    let peer = moto();
    let restricted = peer.keys("restricted");
    let run = run_against(
        &peer.endpoint,
        &restricted.access_key_id,
        &restricted.secret_access_key,
        &["--no-root"],
    );
    assert_eq!(run.code, Some(4), "partial; stderr: {}", run.stderr);
    let events = valid_events(&run);
    assert_eq!(events.len(), peer.users());
    for event in &events {
        assert_eq!(event["user"].get("has_mfa"), None, "{event}");
        assert_eq!(event["unmapped"].get("tags"), None, "{event}");
        assert_eq!(event["unmapped"].get("mfa_devices"), None, "{event}");
        assert!(
            event["user"]["groups"].is_array(),
            "other fields are still read: {event}"
        );
        assert_eq!(
            event["unmapped"]["collection_errors"],
            json!([
                { "action": "ListMFADevices", "code": "AccessDenied" },
                { "action": "ListUserTags", "code": "AccessDenied" }
            ])
        );
        // MFA unknown: the MFA rules that would apply are not evaluated, never passed.
        let not_evaluated = event["unmapped"]["risk_rules_not_evaluated"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            not_evaluated.contains(&json!("USER.1")),
            event["unmapped"]["is_console_user"] == json!(true),
            "{event}"
        );
        assert_eq!(
            not_evaluated.contains(&json!("USER.2")),
            event["user"]["type_id"] == json!(2),
            "{event}"
        );
    }
    let summary = run.summary();
    let n = peer.users();
    assert!(
        summary.contains(&format!(
            "errors=ListMFADevices/AccessDenied:{n},ListUserTags/AccessDenied:{n}"
        )),
        "{summary}"
    );
    assert!(
        run.stderr
            .contains("ListMFADevices failed: HTTP 403 AccessDenied"),
        "{}",
        run.stderr
    );
}

#[test]
fn moto_wrong_secret_is_a_clear_signature_error() {
    let peer = moto();
    let admin = peer.keys("admin");
    let run = run_against(&peer.endpoint, &admin.access_key_id, CANARY_SECRET, &[]);
    assert_eq!(run.code, Some(3), "auth exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("ListUsers failed: HTTP 403 SignatureDoesNotMatch"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(CANARY_SECRET));
}

/// Runs `check --json` as `principal`: exit code, `permission outcome [code]` lines, caller ARN.
fn check_outcomes(principal: &str) -> (Option<i32>, Vec<String>, Value) {
    let peer = moto();
    let component = harness::component();
    let keys = peer.keys(principal);
    let run = harness::run(
        &[
            "check",
            "--component",
            component.to_str().unwrap(),
            "--endpoint-url",
            &peer.endpoint,
            "--json",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", &keys.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key),
        ],
        LIMIT,
    );
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr));
    let outcomes = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let code = p["code"]
                .as_str()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            let recommended = if p["recommended"] == json!(true) {
                " [recommended]"
            } else {
                ""
            };
            format!(
                "{} {}{code}{recommended}",
                p["permission"].as_str().unwrap(),
                p["outcome"].as_str().unwrap()
            )
        })
        .collect();
    (run.code, outcomes, report["caller_arn"].clone())
}

/// The permissions of the connector's documented policy, in its order (its `ListGroupTags`
/// is not an IAM action and is not probed), then the recommended ones.
const DOCUMENTED_PERMISSIONS: [&str; 19] = [
    "ListUsers",
    "GetUser",
    "ListGroups",
    "GetGroup",
    "ListGroupsForUser",
    "ListUserPolicies",
    "ListAttachedUserPolicies",
    "GetUserPolicy",
    "ListGroupPolicies",
    "ListAttachedGroupPolicies",
    "GetGroupPolicy",
    "ListAccessKeys",
    "ListSigningCertificates",
    "ListSSHPublicKeys",
    "ListServiceSpecificCredentials",
    "ListMFADevices",
    "GetLoginProfile",
    "ListUserTags",
    "GetAccountSummary",
];
const RECOMMENDED_PERMISSIONS: [&str; 7] = [
    "ListAccountAliases",
    "GetAccessKeyLastUsed",
    "GetAccountAuthorizationDetails",
    "GenerateCredentialReport",
    "GetCredentialReport",
    "GetPolicy",
    "GetPolicyVersion",
];

fn expected_report(exceptions: &[(&str, &str)]) -> Vec<String> {
    let required = DOCUMENTED_PERMISSIONS.iter().map(|a| (a, ""));
    let recommended = RECOMMENDED_PERMISSIONS
        .iter()
        .map(|a| (a, " [recommended]"));
    required
        .chain(recommended)
        .map(|(action, suffix)| {
            let outcome = exceptions
                .iter()
                .find(|(a, _)| a == action)
                .map_or("granted", |(_, o)| o);
            format!("iam:{action} {outcome}{suffix}")
        })
        .collect()
}

#[test]
fn moto_check_with_the_full_principal() {
    let (code, outcomes, caller) = check_outcomes("admin");
    assert_eq!(
        caller,
        json!("arn:aws:iam::123456789012:user/automation/connector-admin")
    );
    assert_eq!(outcomes, expected_report(&[]));
    assert_eq!(code, Some(0));
}

#[test]
fn moto_check_with_the_restricted_principal() {
    let (code, outcomes, caller) = check_outcomes("restricted");
    assert_eq!(
        caller,
        json!("arn:aws:iam::123456789012:user/automation/connector-restricted")
    );
    assert_eq!(
        outcomes,
        expected_report(&[
            ("ListMFADevices", "denied AccessDenied"),
            ("ListUserTags", "denied AccessDenied"),
        ])
    );
    assert_eq!(
        code,
        Some(3),
        "a denied permission is an authorisation failure"
    );
}
