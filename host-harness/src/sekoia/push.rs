//! Pushing a page: its events reduced ([`super::fields`]) and sent in batches of
//! `--batch-size` as `{"version": 1, "items": [...]}`, each accepted batch recorded (with
//! `--checkpoint`, in the checkpoint: the `user.uid` of every event of the page accepted so
//! far), then its task followed ([`super::tasks`]).
//!
//! A page resumed from a checkpoint skips the events whose `user.uid` the checkpoint lists:
//! the batches accepted before a crash or a failed push are not sent again, whatever the batch
//! size of the new run. *Limit:* a batch Sekoia accepted while the host died before recording
//! it (the time of one fsync) is sent again.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::error::{OutputError, RunError};
use crate::logging::{LogLevel, Logger};

use super::client::Client;
use super::settings::SekoiaSettings;
use super::tasks::{TaskOutcome, TaskWaiter};

/// The `version` of every body (Sekoia's asset schema version, the SDK's
/// `OCSF_SCHEMA_VERSION`).
pub const ASSET_LIST_VERSION: u32 = 1;

/// The body of a push.
#[derive(Serialize)]
struct AssetList<'a> {
    version: u32,
    items: &'a [Value],
}

/// Totals of a run's pushes, printed at the end of the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushTotals {
    /// Events Sekoia accepted in this run.
    pub pushed: u64,
    /// Pushes it accepted.
    pub batches: u64,
    /// Requests sent again (429, 5xx, connection errors), polls included.
    pub retries: u64,
    /// Events skipped because an interrupted run had pushed them (from the checkpoint).
    pub already_pushed: u64,
    /// Pushes answered with a task.
    pub tasks: u64,
    /// Tasks that ended `FINISHED`.
    pub tasks_finished: u64,
    /// Tasks that ended otherwise.
    pub tasks_failed: u64,
}

impl PushTotals {
    /// Tasks not followed to their end.
    pub fn tasks_unconfirmed(&self) -> u64 {
        self.tasks - self.tasks_finished - self.tasks_failed
    }
}

impl fmt::Display for PushTotals {
    /// ` pushed=251 batches=8 push_retries=0 tasks_finished=8 tasks_failed=0
    /// tasks_unconfirmed=0`, then ` already_pushed=N` after a resumed push.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            " pushed={} batches={} push_retries={} tasks_finished={} tasks_failed={} \
             tasks_unconfirmed={}",
            self.pushed,
            self.batches,
            self.retries,
            self.tasks_finished,
            self.tasks_failed,
            self.tasks_unconfirmed()
        )?;
        if self.already_pushed > 0 {
            write!(f, " already_pushed={}", self.already_pushed)?;
        }
        Ok(())
    }
}

/// The Sekoia sink of one run.
pub struct Sink {
    client: Client,
    settings: Arc<SekoiaSettings>,
    tasks: TaskWaiter,
    logger: Arc<Logger>,
    totals: PushTotals,
}

impl Sink {
    /// A sink pushing with `settings`.
    pub fn new(settings: SekoiaSettings, logger: Arc<Logger>) -> Sink {
        let settings = Arc::new(settings);
        Sink {
            client: Client::new(settings.clone(), logger.clone()),
            tasks: TaskWaiter::new(settings.task_timeout, settings.task_poll),
            settings,
            logger,
            totals: PushTotals::default(),
        }
    }

    /// The totals so far.
    pub fn totals(&self) -> PushTotals {
        PushTotals {
            retries: self.client.retries,
            ..self.totals.clone()
        }
    }

    /// Pushes page `page`'s `events` (each one JSON object, as the output checked), except
    /// those whose `user.uid` is in `already`. After each accepted batch, `accepted` gets the
    /// uids of the page accepted so far (`already` included), so a checkpoint can record them.
    ///
    /// Errors: [`RunError::Sekoia`] (refused, exhausted, malformed, the run deadline),
    /// [`RunError::Output`] from `accepted`.
    pub fn push_page(
        &mut self,
        page: u64,
        events: &[String],
        already: &[String],
        accepted: &mut dyn FnMut(&[String]) -> Result<(), OutputError>,
        deadline: Option<Instant>,
    ) -> Result<(), RunError> {
        let skip: HashSet<&str> = already.iter().map(String::as_str).collect();
        let mut done: Vec<String> = already.to_vec();
        let mut items = Vec::with_capacity(events.len());
        let mut uids = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let value: Value = serde_json::from_str(event).map_err(|error| {
                RunError::Output(OutputError::InvalidEvent {
                    index,
                    reason: error.to_string(),
                })
            })?;
            let uid = value
                .get("user")
                .and_then(|user| user.get("uid"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if uid.as_deref().is_some_and(|uid| skip.contains(uid)) {
                self.totals.already_pushed += 1;
                continue;
            }
            items.push(super::fields::reduce(&value));
            uids.push(uid);
        }
        let url = self.settings.push_url();
        let batches = items.len().div_ceil(self.settings.batch_size);
        for (number, (batch, batch_uids)) in items
            .chunks(self.settings.batch_size)
            .zip(uids.chunks(self.settings.batch_size))
            .enumerate()
        {
            let what = format!(
                "push of batch {} of {batches} of page {page} ({} events)",
                number + 1,
                batch.len()
            );
            let body = serde_json::to_vec(&AssetList {
                version: ASSET_LIST_VERSION,
                items: batch,
            })
            .map_err(|error| {
                RunError::Output(OutputError::InvalidEvent {
                    index: 0,
                    reason: error.to_string(),
                })
            })?;
            let answer = self
                .client
                .post(&url, &body, "PushAssets", &what, deadline)?;
            self.totals.pushed += batch.len() as u64;
            self.totals.batches += 1;
            done.extend(batch_uids.iter().flatten().cloned());
            accepted(&done)?;
            self.logger.host(
                LogLevel::Debug,
                &format!("Sekoia accepted the {what} (HTTP {})", answer.status),
            );
            if let Some(task) = answer.body.get("task_id").filter(|task| !task.is_null()) {
                self.totals.tasks += 1;
                match self
                    .tasks
                    .wait(&mut self.client, &self.logger, task, &what, deadline)
                    .map_err(RunError::Sekoia)?
                {
                    TaskOutcome::Finished => self.totals.tasks_finished += 1,
                    TaskOutcome::Failed { .. } => self.totals.tasks_failed += 1,
                    TaskOutcome::Unconfirmed(_) => {}
                }
            }
        }
        Ok(())
    }
}
