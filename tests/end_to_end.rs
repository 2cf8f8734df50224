//! End to end: the built component inside the host harness binary, against a loopback IAM
//! stub (pagination, failures) and against moto in auth mode (real SigV4 verification).

mod support;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use support::harness::{self, Run};
use support::iam_stub::{error_response, escape, list_response, IamStub, Received, Reply};
use support::moto_peer::MotoPeer;
use support::ocsf_schema::assert_valid_event;

const LIMIT: Duration = Duration::from_secs(120);
const STUB_KEY_ID: &str = "AKIASTUBEXAMPLE00001";
/// A recognisable secret: it must never appear in anything the harness prints.
const CANARY_SECRET: &str = "canary-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0ffee";

fn run_against(endpoint: &str, key_id: &str, secret: &str, extra: &[&str]) -> Run {
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
            ("AWS_ACCESS_KEY_ID", key_id),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_REGION", "us-east-1"),
        ],
        LIMIT,
    )
}

fn valid_events(run: &Run) -> Vec<Value> {
    run.events().into_iter().map(assert_valid_event).collect()
}

fn summary_line(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap_or_else(|| panic!("no summary in {}", run.stderr))
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
fn paged_stub(request: &Received) -> Reply {
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
        other => (400, error_response("InvalidAction", &format!("{other:?}"))),
    }
}

#[test]
fn pagination_through_the_harness_returns_every_user_once() {
    let stub = IamStub::start(paged_stub);
    let run = run_against(&stub.url, STUB_KEY_ID, CANARY_SECRET, &["--max-items", "2"]);
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
            { "uid": "arn:aws:iam::111122223333:group/g1", "name": "g1" },
            { "uid": "arn:aws:iam::111122223333:group/g2", "name": "g2" },
            { "uid": "arn:aws:iam::111122223333:group/g3", "name": "g3" }
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
    // 3 ListUsers pages, 5 users × (ListGroupsForUser + ListMFADevices), bob's second group page.
    assert_eq!(received.len(), 3 + 10 + 1);
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
    let summary = summary_line(&run);
    assert!(
        summary.contains("users=5 events=5 pages=3 api_calls=14"),
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
    let names: Vec<_> = written
        .lines()
        .map(assert_valid_event)
        .map(|e| e["user"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, STUB_USERS.map(|(name, _)| name));
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
    let run = run_against(&stub.url, STUB_KEY_ID, CANARY_SECRET, &[]);
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
    PEER.get_or_init(|| MotoPeer::start(true))
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

#[test]
fn moto_auth_mode_collects_every_seeded_user() {
    let peer = moto();
    let admin = peer.keys("admin");
    let run = run_against(
        &peer.endpoint,
        &admin.access_key_id,
        &admin.secret_access_key,
        &[],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let events = valid_events(&run);
    assert_eq!(events.len(), peer.users());
    let uids: HashSet<_> = events
        .iter()
        .map(|e| e["user"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), events.len());

    let carol = by_name(&events, "carol");
    assert_eq!(
        carol["user"]["uid"],
        json!("arn:aws:iam::123456789012:user/engineering/backend/carol")
    );
    assert_eq!(carol["user"]["type_id"], json!(1));
    assert_eq!(carol["user"]["has_mfa"], json!(true));
    assert_eq!(
        carol["user"]["groups"],
        json!([
            { "uid": "arn:aws:iam::123456789012:group/engineering/Developers", "name": "Developers" },
            { "uid": "arn:aws:iam::123456789012:group/engineering/backend/Backend", "name": "Backend" }
        ])
    );
    assert_eq!(
        carol["user"]["account"],
        json!({ "uid": "123456789012", "type": "AWS Account", "type_id": 10 })
    );
    assert_eq!(carol["unmapped"]["path"], json!("/engineering/backend/"));
    assert_eq!(carol["time"], carol["unmapped"]["created_time"]);
    assert!(carol["user"]["uid_alt"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    let peggy = by_name(&events, "peggy");
    assert_eq!(
        peggy["user"]["uid"],
        json!("arn:aws:iam::123456789012:user/r&d/peggy")
    );
    assert_eq!(peggy["user"]["has_mfa"], json!(false));
    assert_eq!(
        peggy["user"]["groups"],
        json!([{ "uid": "arn:aws:iam::123456789012:group/r&d/DataScience", "name": "DataScience" }])
    );
    assert_eq!(peggy["unmapped"]["path"], json!("/r&d/"));

    let mut grace_groups = group_names(by_name(&events, "grace"));
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
    assert_eq!(group_names(by_name(&events, "mallory")), Vec::<&str>::new());
    assert_eq!(by_name(&events, "mallory")["user"]["has_mfa"], json!(false));
    assert!(
        by_name(&events, "svc+deploy=bot,v2.x@corp-e_1")["user"]["uid"]
            .as_str()
            .unwrap()
            .ends_with(":user/service-accounts/svc+deploy=bot,v2.x@corp-e_1")
    );

    let summary = summary_line(&run);
    let expected = format!("users={0} events={0} pages=1", peer.users());
    assert!(summary.contains(&expected), "{summary}");
    assert!(
        !run.stdout.contains(&admin.secret_access_key)
            && !run.stderr.contains(&admin.secret_access_key)
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

#[test]
fn moto_check_reports_each_probed_permission() {
    let peer = moto();
    let component = harness::component();
    let restricted = peer.keys("restricted");
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
            ("AWS_ACCESS_KEY_ID", &restricted.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &restricted.secret_access_key),
        ],
        LIMIT,
    );
    assert_ne!(
        run.code,
        Some(0),
        "a denied permission fails the check; stderr: {}",
        run.stderr
    );
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let outcomes: Vec<(String, String)> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let outcome = p["outcome"].as_str().unwrap_or_default().to_owned();
            let code = p["code"]
                .as_str()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            (
                p["permission"].as_str().unwrap().to_owned(),
                format!("{outcome}{code}"),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("iam:ListUsers".to_owned(), "granted".to_owned()),
            ("iam:ListGroupsForUser".to_owned(), "granted".to_owned()),
            (
                "iam:ListMFADevices".to_owned(),
                "denied AccessDenied".to_owned()
            ),
        ]
    );
}
