//! What the connector knows about an IAM user, independent of XML and of OCSF: `crate::query`
//! builds these types from the responses (`crate::query::convert`), `crate::ocsf` maps them.
//!
//! `Option` fields are `None` when the value could not be read (the call failed): unknown
//! is never written as false, zero or empty.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::policy::{AdminAssessment, PolicyDocument};
use crate::risk::RiskAssessment;

/// An IAM user as listed by ListUsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `UserName`.
    pub name: String,
    /// `UserId` (e.g. `AIDA…`).
    pub id: String,
    /// `Arn`.
    pub arn: String,
    /// `Path`, e.g. `/engineering/`.
    pub path: String,
    /// `CreateDate`, ms since the Unix epoch; `None` if unreadable.
    pub created_ms: Option<i64>,
    /// `PasswordLastUsed`, ms since the Unix epoch; `None` if absent or unreadable.
    pub password_last_used_ms: Option<i64>,
}

/// An IAM group the user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `GroupName`.
    pub name: String,
    /// `Arn`.
    pub arn: String,
    /// Names of the group's inline policies, then of its attached managed policies
    /// (ListGroupPolicies, ListAttachedGroupPolicies); `None` if either call failed.
    pub privileges: Option<Vec<String>>,
}

/// When a credential was last used, as far as IAM tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastUsed {
    /// IAM has no record of any use (since it began tracking, April 2015 for access keys).
    Never,
    /// Last used at `ms` (ms since the Unix epoch), with the service and region when IAM
    /// names them (`N/A` is read as absent).
    At {
        /// When, ms since the Unix epoch.
        ms: i64,
        /// The service it called, e.g. `s3`.
        service: Option<String>,
        /// The region it called, e.g. `us-east-1`.
        region: Option<String>,
    },
}

impl LastUsed {
    /// The time of the last use, if any.
    pub fn ms(&self) -> Option<i64> {
        match self {
            Self::Never => None,
            Self::At { ms, .. } => Some(*ms),
        }
    }
}

/// An access key of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AccessKeyId`, e.g. `AKIA…` (never the secret: IAM does not list secrets).
    pub id: String,
    /// `Status`: `Active` or `Inactive`.
    pub status: String,
    /// `CreateDate`, ms since the Unix epoch.
    pub created_ms: Option<i64>,
    /// GetAccessKeyLastUsed, or the credential report's `access_key_N_last_used_*`;
    /// `None` when unknown (the call failed or was not made).
    pub last_used: Option<LastUsed>,
}

impl AccessKey {
    /// Whether the key can sign requests (`Status` `Active`).
    pub fn is_active(&self) -> bool {
        self.status == "Active"
    }
}

/// What kind of MFA device a serial number names. Source: IAM User Guide, "AWS
/// Multi-factor authentication in IAM": virtual devices have an ARN serial
/// (`arn:…:mfa/NAME`), FIDO security keys `arn:…:u2f/…`, hardware TOTP tokens a
/// manufacturer serial (e.g. `GAHT12345678`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaKind {
    /// A virtual (TOTP) device: an `arn:…:mfa/…` serial number.
    Virtual,
    /// A FIDO security key.
    SecurityKey,
    /// A hardware TOTP token (a serial number that is not an ARN).
    Hardware,
}

impl MfaKind {
    /// The kind named by `serial`.
    pub fn of(serial: &str) -> Self {
        match serial
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').nth(4))
        {
            Some(resource) if resource.starts_with("u2f/") => Self::SecurityKey,
            Some(_) => Self::Virtual,
            None => Self::Hardware,
        }
    }

    /// `virtual`, `security-key` or `hardware`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Virtual => "virtual",
            Self::SecurityKey => "security-key",
            Self::Hardware => "hardware",
        }
    }
}

/// An MFA device enabled for the user (ListMFADevices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDevice {
    /// `SerialNumber`: an ARN for virtual devices and security keys.
    pub serial: String,
    /// What kind of device it is.
    pub kind: MfaKind,
    /// `EnableDate`, ms since the Unix epoch.
    pub enabled_ms: Option<i64>,
}

/// The user's console password (GetLoginProfile, or the credential report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsolePassword {
    /// When the password was set (GetLoginProfile `CreateDate`, the report's
    /// `password_last_changed`), ms since the Unix epoch, in whole seconds.
    pub changed_ms: Option<i64>,
    /// `PasswordResetRequired`; the credential report does not tell.
    pub reset_required: Option<bool>,
}

/// A long-lived credential other than an access key: an X.509 signing certificate or an
/// SSH public key (for CodeCommit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// `CertificateId` or `SSHPublicKeyId`.
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// `UploadDate`, ms since the Unix epoch.
    pub uploaded_ms: Option<i64>,
}

/// A service-specific credential (ListServiceSpecificCredentials): a CodeCommit or
/// Keyspaces password, a Bedrock API key, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCredential {
    /// `ServiceSpecificCredentialId`.
    pub id: String,
    /// `ServiceName`, e.g. `bedrock.amazonaws.com`.
    pub service: String,
    /// `Active`, `Inactive` or `Expired`.
    pub status: String,
    /// `CreateDate`, ms.
    pub created_ms: Option<i64>,
    /// `ExpirationDate`, ms; only credentials created with an age limit have one.
    pub expires_ms: Option<i64>,
    /// `ServiceUserName` or, for Bedrock API keys, `ServiceCredentialAlias`.
    pub service_user_name: Option<String>,
}

/// A tag on the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// A managed policy attached to a user or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// `PolicyName`.
    pub name: String,
    /// `PolicyArn`.
    pub arn: String,
}

/// What a call feeds in an event: the part of a record it fills, named in log messages
/// when the call fails ([`crate::ocsf::attribute`] gives its event attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    /// The user's groups.
    Groups,
    /// Whether an MFA device is enabled.
    HasMfa,
    /// The access keys.
    AccessKeys,
    /// Whether the user has a console password.
    ConsoleAccess,
    /// The permissions boundary.
    PermissionsBoundary,
    /// The tags.
    Tags,
    /// The inline policies.
    UserPolicies,
    /// The attached managed policies.
    AttachedPolicies,
    /// The SSH public keys.
    SshPublicKeys,
    /// The X.509 signing certificates.
    SigningCertificates,
    /// The service-specific credentials.
    ServiceSpecificCredentials,
    /// An access key's last use.
    AccessKeyLastUsed,
    /// A group's privileges.
    GroupPrivileges,
    /// A policy document, for the administrator rule.
    PolicyDocument,
    /// The account's name (its alias).
    AccountName,
}

/// A call that failed while enriching a user; the field it feeds is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionError {
    /// IAM action, e.g. `ListMFADevices`.
    pub action: String,
    /// AWS error code, or `MalformedResponse` / `TransportError`.
    pub code: String,
}

/// An inline policy of a user or group, with its document when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    /// `PolicyName`.
    pub name: String,
    /// The parsed document (GetUserPolicy/GetGroupPolicy, or GetAccountAuthorizationDetails);
    /// `None` when it could not be read.
    pub document: Option<PolicyDocument>,
}

/// Everything collected about one user; one record yields one OCSF event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The listed user.
    pub user: User,
    /// ListGroupsForUser.
    pub groups: Option<Vec<Group>>,
    /// An MFA device is enabled: ListMFADevices lists one (per-user strategy) or the
    /// credential report's `mfa_active` (bulk strategy).
    pub has_mfa: Option<bool>,
    /// ListMFADevices.
    pub mfa_devices: Option<Vec<MfaDevice>>,
    /// ListAccessKeys, each with its last use where known.
    pub access_keys: Option<Vec<AccessKey>>,
    /// GetLoginProfile found a console password (`NoSuchEntity`: none).
    pub console_access: Option<bool>,
    /// The console password's facts, when it has one.
    pub console_password: Option<ConsolePassword>,
    /// ListUserTags.
    pub tags: Option<Vec<Tag>>,
    /// ListUserPolicies (names), with each document (GetUserPolicy).
    pub user_policies: Option<Vec<InlinePolicy>>,
    /// ListAttachedUserPolicies: managed policies attached to the user.
    pub attached_policies: Option<Vec<AttachedPolicy>>,
    /// The permissions boundary's ARN (GetUser, or the `UserDetail`): `Some(None)` when the
    /// user has none, `None` when unknown.
    pub permissions_boundary: Option<Option<String>>,
    /// ListSSHPublicKeys.
    pub ssh_public_keys: Option<Vec<Credential>>,
    /// ListSigningCertificates (X.509).
    pub signing_certificates: Option<Vec<Credential>>,
    /// ListServiceSpecificCredentials.
    pub service_specific_credentials: Option<Vec<ServiceCredential>>,
    /// Whether the user is an effective administrator, decided from the policy documents
    /// once the record is complete ([`crate::admin`]).
    pub admin: Option<AdminAssessment>,
    /// The risk rules' verdict, once the record is complete ([`crate::risk`]).
    pub risk: Option<RiskAssessment>,
    /// A per-user call answered `NoSuchEntity`: the user was deleted after ListUsers.
    pub deleted: bool,
    /// Calls that failed for this user.
    pub errors: Vec<CollectionError>,
}

impl UserRecord {
    /// A record with only the listed user known.
    pub fn new(user: User) -> Self {
        Self {
            user,
            groups: None,
            has_mfa: None,
            mfa_devices: None,
            access_keys: None,
            console_access: None,
            console_password: None,
            tags: None,
            user_policies: None,
            attached_policies: None,
            permissions_boundary: None,
            ssh_public_keys: None,
            signing_certificates: None,
            service_specific_credentials: None,
            admin: None,
            risk: None,
            deleted: false,
            errors: Vec::new(),
        }
    }

    /// Records that `action` failed with `code`, once per action and code.
    pub fn failed(&mut self, action: &str, code: &str) {
        if !self
            .errors
            .iter()
            .any(|e| e.action == action && e.code == code)
        {
            self.errors.push(CollectionError {
                action: action.to_owned(),
                code: code.to_owned(),
            });
        }
    }
}

/// The account's root user, as far as GetAccountSummary and the credential report tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRecord {
    /// 12-digit account id.
    pub account_id: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// GetAccountSummary `AccountMFAEnabled` (or the report's `mfa_active`).
    pub has_mfa: Option<bool>,
    /// GetAccountSummary `AccountAccessKeysPresent`.
    pub access_keys_present: Option<bool>,
    /// The report's `user_creation_time` (when the account was created), ms.
    pub created_ms: Option<i64>,
    /// The report's `password_last_used`, ms; `None` when never used or unread.
    pub password_last_used_ms: Option<i64>,
    /// The report's key slots (the report does not name root keys: `id` is the slot,
    /// `access_key_1` or `access_key_2`); `None` when the report was not read.
    pub access_keys: Option<Vec<AccessKey>>,
    /// The risk rules' verdict.
    pub risk: Option<RiskAssessment>,
    /// Calls that failed for the root user's facts.
    pub errors: Vec<CollectionError>,
}

/// `ms` rounded down to a whole second: the credential report's precision, applied to the
/// per-user answers of the same facts (password changed, key last used) so both strategies
/// report the same value. IAM itself answers in whole seconds.
pub fn whole_seconds(ms: i64) -> i64 {
    ms.div_euclid(1000) * 1000
}

/// Parses an IAM timestamp (ISO 8601 / RFC 3339, with or without fractional seconds)
/// into ms since the Unix epoch; fractions below a millisecond are truncated.
pub fn timestamp_ms(value: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(value.trim(), &Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_whole_fractional_and_offset() {
        assert_eq!(
            timestamp_ms("2020-06-04T10:00:00Z"),
            Some(1_591_264_800_000)
        );
        assert_eq!(
            timestamp_ms("2026-11-29T15:53:17.387390Z"),
            Some(1_795_967_597_387)
        );
        assert_eq!(
            timestamp_ms("2020-06-04T12:00:00+02:00"),
            Some(1_591_264_800_000)
        );
        assert_eq!(timestamp_ms("1970-01-01T00:00:00.0009Z"), Some(0));
        assert_eq!(timestamp_ms("yesterday"), None);
        assert_eq!(timestamp_ms("2020-13-01T00:00:00Z"), None);
    }
}
