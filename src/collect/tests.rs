use serde_json::{json, Value};

use super::*;
use crate::host::{HttpResponse, QueryCall, TransportError};
use crate::test_support::{fixture, ocsf_schema, response, ScriptedHost, NOW_MS};

const SETTINGS: Settings = Settings { max_items: 2 };

fn ok(path: &str) -> Result<HttpResponse, TransportError> {
    Ok(response(200, &fixture(path)))
}

/// Two pages of ListUsers (synthetic), carol's groups and alice's MFA device for everyone.
fn account(call: &QueryCall) -> Result<HttpResponse, TransportError> {
    match (call.action(), call.param("Marker")) {
        ("ListUsers", None) => ok("synthetic/ListUsers.page1.xml"),
        ("ListUsers", Some(_)) => ok("synthetic/ListUsers.page2.xml"),
        ("ListGroupsForUser", _) => ok("moto/ListGroupsForUser.carol.xml"),
        ("ListMFADevices", _) => ok("moto/ListMFADevices.alice.xml"),
        (other, _) => panic!("unexpected call {other}"),
    }
}

fn collect_all(host: &ScriptedHost) -> (Vec<Value>, Vec<PageStats>) {
    let mut cursor = None;
    let mut events = Vec::new();
    let mut stats = Vec::new();
    loop {
        let page = collect(host, SETTINGS, cursor.as_deref()).unwrap();
        events.extend(
            page.events
                .iter()
                .map(|e| ocsf_schema::assert_valid_event(e)),
        );
        stats.push(page.stats);
        cursor = page.cursor;
        if cursor.is_none() {
            return (events, stats);
        }
    }
}

#[test]
fn follows_list_users_markers_and_yields_each_user_once() {
    let host = ScriptedHost::new(account);
    let (events, stats) = collect_all(&host);
    let names: Vec<_> = events
        .iter()
        .map(|e| e["user"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "svc+deploy=bot@corp.example", "bob"]);
    let list_users: Vec<_> = host
        .calls
        .borrow()
        .iter()
        .filter(|c| c.action() == "ListUsers")
        .map(|c| {
            (
                c.param("MaxItems").map(str::to_owned),
                c.param("Marker").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        list_users,
        [
            (Some("2".into()), None),
            (
                Some("2".into()),
                Some("AAMAAQAAAAEAAAAAAAAAAQEAAAAAAAAAEXAMPLEMARKER+/=".into())
            ),
        ]
    );
    assert_eq!(
        stats,
        [
            PageStats {
                users: 2,
                api_calls: 5,
                errors: vec![]
            },
            PageStats {
                users: 1,
                api_calls: 3,
                errors: vec![]
            },
        ]
    );
    // Each page's enrichment calls went out in one batch.
    assert_eq!(
        host.batches.borrow().iter().copied().collect::<Vec<_>>(),
        [1, 4, 1, 2]
    );
}

#[test]
fn an_enriched_event_has_the_exact_fields() {
    let host = ScriptedHost::new(account);
    let (events, _) = collect_all(&host);
    assert_eq!(
        events[1],
        json!({
            "activity_id": 2, "activity_name": "Collect",
            "category_name": "Discovery", "category_uid": 5,
            "class_name": "User Inventory Info", "class_uid": 5003,
            "type_name": "User Inventory Info: Collect", "type_uid": 500302,
            "severity": "Informational", "severity_id": 1,
            "time": 1_625_097_600_000_i64,
            "metadata": {
                "version": "1.6.0",
                "product": { "name": "AWS IAM", "vendor_name": "Amazon", "version": "N/A" },
                "processed_time": NOW_MS
            },
            "user": {
                "uid": "arn:aws:iam::111122223333:user/r&d/svc+deploy=bot@corp.example",
                "uid_alt": "AIDAQWERTYUIOPLKJHGF2",
                "name": "svc+deploy=bot@corp.example",
                "type": "User", "type_id": 1,
                "has_mfa": true,
                "groups": [
                    { "uid": "arn:aws:iam::123456789012:group/engineering/Developers", "name": "Developers" },
                    { "uid": "arn:aws:iam::123456789012:group/ReadOnly", "name": "ReadOnly" }
                ],
                "account": { "uid": "111122223333", "type": "AWS Account", "type_id": 10 }
            },
            "unmapped": { "path": "/r&d/", "created_time": 1_625_097_600_000_i64 }
        })
    );
    assert_eq!(
        events[0]["unmapped"]["password_last_used_time"],
        json!(1_730_570_711_000_i64)
    );
}

fn groups_page(names: &[&str], marker: Option<&str>) -> String {
    let members: String = names
        .iter()
        .map(|n| {
            format!(
                "<member><Path>/</Path><GroupName>{n}</GroupName><GroupId>AGPA{n}</GroupId>\
                 <Arn>arn:aws:iam::111122223333:group/{n}</Arn>\
                 <CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
            )
        })
        .collect();
    let tail = match marker {
        Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
        None => "<IsTruncated>false</IsTruncated>".into(),
    };
    format!(
        "<ListGroupsForUserResponse><ListGroupsForUserResult><Groups>{members}</Groups>{tail}\
         </ListGroupsForUserResult></ListGroupsForUserResponse>"
    )
}

#[test]
fn enrichment_listings_follow_their_own_markers() {
    let host = ScriptedHost::new(|call| match (call.action(), call.param("Marker")) {
        ("ListUsers", _) => ok("synthetic/ListUsers.page2.xml"),
        ("ListGroupsForUser", None) => Ok(response(200, &groups_page(&["g1", "g2"], Some("p2")))),
        ("ListGroupsForUser", Some("p2")) => Ok(response(200, &groups_page(&["g3"], None))),
        ("ListMFADevices", _) => ok("moto/ListMFADevices.bob-empty.xml"),
        (action, marker) => panic!("unexpected {action} {marker:?}"),
    });
    let page = collect(&host, SETTINGS, None).unwrap();
    assert_eq!(page.cursor, None);
    let event = ocsf_schema::assert_valid_event(&page.events[0]);
    let groups: Vec<_> = event["user"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["g1", "g2", "g3"]);
    assert_eq!(event["user"]["has_mfa"], json!(false));
    assert_eq!(page.stats.api_calls, 4);
}

#[test]
fn a_failing_enrichment_call_leaves_its_field_out_and_keeps_the_user() {
    let host = ScriptedHost::new(|call| match (call.action(), call.param("UserName")) {
        ("ListMFADevices", Some("alice")) => {
            Ok(response(403, &fixture("synthetic/Error.AccessDenied.xml")))
        }
        ("ListGroupsForUser", Some("svc+deploy=bot@corp.example")) => Ok(response(
            500,
            &fixture("moto/ListServiceSpecificCredentials.alice.moto-500-html.xml"),
        )),
        _ => account(call),
    });
    let page = collect(&host, SETTINGS, None).unwrap();
    assert_eq!(page.events.len(), 2);
    let alice = ocsf_schema::assert_valid_event(&page.events[0]);
    assert_eq!(alice["user"].get("has_mfa"), None);
    assert_eq!(alice["user"]["groups"].as_array().unwrap().len(), 2);
    assert_eq!(
        alice["unmapped"]["collection_errors"],
        json!([{ "action": "ListMFADevices", "code": "AccessDenied" }])
    );
    let svc = ocsf_schema::assert_valid_event(&page.events[1]);
    assert_eq!(svc["user"].get("groups"), None);
    assert_eq!(svc["user"]["has_mfa"], json!(true));
    assert_eq!(
        svc["unmapped"]["collection_errors"],
        json!([{ "action": "ListGroupsForUser", "code": "MalformedResponse" }])
    );
    assert_eq!(
        page.stats.errors,
        [
            ActionErrors {
                action: "ListGroupsForUser".into(),
                code: "MalformedResponse".into(),
                count: 1
            },
            ActionErrors {
                action: "ListMFADevices".into(),
                code: "AccessDenied".into(),
                count: 1
            },
        ]
    );
    let logs = host.logs.borrow();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].0, Level::Warn);
    assert!(logs.iter().any(|(_, m)| m.starts_with(
        "user \"alice\": ListMFADevices failed: HTTP 403 AccessDenied: User: arn:aws:iam::111122223333:user/auditor"
    ) && m.ends_with("; user.has_mfa left out")));
    assert!(logs.iter().any(|(_, m)| m
        == "user \"svc+deploy=bot@corp.example\": ListGroupsForUser returned an unreadable response \
            (HTTP 500): not XML: an HTML page (\"500 Internal Server Error\"); user.groups left out"));
}

#[test]
fn a_transport_failure_on_enrichment_is_counted() {
    let host = ScriptedHost::new(|call| match call.action() {
        "ListGroupsForUser" => Err(TransportError::Network("connection reset".into())),
        _ => account(call),
    });
    let page = collect(&host, SETTINGS, None).unwrap();
    assert_eq!(
        page.stats.errors,
        [ActionErrors {
            action: "ListGroupsForUser".into(),
            code: "TransportError".into(),
            count: 2
        }]
    );
}

#[test]
fn a_failing_list_users_fails_the_page() {
    let host = ScriptedHost::new(|_| {
        Ok(response(
            403,
            &fixture("moto/Error.SignatureDoesNotMatch.authmode.xml"),
        ))
    });
    let err = collect(&host, SETTINGS, None).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Api(e) if e.code == "SignatureDoesNotMatch" && e.status == 403)
    );
    assert_eq!(host.actions(), ["ListUsers"]);
}

fn list_users_page(truncated: bool, marker: Option<&str>) -> String {
    let marker = marker
        .map(|m| format!("<Marker>{m}</Marker>"))
        .unwrap_or_default();
    format!(
        "<ListUsersResponse><ListUsersResult><Users/><IsTruncated>{truncated}</IsTruncated>{marker}\
         </ListUsersResult></ListUsersResponse>"
    )
}

#[test]
fn list_users_loop_guards() {
    let host = ScriptedHost::new(|_| Ok(response(200, &list_users_page(true, None))));
    assert_eq!(
        collect(&host, SETTINGS, None).unwrap_err().to_string(),
        "ListUsers returned an unreadable response (HTTP 200): IsTruncated is true but no Marker was returned"
    );
    let host = ScriptedHost::new(|_| Ok(response(200, &list_users_page(true, Some("same")))));
    let first = collect(&host, SETTINGS, None).unwrap();
    assert_eq!(first.events.len(), 0);
    let err = collect(&host, SETTINGS, first.cursor.as_deref()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ListUsers returned an unreadable response (HTTP 200): Marker \"same\" was returned twice"
    );
}

#[test]
fn settings_and_cursor_are_validated_before_any_call() {
    let host = ScriptedHost::new(account);
    let err = collect(&host, Settings { max_items: 1001 }, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid settings: max-items must be between 1 and 1000 (IAM's MaxItems range), got 1001"
    );
    assert!(matches!(
        collect(&host, SETTINGS, Some("garbage")),
        Err(ConnectorError::InvalidCursor(_))
    ));
    assert!(host.calls.borrow().is_empty());
}
