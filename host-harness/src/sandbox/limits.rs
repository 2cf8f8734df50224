//! What the host accepts from the component, and the checks that enforce it.
//!
//! Every value the component hands the host is bounded before the host keeps it:
//!
//! - **Lifting.** Each lift (the parameters of one import call, the result of one export call)
//!   copies at most [`crate::limits::SandboxLimits::max_page_bytes`] plus [`LIFT_SLACK_BYTES`] bytes of
//!   strings and lists (wasmtime's hostcall fuel, charged for every string and list at every
//!   place it occurs, so entries aliasing one guest buffer are charged once each). The
//!   `transport` and `log` imports lift lazily ([`wasmtime::component::WasmStr`],
//!   [`wasmtime::component::WasmList`]) and copy only what passes the limits below.
//! - **Results** ([`check_page`], [`check_report`], [`bound_error`]): events per page, bytes per
//!   event and per page, cursor, run-state, probes and their names, and the names in page statistics are
//!   checked, and a result over a limit is a [`SandboxError::OverLimit`]; free text (AWS
//!   error messages, details, reasons) is cut to [`MAX_TEXT_BYTES`].
//! - **Imports**: calls per `send-all` batch ([`MAX_BATCH_CALLS`], a trap beyond), parameters
//!   and bytes per call ([`MAX_CALL_PARAMS`], [`MAX_CALL_BYTES`], refused beyond), log message
//!   size and rate ([`MAX_LOG_MESSAGE_BYTES`], [`LogRate`]).
//! - **Store**: the total of all linear memories, and the counts of instances, memories, tables,
//!   table elements, WASI resources and component handles ([`MAX_INSTANCES`] …).

use std::time::Instant;

use wasmtime::ResourceLimiter;

use super::bindings::inventory::{ApiError, CheckReport, Page, ProbeOutcome};
use crate::error::{GuestError, SandboxError};

/// Largest run-state a last page may carry, in bytes (about 150 bytes per key holder: 32 MiB
/// is room for the IAM quota of 5,000 users many times over).
pub const MAX_RUN_STATE_BYTES: usize = 32 * 1024 * 1024;
/// Lifting budget beyond `max_page_bytes`: room for the page's statistics and list headers,
/// and the last page's run-state.
pub const LIFT_SLACK_BYTES: usize = 1024 * 1024 + MAX_RUN_STATE_BYTES;
/// Most events one page may hold (`max-items` is at most 1,000).
pub const MAX_PAGE_EVENTS: usize = 1024;
/// Largest event, in bytes of JSON.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Largest cursor, in bytes.
pub const MAX_CURSOR_BYTES: usize = 64 * 1024;
/// Most entries of `page-stats.errors`.
pub const MAX_ERROR_KINDS: usize = 256;
/// Longest name the component reports (an action, an AWS error code, a partition, a region,
/// an ARN, a strategy fallback, a version).
pub const MAX_NAME_BYTES: usize = 2048;
/// Most probes in a check report.
pub const MAX_PROBES: usize = 256;
/// Longest permission name of a probe (`iam:ListServiceSpecificCredentials` has 34).
pub const MAX_PERMISSION_BYTES: usize = 128;
/// Free text (AWS error messages, malformed-response details, not-testable reasons) is cut
/// to this many bytes, marked with its full length.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// Most calls in one `send-all` (the aws-iam-users component hands at most this many; the
/// pool sending them is `--max-in-flight` workers at most).
pub const MAX_BATCH_CALLS: usize = 1024;
/// Most parameters of one call.
pub const MAX_CALL_PARAMS: usize = 64;
/// Most bytes of one call: service, parameter names and values together.
pub const MAX_CALL_BYTES: usize = 16 * 1024;
/// Longest guest log message written; a longer one is cut, marked with its length.
pub const MAX_LOG_MESSAGE_BYTES: usize = 4 * 1024;
/// Guest log lines written at once before the rate applies.
pub const LOG_BURST_LINES: f64 = 1000.0;
/// Guest log lines written per second beyond the burst.
pub const LOG_LINES_PER_SECOND: f64 = 100.0;
/// Guest log bytes written at once before the rate applies.
pub const LOG_BURST_BYTES: f64 = 1024.0 * 1024.0;
/// Guest log bytes written per second beyond the burst.
pub const LOG_BYTES_PER_SECOND: f64 = 64.0 * 1024.0;

/// Most core instances of the component (the connector has a handful).
pub const MAX_INSTANCES: usize = 64;
/// Most linear memories, all core instances together.
pub const MAX_MEMORIES: usize = 8;
/// Most tables, all core instances together.
pub const MAX_TABLES: usize = 64;
/// Most elements of one table.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Most live WASI resources (pollables, streams, …) at once.
pub const MAX_WASI_RESOURCES: usize = 10_000;
/// Most live component-model handles at once.
pub const MAX_COMPONENT_HANDLES: usize = 10_000;

/// Refuses a page over the limits of the module documentation.
///
/// Errors: [`SandboxError::OverLimit`] naming the part and the limit.
pub(super) fn check_page(page: &Page, max_page_bytes: usize) -> Result<(), SandboxError> {
    let too_large = |what: String, size: usize, limit: usize| {
        Err(SandboxError::OverLimit {
            function: "collect",
            what,
            size: size as u64,
            limit: limit as u64,
        })
    };
    if page.events.len() > MAX_PAGE_EVENTS {
        return too_large(
            "events in a page".into(),
            page.events.len(),
            MAX_PAGE_EVENTS,
        );
    }
    let mut total = 0usize;
    for (index, event) in page.events.iter().enumerate() {
        if event.len() > MAX_EVENT_BYTES {
            return too_large(
                format!("bytes in event #{index}"),
                event.len(),
                MAX_EVENT_BYTES,
            );
        }
        total += event.len();
    }
    if total > max_page_bytes {
        return too_large("bytes of events in a page".into(), total, max_page_bytes);
    }
    if let Some(cursor) = &page.cursor {
        if cursor.len() > MAX_CURSOR_BYTES {
            return too_large("bytes in the cursor".into(), cursor.len(), MAX_CURSOR_BYTES);
        }
    }
    if let Some(state) = &page.run_state {
        if state.len() > MAX_RUN_STATE_BYTES {
            return too_large(
                "bytes in the run-state".into(),
                state.len(),
                MAX_RUN_STATE_BYTES,
            );
        }
    }
    let stats = &page.stats;
    if stats.errors.len() > MAX_ERROR_KINDS {
        return too_large(
            "entries in page-stats.errors".into(),
            stats.errors.len(),
            MAX_ERROR_KINDS,
        );
    }
    let names = stats
        .errors
        .iter()
        .flat_map(|errors| [&errors.action, &errors.code])
        .chain(&stats.fallback);
    for name in names {
        if name.len() > MAX_NAME_BYTES {
            return too_large(
                "bytes in a page-stats name".into(),
                name.len(),
                MAX_NAME_BYTES,
            );
        }
    }
    Ok(())
}

/// Refuses a check report over the limits, and cuts its free text.
///
/// Errors: [`SandboxError::OverLimit`].
pub(super) fn check_report(report: &mut CheckReport) -> Result<(), SandboxError> {
    let too_large = |what: &str, size: usize, limit: usize| {
        Err(SandboxError::OverLimit {
            function: "check",
            what: what.to_owned(),
            size: size as u64,
            limit: limit as u64,
        })
    };
    if report.probes.len() > MAX_PROBES {
        return too_large("probes", report.probes.len(), MAX_PROBES);
    }
    let identity = &report.identity;
    let names = [&identity.partition, &identity.region]
        .into_iter()
        .chain(&identity.role_arn)
        .chain(&report.caller_arn);
    for name in names {
        if name.len() > MAX_NAME_BYTES {
            return too_large("bytes in an identity field", name.len(), MAX_NAME_BYTES);
        }
    }
    for probe in &mut report.probes {
        if probe.permission.len() > MAX_PERMISSION_BYTES {
            return too_large(
                "bytes in a probe's permission",
                probe.permission.len(),
                MAX_PERMISSION_BYTES,
            );
        }
        match &mut probe.outcome {
            ProbeOutcome::Granted => {}
            ProbeOutcome::Denied(error) => bound_api_error(error),
            ProbeOutcome::NotTestable(reason) => cut(reason, MAX_TEXT_BYTES),
        }
    }
    Ok(())
}

/// Cuts every string of a component's error to [`MAX_NAME_BYTES`] (names) or
/// [`MAX_TEXT_BYTES`] (messages, details).
pub(super) fn bound_error(error: &mut GuestError) {
    match error {
        GuestError::Api(api) => {
            cut(&mut api.action, MAX_NAME_BYTES);
            cut(&mut api.code, MAX_NAME_BYTES);
            cut(&mut api.message, MAX_TEXT_BYTES);
            if let Some(id) = &mut api.request_id {
                cut(id, MAX_NAME_BYTES);
            }
        }
        GuestError::MalformedResponse { action, detail, .. } => {
            cut(action, MAX_NAME_BYTES);
            cut(detail, MAX_TEXT_BYTES);
        }
        GuestError::Transport { action, error } => {
            cut(action, MAX_NAME_BYTES);
            use crate::error::TransportError as E;
            match error {
                E::Refused(text) | E::Credentials(text) | E::Network(text) => {
                    cut(text, MAX_TEXT_BYTES)
                }
                E::Timeout | E::BodyTooLarge(_) => {}
            }
        }
        GuestError::InvalidCursor(text) | GuestError::InvalidSettings(text) => {
            cut(text, MAX_TEXT_BYTES)
        }
    }
}

fn bound_api_error(error: &mut ApiError) {
    cut(&mut error.action, MAX_NAME_BYTES);
    cut(&mut error.code, MAX_NAME_BYTES);
    cut(&mut error.message, MAX_TEXT_BYTES);
    if let Some(id) = &mut error.request_id {
        cut(id, MAX_NAME_BYTES);
    }
}

fn cut(text: &mut String, max: usize) {
    if text.len() > max {
        *text = crate::escape::truncate(text, max).into_owned();
    }
}

/// An import argument over a limit that the host does not answer but traps on.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {size}, more than the host's limit of {limit}")]
pub(super) struct ImportLimit {
    /// What was counted, e.g. `calls in one send-all`.
    pub what: &'static str,
    /// How many there were.
    pub size: usize,
    /// The limit.
    pub limit: usize,
}

/// Which store limit refused a grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LimitHit {
    /// The total of the linear memories.
    Memory,
    /// The elements of a table.
    TableElements,
}

/// The store's [`ResourceLimiter`]: a cap on the total of all linear memories (not on each),
/// a cap on each table's elements, and the counts of this module. Remembers the first refused
/// grow and the largest total it allowed.
pub(super) struct StoreLimiter {
    max_memory_bytes: usize,
    /// Bytes all memories hold now (a memory never shrinks).
    memory_bytes: usize,
    /// Largest total allowed so far (the initial allocations included).
    pub(super) peak_bytes: usize,
    /// The first refused grow.
    pub(super) hit: Option<LimitHit>,
}

impl StoreLimiter {
    /// A limiter allowing `max_memory_bytes` of linear memory in all.
    pub(super) fn new(max_memory_bytes: usize) -> StoreLimiter {
        StoreLimiter {
            max_memory_bytes,
            memory_bytes: 0,
            peak_bytes: 0,
            hit: None,
        }
    }
}

impl ResourceLimiter for StoreLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.memory_bytes - current.min(self.memory_bytes)).checked_add(desired);
        let allowed = maximum.is_none_or(|maximum| desired <= maximum)
            && total.is_some_and(|total| total <= self.max_memory_bytes);
        if allowed {
            self.memory_bytes = total.unwrap_or(usize::MAX);
            self.peak_bytes = self.peak_bytes.max(self.memory_bytes);
        } else if self.hit.is_none() {
            self.hit = Some(LimitHit::Memory);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed =
            maximum.is_none_or(|maximum| desired <= maximum) && desired <= MAX_TABLE_ELEMENTS;
        if !allowed && self.hit.is_none() {
            self.hit = Some(LimitHit::TableElements);
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// Two token buckets (lines and bytes) for the guest's log: a burst, then a steady rate.
#[derive(Debug)]
pub(super) struct LogRate {
    lines: f64,
    bytes: f64,
    refilled: Instant,
    /// Lines refused since the last [`LogRate::take_dropped`].
    dropped: u64,
}

impl Default for LogRate {
    fn default() -> Self {
        LogRate {
            lines: LOG_BURST_LINES,
            bytes: LOG_BURST_BYTES,
            refilled: Instant::now(),
            dropped: 0,
        }
    }
}

impl LogRate {
    /// Whether a line may be written at `now`: takes one line from the bucket (a refused line
    /// is counted as dropped).
    pub(super) fn admit_line(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.lines = (self.lines + elapsed * LOG_LINES_PER_SECOND).min(LOG_BURST_LINES);
        self.bytes = (self.bytes + elapsed * LOG_BYTES_PER_SECOND).min(LOG_BURST_BYTES);
        if self.lines < 1.0 {
            self.dropped += 1;
            return false;
        }
        self.lines -= 1.0;
        true
    }

    /// Whether an admitted line of `bytes` may be written: takes them from the byte bucket
    /// (a refused line is counted as dropped).
    pub(super) fn admit_bytes(&mut self, bytes: usize) -> bool {
        let bytes = bytes as f64;
        if self.bytes < bytes {
            self.dropped += 1;
            return false;
        }
        self.bytes -= bytes;
        true
    }

    /// Lines dropped since the last call.
    pub(super) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_log_rate_allows_a_burst_then_a_steady_rate() {
        let mut rate = LogRate::default();
        let start = Instant::now();
        let admitted = (0..5000).filter(|_| rate.admit_line(start)).count();
        assert_eq!(admitted, LOG_BURST_LINES as usize);
        assert_eq!(rate.take_dropped(), 4000);
        let later = start + Duration::from_secs(2);
        let admitted = (0..5000).filter(|_| rate.admit_line(later)).count();
        assert_eq!(admitted, 200);
        assert!(!rate.admit_bytes(2 * 1024 * 1024));
        assert!(rate.admit_bytes(1024));
    }

    #[test]
    fn the_memory_cap_is_a_total_across_memories_and_tables_are_bounded() {
        const PAGE: usize = 64 * 1024;
        let mut limiter = StoreLimiter::new(10 * PAGE);
        assert!(
            limiter.memory_growing(0, 6 * PAGE, None).unwrap(),
            "memory A"
        );
        assert!(
            !limiter.memory_growing(0, 6 * PAGE, None).unwrap(),
            "memory B would make 12 pages"
        );
        assert_eq!(limiter.hit, Some(LimitHit::Memory));
        assert!(
            limiter.memory_growing(0, 4 * PAGE, None).unwrap(),
            "B at 4: 10 in all"
        );
        assert!(!limiter.memory_growing(4 * PAGE, 5 * PAGE, None).unwrap());
        assert_eq!(limiter.peak_bytes, 10 * PAGE, "the peak is the total");
        assert!(
            !limiter.memory_growing(0, PAGE, Some(0)).unwrap(),
            "its own maximum"
        );

        let mut limiter = StoreLimiter::new(usize::MAX);
        assert!(limiter.table_growing(0, 10, None).unwrap());
        assert!(!limiter
            .table_growing(10, MAX_TABLE_ELEMENTS + 1, None)
            .unwrap());
        assert_eq!(limiter.hit, Some(LimitHit::TableElements));
        assert_eq!(
            (limiter.instances(), limiter.memories(), limiter.tables()),
            (MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES)
        );
    }
}
