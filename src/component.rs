//! wit-bindgen glue: the `user-inventory` world's imports as a [`Host`] and its
//! `inventory` export over [`crate::collect`] and [`crate::check`]. No other module
//! touches generated types.

use crate::host::{self, Host, HttpResponse, Identity, Level, QueryCall, TransportError};
use std::cell::RefCell;

use crate::collect::CollectionState;
use crate::retry::{RetryBudget, RetryPolicy, Retrying};
use crate::settings::{self, Strategy};
use crate::{check, collect, error};

mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "user-inventory" });
}

use bindings::aws_iam_users::connector::{
    identity as wit_identity, log as wit_log, transport as wit,
};
use bindings::exports::aws_iam_users::connector::inventory as exp;

/// The host, reached through the WIT imports.
struct WitHost;

impl Host for WitHost {
    fn send_all_in_flight(
        &self,
        calls: &[QueryCall],
        max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>> {
        let calls: Vec<wit::QueryCall> = calls.iter().map(to_wit_call).collect();
        wit::send_all(&calls, u32::try_from(max_in_flight).unwrap_or(u32::MAX))
            .into_iter()
            .map(from_wit_result)
            .collect()
    }

    fn send(&self, call: &QueryCall) -> Result<HttpResponse, TransportError> {
        from_wit_result(wit::send(&to_wit_call(call)))
    }

    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Debug => wit_log::Level::Debug,
            Level::Info => wit_log::Level::Info,
            Level::Warn => wit_log::Level::Warn,
            Level::Error => wit_log::Level::Error,
        };
        wit_log::log(level, message);
    }

    fn identity(&self) -> Identity {
        let info = wit_identity::describe();
        Identity {
            auth_method: match info.auth_method {
                wit_identity::AuthMethod::AccessKeys => host::AuthMethod::AccessKeys,
                wit_identity::AuthMethod::WebIdentityRole => host::AuthMethod::WebIdentityRole,
            },
            partition: info.partition,
            region: info.region,
            role_arn: info.role_arn,
        }
    }

    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }

    fn random_u64(&self) -> u64 {
        wasi::random::random::get_random_u64()
    }

    fn now_ms(&self) -> i64 {
        let now = wasi::clocks::wall_clock::now();
        i64::try_from(now.seconds)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000)
            .saturating_add(i64::from(now.nanoseconds / 1_000_000))
    }
}

fn to_wit_call(call: &QueryCall) -> wit::QueryCall {
    wit::QueryCall {
        service: call.service.to_owned(),
        params: call.params.clone(),
    }
}

fn from_wit_result(
    result: Result<wit::Response, wit::TransportError>,
) -> Result<HttpResponse, TransportError> {
    result
        .map(|r| HttpResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        })
        .map_err(from_wit_transport_error)
}

fn from_wit_transport_error(error: wit::TransportError) -> TransportError {
    match error {
        wit::TransportError::Refused(m) => TransportError::Refused(m),
        wit::TransportError::Credentials(m) => TransportError::Credentials(m),
        wit::TransportError::Network(m) => TransportError::Network(m),
        wit::TransportError::Timeout => TransportError::Timeout,
        wit::TransportError::BodyTooLarge(cap) => TransportError::BodyTooLarge(cap),
    }
}

fn to_wit_transport_error(error: TransportError) -> wit::TransportError {
    match error {
        TransportError::Refused(m) => wit::TransportError::Refused(m),
        TransportError::Credentials(m) => wit::TransportError::Credentials(m),
        TransportError::Network(m) => wit::TransportError::Network(m),
        TransportError::Timeout => wit::TransportError::Timeout,
        TransportError::BodyTooLarge(cap) => wit::TransportError::BodyTooLarge(cap),
    }
}

fn to_wit_api_error(e: error::ApiError) -> exp::ApiError {
    exp::ApiError {
        action: e.action,
        status: e.status,
        code: e.code,
        message: e.message,
        request_id: e.request_id,
    }
}

fn to_wit_error(error: error::ConnectorError) -> exp::ConnectorError {
    use error::ConnectorError as E;
    match error {
        E::Api(e) => exp::ConnectorError::Api(to_wit_api_error(e)),
        E::MalformedResponse(m) => exp::ConnectorError::MalformedResponse(exp::MalformedResponse {
            action: m.action,
            status: m.status,
            detail: m.detail,
        }),
        E::Transport { action, error } => exp::ConnectorError::Transport(exp::TransportFailure {
            action,
            error: to_wit_transport_error(error),
        }),
        E::InvalidCursor(m) => exp::ConnectorError::InvalidCursor(m),
        E::InvalidSettings(m) => exp::ConnectorError::InvalidSettings(m),
    }
}

fn settings(s: exp::Settings) -> settings::Settings {
    settings::Settings {
        max_items: s.max_items,
        retry: RetryPolicy {
            max_attempts: s.max_attempts,
            base_ms: u64::from(s.retry_base_ms),
            ..RetryPolicy::default()
        },
        strategy: match s.strategy {
            exp::Strategy::Auto => Strategy::Auto,
            exp::Strategy::Bulk => Strategy::Bulk,
            exp::Strategy::PerUser => Strategy::PerUser,
        },
        max_concurrency: s.max_concurrency,
        max_in_flight: s.max_in_flight,
        time_budget_ms: s.time_budget_ms,
        include_root: s.include_root,
    }
}

fn to_wit_strategy(strategy: Strategy) -> exp::Strategy {
    match strategy {
        Strategy::Auto => exp::Strategy::Auto,
        Strategy::Bulk => exp::Strategy::Bulk,
        Strategy::PerUser => exp::Strategy::PerUser,
    }
}

thread_local! {
    /// What this instance keeps between the pages of one collection.
    static COLLECTION: RefCell<CollectionState> = RefCell::default();
}

struct Component;

impl exp::Guest for Component {
    fn check(settings_in: exp::Settings) -> Result<exp::CheckReport, exp::ConnectorError> {
        let settings = settings(settings_in);
        settings.validate().map_err(to_wit_error)?;
        let mut budget = RetryBudget::default();
        let client = Retrying::new(
            &WitHost,
            settings.retry,
            &mut budget,
            settings.max_concurrency as usize,
            settings.max_in_flight as usize,
        );
        let report = check::check(&client).map_err(to_wit_error)?;
        let identity = report.identity;
        Ok(exp::CheckReport {
            identity: wit_identity::Info {
                auth_method: match identity.auth_method {
                    host::AuthMethod::AccessKeys => wit_identity::AuthMethod::AccessKeys,
                    host::AuthMethod::WebIdentityRole => wit_identity::AuthMethod::WebIdentityRole,
                },
                partition: identity.partition,
                region: identity.region,
                role_arn: identity.role_arn,
            },
            caller_arn: report.caller_arn,
            probes: report
                .probes
                .into_iter()
                .map(|p| exp::Probe {
                    permission: p.permission,
                    recommended: p.recommended,
                    outcome: match p.outcome {
                        check::ProbeOutcome::Granted => exp::ProbeOutcome::Granted,
                        check::ProbeOutcome::Denied(e) => {
                            exp::ProbeOutcome::Denied(to_wit_api_error(e))
                        }
                        check::ProbeOutcome::NotTestable(why) => {
                            exp::ProbeOutcome::NotTestable(why)
                        }
                    },
                })
                .collect(),
        })
    }

    fn collect(
        settings_in: exp::Settings,
        cursor: Option<String>,
        run_state: Option<String>,
    ) -> Result<exp::Page, exp::ConnectorError> {
        let page = COLLECTION
            .with_borrow_mut(|state| {
                if cursor.is_none() {
                    // A new collection: group policies may have changed, the budget is whole.
                    *state = CollectionState::default();
                }
                collect::collect(
                    &WitHost,
                    settings(settings_in),
                    cursor.as_deref(),
                    run_state.as_deref(),
                    state,
                )
            })
            .map_err(to_wit_error)?;
        let stats = page.stats;
        Ok(exp::Page {
            events: page.events,
            cursor: page.cursor,
            run_state: page.run_state,
            stats: exp::PageStats {
                users: stats.users,
                skipped_users: stats.skipped_users,
                api_calls: stats.api_calls,
                errors: stats
                    .errors
                    .into_iter()
                    .map(|e| exp::ActionErrors {
                        action: e.action,
                        code: e.code,
                        count: e.count,
                    })
                    .collect(),
                account_users: stats.account_users,
                strategy: to_wit_strategy(stats.strategy),
                fallback: stats.fallback,
                root_users: stats.root_users,
            },
        })
    }

    fn version() -> String {
        crate::VERSION.to_owned()
    }
}

bindings::export!(Component with_types_in bindings);
