//! The Sekoia sink end to end: the harness binary and the built component against the
//! AWS-shaped loopback account (`test_support::fake_iam`), pushing to a loopback double of
//! Sekoia's asset-connector API (`tests/peer/sekoia_api.py`) that validates every body with
//! Sekoia's own models and answers 429, 500, dropped connections, 401 and slow tasks on cue.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{self, Run};
use test_support::fake_iam::{user_name, FakeAccount, FakeIam, ACCOUNT_ID};
use test_support::moto::{Auth, MotoPeer};
use test_support::ocsf_schema::assert_valid_event;

const LIMIT: Duration = Duration::from_secs(300);
/// The API key the double accepts: a canary that must never be printed or written.
const API_KEY: &str = "sekoia-canary-api-key-3e7b1f0a9c5d";
/// A key the double refuses (its 401 message quotes it back): never printed either.
const WRONG_KEY: &str = "sekoia-wrong-canary-key-77c0d2e4b1";
const CONNECTOR: &str = "1f0e8d2c-3b4a-4c5d-9e6f-7a8b9c0d1e2f";
const AWS_SECRET: &str = "sekoia-sink-aws-secret-canary";

// ---------------------------------------------------------------------------------------
// The double.
// ---------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The peer's Python: `$AWS_IAM_USERS_PEER_PYTHON`, else the venv `make test` creates.
fn python() -> PathBuf {
    std::env::var_os("AWS_IAM_USERS_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

type Records = Arc<(Mutex<Vec<Value>>, Condvar)>;

/// `tests/peer/sekoia_api.py` on loopback; it stops when its stdin closes (on drop).
struct SekoiaDouble {
    url: String,
    records: Records,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl SekoiaDouble {
    fn start(script: Value) -> SekoiaDouble {
        let python = python();
        assert!(
            python.exists(),
            "{} is missing: `make venv` creates it",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(repo_root().join("tests/peer/sekoia_api.py"))
            .args(["--api-key", API_KEY, "--connector", CONNECTOR, "--script"])
            .arg(script.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the Sekoia double");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let records: Records = Arc::default();
        let (first, url) = mpsc::channel();
        let shared = records.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first.send(lines.next().and_then(Result::ok));
            for line in lines.map_while(Result::ok) {
                let record: Value = serde_json::from_str(&line).expect("one JSON line a request");
                let (list, changed) = &*shared;
                list.lock().unwrap().push(record);
                changed.notify_all();
            }
        });
        let line = match url.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(line)) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the Sekoia double did not start: {other:?}");
            }
        };
        let url = serde_json::from_str::<Value>(&line).unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        SekoiaDouble {
            url,
            records,
            child,
            stdin,
        }
    }

    fn records(&self) -> Vec<Value> {
        self.records.0.lock().unwrap().clone()
    }

    /// Every push request received, in order.
    fn pushes(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == "push")
            .collect()
    }

    /// `user.uid` of every item of every accepted push, in order.
    fn accepted_uids(&self) -> Vec<String> {
        self.pushes()
            .iter()
            .filter(|p| p["status"] == 200)
            .flat_map(|p| p["uids"].as_array().unwrap().clone())
            .map(|uid| uid.as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits (at most `limit`) until `done` holds for the records.
    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&[Value]) -> bool) {
        let (list, changed) = &*self.records;
        let started = Instant::now();
        let mut records = list.lock().unwrap();
        while !done(&records) {
            let left = limit
                .checked_sub(started.elapsed())
                .unwrap_or_else(|| panic!("{what} did not happen within {limit:?}"));
            records = changed.wait_timeout(records, left).unwrap().0;
        }
    }

    fn push_url(&self) -> String {
        format!(
            "{}/api/v2/asset-management/asset-connector/{CONNECTOR}",
            self.url
        )
    }
}

impl Drop for SekoiaDouble {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Runs.
// ---------------------------------------------------------------------------------------

fn env(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIDSEKOIASINK000001".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("SEKOIA_API_KEY", key.to_owned()),
    ]
}

/// `host-harness COMMAND` with the component, the fake IAM and the double, SEKOIA_API_KEY
/// `key`; the arguments of a [`harness::run`] or [`harness::spawn`].
fn args(command: &str, iam: &FakeIam, sekoia_url: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        command,
        "--component",
        harness::component().to_str().unwrap(),
        "--endpoint-url",
        iam.url(),
        "--strategy",
        "per-user",
        "--retry-base-ms",
        "1",
        "--sekoia-url",
        sekoia_url,
        "--connector-uuid",
        CONNECTOR,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn invoke(command: &str, iam: &FakeIam, sekoia_url: &str, key: &str, extra: &[&str]) -> Run {
    let args = args(command, iam, sekoia_url, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = env(key);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = harness::run(&args, &env, LIMIT);
    assert_no_secret(&run.stdout, "stdout");
    assert_no_secret(&run.stderr, "stderr");
    run
}

fn spawn(iam: &FakeIam, sekoia_url: &str, extra: &[&str]) -> Child {
    let args = args("collect", iam, sekoia_url, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = env(API_KEY);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    harness::spawn(&args, &env)
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in [API_KEY, WRONG_KEY, AWS_SECRET] {
        assert!(!text.contains(secret), "{what} holds a secret: {text}");
    }
}

fn root_uid() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:root")
}

fn user_uid(i: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:user/generated/{}", user_name(i))
}

/// The uids of a collection of `users` generated users, in listing order (root first).
fn expected_uids(users: usize) -> Vec<String> {
    std::iter::once(root_uid())
        .chain((0..users).map(user_uid))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "aws-iam-users-sekoia-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_uids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            assert_valid_event(line)["user"]["uid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn statuses(pushes: &[Value]) -> Vec<Value> {
    pushes
        .iter()
        .map(|p| {
            if p.get("drop").is_some() {
                json!("drop")
            } else if p.get("hang").is_some() {
                json!("hang")
            } else {
                p["status"].clone()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

/// 250 users in pages of 100 and batches of 40: every user arrives exactly once, every body
/// passes `AssetList`/`UserOCSFModel` and holds only what the models keep, and what the
/// models keep of the pushed events is what they keep of the full ones; every slow task is
/// followed to `FINISHED`.
#[test]
fn every_user_arrives_exactly_once_across_batches_as_sekoia_keeps_it() {
    let iam = FakeIam::start(FakeAccount {
        users: 250,
        ..FakeAccount::default()
    });
    let sekoia = SekoiaDouble::start(json!({"task_states": ["PENDING", "RUNNING", "FINISHED"]}));
    let run = invoke(
        "collect",
        &iam,
        &sekoia.url,
        API_KEY,
        &[
            "--max-items",
            "100",
            "--batch-size",
            "40",
            "--task-poll-ms",
            "10",
            "--debug",
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(
        sekoia.accepted_uids(),
        expected_uids(250),
        "each user once, in order"
    );
    let pushes = sekoia.pushes();
    let sizes: Vec<u64> = pushes
        .iter()
        .map(|p| p["items"].as_u64().unwrap())
        .collect();
    // Page 1: the root user and 100 users; page 2: 100; page 3: 50.
    assert_eq!(sizes, [40, 40, 21, 40, 40, 20, 40, 10]);
    for push in &pushes {
        assert_eq!(push["status"], 200, "{push}");
        assert_eq!(push["errors"], json!([]), "Sekoia's models refused: {push}");
        assert_eq!(
            push["extra_paths"],
            json!([]),
            "sent what Sekoia drops: {push}"
        );
    }
    // What the models keep of the pushed (reduced) events is what they keep of the full
    // events the harness wrote.
    let events: Vec<Value> = run.events().into_iter().map(assert_valid_event).collect();
    assert_eq!(events.len(), 251);
    let check = test_support::sekoia::check(&events);
    assert!(check.all_accepted(), "{:?}", check.rejected);
    let by_uid = |items: Vec<Value>| -> HashMap<String, Value> {
        items
            .into_iter()
            .map(|item| (item["user"]["uid"].as_str().unwrap().to_owned(), item))
            .collect()
    };
    let dumped: Vec<Value> = pushes
        .iter()
        .flat_map(|p| p["dumped"].as_array().unwrap().clone())
        .collect();
    assert_eq!(by_uid(dumped), by_uid(check.items.clone()));
    // Every task polled until FINISHED: three polls each.
    let polls: Vec<Value> = sekoia
        .records()
        .into_iter()
        .filter(|r| r["kind"] == "task")
        .map(|r| r["task_status"].clone())
        .collect();
    assert_eq!(
        polls,
        ["PENDING", "RUNNING", "FINISHED"].repeat(8),
        "{polls:?}"
    );
    let summary = run.summary();
    assert!(
        summary.contains("users=250 root=1 events=251")
            && summary.ends_with(
                " pushed=251 batches=8 push_retries=0 tasks_finished=8 tasks_failed=0 \
                 tasks_unconfirmed=0"
            ),
        "{summary}"
    );
    assert!(
        run.stderr.contains(&format!(
            "debug http: PushAssets sekoia {} 200 ",
            sekoia.url.trim_start_matches("http://")
        )),
        "{}",
        run.stderr
    );
}

/// A 429 with Retry-After, a 500 and a dropped connection on one batch are retried; the
/// batch arrives once.
#[test]
fn rate_limits_server_errors_and_dropped_connections_are_retried() {
    let iam = FakeIam::start(FakeAccount {
        users: 60,
        ..FakeAccount::default()
    });
    let sekoia = SekoiaDouble::start(json!({
        "tasks": false,
        "push": {
            "2": {"status": 429, "retry_after": "1", "code": "too_many_requests", "message": "slow down"},
            "3": {"status": 500},
            "4": {"drop": true},
        },
    }));
    let run = invoke(
        "collect",
        &iam,
        &sekoia.url,
        API_KEY,
        &["--batch-size", "20"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(sekoia.accepted_uids(), expected_uids(60));
    let pushes = sekoia.pushes();
    assert_eq!(
        statuses(&pushes),
        [
            json!(200),
            json!(429),
            json!(500),
            json!("drop"),
            json!(200),
            json!(200),
            json!(200)
        ]
    );
    assert!(
        run.stderr.contains(
            "warn host: Sekoia push of batch 2 of 4 of page 1 (20 events): HTTP 429 \
             too_many_requests: slow down (Retry-After 1s); retrying in 1.0 s (attempt 2 of 5)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("HTTP 500 http_500: scripted HTTP 500; retrying in"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(attempt 4 of 5)"),
        "the dropped connection is retried: {}",
        run.stderr
    );
    assert!(
        run.summary()
            .ends_with(" pushed=61 batches=4 push_retries=3 tasks_finished=0 tasks_failed=0 tasks_unconfirmed=0"),
        "{}",
        run.summary()
    );
}

/// A batch that keeps failing ends the run after --push-attempts, with exit 5.
#[test]
fn a_push_that_keeps_failing_ends_after_the_bounded_attempts() {
    let iam = FakeIam::start(FakeAccount {
        users: 3,
        ..FakeAccount::default()
    });
    let unavailable = json!({"status": 503, "code": "unavailable", "message": "maintenance"});
    let sekoia = SekoiaDouble::start(json!({
        "push": {"1": unavailable, "2": unavailable, "3": unavailable},
    }));
    let run = invoke(
        "collect",
        &iam,
        &sekoia.url,
        API_KEY,
        &["--push-attempts", "3"],
    );
    assert_eq!(run.code, Some(5), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: Sekoia push of batch 1 of 1 of page 1 (4 events) failed after 3 attempts: \
             HTTP 503 unavailable: maintenance"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(sekoia.pushes().len(), 3);
    assert!(sekoia.accepted_uids().is_empty());
    assert!(
        run.stderr.contains(" pushed=0 batches=0 push_retries=2 "),
        "the failure's summary: {}",
        run.stderr
    );
}

/// A refused key stops at once with exit 3 and the API's code and message, its echo of the
/// key scrubbed.
#[test]
fn a_refused_key_stops_the_run_with_exit_3_and_the_apis_message() {
    let iam = FakeIam::start(FakeAccount {
        users: 3,
        ..FakeAccount::default()
    });
    let sekoia = SekoiaDouble::start(json!({}));
    let dir = scratch("refused");
    let file = dir.join("users.ndjson");
    let run = invoke(
        "collect",
        &iam,
        &sekoia.url,
        WRONG_KEY,
        &["--output", file.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "error: Sekoia push of batch 1 of 1 of page 1 (4 events) failed: HTTP 401 \
             invalid_api_key: The API key is not valid (got ** redacted **)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(sekoia.pushes().len(), 1, "a 401 is never retried");
    assert!(sekoia.accepted_uids().is_empty());
    assert!(!file.exists(), "a failed run leaves no output");

    std::fs::remove_dir_all(&dir).unwrap();
}

/// `check` against moto's full principal (every AWS permission granted: exit 0 from the AWS
/// side) with the Sekoia connector: a refused key exits 3, a wrong connector URL 2, the right
/// ones 0, each said in the table and the JSON; the check's request is an empty push.
#[test]
fn check_verifies_the_key_and_the_connector_with_an_empty_push() {
    let peer = MotoPeer::start(Auth::On);
    let keys = peer.keys("admin");
    let sekoia = SekoiaDouble::start(json!({}));
    let check = |url: &str, key: &str, extra: &[&str]| {
        let component = harness::component();
        let mut args = vec![
            "check",
            "--component",
            component.to_str().unwrap(),
            "--endpoint-url",
            &peer.endpoint,
            "--sekoia-url",
            url,
            "--connector-uuid",
            CONNECTOR,
        ];
        args.extend_from_slice(extra);
        let run = harness::run(
            &args,
            &[
                ("AWS_ACCESS_KEY_ID", &keys.access_key_id),
                ("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key),
                ("AWS_REGION", "us-east-1"),
                ("SEKOIA_API_KEY", key),
            ],
            LIMIT,
        );
        assert_no_secret(&run.stdout, "stdout");
        assert_no_secret(&run.stderr, "stderr");
        run
    };
    let refused = check(&sekoia.url, WRONG_KEY, &[]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert!(
        refused.stdout.ends_with(&format!(
            "19/19 granted; recommended: 7/7 granted (IAMReadOnlyAccess has them all)\n\
             sekoia: {} (API key from SEKOIA_API_KEY)\nsekoia: refused (HTTP 401 \
             invalid_api_key: The API key is not valid (got ** redacted **)): the API key is \
             refused\n",
            sekoia.push_url()
        )),
        "{}",
        refused.stdout
    );
    let accepted = check(&sekoia.url, API_KEY, &["--json"]);
    assert_eq!(accepted.code, Some(0), "{}", accepted.stderr);
    let report: Value = serde_json::from_str(&accepted.stdout).unwrap();
    assert_eq!(report["all_granted"], true);
    assert_eq!(
        report["sekoia"],
        json!({
            "url": sekoia.push_url(),
            "api_key_from": "SEKOIA_API_KEY",
            "outcome": "accepted",
            "status": 200,
            "verified": true,
            "verdict": "the API key and the connector are accepted",
        })
    );
    let pushes = sekoia.pushes();
    assert_eq!(pushes.len(), 2, "one request per check: {pushes:?}");
    assert_eq!(
        (pushes[1]["items"].clone(), pushes[1]["status"].clone()),
        (json!(0), json!(200)),
        "the check pushes an empty batch"
    );
    let elsewhere = check(&format!("{}/elsewhere", sekoia.url), API_KEY, &[]);
    assert_eq!(elsewhere.code, Some(2), "{}", elsewhere.stderr);
    assert!(
        elsewhere
            .stdout
            .ends_with(": no such connector at this URL\n"),
        "{}",
        elsewhere.stdout
    );
}

/// Killed twice while a batch is in flight (once in the first page, once in the second),
/// then run to the end: Sekoia gets each user once, the output file holds each once.
#[test]
fn a_kill_between_batches_and_a_rerun_with_the_checkpoint_give_each_user_once() {
    let iam = FakeIam::start(FakeAccount {
        users: 250,
        ..FakeAccount::default()
    });
    // Pushes 3 and 6 are never answered: the harness is killed while it waits.
    let sekoia = SekoiaDouble::start(json!({
        "push": {"3": {"hang": true}, "6": {"hang": true}},
    }));
    let dir = scratch("kill");
    let (file, cp) = (dir.join("users.ndjson"), dir.join("users.checkpoint"));
    let extra = [
        "--max-items",
        "100",
        "--batch-size",
        "40",
        "--task-poll-ms",
        "10",
        "--output",
        file.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
    ];
    let checkpoint = || -> Value {
        let text = std::fs::read_to_string(&cp).unwrap();
        assert_no_secret(&text, "the checkpoint");
        serde_json::from_str(&text).unwrap()
    };
    let hung = |n: u64| {
        move |records: &[Value]| {
            records
                .iter()
                .any(|r| r["push"] == n && r.get("hang").is_some())
        }
    };

    let mut first = spawn(&iam, &sekoia.url, &extra);
    sekoia.wait_for("push 3", LIMIT, hung(3));
    first.kill().unwrap();
    first.wait().unwrap();
    let saved = checkpoint();
    assert_eq!(saved["version"], 3);
    assert_eq!(saved["cursor"], Value::Null, "the first page is not done");
    assert_eq!(saved["sekoia"], json!(sekoia.push_url()));
    let pushed: Vec<String> = serde_json::from_value(saved["pushed"].clone()).unwrap();
    assert_eq!(
        pushed,
        expected_uids(250)[..80],
        "two batches of the first page"
    );

    let mut second = spawn(&iam, &sekoia.url, &extra);
    sekoia.wait_for("push 6", LIMIT, hung(6));
    second.kill().unwrap();
    second.wait().unwrap();
    let saved = checkpoint();
    assert!(saved["cursor"].is_string(), "{saved}");
    assert_eq!(saved["events"], 101);
    let pushed: Vec<String> = serde_json::from_value(saved["pushed"].clone()).unwrap();
    assert_eq!(
        pushed,
        expected_uids(250)[101..141],
        "one batch of the second page"
    );

    let last = invoke("collect", &iam, &sekoia.url, API_KEY, &extra);
    assert_eq!(last.code, Some(0), "stderr: {}", last.stderr);
    let cp_arg = cp.to_str().unwrap();
    assert!(
        last.stderr
            .contains(&format!("resuming from {cp_arg} after 101 events"))
            && last.stderr.contains(&format!(
                "resuming the push of a page from {cp_arg}: 40 of its events were already accepted"
            )),
        "{}",
        last.stderr
    );
    assert!(
        last.summary().contains(" pushed=110 batches=4 ")
            && last.summary().ends_with(" already_pushed=40"),
        "{}",
        last.summary()
    );
    assert_eq!(sekoia.accepted_uids(), expected_uids(250), "each user once");
    assert_eq!(
        statuses(&sekoia.pushes()),
        [
            json!(200),
            json!(200),
            json!("hang"),
            json!(200),
            json!(200),
            json!("hang"),
            json!(200),
            json!(200),
            json!(200),
            json!(200)
        ]
    );
    assert_eq!(file_uids(&file), expected_uids(250), "the file too");
    assert!(!cp.exists(), "a complete collection removes its checkpoint");
    assert_no_secret(&std::fs::read_to_string(&file).unwrap(), "the output");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A task ending FAILED is reported with its error and exits 4; a task still pending at
/// --task-timeout-secs is unconfirmed and the later ones are not polled.
#[test]
fn failed_and_unfinished_tasks_are_reported() {
    let iam = FakeIam::start(FakeAccount {
        users: 5,
        ..FakeAccount::default()
    });
    let failing = SekoiaDouble::start(json!({
        "task_states": ["RUNNING", "FAILED"],
        "task_error": "mapping error on item 2",
    }));
    let run_failed = invoke(
        "collect",
        &iam,
        &failing.url,
        API_KEY,
        &["--batch-size", "2", "--task-poll-ms", "10"],
    );
    assert_eq!(run_failed.code, Some(4), "stderr: {}", run_failed.stderr);
    assert!(
        run_failed
            .stderr
            .contains("of the push of batch 1 of 3 of page 1 (2 events) ended with status FAILED: mapping error on item 2"),
        "{}",
        run_failed.stderr
    );
    assert!(
        run_failed
            .summary()
            .ends_with(" pushed=6 batches=3 push_retries=0 tasks_finished=0 tasks_failed=3 tasks_unconfirmed=0"),
        "{}",
        run_failed.summary()
    );

    let slow = SekoiaDouble::start(json!({"task_states": ["PENDING"]}));
    let run_slow = invoke(
        "collect",
        &iam,
        &slow.url,
        API_KEY,
        &[
            "--batch-size",
            "2",
            "--task-poll-ms",
            "10",
            "--task-timeout-secs",
            "1",
        ],
    );
    assert_eq!(run_slow.code, Some(0), "stderr: {}", run_slow.stderr);
    assert!(
        run_slow.stderr.contains(
            "is still PENDING after 1 s; the ingestion tasks of later pushes are not followed"
        ),
        "{}",
        run_slow.stderr
    );
    assert_eq!(slow.accepted_uids(), expected_uids(5));
    let polled: std::collections::HashSet<String> = slow
        .records()
        .iter()
        .filter(|r| r["kind"] == "task")
        .map(|r| r["task_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(polled.len(), 1, "only the first task is polled");
    assert!(
        run_slow
            .summary()
            .ends_with(" pushed=6 batches=3 push_retries=0 tasks_finished=0 tasks_failed=0 tasks_unconfirmed=3"),
        "{}",
        run_slow.summary()
    );
}

/// Plain http to a name, a bad connector and a missing key are refused before anything is
/// sent to AWS or Sekoia.
#[test]
fn a_bad_url_connector_or_missing_key_is_refused_before_anything_is_sent() {
    let iam = FakeIam::start(FakeAccount {
        users: 1,
        ..FakeAccount::default()
    });
    let sekoia = SekoiaDouble::start(json!({}));
    let port = sekoia.url.rsplit(':').next().unwrap().to_owned();
    let by_name = invoke(
        "collect",
        &iam,
        &format!("http://localhost:{port}"),
        API_KEY,
        &[],
    );
    assert_eq!(by_name.code, Some(2), "{}", by_name.stderr);
    assert!(
        by_name.stderr.contains(&format!(
            "error: invalid --sekoia-url \"http://localhost:{port}\": plain http is allowed only \
             for a loopback IP address (127.0.0.1, [::1]); use https"
        )),
        "{}",
        by_name.stderr
    );
    let mut bad_connector = args("collect", &iam, &sekoia.url, &[]);
    let at = bad_connector.iter().position(|a| a == CONNECTOR).unwrap();
    bad_connector[at] = "../tasks/x".into();
    let bad_connector: Vec<&str> = bad_connector.iter().map(String::as_str).collect();
    let env_key = env(API_KEY);
    let env_key: Vec<(&str, &str)> = env_key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run_bad = harness::run(&bad_connector, &env_key, LIMIT);
    assert_eq!(run_bad.code, Some(2), "{}", run_bad.stderr);
    assert!(
        run_bad.stderr.contains(
            "error: invalid --connector-uuid \"../tasks/x\": not a UUID (8-4-4-4-12 hexadecimal digits)"
        ),
        "{}",
        run_bad.stderr
    );
    let no_key: Vec<(&str, &str)> = env_key
        .iter()
        .copied()
        .filter(|(k, _)| *k != "SEKOIA_API_KEY")
        .collect();
    let good = args("collect", &iam, &sekoia.url, &[]);
    let good: Vec<&str> = good.iter().map(String::as_str).collect();
    let run_no_key = harness::run(&good, &no_key, LIMIT);
    assert_eq!(run_no_key.code, Some(3), "{}", run_no_key.stderr);
    assert!(
        run_no_key.stderr.contains(
            "error: no Sekoia API key: set SEKOIA_API_KEY, or sekoia_api_key in the --config file"
        ),
        "{}",
        run_no_key.stderr
    );
    assert_eq!(iam.calls(), 0, "nothing was sent to AWS");
    assert!(sekoia.records().is_empty(), "nothing was sent to Sekoia");
}

/// The field tree the host reduces events with is what the pinned models keep.
#[test]
fn the_committed_field_tree_is_what_the_pinned_models_keep() {
    let output = Command::new(python())
        .arg(repo_root().join("tests/peer/sekoia_models.py"))
        .arg("--fields")
        .output()
        .expect("run sekoia_models.py --fields");
    assert!(output.status.success(), "{output:?}");
    let generated: Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: Value =
        serde_json::from_str(host_harness::sekoia::fields::USER_FIELDS_JSON).unwrap();
    assert_eq!(
        committed, generated,
        "host-harness/src/sekoia/user_fields.json is stale: regenerate it with \
         `.venv/bin/python tests/peer/sekoia_models.py --fields > host-harness/src/sekoia/user_fields.json`"
    );
}

/// `check --dry-run` names the push URL and where the key comes from, and sends nothing.
#[test]
fn a_dry_run_names_the_sekoia_destination_and_sends_nothing() {
    let args = [
        "check",
        "--dry-run",
        "--sekoia-url",
        "https://api.sekoia.io",
        "--connector-uuid",
        CONNECTOR,
    ];
    let aws = [
        ("AWS_ACCESS_KEY_ID", "AKIDSEKOIASINK000001"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
    ];
    let with_key = harness::run(&args, &[aws[0], aws[1], ("SEKOIA_API_KEY", API_KEY)], LIMIT);
    assert_eq!(with_key.code, Some(0), "{}", with_key.stderr);
    assert!(
        with_key.stdout.ends_with(&format!(
            "sekoia: https://api.sekoia.io/api/v2/asset-management/asset-connector/{CONNECTOR} \
             (API key from SEKOIA_API_KEY)\ndry run: nothing was sent\n"
        )),
        "{}",
        with_key.stdout
    );
    assert_no_secret(&with_key.stdout, "stdout");
    let without = harness::run(&args, &aws, LIMIT);
    assert_eq!(without.code, Some(3), "{}", without.stderr);
    assert!(
        without
            .stdout
            .contains("sekoia: not usable (see the error below)\n"),
        "{}",
        without.stdout
    );
    assert!(
        without.stderr.contains("error: no Sekoia API key"),
        "{}",
        without.stderr
    );
}
