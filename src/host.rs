//! What the component needs from its host, as plain Rust types.
//!
//! `lib.rs` implements [`Host`] over the WIT imports; tests implement it over fixtures.
//! Nothing here carries a credential: the host signs calls the component only describes.

/// One AWS Query API call: a service signing name and the unencoded parameters
/// (`Action`, `Version`, then the action's own). The host picks the endpoint and signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCall {
    /// `iam` or `sts`.
    pub service: &'static str,
    /// Parameters in order; `params[0]` is always `("Action", …)`.
    pub params: Vec<(String, String)>,
}

impl QueryCall {
    /// The value of the `Action` parameter, e.g. `ListUsers`.
    #[cfg(test)]
    pub fn action(&self) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == "Action")
            .map_or("", |(_, v)| v.as_str())
    }

    /// The value of a parameter, if present.
    #[cfg(test)]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A raw HTTP response, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub body: Vec<u8>,
}

/// Why the host produced no response (mirrors WIT `transport-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The host refused to send the call.
    #[error("refused by the host: {0}")]
    Refused(String),
    /// The host has no usable credentials.
    #[error("credentials unavailable: {0}")]
    Credentials(String),
    /// Connection, DNS or TLS failure.
    #[error("network error: {0}")]
    Network(String),
    /// No complete response in time.
    #[error("timed out")]
    Timeout,
    /// The body exceeded the host's cap (bytes).
    #[error("response body larger than the host's cap of {0} bytes")]
    BodyTooLarge(u64),
}

impl TransportError {
    /// What stands for the result of a call the host returned none for (it answered fewer
    /// calls than a `send_all` handed it).
    pub fn missing() -> Self {
        TransportError::Refused("the host returned fewer results than calls".into())
    }
}

/// Log levels (mirrors WIT `log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Detail for `--debug`.
    Debug,
    /// Progress.
    Info,
    /// A field or a user left incomplete.
    Warn,
    /// A failure. The contract's level; the component logs none today (what fails is
    /// returned as an error or counted).
    #[allow(dead_code)]
    Error,
}

/// How the host obtained its credentials (mirrors WIT `identity.auth-method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Static access keys (optionally with a session token).
    AccessKeys,
    /// A role assumed with an OIDC token (STS AssumeRoleWithWebIdentity).
    WebIdentityRole,
}

/// The host's signing identity (mirrors WIT `identity.info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// How the host obtained its credentials.
    pub auth_method: AuthMethod,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// e.g. `us-east-1`.
    pub region: String,
    /// The role assumed with web identity; `None` for access keys.
    pub role_arn: Option<String>,
}

/// The host capabilities the component uses.
pub trait Host {
    /// Sends calls concurrently, at most `max_in_flight` at once (each starts as soon as one
    /// before it completes); results in the order of `calls`.
    fn send_all_in_flight(
        &self,
        calls: &[QueryCall],
        max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>>;
    /// Sends calls concurrently, as many at once as this host allows; results in the order
    /// of `calls`.
    fn send_all(&self, calls: &[QueryCall]) -> Vec<Result<HttpResponse, TransportError>> {
        self.send_all_in_flight(calls, usize::MAX)
    }
    /// Sends one call.
    fn send(&self, call: &QueryCall) -> Result<HttpResponse, TransportError> {
        self.send_all(std::slice::from_ref(call))
            .pop()
            .unwrap_or_else(|| {
                Err(TransportError::Refused(
                    "the host returned no result".into(),
                ))
            })
    }
    /// Records one log line.
    fn log(&self, level: Level, message: &str);
    /// The signing identity.
    fn identity(&self) -> Identity;
    /// Current wall-clock time, ms since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Waits `ms` milliseconds (retry backoff).
    fn sleep_ms(&self, ms: u64);
    /// A random number (retry jitter; not for secrets).
    fn random_u64(&self) -> u64;
    /// Most calls worth handing to one `send_all` (the host's limit per batch).
    fn max_batch(&self) -> usize {
        usize::MAX
    }
}
