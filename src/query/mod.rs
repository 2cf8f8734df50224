//! The IAM Query API: request building, typed responses, and error XML.
//!
//! Raw XML never leaves this module: callers get typed responses or a
//! [`ConnectorError`] naming the action.

pub mod convert;
pub mod error;
pub mod operation;
pub mod requests;
pub mod responses;

use serde::de::{Deserialize, DeserializeOwned, IgnoredAny};

use crate::error::ConnectorError;
use crate::host::{HttpResponse, TransportError};
use crate::xml;

pub use operation::Operation;
pub use responses::ListResponse;

/// Reads a response of the action `T` stands for ([`Operation::ACTION`]) into `T`.
///
/// Order of checks: UTF-8; an HTML page or other non-XML body; well-formed XML; an error
/// document (`ErrorResponse`/`Response` root) becomes [`ConnectorError::Api`] whatever the
/// status; any other non-2xx status, or a root other than `<{ACTION}Response>`, becomes
/// [`ConnectorError::MalformedResponse`]; then typed deserialization.
pub fn parse<T: Operation + DeserializeOwned>(
    response: &HttpResponse,
) -> Result<T, ConnectorError> {
    read(T::ACTION, response)
}

/// [`parse`] for a response type that borrows from the body (e.g. the credential report's
/// text, read without a copy).
///
/// Errors: as [`parse`].
pub fn parse_borrowed<'a, T: Operation + Deserialize<'a>>(
    response: &'a HttpResponse,
) -> Result<T, ConnectorError> {
    read(T::ACTION, response)
}

/// Reads a transport result for the action `T` stands for: a response goes to [`parse`], a
/// transport error becomes [`ConnectorError::Transport`].
pub fn parse_result<T: Operation + DeserializeOwned>(
    result: &Result<HttpResponse, TransportError>,
) -> Result<T, ConnectorError> {
    match result {
        Ok(response) => parse(response),
        Err(error) => Err(ConnectorError::Transport {
            action: T::ACTION.to_owned(),
            error: error.clone(),
        }),
    }
}

/// Whether a response of `action` answers it (checked as [`parse`] does), its content left
/// unread: what a permission probe needs, whatever the action.
///
/// Errors: as [`parse`].
pub fn parse_outcome(action: &str, response: &HttpResponse) -> Result<(), ConnectorError> {
    read::<IgnoredAny>(action, response).map(drop)
}

/// [`parse`] for `action`, into any `T`.
fn read<'a, T: Deserialize<'a>>(
    action: &str,
    response: &'a HttpResponse,
) -> Result<T, ConnectorError> {
    let status = response.status;
    let malformed = |detail: String| ConnectorError::malformed(action, status, detail);
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

/// Reads one response with every response type this crate knows, and as an error
/// document; returns what each made of it. For the fuzz targets and hostile-input tests:
/// whatever the bytes, every reader must return, never panic.
#[cfg(any(test, feature = "hooks"))]
pub fn parse_with_every_reader(status: u16, body: &[u8]) -> Vec<Result<(), ConnectorError>> {
    use responses::*;
    let response = HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    fn each<T: Operation + DeserializeOwned>(
        response: &HttpResponse,
    ) -> Result<(), ConnectorError> {
        parse::<T>(response).map(drop)
    }
    let mut results = vec![
        each::<ListUsersResponse>(&response),
        each::<ListGroupsResponse>(&response),
        each::<ListGroupsForUserResponse>(&response),
        each::<ListMfaDevicesResponse>(&response),
        each::<ListAccessKeysResponse>(&response),
        each::<ListUserTagsResponse>(&response),
        each::<ListUserPoliciesResponse>(&response),
        each::<ListAttachedUserPoliciesResponse>(&response),
        each::<ListSshPublicKeysResponse>(&response),
        each::<ListSigningCertificatesResponse>(&response),
        each::<ListServiceSpecificCredentialsResponse>(&response),
        each::<ListGroupPoliciesResponse>(&response),
        each::<ListAttachedGroupPoliciesResponse>(&response),
        each::<GetLoginProfileResponse>(&response),
        each::<GetAccountSummaryResponse>(&response),
        each::<GetCallerIdentityResponse>(&response),
        each::<GetUserResponse>(&response),
        each::<GetAccountAuthorizationDetailsResponse>(&response),
        each::<GenerateCredentialReportResponse>(&response),
        parse_borrowed::<GetCredentialReportResponse>(&response).map(drop),
        each::<GetUserPolicyResponse>(&response),
        each::<GetGroupPolicyResponse>(&response),
        each::<GetPolicyResponse>(&response),
        each::<GetPolicyVersionResponse>(&response),
        each::<GetAccessKeyLastUsedResponse>(&response),
        each::<ListAccountAliasesResponse>(&response),
        each::<GetGroupResponse>(&response),
    ];
    if let Ok(text) = std::str::from_utf8(body) {
        results.push(
            error::parse(ListUsersResponse::ACTION, status, text)
                .map(drop)
                .map_err(|detail| {
                    ConnectorError::malformed(ListUsersResponse::ACTION, status, detail)
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
        let (status, detail) = malformed_detail(parse::<ListUsersResponse>(&response(500, &body)));
        assert_eq!(status, 500);
        assert_eq!(
            detail,
            r#"not XML: an HTML page ("500 Internal Server Error")"#
        );
    }

    #[test]
    fn an_html_page_with_status_200_is_malformed_too() {
        let (status, detail) = malformed_detail(parse::<ListUsersResponse>(&response(
            200,
            "<html><title>Sign in</title></html>",
        )));
        assert_eq!(
            (status, detail.as_str()),
            (200, r#"not XML: an HTML page ("Sign in")"#)
        );
    }

    #[test]
    fn truncated_xml_is_malformed() {
        let body = fixture("moto/ListUsers.page1.xml");
        let cut = &body[..body.len() / 2];
        let (_, detail) = malformed_detail(parse::<ListUsersResponse>(&response(200, cut)));
        assert!(
            detail.starts_with("not well-formed XML") || detail.starts_with("truncated"),
            "{detail}"
        );
    }

    #[test]
    fn an_unknown_root_element_is_malformed() {
        let body = fixture("moto/ListGroups.xml");
        let (_, detail) = malformed_detail(parse::<ListUsersResponse>(&response(200, &body)));
        assert_eq!(
            detail,
            "unexpected root element <ListGroupsResponse>, expected <ListUsersResponse>"
        );
    }

    #[test]
    fn a_non_2xx_status_with_a_success_body_is_malformed() {
        let body = fixture("moto/ListUsers.page1.xml");
        let (status, detail) = malformed_detail(parse::<ListUsersResponse>(&response(502, &body)));
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
        let (_, detail) = malformed_detail(parse::<ListUsersResponse>(&bad));
        assert!(detail.starts_with("body is not UTF-8"), "{detail}");
        let (_, detail) = malformed_detail(parse::<ListUsersResponse>(&response(200, "")));
        assert_eq!(detail, "empty body");
        let (_, detail) = malformed_detail(parse::<ListUsersResponse>(&response(503, "Slow Down")));
        assert_eq!(detail, r#"not XML: "Slow Down""#);
    }

    #[test]
    fn an_error_document_is_an_api_error_whatever_the_status() {
        let body = fixture("synthetic/Error.Throttling.xml");
        let err = parse::<ListUsersResponse>(&response(400, &body)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListUsers failed: HTTP 400 Throttling: Rate exceeded"
        );
    }

    #[test]
    fn a_transport_error_names_the_action() {
        let err = parse_result::<ListUsersResponse>(&Err(TransportError::Timeout)).unwrap_err();
        assert_eq!(err.to_string(), "ListUsers was not sent: timed out");
        assert_eq!(err.code(), "TransportError");
    }
}

#[cfg(test)]
mod hostile_tests;
