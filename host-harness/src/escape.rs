//! Escaping of text the harness did not write itself (component strings, AWS messages, paths)
//! wherever it is printed: log lines, errors, the summary, the `check` table, `inspect`, and
//! the JSON it writes.
//!
//! A character is escaped when a terminal or a reader could take it for something else than
//! text on the current line: every control character (C0, DEL, C1: newlines, ANSI and OSC
//! escapes), the Unicode line and paragraph separators (U+2028, U+2029), and the bidirectional
//! formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which can make
//! a line read differently from what it holds. Text keeps every other character, so names in
//! any script print as they are.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Whether `c` is escaped by [`escape_text`] and in JSON written by [`write_json`].
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with `\n`, `\r`, `\t` written as those two-character escapes and every other
/// character of [`needs_escape`] as `\u{…}` (its hex code point), as Rust writes them.
/// Borrowed when nothing needs escaping.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

/// At most `max` bytes of `text` (cut at a character boundary), with ` … (N bytes)` naming
/// the full length when it was cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{} … ({} bytes)", &text[..end], text.len()))
}

/// A `serde_json` formatter that also writes every character of [`needs_escape`] as `\uXXXX`
/// (serde escapes only U+0000–U+001F): the JSON means the same, and no line separator or
/// bidirectional control reaches a terminal or a line-oriented reader raw.
#[derive(Debug, Default, Clone, Copy)]
pub struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..index])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = index + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes `value` as compact JSON with [`SafeFormatter`].
///
/// Errors: the writer's I/O error, or serialization failing (a map with non-string keys).
pub fn write_json<W: io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(writer, SafeFormatter);
    value.serialize(&mut serializer)
}

/// `value` as compact JSON with [`SafeFormatter`].
pub fn to_json_string<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    write_json(&mut out, value).expect("serializing to a Vec cannot fail for JSON values");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_separators_and_bidi_are_escaped() {
        assert!(matches!(escape_text("plain Jürgen 🚀"), Cow::Borrowed(_)));
        assert_eq!(
            escape_text("a\nsummary: x\r\t\u{1b}[31m\u{9b}\u{7f}"),
            "a\\nsummary: x\\r\\t\\u{1b}[31m\\u{9b}\\u{7f}"
        );
        assert_eq!(
            escape_text("l\u{2028}p\u{2029}\u{202e}evil\u{2066}\u{200f}\u{61c}"),
            "l\\u{2028}p\\u{2029}\\u{202e}evil\\u{2066}\\u{200f}\\u{61c}"
        );
        assert_eq!(escape_text("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééé", 3), "é … (6 bytes)");
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_separators() {
        let value = serde_json::json!({"name": "a\u{2028}b\u{202e}c\n\u{1f680}"});
        let text = to_json_string(&value);
        assert_eq!(text, r#"{"name":"a\u2028b\u202ec\n🚀"}"#);
        assert!(!text.chars().any(needs_escape));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
