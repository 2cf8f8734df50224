//! The limits an operator sets (flags, defaults): of the network transport and of the
//! sandbox. Plain values: [`crate::transport`] and [`crate::sandbox`] enforce them.

use std::time::Duration;

/// Network limits of the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// TCP (and TLS) connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Whole-exchange timeout per call, body included. Default 60 s.
    pub call_timeout: Duration,
    /// Largest response body accepted, in bytes. Default 32 MiB.
    pub max_body_bytes: u64,
    /// Most response body bytes one `send_all` batch holds, all its calls together (a call
    /// whose body would pass it gets `BodyTooLarge` with this figure). Default 64 MiB.
    pub max_batch_bytes: u64,
    /// Most calls in flight at once in `send_all` (≥ 1). Default 128 (`--max-in-flight`).
    pub max_concurrency: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            max_batch_bytes: 64 * 1024 * 1024,
            max_concurrency: 128,
        }
    }
}

/// Limits of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Most bytes all linear memories of the component may hold together. Default 256 MiB.
    pub max_memory_bytes: usize,
    /// Wall-clock deadline of each export call (`collect`, `check`, `version`), and of
    /// instantiation. Default 300 s.
    pub call_deadline: Duration,
    /// Most bytes of events in one page; also what one lift may copy, with
    /// [`crate::sandbox::limits::LIFT_SLACK_BYTES`]. Default 64 MiB.
    pub max_page_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_memory_bytes: 256 * 1024 * 1024,
            call_deadline: Duration::from_secs(300),
            max_page_bytes: 64 * 1024 * 1024,
        }
    }
}
