//! The harness's log: guest log lines, HTTP request lines (`--debug`) and host notices, one
//! line each, on stderr (or any writer, for tests).
//!
//! Lines are `<level> <source>: <message>`. Every line written, whatever wrote it (guest
//! messages, host notices, the summary, errors), is scrubbed of the secrets registered in
//! [`crate::redact`] and then escaped ([`crate::escape::escape_text`]: control characters,
//! line and paragraph separators, bidirectional controls), so text from the component or from
//! AWS can neither forge a line (a `summary:` of its own) nor reach the terminal as an escape
//! sequence.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Severity of a log line, least verbose first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum LogLevel {
    /// Failures only.
    Error,
    /// Failures and degraded results.
    Warn,
    /// Progress (default).
    Info,
    /// Everything the component reports.
    Debug,
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        })
    }
}

/// One HTTP exchange, as logged with `--debug`. Holds no header and no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord<'a> {
    /// Value of the `Action` parameter (`?` when absent).
    pub action: &'a str,
    /// Service signing name.
    pub service: &'a str,
    /// Endpoint host (and port).
    pub host: &'a str,
    /// HTTP status, or the transport failure.
    pub outcome: Result<u16, String>,
    /// Time from sending to the end of the body.
    pub duration: Duration,
}

/// A thread-safe line logger with a level filter.
pub struct Logger {
    level: LogLevel,
    debug_http: bool,
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
    /// The account the lines are about, in organization mode: `<level> guest 111122223333: …`.
    account: Option<String>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("level", &self.level)
            .field("debug_http", &self.debug_http)
            .finish()
    }
}

impl Logger {
    /// Logs to stderr. `debug_http` enables one line per HTTP request.
    pub fn stderr(level: LogLevel, debug_http: bool) -> Logger {
        Logger::with_sink(level, debug_http, Box::new(std::io::stderr()))
    }

    /// Logs to `sink` (tests pass a buffer).
    pub fn with_sink(level: LogLevel, debug_http: bool, sink: Box<dyn Write + Send>) -> Logger {
        Logger {
            level,
            debug_http,
            sink: Arc::new(Mutex::new(sink)),
            account: None,
        }
    }

    /// A logger writing to the same sink whose guest, host and HTTP lines name `account`
    /// (`warn guest 111122223333: …`, `debug http 111122223333: ListUsers …`): the lines of
    /// accounts collected at once stay attributable.
    pub fn for_account(&self, account: &str) -> Logger {
        Logger {
            level: self.level,
            debug_http: self.debug_http,
            sink: self.sink.clone(),
            account: Some(account.to_owned()),
        }
    }

    /// ` 111122223333` for an account's logger, else nothing.
    fn label(&self) -> String {
        self.account
            .as_deref()
            .map_or_else(String::new, |account| format!(" {account}"))
    }

    /// Whether a line at `level` is written.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level <= self.level
    }

    /// Logs a message from the component: `<level> guest: <message>`.
    pub fn guest(&self, level: LogLevel, message: &str) {
        if self.enabled(level) {
            self.line(format_args!("{level} guest{}: {message}", self.label()));
        }
    }

    /// Logs a message from the harness: `<level> host: <message>`.
    pub fn host(&self, level: LogLevel, message: &str) {
        if self.enabled(level) {
            self.line(format_args!("{level} host{}: {message}", self.label()));
        }
    }

    /// Writes `line` (escaped like every line), whatever the level (summary and error lines).
    pub fn raw(&self, line: &str) {
        self.line(format_args!("{line}"));
    }

    /// With `--debug`, logs one HTTP exchange:
    /// `debug http: ListUsers iam 127.0.0.1:5077 200 12ms`.
    pub fn request(&self, record: &RequestRecord<'_>) {
        if !self.debug_http {
            return;
        }
        let outcome = match &record.outcome {
            Ok(status) => status.to_string(),
            Err(error) => format!("failed ({error})"),
        };
        self.line(format_args!(
            "debug http{}: {} {} {} {} {}ms",
            self.label(),
            record.action,
            record.service,
            record.host,
            outcome,
            record.duration.as_millis()
        ));
    }

    fn line(&self, line: fmt::Arguments<'_>) {
        // A poisoned lock only means another thread panicked mid-line; keep logging.
        let mut sink = self
            .sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Every line is scrubbed of registered secrets (see `redact`), then escaped.
        let line = line.to_string();
        let scrubbed = crate::redact::scrub(&line);
        // Logging must never fail the run: a closed stderr is ignored.
        let _ = writeln!(sink, "{}", crate::escape::escape_text(&scrubbed));
        let _ = sink.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::SharedBuffer;

    #[test]
    fn filters_by_level_and_formats_guest_lines() {
        let buffer = SharedBuffer::default();
        let logger = Logger::with_sink(LogLevel::Info, false, Box::new(buffer.clone()));
        logger.guest(LogLevel::Debug, "hidden");
        logger.guest(LogLevel::Info, "listed 3 users");
        logger.guest(LogLevel::Error, "line1\nline2\u{1b}[31m");
        logger.raw("error: x\u{2028}summary: users=0\u{202e}");
        logger.request(&RequestRecord {
            action: "ListUsers",
            service: "iam",
            host: "h",
            outcome: Ok(200),
            duration: Duration::ZERO,
        });
        assert_eq!(
            buffer.text(),
            "info guest: listed 3 users\nerror guest: line1\\nline2\\u{1b}[31m\n\
             error: x\\u{2028}summary: users=0\\u{202e}\n"
        );
    }

    #[test]
    fn request_lines_with_debug() {
        let buffer = SharedBuffer::default();
        let logger = Logger::with_sink(LogLevel::Error, true, Box::new(buffer.clone()));
        logger.request(&RequestRecord {
            action: "ListUsers",
            service: "iam",
            host: "127.0.0.1:5077",
            outcome: Ok(403),
            duration: Duration::from_millis(12),
        });
        logger.request(&RequestRecord {
            action: "GetUser",
            service: "iam",
            host: "iam.amazonaws.com",
            outcome: Err("timeout".into()),
            duration: Duration::from_millis(3),
        });
        assert_eq!(
            buffer.text(),
            "debug http: ListUsers iam 127.0.0.1:5077 403 12ms\ndebug http: GetUser iam iam.amazonaws.com failed (timeout) 3ms\n"
        );
    }

    #[test]
    fn an_account_logger_names_its_account_on_the_same_sink() {
        let buffer = SharedBuffer::default();
        let logger = Logger::with_sink(LogLevel::Info, true, Box::new(buffer.clone()));
        let account = logger.for_account("222233334444");
        account.guest(LogLevel::Warn, "ListMFADevices: AccessDenied");
        account.host(LogLevel::Info, "note");
        logger.guest(LogLevel::Info, "unlabelled");
        account.request(&RequestRecord {
            action: "ListUsers",
            service: "iam",
            host: "h",
            outcome: Ok(200),
            duration: Duration::ZERO,
        });
        assert_eq!(
            buffer.text(),
            "warn guest 222233334444: ListMFADevices: AccessDenied\ninfo host 222233334444: note\n\
             info guest: unlabelled\ndebug http 222233334444: ListUsers iam h 200 0ms\n"
        );
    }
}
