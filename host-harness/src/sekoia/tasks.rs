//! Following a push's ingestion task, as the SDK does (`wait_for_push_task`): `GET
//! {URL}/api/v1/tasks/{task_id}` until its `status` leaves `PENDING`/`RUNNING`; the first poll
//! after 1 s (or `--task-poll-ms`, when shorter), each pause doubling up to `--task-poll-ms`,
//! for at most `--task-timeout-secs`. `FINISHED` is success; any other final status (or none)
//! is a failed ingestion, reported with the task's `error`. A task still pending at its
//! timeout, or whose status cannot be read, is unconfirmed, and no later task of the run is
//! polled (a platform that stopped answering must not cost the timeout on every batch).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::SekoiaError;
use crate::logging::{LogLevel, Logger};

use super::client::{sleep_until_deadline, Client};
use super::settings::is_task_id;

/// Statuses of a task that is not done yet.
pub const PENDING_STATUSES: [&str; 2] = ["PENDING", "RUNNING"];

/// The status of a task that ingested its assets.
pub const FINISHED: &str = "FINISHED";

/// The first pause before polling a task (shorter when `--task-poll-ms` is).
pub const FIRST_POLL: Duration = Duration::from_secs(1);

/// How a task ended, as far as the host knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// `FINISHED`.
    Finished,
    /// Another final status (`None`: the task had none).
    Failed {
        /// The status.
        status: Option<String>,
        /// The task's `error`, when it has one.
        error: Option<String>,
    },
    /// Not followed to its end (why).
    Unconfirmed(String),
}

/// Polls tasks; once one cannot be followed, it polls no more.
#[derive(Debug)]
pub struct TaskWaiter {
    timeout: Duration,
    max_pause: Duration,
    /// Why polling stopped for the rest of the run.
    stopped: Option<String>,
}

impl TaskWaiter {
    /// `timeout` zero: tasks are never polled.
    pub fn new(timeout: Duration, max_pause: Duration) -> TaskWaiter {
        TaskWaiter {
            timeout,
            max_pause: max_pause.max(Duration::from_millis(1)),
            stopped: timeout
                .is_zero()
                .then(|| "--task-timeout-secs is 0".to_owned()),
        }
    }

    /// Follows `task_id` to its end. `what` names the push in messages.
    ///
    /// Errors: only [`SekoiaError::RunDeadline`]; every other failure is an
    /// [`TaskOutcome::Unconfirmed`] with a warning.
    pub fn wait(
        &mut self,
        client: &mut Client,
        logger: &Logger,
        task: &Value,
        what: &str,
        deadline: Option<Instant>,
    ) -> Result<TaskOutcome, SekoiaError> {
        if let Some(why) = &self.stopped {
            return Ok(TaskOutcome::Unconfirmed(why.clone()));
        }
        let Some(task_id) = task.as_str().filter(|id| is_task_id(id)) else {
            return Ok(self.stop(
                logger,
                format!(
                    "the task id of the {what} is not an id ({})",
                    crate::escape::truncate(&task.to_string(), 80)
                ),
            ));
        };
        let url = client.settings().task_url(task_id);
        let task_deadline = Instant::now() + self.timeout;
        let mut pause = FIRST_POLL.min(self.max_pause);
        loop {
            let left = task_deadline.saturating_duration_since(Instant::now());
            sleep_until_deadline(pause.min(left), deadline)?;
            let answer = match client.get(&url, "GetTask", &format!("task {task_id}"), deadline) {
                Ok(answer) => answer,
                Err(SekoiaError::RunDeadline) => return Err(SekoiaError::RunDeadline),
                Err(error) => {
                    return Ok(self.stop(
                        logger,
                        format!("the status of task {task_id} cannot be read: {error}"),
                    ))
                }
            };
            let status = answer.body.get("status").and_then(Value::as_str);
            match status {
                Some(status) if PENDING_STATUSES.contains(&status) => {}
                Some(FINISHED) => return Ok(TaskOutcome::Finished),
                other => {
                    let error = answer.body.get("error").and_then(|error| match error {
                        Value::Null => None,
                        Value::String(text) => Some(text.clone()),
                        other => Some(other.to_string()),
                    });
                    let outcome = TaskOutcome::Failed {
                        status: other.map(str::to_owned),
                        error,
                    };
                    logger.host(
                        LogLevel::Warn,
                        &format!("Sekoia task {task_id} of the {what} {}", describe(&outcome)),
                    );
                    return Ok(outcome);
                }
            }
            if Instant::now() >= task_deadline {
                return Ok(self.stop(
                    logger,
                    format!(
                        "task {task_id} is still {} after {} s",
                        status.unwrap_or_default(),
                        self.timeout.as_secs()
                    ),
                ));
            }
            pause = (pause * 2).min(self.max_pause);
        }
    }

    fn stop(&mut self, logger: &Logger, why: String) -> TaskOutcome {
        logger.host(
            LogLevel::Warn,
            &format!("{why}; the ingestion tasks of later pushes are not followed"),
        );
        self.stopped = Some(why.clone());
        TaskOutcome::Unconfirmed(why)
    }
}

/// `ended with status FAILED: <error>` and the like.
pub fn describe(outcome: &TaskOutcome) -> String {
    match outcome {
        TaskOutcome::Finished => "finished".to_owned(),
        TaskOutcome::Failed { status, error } => format!(
            "ended with status {}: {}",
            status.as_deref().unwrap_or("(none)"),
            crate::escape::truncate(error.as_deref().unwrap_or("no error reported"), 1024)
        ),
        TaskOutcome::Unconfirmed(why) => format!("unconfirmed: {why}"),
    }
}
