//! Fixtures and a scripted host for native tests.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;

use crate::host::{AuthMethod, Host, HttpResponse, Identity, Level, QueryCall, TransportError};

/// Reads `tests/fixtures/<path>`.
pub fn fixture(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A response with `status` and `body`.
pub fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: body.as_bytes().to_vec(),
    }
}

type Responder = Box<dyn Fn(&QueryCall) -> Result<HttpResponse, TransportError>>;

/// A host that answers every call with `respond`, and records calls and log lines.
pub struct ScriptedHost {
    respond: Responder,
    pub calls: RefCell<Vec<QueryCall>>,
    pub logs: RefCell<Vec<(Level, String)>>,
    pub batches: RefCell<VecDeque<usize>>,
    /// The `max_in_flight` of every batch.
    pub in_flight: RefCell<Vec<usize>>,
    /// Every backoff the code under test asked for, ms.
    pub sleeps: RefCell<Vec<u64>>,
    /// What `random_u64` returns.
    pub random: Cell<u64>,
    /// What `now_ms` returns: [`NOW_MS`], advanced by `ms_per_batch` at every `send_all`.
    pub clock: Cell<i64>,
    /// How long each `send_all` takes on the clock, ms (0: time stands still).
    pub ms_per_batch: Cell<i64>,
}

impl ScriptedHost {
    pub fn new(
        respond: impl Fn(&QueryCall) -> Result<HttpResponse, TransportError> + 'static,
    ) -> Self {
        Self {
            respond: Box::new(respond),
            calls: RefCell::default(),
            logs: RefCell::default(),
            batches: RefCell::default(),
            in_flight: RefCell::default(),
            sleeps: RefCell::default(),
            random: Cell::new(0),
            clock: Cell::new(NOW_MS),
            ms_per_batch: Cell::new(0),
        }
    }

    /// The `Action` of every call sent, in order.
    pub fn actions(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .map(|c| c.action().to_owned())
            .collect()
    }
}

/// The fixed processing time of [`ScriptedHost`]: 2026-11-29T12:00:00Z in ms.
pub const NOW_MS: i64 = 1_795_953_600_000;

impl Host for ScriptedHost {
    fn send_all_in_flight(
        &self,
        calls: &[QueryCall],
        max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>> {
        self.batches.borrow_mut().push_back(calls.len());
        self.in_flight.borrow_mut().push(max_in_flight);
        self.clock.set(self.clock.get() + self.ms_per_batch.get());
        calls
            .iter()
            .map(|call| {
                self.calls.borrow_mut().push(call.clone());
                (self.respond)(call)
            })
            .collect()
    }

    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }

    fn identity(&self) -> Identity {
        Identity {
            auth_method: AuthMethod::AccessKeys,
            partition: "aws".into(),
            region: "us-east-1".into(),
            role_arn: None,
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock.get()
    }

    fn sleep_ms(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
    }

    fn random_u64(&self) -> u64 {
        self.random.get()
    }
}

/// OCSF schema and semantic checks, shared with the end-to-end tests.
pub use ::test_support::ocsf_schema;
