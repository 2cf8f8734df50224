//! What the connector knows about an IAM user, independent of XML and of OCSF.
//!
//! `Option` fields are `None` when the value could not be read (the call failed): unknown
//! is never written as false, zero or empty.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::query::responses::{AccessKeyXml, AttachedPolicyXml, GroupXml, TagXml, UserXml};

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

impl User {
    /// Builds a user from a ListUsers `member`; the second value names the timestamps that
    /// could not be read.
    pub fn from_xml(xml: UserXml) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let created_ms = timestamp_ms(&xml.create_date);
        if created_ms.is_none() {
            problems.push(format!(
                "CreateDate {:?} is not an ISO 8601 timestamp",
                xml.create_date
            ));
        }
        let password_last_used_ms = xml.password_last_used.as_deref().and_then(|value| {
            let ms = timestamp_ms(value);
            if ms.is_none() {
                problems.push(format!(
                    "PasswordLastUsed {value:?} is not an ISO 8601 timestamp"
                ));
            }
            ms
        });
        let user = Self {
            name: xml.user_name,
            id: xml.user_id,
            arn: xml.arn,
            path: xml.path,
            created_ms,
            password_last_used_ms,
        };
        (user, problems)
    }
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

impl From<GroupXml> for Group {
    fn from(xml: GroupXml) -> Self {
        Self {
            name: xml.group_name,
            arn: xml.arn,
            privileges: None,
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
}

impl From<AccessKeyXml> for AccessKey {
    fn from(xml: AccessKeyXml) -> Self {
        Self {
            created_ms: timestamp_ms(&xml.create_date),
            id: xml.access_key_id,
            status: xml.status,
        }
    }
}

/// A tag on the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl From<TagXml> for Tag {
    fn from(xml: TagXml) -> Self {
        Self {
            key: xml.key,
            value: xml.value,
        }
    }
}

/// A managed policy attached to a user or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// `PolicyName`.
    pub name: String,
    /// `PolicyArn`.
    pub arn: String,
}

impl From<AttachedPolicyXml> for AttachedPolicy {
    fn from(xml: AttachedPolicyXml) -> Self {
        Self {
            name: xml.policy_name,
            arn: xml.policy_arn,
        }
    }
}

/// A call that failed while enriching a user; the field it feeds is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionError {
    /// IAM action, e.g. `ListMFADevices`.
    pub action: String,
    /// AWS error code, or `MalformedResponse` / `TransportError`.
    pub code: String,
}

/// Everything collected about one user; one record yields one OCSF event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    /// ListGroupsForUser.
    pub groups: Option<Vec<Group>>,
    /// An MFA device is enabled: ListMFADevices lists one (per-user strategy) or the
    /// credential report's `mfa_active` (bulk strategy).
    pub has_mfa: Option<bool>,
    /// ListAccessKeys.
    pub access_keys: Option<Vec<AccessKey>>,
    /// GetLoginProfile found a console password.
    pub console_access: Option<bool>,
    /// ListUserTags.
    pub tags: Option<Vec<Tag>>,
    /// ListUserPolicies: names of the user's inline policies.
    pub user_policies: Option<Vec<String>>,
    /// ListAttachedUserPolicies: managed policies attached to the user.
    pub attached_policies: Option<Vec<AttachedPolicy>>,
    /// ListSSHPublicKeys: number of SSH public keys.
    pub ssh_public_keys: Option<u32>,
    /// ListSigningCertificates: number of X.509 signing certificates.
    pub signing_certificates: Option<u32>,
    /// ListServiceSpecificCredentials: number of service-specific credentials.
    pub service_specific_credentials: Option<u32>,
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
            access_keys: None,
            console_access: None,
            tags: None,
            user_policies: None,
            attached_policies: None,
            ssh_public_keys: None,
            signing_certificates: None,
            service_specific_credentials: None,
            deleted: false,
            errors: Vec::new(),
        }
    }
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

    #[test]
    fn an_unreadable_create_date_keeps_the_user() {
        let (user, problems) = User::from_xml(UserXml {
            path: "/".into(),
            user_name: "u".into(),
            user_id: "AIDA".into(),
            arn: "arn:aws:iam::1:user/u".into(),
            create_date: "not a date".into(),
            password_last_used: Some("2020-06-04T10:00:00Z".into()),
        });
        assert_eq!(user.created_ms, None);
        assert_eq!(user.password_last_used_ms, Some(1_591_264_800_000));
        assert_eq!(
            problems,
            ["CreateDate \"not a date\" is not an ISO 8601 timestamp"]
        );
    }
}
