//! The refreshing source: the credentials every signed call goes through, static keys as they
//! are, or assumed-role credentials from a cache refreshed [`REFRESH_BUFFER`] before they
//! expire.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use super::plan::{AuthMethod, Plan};
use super::web_identity::{self, WebIdentityProvider};
use crate::endpoint::{EndpointResolver, Service};
use crate::error::CredentialsError;
use crate::limits::TransportConfig;
use crate::logging::{LogLevel, Logger};

/// Assumed-role credentials are refreshed when they expire within this long. Five minutes:
/// well above one signed call's lifetime (60 s call timeout by default, so a request signed
/// just before the buffer starts still lands with valid credentials), a third of STS's
/// shortest session (15 min), and room to retry a failed refresh while the current
/// credentials still work. (The AWS SDKs' lazy cache uses 10 s; a batch of concurrent calls
/// and clock skew argue for more.)
pub const REFRESH_BUFFER: Duration = Duration::from_secs(300);

/// Yields the credentials for each signed call. Its `Debug` shows the method and role only.
pub struct CredentialSource {
    method: AuthMethod,
    role_arn: Option<String>,
    inner: Inner,
}

enum Inner {
    Fixed(Credentials),
    Refreshing(Refreshing),
}

/// A fetch behind a cache.
struct Refreshing {
    fetch: Fetch,
    cache: Mutex<Option<Credentials>>,
    buffer: Duration,
    fetches: AtomicU64,
    logger: Arc<Logger>,
}

/// How fresh credentials are had.
enum Fetch {
    /// An SDK provider, driven by a small runtime of its own.
    Provider {
        provider: SharedCredentialsProvider,
        runtime: tokio::runtime::Runtime,
    },
    /// A blocking function (which may itself use another source, e.g. AssumeRole signed with
    /// the configured credentials).
    Function(Box<FetchFn>),
}

/// A blocking credentials fetch.
type FetchFn = dyn Fn() -> Result<Credentials, CredentialsError> + Send + Sync;

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSource")
            .field("method", &self.method)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl CredentialSource {
    /// Static credentials, used as they are.
    pub fn fixed(credentials: Credentials) -> CredentialSource {
        crate::redact::register(credentials.secret_access_key());
        if let Some(token) = credentials.session_token() {
            crate::redact::register(token);
        }
        CredentialSource {
            method: AuthMethod::AccessKeys,
            role_arn: None,
            inner: Inner::Fixed(credentials),
        }
    }

    /// Credentials from `provider`, cached and refreshed `buffer` before they expire.
    /// Builds a one-worker tokio runtime to drive the provider.
    ///
    /// Errors: [`CredentialsError::Unavailable`] when the runtime cannot start.
    pub fn refreshing(
        method: AuthMethod,
        role_arn: Option<String>,
        provider: impl ProvideCredentials + 'static,
        buffer: Duration,
        logger: Arc<Logger>,
    ) -> Result<CredentialSource, CredentialsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("aws-credentials")
            .enable_all()
            .build()
            .map_err(|e| {
                CredentialsError::Unavailable(format!("cannot start the credentials runtime: {e}"))
            })?;
        Ok(CredentialSource {
            method,
            role_arn,
            inner: Inner::Refreshing(Refreshing {
                fetch: Fetch::Provider {
                    provider: SharedCredentialsProvider::new(provider),
                    runtime,
                },
                cache: Mutex::new(None),
                buffer,
                fetches: AtomicU64::new(0),
                logger,
            }),
        })
    }

    /// Credentials from the blocking `fetch`, cached and refreshed `buffer` before they
    /// expire, like [`CredentialSource::refreshing`]. `method` and `role_arn` are what the
    /// component's `identity` import reports.
    pub fn refreshing_with(
        method: AuthMethod,
        role_arn: Option<String>,
        fetch: impl Fn() -> Result<Credentials, CredentialsError> + Send + Sync + 'static,
        buffer: Duration,
        logger: Arc<Logger>,
    ) -> CredentialSource {
        CredentialSource {
            method,
            role_arn,
            inner: Inner::Refreshing(Refreshing {
                fetch: Fetch::Function(Box::new(fetch)),
                cache: Mutex::new(None),
                buffer,
                fetches: AtomicU64::new(0),
                logger,
            }),
        }
    }

    /// The source for `plan`: static keys, or a web identity provider whose STS endpoint is
    /// `endpoints`' (the partition's, or the override), refreshed [`REFRESH_BUFFER`] early.
    ///
    /// Errors: as [`CredentialSource::refreshing`].
    pub fn from_plan(
        plan: Plan,
        endpoints: &EndpointResolver,
        config: &TransportConfig,
        logger: Arc<Logger>,
    ) -> Result<CredentialSource, CredentialsError> {
        match plan {
            Plan::AccessKeys { credentials, .. } => Ok(CredentialSource::fixed(credentials)),
            Plan::WebIdentity { settings, .. } => {
                let role_arn = settings.role_arn.clone();
                let provider = WebIdentityProvider::new(
                    settings,
                    endpoints.resolve(Service::Sts),
                    config,
                    logger.clone(),
                );
                CredentialSource::refreshing(
                    AuthMethod::WebIdentityRole,
                    Some(role_arn),
                    provider,
                    REFRESH_BUFFER,
                    logger,
                )
            }
        }
    }

    /// The auth method.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// The assumed role, for web identity.
    pub fn role_arn(&self) -> Option<&str> {
        self.role_arn.as_deref()
    }

    /// How many times the provider was asked for credentials (0 for static keys).
    pub fn fetches(&self) -> u64 {
        match &self.inner {
            Inner::Fixed(_) => 0,
            Inner::Refreshing(refreshing) => refreshing.fetches.load(Ordering::Relaxed),
        }
    }

    /// Credentials valid for at least the refresh buffer: the cached ones, or fresh ones from
    /// the provider (one refresh at a time; concurrent callers wait for it). When a refresh
    /// fails while the cached credentials have not expired yet, those are used and a warning
    /// is logged. Must not be called from inside an async runtime.
    ///
    /// Errors: the provider's ([`CredentialsError::Rejected`], `Unavailable`, `TokenFile`).
    pub fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let refreshing = match &self.inner {
            Inner::Fixed(credentials) => return Ok(credentials.clone()),
            Inner::Refreshing(refreshing) => refreshing,
        };
        let mut cache = refreshing
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = SystemTime::now();
        if let Some(cached) = cache.as_ref() {
            if valid_at(cached, now + refreshing.buffer) {
                return Ok(cached.clone());
            }
        }
        refreshing.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match &refreshing.fetch {
            Fetch::Provider { provider, runtime } => runtime
                .block_on(provider.provide_credentials())
                .map_err(|error| web_identity::into_credentials_error(&error)),
            Fetch::Function(fetch) => fetch(),
        };
        match fetched {
            Ok(fresh) => {
                crate::redact::register(fresh.secret_access_key());
                if let Some(token) = fresh.session_token() {
                    crate::redact::register(token);
                }
                *cache = Some(fresh.clone());
                Ok(fresh)
            }
            Err(error) => match cache.as_ref() {
                Some(cached) if valid_at(cached, now) => {
                    refreshing.logger.host(
                        LogLevel::Warn,
                        &format!(
                            "refreshing credentials failed ({error}); using the current ones \
                                 until they expire"
                        ),
                    );
                    Ok(cached.clone())
                }
                _ => Err(error),
            },
        }
    }
}

/// Whether `credentials` are still valid at `at` (credentials without expiry always are).
fn valid_at(credentials: &Credentials, at: SystemTime) -> bool {
    credentials.expiry().is_none_or(|expiry| expiry > at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::plan::{
        from_lookup, Origin, ACCESS_KEY_ID_VAR, SECRET_ACCESS_KEY_VAR, SESSION_TOKEN_VAR,
    };
    use crate::test_support::{SharedBuffer, CANARY_SECRET, CANARY_TOKEN};
    use aws_credential_types::provider::{error::CredentialsError as AwsError, future};
    use std::ffi::OsString;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(*value))
        }
    }

    #[test]
    fn debug_never_shows_secret_or_token() {
        let creds = from_lookup(&env(&[
            (ACCESS_KEY_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_ACCESS_KEY_VAR, CANARY_SECRET),
            (SESSION_TOKEN_VAR, CANARY_TOKEN),
        ]))
        .unwrap();
        let plan = Plan::AccessKeys {
            credentials: creds.clone(),
            origin: Origin::Environment,
        };
        let source = CredentialSource::fixed(creds.clone());
        let debug = format!(
            "{creds:?} {creds:#?} {plan:?} {source:?} {}",
            plan.describe()
        );
        assert!(
            !debug.contains(CANARY_SECRET) && !debug.contains("CANARY"),
            "{debug}"
        );
    }

    /// Hands out credentials expiring `lifetime` after each fetch; fails while `fail` is set.
    #[derive(Debug)]
    struct Expiring {
        lifetime: Duration,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl ProvideCredentials for Expiring {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(if self.fail.load(Ordering::Relaxed) {
                Err(AwsError::provider_error(
                    crate::error::StsFailure::rejected("STS said no".into()),
                ))
            } else {
                Ok(Credentials::new(
                    "ASIAFAKE",
                    "fake-secret-value",
                    Some("fake-session-token".into()),
                    Some(SystemTime::now() + self.lifetime),
                    "test",
                ))
            })
        }
    }

    fn refreshing_source(
        lifetime: Duration,
        log: SharedBuffer,
    ) -> (CredentialSource, Arc<std::sync::atomic::AtomicBool>) {
        let logger = Arc::new(Logger::with_sink(LogLevel::Debug, true, Box::new(log)));
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let source = CredentialSource::refreshing(
            AuthMethod::WebIdentityRole,
            Some("arn:aws:iam::123456789012:role/r".into()),
            Expiring {
                lifetime,
                fail: fail.clone(),
            },
            Duration::from_secs(300),
            logger,
        )
        .unwrap();
        (source, fail)
    }

    #[test]
    fn a_blocking_fetch_is_cached_and_refreshed_like_a_provider() {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let source = CredentialSource::refreshing_with(
            AuthMethod::AccessKeys,
            Some("arn:aws:iam::111122223333:role/reader".into()),
            move || {
                let n = counted.fetch_add(1, Ordering::Relaxed);
                // The first credentials are inside the 5-minute buffer, the next ones are not.
                let lifetime = if n == 0 { 240 } else { 3600 };
                Ok(Credentials::new(
                    format!("ASIAFETCH{n}"),
                    "fetched-secret",
                    Some("fetched-token".into()),
                    Some(SystemTime::now() + Duration::from_secs(lifetime)),
                    "test",
                ))
            },
            Duration::from_secs(300),
            Arc::new(Logger::with_sink(
                LogLevel::Debug,
                true,
                Box::new(SharedBuffer::default()),
            )),
        );
        let keys: Vec<String> = (0..3)
            .map(|_| source.credentials().unwrap().access_key_id().to_owned())
            .collect();
        assert_eq!(keys, ["ASIAFETCH0", "ASIAFETCH1", "ASIAFETCH1"]);
        assert_eq!((source.fetches(), calls.load(Ordering::Relaxed)), (2, 2));
        assert_eq!(
            source.role_arn(),
            Some("arn:aws:iam::111122223333:role/reader")
        );
    }

    #[test]
    fn long_lived_credentials_are_fetched_once() {
        let (source, _) = refreshing_source(Duration::from_secs(3600), SharedBuffer::default());
        for _ in 0..5 {
            assert_eq!(source.credentials().unwrap().access_key_id(), "ASIAFAKE");
        }
        assert_eq!(source.fetches(), 1);
        assert_eq!(source.method(), AuthMethod::WebIdentityRole);
        assert_eq!(source.role_arn(), Some("arn:aws:iam::123456789012:role/r"));
    }

    #[test]
    fn credentials_expiring_within_the_buffer_are_refreshed_before_use() {
        // Valid for 4 more minutes: inside the 5-minute buffer, so every call refreshes.
        let (source, _) = refreshing_source(Duration::from_secs(240), SharedBuffer::default());
        for _ in 0..3 {
            source.credentials().unwrap();
        }
        assert_eq!(source.fetches(), 3);
    }

    #[test]
    fn a_failed_refresh_keeps_unexpired_credentials_then_reports_the_error() {
        let log = SharedBuffer::default();
        let (source, fail) = refreshing_source(Duration::from_secs(240), log.clone());
        source.credentials().unwrap();
        fail.store(true, Ordering::Relaxed);
        // The refresh fails; the cached credentials (4 min left) are still used.
        assert_eq!(source.credentials().unwrap().access_key_id(), "ASIAFAKE");
        assert_eq!(source.fetches(), 2);
        assert!(
            log.text().contains(
                "warn host: refreshing credentials failed (STS said no); using the current ones \
                 until they expire"
            ),
            "{}",
            log.text()
        );
        // Once they have expired, the error itself.
        let (expired, fail) = refreshing_source(Duration::ZERO, SharedBuffer::default());
        expired.credentials().unwrap();
        fail.store(true, Ordering::Relaxed);
        assert_eq!(
            expired.credentials().unwrap_err(),
            CredentialsError::Rejected("STS said no".into())
        );
    }
}
