//! What Sekoia's asset inventory keeps of events: `tests/peer/sekoia_models.py` validates each
//! with Sekoia's published models (PyPI `sekoia-automation-models`, pinned in
//! `tests/peer/requirements.txt`: `UserOCSFModel`, then `AssetList(version=1, …)` dumped with
//! `exclude_none`) and compares the leaf paths going in with those kept.
//!
//! Runs with the peer's Python ([`crate::peer_python`]).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one check may take (measured: well under a second for a few hundred events; the
/// first run after `make venv` also compiles the models).
pub const LIMIT: Duration = Duration::from_secs(60);

/// An event the models rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 0-based index of the event in the slice given to [`check`].
    pub index: usize,
    /// pydantic's errors, as `loc: msg [type]`, e.g.
    /// `user.account.name: Field required [missing]`.
    pub errors: Vec<String>,
}

/// The outcome of [`check`].
#[derive(Debug, Clone)]
pub struct SekoiaCheck {
    /// Events checked.
    pub events: usize,
    /// Events `UserOCSFModel` accepted.
    pub accepted: usize,
    /// Events it rejected, in order.
    pub rejected: Vec<Rejection>,
    /// What Sekoia keeps of the accepted events, in order: `AssetList.items` dumped with
    /// `model_dump(mode="json", exclude_none=True)`.
    pub items: Vec<Value>,
    /// Distinct leaf paths of the input events (over all of them; `a.b`, arrays as `[]`).
    pub paths_in: usize,
    /// Input leaf paths present in `items`, sorted.
    pub kept: Vec<String>,
    /// Input leaf paths absent from `items`, sorted (e.g. everything under `unmapped`).
    pub dropped: Vec<String>,
}

impl SekoiaCheck {
    /// Every event accepted.
    pub fn all_accepted(&self) -> bool {
        self.accepted == self.events && self.rejected.is_empty()
    }

    /// Whether the input leaf path `path` (e.g. `user.account.name`) reaches Sekoia.
    pub fn keeps(&self, path: &str) -> bool {
        self.kept.binary_search_by(|p| p.as_str().cmp(path)).is_ok()
    }
}

/// Checks `events` with Sekoia's models. Panics (with the tool's stderr) when the tool cannot
/// run, fails, or takes longer than [`LIMIT`]; rejections are data, not panics.
pub fn check(events: &[Value]) -> SekoiaCheck {
    let python = crate::peer_python();
    assert!(
        python.exists(),
        "{} is missing: `make venv` creates it (tests/peer/requirements.txt pins sekoia-automation-models)",
        python.display()
    );
    let mut input = String::new();
    for event in events {
        input.push_str(&serde_json::to_string(event).expect("an event serializes"));
        input.push('\n');
    }
    let mut child = Command::new(&python)
        .arg(crate::repo_root().join("tests/peer/sekoia_models.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tests/peer/sekoia_models.py");
    // Written and read on threads: a large input must not deadlock against a full pipe.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait sekoia_models.py") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sekoia_models.py did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let (stdout, stderr) = (out_thread.join().unwrap(), err_thread.join().unwrap());
    assert!(
        status.success(),
        "sekoia_models.py failed ({status}): {stderr}"
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("sekoia_models.py printed no JSON ({e}): {stdout}\n{stderr}"));
    parse(&report)
}

fn parse(report: &Value) -> SekoiaCheck {
    let count = |v: &Value| v.as_u64().expect("a count") as usize;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect()
    };
    let paths = &report["leaf_paths"];
    SekoiaCheck {
        events: count(&report["events"]),
        accepted: count(&report["accepted"]),
        rejected: report["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .map(|r| Rejection {
                // One event per line, lines numbered from 1.
                index: count(&r["line"]) - 1,
                errors: strings(&r["errors"]),
            })
            .collect(),
        items: report["items"].as_array().expect("items").clone(),
        paths_in: count(&paths["total_in"]),
        kept: strings(&paths["kept_paths"]),
        dropped: strings(&paths["dropped"]),
    }
}
