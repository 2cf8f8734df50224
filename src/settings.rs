//! What `check` and `collect` are called with (mirrors WIT `inventory.settings`), and the
//! enrichment strategy, which the cursor also carries (its serde form is the cursor's).

use serde::{Deserialize, Serialize};

use crate::error::ConnectorError;
use crate::retry::RetryPolicy;

/// How users are enriched (mirrors WIT `inventory.strategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Bulk, falling back to per-user when a bulk action is denied.
    Auto,
    /// Account-wide calls ([`crate::bulk`]).
    Bulk,
    /// Ten calls per user ([`crate::enrich`]).
    #[default]
    PerUser,
}

/// Collection settings (mirrors WIT `inventory.settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `MaxItems` for every List* call, 1 to 1000 (IAM's range).
    pub max_items: u32,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// How users are enriched.
    pub strategy: Strategy,
    /// Calls in flight at the start, 1 to `max_in_flight` (doubled after a clean batch,
    /// halved after a throttled one).
    pub max_concurrency: u32,
    /// The most calls in flight the window may grow to, 1 to [`MAX_IN_FLIGHT`].
    pub max_in_flight: u32,
    /// How long one `collect` call may work, ms; 0: no bound. The page ends early, with a
    /// cursor inside it, once it is spent.
    pub time_budget_ms: u32,
    /// Add one event for the account's root user, with the first page.
    pub include_root: bool,
}

/// The most calls in flight a connector asks of its host.
pub const MAX_IN_FLIGHT: u32 = 256;

impl Settings {
    /// Errors: `InvalidSettings` when `max_items` is outside 1..=1000, `max_attempts` outside
    /// 1..=10, `max_in_flight` outside 1..=256, `max_concurrency` outside 1..=`max_in_flight`,
    /// or the backoff base above the 20 s cap.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let invalid = |message: String| Err(ConnectorError::InvalidSettings(message));
        if !(1..=1000).contains(&self.max_items) {
            return invalid(format!(
                "max-items must be between 1 and 1000 (IAM's MaxItems range), got {}",
                self.max_items
            ));
        }
        if !(1..=10).contains(&self.retry.max_attempts) {
            return invalid(format!(
                "max-attempts must be between 1 and 10, got {}",
                self.retry.max_attempts
            ));
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return invalid(format!(
                "max-in-flight must be between 1 and {MAX_IN_FLIGHT}, got {}",
                self.max_in_flight
            ));
        }
        if !(1..=self.max_in_flight).contains(&self.max_concurrency) {
            return invalid(format!(
                "max-concurrency must be between 1 and max-in-flight ({}), got {}",
                self.max_in_flight, self.max_concurrency
            ));
        }
        if self.retry.base_ms > self.retry.cap_ms {
            return invalid(format!(
                "retry-base-ms must be at most {} ms, got {}",
                self.retry.cap_ms, self.retry.base_ms
            ));
        }
        Ok(())
    }
}
