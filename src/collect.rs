//! One `collect` call: a ListUsers page, its users enriched, mapped to OCSF events.

use std::collections::BTreeMap;

use crate::cursor::Cursor;
use crate::enrich;
use crate::error::ConnectorError;
use crate::host::{Host, Level};
use crate::model::{CollectionError, User, UserRecord};
use crate::ocsf;
use crate::paging;
use crate::query::responses::ListUsersResponse;
use crate::query::{self, requests, ListResponse};

/// Most ListUsers pages one collection may take: 1,000,000 users at one per page.
pub const MAX_USER_PAGES: u32 = 1_000_000;

/// Collection settings (mirrors WIT `inventory.settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `MaxItems` for every List* call, 1 to 1000 (IAM's range).
    pub max_items: u32,
}

impl Settings {
    /// Errors: `InvalidSettings` when `max_items` is outside 1..=1000.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if (1..=1000).contains(&self.max_items) {
            Ok(())
        } else {
            Err(ConnectorError::InvalidSettings(format!(
                "max-items must be between 1 and 1000 (IAM's MaxItems range), got {}",
                self.max_items
            )))
        }
    }
}

/// Failed calls of one kind (mirrors WIT `inventory.action-errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionErrors {
    pub action: String,
    pub code: String,
    pub count: u32,
}

/// What one page did (mirrors WIT `inventory.page-stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageStats {
    /// Users listed on the page; each yields one event.
    pub users: u32,
    /// Calls sent.
    pub api_calls: u32,
    /// Enrichment failures by action and code, sorted.
    pub errors: Vec<ActionErrors>,
}

/// One page of events (mirrors WIT `inventory.page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// OCSF events, one JSON object each.
    pub events: Vec<String>,
    /// Where the next call resumes; `None` when the collection is complete.
    pub cursor: Option<String>,
    pub stats: PageStats,
}

/// Collects the page at `cursor` (`None`: the first page).
///
/// Errors: `InvalidSettings`, `InvalidCursor`; and any failure of ListUsers itself (an AWS
/// error, an unreadable response, a transport failure, a pagination loop), since without
/// the listing there is nothing to enrich. Enrichment failures never fail the page.
pub fn collect(
    host: &dyn Host,
    settings: Settings,
    cursor: Option<&str>,
) -> Result<Page, ConnectorError> {
    settings.validate()?;
    let position = cursor.map(Cursor::decode).transpose()?;
    let marker = position.as_ref().map(|c| c.marker.as_str());
    let pages_before = position.as_ref().map_or(0, |c| c.pages);

    let call = requests::list_page(ListUsersResponse::ACTION, &[], settings.max_items, marker);
    let result = host.send(&call);
    let listing =
        query::parse_result::<ListUsersResponse>(ListUsersResponse::ACTION, &result)?.into_page();
    let next = next_cursor(marker, pages_before, listing.is_truncated, listing.marker)?;

    let mut records: Vec<UserRecord> = listing
        .items
        .into_iter()
        .map(|xml| listed(host, xml))
        .collect();
    let api_calls = 1 + enrich::enrich(host, &mut records, settings.max_items);

    let processed_time = host.now_ms();
    let events = records
        .iter()
        .map(|record| ocsf::to_json(&ocsf::user_inventory_info(record, processed_time)))
        .collect();
    Ok(Page {
        events,
        cursor: next.map(|c| c.encode()),
        stats: PageStats {
            users: records.len() as u32,
            api_calls,
            errors: count_errors(&records),
        },
    })
}

/// The cursor after a ListUsers page, with the loop guards of [`paging`].
fn next_cursor(
    marker: Option<&str>,
    pages_before: u64,
    is_truncated: bool,
    next_marker: Option<String>,
) -> Result<Option<Cursor>, ConnectorError> {
    if !is_truncated {
        return Ok(None);
    }
    let action = ListUsersResponse::ACTION;
    let next_marker = next_marker.ok_or_else(|| {
        ConnectorError::MalformedResponse(crate::error::MalformedResponse {
            action: action.to_owned(),
            status: 200,
            detail: "IsTruncated is true but no Marker was returned".into(),
        })
    })?;
    let seen: Vec<String> = marker.map(str::to_owned).into_iter().collect();
    paging::check_next_marker(
        action,
        &seen,
        &next_marker,
        pages_before + 1,
        MAX_USER_PAGES,
    )?;
    Ok(Some(Cursor::new(next_marker, pages_before + 1)))
}

/// A record for a listed user; unreadable timestamps are logged and recorded.
fn listed(host: &dyn Host, xml: crate::query::responses::UserXml) -> UserRecord {
    let (user, problems) = User::from_xml(xml);
    let mut record = UserRecord::new(user);
    for problem in problems {
        host.log(
            Level::Warn,
            &format!(
                "user {:?}: ListUsers: {problem}; left out",
                record.user.name
            ),
        );
        record.errors.push(CollectionError {
            action: ListUsersResponse::ACTION.to_owned(),
            code: "MalformedResponse".to_owned(),
        });
    }
    record
}

fn count_errors(records: &[UserRecord]) -> Vec<ActionErrors> {
    let mut counts: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for error in records.iter().flat_map(|r| &r.errors) {
        *counts.entry((&error.action, &error.code)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((action, code), count)| ActionErrors {
            action: action.to_owned(),
            code: code.to_owned(),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests;
