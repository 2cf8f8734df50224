//! What a store holds: the WASI context (nothing but clocks and random), the limiter, the
//! host side of the imports and the current call's deadline.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::limits::{LogRate, StoreLimiter, MAX_WASI_RESOURCES};
use super::recorder::ImportRecorder;
use crate::logging::Logger;
use crate::transport::Transport;

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

/// The store's data: WASI state, the limiter and the host side of the imports.
pub(super) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The store's limiter (memory, tables, instances).
    pub(super) limiter: StoreLimiter,
    /// What the imports answer with.
    pub(super) imports: Imports,
    /// When the current export call must end; transport calls after it are not sent.
    pub(super) deadline: Option<Instant>,
    /// The guest log's rate limit.
    pub(super) log_rate: LogRate,
}

impl HostState {
    /// A fresh state: a sandboxed WASI context with its resource table capped at
    /// [`MAX_WASI_RESOURCES`], the memory cap of `max_memory_bytes`, no deadline armed.
    pub(super) fn new(imports: Imports, max_memory_bytes: usize) -> HostState {
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_WASI_RESOURCES);
        HostState {
            wasi: sandboxed_wasi(),
            table,
            limiter: StoreLimiter::new(max_memory_bytes),
            imports,
            deadline: None,
            log_rate: LogRate::default(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
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
