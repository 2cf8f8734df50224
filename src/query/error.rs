//! Query API error documents.
//!
//! Two shapes are read (Source: IAM API Reference, "Common Errors"; moto 5 in auth mode):
//! `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>` and the
//! wrapped `<ErrorResponse|Response><Errors><Error>…</Error></Errors><RequestID/>…`.

use serde::Deserialize;

use crate::error::ApiError;
use crate::xml;

/// Whether a root element name is one of the error documents.
pub fn is_error_root(root: &str) -> bool {
    root == "ErrorResponse" || root == "Response"
}

#[derive(Debug, Deserialize)]
struct ErrorDocument {
    #[serde(rename = "Error")]
    error: Option<ErrorDetail>,
    #[serde(rename = "Errors")]
    errors: Option<WrappedErrors>,
    #[serde(rename = "RequestId", alias = "RequestID")]
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WrappedErrors {
    #[serde(rename = "Error", default)]
    error: Vec<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// Reads an error document answered to `action` with HTTP `status`.
///
/// Errors: a message when the document has no `Error` with a `Code`.
pub fn parse(action: &str, status: u16, text: &str) -> Result<ApiError, String> {
    // The well-formedness pass first: the deserializer trusts its input to be well formed.
    let root = xml::root_element(text)?;
    if !is_error_root(&root) {
        return Err(format!("<{root}> is not an error document"));
    }
    let document: ErrorDocument = xml::from_str(text)?;
    let detail = document
        .error
        .or_else(|| document.errors.and_then(|e| e.error.into_iter().next()))
        .ok_or("error document without an <Error> element")?;
    Ok(ApiError {
        action: action.to_owned(),
        status,
        code: detail.code,
        message: detail.message,
        request_id: document.request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fixture;

    #[test]
    fn aws_shape_with_request_id() {
        let e = parse(
            "ListUsers",
            403,
            &fixture("synthetic/Error.AccessDenied.xml"),
        )
        .unwrap();
        assert_eq!(e.action, "ListUsers");
        assert_eq!(e.status, 403);
        assert_eq!(e.code, "AccessDenied");
        assert!(
            e.message.starts_with("User: arn:aws:iam::"),
            "{}",
            e.message
        );
        assert!(e.request_id.is_some());
    }

    #[test]
    fn moto_shape_with_duplicate_lowercase_message() {
        let text = fixture("moto/Error.NoSuchEntity.GetLoginProfile.xml");
        let e = parse("GetLoginProfile", 404, &text).unwrap();
        assert_eq!(
            e,
            ApiError {
                action: "GetLoginProfile".into(),
                status: 404,
                code: "NoSuchEntity".into(),
                message: "Login profile for dave not found".into(),
                request_id: Some("yvQPdSwWYgaki3g7n0NxGbRQdV2UNcNqph6ShHt0wqrn6mg21Ozb".into()),
            }
        );
    }

    #[test]
    fn wrapped_errors_shape_without_namespace_or_request_id() {
        let e = parse(
            "ListUsers",
            403,
            &fixture("moto/Error.SignatureDoesNotMatch.authmode.xml"),
        )
        .unwrap();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(e
            .message
            .starts_with("The request signature we calculated does not match"));
        assert_eq!(e.request_id, None);
        let e = parse(
            "ListUsers",
            403,
            &fixture("moto/Error.AccessDenied.authmode.xml"),
        )
        .unwrap();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(
            e.message,
            "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: iam:CreateUser"
        );
    }

    #[test]
    fn ec2_style_response_root_with_request_id_spelled_id() {
        let text = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                    <Message>Request limit exceeded.</Message></Error></Errors>\
                    <RequestID>r-1</RequestID></Response>";
        let e = parse("ListUsers", 503, text).unwrap();
        assert_eq!(
            (e.code.as_str(), e.request_id.as_deref()),
            ("RequestLimitExceeded", Some("r-1"))
        );
    }

    #[test]
    fn escaped_characters_in_messages_are_unescaped() {
        let text = "<ErrorResponse><Error><Code>ValidationError</Code>\
                    <Message>path /r&amp;d/ &lt;bad&gt;</Message></Error></ErrorResponse>";
        assert_eq!(
            parse("ListUsers", 400, text).unwrap().message,
            "path /r&d/ <bad>"
        );
    }

    #[test]
    fn an_error_document_without_error_is_reported() {
        assert_eq!(
            parse(
                "ListUsers",
                400,
                "<ErrorResponse><RequestId>x</RequestId></ErrorResponse>"
            )
            .unwrap_err(),
            "error document without an <Error> element"
        );
    }
}
