//! The wasmtime sandbox: engine, linker, limits, WASI context and the WIT bindings.
//!
//! - One [`Runtime`] per process: an [`Engine`] with epoch interruption and async support, a
//!   [`Linker`] with WASI preview 2 and the three imports, the compiled [`Component`], a
//!   one-thread tokio runtime that drives the component's calls, and a ticker thread that
//!   advances the epoch every [`EPOCH_TICK`].
//! - One [`Session`] per run: a fresh [`Store`] with the limits of [`limits`] (a cap on the
//!   total of its linear memories, counts of instances, memories, tables and their elements,
//!   WASI resources, component handles, and the bytes one lift may copy), a deadline armed
//!   before every export call, and a WASI context with no preopened directory, no environment,
//!   no arguments, no stdio, and no sockets or name lookup (clocks and random are available).
//! - **The deadline holds inside host calls.** Each export call runs as a future under a
//!   timeout: when the deadline passes while the component waits in the host (a WASI `poll`
//!   or sleep, a `transport` call), the call is dropped there; while it runs wasm code, the
//!   epoch interrupt stops it. Transport calls run on their own threads with the time left as
//!   their timeout, so a blocked network read holds nothing up. The component's own sleeps
//!   (retry backoff) work as before, within the deadline.
//! - Traps, the limits and the deadline become distinct [`SandboxError`]s; the component's
//!   own errors are [`GuestError`]s. After a trap the session is dead.
//!
//! The component never receives a credential: the imports give it responses, the partition,
//! region, auth method and role ARN, and nothing else; the host signs only the actions of
//! [`crate::actions`]. An optional [`ImportRecorder`] keeps a copy of every value crossing the
//! imports, for tests that prove it.

mod bindings;
pub mod compile_cache;
mod convert;
mod deadline;
mod identity_impl;
pub mod limits;
mod log_impl;
mod recorder;
mod runtime;
mod state;
mod transport_impl;

pub use deadline::EPOCH_TICK;
pub use recorder::{ImportRecorder, RecordedCall};
pub use runtime::{Compiled, Runtime, Session};
pub use state::Imports;
