//! HTTP to Sekoia: one `ureq` agent (rustls, no proxy whatever the environment says, no
//! redirect, the run's timeouts), the bearer key on every request, bounded retries.
//!
//! A request is sent up to `--push-attempts` times: HTTP 429 waits for its `Retry-After`
//! (else the backoff), capped at [`MAX_RETRY_AFTER`]; 5xx (honouring a `Retry-After` too),
//! timeouts and connection errors wait a full-jitter backoff (random up to
//! `--retry-base-ms` × 2^(n-1), at most [`MAX_BACKOFF`]). Any other non-2xx answer is final.
//! Every wait ends at the run's deadline (`--max-run-secs`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::error::SekoiaError;
use crate::logging::{LogLevel, Logger, RequestRecord};

use super::settings::SekoiaSettings;

/// Longest wait a `Retry-After` is honoured for (a longer one waits this long).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Longest backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Largest response body read; the API answers small JSON objects.
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Most bytes of an API `message` (or of a body that is not JSON) kept for an error.
const MAX_MESSAGE_BYTES: usize = 1024;

/// A 2xx answer: its JSON object (`Value::Null` for an empty body).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body, parsed.
    pub body: Value,
}

/// What one attempt gave.
enum Attempt {
    Answered {
        status: u16,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    Failed(String),
}

/// The client. Counts requests and retries.
pub struct Client {
    agent: ureq::Agent,
    settings: Arc<SekoiaSettings>,
    logger: Arc<Logger>,
    rng: fastrand::Rng,
    /// Requests sent (attempts).
    pub requests: u64,
    /// Attempts after a first one.
    pub retries: u64,
}

impl Client {
    /// Builds the agent for `settings`.
    pub fn new(settings: Arc<SekoiaSettings>, logger: Arc<Logger>) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_global(Some(settings.request_timeout))
            .user_agent(format!(
                "sekoiaio-asset-connector-{} aws-iam-users-host-harness/{}",
                settings.connector_uuid,
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .into();
        Client {
            agent,
            settings,
            logger,
            rng: fastrand::Rng::new(),
            requests: 0,
            retries: 0,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &SekoiaSettings {
        &self.settings
    }

    /// POSTs `body` (JSON) to `url`. `action` names it in `--debug` lines, `what` in errors.
    ///
    /// Errors: [`SekoiaError::Refused`] (a final non-2xx), [`SekoiaError::Exhausted`],
    /// [`SekoiaError::Malformed`] (a 2xx that is not a JSON object), and
    /// [`SekoiaError::RunDeadline`].
    pub fn post(
        &mut self,
        url: &str,
        body: &[u8],
        action: &str,
        what: &str,
        deadline: Option<Instant>,
    ) -> Result<Answer, SekoiaError> {
        self.request(url, Some(body), action, what, deadline)
    }

    /// GETs `url`; as [`Client::post`].
    pub fn get(
        &mut self,
        url: &str,
        action: &str,
        what: &str,
        deadline: Option<Instant>,
    ) -> Result<Answer, SekoiaError> {
        self.request(url, None, action, what, deadline)
    }

    fn request(
        &mut self,
        url: &str,
        body: Option<&[u8]>,
        action: &str,
        what: &str,
        deadline: Option<Instant>,
    ) -> Result<Answer, SekoiaError> {
        let attempts = self.settings.attempts.max(1);
        for attempt in 1..=attempts {
            if attempt > 1 {
                self.retries += 1;
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(SekoiaError::RunDeadline);
            }
            let (why, wait) = match self.once(url, body, action, deadline) {
                Attempt::Answered { status, body, .. } if (200..300).contains(&status) => {
                    return parse_answer(status, &body, what);
                }
                Attempt::Answered {
                    status,
                    retry_after,
                    body,
                } if status == 429 || (500..600).contains(&status) => {
                    let asked = retry_after
                        .as_deref()
                        .and_then(|value| parse_retry_after(value, SystemTime::now()));
                    let (code, message) = code_and_message(status, &body);
                    let why = format!("HTTP {status} {code}: {message}");
                    match asked {
                        Some(asked) => (
                            format!("{why} (Retry-After {}s)", asked.as_secs_f64()),
                            asked.min(MAX_RETRY_AFTER),
                        ),
                        None => (why, self.backoff(attempt)),
                    }
                }
                Attempt::Answered { status, body, .. } => {
                    let (code, message) = code_and_message(status, &body);
                    return Err(SekoiaError::Refused {
                        what: what.to_owned(),
                        status,
                        code,
                        message,
                    });
                }
                Attempt::Failed(error) => (error, self.backoff(attempt)),
            };
            if attempt == attempts {
                return Err(SekoiaError::Exhausted {
                    what: what.to_owned(),
                    attempts,
                    last: why,
                });
            }
            self.logger.host(
                LogLevel::Warn,
                &format!(
                    "Sekoia {what}: {why}; retrying in {:.1} s (attempt {} of {attempts})",
                    wait.as_secs_f64(),
                    attempt + 1
                ),
            );
            sleep_until_deadline(wait, deadline)?;
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Sends once; a status whatever it is, or why there is none.
    fn once(
        &mut self,
        url: &str,
        body: Option<&[u8]>,
        action: &str,
        deadline: Option<Instant>,
    ) -> Attempt {
        let bearer = format!("Bearer {}", self.settings.api_key.expose());
        let timeout = deadline
            .and_then(|deadline| deadline.checked_duration_since(Instant::now()))
            .map_or(self.settings.request_timeout, |left| {
                left.min(self.settings.request_timeout)
            });
        self.requests += 1;
        let started = Instant::now();
        let result = match body {
            Some(body) => self
                .agent
                .post(url)
                .header("Authorization", &bearer)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(timeout))
                .build()
                .send(body),
            None => self
                .agent
                .get(url)
                .header("Authorization", &bearer)
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(timeout))
                .build()
                .call(),
        };
        let attempt = match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                match response
                    .body_mut()
                    .with_config()
                    .limit(MAX_RESPONSE_BYTES)
                    .read_to_vec()
                {
                    Ok(body) => Attempt::Answered {
                        status,
                        retry_after,
                        body,
                    },
                    Err(error) => Attempt::Failed(describe(error)),
                }
            }
            Err(error) => Attempt::Failed(describe(error)),
        };
        self.logger.request(&RequestRecord {
            action,
            service: "sekoia",
            host: &self.settings.host,
            outcome: match &attempt {
                Attempt::Answered { status, .. } => Ok(*status),
                Attempt::Failed(error) => Err(error.clone()),
            },
            duration: started.elapsed(),
        });
        attempt
    }

    /// Full jitter: random up to base × 2^(attempt-1), at most [`MAX_BACKOFF`].
    fn backoff(&mut self, attempt: u32) -> Duration {
        let base = self.settings.retry_base.as_millis() as u64;
        let cap = base
            .saturating_mul(1u64 << (attempt.saturating_sub(1)).min(20))
            .min(MAX_BACKOFF.as_millis() as u64);
        Duration::from_millis(self.rng.u64(0..=cap))
    }
}

/// Sleeps `wait`, unless `deadline` comes first: then [`SekoiaError::RunDeadline`].
pub fn sleep_until_deadline(wait: Duration, deadline: Option<Instant>) -> Result<(), SekoiaError> {
    if let Some(deadline) = deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        if left <= wait {
            std::thread::sleep(left);
            return Err(SekoiaError::RunDeadline);
        }
    }
    std::thread::sleep(wait);
    Ok(())
}

/// A ureq error in a few words (never a header: ureq's errors hold no request headers).
fn describe(error: ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "timed out".to_owned(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => "timed out".to_owned(),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("response body larger than {MAX_RESPONSE_BYTES} bytes")
        }
        ureq::Error::HostNotFound => "network error: host not found".to_owned(),
        other => format!("network error: {other}"),
    }
}

/// A 2xx body: empty, or a JSON object.
fn parse_answer(status: u16, body: &[u8], what: &str) -> Result<Answer, SekoiaError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Answer {
            status,
            body: Value::Null,
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.is_object() => Ok(Answer {
            status,
            body: value,
        }),
        Ok(_) => Err(SekoiaError::Malformed {
            what: what.to_owned(),
            status,
            detail: "the body is JSON but not an object".to_owned(),
        }),
        Err(error) => Err(SekoiaError::Malformed {
            what: what.to_owned(),
            status,
            detail: format!("not JSON: {error}"),
        }),
    }
}

/// The API's `code` and `message` of an error body; else the status's reason and the body's
/// first bytes.
pub fn code_and_message(status: u16, body: &[u8]) -> (String, String) {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|json| json.get(name))
            .and_then(|value| match value {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .filter(|text| !text.is_empty())
    };
    let code = field("code").unwrap_or_else(|| {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Unknown")
            .to_owned()
    });
    let message = field("message").unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        text.trim().to_owned()
    });
    // An API quoting the key back (in a 401's message, say) must not make the host print it.
    let scrubbed =
        |text: &str, max| crate::redact::scrub(&crate::escape::truncate(text, max)).into_owned();
    (scrubbed(&code, 128), scrubbed(&message, MAX_MESSAGE_BYTES))
}

/// `Retry-After` (RFC 9110): delta-seconds, or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`) taken relative to `now` (a past date is no wait). `None` when unreadable.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [weekday, day, month, year, time, "GMT"] = fields.as_slice() else {
        return None;
    };
    if weekday.len() != 4 || !weekday.ends_with(',') {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|n| n.parse::<u64>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some()
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
        || year < 1970
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(days * 86_400 + hour * 3600 + minute * 60 + second),
    )
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 2.5 ", now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(parse_retry_after("100000", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO),
            "a past date is no wait"
        );
        for bad in [
            "",
            "-1",
            "NaN",
            "inf",
            "soon",
            "Sun, 06 Nov 1994 08:49:47 CET",
            "Sun, 32 Nov 1994 08:49:47 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn codes_and_messages_of_error_bodies() {
        assert_eq!(
            code_and_message(
                401,
                br#"{"code": "invalid_key", "message": "The key is invalid"}"#
            ),
            ("invalid_key".to_owned(), "The key is invalid".to_owned())
        );
        assert_eq!(
            code_and_message(403, br#"{"code": 1403, "message": "no"}"#),
            ("1403".to_owned(), "no".to_owned())
        );
        assert_eq!(
            code_and_message(502, b"<html>Bad gateway</html>"),
            (
                "Bad Gateway".to_owned(),
                "<html>Bad gateway</html>".to_owned()
            )
        );
        let (_, long) = code_and_message(400, "x".repeat(5000).as_bytes());
        assert!(long.len() < 1100, "{}", long.len());
    }

    #[test]
    fn answers_are_objects_or_empty() {
        assert_eq!(parse_answer(200, b"", "push").unwrap().body, Value::Null);
        assert_eq!(
            parse_answer(200, br#"{"task_id":"t"}"#, "push")
                .unwrap()
                .body["task_id"],
            "t"
        );
        assert!(matches!(
            parse_answer(200, b"[1]", "push"),
            Err(SekoiaError::Malformed { .. })
        ));
        assert!(matches!(
            parse_answer(200, b"<html>", "push"),
            Err(SekoiaError::Malformed { .. })
        ));
    }
}
