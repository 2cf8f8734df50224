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
