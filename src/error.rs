//! Errors of the component (mirrors WIT `inventory.connector-error`).

use crate::host::TransportError;

/// An error answered by AWS in Query error XML.
///
/// Source: IAM API Reference, "Common Errors"; both `<ErrorResponse><Error>` and the
/// `<…><Errors><Error>` wrapper are read by [`crate::query::error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} failed: HTTP {status} {code}: {message}")]
pub struct ApiError {
    /// IAM/STS action, e.g. `ListUsers`.
    pub action: String,
    /// HTTP status code.
    pub status: u16,
    /// AWS error code, e.g. `AccessDenied`.
    pub code: String,
    /// AWS error message.
    pub message: String,
    /// AWS request id, when the response had one.
    pub request_id: Option<String>,
}

/// A response that is not the one the action documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} returned an unreadable response (HTTP {status}): {detail}")]
pub struct MalformedResponse {
    /// IAM/STS action whose response it was.
    pub action: String,
    /// HTTP status code.
    pub status: u16,
    /// What was wrong.
    pub detail: String,
}

/// Why a call, `check` or `collect` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// AWS answered with an error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// AWS answered with something unreadable.
    #[error(transparent)]
    MalformedResponse(#[from] MalformedResponse),
    /// The host produced no response.
    #[error("{action} was not sent: {error}")]
    Transport {
        action: String,
        error: TransportError,
    },
    /// The cursor was not produced by this component version.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A setting is out of range.
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
}

impl ConnectorError {
    /// A [`MalformedResponse`]: the response of `action` with HTTP `status` is not the one
    /// the action documents, and `detail` says how. The one way the crate builds one.
    pub fn malformed(action: &str, status: u16, detail: impl Into<String>) -> Self {
        Self::MalformedResponse(MalformedResponse {
            action: action.to_owned(),
            status,
            detail: detail.into(),
        })
    }

    /// The IAM/STS action the error belongs to, if it belongs to one.
    pub fn action(&self) -> Option<&str> {
        match self {
            Self::Api(e) => Some(&e.action),
            Self::MalformedResponse(e) => Some(&e.action),
            Self::Transport { action, .. } => Some(action),
            Self::InvalidCursor(_) | Self::InvalidSettings(_) => None,
        }
    }

    /// A short code for counting errors: the AWS error code, or `MalformedResponse`,
    /// `TransportError`, `InvalidCursor`, `InvalidSettings`.
    pub fn code(&self) -> &str {
        match self {
            Self::Api(e) => &e.code,
            Self::MalformedResponse(_) => "MalformedResponse",
            Self::Transport { .. } => "TransportError",
            Self::InvalidCursor(_) => "InvalidCursor",
            Self::InvalidSettings(_) => "InvalidSettings",
        }
    }
}

/// Whether an AWS error code says the credentials or the signature are not accepted, so
/// that no call can succeed. Source: IAM API Reference, "Common Errors"; STS errors.
pub fn is_credentials_error(code: &str) -> bool {
    matches!(
        code,
        "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidAccessKeyId"
            | "UnrecognizedClientException"
            | "AuthFailure"
    )
}
