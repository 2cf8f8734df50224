//! Enrichment: the calls that complete each listed user, and the policies of its groups.
//!
//! Calls go out in rounds through the host's `send-all`: every user's first page of every
//! lookup together, then the next pages of the truncated ones. Group policies are looked up
//! once per group per run ([`GroupCache`]). A failed call leaves its field out of the
//! record, records the failure, and logs a warning: one failing call never drops the user.
//! A user whose own calls answer `NoSuchEntity` was deleted after ListUsers and is marked
//! for skipping.

use std::collections::{BTreeMap, HashMap};

use crate::error::ConnectorError;
use crate::host::{Host, HttpResponse, Level, TransportError};
use crate::model::{
    timestamp_ms, AccessKey, AttachedPolicy, CollectionError, Group, Tag, UserRecord,
};
use crate::paging::Pager;
use crate::query::responses::{
    GetLoginProfileResponse, GetUserResponse, ListAccessKeysResponse,
    ListAttachedGroupPoliciesResponse, ListAttachedUserPoliciesResponse, ListGroupPoliciesResponse,
    ListGroupsForUserResponse, ListMfaDevicesResponse, ListServiceSpecificCredentialsResponse,
    ListSigningCertificatesResponse, ListSshPublicKeysResponse, ListUserPoliciesResponse,
    ListUserTagsResponse, UserXml,
};
use crate::query::{self, ListResponse};

/// Most calls handed to the host in one `send-all`, so memory stays bounded per round.
const MAX_BATCH: usize = 256;

/// One IAM call (followed across its pages) that feeds one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// ListGroupsForUser → `user.groups`.
    GroupsForUser,
    /// ListMFADevices → `user.has_mfa`.
    MfaDevices,
    /// ListAccessKeys → `user.programmatic_credentials`, `unmapped.access_keys(_count)`.
    AccessKeys,
    /// GetLoginProfile → `unmapped.is_console_user` (`NoSuchEntity` means false).
    LoginProfile,
    /// ListUserTags → `unmapped.tags`.
    UserTags,
    /// ListUserPolicies → `unmapped.user_policies`.
    UserPolicies,
    /// ListAttachedUserPolicies → `unmapped.attached_policies`.
    AttachedUserPolicies,
    /// ListSSHPublicKeys → `unmapped.ssh_public_keys_count`.
    SshPublicKeys,
    /// ListSigningCertificates → `unmapped.signing_certificates_count`.
    SigningCertificates,
    /// ListServiceSpecificCredentials → `unmapped.service_specific_credentials_count`.
    ServiceSpecificCredentials,
    /// GetUser → `unmapped.password_last_used_time` (for users the bulk listing lacks it for).
    User,
    /// ListGroupPolicies → `user.groups[].privileges`.
    GroupPolicies,
    /// ListAttachedGroupPolicies → `user.groups[].privileges`.
    AttachedGroupPolicies,
}

impl Lookup {
    /// The lookups made for every user.
    pub const PER_USER: [Lookup; 10] = [
        Lookup::GroupsForUser,
        Lookup::MfaDevices,
        Lookup::AccessKeys,
        Lookup::LoginProfile,
        Lookup::UserTags,
        Lookup::UserPolicies,
        Lookup::AttachedUserPolicies,
        Lookup::SshPublicKeys,
        Lookup::SigningCertificates,
        Lookup::ServiceSpecificCredentials,
    ];

    /// The lookups made once per group.
    pub const PER_GROUP: [Lookup; 2] = [Lookup::GroupPolicies, Lookup::AttachedGroupPolicies];

    /// The IAM action.
    pub fn action(self) -> &'static str {
        match self {
            Self::GroupsForUser => ListGroupsForUserResponse::ACTION,
            Self::MfaDevices => ListMfaDevicesResponse::ACTION,
            Self::AccessKeys => ListAccessKeysResponse::ACTION,
            Self::LoginProfile => "GetLoginProfile",
            Self::User => "GetUser",
            Self::UserTags => ListUserTagsResponse::ACTION,
            Self::UserPolicies => ListUserPoliciesResponse::ACTION,
            Self::AttachedUserPolicies => ListAttachedUserPoliciesResponse::ACTION,
            Self::SshPublicKeys => ListSshPublicKeysResponse::ACTION,
            Self::SigningCertificates => ListSigningCertificatesResponse::ACTION,
            Self::ServiceSpecificCredentials => ListServiceSpecificCredentialsResponse::ACTION,
            Self::GroupPolicies => ListGroupPoliciesResponse::ACTION,
            Self::AttachedGroupPolicies => ListAttachedGroupPoliciesResponse::ACTION,
        }
    }

    /// The event attribute the lookup feeds, for log messages.
    fn field(self) -> &'static str {
        match self {
            Self::GroupsForUser => "user.groups",
            Self::MfaDevices => "user.has_mfa",
            Self::AccessKeys => "user.programmatic_credentials",
            Self::LoginProfile => "unmapped.is_console_user",
            Self::User => "unmapped.password_last_used_time",
            Self::UserTags => "unmapped.tags",
            Self::UserPolicies => "unmapped.user_policies",
            Self::AttachedUserPolicies => "unmapped.attached_policies",
            Self::SshPublicKeys => "unmapped.ssh_public_keys_count",
            Self::SigningCertificates => "unmapped.signing_certificates_count",
            Self::ServiceSpecificCredentials => "unmapped.service_specific_credentials_count",
            Self::GroupPolicies | Self::AttachedGroupPolicies => "user.groups[].privileges",
        }
    }

    fn pager(self, owner_name: &str, max_items: u32) -> Pager {
        match self {
            Self::LoginProfile | Self::User => {
                Pager::single(self.action(), vec![("UserName", owner_name.to_owned())])
            }
            Self::GroupPolicies | Self::AttachedGroupPolicies => Pager::new(
                self.action(),
                vec![("GroupName", owner_name.to_owned())],
                max_items,
            ),
            _ => Pager::new(
                self.action(),
                vec![("UserName", owner_name.to_owned())],
                max_items,
            ),
        }
    }

    /// Reads one response: what it found, `IsTruncated` and `Marker`.
    fn read(
        self,
        result: &Result<HttpResponse, TransportError>,
    ) -> Result<PageRead, ConnectorError> {
        match self {
            Self::GroupsForUser => list::<ListGroupsForUserResponse>(result, |i| {
                Found::Groups(i.map(Group::from).collect())
            }),
            Self::MfaDevices => list::<ListMfaDevicesResponse>(result, count),
            Self::User => query::parse_result::<GetUserResponse>(self.action(), result)
                .map(|response| (Found::User(response.result.user), false, None)),
            Self::AccessKeys => list::<ListAccessKeysResponse>(result, |i| {
                Found::AccessKeys(i.map(AccessKey::from).collect())
            }),
            Self::LoginProfile => {
                match query::parse_result::<GetLoginProfileResponse>(self.action(), result) {
                    Ok(_) => Ok((Found::ConsoleAccess(true), false, None)),
                    Err(ConnectorError::Api(e)) if e.code == NO_SUCH_ENTITY => {
                        Ok((Found::ConsoleAccess(false), false, None))
                    }
                    Err(e) => Err(e),
                }
            }
            Self::UserTags => {
                list::<ListUserTagsResponse>(result, |i| Found::Tags(i.map(Tag::from).collect()))
            }
            Self::UserPolicies => {
                list::<ListUserPoliciesResponse>(result, |i| Found::PolicyNames(i.collect()))
            }
            Self::GroupPolicies => {
                list::<ListGroupPoliciesResponse>(result, |i| Found::PolicyNames(i.collect()))
            }
            Self::AttachedUserPolicies => list::<ListAttachedUserPoliciesResponse>(result, |i| {
                Found::AttachedPolicies(i.map(AttachedPolicy::from).collect())
            }),
            Self::AttachedGroupPolicies => list::<ListAttachedGroupPoliciesResponse>(result, |i| {
                Found::AttachedPolicies(i.map(AttachedPolicy::from).collect())
            }),
            Self::SshPublicKeys => list::<ListSshPublicKeysResponse>(result, count),
            Self::SigningCertificates => list::<ListSigningCertificatesResponse>(result, count),
            Self::ServiceSpecificCredentials => {
                list::<ListServiceSpecificCredentialsResponse>(result, count)
            }
        }
    }
}

/// The AWS error code for a user, group or login profile that does not exist.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";

/// What one lookup gathered (all pages appended).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Groups(Vec<Group>),
    AccessKeys(Vec<AccessKey>),
    ConsoleAccess(bool),
    Tags(Vec<Tag>),
    PolicyNames(Vec<String>),
    AttachedPolicies(Vec<AttachedPolicy>),
    Count(u32),
    User(UserXml),
}

impl Found {
    /// Adds a later page of the same lookup.
    fn append(&mut self, page: Found) {
        match (self, page) {
            (Found::Groups(all), Found::Groups(more)) => all.extend(more),
            (Found::AccessKeys(all), Found::AccessKeys(more)) => all.extend(more),
            (Found::Tags(all), Found::Tags(more)) => all.extend(more),
            (Found::PolicyNames(all), Found::PolicyNames(more)) => all.extend(more),
            (Found::AttachedPolicies(all), Found::AttachedPolicies(more)) => all.extend(more),
            (Found::Count(all), Found::Count(more)) => *all = all.saturating_add(more),
            (all, more) => *all = more,
        }
    }
}

type PageRead = (Found, bool, Option<String>);

fn list<R: ListResponse>(
    result: &Result<HttpResponse, TransportError>,
    found: impl FnOnce(std::vec::IntoIter<R::Item>) -> Found,
) -> Result<PageRead, ConnectorError> {
    let page = query::parse_result::<R>(R::ACTION, result)?.into_page();
    Ok((
        found(page.items.into_iter()),
        page.is_truncated,
        page.marker,
    ))
}

fn count<T>(items: std::vec::IntoIter<T>) -> Found {
    Found::Count(u32::try_from(items.len()).unwrap_or(u32::MAX))
}

/// One lookup for one owner (a user or a group), followed page by page.
struct Job {
    owner: usize,
    lookup: Lookup,
    pager: Pager,
    found: Option<Found>,
}

impl Job {
    /// Reads one response; returns whether another page is needed.
    fn feed(
        &mut self,
        result: &Result<HttpResponse, TransportError>,
    ) -> Result<bool, ConnectorError> {
        let (found, is_truncated, marker) = self.lookup.read(result)?;
        match &mut self.found {
            Some(all) => all.append(found),
            None => self.found = Some(found),
        }
        self.pager.advance(is_truncated, marker)
    }
}

/// The end of one lookup.
struct Outcome {
    owner: usize,
    lookup: Lookup,
    result: Result<Found, ConnectorError>,
}

/// Runs `jobs` to completion in rounds; returns their outcomes.
fn run(host: &dyn Host, jobs: Vec<Job>) -> Vec<Outcome> {
    let mut active = jobs;
    let mut outcomes = Vec::new();
    while !active.is_empty() {
        let mut next = Vec::new();
        let mut jobs = active.into_iter().peekable();
        while jobs.peek().is_some() {
            let batch: Vec<Job> = jobs
                .by_ref()
                .take(host.max_batch().clamp(1, MAX_BATCH))
                .collect();
            let calls: Vec<_> = batch.iter().map(|job| job.pager.call()).collect();
            let mut results = host.send_all(&calls).into_iter();
            for mut job in batch {
                let result = results.next().unwrap_or_else(|| {
                    Err(TransportError::Refused(
                        "the host returned fewer results than calls".into(),
                    ))
                });
                let result = match job.feed(&result) {
                    Ok(true) => {
                        next.push(job);
                        continue;
                    }
                    Ok(false) => Ok(job.found.take().expect("a fed job has found something")),
                    Err(error) => Err(error),
                };
                outcomes.push(Outcome {
                    owner: job.owner,
                    lookup: job.lookup,
                    result,
                });
            }
        }
        active = next;
    }
    outcomes
}

/// A group's privileges: its inline policy names, then its attached policy names, each
/// sorted, so every strategy reports them the same way.
pub fn group_privileges(mut inline: Vec<String>, mut attached: Vec<String>) -> Vec<String> {
    inline.sort_unstable();
    attached.sort_unstable();
    inline.extend(attached);
    inline
}

/// A group's inline and attached policy names, as found.
type PolicyNames = (Vec<String>, Vec<String>);

/// Policy names of a group, or the failure that left them unknown.
type Privileges = Result<Vec<String>, CollectionError>;

/// Groups' privileges, looked up once per group and kept for the whole collection.
#[derive(Debug, Default)]
pub struct GroupCache {
    by_name: HashMap<String, Privileges>,
}

impl GroupCache {
    /// Number of groups looked up so far.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether no group was looked up yet.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Completes `records` with every per-user lookup and their groups' privileges (looking up
/// groups not yet in `cache`).
pub fn enrich(host: &dyn Host, records: &mut [UserRecord], max_items: u32, cache: &mut GroupCache) {
    look_up(host, records, max_items, |_| &Lookup::PER_USER);
    look_up_groups(host, records, max_items, cache);
    for record in records.iter_mut().filter(|r| !r.deleted) {
        apply_privileges(record, cache);
    }
}

/// Runs, for each record, the lookups `which` picks for it, and fills the record with what
/// they found (failures recorded and warned about, deleted users marked and logged).
pub fn look_up<'l>(
    host: &dyn Host,
    records: &mut [UserRecord],
    max_items: u32,
    which: impl Fn(&UserRecord) -> &'l [Lookup],
) {
    let jobs = records
        .iter()
        .enumerate()
        .flat_map(|(owner, record)| {
            which(record).iter().map(move |&lookup| Job {
                owner,
                lookup,
                pager: lookup.pager(&record.user.name, max_items),
                found: None,
            })
        })
        .collect();
    let outcomes = run(host, jobs);
    let mut warnings = Warnings::new(host);
    for outcome in outcomes {
        apply_to_user(
            &mut warnings,
            &mut records[outcome.owner],
            outcome.lookup,
            outcome.result,
        );
    }
    warnings.finish();
    for record in records.iter().filter(|r| r.deleted) {
        host.log(
            Level::Info,
            &format!(
                "user {:?} was deleted during the collection (NoSuchEntity); skipped",
                record.user.name
            ),
        );
    }
}

fn apply_to_user(
    warnings: &mut Warnings<'_>,
    record: &mut UserRecord,
    lookup: Lookup,
    result: Result<Found, ConnectorError>,
) {
    let found = match result {
        Ok(found) => found,
        Err(ConnectorError::Api(e)) if e.code == NO_SUCH_ENTITY => {
            record.deleted = true;
            return;
        }
        Err(error) => {
            warnings.warn(lookup.action(), error.code(), || {
                format!(
                    "user {:?}: {error}; {} left out",
                    record.user.name,
                    lookup.field()
                )
            });
            record.errors.push(CollectionError {
                action: lookup.action().to_owned(),
                code: error.code().to_owned(),
            });
            return;
        }
    };
    match (lookup, found) {
        (_, Found::Groups(groups)) => record.groups = Some(groups),
        (Lookup::MfaDevices, Found::Count(n)) => record.has_mfa = Some(n > 0),
        (_, Found::AccessKeys(keys)) => record.access_keys = Some(keys),
        (_, Found::ConsoleAccess(console)) => record.console_access = Some(console),
        (_, Found::Tags(tags)) => record.tags = Some(tags),
        (_, Found::PolicyNames(names)) => record.user_policies = Some(names),
        (_, Found::AttachedPolicies(policies)) => record.attached_policies = Some(policies),
        (Lookup::SshPublicKeys, Found::Count(n)) => record.ssh_public_keys = Some(n),
        (Lookup::SigningCertificates, Found::Count(n)) => record.signing_certificates = Some(n),
        (_, Found::Count(n)) => record.service_specific_credentials = Some(n),
        (_, Found::User(user)) => {
            record.user.password_last_used_ms =
                user.password_last_used.as_deref().and_then(timestamp_ms)
        }
    }
}

/// Warnings about failed calls, at most [`Warnings::PER_KIND`] per action and code and
/// page, then one line with how many more: a large account denied one action must not
/// flood the log (the summary counts them all).
struct Warnings<'a> {
    host: &'a dyn Host,
    counts: BTreeMap<(&'static str, String), u32>,
}

impl<'a> Warnings<'a> {
    const PER_KIND: u32 = 3;

    fn new(host: &'a dyn Host) -> Self {
        Self {
            host,
            counts: BTreeMap::new(),
        }
    }

    fn warn(&mut self, action: &'static str, code: &str, message: impl FnOnce() -> String) {
        let count = self.counts.entry((action, code.to_owned())).or_default();
        *count += 1;
        if *count <= Self::PER_KIND {
            self.host.log(Level::Warn, &message());
        }
    }

    fn finish(self) {
        for ((action, code), count) in self.counts {
            if count > Self::PER_KIND {
                self.host.log(
                    Level::Warn,
                    &format!(
                        "{action} failed with {code} for {} more users on this page; those fields are left out",
                        count - Self::PER_KIND
                    ),
                );
            }
        }
    }
}

/// Looks up the groups of `records` missing from `cache`.
fn look_up_groups(host: &dyn Host, records: &[UserRecord], max_items: u32, cache: &mut GroupCache) {
    let mut names: Vec<String> = records
        .iter()
        .filter(|r| !r.deleted)
        .flat_map(|r| r.groups.iter().flatten())
        .filter(|g| !cache.by_name.contains_key(&g.name))
        .map(|g| g.name.clone())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return;
    }
    let jobs = names
        .iter()
        .enumerate()
        .flat_map(|(owner, name)| {
            Lookup::PER_GROUP.map(|lookup| Job {
                owner,
                lookup,
                pager: lookup.pager(name, max_items),
                found: None,
            })
        })
        .collect();
    let outcomes = run(host, jobs);
    // Per group: inline names, attached names, or the failure that left them unknown.
    let mut found: Vec<Result<PolicyNames, CollectionError>> =
        vec![Ok((Vec::new(), Vec::new())); names.len()];
    for outcome in outcomes {
        match (outcome.result, &mut found[outcome.owner]) {
            (_, Err(_)) => {}
            (Ok(Found::PolicyNames(names)), Ok((inline, _))) => inline.extend(names),
            (Ok(Found::AttachedPolicies(policies)), Ok((_, attached))) => {
                attached.extend(policies.into_iter().map(|p| p.name))
            }
            (Ok(_), Ok(_)) => {}
            (Err(error), entry) => {
                host.log(
                    Level::Warn,
                    &format!(
                        "group {:?}: {error}; {} left out",
                        names[outcome.owner],
                        outcome.lookup.field()
                    ),
                );
                *entry = Err(CollectionError {
                    action: outcome.lookup.action().to_owned(),
                    code: error.code().to_owned(),
                });
            }
        }
    }
    let privileges = found
        .into_iter()
        .map(|f| f.map(|(inline, attached)| group_privileges(inline, attached)));
    cache.by_name.extend(names.into_iter().zip(privileges));
}

fn apply_privileges(record: &mut UserRecord, cache: &GroupCache) {
    let Some(groups) = record.groups.as_mut() else {
        return;
    };
    for group in groups {
        match cache.by_name.get(&group.name) {
            Some(Ok(privileges)) => group.privileges = Some(privileges.clone()),
            Some(Err(error)) if !record.errors.contains(error) => record.errors.push(error.clone()),
            Some(Err(_)) | None => {}
        }
    }
}
