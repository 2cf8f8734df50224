//! Runs the `host-harness` binary with a time limit and captures what it wrote.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the harness produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `summary:` line the harness printed on stderr.
    pub fn summary(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("summary:"))
            .unwrap_or_else(|| panic!("no summary line in: {}", self.stderr))
    }

    /// The NDJSON lines of stdout.
    pub fn events(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

/// The component built by host-harness's build script.
pub fn component() -> PathBuf {
    PathBuf::from(host_harness::COMPONENT_PATH)
}

/// Runs `host-harness args…` with exactly the environment `env` (plus PATH), killing it
/// after `limit`.
pub fn run(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-harness"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn host-harness");
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
        if let Some(status) = child.try_wait().expect("wait host-harness") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("host-harness {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// Starts `host-harness args…` in the background with exactly the environment `env` (plus
/// PATH), output discarded; the caller waits for it or kills it.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_host-harness"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn host-harness")
}

/// Runs `host-harness collect` with the built component against `endpoint`, signing with
/// `keys` (access key id, secret), with `extra` flags; killed after `limit`.
pub fn collect(endpoint: &str, keys: (&str, &str), extra: &[&str], limit: Duration) -> Run {
    let component = component();
    let mut args = vec![
        "collect",
        "--component",
        component.to_str().unwrap(),
        "--endpoint-url",
        endpoint,
    ];
    args.extend_from_slice(extra);
    run(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", keys.0),
            ("AWS_SECRET_ACCESS_KEY", keys.1),
            ("AWS_REGION", "us-east-1"),
        ],
        limit,
    )
}

/// `extra` with `--strategy per-user` in front unless it names a strategy.
pub fn per_user_unless_given<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = Vec::new();
    if !extra.contains(&"--strategy") {
        args.extend_from_slice(&["--strategy", "per-user"]);
    }
    args.extend_from_slice(extra);
    args
}
