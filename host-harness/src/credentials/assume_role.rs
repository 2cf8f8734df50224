//! A member account's role, assumed with STS AssumeRole signed with the configured
//! credentials (static keys or the web identity role), with the official `aws-sdk-sts` client.
//!
//! As for web identity, the client is pointed at the STS endpoint this host resolved (the
//! region's, or the `--endpoint-url` / `AWS_ENDPOINT_URL_STS` override), never at one the SDK
//! would pick from the environment. Each account's credentials sit behind their own
//! [`CredentialSource`], refreshed [`REFRESH_BUFFER`] before they expire; a refresh signs with
//! whatever the configured source holds then (itself refreshed). The external ID, when given,
//! travels only in the request body and is never printed.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;

use super::source::{CredentialSource, REFRESH_BUFFER};
use super::web_identity::{sdk_failure, sts_client, usable_credentials};
use crate::endpoint::Endpoint;
use crate::error::{CredentialsError, StsFailure};
use crate::limits::TransportConfig;
use crate::logging::{Logger, RequestRecord};

/// The STS action this module calls.
pub const ACTION: &str = "AssumeRole";

/// Provider name recorded in the assumed-role credentials.
const PROVIDER_NAME: &str = "assume-role";

/// Lifetime asked for each member role session, in seconds: one hour, STS's default and the
/// most every role allows without raising its `MaxSessionDuration`.
pub const SESSION_SECONDS: i32 = 3600;

/// Assumes roles in member accounts, signing each AssumeRole with the configured credentials.
pub struct RoleAssumer {
    client: aws_sdk_sts::Client,
    runtime: tokio::runtime::Runtime,
    base: Arc<CredentialSource>,
    endpoint: Endpoint,
    session_name: String,
    external_id: Option<String>,
    logger: Arc<Logger>,
}

impl fmt::Debug for RoleAssumer {
    /// The endpoint and session name; never the external ID or a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleAssumer")
            .field("endpoint", &self.endpoint.url)
            .field("session_name", &self.session_name)
            .field("external_id", &self.external_id.as_ref().map(|_| "set"))
            .finish_non_exhaustive()
    }
}

impl RoleAssumer {
    /// An assumer calling STS at `endpoint` (the resolved STS endpoint) with `config`'s
    /// timeouts, signing with `base`; sessions are named `aws-iam-users-<ms since the epoch>`.
    ///
    /// Errors: [`CredentialsError::Unavailable`] when its runtime cannot start.
    pub fn new(
        base: Arc<CredentialSource>,
        endpoint: Endpoint,
        config: &TransportConfig,
        external_id: Option<String>,
        logger: Arc<Logger>,
    ) -> Result<RoleAssumer, CredentialsError> {
        // Several account threads may block on it at once: a multi-thread runtime allows that.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("aws-assume-role")
            .enable_all()
            .build()
            .map_err(|e| {
                CredentialsError::Unavailable(format!("cannot start the AssumeRole runtime: {e}"))
            })?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        Ok(RoleAssumer {
            client: sts_client(&endpoint, config),
            runtime,
            base,
            endpoint,
            session_name: format!("aws-iam-users-{millis}"),
            external_id,
            logger,
        })
    }

    /// The configured credentials' source (what signs the AssumeRole calls).
    pub fn base(&self) -> &Arc<CredentialSource> {
        &self.base
    }

    /// Assumes `role_arn` once.
    ///
    /// Errors: the configured credentials' own error; [`CredentialsError::Rejected`] when STS
    /// answers 4xx (`cannot assume role R: STS AssumeRole failed: HTTP 403 AccessDenied: …`:
    /// no such role, a trust policy that does not trust the caller, a wrong external ID);
    /// [`CredentialsError::Unavailable`] for a 5xx, a timeout, a network failure or unusable
    /// credentials.
    pub fn assume(&self, role_arn: &str) -> Result<Credentials, CredentialsError> {
        let signing = self.base.credentials()?;
        let started = Instant::now();
        let result = self.runtime.block_on(
            self.client
                .assume_role()
                .role_arn(role_arn)
                .role_session_name(&self.session_name)
                .set_external_id(self.external_id.clone())
                .duration_seconds(SESSION_SECONDS)
                .customize()
                .config_override(aws_sdk_sts::Config::builder().credentials_provider(signing))
                .send(),
        );
        let outcome = match &result {
            Ok(_) => Ok(200),
            Err(aws_sdk_sts::error::SdkError::ServiceError(service)) => {
                Ok(service.raw().status().as_u16())
            }
            Err(aws_sdk_sts::error::SdkError::ResponseError(response)) => {
                Ok(response.raw().status().as_u16())
            }
            Err(aws_sdk_sts::error::SdkError::TimeoutError(_)) => Err("timed out".to_owned()),
            Err(_) => Err("no response".to_owned()),
        };
        self.logger.request(&RequestRecord {
            action: ACTION,
            service: self.endpoint.service.signing_name(),
            host: &self.endpoint.host,
            outcome,
            duration: started.elapsed(),
        });
        let failure = |failure: StsFailure| failure.to_credentials_error();
        let output = result.map_err(|error| {
            failure(sdk_failure(
                format!("cannot assume role {role_arn}: STS {ACTION} failed"),
                &error,
            ))
        })?;
        usable_credentials(output.credentials(), ACTION, PROVIDER_NAME).map_err(failure)
    }

    /// A source of `role_arn`'s credentials for one account's transport: assumed on first use,
    /// cached, and assumed again [`REFRESH_BUFFER`] before they expire. The component's
    /// `identity` import reports the configured method and `role_arn`.
    pub fn source(self: &Arc<Self>, role_arn: String) -> CredentialSource {
        let assumer = self.clone();
        let role = role_arn.clone();
        CredentialSource::refreshing_with(
            self.base.method(),
            Some(role_arn),
            move || assumer.assume(&role),
            REFRESH_BUFFER,
            self.logger.clone(),
        )
    }
}
