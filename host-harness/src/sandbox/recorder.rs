//! A copy of every value that crosses the boundary through the imports, for tests that prove
//! what the component received (never a credential).

use super::bindings::transport;

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

    /// Records one call.
    pub(super) fn record(&self, import: &'static str, args: String, result: String) {
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

/// A transport result as recorded: `Ok(RecordedResponse { … })` or `Err(…)`.
pub(super) fn recorded_result(
    result: &Result<transport::Response, transport::TransportError>,
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
