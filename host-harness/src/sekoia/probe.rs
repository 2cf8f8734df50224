//! `check --sekoia-url URL --connector-uuid UUID`: verifies the API key and the connector with
//! a harmless request.
//!
//! Sekoia's SDK has no verification call of its own: its asset connector only pushes and
//! follows tasks (`sekoia-automation-sdk` 1.27.0, `sekoia_automation/asset_connector`). The
//! one request that needs both the key and the connector is the push itself, so the check
//! pushes an **empty** batch, `{"version": 1, "items": []}`: it adds and changes no asset.
//! 2xx: both accepted; 401/403: the key is refused (exit 3); 404: no such connector at this URL
//! (exit 2); another 4xx: the key and connector cannot be confirmed (exit 4, with the API's
//! words); throttled, 5xx or unreachable after the bounded attempts: exit 5. A task the
//! answer names is not followed.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::error::{exit, SekoiaError};
use crate::escape::escape_text;
use crate::logging::Logger;

use super::client::Client;
use super::settings::SekoiaSettings;

/// What the empty push gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// A 2xx.
    Accepted {
        /// HTTP status.
        status: u16,
    },
    /// A 4xx other than 429.
    Refused {
        /// HTTP status.
        status: u16,
        /// The API's `code`.
        code: String,
        /// The API's `message`.
        message: String,
    },
    /// No usable answer (exhausted attempts, an unreadable 2xx).
    Failed(String),
}

/// The result of the Sekoia check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The push URL.
    pub url: String,
    /// Where the API key came from.
    pub api_key_source: String,
    /// What it gave.
    pub outcome: ProbeOutcome,
}

/// Pushes the empty batch.
pub fn probe(settings: &SekoiaSettings, logger: Arc<Logger>) -> Probe {
    let url = settings.push_url();
    let mut client = Client::new(Arc::new(settings.clone()), logger);
    let body = br#"{"version":1,"items":[]}"#;
    let outcome = match client.post(&url, body, "VerifyConnector", "empty push", None) {
        Ok(answer) => ProbeOutcome::Accepted {
            status: answer.status,
        },
        Err(SekoiaError::Refused {
            status,
            code,
            message,
            ..
        }) => ProbeOutcome::Refused {
            status,
            code,
            message,
        },
        Err(error) => ProbeOutcome::Failed(error.to_string()),
    };
    Probe {
        url,
        api_key_source: settings.api_key_source.clone(),
        outcome,
    }
}

impl Probe {
    /// 0 accepted, 3 key refused, 2 no such connector, 4 not confirmed, 5 failed.
    pub fn exit_code(&self) -> u8 {
        match &self.outcome {
            ProbeOutcome::Accepted { .. } => exit::OK,
            ProbeOutcome::Refused {
                status: 401 | 403, ..
            } => exit::AUTH,
            ProbeOutcome::Refused { status: 404, .. } => exit::USAGE,
            ProbeOutcome::Refused { .. } => exit::PARTIAL,
            ProbeOutcome::Failed(_) => exit::AWS,
        }
    }

    /// The verdict in words.
    fn verdict(&self) -> &'static str {
        match &self.outcome {
            ProbeOutcome::Accepted { .. } => "the API key and the connector are accepted",
            ProbeOutcome::Refused {
                status: 401 | 403, ..
            } => "the API key is refused",
            ProbeOutcome::Refused { status: 404, .. } => "no such connector at this URL",
            ProbeOutcome::Refused { .. } => "the API key and the connector cannot be confirmed",
            ProbeOutcome::Failed(_) => "Sekoia cannot be reached",
        }
    }

    /// Two lines for the `check` table:
    ///
    /// ```text
    /// sekoia: https://api.sekoia.io/api/v2/asset-management/asset-connector/<uuid> (API key from SEKOIA_API_KEY)
    /// sekoia: accepted (an empty push, HTTP 200): the API key and the connector are accepted
    /// ```
    pub fn render(&self) -> String {
        let result = match &self.outcome {
            ProbeOutcome::Accepted { status } => {
                format!("accepted (an empty push, HTTP {status})")
            }
            ProbeOutcome::Refused {
                status,
                code,
                message,
            } => format!("refused (HTTP {status} {code}: {message})"),
            ProbeOutcome::Failed(error) => format!("failed ({error})"),
        };
        format!(
            "sekoia: {} (API key from {})\nsekoia: {}: {}\n",
            escape_text(&self.url),
            escape_text(&self.api_key_source),
            escape_text(&result),
            self.verdict()
        )
    }

    /// `{"url", "api_key_from", "outcome": "accepted"|"refused"|"failed", "verified",
    /// "status"?, "code"?, "message"?, "error"?}`.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "url": self.url,
            "api_key_from": self.api_key_source,
            "verified": self.exit_code() == exit::OK,
            "verdict": self.verdict(),
        });
        match &self.outcome {
            ProbeOutcome::Accepted { status } => {
                value["outcome"] = json!("accepted");
                value["status"] = json!(status);
            }
            ProbeOutcome::Refused {
                status,
                code,
                message,
            } => {
                value["outcome"] = json!("refused");
                value["status"] = json!(status);
                value["code"] = json!(code);
                value["message"] = json!(message);
            }
            ProbeOutcome::Failed(error) => {
                value["outcome"] = json!("failed");
                value["error"] = json!(error);
            }
        }
        value
    }
}

/// The exit code of a check with both parts: a refused credential (3) on either side first,
/// else the first that is not 0.
pub fn combined_exit_code(aws: u8, sekoia: u8) -> u8 {
    if aws == exit::AUTH || sekoia == exit::AUTH {
        exit::AUTH
    } else if aws != exit::OK {
        aws
    } else {
        sekoia
    }
}
