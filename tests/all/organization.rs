//! Organization mode against moto as an AWS Organization (`serve --organization`): the
//! management account (the sample account) and three member accounts with their own users,
//! the member role in all but `sandbox`, one closed account. ListAccounts, the cross-account
//! AssumeRole (trust policy and external ID checked) and every member's IAM calls are moto's,
//! in auth mode.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_support::moto::MotoPeer;
use test_support::ocsf_schema::assert_valid_event;
use test_support::scratch_dir;

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(300);

fn peer() -> &'static MotoPeer {
    static PEER: OnceLock<MotoPeer> = OnceLock::new();
    PEER.get_or_init(MotoPeer::start_organization)
}

/// One account of the peer's organization.
#[derive(Debug, Clone)]
struct Member {
    id: String,
    name: String,
    active: bool,
    member_role: bool,
    alias: Option<String>,
    users: BTreeSet<String>,
}

fn members() -> Vec<Member> {
    peer().organization()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| Member {
            id: account["id"].as_str().unwrap().to_owned(),
            name: account["name"].as_str().unwrap().to_owned(),
            active: account["state"] == "ACTIVE",
            member_role: account["member_role"].as_bool().unwrap(),
            alias: account["alias"].as_str().map(str::to_owned),
            users: account["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|arn| arn.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect()
}

fn member(name: &str) -> Member {
    members()
        .into_iter()
        .find(|member| member.name == name)
        .unwrap_or_else(|| panic!("no member account {name}"))
}

/// The accounts a run through the member role reaches: active, with the role.
fn reachable() -> Vec<Member> {
    members()
        .into_iter()
        .filter(|member| member.active && member.member_role)
        .collect()
}

fn member_role() -> &'static str {
    peer().organization()["member_role"].as_str().unwrap()
}

fn external_id() -> &'static str {
    peer().organization()["external_id"].as_str().unwrap()
}

/// `host-harness <command> --component … --endpoint-url … --member-role … --external-id …
/// <extra>` (the peer's external ID unless `extra` names one) signed with the management
/// account's admin keys; killed after [`LIMIT`].
fn run(command: &str, extra: &[&str]) -> Run {
    let mut child = spawn(command, extra, true);
    harness::wait(&mut child, extra, Instant::now(), LIMIT)
}

fn spawn(command: &str, extra: &[&str], piped: bool) -> std::process::Child {
    let peer = peer();
    let admin = peer.keys("admin");
    let component = harness::component();
    let mut args = vec![
        command,
        "--component",
        component.to_str().unwrap(),
        "--endpoint-url",
        &peer.endpoint,
        "--member-role",
        member_role(),
    ];
    if !extra.contains(&"--external-id") {
        args.extend_from_slice(&["--external-id", external_id()]);
    }
    args.extend_from_slice(extra);
    let io = || {
        if piped {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        }
    };
    crate::harness::command()
        .args(&args)
        .env("AWS_ACCESS_KEY_ID", &admin.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &admin.secret_access_key)
        .env("AWS_REGION", "us-east-1")
        .stdin(std::process::Stdio::null())
        .stdout(io())
        .stderr(io())
        .spawn()
        .expect("spawn host-harness")
}

/// Every event of `ndjson`, validated against the OCSF schema and Sekoia's models, by
/// `user.uid`; panics on a user written twice.
fn events_by_uid(ndjson: &str) -> BTreeMap<String, Value> {
    let events: Vec<Value> = ndjson
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(assert_valid_event)
        .collect();
    let check = test_support::sekoia::check(&events);
    assert!(check.all_accepted(), "{:?}", check.rejected);
    assert_eq!(check.items.len(), events.len());
    let mut by_uid = BTreeMap::new();
    for event in events {
        let uid = event["user"]["uid"].as_str().unwrap().to_owned();
        assert!(
            by_uid.insert(uid.clone(), event).is_none(),
            "{uid} written twice"
        );
    }
    by_uid
}

/// What `accounts` hold: each IAM user, and each account's root user.
fn expected_uids(accounts: &[Member]) -> BTreeSet<String> {
    accounts
        .iter()
        .flat_map(|member| {
            member
                .users
                .iter()
                .cloned()
                .chain([format!("arn:aws:iam::{}:root", member.id)])
        })
        .collect()
}

/// Each event names the account of its ARN, under that account's alias.
fn assert_accounts_named(events: &BTreeMap<String, Value>) {
    for (uid, event) in events {
        let account = uid.split(':').nth(4).unwrap();
        let member = members().into_iter().find(|m| m.id == account).unwrap();
        assert_eq!(event["user"]["account"]["uid"], account, "{uid}");
        assert_eq!(
            event["user"]["account"]["name"],
            member.alias.unwrap().as_str(),
            "{uid}"
        );
    }
}

fn summary_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|line| line.starts_with("summary:"))
        .collect()
}

fn line_of<'a>(run: &'a Run, prefix: &str) -> &'a str {
    run.stderr
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{}", run.stderr))
}

/// `summary: organization …` up to `api_calls` (the call count and time vary).
fn total_counts(run: &Run) -> &str {
    let line = line_of(run, "summary: organization ");
    &line[..line.find(" api_calls=").unwrap()]
}

fn denied_line(sandbox: &Member) -> String {
    format!(
        "error: account {id} (sandbox): cannot assume role arn:aws:iam::{id}:role/{role}: STS \
         AssumeRole failed: HTTP 403 AccessDenied: User: \
         arn:aws:iam::123456789012:user/automation/connector-admin is not authorized to \
         perform: sts:AssumeRole on resource: arn:aws:iam::{id}:role/{role}",
        id = sandbox.id,
        role = member_role()
    )
}

#[test]
fn collect_gives_each_user_of_the_reachable_accounts_once_and_names_the_failed_one() {
    let run = run("collect", &["--organization"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    let events = events_by_uid(&run.stdout);
    let reachable = reachable();
    assert_eq!(reachable.len(), 3, "the management account, dev and prod");
    assert_eq!(
        events.keys().cloned().collect::<BTreeSet<_>>(),
        expected_uids(&reachable)
    );
    assert_eq!(events.len(), 21 + 2 + 3 + 3);
    assert_accounts_named(&events);

    let sandbox = member("sandbox");
    assert!(
        run.stderr.contains(&denied_line(&sandbox)),
        "{}",
        run.stderr
    );
    assert!(
        summary_lines(&run).contains(
            &format!(
                "summary: account={} name=sandbox status=failed exit=3 events=0",
                sandbox.id
            )
            .as_str()
        ),
        "{}",
        run.stderr
    );
    for member in &reachable {
        let line = line_of(&run, &format!("summary: account={} ", member.id));
        let users = member.users.len();
        assert!(
            line.starts_with(&format!(
                "summary: account={} name={} status=ok users={users} root=1 events={} \
                 skipped_users=0 account_users={users} pages=1 ",
                member.id,
                member.name,
                users + 1
            )),
            "{line}"
        );
    }
    assert_eq!(
        total_counts(&run),
        "summary: organization accounts=4 ok=3 partial=0 failed=1 done_before=0 users=26 \
         root=3 events=29"
    );
    assert_eq!(
        summary_lines(&run).len(),
        5,
        "one line per account and a total"
    );
    let retired = member("retired");
    assert!(!retired.active);
    assert!(
        !run.stderr.contains(&retired.id),
        "a closed account is not listed"
    );
    assert!(
        !run.stderr.contains(external_id()),
        "the external ID is never printed"
    );
}

#[test]
fn an_output_dir_holds_one_file_per_reachable_account() {
    let dir = scratch_dir("organization-dir");
    let out = dir.join("accounts");
    let run = run(
        "collect",
        &["--organization", "--output-dir", out.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = reachable()
        .iter()
        .map(|member| format!("{}.ndjson", member.id))
        .collect();
    expected.sort();
    assert_eq!(
        files, expected,
        "no file for the failed account, no temporary file"
    );
    for member in reachable() {
        let text = std::fs::read_to_string(out.join(format!("{}.ndjson", member.id))).unwrap();
        let events = events_by_uid(&text);
        assert_eq!(
            events.keys().cloned().collect::<BTreeSet<_>>(),
            expected_uids(std::slice::from_ref(&member))
        );
    }
}

/// The organization checkpoint's accounts: id → finished.
fn checkpointed(path: &Path) -> Option<BTreeMap<String, bool>> {
    let text = std::fs::read_to_string(path).ok()?;
    let position: Value = serde_json::from_str(&text).ok()?;
    assert_eq!(position["version"], 4);
    Some(
        position["accounts"]
            .as_object()?
            .iter()
            .map(|(id, account)| (id.clone(), account["finished"] == true))
            .collect(),
    )
}

#[test]
fn a_run_killed_midway_and_run_again_with_its_checkpoint_writes_each_user_once() {
    let dir = scratch_dir("organization-kill");
    let (file, cp) = (dir.join("org.ndjson"), dir.join("org.checkpoint"));
    let args = [
        "--organization",
        "--output",
        file.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
        "--max-accounts-in-flight",
        "1",
    ];
    // Killed once the checkpoint records a finished account and before the last one ends.
    let mut child = spawn("collect", &args, false);
    let started = Instant::now();
    let finished_before_kill = loop {
        assert!(
            started.elapsed() < LIMIT,
            "no finished account within {LIMIT:?}"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it could be killed: {status}");
        }
        if let Some(accounts) = checkpointed(&cp) {
            let finished = accounts.values().filter(|done| **done).count();
            if finished >= 1 {
                child.kill().unwrap();
                child.wait().unwrap();
                break finished;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(
        (1..3).contains(&finished_before_kill),
        "{finished_before_kill}"
    );
    // Bytes a killed run may have written after its last durable page are cut on resume.
    let rerun = run("collect", &args);
    assert_eq!(rerun.code, Some(4), "{}", rerun.stderr);
    let resumed = line_of(&rerun, "resuming from ");
    assert!(
        resumed.contains(&format!("{finished_before_kill} accounts done")),
        "{resumed}"
    );
    assert_eq!(
        summary_lines(&rerun)
            .iter()
            .filter(|line| line.contains(" status=done_before "))
            .count(),
        finished_before_kill
    );
    let events = events_by_uid(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        events.keys().cloned().collect::<BTreeSet<_>>(),
        expected_uids(&reachable())
    );
    // The failed account keeps the checkpoint: the next run retries it alone.
    assert!(
        rerun.stderr.contains(&format!(
            "note: {} records what is done; run the same command again to retry the rest",
            cp.display()
        )),
        "{}",
        rerun.stderr
    );
    let third = run("collect", &args);
    assert_eq!(third.code, Some(4), "{}", third.stderr);
    assert_eq!(
        total_counts(&third),
        "summary: organization accounts=4 ok=0 partial=0 failed=1 done_before=3 users=0 \
         root=0 events=0"
    );
    assert!(third.stderr.contains(&denied_line(&member("sandbox"))));
    assert_eq!(
        events_by_uid(&std::fs::read_to_string(&file).unwrap()).len(),
        events.len(),
        "nothing written twice"
    );
}

#[test]
fn accounts_restricts_the_organization_or_replaces_its_listing() {
    let (dev, prod) = (member("dev"), member("prod"));
    let restricted = run(
        "collect",
        &[
            "--organization",
            "--accounts",
            &format!("{},{},999999999999", dev.id, prod.id),
            "--debug",
        ],
    );
    assert_eq!(restricted.code, Some(4), "{}", restricted.stderr);
    assert_eq!(
        events_by_uid(&restricted.stdout)
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        expected_uids(&[dev.clone(), prod.clone()])
    );
    assert!(restricted.stderr.contains(
        "error: account 999999999999: invalid setting: --accounts names 999999999999, which is \
         not an ACTIVE account of the organization"
    ));
    assert!(restricted
        .stderr
        .contains("debug http: ListAccounts organizations "));
    // Each account's calls are logged under its id; AssumeRole by the host.
    for account in [&dev, &prod] {
        assert!(
            restricted.stderr.contains(&format!(
                "debug http {}: GetAccountSummary iam ",
                account.id
            )),
            "{}",
            restricted.stderr
        );
    }
    assert!(restricted.stderr.contains("debug http: AssumeRole sts "));
    assert_eq!(
        total_counts(&restricted),
        "summary: organization accounts=3 ok=2 partial=0 failed=1 done_before=0 users=5 \
         root=2 events=7"
    );

    // Without --organization: these accounts, and no ListAccounts call.
    let listed = run("collect", &["--accounts", &dev.id, "--debug"]);
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(
        events_by_uid(&listed.stdout)
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        expected_uids(std::slice::from_ref(&dev))
    );
    assert!(!listed.stderr.contains("ListAccounts"), "{}", listed.stderr);
    assert!(summary_lines(&listed)[0].starts_with(&format!(
        "summary: account={} status=ok users=2 root=1 events=3 ",
        dev.id
    )));
}

#[test]
fn check_organization_reports_each_account_and_the_missing_role() {
    let sandbox = member("sandbox");
    let table = run("check", &["--organization"]);
    assert_eq!(table.code, Some(3), "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "caller account: 123456789012",
            "member role: aws-iam-users-reader",
            "ACCOUNT       NAME                      ROLE      RESULT",
        ]
    );
    for member in reachable() {
        let row = lines
            .iter()
            .find(|line| line.starts_with(&member.id))
            .unwrap();
        assert!(
            row.starts_with(&format!(
                "{}  {:<26}assumed   19/19 granted; recommended: ",
                member.id, member.name
            )),
            "{row}"
        );
    }
    let denied = lines
        .iter()
        .find(|line| line.starts_with(&sandbox.id))
        .unwrap();
    assert_eq!(
        *denied,
        format!(
            "{}  sandbox                   denied    {}",
            sandbox.id,
            denied_line(&sandbox).split_once("(sandbox): ").unwrap().1
        )
    );
    assert_eq!(
        lines.last().unwrap(),
        &"3/4 accounts: every permission granted"
    );

    let json = run("check", &["--organization", "--json"]);
    assert_eq!(json.code, Some(3), "{}", json.stderr);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["caller_account"], "123456789012");
    assert_eq!(report["all_granted"], false);
    let accounts = report["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4);
    for account in accounts {
        let id = account["account_id"].as_str().unwrap();
        assert_eq!(
            account["role_arn"],
            format!("arn:aws:iam::{id}:role/aws-iam-users-reader")
        );
        if id == sandbox.id {
            assert_eq!(account["role"], "denied");
            assert_eq!(account["exit_code"], 3);
            assert!(account["error"]
                .as_str()
                .unwrap()
                .contains("HTTP 403 AccessDenied"));
        } else {
            assert_eq!(account["role"], "assumed", "{account}");
            assert_eq!(account["exit_code"], 0);
            assert_eq!(account["check"]["all_granted"], true);
            let caller = account["check"]["caller_arn"].as_str().unwrap();
            assert!(
                caller.starts_with(&format!(
                    "arn:aws:sts::{id}:assumed-role/aws-iam-users-reader/aws-iam-users-"
                )),
                "{caller}"
            );
        }
    }
    assert!(!json.stdout.contains(external_id()));

    // A wrong external ID: the trust policy refuses every account.
    let dev = member("dev");
    let wrong = run(
        "check",
        &["--accounts", &dev.id, "--external-id", "not-the-one"],
    );
    assert_eq!(wrong.code, Some(3), "{}", wrong.stderr);
    assert!(wrong.stdout.contains(&format!(
        "{}  -                         denied    cannot assume role",
        dev.id
    )));
}

#[test]
fn a_push_to_sekoia_or_an_output_dir_alone_is_refused_before_anything_is_sent() {
    let component = harness::component();
    let component = component.to_str().unwrap();
    let refused = |extra: &[&str]| {
        let mut args = vec!["collect", "--component", component];
        args.extend_from_slice(extra);
        // No credentials: a refusal for the flags comes first.
        harness::run(&args, &[], LIMIT)
    };
    let sekoia = refused(&[
        "--organization",
        "--member-role",
        "reader",
        "--sekoia-url",
        "https://api.sekoia.io",
        "--connector-uuid",
        "1f0e8d2c-3b4a-4c5d-9e6f-7a8b9c0d1e2f",
    ]);
    assert_eq!(sekoia.code, Some(2), "{}", sekoia.stderr);
    assert_eq!(
        sekoia.stderr,
        "error: invalid setting: --sekoia-url is not supported with --organization or \
         --accounts; push each account with a run of its own\n"
    );
    let dir_alone = refused(&["--output-dir", "out"]);
    assert_eq!(dir_alone.code, Some(2), "{}", dir_alone.stderr);
    assert_eq!(
        dir_alone.stderr,
        "error: invalid setting: --member-role NAME is required with --organization, \
         --accounts or --output-dir\n"
    );
    let bad_role = refused(&["--organization", "--member-role", "arn:aws:iam::1:role/x"]);
    assert_eq!(bad_role.code, Some(2), "{}", bad_role.stderr);
    assert!(bad_role
        .stderr
        .contains("--member-role \"arn:aws:iam::1:role/x\": give the role's name"));
    let bad_account = refused(&["--accounts", "12345", "--member-role", "reader"]);
    assert_eq!(bad_account.code, Some(2), "{}", bad_account.stderr);
    assert!(bad_account
        .stderr
        .contains("--accounts: \"12345\" is not an AWS account id (12 digits)"));
}

#[test]
fn a_dry_run_names_the_organizations_endpoint_and_the_member_role() {
    let run = harness::run(
        &[
            "check",
            "--dry-run",
            "--organization",
            "--member-role",
            "security/reader",
            "--region",
            "cn-north-1",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "dry-run-secret"),
        ],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "region: cn-north-1 (partition aws-cn)\n\
         iam: https://iam.cn-north-1.amazonaws.com.cn/ (signing region cn-north-1)\n\
         sts: https://sts.cn-north-1.amazonaws.com.cn/ (signing region cn-north-1)\n\
         organizations: https://organizations.cn-northwest-1.amazonaws.com.cn/ (signing region \
         cn-northwest-1)\n\
         member role: arn:aws-cn:iam::<account id>:role/security/reader\n\
         auth: access-keys from the environment (key id *******MPLE)\n\
         dry run: nothing was sent\n"
    );
    let json = harness::run(
        &[
            "check",
            "--dry-run",
            "--json",
            "--accounts",
            "111122223333",
            "--member-role",
            "reader",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "dry-run-secret"),
        ],
        LIMIT,
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["endpoints"]["organizations"],
        serde_json::json!({
            "url": "https://organizations.us-east-1.amazonaws.com/",
            "signing_region": "us-east-1"
        })
    );
    assert_eq!(
        report["member_role_arn"],
        "arn:aws:iam::<account id>:role/reader"
    );
}
