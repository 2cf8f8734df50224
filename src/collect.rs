//! One `collect` call: a ListUsers page, its users enriched, mapped to OCSF events.

use std::collections::BTreeMap;

use crate::cursor::Cursor;
use crate::enrich::{self, GroupCache};
use crate::error::ConnectorError;
use crate::host::{Host, Level};
use crate::model::{CollectionError, User, UserRecord};
use crate::ocsf;
use crate::paging::Pager;
use crate::query::responses::{GetAccountSummaryResponse, ListUsersResponse};
use crate::query::{self, requests, ListResponse};
use crate::retry::{RetryBudget, RetryPolicy, Retrying};

/// Most ListUsers pages one collection may take: 1,000,000 users at one per page.
pub const MAX_USER_PAGES: u64 = 1_000_000;

/// Collection settings (mirrors WIT `inventory.settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `MaxItems` for every List* call, 1 to 1000 (IAM's range).
    pub max_items: u32,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
}

impl Settings {
    /// Errors: `InvalidSettings` when `max_items` is outside 1..=1000, `max_attempts` outside
    /// 1..=10, or the backoff base above the 20 s cap.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let invalid = |message: String| Err(ConnectorError::InvalidSettings(message));
        if !(1..=1000).contains(&self.max_items) {
            return invalid(format!(
                "max-items must be between 1 and 1000 (IAM's MaxItems range), got {}",
                self.max_items
            ));
        }
        if !(1..=10).contains(&self.retry.max_attempts) {
            return invalid(format!(
                "max-attempts must be between 1 and 10, got {}",
                self.retry.max_attempts
            ));
        }
        if self.retry.base_ms > self.retry.cap_ms {
            return invalid(format!(
                "retry-base-ms must be at most {} ms, got {}",
                self.retry.cap_ms, self.retry.base_ms
            ));
        }
        Ok(())
    }
}

/// What one collection keeps between its pages: the groups' privileges and the retry budget.
#[derive(Debug, Default)]
pub struct CollectionState {
    pub groups: GroupCache,
    pub retry_budget: RetryBudget,
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
    /// Users listed on the page.
    pub users: u32,
    /// Listed users deleted before their own calls (`NoSuchEntity`); they yield no event.
    pub skipped_users: u32,
    /// Calls sent.
    pub api_calls: u32,
    /// Enrichment failures by action and code, sorted.
    pub errors: Vec<ActionErrors>,
    /// The account's `Users` count from GetAccountSummary, read with the first page;
    /// `None` when that call failed.
    pub account_users: Option<u32>,
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

/// Collects the page at `cursor` (`None`: the first page). `state` carries the groups'
/// privileges and the retry budget between the pages of one collection.
///
/// Errors: `InvalidSettings`, `InvalidCursor`; and any failure of ListUsers itself (an AWS
/// error, an unreadable response, a transport failure, a pagination loop), since without
/// the listing there is nothing to enrich. Enrichment failures never fail the page.
pub fn collect(
    host: &dyn Host,
    settings: Settings,
    cursor: Option<&str>,
    state: &mut CollectionState,
) -> Result<Page, ConnectorError> {
    settings.validate()?;
    let position = cursor.map(Cursor::decode).transpose()?;
    let client = Retrying::new(host, settings.retry, &mut state.retry_budget);
    let account_users = match &position {
        Some(position) => position.account_users,
        None => account_users(&client),
    };
    let mut listing = Pager::resume(
        ListUsersResponse::ACTION,
        settings.max_items,
        position.as_ref().map(|p| p.marker.clone()),
        position.as_ref().map_or(0, |p| p.pages),
        MAX_USER_PAGES,
    );
    let result = client.send(&listing.call());
    let page =
        query::parse_result::<ListUsersResponse>(ListUsersResponse::ACTION, &result)?.into_page();
    let next = listing.advance(page.is_truncated, page.marker)?.then(|| {
        Cursor::new(
            listing.marker().unwrap_or_default().to_owned(),
            listing.pages(),
            account_users,
        )
    });

    let mut records: Vec<UserRecord> = page
        .items
        .into_iter()
        .map(|xml| listed(host, xml))
        .collect();
    enrich::enrich(&client, &mut records, settings.max_items, &mut state.groups);

    let processed_time = host.now_ms();
    let events = records
        .iter()
        .filter(|record| !record.deleted)
        .map(|record| ocsf::to_json(&ocsf::user_inventory_info(record, processed_time)))
        .collect();
    Ok(Page {
        events,
        cursor: next.map(|c| c.encode()),
        stats: PageStats {
            users: records.len() as u32,
            skipped_users: records.iter().filter(|r| r.deleted).count() as u32,
            api_calls: client.calls(),
            errors: count_errors(&records),
            account_users,
        },
    })
}

/// The account's `Users` count (GetAccountSummary); a failure is logged, not fatal.
fn account_users(host: &dyn Host) -> Option<u32> {
    let action = "GetAccountSummary";
    match query::parse_result::<GetAccountSummaryResponse>(
        action,
        &host.send(&requests::iam(action, &[])),
    ) {
        Ok(summary) => summary.get("Users").and_then(|n| u32::try_from(n).ok()),
        Err(error) => {
            host.log(
                Level::Warn,
                &format!("{error}; the account's user count is unknown"),
            );
            None
        }
    }
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
