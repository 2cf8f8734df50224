//! The wasmtime sandbox: engine, linker, limits, WASI context and the WIT bindings.
//!
//! - One [`Runtime`] per process: an [`Engine`] with epoch interruption, a [`Linker`] with
//!   WASI preview 2 and the three imports, the compiled [`Component`], and a ticker thread that
//!   advances the epoch every [`EPOCH_TICK`].
//! - One [`Session`] per run: a fresh [`Store`] with a memory cap ([`StoreLimits`]), an epoch
//!   deadline reset before every export call, and a WASI context with no preopened directory,
//!   no environment, no arguments, no stdio, and no sockets or name lookup (clocks and random
//!   are available).
//! - Traps, the memory cap and the deadline become distinct [`SandboxError`]s; the component's
//!   own errors are [`GuestError`]s. After a trap the session is dead.
//!
//! The component never receives a credential: the imports give it responses, the partition,
//! region, auth method and role ARN, and nothing else. An optional [`ImportRecorder`] keeps a
//! copy of every value crossing the imports, for tests that prove it.

use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::error::{ApiFailure, GuestError, SandboxError};
use crate::logging::{LogLevel, Logger};
use crate::transport::{self, Transport};

/// Bindings generated from `wit/world.wit` (world `user-inventory`).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "user-inventory",
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

/// How often the epoch advances; the deadline's resolution.
pub const EPOCH_TICK: Duration = Duration::from_millis(100);

/// Limits of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Largest linear memory the component may grow to, in bytes. Default 256 MiB.
    pub max_memory_bytes: usize,
    /// Wall-clock deadline of each export call (`collect`, `check`, `version`). Default 300 s.
    pub call_deadline: Duration,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_memory_bytes: 256 * 1024 * 1024,
            call_deadline: Duration::from_secs(300),
        }
    }
}

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
    /// The arguments the component passed.
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
        let bytes = std::fs::read(path).map_err(|source| SandboxError::ReadComponent {
            path: path.to_owned(),
            source,
        })?;
        // Refuse a contract this host does not speak before spending time compiling it.
        crate::inspect::ensure_compatible(path, &bytes)?;
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine =
            Engine::new(&config).map_err(|error| SandboxError::Engine(format!("{error:#}")))?;
        let component = Component::new(&engine, &bytes).map_err(|error| SandboxError::Compile {
            path: path.to_owned(),
            message: one_line(&format!("{error:#}")),
        })?;

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|error| SandboxError::Engine(format!("{error:#}")))?;
        bindings::UserInventory::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |state| state,
        )
        .map_err(|error| SandboxError::Engine(format!("{error:#}")))?;

        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            engine,
            linker,
            component,
            _ticker: ticker,
        })
    }

    /// Creates a fresh store and instantiates the component in it.
    ///
    /// Errors: [`SandboxError::MemoryLimit`] when its initial memory exceeds the cap,
    /// [`SandboxError::Deadline`], [`SandboxError::Instantiate`] when it does not fit the
    /// world or its start-up traps.
    pub fn instantiate(
        &self,
        imports: Imports,
        limits: SandboxLimits,
    ) -> Result<Session, SandboxError> {
        let state = HostState {
            wasi: sandboxed_wasi(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                inner: StoreLimitsBuilder::new()
                    .memory_size(limits.max_memory_bytes)
                    .build(),
                hit: false,
                peak_bytes: 0,
            },
            imports,
            deadline: None,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        arm_deadline(&mut store, limits.call_deadline);
        match bindings::UserInventory::instantiate(&mut store, &self.component, &self.linker) {
            Ok(bindings) => Ok(Session {
                store,
                bindings,
                limits,
                dead: false,
            }),
            Err(error) => Err(match classify(&store, &limits, "instantiate", error) {
                SandboxError::Trap { message, .. } => SandboxError::Instantiate(one_line(&message)),
                other => other,
            }),
        }
    }
}

/// One instance of the component in its own store.
pub struct Session {
    store: Store<HostState>,
    bindings: bindings::UserInventory,
    limits: SandboxLimits,
    dead: bool,
}

impl Session {
    /// Calls the `version` export.
    ///
    /// Errors: [`SandboxError`] on trap, memory cap or deadline.
    pub fn version(&mut self) -> Result<String, SandboxError> {
        self.call("version", |bindings, store| {
            bindings
                .aws_iam_users_connector_inventory()
                .call_version(store)
        })
    }

    /// Calls the `check` export with `settings`.
    ///
    /// Returns the component's report or its [`GuestError`]; errors: [`SandboxError`].
    pub fn check(
        &mut self,
        settings: Settings,
    ) -> Result<Result<CheckReport, GuestError>, SandboxError> {
        self.call("check", |bindings, store| {
            bindings
                .aws_iam_users_connector_inventory()
                .call_check(store, settings)
        })
        .map(|result| result.map_err(GuestError::from))
    }

    /// Calls the `collect` export with `settings` and the previous page's `cursor` (none for
    /// the first page).
    ///
    /// Returns the page or the component's [`GuestError`]; errors: [`SandboxError`].
    pub fn collect(
        &mut self,
        settings: Settings,
        cursor: Option<&str>,
    ) -> Result<Result<Page, GuestError>, SandboxError> {
        self.call("collect", |bindings, store| {
            bindings
                .aws_iam_users_connector_inventory()
                .call_collect(store, settings, cursor)
        })
        .map(|result| result.map_err(GuestError::from))
    }

    /// Memory cap hits and traps so far: whether the session can still be called.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// The largest size, in bytes, any linear memory of the component has reached in this
    /// session (from its instantiation on; a wasm memory never shrinks).
    pub fn guest_peak_bytes(&self) -> u64 {
        self.store.data().limiter.peak_bytes as u64
    }

    fn call<R>(
        &mut self,
        function: &'static str,
        call: impl FnOnce(&bindings::UserInventory, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, SandboxError> {
        if self.dead {
            return Err(SandboxError::Trap {
                function,
                message: "the instance is dead after an earlier failure".into(),
            });
        }
        arm_deadline(&mut self.store, self.limits.call_deadline);
        let result = call(&self.bindings, &mut self.store);
        self.store.data_mut().deadline = None;
        result.map_err(|error| {
            self.dead = true;
            classify(&self.store, &self.limits, function, error)
        })
    }
}

/// Sets the epoch deadline and the transport's cut-off for the next export call.
fn arm_deadline(store: &mut Store<HostState>, deadline: Duration) {
    let ticks = deadline.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
    store.data_mut().deadline = Instant::now().checked_add(deadline);
}

/// Maps a failed call to a sandbox error: memory cap first (the guest usually aborts after a
/// refused grow), then the epoch interrupt, then any other trap.
fn classify(
    store: &Store<HostState>,
    limits: &SandboxLimits,
    function: &'static str,
    error: wasmtime::Error,
) -> SandboxError {
    if store.data().limiter.hit {
        return SandboxError::MemoryLimit {
            function,
            limit_mib: (limits.max_memory_bytes / (1024 * 1024)) as u64,
        };
    }
    if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return SandboxError::Deadline {
            function,
            seconds: limits.call_deadline.as_secs(),
        };
    }
    SandboxError::Trap {
        function,
        message: format!("{error:#}"),
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
    limiter: MemoryLimiter,
    imports: Imports,
    /// When the current export call must end; transport calls after it are not sent.
    deadline: Option<Instant>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// [`StoreLimits`] that remembers whether it refused a memory grow, and the largest size a
/// memory was allowed to grow to.
struct MemoryLimiter {
    inner: StoreLimits,
    hit: bool,
    /// Largest `desired` size of an allowed grow (the initial allocation included), in bytes.
    peak_bytes: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_bytes = self.peak_bytes.max(desired);
        } else {
            self.hit = true;
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl wit_transport::Host for HostState {
    fn send(
        &mut self,
        call: wit_transport::QueryCall,
    ) -> Result<wit_transport::Response, wit_transport::TransportError> {
        let call: transport::QueryCall = call.into();
        let result = self
            .imports
            .transport
            .send_until(&call, self.deadline)
            .map(Into::into)
            .map_err(Into::into);
        if let Some(recorder) = &self.imports.recorder {
            recorder.record(
                "transport.send",
                format!("{call:?}"),
                recorded_result(&result),
            );
        }
        result
    }

    fn send_all(
        &mut self,
        calls: Vec<wit_transport::QueryCall>,
    ) -> Vec<Result<wit_transport::Response, wit_transport::TransportError>> {
        let calls: Vec<transport::QueryCall> = calls.into_iter().map(Into::into).collect();
        let results: Vec<_> = self
            .imports
            .transport
            .send_all_until(&calls, self.deadline)
            .into_iter()
            .map(|result| result.map(Into::into).map_err(Into::into))
            .collect();
        if let Some(recorder) = &self.imports.recorder {
            let rendered: Vec<String> = results.iter().map(recorded_result).collect();
            recorder.record(
                "transport.send-all",
                format!("{calls:?}"),
                format!("[{}]", rendered.join(", ")),
            );
        }
        results
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

impl wit_log::Host for HostState {
    fn log(&mut self, level: wit_log::Level, message: String) {
        if let Some(recorder) = &self.imports.recorder {
            recorder.record("log.log", format!("{level:?} {message:?}"), String::new());
        }
        let level = match level {
            wit_log::Level::Debug => LogLevel::Debug,
            wit_log::Level::Info => LogLevel::Info,
            wit_log::Level::Warn => LogLevel::Warn,
            wit_log::Level::Error => LogLevel::Error,
        };
        self.imports.logger.guest(level, &message);
    }
}

impl From<wit_transport::QueryCall> for transport::QueryCall {
    fn from(call: wit_transport::QueryCall) -> Self {
        transport::QueryCall {
            service: call.service,
            params: call.params,
        }
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

impl From<transport::TransportError> for wit_transport::TransportError {
    fn from(error: transport::TransportError) -> Self {
        use transport::TransportError as E;
        match error {
            E::Refused(message) => Self::Refused(message),
            E::Credentials(message) => Self::Credentials(message),
            E::Network(message) => Self::Network(message),
            E::Timeout => Self::Timeout,
            E::BodyTooLarge(cap) => Self::BodyTooLarge(cap),
        }
    }
}

impl From<wit_transport::TransportError> for transport::TransportError {
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

#[cfg(test)]
mod tests {
    //! Runs the real component (built by build.rs) under tight limits.

    use super::*;
    use crate::endpoint::EndpointResolver;
    use crate::signing::Signer;
    use crate::test_support::{canary_credentials, http_reply, serve, SharedBuffer};
    use crate::transport::TransportConfig;
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
            limiter: MemoryLimiter {
                inner: StoreLimitsBuilder::new().build(),
                hit: false,
                peak_bytes: 0,
            },
            imports,
            deadline: None,
        }
    }

    #[test]
    fn the_transport_imports_refuse_services_outside_the_allowlist() {
        let recorder = Arc::new(ImportRecorder::default());
        let mut imports = imports("http://127.0.0.1:9/", SharedBuffer::default());
        imports.recorder = Some(recorder.clone());
        let transport = imports.transport.clone();
        let mut state = host_state(imports);
        let call = |service: &str| wit_transport::QueryCall {
            service: service.into(),
            params: vec![("Action".into(), "ListBuckets".into())],
        };
        let expect_refused =
            |result: Result<_, wit_transport::TransportError>, service: &str| match result {
                Err(wit_transport::TransportError::Refused(message)) => assert_eq!(
                    message,
                    format!("service \"{service}\" is not allowed (allowed: iam, sts)")
                ),
                other => panic!("expected a refusal, got {other:?}"),
            };
        expect_refused(
            <HostState as wit_transport::Host>::send(&mut state, call("s3")),
            "s3",
        );
        let results = <HostState as wit_transport::Host>::send_all(
            &mut state,
            vec![call("ec2"), call("IAM"), call("sso")],
        );
        for (result, service) in results.into_iter().zip(["ec2", "IAM", "sso"]) {
            expect_refused(result, service);
        }
        assert_eq!(transport.calls(), 0, "nothing was sent");
        let recorded = recorder.calls();
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[0].import, "transport.send");
        assert!(recorded[0].result.contains("Refused"), "{recorded:?}");
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
                error: transport::TransportError::Network(_),
            }) => {
                assert_eq!(action, "ListUsers")
            }
            other => panic!("expected a transport failure, got {other:?}"),
        }
    }
}
