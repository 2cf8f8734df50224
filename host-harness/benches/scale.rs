//! Scale benchmark (`make bench`): the release harness binary runs the release component
//! against the loopback fake IAM of the tests (`test_support::fake_iam`) with N generated
//! users and a fixed latency per call, and each run prints one line
//!
//! ```text
//! BENCH {"strategy":"bulk","users":10000,"max_concurrency":16,"latency_ms":30,"api_calls":8114,…}
//! ```
//!
//! then a table of every run, each run's wall time against the Sekoia-pattern baseline's
//! at the same size, and the targets. Every harness run must exit 0 with exactly N + 1
//! events, one per user and the root user's (on by default), and the summary's
//! `events=N+1`; anything else fails the benchmark (exit 1). The targets are reported, not
//! enforced.
//!
//! The bulk strategy's calls on the fake account (its rules: `tests/support/src/fake_iam.rs`),
//! N users, `--max-items 1000`: 3 for the account (GetAccountSummary, ListAccountAliases,
//! GetCallerIdentity), 1 page of groups, 1 of customer-managed policies, 2 for the
//! credential report, 1 page per 1,000 service-specific credentials (i % 6 == 4), 1 per
//! 1,000 users, then ListAccessKeys per key holder (i % 3 != 0) and ListSigningCertificates
//! per certificate holder (i % 7 == 3): 8,114 for 10,000 users (3 + 1 + 1 + 2 + 2 + 10 +
//! 6,666 + 1,429). A repeat run with the first run's `--state` lists neither keys nor certificates: 20 calls at 10,000 users, 14 at
//! 5,000 (the host's GetCallerIdentity included).
//!
//! It is a `harness = false` bench target of host-harness rather than a tool in the product's
//! CLI: it needs the test suite's fake IAM (from the `test-support` crate), and it runs the
//! harness as a child process, exactly as shipped: its peak RSS is `VmHWM` of
//! `/proc/<pid>/status`, sampled every 5 ms until `wait4` reaps it (which also gives its CPU
//! time).
//!
//! Runs (`--max-items 1000`, 30 ms per call unless said otherwise, default settings):
//! - `bulk-zero-latency`: 1,000 users, bulk, no latency, the median of 5 runs: the
//!   component's CPU work for one page, sandbox, signing and HTTP included;
//! - `bulk` first runs at 1,000, 5,000 and 10,000 users; `bulk-repeat` at 5,000 and 10,000:
//!   a second run given the first's `--state`, the account unchanged;
//! - `bulk-cold-cache`: 1,000 users with `--no-compile-cache`, the component compiled (a
//!   connector's very first run; every other run loads it from `target/bench/compile-cache`,
//!   which the benchmark empties when it starts, so its first run fills it);
//! - `per-user` at 1,000 users; at 10,000 only with `BENCH_PER_USER_10K=1` (4 minutes);
//! - baselines, last: `sekoia-pattern` at 1,000 users, the call pattern of Sekoia's own AWS
//!   users connector (ListUsers, then per user ListGroupsForUser, ListMFADevices and
//!   ListAttachedGroupPolicies per group, one call at a time, a new connection per call), made
//!   by this process (no sandbox, no signing: a lower bound of that connector's time, which
//!   also builds a boto3 client per call); and `per-user-sequential`, 1,000 users
//!   `per-user --max-concurrency 1 --max-in-flight 1 --deadline-secs 900` (6 minutes).
//!
//! Each run's stderr is left in `target/bench/<run>.log` (`BENCH_EXTRA_ARGS=--debug` adds a
//! line per HTTP call with its duration).
//!
//! Environment: `BENCH_HARNESS` and `BENCH_COMPONENT` override the paths (default: the
//! release builds under `target/`); `BENCH_LATENCY_MS` (30); `BENCH_ZERO_LATENCY_RUNS` (5);
//! `BENCH_PER_USER_10K=1`. A non-flag argument runs only the runs whose name contains it,
//! e.g. `cargo bench -p host-harness --bench scale -- bulk`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use test_support::fake_iam::{self, FakeAccount, FakeIam};

/// The default `--max-concurrency` of the harness (not passed: the run measures the default).
const DEFAULT_CONCURRENCY: u32 = 16;

/// One configured run.
#[derive(Debug, Clone)]
struct Plan {
    /// Shown as `strategy` in the BENCH line.
    label: &'static str,
    /// The `--strategy` flag.
    strategy: &'static str,
    users: usize,
    /// `--max-concurrency`, when not the default.
    concurrency: Option<u32>,
    latency: Duration,
    /// The run is killed and the benchmark fails after this long.
    timeout: Duration,
    /// Runs of which the median (by wall time) is reported.
    repeat: usize,
    /// More harness arguments.
    extra: &'static [&'static str],
    /// What runs: the harness, the harness a second time with the first run's `--state`, or
    /// the Sekoia-pattern client of this process.
    kind: Kind,
}

/// What a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Harness,
    RepeatWithState,
    SekoiaPattern,
}

impl Plan {
    fn name(&self) -> String {
        format!(
            "{}/{}/c{}",
            self.label,
            self.users,
            self.concurrency.unwrap_or(DEFAULT_CONCURRENCY)
        )
    }
}

/// One BENCH line; fields in this order.
#[derive(Debug, Clone, Serialize)]
struct Measured {
    strategy: String,
    users: usize,
    max_concurrency: u32,
    latency_ms: u64,
    /// Calls the fake IAM answered (the summary's `api_calls` must agree).
    api_calls: u64,
    calls_per_user: f64,
    /// ListAccessKeys calls among them, and the calls per user without them.
    list_access_keys: u64,
    calls_per_user_without_list_access_keys: f64,
    /// From spawning the harness to its exit (loading or compiling the component included).
    wall_s: f64,
    /// Loading the component's native code from the compile cache (`cached`), or compiling
    /// it (`compiled`: a first run, or `--no-compile-cache`), and how long that took.
    compile: Option<String>,
    compile_s: Option<f64>,
    /// The summary's `seconds`: the collection alone.
    collect_s: f64,
    /// CPU time (user + system) of the harness process: host and component.
    host_cpu_s: f64,
    events_per_s: f64,
    /// None for the Sekoia-pattern baseline (no component).
    guest_peak_bytes: Option<u64>,
    /// None for the Sekoia-pattern baseline (it runs in this process).
    host_peak_rss_bytes: Option<u64>,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host-harness is inside the workspace")
        .to_path_buf()
}

fn path_from_env(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(default))
}

/// The compile cache of every run but `bulk-cold-cache`'s: emptied when the benchmark
/// starts, so its first run compiles and stores the component and the others load it (as
/// every scheduled run after a connector's first does).
fn compile_cache() -> PathBuf {
    workspace().join("target/bench/compile-cache")
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

fn plans() -> Vec<Plan> {
    let latency = Duration::from_millis(env_number("BENCH_LATENCY_MS", 30));
    let plan = |label, strategy, users, concurrency, timeout_s| Plan {
        label,
        strategy,
        users,
        concurrency,
        latency,
        timeout: Duration::from_secs(timeout_s),
        repeat: 1,
        extra: &[],
        kind: Kind::Harness,
    };
    let repeat = |users| Plan {
        kind: Kind::RepeatWithState,
        ..plan("bulk-repeat", "bulk", users, None, 300)
    };
    let mut plans = vec![
        Plan {
            latency: Duration::ZERO,
            repeat: env_number("BENCH_ZERO_LATENCY_RUNS", 5).max(1) as usize,
            ..plan("bulk-zero-latency", "bulk", 1_000, None, 60)
        },
        plan("bulk", "bulk", 1_000, None, 120),
        Plan {
            extra: &["--no-compile-cache"],
            ..plan("bulk-cold-cache", "bulk", 1_000, None, 120)
        },
        plan("bulk", "bulk", 5_000, None, 300),
        repeat(5_000),
        plan("bulk", "bulk", 10_000, None, 300),
        repeat(10_000),
        plan("per-user", "per-user", 1_000, None, 300),
    ];
    if std::env::var_os("BENCH_PER_USER_10K").is_some_and(|v| v == "1") {
        plans.push(plan("per-user", "per-user", 10_000, None, 900));
    }
    plans.push(Plan {
        kind: Kind::SekoiaPattern,
        ..plan("sekoia-pattern", "-", 1_000, Some(1), 900)
    });
    // Last: the sequential baseline takes 12,130 × the latency (the per-user calls of 1,000
    // users, fake_iam.rs: 3 + 1 + 11 × 1,000 + 999 keys + 100 inline policies + 15 for the
    // groups + 12 for the managed policies), more than the default deadline of one collect
    // call (300 s) and its time budget: `--deadline-secs 900`.
    plans.push(Plan {
        extra: &["--max-in-flight", "1", "--deadline-secs", "900"],
        ..plan("per-user-sequential", "per-user", 1_000, Some(1), 900)
    });
    plans
}

/// What the harness child did.
struct ChildRun {
    code: Option<i32>,
    wall: Duration,
    max_rss_bytes: u64,
    /// User plus system CPU time of the harness.
    cpu: Duration,
    /// `user.uid` of every event line.
    uids: Vec<String>,
    bad_lines: usize,
    stderr: String,
}

/// Runs the harness with `args`, reading its events as they come, and reaps it with `wait4`
/// for its peak RSS. Kills it after `timeout`.
fn run_harness(harness: &Path, args: &[String], timeout: Duration) -> Result<ChildRun, String> {
    let started = Instant::now();
    let mut child = Command::new(harness)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCHMARK0000001")
        .env("AWS_SECRET_ACCESS_KEY", "benchmark-secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", harness.display()))?;
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let events = std::thread::spawn(move || {
        let mut uids = Vec::new();
        let mut bad = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(event) if event["class_uid"] == 5003 => match event["user"]["uid"].as_str() {
                    Some(uid) => uids.push(uid.to_owned()),
                    None => bad += 1,
                },
                _ => bad += 1,
            }
        }
        (uids, bad)
    });
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    let mut peak_rss_bytes = 0;
    loop {
        // The child has exec'd by now (spawn returns after the exec), so this is its own
        // high-water mark. `ru_maxrss` would not do: on Linux it also counts the RSS of this
        // process, which the child shared between its (v)fork and the exec.
        if let Some(hwm) = vm_hwm_bytes(pid) {
            peak_rss_bytes = peak_rss_bytes.max(hwm);
        }
        // SAFETY: `pid` is our own child, not yet reaped (std never waits for it here);
        // `status` and `usage` are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break;
        }
        if reaped < 0 {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()));
        }
        if !timed_out && started.elapsed() > timeout {
            // SAFETY: signalling our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = started.elapsed();
    let (uids, bad_lines) = events.join().expect("event reader");
    let stderr = log.join().expect("stderr reader");
    if timed_out {
        return Err(format!(
            "killed after {timeout:?}; stderr:\n{}",
            tail(&stderr)
        ));
    }
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(ChildRun {
        code,
        wall,
        max_rss_bytes: peak_rss_bytes,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        uids,
        bad_lines,
        stderr,
    })
}

/// `VmHWM` (peak resident set size) of a running process, from `/proc/<pid>/status`.
fn vm_hwm_bytes(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(value.tv_sec as u64) + Duration::from_micros(value.tv_usec as u64)
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `key=value` of the summary line.
fn summary_field<'a>(summary: &'a str, key: &str) -> Option<&'a str> {
    summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix(key)?.strip_prefix('='))
}

fn measure_once(plan: &Plan, harness: &Path, component: &Path) -> Result<Measured, String> {
    let account = || FakeAccount {
        users: plan.users,
        latency: plan.latency,
        ..FakeAccount::default()
    };
    if plan.kind == Kind::SekoiaPattern {
        return sekoia_pattern(plan, &FakeIam::start(account()));
    }
    let state = workspace().join(format!(
        "target/bench/{}.state.json",
        plan.name().replace('/', "-")
    ));
    let _ = std::fs::remove_file(&state);
    if plan.kind == Kind::RepeatWithState {
        // The first run, unmeasured, leaves the state the measured run starts from.
        let first = FakeIam::start(account());
        harness_run(plan, harness, component, &first, Some(&state))?;
    }
    let iam = FakeIam::start(account());
    let state = (plan.kind == Kind::RepeatWithState).then_some(state.as_path());
    harness_run(plan, harness, component, &iam, state)
}

/// One harness run of `plan` against `iam`, checked and measured.
fn harness_run(
    plan: &Plan,
    harness: &Path,
    component: &Path,
    iam: &FakeIam,
    state: Option<&Path>,
) -> Result<Measured, String> {
    let cache = compile_cache();
    let mut args: Vec<String> = [
        "collect",
        "--component",
        component.to_str().expect("UTF-8 component path"),
        "--compile-cache",
        cache.to_str().expect("UTF-8 workspace path"),
        // For the "component: …" line (compiled or loaded, and how long it took).
        "--log-level",
        "debug",
        "--endpoint-url",
        iam.url(),
        "--strategy",
        plan.strategy,
        "--max-items",
        "1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(concurrency) = plan.concurrency {
        args.extend(["--max-concurrency".to_owned(), concurrency.to_string()]);
    }
    if let Some(state) = state {
        args.extend(["--state".to_owned(), state.display().to_string()]);
    }
    args.extend(plan.extra.iter().map(|s| s.to_string()));
    if let Ok(extra) = std::env::var("BENCH_EXTRA_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_owned));
    }
    let calls_before = iam.calls();
    let received_before = iam.stub.received().len();
    let run = run_harness(harness, &args, plan.timeout)?;
    // The harness's stderr, for a look afterwards (e.g. with BENCH_EXTRA_ARGS=--debug).
    let logs = workspace().join("target/bench");
    let _ = std::fs::create_dir_all(&logs).and_then(|()| {
        std::fs::write(
            logs.join(format!("{}.log", plan.name().replace('/', "-"))),
            &run.stderr,
        )
    });
    let summary = run
        .stderr
        .lines()
        .find(|line| line.starts_with("summary:"))
        .ok_or_else(|| format!("no summary line; stderr:\n{}", tail(&run.stderr)))?;
    if run.code != Some(0) {
        return Err(format!(
            "exit {:?} (expected 0); stderr:\n{}",
            run.code,
            tail(&run.stderr)
        ));
    }
    let distinct: HashSet<&str> = run.uids.iter().map(String::as_str).collect();
    let events = summary_field(summary, "events");
    // Every user's event and the root user's.
    let expected = plan.users + 1;
    let root = format!("arn:aws:iam::{}:root", fake_iam::ACCOUNT_ID);
    if run.uids.len() != expected
        || distinct.len() != expected
        || !distinct.contains(root.as_str())
        || run.bad_lines > 0
        || events != Some(expected.to_string().as_str())
        || summary_field(summary, "root") != Some("1")
    {
        return Err(format!(
            "expected exactly {expected} events, one per user and the root user's: got {} \
             lines ({} distinct users, {} unreadable), summary events={:?}; {summary}",
            run.uids.len(),
            distinct.len(),
            run.bad_lines,
            events
        ));
    }
    let api_calls = iam.calls() - calls_before;
    // The host's own GetCallerIdentity for --state is not the component's.
    let component_calls = api_calls - u64::from(state.is_some());
    if summary_field(summary, "api_calls") != Some(component_calls.to_string().as_str()) {
        eprintln!("warning: the fake IAM answered {api_calls} calls; {summary}");
    }
    let list_access_keys = iam.stub.received()[received_before..]
        .iter()
        .filter(|request| request.param("Action") == Some("ListAccessKeys"))
        .count() as u64;
    let number = |key: &str| -> Result<f64, String> {
        summary_field(summary, key)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {key}= in {summary}"))
    };
    // "component: native code loaded from the compile cache DIR in 0.05 s" or
    // "component: compiled in 1.10 s, …".
    let loaded = run
        .stderr
        .lines()
        .find_map(|line| line.split_once("component: "))
        .map(|(_, text)| text)
        .ok_or_else(|| format!("no component: line; stderr:\n{}", tail(&run.stderr)))?;
    let compile = if loaded.starts_with("native code loaded") {
        "cached"
    } else {
        "compiled"
    };
    let compile_s = loaded
        .split_whitespace()
        .skip_while(|word| *word != "in")
        .nth(1)
        .and_then(|seconds| seconds.trim_end_matches(',').parse::<f64>().ok())
        .ok_or_else(|| format!("no time in {loaded:?}"))?;
    let users = plan.users as f64;
    let wall_s = run.wall.as_secs_f64();
    Ok(Measured {
        strategy: plan.label.to_owned(),
        users: plan.users,
        max_concurrency: plan.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        latency_ms: plan.latency.as_millis() as u64,
        api_calls,
        calls_per_user: round(api_calls as f64 / users, 4),
        list_access_keys,
        calls_per_user_without_list_access_keys: round(
            (api_calls - list_access_keys) as f64 / users,
            4,
        ),
        wall_s: round(wall_s, 3),
        compile: Some(compile.to_owned()),
        compile_s: Some(compile_s),
        collect_s: number("seconds")?,
        host_cpu_s: round(run.cpu.as_secs_f64(), 3),
        events_per_s: round(users / wall_s, 1),
        guest_peak_bytes: Some(number("guest_peak_bytes")? as u64),
        host_peak_rss_bytes: Some(run.max_rss_bytes),
    })
}

/// The Sekoia-pattern baseline against `iam`: ListUsers (paged), then for each user
/// ListGroupsForUser, ListMFADevices, and ListAttachedGroupPolicies for each of its groups,
/// one call at a time, each on a new connection (a new HTTP agent per call, as that
/// connector builds a new client per call).
fn sekoia_pattern(plan: &Plan, iam: &FakeIam) -> Result<Measured, String> {
    let started = Instant::now();
    let call = |params: &[(&str, &str)]| -> Result<String, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut form = vec![("Version", "2010-05-08")];
        form.extend_from_slice(params);
        let mut response = agent
            .post(iam.url())
            .send_form(form)
            .map_err(|e| format!("{}: {e}", params[0].1))?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{}: {e}", params[0].1))
    };
    let mut users = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("Action", "ListUsers")];
        if let Some(marker) = &marker {
            params.push(("Marker", marker.as_str()));
        }
        let page = call(&params)?;
        users.extend(elements(&page, "UserName"));
        marker = elements(&page, "Marker").into_iter().next();
        if !page.contains("<IsTruncated>true</IsTruncated>") || marker.is_none() {
            break;
        }
    }
    for user in &users {
        let groups = call(&[("Action", "ListGroupsForUser"), ("UserName", user)])?;
        call(&[("Action", "ListMFADevices"), ("UserName", user)])?;
        for group in elements(&groups, "GroupName") {
            call(&[
                ("Action", "ListAttachedGroupPolicies"),
                ("GroupName", &group),
            ])?;
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    if users.len() != plan.users {
        return Err(format!("listed {} users of {}", users.len(), plan.users));
    }
    let api_calls = iam.calls();
    let n = plan.users as f64;
    Ok(Measured {
        strategy: plan.label.to_owned(),
        users: plan.users,
        max_concurrency: 1,
        latency_ms: plan.latency.as_millis() as u64,
        api_calls,
        calls_per_user: round(api_calls as f64 / n, 4),
        list_access_keys: 0,
        calls_per_user_without_list_access_keys: round(api_calls as f64 / n, 4),
        wall_s: round(wall_s, 3),
        compile: None,
        compile_s: None,
        collect_s: round(wall_s, 3),
        host_cpu_s: 0.0,
        events_per_s: round(n / wall_s, 1),
        guest_peak_bytes: None,
        host_peak_rss_bytes: None,
    })
}

/// The text of every `<name>` element of `xml` (the fake IAM escapes nothing in names).
fn elements(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(v, _)| v.to_owned()))
        .collect()
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn measure(plan: &Plan, harness: &Path, component: &Path) -> Result<Measured, String> {
    let mut runs = Vec::new();
    for _ in 0..plan.repeat {
        runs.push(measure_once(plan, harness, component)?);
    }
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    Ok(runs.swap_remove(runs.len() / 2))
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "–".to_owned(),
        |bytes| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0)),
    )
}

fn table(results: &[Measured]) -> String {
    let baseline = |users: usize| {
        results
            .iter()
            .find(|r| r.strategy == "sekoia-pattern" && r.users == users)
            .map(|r| r.wall_s)
    };
    let mut text = String::from(
        "| run | users | start window | latency | API calls | calls/user | w/o ListAccessKeys | wall s | component s | collect s | host CPU s | events/s | guest peak MiB | host peak RSS MiB | × faster than Sekoia pattern |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let ratio = baseline(r.users)
            .filter(|_| r.latency_ms > 0)
            .map_or_else(|| "–".to_owned(), |b| format!("{:.0}", b / r.wall_s));
        text.push_str(&format!(
            "| {} | {} | {} | {} ms | {} | {} | {} | {:.2} | {} | {:.2} | {:.2} | {:.0} | {} | {} | {} |\n",
            r.strategy,
            r.users,
            r.max_concurrency,
            r.latency_ms,
            r.api_calls,
            r.calls_per_user,
            r.calls_per_user_without_list_access_keys,
            r.wall_s,
            r.compile_s.zip(r.compile.as_deref()).map_or_else(
                || "–".to_owned(),
                |(seconds, how)| format!("{seconds:.2} {how}")
            ),
            r.collect_s,
            r.host_cpu_s,
            r.events_per_s,
            mib(r.guest_peak_bytes),
            mib(r.host_peak_rss_bytes),
            ratio,
        ));
    }
    text
}

/// The targets, each with what was measured and whether it was met.
fn targets(results: &[Measured]) -> String {
    let find = |label: &str, users: usize| {
        results
            .iter()
            .find(|r| r.strategy == label && r.users == users && r.latency_ms > 0)
    };
    let mut lines = Vec::new();
    let mut line = |what: &str, measured: Option<String>, met: Option<bool>| {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "not measured",
        };
        lines.push(format!(
            "target: {what}: {} ({verdict})",
            measured.unwrap_or_else(|| "–".into())
        ));
    };
    let repeat = find("bulk-repeat", 5_000);
    line(
        "repeat run, unchanged 5,000 users, <= 20 API calls",
        repeat.map(|r| format!("{} calls", r.api_calls)),
        repeat.map(|r| r.api_calls <= 20),
    );
    for (users, limit) in [(5_000, 3.0), (10_000, 5.0)] {
        let first = find("bulk", users);
        line(
            &format!("first run, {users} users, <= {limit} s"),
            first.map(|r| format!("{:.2} s", r.wall_s)),
            first.map(|r| r.wall_s <= limit),
        );
    }
    let peaks = find("bulk", 1_000)
        .and_then(|r| r.guest_peak_bytes)
        .zip(find("bulk", 10_000).and_then(|r| r.guest_peak_bytes));
    line(
        "guest peak at 10,000 users <= 1.5 x at 1,000",
        peaks.map(|(small, big)| format!("{:.2} x", big as f64 / small as f64)),
        peaks.map(|(small, big)| big as f64 <= 1.5 * small as f64),
    );
    let ratio = find("bulk", 1_000)
        .zip(find("sekoia-pattern", 1_000))
        .map(|(bulk, sekoia)| sekoia.wall_s / bulk.wall_s);
    line(
        "bulk first run >= 100 x faster than the Sekoia pattern at 1,000 users",
        ratio.map(|r| format!("{r:.0} x")),
        ratio.map(|r| r >= 100.0),
    );
    lines.join("\n") + "\n"
}

fn main() -> ExitCode {
    let harness = path_from_env("BENCH_HARNESS", "target/release/host-harness");
    let component = path_from_env(
        "BENCH_COMPONENT",
        "target/guest/wasm32-wasip2/release/aws_iam_users.wasm",
    );
    for path in [&harness, &component] {
        if !path.is_file() {
            eprintln!(
                "bench: {} is missing: run `make build` (or `make bench`) first",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    // cargo bench passes `--bench`; any other argument filters the runs by name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let plans: Vec<Plan> = plans()
        .into_iter()
        .filter(|plan| filters.is_empty() || filters.iter().any(|f| plan.name().contains(f)))
        .collect();
    eprintln!(
        "bench: {} runs of {} with {}",
        plans.len(),
        harness.display(),
        component.display()
    );
    let _ = std::fs::remove_dir_all(compile_cache());
    let mut results = Vec::new();
    let mut failed = false;
    for plan in &plans {
        eprintln!("bench: {} ({:?} per call) …", plan.name(), plan.latency);
        match measure(plan, &harness, &component) {
            Ok(measured) => {
                println!(
                    "BENCH {}",
                    serde_json::to_string(&measured).expect("plain struct")
                );
                results.push(measured);
            }
            Err(error) => {
                eprintln!("bench: {} FAILED: {error}", plan.name());
                failed = true;
            }
        }
    }
    println!();
    print!("{}", table(&results));
    println!();
    print!("{}", targets(&results));
    if failed {
        eprintln!("bench: some runs failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
