//! SigV4 signing of Query API requests with the official `aws-sigv4` crate.
//!
//! The signer signs exactly the request that is sent: method, the full URL (the host and port
//! come from it; no separate `host` header is set), the `content-type` header and the body.
//! With a session token it adds a signed `x-amz-security-token` header.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningError, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// Signs requests with one set of credentials. Its `Debug` shows nothing of the credentials.
pub struct Signer {
    identity: Identity,
    has_session_token: bool,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("has_session_token", &self.has_session_token)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Takes ownership of the credentials; they are reachable only through signing.
    pub fn new(credentials: Credentials) -> Signer {
        let has_session_token = credentials.session_token().is_some();
        Signer {
            identity: credentials.into(),
            has_session_token,
        }
    }

    /// Whether requests carry `x-amz-security-token`.
    pub fn has_session_token(&self) -> bool {
        self.has_session_token
    }

    /// Adds `authorization`, `x-amz-date` (and `x-amz-security-token`) headers to `request`,
    /// signing for `service` in `region` at `time`. The request's URI must be absolute.
    ///
    /// Errors: [`SigningError`] when the request cannot be signed (its message holds no secret).
    pub fn sign(
        &self,
        request: &mut http::Request<Vec<u8>>,
        service: &str,
        region: &str,
        time: SystemTime,
    ) -> Result<(), SigningError> {
        let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(region)
            .name(service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .expect("identity, region, name, time and settings are all set")
            .into();
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(name, value)| value.to_str().ok().map(|value| (name.as_str(), value)));
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers,
            SignableBody::Bytes(request.body()),
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{CANARY_SECRET, CANARY_TOKEN};
    use std::time::{Duration, UNIX_EPOCH};

    fn request() -> http::Request<Vec<u8>> {
        http::Request::post("http://127.0.0.1:5077/")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(b"Action=ListUsers&Version=2010-05-08".to_vec())
            .unwrap()
    }

    #[test]
    fn signs_with_scope_and_token() {
        let signer = Signer::new(Credentials::new(
            "AKIDEXAMPLE",
            CANARY_SECRET,
            Some(CANARY_TOKEN.into()),
            None,
            "test",
        ));
        let mut request = request();
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        signer.sign(&mut request, "iam", "us-east-1", time).unwrap();
        let authorization = request.headers()["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/iam/aws4_request"
            ),
            "{authorization}"
        );
        assert!(
            authorization
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{authorization}"
        );
        assert_eq!(request.headers()["x-amz-date"], "20231114T221320Z");
        assert_eq!(request.headers()["x-amz-security-token"], CANARY_TOKEN);
        assert!(request.headers()["x-amz-security-token"].is_sensitive());
        assert!(!authorization.contains(CANARY_SECRET));
    }

    #[test]
    fn no_token_header_without_session_token() {
        let signer = Signer::new(Credentials::new(
            "AKIDEXAMPLE",
            CANARY_SECRET,
            None,
            None,
            "test",
        ));
        let mut request = request();
        signer
            .sign(&mut request, "sts", "eu-west-1", SystemTime::now())
            .unwrap();
        assert!(request.headers().get("x-amz-security-token").is_none());
        assert!(request.headers()["authorization"]
            .to_str()
            .unwrap()
            .contains("/eu-west-1/sts/aws4_request"));
    }

    #[test]
    fn debug_shows_no_credentials() {
        let signer = Signer::new(Credentials::new(
            "AKIDEXAMPLE",
            CANARY_SECRET,
            Some(CANARY_TOKEN.into()),
            None,
            "test",
        ));
        let debug = format!("{signer:?} {signer:#?}");
        assert!(
            !debug.contains("CANARY") && !debug.contains("AKIDEXAMPLE"),
            "{debug}"
        );
    }
}
