//! The collection cursor: where the next `collect` call resumes.
//!
//! Opaque to the host (it only stores and returns it), JSON inside:
//! `{"v":2,"strategy":"per-user","marker":"<Marker>","pages":<pages returned>,
//! "run":{"collection_time":<ms>,"account_users":<n>,"account_alias":"<alias>"}}`.

use serde::{Deserialize, Serialize};

use crate::error::ConnectorError;
use crate::run_facts::RunFacts;
use crate::settings::Strategy;

/// Cursor format version; a cursor of another version is refused.
const VERSION: u32 = 2;

/// The position after a returned page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    v: u32,
    /// The strategy the collection resolved to (never `auto`).
    #[serde(default)]
    pub strategy: Strategy,
    /// The `Marker` of the next page of the user listing (ListUsers or
    /// GetAccountAuthorizationDetails).
    pub marker: String,
    /// Pages already returned.
    pub pages: u64,
    /// What the first page read for the whole run (collection time, user count, alias).
    pub run: RunFacts,
    /// Why `auto` fell back to per-user calls, reported with every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl Cursor {
    /// The position before the page that starts at `marker`, after `pages` pages.
    pub fn new(
        strategy: Strategy,
        marker: String,
        pages: u64,
        run: RunFacts,
        fallback: Option<String>,
    ) -> Self {
        Self {
            v: VERSION,
            strategy,
            marker,
            pages,
            run,
            fallback,
        }
    }

    /// The string handed to the host.
    pub fn encode(&self) -> String {
        // A struct of a string and integers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a cursor returned by an earlier `collect`.
    ///
    /// Errors: `InvalidCursor` when it is not JSON of this shape or of another version.
    pub fn decode(text: &str) -> Result<Self, ConnectorError> {
        let cursor: Self = serde_json::from_str(text).map_err(|e| {
            ConnectorError::InvalidCursor(format!("not a cursor of this component: {e}"))
        })?;
        if cursor.v != VERSION {
            return Err(ConnectorError::InvalidCursor(format!(
                "cursor version {} is not supported (expected {VERSION})",
                cursor.v
            )));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(account_users: Option<u32>, alias: Option<&str>) -> RunFacts {
        RunFacts {
            collection_time: 1_795_953_600_000,
            account_users,
            account_alias: alias.map(str::to_owned),
            root: None,
        }
    }

    #[test]
    fn round_trip_keeps_an_opaque_marker() {
        let cursor = Cursor::new(
            Strategy::PerUser,
            "AAMA+/=\"&<".into(),
            3,
            run(Some(14), Some("demo")),
            None,
        );
        assert_eq!(
            cursor.encode(),
            r#"{"v":2,"strategy":"per-user","marker":"AAMA+/=\"&<","pages":3,"run":{"collection_time":1795953600000,"account_users":14,"account_alias":"demo"}}"#
        );
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let bulk = Cursor::new(
            Strategy::Bulk,
            "m".into(),
            1,
            run(None, None),
            Some("x".into()),
        );
        assert_eq!(
            bulk.encode(),
            r#"{"v":2,"strategy":"bulk","marker":"m","pages":1,"run":{"collection_time":1795953600000},"fallback":"x"}"#
        );
        assert_eq!(Cursor::decode(&bulk.encode()).unwrap(), bulk);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(matches!(
            Cursor::decode("marker"),
            Err(ConnectorError::InvalidCursor(_))
        ));
        assert_eq!(
            Cursor::decode(r#"{"v":1,"marker":"m","pages":1,"run":{"collection_time":1}}"#)
                .unwrap_err()
                .to_string(),
            "invalid cursor: cursor version 1 is not supported (expected 2)"
        );
    }
}
