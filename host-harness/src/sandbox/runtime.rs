//! The runtime (engine, linker, compiled component, epoch ticker; one per process)
//! and the session (one store and instance per run) that calls the component's exports under
//! the limits and the deadline, classifying what goes wrong.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Cache, Config, Engine, Store, Trap};

use super::bindings::{identity, inventory, UserInventory};
use super::deadline::{arm_deadline, run_until, Deadline, EpochTicker};
use super::limits::{self, ImportLimit, LimitHit};
use super::state::{HostState, Imports};
use super::{log_impl, transport_impl};
use crate::error::{GuestError, SandboxError};
use crate::inventory::{CheckReport, Page, Settings};
use crate::limits::SandboxLimits;
use crate::logging::LogLevel;

/// Engine, linker and compiled component; shared by every session of the process, from any
/// thread (an organization run instantiates one session per account, several at once).
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    component: Component,
    sha256: String,
    compiled: Compiled,
    _ticker: EpochTicker,
}

/// How the component's native code was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiled {
    /// Compiling, or loading from the cache, took this long.
    pub took: Duration,
    /// `Some(true)`: loaded from the compile cache; `Some(false)`: compiled and stored in
    /// it; `None`: compiled, no cache.
    pub from_cache: Option<bool>,
}

impl Runtime {
    /// Compiles the component at `path` (a `wasm32-wasip2` component binary), or loads its
    /// native code from `cache` (see [`super::compile_cache`]), and links WASI and the host
    /// imports. Compiling takes about a second: do it once per process.
    ///
    /// Errors: [`SandboxError::ReadComponent`] when the file cannot be read,
    /// [`SandboxError::IncompatibleContract`] / [`SandboxError::NotAConnector`] when it speaks
    /// another contract (see [`crate::inspect`]), [`SandboxError::Compile`] when it is not a
    /// valid component, [`SandboxError::Engine`].
    pub fn load(path: &Path, cache: Option<Cache>) -> Result<Runtime, SandboxError> {
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
        let hits_before = cache.as_ref().map(Cache::cache_hits);
        config.cache(cache.clone());
        let engine = Engine::new(&config).map_err(engine_error)?;
        let started = Instant::now();
        let component = Component::new(&engine, &bytes).map_err(|error| SandboxError::Compile {
            path: path.to_owned(),
            message: one_line(&format!("{error:#}")),
        })?;
        let compiled = Compiled {
            took: started.elapsed(),
            from_cache: cache
                .as_ref()
                .zip(hits_before)
                .map(|(cache, before)| cache.cache_hits() > before),
        };

        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_error)?;
        identity::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .map_err(engine_error)?;
        transport_impl::add_to_linker(&mut linker).map_err(engine_error)?;
        log_impl::add_to_linker(&mut linker).map_err(engine_error)?;

        let ticker = EpochTicker::start(engine.clone());
        Ok(Runtime {
            engine,
            linker,
            component,
            sha256: format!("{:x}", Sha256::digest(&bytes)),
            compiled,
            _ticker: ticker,
        })
    }

    /// How the component's native code was obtained, and how long it took.
    pub fn compiled(&self) -> Compiled {
        self.compiled
    }

    /// SHA-256 of the component file, lowercase hex.
    pub fn component_sha256(&self) -> &str {
        &self.sha256
    }

    /// Creates a fresh store and instantiates the component in it, within the call deadline.
    /// Each session has its own executor (a current-thread tokio runtime driving its calls
    /// and their timeouts), so sessions on different threads never wait for one another.
    ///
    /// Errors: [`SandboxError::Engine`] when the executor cannot start,
    /// [`SandboxError::MemoryLimit`] when its initial memory exceeds the cap,
    /// [`SandboxError::Deadline`], [`SandboxError::Instantiate`] when it does not fit the
    /// world, exceeds a store limit or its start-up traps.
    pub fn instantiate(
        &self,
        imports: Imports,
        limits: SandboxLimits,
    ) -> Result<Session, SandboxError> {
        let executor = Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(|error| {
                    SandboxError::Engine(format!("cannot start the executor: {error}"))
                })?,
        );
        let state = HostState::new(imports, limits.max_memory_bytes);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.max_page_bytes + limits::LIFT_SLACK_BYTES);
        store.set_max_component_handles(limits::MAX_COMPONENT_HANDLES);
        store.epoch_deadline_trap();
        let until = arm_deadline(&mut store, limits.call_deadline, None);
        let linker = &self.linker;
        let component = &self.component;
        let instantiated = run_until(&executor, until, async {
            let instance = linker.instantiate_async(&mut store, component).await?;
            UserInventory::new(&mut store, &instance)
        });
        store.data_mut().deadline = None;
        let deadline = Deadline { by_run: false };
        match instantiated {
            Ok(Ok(bindings)) => Ok(Session {
                store,
                bindings,
                limits,
                executor,
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

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// One instance of the component in its own store.
pub struct Session {
    store: Store<HostState>,
    bindings: UserInventory,
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
        let settings = settings.into();
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
                Ok(Ok(report.into()))
            }
            Err(error) => Ok(Err(bounded(error))),
        }
    }

    /// Calls the `collect` export with `settings`, the previous page's `cursor` (none for
    /// the first page) and the previous collection's `run_state` (see [`crate::state_file`]).
    ///
    /// Returns the page or the component's [`GuestError`]; errors: [`SandboxError`],
    /// [`SandboxError::OverLimit`] for a page over the limits of [`limits::check_page`].
    pub fn collect(
        &mut self,
        settings: Settings,
        cursor: Option<&str>,
        run_state: Option<&str>,
    ) -> Result<Result<Page, GuestError>, SandboxError> {
        let settings = settings.into();
        let cursor = cursor.map(str::to_owned);
        let run_state = run_state.map(str::to_owned);
        let result = self.call("collect", move |bindings, store| {
            Box::pin(async move {
                bindings
                    .aws_iam_users_connector_inventory()
                    .call_collect(store, settings, cursor.as_deref(), run_state.as_deref())
                    .await
            })
        })?;
        match result {
            Ok(page) => {
                limits::check_page(&page, self.limits.max_page_bytes)
                    .inspect_err(|_| self.dead = true)?;
                Ok(Ok(page.into()))
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
        call: impl for<'a> FnOnce(&'a UserInventory, &'a mut Store<HostState>) -> CallFuture<'a, R>,
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

/// A component's error with its strings bounded ([`limits::bound_error`]).
fn bounded(error: inventory::ConnectorError) -> GuestError {
    let mut error = GuestError::from(error);
    limits::bound_error(&mut error);
    error
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
    if let Some(limit) = error.downcast_ref::<ImportLimit>() {
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

#[cfg(test)]
mod tests {
    //! Runs the real component (built by build.rs) under tight limits.

    use super::*;
    use crate::endpoint::EndpointResolver;
    use crate::inventory::Strategy;
    use crate::limits::TransportConfig;
    use crate::logging::Logger;
    use crate::signing::Signer;
    use crate::test_support::{canary_credentials, SharedBuffer};
    use crate::transport::Transport;
    use ::test_support::http::{Reply, Server};
    use std::sync::OnceLock;
    use std::time::Duration;

    fn runtime() -> &'static Runtime {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            Runtime::load(Path::new(crate::COMPONENT_PATH), None).expect("component loads")
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
        let server = Server::start(move |_| Reply::new(200, body.clone()));
        let limits = SandboxLimits {
            max_memory_bytes: 4 * 1024 * 1024,
            ..SandboxLimits::default()
        };
        let mut session = runtime()
            .instantiate(imports(server.url(), SharedBuffer::default()), limits)
            .unwrap();
        let error = session
            .collect(
                Settings {
                    max_items: 10,
                    max_attempts: 1,
                    retry_base_ms: 0,
                    strategy: Strategy::PerUser,
                    max_concurrency: 8,
                    max_in_flight: 8,
                    time_budget_ms: 0,
                    include_root: true,
                },
                None,
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
                    max_in_flight: 8,
                    time_budget_ms: 0,
                    include_root: true,
                },
                None,
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
                    max_in_flight: 8,
                    time_budget_ms: 0,
                    include_root: true,
                },
                None,
                None,
            )
            .unwrap()
        {
            Err(GuestError::Transport {
                action,
                error: crate::error::TransportError::Network(_),
            }) => {
                assert_eq!(action, "ListUsers")
            }
            other => panic!("expected a transport failure, got {other:?}"),
        }
    }
}
