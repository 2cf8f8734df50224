//! Conversions between the types generated from the WIT ([`super::bindings`]) and the host's
//! own ([`crate::inventory`], [`crate::transport`], [`crate::error`], [`crate::credentials`],
//! [`crate::logging`]): the sandbox's edge. Every match is exhaustive, so a change of the
//! contract shows here.

use super::bindings::{identity, inventory, log, transport};
use crate::credentials::AuthMethod;
use crate::error::{ApiFailure, GuestError, TransportError};
use crate::inventory::{
    ActionErrors, CheckReport, Identity, Page, PageStats, Probe, ProbeOutcome, Settings, Strategy,
};
use crate::logging::LogLevel;

impl From<crate::transport::HttpResponse> for transport::Response {
    fn from(response: crate::transport::HttpResponse) -> Self {
        transport::Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

impl From<TransportError> for transport::TransportError {
    fn from(error: TransportError) -> Self {
        use TransportError as E;
        match error {
            E::Refused(message) => Self::Refused(message),
            E::Credentials(message) => Self::Credentials(message),
            E::Network(message) => Self::Network(message),
            E::Timeout => Self::Timeout,
            E::BodyTooLarge(cap) => Self::BodyTooLarge(cap),
        }
    }
}

impl From<transport::TransportError> for TransportError {
    fn from(error: transport::TransportError) -> Self {
        use transport::TransportError as W;
        match error {
            W::Refused(message) => Self::Refused(message),
            W::Credentials(message) => Self::Credentials(message),
            W::Network(message) => Self::Network(message),
            W::Timeout => Self::Timeout,
            W::BodyTooLarge(cap) => Self::BodyTooLarge(cap),
        }
    }
}

impl From<AuthMethod> for identity::AuthMethod {
    fn from(method: AuthMethod) -> Self {
        match method {
            AuthMethod::AccessKeys => Self::AccessKeys,
            AuthMethod::WebIdentityRole => Self::WebIdentityRole,
        }
    }
}

impl From<identity::AuthMethod> for AuthMethod {
    fn from(method: identity::AuthMethod) -> Self {
        match method {
            identity::AuthMethod::AccessKeys => Self::AccessKeys,
            identity::AuthMethod::WebIdentityRole => Self::WebIdentityRole,
        }
    }
}

impl From<identity::Info> for Identity {
    fn from(info: identity::Info) -> Self {
        Identity {
            auth_method: info.auth_method.into(),
            partition: info.partition,
            region: info.region,
            role_arn: info.role_arn,
        }
    }
}

impl From<log::Level> for LogLevel {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        }
    }
}

impl From<Strategy> for inventory::Strategy {
    fn from(strategy: Strategy) -> Self {
        match strategy {
            Strategy::Auto => Self::Auto,
            Strategy::Bulk => Self::Bulk,
            Strategy::PerUser => Self::PerUser,
        }
    }
}

impl From<inventory::Strategy> for Strategy {
    fn from(strategy: inventory::Strategy) -> Self {
        match strategy {
            inventory::Strategy::Auto => Self::Auto,
            inventory::Strategy::Bulk => Self::Bulk,
            inventory::Strategy::PerUser => Self::PerUser,
        }
    }
}

impl From<Settings> for inventory::Settings {
    fn from(settings: Settings) -> Self {
        let Settings {
            max_items,
            max_attempts,
            retry_base_ms,
            strategy,
            max_concurrency,
            max_in_flight,
            time_budget_ms,
            include_root,
        } = settings;
        inventory::Settings {
            max_items,
            max_attempts,
            retry_base_ms,
            strategy: strategy.into(),
            max_concurrency,
            max_in_flight,
            time_budget_ms,
            include_root,
        }
    }
}

impl From<inventory::ApiError> for ApiFailure {
    fn from(error: inventory::ApiError) -> Self {
        ApiFailure {
            action: error.action,
            status: error.status,
            code: error.code,
            message: error.message,
            request_id: error.request_id,
        }
    }
}

impl From<inventory::ConnectorError> for GuestError {
    fn from(error: inventory::ConnectorError) -> Self {
        use inventory::ConnectorError as C;
        match error {
            C::Api(api) => GuestError::Api(api.into()),
            C::MalformedResponse(malformed) => GuestError::MalformedResponse {
                action: malformed.action,
                status: malformed.status,
                detail: malformed.detail,
            },
            C::Transport(failure) => GuestError::Transport {
                action: failure.action,
                error: failure.error.into(),
            },
            C::InvalidCursor(message) => GuestError::InvalidCursor(message),
            C::InvalidSettings(message) => GuestError::InvalidSettings(message),
        }
    }
}

impl From<inventory::ActionErrors> for ActionErrors {
    fn from(errors: inventory::ActionErrors) -> Self {
        ActionErrors {
            action: errors.action,
            code: errors.code,
            count: errors.count,
        }
    }
}

impl From<inventory::PageStats> for PageStats {
    fn from(stats: inventory::PageStats) -> Self {
        PageStats {
            users: stats.users,
            skipped_users: stats.skipped_users,
            api_calls: stats.api_calls,
            errors: stats.errors.into_iter().map(Into::into).collect(),
            account_users: stats.account_users,
            strategy: stats.strategy.into(),
            fallback: stats.fallback,
            root_users: stats.root_users,
        }
    }
}

impl From<inventory::Page> for Page {
    fn from(page: inventory::Page) -> Self {
        Page {
            events: page.events,
            cursor: page.cursor,
            stats: page.stats.into(),
            run_state: page.run_state,
        }
    }
}

impl From<inventory::ProbeOutcome> for ProbeOutcome {
    fn from(outcome: inventory::ProbeOutcome) -> Self {
        match outcome {
            inventory::ProbeOutcome::Granted => ProbeOutcome::Granted,
            inventory::ProbeOutcome::Denied(error) => ProbeOutcome::Denied(error.into()),
            inventory::ProbeOutcome::NotTestable(reason) => ProbeOutcome::NotTestable(reason),
        }
    }
}

impl From<inventory::Probe> for Probe {
    fn from(probe: inventory::Probe) -> Self {
        Probe {
            permission: probe.permission,
            outcome: probe.outcome.into(),
            recommended: probe.recommended,
        }
    }
}

impl From<inventory::CheckReport> for CheckReport {
    fn from(report: inventory::CheckReport) -> Self {
        CheckReport {
            identity: report.identity.into(),
            caller_arn: report.caller_arn,
            probes: report.probes.into_iter().map(Into::into).collect(),
        }
    }
}
