//! OCSF 1.6.0 "User Inventory Info" (class_uid 5003) events from [`UserRecord`]s.
//!
//! Attribute names are the schema's. Fields OCSF has no attribute for go under `unmapped`.
//! OCSF never allows `null`: anything unknown is left out, never written as false/0/empty.
//! Lists IAM returns in no guaranteed order (groups, policies) are sorted by name, so the
//! same account gives the same event whatever the strategy.

use std::collections::BTreeMap;

use serde::Serialize;

use time::macros::format_description;
use time::OffsetDateTime;

use crate::arn::Arn;
use crate::model::{
    AccessKey, CollectionError, Credential, LastUsed, RecordField, RootRecord, UserRecord,
};
use crate::policy::{AdminAssessment, Verdict};
use crate::risk::RiskAssessment;

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
/// `user.type_id`: Unknown (the administrator rule could not decide).
pub const USER_TYPE_UNKNOWN: u32 = 0;
/// `user.type_id`: User.
pub const USER_TYPE_USER: u32 = 1;
/// `user.type_id`: Admin (an effective administrator, or the root user).
pub const USER_TYPE_ADMIN: u32 = 2;
/// `account.type_id`: AWS Account.
pub const ACCOUNT_TYPE_AWS: u32 = 10;
/// `severity_id`: Informational.
pub const SEVERITY_INFORMATIONAL: u32 = 1;

/// The event attribute that carries `field`, as log messages name it (e.g.
/// `unmapped.is_console_user`).
pub fn attribute(field: RecordField) -> &'static str {
    match field {
        RecordField::Groups => "user.groups",
        RecordField::HasMfa => "user.has_mfa",
        RecordField::AccessKeys => "user.programmatic_credentials",
        RecordField::ConsoleAccess => "unmapped.is_console_user",
        RecordField::PermissionsBoundary => "unmapped.permissions_boundary",
        RecordField::Tags => "unmapped.tags",
        RecordField::UserPolicies => "unmapped.user_policies",
        RecordField::AttachedPolicies => "unmapped.attached_policies",
        RecordField::SshPublicKeys => "unmapped.ssh_public_keys",
        RecordField::SigningCertificates => "unmapped.signing_certificates",
        RecordField::ServiceSpecificCredentials => "unmapped.service_specific_credentials",
        RecordField::AccessKeyLastUsed => "user.programmatic_credentials[].last_used_time",
        RecordField::GroupPrivileges => "user.groups[].privileges",
        RecordField::PolicyDocument => {
            "a policy document (user.type_id is Unknown unless another policy decides)"
        }
        RecordField::AccountName => "user.account.name",
    }
}

/// One User Inventory Info event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInventoryInfo {
    /// OCSF `activity_id` (2: Collect).
    pub activity_id: u32,
    /// OCSF `activity_name`.
    pub activity_name: &'static str,
    /// OCSF `category_name`.
    pub category_name: &'static str,
    /// OCSF `category_uid` (5: Discovery).
    pub category_uid: u32,
    /// OCSF `class_name`.
    pub class_name: &'static str,
    /// OCSF `class_uid` (5003: User Inventory Info).
    pub class_uid: u32,
    /// OCSF `type_name`.
    pub type_name: &'static str,
    /// OCSF `type_uid` (500302).
    pub type_uid: u32,
    /// OCSF `severity`.
    pub severity: &'static str,
    /// OCSF `severity_id` (1: Informational).
    pub severity_id: u32,
    /// The user's `CreateDate`, ms since the Unix epoch (OCSF timestamp_t); the processing
    /// time when `CreateDate` could not be read.
    pub time: i64,
    /// OCSF `metadata`.
    pub metadata: Metadata,
    /// OCSF `user`.
    pub user: OcsfUser,
    /// The console login and each access key, and the fired risk rules, as Sekoia's asset
    /// models keep them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enrichments: Vec<Enrichment>,
    /// OCSF `unmapped`: facts the schema has no attribute for.
    pub unmapped: Unmapped,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    /// OCSF schema version, `1.6.0`.
    pub version: &'static str,
    /// OCSF `metadata.product`.
    pub product: Product,
    /// When the event was built, ms since the Unix epoch.
    pub processed_time: i64,
}

/// `metadata.product`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// OCSF `product.name`.
    pub name: &'static str,
    /// OCSF `product.vendor_name`.
    pub vendor_name: &'static str,
    /// IAM is a managed service without a version.
    pub version: &'static str,
}

/// `user`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcsfUser {
    /// The user's `Arn` (`arn:<partition>:iam::<account>:root` for the root user).
    pub uid: String,
    /// The user's `UserId` (`AIDA…`); absent for the root user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid_alt: Option<String>,
    /// `UserName` (`root` for the root user).
    pub name: String,
    /// `Admin`, `User` or `Unknown` (the administrator rule could not decide).
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// 2 Admin, 1 User, 0 Unknown.
    pub type_id: u32,
    /// Any MFA device enabled; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_mfa: Option<bool>,
    /// From ListGroupsForUser; absent when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<OcsfGroup>>,
    /// Access keys, then signing certificates, SSH public keys and service-specific
    /// credentials, each kind as far as it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programmatic_credentials: Option<Vec<ProgrammaticCredential>>,
    /// The account; absent when the ARN is unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// The highest fired rule's level caption (`Info` … `Critical`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<&'static str>,
    /// 0 Info, 1 Low, 2 Medium, 3 High, 4 Critical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_level_id: Option<u32>,
    /// 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<u32>,
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
    /// `AccessKeyId`, `CertificateId`, `SSHPublicKeyId` or `ServiceSpecificCredentialId`.
    pub uid: String,
    /// [`ACCESS_KEY`], [`SIGNING_CERTIFICATE`], [`SSH_PUBLIC_KEY`] or
    /// [`SERVICE_SPECIFIC_CREDENTIAL`].
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// Access keys only: the last use, ms since the Unix epoch (OCSF timestamp_t); absent
    /// when never used or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<i64>,
}

/// `programmatic_credentials[].type` of an access key.
pub const ACCESS_KEY: &str = "AWS Access Key";
/// `programmatic_credentials[].type` of an X.509 signing certificate.
pub const SIGNING_CERTIFICATE: &str = "X.509 Signing Certificate";
/// `programmatic_credentials[].type` of an SSH public key (CodeCommit).
pub const SSH_PUBLIC_KEY: &str = "SSH Public Key";
/// `programmatic_credentials[].type` of a service-specific credential.
pub const SERVICE_SPECIFIC_CREDENTIAL: &str = "Service-Specific Credential";

/// `user.account`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// 12-digit account id.
    pub uid: String,
    /// The account alias (ListAccountAliases), else the account id.
    pub name: String,
    /// OCSF `type` (caption of `type_id`).
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// OCSF `type_id`.
    pub type_id: u32,
}

/// `enrichments[]`: facts shaped as Sekoia's asset models keep them
/// (`sekoia_automation_models` `UserEnrichmentObject`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrichment {
    /// `login` (the console password), `access_key` (one per key) or `risk_reason`.
    pub name: &'static str,
    /// `console`, the access key id, or the rule id and text.
    pub value: String,
    /// OCSF `enrichment.data`.
    pub data: EnrichmentData,
}

/// `enrichments[].data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnrichmentData {
    /// `login`: the user has a console password. `access_key`: the key is `Active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Last use, RFC 3339 UTC (e.g. `2026-11-29T15:53:17Z`): of the password (`login`) or
    /// the key; absent when never used or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_logon: Option<String>,
    /// `login`: when the password was set, seconds since the Unix epoch (a float, as
    /// Sekoia's model types it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time_password_change: Option<f64>,
}

/// `unmapped`: IAM facts OCSF has no attribute for, named as the product documents them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Unmapped {
    /// `Path`; absent for the root user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `CreateDate`, ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// `PasswordLastUsed`, ms since the Unix epoch; absent when never used or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_last_used_time: Option<i64>,
    /// GetLoginProfile found a console password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_console_user: Option<bool>,
    /// When the console password was set, ms (GetLoginProfile `CreateDate`, the report's
    /// `password_last_changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_last_changed_time: Option<i64>,
    /// `PasswordResetRequired` (per-user strategy only: the report does not tell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_reset_required: Option<bool>,
    /// MFA devices (ListMFADevices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_devices: Option<Vec<MfaDeviceInfo>>,
    /// Number of access keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_keys_count: Option<usize>,
    /// Access keys with their status and last use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_keys: Option<Vec<AccessKeyInfo>>,
    /// Root user only: GetAccountSummary's `AccountAccessKeysPresent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_keys_present: Option<bool>,
    /// Tags as `{Key: Value}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Names of the user's inline policies (ListUserPolicies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_policies: Option<Vec<String>>,
    /// Managed policies attached to the user (ListAttachedUserPolicies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached_policies: Option<Vec<AttachedPolicyInfo>>,
    /// The permissions boundary's policy ARN; absent when none is set or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    /// Number of SSH public keys (ListSSHPublicKeys; per-user strategy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_public_keys_count: Option<usize>,
    /// SSH public keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_public_keys: Option<Vec<CredentialInfo>>,
    /// Number of X.509 signing certificates (ListSigningCertificates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_certificates_count: Option<usize>,
    /// X.509 signing certificates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_certificates: Option<Vec<CredentialInfo>>,
    /// Number of service-specific credentials (ListServiceSpecificCredentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_specific_credentials_count: Option<usize>,
    /// Service-specific credentials (CodeCommit, Keyspaces, Bedrock API keys, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_specific_credentials: Option<Vec<ServiceCredentialInfo>>,
    /// How the administrator rule decided `user.type_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminInfo>,
    /// The risk rules that fired, highest level first in table order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risk_reasons: Vec<RiskReasonInfo>,
    /// Ids of the risk rules that could not be evaluated (a fact was unknown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risk_rules_not_evaluated: Vec<&'static str>,
    /// When the credential report the bulk facts come from was generated, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_report_time: Option<i64>,
    /// Calls that failed for this user; the fields they feed are absent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collection_errors: Vec<CollectionErrorInfo>,
}

/// `unmapped.mfa_devices[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MfaDeviceInfo {
    /// `SerialNumber`.
    pub serial_number: String,
    /// `virtual`, `security-key` or `hardware`, from the serial number's form.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// `EnableDate`, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_time: Option<i64>,
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
    /// Absent for the root user's keys (the credential report does not name them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `Active` or `Inactive`.
    pub status: String,
    /// ms since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// Last use, ms; absent when never used or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_time: Option<i64>,
    /// The service of the last use, e.g. `s3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_service: Option<String>,
    /// The region of the last use, e.g. `us-east-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_region: Option<String>,
    /// Whether IAM has any record of a use: false means never used; absent when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ever_used: Option<bool>,
}

/// `unmapped.ssh_public_keys[]` and `unmapped.signing_certificates[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialInfo {
    /// `SSHPublicKeyId` or `CertificateId`.
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// `UploadDate`, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<i64>,
}

/// `unmapped.service_specific_credentials[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCredentialInfo {
    /// `ServiceSpecificCredentialId`.
    pub id: String,
    /// `ServiceName`, e.g. `bedrock.amazonaws.com`.
    pub service_name: String,
    /// `Active`, `Inactive` or `Expired`.
    pub status: String,
    /// `CreateDate`, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// `ExpirationDate`, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<i64>,
    /// `ServiceUserName`, or a Bedrock API key's `ServiceCredentialAlias`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_user_name: Option<String>,
}

/// `unmapped.admin`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdminInfo {
    /// `admin`, `not-admin` or `unknown`.
    pub verdict: &'static str,
    /// The first policy that grants administrator access (name or ARN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<String>,
    /// AWS-managed policies judged by ARN, not by document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub judged_by_arn: Vec<String>,
    /// Policies whose document could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// `unmapped.risk_reasons[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskReasonInfo {
    /// Rule id, e.g. `USER.1`.
    pub rule: &'static str,
    /// CIS AWS Foundations Benchmark control(s), e.g. `1.10`.
    pub cis: &'static str,
    /// The rule's risk level caption.
    pub level: &'static str,
    /// The rule's finding, in words.
    pub text: String,
}

/// `unmapped.collection_errors[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectionErrorInfo {
    /// IAM action.
    pub action: String,
    /// AWS error code, or the connector's.
    pub code: String,
}

/// What every event of one collection shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context<'a> {
    /// When the event was built, ms since the Unix epoch.
    pub processed_time: i64,
    /// The account alias (ListAccountAliases), if it has one.
    pub account_alias: Option<&'a str>,
    /// When the credential report was generated (bulk strategy), ms.
    pub credential_report_time: Option<i64>,
}

/// The static part of every event: class, activity, severity, metadata.
fn event(time: i64, context: &Context<'_>, user: OcsfUser) -> UserInventoryInfo {
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
        time,
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "AWS IAM",
                vendor_name: "Amazon",
                version: "N/A",
            },
            processed_time: context.processed_time,
        },
        user,
        enrichments: Vec::new(),
        unmapped: Unmapped {
            credential_report_time: context.credential_report_time,
            ..Unmapped::default()
        },
    }
}

fn account(account_id: &str, context: &Context<'_>) -> Account {
    Account {
        uid: account_id.to_owned(),
        name: context.account_alias.unwrap_or(account_id).to_owned(),
        type_name: "AWS Account",
        type_id: ACCOUNT_TYPE_AWS,
    }
}

/// `user.type_id` and `type` for an administrator verdict (`None`: not judged → Unknown).
fn user_type(admin: Option<&AdminAssessment>) -> (u32, &'static str) {
    match admin.map(|a| a.verdict) {
        Some(Verdict::Admin) => (USER_TYPE_ADMIN, "Admin"),
        Some(Verdict::NotAdmin) => (USER_TYPE_USER, "User"),
        Some(Verdict::Unknown) | None => (USER_TYPE_UNKNOWN, "Unknown"),
    }
}

/// `ms` as an RFC 3339 UTC timestamp: `2026-11-29T15:53:17Z`, with `.mmm` when not whole.
pub fn rfc3339(ms: i64) -> Option<String> {
    let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    if ms.rem_euclid(1000) == 0 {
        time.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
    } else {
        time.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
    }
    .ok()
}

/// `risk_level`, `risk_level_id`, `risk_score`, the reasons under `unmapped` and as
/// enrichments.
fn risk_fields(
    user: &mut OcsfUser,
    unmapped: &mut Unmapped,
    enrichments: &mut Vec<Enrichment>,
    risk: Option<&RiskAssessment>,
) {
    let Some(risk) = risk else { return };
    user.risk_level = Some(risk.level.caption());
    user.risk_level_id = Some(risk.level.id());
    user.risk_score = Some(risk.score);
    unmapped.risk_reasons = risk
        .reasons
        .iter()
        .map(|r| RiskReasonInfo {
            rule: r.rule,
            cis: r.cis,
            level: r.level.caption(),
            text: r.text.clone(),
        })
        .collect();
    unmapped.risk_rules_not_evaluated = risk.not_evaluated.clone();
    enrichments.extend(risk.reasons.iter().map(|r| Enrichment {
        name: "risk_reason",
        value: format!("{}: {}", r.rule, r.text),
        data: EnrichmentData::default(),
    }));
}

fn access_key_info(key: &AccessKey, id: Option<String>) -> AccessKeyInfo {
    let (last_used_time, last_used_service, last_used_region) = match &key.last_used {
        Some(LastUsed::At {
            ms,
            service,
            region,
        }) => (Some(*ms), service.clone(), region.clone()),
        _ => (None, None, None),
    };
    AccessKeyInfo {
        access_key_id: id,
        status: key.status.clone(),
        created_time: key.created_ms,
        last_used_time,
        last_used_service,
        last_used_region,
        ever_used: key.last_used.as_ref().map(|u| u.ms().is_some()),
    }
}

fn key_enrichment(key: &AccessKey) -> Enrichment {
    Enrichment {
        name: "access_key",
        value: key.id.clone(),
        data: EnrichmentData {
            is_enabled: Some(key.is_active()),
            last_logon: key
                .last_used
                .as_ref()
                .and_then(LastUsed::ms)
                .and_then(rfc3339),
            last_time_password_change: None,
        },
    }
}

fn login_enrichment(
    console: Option<bool>,
    last_used_ms: Option<i64>,
    changed_ms: Option<i64>,
) -> Option<Enrichment> {
    let console = console?;
    Some(Enrichment {
        name: "login",
        value: "console".to_owned(),
        data: EnrichmentData {
            is_enabled: Some(console),
            last_logon: last_used_ms.and_then(rfc3339),
            // ms to seconds: exact to the ms in an f64 for any date IAM can write.
            last_time_password_change: changed_ms.map(|ms| ms as f64 / 1000.0),
        },
    })
}

fn sorted<T: Clone, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort_by_key(key);
    items
}

fn collection_errors(errors: &[CollectionError]) -> Vec<CollectionErrorInfo> {
    errors
        .iter()
        .map(|e| CollectionErrorInfo {
            action: e.action.clone(),
            code: e.code.clone(),
        })
        .collect()
}

fn credential_entries(
    credentials: &[Credential],
    type_name: &'static str,
) -> Vec<ProgrammaticCredential> {
    credentials
        .iter()
        .map(|c| ProgrammaticCredential {
            uid: c.id.clone(),
            type_name,
            last_used_time: None,
        })
        .collect()
}

fn credential_infos(credentials: &[Credential]) -> Vec<CredentialInfo> {
    sorted(credentials, |c| c.id.clone())
        .into_iter()
        .map(|c| CredentialInfo {
            id: c.id,
            status: c.status,
            upload_time: c.uploaded_ms,
        })
        .collect()
}

/// `user.programmatic_credentials`: access keys, then signing certificates, SSH public keys
/// and service-specific credentials; present when any kind was read (a kind that was not
/// is named in `collection_errors`).
fn programmatic_credentials(record: &UserRecord) -> Option<Vec<ProgrammaticCredential>> {
    let kinds = [
        record.access_keys.as_ref().map(|keys| {
            keys.iter()
                .map(|k| ProgrammaticCredential {
                    uid: k.id.clone(),
                    type_name: ACCESS_KEY,
                    last_used_time: k.last_used.as_ref().and_then(LastUsed::ms),
                })
                .collect::<Vec<_>>()
        }),
        record
            .signing_certificates
            .as_deref()
            .map(|c| credential_entries(c, SIGNING_CERTIFICATE)),
        record
            .ssh_public_keys
            .as_deref()
            .map(|c| credential_entries(c, SSH_PUBLIC_KEY)),
        record.service_specific_credentials.as_ref().map(|c| {
            sorted(c, |c| c.id.clone())
                .into_iter()
                .map(|c| ProgrammaticCredential {
                    uid: c.id,
                    type_name: SERVICE_SPECIFIC_CREDENTIAL,
                    last_used_time: None,
                })
                .collect()
        }),
    ];
    kinds
        .iter()
        .any(Option::is_some)
        .then(|| kinds.into_iter().flatten().flatten().collect())
}

/// Maps one record to its event.
pub fn user_inventory_info(record: &UserRecord, context: &Context<'_>) -> UserInventoryInfo {
    let user = &record.user;
    let (type_id, type_name) = user_type(record.admin.as_ref());
    let keys = record.access_keys.as_deref();
    let mut ocsf_user = OcsfUser {
        uid: user.arn.clone(),
        uid_alt: Some(user.id.clone()),
        name: user.name.clone(),
        type_name,
        type_id,
        has_mfa: record.has_mfa,
        groups: record.groups.as_ref().map(|groups| {
            sorted(groups, |g| g.name.clone())
                .into_iter()
                .map(|g| OcsfGroup {
                    uid: g.arn,
                    name: g.name,
                    privileges: g.privileges,
                })
                .collect()
        }),
        programmatic_credentials: programmatic_credentials(record),
        account: Arn::parse(&user.arn).map(|arn| account(arn.account_id, context)),
        risk_level: None,
        risk_level_id: None,
        risk_score: None,
    };
    let password_changed = record.console_password.and_then(|p| p.changed_ms);
    let mut enrichments: Vec<Enrichment> = login_enrichment(
        record.console_access,
        user.password_last_used_ms,
        password_changed,
    )
    .into_iter()
    .chain(keys.into_iter().flatten().map(key_enrichment))
    .collect();
    let mut unmapped = Unmapped {
        path: Some(user.path.clone()),
        created_time: user.created_ms,
        password_last_used_time: user.password_last_used_ms,
        is_console_user: record.console_access,
        password_last_changed_time: password_changed,
        password_reset_required: record.console_password.and_then(|p| p.reset_required),
        mfa_devices: record.mfa_devices.as_ref().map(|devices| {
            sorted(devices, |d| d.serial.clone())
                .into_iter()
                .map(|d| MfaDeviceInfo {
                    serial_number: d.serial,
                    type_name: d.kind.name(),
                    enabled_time: d.enabled_ms,
                })
                .collect()
        }),
        access_keys_count: keys.map(<[AccessKey]>::len),
        access_keys: keys.map(|keys| {
            keys.iter()
                .map(|k| access_key_info(k, Some(k.id.clone())))
                .collect()
        }),
        tags: record.tags.as_ref().map(|tags| {
            tags.iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect()
        }),
        user_policies: record.user_policies.as_ref().map(|policies| {
            let mut names: Vec<String> = policies.iter().map(|p| p.name.clone()).collect();
            names.sort_unstable();
            names
        }),
        attached_policies: record.attached_policies.as_ref().map(|policies| {
            sorted(policies, |p| p.name.clone())
                .into_iter()
                .map(|p| AttachedPolicyInfo {
                    name: p.name,
                    arn: p.arn,
                })
                .collect()
        }),
        permissions_boundary: record.permissions_boundary.clone().flatten(),
        ssh_public_keys_count: record.ssh_public_keys.as_ref().map(Vec::len),
        ssh_public_keys: record.ssh_public_keys.as_deref().map(credential_infos),
        signing_certificates_count: record.signing_certificates.as_ref().map(Vec::len),
        signing_certificates: record.signing_certificates.as_deref().map(credential_infos),
        service_specific_credentials_count: record
            .service_specific_credentials
            .as_ref()
            .map(Vec::len),
        service_specific_credentials: record.service_specific_credentials.as_ref().map(
            |credentials| {
                sorted(credentials, |c| c.id.clone())
                    .into_iter()
                    .map(|c| ServiceCredentialInfo {
                        id: c.id,
                        service_name: c.service,
                        status: c.status,
                        created_time: c.created_ms,
                        expiration_time: c.expires_ms,
                        service_user_name: c.service_user_name,
                    })
                    .collect()
            },
        ),
        admin: record.admin.as_ref().map(|a| AdminInfo {
            verdict: match a.verdict {
                Verdict::Admin => "admin",
                Verdict::NotAdmin => "not-admin",
                Verdict::Unknown => "unknown",
            },
            granted_by: a.granted_by.clone(),
            judged_by_arn: a.judged_by_arn.clone(),
            unreadable: a.unreadable.clone(),
        }),
        collection_errors: collection_errors(&record.errors),
        credential_report_time: context.credential_report_time,
        ..Unmapped::default()
    };
    risk_fields(
        &mut ocsf_user,
        &mut unmapped,
        &mut enrichments,
        record.risk.as_ref(),
    );
    let mut event = event(
        user.created_ms.unwrap_or(context.processed_time),
        context,
        ocsf_user,
    );
    event.enrichments = enrichments;
    event.unmapped = unmapped;
    event
}

/// Maps the account's root user to its event: `user.type_id` 2 (Admin), uid
/// `arn:<partition>:iam::<account>:root`, name `root`.
pub fn root_inventory_info(root: &RootRecord, context: &Context<'_>) -> UserInventoryInfo {
    let mut user = OcsfUser {
        uid: format!("arn:{}:iam::{}:root", root.partition, root.account_id),
        uid_alt: None,
        name: ROOT_NAME.to_owned(),
        type_name: "Admin",
        type_id: USER_TYPE_ADMIN,
        has_mfa: root.has_mfa,
        groups: None,
        programmatic_credentials: None,
        account: Some(account(&root.account_id, context)),
        risk_level: None,
        risk_level_id: None,
        risk_score: None,
    };
    // The root user always has a console password; its last use is the report's.
    let mut enrichments: Vec<Enrichment> = login_enrichment(
        root.created_ms.map(|_| true),
        root.password_last_used_ms,
        None,
    )
    .into_iter()
    .collect();
    let mut unmapped = Unmapped {
        created_time: root.created_ms,
        password_last_used_time: root.password_last_used_ms,
        access_keys_present: root.access_keys_present,
        access_keys_count: root.access_keys.as_ref().map(Vec::len),
        access_keys: root
            .access_keys
            .as_ref()
            .map(|keys| keys.iter().map(|k| access_key_info(k, None)).collect()),
        collection_errors: collection_errors(&root.errors),
        credential_report_time: context.credential_report_time,
        ..Unmapped::default()
    };
    risk_fields(
        &mut user,
        &mut unmapped,
        &mut enrichments,
        root.risk.as_ref(),
    );
    let mut event = event(
        root.created_ms.unwrap_or(context.processed_time),
        context,
        user,
    );
    event.enrichments = enrichments;
    event.unmapped = unmapped;
    event
}

/// `user.name` of the root user's event.
pub const ROOT_NAME: &str = "root";

/// The event as one line of JSON.
pub fn to_json(event: &UserInventoryInfo) -> String {
    // Serializing these plain structs (strings, integers, maps with string keys) cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

#[cfg(test)]
mod tests;
