//! The two commands as library functions: the collect loop with its summary, and the check
//! with its report rendering. Both take an already instantiated [`Session`], so tests can drive
//! them in-process with their own writers.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use crate::checkpoint::Start;
use crate::error::{exit, RunError, SandboxError, SekoiaError};
use crate::escape::escape_text;
use crate::inventory::{CheckReport, ProbeOutcome, Settings};
use crate::output::{NdjsonWriter, PageOutput};
use crate::sandbox::Session;
use crate::sekoia::{PushTotals, Sink};
use crate::transport::Transport;

/// Totals of one collection, printed as the `summary:` line on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectSummary {
    /// Users listed (sum of `page-stats.users`).
    pub users: u64,
    /// Events written by this run.
    pub events: u64,
    /// Events an earlier, interrupted run of the same checkpoint had already written.
    pub resumed_events: u64,
    /// The strategy the component used (`bulk` or `per-user`), from the last page.
    pub strategy: Option<&'static str>,
    /// Why `auto` fell back to per-user calls.
    pub fallback: Option<String>,
    /// Listed users deleted before their own calls (no event).
    pub skipped_users: u64,
    /// Events about the account's root user (not counted in `users`).
    pub root_users: u64,
    /// The account's `Users` count from GetAccountSummary, when the component read it.
    pub account_users: Option<u64>,
    /// `collect` calls that returned a page.
    pub pages: u64,
    /// HTTP calls the host sent (retries included).
    pub api_calls: u64,
    /// Failed enrichment calls, by (action, AWS code); fields they fed are left out.
    pub field_errors: BTreeMap<(String, String), u64>,
    /// Wall-clock time of the whole collection.
    pub elapsed: Duration,
    /// The most bytes the component's linear memories held together (see
    /// [`Session::guest_peak_bytes`]).
    pub guest_peak_bytes: u64,
    /// What was pushed to Sekoia, when the run pushes (`--sekoia-url`).
    pub sekoia: Option<PushTotals>,
    /// The run-state the last page returned, for the next run (`--state`).
    pub run_state: Option<String>,
}

impl CollectSummary {
    /// Total failed enrichment calls.
    pub fn field_error_count(&self) -> u64 {
        self.field_errors.values().sum()
    }

    /// [`exit::PARTIAL`] when any field failed or a Sekoia ingestion task did not finish,
    /// else [`exit::OK`].
    pub fn exit_code(&self) -> u8 {
        let failed_tasks = self.sekoia.as_ref().map_or(0, |totals| totals.tasks_failed);
        if self.field_errors.is_empty() && failed_tasks == 0 {
            exit::OK
        } else {
            exit::PARTIAL
        }
    }
}

impl CollectSummary {
    /// A warning when the account's `Users` count differs from the events written.
    pub fn count_mismatch(&self) -> Option<String> {
        let account = self.account_users?;
        let events = (self.events + self.resumed_events).saturating_sub(self.root_users);
        (account != events).then(|| {
            format!(
                "warning: GetAccountSummary reports {account} users but {events} events were written; \
                 users may have been created or deleted during the run"
            )
        })
    }
}

impl fmt::Display for CollectSummary {
    /// `summary: users=14 root=1 events=15 skipped_users=0 account_users=14 pages=1
    /// api_calls=29 field_errors=0 seconds=0.84 guest_peak_bytes=2228224`, then ` strategy=bulk`, the
    /// fallback, the resumed count, ` errors=ListMFADevices/AccessDenied:3,…` when some
    /// fields failed, and the Sekoia totals ([`PushTotals`]) when the run pushes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "summary: users={} root={} events={} skipped_users={} account_users={} pages={} \
             api_calls={} field_errors={} seconds={:.2} guest_peak_bytes={}",
            self.users,
            self.root_users,
            self.events,
            self.skipped_users,
            self.account_users
                .map_or_else(|| "unknown".to_owned(), |n| n.to_string()),
            self.pages,
            self.api_calls,
            self.field_error_count(),
            self.elapsed.as_secs_f64(),
            self.guest_peak_bytes
        )?;
        if let Some(strategy) = self.strategy {
            write!(f, " strategy={strategy}")?;
        }
        if let Some(fallback) = &self.fallback {
            write!(f, " fallback={fallback:?}")?;
        }
        if self.resumed_events > 0 {
            write!(f, " resumed_after_events={}", self.resumed_events)?;
        }
        if !self.field_errors.is_empty() {
            let errors: Vec<String> = self
                .field_errors
                .iter()
                .map(|((action, code), count)| {
                    format!("{}/{}:{count}", summary_word(action), summary_word(code))
                })
                .collect();
            write!(f, " errors={}", errors.join(","))?;
        }
        if let Some(totals) = &self.sekoia {
            write!(f, "{totals}")?;
        }
        Ok(())
    }
}

/// A name from the component as one word of the summary line: as it is when it is made of
/// letters, digits and `.-_:`, else quoted (Rust string syntax, so spaces, `=` and escapes
/// cannot make it look like another field).
pub(crate) fn summary_word(name: &str) -> std::borrow::Cow<'_, str> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if plain {
        name.into()
    } else {
        format!("{name:?}").into()
    }
}

/// IAM's quota of users per account (IAM and AWS STS quotas: 5,000, not adjustable); the most
/// users a run's page bound assumes, whatever the component reports.
pub const IAM_USER_QUOTA: u64 = 5_000;

/// Fewest pages a run is allowed, however small the account.
pub const MIN_PAGE_LIMIT: u64 = 16;

/// Fewest users a page that ended early on its time budget carries (the component enriches
/// at least this many before it measures the budget).
pub const MIN_USERS_PER_PARTIAL_PAGE: u64 = 50;

/// Pages a collection may return before it is stopped: twice the pages the account's users
/// fill at `max_items` per page, plus two (users created during the run, skipped users), plus
/// one per [`MIN_USERS_PER_PARTIAL_PAGE`] users (pages ended early on their time budget), and
/// at least [`MIN_PAGE_LIMIT`]. `account_users` is what the component last reported (none:
/// [`IAM_USER_QUOTA`]), capped at the quota.
pub fn page_limit(account_users: Option<u64>, max_items: u32) -> u64 {
    let users = account_users.unwrap_or(IAM_USER_QUOTA).min(IAM_USER_QUOTA);
    let pages = users.div_ceil(u64::from(max_items.max(1)));
    (2 * pages + 2 + users.div_ceil(MIN_USERS_PER_PARTIAL_PAGE)).max(MIN_PAGE_LIMIT)
}

/// A collection that stopped on an error, with what it had written until then.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CollectError {
    /// Totals up to the failure (events already written stay written).
    pub summary: CollectSummary,
    /// Why it stopped.
    #[source]
    pub error: RunError,
}

/// Collects every page: calls `collect` from no cursor until the component returns none,
/// writing each event as one NDJSON line and flushing after every page.
///
/// With `sink`, each page's events are pushed to Sekoia before the page is marked done, the
/// first page skipping the events `start.pushed` names.
///
/// `start` is where the run begins (a checkpoint's position, or the first page) and
/// `prior_state` the previous run's run-state, handed to every `collect` call; the last
/// page's comes back in [`CollectSummary::run_state`].
///
/// `transport` is the one the session's imports use (for the call count). The run ends: after
/// [`page_limit`] pages, or when `max_run` has passed (also during a page), it stops with
/// [`RunError::RunLimit`].
/// Errors: a boxed [`CollectError`] wrapping a [`RunError`] (guest error, sandbox failure, output
/// failure, a cursor returned twice, a run limit), with the totals so far.
pub fn collect(
    session: &mut Session,
    transport: &Transport,
    settings: Settings,
    output: &mut dyn PageOutput,
    (start, prior_state): (Start, Option<&str>),
    max_run: Option<Duration>,
    mut sink: Option<&mut Sink>,
) -> Result<CollectSummary, Box<CollectError>> {
    let started = Instant::now();
    let calls_before = transport.calls();
    let mut summary = CollectSummary {
        resumed_events: start.events,
        ..CollectSummary::default()
    };
    let run_deadline = max_run.and_then(|max_run| started.checked_add(max_run));
    session.set_run_deadline(run_deadline);
    let result = collect_pages(
        session,
        settings,
        output,
        (start.cursor, start.pushed, prior_state),
        &mut summary,
        RunBound {
            deadline: run_deadline,
            max_run,
        },
        sink.as_deref_mut(),
    );
    summary.sekoia = sink.map(|sink| sink.totals());
    session.set_run_deadline(None);
    summary.api_calls = transport.calls() - calls_before;
    summary.elapsed = started.elapsed();
    summary.guest_peak_bytes = session.guest_peak_bytes();
    match result {
        Ok(()) => Ok(summary),
        Err(error) => Err(Box::new(CollectError { summary, error })),
    }
}

/// When a run must end.
#[derive(Debug, Clone, Copy)]
struct RunBound {
    deadline: Option<Instant>,
    max_run: Option<Duration>,
}

impl RunBound {
    fn passed(&self, pages: u64) -> RunError {
        RunError::RunLimit(format!(
            "--max-run-secs {} passed after {pages} pages",
            self.max_run.unwrap_or_default().as_secs()
        ))
    }
}

/// Collects page after page from `cursor`; each page's events are written (and pushed, with a
/// sink; `pushed` names those of the first page already pushed), then the page is marked done
/// with the next cursor (which a checkpointed output makes durable).
fn collect_pages(
    session: &mut Session,
    settings: Settings,
    output: &mut dyn PageOutput,
    (mut cursor, mut pushed, prior_state): (Option<String>, Vec<String>, Option<&str>),
    summary: &mut CollectSummary,
    bound: RunBound,
    mut sink: Option<&mut Sink>,
) -> Result<(), RunError> {
    loop {
        if bound
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return Err(bound.passed(summary.pages));
        }
        let page = match session.collect(settings, cursor.as_deref(), prior_state) {
            Err(SandboxError::RunTimeLimit { .. }) => return Err(bound.passed(summary.pages)),
            other => other??,
        };
        summary.pages += 1;
        summary.users += u64::from(page.stats.users);
        summary.skipped_users += u64::from(page.stats.skipped_users);
        summary.root_users += u64::from(page.stats.root_users);
        summary.account_users = page.stats.account_users.map(u64::from);
        summary.strategy = Some(page.stats.strategy.name());
        summary.fallback = page.stats.fallback.clone();
        for errors in &page.stats.errors {
            *summary
                .field_errors
                .entry((errors.action.clone(), errors.code.clone()))
                .or_default() += u64::from(errors.count);
        }
        let mut writer = NdjsonWriter::new(output.writer());
        for (index, event) in page.events.iter().enumerate() {
            writer.write_event(index, event)?;
        }
        let written = writer.written();
        if let Some(next) = &page.cursor {
            if cursor.as_deref() == Some(next.as_str()) {
                return Err(RunError::Protocol(
                    "collect returned the cursor it was given; stopping to avoid a loop".into(),
                ));
            }
        }
        if let Some(sink) = sink.as_deref_mut() {
            let already = std::mem::take(&mut pushed);
            match sink.push_page(
                summary.pages,
                &page.events,
                &already,
                &mut |accepted| output.page_pushed(accepted),
                bound.deadline,
            ) {
                Err(RunError::Sekoia(SekoiaError::RunDeadline)) => {
                    return Err(bound.passed(summary.pages))
                }
                other => other?,
            }
        }
        output.page_done(written, page.cursor.as_deref())?;
        summary.events += written;
        let limit = page_limit(summary.account_users, settings.max_items);
        if page.cursor.is_some() && summary.pages >= limit {
            return Err(RunError::RunLimit(format!(
                "the component returned {} pages and a cursor for more; an account of {} users \
                 fills at most {limit} pages at --max-items {}",
                summary.pages,
                summary.account_users.map_or_else(
                    || format!("up to {IAM_USER_QUOTA}"),
                    |users| users.to_string()
                ),
                settings.max_items
            )));
        }
        match page.cursor {
            None => {
                summary.run_state = page.run_state;
                return Ok(());
            }
            Some(next) => cursor = Some(next),
        }
    }
}

/// Calls `check` and returns the component's report.
///
/// Errors: [`RunError::Guest`] when no call could be completed, [`RunError::Sandbox`].
pub fn check(session: &mut Session, settings: Settings) -> Result<CheckReport, RunError> {
    Ok(session.check(settings)??)
}

/// Exit code of a check, from the required permissions only (recommended ones never fail
/// it): [`exit::OK`] if every one is granted, [`exit::AUTH`] if any is denied, else
/// [`exit::PARTIAL`] (some could not be tested).
pub fn check_exit_code(report: &CheckReport) -> u8 {
    let required = || report.probes.iter().filter(|probe| !probe.recommended);
    if required().any(|probe| matches!(probe.outcome, ProbeOutcome::Denied(_))) {
        exit::AUTH
    } else if required().all(|probe| matches!(probe.outcome, ProbeOutcome::Granted)) {
        exit::OK
    } else {
        exit::PARTIAL
    }
}

/// Width of the table's permission column: the longest permission the connector probes
/// (`iam:GetAccountAuthorizationDetails`, 34) and two spaces. Fixed, so no padding is built
/// from the component's strings; a longer name is followed by two spaces.
pub const PERMISSION_COLUMN: usize = 36;

/// Renders the report as a human table (every string from the component escaped, see
/// [`crate::escape`]):
///
/// ```text
/// identity: access-keys, partition aws, region us-east-1
/// PERMISSION                          RESULT
/// iam:ListUsers                       granted
/// iam:GetLoginProfile                 denied (AccessDenied: User ... is not authorized ...)
/// ```
pub fn render_check_table(report: &CheckReport) -> String {
    let identity = &report.identity;
    let mut text = format!(
        "identity: {}, partition {}, region {}",
        identity.auth_method.name(),
        escape_text(&identity.partition),
        escape_text(&identity.region)
    );
    if let Some(role) = &identity.role_arn {
        text.push_str(&format!(", role {}", escape_text(role)));
    }
    text.push('\n');
    text.push_str(&format!(
        "caller: {}\n",
        escape_text(
            report
                .caller_arn
                .as_deref()
                .unwrap_or("unknown (GetCallerIdentity failed)")
        )
    ));
    text.push_str(&format!("{:<PERMISSION_COLUMN$}RESULT\n", "PERMISSION"));
    for probe in &report.probes {
        let result = match &probe.outcome {
            ProbeOutcome::Granted => "granted".to_owned(),
            ProbeOutcome::Denied(error) => format!(
                "denied ({}: HTTP {} {})",
                error.code, error.status, error.message
            ),
            ProbeOutcome::NotTestable(reason) => format!("not testable ({reason})"),
        };
        let result = if probe.recommended {
            format!("{result} [recommended]")
        } else {
            result
        };
        let permission = escape_text(&probe.permission);
        let pad = PERMISSION_COLUMN
            .saturating_sub(permission.chars().count())
            .max(2);
        text.push_str(&format!(
            "{permission}{:pad$}{}\n",
            "",
            escape_text(&result)
        ));
    }
    let granted = |recommended: bool| {
        let probes = report
            .probes
            .iter()
            .filter(|p| p.recommended == recommended);
        let all = probes.clone().count();
        let granted = probes
            .filter(|p| matches!(p.outcome, ProbeOutcome::Granted))
            .count();
        (granted, all)
    };
    let (required, all_required) = granted(false);
    text.push_str(&format!("{required}/{all_required} granted"));
    let (recommended, all_recommended) = granted(true);
    if all_recommended > 0 {
        text.push_str(&format!(
            "; recommended: {recommended}/{all_recommended} granted (IAMReadOnlyAccess has them all)"
        ));
    }
    text.push('\n');
    text
}

/// Renders the report as one JSON object:
/// `{"identity":{"auth_method","partition","region","role_arn"?},
/// "probes":[{"permission","outcome":"granted"|"denied"|"not_testable","recommended":bool,
/// (denied:) "action","status","code","message","request_id"?, (not testable:) "reason"}],
/// "all_granted":bool}`.
pub fn check_json(report: &CheckReport) -> serde_json::Value {
    use serde_json::json;
    let identity = &report.identity;
    let mut identity_json = json!({
        "auth_method": identity.auth_method.name(),
        "partition": identity.partition,
        "region": identity.region,
    });
    if let Some(role) = &identity.role_arn {
        identity_json["role_arn"] = json!(role);
    }
    let probes: Vec<serde_json::Value> = report
        .probes
        .iter()
        .map(|probe| (probe, match &probe.outcome {
            ProbeOutcome::Granted => json!({"permission": probe.permission, "outcome": "granted"}),
            ProbeOutcome::Denied(error) => {
                let mut denied = json!({
                    "permission": probe.permission,
                    "outcome": "denied",
                    "action": error.action,
                    "status": error.status,
                    "code": error.code,
                    "message": error.message,
                });
                if let Some(id) = &error.request_id {
                    denied["request_id"] = json!(id);
                }
                denied
            }
            ProbeOutcome::NotTestable(reason) => {
                json!({"permission": probe.permission, "outcome": "not_testable", "reason": reason})
            }
        }))
        .map(|(probe, mut json)| {
            json["recommended"] = json!(probe.recommended);
            json
        })
        .collect();
    json!({
        "identity": identity_json,
        "caller_arn": report.caller_arn,
        "probes": probes,
        "all_granted": check_exit_code(report) == exit::OK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::AuthMethod;
    use crate::error::ApiFailure;
    use crate::inventory::{Identity, Probe};

    fn report(outcomes: Vec<ProbeOutcome>) -> CheckReport {
        CheckReport {
            identity: Identity {
                auth_method: AuthMethod::AccessKeys,
                partition: "aws".into(),
                region: "us-east-1".into(),
                role_arn: None,
            },
            caller_arn: Some("arn:aws:iam::123456789012:user/automation/connector-admin".into()),
            probes: outcomes
                .into_iter()
                .enumerate()
                .map(|(i, outcome)| Probe {
                    permission: format!("iam:Action{i}"),
                    outcome,
                    recommended: false,
                })
                .collect(),
        }
    }

    fn denied() -> ProbeOutcome {
        ProbeOutcome::Denied(ApiFailure {
            action: "GetLoginProfile".into(),
            status: 403,
            code: "AccessDenied".into(),
            message: "not authorized".into(),
            request_id: Some("r-1".into()),
        })
    }

    #[test]
    fn summary_line_format() {
        let mut summary = CollectSummary {
            users: 14,
            events: 14,
            pages: 1,
            api_calls: 29,
            elapsed: Duration::from_millis(840),
            guest_peak_bytes: 2_228_224,
            ..CollectSummary::default()
        };
        assert_eq!(
            summary.to_string(),
            "summary: users=14 root=0 events=14 skipped_users=0 account_users=unknown pages=1 \
             api_calls=29 field_errors=0 seconds=0.84 guest_peak_bytes=2228224"
        );
        assert_eq!(summary.count_mismatch(), None);
        summary.account_users = Some(15);
        assert_eq!(
            summary.count_mismatch().unwrap(),
            "warning: GetAccountSummary reports 15 users but 14 events were written; \
             users may have been created or deleted during the run"
        );
        summary.account_users = Some(14);
        assert_eq!(summary.count_mismatch(), None);
        assert_eq!(summary.exit_code(), exit::OK);
        summary
            .field_errors
            .insert(("ListMFADevices".into(), "AccessDenied".into()), 3);
        summary
            .field_errors
            .insert(("GetLoginProfile".into(), "Throttling".into()), 1);
        assert_eq!(
            summary.to_string(),
            "summary: users=14 root=0 events=14 skipped_users=0 account_users=14 pages=1 \
             api_calls=29 field_errors=4 seconds=0.84 guest_peak_bytes=2228224 \
             errors=GetLoginProfile/Throttling:1,ListMFADevices/AccessDenied:3"
        );
        assert_eq!(summary.exit_code(), exit::PARTIAL);
        summary.strategy = Some("bulk");
        summary.field_errors.clear();
        assert_eq!(
            summary.to_string(),
            "summary: users=14 root=0 events=14 skipped_users=0 account_users=14 pages=1 \
             api_calls=29 field_errors=0 seconds=0.84 guest_peak_bytes=2228224 strategy=bulk"
        );
    }

    #[test]
    fn summary_line_with_sekoia_totals() {
        let mut summary = CollectSummary {
            users: 2,
            events: 3,
            sekoia: Some(PushTotals {
                pushed: 3,
                batches: 2,
                retries: 1,
                tasks: 2,
                tasks_finished: 1,
                ..PushTotals::default()
            }),
            ..CollectSummary::default()
        };
        assert!(
            summary.to_string().ends_with(
                " pushed=3 batches=2 push_retries=1 tasks_finished=1 tasks_failed=0 \
                 tasks_unconfirmed=1"
            ),
            "{summary}"
        );
        assert_eq!(
            summary.exit_code(),
            exit::OK,
            "an unconfirmed task is no failure"
        );
        summary.sekoia.as_mut().unwrap().tasks_failed = 1;
        summary.sekoia.as_mut().unwrap().already_pushed = 4;
        assert!(summary
            .to_string()
            .ends_with(" tasks_finished=1 tasks_failed=1 tasks_unconfirmed=0 already_pushed=4"));
        assert_eq!(summary.exit_code(), exit::PARTIAL);
    }

    #[test]
    fn forged_lines_and_escapes_in_a_report_or_summary_are_escaped() {
        let mut report = report(vec![ProbeOutcome::NotTestable(
            "x\nsummary: users=0\u{1b}]0;t\u{7}".into(),
        )]);
        report.probes[0].permission = format!("iam:{}\u{202e}", "A".repeat(1000));
        report.identity.partition = "aws\u{2028}caller: forged".into();
        let table = render_check_table(&report);
        assert_eq!(table.lines().count(), 5, "{table}");
        assert!(!table
            .chars()
            .any(|c| crate::escape::needs_escape(c) && c != '\n'));
        assert!(table.contains("not testable (x\\nsummary: users=0\\u{1b}]0;t\\u{7})"));
        // The column is fixed: a long name is followed by two spaces, never padded to.
        assert!(table.contains(&format!(
            "iam:{}\\u{{202e}}  not testable",
            "A".repeat(1000)
        )));
        assert!(table.len() < 1300, "{}", table.len());

        let summary = CollectSummary {
            fallback: Some("x\" errors=forged".into()),
            field_errors: [(("A B=c".into(), "Code".into()), 1)].into_iter().collect(),
            ..CollectSummary::default()
        };
        let line = summary.to_string();
        assert!(
            line.ends_with(r#"fallback="x\" errors=forged" errors="A B=c"/Code:1"#),
            "{line}"
        );
    }

    #[test]
    fn the_page_limit_follows_the_account_and_has_a_floor() {
        assert_eq!(page_limit(Some(14), 1000), MIN_PAGE_LIMIT);
        assert_eq!(page_limit(Some(1), 12), MIN_PAGE_LIMIT);
        assert_eq!(page_limit(Some(1000), 10), 202 + 20);
        assert_eq!(page_limit(Some(5000), 1000), 12 + 100);
        assert_eq!(page_limit(None, 1000), 12 + 100);
        assert_eq!(page_limit(None, 1), 10_002 + 100);
        assert_eq!(
            page_limit(Some(u64::from(u32::MAX)), 1),
            10_102,
            "capped at the quota"
        );
    }

    #[test]
    fn check_exit_codes() {
        assert_eq!(
            check_exit_code(&report(vec![ProbeOutcome::Granted, ProbeOutcome::Granted])),
            exit::OK
        );
        assert_eq!(
            check_exit_code(&report(vec![ProbeOutcome::Granted, denied()])),
            exit::AUTH
        );
        assert_eq!(
            check_exit_code(&report(vec![
                ProbeOutcome::Granted,
                ProbeOutcome::NotTestable("x".into())
            ])),
            exit::PARTIAL
        );
        let mut recommended_denied = report(vec![ProbeOutcome::Granted, denied()]);
        recommended_denied.probes[1].recommended = true;
        assert_eq!(check_exit_code(&recommended_denied), exit::OK);
    }

    #[test]
    fn check_renderings() {
        let mut report = report(vec![
            ProbeOutcome::Granted,
            denied(),
            ProbeOutcome::NotTestable("moto lacks it".into()),
            denied(),
        ]);
        report.probes[3].recommended = true;
        let table = render_check_table(&report);
        assert_eq!(
            table,
            "identity: access-keys, partition aws, region us-east-1\n\
             caller: arn:aws:iam::123456789012:user/automation/connector-admin\n\
             PERMISSION                          RESULT\n\
             iam:Action0                         granted\n\
             iam:Action1                         denied (AccessDenied: HTTP 403 not authorized)\n\
             iam:Action2                         not testable (moto lacks it)\n\
             iam:Action3                         denied (AccessDenied: HTTP 403 not authorized) [recommended]\n\
             1/3 granted; recommended: 0/1 granted (IAMReadOnlyAccess has them all)\n"
        );
        let json = check_json(&report);
        assert_eq!(json["identity"]["partition"], "aws");
        assert_eq!(
            json["caller_arn"],
            "arn:aws:iam::123456789012:user/automation/connector-admin"
        );
        assert_eq!(json["probes"][1]["outcome"], "denied");
        assert_eq!(json["probes"][1]["code"], "AccessDenied");
        assert_eq!(json["probes"][1]["request_id"], "r-1");
        assert_eq!(json["probes"][2]["reason"], "moto lacks it");
        assert_eq!(json["probes"][2]["recommended"], false);
        assert_eq!(json["probes"][3]["recommended"], true);
        assert_eq!(json["all_granted"], false);
    }
}
