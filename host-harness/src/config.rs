//! The connector configuration file (`--config FILE`, TOML) with the product's connector
//! fields:
//!
//! ```toml
//! region = "eu-west-1"
//! # either a role assumed with an OIDC token (STS AssumeRoleWithWebIdentity) …
//! role_arn = "arn:aws:iam::123456789012:role/connector-reader-role"
//! web_identity_token_file = "/var/run/secrets/oidc/token"   # else $AWS_WEB_IDENTITY_TOKEN_FILE
//! role_session_name = "aws-iam-users"                        # optional
//! # … or static access keys of an IAM user (never both):
//! # access_key_id = "AKIA…"
//! # secret_access_key = "…"
//! # the Sekoia API key of `--sekoia-url` (else $SEKOIA_API_KEY):
//! # sekoia_api_key = "…"
//! ```
//!
//! Every key is optional; unknown keys are refused. A file holding both kinds of credentials
//! is refused. A file holding a secret access key or a Sekoia API key that group or others may
//! read is accepted with a warning. No error message ever quotes the file's content: TOML syntax errors are
//! reported by line and column only.

use std::path::{Path, PathBuf};

use aws_credential_types::Credentials;
use serde::Deserialize;

use crate::error::ConfigError;

/// Provider name recorded in credentials read from a config file.
const PROVIDER_NAME: &str = "config-file";

/// The file as written (every key optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: Option<String>,
    role_arn: Option<String>,
    web_identity_token_file: Option<PathBuf>,
    role_session_name: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    sekoia_api_key: Option<String>,
}

/// A loaded and validated config file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// `region`, when set.
    pub region: Option<String>,
    /// The credentials it names, when it names any.
    pub auth: Option<FileAuth>,
    /// `sekoia_api_key`, when set (registered for scrubbing; `Debug` shows no secret).
    pub sekoia_api_key: Option<crate::redact::Secret>,
    /// Warnings to print (e.g. a secret in a file others may read). Never hold a secret.
    pub warnings: Vec<String>,
}

/// Credentials named by the config file. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub enum FileAuth {
    /// `access_key_id` + `secret_access_key`.
    AccessKeys(Credentials),
    /// `role_arn` (+ `web_identity_token_file`, `role_session_name`).
    WebIdentity {
        /// The role to assume.
        role_arn: String,
        /// The OIDC token file; when absent, `AWS_WEB_IDENTITY_TOKEN_FILE` must name one.
        token_file: Option<PathBuf>,
        /// The role session name; when absent, `AWS_ROLE_SESSION_NAME` or a generated one.
        session_name: Option<String>,
    },
}

/// Reads and validates the config file at `path`.
///
/// Errors ([`ConfigError::ConfigFile`], exit 2): unreadable file, TOML syntax error (line and
/// column, never the content), unknown key, a key of the wrong type, an empty value, half a
/// key pair, a token file or session name without `role_arn`, or both kinds of credentials.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let error = |reason: String| ConfigError::ConfigFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    let raw: RawConfig =
        toml::from_str(&text).map_err(|e| error(describe_toml_error(&text, &e)))?;
    for secret in [&raw.secret_access_key, &raw.sekoia_api_key]
        .into_iter()
        .flatten()
    {
        crate::redact::register(secret);
    }
    let mut warnings = Vec::new();
    let held = match (&raw.secret_access_key, &raw.sekoia_api_key) {
        (Some(_), Some(_)) => Some("a secret access key and a Sekoia API key"),
        (Some(_), None) => Some("a secret access key"),
        (None, Some(_)) => Some("a Sekoia API key"),
        (None, None) => None,
    };
    if let Some(held) = held {
        if let Some(mode) = readable_by_others(path) {
            warnings.push(format!(
                "config file {} holds {held} and is readable by group or others \
                 (mode {mode:04o}); restrict it with chmod 600",
                path.display()
            ));
        }
    }
    validate(raw, path, warnings)
}

fn validate(raw: RawConfig, path: &Path, warnings: Vec<String>) -> Result<ConfigFile, ConfigError> {
    let error = |reason: &str| ConfigError::ConfigFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    for (name, value) in [
        ("region", raw.region.as_deref()),
        ("role_arn", raw.role_arn.as_deref()),
        ("role_session_name", raw.role_session_name.as_deref()),
        ("access_key_id", raw.access_key_id.as_deref()),
        ("secret_access_key", raw.secret_access_key.as_deref()),
        ("sekoia_api_key", raw.sekoia_api_key.as_deref()),
        (
            "web_identity_token_file",
            raw.web_identity_token_file
                .as_deref()
                .map(|p| p.to_str().unwrap_or("?")),
        ),
    ] {
        if value.is_some_and(|v| v.trim().is_empty()) {
            return Err(error(&format!("{name} is empty")));
        }
    }
    let has_keys = raw.access_key_id.is_some() || raw.secret_access_key.is_some();
    let has_role = raw.role_arn.is_some()
        || raw.web_identity_token_file.is_some()
        || raw.role_session_name.is_some();
    let auth =
        match (has_keys, has_role) {
            (true, true) => return Err(error(
                "it holds both access keys (access_key_id, secret_access_key) and a web identity \
                 role (role_arn, web_identity_token_file, role_session_name); keep only one",
            )),
            (true, false) => match (raw.access_key_id, raw.secret_access_key) {
                (Some(id), Some(secret)) => {
                    if !id.bytes().all(|b| b.is_ascii_graphic()) {
                        return Err(error(
                            "access_key_id contains whitespace, control or non-ASCII characters",
                        ));
                    }
                    Some(FileAuth::AccessKeys(Credentials::new(
                        id,
                        secret,
                        None,
                        None,
                        PROVIDER_NAME,
                    )))
                }
                (Some(_), None) => {
                    return Err(error(
                        "access_key_id is set but secret_access_key is missing",
                    ))
                }
                _ => {
                    return Err(error(
                        "secret_access_key is set but access_key_id is missing",
                    ))
                }
            },
            (false, true) => match raw.role_arn {
                Some(role_arn) => Some(FileAuth::WebIdentity {
                    role_arn,
                    token_file: raw.web_identity_token_file,
                    session_name: raw.role_session_name,
                }),
                None => {
                    return Err(error(
                        "web_identity_token_file and role_session_name need role_arn",
                    ))
                }
            },
            (false, false) => None,
        };
    Ok(ConfigFile {
        path: path.to_owned(),
        region: raw.region,
        auth,
        sekoia_api_key: raw.sekoia_api_key.map(crate::redact::Secret::new),
        warnings,
    })
}

/// `line L, column C: message` — the message of a TOML error without the quoted source line
/// (which could be a secret).
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end_matches('\n');
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

/// The file's permission bits when group or others may read it (Unix only).
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::CANARY_SECRET;

    fn write(name: &str, text: &str, mode: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("host-harness-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        path
    }

    fn reason(result: Result<ConfigFile, ConfigError>) -> String {
        match result {
            Err(ConfigError::ConfigFile { reason, .. }) => reason,
            other => panic!("expected a config file error, got {other:?}"),
        }
    }

    #[test]
    fn static_keys_and_region() {
        let path = write(
            "keys.toml",
            &format!(
                "region = \"eu-west-1\"\naccess_key_id = \"AKIDFILE\"\nsecret_access_key = \"{CANARY_SECRET}\"\n"
            ),
            0o600,
        );
        let config = load(&path).unwrap();
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        match &config.auth {
            Some(FileAuth::AccessKeys(creds)) => {
                assert_eq!(creds.access_key_id(), "AKIDFILE");
                assert_eq!(creds.secret_access_key(), CANARY_SECRET);
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{config:?}").contains(CANARY_SECRET));
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_readable_by_others_is_a_warning() {
        let path = write(
            "open.toml",
            "access_key_id = \"AKIDFILE\"\nsecret_access_key = \"secret-in-open-file\"\n",
            0o644,
        );
        let config = load(&path).unwrap();
        assert_eq!(
            config.warnings,
            [format!(
                "config file {} holds a secret access key and is readable by group or others \
                 (mode 0644); restrict it with chmod 600",
                path.display()
            )]
        );
        // A role needs no secret in the file: no warning.
        let role = write(
            "role-open.toml",
            "role_arn = \"arn:aws:iam::123456789012:role/r\"\n",
            0o644,
        );
        assert!(load(&role).unwrap().warnings.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_sekoia_api_key_is_held_as_a_secret_and_an_open_file_warned() {
        let key = "sekoia-key-in-a-config-file-5c1d";
        let path = write(
            "sekoia.toml",
            &format!("region = \"eu-west-1\"\nsekoia_api_key = \"{key}\"\n"),
            0o640,
        );
        let config = load(&path).unwrap();
        assert_eq!(config.sekoia_api_key.as_ref().unwrap().expose(), key);
        assert!(config.auth.is_none());
        assert!(!format!("{config:?}").contains(key));
        assert_eq!(
            config.warnings,
            [format!(
                "config file {} holds a Sekoia API key and is readable by group or others \
                 (mode 0640); restrict it with chmod 600",
                path.display()
            )]
        );
        let empty = write("sekoia-empty.toml", "sekoia_api_key = \"\"\n", 0o600);
        assert_eq!(reason(load(&empty)), "sekoia_api_key is empty");
    }

    #[test]
    fn web_identity_role() {
        let path = write(
            "role.toml",
            "role_arn = \"arn:aws-cn:iam::123456789012:role/reader\"\n\
             web_identity_token_file = \"/var/run/token\"\n",
            0o644,
        );
        match load(&path).unwrap().auth {
            Some(FileAuth::WebIdentity {
                role_arn,
                token_file,
                session_name,
            }) => {
                assert_eq!(role_arn, "arn:aws-cn:iam::123456789012:role/reader");
                assert_eq!(token_file, Some(PathBuf::from("/var/run/token")));
                assert_eq!(session_name, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_kinds_are_refused_with_an_exact_message() {
        let path = write(
            "both.toml",
            &format!(
                "role_arn = \"arn:aws:iam::123456789012:role/r\"\naccess_key_id = \"AKID\"\nsecret_access_key = \"{CANARY_SECRET}\"\n"
            ),
            0o600,
        );
        let error = load(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "config file {}: it holds both access keys (access_key_id, secret_access_key) and \
                 a web identity role (role_arn, web_identity_token_file, role_session_name); keep \
                 only one",
                path.display()
            )
        );
        assert!(!error.to_string().contains(CANARY_SECRET));
    }

    #[test]
    fn incomplete_empty_unknown_and_malformed_files() {
        let cases = [
            (
                "access_key_id = \"AKID\"\n",
                "access_key_id is set but secret_access_key is missing",
            ),
            (
                "secret_access_key = \"abcdefghijkl\"\n",
                "secret_access_key is set but access_key_id is missing",
            ),
            (
                "web_identity_token_file = \"/t\"\n",
                "web_identity_token_file and role_session_name need role_arn",
            ),
            ("region = \" \"\n", "region is empty"),
            (
                "access_key_id = \"AK ID\"\nsecret_access_key = \"abcdefghijkl\"\n",
                "access_key_id contains whitespace, control or non-ASCII characters",
            ),
        ];
        for (index, (text, expected)) in cases.into_iter().enumerate() {
            let path = write(&format!("case-{index}.toml"), text, 0o600);
            assert_eq!(reason(load(&path)), expected, "{text}");
        }
        let unknown = write("unknown.toml", "regoin = \"us-east-1\"\n", 0o600);
        let message = reason(load(&unknown));
        assert!(
            message.starts_with("line 1, column 1: unknown field `regoin`"),
            "{message}"
        );
        // A syntax error is located, never quoted: the line holds a secret.
        let broken = write(
            "broken.toml",
            &format!("region = \"us-east-1\"\nsecret_access_key = \"{CANARY_SECRET}\n"),
            0o600,
        );
        let message = reason(load(&broken));
        assert!(message.starts_with("line 2, column "), "{message}");
        assert!(!message.contains(CANARY_SECRET), "{message}");
        let missing = reason(load(Path::new("/nonexistent/host-harness.toml")));
        assert!(missing.starts_with("cannot read it: "), "{missing}");
    }
}
