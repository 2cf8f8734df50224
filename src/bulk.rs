//! The bulk strategy: a few account-wide calls instead of ten per user.
//!
//! - Groups: GetAccountAuthorizationDetails (`Filter.member.1=Group`), every page, once per
//!   collection: each group's ARN and policies (inline ones with their documents).
//! - Customer-managed policies: GetAccountAuthorizationDetails
//!   (`Filter.member.1=LocalManagedPolicy`), once per collection: each default version's
//!   document, for the administrator rule.
//! - The credential report (GenerateCredentialReport, polled with capped sleeps, then
//!   GetCredentialReport): console password, password last used, MFA, whether access keys
//!   and signing certificates exist.
//! - Service-specific credentials: ListServiceSpecificCredentials with `AllUsers=true`.
//! - Users: GetAccountAuthorizationDetails (`Filter.member.1=User`), a page per `collect`:
//!   groups, inline and attached policies, tags.
//!
//! Per-user calls remain only where these cannot answer: ListAccessKeys for users the report
//! shows holding a key (the only source of key ids; their last use comes from the report's
//! key slots), ListSigningCertificates for certificate holders — both unless the previous
//! run's state vouches for the ids ([`crate::run_state`]) —, and the report's facts for
//! users not in it (created after it was generated). SSH public keys have no account-wide
//! source, the report does not say whether a password reset is required, and it says
//! whether MFA is active but not which devices (one call per MFA user would cost what the
//! strategy saves): the bulk strategy leaves `unmapped.ssh_public_keys`,
//! `unmapped.password_reset_required` and `unmapped.mfa_devices` out, except for users
//! newer than the report, whose facts come from per-user calls.

use std::collections::HashMap;

use crate::admin::{self, GroupPolicies, ManagedDocuments};
use crate::credential_report::{self, CredentialReport, ReportRow};
use crate::enrich::{self, Lookup};
use crate::error::ConnectorError;
use crate::host::{Host, HttpResponse, Level, TransportError};
use crate::model::{
    AttachedPolicy, CollectionError, ConsolePassword, Group, LastUsed, RecordField,
    ServiceCredential, Tag, User, UserRecord,
};
use crate::ocsf;
use crate::paging::Pager;
use crate::query::convert::{document, inline_policies};
use crate::query::responses::{
    GenerateCredentialReportResponse, GetAccountAuthorizationDetailsResponse,
    GetCredentialReportResponse, ListServiceSpecificCredentialsResponse, UserDetailXml,
};
use crate::query::{self, requests, ListResponse, Operation};
use crate::run_state::RunState;

/// GetAccountAuthorizationDetails.
const AUTHORIZATION_DETAILS: &str = GetAccountAuthorizationDetailsResponse::ACTION;

/// Polls of the credential report before giving up, and the longest wait between two.
const REPORT_POLLS: u32 = 20;
const REPORT_POLL_CAP_MS: u64 = 5_000;

/// A group as GetAccountAuthorizationDetails describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    /// The group's `Arn`.
    pub arn: String,
    /// Its inline policies (with documents) and attached policies.
    pub policies: GroupPolicies,
}

/// Groups by name.
pub type Groups = HashMap<String, GroupDetail>;

/// Service-specific credentials by user name, or the failure that left them unknown.
type ServiceCredentials = Result<HashMap<String, Vec<ServiceCredential>>, CollectionError>;

/// What the bulk strategy keeps for a whole collection.
#[derive(Debug, Default)]
pub struct BulkState {
    groups: Option<Groups>,
    managed_read: bool,
    report: Option<CredentialReport>,
    service_credentials: Option<ServiceCredentials>,
}

impl BulkState {
    /// The credential report, once read.
    pub fn report(&self) -> Option<&CredentialReport> {
        self.report.as_ref()
    }
}

/// Fetches what the whole collection shares, unless already fetched: groups, the
/// credential report, service-specific credentials.
///
/// Errors: a failure of GetAccountAuthorizationDetails or of the credential report (the
/// caller may fall back to per-user calls); ListServiceSpecificCredentials failing only
/// leaves that count out.
pub fn prepare(
    host: &dyn Host,
    state: &mut BulkState,
    managed: &mut ManagedDocuments,
    max_items: u32,
    account_users: Option<u32>,
) -> Result<(), ConnectorError> {
    // The first call of each in one batch (one round trip, not four); later pages follow.
    let mut calls = Vec::new();
    if state.groups.is_none() {
        calls.push(groups_pager(max_items).call());
    }
    if !state.managed_read {
        calls.push(local_policies_pager(max_items).call());
    }
    if state.report.is_none() {
        calls.push(requests::call::<GenerateCredentialReportResponse>(&[]));
    }
    if state.service_credentials.is_none() {
        calls.push(service_credentials_pager(max_items).call());
    }
    let mut answers = host.send_all(&calls).into_iter();
    let mut first = || {
        answers
            .next()
            .unwrap_or_else(|| Err(TransportError::missing()))
    };
    if state.groups.is_none() {
        state.groups = Some(fetch_groups(host, max_items, first())?);
    }
    if !state.managed_read {
        fetch_local_policies(host, max_items, managed, first())?;
        state.managed_read = true;
    }
    if state.report.is_none() {
        state.report = Some(fetch_report(host, first(), account_users)?);
    }
    if state.service_credentials.is_none() {
        state.service_credentials = Some(fetch_service_credentials(host, max_items, first()));
    }
    Ok(())
}

/// The GetAccountAuthorizationDetails call for one page of `filter` (`User` or `Group`).
fn details_pager(
    filter: &str,
    max_items: u32,
    marker: Option<String>,
    pages: u64,
    max_pages: u64,
) -> Pager {
    let mut pager = Pager::resume(AUTHORIZATION_DETAILS, max_items, marker, pages, max_pages);
    pager.set_params(vec![("Filter.member.1", filter.to_owned())]);
    pager
}

/// What a call returned.
type Answer = Result<HttpResponse, TransportError>;

fn groups_pager(max_items: u32) -> Pager {
    details_pager("Group", max_items, None, 0, crate::paging::MAX_PAGES)
}

fn local_policies_pager(max_items: u32) -> Pager {
    details_pager(
        "LocalManagedPolicy",
        max_items,
        None,
        0,
        crate::paging::MAX_PAGES,
    )
}

fn service_credentials_pager(max_items: u32) -> Pager {
    Pager::new(
        ListServiceSpecificCredentialsResponse::ACTION,
        vec![("AllUsers", "true".into())],
        max_items,
    )
}

/// Every page of groups; `first` answers the first page's call.
fn fetch_groups(host: &dyn Host, max_items: u32, first: Answer) -> Result<Groups, ConnectorError> {
    let mut pager = groups_pager(max_items);
    let mut groups = HashMap::new();
    let mut answer = Some(first);
    loop {
        let page = query::parse_result::<GetAccountAuthorizationDetailsResponse>(
            &answer.take().unwrap_or_else(|| host.send(&pager.call())),
        )?
        .result;
        for detail in page.group_detail_list.member {
            let (inline, problems) =
                inline_policies(AUTHORIZATION_DETAILS, detail.group_policy_list.member);
            for problem in problems {
                host.log(
                    Level::Warn,
                    &format!("group {:?}: {problem}", detail.group_name),
                );
            }
            let policies = GroupPolicies {
                inline,
                attached: detail
                    .attached_managed_policies
                    .member
                    .into_iter()
                    .map(AttachedPolicy::from)
                    .collect(),
            };
            groups.insert(
                detail.group_name,
                GroupDetail {
                    arn: detail.arn,
                    policies,
                },
            );
        }
        if !pager.advance(page.is_truncated, page.marker)? {
            return Ok(groups);
        }
    }
}

/// The default version's document of every customer-managed policy of the account, into
/// `managed` (an unreadable one as `None`); `first` answers the first page's call.
fn fetch_local_policies(
    host: &dyn Host,
    max_items: u32,
    managed: &mut ManagedDocuments,
    first: Answer,
) -> Result<(), ConnectorError> {
    let mut pager = local_policies_pager(max_items);
    let mut answer = Some(first);
    loop {
        let page = query::parse_result::<GetAccountAuthorizationDetailsResponse>(
            &answer.take().unwrap_or_else(|| host.send(&pager.call())),
        )?
        .result;
        for policy in page.policies.member {
            let document = policy.default_document().and_then(|text| {
                document(AUTHORIZATION_DETAILS, text)
                    .map_err(|error| {
                        host.log(
                            Level::Warn,
                            &format!("policy {}: {error}; judged unreadable", policy.arn),
                        )
                    })
                    .ok()
            });
            managed.insert(policy.arn, document);
        }
        if !pager.advance(page.is_truncated, page.marker)? {
            return Ok(());
        }
    }
}

/// Generates the credential report if needed and reads it, polling with growing sleeps;
/// `first` answers the first GenerateCredentialReport; `users`, the account's user count
/// when known, sizes the rows once.
fn fetch_report(
    host: &dyn Host,
    first: Answer,
    users: Option<u32>,
) -> Result<CredentialReport, ConnectorError> {
    let mut last = None;
    let mut answer = Some(first);
    for poll in 0..REPORT_POLLS {
        if poll > 0 {
            host.sleep_ms((500u64 << poll.min(4)).min(REPORT_POLL_CAP_MS));
        }
        let generated = query::parse_result::<GenerateCredentialReportResponse>(
            &answer.take().unwrap_or_else(|| {
                host.send(&requests::call::<GenerateCredentialReportResponse>(&[]))
            }),
        );
        match generated {
            Ok(response) if response.result.state != "COMPLETE" => continue,
            Ok(_) => {}
            // Too many reports requested recently: one exists or is being made; read it.
            Err(ConnectorError::Api(e)) if e.code == "LimitExceeded" => {}
            Err(error) => return Err(error),
        }
        let read = host.send(&requests::call::<GetCredentialReportResponse>(&[]));
        let parsed = match &read {
            Ok(response) => query::parse_borrowed::<GetCredentialReportResponse>(response),
            Err(error) => Err(ConnectorError::Transport {
                action: GetCredentialReportResponse::ACTION.to_owned(),
                error: error.clone(),
            }),
        };
        match parsed {
            Ok(response) => {
                let result = response.result;
                return credential_report::parse(
                    &result.content,
                    result.generated_time.as_deref(),
                    users.map_or(0, |n| n as usize),
                )
                    .map_err(|detail| {
                        ConnectorError::malformed(GetCredentialReportResponse::ACTION, 200, detail)
                    });
            }
            Err(ConnectorError::Api(e))
                if matches!(
                    e.code.as_str(),
                    "ReportInProgress" | "ReportNotPresent" | "ReportExpired"
                ) =>
            {
                last = Some(ConnectorError::Api(e));
            }
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        ConnectorError::malformed(
            GenerateCredentialReportResponse::ACTION,
            200,
            format!("the credential report was not COMPLETE after {REPORT_POLLS} polls"),
        )
    }))
}

/// Every page of ListServiceSpecificCredentials `AllUsers=true`, by user; `first` answers
/// the first page's call.
fn fetch_service_credentials(host: &dyn Host, max_items: u32, first: Answer) -> ServiceCredentials {
    let action = ListServiceSpecificCredentialsResponse::ACTION;
    let mut pager = service_credentials_pager(max_items);
    let mut by_user: HashMap<String, Vec<ServiceCredential>> = HashMap::new();
    let mut answer = Some(first);
    loop {
        let read = query::parse_result::<ListServiceSpecificCredentialsResponse>(
            &answer.take().unwrap_or_else(|| host.send(&pager.call())),
        )
        .map(ListResponse::into_page)
        .and_then(|page| {
            for credential in page.items {
                by_user
                    .entry(credential.user_name.clone())
                    .or_default()
                    .push(credential.into());
            }
            pager.advance(page.is_truncated, page.marker)
        });
        match read {
            Ok(true) => {}
            Ok(false) => return Ok(by_user),
            Err(error) => {
                host.log(
                    Level::Warn,
                    &format!(
                        "{error}; {} left out for every user",
                        ocsf::attribute(RecordField::ServiceSpecificCredentials)
                    ),
                );
                return Err(CollectionError {
                    action: action.into(),
                    code: error.code().into(),
                });
            }
        }
    }
}

/// Reads the users page at `pager`: one record per `UserDetail`, with what the account-wide
/// data and the previous run's `run_state` say of it; returns the records and whether another page follows. [`complete`]
/// makes the per-user calls that remain.
///
/// Errors: GetAccountAuthorizationDetails failing (the page cannot be listed).
pub fn users_page(
    host: &dyn Host,
    state: &BulkState,
    run_state: &mut RunState,
    pager: &mut Pager,
) -> Result<(Vec<UserRecord>, bool), ConnectorError> {
    let page =
        query::parse_result::<GetAccountAuthorizationDetailsResponse>(&host.send(&pager.call()))?
            .result;
    let more = pager.advance(page.is_truncated, page.marker)?;
    if let Some(first) = page.user_detail_list.member.first() {
        if let Some(warning) = run_state.check_account(&first.arn) {
            host.log(Level::Warn, &warning);
        }
    }
    let records = page
        .user_detail_list
        .member
        .into_iter()
        .map(|detail| record(host, state, run_state, detail))
        .collect();
    Ok((records, more))
}

/// Completes `records` of a users page: the per-user calls the account-wide data cannot
/// answer, each access key's last use (from the report's key slots, else
/// GetAccessKeyLastUsed), and the administrator rule.
pub fn complete(
    host: &dyn Host,
    state: &BulkState,
    managed: &ManagedDocuments,
    records: &mut [UserRecord],
    max_items: u32,
) {
    enrich::look_up(host, records, max_items, |record| {
        missing_lookups(state, record)
    });
    for record in records.iter_mut() {
        if let Some(row) = report_row(state, &record.user) {
            keys_last_used(record, &row);
        }
    }
    // Keys the report could not vouch for (users newer than it, keys rotated since).
    enrich::look_up_details(host, records, max_items);
    let groups = state.groups.as_ref();
    for record in records.iter_mut().filter(|r| !r.deleted) {
        record.admin = Some(admin::assess(
            record,
            |name| groups.and_then(|g| g.get(name)).map(|g| &g.policies),
            managed,
        ));
    }
}

/// The last use of each access key of `record`, from the report's key slot of the same
/// creation second.
fn keys_last_used(record: &mut UserRecord, row: &ReportRow) {
    for (index, key) in record.access_keys.iter_mut().flatten().enumerate() {
        if let Some(slot) = row.key_slot(key.created_ms, index) {
            key.last_used = Some(match slot.last_used_ms {
                Some(ms) => LastUsed::At {
                    ms,
                    service: slot.last_used_service.as_deref().map(str::to_owned),
                    region: slot.last_used_region.as_deref().map(str::to_owned),
                },
                None => LastUsed::Never,
            });
        }
    }
}

/// The lookups a record still needs after the account-wide data: the report's facts for
/// users newer than the report; otherwise the lists the report only says are not empty
/// (access keys, signing certificates), and the groups of a user whose group list named a
/// group the listing lacked.
fn missing_lookups(state: &BulkState, record: &UserRecord) -> Vec<Lookup> {
    let mut lookups = if report_row(state, &record.user).is_none() {
        vec![
            Lookup::MfaDevices,
            Lookup::LoginProfile,
            Lookup::AccessKeys,
            Lookup::SigningCertificates,
            Lookup::User,
        ]
    } else {
        [
            (record.access_keys.is_none(), Lookup::AccessKeys),
            (
                record.signing_certificates.is_none(),
                Lookup::SigningCertificates,
            ),
        ]
        .into_iter()
        .filter_map(|(needed, lookup)| needed.then_some(lookup))
        .collect()
    };
    if record.groups.is_none() {
        lookups.push(Lookup::GroupsForUser);
    }
    lookups
}

/// The report's row for `user`, unless the user was created after the report.
fn report_row(state: &BulkState, user: &User) -> Option<ReportRow> {
    let report = state.report.as_ref()?;
    let row = report.row(&user.arn)?;
    // A user deleted and re-created under the same name has a newer creation time.
    (row.created_ms.is_none() || row.created_ms == user.created_ms.map(|ms| ms / 1000 * 1000))
        .then_some(row)
}

/// What a `UserDetail` alone says about a user: the user, its groups (when every one is in
/// `groups`), tags, inline policies with their documents, attached policies and the
/// permissions boundary. The second value names the timestamps and policy documents that
/// could not be read. Public for the parse-and-map benchmark.
pub fn detail_record(detail: UserDetailXml, groups: Option<&Groups>) -> (UserRecord, Vec<String>) {
    let (user, mut problems) = User::from_xml(crate::query::responses::UserXml {
        path: detail.path,
        user_name: detail.user_name,
        user_id: detail.user_id,
        arn: detail.arn,
        create_date: detail.create_date,
        password_last_used: None,
        permissions_boundary: None,
    });
    let mut record = UserRecord::new(user);
    record.groups = detail
        .group_list
        .member
        .iter()
        .map(|name| {
            let group = groups?.get(name)?;
            Some(Group {
                name: name.clone(),
                arn: group.arn.clone(),
                privileges: Some(group.policies.privileges()),
            })
        })
        .collect();
    record.tags = Some(detail.tags.member.into_iter().map(Tag::from).collect());
    let (inline, unreadable) =
        inline_policies(AUTHORIZATION_DETAILS, detail.user_policy_list.member);
    record.user_policies = Some(inline);
    problems.extend(unreadable);
    record.attached_policies = Some(
        detail
            .attached_managed_policies
            .member
            .into_iter()
            .map(AttachedPolicy::from)
            .collect(),
    );
    record.permissions_boundary = Some(
        detail
            .permissions_boundary
            .map(|b| b.permissions_boundary_arn),
    );
    (record, problems)
}

/// A record from a `UserDetail`, the account-wide data and the previous run's state.
fn record(
    host: &dyn Host,
    state: &BulkState,
    run_state: &mut RunState,
    detail: UserDetailXml,
) -> UserRecord {
    let (mut record, problems) = detail_record(detail, state.groups.as_ref());
    for problem in problems {
        host.log(
            Level::Warn,
            &format!(
                "user {:?}: {AUTHORIZATION_DETAILS}: {problem}; left out",
                record.user.name
            ),
        );
        record.failed(AUTHORIZATION_DETAILS, "MalformedResponse");
    }
    match &state.service_credentials {
        Some(Ok(by_user)) => {
            record.service_specific_credentials =
                Some(by_user.get(&record.user.name).cloned().unwrap_or_default())
        }
        Some(Err(error)) => record.failed(&error.action, &error.code),
        None => {}
    }
    if let Some(row) = report_row(state, &record.user) {
        record.console_access = row.password_enabled;
        if row.password_enabled == Some(true) {
            record.console_password = Some(ConsolePassword {
                changed_ms: row.password_last_changed_ms,
                reset_required: None,
            });
        }
        record.has_mfa = row.mfa_active;
        record.user.password_last_used_ms = row.password_last_used_ms;
        record.signing_certificates = if row.signing_certificates() == 0 {
            Some(Vec::new())
        } else {
            run_state.signing_certificates(&record.user, &row)
        };
        record.access_keys = if row.has_access_keys() {
            run_state.access_keys(&record.user, &row)
        } else {
            Some(Vec::new())
        };
    }
    record
}
