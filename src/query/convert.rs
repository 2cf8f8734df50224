//! From the typed responses to the model: each `*Xml` element becomes the domain type it
//! describes ([`crate::model`]), timestamps parsed, absent values kept as unknown. The
//! protocol builds the model, never the reverse.

use super::responses::{
    AccessKeyLastUsedXml, AccessKeyXml, AttachedPolicyXml, GroupXml, LoginProfileXml, MfaDeviceXml,
    PolicyDetailXml, ServiceSpecificCredentialXml, SigningCertificateXml, SshPublicKeyXml, TagXml,
    UserXml,
};
use crate::error::ConnectorError;
use crate::model::{
    timestamp_ms, whole_seconds, AccessKey, AttachedPolicy, ConsolePassword, Credential, Group,
    InlinePolicy, LastUsed, MfaDevice, MfaKind, ServiceCredential, Tag, User,
};
use crate::policy::{self, PolicyDocument};

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

impl From<GroupXml> for Group {
    fn from(xml: GroupXml) -> Self {
        Self {
            name: xml.group_name,
            arn: xml.arn,
            privileges: None,
        }
    }
}

impl From<AccessKeyXml> for AccessKey {
    fn from(xml: AccessKeyXml) -> Self {
        Self {
            created_ms: timestamp_ms(&xml.create_date),
            id: xml.access_key_id,
            status: xml.status,
            last_used: None,
        }
    }
}

impl From<MfaDeviceXml> for MfaDevice {
    fn from(xml: MfaDeviceXml) -> Self {
        Self {
            kind: MfaKind::of(&xml.serial_number),
            enabled_ms: timestamp_ms(&xml.enable_date),
            serial: xml.serial_number,
        }
    }
}

impl From<LoginProfileXml> for ConsolePassword {
    fn from(xml: LoginProfileXml) -> Self {
        Self {
            changed_ms: timestamp_ms(&xml.create_date).map(whole_seconds),
            reset_required: Some(xml.password_reset_required),
        }
    }
}

impl From<SigningCertificateXml> for Credential {
    fn from(xml: SigningCertificateXml) -> Self {
        Self {
            uploaded_ms: xml.upload_date.as_deref().and_then(timestamp_ms),
            id: xml.certificate_id,
            status: xml.status,
        }
    }
}

impl From<SshPublicKeyXml> for Credential {
    fn from(xml: SshPublicKeyXml) -> Self {
        Self {
            uploaded_ms: timestamp_ms(&xml.upload_date),
            id: xml.ssh_public_key_id,
            status: xml.status,
        }
    }
}

impl From<ServiceSpecificCredentialXml> for ServiceCredential {
    fn from(xml: ServiceSpecificCredentialXml) -> Self {
        Self {
            created_ms: xml.create_date.as_deref().and_then(timestamp_ms),
            expires_ms: xml.expiration_date.as_deref().and_then(timestamp_ms),
            service_user_name: xml.service_user_name.or(xml.service_credential_alias),
            id: xml.service_specific_credential_id,
            service: xml.service_name,
            status: xml.status,
        }
    }
}

impl From<TagXml> for Tag {
    fn from(xml: TagXml) -> Self {
        Self {
            key: xml.key,
            value: xml.value,
        }
    }
}

impl From<AttachedPolicyXml> for AttachedPolicy {
    fn from(xml: AttachedPolicyXml) -> Self {
        Self {
            name: xml.policy_name,
            arn: xml.policy_arn,
        }
    }
}

/// A last use as IAM reports it: `LastUsedDate` absent means never used; `N/A` service
/// and region are read as absent. An unreadable date is never (IAM writes none otherwise).
/// The time is kept in whole seconds, as the credential report gives it.
impl From<AccessKeyLastUsedXml> for LastUsed {
    fn from(xml: AccessKeyLastUsedXml) -> Self {
        last_used(xml.last_used_date.as_deref(), xml.service_name, xml.region)
    }
}

fn last_used(date: Option<&str>, service: Option<String>, region: Option<String>) -> LastUsed {
    let named = |value: Option<String>| value.filter(|v| !v.is_empty() && v != "N/A");
    match date.and_then(timestamp_ms) {
        Some(ms) => LastUsed::At {
            ms: whole_seconds(ms),
            service: named(service),
            region: named(region),
        },
        None => LastUsed::Never,
    }
}

/// What GetUser adds to a listed user: the last use of its password (ms; `None` when never
/// used or unreadable) and its permissions boundary's ARN (`None`: it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// `PasswordLastUsed`, ms since the Unix epoch.
    pub password_last_used_ms: Option<i64>,
    /// `PermissionsBoundary/PermissionsBoundaryArn`.
    pub permissions_boundary: Option<String>,
}

impl From<UserXml> for UserFacts {
    fn from(xml: UserXml) -> Self {
        Self {
            password_last_used_ms: xml.password_last_used.as_deref().and_then(timestamp_ms),
            permissions_boundary: xml.permissions_boundary.map(|b| b.permissions_boundary_arn),
        }
    }
}

/// A policy document as IAM returns it (URL-encoded JSON), read from a response of `action`.
///
/// Errors: `MalformedResponse` naming `action` (HTTP 200) when it is not a policy document.
pub fn document(action: &str, text: &str) -> Result<PolicyDocument, ConnectorError> {
    policy::decode_document(text).map_err(|e| {
        ConnectorError::malformed(action, 200, format!("unreadable policy document: {e}"))
    })
}

/// Inline policies of a `UserDetail` or `GroupDetail` (a response of `action`), with their
/// documents; an unreadable document is kept as unknown and described in the second value.
pub fn inline_policies(
    action: &str,
    list: Vec<PolicyDetailXml>,
) -> (Vec<InlinePolicy>, Vec<String>) {
    let mut problems = Vec::new();
    let policies = list
        .into_iter()
        .map(|policy| {
            let document = policy.policy_document.as_deref().and_then(|text| {
                document(action, text)
                    .map_err(|error| {
                        problems.push(format!(
                            "inline policy {:?}: {error}; judged unreadable",
                            policy.policy_name
                        ))
                    })
                    .ok()
            });
            InlinePolicy {
                name: policy.policy_name,
                document,
            }
        })
        .collect();
    (policies, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_create_date_keeps_the_user() {
        let (user, problems) = User::from_xml(UserXml {
            path: "/".into(),
            user_name: "u".into(),
            user_id: "AIDA".into(),
            arn: "arn:aws:iam::1:user/u".into(),
            create_date: "not a date".into(),
            password_last_used: Some("2020-06-04T10:00:00Z".into()),
            permissions_boundary: None,
        });
        assert_eq!(user.created_ms, None);
        assert_eq!(user.password_last_used_ms, Some(1_591_264_800_000));
        assert_eq!(
            problems,
            ["CreateDate \"not a date\" is not an ISO 8601 timestamp"]
        );
    }
}
