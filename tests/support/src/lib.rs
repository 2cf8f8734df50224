//! What the tests and benchmarks of both crates share (the guest's unit tests, the host's
//! unit and integration tests, `benches/parse_map.rs`, `host-harness/benches/scale.rs`):
//!
//! - [`http`]: one loopback HTTP/1.1 server, a thread per connection, replies from a handler;
//! - [`iam_stub`]: the IAM Query API over it, with form parameters and SigV4 headers recorded,
//!   and AWS-shaped documents (lists, IAM and STS errors, STS credentials);
//! - [`fake_iam`]: a generated AWS-shaped account of any size on the stub, with latency and
//!   injected faults;
//! - [`moto`]: moto (an independent IAM implementation) on loopback, in one of its modes;
//! - [`ocsf_schema`]: the OCSF 1.6.0 schema and semantic checks of an event;
//! - [`sekoia`]: what Sekoia's asset models keep of the events;
//! - [`capture`]: an in-memory writer; [`scratch_dir`]: a private temporary directory.
//!
//! Nothing here is built into the product.

#![warn(missing_docs)]

use std::path::PathBuf;

pub mod capture;
pub mod fake_iam;
pub mod http;
pub mod iam_stub;
pub mod moto;
pub mod ocsf_schema;
pub mod sekoia;

/// The repository root (the directory holding `tests/peer/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("tests/support lives two levels below the repository root")
}

/// The peer's Python: `$AWS_IAM_USERS_PEER_PYTHON`, else the venv `make venv` creates
/// (`.venv/bin/python`, with moto and Sekoia's models pinned by `tests/peer/requirements.txt`).
pub fn peer_python() -> PathBuf {
    std::env::var_os("AWS_IAM_USERS_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

/// A private, empty temporary directory for one test: `$TMPDIR/aws-iam-users-tests/<pid>/<name>`.
/// The first call of a process removes what earlier test processes left there (the
/// directories of processes no longer running; `/proc` tells).
pub fn scratch_dir(name: &str) -> PathBuf {
    static CLEANED: std::sync::Once = std::sync::Once::new();
    let root = std::env::temp_dir().join("aws-iam-users-tests");
    CLEANED.call_once(|| {
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let pid = entry.file_name();
            if !std::path::Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
    let dir = root.join(std::process::id().to_string()).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}
