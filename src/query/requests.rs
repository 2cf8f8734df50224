//! Query API requests: `Action`, `Version` and the action's own parameters.
//!
//! Source: IAM API Reference, "Making Query Requests"; every List* action takes
//! `MaxItems` (1–1000) and `Marker` (from the previous page's `Marker`).

use super::operation::{Operation, Service, IAM_VERSION};
use crate::host::QueryCall;

/// The call of the action `T` stands for, with `params` after `Action` and `Version`.
pub fn call<T: Operation>(params: &[(&str, &str)]) -> QueryCall {
    let service = T::SERVICE;
    self::call_of(service.signing_name(), T::ACTION, service.version(), params)
}

/// An IAM call with `params` after `Action` and `Version`.
pub fn iam(action: &str, params: &[(&str, &str)]) -> QueryCall {
    call_of(Service::Iam.signing_name(), action, IAM_VERSION, params)
}

/// An STS call with `params` after `Action` and `Version`.
#[cfg(test)]
pub fn sts(action: &str, params: &[(&str, &str)]) -> QueryCall {
    call_of(Service::Sts.signing_name(), action, Service::Sts.version(), params)
}

fn call_of(
    service: &'static str,
    action: &str,
    version: &str,
    params: &[(&str, &str)],
) -> QueryCall {
    let mut all = vec![
        ("Action".to_owned(), action.to_owned()),
        ("Version".to_owned(), version.to_owned()),
    ];
    all.extend(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    QueryCall {
        service,
        params: all,
    }
}

/// One page of an IAM List* action: `params`, then `MaxItems`, then `Marker` when
/// continuing.
pub fn list_page(
    action: &str,
    params: &[(&str, &str)],
    max_items: u32,
    marker: Option<&str>,
) -> QueryCall {
    let max_items = max_items.to_string();
    let mut all = params.to_vec();
    all.push(("MaxItems", &max_items));
    if let Some(marker) = marker {
        all.push(("Marker", marker));
    }
    iam(action, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_users_first_and_next_page() {
        let first = list_page("ListUsers", &[], 100, None);
        assert_eq!(first.service, "iam");
        assert_eq!(
            first.params,
            [
                ("Action", "ListUsers"),
                ("Version", "2010-05-08"),
                ("MaxItems", "100")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let next = list_page("ListGroupsForUser", &[("UserName", "a&b")], 5, Some("m+/="));
        assert_eq!(next.action(), "ListGroupsForUser");
        assert_eq!(next.param("UserName"), Some("a&b"));
        assert_eq!(next.param("MaxItems"), Some("5"));
        assert_eq!(next.param("Marker"), Some("m+/="));
    }
}
