//! "Test connector": verifies the credentials and probes each permission the collection
//! uses with a harmless read (`MaxItems=1`).

use crate::error::{is_credentials_error, ApiError, ConnectorError};
use crate::host::{Host, Identity};
use crate::query::responses::{
    ListGroupsForUserResponse, ListMfaDevicesResponse, ListUsersResponse,
};
use crate::query::{self, requests, ListResponse};

/// User name probed when the account lists no user. IAM authorizes a call before it looks
/// the user up, so `NoSuchEntity` for it proves the permission is granted.
const PROBE_USER_NAME: &str = "aws-iam-users-permission-probe";

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
    pub probes: Vec<Probe>,
}

/// Probes `iam:ListUsers`, then the per-user listings on the first listed user.
///
/// Errors: when the credentials or signature are refused (`InvalidClientTokenId`,
/// `SignatureDoesNotMatch`, `ExpiredToken`, …), or ListUsers cannot be sent or read.
pub fn check(host: &dyn Host) -> Result<CheckReport, ConnectorError> {
    let mut probes = Vec::new();
    let list_users = requests::list_page(ListUsersResponse::ACTION, &[], 1, None);
    let first_user = match query::parse_result::<ListUsersResponse>(
        ListUsersResponse::ACTION,
        &host.send(&list_users),
    ) {
        Ok(response) => {
            probes.push(probe(ListUsersResponse::ACTION, ProbeOutcome::Granted));
            response
                .into_page()
                .items
                .into_iter()
                .next()
                .map(|u| u.user_name)
        }
        Err(ConnectorError::Api(e)) if !is_credentials_error(&e.code) => {
            probes.push(probe(ListUsersResponse::ACTION, ProbeOutcome::Denied(e)));
            None
        }
        Err(e) => return Err(e),
    };
    let user_name = first_user.unwrap_or_else(|| PROBE_USER_NAME.to_owned());
    for action in [
        ListGroupsForUserResponse::ACTION,
        ListMfaDevicesResponse::ACTION,
    ] {
        let call = requests::list_page(action, &[("UserName", &user_name)], 1, None);
        let outcome = match host.send(&call) {
            Err(e) => ProbeOutcome::NotTestable(format!("not sent: {e}")),
            Ok(response) => match query::parse::<serde::de::IgnoredAny>(action, &response) {
                Ok(_) => ProbeOutcome::Granted,
                Err(ConnectorError::Api(e)) if e.code == "NoSuchEntity" => ProbeOutcome::Granted,
                Err(ConnectorError::Api(e)) => ProbeOutcome::Denied(e),
                Err(other) => ProbeOutcome::NotTestable(other.to_string()),
            },
        };
        probes.push(probe(action, outcome));
    }
    Ok(CheckReport {
        identity: host.identity(),
        probes,
    })
}

fn probe(action: &str, outcome: ProbeOutcome) -> Probe {
    Probe {
        permission: format!("iam:{action}"),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::AuthMethod;
    use crate::test_support::{fixture, response, ScriptedHost};

    fn outcomes(report: &CheckReport) -> Vec<(String, String)> {
        report
            .probes
            .iter()
            .map(|p| {
                let outcome = match &p.outcome {
                    ProbeOutcome::Granted => "granted".to_owned(),
                    ProbeOutcome::Denied(e) => format!("denied {}", e.code),
                    ProbeOutcome::NotTestable(why) => format!("not testable: {why}"),
                };
                (p.permission.clone(), outcome)
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn all_granted_probes_use_the_first_listed_user() {
        let host = ScriptedHost::new(|call| match call.action() {
            "ListUsers" => Ok(response(200, &fixture("synthetic/ListUsers.page2.xml"))),
            "ListGroupsForUser" => Ok(response(200, &fixture("moto/ListGroupsForUser.carol.xml"))),
            _ => Ok(response(200, &fixture("moto/ListMFADevices.bob-empty.xml"))),
        });
        let report = check(&host).unwrap();
        assert_eq!(report.identity.auth_method, AuthMethod::AccessKeys);
        assert_eq!(
            outcomes(&report),
            pairs(&[
                ("iam:ListUsers", "granted"),
                ("iam:ListGroupsForUser", "granted"),
                ("iam:ListMFADevices", "granted"),
            ])
        );
        let calls = host.calls.borrow();
        assert_eq!(calls[0].param("MaxItems"), Some("1"));
        assert_eq!(calls[1].param("UserName"), Some("bob"));
    }

    #[test]
    fn denied_and_untestable_permissions_are_reported() {
        let host = ScriptedHost::new(|call| match call.action() {
            "ListUsers" => Ok(response(
                403,
                &fixture("moto/Error.AccessDenied.authmode.xml"),
            )),
            "ListGroupsForUser" => Ok(response(
                404,
                &fixture("moto/Error.NoSuchEntity.GetUser.xml"),
            )),
            _ => Ok(response(500, "<html><title>oops</title></html>")),
        });
        let report = check(&host).unwrap();
        assert_eq!(
            outcomes(&report),
            pairs(&[
                ("iam:ListUsers", "denied AccessDenied"),
                ("iam:ListGroupsForUser", "granted"),
                (
                    "iam:ListMFADevices",
                    "not testable: ListMFADevices returned an unreadable response (HTTP 500): not XML: an HTML page (\"oops\")"
                ),
            ])
        );
        assert_eq!(
            host.calls.borrow()[1].param("UserName"),
            Some(PROBE_USER_NAME)
        );
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
        assert_eq!(host.actions(), ["ListUsers"]);
    }
}
