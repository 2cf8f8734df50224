//! The sink's settings: `--sekoia-url`, `--connector-uuid`, the API key (the config file's
//! `sekoia_api_key`, else `SEKOIA_API_KEY`; never a flag), and the push flags.

use std::ffi::OsString;
use std::time::Duration;

use crate::cli::{CommonArgs, PushArgs, SekoiaArgs};
use crate::config::ConfigFile;
use crate::error::SekoiaError;
use crate::redact::Secret;

/// Environment variable holding the API key when the config file does not.
pub const API_KEY_VAR: &str = "SEKOIA_API_KEY";

/// Path of the push endpoint under the base URL (the connector UUID follows).
pub const PUSH_PATH: &str = "/api/v2/asset-management/asset-connector/";

/// Path of the task endpoint under the base URL (the task id follows).
pub const TASKS_PATH: &str = "/api/v1/tasks/";

/// Everything the sink needs. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct SekoiaSettings {
    /// `scheme://authority[/path]`, no trailing `/`.
    pub base_url: String,
    /// Host and port of the base URL, for `--debug` lines.
    pub host: String,
    /// The asset connector's UUID, as given (validated).
    pub connector_uuid: String,
    /// The API key.
    pub api_key: Secret,
    /// Where the key came from (`SEKOIA_API_KEY` or `config file …`).
    pub api_key_source: String,
    /// Events per push.
    pub batch_size: usize,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// Base of the full-jitter backoff.
    pub retry_base: Duration,
    /// Longest wait for one task; zero: tasks are not polled.
    pub task_timeout: Duration,
    /// Longest pause between two polls of a task.
    pub task_poll: Duration,
    /// Connect timeout of each request.
    pub connect_timeout: Duration,
    /// Overall timeout of each request.
    pub request_timeout: Duration,
}

impl SekoiaSettings {
    /// `{base}/api/v2/asset-management/asset-connector/{uuid}`.
    pub fn push_url(&self) -> String {
        format!("{}{PUSH_PATH}{}", self.base_url, self.connector_uuid)
    }

    /// `{base}/api/v1/tasks/{task_id}`; `task_id` must be a [`is_task_id`] token.
    pub fn task_url(&self, task_id: &str) -> String {
        debug_assert!(is_task_id(task_id));
        format!("{}{TASKS_PATH}{task_id}", self.base_url)
    }
}

/// Resolves the sink from the flags, the config file and the environment; `None` without
/// `--sekoia-url`. `push` is `collect`'s flags (`check` pushes no batch: defaults).
///
/// Errors: [`SekoiaError::InvalidUrl`], [`SekoiaError::InvalidConnector`] (exit 2),
/// [`SekoiaError::MissingApiKey`], [`SekoiaError::InvalidApiKey`] (exit 3).
pub fn resolve(
    args: &SekoiaArgs,
    push: Option<&PushArgs>,
    common: &CommonArgs,
    file: Option<&ConfigFile>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Option<SekoiaSettings>, SekoiaError> {
    let Some(url) = args.sekoia_url.as_deref() else {
        return Ok(None);
    };
    let (normalised, host) =
        crate::endpoint::parse_endpoint_url(url).map_err(|error| SekoiaError::InvalidUrl {
            url: url.to_owned(),
            reason: match error {
                crate::error::ConfigError::InvalidEndpointUrl { reason, .. } => reason,
                other => other.to_string(),
            },
        })?;
    let uuid = args.connector_uuid.as_deref().unwrap_or_default();
    if !is_uuid(uuid) {
        return Err(SekoiaError::InvalidConnector {
            uuid: crate::escape::truncate(uuid, 64).into_owned(),
        });
    }
    let (api_key, api_key_source) = api_key(file, env)?;
    let transport = common.transport_config();
    let (batch_size, task_timeout_secs, task_poll_ms) = push.map_or((100, 300, 5000), |push| {
        (push.batch_size, push.task_timeout_secs, push.task_poll_ms)
    });
    Ok(Some(SekoiaSettings {
        base_url: normalised.trim_end_matches('/').to_owned(),
        host,
        connector_uuid: uuid.to_owned(),
        api_key,
        api_key_source,
        batch_size: usize::try_from(batch_size).unwrap_or(100).max(1),
        attempts: args.push_attempts.max(1),
        retry_base: Duration::from_millis(u64::from(common.retry_base_ms)),
        task_timeout: Duration::from_secs(task_timeout_secs),
        task_poll: Duration::from_millis(task_poll_ms),
        connect_timeout: transport.connect_timeout,
        request_timeout: transport.call_timeout,
    }))
}

/// The config file's `sekoia_api_key`, else `SEKOIA_API_KEY`; it must be printable ASCII
/// without spaces (it travels in a header).
fn api_key(
    file: Option<&ConfigFile>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(Secret, String), SekoiaError> {
    let (value, source) = match file.and_then(|file| Some((file, file.sekoia_api_key.as_ref()?))) {
        Some((file, key)) => (
            key.expose().to_owned(),
            format!("config file {}", file.path.display()),
        ),
        None => {
            let raw = env(API_KEY_VAR).ok_or(SekoiaError::MissingApiKey)?;
            let value = raw.into_string().map_err(|_| SekoiaError::InvalidApiKey {
                source_name: API_KEY_VAR.to_owned(),
                reason: "it is not valid UTF-8",
            })?;
            (value, API_KEY_VAR.to_owned())
        }
    };
    let key = Secret::new(value);
    let invalid = |reason| SekoiaError::InvalidApiKey {
        source_name: source.clone(),
        reason,
    };
    if key.expose().trim().is_empty() {
        return Err(invalid("it is set but empty"));
    }
    if !key.expose().bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "it contains whitespace, control or non-ASCII characters",
        ));
    }
    Ok((key, source))
}

/// Whether `text` is a UUID: 8-4-4-4-12 hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `text` can name a task in a URL path: 1 to 64 letters, digits, `-` or `_`.
pub fn is_task_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const UUID: &str = "1f0e8d2c-3b4a-4c5d-9e6f-7a8b9c0d1e2f";

    fn resolved(
        url: &str,
        uuid: &str,
        vars: &[(&str, &str)],
    ) -> Result<Option<SekoiaSettings>, SekoiaError> {
        let cli = crate::cli::Cli::try_parse_from([
            "host-harness",
            "collect",
            "--sekoia-url",
            url,
            "--connector-uuid",
            uuid,
            "--batch-size",
            "25",
            "--retry-base-ms",
            "7",
        ])
        .unwrap();
        let crate::cli::Command::Collect(args) = cli.command else {
            panic!("collect expected")
        };
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve(
            &args.sekoia,
            Some(&args.push),
            &args.common,
            None,
            &move |name| {
                vars.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| OsString::from(v))
            },
        )
    }

    #[test]
    fn urls_connector_and_key() {
        let key = [(API_KEY_VAR, "sekoia-settings-test-key-0001")];
        let settings = resolved("https://api.sekoia.io/", UUID, &key)
            .unwrap()
            .unwrap();
        assert_eq!(
            settings.push_url(),
            format!("https://api.sekoia.io/api/v2/asset-management/asset-connector/{UUID}")
        );
        assert_eq!(
            settings.task_url("abc-1"),
            "https://api.sekoia.io/api/v1/tasks/abc-1"
        );
        assert_eq!(settings.host, "api.sekoia.io");
        assert_eq!(settings.batch_size, 25);
        assert_eq!(settings.retry_base, Duration::from_millis(7));
        assert_eq!(settings.api_key_source, API_KEY_VAR);
        assert!(!format!("{settings:?}").contains("sekoia-settings-test-key-0001"));
        let local = resolved("http://127.0.0.1:8080/prefix", UUID, &key)
            .unwrap()
            .unwrap();
        assert_eq!(
            local.push_url(),
            format!("http://127.0.0.1:8080/prefix/api/v2/asset-management/asset-connector/{UUID}")
        );
    }

    #[test]
    fn bad_urls_connectors_and_keys_are_refused() {
        let key = [(API_KEY_VAR, "sekoia-settings-test-key-0002")];
        for url in [
            "http://api.sekoia.io",
            "http://localhost:8080",
            "https://user:pw@api.sekoia.io",
            "https://api.sekoia.io/?x=1",
            "ftp://api.sekoia.io",
        ] {
            assert!(
                matches!(
                    resolved(url, UUID, &key),
                    Err(SekoiaError::InvalidUrl { .. })
                ),
                "{url}"
            );
        }
        for uuid in [
            "",
            "not-a-uuid",
            "1f0e8d2c-3b4a-4c5d-9e6f-7a8b9c0d1e2f/../../x",
            "1f0e8d2c3b4a-4c5d-9e6f-7a8b9c0d1e2f0",
        ] {
            assert!(
                matches!(
                    resolved("https://api.sekoia.io", uuid, &key),
                    Err(SekoiaError::InvalidConnector { .. })
                ),
                "{uuid}"
            );
        }
        assert_eq!(
            resolved("https://api.sekoia.io", UUID, &[]).unwrap_err(),
            SekoiaError::MissingApiKey
        );
        let error = resolved("https://api.sekoia.io", UUID, &[(API_KEY_VAR, "a key")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "Sekoia API key (SEKOIA_API_KEY): it contains whitespace, control or non-ASCII characters"
        );
    }

    #[test]
    fn task_ids() {
        assert!(is_task_id("5e1d9a0c-0000-4000-8000-000000000001"));
        assert!(!is_task_id(""));
        assert!(!is_task_id("../../api/v2/x"));
        assert!(!is_task_id("a?b"));
        assert!(!is_task_id(&"a".repeat(65)));
    }
}
