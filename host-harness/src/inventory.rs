//! The host's types of the contract's `inventory` interface (`wit/world.wit`): the settings
//! the host passes to `check` and `collect`, and the page and report it reads back. The
//! component's errors are [`GuestError`] and [`ApiFailure`], in [`crate::error`].
//!
//! One rule for the contract's types: the host works with its own (these, [`crate::transport`]'s
//! calls and responses, [`crate::error::TransportError`], [`AuthMethod`],
//! [`crate::logging::LogLevel`]); the types generated from the WIT stay inside
//! [`crate::sandbox`], which converts at its edge. A name the host prints for a WIT value has
//! one table, beside the host's type ([`Strategy::name`], [`AuthMethod::name`]).
//!
//! [`GuestError`]: crate::error::GuestError

use crate::credentials::AuthMethod;
use crate::error::ApiFailure;

/// How the component enriches users (WIT `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Bulk, falling back to per-user calls when AWS refuses a bulk action.
    Auto,
    /// Account-wide calls: GetAccountAuthorizationDetails and the credential report.
    Bulk,
    /// Ten calls per user.
    PerUser,
}

impl Strategy {
    /// Every strategy, in the order `--help` lists them.
    pub const ALL: [Strategy; 3] = [Strategy::Auto, Strategy::Bulk, Strategy::PerUser];

    /// `auto`, `bulk` or `per-user`: the `--strategy` spelling and the summary's.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Bulk => "bulk",
            Strategy::PerUser => "per-user",
        }
    }
}

/// What `check` and `collect` are called with (WIT `settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `MaxItems` of every IAM List* call and users per page, 1 to 1000.
    pub max_items: u32,
    /// Attempts per IAM call, the first included, 1 to 10.
    pub max_attempts: u32,
    /// Base of the retry backoff, ms.
    pub retry_base_ms: u32,
    /// How users are enriched.
    pub strategy: Strategy,
    /// Calls in flight at the start, 1 to `max_in_flight`.
    pub max_concurrency: u32,
    /// The most calls in flight the window grows to, 1 to 64.
    pub max_in_flight: u32,
    /// How long one `collect` call may work, ms (0: no bound).
    pub time_budget_ms: u32,
    /// Whether the first page carries the root user's event.
    pub include_root: bool,
}

/// Failed enrichment calls of one kind on one page (WIT `action-errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionErrors {
    /// IAM action, e.g. `ListMFADevices`.
    pub action: String,
    /// AWS error code, or `MalformedResponse` / `TransportError`.
    pub code: String,
    /// How many calls failed so.
    pub count: u32,
}

/// What one page did (WIT `page-stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStats {
    /// Users listed on the page.
    pub users: u32,
    /// Listed users deleted before their own calls (no event).
    pub skipped_users: u32,
    /// HTTP calls the component made for the page.
    pub api_calls: u32,
    /// Failed enrichment calls by action and code.
    pub errors: Vec<ActionErrors>,
    /// The account's `Users` count (GetAccountSummary), when read.
    pub account_users: Option<u32>,
    /// The strategy the page was collected with (never `Auto`).
    pub strategy: Strategy,
    /// Why `Auto` fell back to per-user calls.
    pub fallback: Option<String>,
    /// Events about the account's root user on this page (0 or 1).
    pub root_users: u32,
}

/// One page of a collection (WIT `page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// OCSF events, one JSON object each.
    pub events: Vec<String>,
    /// Where the next `collect` resumes; `None` when the collection is complete.
    pub cursor: Option<String>,
    /// What the page did.
    pub stats: PageStats,
    /// With the last page only: the run-state for the next collection (opaque).
    pub run_state: Option<String>,
}

/// The signing identity as the component reports it back (WIT `identity.info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// How the host obtained its credentials.
    pub auth_method: AuthMethod,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The assumed role, for web identity.
    pub role_arn: Option<String>,
}

/// How one permission's probe ended (WIT `probe-outcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The call was authorized.
    Granted,
    /// AWS refused it.
    Denied(ApiFailure),
    /// The probe could not decide, and why.
    NotTestable(String),
}

/// One permission and its probe (WIT `probe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// e.g. `iam:ListUsers`.
    pub permission: String,
    /// What the probe found.
    pub outcome: ProbeOutcome,
    /// Used when granted, done without otherwise: its absence does not fail the check.
    pub recommended: bool,
}

/// What `check` reports (WIT `check-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The identity the host signs as.
    pub identity: Identity,
    /// The ARN the credentials act as (STS GetCallerIdentity), if it could be read.
    pub caller_arn: Option<String>,
    /// Each permission probed, in the component's order.
    pub probes: Vec<Probe>,
}
