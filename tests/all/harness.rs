//! Runs the `host-harness` binary (the one this test target was built with) with a time limit
//! and captures what it wrote.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Most bytes of each stream a [`Run`] keeps (the rest is counted, not kept).
pub const KEPT_BYTES: usize = 64 * 1024 * 1024;

/// What one run of the harness produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, its first [`KEPT_BYTES`] (lossy UTF-8).
    pub stdout: String,
    /// Standard error, its first [`KEPT_BYTES`] (lossy UTF-8).
    pub stderr: String,
    /// Bytes written to standard output.
    pub stdout_bytes: u64,
    /// Bytes written to standard error.
    pub stderr_bytes: u64,
    /// The harness's peak resident memory (`VmHWM`), KiB, as last read while it ran.
    pub peak_rss_kib: u64,
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

/// The compile cache every test run shares (under the target directory: never the user's).
pub fn compile_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compile-cache")
}

/// `host-harness` with an empty environment but PATH and the tests' compile cache.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-harness"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_IAM_USERS_COMPILE_CACHE", compile_cache());
    command
}

/// Runs `host-harness args…` with exactly the environment `env` (plus PATH and the tests'
/// compile cache), killing it after `limit`.
pub fn run(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let mut command = command();
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn host-harness");
    wait(&mut child, args, started, limit)
}

/// Reads `stream` to its end, keeping its first [`KEPT_BYTES`]; returns them and the total.
fn capture(mut stream: impl Read + Send + 'static) -> std::thread::JoinHandle<(String, u64)> {
    std::thread::spawn(move || {
        let (mut kept, mut total, mut chunk) = (Vec::new(), 0u64, vec![0u8; 64 * 1024]);
        loop {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    total += n as u64;
                    let room = KEPT_BYTES.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&chunk[..room]);
                }
            }
        }
        (String::from_utf8_lossy(&kept).into_owned(), total)
    })
}

/// The peak resident memory of process `pid` so far, KiB (`VmHWM` in /proc); 0 if unknown.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Waits for a spawned harness (stdout and stderr piped), killing it after `limit`.
pub fn wait(
    child: &mut std::process::Child,
    args: &[&str],
    started: Instant,
    limit: Duration,
) -> Run {
    let out_thread = capture(child.stdout.take().unwrap());
    let err_thread = capture(child.stderr.take().unwrap());
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss_kib(child.id()));
        if let Some(status) = child.try_wait().expect("wait host-harness") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("host-harness {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stdout_bytes) = out_thread.join().unwrap();
    let (stderr, stderr_bytes) = err_thread.join().unwrap();
    Run {
        code: status.code(),
        stdout,
        stderr,
        stdout_bytes,
        stderr_bytes,
        peak_rss_kib: peak,
    }
}

/// Starts `host-harness args…` in the background with exactly the environment `env` (plus
/// PATH and the tests' compile cache), output discarded; the caller waits for it or kills it.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    command()
        .args(args)
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
