//! The host side of the WIT `log` interface: a guest line is written when its level is enabled
//! and the rate allows it, cut to [`limits::MAX_LOG_MESSAGE_BYTES`]; nothing of a refused line
//! is read.

use std::time::Instant;

use wasmtime::component::{Linker, WasmStr};
use wasmtime::StoreContextMut;

use super::bindings::{interface, log as wit};
use super::limits;
use super::state::HostState;
use crate::logging::LogLevel;

/// Defines `log.log`.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let mut log = linker.instance(&interface("log"))?;
    log.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, HostState>, (level, message): (wit::Level, WasmStr)| {
            guest_log(&mut store, level, &message)
        },
    )?;
    Ok(())
}

/// `log.log`: a line at `level` when the level is enabled and the rate allows it, cut to
/// [`limits::MAX_LOG_MESSAGE_BYTES`]; nothing of a refused line is read.
fn guest_log(
    store: &mut StoreContextMut<'_, HostState>,
    level: wit::Level,
    message: &WasmStr,
) -> wasmtime::Result<()> {
    let level = LogLevel::from(level);
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
