//! Checks an emitted event against the OCSF 1.6.0 JSON Schema of class 5003, plus what
//! JSON Schema cannot express: `type_uid` arithmetic, captions agreeing with their ids,
//! timestamps in milliseconds, and no `null` anywhere (including `unmapped`).
//!
//! Used by the component's unit tests and the end-to-end tests.

use std::sync::OnceLock;

use serde_json::Value;

static SCHEMA: &str = include_str!("../../fixtures/ocsf/ocsf-1.6.0-user_inventory.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    })
}

/// 2000-01-01 and 2100-01-01 in ms: a timestamp outside is not in ms (or not plausible).
const MS_RANGE: std::ops::Range<i64> = 946_684_800_000..4_102_444_800_000;

/// An id's path, its caption's path, and the (id, caption) pairs allowed.
type Caption = (&'static str, &'static str, &'static [(i64, &'static str)]);

/// Every problem found in `event`; empty when it is a valid User Inventory Info event.
pub fn event_problems(event: &Value) -> Vec<String> {
    let mut problems: Vec<String> = validator()
        .iter_errors(event)
        .map(|e| format!("schema: {}: {e}", e.instance_path()))
        .collect();
    let int = |path: &str| event.pointer(path).and_then(Value::as_i64);
    let text = |path: &str| event.pointer(path).and_then(Value::as_str);
    let (class, activity) = (int("/class_uid"), int("/activity_id"));
    if let (Some(class), Some(activity)) = (class, activity) {
        if int("/type_uid") != Some(class * 100 + activity) {
            problems.push(format!(
                "type_uid is not class_uid*100+activity_id ({class}, {activity})"
            ));
        }
    }
    // Each id with the captions OCSF 1.6.0 gives the values this connector emits.
    let captions: [Caption; 8] = [
        ("/activity_id", "/activity_name", &[(2, "Collect")]),
        ("/category_uid", "/category_name", &[(5, "Discovery")]),
        (
            "/class_uid",
            "/class_name",
            &[(5003, "User Inventory Info")],
        ),
        ("/severity_id", "/severity", &[(1, "Informational")]),
        (
            "/type_uid",
            "/type_name",
            &[(500302, "User Inventory Info: Collect")],
        ),
        (
            "/user/type_id",
            "/user/type",
            &[(0, "Unknown"), (1, "User"), (2, "Admin")],
        ),
        (
            "/user/account/type_id",
            "/user/account/type",
            &[(10, "AWS Account")],
        ),
        (
            "/user/risk_level_id",
            "/user/risk_level",
            &[
                (0, "Info"),
                (1, "Low"),
                (2, "Medium"),
                (3, "High"),
                (4, "Critical"),
            ],
        ),
    ];
    for (id_path, caption_path, allowed) in captions {
        match (int(id_path), text(caption_path)) {
            (None, None) => {}
            (Some(found), Some(found_caption)) if allowed.contains(&(found, found_caption)) => {}
            other => problems.push(format!(
                "{id_path}/{caption_path} should be one of {allowed:?}, got {other:?}"
            )),
        }
    }
    let mut timestamps: Vec<(String, &Value)> = [
        "/time",
        "/metadata/processed_time",
        "/unmapped/created_time",
        "/unmapped/password_last_used_time",
        "/unmapped/password_last_changed_time",
        "/unmapped/credential_report_time",
    ]
    .iter()
    .filter_map(|path| Some((path.to_string(), event.pointer(path)?)))
    .collect();
    // Every `*_time` inside the lists.
    for list in [
        "/user/programmatic_credentials",
        "/unmapped/access_keys",
        "/unmapped/mfa_devices",
        "/unmapped/ssh_public_keys",
        "/unmapped/signing_certificates",
        "/unmapped/service_specific_credentials",
    ] {
        for (i, item) in event
            .pointer(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (key, value) in item.as_object().into_iter().flatten() {
                if key.ends_with("_time") {
                    timestamps.push((format!("{list}/{i}/{key}"), value));
                }
            }
        }
    }
    for (path, ms) in timestamps {
        if !ms.as_i64().is_some_and(|ms| MS_RANGE.contains(&ms)) {
            problems.push(format!("{path} is not a timestamp in ms: {ms}"));
        }
    }
    find_nulls(event, String::new(), &mut problems);
    problems
}

fn find_nulls(value: &Value, path: String, problems: &mut Vec<String>) {
    match value {
        Value::Null => problems.push(format!("{path} is null (OCSF never allows null)")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nulls(item, format!("{path}/{i}"), problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                find_nulls(item, format!("{path}/{key}"), problems);
            }
        }
        _ => {}
    }
}

/// Parses one emitted event and panics with every problem if it is not valid.
pub fn assert_valid_event(json: &str) -> Value {
    let event: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    let problems = event_problems(&event);
    assert!(
        problems.is_empty(),
        "invalid OCSF event:\n{}\n{json}",
        problems.join("\n")
    );
    event
}
