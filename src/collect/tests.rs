use serde_json::{json, Value};

use super::*;
use crate::cursor::{Cursor, Within};
use crate::host::{HttpResponse, QueryCall, TransportError};
use crate::retry::RetryPolicy;
use crate::test_support::{fixture, ocsf_schema, response, ScriptedHost, NOW_MS};

const SETTINGS: Settings = Settings {
    max_items: 2,
    retry: RetryPolicy {
        max_attempts: 3,
        base_ms: 1_000,
        cap_ms: 20_000,
    },
    strategy: Strategy::PerUser,
    max_concurrency: 64,
    max_in_flight: 64,
    time_budget_ms: 0,
    include_root: false,
};

fn ok(path: &str) -> Result<HttpResponse, TransportError> {
    Ok(response(200, &fixture(path)))
}

fn xml(text: &str) -> Result<HttpResponse, TransportError> {
    Ok(response(200, text))
}

fn api_error(status: u16, code: &str) -> Result<HttpResponse, TransportError> {
    Ok(response(
        status,
        &format!("<ErrorResponse><Error><Code>{code}</Code><Message>{code} for the test</Message></Error></ErrorResponse>"),
    ))
}

/// An account answered from fixtures: two ListUsers pages (alice and svc+deploy, then bob),
/// carol's two groups, alice's MFA device and keys for everyone; a console password for
/// alice only; two pages of attached policies.
fn account(call: &QueryCall) -> Result<HttpResponse, TransportError> {
    match (call.action(), call.param("Marker")) {
        ("GetAccountSummary", _) => ok("moto/GetAccountSummary.xml"),
        ("ListUsers", None) => ok("synthetic/ListUsers.page1.xml"),
        ("ListUsers", Some(_)) => ok("synthetic/ListUsers.page2.xml"),
        ("ListGroupsForUser", _) => ok("moto/ListGroupsForUser.carol.xml"),
        ("ListMFADevices", _) => ok("moto/ListMFADevices.alice.xml"),
        ("ListAccessKeys", _) => ok("moto/ListAccessKeys.alice.xml"),
        ("GetLoginProfile", _) if call.param("UserName") == Some("alice") => ok("moto/GetLoginProfile.alice.xml"),
        ("GetLoginProfile", _) => Ok(response(404, &fixture("moto/Error.NoSuchEntity.GetLoginProfile.xml"))),
        ("ListUserTags", _) => ok("moto/ListUserTags.carol-unicode-emptyvalue.xml"),
        ("ListUserPolicies", _) => ok("moto/ListUserPolicies.bob.xml"),
        ("ListAttachedUserPolicies", None) => ok("moto/ListAttachedUserPolicies.svc-ci.MaxItems1.xml"),
        ("ListAttachedUserPolicies", Some("1")) => xml(
            "<ListAttachedUserPoliciesResponse><ListAttachedUserPoliciesResult><AttachedPolicies><member>\
             <PolicyName>DeployerAccess</PolicyName><PolicyArn>arn:aws:iam::123456789012:policy/DeployerAccess</PolicyArn>\
             </member></AttachedPolicies><IsTruncated>false</IsTruncated></ListAttachedUserPoliciesResult>\
             </ListAttachedUserPoliciesResponse>",
        ),
        ("ListSSHPublicKeys", _) => ok("moto/ListSSHPublicKeys.dave.xml"),
        ("ListSigningCertificates", _) => ok("moto/ListSigningCertificates.alice-empty.xml"),
        ("ListServiceSpecificCredentials", _) => xml(
            "<ListServiceSpecificCredentialsResponse><ListServiceSpecificCredentialsResult>\
             <ServiceSpecificCredentials/><IsTruncated>false</IsTruncated>\
             </ListServiceSpecificCredentialsResult></ListServiceSpecificCredentialsResponse>",
        ),
        ("ListGroupPolicies", _) => ok("moto/ListGroupPolicies.Developers.xml"),
        ("ListAttachedGroupPolicies", _) => ok("moto/ListAttachedGroupPolicies.Developers.xml"),
        ("ListAccountAliases", _) => xml(
            "<ListAccountAliasesResponse><ListAccountAliasesResult><AccountAliases>\
             <member>demo-sandbox</member></AccountAliases><IsTruncated>false</IsTruncated>\
             </ListAccountAliasesResult></ListAccountAliasesResponse>",
        ),
        ("GetUser", _) => ok("moto/GetUser.alice.xml"),
        ("GetAccessKeyLastUsed", _) => ok("moto/GetAccessKeyLastUsed.used-authmode.xml"),
        ("GetUserPolicy", _) => ok("moto/GetUserPolicy.bob-urlencoded.xml"),
        ("GetGroupPolicy", _) => xml(
            "<GetGroupPolicyResponse><GetGroupPolicyResult><GroupName>g</GroupName>\
             <PolicyName>dev-inline</PolicyName><PolicyDocument>%7B%22Statement%22%3A%5B%7B%22Effect%22%3A\
             %22Allow%22%2C%22Action%22%3A%22s3%3AListBucket%22%2C%22Resource%22%3A%22*%22%7D%5D%7D\
             </PolicyDocument></GetGroupPolicyResult></GetGroupPolicyResponse>",
        ),
        ("GetPolicy", _) => xml(&format!(
            "<GetPolicyResponse><GetPolicyResult><Policy><PolicyName>p</PolicyName>\
             <Arn>{}</Arn><DefaultVersionId>v2</DefaultVersionId></Policy></GetPolicyResult>\
             </GetPolicyResponse>",
            call.param("PolicyArn").unwrap_or_default()
        )),
        ("GetPolicyVersion", _) => xml(
            "<GetPolicyVersionResponse><GetPolicyVersionResult><PolicyVersion>\
             <Document>%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%2C\
             %22Resource%22%3A%22*%22%7D%7D</Document><VersionId>v2</VersionId>\
             <IsDefaultVersion>true</IsDefaultVersion></PolicyVersion></GetPolicyVersionResult>\
             </GetPolicyVersionResponse>",
        ),
        (other, marker) => panic!("unexpected call {other} {marker:?}"),
    }
}

fn collect_all(host: &ScriptedHost) -> (Vec<Value>, Vec<PageStats>) {
    let mut groups = CollectionState::default();
    let mut cursor = None;
    let mut events = Vec::new();
    let mut stats = Vec::new();
    loop {
        let page = collect(host, SETTINGS, cursor.as_deref(), None, &mut groups).unwrap();
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

fn first_page(host: &ScriptedHost) -> Page {
    collect(host, SETTINGS, None, None, &mut CollectionState::default()).unwrap()
}

fn calls_of(host: &ScriptedHost, action: &str) -> Vec<QueryCall> {
    host.calls
        .borrow()
        .iter()
        .filter(|c| c.action() == action)
        .cloned()
        .collect()
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
    let list_users: Vec<_> = calls_of(&host, "ListUsers")
        .iter()
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
    let page = |users, api_calls| PageStats {
        users,
        skipped_users: 0,
        api_calls,
        errors: vec![],
        account_users: Some(14),
        strategy: Strategy::PerUser,
        fallback: None,
        root_users: 0,
    };
    // Page 1: GetAccountSummary and ListAccountAliases, ListUsers, 2 users × 11 lookups, 2
    // second pages of ListAttachedUserPolicies, 2 groups × 2 listings, then their inline
    // policies' documents, then 2 users × (2 keys' last use + 1 inline policy), then GetPolicy
    // and GetPolicyVersion for the 2 customer-managed policies. Page 2: groups and managed
    // policies are cached.
    assert_eq!(stats, [page(2, 43), page(1, 16)]);
    assert_eq!(
        host.batches.borrow().iter().copied().collect::<Vec<_>>(),
        [2, 1, 22, 2, 4, 2, 6, 2, 2, 1, 11, 1, 3]
    );
    assert_eq!(calls_of(&host, "GetAccountSummary").len(), 1);
    assert_eq!(calls_of(&host, "ListGroupPolicies").len(), 2);
}

#[test]
fn each_lookup_is_sent_with_the_user_and_paging_parameters() {
    let host = ScriptedHost::new(account);
    first_page(&host);
    let login = &calls_of(&host, "GetLoginProfile")[0];
    assert_eq!(
        login.params,
        [
            ("Action", "GetLoginProfile"),
            ("Version", "2010-05-08"),
            ("UserName", "alice")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let keys = &calls_of(&host, "ListAccessKeys")[1];
    assert_eq!(
        (
            keys.param("UserName"),
            keys.param("MaxItems"),
            keys.param("Marker")
        ),
        (Some("svc+deploy=bot@corp.example"), Some("2"), None)
    );
    let group_calls: Vec<_> = calls_of(&host, "ListAttachedGroupPolicies")
        .iter()
        .map(|c| c.param("GroupName").unwrap().to_owned())
        .collect();
    assert_eq!(group_calls, ["Developers", "ReadOnly"]);
}

#[test]
fn an_enriched_event_has_the_exact_fields() {
    /// GetAccessKeyLastUsed.used-authmode.xml's `LastUsedDate`, in whole seconds.
    const LAST_USED: i64 = 1_795_967_610_000;
    let host = ScriptedHost::new(account);
    let (events, _) = collect_all(&host);
    let privileges = json!(["dev-inline", "DevS3Access"]);
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
                    { "uid": "arn:aws:iam::123456789012:group/engineering/Developers", "name": "Developers",
                      "privileges": privileges },
                    { "uid": "arn:aws:iam::123456789012:group/ReadOnly", "name": "ReadOnly",
                      "privileges": privileges }
                ],
                "programmatic_credentials": [
                    { "uid": "AKIARZPUZDIKE6K4PT5N", "type": "AWS Access Key", "last_used_time": LAST_USED },
                    { "uid": "AKIARZPUZDIKHUHSNSTI", "type": "AWS Access Key", "last_used_time": LAST_USED },
                    { "uid": "APKA4AHOUWLO5ODV50JK", "type": "SSH Public Key" }
                ],
                "account": { "uid": "111122223333", "name": "demo-sandbox", "type": "AWS Account", "type_id": 10 },
                "risk_level": "Low", "risk_level_id": 1, "risk_score": 10
            },
            "enrichments": [
                { "name": "login", "value": "console", "data": { "is_enabled": false } },
                { "name": "access_key", "value": "AKIARZPUZDIKE6K4PT5N",
                  "data": { "is_enabled": true, "last_logon": "2026-11-29T15:53:30Z" } },
                { "name": "access_key", "value": "AKIARZPUZDIKHUHSNSTI",
                  "data": { "is_enabled": false, "last_logon": "2026-11-29T15:53:30Z" } },
                { "name": "risk_reason", "value": "USER.7: 3 policies attached directly to the user (CIS 1.15)",
                  "data": {} }
            ],
            "unmapped": {
                "path": "/r&d/",
                "created_time": 1_625_097_600_000_i64,
                "is_console_user": false,
                "mfa_devices": [
                    { "serial_number": "arn:aws:iam::123456789012:mfa/alice-mfa", "type": "virtual",
                      "enabled_time": 1_795_967_597_431_i64 }
                ],
                "access_keys_count": 2,
                "access_keys": [
                    { "access_key_id": "AKIARZPUZDIKE6K4PT5N", "status": "Active", "created_time": 1_795_967_597_409_i64,
                      "last_used_time": LAST_USED, "last_used_service": "iam", "last_used_region": "us-east-1",
                      "ever_used": true },
                    { "access_key_id": "AKIARZPUZDIKHUHSNSTI", "status": "Inactive", "created_time": 1_795_967_597_413_i64,
                      "last_used_time": LAST_USED, "last_used_service": "iam", "last_used_region": "us-east-1",
                      "ever_used": true }
                ],
                "tags": { "location": "東京", "empty": "" },
                "user_policies": ["bob-sqs"],
                "attached_policies": [
                    { "name": "DeployerAccess", "arn": "arn:aws:iam::123456789012:policy/DeployerAccess" },
                    { "name": "DevS3Access", "arn": "arn:aws:iam::123456789012:policy/custom/DevS3Access" }
                ],
                "admin": { "verdict": "not-admin" },
                "ssh_public_keys_count": 1,
                "ssh_public_keys": [
                    { "id": "APKA4AHOUWLO5ODV50JK", "status": "Active", "upload_time": 1_795_967_597_741_i64 }
                ],
                "signing_certificates_count": 0,
                "signing_certificates": [],
                "service_specific_credentials_count": 0,
                "service_specific_credentials": [],
                "risk_reasons": [
                    { "rule": "USER.7", "cis": "1.15", "level": "Low",
                      "text": "3 policies attached directly to the user (CIS 1.15)" }
                ]
            }
        })
    );
    assert_eq!(events[0]["unmapped"]["is_console_user"], json!(true));
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
        ("ListGroupsForUser", None) => xml(&groups_page(&["g1", "g2"], Some("p2"))),
        ("ListGroupsForUser", Some("p2")) => xml(&groups_page(&["g3"], None)),
        _ => account(call),
    });
    let page = first_page(&host);
    assert_eq!(page.cursor, None);
    let event = ocsf_schema::assert_valid_event(&page.events[0]);
    let groups: Vec<_> = event["user"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["g1", "g2", "g3"]);
    let marker_calls: Vec<_> = calls_of(&host, "ListGroupsForUser")
        .iter()
        .map(|c| c.param("Marker").map(str::to_owned))
        .collect();
    assert_eq!(marker_calls, [None, Some("p2".to_owned())]);
}

#[test]
fn a_failing_enrichment_call_leaves_its_field_out_and_keeps_the_user() {
    let host = ScriptedHost::new(|call| match (call.action(), call.param("UserName")) {
        ("ListMFADevices", Some("alice")) => {
            Ok(response(403, &fixture("synthetic/Error.AccessDenied.xml")))
        }
        ("ListServiceSpecificCredentials", _) => Ok(response(
            500,
            &fixture("moto/ListServiceSpecificCredentials.alice.moto-500-html.xml"),
        )),
        _ => account(call),
    });
    let page = first_page(&host);
    assert_eq!(page.events.len(), 2);
    let alice = ocsf_schema::assert_valid_event(&page.events[0]);
    assert_eq!(alice["user"].get("has_mfa"), None);
    assert_eq!(
        alice["unmapped"].get("service_specific_credentials_count"),
        None
    );
    assert_eq!(alice["user"]["groups"].as_array().unwrap().len(), 2);
    assert_eq!(
        alice["unmapped"]["collection_errors"],
        json!([
            { "action": "ListMFADevices", "code": "AccessDenied" },
            { "action": "ListServiceSpecificCredentials", "code": "MalformedResponse" }
        ])
    );
    let svc = ocsf_schema::assert_valid_event(&page.events[1]);
    assert_eq!(svc["user"]["has_mfa"], json!(true));
    assert_eq!(
        page.stats.errors,
        [
            ActionErrors {
                action: "ListMFADevices".into(),
                code: "AccessDenied".into(),
                count: 1
            },
            ActionErrors {
                action: "ListServiceSpecificCredentials".into(),
                code: "MalformedResponse".into(),
                count: 2
            },
        ]
    );
    // The HTML 500 is retried (3 attempts per user); the denial is not.
    assert_eq!(calls_of(&host, "ListServiceSpecificCredentials").len(), 6);
    assert_eq!(calls_of(&host, "ListMFADevices").len(), 2);
    assert_eq!(page.stats.api_calls, 43 + 4);
    let logs: Vec<_> = host
        .logs
        .borrow()
        .iter()
        .filter(|(level, _)| *level == Level::Warn)
        .cloned()
        .collect();
    assert_eq!(logs.len(), 3);
    assert!(logs.iter().any(|(_, m)| m.starts_with(
        "user \"alice\": ListMFADevices failed: HTTP 403 AccessDenied: User: arn:aws:iam::111122223333:user/auditor"
    ) && m.ends_with("; user.has_mfa left out")));
    assert!(logs.iter().any(|(_, m)| m
        == "user \"svc+deploy=bot@corp.example\": ListServiceSpecificCredentials returned an unreadable response \
            (HTTP 500): not XML: an HTML page (\"500 Internal Server Error\"); \
            unmapped.service_specific_credentials left out"));
}

#[test]
fn repeated_failures_are_logged_a_few_times_then_counted() {
    let five_users = format!(
        "<ListUsersResponse><ListUsersResult><Users>{}</Users></ListUsersResult></ListUsersResponse>",
        (1..=5)
            .map(|i| format!(
                "<member><Path>/</Path><UserName>u{i}</UserName><UserId>AIDA{i}</UserId>\
                 <Arn>arn:aws:iam::111122223333:user/u{i}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
            ))
            .collect::<String>()
    );
    let host = ScriptedHost::new(move |call| match call.action() {
        "ListUsers" => xml(&five_users),
        "ListUserTags" => api_error(403, "AccessDenied"),
        _ => account(call),
    });
    let page = first_page(&host);
    assert_eq!(page.events.len(), 5);
    let warnings: Vec<String> = host
        .logs
        .borrow()
        .iter()
        .filter(|(level, _)| *level == Level::Warn)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(warnings[..3]
        .iter()
        .all(|w| w.contains("ListUserTags failed: HTTP 403 AccessDenied")));
    assert_eq!(
        warnings[3],
        "ListUserTags failed with AccessDenied for 2 more users on this page; those fields are left out"
    );
    assert_eq!(
        page.stats.errors,
        [ActionErrors {
            action: "ListUserTags".into(),
            code: "AccessDenied".into(),
            count: 5
        }]
    );
}

#[test]
fn a_user_deleted_during_the_run_is_skipped_not_an_error() {
    let host = ScriptedHost::new(|call| match (call.action(), call.param("UserName")) {
        (action, Some("alice")) if action != "GetLoginProfile" => Ok(response(
            404,
            &fixture("moto/Error.NoSuchEntity.GetUser.xml"),
        )),
        _ => account(call),
    });
    let page = first_page(&host);
    let names: Vec<_> = page
        .events
        .iter()
        .map(|e| ocsf_schema::assert_valid_event(e)["user"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("svc+deploy=bot@corp.example")]);
    assert_eq!((page.stats.users, page.stats.skipped_users), (2, 1));
    assert_eq!(page.stats.errors, []);
    assert_eq!(
        *host.logs.borrow(),
        [(
            Level::Info,
            "user \"alice\" was deleted during the collection (NoSuchEntity); skipped".to_owned()
        )]
    );
}

#[test]
fn a_group_whose_policies_cannot_be_read_has_no_privileges_and_is_looked_up_once() {
    let host = ScriptedHost::new(|call| match (call.action(), call.param("GroupName")) {
        ("ListAttachedGroupPolicies", Some("ReadOnly")) => api_error(403, "AccessDenied"),
        _ => account(call),
    });
    let (events, stats) = collect_all(&host);
    for event in &events {
        assert_eq!(
            event["user"]["groups"][0]["privileges"],
            json!(["dev-inline", "DevS3Access"])
        );
        assert_eq!(event["user"]["groups"][1]["name"], json!("ReadOnly"));
        assert_eq!(event["user"]["groups"][1].get("privileges"), None);
        assert_eq!(
            event["unmapped"]["collection_errors"],
            json!([{ "action": "ListAttachedGroupPolicies", "code": "AccessDenied" }])
        );
    }
    let counted: Vec<_> = stats.iter().map(|s| s.errors.clone()).collect();
    let denied = |count| {
        vec![ActionErrors {
            action: "ListAttachedGroupPolicies".into(),
            code: "AccessDenied".into(),
            count,
        }]
    };
    assert_eq!(counted, [denied(2), denied(1)]);
    assert_eq!(calls_of(&host, "ListAttachedGroupPolicies").len(), 2);
    assert_eq!(host.logs.borrow().len(), 1, "{:?}", host.logs.borrow());
}

#[test]
fn an_unreadable_account_summary_is_a_warning() {
    let host = ScriptedHost::new(|call| match call.action() {
        "GetAccountSummary" => api_error(403, "AccessDenied"),
        _ => account(call),
    });
    let page = first_page(&host);
    assert_eq!((page.events.len(), page.stats.account_users), (2, None));
    assert_eq!(
        host.logs.borrow()[0],
        (
            Level::Warn,
            "GetAccountSummary failed: HTTP 403 AccessDenied: AccessDenied for the test; the account's user count is unknown"
                .to_owned()
        )
    );
}

#[test]
fn a_transport_failure_on_enrichment_is_counted() {
    let host = ScriptedHost::new(|call| match call.action() {
        "ListGroupsForUser" => Err(TransportError::Network("connection reset".into())),
        _ => account(call),
    });
    let page = first_page(&host);
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
    let host = ScriptedHost::new(|call| match call.action() {
        "GetAccountSummary" => account(call),
        _ => Ok(response(
            403,
            &fixture("moto/Error.SignatureDoesNotMatch.authmode.xml"),
        )),
    });
    let err = collect(&host, SETTINGS, None, None, &mut CollectionState::default()).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Api(e) if e.code == "SignatureDoesNotMatch" && e.status == 403)
    );
    assert_eq!(
        host.actions(),
        ["GetAccountSummary", "ListAccountAliases", "ListUsers"]
    );
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
    let mut groups = CollectionState::default();
    let host = ScriptedHost::new(|call| match call.action() {
        "ListUsers" => xml(&list_users_page(true, None)),
        _ => account(call),
    });
    assert_eq!(
        collect(&host, SETTINGS, None, None, &mut groups).unwrap_err().to_string(),
        "ListUsers returned an unreadable response (HTTP 200): IsTruncated is true but no Marker was returned"
    );
    let host = ScriptedHost::new(|call| match call.action() {
        "ListUsers" => xml(&list_users_page(true, Some("same"))),
        _ => account(call),
    });
    let first = collect(&host, SETTINGS, None, None, &mut groups).unwrap();
    assert_eq!(first.events.len(), 0);
    let err = collect(&host, SETTINGS, first.cursor.as_deref(), None, &mut groups).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ListUsers returned an unreadable response (HTTP 200): Marker \"same\" was returned twice"
    );
}

#[test]
fn settings_and_cursor_are_validated_before_any_call() {
    let host = ScriptedHost::new(account);
    let mut groups = CollectionState::default();
    let err = collect(
        &host,
        Settings {
            max_items: 1001,
            ..SETTINGS
        },
        None,
        None,
        &mut groups,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid settings: max-items must be between 1 and 1000 (IAM's MaxItems range), got 1001"
    );
    assert!(matches!(
        collect(&host, SETTINGS, Some("garbage"), None, &mut groups),
        Err(ConnectorError::InvalidCursor(_))
    ));
    assert!(host.calls.borrow().is_empty());
}

/// A ListUsers page of `n` users `u0000`…, one page.
fn many_users(n: usize) -> String {
    let members: String = (0..n)
        .map(|i| {
            format!(
                "<member><Path>/</Path><UserName>u{i:04}</UserName><UserId>AIDA{i:04}</UserId>\
                 <Arn>arn:aws:iam::111122223333:user/u{i:04}</Arn>\
                 <CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
            )
        })
        .collect();
    format!(
        "<ListUsersResponse><ListUsersResult><Users>{members}</Users>\
         <IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>"
    )
}

#[test]
fn a_page_cut_short_by_its_time_budget_resumes_exactly() {
    let page = many_users(600);
    let host = ScriptedHost::new(move |call| match call.action() {
        "ListUsers" => xml(&page),
        _ => account(call),
    });
    // Every batch of calls takes 1 s on the host's clock; a page may work 20 s.
    host.ms_per_batch.set(1_000);
    let settings = Settings {
        time_budget_ms: 20_000,
        max_items: 1000,
        ..SETTINGS
    };
    let mut state = CollectionState::default();
    let mut cursor: Option<String> = None;
    let mut names = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = collect(&host, settings, cursor.as_deref(), None, &mut state).unwrap();
        names.extend(page.events.iter().map(|e| {
            ocsf_schema::assert_valid_event(e)["user"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        }));
        pages.push(page.stats.users);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // The first call: 50 users to measure, then as many as four fifths of the rest of the
    // budget holds (it also looks the groups and managed policies up); the next ones size
    // their chunks by that measure from their start.
    assert_eq!(pages, [124, 197, 197, 82]);
    let expected: Vec<String> = (0..600).map(|i| format!("u{i:04}")).collect();
    assert_eq!(names, expected, "each user once, in order");
    // The same page was listed four times, from the start (no Marker).
    let list_users = calls_of(&host, "ListUsers");
    assert_eq!(list_users.len(), 4);
    assert!(list_users.iter().all(|c| c.param("Marker").is_none()));
    // A fresh instance resumes from the cursor alone.
    let first = collect(&host, settings, None, None, &mut CollectionState::default()).unwrap();
    let cursor = Cursor::decode(first.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        cursor.within,
        Some(Within {
            done: 124,
            last_user: "u0123".into()
        })
    );
    let second = collect(
        &host,
        settings,
        Some(&cursor.encode()),
        None,
        &mut CollectionState::default(),
    )
    .unwrap();
    let first_of_second = ocsf_schema::assert_valid_event(&second.events[0]);
    assert_eq!(first_of_second["user"]["name"], json!("u0124"));
}

#[test]
fn without_a_budget_a_page_is_never_cut() {
    let page = many_users(600);
    let host = ScriptedHost::new(move |call| match call.action() {
        "ListUsers" => xml(&page),
        _ => account(call),
    });
    host.ms_per_batch.set(1_000);
    let settings = Settings {
        max_items: 1000,
        ..SETTINGS
    };
    let page = collect(&host, settings, None, None, &mut CollectionState::default()).unwrap();
    assert_eq!((page.stats.users, page.cursor), (600, None));
}
