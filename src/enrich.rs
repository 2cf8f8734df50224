//! Enrichment: the calls that complete each listed user, the policies of its groups and the
//! documents the administrator rule reads.
//!
//! Calls go out in rounds through the host's `send-all`: every user's first page of every
//! lookup together, then the next pages of the truncated ones; then the calls about single
//! items the first round named (each access key's last use, each inline policy's document).
//! Group policies are looked up once per group per run ([`GroupCache`]), customer-managed
//! policy documents once per policy per run ([`ManagedDocuments`]). A failed call leaves its
//! field out of the record, records the failure, and logs a warning: one failing call never
//! drops the user. A user whose own calls answer `NoSuchEntity` was deleted after ListUsers
//! and is marked for skipping.

use std::collections::{BTreeMap, HashMap};

use crate::admin::{self, GroupPolicies, ManagedDocuments};
use crate::error::ConnectorError;
use crate::host::{Host, HttpResponse, Level, TransportError};
use crate::model::{
    AccessKey, AttachedPolicy, CollectionError, ConsolePassword, Credential, Group, InlinePolicy,
    LastUsed, MfaDevice, RecordField, ServiceCredential, Tag, UserRecord,
};
use crate::ocsf;
use crate::paging::Pager;
use crate::policy::PolicyDocument;
use crate::query::convert::{document, UserFacts};
use crate::query::responses::{
    GetAccessKeyLastUsedResponse, GetGroupPolicyResponse, GetLoginProfileResponse,
    GetPolicyResponse, GetPolicyVersionResponse, GetUserPolicyResponse, GetUserResponse,
    ListAccessKeysResponse, ListAttachedGroupPoliciesResponse, ListAttachedUserPoliciesResponse,
    ListGroupPoliciesResponse, ListGroupsForUserResponse, ListMfaDevicesResponse,
    ListServiceSpecificCredentialsResponse, ListSigningCertificatesResponse,
    ListSshPublicKeysResponse, ListUserPoliciesResponse, ListUserTagsResponse,
};
use crate::query::{self, ListResponse, Operation};

/// Most calls handed to the host in one `send-all`, so memory and the retry budget stay
/// bounded per round ([`crate::retry::MAX_BATCH_CALLS`]).
const MAX_BATCH: usize = 256;

/// One IAM call (followed across its pages) that feeds one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// ListGroupsForUser → `user.groups`.
    GroupsForUser,
    /// ListMFADevices → `user.has_mfa`, `unmapped.mfa_devices`.
    MfaDevices,
    /// ListAccessKeys → `user.programmatic_credentials`, `unmapped.access_keys(_count)`.
    AccessKeys,
    /// GetLoginProfile → `unmapped.is_console_user` (`NoSuchEntity` means false) and the
    /// password's facts.
    LoginProfile,
    /// ListUserTags → `unmapped.tags`.
    UserTags,
    /// ListUserPolicies → `unmapped.user_policies`.
    UserPolicies,
    /// ListAttachedUserPolicies → `unmapped.attached_policies`.
    AttachedUserPolicies,
    /// ListSSHPublicKeys → `unmapped.ssh_public_keys`.
    SshPublicKeys,
    /// ListSigningCertificates → `unmapped.signing_certificates`.
    SigningCertificates,
    /// ListServiceSpecificCredentials → `unmapped.service_specific_credentials`.
    ServiceSpecificCredentials,
    /// GetUser → `unmapped.permissions_boundary`, and `unmapped.password_last_used_time`
    /// for users the bulk listing lacks it for.
    User,
    /// GetAccessKeyLastUsed (one key) → `programmatic_credentials[].last_used_time`.
    AccessKeyLastUsed,
    /// GetUserPolicy (one inline policy) → the administrator rule.
    UserPolicy,
    /// ListGroupPolicies → `user.groups[].privileges`.
    GroupPolicies,
    /// ListAttachedGroupPolicies → `user.groups[].privileges`.
    AttachedGroupPolicies,
    /// GetGroupPolicy (one inline policy) → the administrator rule.
    GroupPolicy,
    /// GetPolicy (a customer-managed policy's default version) → the administrator rule.
    Policy,
    /// GetPolicyVersion (its document) → the administrator rule.
    PolicyVersion,
}

impl Lookup {
    /// The lookups made for every user by the per-user strategy.
    pub const PER_USER: [Lookup; 11] = [
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
        Lookup::User,
    ];

    /// The lookups made once per group.
    pub const PER_GROUP: [Lookup; 2] = [Lookup::GroupPolicies, Lookup::AttachedGroupPolicies];

    /// The IAM action.
    pub fn action(self) -> &'static str {
        match self {
            Self::GroupsForUser => ListGroupsForUserResponse::ACTION,
            Self::MfaDevices => ListMfaDevicesResponse::ACTION,
            Self::AccessKeys => ListAccessKeysResponse::ACTION,
            Self::LoginProfile => GetLoginProfileResponse::ACTION,
            Self::User => GetUserResponse::ACTION,
            Self::UserTags => ListUserTagsResponse::ACTION,
            Self::UserPolicies => ListUserPoliciesResponse::ACTION,
            Self::AttachedUserPolicies => ListAttachedUserPoliciesResponse::ACTION,
            Self::SshPublicKeys => ListSshPublicKeysResponse::ACTION,
            Self::SigningCertificates => ListSigningCertificatesResponse::ACTION,
            Self::ServiceSpecificCredentials => ListServiceSpecificCredentialsResponse::ACTION,
            Self::AccessKeyLastUsed => GetAccessKeyLastUsedResponse::ACTION,
            Self::UserPolicy => GetUserPolicyResponse::ACTION,
            Self::GroupPolicies => ListGroupPoliciesResponse::ACTION,
            Self::AttachedGroupPolicies => ListAttachedGroupPoliciesResponse::ACTION,
            Self::GroupPolicy => GetGroupPolicyResponse::ACTION,
            Self::Policy => GetPolicyResponse::ACTION,
            Self::PolicyVersion => GetPolicyVersionResponse::ACTION,
        }
    }

    /// What the lookup feeds.
    fn feeds(self) -> RecordField {
        match self {
            Self::GroupsForUser => RecordField::Groups,
            Self::MfaDevices => RecordField::HasMfa,
            Self::AccessKeys => RecordField::AccessKeys,
            Self::LoginProfile => RecordField::ConsoleAccess,
            Self::User => RecordField::PermissionsBoundary,
            Self::UserTags => RecordField::Tags,
            Self::UserPolicies => RecordField::UserPolicies,
            Self::AttachedUserPolicies => RecordField::AttachedPolicies,
            Self::SshPublicKeys => RecordField::SshPublicKeys,
            Self::SigningCertificates => RecordField::SigningCertificates,
            Self::ServiceSpecificCredentials => RecordField::ServiceSpecificCredentials,
            Self::AccessKeyLastUsed => RecordField::AccessKeyLastUsed,
            Self::GroupPolicies | Self::AttachedGroupPolicies => RecordField::GroupPrivileges,
            Self::UserPolicy | Self::GroupPolicy | Self::Policy | Self::PolicyVersion => {
                RecordField::PolicyDocument
            }
        }
    }

    /// Whether `NoSuchEntity` from this call means its user is gone (the per-user List*
    /// and Get* calls that name only the user).
    fn names_only_the_user(self) -> bool {
        Lookup::PER_USER.contains(&self) && self != Lookup::LoginProfile
    }

    /// The call for `owner` (a user or group name) and, for the calls about one item of
    /// it, `subject` (an access key id, a policy name or ARN, or `ARN version`).
    fn pager(self, owner: &str, subject: &str, max_items: u32) -> Pager {
        let one = |params: Vec<(&'static str, &str)>| {
            Pager::single(
                self.action(),
                params.into_iter().map(|(k, v)| (k, v.to_owned())).collect(),
            )
        };
        match self {
            Self::LoginProfile | Self::User => one(vec![("UserName", owner)]),
            Self::AccessKeyLastUsed => one(vec![("AccessKeyId", subject)]),
            Self::UserPolicy => one(vec![("UserName", owner), ("PolicyName", subject)]),
            Self::GroupPolicy => one(vec![("GroupName", owner), ("PolicyName", subject)]),
            Self::Policy => one(vec![("PolicyArn", subject)]),
            Self::PolicyVersion => {
                let (arn, version) = subject.rsplit_once(' ').unwrap_or((subject, ""));
                one(vec![("PolicyArn", arn), ("VersionId", version)])
            }
            Self::GroupPolicies | Self::AttachedGroupPolicies => Pager::new(
                self.action(),
                vec![("GroupName", owner.to_owned())],
                max_items,
            ),
            Self::GroupsForUser
            | Self::MfaDevices
            | Self::AccessKeys
            | Self::UserTags
            | Self::UserPolicies
            | Self::AttachedUserPolicies
            | Self::SshPublicKeys
            | Self::SigningCertificates
            | Self::ServiceSpecificCredentials => Pager::new(
                self.action(),
                vec![("UserName", owner.to_owned())],
                max_items,
            ),
        }
    }

    /// Reads one response: what it found, `IsTruncated` and `Marker`.
    fn read(
        self,
        result: &Result<HttpResponse, TransportError>,
    ) -> Result<PageRead, ConnectorError> {
        let single = |found: Found| Ok((found, false, None));
        match self {
            Self::GroupsForUser => list::<ListGroupsForUserResponse>(result, |i| {
                Found::Groups(i.map(Group::from).collect())
            }),
            Self::MfaDevices => list::<ListMfaDevicesResponse>(result, |i| {
                Found::MfaDevices(i.map(MfaDevice::from).collect())
            }),
            Self::User => query::parse_result::<GetUserResponse>(result)
                .and_then(|response| single(Found::User(response.result.user.into()))),
            Self::AccessKeys => list::<ListAccessKeysResponse>(result, |i| {
                Found::AccessKeys(i.map(AccessKey::from).collect())
            }),
            Self::LoginProfile => match query::parse_result::<GetLoginProfileResponse>(result) {
                Ok(response) => single(Found::LoginProfile(Some(
                    response.result.login_profile.into(),
                ))),
                Err(ConnectorError::Api(e)) if e.code == NO_SUCH_ENTITY => {
                    single(Found::LoginProfile(None))
                }
                Err(e) => Err(e),
            },
            Self::UserTags => {
                list::<ListUserTagsResponse>(result, |i| Found::Tags(i.map(Tag::from).collect()))
            }
            Self::UserPolicies => {
                list::<ListUserPoliciesResponse>(result, |i| Found::UserPolicyNames(i.collect()))
            }
            Self::GroupPolicies => {
                list::<ListGroupPoliciesResponse>(result, |i| Found::GroupPolicyNames(i.collect()))
            }
            Self::AttachedUserPolicies => list::<ListAttachedUserPoliciesResponse>(result, |i| {
                Found::UserAttachedPolicies(i.map(AttachedPolicy::from).collect())
            }),
            Self::AttachedGroupPolicies => list::<ListAttachedGroupPoliciesResponse>(result, |i| {
                Found::GroupAttachedPolicies(i.map(AttachedPolicy::from).collect())
            }),
            Self::SshPublicKeys => list::<ListSshPublicKeysResponse>(result, |i| {
                Found::SshPublicKeys(i.map(Credential::from).collect())
            }),
            Self::SigningCertificates => list::<ListSigningCertificatesResponse>(result, |i| {
                Found::SigningCertificates(i.map(Credential::from).collect())
            }),
            Self::ServiceSpecificCredentials => {
                list::<ListServiceSpecificCredentialsResponse>(result, |i| {
                    Found::ServiceCredentials(i.map(ServiceCredential::from).collect())
                })
            }
            Self::AccessKeyLastUsed => {
                let used = query::parse_result::<GetAccessKeyLastUsedResponse>(result)?
                    .result
                    .access_key_last_used;
                single(Found::LastUsed(used.into()))
            }
            Self::UserPolicy => {
                let response = query::parse_result::<GetUserPolicyResponse>(result)?;
                single(Found::UserPolicyDocument(document(
                    self.action(),
                    &response.result.policy_document,
                )?))
            }
            Self::GroupPolicy => {
                let response = query::parse_result::<GetGroupPolicyResponse>(result)?;
                single(Found::GroupPolicyDocument(document(
                    self.action(),
                    &response.result.policy_document,
                )?))
            }
            Self::Policy => {
                let response = query::parse_result::<GetPolicyResponse>(result)?;
                single(Found::DefaultVersion(
                    response.result.policy.default_version_id,
                ))
            }
            Self::PolicyVersion => {
                let version = query::parse_result::<GetPolicyVersionResponse>(result)?
                    .result
                    .policy_version;
                let text = version.document.ok_or_else(|| {
                    ConnectorError::malformed(
                        self.action(),
                        200,
                        "the policy version has no Document",
                    )
                })?;
                single(Found::PolicyVersionDocument(document(
                    self.action(),
                    &text,
                )?))
            }
        }
    }
}

/// The AWS error code for a user, group or login profile that does not exist.
const NO_SUCH_ENTITY: &str = "NoSuchEntity";

/// What one lookup gathered (all pages appended): one variant per [`Lookup`], so each
/// result has one place in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    /// [`Lookup::GroupsForUser`].
    Groups(Vec<Group>),
    /// [`Lookup::MfaDevices`].
    MfaDevices(Vec<MfaDevice>),
    /// [`Lookup::AccessKeys`].
    AccessKeys(Vec<AccessKey>),
    /// [`Lookup::LoginProfile`]: the password, `None` when the user has none.
    LoginProfile(Option<ConsolePassword>),
    /// [`Lookup::UserTags`].
    Tags(Vec<Tag>),
    /// [`Lookup::UserPolicies`].
    UserPolicyNames(Vec<String>),
    /// [`Lookup::AttachedUserPolicies`].
    UserAttachedPolicies(Vec<AttachedPolicy>),
    /// [`Lookup::SshPublicKeys`].
    SshPublicKeys(Vec<Credential>),
    /// [`Lookup::SigningCertificates`].
    SigningCertificates(Vec<Credential>),
    /// [`Lookup::ServiceSpecificCredentials`].
    ServiceCredentials(Vec<ServiceCredential>),
    /// [`Lookup::User`].
    User(UserFacts),
    /// [`Lookup::AccessKeyLastUsed`].
    LastUsed(LastUsed),
    /// [`Lookup::UserPolicy`].
    UserPolicyDocument(PolicyDocument),
    /// [`Lookup::GroupPolicies`].
    GroupPolicyNames(Vec<String>),
    /// [`Lookup::AttachedGroupPolicies`].
    GroupAttachedPolicies(Vec<AttachedPolicy>),
    /// [`Lookup::GroupPolicy`].
    GroupPolicyDocument(PolicyDocument),
    /// [`Lookup::Policy`]: the default version's id.
    DefaultVersion(String),
    /// [`Lookup::PolicyVersion`].
    PolicyVersionDocument(PolicyDocument),
}

impl Found {
    /// Adds a later page of the same lookup.
    fn append(&mut self, page: Found) {
        match (self, page) {
            (Found::Groups(all), Found::Groups(more)) => all.extend(more),
            (Found::MfaDevices(all), Found::MfaDevices(more)) => all.extend(more),
            (Found::AccessKeys(all), Found::AccessKeys(more)) => all.extend(more),
            (Found::Tags(all), Found::Tags(more)) => all.extend(more),
            (Found::UserPolicyNames(all), Found::UserPolicyNames(more)) => all.extend(more),
            (Found::UserAttachedPolicies(all), Found::UserAttachedPolicies(more)) => {
                all.extend(more)
            }
            (Found::SshPublicKeys(all), Found::SshPublicKeys(more)) => all.extend(more),
            (Found::SigningCertificates(all), Found::SigningCertificates(more)) => all.extend(more),
            (Found::ServiceCredentials(all), Found::ServiceCredentials(more)) => all.extend(more),
            (Found::GroupPolicyNames(all), Found::GroupPolicyNames(more)) => all.extend(more),
            (Found::GroupAttachedPolicies(all), Found::GroupAttachedPolicies(more)) => {
                all.extend(more)
            }
            // A lookup of one call has one page; a job's pages are all of its lookup's kind.
            (all, more) => *all = more,
        }
    }
}

type PageRead = (Found, bool, Option<String>);

fn list<R: ListResponse>(
    result: &Result<HttpResponse, TransportError>,
    found: impl FnOnce(std::vec::IntoIter<R::Item>) -> Found,
) -> Result<PageRead, ConnectorError> {
    let page = query::parse_result::<R>(result)?.into_page();
    Ok((
        found(page.items.into_iter()),
        page.is_truncated,
        page.marker,
    ))
}

/// One lookup for one owner (a user, a group or a managed policy, by index in the
/// caller's list) and, for per-item calls, one subject of it; followed page by page.
struct Job {
    owner: usize,
    subject: String,
    lookup: Lookup,
    pager: Pager,
    found: Option<Found>,
}

impl Job {
    fn new(
        owner: usize,
        owner_name: &str,
        lookup: Lookup,
        subject: String,
        max_items: u32,
    ) -> Self {
        Self {
            pager: lookup.pager(owner_name, &subject, max_items),
            owner,
            subject,
            lookup,
            found: None,
        }
    }

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
    subject: String,
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
                let result = results
                    .next()
                    .unwrap_or_else(|| Err(TransportError::missing()));
                let result = match job.feed(&result) {
                    Ok(true) => {
                        next.push(job);
                        continue;
                    }
                    Ok(false) => job.found.take().ok_or_else(|| {
                        ConnectorError::malformed(job.lookup.action(), 200, "no page was read")
                    }),
                    Err(error) => Err(error),
                };
                outcomes.push(Outcome {
                    owner: job.owner,
                    subject: job.subject,
                    lookup: job.lookup,
                    result,
                });
            }
        }
        active = next;
    }
    outcomes
}

/// Groups' policies, looked up once per group and kept for the whole collection:
/// the policies, or the failure that left them unknown.
#[derive(Debug, Default)]
pub struct GroupCache {
    by_name: HashMap<String, Result<GroupPolicies, CollectionError>>,
}

impl GroupCache {
    /// Number of groups looked up so far.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether no group was looked up yet.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The policies of group `name`, if they were read.
    pub fn get(&self, name: &str) -> Option<&GroupPolicies> {
        self.by_name.get(name).and_then(|found| found.as_ref().ok())
    }
}

/// Completes `records` with every per-user lookup, the last use of each access key, the
/// documents of their inline policies, their groups' policies (looking up groups not yet
/// in `groups`) and the customer-managed policies not yet in `managed`; then judges each
/// user with the administrator rule.
pub fn enrich(
    host: &dyn Host,
    records: &mut [UserRecord],
    max_items: u32,
    groups: &mut GroupCache,
    managed: &mut ManagedDocuments,
) {
    look_up(host, records, max_items, |_| Lookup::PER_USER.to_vec());
    look_up_groups(host, records, max_items, groups);
    look_up_details(host, records, max_items);
    let attached = records
        .iter()
        .filter(|r| !r.deleted)
        .flat_map(|r| {
            let groups_attached = r
                .groups
                .iter()
                .flatten()
                .filter_map(|g| groups.get(&g.name))
                .flat_map(|p| p.attached.iter());
            r.attached_policies
                .iter()
                .flatten()
                .chain(groups_attached)
                .map(|p| p.arn.as_str())
                .chain(r.permissions_boundary.iter().flatten().map(String::as_str))
        })
        .map(str::to_owned)
        .collect::<Vec<_>>();
    look_up_managed(host, attached, managed);
    for record in records.iter_mut().filter(|r| !r.deleted) {
        apply_privileges(record, groups);
        record.admin = Some(admin::assess(record, |name| groups.get(name), managed));
    }
}

/// Runs, for each record, the lookups `which` picks for it, and fills the record with what
/// they found (failures recorded and warned about, deleted users marked and logged).
pub fn look_up(
    host: &dyn Host,
    records: &mut [UserRecord],
    max_items: u32,
    which: impl Fn(&UserRecord) -> Vec<Lookup>,
) {
    let jobs = records
        .iter()
        .enumerate()
        .flat_map(|(owner, record)| {
            which(record).into_iter().map(move |lookup| {
                Job::new(owner, &record.user.name, lookup, String::new(), max_items)
            })
        })
        .collect();
    apply_outcomes(host, records, run(host, jobs));
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

/// The calls about single items of each user: GetAccessKeyLastUsed for every access key
/// whose last use is unknown, GetUserPolicy for every inline policy whose document is
/// unknown.
pub fn look_up_details(host: &dyn Host, records: &mut [UserRecord], max_items: u32) {
    let jobs = records
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.deleted)
        .flat_map(|(owner, record)| {
            let name = &record.user.name;
            let keys = record
                .access_keys
                .iter()
                .flatten()
                .filter(|k| k.last_used.is_none())
                .map(move |k| {
                    Job::new(
                        owner,
                        name,
                        Lookup::AccessKeyLastUsed,
                        k.id.clone(),
                        max_items,
                    )
                });
            let policies = record
                .user_policies
                .iter()
                .flatten()
                .filter(|p| p.document.is_none())
                .map(move |p| Job::new(owner, name, Lookup::UserPolicy, p.name.clone(), max_items));
            keys.chain(policies)
        })
        .collect();
    apply_outcomes(host, records, run(host, jobs));
}

/// Fills records with the outcomes of their lookups, with at most a few warnings per
/// action and code.
fn apply_outcomes(host: &dyn Host, records: &mut [UserRecord], outcomes: Vec<Outcome>) {
    let mut warnings = Warnings::new(host);
    for outcome in outcomes {
        apply_to_user(&mut warnings, &mut records[outcome.owner], outcome);
    }
    warnings.finish();
}

fn apply_to_user(warnings: &mut Warnings<'_>, record: &mut UserRecord, outcome: Outcome) {
    let Outcome {
        lookup,
        subject,
        result,
        ..
    } = outcome;
    let found = match result {
        Ok(found) => found,
        Err(ConnectorError::Api(e)) if e.code == NO_SUCH_ENTITY && lookup.names_only_the_user() => {
            record.deleted = true;
            return;
        }
        Err(error) => {
            warnings.warn(lookup.action(), error.code(), || {
                format!(
                    "user {:?}: {error}; {} left out",
                    record.user.name,
                    ocsf::attribute(lookup.feeds())
                )
            });
            record.failed(lookup.action(), error.code());
            return;
        }
    };
    match found {
        Found::Groups(groups) => record.groups = Some(groups),
        Found::MfaDevices(devices) => {
            record.has_mfa = Some(!devices.is_empty());
            record.mfa_devices = Some(devices);
        }
        Found::AccessKeys(keys) => record.access_keys = Some(keys),
        Found::LoginProfile(password) => {
            record.console_access = Some(password.is_some());
            record.console_password = password;
        }
        Found::Tags(tags) => record.tags = Some(tags),
        Found::UserPolicyNames(names) => {
            record.user_policies = Some(
                names
                    .into_iter()
                    .map(|name| InlinePolicy {
                        name,
                        document: None,
                    })
                    .collect(),
            )
        }
        Found::UserAttachedPolicies(policies) => record.attached_policies = Some(policies),
        Found::SshPublicKeys(keys) => record.ssh_public_keys = Some(keys),
        Found::SigningCertificates(certificates) => {
            record.signing_certificates = Some(certificates)
        }
        Found::ServiceCredentials(credentials) => {
            record.service_specific_credentials = Some(credentials)
        }
        Found::User(user) => {
            if let Some(ms) = user.password_last_used_ms {
                record.user.password_last_used_ms = Some(ms);
            }
            record.permissions_boundary = Some(user.permissions_boundary);
        }
        Found::LastUsed(used) => {
            if let Some(key) = record
                .access_keys
                .iter_mut()
                .flatten()
                .find(|k| k.id == subject)
            {
                key.last_used = Some(used);
            }
        }
        Found::UserPolicyDocument(document) => {
            if let Some(policy) = record
                .user_policies
                .iter_mut()
                .flatten()
                .find(|p| p.name == subject)
            {
                policy.document = Some(document);
            }
        }
        // A group's or a managed policy's lookups: what they find is not the user's (they
        // are never run for a user).
        Found::GroupPolicyNames(_)
        | Found::GroupAttachedPolicies(_)
        | Found::GroupPolicyDocument(_)
        | Found::DefaultVersion(_)
        | Found::PolicyVersionDocument(_) => {}
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

/// Looks up the groups of `records` missing from `cache`: their inline and attached
/// policies, then the document of each inline policy.
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
            Lookup::PER_GROUP.map(|lookup| Job::new(owner, name, lookup, String::new(), max_items))
        })
        .collect();
    let mut found: Vec<Result<GroupPolicies, CollectionError>> =
        vec![Ok(GroupPolicies::default()); names.len()];
    for outcome in run(host, jobs) {
        match (outcome.result, &mut found[outcome.owner]) {
            (_, Err(_)) => {}
            (Ok(Found::GroupPolicyNames(names)), Ok(group)) => {
                group
                    .inline
                    .extend(names.into_iter().map(|name| InlinePolicy {
                        name,
                        document: None,
                    }))
            }
            (Ok(Found::GroupAttachedPolicies(policies)), Ok(group)) => {
                group.attached.extend(policies)
            }
            // Only the two group lookups run here.
            (Ok(Found::Groups(_) | Found::MfaDevices(_) | Found::AccessKeys(_)), Ok(_))
            | (Ok(Found::LoginProfile(_) | Found::Tags(_) | Found::UserPolicyNames(_)), Ok(_))
            | (Ok(Found::UserAttachedPolicies(_) | Found::SshPublicKeys(_)), Ok(_))
            | (Ok(Found::SigningCertificates(_) | Found::ServiceCredentials(_)), Ok(_))
            | (Ok(Found::User(_) | Found::LastUsed(_) | Found::UserPolicyDocument(_)), Ok(_))
            | (Ok(Found::GroupPolicyDocument(_) | Found::DefaultVersion(_)), Ok(_))
            | (Ok(Found::PolicyVersionDocument(_)), Ok(_)) => {}
            (Err(error), entry) => {
                host.log(
                    Level::Warn,
                    &format!(
                        "group {:?}: {error}; {} left out",
                        names[outcome.owner],
                        ocsf::attribute(outcome.lookup.feeds())
                    ),
                );
                *entry = Err(CollectionError {
                    action: outcome.lookup.action().to_owned(),
                    code: error.code().to_owned(),
                });
            }
        }
    }
    // The documents of the groups' inline policies.
    let jobs = found
        .iter()
        .enumerate()
        .filter_map(|(owner, group)| Some((owner, group.as_ref().ok()?)))
        .flat_map(|(owner, group)| {
            let name = &names[owner];
            group.inline.iter().map(move |policy| {
                Job::new(
                    owner,
                    name,
                    Lookup::GroupPolicy,
                    policy.name.clone(),
                    max_items,
                )
            })
        })
        .collect();
    for outcome in run(host, jobs) {
        let Ok(group) = &mut found[outcome.owner] else {
            continue;
        };
        match outcome.result {
            Ok(Found::GroupPolicyDocument(document)) => {
                if let Some(policy) = group.inline.iter_mut().find(|p| p.name == outcome.subject) {
                    policy.document = Some(document);
                }
            }
            // Only its lookup runs here.
            Ok(_) => {}
            Err(error) => host.log(
                Level::Warn,
                &format!(
                    "group {:?}: {error}; its policy {:?} is judged unreadable",
                    names[outcome.owner], outcome.subject
                ),
            ),
        }
    }
    cache.by_name.extend(names.into_iter().zip(found));
}

/// Reads the default version's document of each customer-managed policy in `arns` not
/// yet in `managed` (GetPolicy, then GetPolicyVersion); a failure is kept as `None`
/// (unreadable) and logged. AWS-managed policies are judged by ARN and never read.
pub fn look_up_managed(host: &dyn Host, arns: Vec<String>, managed: &mut ManagedDocuments) {
    let mut arns: Vec<String> = arns
        .into_iter()
        .filter(|arn| !admin::is_aws_managed(arn) && !managed.contains_key(arn))
        .collect();
    arns.sort_unstable();
    arns.dedup();
    if arns.is_empty() {
        return;
    }
    let unreadable = |host: &dyn Host, arn: &str, error: &ConnectorError| {
        host.log(
            Level::Warn,
            &format!("policy {arn}: {error}; judged unreadable by the administrator rule"),
        )
    };
    let jobs = arns
        .iter()
        .enumerate()
        .map(|(owner, arn)| Job::new(owner, "", Lookup::Policy, arn.clone(), 0))
        .collect();
    let mut versions = Vec::new();
    for outcome in run(host, jobs) {
        match outcome.result {
            Ok(Found::DefaultVersion(version)) => versions.push(Job::new(
                outcome.owner,
                "",
                Lookup::PolicyVersion,
                format!("{} {version}", outcome.subject),
                0,
            )),
            // Only its lookup runs here.
            Ok(_) => {}
            Err(error) => unreadable(host, &outcome.subject, &error),
        }
    }
    let mut documents: Vec<Option<PolicyDocument>> = vec![None; arns.len()];
    for outcome in run(host, versions) {
        match outcome.result {
            Ok(Found::PolicyVersionDocument(document)) => documents[outcome.owner] = Some(document),
            // Only its lookup runs here.
            Ok(_) => {}
            Err(error) => unreadable(host, &arns[outcome.owner], &error),
        }
    }
    managed.extend(arns.into_iter().zip(documents));
}

fn apply_privileges(record: &mut UserRecord, cache: &GroupCache) {
    let mut failures = Vec::new();
    for group in record.groups.iter_mut().flatten() {
        match cache.by_name.get(&group.name) {
            Some(Ok(policies)) => group.privileges = Some(policies.privileges()),
            Some(Err(error)) => failures.push(error),
            None => {}
        }
    }
    for error in failures {
        record.failed(&error.action, &error.code);
    }
}
