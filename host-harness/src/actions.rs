//! The actions the host signs for the component: exactly the read-only IAM and STS Query API
//! actions the connector uses, one table, and the rules a call must follow to be sent.
//!
//! A call is signed only when its service is `iam` or `sts`, it has exactly one `Action`
//! parameter naming an action of that service in [`ALLOWED_ACTIONS`], exactly one `Version`
//! parameter equal to the service's API version ([`Service::api_version`]), and no parameter
//! name twice (names compared ignoring ASCII case, so `action=…` cannot smuggle a second
//! action). Anything else is refused before it is signed or sent, with a message naming the
//! action. No action that issues credentials (`sts:GetSessionToken`, `sts:AssumeRole`,
//! `iam:CreateAccessKey`, …) or changes anything is in the table: the component can read the
//! account's IAM users and nothing more, whatever the credentials would allow.

use crate::endpoint::Service;

/// Every action the host signs, by service, as AWS spells them (IAM API Reference, STS API
/// Reference): the reads the connector's `check` probes and `collect` makes, and
/// `GenerateCredentialReport` (which only asks IAM to build the read-only report).
pub const ALLOWED_ACTIONS: &[(Service, &str)] = &[
    (Service::Iam, "GenerateCredentialReport"),
    (Service::Iam, "GetAccessKeyLastUsed"),
    (Service::Iam, "GetAccountAuthorizationDetails"),
    (Service::Iam, "GetAccountSummary"),
    (Service::Iam, "GetCredentialReport"),
    (Service::Iam, "GetGroup"),
    (Service::Iam, "GetGroupPolicy"),
    (Service::Iam, "GetLoginProfile"),
    (Service::Iam, "GetPolicy"),
    (Service::Iam, "GetPolicyVersion"),
    (Service::Iam, "GetUser"),
    (Service::Iam, "GetUserPolicy"),
    (Service::Iam, "ListAccessKeys"),
    (Service::Iam, "ListAccountAliases"),
    (Service::Iam, "ListAttachedGroupPolicies"),
    (Service::Iam, "ListAttachedUserPolicies"),
    (Service::Iam, "ListGroupPolicies"),
    (Service::Iam, "ListGroups"),
    (Service::Iam, "ListGroupsForUser"),
    (Service::Iam, "ListMFADevices"),
    (Service::Iam, "ListSSHPublicKeys"),
    (Service::Iam, "ListServiceSpecificCredentials"),
    (Service::Iam, "ListSigningCertificates"),
    (Service::Iam, "ListUserPolicies"),
    (Service::Iam, "ListUserTags"),
    (Service::Iam, "ListUsers"),
    (Service::Sts, "GetCallerIdentity"),
];

/// Longest action name quoted in a refusal; a longer one is cut (the refusal says how long).
const MAX_QUOTED_ACTION: usize = 128;

/// Whether the host signs `action` of `service`.
pub fn is_allowed(service: Service, action: &str) -> bool {
    ALLOWED_ACTIONS
        .iter()
        .any(|(allowed_service, allowed)| *allowed_service == service && *allowed == action)
}

/// Checks a call's parameters against the rules of the module documentation and returns its
/// action.
///
/// Errors: the refusal message, naming the action(s): e.g. `sts:GetSessionToken is not an
/// action this host signs (it signs only the read-only IAM and STS actions the connector
/// uses)`, or `the call names 2 actions ("ListUsers", "CreateAccessKey"); the host signs calls
/// of exactly one Action`.
pub fn check_call(service: Service, params: &[(String, String)]) -> Result<&str, String> {
    if params.iter().any(|(name, _)| name.is_empty()) {
        return Err("a parameter has an empty name".into());
    }
    let actions: Vec<&str> = params
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Action"))
        .map(|(_, value)| value.as_str())
        .collect();
    if actions.len() > 1 {
        let named: Vec<String> = actions.iter().map(|action| quoted(action)).collect();
        return Err(format!(
            "the call names {} actions ({}); the host signs calls of exactly one Action",
            actions.len(),
            named.join(", ")
        ));
    }
    for (index, (name, _)) in params.iter().enumerate() {
        if params[..index]
            .iter()
            .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
        {
            let action = actions.first().copied().unwrap_or("?");
            return Err(format!(
                "{service}:{}: parameter {} appears more than once",
                crate::escape::truncate(action, MAX_QUOTED_ACTION),
                quoted(name)
            ));
        }
    }
    let value = |wanted: &str| {
        params
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(name, value)| (name.as_str(), value.as_str()))
    };
    let action = match value("Action") {
        Some(("Action", action)) if !action.is_empty() => action,
        Some(("Action", _)) => return Err("the Action parameter is empty".into()),
        Some((name, _)) => {
            return Err(format!("parameter {} must be spelled Action", quoted(name)))
        }
        None => return Err("the call has no Action parameter".into()),
    };
    if !is_allowed(service, action) {
        return Err(format!(
            "{service}:{} is not an action this host signs (it signs only the read-only IAM \
             and STS actions the connector uses)",
            crate::escape::truncate(action, MAX_QUOTED_ACTION)
        ));
    }
    match value("Version") {
        Some(("Version", version)) if version == service.api_version() => Ok(action),
        Some(("Version", version)) => Err(format!(
            "{service}:{action} with Version {}: this host signs {service} calls of Version {} only",
            quoted(version),
            service.api_version()
        )),
        Some((name, _)) => Err(format!(
            "parameter {} must be spelled Version",
            quoted(name)
        )),
        None => Err(format!(
            "{service}:{action} has no Version parameter (this host signs Version {})",
            service.api_version()
        )),
    }
}

fn quoted(text: &str) -> String {
    format!("{:?}", crate::escape::truncate(text, MAX_QUOTED_ACTION))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_table_is_read_only_and_issues_no_credentials() {
        for (service, action) in ALLOWED_ACTIONS {
            let read_only = ["List", "Get", "Generate"]
                .iter()
                .any(|prefix| action.starts_with(prefix));
            assert!(read_only, "{service}:{action}");
        }
        let sts: Vec<&str> = ALLOWED_ACTIONS
            .iter()
            .filter(|(service, _)| *service == Service::Sts)
            .map(|(_, action)| *action)
            .collect();
        assert_eq!(sts, ["GetCallerIdentity"]);
        for (service, action) in [
            (Service::Sts, "GetSessionToken"),
            (Service::Sts, "AssumeRole"),
            (Service::Sts, "AssumeRoleWithWebIdentity"),
            (Service::Sts, "AssumeRoleWithSAML"),
            (Service::Sts, "AssumeRoot"),
            (Service::Sts, "GetFederationToken"),
            (Service::Iam, "CreateAccessKey"),
            (Service::Iam, "CreateLoginProfile"),
            (Service::Iam, "UpdateLoginProfile"),
            (Service::Iam, "CreateServiceSpecificCredential"),
            (Service::Iam, "ResetServiceSpecificCredential"),
            (Service::Iam, "AttachUserPolicy"),
            (Service::Iam, "PutUserPolicy"),
            (Service::Iam, "UpdateAssumeRolePolicy"),
            (Service::Iam, "GetCallerIdentity"),
            (Service::Sts, "ListUsers"),
        ] {
            assert!(!is_allowed(service, action), "{service}:{action}");
        }
    }

    #[test]
    fn one_action_of_the_table_and_the_pinned_version() {
        let ok = params(&[
            ("Action", "ListUsers"),
            ("Version", "2010-05-08"),
            ("MaxItems", "1000"),
        ]);
        assert_eq!(check_call(Service::Iam, &ok), Ok("ListUsers"));
        let sts = params(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]);
        assert_eq!(check_call(Service::Sts, &sts), Ok("GetCallerIdentity"));

        let refused =
            |service, pairs: &[(&str, &str)]| check_call(service, &params(pairs)).unwrap_err();
        assert_eq!(
            refused(
                Service::Sts,
                &[("Action", "GetSessionToken"), ("Version", "2011-06-15")]
            ),
            "sts:GetSessionToken is not an action this host signs (it signs only the read-only \
             IAM and STS actions the connector uses)"
        );
        assert_eq!(
            refused(
                Service::Iam,
                &[
                    ("Action", "ListUsers"),
                    ("Version", "2010-05-08"),
                    ("Action", "CreateAccessKey")
                ]
            ),
            "the call names 2 actions (\"ListUsers\", \"CreateAccessKey\"); the host signs \
             calls of exactly one Action"
        );
        assert_eq!(
            refused(
                Service::Iam,
                &[
                    ("Action", "ListUsers"),
                    ("Version", "2010-05-08"),
                    ("action", "CreateAccessKey")
                ]
            ),
            "the call names 2 actions (\"ListUsers\", \"CreateAccessKey\"); the host signs \
             calls of exactly one Action"
        );
        assert_eq!(
            refused(
                Service::Iam,
                &[
                    ("Action", "GetUser"),
                    ("Version", "2010-05-08"),
                    ("UserName", "a"),
                    ("username", "b")
                ]
            ),
            "iam:GetUser: parameter \"username\" appears more than once"
        );
        assert_eq!(
            refused(
                Service::Iam,
                &[("action", "ListUsers"), ("Version", "2010-05-08")]
            ),
            "parameter \"action\" must be spelled Action"
        );
        assert_eq!(
            refused(
                Service::Iam,
                &[("Action", "ListUsers"), ("Version", "2099-01-01")]
            ),
            "iam:ListUsers with Version \"2099-01-01\": this host signs iam calls of Version \
             2010-05-08 only"
        );
        assert_eq!(
            refused(Service::Iam, &[("Action", "ListUsers")]),
            "iam:ListUsers has no Version parameter (this host signs Version 2010-05-08)"
        );
        assert_eq!(
            refused(Service::Iam, &[("Version", "2010-05-08")]),
            "the call has no Action parameter"
        );
        assert_eq!(
            refused(Service::Iam, &[("Action", ""), ("Version", "2010-05-08")]),
            "the Action parameter is empty"
        );
        assert_eq!(
            refused(Service::Iam, &[("", "x"), ("Action", "ListUsers")]),
            "a parameter has an empty name"
        );
        let long = "A".repeat(1000);
        let message = refused(
            Service::Iam,
            &[("Action", &long), ("Version", "2010-05-08")],
        );
        assert!(message.len() < 300, "{message}");
        assert!(message.contains("(1000 bytes)"), "{message}");
    }
}
