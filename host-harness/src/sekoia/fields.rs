//! What of an event is pushed: the fields of Sekoia's `UserOCSFModel`, as
//! `model_dump(exclude_none=True)` keeps them.
//!
//! `user_fields.json` is the model's field tree, generated from the pinned
//! `sekoia-automation-models` by `tests/peer/sekoia_models.py --fields` (a test compares
//! them): an object is a model (its fields), `true` a value kept whole (scalars, enums, lists
//! of scalars), `[object]` a list of models. [`reduce`] keeps of an event the fields the tree
//! names and leaves out `null`s, as the dump does. A value of another shape than the tree's
//! (a string where a model is expected) is kept as it is, so Sekoia's validation refuses it as
//! it would the whole event.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The field tree of `UserOCSFModel`.
pub const USER_FIELDS_JSON: &str = include_str!("user_fields.json");

fn tree() -> &'static Value {
    static TREE: OnceLock<Value> = OnceLock::new();
    TREE.get_or_init(|| {
        serde_json::from_str(USER_FIELDS_JSON).expect("user_fields.json is a JSON field tree")
    })
}

/// `event` reduced to what Sekoia keeps of it.
pub fn reduce(event: &Value) -> Value {
    reduce_with(event, tree())
}

fn reduce_with(value: &Value, node: &Value) -> Value {
    match (node, value) {
        (Value::Object(fields), Value::Object(object)) => {
            let mut kept = Map::new();
            for (name, item) in object {
                if item.is_null() {
                    continue;
                }
                if let Some(child) = fields.get(name) {
                    kept.insert(name.clone(), reduce_with(item, child));
                }
            }
            Value::Object(kept)
        }
        (Value::Array(inner), Value::Array(items)) => match inner.first() {
            Some(child) => {
                Value::Array(items.iter().map(|item| reduce_with(item, child)).collect())
            }
            None => value.clone(),
        },
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_models_fields_and_drops_the_rest_and_nulls() {
        let event = json!({
            "activity_id": 2,
            "time": 1552555613000u64,
            "severity": null,
            "metadata": {"version": "1.6.0", "processed_time": 1, "product": {"name": "AWS IAM", "extra": 1}},
            "user": {
                "uid": "arn:aws:iam::123456789012:user/alice",
                "name": "alice",
                "programmatic_credentials": [{"uid": "AKIA…"}],
                "groups": [{"name": "Admins", "privileges": ["Admin", "x"], "members": 3}],
                "account": {"name": "demo", "type_id": 10, "type": "AWS Account", "uid": "123456789012"},
            },
            "enrichments": [{"name": "login", "value": "console", "data": {"is_enabled": true, "other": 1}}],
            "unmapped": {"tags": {"note": "private"}},
        });
        assert_eq!(
            reduce(&event),
            json!({
                "activity_id": 2,
                "time": 1552555613000u64,
                "metadata": {"version": "1.6.0", "product": {"name": "AWS IAM"}},
                "user": {
                    "uid": "arn:aws:iam::123456789012:user/alice",
                    "name": "alice",
                    "groups": [{"name": "Admins", "privileges": ["Admin", "x"]}],
                    "account": {"name": "demo", "type_id": 10, "type": "AWS Account", "uid": "123456789012"},
                },
                "enrichments": [{"name": "login", "value": "console", "data": {"is_enabled": true}}],
            })
        );
    }

    #[test]
    fn a_value_of_another_shape_is_kept_for_sekoia_to_refuse() {
        let event = json!({"user": "not an object", "enrichments": {"a": 1}, "unmapped": 1});
        assert_eq!(
            reduce(&event),
            json!({"user": "not an object", "enrichments": {"a": 1}})
        );
        assert_eq!(reduce(&json!([1])), json!([1]));
    }
}
