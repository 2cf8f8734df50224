//! The IAM Query API: request building, typed responses, and error XML.
//!
//! Raw XML never leaves this module: callers get typed responses or a
//! [`ConnectorError`] naming the action.

pub mod error;
pub mod requests;
pub mod responses;

use serde::de::DeserializeOwned;

use crate::error::{ConnectorError, MalformedResponse};
use crate::host::{HttpResponse, TransportError};
use crate::xml;

pub use responses::{ListPage, ListResponse};

/// Reads the response of `action` into `T`.
///
/// Order of checks: UTF-8; an HTML page or other non-XML body; well-formed XML; an error
/// document (`ErrorResponse`/`Response` root) becomes [`ConnectorError::Api`] whatever the
/// status; any other non-2xx status, or a root other than `<{action}Response>`, becomes
/// [`ConnectorError::MalformedResponse`]; then typed deserialization.
pub fn parse<T: DeserializeOwned>(
    action: &str,
    response: &HttpResponse,
) -> Result<T, ConnectorError> {
    let status = response.status;
    let malformed = |detail: String| {
        ConnectorError::MalformedResponse(MalformedResponse {
            action: action.to_owned(),
            status,
            detail,
        })
    };
    let text = std::str::from_utf8(&response.body)
        .map_err(|e| malformed(format!("body is not UTF-8: {e}")))?;
    if let Some(detail) = non_xml_body(text) {
        return Err(malformed(detail));
    }
    let root = xml::root_element(text).map_err(malformed)?;
    if error::is_error_root(&root) {
        return Err(error::parse(action, status, text).map_or_else(malformed, ConnectorError::Api));
    }
    if !(200..300).contains(&status) {
        return Err(malformed(format!(
            "unexpected HTTP status with a <{root}> body"
        )));
    }
    let expected = format!("{action}Response");
    if root != expected {
        return Err(malformed(format!(
            "unexpected root element <{root}>, expected <{expected}>"
        )));
    }
    xml::from_str(text).map_err(malformed)
}

/// Reads a transport result for `action`: a response goes to [`parse`], a transport
/// error becomes [`ConnectorError::Transport`].
pub fn parse_result<T: DeserializeOwned>(
    action: &str,
    result: &Result<HttpResponse, TransportError>,
) -> Result<T, ConnectorError> {
    match result {
        Ok(response) => parse(action, response),
        Err(error) => Err(ConnectorError::Transport {
            action: action.to_owned(),
            error: error.clone(),
        }),
    }
}

/// Reads one response with every response type this crate knows, and as an error
/// document; returns what each made of it. For the fuzz targets and hostile-input tests:
/// whatever the bytes, every reader must return, never panic.
pub fn parse_with_every_reader(status: u16, body: &[u8]) -> Vec<Result<(), ConnectorError>> {
    use responses::*;
    let response = HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    fn read<T: DeserializeOwned>(
        action: &str,
        response: &HttpResponse,
    ) -> Result<(), ConnectorError> {
        parse::<T>(action, response).map(drop)
    }
    let mut results = vec![
        read::<ListUsersResponse>("ListUsers", &response),
        read::<ListGroupsResponse>("ListGroups", &response),
        read::<ListGroupsForUserResponse>("ListGroupsForUser", &response),
        read::<ListMfaDevicesResponse>("ListMFADevices", &response),
        read::<ListAccessKeysResponse>("ListAccessKeys", &response),
        read::<ListUserTagsResponse>("ListUserTags", &response),
        read::<ListUserPoliciesResponse>("ListUserPolicies", &response),
        read::<ListAttachedUserPoliciesResponse>("ListAttachedUserPolicies", &response),
        read::<ListSshPublicKeysResponse>("ListSSHPublicKeys", &response),
        read::<ListSigningCertificatesResponse>("ListSigningCertificates", &response),
        read::<ListServiceSpecificCredentialsResponse>("ListServiceSpecificCredentials", &response),
        read::<ListGroupPoliciesResponse>("ListGroupPolicies", &response),
        read::<ListAttachedGroupPoliciesResponse>("ListAttachedGroupPolicies", &response),
        read::<GetLoginProfileResponse>("GetLoginProfile", &response),
        read::<GetAccountSummaryResponse>("GetAccountSummary", &response),
        read::<GetCallerIdentityResponse>("GetCallerIdentity", &response),
        read::<GetUserResponse>("GetUser", &response),
        read::<GetAccountAuthorizationDetailsResponse>("GetAccountAuthorizationDetails", &response),
        read::<GenerateCredentialReportResponse>("GenerateCredentialReport", &response),
        read::<GetCredentialReportResponse>("GetCredentialReport", &response),
        read::<GetUserPolicyResponse>("GetUserPolicy", &response),
        read::<GetGroupPolicyResponse>("GetGroupPolicy", &response),
        read::<GetPolicyResponse>("GetPolicy", &response),
        read::<GetPolicyVersionResponse>("GetPolicyVersion", &response),
        read::<GetAccessKeyLastUsedResponse>("GetAccessKeyLastUsed", &response),
        read::<ListAccountAliasesResponse>("ListAccountAliases", &response),
    ];
    if let Ok(text) = std::str::from_utf8(body) {
        results.push(
            error::parse("ListUsers", status, text)
                .map(drop)
                .map_err(|detail| {
                    ConnectorError::MalformedResponse(MalformedResponse {
                        action: "ListUsers".into(),
                        status,
                        detail,
                    })
                }),
        );
    }
    results
}

/// Describes a body that is plainly not XML (empty, an HTML page, plain text).
fn non_xml_body(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Some("empty body".into());
    }
    let head: String = trimmed
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        let title = between(trimmed, "<title>", "</title>").unwrap_or("untitled");
        return Some(format!(
            "not XML: an HTML page ({:?})",
            xml::excerpt(title.trim())
        ));
    }
    if !trimmed.starts_with('<') {
        return Some(format!("not XML: {:?}", xml::excerpt(trimmed)));
    }
    None
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::responses::ListUsersResponse;
    use crate::test_support::{fixture, response};

    fn malformed_detail(result: Result<ListUsersResponse, ConnectorError>) -> (u16, String) {
        match result.unwrap_err() {
            ConnectorError::MalformedResponse(m) => {
                assert_eq!(m.action, "ListUsers");
                (m.status, m.detail)
            }
            other => panic!("expected MalformedResponse, got {other:?}"),
        }
    }

    #[test]
    fn an_html_500_page_is_a_malformed_response_naming_the_action() {
        let body = fixture("moto/ListServiceSpecificCredentials.alice.moto-500-html.xml");
        let (status, detail) = malformed_detail(parse("ListUsers", &response(500, &body)));
        assert_eq!(status, 500);
        assert_eq!(
            detail,
            r#"not XML: an HTML page ("500 Internal Server Error")"#
        );
    }

    #[test]
    fn an_html_page_with_status_200_is_malformed_too() {
        let (status, detail) = malformed_detail(parse(
            "ListUsers",
            &response(200, "<html><title>Sign in</title></html>"),
        ));
        assert_eq!(
            (status, detail.as_str()),
            (200, r#"not XML: an HTML page ("Sign in")"#)
        );
    }

    #[test]
    fn truncated_xml_is_malformed() {
        let body = fixture("moto/ListUsers.page1.xml");
        let cut = &body[..body.len() / 2];
        let (_, detail) = malformed_detail(parse("ListUsers", &response(200, cut)));
        assert!(
            detail.starts_with("not well-formed XML") || detail.starts_with("truncated"),
            "{detail}"
        );
    }

    #[test]
    fn an_unknown_root_element_is_malformed() {
        let body = fixture("moto/ListGroups.xml");
        let (_, detail) = malformed_detail(parse("ListUsers", &response(200, &body)));
        assert_eq!(
            detail,
            "unexpected root element <ListGroupsResponse>, expected <ListUsersResponse>"
        );
    }

    #[test]
    fn a_non_2xx_status_with_a_success_body_is_malformed() {
        let body = fixture("moto/ListUsers.page1.xml");
        let (status, detail) = malformed_detail(parse("ListUsers", &response(502, &body)));
        assert_eq!(status, 502);
        assert_eq!(
            detail,
            "unexpected HTTP status with a <ListUsersResponse> body"
        );
    }

    #[test]
    fn invalid_utf8_and_empty_bodies_are_malformed() {
        let bad = HttpResponse {
            status: 200,
            headers: vec![],
            body: vec![b'<', 0xff, b'>'],
        };
        let (_, detail) = malformed_detail(parse("ListUsers", &bad));
        assert!(detail.starts_with("body is not UTF-8"), "{detail}");
        let (_, detail) = malformed_detail(parse("ListUsers", &response(200, "")));
        assert_eq!(detail, "empty body");
        let (_, detail) = malformed_detail(parse("ListUsers", &response(503, "Slow Down")));
        assert_eq!(detail, r#"not XML: "Slow Down""#);
    }

    #[test]
    fn an_error_document_is_an_api_error_whatever_the_status() {
        let body = fixture("synthetic/Error.Throttling.xml");
        let err = parse::<ListUsersResponse>("ListUsers", &response(400, &body)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers failed: HTTP 400 Throttling: Rate exceeded"
        );
    }

    #[test]
    fn a_transport_error_names_the_action() {
        let err = parse_result::<ListUsersResponse>("ListUsers", &Err(TransportError::Timeout))
            .unwrap_err();
        assert_eq!(err.to_string(), "ListUsers was not sent: timed out");
        assert_eq!(err.code(), "TransportError");
    }
}

#[cfg(test)]
mod hostile_tests;
