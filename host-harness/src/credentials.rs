//! Static AWS credentials from the environment.
//!
//! Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional `AWS_SESSION_TOKEN` into
//! an [`aws_credential_types::Credentials`], whose `Debug` redacts the secret and omits the
//! token. The values go only to the signer: never into errors, logs or the component.

use std::ffi::OsString;

use aws_credential_types::Credentials;

use crate::error::CredentialsError;

/// Environment variable holding the access key id.
pub const ACCESS_KEY_ID_VAR: &str = "AWS_ACCESS_KEY_ID";
/// Environment variable holding the secret access key.
pub const SECRET_ACCESS_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";
/// Environment variable holding the session token of temporary credentials (optional).
pub const SESSION_TOKEN_VAR: &str = "AWS_SESSION_TOKEN";

/// Provider name recorded in the credentials (shows in their redacted `Debug`).
const PROVIDER_NAME: &str = "environment";

/// Reads credentials from the process environment.
///
/// Errors: [`CredentialsError::Missing`] when the key id or secret is unset,
/// [`CredentialsError::Empty`] when one is blank, [`CredentialsError::NotUnicode`],
/// [`CredentialsError::InvalidCharacters`] when the key id or token is not visible ASCII.
/// An empty `AWS_SESSION_TOKEN` counts as unset.
pub fn from_env() -> Result<Credentials, CredentialsError> {
    from_lookup(|name| std::env::var_os(name))
}

/// Reads credentials through `lookup` (a variable name → value function), so tests need not
/// touch the process environment. Same errors as [`from_env`].
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<OsString>,
) -> Result<Credentials, CredentialsError> {
    let access_key_id = required(&lookup, ACCESS_KEY_ID_VAR)?;
    let secret_access_key = required(&lookup, SECRET_ACCESS_KEY_VAR)?;
    let session_token = optional(&lookup, SESSION_TOKEN_VAR)?;
    // Both travel in HTTP headers: anything but visible ASCII (a stray newline or space from a
    // copy-paste) would make the request unsendable.
    header_safe(&access_key_id, ACCESS_KEY_ID_VAR)?;
    if let Some(token) = &session_token {
        header_safe(token, SESSION_TOKEN_VAR)?;
    }
    Ok(Credentials::new(
        access_key_id,
        secret_access_key,
        session_token,
        None,
        PROVIDER_NAME,
    ))
}

fn required(
    lookup: &impl Fn(&str) -> Option<OsString>,
    variable: &'static str,
) -> Result<String, CredentialsError> {
    let value = lookup(variable)
        .ok_or(CredentialsError::Missing { variable })?
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

fn optional(
    lookup: &impl Fn(&str) -> Option<OsString>,
    variable: &'static str,
) -> Result<Option<String>, CredentialsError> {
    match lookup(variable) {
        None => Ok(None),
        Some(value) => {
            let value = value
                .into_string()
                .map_err(|_| CredentialsError::NotUnicode { variable })?;
            Ok(if value.is_empty() { None } else { Some(value) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{CANARY_SECRET, CANARY_TOKEN};

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(*value))
        }
    }

    #[test]
    fn reads_keys_and_token() {
        let creds = from_lookup(env(&[
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
            from_lookup(env(&[(SECRET_ACCESS_KEY_VAR, "x")])).unwrap_err(),
            CredentialsError::Missing {
                variable: ACCESS_KEY_ID_VAR
            }
        );
        assert_eq!(
            from_lookup(env(&[(ACCESS_KEY_ID_VAR, "AKID")])).unwrap_err(),
            CredentialsError::Missing {
                variable: SECRET_ACCESS_KEY_VAR
            }
        );
        assert_eq!(
            from_lookup(env(&[
                (ACCESS_KEY_ID_VAR, "AKID"),
                (SECRET_ACCESS_KEY_VAR, " ")
            ]))
            .unwrap_err(),
            CredentialsError::Empty {
                variable: SECRET_ACCESS_KEY_VAR
            }
        );
        assert_eq!(
            from_lookup(env(&[
                (ACCESS_KEY_ID_VAR, ""),
                (SECRET_ACCESS_KEY_VAR, "s")
            ]))
            .unwrap_err(),
            CredentialsError::Empty {
                variable: ACCESS_KEY_ID_VAR
            }
        );
        assert_eq!(
            from_lookup(env(&[
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
            from_lookup(env(&[
                (ACCESS_KEY_ID_VAR, "AKID "),
                (SECRET_ACCESS_KEY_VAR, "s")
            ]))
            .unwrap_err(),
            CredentialsError::InvalidCharacters {
                variable: ACCESS_KEY_ID_VAR
            }
        );
        let creds = from_lookup(env(&[
            (ACCESS_KEY_ID_VAR, "AKID"),
            (SECRET_ACCESS_KEY_VAR, "s"),
            (SESSION_TOKEN_VAR, ""),
        ]))
        .unwrap();
        assert_eq!(creds.session_token(), None);
    }

    #[test]
    fn debug_never_shows_secret_or_token() {
        let creds = from_lookup(env(&[
            (ACCESS_KEY_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_ACCESS_KEY_VAR, CANARY_SECRET),
            (SESSION_TOKEN_VAR, CANARY_TOKEN),
        ]))
        .unwrap();
        let debug = format!("{creds:?} {creds:#?}");
        assert!(
            !debug.contains(CANARY_SECRET) && !debug.contains("CANARY"),
            "{debug}"
        );
    }
}
