//! Last line of defence for secrets: every secret the host handles (secret access key, session
//! token, web identity token) is registered here when it is read or received, and every line
//! the host prints (log lines, errors, the summary, panics) is scrubbed of them.
//!
//! The code never formats a secret on purpose — [`aws_credential_types::Credentials`]' `Debug`
//! redacts them, the signer's `Debug` shows nothing, requests are logged without headers or
//! bodies — so this only matters if some dependency's error message ever echoes one.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "** redacted **";

/// Values shorter than this are not registered: no real AWS secret or token is that short, and
/// replacing a short value would garble unrelated text.
pub const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `secret` (and its trimmed form) for scrubbing, for the rest of the process.
pub fn register(secret: &str) {
    for value in [secret, secret.trim()] {
        if value.len() < MIN_SECRET_LEN {
            continue;
        }
        let mut secrets = SECRETS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !secrets.iter().any(|known| known == value) {
            secrets.push(value.to_owned());
            // Longest first, so a secret containing another is replaced whole.
            secrets.sort_by_key(|known| std::cmp::Reverse(known.len()));
        }
    }
}

/// `text` with every registered secret replaced by [`REDACTED`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !secrets.iter().any(|secret| text.contains(secret.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut scrubbed = text.to_owned();
    for secret in secrets.iter() {
        if scrubbed.contains(secret.as_str()) {
            scrubbed = scrubbed.replace(secret.as_str(), REDACTED);
        }
    }
    Cow::Owned(scrubbed)
}

/// A secret the host holds (the Sekoia API key): registered for scrubbing when made, shown as
/// [`REDACTED`] by `Debug`, read only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and registers it (see [`register`]).
    pub fn new(value: String) -> Secret {
        register(&value);
        Secret(value)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces the panic hook with one that prints the panic message and location scrubbed of
/// every registered secret (and no backtrace, which could hold values from the stack).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "host-harness panicked{location}: {} (a bug; please report it)",
            scrub(&message)
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_scrubbed_and_short_values_ignored() {
        register("scrub-me-secret-0001");
        register("  scrub-me-token-0002\n");
        register("short");
        assert_eq!(
            scrub("a scrub-me-secret-0001 b scrub-me-token-0002 c short"),
            format!("a {REDACTED} b {REDACTED} c short")
        );
        assert!(matches!(scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_secret_is_registered_and_never_debug_printed() {
        let secret = Secret::new("sekoia-key-for-the-secret-test".into());
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(secret.expose(), "sekoia-key-for-the-secret-test");
        assert_eq!(
            scrub("k=sekoia-key-for-the-secret-test"),
            format!("k={REDACTED}")
        );
    }

    #[test]
    fn a_secret_containing_another_is_replaced_whole() {
        register("nested-abc");
        register("outer-nested-abc-xyz");
        assert_eq!(scrub("[outer-nested-abc-xyz]"), format!("[{REDACTED}]"));
    }
}
