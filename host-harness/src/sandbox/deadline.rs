//! Time limits of a call: the epoch ticker, the deadline armed before each export call, and
//! the timeout that drops a call waiting in the host.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store};

use super::state::HostState;
use crate::error::SandboxError;
use crate::limits::SandboxLimits;

/// How often the epoch advances; the resolution of the deadline while wasm code runs.
pub const EPOCH_TICK: Duration = Duration::from_millis(100);

/// Which deadline bounds the current export call: the call's own, or `--max-run-secs`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    /// The run's deadline (`--max-run-secs`) comes first.
    pub(super) by_run: bool,
}

impl Deadline {
    /// [`SandboxError::RunTimeLimit`] or [`SandboxError::Deadline`] for `function`.
    pub(super) fn error(self, function: &'static str, limits: &SandboxLimits) -> SandboxError {
        if self.by_run {
            SandboxError::RunTimeLimit { function }
        } else {
            SandboxError::Deadline {
                function,
                seconds: limits.call_deadline.as_secs(),
            }
        }
    }
}

/// Sets the epoch deadline and the transport's cut-off for the next export call: the call
/// deadline from now, or `run_deadline` when that comes first. Returns the instant chosen.
pub(super) fn arm_deadline(
    store: &mut Store<HostState>,
    call_deadline: Duration,
    run_deadline: Option<Instant>,
) -> Instant {
    let now = Instant::now();
    let by_call = now
        .checked_add(call_deadline)
        .unwrap_or(now + Duration::from_secs(86_400 * 365));
    let until = match run_deadline {
        Some(run) if run < by_call => run,
        _ => by_call,
    };
    let left = until.saturating_duration_since(now);
    let ticks = left.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
    store.data_mut().deadline = Some(until);
    until
}

/// Drives `future` on the executor until it completes or `until` passes (then it is dropped,
/// wherever it waits: in wasm, a WASI poll, a transport call).
pub(super) fn run_until<F: Future>(
    executor: &tokio::runtime::Runtime,
    until: Instant,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    executor.block_on(async {
        tokio::time::timeout_at(tokio::time::Instant::from_std(until), future).await
    })
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub(super) struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts the ticker thread (`epoch-ticker`).
    pub(super) fn start(engine: Engine) -> EpochTicker {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
