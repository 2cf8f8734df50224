//! Authentication end to end: web identity against moto (assumed-role credentials verified on
//! every IAM call), STS refusals from a loopback stub, refresh before expiry, the config file,
//! the partition table through `check --dry-run`, and a canary run proving that neither the
//! secret nor the session token reaches any output or the component.
//!
//! Loopback only: every run passes `--endpoint-url` to a local peer, and the harness runs with
//! a cleared environment plus `AWS_EC2_METADATA_DISABLED=true` (the harness never reads IMDS,
//! profiles or container endpoints; this keeps it so should that change).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value};

use host_harness::app::{self, HostEnv};
use host_harness::cli::{Cli, Command};
use host_harness::logging::{LogLevel, Logger};
use host_harness::sandbox::ImportRecorder;
use test_support::capture::SharedBuffer;
use test_support::iam_stub::{
    assume_role_response, error_response, list_response, sts_error, IamStub, Received,
};
use test_support::moto::{Auth, MotoPeer};
use test_support::ocsf_schema::assert_valid_event;

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/connectors/connector-reader-role";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.canary-oidc-token-5a1d.signature";
const SESSION: &str = "auth-e2e";

/// Runs the harness with `env` plus the hermetic base environment.
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut full: Vec<(&str, &str)> = vec![("AWS_EC2_METADATA_DISABLED", "true")];
    full.extend_from_slice(env);
    harness::run(args, &full, LIMIT)
}

fn component() -> String {
    harness::component().to_str().unwrap().to_owned()
}

/// A token file holding [`TOKEN`] (with a trailing newline, as `echo` writes it).
fn token_file(test: &str) -> String {
    let path = temp_dir(test).join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

fn web_identity_env<'a>(token_file: &'a str, role_arn: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AWS_ROLE_ARN", role_arn),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
        ("AWS_ROLE_SESSION_NAME", SESSION),
        ("AWS_REGION", "us-east-1"),
    ]
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

// ---------------------------------------------------------------------------------------
// Web identity against moto: AssumeRoleWithWebIdentity unsigned, then every IAM call signed
// with the assumed role's key, secret and session token and verified by moto.
// ---------------------------------------------------------------------------------------

#[test]
fn web_identity_against_moto_collects_and_checks_as_the_assumed_role() {
    let peer = MotoPeer::start(Auth::WebIdentity);
    assert_eq!(peer.role_arn(), ROLE_ARN);
    let token = token_file("moto");
    let env = web_identity_env(&token, ROLE_ARN);
    let component = component();

    let collect = run(
        &[
            "collect",
            "--component",
            &component,
            "--endpoint-url",
            &peer.endpoint,
            "--debug",
        ],
        &env,
    );
    assert_eq!(collect.code, Some(0), "stderr: {}", collect.stderr);
    let events: Vec<Value> = collect
        .events()
        .into_iter()
        .map(assert_valid_event)
        .collect();
    // Every IAM user and the root user.
    assert_eq!(events.len(), peer.users() + 1);
    let host = peer.endpoint.trim_start_matches("http://");
    let sts_lines = lines_with(&collect.stderr, "AssumeRoleWithWebIdentity");
    assert_eq!(
        sts_lines.len(),
        1,
        "one AssumeRoleWithWebIdentity for the whole run (cached): {}",
        collect.stderr
    );
    assert!(
        sts_lines[0].starts_with(&format!(
            "debug http: AssumeRoleWithWebIdentity sts {host} 200 "
        )),
        "{}",
        sts_lines[0]
    );
    // Every IAM call went out and was accepted (no signature or token rejection).
    assert!(
        !collect.stderr.contains("InvalidClientTokenId")
            && !collect.stderr.contains("SignatureDoesNotMatch")
            && !collect.stderr.contains("AccessDenied"),
        "{}",
        collect.stderr
    );
    let summary = collect
        .stderr
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap();
    assert!(
        summary.contains(&format!(
            "users={0} root=1 events={1} skipped_users=0 account_users={0}",
            peer.users(),
            peer.users() + 1
        )),
        "{summary}"
    );
    assert!(!collect.stderr.contains(TOKEN) && !collect.stdout.contains(TOKEN));

    let check = run(
        &[
            "check",
            "--component",
            &component,
            "--endpoint-url",
            &peer.endpoint,
            "--json",
        ],
        &env,
    );
    let report: Value = serde_json::from_str(&check.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", check.stdout, check.stderr));
    assert_eq!(
        report["identity"],
        json!({
            "auth_method": "web-identity-role",
            "partition": "aws",
            "region": "us-east-1",
            "role_arn": ROLE_ARN,
        })
    );
    assert_eq!(
        report["caller_arn"],
        json!(format!(
            "arn:aws:sts::123456789012:assumed-role/connector-reader-role/{SESSION}"
        ))
    );
    // The role's policy (iam:Get*, iam:List*, iam:GenerateCredentialReport) grants every
    // documented and recommended probe.
    let outcomes: Vec<(String, String, bool)> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["permission"].as_str().unwrap().to_owned(),
                p["outcome"].as_str().unwrap().to_owned(),
                p["recommended"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 19 + 7);
    for (permission, outcome, _) in &outcomes {
        assert_eq!(outcome, "granted", "{permission}");
    }
    assert_eq!(outcomes.iter().filter(|(_, _, r)| *r).count(), 7);
    assert_eq!(check.code, Some(0), "stderr: {}", check.stderr);
}

// ---------------------------------------------------------------------------------------
// STS refusals, from a loopback stub (moto accepts any token).
// ---------------------------------------------------------------------------------------

#[test]
fn an_expired_or_invalid_token_is_a_clear_credentials_error() {
    let cases = [
        (
            "ExpiredTokenException",
            "Token expired: current date/time 1700000000 must be before the expiration date/time 1600000000",
        ),
        (
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider",
        ),
    ];
    for (code, message) in cases {
        let stub = IamStub::start(move |_: &Received| (400, sts_error(code, message)));
        let token = token_file(code);
        let env = web_identity_env(&token, ROLE_ARN);
        let component = component();
        for command in ["collect", "check"] {
            let result = run(
                &[
                    command,
                    "--component",
                    &component,
                    "--endpoint-url",
                    &stub.url,
                ],
                &env,
            );
            assert_eq!(result.code, Some(3), "{command}: {}", result.stderr);
            assert_eq!(result.stdout, "");
            assert_eq!(
                result.stderr,
                format!(
                    "error: cannot assume role {ROLE_ARN} with web identity: STS \
                     AssumeRoleWithWebIdentity failed: HTTP 400 {code}: {message}\n"
                ),
                "{command}"
            );
        }
        // What STS received: an unsigned call naming the role, session and token.
        let received = stub.received();
        assert_eq!(received.len(), 2, "not retried: {received:?}");
        for request in &received {
            assert_eq!(request.param("Action"), Some("AssumeRoleWithWebIdentity"));
            assert_eq!(request.param("RoleArn"), Some(ROLE_ARN));
            assert_eq!(request.param("RoleSessionName"), Some(SESSION));
            assert_eq!(request.param("WebIdentityToken"), Some(TOKEN));
            assert_eq!(request.authorization, None);
        }
    }
}

#[test]
fn sts_credentials_a_header_cannot_carry_are_refused_not_a_panic() {
    // A session token with CR LF (a header injection) and a key id with a control byte.
    let cases = [
        ("ASIASTUB000000000001", "token&#13;&#10;x-injected: yes"),
        ("ASIA&#1;STUB", "plain-token-0001"),
    ];
    for (key_id, session_token) in cases {
        let stub = IamStub::start(move |request: &Received| {
            if request.param("Action") == Some("AssumeRoleWithWebIdentity") {
                (
                    200,
                    assume_role_response(
                        key_id,
                        "stub-secret-abcdefgh",
                        session_token,
                        Duration::from_secs(3600),
                        "arn:aws:sts::123456789012:assumed-role/connector-reader-role/auth-e2e",
                    ),
                )
            } else {
                tiny_account(request)
            }
        });
        let token = token_file("control-bytes");
        let result = run(
            &[
                "collect",
                "--component",
                &component(),
                "--endpoint-url",
                &stub.url,
            ],
            &web_identity_env(&token, ROLE_ARN),
        );
        assert_eq!(result.code, Some(5), "{}", result.stderr);
        assert!(
            result.stderr.contains(
                "STS AssumeRoleWithWebIdentity answered credentials with empty values or \
                 whitespace, control or non-ASCII characters; they are not used"
            ),
            "{}",
            result.stderr
        );
        assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
        let iam_calls = stub
            .received()
            .iter()
            .filter(|r| r.param("Action") != Some("AssumeRoleWithWebIdentity"))
            .count();
        assert_eq!(iam_calls, 0, "nothing was signed with them");
    }
}

#[test]
fn proxy_variables_are_ignored_for_sts_and_iam_calls() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let stub = IamStub::start(move |request: &Received| {
        if request.param("Action") == Some("AssumeRoleWithWebIdentity") {
            (
                200,
                assume_role_response(
                    "ASIASTUBPROXY0000001",
                    "proxy-secret-abcdefgh",
                    "proxy-session-token",
                    Duration::from_secs(3600),
                    "arn:aws:sts::123456789012:assumed-role/connector-reader-role/auth-e2e",
                ),
            )
        } else {
            tiny_account(request)
        }
    });
    let token = token_file("proxy");
    let mut env = web_identity_env(&token, ROLE_ARN);
    for variable in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        env.push((variable, &proxy_url));
    }
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            &stub.url,
        ],
        &env,
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(
        result.events().len(),
        TINY_USERS.len() + 1,
        "and the root user"
    );
    assert!(
        matches!(proxy.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the proxy was contacted"
    );
}

#[test]
fn the_token_sent_to_a_non_aws_sts_endpoint_is_warned_about() {
    // https to a loopback port where nothing listens: not an AWS host, so a warning at the
    // default level before the (failing) call.
    let token = token_file("non-aws");
    let mut env = web_identity_env(&token, ROLE_ARN);
    env.push(("AWS_ENDPOINT_URL_STS", "https://127.0.0.1:9/"));
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        &env,
    );
    assert_eq!(result.code, Some(5), "{}", result.stderr);
    assert!(
        result.stderr.starts_with(
            "warn host: the web identity token will be sent to https://127.0.0.1:9/, which is \
             not an AWS STS endpoint (set by --endpoint-url or AWS_ENDPOINT_URL_STS); whoever \
             runs it can use the token until it expires\n"
        ),
        "{}",
        result.stderr
    );
    assert!(!result.stderr.contains(TOKEN));
    // Loopback plain http (a local test peer) and AWS's own endpoints are not warned about.
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        &web_identity_env(&token, ROLE_ARN),
    );
    assert!(!result.stderr.contains("warn host"), "{}", result.stderr);
}

#[test]
fn an_unreadable_token_file_is_a_credentials_error_naming_the_file() {
    let stub = IamStub::start(tiny_account);
    let missing = temp_dir("missing-token").join("no-such-token");
    let missing = missing.to_str().unwrap();
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            &stub.url,
        ],
        &web_identity_env(missing, ROLE_ARN),
    );
    assert_eq!(result.code, Some(3), "{}", result.stderr);
    assert_eq!(
        result.stderr,
        format!(
            "error: web identity token file {missing}: cannot read it: No such file or directory (os error 2)\n"
        )
    );
    assert!(
        stub.received().is_empty(),
        "nothing is sent without a token"
    );
}

#[test]
fn credentials_expiring_within_the_buffer_are_refreshed_during_the_run() {
    // Every assumed-role credential expires in 4 minutes: inside the 5-minute refresh buffer,
    // so each signed call assumes the role again and signs with the newest session token.
    let issued = Arc::new(AtomicU32::new(0));
    let counter = issued.clone();
    let stub = IamStub::start(move |request: &Received| {
        if request.param("Action") == Some("AssumeRoleWithWebIdentity") {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            (
                200,
                assume_role_response(
                    &format!("ASIASTUB{n:012}"),
                    &format!("refresh-secret-{n:04}-abcdefgh"),
                    &format!("refresh-token-{n:04}"),
                    Duration::from_secs(240),
                    "arn:aws:sts::123456789012:assumed-role/connector-reader-role/auth-e2e",
                ),
            )
        } else {
            tiny_account(request)
        }
    });
    let token = token_file("refresh");
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            &stub.url,
            "--max-concurrency",
            "1",
        ],
        &web_identity_env(&token, ROLE_ARN),
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(
        result.events().len(),
        TINY_USERS.len() + 1,
        "and the root user"
    );
    let received = stub.received();
    let iam: Vec<&Received> = received
        .iter()
        .filter(|r| r.param("Action") != Some("AssumeRoleWithWebIdentity"))
        .collect();
    let sts = received.len() - iam.len();
    // One assumption up front, then one before each signed call.
    assert_eq!(sts, iam.len() + 1, "{} IAM calls", iam.len());
    assert_eq!(issued.load(Ordering::SeqCst) as usize, sts);
    let tokens: Vec<&str> = iam
        .iter()
        .map(|r| r.security_token.as_deref().expect("session token sent"))
        .collect();
    let mut distinct = tokens.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        tokens.len(),
        "each call used fresh credentials"
    );
    for request in &iam {
        let auth = request.authorization.as_deref().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIASTUB"),
            "{auth}"
        );
    }
    assert!(
        !result.stderr.contains("refresh-secret-") && !result.stderr.contains("refresh-token-")
    );
}

// ---------------------------------------------------------------------------------------
// Config file.
// ---------------------------------------------------------------------------------------

fn write_config(test: &str, text: &str) -> String {
    let path = temp_dir(test).join("connector.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.to_str().unwrap().to_owned()
}

#[test]
fn static_keys_from_the_config_file_win_over_the_environment() {
    let stub = IamStub::start(tiny_account);
    let config = write_config(
        "config-keys",
        "region = \"eu-west-1\"\naccess_key_id = \"AKIAFILEKEY000000001\"\n\
         secret_access_key = \"file-secret-0123456789abcdef\"\n",
    );
    let result = run(
        &[
            "collect",
            "--component",
            &component(),
            "--endpoint-url",
            &stub.url,
            "--config",
            &config,
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAENVKEY0000000001"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-0123456789abcdef"),
        ],
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    assert_eq!(
        result.events().len(),
        TINY_USERS.len() + 1,
        "and the root user"
    );
    let received = stub.received();
    assert!(!received.is_empty());
    for request in &received {
        let auth = request.authorization.as_deref().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAFILEKEY000000001/"),
            "{auth}"
        );
        // IAM signs in us-east-1 whatever the region (the file's eu-west-1 is in `aws`); STS
        // (GetCallerIdentity, for the root user's account) in the region.
        let scope = if request.param("Action") == Some("GetCallerIdentity") {
            "/eu-west-1/sts/aws4_request"
        } else {
            "/us-east-1/iam/aws4_request"
        };
        assert!(auth.contains(scope), "{auth}");
    }
    assert!(!result.stderr.contains("file-secret-"));
}

#[test]
fn a_config_file_with_both_kinds_of_credentials_is_refused() {
    let config = write_config(
        "config-both",
        "role_arn = \"arn:aws:iam::123456789012:role/r\"\naccess_key_id = \"AKIAFILEKEY000000001\"\n\
         secret_access_key = \"file-secret-0123456789abcdef\"\n",
    );
    let result = run(
        &["check", "--component", &component(), "--config", &config],
        &[],
    );
    assert_eq!(result.code, Some(2));
    assert_eq!(
        result.stderr,
        format!(
            "error: config file {config}: it holds both access keys (access_key_id, \
             secret_access_key) and a web identity role (role_arn, web_identity_token_file, \
             role_session_name); keep only one\n"
        )
    );
}

// ---------------------------------------------------------------------------------------
// check --dry-run and the partition table.
// ---------------------------------------------------------------------------------------

#[test]
fn dry_run_prints_each_partition_and_sends_nothing() {
    let token = token_file("dry-run");
    let table = [
        (
            "us-east-1",
            "aws",
            "https://iam.amazonaws.com/",
            "us-east-1",
            "https://sts.us-east-1.amazonaws.com/",
        ),
        (
            "eu-west-1",
            "aws",
            "https://iam.amazonaws.com/",
            "us-east-1",
            "https://sts.eu-west-1.amazonaws.com/",
        ),
        (
            "cn-north-1",
            "aws-cn",
            "https://iam.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
            "https://sts.cn-north-1.amazonaws.com.cn/",
        ),
        (
            "cn-northwest-1",
            "aws-cn",
            "https://iam.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
            "https://sts.cn-northwest-1.amazonaws.com.cn/",
        ),
        (
            "us-gov-west-1",
            "aws-us-gov",
            "https://iam.us-gov.amazonaws.com/",
            "us-gov-west-1",
            "https://sts.us-gov-west-1.amazonaws.com/",
        ),
    ];
    for (region, partition, iam, iam_region, sts) in table {
        let role = format!("arn:{partition}:iam::123456789012:role/connector-reader-role");
        let result = run(
            &["check", "--dry-run", "--region", region],
            &[
                ("AWS_ROLE_ARN", &role),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", &token),
                ("AWS_ROLE_SESSION_NAME", SESSION),
            ],
        );
        assert_eq!(result.code, Some(0), "{region}: {}", result.stderr);
        assert_eq!(result.stderr, "");
        assert_eq!(
            result.stdout,
            format!(
                "region: {region} (partition {partition})\n\
                 iam: {iam} (signing region {iam_region})\n\
                 sts: {sts} (signing region {region})\n\
                 auth: web-identity-role from the environment (role {role}, token file {token}, \
                 session {SESSION})\n\
                 dry run: nothing was sent\n"
            )
        );
    }

    // With an override, still nothing is sent.
    let stub = IamStub::start(tiny_account);
    let result = run(
        &["check", "--dry-run", "--json", "--endpoint-url", &stub.url],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAENVKEY0000000001"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-0123456789abcdef"),
            ("AWS_SESSION_TOKEN", "env-session-token-0123456789"),
        ],
    );
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    let report: Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(
        report,
        json!({
            "region": "us-east-1",
            "partition": "aws",
            "endpoints": {
                "iam": { "url": format!("{}/", stub.url), "signing_region": "us-east-1" },
                "sts": { "url": format!("{}/", stub.url), "signing_region": "us-east-1" },
            },
            "auth": {
                "method": "access-keys",
                "role_arn": null,
                "description": "access-keys from the environment (key id ****************0001, with session token)",
            },
            "sent": false,
        })
    );
    assert!(stub.received().is_empty());
    assert!(!result.stdout.contains("env-secret") && !result.stdout.contains("env-session"));

    // A role in another partition than the region is refused before anything is sent.
    let result = run(
        &["check", "--dry-run", "--region", "cn-north-1"],
        &[
            ("AWS_ROLE_ARN", ROLE_ARN),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", &token),
        ],
    );
    assert_eq!(result.code, Some(2));
    assert!(
        result.stderr.ends_with(&format!(
            "error: invalid role ARN \"{ROLE_ARN}\": the role is in partition aws but the region \
             is in partition aws-cn\n"
        )),
        "{}",
        result.stderr
    );
}

#[test]
fn an_unknown_region_is_refused_with_the_supported_list() {
    let result = run(
        &["check", "--dry-run", "--region", "mars-north-1"],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAENVKEY0000000001"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-0123456789abcdef"),
        ],
    );
    assert_eq!(result.code, Some(2));
    assert_eq!(result.stdout, "");
    assert_eq!(
        result.stderr,
        "error: unknown region \"mars-north-1\"; supported regions: aws: af-south-1, ap-east-1, \
         ap-east-2, ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-south-1, ap-south-2, \
         ap-southeast-1, ap-southeast-2, ap-southeast-3, ap-southeast-4, ap-southeast-5, \
         ap-southeast-6, ap-southeast-7, ca-central-1, ca-west-1, eu-central-1, eu-central-2, \
         eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3, il-central-1, \
         me-central-1, me-south-1, mx-central-1, sa-east-1, us-east-1, us-east-2, us-west-1, \
         us-west-2; aws-cn: cn-north-1, cn-northwest-1; aws-us-gov: us-gov-east-1, \
         us-gov-west-1\n"
    );
}

// ---------------------------------------------------------------------------------------
// Canary: a full collection in-process, every output and every import value inspected.
// ---------------------------------------------------------------------------------------

const CANARY_SECRET: &str = "CANARY/secret+key=never-print-0b7e41c9d2";
const CANARY_TOKEN: &str = "CANARY-session-token-never-print-6f02aa91";

#[test]
fn canary_secret_and_token_never_leave_the_signer() {
    let stub = IamStub::start(tiny_account);
    let recorder = Arc::new(ImportRecorder::default());
    let env = HostEnv::from_pairs(&[
        ("AWS_ACCESS_KEY_ID", "AKIACANARY0000000001"),
        ("AWS_SECRET_ACCESS_KEY", CANARY_SECRET),
        ("AWS_SESSION_TOKEN", CANARY_TOKEN),
    ])
    .with_recorder(recorder.clone());
    let log = SharedBuffer::default();
    let logger = Arc::new(Logger::with_sink(
        LogLevel::Debug,
        true,
        Box::new(log.clone()),
    ));
    let component = component();
    let cli = Cli::try_parse_from([
        "host-harness",
        "collect",
        "--component",
        &component,
        "--endpoint-url",
        &stub.url,
        "--region",
        "us-east-1",
        "--debug",
        "--log-level",
        "debug",
    ])
    .unwrap();
    let Command::Collect(args) = &cli.command else {
        panic!()
    };
    let mut stdout = SharedBuffer::default();
    let code = app::collect(args, &env, &mut stdout, logger);
    let (stdout, log) = (stdout.text(), log.text());
    assert_eq!(code, 0, "{log}");

    // Real traffic happened and was recorded: the events, the log, the import values.
    assert_eq!(
        stdout.lines().count(),
        TINY_USERS.len() + 1,
        "and the root user"
    );
    assert!(log.contains("debug http: ListUsers iam "), "{log}");
    assert!(log.contains("summary: users=2 root=1 events=3"), "{log}");
    let calls = recorder.calls();
    let transport: Vec<_> = calls
        .iter()
        .filter(|c| c.import.starts_with("transport."))
        .collect();
    assert!(
        transport
            .iter()
            .any(|c| c.args.contains("\"ListUsers\"")
                && c.result.contains("<UserName>ana</UserName>")),
        "{transport:?}"
    );

    // A check in the same way: the identity import tells the method, never the keys.
    let cli = Cli::try_parse_from([
        "host-harness",
        "check",
        "--component",
        &component,
        "--endpoint-url",
        &stub.url,
        "--region",
        "us-east-1",
        "--json",
    ])
    .unwrap();
    let Command::Check(check_args) = &cli.command else {
        panic!()
    };
    let mut report = SharedBuffer::default();
    let check_log = SharedBuffer::default();
    let check_logger = Arc::new(Logger::with_sink(
        LogLevel::Debug,
        true,
        Box::new(check_log.clone()),
    ));
    app::check(check_args, &env, &mut report, check_logger);
    let (report, check_log) = (report.text(), check_log.text());
    let report_json: Value =
        serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report} {check_log}"));
    assert_eq!(report_json["identity"]["auth_method"], "access-keys");
    assert_eq!(
        report_json["caller_arn"],
        "arn:aws:iam::111122223333:user/connector"
    );
    let calls = recorder.calls();
    assert!(
        calls.iter().any(|c| c.import == "identity.describe"
            && c.result.contains("AccessKeys")
            && c.result.contains("\"aws\"")),
        "{calls:?}"
    );
    // The session token did travel — in the signed header, to AWS, and nowhere else.
    let received = stub.received();
    assert!(!received.is_empty());
    for request in &received {
        assert_eq!(request.security_token.as_deref(), Some(CANARY_TOKEN));
        assert!(!request
            .authorization
            .as_deref()
            .unwrap()
            .contains(CANARY_SECRET));
    }

    let everything = format!("{stdout}\n{log}\n{report}\n{check_log}\n{calls:?}");
    for canary in [CANARY_SECRET, CANARY_TOKEN, "CANARY/", "CANARY-"] {
        assert!(!everything.contains(canary), "{canary} leaked");
    }
}

/// The users of the tiny stub account.
pub const TINY_USERS: [&str; 2] = ["ana", "ben"];

/// A two-user IAM account (and STS GetCallerIdentity), AWS-shaped, nothing paginated.
pub fn tiny_account(request: &Received) -> (u16, String) {
    let empty = |action: &str, list: &str| (200, list_response(action, list, &[], None));
    match request.param("Action").unwrap_or("") {
        "ListUsers" => {
            let members: Vec<String> = TINY_USERS
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    format!(
                        "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDATINY{i:012}</UserId>\
                         <Arn>arn:aws:iam::111122223333:user/{name}</Arn>\
                         <CreateDate>2022-01-0{}T00:00:00Z</CreateDate></member>",
                        i + 1
                    )
                })
                .collect();
            (200, list_response("ListUsers", "Users", &members, None))
        }
        "GetAccountSummary" => (
            200,
            format!(
                "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry>\
                 <key>Users</key><value>{}</value></entry></SummaryMap></GetAccountSummaryResult>\
                 </GetAccountSummaryResponse>",
                TINY_USERS.len()
            ),
        ),
        "GetLoginProfile" => (
            404,
            error_response("NoSuchEntity", "Login profile cannot be found."),
        ),
        "GetCallerIdentity" => (
            200,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/connector</Arn>\
             <UserId>AIDACONNECTOR</UserId><Account>111122223333</Account>\
             </GetCallerIdentityResult></GetCallerIdentityResponse>"
                .to_owned(),
        ),
        "GetUser" => {
            let name = request.param("UserName").unwrap_or_default();
            (
                200,
                format!(
                    "<GetUserResponse><GetUserResult><User><Path>/</Path><UserName>{name}</UserName>\
                     <UserId>AIDATINY</UserId><Arn>arn:aws:iam::111122223333:user/{name}</Arn>\
                     <CreateDate>2022-01-01T00:00:00Z</CreateDate></User></GetUserResult></GetUserResponse>"
                ),
            )
        }
        "ListAccountAliases" => empty("ListAccountAliases", "AccountAliases"),
        "ListGroupsForUser" => empty("ListGroupsForUser", "Groups"),
        "ListMFADevices" => empty("ListMFADevices", "MFADevices"),
        "ListAccessKeys" => empty("ListAccessKeys", "AccessKeyMetadata"),
        "ListUserTags" => empty("ListUserTags", "Tags"),
        "ListUserPolicies" => empty("ListUserPolicies", "PolicyNames"),
        "ListAttachedUserPolicies" => empty("ListAttachedUserPolicies", "AttachedPolicies"),
        "ListSSHPublicKeys" => empty("ListSSHPublicKeys", "SSHPublicKeys"),
        "ListSigningCertificates" => empty("ListSigningCertificates", "Certificates"),
        "ListServiceSpecificCredentials" => empty(
            "ListServiceSpecificCredentials",
            "ServiceSpecificCredentials",
        ),
        action => (400, error_response("InvalidAction", action)),
    }
}

/// A private temporary directory for one test of this module.
fn temp_dir(name: &str) -> std::path::PathBuf {
    test_support::scratch_dir(&format!("auth-{name}"))
}
