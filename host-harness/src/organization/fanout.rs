//! The fan-out: one fresh component instance per account, `--max-accounts-in-flight` at
//! once, on worker threads; their pages go, whole, through one writer on the calling thread.
//!
//! Each worker takes the next account, assumes its member role (the first AssumeRole happens
//! before anything is instantiated, so a missing role costs one STS call), builds the
//! account's transport (its own refreshing credentials, the same endpoints and allowlist),
//! instantiates the component in a new store with the run's limits and deadline, and runs
//! [`crate::run::collect`] with a [`PageOutput`] that hands each page to the writer and waits
//! until it is written (and, checkpointed, durable). A failure ends that account only: it is
//! reported with its id and error, and the workers go on with the others.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::{AccountPosition, OrganizationOutput};
use super::{member_role_arn, Account};
use crate::checkpoint::Start;
use crate::credentials::RoleAssumer;
use crate::endpoint::EndpointResolver;
use crate::error::{exit, OutputError, RunError};
use crate::inventory::{CheckReport, ProbeOutcome, Settings};
use crate::limits::{SandboxLimits, TransportConfig};
use crate::logging::Logger;
use crate::output::PageOutput;
use crate::run::{self, CollectSummary};
use crate::sandbox::{ImportRecorder, Imports, Runtime, Session};
use crate::signing::Signer;
use crate::transport::Transport;

/// What every account's collection or check shares.
pub struct FanOut<'a> {
    /// The compiled component (one store per account is made from it).
    pub runtime: &'a Runtime,
    /// Assumes the member role with the configured credentials.
    pub assumer: Arc<RoleAssumer>,
    /// The region's endpoints (every account's IAM and STS calls go there).
    pub endpoints: EndpointResolver,
    /// Each account transport's limits.
    pub config: TransportConfig,
    /// Each component instance's limits.
    pub limits: SandboxLimits,
    /// The component's settings.
    pub settings: Settings,
    /// `--member-role`.
    pub member_role: String,
    /// `--max-accounts-in-flight`.
    pub in_flight: usize,
    /// When the whole run must end (`--max-run-secs`).
    pub deadline: Option<Instant>,
    /// Host and guest log lines of every account.
    pub logger: Arc<Logger>,
    /// Records every import call of every instance (tests).
    pub recorder: Option<Arc<ImportRecorder>>,
}

/// How one account's collection ended.
#[derive(Debug)]
pub enum Outcome {
    /// Collected in full by this run (field errors make it partial; see the summary).
    Collected(CollectSummary),
    /// Finished by an earlier run of the same checkpoint, with that many events.
    DoneBefore(u64),
    /// Stopped; `summary` holds what was written until then (none when no instance ran).
    Failed {
        /// Why.
        error: RunError,
        /// Totals up to the failure.
        summary: Option<CollectSummary>,
    },
}

/// One account and how it went.
#[derive(Debug)]
pub struct AccountResult {
    /// The account.
    pub account: Account,
    /// How its collection ended.
    pub outcome: Outcome,
}

/// A page on its way to the writer.
struct PageMessage {
    account: String,
    page: Vec<u8>,
    events: u64,
    next: Option<String>,
    reply: mpsc::Sender<Reply>,
}

enum Message {
    Page(PageMessage),
    /// Boxed: an outcome is much larger than a page message.
    Done(usize, Box<Outcome>),
}

/// What the writer answers a page: written (and durable), or why not.
type Reply = Result<(), OutputError>;

/// A worker's [`PageOutput`]: buffers a page, hands it to the writer, waits for it.
struct QueuedOutput {
    account: String,
    buffer: Vec<u8>,
    sender: mpsc::SyncSender<Message>,
    reply: (mpsc::Sender<Reply>, mpsc::Receiver<Reply>),
}

impl PageOutput for QueuedOutput {
    fn writer(&mut self) -> &mut dyn Write {
        &mut self.buffer
    }

    fn page_done(&mut self, events: u64, next: Option<&str>) -> Result<(), OutputError> {
        let gone = || OutputError::Write(std::io::Error::other("the output writer stopped"));
        self.sender
            .send(Message::Page(PageMessage {
                account: self.account.clone(),
                page: std::mem::take(&mut self.buffer),
                events,
                next: next.map(str::to_owned),
                reply: self.reply.0.clone(),
            }))
            .map_err(|_| gone())?;
        self.reply.1.recv().map_err(|_| gone())?
    }
}

impl FanOut<'_> {
    /// The role ARN assumed in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        member_role_arn(self.endpoints.partition(), account, &self.member_role)
    }

    /// A fresh component instance acting in `account` through its member role, and its
    /// transport. The role is assumed first.
    ///
    /// Errors: [`RunError::Credentials`] when the role cannot be assumed,
    /// [`RunError::Sandbox`] when the component cannot be instantiated.
    fn session(&self, account: &str) -> Result<(Session, Arc<Transport>), RunError> {
        let source = self.assumer.source(self.role_arn(account));
        source.credentials()?;
        let logger = Arc::new(self.logger.for_account(account));
        let transport = Arc::new(Transport::new(
            Signer::from_source(Arc::new(source)),
            self.endpoints.clone(),
            self.config.clone(),
            logger.clone(),
        ));
        let session = self.runtime.instantiate(
            Imports {
                transport: transport.clone(),
                logger,
                recorder: self.recorder.clone(),
            },
            self.limits.clone(),
        )?;
        Ok((session, transport))
    }

    /// Collects `accounts` (those finished in `resumed` are skipped; the others start from
    /// their recorded cursor), writing every page to `output` as it comes. `report` is called
    /// on the calling thread as each account ends. Returns every account's result, in the
    /// order of `accounts`.
    ///
    /// Errors: the first [`OutputError`] of the writer; the workers are then stopped at
    /// their next page.
    pub fn collect(
        &self,
        accounts: &[Account],
        resumed: &BTreeMap<String, AccountPosition>,
        output: &mut OrganizationOutput<'_>,
        report: &mut dyn FnMut(&AccountResult),
    ) -> Result<Vec<AccountResult>, OutputError> {
        let mut results: Vec<Option<Outcome>> = accounts.iter().map(|_| None).collect();
        let mut todo = Vec::new();
        for (index, account) in accounts.iter().enumerate() {
            match resumed.get(&account.id) {
                Some(position) if position.finished => {
                    let result = AccountResult {
                        account: account.clone(),
                        outcome: Outcome::DoneBefore(position.events),
                    };
                    report(&result);
                    results[index] = Some(result.outcome);
                }
                position => todo.push((
                    index,
                    Start {
                        cursor: position.and_then(|p| p.cursor.clone()),
                        events: position.map_or(0, |p| p.events),
                        pushed: Vec::new(),
                    },
                )),
            }
        }
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let mut failure: Option<OutputError> = None;
        std::thread::scope(|scope| {
            // Room for one page per worker: a worker waits for its page to be written anyway.
            let (sender, receiver) = mpsc::sync_channel::<Message>(self.in_flight);
            for _ in 0..self.in_flight.min(todo.len()) {
                let sender = sender.clone();
                let (todo, next, stop) = (&todo, &next, &stop);
                scope.spawn(move || loop {
                    let taken = next.fetch_add(1, Ordering::Relaxed);
                    let Some((index, start)) = todo.get(taken) else {
                        return;
                    };
                    let account = &accounts[*index];
                    let outcome = if stop.load(Ordering::Relaxed) {
                        Outcome::Failed {
                            error: OutputError::Write(std::io::Error::other(
                                "not collected: the output failed",
                            ))
                            .into(),
                            summary: None,
                        }
                    } else {
                        self.collect_account(&account.id, start.clone(), &sender)
                    };
                    if sender
                        .send(Message::Done(*index, Box::new(outcome)))
                        .is_err()
                    {
                        return;
                    }
                });
            }
            drop(sender);
            for message in receiver {
                match message {
                    Message::Page(page) => {
                        let written = if failure.is_some() {
                            Err(OutputError::Write(std::io::Error::other(
                                "the output failed earlier",
                            )))
                        } else {
                            output.write_page(
                                &page.account,
                                &page.page,
                                page.events,
                                page.next.as_deref(),
                            )
                        };
                        if let Err(error) = written {
                            stop.store(true, Ordering::Relaxed);
                            let _ =
                                page.reply
                                    .send(Err(OutputError::Write(std::io::Error::other(
                                        error.to_string(),
                                    ))));
                            failure.get_or_insert(error);
                        } else {
                            let _ = page.reply.send(Ok(()));
                        }
                    }
                    Message::Done(index, outcome) => {
                        let outcome = *outcome;
                        if matches!(outcome, Outcome::Failed { .. }) {
                            output.account_failed(&accounts[index].id);
                        }
                        let result = AccountResult {
                            account: accounts[index].clone(),
                            outcome,
                        };
                        report(&result);
                        results[index] = Some(result.outcome);
                    }
                }
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(accounts
            .iter()
            .zip(results)
            .map(|(account, outcome)| AccountResult {
                account: account.clone(),
                outcome: outcome.unwrap_or(Outcome::Failed {
                    error: RunError::Protocol("the account's worker ended without a result".into()),
                    summary: None,
                }),
            })
            .collect())
    }

    /// One account: assume, instantiate, collect every page through `sender`.
    fn collect_account(
        &self,
        account: &str,
        start: Start,
        sender: &mpsc::SyncSender<Message>,
    ) -> Outcome {
        let max_run = match self.deadline {
            None => None,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    return Outcome::Failed {
                        error: RunError::RunLimit(
                            "--max-run-secs passed before the account was started".into(),
                        ),
                        summary: None,
                    }
                }
            },
        };
        let (mut session, transport) = match self.session(account) {
            Ok(session) => session,
            Err(error) => {
                return Outcome::Failed {
                    error,
                    summary: None,
                }
            }
        };
        let mut output = QueuedOutput {
            account: account.to_owned(),
            buffer: Vec::new(),
            sender: sender.clone(),
            reply: mpsc::channel(),
        };
        match run::collect(
            &mut session,
            &transport,
            self.settings,
            &mut output,
            // Without a run-state: `--state` is one account's, refused with `--organization`.
            (start, None),
            max_run,
            None,
        ) {
            Ok(summary) => Outcome::Collected(summary),
            Err(failure) => Outcome::Failed {
                error: failure.error,
                summary: Some(failure.summary),
            },
        }
    }

    /// Checks every account: the role assumption, then the component's permission probes,
    /// `--max-accounts-in-flight` at once. Returns the results in the order of `accounts`.
    pub fn check(&self, accounts: &[Account]) -> Vec<(Account, Result<CheckReport, RunError>)> {
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<Result<CheckReport, RunError>>> =
            accounts.iter().map(|_| None).collect();
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel();
            for _ in 0..self.in_flight.min(accounts.len()) {
                let (sender, next) = (sender.clone(), &next);
                scope.spawn(move || loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(account) = accounts.get(index) else {
                        return;
                    };
                    let report = self
                        .session(&account.id)
                        .and_then(|(mut session, _)| run::check(&mut session, self.settings));
                    if sender.send((index, report)).is_err() {
                        return;
                    }
                });
            }
            drop(sender);
            for (index, report) in receiver {
                results[index] = Some(report);
            }
        });
        accounts
            .iter()
            .cloned()
            .zip(results)
            .map(|(account, report)| {
                let report = report.unwrap_or_else(|| {
                    Err(RunError::Protocol(
                        "the account's worker ended without a result".into(),
                    ))
                });
                (account, report)
            })
            .collect()
    }
}

/// The `summary:` line of one account: `summary: account=222233334444 name=dev status=ok
/// users=2 root=1 events=3 …` (the single-account fields follow `status`), `status=partial`
/// with field errors, `status=failed exit=3 events=0` for a failure, `status=done_before
/// events=N` for an account a previous run finished.
pub fn account_line(result: &AccountResult) -> String {
    let mut line = format!("summary: account={}", result.account.id);
    if let Some(name) = &result.account.name {
        line.push_str(&format!(" name={}", run::summary_word(name)));
    }
    let fields = |summary: &CollectSummary| {
        let text = summary.to_string();
        text.strip_prefix("summary: ").unwrap_or(&text).to_owned()
    };
    match &result.outcome {
        Outcome::Collected(summary) => {
            let status = if summary.exit_code() == exit::OK {
                "ok"
            } else {
                "partial"
            };
            line.push_str(&format!(" status={status} {}", fields(summary)));
        }
        Outcome::DoneBefore(events) => {
            line.push_str(&format!(" status=done_before events={events}"));
        }
        Outcome::Failed { error, summary } => {
            line.push_str(&format!(" status=failed exit={}", exit_code_of(error)));
            match summary {
                Some(summary) => line.push_str(&format!(" {}", fields(summary))),
                None => line.push_str(" events=0"),
            }
        }
    }
    line
}

fn exit_code_of(error: &RunError) -> u8 {
    match error.exit_code() {
        exit::OK => exit::INTERNAL,
        code => code,
    }
}

/// Totals over every account of a collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationTotals {
    /// Accounts in the run.
    pub accounts: u64,
    /// Collected without a field error.
    pub ok: u64,
    /// Collected with field errors.
    pub partial: u64,
    /// Failed.
    pub failed: u64,
    /// Finished by an earlier run.
    pub done_before: u64,
    /// Users listed by this run.
    pub users: u64,
    /// Root users' events written by this run.
    pub root_users: u64,
    /// Events written by this run.
    pub events: u64,
    /// HTTP calls the component instances made (AssumeRole and ListAccounts not included).
    pub api_calls: u64,
}

impl OrganizationTotals {
    /// Adds up `results`.
    pub fn of(results: &[AccountResult]) -> OrganizationTotals {
        let mut totals = OrganizationTotals {
            accounts: results.len() as u64,
            ..OrganizationTotals::default()
        };
        for result in results {
            let summary = match &result.outcome {
                Outcome::Collected(summary) => {
                    if summary.exit_code() == exit::OK {
                        totals.ok += 1;
                    } else {
                        totals.partial += 1;
                    }
                    Some(summary)
                }
                Outcome::DoneBefore(_) => {
                    totals.done_before += 1;
                    None
                }
                Outcome::Failed { summary, .. } => {
                    totals.failed += 1;
                    summary.as_ref()
                }
            };
            if let Some(summary) = summary {
                totals.users += summary.users;
                totals.root_users += summary.root_users;
                totals.events += summary.events;
                totals.api_calls += summary.api_calls;
            }
        }
        totals
    }

    /// The run's exit code: [`exit::OK`] when every account is ok or done before;
    /// [`exit::PARTIAL`] when some failed or had field errors but others were collected;
    /// when every account failed, the first failure's own code.
    pub fn exit_code(&self, results: &[AccountResult]) -> u8 {
        if self.failed > 0 && self.failed == self.accounts {
            let first = results.iter().find_map(|result| match &result.outcome {
                Outcome::Failed { error, .. } => Some(exit_code_of(error)),
                _ => None,
            });
            return first.unwrap_or(exit::INTERNAL);
        }
        if self.failed > 0 || self.partial > 0 {
            exit::PARTIAL
        } else {
            exit::OK
        }
    }

    /// `summary: organization accounts=4 ok=2 partial=0 failed=1 done_before=1 users=5
    /// root=2 events=7 api_calls=48 seconds=3.10`.
    pub fn line(&self, elapsed: Duration) -> String {
        format!(
            "summary: organization accounts={} ok={} partial={} failed={} done_before={} \
             users={} root={} events={} api_calls={} seconds={:.2}",
            self.accounts,
            self.ok,
            self.partial,
            self.failed,
            self.done_before,
            self.users,
            self.root_users,
            self.events,
            self.api_calls,
            elapsed.as_secs_f64()
        )
    }
}

/// Column widths of the organization check table: an account id and two spaces; names are
/// cut to 24 characters (no padding is built from AWS text beyond that).
const ACCOUNT_COLUMN: usize = 14;
const NAME_COLUMN: usize = 26;
const ROLE_COLUMN: usize = 10;

/// Renders an organization check as a table, one row per account:
///
/// ```text
/// member role: aws-iam-users-reader
/// ACCOUNT       NAME                      ROLE      RESULT
/// 111122223333  dev                       assumed   19/19 granted; recommended: 9/9 granted
/// 444455556666  sandbox                   denied    cannot assume role arn:…: STS AssumeRole failed: HTTP 403 AccessDenied: …
/// 2/3 accounts: every permission granted
/// ```
pub fn render_check_table(
    member_role: &str,
    results: &[(Account, Result<CheckReport, RunError>)],
) -> String {
    use crate::escape::{escape_text, truncate};
    let mut text = format!("member role: {}\n", escape_text(member_role));
    text.push_str(&format!(
        "{:<ACCOUNT_COLUMN$}{:<NAME_COLUMN$}{:<ROLE_COLUMN$}RESULT\n",
        "ACCOUNT", "NAME", "ROLE"
    ));
    for (account, result) in results {
        let name = account
            .name
            .as_deref()
            .map(|name| escape_text(&truncate(name, 24)).into_owned())
            .unwrap_or_else(|| "-".to_owned());
        let name_pad = NAME_COLUMN.saturating_sub(name.chars().count()).max(2);
        let (role, outcome) = match result {
            Ok(report) => ("assumed", permissions_text(report)),
            Err(RunError::Credentials(error)) => ("denied", error.to_string()),
            Err(error) => ("assumed", format!("check failed: {error}")),
        };
        text.push_str(&format!(
            "{:<ACCOUNT_COLUMN$}{name}{:name_pad$}{role:<ROLE_COLUMN$}{}\n",
            account.id,
            "",
            escape_text(&outcome)
        ));
    }
    let granted = results
        .iter()
        .filter(|(_, result)| {
            result
                .as_ref()
                .is_ok_and(|r| run::check_exit_code(r) == exit::OK)
        })
        .count();
    text.push_str(&format!(
        "{granted}/{} accounts: every permission granted\n",
        results.len()
    ));
    text
}

/// `19/19 granted; recommended: 9/9 granted`, then `; denied: iam:X (Code), …` and
/// `; not testable: iam:Y` when some are.
fn permissions_text(report: &CheckReport) -> String {
    let count = |recommended: bool| {
        let probes = report
            .probes
            .iter()
            .filter(|p| p.recommended == recommended);
        let granted = probes
            .clone()
            .filter(|p| matches!(p.outcome, ProbeOutcome::Granted))
            .count();
        (granted, probes.count())
    };
    let (required, all_required) = count(false);
    let mut text = format!("{required}/{all_required} granted");
    let (recommended, all_recommended) = count(true);
    if all_recommended > 0 {
        text.push_str(&format!(
            "; recommended: {recommended}/{all_recommended} granted"
        ));
    }
    let denied: Vec<String> = report
        .probes
        .iter()
        .filter(|p| !p.recommended)
        .filter_map(|p| match &p.outcome {
            ProbeOutcome::Denied(error) => Some(format!("{} ({})", p.permission, error.code)),
            _ => None,
        })
        .collect();
    if !denied.is_empty() {
        text.push_str(&format!("; denied: {}", denied.join(", ")));
    }
    let untested: Vec<&str> = report
        .probes
        .iter()
        .filter(|p| !p.recommended && matches!(p.outcome, ProbeOutcome::NotTestable(_)))
        .map(|p| p.permission.as_str())
        .collect();
    if !untested.is_empty() {
        text.push_str(&format!("; not testable: {}", untested.join(", ")));
    }
    text
}

/// The organization check as one JSON object: `{"member_role", "accounts": [{"account_id",
/// "name"?, "role_arn", "role": "assumed"|"denied"|"failed", "error"?, "exit_code", "check"?:
/// <the single-account check JSON>}], "all_granted": bool}`.
pub fn check_json(
    fan_out: &FanOut<'_>,
    results: &[(Account, Result<CheckReport, RunError>)],
) -> serde_json::Value {
    use serde_json::json;
    let accounts: Vec<serde_json::Value> = results
        .iter()
        .map(|(account, result)| {
            let mut entry = json!({
                "account_id": account.id,
                "role_arn": fan_out.role_arn(&account.id),
                "exit_code": account_check_exit_code(result),
            });
            if let Some(name) = &account.name {
                entry["name"] = json!(name);
            }
            match result {
                Ok(report) => {
                    entry["role"] = json!("assumed");
                    entry["check"] = run::check_json(report);
                }
                Err(error) => {
                    entry["role"] = json!(if matches!(error, RunError::Credentials(_)) {
                        "denied"
                    } else {
                        "failed"
                    });
                    entry["error"] = json!(error.to_string());
                }
            }
            entry
        })
        .collect();
    json!({
        "member_role": fan_out.member_role,
        "accounts": accounts,
        "all_granted": check_exit_code(results) == exit::OK,
    })
}

/// One account's check exit code: the single-account check's, or its error's.
fn account_check_exit_code(result: &Result<CheckReport, RunError>) -> u8 {
    match result {
        Ok(report) => run::check_exit_code(report),
        Err(error) => exit_code_of(error),
    }
}

/// The organization check's exit code: [`exit::OK`] when every account's role was assumed
/// and every required permission granted; [`exit::AUTH`] when any role could not be assumed
/// or any permission was denied; else the first other failure's code (4: some could not be
/// tested, 5: AWS or network, 6: sandbox).
pub fn check_exit_code(results: &[(Account, Result<CheckReport, RunError>)]) -> u8 {
    let codes: Vec<u8> = results
        .iter()
        .map(|(_, result)| account_check_exit_code(result))
        .collect();
    if codes.contains(&exit::AUTH) {
        exit::AUTH
    } else {
        codes
            .into_iter()
            .find(|code| *code != exit::OK)
            .unwrap_or(exit::OK)
    }
}
