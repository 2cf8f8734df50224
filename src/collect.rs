//! One `collect` call: a page of users (ListUsers, or GetAccountAuthorizationDetails for
//! the bulk strategy), each enriched, mapped to OCSF events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bulk::{self, BulkState};
use crate::cursor::Cursor;
use crate::enrich::{self, GroupCache};
use crate::error::{is_credentials_error, ConnectorError};
use crate::host::{Host, Level};
use crate::model::{CollectionError, User, UserRecord};
use crate::ocsf;
use crate::paging::Pager;
use crate::query::responses::{GetAccountSummaryResponse, ListUsersResponse};
use crate::query::{self, requests, ListResponse};
use crate::retry::{RetryBudget, RetryPolicy, Retrying};

/// Most ListUsers pages one collection may take: 1,000,000 users at one per page.
pub const MAX_USER_PAGES: u64 = 1_000_000;

/// How users are enriched (mirrors WIT `inventory.strategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Bulk, falling back to per-user when a bulk action is denied.
    Auto,
    /// Account-wide calls ([`crate::bulk`]).
    Bulk,
    /// Ten calls per user ([`crate::enrich`]).
    #[default]
    PerUser,
}

/// Collection settings (mirrors WIT `inventory.settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `MaxItems` for every List* call, 1 to 1000 (IAM's range).
    pub max_items: u32,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// How users are enriched.
    pub strategy: Strategy,
    /// Most calls in flight, 1 to 64 (halved after a throttled batch).
    pub max_concurrency: u32,
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
        if !(1..=64).contains(&self.max_concurrency) {
            return invalid(format!(
                "max-concurrency must be between 1 and 64, got {}",
                self.max_concurrency
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
    pub bulk: BulkState,
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
    /// The strategy the page was collected with (never `Auto`).
    pub strategy: Strategy,
    /// Why `Auto` fell back to per-user calls.
    pub fallback: Option<String>,
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
    let client = Retrying::new(
        host,
        settings.retry,
        &mut state.retry_budget,
        settings.max_concurrency as usize,
    );
    let (account_users, mut strategy, mut fallback) = match &position {
        Some(position) => (
            position.account_users,
            position.strategy,
            position.fallback.clone(),
        ),
        None => (account_users(&client), settings.strategy, None),
    };
    if strategy != Strategy::PerUser {
        match bulk::prepare(&client, &mut state.bulk, settings.max_items) {
            Ok(()) => strategy = Strategy::Bulk,
            Err(error) if strategy == Strategy::Auto && allows_fallback(&error) => {
                let reason = format!("{}: {}", error.action().unwrap_or_default(), error.code());
                host.log(
                    Level::Info,
                    &format!("{error}; the bulk strategy is not available, using per-user calls"),
                );
                strategy = Strategy::PerUser;
                fallback = Some(reason);
            }
            Err(error) => return Err(error),
        }
    }

    let (action, max_pages) = match strategy {
        Strategy::Bulk => (bulk::AUTHORIZATION_DETAILS, crate::paging::MAX_PAGES),
        _ => (ListUsersResponse::ACTION, MAX_USER_PAGES),
    };
    let mut listing = Pager::resume(
        action,
        settings.max_items,
        position.as_ref().map(|p| p.marker.clone()),
        position.as_ref().map_or(0, |p| p.pages),
        max_pages,
    );
    let (records, more) = match strategy {
        Strategy::Bulk => {
            listing.set_params(vec![("Filter.member.1", "User".to_owned())]);
            bulk::users_page(&client, &state.bulk, &mut listing, settings.max_items)?
        }
        _ => {
            let result = client.send(&listing.call());
            let page =
                query::parse_result::<ListUsersResponse>(ListUsersResponse::ACTION, &result)?
                    .into_page();
            let more = listing.advance(page.is_truncated, page.marker)?;
            let mut records: Vec<UserRecord> = page
                .items
                .into_iter()
                .map(|xml| listed(host, xml))
                .collect();
            enrich::enrich(&client, &mut records, settings.max_items, &mut state.groups);
            (records, more)
        }
    };
    let next = more.then(|| {
        Cursor::new(
            strategy,
            listing.marker().unwrap_or_default().to_owned(),
            listing.pages(),
            account_users,
            fallback.clone(),
        )
    });

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
            strategy,
            fallback,
        },
    })
}

/// Whether `auto` falls back to per-user calls after this bulk failure: any error AWS
/// answered (denied, not supported, invalid), except refused credentials, which would fail
/// the per-user calls too. Unreadable answers and transport failures are not.
fn allows_fallback(error: &ConnectorError) -> bool {
    matches!(error, ConnectorError::Api(e) if !is_credentials_error(&e.code))
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
