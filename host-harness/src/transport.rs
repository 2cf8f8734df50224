//! The signed AWS Query API transport behind the WIT `transport` import.
//!
//! For each call: check the service and the action against the allowlist
//! ([`crate::actions`]), resolve its endpoint, form-encode the parameters, build a `POST` with
//! `content-type: application/x-www-form-urlencoded; charset=utf-8`, sign exactly that request,
//! send it with `ureq` (4xx/5xx are responses, not errors; no redirects, no proxy whatever the
//! environment says), and read the body up to the cap. `send_all` runs calls on a bounded
//! number of scoped threads, holds at most [`TransportConfig::max_batch_bytes`] of response
//! bodies for the whole batch, and returns results in input order.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::endpoint::{Endpoint, EndpointResolver, Service};
use crate::error::TransportError;
use crate::limits::TransportConfig;
use crate::logging::{Logger, RequestRecord};
use crate::signing::Signer;

/// Content type of every Query API request.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// One Query API call (WIT `query-call`): a service signing name and unencoded parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCall {
    /// Signing name of the service: `iam` or `sts`.
    pub service: String,
    /// Parameters in order (`Action`, `Version`, …), not encoded.
    pub params: Vec<(String, String)>,
}

impl QueryCall {
    /// Value of the `Action` parameter, if any.
    pub fn action(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(name, _)| name == "Action")
            .map(|(_, value)| value.as_str())
    }
}

/// A complete HTTP response (WIT `response`), whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names in lowercase, values lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// Body bytes, at most the configured cap.
    pub body: Vec<u8>,
}

/// Form-encodes parameters as `application/x-www-form-urlencoded` (UTF-8, every reserved
/// character percent-encoded, space as `+`), in the given order.
pub fn form_encode(params: &[(String, String)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The signed transport. Shareable across threads; counts every call it sends.
pub struct Transport {
    agent: ureq::Agent,
    signer: Signer,
    endpoints: EndpointResolver,
    config: TransportConfig,
    logger: Arc<Logger>,
    calls: AtomicU64,
}

impl std::fmt::Debug for Transport {
    /// Endpoints, limits and the call count only (not the agent's proxy settings, not the
    /// signer's credentials).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("endpoints", &self.endpoints)
            .field("config", &self.config)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the HTTP agent (rustls, timeouts from `config`, no redirects, no proxy:
    /// `HTTPS_PROXY`, `ALL_PROXY` and the like are ignored, 4xx/5xx returned as responses).
    pub fn new(
        signer: Signer,
        endpoints: EndpointResolver,
        config: TransportConfig,
        logger: Arc<Logger>,
    ) -> Transport {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.call_timeout))
            .max_idle_connections_per_host(config.max_concurrency.max(1))
            .user_agent(concat!(
                "aws-iam-users-host-harness/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .into();
        Transport {
            agent,
            signer,
            endpoints,
            config,
            logger,
            calls: AtomicU64::new(0),
        }
    }

    /// The endpoint resolver (partition and region).
    pub fn endpoints(&self) -> &EndpointResolver {
        &self.endpoints
    }

    /// The signer (its credential source names the auth method and role).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The transport's limits.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Calls sent so far (refused calls are not sent and not counted).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Checks a call against the allowlist and resolves its endpoint.
    ///
    /// Errors: [`TransportError::Refused`] naming the service when it is not `iam`/`sts`, or
    /// naming the action when the call breaks a rule of [`crate::actions::check_call`] (an
    /// action outside the table, not exactly one `Action`, another `Version`, a parameter
    /// twice).
    pub fn route(&self, call: &QueryCall) -> Result<Endpoint, TransportError> {
        let service = Service::from_signing_name(&call.service).ok_or_else(|| {
            TransportError::Refused(format!(
                "service {:?} is not allowed (allowed: iam, sts)",
                crate::escape::truncate(&call.service, 64)
            ))
        })?;
        crate::actions::check_call(service, &call.params).map_err(TransportError::Refused)?;
        Ok(self.endpoints.resolve(service))
    }

    /// Sends one call and returns its response, whatever the HTTP status.
    ///
    /// Errors: `Refused` (see [`Transport::route`]), `Credentials` (signing failed), `Network`,
    /// `Timeout` (connect or call timeout), `BodyTooLarge` (cap exceeded while reading).
    pub fn send(&self, call: &QueryCall) -> Result<HttpResponse, TransportError> {
        self.send_until(call, None)
    }

    /// Like [`Transport::send`], but the exchange must also end by `deadline`: the call
    /// timeout is shortened to the time left, and a call with no time left is not sent
    /// (`Timeout`).
    pub fn send_until(
        &self,
        call: &QueryCall,
        deadline: Option<Instant>,
    ) -> Result<HttpResponse, TransportError> {
        self.send_within(call, deadline, None)
    }

    /// Sends one call; with `batch`, its body also counts against that batch's byte budget.
    fn send_within(
        &self,
        call: &QueryCall,
        deadline: Option<Instant>,
        batch: Option<&BatchBudget>,
    ) -> Result<HttpResponse, TransportError> {
        let endpoint = self.route(call)?;
        let timeout = match deadline {
            None => self.config.call_timeout,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(self.config.call_timeout),
                _ => return Err(TransportError::Timeout),
            },
        };
        let mut request = http::Request::post(endpoint.url.as_str())
            .header(http::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .body(form_encode(&call.params).into_bytes())
            .map_err(|error| {
                TransportError::Refused(format!("cannot build the request: {error}"))
            })?;
        self.signer
            .sign(
                &mut request,
                endpoint.service.signing_name(),
                endpoint.signing_region,
                SystemTime::now(),
            )
            .map_err(|error| TransportError::Credentials(error.to_string()))?;

        self.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let result = self.exchange(request, timeout, batch);
        self.logger.request(&RequestRecord {
            action: call.action().unwrap_or("?"),
            service: endpoint.service.signing_name(),
            host: &endpoint.host,
            outcome: result
                .as_ref()
                .map(|response| response.status)
                .map_err(ToString::to_string),
            duration: started.elapsed(),
        });
        result
    }

    /// Sends `calls` with at most `max_concurrency` in flight; results in the order of `calls`.
    pub fn send_all(&self, calls: &[QueryCall]) -> Vec<Result<HttpResponse, TransportError>> {
        self.send_all_until(calls, None, usize::MAX)
    }

    /// Like [`Transport::send_all`], with [`Transport::send_until`]'s deadline for every call
    /// and at most `max_in_flight` in flight (capped by `max_concurrency`): a pool of that
    /// many workers, each taking the next call as soon as its last one completed. The bodies
    /// of the whole batch together are held up to [`TransportConfig::max_batch_bytes`].
    pub fn send_all_until(
        &self,
        calls: &[QueryCall],
        deadline: Option<Instant>,
        max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>> {
        let budget = BatchBudget::new(self.config.max_batch_bytes);
        let budget = &budget;
        let workers = self
            .config
            .max_concurrency
            .min(max_in_flight)
            .clamp(1, calls.len().max(1));
        if workers == 1 {
            return calls
                .iter()
                .map(|call| self.send_within(call, deadline, Some(budget)))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let mut results: Vec<Option<Result<HttpResponse, TransportError>>> =
            (0..calls.len()).map(|_| None).collect();
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some(call) = calls.get(index) else { break };
                            done.push((index, self.send_within(call, deadline, Some(budget))));
                        }
                        done
                    })
                })
                .collect();
            for handle in handles {
                let done = handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                for (index, result) in done {
                    results[index] = Some(result);
                }
            }
        });
        results
            .into_iter()
            .map(|result| result.expect("every index is claimed by exactly one worker"))
            .collect()
    }

    fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
        batch: Option<&BatchBudget>,
    ) -> Result<HttpResponse, TransportError> {
        let max = self.config.max_body_bytes;
        let request = if timeout < self.config.call_timeout {
            self.agent
                .configure_request(request)
                .timeout_global(Some(timeout))
                .build()
        } else {
            request
        };
        let response = self
            .agent
            .run(request)
            .map_err(|error| map_error(error, max))?;
        let (parts, mut body) = response.into_parts();
        let body = match batch {
            None => body
                .with_config()
                .limit(max)
                .read_to_vec()
                .map_err(|error| map_error(error, max))?,
            Some(batch) => batch.read(body.with_config().limit(max).reader(), max)?,
        };
        let headers = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(HttpResponse {
            status: parts.status.as_u16(),
            headers,
            body,
        })
    }
}

/// The response bytes one `send_all` batch may still hold, shared by its workers.
struct BatchBudget {
    cap: u64,
    left: AtomicU64,
}

impl BatchBudget {
    fn new(cap: u64) -> BatchBudget {
        BatchBudget {
            cap,
            left: AtomicU64::new(cap),
        }
    }

    /// Takes `bytes` from the budget; false (taking nothing) when fewer are left.
    fn take(&self, bytes: u64) -> bool {
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    /// Reads a body (already limited to `max_body` by `reader`), taking each chunk from the
    /// budget before keeping it.
    fn read(
        &self,
        mut reader: impl std::io::Read,
        max_body: u64,
    ) -> Result<Vec<u8>, TransportError> {
        let mut body = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Ok(body),
                Ok(n) => n,
                Err(error) => return Err(map_error(ureq::Error::from(error), max_body)),
            };
            if !self.take(n as u64) {
                return Err(TransportError::BodyTooLarge(self.cap));
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
}

fn map_error(error: ureq::Error, max_body_bytes: u64) -> TransportError {
    match error {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            TransportError::Timeout
        }
        ureq::Error::BodyExceedsLimit(_) => TransportError::BodyTooLarge(max_body_bytes),
        ureq::Error::HostNotFound => TransportError::Network("host not found".into()),
        other => TransportError::Network(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::LogLevel;
    use crate::test_support::{canary_credentials, SharedBuffer, CANARY_SECRET, CANARY_TOKEN};
    use ::test_support::http::{Reply, Server};
    use std::net::TcpListener;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn transport(endpoint: &str, config: TransportConfig, log: SharedBuffer) -> Transport {
        let endpoints = EndpointResolver::new("us-east-1", Some(endpoint)).unwrap();
        let logger = Arc::new(Logger::with_sink(LogLevel::Debug, true, Box::new(log)));
        Transport::new(Signer::new(canary_credentials()), endpoints, config, logger)
    }

    #[test]
    fn form_encoding_escapes_reserved_and_unicode() {
        let encoded = form_encode(&params(&[
            ("Action", "ListUsers"),
            ("PathPrefix", "/r&d/"),
            ("Marker", "a=b+c/d:e"),
            ("RoleArn", "arn:aws:iam::123456789012:role/x"),
            ("Name", "Jürgen 🚀"),
        ]));
        assert_eq!(
            encoded,
            "Action=ListUsers&PathPrefix=%2Fr%26d%2F&Marker=a%3Db%2Bc%2Fd%3Ae\
             &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&Name=J%C3%BCrgen+%F0%9F%9A%80"
        );
        let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded[4].1, "Jürgen 🚀");
        assert_eq!(decoded[2].1, "a=b+c/d:e");
    }

    #[test]
    fn refuses_services_outside_the_allowlist_and_calls_without_action() {
        let transport = transport(
            "http://127.0.0.1:9/",
            TransportConfig::default(),
            SharedBuffer::default(),
        );
        let s3 = QueryCall {
            service: "s3".into(),
            params: params(&[("Action", "ListBuckets")]),
        };
        match transport.send(&s3) {
            Err(TransportError::Refused(message)) => {
                assert!(message.contains("\"s3\""), "{message}")
            }
            other => panic!("expected refusal, got {other:?}"),
        }
        let no_action = QueryCall {
            service: "iam".into(),
            params: params(&[("Version", "2010-05-08")]),
        };
        assert!(matches!(
            transport.send(&no_action),
            Err(TransportError::Refused(_))
        ));
        assert_eq!(transport.calls(), 0);
    }

    #[test]
    fn sends_signed_form_post_and_returns_error_statuses_as_responses() {
        let server = Server::start(|_| {
            Reply::new(403, "<ErrorResponse/>").with_header("X-Amzn-RequestId", "r-1")
        });
        let log = SharedBuffer::default();
        let transport = transport(server.url(), TransportConfig::default(), log.clone());
        let call = QueryCall {
            service: "iam".into(),
            params: params(&[
                ("Action", "ListUsers"),
                ("Version", "2010-05-08"),
                ("PathPrefix", "/"),
            ]),
        };
        let response = transport.send(&call).unwrap();
        assert_eq!(response.status, 403);
        assert_eq!(response.body, b"<ErrorResponse/>");
        assert!(response
            .headers
            .contains(&("x-amzn-requestid".into(), "r-1".into())));
        assert_eq!(transport.calls(), 1);

        let request = server.requests().remove(0).text();
        assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
        let lower = request.to_ascii_lowercase();
        assert!(
            lower.contains("content-type: application/x-www-form-urlencoded; charset=utf-8"),
            "{request}"
        );
        assert!(
            lower.contains("authorization: aws4-hmac-sha256 credential=akidcanary/"),
            "{request}"
        );
        assert!(lower.contains("/us-east-1/iam/aws4_request"), "{request}");
        assert!(
            request.ends_with("Action=ListUsers&Version=2010-05-08&PathPrefix=%2F"),
            "{request}"
        );
        assert!(
            request.contains(CANARY_TOKEN),
            "the session token is sent as x-amz-security-token"
        );
        assert!(!request.contains(CANARY_SECRET));

        let log = log.text();
        assert!(
            log.starts_with("debug http: ListUsers iam 127.0.0.1:"),
            "{log}"
        );
        assert!(log.contains(" 403 "), "{log}");
        assert!(
            !log.contains("CANARY") && !log.to_ascii_lowercase().contains("authorization"),
            "{log}"
        );
    }

    #[test]
    fn body_cap_is_enforced_while_reading() {
        let server = Server::start(|_| Reply::new(200, "x".repeat(2000)));
        let config = TransportConfig {
            max_body_bytes: 1000,
            ..TransportConfig::default()
        };
        let transport = transport(server.url(), config, SharedBuffer::default());
        let call = QueryCall {
            service: "iam".into(),
            params: params(&[("Action", "ListUsers"), ("Version", "2010-05-08")]),
        };
        assert_eq!(
            transport.send(&call),
            Err(TransportError::BodyTooLarge(1000))
        );
    }

    #[test]
    fn connection_refused_is_a_network_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = transport(
            &format!("http://127.0.0.1:{port}/"),
            TransportConfig::default(),
            SharedBuffer::default(),
        );
        let call = QueryCall {
            service: "sts".into(),
            params: params(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]),
        };
        assert!(matches!(
            transport.send(&call),
            Err(TransportError::Network(_))
        ));
    }

    #[test]
    fn send_all_keeps_input_order() {
        let server = Server::start(|request| {
            let action = request
                .text()
                .rsplit("Action=")
                .next()
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned();
            Reply::new(200, action)
        });
        let config = TransportConfig {
            max_concurrency: 3,
            ..TransportConfig::default()
        };
        let transport = transport(server.url(), config, SharedBuffer::default());
        let actions = [
            "ListUsers",
            "GetUser",
            "ListGroups",
            "GetGroup",
            "ListMFADevices",
            "ListUserTags",
        ];
        let iam = |action: &str| QueryCall {
            service: "iam".into(),
            params: params(&[("Action", action), ("Version", "2010-05-08")]),
        };
        let mut calls: Vec<QueryCall> = actions[..5].iter().map(|action| iam(action)).collect();
        calls.insert(
            2,
            QueryCall {
                service: "ec2".into(),
                params: params(&[("Action", "Nope")]),
            },
        );
        calls.insert(
            4,
            QueryCall {
                service: "sts".into(),
                params: params(&[("Action", "GetSessionToken"), ("Version", "2011-06-15")]),
            },
        );
        calls.push(iam(actions[5]));
        let results = transport.send_all(&calls);
        assert_eq!(results.len(), 8);
        assert!(matches!(&results[2], Err(TransportError::Refused(_))));
        assert_eq!(
            results[4],
            Err(TransportError::Refused(
                "sts:GetSessionToken is not an action this host signs (it signs only the \
                 read-only IAM and STS actions the connector uses)"
                    .into()
            ))
        );
        let bodies: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| String::from_utf8(r.body.clone()).unwrap())
            .collect();
        assert_eq!(bodies, actions);
        assert_eq!(transport.calls(), 6);
    }

    #[test]
    fn a_batch_holds_at_most_its_byte_budget() {
        let body = "x".repeat(40 * 1024);
        let server = Server::start(move |_| Reply::new(200, body.clone()));
        let config = TransportConfig {
            max_batch_bytes: 100 * 1024,
            max_concurrency: 1,
            ..TransportConfig::default()
        };
        let transport = transport(server.url(), config, SharedBuffer::default());
        let call = QueryCall {
            service: "iam".into(),
            params: params(&[("Action", "ListUsers"), ("Version", "2010-05-08")]),
        };
        let results = transport.send_all(&vec![call.clone(); 4]);
        let kept: Vec<bool> = results.iter().map(Result::is_ok).collect();
        assert_eq!(kept, [true, true, false, false], "{results:?}");
        assert_eq!(results[2], Err(TransportError::BodyTooLarge(100 * 1024)));
        // A single call is bounded by the body cap only.
        drop(results);
    }

    #[test]
    fn deadline_shortens_the_call_timeout_and_stops_new_calls() {
        // A listener that accepts but never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let transport = transport(&url, TransportConfig::default(), SharedBuffer::default());
        let call = QueryCall {
            service: "iam".into(),
            params: params(&[("Action", "ListUsers"), ("Version", "2010-05-08")]),
        };
        let started = Instant::now();
        let result = transport.send_until(&call, Some(Instant::now() + Duration::from_millis(300)));
        assert_eq!(result, Err(TransportError::Timeout));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            transport.send_until(&call, Some(Instant::now())),
            Err(TransportError::Timeout)
        );
        assert_eq!(transport.calls(), 1, "a call with no time left is not sent");
        drop(listener);
    }

    #[test]
    fn debug_of_transport_shows_no_secret() {
        let transport = transport(
            "http://127.0.0.1:9/",
            TransportConfig::default(),
            SharedBuffer::default(),
        );
        let debug = format!("{transport:?}");
        assert!(!debug.contains("CANARY"), "{debug}");
    }
}
