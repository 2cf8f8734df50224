//! Delivery into Sekoia's asset inventory: `collect --sekoia-url URL --connector-uuid UUID`
//! pushes every page's events to the asset-connector API as Sekoia's own asset connectors do
//! (PyPI `sekoia-automation-sdk`, `sekoia_automation.asset_connector`), and `check` verifies
//! the API key and the connector.
//!
//! The protocol:
//! - `POST {URL}/api/v2/asset-management/asset-connector/{UUID}` with
//!   `Authorization: Bearer <key>`, `Content-Type: application/json` and the body
//!   `{"version": 1, "items": [...]}`, at most `--batch-size` (100) events a push;
//! - HTTP 429 waits for its `Retry-After` (delta-seconds or HTTP-date, at most 300 s) and sends
//!   again; 5xx, timeouts and dropped connections are retried with full-jitter backoff; every
//!   request has `--push-attempts` (5) attempts; any other 4xx stops the run with the API's
//!   `code` and `message`;
//! - a 200 may carry a `task_id`: its status is polled at `{URL}/api/v1/tasks/{task_id}` until
//!   it leaves `PENDING`/`RUNNING`, as the SDK does (first after 1 s, then doubling up to
//!   `--task-poll-ms`, for at most `--task-timeout-secs` per task; a task that cannot be
//!   followed stops the polling for the rest of the run).
//!
//! **What is sent.** Each event is reduced to what Sekoia keeps of it: the fields of
//! `UserOCSFModel` (`user_fields.json`, generated from the pinned `sekoia-automation-models` by
//! `tests/peer/sekoia_models.py --fields`), `null`s left out, so a body is what
//! `AssetList(version=1, items=[…]).model_dump(exclude_none=True)` gives for those events —
//! the SDK's own body. `unmapped`, `metadata.processed_time` and
//! `user.programmatic_credentials` (access key ids, MFA serials, tags, policy names) stay on
//! the host: Sekoia would drop them.
//!
//! **Egress.** The host sends to the Sekoia URL only the requests built here: the URL is
//! validated like `--endpoint-url` (https, or plain http to a loopback IP literal only; no
//! credentials, query or fragment), the connector is a UUID and a task id a short token of
//! letters, digits and `-`/`_` (so no path of the API can be reached but these two), no proxy
//! and no redirect is followed. The API key is held as a [`crate::redact::Secret`] and
//! scrubbed from every printed line.
//!
//! Files, one role each: [`settings`] (flags, API key, URLs), [`client`] (HTTP, retries,
//! `Retry-After`), [`fields`] (the reduction), [`push`] (batches, the checkpoint of accepted
//! ones, totals), [`tasks`] (task polling), [`probe`] (`check`).

pub mod client;
pub mod fields;
pub mod probe;
pub mod push;
pub mod settings;
pub mod tasks;

pub use probe::{probe, Probe};
pub use push::{PushTotals, Sink};
pub use settings::{SekoiaSettings, API_KEY_VAR};
