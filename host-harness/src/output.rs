//! NDJSON event output: one JSON object per line, into whatever [`crate::checkpoint::Destination`]
//! the events go to; and the [`PageOutput`] the collect loop writes pages through.

use std::io::Write;

use crate::error::OutputError;

/// Where the collect loop ([`crate::run::collect`]) writes a page's events and marks the page
/// done: [`crate::checkpoint::Output`] for one account, an organization run's per-account
/// page queue ([`crate::organization`]) for many.
pub trait PageOutput {
    /// The writer a page's NDJSON lines go to.
    fn writer(&mut self) -> &mut dyn Write;

    /// Marks the page written since the last call as done: its `events`, and `next`, the
    /// cursor after it (`None`: the collection is complete).
    ///
    /// Errors: [`OutputError`] when it cannot be made durable or recorded.
    fn page_done(&mut self, events: u64, next: Option<&str>) -> Result<(), OutputError>;

    /// Records that Sekoia accepted the events `pushed` (their `user.uid`) of the page being
    /// written. Default: nothing to record.
    ///
    /// Errors: [`OutputError`] when it cannot be recorded.
    fn page_pushed(&mut self, pushed: &[String]) -> Result<(), OutputError> {
        let _ = pushed;
        Ok(())
    }
}

/// Writes events as newline-delimited JSON. Each event must be one JSON object; an event that
/// spans lines is re-serialised compactly so every line stays one event.
pub struct NdjsonWriter<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> NdjsonWriter<W> {
    /// Wraps any writer (tests pass a `Vec<u8>`).
    pub fn new(inner: W) -> Self {
        NdjsonWriter { inner, written: 0 }
    }

    /// Writes one event as one line. `index` is its position in its page, for errors.
    ///
    /// Errors: [`OutputError::InvalidEvent`] when `event` is not a JSON object,
    /// [`OutputError::Write`] on I/O failure.
    pub fn write_event(&mut self, index: usize, event: &str) -> Result<(), OutputError> {
        let invalid = |reason: String| OutputError::InvalidEvent { index, reason };
        let value: serde_json::Value =
            serde_json::from_str(event).map_err(|error| invalid(error.to_string()))?;
        if !value.is_object() {
            return Err(invalid("not a JSON object".into()));
        }
        if event.contains(['\n', '\r']) {
            serde_json::to_writer(&mut self.inner, &value)
                .map_err(|error| OutputError::Write(error.into()))?;
        } else {
            self.inner
                .write_all(event.trim().as_bytes())
                .map_err(OutputError::Write)?;
        }
        self.inner.write_all(b"\n").map_err(OutputError::Write)?;
        self.written += 1;
        Ok(())
    }

    /// Flushes buffered lines to the destination.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.inner.flush().map_err(OutputError::Write)
    }

    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Returns the inner writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_event_and_pretty_json_is_compacted() {
        let mut writer = NdjsonWriter::new(Vec::new());
        writer.write_event(0, r#"{"a":1}"#).unwrap();
        writer.write_event(1, "{\n  \"b\": \"x\\ny\"\n}").unwrap();
        writer.flush().unwrap();
        assert_eq!(writer.written(), 2);
        assert_eq!(
            String::from_utf8(writer.into_inner()).unwrap(),
            "{\"a\":1}\n{\"b\":\"x\\ny\"}\n"
        );
    }

    #[test]
    fn rejects_non_objects() {
        let mut writer = NdjsonWriter::new(Vec::new());
        assert!(matches!(
            writer.write_event(3, "[1]"),
            Err(OutputError::InvalidEvent { index: 3, .. })
        ));
        assert!(matches!(
            writer.write_event(0, "{"),
            Err(OutputError::InvalidEvent { .. })
        ));
        assert_eq!(writer.written(), 0);
    }
}
