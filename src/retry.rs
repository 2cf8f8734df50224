//! Retries with the AWS SDKs' "standard" mode semantics, as a [`Host`] wrapper so every
//! call the connector makes goes through them.
//!
//! - Retried: throttling codes, transient codes, HTTP 429/500/502/503/504 (even with an HTML
//!   body), connection failures and timeouts. Never: `AccessDenied`, `NoSuchEntity`,
//!   signature or token errors, or anything else.
//! - Backoff: full jitter, `random(0, min(cap, base × 2^(attempt−1)))`, base 1 s and cap 20 s
//!   by default; `Retry-After` (s) or `x-amz-retry-after` (ms) replaces it when present (never
//!   above the cap). One backoff per round: the calls of a batch that must be retried are
//!   sent again together.
//! - Bounded: `max_attempts` per call, and a retry budget per collection (500 tokens, 5 per
//!   retry, 10 per retried timeout; a success gives back its retry's cost, or 1), so a failing account cannot turn
//!   into a retry storm.
//!
//! A call that stays throttled ends as the throttling error itself, never as an empty
//! result. Source: AWS SDKs and Tools Reference Guide, "Retry behavior" (standard mode).

use std::cell::{Cell, RefCell};

use crate::host::{Host, HttpResponse, Identity, Level, QueryCall, TransportError};
use crate::query::error as error_xml;
use crate::xml;

/// Error codes the SDKs treat as throttling. Source: AWS SDKs, standard retry mode.
pub const THROTTLING_CODES: [&str; 14] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes the SDKs treat as transient.
pub const TRANSIENT_CODES: [&str; 2] = ["RequestTimeout", "RequestTimeoutException"];

/// HTTP statuses retried whatever the body.
pub const TRANSIENT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// Retry settings (part of WIT `inventory.settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (1 = never retry). SDK standard mode: 3.
    pub max_attempts: u32,
    /// Backoff base, ms. Standard mode: 1000.
    pub base_ms: u64,
    /// Longest wait before a retry, ms. Standard mode: 20000.
    pub cap_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_ms: 1_000,
            cap_ms: 20_000,
        }
    }
}

/// Retry tokens of one collection (standard mode's retry quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    tokens: u32,
}

impl RetryBudget {
    /// Tokens at the start of a collection.
    pub const INITIAL: u32 = 500;
    /// Tokens one retry costs.
    pub const RETRY_COST: u32 = 5;
    /// Tokens one retry after a timeout or connection failure costs.
    pub const TIMEOUT_COST: u32 = 10;

    /// Tokens left.
    #[cfg(test)]
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    fn spend(&mut self, cost: u32) -> bool {
        let ok = self.tokens >= cost;
        if ok {
            self.tokens -= cost;
        }
        ok
    }

    fn refund(&mut self, tokens: u32) {
        self.tokens = (self.tokens + tokens).min(Self::INITIAL);
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            tokens: Self::INITIAL,
        }
    }
}

/// Why a result should be retried, and what a retry costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retryable {
    cost: u32,
    /// The server's requested delay, ms.
    retry_after_ms: Option<u64>,
}

/// Decides whether `result` is worth retrying.
fn classify(result: &Result<HttpResponse, TransportError>) -> Option<Retryable> {
    let response = match result {
        Err(TransportError::Network(_) | TransportError::Timeout) => {
            return Some(Retryable {
                cost: RetryBudget::TIMEOUT_COST,
                retry_after_ms: None,
            })
        }
        Err(_) => return None,
        Ok(response) if (200..300).contains(&response.status) => return None,
        Ok(response) => response,
    };
    let retryable = TRANSIENT_STATUSES.contains(&response.status)
        || error_code(response).is_some_and(|code| {
            THROTTLING_CODES.contains(&code.as_str()) || TRANSIENT_CODES.contains(&code.as_str())
        });
    retryable.then(|| Retryable {
        cost: RetryBudget::RETRY_COST,
        retry_after_ms: retry_after_ms(response),
    })
}

/// The AWS error code of an error document, if the body is one.
fn error_code(response: &HttpResponse) -> Option<String> {
    let text = std::str::from_utf8(&response.body).ok()?;
    let root = xml::root_element(text).ok()?;
    error_xml::is_error_root(&root)
        .then(|| error_xml::parse("", response.status, text).ok())?
        .map(|e| e.code)
}

fn is_success(result: &Result<HttpResponse, TransportError>) -> bool {
    result
        .as_ref()
        .is_ok_and(|r| (200..300).contains(&r.status))
}

/// `x-amz-retry-after` (ms) or `Retry-After` (whole seconds), if present and readable.
fn retry_after_ms(response: &HttpResponse) -> Option<u64> {
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    header("x-amz-retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| {
            header("retry-after")
                .and_then(|v| v.parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000))
        })
}

/// Most calls handed to the host in one `send_all` (the aws-iam-users host takes 1,024): the
/// retry budget is spent and given back per batch, so a larger one would run it dry on a
/// tenth of failed calls.
pub const MAX_BATCH_CALLS: usize = 256;

/// A [`Host`] whose `send_all` retries, counts every call sent, keeps the budget, and bounds
/// the calls in flight by an adaptive window.
pub struct Retrying<'a> {
    inner: &'a dyn Host,
    /// Calls in flight: halved after a throttled batch, doubled after a clean one, between 1
    /// and `max_window`.
    window: Cell<usize>,
    max_window: usize,
    policy: RetryPolicy,
    budget: RefCell<&'a mut RetryBudget>,
    calls: Cell<u32>,
    retries: Cell<u32>,
}

impl<'a> Retrying<'a> {
    /// Wraps `inner`; the in-flight window starts at `start_window` and grows up to
    /// `max_window` (both at least 1).
    pub fn new(
        inner: &'a dyn Host,
        policy: RetryPolicy,
        budget: &'a mut RetryBudget,
        start_window: usize,
        max_window: usize,
    ) -> Self {
        let max_window = max_window.max(1);
        Self {
            inner,
            window: Cell::new(start_window.clamp(1, max_window)),
            max_window,
            policy,
            budget: RefCell::new(budget),
            calls: Cell::new(0),
            retries: Cell::new(0),
        }
    }

    /// The current in-flight window (a collection carries it from page to page).
    pub fn window(&self) -> usize {
        self.window.get()
    }

    /// Adapts the window to the first answers of a batch sent `in_flight` at a time: halve
    /// when any was throttled, else double (up to the ceiling) when the batch filled the
    /// window — a batch smaller than the window says nothing about a larger one.
    fn adapt(&self, results: &[Result<HttpResponse, TransportError>], in_flight: usize) {
        let throttled = results.iter().any(|r| {
            r.as_ref().is_ok_and(|response| {
                response.status == 429
                    || error_code(response)
                        .is_some_and(|code| THROTTLING_CODES.contains(&code.as_str()))
            })
        });
        let window = self.window.get();
        self.window.set(if throttled {
            (window / 2).max(1)
        } else if results.len() >= in_flight {
            window.saturating_mul(2).min(self.max_window)
        } else {
            window
        });
    }

    /// Calls sent so far, retries included.
    pub fn calls(&self) -> u32 {
        self.calls.get()
    }

    /// Retries sent so far.
    #[cfg(test)]
    pub fn retries(&self) -> u32 {
        self.retries.get()
    }

    /// The wait before retry number `attempt` (1-based): full jitter, or the server's
    /// request; never above the cap.
    fn backoff_ms(&self, attempt: u32, retry_after_ms: Option<u64>) -> u64 {
        let cap = self.policy.cap_ms;
        if let Some(requested) = retry_after_ms {
            return requested.min(cap);
        }
        let ceiling = self
            .policy
            .base_ms
            .saturating_mul(1u64 << (attempt - 1).min(32))
            .min(cap);
        self.inner.random_u64() % (ceiling + 1)
    }
}

impl Host for Retrying<'_> {
    fn send_all_in_flight(
        &self,
        calls: &[QueryCall],
        max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>> {
        let in_flight = || self.window.get().min(max_in_flight).max(1);
        // Slow start: while the window is below its ceiling, one window's worth at a time,
        // each clean round doubling it; then the rest at once, each call starting as soon as
        // one before it completes.
        let ceiling = self.max_window.min(max_in_flight).max(1);
        let mut results = Vec::with_capacity(calls.len());
        while results.len() < calls.len() {
            let start = results.len();
            let window = in_flight();
            let end = if window < ceiling {
                (start + window).min(calls.len())
            } else {
                calls.len()
            };
            let mut answered = self.inner.send_all_in_flight(&calls[start..end], window);
            // Exactly one result per call, whatever the host returned.
            answered.resize_with(end - start, || Err(TransportError::missing()));
            self.adapt(&answered, window);
            results.extend(answered);
        }
        self.calls
            .set(self.calls.get().saturating_add(calls.len() as u32));
        // Tokens the latest retry of each call cost (0: not retried).
        let mut cost = vec![0u32; calls.len()];
        let mut pending: Vec<usize> = (0..calls.len()).collect();
        for attempt in 1..self.policy.max_attempts.max(1) {
            let mut wait_ms = 0;
            let mut retry = Vec::new();
            {
                let mut budget = self.budget.borrow_mut();
                for &index in &pending {
                    if let Some(retryable) = classify(&results[index]) {
                        if budget.spend(retryable.cost) {
                            cost[index] = retryable.cost;
                            wait_ms =
                                wait_ms.max(self.backoff_ms(attempt, retryable.retry_after_ms));
                            retry.push(index);
                        }
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            self.inner.log(
                Level::Debug,
                &format!(
                    "retrying {} call(s) (attempt {}) after {wait_ms} ms",
                    retry.len(),
                    attempt + 1
                ),
            );
            self.inner.sleep_ms(wait_ms);
            let again: Vec<QueryCall> = retry.iter().map(|&i| calls[i].clone()).collect();
            for (&index, result) in retry
                .iter()
                .zip(self.inner.send_all_in_flight(&again, in_flight()))
            {
                results[index] = result;
            }
            self.calls
                .set(self.calls.get().saturating_add(again.len() as u32));
            self.retries
                .set(self.retries.get().saturating_add(again.len() as u32));
            pending = retry;
        }
        // A success gives back what its retry cost, or 1 when it needed none.
        let mut budget = self.budget.borrow_mut();
        for (result, cost) in results.iter().zip(cost) {
            if is_success(result) {
                budget.refund(cost.max(1));
            }
        }
        results
    }

    fn log(&self, level: Level, message: &str) {
        self.inner.log(level, message);
    }

    fn identity(&self) -> Identity {
        self.inner.identity()
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn sleep_ms(&self, ms: u64) {
        self.inner.sleep_ms(ms);
    }

    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }

    fn max_batch(&self) -> usize {
        MAX_BATCH_CALLS.min(self.inner.max_batch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::requests;
    use crate::test_support::{fixture, response, ScriptedHost};

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    fn error(status: u16, code: &str) -> HttpResponse {
        response(
            status,
            &format!("<ErrorResponse><Error><Code>{code}</Code><Message>m</Message></Error></ErrorResponse>"),
        )
    }

    /// A host whose answers to the n-th call (0-based) come from `answers`, then `200 OK`.
    fn scripted(answers: Vec<Result<HttpResponse, TransportError>>) -> ScriptedHost {
        let answers = RefCell::new(answers.into_iter());
        ScriptedHost::new(move |_| {
            answers
                .borrow_mut()
                .next()
                .unwrap_or_else(|| Ok(response(200, "<ListUsersResponse/>")))
        })
    }

    fn send_one(
        host: &ScriptedHost,
        policy: RetryPolicy,
        budget: &mut RetryBudget,
    ) -> (Result<HttpResponse, TransportError>, u32) {
        let client = Retrying::new(host, policy, budget, 8, 8);
        let result = client.send(&requests::iam("ListUsers", &[]));
        (result, client.calls())
    }

    #[test]
    fn throttling_is_retried_with_full_jitter_backoff() {
        let host = scripted(vec![
            Ok(error(400, "Throttling")),
            Ok(error(400, "ThrottlingException")),
        ]);
        host.random.set(1_000_000_007);
        let mut budget = RetryBudget::default();
        let (result, calls) = send_one(&host, policy(), &mut budget);
        assert_eq!(result.unwrap().status, 200);
        assert_eq!(calls, 3);
        assert_eq!(
            *host.sleeps.borrow(),
            [1_000_000_007 % 1_001, 1_000_000_007 % 2_001]
        );
        // Two retries spent 5 each; the final success gave back the last one.
        assert_eq!(
            budget.tokens(),
            RetryBudget::INITIAL - RetryBudget::RETRY_COST
        );
    }

    #[test]
    fn a_call_that_stays_throttled_ends_as_the_throttling_error() {
        let host = scripted((0..3).map(|_| Ok(error(400, "Throttling"))).collect());
        let (result, calls) = send_one(&host, policy(), &mut RetryBudget::default());
        assert_eq!(calls, 3);
        let last = result.unwrap();
        assert_eq!(last.status, 400);
        let parsed =
            crate::query::parse::<crate::query::responses::ListUsersResponse>(&last).unwrap_err();
        assert_eq!(parsed.code(), "Throttling");
    }

    #[test]
    fn transient_statuses_html_bodies_and_dropped_connections_are_retried() {
        for first in [
            Ok(response(
                500,
                &fixture("moto/ListServiceSpecificCredentials.alice.moto-500-html.xml"),
            )),
            Ok(response(502, "Bad Gateway")),
            Ok(response(503, "")),
            Ok(response(504, "")),
            Ok(response(429, "")),
            Ok(error(400, "RequestTimeout")),
            Ok(error(400, "RequestLimitExceeded")),
            Err(TransportError::Network("connection reset".into())),
            Err(TransportError::Timeout),
        ] {
            let host = scripted(vec![first.clone()]);
            let (result, calls) = send_one(&host, policy(), &mut RetryBudget::default());
            assert_eq!((calls, result.map(|r| r.status)), (2, Ok(200)), "{first:?}");
        }
    }

    #[test]
    fn errors_that_cannot_get_better_are_never_retried() {
        for code in [
            "AccessDenied",
            "NoSuchEntity",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "InvalidClientTokenId",
            "LimitExceeded",
            "ValidationError",
        ] {
            let status = if code == "NoSuchEntity" { 404 } else { 403 };
            let host = scripted(vec![Ok(error(status, code))]);
            let (result, calls) = send_one(&host, policy(), &mut RetryBudget::default());
            assert_eq!((calls, result.unwrap().status), (1, status), "{code}");
            assert!(host.sleeps.borrow().is_empty());
        }
        for refused in [
            TransportError::Refused("s3".into()),
            TransportError::Credentials("expired".into()),
            TransportError::BodyTooLarge(1),
        ] {
            let host = scripted(vec![Err(refused.clone())]);
            assert_eq!(
                send_one(&host, policy(), &mut RetryBudget::default()).1,
                1,
                "{refused:?}"
            );
        }
    }

    #[test]
    fn retry_after_headers_replace_the_backoff_up_to_the_cap() {
        let with_header = |name: &str, value: &str| {
            let mut r = response(503, "");
            r.headers.push((name.to_owned(), value.to_owned()));
            Ok(r)
        };
        for (answer, expected) in [
            (with_header("Retry-After", "3"), 3_000),
            (with_header("x-amz-retry-after", "1500"), 1_500),
            (with_header("retry-after", "3600"), 20_000),
        ] {
            let host = scripted(vec![answer]);
            let (result, _) = send_one(&host, policy(), &mut RetryBudget::default());
            assert_eq!(result.unwrap().status, 200);
            assert_eq!(*host.sleeps.borrow(), [expected]);
        }
    }

    #[test]
    fn the_budget_stops_retries_when_spent() {
        let host = scripted((0..3).map(|_| Ok(error(400, "Throttling"))).collect());
        let mut budget = RetryBudget {
            tokens: RetryBudget::RETRY_COST,
        };
        let (result, calls) = send_one(&host, policy(), &mut budget);
        assert_eq!(
            (calls, result.unwrap().status, budget.tokens()),
            (2, 400, 0)
        );
        let host = scripted(vec![Err(TransportError::Timeout)]);
        let mut budget = RetryBudget {
            tokens: RetryBudget::TIMEOUT_COST - 1,
        };
        assert_eq!(send_one(&host, policy(), &mut budget).1, 1);
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let host = scripted(vec![Ok(error(400, "Throttling"))]);
        let single = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        assert_eq!(send_one(&host, single, &mut RetryBudget::default()).1, 1);
    }

    #[test]
    fn only_the_failed_calls_of_a_batch_are_sent_again_and_order_is_kept() {
        let host = ScriptedHost::new(|call| {
            let user = call.param("UserName").unwrap_or_default().to_owned();
            Ok(response(200, &format!("<ok>{user}</ok>")))
        });
        let first_round = RefCell::new(true);
        let flaky = ScriptedHost::new(move |call| {
            let user = call.param("UserName").unwrap_or_default();
            if user == "b" && first_round.replace(false) {
                return Ok(error(400, "Throttling"));
            }
            host.send(call)
        });
        let mut budget = RetryBudget::default();
        let client = Retrying::new(&flaky, policy(), &mut budget, 8, 8);
        let calls: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|u| requests::iam("ListMFADevices", &[("UserName", u)]))
            .collect();
        let bodies: Vec<_> = client
            .send_all(&calls)
            .into_iter()
            .map(|r| String::from_utf8(r.unwrap().body).unwrap())
            .collect();
        assert_eq!(bodies, ["<ok>a</ok>", "<ok>b</ok>", "<ok>c</ok>"]);
        assert_eq!(*flaky.batches.borrow(), [3, 1]);
        assert_eq!((client.calls(), client.retries()), (4, 1));
    }

    #[test]
    fn the_window_starts_low_doubles_when_clean_and_halves_when_throttled() {
        let host = ScriptedHost::new(|_| Ok(response(200, "<ok/>")));
        let mut budget = RetryBudget::default();
        let one_attempt = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        let client = Retrying::new(&host, one_attempt, &mut budget, 16, 64);
        // A batch smaller than the window leaves it as it is.
        client.send_all(&vec![requests::iam("ListUsers", &[]); 10]);
        assert_eq!(client.window(), 16);
        // A larger one goes a window at a time while the window grows (16, 32, 64), then
        // the rest at once at the ceiling.
        let calls = vec![requests::iam("ListUsers", &[]); 300];
        client.send_all(&calls);
        assert_eq!(*host.in_flight.borrow(), [16, 16, 32, 64]);
        assert_eq!(*host.batches.borrow(), [10, 16, 32, 252]);
        client.send_all(&calls);
        assert_eq!(host.in_flight.borrow().last(), Some(&64));
        assert_eq!(host.batches.borrow().back(), Some(&300));
        assert_eq!(client.window(), 64);
        assert_eq!(client.max_batch(), MAX_BATCH_CALLS);
        // A throttled answer halves it.
        let throttled = ScriptedHost::new(|_| Ok(error(400, "Throttling")));
        let mut budget = RetryBudget::default();
        let client = Retrying::new(&throttled, one_attempt, &mut budget, 16, 64);
        client.send_all(&calls[..10]);
        assert_eq!(*throttled.in_flight.borrow(), [16]);
        assert_eq!(client.window(), 8);
        // Within a batch, each throttled round halves the window for the next.
        client.send_all(&calls[..10]);
        assert_eq!(*throttled.in_flight.borrow(), [16, 8, 4]);
        assert_eq!(*throttled.batches.borrow(), [10, 8, 2]);
        assert_eq!(client.window(), 2);
        // Never above the ceiling, never below one.
        let mut budget = RetryBudget::default();
        let client = Retrying::new(&host, one_attempt, &mut budget, 100, 1);
        assert_eq!(client.window(), 1);
    }
}
