//! SigV4 signing of Query API requests with the official `aws-sigv4` crate.
//!
//! The signer signs exactly the request that is sent: method, the full URL (the host and port
//! come from it; no separate `host` header is set), the `content-type` header and the body.
//! With a session token it adds a signed `x-amz-security-token` header. The credentials come
//! from a [`CredentialSource`] at every request, through its refresh cache.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::credentials::CredentialSource;
use crate::error::SignError;

/// Signs requests with the credentials of one [`CredentialSource`], fetched for every request
/// (so refreshed web identity credentials take effect at once). Its `Debug` shows nothing of
/// the credentials.
pub struct Signer {
    source: Arc<CredentialSource>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("method", &self.source.method())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Signs with fixed credentials; they are reachable only through signing.
    pub fn new(credentials: Credentials) -> Signer {
        Signer::from_source(Arc::new(CredentialSource::fixed(credentials)))
    }

    /// Signs with whatever `source` yields at each request.
    pub fn from_source(source: Arc<CredentialSource>) -> Signer {
        Signer { source }
    }

    /// The credential source (auth method, role ARN).
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// Adds `authorization`, `x-amz-date` (and `x-amz-security-token`) headers to `request`,
    /// signing for `service` in `region` at `time`. The request's URI must be absolute.
    ///
    /// Errors: [`SignError::Credentials`] when the source has no usable credentials,
    /// [`SignError::Unusable`] when a value could not be carried (checked before signing, so
    /// it is an error, never a panic), [`SignError::Signing`] when the request cannot be
    /// signed (no secret in any).
    pub fn sign(
        &self,
        request: &mut http::Request<Vec<u8>>,
        service: &str,
        region: &str,
        time: SystemTime,
    ) -> Result<(), SignError> {
        let credentials = self.source.credentials()?;
        let usable = |value: &str| !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic());
        if !usable(credentials.access_key_id()) {
            return Err(SignError::Unusable("access key id"));
        }
        if !usable(credentials.secret_access_key()) {
            return Err(SignError::Unusable("secret access key"));
        }
        if credentials
            .session_token()
            .is_some_and(|token| !usable(token))
        {
            return Err(SignError::Unusable("session token"));
        }
        let identity: Identity = credentials.into();
        let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
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
    fn credentials_with_control_bytes_are_an_error_not_a_panic() {
        for (key, token) in [
            ("AKIDEXAMPLE", "token\r\nx-injected: 1"),
            ("AKID\u{7}", "token"),
            ("AKIDEXAMPLE", "tökén"),
        ] {
            let signer = Signer::new(Credentials::new(
                key,
                CANARY_SECRET,
                Some(token.into()),
                None,
                "test",
            ));
            let error = signer
                .sign(&mut request(), "iam", "us-east-1", SystemTime::now())
                .unwrap_err();
            assert!(matches!(error, SignError::Unusable(_)), "{error}");
            assert!(!error.to_string().contains("token\r"), "{error}");
        }
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
