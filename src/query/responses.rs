//! Typed IAM responses, deserialized from Query API XML.
//!
//! Each List* response is `<{Action}Response><{Action}Result><{List}><member>…</member>
//! </{List}><IsTruncated/><Marker/></{Action}Result><ResponseMetadata/></{Action}Response>`.
//! An empty list may be `<Users/>`; an absent `IsTruncated` means false (ListAccessKeys and
//! ListSigningCertificates omit it). Timestamps stay ISO 8601 strings here; `model` parses
//! them. Source: IAM API Reference, each action's "Response Elements".

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// One page of a List* action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// `IsTruncated`: another page follows.
    pub is_truncated: bool,
    /// `Marker` to send for the next page; empty markers are read as absent.
    pub marker: Option<String>,
}

/// A List* response: its action name and how to read its page.
pub trait ListResponse: DeserializeOwned {
    /// IAM action, e.g. `ListUsers`.
    const ACTION: &'static str;
    /// One listed element.
    type Item;
    /// The page this response carries.
    fn into_page(self) -> ListPage<Self::Item>;
}

/// The `<member>` elements of a list.
#[derive(Debug, Deserialize)]
pub struct Members<T> {
    #[serde(rename = "member", default = "Vec::new")]
    pub member: Vec<T>,
}

impl<T> Default for Members<T> {
    fn default() -> Self {
        Self { member: Vec::new() }
    }
}

macro_rules! list_response {
    (
        $(#[$doc:meta])*
        $response:ident / $result:ident = ($action:literal, $result_tag:literal, $list_tag:literal, $item:ty)
    ) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        pub struct $response {
            #[serde(rename = $result_tag)]
            pub result: $result,
        }

        #[doc = concat!("The `", $result_tag, "` element.")]
        #[derive(Debug, Deserialize)]
        pub struct $result {
            #[serde(rename = $list_tag, default)]
            pub items: Members<$item>,
            #[serde(rename = "IsTruncated", default)]
            pub is_truncated: bool,
            #[serde(rename = "Marker")]
            pub marker: Option<String>,
        }

        impl ListResponse for $response {
            const ACTION: &'static str = $action;
            type Item = $item;
            fn into_page(self) -> ListPage<$item> {
                ListPage {
                    items: self.result.items.member,
                    is_truncated: self.result.is_truncated,
                    marker: self.result.marker.filter(|m| !m.is_empty()),
                }
            }
        }
    };
}

/// A `User` element. Source: IAM API Reference, data type `User`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserXml {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    /// ISO 8601, e.g. `2013-10-02T17:01:44Z` or with fractional seconds.
    pub create_date: String,
    /// ISO 8601; absent when the password was never used or the user has none.
    pub password_last_used: Option<String>,
}

/// A `Group` element. Source: IAM API Reference, data type `Group`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupXml {
    pub path: String,
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub create_date: String,
}

/// An `MFADevice` element. Source: IAM API Reference, data type `MFADevice`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MfaDeviceXml {
    pub user_name: String,
    pub serial_number: String,
    /// ISO 8601.
    pub enable_date: String,
}

list_response! {
    /// ListUsers. Source: IAM API Reference, ListUsers.
    ListUsersResponse / ListUsersResult = ("ListUsers", "ListUsersResult", "Users", UserXml)
}

list_response! {
    /// ListGroupsForUser. Source: IAM API Reference, ListGroupsForUser.
    ListGroupsForUserResponse / ListGroupsForUserResult =
        ("ListGroupsForUser", "ListGroupsForUserResult", "Groups", GroupXml)
}

list_response! {
    /// ListMFADevices. Source: IAM API Reference, ListMFADevices.
    ListMfaDevicesResponse / ListMfaDevicesResult =
        ("ListMFADevices", "ListMFADevicesResult", "MFADevices", MfaDeviceXml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;
    use crate::test_support::{fixture, response};

    fn page<T: ListResponse>(path: &str) -> ListPage<T::Item> {
        parse::<T>(T::ACTION, &response(200, &fixture(path)))
            .unwrap()
            .into_page()
    }

    #[test]
    fn synthetic_list_users_page_with_marker() {
        let p = page::<ListUsersResponse>("synthetic/ListUsers.page1.xml");
        assert!(p.is_truncated);
        assert_eq!(
            p.marker.as_deref(),
            Some("AAMAAQAAAAEAAAAAAAAAAQEAAAAAAAAAEXAMPLEMARKER+/=")
        );
        assert_eq!(
            p.items,
            [
                UserXml {
                    path: "/".into(),
                    user_name: "alice".into(),
                    user_id: "AIDAZXCVBNMASDFGHJKL1".into(),
                    arn: "arn:aws:iam::111122223333:user/alice".into(),
                    create_date: "2019-03-14T09:26:53Z".into(),
                    password_last_used: Some("2024-11-02T18:05:11Z".into()),
                },
                UserXml {
                    path: "/r&d/".into(),
                    user_name: "svc+deploy=bot@corp.example".into(),
                    user_id: "AIDAQWERTYUIOPLKJHGF2".into(),
                    arn: "arn:aws:iam::111122223333:user/r&d/svc+deploy=bot@corp.example".into(),
                    create_date: "2021-07-01T00:00:00Z".into(),
                    password_last_used: None,
                },
            ]
        );
    }

    #[test]
    fn synthetic_last_page_without_marker() {
        let p = page::<ListUsersResponse>("synthetic/ListUsers.page2.xml");
        assert_eq!((p.is_truncated, p.marker), (false, None));
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].user_name, "bob");
        assert_eq!(p.items[0].create_date, "2023-01-09T12:00:01Z");
    }

    #[test]
    fn moto_list_users_with_fractional_timestamps_and_escaped_path() {
        let p = page::<ListUsersResponse>("moto/ListUsers.page1.xml");
        assert_eq!((p.is_truncated, p.marker.as_deref()), (false, None));
        let names: Vec<_> = p.items.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "alice",
                "bob",
                "carol",
                "dave",
                "erin",
                "frank",
                "grace",
                "heidi",
                "svc-ci",
                "svc+deploy=bot@corp.example",
                "peggy.o-neil_2",
                "mallory",
                "auditor",
                "admin-bot"
            ]
        );
        assert_eq!(p.items[0].create_date, "2026-11-29T15:53:17.387390Z");
        let peggy = &p.items[10];
        assert_eq!(peggy.path, "/r&d/");
        assert_eq!(
            peggy.arn,
            "arn:aws:iam::123456789012:user/r&d/peggy.o-neil_2"
        );
    }

    #[test]
    fn groups_for_user() {
        let p = page::<ListGroupsForUserResponse>("moto/ListGroupsForUser.carol.xml");
        assert!(!p.is_truncated);
        assert_eq!(
            p.items[0],
            GroupXml {
                path: "/engineering/".into(),
                group_name: "Developers".into(),
                group_id: "mgac6lav05qwzqo8vppu".into(),
                arn: "arn:aws:iam::123456789012:group/engineering/Developers".into(),
                create_date: "2026-11-29T15:53:17.309537Z".into(),
            }
        );
        assert_eq!(p.items[1].group_name, "ReadOnly");
        assert_eq!(p.items.len(), 2);
    }

    #[test]
    fn mfa_devices_one_and_empty_self_closing_list() {
        let p = page::<ListMfaDevicesResponse>("moto/ListMFADevices.alice.xml");
        assert_eq!(
            p.items,
            [MfaDeviceXml {
                user_name: "alice".into(),
                serial_number: "arn:aws:iam::123456789012:mfa/alice-mfa".into(),
                enable_date: "2026-11-29T15:53:17.431167Z".into(),
            }]
        );
        let empty = page::<ListMfaDevicesResponse>("moto/ListMFADevices.bob-empty.xml");
        assert_eq!((empty.items.len(), empty.is_truncated), (0, false));
    }

    #[test]
    fn missing_required_element_is_malformed() {
        let text = "<ListUsersResponse><ListUsersResult><Users><member><Path>/</Path>\
                    <UserId>AIDA1</UserId><Arn>arn:aws:iam::1:user/x</Arn>\
                    <CreateDate>2020-01-01T00:00:00Z</CreateDate></member></Users>\
                    </ListUsersResult></ListUsersResponse>";
        let err = parse::<ListUsersResponse>("ListUsers", &response(200, text)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers returned an unreadable response (HTTP 200): missing field `UserName`"
        );
    }

    #[test]
    fn duplicated_element_is_malformed() {
        let text = "<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated>\
                    <IsTruncated>true</IsTruncated></ListUsersResult></ListUsersResponse>";
        let err = parse::<ListUsersResponse>("ListUsers", &response(200, text)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers returned an unreadable response (HTTP 200): duplicate field `IsTruncated`"
        );
    }

    #[test]
    fn unknown_elements_are_ignored() {
        let text = "<ListUsersResponse><ListUsersResult><Users/><NewThing>x</NewThing>\
                    </ListUsersResult><ResponseMetadata><RequestId>r</RequestId>\
                    </ResponseMetadata></ListUsersResponse>";
        let p = parse::<ListUsersResponse>("ListUsers", &response(200, text))
            .unwrap()
            .into_page();
        assert_eq!((p.items.len(), p.is_truncated, p.marker), (0, false, None));
    }
}
