//! Account discovery: AWS Organizations ListAccounts with the official
//! `aws-sdk-organizations` client, every page followed, ACTIVE accounts only.
//!
//! The client is pointed at the Organizations endpoint this host resolves
//! ([`crate::endpoint::EndpointResolver::organizations`]: the partition's, or
//! `--endpoint-url`), never at one the SDK would pick from the environment, and signs with
//! the configured credentials (the management account's, or a delegated administrator's).

use std::time::Instant;

use aws_sdk_organizations::config::retry::RetryConfig;
use aws_sdk_organizations::config::timeout::TimeoutConfig;
use aws_sdk_organizations::config::Region;
use aws_sdk_organizations::error::SdkError;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use super::{is_account_id, Account};
use crate::credentials::web_identity::sdk_failure;
use crate::credentials::CredentialSource;
use crate::endpoint::HostEndpoint;
use crate::error::{CredentialsError, RunError};
use crate::limits::TransportConfig;
use crate::logging::{Logger, RequestRecord};

/// The Organizations action this module calls.
pub const ACTION: &str = "ListAccounts";

/// Accounts asked for per page: ListAccounts' most (`MaxResults` 1 to 20).
pub const PAGE_SIZE: i32 = 20;

/// Pages followed at most: an organization holds at most 10,000 accounts by default (a quota
/// that can be raised); past 100,000 accounts a `NextToken` is taken to be a loop.
pub const MAX_PAGES: usize = 5_000;

/// Lists the organization's ACTIVE accounts, in the order Organizations returns them.
/// An account is active when its `State` is `ACTIVE` (or, from an endpoint that only sends
/// the older `Status`, when that is `ACTIVE`); suspended, closed and pending ones are left
/// out, as are entries without a 12-digit id.
///
/// Errors: the credentials' own error; [`RunError::Credentials`] with
/// [`CredentialsError::Rejected`] when Organizations refuses (`AccessDenied`,
/// `AWSOrganizationsNotInUseException`: exit 3), `Unavailable` for a 5xx, a timeout or a
/// network failure (exit 5); [`RunError::Protocol`] when the pages do not end.
pub fn list_active_accounts(
    base: &CredentialSource,
    endpoint: &HostEndpoint,
    config: &TransportConfig,
    logger: &Logger,
) -> Result<Vec<Account>, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            CredentialsError::Unavailable(format!("cannot start the Organizations runtime: {e}"))
        })?;
    let client = client(endpoint, config);
    let mut accounts = Vec::new();
    let mut next_token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let credentials = base.credentials()?;
        let started = Instant::now();
        let result = runtime.block_on(
            client
                .list_accounts()
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.clone())
                .customize()
                .config_override(
                    aws_sdk_organizations::Config::builder().credentials_provider(credentials),
                )
                .send(),
        );
        let outcome = match &result {
            Ok(_) => Ok(200),
            Err(SdkError::ServiceError(service)) => Ok(service.raw().status().as_u16()),
            Err(SdkError::ResponseError(response)) => Ok(response.raw().status().as_u16()),
            Err(SdkError::TimeoutError(_)) => Err("timed out".to_owned()),
            Err(_) => Err("no response".to_owned()),
        };
        logger.request(&RequestRecord {
            action: ACTION,
            service: "organizations",
            host: &endpoint.host,
            outcome,
            duration: started.elapsed(),
        });
        let page = result.map_err(|error| {
            RunError::from(
                sdk_failure(
                    format!(
                        "cannot list the organization's accounts: Organizations {ACTION} failed"
                    ),
                    &error,
                )
                .to_credentials_error(),
            )
        })?;
        accounts.extend(page.accounts().iter().filter_map(|account| {
            let id = account.id().filter(|id| is_account_id(id))?;
            let active = match account.state() {
                Some(state) => *state == AccountState::Active,
                None => account.status() == Some(&AccountStatus::Active),
            };
            active.then(|| Account {
                id: id.to_owned(),
                name: account.name().map(str::to_owned),
            })
        }));
        match page.next_token().filter(|token| !token.is_empty()) {
            None => return Ok(accounts),
            Some(token) if next_token.as_deref() == Some(token) => {
                return Err(RunError::Protocol(format!(
                    "Organizations {ACTION} returned the NextToken it was given; stopping to \
                     avoid a loop"
                )))
            }
            Some(token) => next_token = Some(token.to_owned()),
        }
    }
    Err(RunError::Protocol(format!(
        "Organizations {ACTION} returned more than {MAX_PAGES} pages"
    )))
}

/// An `aws-sdk-organizations` client for `endpoint`: its signing region, `config`'s connect
/// and call timeouts, the standard retry mode, hyper + rustls (ring). Credentials are
/// supplied per call.
fn client(endpoint: &HostEndpoint, config: &TransportConfig) -> aws_sdk_organizations::Client {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let organizations = aws_sdk_organizations::Config::builder()
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
    aws_sdk_organizations::Client::from_conf(organizations)
}
