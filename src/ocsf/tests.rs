use serde_json::{json, Value};

use super::*;
use crate::model::{AccessKey, CollectionError, Group, Tag, User};
use crate::test_support::{fixture, ocsf_schema, NOW_MS};

/// A record from one of the seed document's "API Response Examples" (the IAM fields as
/// the AWS SDK names them, with the per-user call results merged in).
fn record_from_seed_example(example: &Value) -> UserRecord {
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    let ms = |v: &Value| v.as_str().and_then(crate::model::timestamp_ms);
    let mut record = UserRecord::new(User {
        name: text(&example["UserName"]),
        id: text(&example["UserId"]),
        arn: text(&example["Arn"]),
        path: text(&example["Path"]),
        created_ms: ms(&example["CreateDate"]),
        password_last_used_ms: ms(&example["PasswordLastUsed"]),
    });
    let list = |key: &str| example[key].as_array().unwrap().clone();
    record.access_keys = Some(
        list("AccessKeys")
            .iter()
            .map(|k| AccessKey {
                id: text(&k["AccessKeyId"]),
                status: text(&k["Status"]),
                created_ms: ms(&k["CreateDate"]),
                last_used: None,
            })
            .collect(),
    );
    record.has_mfa = Some(!list("MFADevices").is_empty());
    // The examples carry no policy: the administrator rule finds none that grants.
    record.admin = Some(crate::policy::assess(&[], None));
    record.console_access = example["ConsoleAccessEnabled"].as_bool();
    record.tags = Some(
        list("Tags")
            .iter()
            .map(|t| Tag {
                key: text(&t["Key"]),
                value: text(&t["Value"]),
            })
            .collect(),
    );
    record
}

fn event_json(record: &UserRecord) -> Value {
    let context = Context {
        processed_time: NOW_MS,
        account_alias: None,
        credential_report_time: None,
    };
    ocsf_schema::assert_valid_event(&to_json(&user_inventory_info(record, &context)))
}

/// A seed example with its risk judged at [`NOW_MS`].
fn seed_example(name: &str) -> UserRecord {
    let examples: Value =
        serde_json::from_str(&fixture("seed/api-response-examples.json")).unwrap();
    let mut record = record_from_seed_example(&examples[name]);
    record.risk = Some(crate::risk::assess(&crate::facts::user_facts(
        &record, NOW_MS,
    )));
    record
}

fn expected(name: &str) -> Value {
    let path = format!("ocsf/expected/{name}.json");
    if std::env::var_os("AWS_IAM_USERS_WRITE_EXPECTED").is_some() {
        // Regenerates the file from the current mapping (review the diff before committing).
        let event = event_json(&seed_example(name));
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(&path);
        std::fs::write(full, serde_json::to_string_pretty(&event).unwrap() + "\n").unwrap();
    }
    serde_json::from_str(&fixture(&path)).unwrap()
}

#[test]
fn seed_programmatic_user_maps_to_the_exact_event() {
    assert_eq!(
        event_json(&seed_example("programmatic_user")),
        expected("programmatic_user")
    );
}

#[test]
fn seed_console_user_maps_to_the_exact_event() {
    assert_eq!(
        event_json(&seed_example("console_user")),
        expected("console_user")
    );
}

fn listed_only() -> UserRecord {
    UserRecord::new(User {
        name: "peggy.o-neil_2".into(),
        id: "AIDAEXAMPLEPEGGY00001".into(),
        arn: "arn:aws-us-gov:iam::111122223333:user/r&d/peggy.o-neil_2".into(),
        path: "/r&d/".into(),
        created_ms: Some(1_591_264_800_000),
        password_last_used_ms: None,
    })
}

#[test]
fn unknown_fields_are_left_out_never_false_or_empty() {
    let event = event_json(&listed_only());
    assert_eq!(
        event["user"],
        json!({
            "uid": "arn:aws-us-gov:iam::111122223333:user/r&d/peggy.o-neil_2",
            "uid_alt": "AIDAEXAMPLEPEGGY00001",
            "name": "peggy.o-neil_2",
            "type": "Unknown",
            "type_id": 0,
            "account": {
                "uid": "111122223333",
                "name": "111122223333",
                "type": "AWS Account",
                "type_id": 10
            }
        })
    );
    assert_eq!(
        event["unmapped"],
        json!({ "path": "/r&d/", "created_time": 1_591_264_800_000_i64 })
    );
}

#[test]
fn groups_and_known_empty_lists() {
    let mut record = listed_only();
    record.groups = Some(vec![
        Group {
            name: "Developers".into(),
            arn: "arn:aws:iam::111122223333:group/engineering/Developers".into(),
            privileges: Some(vec!["dev-inline".into(), "DevS3Access".into()]),
        },
        Group {
            name: "R&D <core>".into(),
            arn: "arn:aws:iam::111122223333:group/R&D".into(),
            privileges: None,
        },
    ]);
    record.has_mfa = Some(false);
    record.access_keys = Some(vec![]);
    record.tags = Some(vec![]);
    let event = event_json(&record);
    assert_eq!(
        event["user"]["groups"],
        json!([
            {
                "uid": "arn:aws:iam::111122223333:group/engineering/Developers",
                "name": "Developers",
                "privileges": ["dev-inline", "DevS3Access"]
            },
            { "uid": "arn:aws:iam::111122223333:group/R&D", "name": "R&D <core>" }
        ])
    );
    assert_eq!(event["user"]["has_mfa"], json!(false));
    assert_eq!(event["user"]["programmatic_credentials"], json!([]));
    assert_eq!(event["unmapped"]["access_keys_count"], json!(0));
    assert_eq!(event["unmapped"]["tags"], json!({}));
}

#[test]
fn failed_calls_are_listed_and_their_fields_absent() {
    let mut record = listed_only();
    record.groups = Some(vec![]);
    record.errors = vec![CollectionError {
        action: "ListMFADevices".into(),
        code: "AccessDenied".into(),
    }];
    let event = event_json(&record);
    assert_eq!(event["user"].get("has_mfa"), None);
    assert_eq!(event["user"]["groups"], json!([]));
    assert_eq!(
        event["unmapped"]["collection_errors"],
        json!([{ "action": "ListMFADevices", "code": "AccessDenied" }])
    );
}

#[test]
fn unreadable_create_date_falls_back_to_processing_time() {
    let mut record = listed_only();
    record.user.created_ms = None;
    let event = event_json(&record);
    assert_eq!(event["time"], json!(NOW_MS));
    assert_eq!(event["unmapped"].get("created_time"), None);
}

#[test]
fn an_unreadable_arn_leaves_the_account_out() {
    let mut record = listed_only();
    record.user.arn = "not-an-arn".into();
    let event = event_json(&record);
    assert_eq!(event["user"].get("account"), None);
    assert_eq!(event["user"]["uid"], json!("not-an-arn"));
}

#[test]
fn the_validator_rejects_the_seed_documents_sample_event() {
    let sample: Value =
        serde_json::from_str(&fixture("ocsf/seed-sample-event.invalid.json")).unwrap();
    let problems = ocsf_schema::event_problems(&sample);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("/user/account/type_id") && p.contains("40")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("schema: /user: Additional properties")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("/time is not a timestamp in ms")),
        "{problems:#?}"
    );
}
