//! moto (an independent IAM implementation) on loopback, seeded with the project's sample
//! account, through `tests/peer/iam_peer.py serve --auth MODE`. The peer stops when its stdin
//! closes, so a test that fails or panics never leaves a server behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long the peer may take to start and seed (measured: a few seconds).
const START_LIMIT: Duration = Duration::from_secs(90);

/// How the peer checks requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Signatures are not checked (`--auth off`).
    Off,
    /// Auth mode: every request's SigV4 signature and the principal's policies are checked
    /// (`--auth on`).
    On,
    /// Auth mode, the unsigned STS AssumeRoleWithWebIdentity alone exempt, with a role seeded
    /// for it (`--auth web-identity`).
    WebIdentity,
}

impl Auth {
    /// The `--auth` value.
    fn flag(self) -> &'static str {
        match self {
            Auth::Off => "off",
            Auth::On => "on",
            Auth::WebIdentity => "web-identity",
        }
    }
}

/// Access keys of a principal seeded by the peer.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
}

/// A running peer.
pub struct MotoPeer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// What the peer printed: endpoint, account_id, principals, users.
    pub info: Value,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl MotoPeer {
    /// Starts a seeded moto checking requests as `auth` says.
    pub fn start(auth: Auth) -> Self {
        Self::start_with(auth, &[])
    }

    /// Starts a seeded moto in auth mode that is also the management account of an AWS
    /// Organization (`serve --organization`): member accounts with their own users, the member
    /// role in all but one, one closed account; see [`MotoPeer::organization`].
    pub fn start_organization() -> Self {
        Self::start_with(Auth::On, &["--organization"])
    }

    fn start_with(auth: Auth, extra: &[&str]) -> Self {
        let python = crate::peer_python();
        assert!(
            python.exists(),
            "{} is missing: `make test` creates the venv with moto (tests/peer/requirements.txt)",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(crate::repo_root().join("tests/peer/iam_peer.py"))
            .args(["serve", "--port", "0", "--auth", auth.flag()])
            .args(extra)
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
        let line = match receiver.recv_timeout(START_LIMIT) {
            Ok(line) if !line.trim().is_empty() => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the moto peer did not start within {START_LIMIT:?}: {other:?}");
            }
        };
        let info: Value = serde_json::from_str(&line).expect("peer prints one JSON line");
        let endpoint = info["endpoint"].as_str().expect("endpoint").to_owned();
        Self {
            endpoint,
            info,
            child,
            stdin,
        }
    }

    /// Keys of `admin` (allowed everything) or `restricted`.
    pub fn keys(&self, principal: &str) -> Keys {
        let p = &self.info["principals"][principal];
        Keys {
            access_key_id: p["access_key_id"]
                .as_str()
                .expect("access_key_id")
                .to_owned(),
            secret_access_key: p["secret_access_key"]
                .as_str()
                .expect("secret_access_key")
                .to_owned(),
        }
    }

    /// Number of IAM users in the seeded account.
    pub fn users(&self) -> usize {
        self.info["users"].as_u64().expect("users") as usize
    }

    /// The organization of a peer started with [`MotoPeer::start_organization`]:
    /// `{"management_account", "member_role", "external_id", "accounts": [{"id", "name",
    /// "state", "member_role", "alias", "users": [<user ARNs>]}]}`.
    pub fn organization(&self) -> &Value {
        let organization = &self.info["organization"];
        assert!(
            organization.is_object(),
            "a peer started with start_organization describes its organization"
        );
        organization
    }

    /// The role seeded for web identity ([`Auth::WebIdentity`]).
    pub fn role_arn(&self) -> &str {
        self.info["web_identity"]["role_arn"]
            .as_str()
            .expect("a peer started with Auth::WebIdentity names its role")
    }
}

impl Drop for MotoPeer {
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
