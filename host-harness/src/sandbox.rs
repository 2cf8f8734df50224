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

pub mod limits;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{
    Component, ComponentType, HasSelf, Lift, Linker, ResourceTable, WasmList, WasmStr,
};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreContextMut, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::error::{ApiFailure, GuestError, SandboxError, TransportError};
use crate::limits::SandboxLimits;
use crate::logging::{LogLevel, Logger};
use crate::transport::{self, Transport};

/// Bindings generated from `wit/world.wit` (world `user-inventory`). The exports are called
/// asynchronously; of the imports only `identity` is linked through them (`transport` and
/// `log` are defined in this module, lifting their arguments lazily).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "user-inventory",
        exports: { default: async },
    });
}

use bindings::aws_iam_users::connector::{
    identity as wit_identity, log as wit_log, transport as wit_transport,
};
use bindings::exports::aws_iam_users::connector::inventory as wit_inventory;

pub use wit_identity::{AuthMethod, Info as IdentityInfo};
pub use wit_inventory::{
    ActionErrors, ApiError, CheckReport, Page, PageStats, Probe, ProbeOutcome, Settings, Strategy,
};

/// How often the epoch advances; the resolution of the deadline while wasm code runs.
pub const EPOCH_TICK: Duration = Duration::from_millis(100);

/// What the host gives the component through its imports.
#[derive(Debug, Clone)]
pub struct Imports {
    /// The signed transport (also the source of partition, region and auth method).
    pub transport: Arc<Transport>,
    /// Where guest log lines go.
    pub logger: Arc<Logger>,
    /// When set, every import call is recorded (tests check what crossed the boundary).
    pub recorder: Option<Arc<ImportRecorder>>,
}

/// One import call: which import, its arguments and its result, `Debug`-formatted with
/// bodies as (lossy) UTF-8 text, so a test can search them for a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// `transport.send`, `transport.send-all`, `identity.describe`, `log.log`.
    pub import: &'static str,
    /// The arguments the component passed (as the host read them).
    pub args: String,
    /// What the host returned.
    pub result: String,
}

/// Records every value that crosses the boundary through the imports, in call order.
#[derive(Debug, Default)]
pub struct ImportRecorder {
    calls: std::sync::Mutex<Vec<RecordedCall>>,
}

impl ImportRecorder {
    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn record(&self, import: &'static str, args: String, result: String) {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(RecordedCall {
                import,
                args,
                result,
            });
    }
}

/// A response as recorded: the body as text.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug only
struct RecordedResponse<'a> {
    status: u16,
    headers: &'a [(String, String)],
    body: std::borrow::Cow<'a, str>,
}

fn recorded_result(
    result: &Result<wit_transport::Response, wit_transport::TransportError>,
) -> String {
    match result {
        Ok(response) => format!(
            "Ok({:?})",
            RecordedResponse {
                status: response.status,
                headers: &response.headers,
                body: String::from_utf8_lossy(&response.body),
            }
        ),
        Err(error) => format!("Err({error:?})"),
    }
}

/// Engine, linker and compiled component; shared by every session of the process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    component: Component,
    executor: Arc<tokio::runtime::Runtime>,
    sha256: String,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Compiles the component at `path` (a `wasm32-wasip2` component binary) and links WASI
    /// and the host imports. Compiling takes about a second in a debug build: do it once.
    ///
    /// Errors: [`SandboxError::ReadComponent`] when the file cannot be read,
    /// [`SandboxError::IncompatibleContract`] / [`SandboxError::NotAConnector`] when it speaks
    /// another contract (see [`crate::inspect`]), [`SandboxError::Compile`] when it is not a
    /// valid component, [`SandboxError::Engine`].
    pub fn load(path: &Path) -> Result<Runtime, SandboxError> {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(path).map_err(|source| SandboxError::ReadComponent {
            path: path.to_owned(),
            source,
        })?;
        // Refuse a contract this host does not speak before spending time compiling it.
        crate::inspect::ensure_compatible(path, &bytes)?;
        let engine_error = |error: wasmtime::Error| SandboxError::Engine(format!("{error:#}"));
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(engine_error)?;
        let component = Component::new(&engine, &bytes).map_err(|error| SandboxError::Compile {
            path: path.to_owned(),
            message: one_line(&format!("{error:#}")),
        })?;

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_error)?;
        wit_identity::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(engine_error)?;
        imports::add_to_linker(&mut linker).map_err(engine_error)?;

        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|error| SandboxError::Engine(format!("cannot start the executor: {error}")))?;
        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            engine,
            linker,
            component,
            executor: Arc::new(executor),
            sha256: format!("{:x}", Sha256::digest(&bytes)),
            _ticker: ticker,
        })
    }

    /// SHA-256 of the component file, lowercase hex.
    pub fn component_sha256(&self) -> &str {
        &self.sha256
    }

    /// Creates a fresh store and instantiates the component in it, within the call deadline.
    ///
    /// Errors: [`SandboxError::MemoryLimit`] when its initial memory exceeds the cap,
    /// [`SandboxError::Deadline`], [`SandboxError::Instantiate`] when it does not fit the
    /// world, exceeds a store limit or its start-up traps.
    pub fn instantiate(
        &self,
        imports: Imports,
        limits: SandboxLimits,
    ) -> Result<Session, SandboxError> {
        let mut table = ResourceTable::new();
        table.set_max_capacity(limits::MAX_WASI_RESOURCES);
        let state = HostState {
            wasi: sandboxed_wasi(),
            table,
            limiter: StoreLimiter::new(limits.max_memory_bytes),
            imports,
            deadline: None,
            log_rate: limits::LogRate::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.max_page_bytes + limits::LIFT_SLACK_BYTES);
        store.set_max_component_handles(limits::MAX_COMPONENT_HANDLES);
        store.epoch_deadline_trap();
        let until = arm_deadline(&mut store, limits.call_deadline, None);
        let linker = &self.linker;
        let component = &self.component;
        let instantiated = run_until(&self.executor, until, async {
            let instance = linker.instantiate_async(&mut store, component).await?;
            bindings::UserInventory::new(&mut store, &instance)
        });
        store.data_mut().deadline = None;
        let deadline = Deadline { by_run: false };
        match instantiated {
            Ok(Ok(bindings)) => Ok(Session {
                store,
                bindings,
                limits,
                executor: self.executor.clone(),
                run_deadline: None,
                dead: false,
            }),
            Ok(Err(error)) => Err(
                match classify(&store, &limits, "instantiate", deadline, error) {
                    SandboxError::Trap { message, .. } => {
                        SandboxError::Instantiate(one_line(&message))
                    }
                    other => other,
                },
            ),
            Err(_elapsed) => Err(deadline.error("instantiate", &limits)),
        }
    }
}

/// Which deadline bounds the current export call: the call's own, or `--max-run-secs`.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    by_run: bool,
}

impl Deadline {
    fn error(self, function: &'static str, limits: &SandboxLimits) -> SandboxError {
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

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// One instance of the component in its own store.
pub struct Session {
    store: Store<HostState>,
    bindings: bindings::UserInventory,
    limits: SandboxLimits,
    executor: Arc<tokio::runtime::Runtime>,
    run_deadline: Option<Instant>,
    dead: bool,
}

impl Session {
    /// Calls the `version` export.
    ///
    /// Errors: [`SandboxError`] on trap, limit or deadline.
    pub fn version(&mut self) -> Result<String, SandboxError> {
        let version = self.call("version", |bindings, store| {
            Box::pin(
                bindings
                    .aws_iam_users_connector_inventory()
                    .call_version(store),
            )
        })?;
        if version.len() > limits::MAX_NAME_BYTES {
            self.dead = true;
            return Err(SandboxError::OverLimit {
                function: "version",
                what: "bytes in the version".into(),
                size: version.len() as u64,
                limit: limits::MAX_NAME_BYTES as u64,
            });
        }
        Ok(version)
    }

    /// Calls the `check` export with `settings`.
    ///
    /// Returns the component's report (free text cut to [`limits::MAX_TEXT_BYTES`]) or its
    /// [`GuestError`]; errors: [`SandboxError`], [`SandboxError::OverLimit`] for a report
    /// over the limits of [`limits::check_report`].
    pub fn check(
        &mut self,
        settings: Settings,
    ) -> Result<Result<CheckReport, GuestError>, SandboxError> {
        let result = self.call("check", |bindings, store| {
            Box::pin(
                bindings
                    .aws_iam_users_connector_inventory()
                    .call_check(store, settings),
            )
        })?;
        match result {
            Ok(mut report) => {
                limits::check_report(&mut report).inspect_err(|_| self.dead = true)?;
                Ok(Ok(report))
            }
            Err(error) => Ok(Err(bounded(error))),
        }
    }

    /// Calls the `collect` export with `settings` and the previous page's `cursor` (none for
    /// the first page).
    ///
    /// Returns the page or the component's [`GuestError`]; errors: [`SandboxError`],
    /// [`SandboxError::OverLimit`] for a page over the limits of [`limits::check_page`].
    pub fn collect(
        &mut self,
        settings: Settings,
        cursor: Option<&str>,
    ) -> Result<Result<Page, GuestError>, SandboxError> {
        let cursor = cursor.map(str::to_owned);
        let result = self.call("collect", move |bindings, store| {
            Box::pin(async move {
                bindings
                    .aws_iam_users_connector_inventory()
                    .call_collect(store, settings, cursor.as_deref())
                    .await
            })
        })?;
        match result {
            Ok(page) => {
                limits::check_page(&page, self.limits.max_page_bytes)
                    .inspect_err(|_| self.dead = true)?;
                Ok(Ok(page))
            }
            Err(error) => Ok(Err(bounded(error))),
        }
    }

    /// Makes every later export call end by `deadline` too (`--max-run-secs`); passing it is
    /// [`SandboxError::RunTimeLimit`].
    pub fn set_run_deadline(&mut self, deadline: Option<Instant>) {
        self.run_deadline = deadline;
    }

    /// Memory cap hits and traps so far: whether the session can still be called.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// The most bytes the component's linear memories have held together in this session (from
    /// its instantiation on; a wasm memory never shrinks).
    pub fn guest_peak_bytes(&self) -> u64 {
        self.store.data().limiter.peak_bytes as u64
    }

    fn call<R: Send>(
        &mut self,
        function: &'static str,
        call: impl for<'a> FnOnce(
            &'a bindings::UserInventory,
            &'a mut Store<HostState>,
        ) -> CallFuture<'a, R>,
    ) -> Result<R, SandboxError> {
        if self.dead {
            return Err(SandboxError::Trap {
                function,
                message: "the instance is dead after an earlier failure".into(),
            });
        }
        let until = arm_deadline(
            &mut self.store,
            self.limits.call_deadline,
            self.run_deadline,
        );
        let deadline = Deadline {
            by_run: self.run_deadline == Some(until),
        };
        let future = call(&self.bindings, &mut self.store);
        let result = run_until(&self.executor, until, future);
        let state = self.store.data_mut();
        state.deadline = None;
        let dropped = state.log_rate.take_dropped();
        if dropped > 0 {
            state.imports.logger.host(
                LogLevel::Warn,
                &format!(
                    "{dropped} guest log lines dropped in {function}: the component logged more \
                     than {} lines or {} KiB at once, or more than {} lines or {} KiB per second",
                    limits::LOG_BURST_LINES,
                    limits::LOG_BURST_BYTES / 1024.0,
                    limits::LOG_LINES_PER_SECOND,
                    limits::LOG_BYTES_PER_SECOND / 1024.0
                ),
            );
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                self.dead = true;
                Err(classify(
                    &self.store,
                    &self.limits,
                    function,
                    deadline,
                    error,
                ))
            }
            Err(_elapsed) => {
                self.dead = true;
                Err(deadline.error(function, &self.limits))
            }
        }
    }
}

/// Drives `future` on the executor until it completes or `until` passes (then it is dropped,
/// wherever it waits: in wasm, a WASI poll, a transport call).
fn run_until<F: Future>(
    executor: &tokio::runtime::Runtime,
    until: Instant,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    executor.block_on(async {
        tokio::time::timeout_at(tokio::time::Instant::from_std(until), future).await
    })
}

/// A component's error with its strings bounded ([`limits::bound_error`]).
fn bounded(error: wit_inventory::ConnectorError) -> GuestError {
    let mut error = GuestError::from(error);
    limits::bound_error(&mut error);
    error
}

/// Sets the epoch deadline and the transport's cut-off for the next export call: the call
/// deadline from now, or `run_deadline` when that comes first. Returns the instant chosen.
fn arm_deadline(
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

/// Maps a failed call to a sandbox error: a store limit first (the guest usually aborts after
/// a refused grow), then the epoch interrupt, then a host-side limit, then any other trap.
fn classify(
    store: &Store<HostState>,
    limits: &SandboxLimits,
    function: &'static str,
    deadline: Deadline,
    error: wasmtime::Error,
) -> SandboxError {
    if let Some(hit) = store.data().limiter.hit {
        return match hit {
            LimitHit::Memory => SandboxError::MemoryLimit {
                function,
                limit_mib: (limits.max_memory_bytes / (1024 * 1024)) as u64,
            },
            LimitHit::TableElements => SandboxError::StoreLimit {
                function,
                what: "elements in a table",
                limit: limits::MAX_TABLE_ELEMENTS as u64,
            },
        };
    }
    if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return deadline.error(function, limits);
    }
    // wasmtime's hostcall fuel: one lift copied more than the budget (its error type is
    // private; its message is matched, and a change of it shows as a plain trap).
    if format!("{error:#}").contains("fuel allocated for hostcalls has been exhausted") {
        return SandboxError::CopyLimit {
            function,
            limit: (limits.max_page_bytes + limits::LIFT_SLACK_BYTES) as u64,
        };
    }
    if let Some(limit) = error.downcast_ref::<imports::ImportLimit>() {
        return SandboxError::OverLimit {
            function,
            what: limit.what.to_owned(),
            size: limit.size as u64,
            limit: limit.limit as u64,
        };
    }
    SandboxError::Trap {
        function,
        message: one_line(&format!("{error:#}")),
    }
}

/// Collapses a multi-line message (wasmtime pretty-prints some) into one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// WASI with nothing but clocks and random: no preopens, env, args, stdio, sockets or DNS.
fn sandboxed_wasi() -> WasiCtx {
    WasiCtxBuilder::new()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .build()
}

/// The store's data: WASI state, the limiter and the host side of the imports.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: StoreLimiter,
    imports: Imports,
    /// When the current export call must end; transport calls after it are not sent.
    deadline: Option<Instant>,
    /// The guest log's rate limit.
    log_rate: limits::LogRate,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Which store limit refused a grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitHit {
    Memory,
    TableElements,
}

/// The store's [`ResourceLimiter`]: a cap on the total of all linear memories (not on each),
/// a cap on each table's elements, and the counts of [`limits`]. Remembers the first refused
/// grow and the largest total it allowed.
struct StoreLimiter {
    max_memory_bytes: usize,
    /// Bytes all memories hold now (a memory never shrinks).
    memory_bytes: usize,
    /// Largest total allowed so far (the initial allocations included).
    peak_bytes: usize,
    hit: Option<LimitHit>,
}

impl StoreLimiter {
    fn new(max_memory_bytes: usize) -> StoreLimiter {
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
        let allowed = maximum.is_none_or(|maximum| desired <= maximum)
            && desired <= limits::MAX_TABLE_ELEMENTS;
        if !allowed && self.hit.is_none() {
            self.hit = Some(LimitHit::TableElements);
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        limits::MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        limits::MAX_TABLES
    }

    fn memories(&self) -> usize {
        limits::MAX_MEMORIES
    }
}

impl wit_identity::Host for HostState {
    fn describe(&mut self) -> IdentityInfo {
        let transport = &self.imports.transport;
        let endpoints = transport.endpoints();
        let source = transport.signer().source();
        let info = IdentityInfo {
            auth_method: match source.method() {
                crate::credentials::AuthMethod::AccessKeys => AuthMethod::AccessKeys,
                crate::credentials::AuthMethod::WebIdentityRole => AuthMethod::WebIdentityRole,
            },
            partition: endpoints.partition().id.to_owned(),
            region: endpoints.region().to_owned(),
            role_arn: source.role_arn().map(str::to_owned),
        };
        if let Some(recorder) = &self.imports.recorder {
            recorder.record("identity.describe", String::new(), format!("{info:?}"));
        }
        info
    }
}

impl From<transport::HttpResponse> for wit_transport::Response {
    fn from(response: transport::HttpResponse) -> Self {
        wit_transport::Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

impl From<TransportError> for wit_transport::TransportError {
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

impl From<wit_transport::TransportError> for TransportError {
    fn from(error: wit_transport::TransportError) -> Self {
        use wit_transport::TransportError as W;
        match error {
            W::Refused(message) => Self::Refused(message),
            W::Credentials(message) => Self::Credentials(message),
            W::Network(message) => Self::Network(message),
            W::Timeout => Self::Timeout,
            W::BodyTooLarge(cap) => Self::BodyTooLarge(cap),
        }
    }
}

impl From<ApiError> for ApiFailure {
    fn from(error: ApiError) -> Self {
        ApiFailure {
            action: error.action,
            status: error.status,
            code: error.code,
            message: error.message,
            request_id: error.request_id,
        }
    }
}

impl From<wit_inventory::ConnectorError> for GuestError {
    fn from(error: wit_inventory::ConnectorError) -> Self {
        use wit_inventory::ConnectorError as C;
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

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
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

/// The `transport` and `log` imports, defined on the linker directly so their arguments are
/// lifted lazily and copied only within [`limits`].
mod imports {
    use super::*;

    /// A `query-call` as the component passed it, not yet read.
    #[derive(ComponentType, Lift)]
    #[component(record)]
    pub(super) struct GuestQueryCall {
        service: WasmStr,
        params: WasmList<(WasmStr, WasmStr)>,
    }

    /// An import argument over a limit that the host does not answer but traps on.
    #[derive(Debug, thiserror::Error)]
    #[error("{what}: {size}, more than the host's limit of {limit}")]
    pub(super) struct ImportLimit {
        pub what: &'static str,
        pub size: usize,
        pub limit: usize,
    }

    fn interface(name: &str) -> String {
        format!(
            "{}/{name}@{}",
            crate::inspect::CONTRACT_PACKAGE,
            crate::inspect::host_contract().version
        )
    }

    /// Defines `transport.send`, `transport.send-all` and `log.log`.
    pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
        let mut transport = linker.instance(&interface("transport"))?;
        transport.func_wrap_async(
            "send",
            |mut store: StoreContextMut<'_, HostState>, (call,): (GuestQueryCall,)| {
                let read = read_call(&mut store, &call);
                Box::new(async move {
                    let call = read?;
                    let state = store.data();
                    let (transport, deadline) = (state.imports.transport.clone(), state.deadline);
                    let result: Result<wit_transport::Response, wit_transport::TransportError> =
                        match &call {
                            Err(refusal) => {
                                Err(wit_transport::TransportError::Refused(refusal.clone()))
                            }
                            Ok(call) => {
                                let call = call.clone();
                                off_thread(move || transport.send_until(&call, deadline))
                                    .await?
                                    .map(Into::into)
                                    .map_err(Into::into)
                            }
                        };
                    if let Some(recorder) = &store.data().imports.recorder {
                        recorder.record(
                            "transport.send",
                            format!("{call:?}"),
                            recorded_result(&result),
                        );
                    }
                    Ok((result,))
                })
            },
        )?;
        transport.func_wrap_async(
            "send-all",
            |mut store: StoreContextMut<'_, HostState>, (calls,): (WasmList<GuestQueryCall>,)| {
                let read = read_batch(&mut store, &calls);
                Box::new(async move {
                    let calls = read?;
                    let state = store.data();
                    let (transport, deadline) = (state.imports.transport.clone(), state.deadline);
                    let sendable: Vec<transport::QueryCall> = calls
                        .iter()
                        .filter_map(|call| call.as_ref().ok().cloned())
                        .collect();
                    let mut sent =
                        off_thread(move || transport.send_all_until(&sendable, deadline))
                            .await?
                            .into_iter();
                    let results: Vec<
                        Result<wit_transport::Response, wit_transport::TransportError>,
                    > = calls
                        .iter()
                        .map(|call| match call {
                            Err(refusal) => {
                                Err(wit_transport::TransportError::Refused(refusal.clone()))
                            }
                            Ok(_) => match sent.next() {
                                Some(result) => result.map(Into::into).map_err(Into::into),
                                None => Err(wit_transport::TransportError::Refused(
                                    "the host lost this call's result".into(),
                                )),
                            },
                        })
                        .collect();
                    if let Some(recorder) = &store.data().imports.recorder {
                        let rendered: Vec<String> = results.iter().map(recorded_result).collect();
                        recorder.record(
                            "transport.send-all",
                            format!("{calls:?}"),
                            format!("[{}]", rendered.join(", ")),
                        );
                    }
                    Ok((results,))
                })
            },
        )?;
        let mut log = linker.instance(&interface("log"))?;
        log.func_wrap(
            "log",
            |mut store: StoreContextMut<'_, HostState>,
             (level, message): (wit_log::Level, WasmStr)| {
                guest_log(&mut store, level, &message)
            },
        )?;
        Ok(())
    }

    /// Runs `work` on its own thread and waits for it without blocking the executor, so the
    /// call's timeout can drop the wait at the deadline (the thread ends by its own timeout).
    async fn off_thread<R: Send + 'static>(
        work: impl FnOnce() -> R + Send + 'static,
    ) -> wasmtime::Result<R> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("transport".into())
            .spawn(move || {
                let _ = sender.send(work());
            })?;
        receiver
            .await
            .map_err(|_| wasmtime::format_err!("a transport thread ended without a result"))
    }

    /// Reads one call within [`limits::MAX_CALL_PARAMS`] and [`limits::MAX_CALL_BYTES`].
    /// `Ok(Err(refusal))` for a call over them or not UTF-8; `Err` (a trap) when the
    /// component's memory does not hold what it describes.
    fn read_call(
        store: &mut StoreContextMut<'_, HostState>,
        call: &GuestQueryCall,
    ) -> wasmtime::Result<Result<transport::QueryCall, String>> {
        if call.params.len() > limits::MAX_CALL_PARAMS {
            return Ok(Err(format!(
                "the call has {} parameters, more than the host's limit of {}",
                call.params.len(),
                limits::MAX_CALL_PARAMS
            )));
        }
        let mut bytes = 0usize;
        let mut read = |store: &StoreContextMut<'_, HostState>,
                        text: &WasmStr|
         -> wasmtime::Result<Result<String, String>> {
            let text = match text.to_str(store) {
                Ok(text) => text,
                Err(_) => return Ok(Err("a call's text is not valid UTF-8".into())),
            };
            bytes += text.len();
            if bytes > limits::MAX_CALL_BYTES {
                return Ok(Err(format!(
                    "the call holds more than the host's limit of {} bytes",
                    limits::MAX_CALL_BYTES
                )));
            }
            Ok(Ok(text.into_owned()))
        };
        let service = match read(store, &call.service)? {
            Ok(service) => service,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut params = Vec::with_capacity(call.params.len());
        for index in 0..call.params.len() {
            let Some(pair) = call.params.get(&mut *store, index) else {
                break;
            };
            let (name, value) = pair?;
            let name = match read(store, &name)? {
                Ok(name) => name,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let value = match read(store, &value)? {
                Ok(value) => value,
                Err(refusal) => return Ok(Err(refusal)),
            };
            params.push((name, value));
        }
        Ok(Ok(transport::QueryCall { service, params }))
    }

    /// Reads a batch: [`ImportLimit`] (a trap) beyond [`limits::MAX_BATCH_CALLS`] calls, then
    /// each call as [`read_call`] does, until one is refused: the calls after it are refused
    /// unread, so one batch never makes the host validate more than one oversized string.
    fn read_batch(
        store: &mut StoreContextMut<'_, HostState>,
        calls: &WasmList<GuestQueryCall>,
    ) -> wasmtime::Result<Vec<Result<transport::QueryCall, String>>> {
        if calls.len() > limits::MAX_BATCH_CALLS {
            return Err(ImportLimit {
                what: "calls in one send-all",
                size: calls.len(),
                limit: limits::MAX_BATCH_CALLS,
            }
            .into());
        }
        let mut read = Vec::with_capacity(calls.len());
        for index in 0..calls.len() {
            let Some(call) = calls.get(&mut *store, index) else {
                break;
            };
            let call = read_call(store, &call?)?;
            let refused = call.as_ref().err().cloned();
            read.push(call);
            if let Some(refusal) = refused {
                let unread =
                    format!("not read: call #{index} of this batch was refused ({refusal})");
                read.resize(calls.len(), Err(unread));
                break;
            }
        }
        Ok(read)
    }

    /// `log.log`: a line at `level` when the level is enabled and the rate allows it, cut to
    /// [`limits::MAX_LOG_MESSAGE_BYTES`]; nothing of a refused line is read.
    fn guest_log(
        store: &mut StoreContextMut<'_, HostState>,
        level: wit_log::Level,
        message: &WasmStr,
    ) -> wasmtime::Result<()> {
        let level = match level {
            wit_log::Level::Debug => LogLevel::Debug,
            wit_log::Level::Info => LogLevel::Info,
            wit_log::Level::Warn => LogLevel::Warn,
            wit_log::Level::Error => LogLevel::Error,
        };
        let state = store.data_mut();
        let recording = state.imports.recorder.is_some();
        if !state.imports.logger.enabled(level) && !recording {
            return Ok(());
        }
        if !state.log_rate.admit_line(Instant::now()) {
            return Ok(());
        }
        let text = message.to_str(&*store)?;
        let text = crate::escape::truncate(&text, limits::MAX_LOG_MESSAGE_BYTES).into_owned();
        let state = store.data_mut();
        if !state.log_rate.admit_bytes(text.len()) {
            return Ok(());
        }
        if let Some(recorder) = &state.imports.recorder {
            recorder.record("log.log", format!("{level:?} {text:?}"), String::new());
        }
        state.imports.logger.guest(level, &text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Runs the real component (built by build.rs) under tight limits.

    use super::*;
    use crate::endpoint::EndpointResolver;
    use crate::limits::TransportConfig;
    use crate::signing::Signer;
    use crate::test_support::{canary_credentials, http_reply, serve, SharedBuffer};
    use std::sync::OnceLock;

    fn runtime() -> &'static Runtime {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            Runtime::load(Path::new(crate::COMPONENT_PATH)).expect("component loads")
        })
    }

    fn imports(endpoint: &str, log: SharedBuffer) -> Imports {
        let logger = Arc::new(Logger::with_sink(LogLevel::Debug, true, Box::new(log)));
        let endpoints = EndpointResolver::new("eu-west-1", Some(endpoint)).unwrap();
        let transport = Transport::new(
            Signer::new(canary_credentials()),
            endpoints,
            TransportConfig::default(),
            logger.clone(),
        );
        Imports {
            transport: Arc::new(transport),
            logger,
            recorder: None,
        }
    }

    fn host_state(imports: Imports) -> HostState {
        HostState {
            wasi: sandboxed_wasi(),
            table: ResourceTable::new(),
            limiter: StoreLimiter::new(usize::MAX),
            imports,
            deadline: None,
            log_rate: limits::LogRate::default(),
        }
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
            .table_growing(10, limits::MAX_TABLE_ELEMENTS + 1, None)
            .unwrap());
        assert_eq!(limiter.hit, Some(LimitHit::TableElements));
        assert_eq!(
            (limiter.instances(), limiter.memories(), limiter.tables()),
            (
                limits::MAX_INSTANCES,
                limits::MAX_MEMORIES,
                limits::MAX_TABLES
            )
        );
    }

    #[test]
    fn the_identity_import_reports_method_partition_region_and_role() {
        let logger = Arc::new(Logger::with_sink(
            LogLevel::Debug,
            true,
            Box::new(SharedBuffer::default()),
        ));
        let role = "arn:aws-cn:iam::123456789012:role/connector-reader-role";
        let source = crate::credentials::CredentialSource::refreshing(
            crate::credentials::AuthMethod::WebIdentityRole,
            Some(role.into()),
            canary_credentials(),
            Duration::from_secs(300),
            logger.clone(),
        )
        .unwrap();
        let transport = Transport::new(
            Signer::from_source(Arc::new(source)),
            EndpointResolver::new("cn-northwest-1", None).unwrap(),
            TransportConfig::default(),
            logger.clone(),
        );
        let mut state = host_state(Imports {
            transport: Arc::new(transport),
            logger,
            recorder: None,
        });
        let info = <HostState as wit_identity::Host>::describe(&mut state);
        assert!(matches!(info.auth_method, AuthMethod::WebIdentityRole));
        assert_eq!(info.partition, "aws-cn");
        assert_eq!(info.region, "cn-northwest-1");
        assert_eq!(info.role_arn.as_deref(), Some(role));
        assert!(!format!("{info:?}").contains("CANARY"));
    }

    #[test]
    fn version_export_answers() {
        let mut session = runtime()
            .instantiate(
                imports("http://127.0.0.1:9/", SharedBuffer::default()),
                SandboxLimits::default(),
            )
            .unwrap();
        let peak_after_instantiation = session.guest_peak_bytes();
        // The initial memory counts: a Rust guest's stack alone is 1 MiB.
        assert!(
            peak_after_instantiation >= 1024 * 1024,
            "{peak_after_instantiation}"
        );
        let version = session.version().unwrap();
        assert!(version.split('.').count() == 3, "{version}");
        assert!(session.guest_peak_bytes() >= peak_after_instantiation);
    }

    #[test]
    fn initial_memory_over_the_cap_is_a_memory_limit_error() {
        let limits = SandboxLimits {
            max_memory_bytes: 64 * 1024,
            ..SandboxLimits::default()
        };
        let error = runtime()
            .instantiate(
                imports("http://127.0.0.1:9/", SharedBuffer::default()),
                limits,
            )
            .err()
            .unwrap();
        assert!(
            matches!(
                error,
                SandboxError::MemoryLimit {
                    function: "instantiate",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn growing_past_the_cap_while_collecting_is_a_memory_limit_error() {
        // A 6 MiB body must be copied into a component capped at 4 MiB.
        let body = format!(
            "<ListUsersResponse>{}</ListUsersResponse>",
            "x".repeat(6 * 1024 * 1024)
        );
        let (url, _server) = serve(1, move |_| http_reply("200 OK", &body));
        let limits = SandboxLimits {
            max_memory_bytes: 4 * 1024 * 1024,
            ..SandboxLimits::default()
        };
        let mut session = runtime()
            .instantiate(imports(&url, SharedBuffer::default()), limits)
            .unwrap();
        let error = session
            .collect(
                Settings {
                    max_items: 10,
                    max_attempts: 1,
                    retry_base_ms: 0,
                    strategy: Strategy::PerUser,
                    max_concurrency: 8,
                    include_root: true,
                },
                None,
            )
            .err()
            .unwrap();
        assert!(
            matches!(
                error,
                SandboxError::MemoryLimit {
                    function: "collect",
                    limit_mib: 4
                }
            ),
            "{error}"
        );
        assert!(session.is_dead());
        // The refused grow is not a peak: the memory stayed under the cap.
        let peak = session.guest_peak_bytes();
        assert!(peak > 0 && peak <= 4 * 1024 * 1024, "{peak}");
        assert!(matches!(session.version(), Err(SandboxError::Trap { .. })));
    }

    #[test]
    fn a_call_past_its_deadline_is_interrupted() {
        // A listener that accepts but never answers: the transport gives up at the deadline,
        // and the component is interrupted as soon as it runs again.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let limits = SandboxLimits {
            call_deadline: Duration::from_millis(500),
            ..SandboxLimits::default()
        };
        let mut session = runtime()
            .instantiate(imports(&url, SharedBuffer::default()), limits)
            .unwrap();
        let started = Instant::now();
        let error = session
            .collect(
                Settings {
                    max_items: 10,
                    max_attempts: 1,
                    retry_base_ms: 0,
                    strategy: Strategy::PerUser,
                    max_concurrency: 8,
                    include_root: true,
                },
                None,
            )
            .err()
            .unwrap();
        assert!(
            matches!(
                error,
                SandboxError::Deadline {
                    function: "collect",
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        drop(listener);
    }

    #[test]
    fn identity_and_transport_errors_reach_the_component() {
        // Connection refused: the component reports a transport failure naming the action.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut session = runtime()
            .instantiate(
                imports(
                    &format!("http://127.0.0.1:{port}/"),
                    SharedBuffer::default(),
                ),
                SandboxLimits::default(),
            )
            .unwrap();
        match session
            .collect(
                Settings {
                    max_items: 10,
                    max_attempts: 1,
                    retry_base_ms: 0,
                    strategy: Strategy::PerUser,
                    max_concurrency: 8,
                    include_root: true,
                },
                None,
            )
            .unwrap()
        {
            Err(GuestError::Transport {
                action,
                error: TransportError::Network(_),
            }) => {
                assert_eq!(action, "ListUsers")
            }
            other => panic!("expected a transport failure, got {other:?}"),
        }
    }
}
