//! The collection cursor: where the next `collect` call resumes.
//!
//! Opaque to the host (it only stores and returns it), JSON inside:
//! `{"v":3,"strategy":"per-user","marker":"<Marker>","pages":<pages read>,
//! "run":{"collection_time":<ms>,"account_users":<n>,"account_alias":"<alias>"}}`, and
//! `"within":{"done":<n>,"last_user":"<UserName>"}` when a page ended early on its time
//! budget: the next call lists the same page again (`marker` absent for the first page) and
//! skips the users already done.

use serde::{Deserialize, Serialize};

use crate::error::ConnectorError;
use crate::run_facts::RunFacts;
use crate::settings::Strategy;

/// Cursor format version; a cursor of another version is refused.
const VERSION: u32 = 3;

/// The position after a returned page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    v: u32,
    /// The strategy the collection resolved to (never `auto`).
    #[serde(default)]
    pub strategy: Strategy,
    /// The `Marker` of the page to list next (ListUsers or GetAccountAuthorizationDetails);
    /// `None` for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Pages read before that one.
    pub pages: u64,
    /// Users of that page already done, when it ended early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Within>,
    /// What the first page read for the whole run (collection time, user count, alias).
    pub run: RunFacts,
    /// Why `auto` fell back to per-user calls, reported with every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// How far into a page a collection got before its time budget was spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Within {
    /// Users of the page done (their events returned), deleted ones included.
    pub done: usize,
    /// `UserName` of the last of them: the page, listed again, resumes after it (or after
    /// `done` users when it is gone).
    pub last_user: String,
}

impl Within {
    /// How many users of `names` (the page listed again) to skip.
    pub fn skip<'a>(&self, names: impl Iterator<Item = &'a str>) -> usize {
        let names: Vec<&str> = names.collect();
        names
            .iter()
            .position(|name| *name == self.last_user)
            .map_or(self.done.min(names.len()), |i| i + 1)
    }
}

impl Cursor {
    /// The position before the page that starts at `marker` (`None`: the first), after
    /// `pages` pages, `within` it when it ended early.
    pub fn new(
        strategy: Strategy,
        marker: Option<String>,
        pages: u64,
        within: Option<Within>,
        run: RunFacts,
        fallback: Option<String>,
    ) -> Self {
        Self {
            v: VERSION,
            strategy,
            marker,
            pages,
            within,
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
            Some("AAMA+/=\"&<".into()),
            3,
            None,
            run(Some(14), Some("demo")),
            None,
        );
        assert_eq!(
            cursor.encode(),
            r#"{"v":3,"strategy":"per-user","marker":"AAMA+/=\"&<","pages":3,"run":{"collection_time":1795953600000,"account_users":14,"account_alias":"demo"}}"#
        );
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let within = Cursor::new(
            Strategy::Bulk,
            None,
            0,
            Some(Within {
                done: 250,
                last_user: "u&<".into(),
            }),
            run(None, None),
            Some("x".into()),
        );
        assert_eq!(
            within.encode(),
            r#"{"v":3,"strategy":"bulk","pages":0,"within":{"done":250,"last_user":"u&<"},"run":{"collection_time":1795953600000},"fallback":"x"}"#
        );
        assert_eq!(Cursor::decode(&within.encode()).unwrap(), within);
    }

    #[test]
    fn a_page_resumes_after_its_last_user_done_or_its_count() {
        let within = Within {
            done: 2,
            last_user: "b".into(),
        };
        assert_eq!(within.skip(["a", "b", "c"].into_iter()), 2);
        // A user created before `b` since: still after `b`.
        assert_eq!(within.skip(["a", "a2", "b", "c"].into_iter()), 3);
        // `b` deleted since: by count.
        assert_eq!(within.skip(["a", "c", "d"].into_iter()), 2);
        assert_eq!(within.skip(["a"].into_iter()), 1);
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert!(matches!(
            Cursor::decode("marker"),
            Err(ConnectorError::InvalidCursor(_))
        ));
        assert_eq!(
            Cursor::decode(r#"{"v":2,"marker":"m","pages":1,"run":{"collection_time":1}}"#)
                .unwrap_err()
                .to_string(),
            "invalid cursor: cursor version 2 is not supported (expected 3)"
        );
    }
}
