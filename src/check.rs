//! "Test connector": verifies the credentials and probes the IAM permissions the connector
//! documents with a harmless read (`MaxItems=1` where the action is paged), then
//! the recommended ones: those the collection uses when granted (the bulk strategy, access
//! key last use, the account alias, customer-managed policy documents) and does without
//! otherwise. `IAMReadOnlyAccess` grants them all.
//!
//! The documented policy also lists `iam:ListGroupTags`, which names no IAM action (IAM
//! groups cannot be tagged; the IAM API Reference has no such operation): it is not probed.

use crate::error::{is_credentials_error, ApiError, ConnectorError};

use crate::host::{Host, HttpResponse, Identity, Level, QueryCall, TransportError};
use crate::query::responses::{
    GenerateCredentialReportResponse, GetAccessKeyLastUsedResponse,
    GetAccountAuthorizationDetailsResponse, GetAccountSummaryResponse, GetCallerIdentityResponse,
    GetCredentialReportResponse, GetGroupPolicyResponse, GetGroupResponse, GetLoginProfileResponse,
    GetPolicyResponse, GetPolicyVersionResponse, GetUserPolicyResponse, GetUserResponse, GroupXml,
    ListAccessKeysResponse, ListAccountAliasesResponse, ListAttachedGroupPoliciesResponse,
    ListAttachedUserPoliciesResponse, ListGroupPoliciesResponse, ListGroupsForUserResponse,
    ListGroupsResponse, ListMfaDevicesResponse, ListServiceSpecificCredentialsResponse,
    ListSigningCertificatesResponse, ListSshPublicKeysResponse, ListUserPoliciesResponse,
    ListUserTagsResponse, ListUsersResponse, UserXml,
};
use crate::query::{self, requests, ListResponse, Operation};

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
    /// An access key of the probed user (listed by the ListAccessKeys probe).
    AccessKey,
    /// An AWS-managed policy every partition has.
    AwsPolicy,
    /// Its first version.
    AwsPolicyVersion,
}

/// The AWS-managed policy the policy probes read (any partition has it).
const PROBED_POLICY: &str = "policy/ReadOnlyAccess";

/// Recommended permissions, probed after the documented ones: what each probe names and
/// whether the action is paged.
const RECOMMENDED: [(&str, Subject, bool); 7] = [
    (ListAccountAliasesResponse::ACTION, Subject::Account, true),
    (
        GetAccessKeyLastUsedResponse::ACTION,
        Subject::AccessKey,
        false,
    ),
    (
        GetAccountAuthorizationDetailsResponse::ACTION,
        Subject::Account,
        true,
    ),
    (
        GenerateCredentialReportResponse::ACTION,
        Subject::Account,
        false,
    ),
    (GetCredentialReportResponse::ACTION, Subject::Account, false),
    (GetPolicyResponse::ACTION, Subject::AwsPolicy, false),
    (
        GetPolicyVersionResponse::ACTION,
        Subject::AwsPolicyVersion,
        false,
    ),
];

/// The IAM permissions the connector documents, in its policy's order (without
/// `ListGroupTags`, no IAM action), with what each probe names and whether the action is
/// paged (probed with `MaxItems=1`).
const PERMISSIONS: [(&str, Subject, bool); 19] = [
    (ListUsersResponse::ACTION, Subject::Account, true),
    (GetUserResponse::ACTION, Subject::User, false),
    (ListGroupsResponse::ACTION, Subject::Account, true),
    (GetGroupResponse::ACTION, Subject::Group, true),
    (ListGroupsForUserResponse::ACTION, Subject::User, true),
    (ListUserPoliciesResponse::ACTION, Subject::User, true),
    (
        ListAttachedUserPoliciesResponse::ACTION,
        Subject::User,
        true,
    ),
    (GetUserPolicyResponse::ACTION, Subject::UserPolicy, false),
    (ListGroupPoliciesResponse::ACTION, Subject::Group, true),
    (
        ListAttachedGroupPoliciesResponse::ACTION,
        Subject::Group,
        true,
    ),
    (GetGroupPolicyResponse::ACTION, Subject::GroupPolicy, false),
    (ListAccessKeysResponse::ACTION, Subject::User, true),
    (ListSigningCertificatesResponse::ACTION, Subject::User, true),
    (ListSshPublicKeysResponse::ACTION, Subject::User, true),
    (
        ListServiceSpecificCredentialsResponse::ACTION,
        Subject::User,
        true,
    ),
    (ListMfaDevicesResponse::ACTION, Subject::User, true),
    (GetLoginProfileResponse::ACTION, Subject::User, false),
    (ListUserTagsResponse::ACTION, Subject::User, true),
    (GetAccountSummaryResponse::ACTION, Subject::Account, false),
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
    /// Used when granted, done without otherwise: its absence does not fail the check.
    pub recommended: bool,
}

/// Result of [`check`] (mirrors WIT `inventory.check-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub identity: Identity,
    /// The ARN the credentials act as (STS GetCallerIdentity), if it could be read.
    pub caller_arn: Option<String>,
    pub probes: Vec<Probe>,
}

/// Probes each of the 19 documented permissions with a harmless read: ListUsers and
/// ListGroups first (they name a real user and group for the others), then the rest
/// together, then the [`RECOMMENDED`] ones (GetAccessKeyLastUsed names a key the
/// ListAccessKeys probe listed).
///
/// Errors: when the credentials or signature are refused (`InvalidClientTokenId`,
/// `SignatureDoesNotMatch`, `ExpiredToken`, …): no permission can be judged then.
pub fn check(host: &dyn Host) -> Result<CheckReport, ConnectorError> {
    let listings = [ListUsersResponse::ACTION, ListGroupsResponse::ACTION];
    let mut calls: Vec<_> = listings
        .iter()
        .map(|action| requests::list_page(action, &[], 1, None))
        .collect();
    // STS GetCallerIdentity needs no permission: it tests the credentials alone.
    calls.push(requests::call::<GetCallerIdentityResponse>(&[]));
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
    let partition = host.identity().partition;
    let subjects = Subjects {
        user: &user,
        group: &group,
        access_key: None,
        aws_policy: &format!("arn:{partition}:iam::aws:{PROBED_POLICY}"),
    };
    let calls: Vec<_> = others
        .iter()
        .map(|&&(action, subject, paged)| probe_call(action, subject, paged, &subjects))
        .collect();
    let mut outcomes = vec![
        (ListUsersResponse::ACTION, users.0),
        (ListGroupsResponse::ACTION, groups.0),
    ];
    let mut access_key = None;
    for (&&(action, ..), result) in others.iter().zip(host.send_all(&calls)) {
        if action == ListAccessKeysResponse::ACTION {
            access_key = first_access_key(&result);
        }
        let outcome = match result {
            Err(e) => ProbeOutcome::NotTestable(format!("not sent: {e}")),
            Ok(response) => judge(query::parse_outcome(action, &response))?,
        };
        outcomes.push((action, outcome));
    }
    let mut probes: Vec<Probe> = PERMISSIONS
        .iter()
        .filter_map(|(action, ..)| {
            let index = outcomes.iter().position(|(a, _)| a == action)?;
            Some(Probe {
                permission: format!("iam:{action}"),
                outcome: outcomes.swap_remove(index).1,
                recommended: false,
            })
        })
        .collect();
    probes.extend(probe_recommended(
        host,
        Subjects {
            access_key: access_key.as_deref(),
            ..subjects
        },
    )?);
    Ok(CheckReport {
        identity: host.identity(),
        caller_arn,
        probes,
    })
}

/// What the probes name.
#[derive(Debug, Clone, Copy)]
struct Subjects<'a> {
    user: &'a str,
    group: &'a str,
    /// An access key of `user`, if the ListAccessKeys probe listed one.
    access_key: Option<&'a str>,
    /// The ARN of [`PROBED_POLICY`] in the identity's partition.
    aws_policy: &'a str,
}

/// The harmless call that probes `action`.
fn probe_call(action: &str, subject: Subject, paged: bool, on: &Subjects<'_>) -> QueryCall {
    let params: Vec<(&str, &str)> = match subject {
        Subject::Account if action == GetAccountAuthorizationDetailsResponse::ACTION => {
            vec![("Filter.member.1", "User")]
        }
        Subject::Account => vec![],
        Subject::User => vec![("UserName", on.user)],
        Subject::Group => vec![("GroupName", on.group)],
        Subject::UserPolicy => vec![("UserName", on.user), ("PolicyName", PROBE_NAME)],
        Subject::GroupPolicy => vec![("GroupName", on.group), ("PolicyName", PROBE_NAME)],
        Subject::AccessKey => vec![("AccessKeyId", on.access_key.unwrap_or_default())],
        Subject::AwsPolicy => vec![("PolicyArn", on.aws_policy)],
        Subject::AwsPolicyVersion => vec![("PolicyArn", on.aws_policy), ("VersionId", "v1")],
    };
    if paged {
        requests::list_page(action, &params, 1, None)
    } else {
        requests::iam(action, &params)
    }
}

/// The first access key id a ListAccessKeys probe listed.
fn first_access_key(result: &Result<HttpResponse, TransportError>) -> Option<String> {
    query::parse_result::<ListAccessKeysResponse>(result)
        .ok()?
        .into_page()
        .items
        .into_iter()
        .next()
        .map(|key| key.access_key_id)
}

/// Probes the [`RECOMMENDED`] permissions together. Errors: a credentials error.
fn probe_recommended(host: &dyn Host, on: Subjects<'_>) -> Result<Vec<Probe>, ConnectorError> {
    let testable: Vec<_> = RECOMMENDED
        .iter()
        .filter(|(_, subject, _)| *subject != Subject::AccessKey || on.access_key.is_some())
        .collect();
    let calls: Vec<_> = testable
        .iter()
        .map(|&&(action, subject, paged)| probe_call(action, subject, paged, &on))
        .collect();
    let mut results = host.send_all(&calls).into_iter();
    RECOMMENDED
        .iter()
        .map(|&(action, subject, _)| {
            let outcome = if subject == Subject::AccessKey && on.access_key.is_none() {
                ProbeOutcome::NotTestable(format!(
                    "user {:?} has no access key to probe with",
                    on.user
                ))
            } else {
                match results.next() {
                    None => ProbeOutcome::NotTestable("the host returned no result".into()),
                    Some(Err(e)) => ProbeOutcome::NotTestable(format!("not sent: {e}")),
                    Some(Ok(response)) => judge(query::parse_outcome(action, &response))?,
                }
            };
            Ok(Probe {
                permission: format!("iam:{action}"),
                outcome,
                recommended: true,
            })
        })
        .collect()
}

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
    match query::parse_result::<GetCallerIdentityResponse>(&result) {
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
    match query::parse_result::<R>(&result) {
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
        // The call was authorized; what it asked for does not exist (yet).
        Err(ConnectorError::Api(e))
            if matches!(
                e.code.as_str(),
                "NoSuchEntity" | "ReportNotPresent" | "ReportInProgress" | "ReportExpired"
            ) =>
        {
            Ok(ProbeOutcome::Granted)
        }
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
            "ListAccessKeys" => Ok(response(200, &fixture("moto/ListAccessKeys.alice.xml"))),
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
    fn every_permission_granted_in_the_documented_order_then_the_recommended_ones() {
        let host = ScriptedHost::new(granting);
        let report = check(&host).unwrap();
        assert_eq!(report.identity.auth_method, AuthMethod::AccessKeys);
        let expected: Vec<String> = PERMISSIONS
            .iter()
            .chain(RECOMMENDED.iter())
            .map(|(a, ..)| format!("iam:{a} granted"))
            .collect();
        assert_eq!(outcomes(&report), expected);
        assert_eq!(report.probes.len(), 19 + 7);
        assert!(report.probes[..19].iter().all(|p| !p.recommended));
        assert!(report.probes[19..].iter().all(|p| p.recommended));
        assert_eq!(*host.batches.borrow(), [3, 17, 7]);
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
        assert_eq!(
            find("ListAttachedGroupPolicies").param("GroupName"),
            Some("Admins")
        );
        assert!(calls.iter().all(|c| c.action() != "ListGroupTags"));
        assert_eq!(
            find("GetAccessKeyLastUsed").param("AccessKeyId"),
            Some("AKIARZPUZDIKE6K4PT5N")
        );
        let version = find("GetPolicyVersion");
        assert_eq!(
            (version.param("PolicyArn"), version.param("VersionId")),
            (Some("arn:aws:iam::aws:policy/ReadOnlyAccess"), Some("v1"))
        );
        assert_eq!(
            find("GetAccountAuthorizationDetails").param("Filter.member.1"),
            Some("User")
        );
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
            "ListAccessKeys" => Ok(response(200, &fixture("moto/ListAccessKeys.erin-empty.xml"))),
            "GetCredentialReport" => Ok(response(410, &fixture("moto/Error.ReportNotPresent.GetCredentialReport.xml"))),
            "GetAccountAuthorizationDetails" => Ok(response(403, &fixture("moto/Error.AccessDenied.authmode.xml"))),
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
                "iam:GetAccessKeyLastUsed not testable: user \"aws-iam-users-permission-probe\" has no access key to probe with",
                "iam:GetAccountAuthorizationDetails denied AccessDenied",
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
