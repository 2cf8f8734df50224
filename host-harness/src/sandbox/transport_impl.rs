//! The host side of the WIT `transport` interface: `send` and `send-all`, defined on the
//! linker directly so a call's arguments are lifted lazily and copied only within
//! [`super::limits`], then sent by [`crate::transport::Transport`] on a thread of their own,
//! within the current call's deadline.

use wasmtime::component::{ComponentType, Lift, Linker, WasmList, WasmStr};
use wasmtime::StoreContextMut;

use super::bindings::{interface, transport as wit};
use super::limits::{self, ImportLimit};
use super::recorder::recorded_result;
use super::state::HostState;
use crate::transport::QueryCall;

/// A `query-call` as the component passed it, not yet read.
#[derive(ComponentType, Lift)]
#[component(record)]
struct GuestQueryCall {
    service: WasmStr,
    params: WasmList<(WasmStr, WasmStr)>,
}

/// Defines `transport.send` and `transport.send-all`.
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
                let result: Result<wit::Response, wit::TransportError> = match &call {
                    Err(refusal) => Err(wit::TransportError::Refused(refusal.clone())),
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
        |mut store: StoreContextMut<'_, HostState>,
         (calls, max_in_flight): (WasmList<GuestQueryCall>, u32)| {
            let read = read_batch(&mut store, &calls);
            Box::new(async move {
                let calls = read?;
                let state = store.data();
                let (transport, deadline) = (state.imports.transport.clone(), state.deadline);
                let sendable: Vec<QueryCall> = calls
                    .iter()
                    .filter_map(|call| call.as_ref().ok().cloned())
                    .collect();
                let max_in_flight = usize::try_from(max_in_flight).unwrap_or(usize::MAX);
                let mut sent = off_thread(move || {
                    transport.send_all_until(&sendable, deadline, max_in_flight)
                })
                .await?
                .into_iter();
                let results: Vec<Result<wit::Response, wit::TransportError>> = calls
                    .iter()
                    .map(|call| match call {
                        Err(refusal) => Err(wit::TransportError::Refused(refusal.clone())),
                        Ok(_) => match sent.next() {
                            Some(result) => result.map(Into::into).map_err(Into::into),
                            None => Err(wit::TransportError::Refused(
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
) -> wasmtime::Result<Result<QueryCall, String>> {
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
    Ok(Ok(QueryCall { service, params }))
}

/// Reads a batch: [`ImportLimit`] (a trap) beyond [`limits::MAX_BATCH_CALLS`] calls, then
/// each call as [`read_call`] does, until one is refused: the calls after it are refused
/// unread, so one batch never makes the host validate more than one oversized string.
fn read_batch(
    store: &mut StoreContextMut<'_, HostState>,
    calls: &WasmList<GuestQueryCall>,
) -> wasmtime::Result<Vec<Result<QueryCall, String>>> {
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
            let unread = format!("not read: call #{index} of this batch was refused ({refusal})");
            read.resize(calls.len(), Err(unread));
            break;
        }
    }
    Ok(read)
}
