//! XML helpers shared by every Query response: a well-formedness pass that finds the root
//! element, and typed deserialization with quick-xml's serde support.
//!
//! Bodies are untrusted. A DOCTYPE is refused (no entity definitions are ever expanded),
//! nesting is bounded, and every failure is a message, never a panic.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::de::Deserialize;

/// Deepest element nesting accepted; IAM responses nest at most about 8 levels.
const MAX_DEPTH: usize = 64;

/// Checks that `text` is one well-formed XML document and returns its root element's
/// local name (namespace prefix removed), e.g. `ListUsersResponse`.
///
/// Errors: not XML (e.g. an HTML error page), truncated, mismatched tags, a DOCTYPE,
/// nesting deeper than 64, content after the root element.
pub fn root_element(text: &str) -> Result<String, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut root: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::DocType(_) => return Err("DOCTYPE declarations are not accepted".into()),
            Event::Start(start) | Event::Empty(start) if depth == 0 && root.is_some() => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                return Err(format!("content after the root element: <{name}>"));
            }
            Event::Start(start) => {
                if depth == 0 {
                    root = Some(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
            }
            Event::Empty(start) if depth == 0 => {
                root = Some(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) if depth == 0 => {
                let text = String::from_utf8_lossy(t.as_ref()).trim().to_owned();
                if !text.is_empty() {
                    return Err(format!("text outside any element: {}", excerpt(&text)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err("truncated: the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Deserializes a document already checked by [`root_element`] into `T`.
///
/// Errors: a missing required element, a duplicated one, a value of the wrong type,
/// an unknown entity; the message names what quick-xml found.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, String> {
    quick_xml::de::from_str(text).map_err(|e| e.to_string())
}

/// The first 80 characters of `text`, for error messages.
pub fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_element_strips_the_namespace_and_prolog() {
        let doc =
            r#"<?xml version="1.0"?><a:ListUsersResponse xmlns:a="x"><b/></a:ListUsersResponse>"#;
        assert_eq!(root_element(doc).unwrap(), "ListUsersResponse");
        assert_eq!(root_element("<Empty/>").unwrap(), "Empty");
    }

    #[test]
    fn truncated_documents_are_refused() {
        let err = root_element("<ListUsersResponse><ListUsersResult>").unwrap_err();
        assert_eq!(err, "truncated: the document ends inside an element");
    }

    #[test]
    fn mismatched_tags_are_refused() {
        let err = root_element("<a><b></a></b>").unwrap_err();
        assert!(err.starts_with("not well-formed XML at byte 6"), "{err}");
    }

    #[test]
    fn doctype_is_refused_before_any_entity_is_read() {
        let doc = r#"<!DOCTYPE r [<!ENTITY x "boom">]><r>&x;</r>"#;
        assert_eq!(
            root_element(doc).unwrap_err(),
            "DOCTYPE declarations are not accepted"
        );
    }

    #[test]
    fn html_and_plain_text_are_refused() {
        let html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>";
        assert_eq!(
            root_element(html).unwrap_err(),
            "DOCTYPE declarations are not accepted"
        );
        assert_eq!(
            root_element("Internal Server Error").unwrap_err(),
            "text outside any element: Internal Server Error"
        );
        assert_eq!(root_element("").unwrap_err(), "no root element");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
        assert_eq!(
            root_element(&doc).unwrap_err(),
            "elements nested deeper than 64"
        );
    }

    #[test]
    fn a_second_root_is_refused() {
        assert_eq!(
            root_element("<a/><b/>").unwrap_err(),
            "content after the root element: <b>"
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Wrapper {
        #[allow(dead_code)]
        b: String,
    }

    #[test]
    fn content_the_deserializer_could_trip_on_is_refused_or_read() {
        for doc in [
            "<a><b>x<?pi data?>y</b></a>",
            "<a><b>x<!-- c -->y</b></a>",
            "<a><b>x<![CDATA[<y>]]>z</b></a>",
            "<a><b><!DOCTYPE x>y</b></a>",
        ] {
            if root_element(doc).is_ok() {
                let _ = from_str::<Wrapper>(doc);
            }
        }
    }
}
