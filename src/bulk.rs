//! The bulk strategy: a few account-wide calls instead of ten per user.
//!
//! - Groups: GetAccountAuthorizationDetails (`Filter.member.1=Group`), every page, once per
//!   collection: each group's ARN and privileges (inline then attached policy names).
//! - The credential report (GenerateCredentialReport, polled with capped sleeps, then
//!   GetCredentialReport): console password, password last used, MFA, whether access keys
//!   and signing certificates exist.
//! - Service-specific credentials: ListServiceSpecificCredentials with `AllUsers=true`.
//! - Users: GetAccountAuthorizationDetails (`Filter.member.1=User`), a page per `collect`:
//!   groups, inline and attached policies, tags.
//!
//! Per-user calls remain only where these cannot answer: ListAccessKeys for users the report
//! shows holding a key (the only source of key ids), and the report's facts for users not in
//! it (created after it was generated). SSH public keys have no account-wide source: the bulk
//! strategy leaves `unmapped.ssh_public_keys_count` out.

use std::collections::HashMap;

use crate::credential_report::{self, CredentialReport};
use crate::enrich::{self, Lookup};
use crate::error::ConnectorError;
use crate::host::{Host, Level};
use crate::model::{AttachedPolicy, CollectionError, Group, Tag, User, UserRecord};
use crate::paging::Pager;
use crate::query::responses::{
    GenerateCredentialReportResponse, GetAccountAuthorizationDetailsResponse,
    GetCredentialReportResponse, ListServiceSpecificCredentialsResponse, UserDetailXml,
};
use crate::query::{self, requests, ListResponse};

/// GetAccountAuthorizationDetails.
pub const AUTHORIZATION_DETAILS: &str = "GetAccountAuthorizationDetails";
const GENERATE_REPORT: &str = "GenerateCredentialReport";
const GET_REPORT: &str = "GetCredentialReport";

/// Polls of the credential report before giving up, and the longest wait between two.
const REPORT_POLLS: u32 = 20;
const REPORT_POLL_CAP_MS: u64 = 5_000;

/// What the bulk strategy keeps for a whole collection.
#[derive(Debug, Default)]
pub struct BulkState {
    groups: Option<HashMap<String, Group>>,
    report: Option<CredentialReport>,
    service_credentials: Option<Result<HashMap<String, u32>, CollectionError>>,
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
    max_items: u32,
) -> Result<(), ConnectorError> {
    if state.groups.is_none() {
        state.groups = Some(fetch_groups(host, max_items)?);
    }
    if state.report.is_none() {
        state.report = Some(fetch_report(host)?);
    }
    if state.service_credentials.is_none() {
        state.service_credentials = Some(fetch_service_credentials(host, max_items));
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

fn fetch_groups(host: &dyn Host, max_items: u32) -> Result<HashMap<String, Group>, ConnectorError> {
    let mut pager = details_pager("Group", max_items, None, 0, crate::paging::MAX_PAGES);
    let mut groups = HashMap::new();
    loop {
        let page = query::parse_result::<GetAccountAuthorizationDetailsResponse>(
            AUTHORIZATION_DETAILS,
            &host.send(&pager.call()),
        )?
        .result;
        for detail in page.group_detail_list.member {
            let privileges = enrich::group_privileges(
                detail
                    .group_policy_list
                    .member
                    .into_iter()
                    .map(|p| p.policy_name)
                    .collect(),
                detail
                    .attached_managed_policies
                    .member
                    .into_iter()
                    .map(|p| p.policy_name)
                    .collect(),
            );
            groups.insert(
                detail.group_name.clone(),
                Group {
                    name: detail.group_name,
                    arn: detail.arn,
                    privileges: Some(privileges),
                },
            );
        }
        if !pager.advance(page.is_truncated, page.marker)? {
            return Ok(groups);
        }
    }
}

/// Generates the credential report if needed and reads it, polling with growing sleeps.
fn fetch_report(host: &dyn Host) -> Result<CredentialReport, ConnectorError> {
    let mut last = None;
    for poll in 0..REPORT_POLLS {
        if poll > 0 {
            host.sleep_ms((500u64 << poll.min(4)).min(REPORT_POLL_CAP_MS));
        }
        let generated = query::parse_result::<GenerateCredentialReportResponse>(
            GENERATE_REPORT,
            &host.send(&requests::iam(GENERATE_REPORT, &[])),
        );
        match generated {
            Ok(response) if response.result.state != "COMPLETE" => continue,
            Ok(_) => {}
            // Too many reports requested recently: one exists or is being made; read it.
            Err(ConnectorError::Api(e)) if e.code == "LimitExceeded" => {}
            Err(error) => return Err(error),
        }
        match query::parse_result::<GetCredentialReportResponse>(
            GET_REPORT,
            &host.send(&requests::iam(GET_REPORT, &[])),
        ) {
            Ok(response) => {
                let result = response.result;
                return credential_report::parse(&result.content, result.generated_time.as_deref())
                    .map_err(|detail| {
                        ConnectorError::MalformedResponse(crate::error::MalformedResponse {
                            action: GET_REPORT.into(),
                            status: 200,
                            detail,
                        })
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
        ConnectorError::MalformedResponse(crate::error::MalformedResponse {
            action: GENERATE_REPORT.into(),
            status: 200,
            detail: format!("the credential report was not COMPLETE after {REPORT_POLLS} polls"),
        })
    }))
}

fn fetch_service_credentials(
    host: &dyn Host,
    max_items: u32,
) -> Result<HashMap<String, u32>, CollectionError> {
    let action = ListServiceSpecificCredentialsResponse::ACTION;
    let mut pager = Pager::new(action, vec![("AllUsers", "true".into())], max_items);
    let mut counts = HashMap::new();
    loop {
        let read = query::parse_result::<ListServiceSpecificCredentialsResponse>(
            action,
            &host.send(&pager.call()),
        )
        .map(ListResponse::into_page)
        .and_then(|page| {
            for credential in page.items {
                *counts.entry(credential.user_name).or_insert(0u32) += 1;
            }
            pager.advance(page.is_truncated, page.marker)
        });
        match read {
            Ok(true) => {}
            Ok(false) => return Ok(counts),
            Err(error) => {
                host.log(
                    Level::Warn,
                    &format!("{error}; unmapped.service_specific_credentials_count left out for every user"),
                );
                return Err(CollectionError {
                    action: action.into(),
                    code: error.code().into(),
                });
            }
        }
    }
}

/// Reads the users page at `pager` and completes each record; returns the records and
/// whether another page follows.
pub fn users_page(
    host: &dyn Host,
    state: &BulkState,
    pager: &mut Pager,
    max_items: u32,
) -> Result<(Vec<UserRecord>, bool), ConnectorError> {
    let page = query::parse_result::<GetAccountAuthorizationDetailsResponse>(
        AUTHORIZATION_DETAILS,
        &host.send(&pager.call()),
    )?
    .result;
    let more = pager.advance(page.is_truncated, page.marker)?;
    let mut records: Vec<UserRecord> = page
        .user_detail_list
        .member
        .into_iter()
        .map(|detail| record(host, state, detail))
        .collect();
    enrich::look_up(host, &mut records, max_items, |record| {
        missing_lookups(state, record)
    });
    Ok((records, more))
}

/// The lookups a record still needs after the account-wide data.
fn missing_lookups(state: &BulkState, record: &UserRecord) -> &'static [Lookup] {
    const NOT_IN_REPORT: &[Lookup] = &[
        Lookup::MfaDevices,
        Lookup::LoginProfile,
        Lookup::AccessKeys,
        Lookup::SigningCertificates,
        Lookup::User,
    ];
    const NOT_IN_REPORT_UNKNOWN_GROUP: &[Lookup] = &[
        Lookup::MfaDevices,
        Lookup::LoginProfile,
        Lookup::AccessKeys,
        Lookup::SigningCertificates,
        Lookup::User,
        Lookup::GroupsForUser,
    ];
    let in_report = report_row(state, &record.user).is_some();
    match (
        in_report,
        record.groups.is_some(),
        record.access_keys.is_some(),
    ) {
        (false, true, _) => NOT_IN_REPORT,
        (false, false, _) => NOT_IN_REPORT_UNKNOWN_GROUP,
        (true, true, true) => &[],
        (true, true, false) => &[Lookup::AccessKeys],
        (true, false, true) => &[Lookup::GroupsForUser],
        (true, false, false) => &[Lookup::AccessKeys, Lookup::GroupsForUser],
    }
}

/// The report's row for `user`, unless the user was created after the report.
fn report_row<'s>(state: &'s BulkState, user: &User) -> Option<&'s credential_report::ReportRow> {
    let report = state.report.as_ref()?;
    let row = report.row(&user.arn)?;
    // A user deleted and re-created under the same name has a newer creation time.
    (row.created_ms.is_none() || row.created_ms == user.created_ms.map(|ms| ms / 1000 * 1000))
        .then_some(row)
}

/// What a `UserDetail` alone says about a user: the user, its groups (when every one is in
/// `groups`), tags, inline and attached policies. The second value names the timestamps that
/// could not be read. Public for the parse-and-map benchmark.
pub fn detail_record(
    detail: UserDetailXml,
    groups: Option<&HashMap<String, Group>>,
) -> (UserRecord, Vec<String>) {
    let (user, problems) = User::from_xml(crate::query::responses::UserXml {
        path: detail.path,
        user_name: detail.user_name,
        user_id: detail.user_id,
        arn: detail.arn,
        create_date: detail.create_date,
        password_last_used: None,
    });
    let mut record = UserRecord::new(user);
    record.groups = detail
        .group_list
        .member
        .iter()
        .map(|name| groups.and_then(|g| g.get(name)).cloned())
        .collect();
    record.tags = Some(detail.tags.member.into_iter().map(Tag::from).collect());
    record.user_policies = Some(
        detail
            .user_policy_list
            .member
            .into_iter()
            .map(|p| p.policy_name)
            .collect(),
    );
    record.attached_policies = Some(
        detail
            .attached_managed_policies
            .member
            .into_iter()
            .map(AttachedPolicy::from)
            .collect(),
    );
    (record, problems)
}

/// A record from a `UserDetail` and the account-wide data.
fn record(host: &dyn Host, state: &BulkState, detail: UserDetailXml) -> UserRecord {
    let (mut record, problems) = detail_record(detail, state.groups.as_ref());
    for problem in problems {
        host.log(
            Level::Warn,
            &format!(
                "user {:?}: {AUTHORIZATION_DETAILS}: {problem}; left out",
                record.user.name
            ),
        );
        record.errors.push(CollectionError {
            action: AUTHORIZATION_DETAILS.into(),
            code: "MalformedResponse".into(),
        });
    }
    match &state.service_credentials {
        Some(Ok(counts)) => {
            record.service_specific_credentials =
                Some(counts.get(&record.user.name).copied().unwrap_or(0))
        }
        Some(Err(error)) => record.errors.push(error.clone()),
        None => {}
    }
    if let Some(row) = report_row(state, &record.user) {
        record.console_access = row.password_enabled;
        record.has_mfa = row.mfa_active;
        record.user.password_last_used_ms = row.password_last_used_ms;
        record.signing_certificates = Some(row.signing_certificates);
        if !row.has_access_keys {
            record.access_keys = Some(Vec::new());
        }
    }
    record
}
