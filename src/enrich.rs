//! Per-user enrichment: the List* calls that complete a listed user, sent in rounds.
//!
//! Every user's calls for the current page of each listing go out together through the
//! host's `send-all`; a truncated listing puts its next page in the following round. A
//! failed call leaves its field out of that user's record, records the failure, and logs
//! a warning: one failing call never drops the user or the page.

use crate::error::ConnectorError;
use crate::host::{Host, HttpResponse, Level, TransportError};
use crate::model::{CollectionError, Group, MfaDevice, UserRecord};
use crate::paging::Pager;
use crate::query::responses::{ListGroupsForUserResponse, ListMfaDevicesResponse};
use crate::query::{self, ListResponse};

/// Most calls handed to the host in one `send-all`, so memory stays bounded per round.
const MAX_BATCH: usize = 256;

/// A listing that feeds one field of a user's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// ListGroupsForUser → `groups`.
    GroupsForUser,
    /// ListMFADevices → `mfa_devices`.
    MfaDevices,
}

impl Lookup {
    /// Every lookup made for each user.
    pub const ALL: [Lookup; 2] = [Lookup::GroupsForUser, Lookup::MfaDevices];

    /// The IAM action.
    pub fn action(self) -> &'static str {
        match self {
            Self::GroupsForUser => ListGroupsForUserResponse::ACTION,
            Self::MfaDevices => ListMfaDevicesResponse::ACTION,
        }
    }

    /// The record field the listing feeds, for log messages.
    fn field(self) -> &'static str {
        match self {
            Self::GroupsForUser => "user.groups",
            Self::MfaDevices => "user.has_mfa",
        }
    }
}

/// Items gathered so far by one listing.
enum Found {
    Groups(Vec<Group>),
    MfaDevices(Vec<MfaDevice>),
}

struct Job {
    user: usize,
    lookup: Lookup,
    pager: Pager,
    found: Found,
}

impl Job {
    fn new(user: usize, user_name: &str, lookup: Lookup, max_items: u32) -> Self {
        let params = vec![("UserName", user_name.to_owned())];
        let found = match lookup {
            Lookup::GroupsForUser => Found::Groups(Vec::new()),
            Lookup::MfaDevices => Found::MfaDevices(Vec::new()),
        };
        Self {
            user,
            lookup,
            pager: Pager::new(lookup.action(), params, max_items),
            found,
        }
    }

    /// Reads one page into the job; returns whether another page is needed.
    fn feed(
        &mut self,
        result: &Result<HttpResponse, TransportError>,
    ) -> Result<bool, ConnectorError> {
        let (is_truncated, marker) = match &mut self.found {
            Found::Groups(items) => {
                read::<ListGroupsForUserResponse, _>(result, items, Group::from)?
            }
            Found::MfaDevices(items) => {
                read::<ListMfaDevicesResponse, _>(result, items, MfaDevice::from)?
            }
        };
        self.pager.advance(is_truncated, marker)
    }

    fn finish(self, record: &mut UserRecord) {
        match self.found {
            Found::Groups(groups) => record.groups = Some(groups),
            Found::MfaDevices(devices) => record.mfa_devices = Some(devices),
        }
    }
}

/// Appends a page's items to `into`; returns its `IsTruncated` and `Marker`.
fn read<R: ListResponse, T>(
    result: &Result<HttpResponse, TransportError>,
    into: &mut Vec<T>,
    convert: impl Fn(R::Item) -> T,
) -> Result<(bool, Option<String>), ConnectorError> {
    let page = query::parse_result::<R>(R::ACTION, result)?.into_page();
    into.extend(page.items.into_iter().map(convert));
    Ok((page.is_truncated, page.marker))
}

/// Completes `records` with every [`Lookup`]; returns the number of calls sent.
pub fn enrich(host: &dyn Host, records: &mut [UserRecord], max_items: u32) -> u32 {
    let mut active: Vec<Job> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| Lookup::ALL.map(|lookup| Job::new(i, &r.user.name, lookup, max_items)))
        .collect();
    let mut api_calls = 0u32;
    while !active.is_empty() {
        let mut next = Vec::new();
        let mut jobs = active.into_iter().peekable();
        while jobs.peek().is_some() {
            let batch: Vec<Job> = jobs.by_ref().take(MAX_BATCH).collect();
            let calls: Vec<_> = batch.iter().map(|job| job.pager.call()).collect();
            let mut results = host.send_all(&calls).into_iter();
            api_calls = api_calls.saturating_add(calls.len() as u32);
            for mut job in batch {
                let result = results.next().unwrap_or_else(|| {
                    Err(TransportError::Refused(
                        "the host returned fewer results than calls".into(),
                    ))
                });
                match job.feed(&result) {
                    Ok(true) => next.push(job),
                    Ok(false) => {
                        let user = job.user;
                        job.finish(&mut records[user]);
                    }
                    Err(error) => fail(host, &mut records[job.user], job.lookup, &error),
                }
            }
        }
        active = next;
    }
    api_calls
}

fn fail(host: &dyn Host, record: &mut UserRecord, lookup: Lookup, error: &ConnectorError) {
    host.log(
        Level::Warn,
        &format!(
            "user {:?}: {error}; {} left out",
            record.user.name,
            lookup.field()
        ),
    );
    record.errors.push(CollectionError {
        action: lookup.action().to_owned(),
        code: error.code().to_owned(),
    });
}
