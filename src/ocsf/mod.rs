//! OCSF 1.6.0 "User Inventory Info" (class_uid 5003) events from [`UserRecord`]s.
//!
//! Attribute names are the schema's. Fields OCSF has no attribute for go under `unmapped`.
//! OCSF never allows `null`: anything unknown is left out, never written as false/0/empty.
//! Lists IAM returns in no guaranteed order (groups, policies) are sorted by name, so the
//! same account gives the same event whatever the strategy.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::arn::Arn;
use crate::model::UserRecord;

/// OCSF schema version of every event (`metadata.version`).
pub const OCSF_VERSION: &str = "1.6.0";
/// `category_uid`: Discovery.
pub const CATEGORY_UID: u32 = 5;
/// `class_uid`: User Inventory Info.
pub const CLASS_UID: u32 = 5003;
/// `activity_id`: Collect.
pub const ACTIVITY_COLLECT: u32 = 2;
/// `type_uid` = `class_uid * 100 + activity_id`.
pub const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_COLLECT;
/// `user.type_id`: User (the OCSF enum's 1; 2 is Admin, 3 System).
pub const USER_TYPE_USER: u32 = 1;
/// `account.type_id`: AWS Account.
pub const ACCOUNT_TYPE_AWS: u32 = 10;
/// `severity_id`: Informational.
pub const SEVERITY_INFORMATIONAL: u32 = 1;

/// One User Inventory Info event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInventoryInfo {
    pub activity_id: u32,
    pub activity_name: &'static str,
    pub category_name: &'static str,
    pub category_uid: u32,
    pub class_name: &'static str,
    pub class_uid: u32,
    pub type_name: &'static str,
    pub type_uid: u32,
    pub severity: &'static str,
    pub severity_id: u32,
    /// The user's `CreateDate`, ms since the Unix epoch (OCSF timestamp_t); the processing
    /// time when `CreateDate` could not be read.
    pub time: i64,
    pub metadata: Metadata,
    pub user: OcsfUser,
    pub unmapped: Unmapped,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    /// OCSF schema version, `1.6.0`.
    pub version: &'static str,
    pub product: Product,
    /// When the event was built, ms since the Unix epoch.
    pub processed_time: i64,
}

/// `metadata.product`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub name: &'static str,
    pub vendor_name: &'static str,
    /// IAM is a managed service without a version.
    pub version: &'static str,
}

/// `user`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcsfUser {
    /// The user's `Arn`.
    pub uid: String,
    /// The user's `UserId` (`AIDA…`).
    pub uid_alt: String,
    /// `UserName`.
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: &'static str,
    pub type_id: u32,
    /// Any MFA device listed; absent when ListMFADevices failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_mfa: Option<bool>,
    /// From ListGroupsForUser; absent when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<OcsfGroup>>,
    /// From ListAccessKeys; absent when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programmatic_credentials: Option<Vec<ProgrammaticCredential>>,
    /// The account from the user's ARN; absent when the ARN is unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
}

/// `user.groups[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcsfGroup {
    /// The group's `Arn`.
    pub uid: String,
    /// `GroupName`.
    pub name: String,
    /// Names of the group's inline and attached policies; absent when they could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<Vec<String>>,
}

/// `user.programmatic_credentials[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgrammaticCredential {
    /// `AccessKeyId`.
    pub uid: String,
    #[serde(rename = "type")]
    pub type_name: &'static str,
}

/// `user.account`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// 12-digit account id.
    pub uid: String,
    #[serde(rename = "type")]
    pub type_name: &'static str,
    pub type_id: u32,
}

/// `unmapped`: IAM facts OCSF has no attribute for, named as the product documents them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmapped {
    /// `Path`.
    pub path: String,
    /// `CreateDate`, ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// `PasswordLastUsed`, ms since the Unix epoch; absent when never used or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_last_used_time: Option<i64>,
    /// GetLoginProfile found a console password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_console_user: Option<bool>,
    /// Number of access keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_keys_count: Option<usize>,
    /// Access keys with their status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_keys: Option<Vec<AccessKeyInfo>>,
    /// Tags as `{Key: Value}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Names of the user's inline policies (ListUserPolicies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_policies: Option<Vec<String>>,
    /// Managed policies attached to the user (ListAttachedUserPolicies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_policies: Option<Vec<AttachedPolicyInfo>>,
    /// Number of SSH public keys (ListSSHPublicKeys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_public_keys_count: Option<u32>,
    /// Number of X.509 signing certificates (ListSigningCertificates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_certificates_count: Option<u32>,
    /// Number of service-specific credentials (ListServiceSpecificCredentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_specific_credentials_count: Option<u32>,
    /// Calls that failed for this user; the fields they feed are absent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collection_errors: Vec<CollectionErrorInfo>,
}

/// `unmapped.attached_policies[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachedPolicyInfo {
    /// `PolicyName`.
    pub name: String,
    /// `PolicyArn`.
    pub arn: String,
}

/// `unmapped.access_keys[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
}

/// `unmapped.collection_errors[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectionErrorInfo {
    pub action: String,
    pub code: String,
}

/// Maps one record to its event; `processed_time` is ms since the Unix epoch.
pub fn user_inventory_info(record: &UserRecord, processed_time: i64) -> UserInventoryInfo {
    let user = &record.user;
    UserInventoryInfo {
        activity_id: ACTIVITY_COLLECT,
        activity_name: "Collect",
        category_name: "Discovery",
        category_uid: CATEGORY_UID,
        class_name: "User Inventory Info",
        class_uid: CLASS_UID,
        type_name: "User Inventory Info: Collect",
        type_uid: TYPE_UID,
        severity: "Informational",
        severity_id: SEVERITY_INFORMATIONAL,
        time: user.created_ms.unwrap_or(processed_time),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "AWS IAM",
                vendor_name: "Amazon",
                version: "N/A",
            },
            processed_time,
        },
        user: OcsfUser {
            uid: user.arn.clone(),
            uid_alt: user.id.clone(),
            name: user.name.clone(),
            type_name: "User",
            type_id: USER_TYPE_USER,
            has_mfa: record.has_mfa,
            groups: record.groups.as_ref().map(|groups| {
                let mut groups: Vec<OcsfGroup> = groups
                    .iter()
                    .map(|g| OcsfGroup {
                        uid: g.arn.clone(),
                        name: g.name.clone(),
                        privileges: g.privileges.clone(),
                    })
                    .collect();
                groups.sort_by(|a, b| a.name.cmp(&b.name));
                groups
            }),
            programmatic_credentials: record.access_keys.as_ref().map(|keys| {
                keys.iter()
                    .map(|k| ProgrammaticCredential {
                        uid: k.id.clone(),
                        type_name: "AWS Access Key",
                    })
                    .collect()
            }),
            account: Arn::parse(&user.arn).map(|arn| Account {
                uid: arn.account_id.to_owned(),
                type_name: "AWS Account",
                type_id: ACCOUNT_TYPE_AWS,
            }),
        },
        unmapped: Unmapped {
            path: user.path.clone(),
            created_time: user.created_ms,
            password_last_used_time: user.password_last_used_ms,
            is_console_user: record.console_access,
            access_keys_count: record.access_keys.as_ref().map(Vec::len),
            access_keys: record.access_keys.as_ref().map(|keys| {
                keys.iter()
                    .map(|k| AccessKeyInfo {
                        access_key_id: k.id.clone(),
                        status: k.status.clone(),
                        created_time: k.created_ms,
                    })
                    .collect()
            }),
            tags: record.tags.as_ref().map(|tags| {
                tags.iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect()
            }),
            user_policies: record.user_policies.as_ref().map(|names| {
                let mut names = names.clone();
                names.sort_unstable();
                names
            }),
            attached_policies: record.attached_policies.as_ref().map(|policies| {
                let mut policies: Vec<AttachedPolicyInfo> = policies
                    .iter()
                    .map(|p| AttachedPolicyInfo {
                        name: p.name.clone(),
                        arn: p.arn.clone(),
                    })
                    .collect();
                policies.sort_by(|a, b| a.name.cmp(&b.name));
                policies
            }),
            ssh_public_keys_count: record.ssh_public_keys,
            signing_certificates_count: record.signing_certificates,
            service_specific_credentials_count: record.service_specific_credentials,
            collection_errors: record
                .errors
                .iter()
                .map(|e| CollectionErrorInfo {
                    action: e.action.clone(),
                    code: e.code.clone(),
                })
                .collect(),
        },
    }
}

/// The event as one line of JSON.
pub fn to_json(event: &UserInventoryInfo) -> String {
    // Serializing these plain structs (strings, integers, maps with string keys) cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

#[cfg(test)]
mod tests;
