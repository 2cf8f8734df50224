//! One `collect` call: a page of users (ListUsers, or GetAccountAuthorizationDetails for
//! the bulk strategy), each enriched, mapped to OCSF events.

use std::collections::BTreeMap;

use crate::admin::ManagedDocuments;
use crate::bulk::{self, BulkState};
use crate::cursor::{Cursor, Within};
use crate::enrich::{self, GroupCache};
use crate::error::{is_credentials_error, ConnectorError};
use crate::facts;
use crate::host::{Host, Level};
use crate::model::{CollectionError, User, UserRecord};
use crate::ocsf;
use crate::paging::Pager;
use crate::query::responses::{GetAccountAuthorizationDetailsResponse, ListUsersResponse};
use crate::query::{self, ListResponse, Operation};
use crate::retry::{RetryBudget, Retrying};
use crate::risk;
use crate::run_facts::RunFacts;
use crate::run_state::RunState;
use crate::settings::{Settings, Strategy};

/// Most ListUsers pages one collection may take: 1,000,000 users at one per page.
pub const MAX_USER_PAGES: u64 = 1_000_000;

/// Most users enriched together (a whole page of IAM's largest `MaxItems`, so its calls go
/// out in one batch); a time budget ends a page between two chunks.
const CHUNK_USERS: usize = 1000;
/// Users of the first chunk of a page with a time budget, before the collection has measured
/// how long one takes: a page ended early carries at least these (the contract says so;
/// hosts bound a run's pages by it).
const FIRST_CHUNK_USERS: usize = 50;
/// Fewest users worth another chunk: when not even these fit, the page ends early.
const MIN_CHUNK_USERS: usize = 10;

/// What one collection keeps between its pages: the groups' and customer-managed
/// policies, the bulk strategy's account-wide data, the retry budget, and the run-state
/// read and built.
#[derive(Debug, Default)]
pub struct CollectionState {
    /// Groups' privileges, read once per collection (per-user strategy).
    pub groups: GroupCache,
    /// Customer-managed policy documents by ARN, read once per collection.
    pub managed: ManagedDocuments,
    /// Retries left to the whole collection.
    pub retry_budget: RetryBudget,
    /// The bulk strategy's account-wide data.
    pub bulk: BulkState,
    /// The in-flight window the last page ended with; the next page starts from it (the
    /// first from `max-concurrency`).
    pub window: Option<usize>,
    /// The longest a user has taken so far in this collection, ms (a page sizes its chunks
    /// by it, within its time budget); `None` before the first chunk.
    pub per_user_ms: Option<f64>,
    /// The previous run's state, and the one this collection builds.
    pub run_state: RunState,
}

/// Failed calls of one kind (mirrors WIT `inventory.action-errors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionErrors {
    /// IAM action, e.g. `ListMFADevices`.
    pub action: String,
    /// AWS error code, or `MalformedResponse` / `TransportError`.
    pub code: String,
    /// How many calls failed this way.
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
    /// Events about the account's root user on this page (0 or 1); not counted in `users`.
    pub root_users: u32,
}

/// One page of events (mirrors WIT `inventory.page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// OCSF events, one JSON object each.
    pub events: Vec<String>,
    /// Where the next call resumes; `None` when the collection is complete.
    pub cursor: Option<String>,
    /// What the page did.
    pub stats: PageStats,
    /// For the next collection ([`crate::run_state`]): with the last page only.
    pub run_state: Option<String>,
}

/// Collects the page at `cursor` (`None`: the first page). `state` carries the groups'
/// and managed policies, the bulk data and the retry budget between the pages of one
/// collection; `prior_state` is the run-state the previous collection returned (read once
/// per collection, ignored with a warning when it is not this component's or account's).
///
/// The first page also reads what the whole run shares (GetAccountSummary,
/// ListAccountAliases, and STS GetCallerIdentity for the root user's account), fixes the
/// collection time every risk rule measures from, and adds the root user's event.
///
/// Errors: `InvalidSettings`, `InvalidCursor`; and any failure of ListUsers itself (an AWS
/// error, an unreadable response, a transport failure, a pagination loop), since without
/// the listing there is nothing to enrich. Enrichment failures never fail the page.
pub fn collect(
    host: &dyn Host,
    settings: Settings,
    cursor: Option<&str>,
    prior_state: Option<&str>,
    state: &mut CollectionState,
) -> Result<Page, ConnectorError> {
    settings.validate()?;
    let position = cursor.map(Cursor::decode).transpose()?;
    if let Some(warning) = state.run_state.load(prior_state, cursor.is_some()) {
        host.log(Level::Warn, &warning);
    }
    let client = Retrying::new(
        host,
        settings.retry,
        &mut state.retry_budget,
        state
            .window
            .unwrap_or(settings.max_concurrency as usize),
        settings.max_in_flight as usize,
    );
    let (run, mut strategy, mut fallback) = match &position {
        Some(position) => (
            position.run.clone(),
            position.strategy,
            position.fallback.clone(),
        ),
        None => (
            RunFacts::read(&client, settings.include_root),
            settings.strategy,
            None,
        ),
    };
    if strategy != Strategy::PerUser {
        match bulk::prepare(
            &client,
            &mut state.bulk,
            &mut state.managed,
            settings.max_items,
            run.account_users,
        ) {
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
        Strategy::Bulk => (
            GetAccountAuthorizationDetailsResponse::ACTION,
            crate::paging::MAX_PAGES,
        ),
        _ => (ListUsersResponse::ACTION, MAX_USER_PAGES),
    };
    let mut listing = Pager::resume(
        action,
        settings.max_items,
        position.as_ref().and_then(|p| p.marker.clone()),
        position.as_ref().map_or(0, |p| p.pages),
        max_pages,
    );
    if strategy == Strategy::Bulk {
        listing.set_params(vec![("Filter.member.1", "User".to_owned())]);
    }
    // Where this page starts, should it end early.
    let (page_marker, pages_before) = (listing.marker().map(str::to_owned), listing.pages());
    let (mut records, more) = match strategy {
        Strategy::Bulk => {
            bulk::users_page(&client, &state.bulk, &mut state.run_state, &mut listing)?
        }
        _ => {
            let result = client.send(&listing.call());
            let page = query::parse_result::<ListUsersResponse>(&result)?.into_page();
            let more = listing.advance(page.is_truncated, page.marker)?;
            let records = page
                .items
                .into_iter()
                .map(|xml| listed(host, xml))
                .collect();
            (records, more)
        }
    };
    let skipped = position
        .as_ref()
        .and_then(|p| p.within.as_ref())
        .map_or(0, |within| {
            within.skip(records.iter().map(|r: &UserRecord| r.user.name.as_str()))
        });
    records.drain(..skipped);
    // The users in chunks sized to what is left of the time budget: a first small one
    // measures the time a user takes, the next fill the rest, and the page ends early when
    // not even a few more would fit.
    let started = host.now_ms();
    let budget = i64::from(settings.time_budget_ms);
    let mut done = 0;
    while done < records.len() {
        let size = match state.per_user_ms {
            _ if budget == 0 => CHUNK_USERS,
            None => FIRST_CHUNK_USERS,
            Some(per_user_ms) => {
                let left = (budget - host.now_ms().saturating_sub(started)).max(0) as f64;
                // Four fifths of what is left, for the slowest user seen so far; a page's
                // first chunk never below the contract's floor.
                let fits = ((left * 0.8 / per_user_ms.max(1e-3)) as usize).min(CHUNK_USERS);
                if done == 0 {
                    fits.max(FIRST_CHUNK_USERS)
                } else {
                    fits
                }
            }
        };
        if size < MIN_CHUNK_USERS.min(records.len() - done) {
            host.log(
                Level::Info,
                &format!(
                    "the page's time budget of {budget} ms is spent after {done} of its {} users; \
                     the next call resumes after {:?}",
                    records.len(),
                    records[done - 1].user.name
                ),
            );
            break;
        }
        let chunk = done..(done + size).min(records.len());
        let chunk_started = host.now_ms();
        done = chunk.end;
        let users = chunk.len();
        match strategy {
            Strategy::Bulk => bulk::complete(
                &client,
                &state.bulk,
                &state.managed,
                &mut records[chunk],
                settings.max_items,
            ),
            _ => enrich::enrich(
                &client,
                &mut records[chunk],
                settings.max_items,
                &mut state.groups,
                &mut state.managed,
            ),
        }
        let took = host.now_ms().saturating_sub(chunk_started).max(0) as f64;
        state.per_user_ms = Some(state.per_user_ms.unwrap_or(0.0).max(took / users as f64));
    }
    let ended_early = done < records.len();
    records.truncate(done);
    for record in &records {
        state.run_state.keep(record);
    }
    state
        .run_state
        .reserve(records.len(), run.account_users.map_or(0, |n| n as usize));
    for record in records.iter_mut().filter(|r| !r.deleted) {
        record.risk = Some(risk::assess(&facts::user_facts(
            record,
            run.collection_time,
        )));
    }
    let report_time = state.bulk.report().and_then(|r| r.generated_ms);
    let root = match (&position, &run.root) {
        (None, Some(root)) => {
            let mut root = root.clone();
            if let Some(row) = state.bulk.report().and_then(|r| r.root.as_ref()) {
                facts::root_from_report(&mut root, row);
            }
            root.risk = Some(risk::assess(&facts::root_facts(&root, run.collection_time)));
            Some(root)
        }
        _ => None,
    };
    let next = if ended_early {
        let last_user = records
            .last()
            .map(|r| r.user.name.clone())
            .unwrap_or_default();
        Some(Cursor::new(
            strategy,
            page_marker,
            pages_before,
            Some(Within {
                done: skipped + done,
                last_user,
            }),
            run.clone(),
            fallback.clone(),
        ))
    } else {
        more.then(|| {
            Cursor::new(
                strategy,
                listing.marker().map(str::to_owned),
                listing.pages(),
                None,
                run.clone(),
                fallback.clone(),
            )
        })
    };

    let context = ocsf::Context {
        processed_time: host.now_ms(),
        account_alias: run.account_alias.as_deref(),
        credential_report_time: report_time,
    };
    let events = root
        .iter()
        .map(|root| ocsf::to_json(&ocsf::root_inventory_info(root, &context)))
        .chain(
            records
                .iter()
                .filter(|record| !record.deleted)
                .map(|record| ocsf::to_json(&ocsf::user_inventory_info(record, &context))),
        )
        .collect();
    state.window = Some(client.window());
    let run_state = next.is_none().then(|| {
        let reused = &state.run_state;
        if reused.reused_keys + reused.reused_certificates > 0 {
            host.log(
                Level::Info,
                &format!(
                    "the run-state vouched for the access keys of {} users and the signing \
                     certificates of {}: not listed again",
                    reused.reused_keys, reused.reused_certificates
                ),
            );
        }
        state.run_state.encode()
    });
    Ok(Page {
        events,
        run_state,
        cursor: next.map(|c| c.encode()),
        stats: PageStats {
            users: records.len() as u32,
            skipped_users: records.iter().filter(|r| r.deleted).count() as u32,
            api_calls: client.calls(),
            errors: count_errors(&records),
            account_users: run.account_users,
            strategy,
            fallback,
            root_users: u32::from(root.is_some()),
        },
    })
}

/// Whether `auto` falls back to per-user calls after this bulk failure: any error AWS
/// answered (denied, not supported, invalid), except refused credentials, which would fail
/// the per-user calls too. Unreadable answers and transport failures are not.
fn allows_fallback(error: &ConnectorError) -> bool {
    matches!(error, ConnectorError::Api(e) if !is_credentials_error(&e.code))
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
