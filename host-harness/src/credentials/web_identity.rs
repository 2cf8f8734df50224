//! Web identity: a role assumed with an OIDC token through STS AssumeRoleWithWebIdentity, with
//! the official `aws-sdk-sts` client.
//!
//! The client is pointed explicitly at the STS endpoint this host resolved for the configured
//! region (`sts.<region>.<partition suffix>`, or the `--endpoint-url` / `AWS_ENDPOINT_URL_STS`
//! override), never at one the SDK would pick from the environment: the egress allowlist holds
//! for credential calls too. The token file is read again at every refresh (issuers rotate it),
//! trimmed, registered for redaction, and sent only in the request body; the call is unsigned,
//! as AWS defines it. Its HTTP client is hyper + rustls (ring) with the harness's timeouts.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_credential_types::provider::error::CredentialsError as AwsCredentialsError;
use aws_credential_types::provider::{self, future, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::Region;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::endpoint::Endpoint;
use crate::error::{CredentialsError, StsFailure};
use crate::limits::TransportConfig;
use crate::logging::{Logger, RequestRecord};

/// The STS action this module calls.
pub const ACTION: &str = "AssumeRoleWithWebIdentity";

/// Provider name recorded in the assumed-role credentials.
const PROVIDER_NAME: &str = "web-identity";

/// The host's error for a provider error: a [`StsFailure`] keeps its kind; anything else
/// (never produced by this module's provider) is `Unavailable` with its full context.
pub fn into_credentials_error(error: &AwsCredentialsError) -> CredentialsError {
    match std::error::Error::source(error).and_then(|s| s.downcast_ref::<StsFailure>()) {
        Some(failure) => failure.to_credentials_error(),
        None => CredentialsError::Unavailable(
            crate::redact::scrub(&DisplayErrorContext(error).to_string()).into_owned(),
        ),
    }
}

/// What web identity needs: the role, the token file (read at every refresh: the issuer
/// rotates it), and the session name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentitySettings {
    /// The role to assume.
    pub role_arn: String,
    /// The OIDC token file.
    pub token_file: PathBuf,
    /// The role session name (shows in the assumed-role ARN and CloudTrail).
    pub session_name: String,
}

/// Assumes one role with the token in one file, at one STS endpoint.
pub struct WebIdentityProvider {
    client: aws_sdk_sts::Client,
    settings: WebIdentitySettings,
    endpoint: Endpoint,
    logger: Arc<Logger>,
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("settings", &self.settings)
            .field("endpoint", &self.endpoint.url)
            .finish_non_exhaustive()
    }
}

impl WebIdentityProvider {
    /// A provider for `settings` that calls STS at `endpoint` (signing region = the STS
    /// endpoint's region), with `config`'s connect and call timeouts and the SDK's standard
    /// retry mode (3 attempts: throttling, 5xx, timeouts).
    pub fn new(
        settings: WebIdentitySettings,
        endpoint: Endpoint,
        config: &TransportConfig,
        logger: Arc<Logger>,
    ) -> WebIdentityProvider {
        WebIdentityProvider {
            client: sts_client(&endpoint, config),
            settings,
            endpoint,
            logger,
        }
    }

    async fn assume_role(&self) -> provider::Result {
        let token = self
            .read_token()
            .map_err(AwsCredentialsError::provider_error)?;
        let started = Instant::now();
        let result = self
            .client
            .assume_role_with_web_identity()
            .role_arn(&self.settings.role_arn)
            .role_session_name(&self.settings.session_name)
            .web_identity_token(token)
            .send()
            .await;
        let outcome = match &result {
            Ok(_) => Ok(200),
            Err(SdkError::ServiceError(service)) => Ok(service.raw().status().as_u16()),
            Err(SdkError::ResponseError(response)) => Ok(response.raw().status().as_u16()),
            Err(SdkError::TimeoutError(_)) => Err("timed out".to_owned()),
            Err(_) => Err("no response".to_owned()),
        };
        self.logger.request(&RequestRecord {
            action: ACTION,
            service: self.endpoint.service.signing_name(),
            host: &self.endpoint.host,
            outcome,
            duration: started.elapsed(),
        });
        let output = result.map_err(|error| {
            AwsCredentialsError::provider_error(describe_sdk_error(&self.settings.role_arn, error))
        })?;
        usable_credentials(output.credentials(), ACTION, PROVIDER_NAME)
            .map_err(AwsCredentialsError::provider_error)
    }

    /// The token, trimmed, registered for redaction.
    fn read_token(&self) -> Result<String, StsFailure> {
        let path = &self.settings.token_file;
        let failure = |message: String| StsFailure::token_file(path.clone(), message);
        let bytes = std::fs::read(path).map_err(|e| failure(format!("cannot read it: {e}")))?;
        let token = String::from_utf8(bytes).map_err(|_| failure("not UTF-8".into()))?;
        crate::redact::register(&token);
        let token = token.trim();
        if token.is_empty() {
            return Err(failure("it is empty".into()));
        }
        Ok(token.to_owned())
    }
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.assume_role())
    }
}

/// An `aws-sdk-sts` client for the STS endpoint `endpoint` (signing region = its region),
/// with `config`'s connect and call timeouts, the SDK's standard retry mode (3 attempts:
/// throttling, 5xx, timeouts) and hyper + rustls (ring). No credentials: AssumeRoleWithWebIdentity
/// is unsigned, and AssumeRole supplies its own per call.
pub(crate) fn sts_client(endpoint: &Endpoint, config: &TransportConfig) -> aws_sdk_sts::Client {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let sts_config = aws_sdk_sts::Config::builder()
        .behavior_version_latest()
        .region(Region::new(endpoint.signing_region))
        .endpoint_url(endpoint.url.trim_end_matches('/'))
        .http_client(http_client)
        .retry_config(RetryConfig::standard())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.connect_timeout)
                .operation_attempt_timeout(config.call_timeout)
                .build(),
        )
        .build();
    aws_sdk_sts::Client::from_conf(sts_config)
}

/// The credentials STS `action` answered, secret and token registered for redaction.
///
/// Errors: [`StsFailure`] (unavailable) when there are none, their expiration is unusable, or
/// a value is empty or holds whitespace, control or non-ASCII characters (key id and token
/// travel in headers, the secret keys the signature: such a value is refused here rather
/// than failing, or panicking, in signing).
pub(crate) fn usable_credentials(
    sts: Option<&aws_sdk_sts::types::Credentials>,
    action: &str,
    provider_name: &'static str,
) -> Result<Credentials, StsFailure> {
    let sts = sts.ok_or_else(|| {
        StsFailure::unavailable(format!("STS {action} answered without credentials"))
    })?;
    let expiry = SystemTime::try_from(*sts.expiration()).map_err(|_| {
        StsFailure::unavailable(format!("STS {action} answered an unusable expiration time"))
    })?;
    crate::redact::register(sts.secret_access_key());
    crate::redact::register(sts.session_token());
    let usable = [
        sts.access_key_id(),
        sts.secret_access_key(),
        sts.session_token(),
    ]
    .iter()
    .all(|value| !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_graphic()));
    if !usable {
        return Err(StsFailure::unavailable(format!(
            "STS {action} answered credentials with empty values or whitespace, control or \
             non-ASCII characters; they are not used"
        )));
    }
    Ok(Credentials::new(
        sts.access_key_id(),
        sts.secret_access_key(),
        Some(sts.session_token().to_owned()),
        Some(expiry),
        provider_name,
    ))
}

/// `cannot assume role R with web identity: STS AssumeRoleWithWebIdentity failed: HTTP 400
/// ExpiredTokenException: <STS message>` — rejected for a 4xx, unavailable for a 5xx, a
/// timeout, a network failure or an unreadable response.
fn describe_sdk_error(
    role_arn: &str,
    error: SdkError<AssumeRoleWithWebIdentityError>,
) -> StsFailure {
    sdk_failure(
        format!("cannot assume role {role_arn} with web identity: STS {ACTION} failed"),
        &error,
    )
}

/// `<prefix>: HTTP <status> <code>: <message>` for an error answer (rejected for a 4xx,
/// unavailable for a 5xx), `<prefix>: timed out`, or `<prefix>: <context>` (unavailable) for a
/// network failure or an unreadable response; the context is scrubbed of secrets. Shared by
/// every SDK call of the host (STS, Organizations).
pub(crate) fn sdk_failure<E>(prefix: String, error: &SdkError<E>) -> StsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            let message = format!(
                "{prefix}: HTTP {status} {}: {}",
                err.code().unwrap_or("UnknownError"),
                err.message().unwrap_or("(no message)")
            );
            if status >= 500 {
                StsFailure::unavailable(message)
            } else {
                StsFailure::rejected(message)
            }
        }
        SdkError::TimeoutError(_) => StsFailure::unavailable(format!("{prefix}: timed out")),
        _ => StsFailure::unavailable(format!(
            "{prefix}: {}",
            crate::redact::scrub(&DisplayErrorContext(error).to_string())
        )),
    }
}
