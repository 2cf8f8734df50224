//! The resolution plan: which credentials to use, decided from the config file and the
//! environment without any network call (the order is in [`crate::credentials`]).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use aws_credential_types::Credentials;

use super::web_identity::WebIdentitySettings;
use crate::config::{ConfigFile, FileAuth};
use crate::endpoint::Partition;
use crate::error::{ConfigError, CredentialsError};

/// Environment variable holding the access key id.
pub const ACCESS_KEY_ID_VAR: &str = "AWS_ACCESS_KEY_ID";
/// Environment variable holding the secret access key.
pub const SECRET_ACCESS_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";
/// Environment variable holding the session token of temporary credentials (optional).
pub const SESSION_TOKEN_VAR: &str = "AWS_SESSION_TOKEN";
/// Environment variable naming the role to assume with web identity.
pub const ROLE_ARN_VAR: &str = "AWS_ROLE_ARN";
/// Environment variable naming the OIDC token file.
pub const TOKEN_FILE_VAR: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
/// Environment variable naming the role session (optional).
pub const SESSION_NAME_VAR: &str = "AWS_ROLE_SESSION_NAME";

/// Provider name recorded in credentials read from the environment.
const ENV_PROVIDER_NAME: &str = "environment";

/// How the host obtains its credentials (WIT `auth-method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Static access key id and secret (optionally with a session token).
    AccessKeys,
    /// A role assumed with an OIDC token (STS AssumeRoleWithWebIdentity).
    WebIdentityRole,
}

impl AuthMethod {
    /// `access-keys` or `web-identity-role`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::AccessKeys => "access-keys",
            AuthMethod::WebIdentityRole => "web-identity-role",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the chosen credentials were configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE`.
    ConfigFile,
    /// The process environment.
    Environment,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::ConfigFile => "config file",
            Origin::Environment => "environment",
        })
    }
}

/// The credentials that would be used, decided without any network call. `Debug` shows no
/// secret.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Static keys.
    AccessKeys {
        /// The keys (secret redacted by their `Debug`).
        credentials: Credentials,
        /// Where they were configured.
        origin: Origin,
    },
    /// A web identity role.
    WebIdentity {
        /// Role, token file, session name.
        settings: WebIdentitySettings,
        /// Where they were configured.
        origin: Origin,
    },
}

impl Plan {
    /// The auth method.
    pub fn method(&self) -> AuthMethod {
        match self {
            Plan::AccessKeys { .. } => AuthMethod::AccessKeys,
            Plan::WebIdentity { .. } => AuthMethod::WebIdentityRole,
        }
    }

    /// The role ARN, for web identity.
    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Plan::AccessKeys { .. } => None,
            Plan::WebIdentity { settings, .. } => Some(&settings.role_arn),
        }
    }

    /// One line for `check --dry-run`, without a secret: e.g.
    /// `access-keys from the environment (key id ****************WXYZ, with session token)` or
    /// `web-identity-role from the config file (role arn:…, token file /t, session s)`.
    pub fn describe(&self) -> String {
        match self {
            Plan::AccessKeys {
                credentials,
                origin,
            } => format!(
                "{} from the {origin} (key id {}{})",
                self.method(),
                masked_key_id(credentials.access_key_id()),
                if credentials.session_token().is_some() {
                    ", with session token"
                } else {
                    ""
                }
            ),
            Plan::WebIdentity { settings, origin } => format!(
                "{} from the {origin} (role {}, token file {}, session {})",
                self.method(),
                settings.role_arn,
                settings.token_file.display(),
                settings.session_name
            ),
        }
    }

    /// Checks what can be checked offline: a role ARN's shape and that it belongs to the
    /// region's partition (an `arn:aws-cn:…` role cannot be assumed through `sts.us-east-1`).
    ///
    /// Errors: [`ConfigError::InvalidRoleArn`].
    pub fn validate(&self, partition: &Partition) -> Result<(), ConfigError> {
        match self.role_arn() {
            Some(arn) => validate_role_arn(arn, partition),
            None => Ok(()),
        }
    }
}

/// Shows only the last four characters of an access key id, like `aws configure list`.
fn masked_key_id(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{}{tail}", "*".repeat(id.chars().count().saturating_sub(4)))
}

/// Checks `arn:<partition>:iam::<12-digit account>:role/<path/name>` and the partition.
pub fn validate_role_arn(arn: &str, partition: &Partition) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidRoleArn {
        arn: arn.to_owned(),
        reason,
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty());
    if !well_formed {
        return Err(invalid(
            "expected arn:<partition>:iam::<12-digit account id>:role/<name>".into(),
        ));
    }
    if parts[1] != partition.id {
        return Err(invalid(format!(
            "the role is in partition {} but the region is in partition {}",
            parts[1], partition.id
        )));
    }
    Ok(())
}

/// Decides which credentials to use, in the order of the module documentation, reading
/// variables through `lookup` (tests pass a map; the binary the process environment).
///
/// Errors: [`CredentialsError::NotFound`] when nothing is configured; `Missing`, `Empty`,
/// `NotUnicode`, `InvalidCharacters` for half-configured or unusable variables;
/// `NoTokenFile` when the config file names a role but no token file is known.
pub fn plan(
    file: Option<&ConfigFile>,
    lookup: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Plan, CredentialsError> {
    match file.and_then(|file| file.auth.as_ref()) {
        Some(FileAuth::AccessKeys(credentials)) => {
            return Ok(Plan::AccessKeys {
                credentials: credentials.clone(),
                origin: Origin::ConfigFile,
            })
        }
        Some(FileAuth::WebIdentity {
            role_arn,
            token_file,
            session_name,
        }) => {
            let token_file = match token_file {
                Some(path) => path.clone(),
                None => optional(lookup, TOKEN_FILE_VAR)?
                    .map(PathBuf::from)
                    .ok_or(CredentialsError::NoTokenFile)?,
            };
            let session_name = match session_name {
                Some(name) => name.clone(),
                None => session_name_from(lookup)?,
            };
            return Ok(Plan::WebIdentity {
                settings: WebIdentitySettings {
                    role_arn: role_arn.clone(),
                    token_file,
                    session_name,
                },
                origin: Origin::ConfigFile,
            });
        }
        None => {}
    }
    if lookup(ACCESS_KEY_ID_VAR).is_some() || lookup(SECRET_ACCESS_KEY_VAR).is_some() {
        return Ok(Plan::AccessKeys {
            credentials: from_lookup(lookup)?,
            origin: Origin::Environment,
        });
    }
    let role_arn = optional(lookup, ROLE_ARN_VAR)?;
    let token_file = optional(lookup, TOKEN_FILE_VAR)?;
    match (role_arn, token_file) {
        (Some(role_arn), Some(token_file)) => Ok(Plan::WebIdentity {
            settings: WebIdentitySettings {
                role_arn,
                token_file: PathBuf::from(token_file),
                session_name: session_name_from(lookup)?,
            },
            origin: Origin::Environment,
        }),
        (Some(_), None) => Err(CredentialsError::Missing {
            variable: TOKEN_FILE_VAR,
            companion: ROLE_ARN_VAR,
        }),
        (None, Some(_)) => Err(CredentialsError::Missing {
            variable: ROLE_ARN_VAR,
            companion: TOKEN_FILE_VAR,
        }),
        (None, None) => Err(CredentialsError::NotFound),
    }
}

/// `AWS_ROLE_SESSION_NAME`, else `aws-iam-users-<ms since the epoch>` (the SDKs' scheme).
fn session_name_from(
    lookup: &dyn Fn(&str) -> Option<OsString>,
) -> Result<String, CredentialsError> {
    Ok(optional(lookup, SESSION_NAME_VAR)?.unwrap_or_else(|| {
        let ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        format!("aws-iam-users-{ms}")
    }))
}

/// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional `AWS_SESSION_TOKEN`
/// through `lookup` (a variable name → value function).
///
/// Errors: [`CredentialsError::Missing`] when the key id or secret is unset,
/// [`CredentialsError::Empty`] when one is blank, [`CredentialsError::NotUnicode`],
/// [`CredentialsError::InvalidCharacters`] when the key id or token is not visible ASCII.
/// An empty `AWS_SESSION_TOKEN` counts as unset.
pub fn from_lookup(
    lookup: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Credentials, CredentialsError> {
    let access_key_id = required(lookup, ACCESS_KEY_ID_VAR, SECRET_ACCESS_KEY_VAR)?;
    let secret_access_key = required(lookup, SECRET_ACCESS_KEY_VAR, ACCESS_KEY_ID_VAR)?;
    let session_token = optional(lookup, SESSION_TOKEN_VAR)?;
    crate::redact::register(&secret_access_key);
    // Both travel in HTTP headers: anything but visible ASCII (a stray newline or space from a
    // copy-paste) would make the request unsendable.
    header_safe(&access_key_id, ACCESS_KEY_ID_VAR)?;
    if let Some(token) = &session_token {
        crate::redact::register(token);
        header_safe(token, SESSION_TOKEN_VAR)?;
    }
    Ok(Credentials::new(
        access_key_id,
        secret_access_key,
        session_token,
        None,
        ENV_PROVIDER_NAME,
    ))
}

fn required(
    lookup: &dyn Fn(&str) -> Option<OsString>,
    variable: &'static str,
    companion: &'static str,
) -> Result<String, CredentialsError> {
    let value = lookup(variable)
        .ok_or(CredentialsError::Missing {
            variable,
            companion,
        })?
        .into_string()
        .map_err(|_| CredentialsError::NotUnicode { variable })?;
    if value.trim().is_empty() {
        Err(CredentialsError::Empty { variable })
    } else {
        Ok(value)
    }
}

fn header_safe(value: &str, variable: &'static str) -> Result<(), CredentialsError> {
    if value.bytes().all(|byte| byte.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(CredentialsError::InvalidCharacters { variable })
    }
}

/// A variable's value; unset and empty are both `None`.
fn optional(
    lookup: &dyn Fn(&str) -> Option<OsString>,
    variable: &'static str,
) -> Result<Option<String>, CredentialsError> {
    match lookup(variable) {
        None => Ok(None),
        Some(value) => {
            let value = value
                .into_string()
                .map_err(|_| CredentialsError::NotUnicode { variable })?;
            Ok(if value.trim().is_empty() {
                None
            } else {
                Some(value)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::PARTITIONS;
    use crate::test_support::{CANARY_SECRET, CANARY_TOKEN};

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(*value))
        }
    }

    fn file(auth: Option<FileAuth>) -> ConfigFile {
        ConfigFile {
            path: "c.toml".into(),
            region: None,
            auth,
            sekoia_api_key: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn reads_keys_and_token() {
        let creds = from_lookup(&env(&[
            (ACCESS_KEY_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_ACCESS_KEY_VAR, CANARY_SECRET),
            (SESSION_TOKEN_VAR, CANARY_TOKEN),
        ]))
        .unwrap();
        assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(creds.secret_access_key(), CANARY_SECRET);
        assert_eq!(creds.session_token(), Some(CANARY_TOKEN));
    }

    #[test]
    fn missing_and_empty_are_errors_and_empty_token_is_none() {
        assert_eq!(
            from_lookup(&env(&[(SECRET_ACCESS_KEY_VAR, "x")])).unwrap_err(),
            CredentialsError::Missing {
                variable: ACCESS_KEY_ID_VAR,
                companion: SECRET_ACCESS_KEY_VAR
            }
        );
        assert_eq!(
            from_lookup(&env(&[(ACCESS_KEY_ID_VAR, "AKID")])).unwrap_err(),
            CredentialsError::Missing {
                variable: SECRET_ACCESS_KEY_VAR,
                companion: ACCESS_KEY_ID_VAR
            }
        );
        assert_eq!(
            from_lookup(&env(&[
                (ACCESS_KEY_ID_VAR, "AKID"),
                (SECRET_ACCESS_KEY_VAR, " ")
            ]))
            .unwrap_err(),
            CredentialsError::Empty {
                variable: SECRET_ACCESS_KEY_VAR
            }
        );
        assert_eq!(
            from_lookup(&env(&[
                (ACCESS_KEY_ID_VAR, ""),
                (SECRET_ACCESS_KEY_VAR, "s")
            ]))
            .unwrap_err(),
            CredentialsError::Empty {
                variable: ACCESS_KEY_ID_VAR
            }
        );
        assert_eq!(
            from_lookup(&env(&[
                (ACCESS_KEY_ID_VAR, "AKID"),
                (SECRET_ACCESS_KEY_VAR, "s"),
                (SESSION_TOKEN_VAR, "token\r\n")
            ]))
            .unwrap_err(),
            CredentialsError::InvalidCharacters {
                variable: SESSION_TOKEN_VAR
            }
        );
        assert_eq!(
            from_lookup(&env(&[
                (ACCESS_KEY_ID_VAR, "AKID "),
                (SECRET_ACCESS_KEY_VAR, "s")
            ]))
            .unwrap_err(),
            CredentialsError::InvalidCharacters {
                variable: ACCESS_KEY_ID_VAR
            }
        );
        let creds = from_lookup(&env(&[
            (ACCESS_KEY_ID_VAR, "AKID"),
            (SECRET_ACCESS_KEY_VAR, "s"),
            (SESSION_TOKEN_VAR, ""),
        ]))
        .unwrap();
        assert_eq!(creds.session_token(), None);
    }

    #[test]
    fn resolution_order_file_then_keys_then_web_identity() {
        let everything = env(&[
            (ACCESS_KEY_ID_VAR, "AKIDENV"),
            (SECRET_ACCESS_KEY_VAR, "env-secret-value"),
            (ROLE_ARN_VAR, "arn:aws:iam::123456789012:role/env-role"),
            (TOKEN_FILE_VAR, "/env/token"),
            (SESSION_NAME_VAR, "env-session"),
        ]);
        // 1. The config file wins over everything in the environment.
        let from_file = plan(
            Some(&file(Some(FileAuth::AccessKeys(Credentials::new(
                "AKIDFILE",
                "file-secret",
                None,
                None,
                "t",
            ))))),
            &everything,
        )
        .unwrap();
        assert_eq!(
            from_file.describe(),
            "access-keys from the config file (key id ****FILE)"
        );
        let role_file = plan(
            Some(&file(Some(FileAuth::WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/file-role".into(),
                token_file: None,
                session_name: None,
            }))),
            &everything,
        )
        .unwrap();
        assert_eq!(
            role_file.describe(),
            "web-identity-role from the config file (role \
             arn:aws:iam::123456789012:role/file-role, token file /env/token, session env-session)"
        );
        // 2. Environment keys win over web identity variables.
        let keys = plan(Some(&file(None)), &everything).unwrap();
        assert_eq!(keys.method(), AuthMethod::AccessKeys);
        assert_eq!(
            keys.describe(),
            "access-keys from the environment (key id ***DENV)"
        );
        // 3. Web identity.
        let role = plan(
            None,
            &env(&[
                (ROLE_ARN_VAR, "arn:aws:iam::123456789012:role/env-role"),
                (TOKEN_FILE_VAR, "/env/token"),
            ]),
        )
        .unwrap();
        assert_eq!(role.method(), AuthMethod::WebIdentityRole);
        assert_eq!(
            role.role_arn(),
            Some("arn:aws:iam::123456789012:role/env-role")
        );
        let Plan::WebIdentity { settings, origin } = role else {
            panic!()
        };
        assert_eq!(origin, Origin::Environment);
        assert!(
            settings.session_name.starts_with("aws-iam-users-"),
            "{settings:?}"
        );
    }

    #[test]
    fn nothing_or_half_configured() {
        assert_eq!(
            plan(None, &env(&[])).unwrap_err(),
            CredentialsError::NotFound
        );
        assert_eq!(
            CredentialsError::NotFound.to_string(),
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
             AWS_SESSION_TOKEN for temporary credentials), or AWS_ROLE_ARN and \
             AWS_WEB_IDENTITY_TOKEN_FILE for a web identity role, or pass --config FILE"
        );
        assert_eq!(
            plan(
                None,
                &env(&[(ROLE_ARN_VAR, "arn:aws:iam::123456789012:role/r")])
            )
            .unwrap_err()
            .to_string(),
            "AWS credentials: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"
        );
        assert_eq!(
            plan(None, &env(&[(TOKEN_FILE_VAR, "/t")])).unwrap_err(),
            CredentialsError::Missing {
                variable: ROLE_ARN_VAR,
                companion: TOKEN_FILE_VAR
            }
        );
        let role_without_token = file(Some(FileAuth::WebIdentity {
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            token_file: None,
            session_name: None,
        }));
        assert_eq!(
            plan(Some(&role_without_token), &env(&[])).unwrap_err(),
            CredentialsError::NoTokenFile
        );
    }

    #[test]
    fn role_arns_are_checked_against_the_region_partition() {
        let [aws, aws_cn, aws_us_gov] = [&PARTITIONS[0], &PARTITIONS[1], &PARTITIONS[2]];
        assert!(validate_role_arn("arn:aws:iam::123456789012:role/r", aws).is_ok());
        assert!(validate_role_arn("arn:aws-cn:iam::123456789012:role/a/b", aws_cn).is_ok());
        assert!(validate_role_arn("arn:aws-us-gov:iam::123456789012:role/r", aws_us_gov).is_ok());
        assert_eq!(
            validate_role_arn("arn:aws-cn:iam::123456789012:role/r", aws)
                .unwrap_err()
                .to_string(),
            "invalid role ARN \"arn:aws-cn:iam::123456789012:role/r\": the role is in partition \
             aws-cn but the region is in partition aws"
        );
        for bad in [
            "arn:aws:iam::123456789012:user/u",
            "arn:aws:iam::12345:role/r",
            "arn:aws:sts::123456789012:role/r",
            "arn:aws:iam::123456789012:role/",
            "role/r",
        ] {
            assert!(
                matches!(
                    validate_role_arn(bad, aws),
                    Err(ConfigError::InvalidRoleArn { .. })
                ),
                "{bad}"
            );
        }
    }
}
