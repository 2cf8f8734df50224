//! Support for `tests/auth.rs`: the moto peer in web identity mode, a tiny IAM + STS stub
//! account, and an in-memory writer.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::support::iam_stub::{error_response, list_response, Received};

/// moto on loopback with `iam_peer.py serve --auth web-identity`: auth mode in which only the
/// unsigned STS AssumeRoleWithWebIdentity is exempt. Stops when dropped (stdin closes).
pub struct WebIdentityPeer {
    pub endpoint: String,
    pub info: Value,
    child: Child,
    stdin: Option<ChildStdin>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

impl WebIdentityPeer {
    pub fn start() -> Self {
        let python = std::env::var_os("AWS_IAM_USERS_PEER_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
        assert!(
            python.exists(),
            "{} is missing: `make test` creates the venv with moto",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(repo_root().join("tests/peer/iam_peer.py"))
            .args(["serve", "--port", "0", "--auth", "web-identity"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the moto peer");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = match receiver.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if !line.trim().is_empty() => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the moto peer did not start within 90 s: {other:?}");
            }
        };
        let info: Value = serde_json::from_str(&line).expect("peer prints one JSON line");
        Self {
            endpoint: info["endpoint"].as_str().unwrap().to_owned(),
            info,
            child,
            stdin,
        }
    }

    /// The role seeded for web identity.
    pub fn role_arn(&self) -> &str {
        self.info["web_identity"]["role_arn"].as_str().unwrap()
    }

    pub fn users(&self) -> usize {
        self.info["users"].as_u64().unwrap() as usize
    }
}

impl Drop for WebIdentityPeer {
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

/// A cloneable in-memory writer (stdout and log sink of in-process runs).
#[derive(Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

/// An STS AssumeRoleWithWebIdentity answer whose credentials expire `lifetime` from now.
pub fn assume_role_response(
    key_id: &str,
    secret: &str,
    token: &str,
    lifetime: Duration,
    assumed_arn: &str,
) -> String {
    let expiration = httpdate(SystemTime::now() + lifetime);
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{key_id}</AccessKeyId>\
         <SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>\
         <Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>{assumed_arn}</Arn>\
         <AssumedRoleId>AROASTUB:session</AssumedRoleId></AssumedRoleUser>\
         <SubjectFromWebIdentityToken>system:serviceaccount:connector</SubjectFromWebIdentityToken>\
         </AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>sts-1</RequestId>\
         </ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    )
}

/// An STS error document.
pub fn sts_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>sts-err</RequestId></ErrorResponse>"
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `time` (UTC), without a date crate.
fn httpdate(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A private temporary directory for one test, under `$TMPDIR/aws-iam-users-auth-tests/<pid>/`.
/// The first call of a test process removes what earlier runs left there (token files and
/// configuration files are small, but nothing should pile up).
pub fn temp_dir(name: &str) -> PathBuf {
    static CLEANED: std::sync::Once = std::sync::Once::new();
    let root = std::env::temp_dir().join("aws-iam-users-auth-tests");
    CLEANED.call_once(|| {
        let _ = std::fs::remove_dir_all(&root);
    });
    let dir = root.join(std::process::id().to_string()).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
