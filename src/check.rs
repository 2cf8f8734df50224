//! "Test connector": verifies the credentials and probes each of the 20 IAM permissions the
//! connector documents with a harmless read (`MaxItems=1` where the action is paged).

use crate::error::{is_credentials_error, ApiError, ConnectorError};
use serde::de::IgnoredAny;

use crate::host::{Host, HttpResponse, Identity, Level, TransportError};
use crate::query::responses::{
    GetCallerIdentityResponse, GroupXml, ListGroupsResponse, ListUsersResponse, UserXml,
};
use crate::query::{self, requests, ListResponse};

/// Name probed when the account lists no user or group, and for policy names. IAM
/// authorizes a call before it looks the entity up, so `NoSuchEntity` proves the
/// permission is granted.
const PROBE_NAME: &str = "aws-iam-users-permission-probe";

/// What a probe call names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Account,
    User,
    Group,
    UserPolicy,
    GroupPolicy,
}

/// The IAM permissions the connector documents, in its policy's order, with what each
/// probe names and whether the action is paged (probed with `MaxItems=1`).
const PERMISSIONS: [(&str, Subject, bool); 20] = [
    ("ListUsers", Subject::Account, true),
    ("GetUser", Subject::User, false),
    ("ListGroups", Subject::Account, true),
    ("GetGroup", Subject::Group, true),
    ("ListGroupsForUser", Subject::User, true),
    ("ListUserPolicies", Subject::User, true),
    ("ListAttachedUserPolicies", Subject::User, true),
    ("GetUserPolicy", Subject::UserPolicy, false),
    ("ListGroupPolicies", Subject::Group, true),
    ("ListAttachedGroupPolicies", Subject::Group, true),
    ("GetGroupPolicy", Subject::GroupPolicy, false),
    ("ListAccessKeys", Subject::User, true),
    ("ListSigningCertificates", Subject::User, true),
    ("ListSSHPublicKeys", Subject::User, true),
    ("ListServiceSpecificCredentials", Subject::User, true),
    ("ListMFADevices", Subject::User, true),
    ("GetLoginProfile", Subject::User, false),
    ("ListUserTags", Subject::User, true),
    ("ListGroupTags", Subject::Group, true),
    ("GetAccountSummary", Subject::Account, false),
];

/// How one permission's probe ended (mirrors WIT `inventory.probe-outcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    Granted,
    Denied(ApiError),
    NotTestable(String),
}

/// One permission and its probe (mirrors WIT `inventory.probe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// e.g. `iam:ListUsers`.
    pub permission: String,
    pub outcome: ProbeOutcome,
}

/// Result of [`check`] (mirrors WIT `inventory.check-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub identity: Identity,
    /// The ARN the credentials act as (STS GetCallerIdentity), if it could be read.
    pub caller_arn: Option<String>,
    pub probes: Vec<Probe>,
}

/// Probes each of the 20 documented permissions with a harmless read: ListUsers and
/// ListGroups first (they name a real user and group for the others), then the rest
/// together.
///
/// Errors: when the credentials or signature are refused (`InvalidClientTokenId`,
/// `SignatureDoesNotMatch`, `ExpiredToken`, …): no permission can be judged then.
pub fn check(host: &dyn Host) -> Result<CheckReport, ConnectorError> {
    let listings = [ListUsersResponse::ACTION, ListGroupsResponse::ACTION];
    let mut calls: Vec<_> = listings
        .iter()
        .map(|action| requests::list_page(action, &[], 1, None))
        .collect();
    calls.push(requests::sts(CALLER_IDENTITY, &[]));
    let mut results = host.send_all(&calls).into_iter();
    let users = probe_listing::<ListUsersResponse>(results.next())?;
    let groups = probe_listing::<ListGroupsResponse>(results.next())?;
    let caller_arn = caller_arn(host, results.next())?;
    let user = users.1.unwrap_or_else(|| PROBE_NAME.to_owned());
    let group = groups.1.unwrap_or_else(|| PROBE_NAME.to_owned());

    let others: Vec<_> = PERMISSIONS
        .iter()
        .filter(|(action, ..)| !listings.contains(action))
        .collect();
    let calls: Vec<_> = others
        .iter()
        .map(|&&(action, subject, paged)| {
            let params: Vec<(&str, &str)> = match subject {
                Subject::Account => vec![],
                Subject::User => vec![("UserName", &user)],
                Subject::Group => vec![("GroupName", &group)],
                Subject::UserPolicy => vec![("UserName", &user), ("PolicyName", PROBE_NAME)],
                Subject::GroupPolicy => vec![("GroupName", &group), ("PolicyName", PROBE_NAME)],
            };
            if paged {
                requests::list_page(action, &params, 1, None)
            } else {
                requests::iam(action, &params)
            }
        })
        .collect();
    let mut outcomes = vec![
        (ListUsersResponse::ACTION, users.0),
        (ListGroupsResponse::ACTION, groups.0),
    ];
    for (&&(action, ..), result) in others.iter().zip(host.send_all(&calls)) {
        let outcome = match result {
            Err(e) => ProbeOutcome::NotTestable(format!("not sent: {e}")),
            Ok(response) => judge(query::parse::<IgnoredAny>(action, &response))?,
        };
        outcomes.push((action, outcome));
    }
    let probes = PERMISSIONS
        .iter()
        .filter_map(|(action, ..)| {
            let index = outcomes.iter().position(|(a, _)| a == action)?;
            Some(Probe {
                permission: format!("iam:{action}"),
                outcome: outcomes.swap_remove(index).1,
            })
        })
        .collect();
    Ok(CheckReport {
        identity: host.identity(),
        caller_arn,
        probes,
    })
}

/// STS GetCallerIdentity: needs no permission, so it tests the credentials alone.
const CALLER_IDENTITY: &str = "GetCallerIdentity";

/// The ARN the credentials act as. A failure other than refused credentials is logged and
/// leaves it unknown. Errors: a credentials error.
fn caller_arn(
    host: &dyn Host,
    result: Option<Result<HttpResponse, TransportError>>,
) -> Result<Option<String>, ConnectorError> {
    let result = result.unwrap_or_else(|| {
        Err(TransportError::Refused(
            "the host returned no result".into(),
        ))
    });
    match query::parse_result::<GetCallerIdentityResponse>(CALLER_IDENTITY, &result) {
        Ok(identity) => Ok(Some(identity.result.arn)),
        Err(ConnectorError::Api(e)) if is_credentials_error(&e.code) => Err(ConnectorError::Api(e)),
        Err(error) => {
            host.log(Level::Warn, &format!("{error}; the caller ARN is unknown"));
            Ok(None)
        }
    }
}

/// Probes a listing; also returns the name of its first item, to probe the others with.
fn probe_listing<R: ListResponse>(
    result: Option<Result<HttpResponse, TransportError>>,
) -> Result<(ProbeOutcome, Option<String>), ConnectorError>
where
    R::Item: Named,
{
    let result = result.unwrap_or_else(|| {
        Err(TransportError::Refused(
            "the host returned no result".into(),
        ))
    });
    match query::parse_result::<R>(R::ACTION, &result) {
        Ok(response) => Ok((
            ProbeOutcome::Granted,
            response
                .into_page()
                .items
                .into_iter()
                .next()
                .map(|item| item.name()),
        )),
        Err(e) => Ok((judge::<()>(Err(e))?, None)),
    }
}

/// Grades a probe's answer: success or `NoSuchEntity` grants, any other AWS error denies,
/// an unreadable answer is not testable. Errors: a credentials error.
fn judge<T>(answer: Result<T, ConnectorError>) -> Result<ProbeOutcome, ConnectorError> {
    match answer {
        Ok(_) => Ok(ProbeOutcome::Granted),
        Err(ConnectorError::Api(e)) if is_credentials_error(&e.code) => Err(ConnectorError::Api(e)),
        Err(ConnectorError::Api(e)) if e.code == "NoSuchEntity" => Ok(ProbeOutcome::Granted),
        Err(ConnectorError::Api(e)) => Ok(ProbeOutcome::Denied(e)),
        Err(other) => Ok(ProbeOutcome::NotTestable(other.to_string())),
    }
}

/// A listed item whose name other probes can use.
trait Named {
    fn name(self) -> String;
}

impl Named for UserXml {
    fn name(self) -> String {
        self.user_name
    }
}

impl Named for GroupXml {
    fn name(self) -> String {
        self.group_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{AuthMethod, QueryCall};
    use crate::test_support::{fixture, response, ScriptedHost};

    fn outcomes(report: &CheckReport) -> Vec<String> {
        report
            .probes
            .iter()
            .map(|p| match &p.outcome {
                ProbeOutcome::Granted => format!("{} granted", p.permission),
                ProbeOutcome::Denied(e) => format!("{} denied {}", p.permission, e.code),
                ProbeOutcome::NotTestable(why) => format!("{} not testable: {why}", p.permission),
            })
            .collect()
    }

    /// Every action succeeds; ListUsers and ListGroups list real names.
    fn granting(call: &QueryCall) -> Result<HttpResponse, TransportError> {
        match call.action() {
            "ListUsers" => Ok(response(200, &fixture("synthetic/ListUsers.page2.xml"))),
            "ListGroups" => Ok(response(200, &fixture("moto/ListGroups.xml"))),
            "GetCallerIdentity" => Ok(response(
                200,
                &fixture("moto/sts.GetCallerIdentity.authmode.xml"),
            )),
            action => Ok(response(
                200,
                &format!("<{action}Response><{action}Result/></{action}Response>"),
            )),
        }
    }

    #[test]
    fn all_twenty_permissions_granted_in_the_documented_order() {
        let host = ScriptedHost::new(granting);
        let report = check(&host).unwrap();
        assert_eq!(report.identity.auth_method, AuthMethod::AccessKeys);
        let expected: Vec<String> = PERMISSIONS
            .iter()
            .map(|(a, ..)| format!("iam:{a} granted"))
            .collect();
        assert_eq!(outcomes(&report), expected);
        assert_eq!(report.probes.len(), 20);
        assert_eq!(*host.batches.borrow(), [3, 18]);
        assert_eq!(
            report.caller_arn.as_deref(),
            Some("arn:aws:iam::123456789012:user/automation/auditor")
        );
        let sts = &host.calls.borrow()[2];
        assert_eq!(
            (sts.service, sts.action(), sts.param("Version")),
            ("sts", "GetCallerIdentity", Some("2011-06-15"))
        );
        let calls = host.calls.borrow();
        let find = |action: &str| calls.iter().find(|c| c.action() == action).unwrap().clone();
        assert_eq!(find("ListUsers").param("MaxItems"), Some("1"));
        assert_eq!(find("ListMFADevices").param("UserName"), Some("bob"));
        assert_eq!(find("ListGroupTags").param("GroupName"), Some("Admins"));
        let policy = find("GetGroupPolicy");
        assert_eq!(
            (policy.param("GroupName"), policy.param("PolicyName")),
            (Some("Admins"), Some(PROBE_NAME))
        );
        assert_eq!(find("GetLoginProfile").param("MaxItems"), None);
        assert_eq!(find("GetAccountSummary").params.len(), 2);
    }

    #[test]
    fn denied_untestable_and_missing_entities_are_told_apart() {
        let host = ScriptedHost::new(|call| {
            match call.action() {
            "ListUsers" => Ok(response(200, "<ListUsersResponse><ListUsersResult><Users/></ListUsersResult></ListUsersResponse>")),
            "ListMFADevices" | "ListUserTags" => Ok(response(403, &fixture("moto/Error.AccessDenied.authmode.xml"))),
            "ListServiceSpecificCredentials" => {
                Ok(response(500, &fixture("moto/ListServiceSpecificCredentials.alice.moto-500-html.xml")))
            }
            "GetUserPolicy" | "GetLoginProfile" => Ok(response(404, &fixture("moto/Error.NoSuchEntity.GetUser.xml"))),
            "ListSigningCertificates" => Err(TransportError::Timeout),
            _ => granting(call),
        }
        });
        let report = check(&host).unwrap();
        let not_granted: Vec<_> = outcomes(&report)
            .into_iter()
            .filter(|o| !o.ends_with(" granted"))
            .collect();
        assert_eq!(
            not_granted,
            [
                "iam:ListSigningCertificates not testable: not sent: timed out",
                "iam:ListServiceSpecificCredentials not testable: ListServiceSpecificCredentials returned an \
                 unreadable response (HTTP 500): not XML: an HTML page (\"500 Internal Server Error\")",
                "iam:ListMFADevices denied AccessDenied",
                "iam:ListUserTags denied AccessDenied",
            ]
        );
        // No user listed: the per-user probes name the probe user.
        let calls = host.calls.borrow();
        assert!(calls
            .iter()
            .filter(|c| c.param("UserName").is_some())
            .all(|c| c.param("UserName") == Some(PROBE_NAME)));
    }

    #[test]
    fn refused_credentials_fail_the_check() {
        let host = ScriptedHost::new(|_| {
            Ok(response(
                403,
                &fixture("moto/Error.InvalidClientTokenId.authmode.xml"),
            ))
        });
        let err = check(&host).unwrap_err();
        assert!(matches!(err, ConnectorError::Api(e) if e.code == "InvalidClientTokenId"));
        assert_eq!(
            host.actions(),
            ["ListUsers", "ListGroups", "GetCallerIdentity"]
        );
    }
}
