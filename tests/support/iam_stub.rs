//! A loopback IAM Query API stub: answers AWS-shaped XML from a handler, records every
//! request (form parameters and the SigV4 `Authorization` header), and stops when dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the stub received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Decoded form parameters, in order.
    pub params: Vec<(String, String)>,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `x-amz-security-token` header, if any.
    pub security_token: Option<String>,
}

impl Received {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A reply: HTTP status and XML body.
pub type Reply = (u16, String);

pub struct IamStub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IamStub {
    /// Starts the stub on a free loopback port.
    pub fn start(handler: impl Fn(&Received) -> Reply + Send + 'static) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!(
            "http://{}",
            server.server_addr().to_ip().expect("ip address")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(Some(mut request)) = server.recv_timeout(Duration::from_millis(50))
                    else {
                        continue;
                    };
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let header = |name: &str| {
                        request
                            .headers()
                            .iter()
                            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                            .map(|h| h.value.as_str().to_owned())
                    };
                    let seen = Received {
                        params: form_urlencoded::parse(&body).into_owned().collect(),
                        authorization: header("authorization"),
                        security_token: header("x-amz-security-token"),
                    };
                    let (status, xml) = handler(&seen);
                    received.lock().unwrap().push(seen);
                    let content_type =
                        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/xml"[..])
                            .unwrap();
                    let response = tiny_http::Response::from_string(xml)
                        .with_status_code(status)
                        .with_header(content_type);
                    let _ = request.respond(response);
                }
            })
        };
        Self {
            url,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for IamStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A List* response: `<{action}Response><{action}Result><{list}>members</{list}>…`.
pub fn list_response(action: &str, list: &str, members: &[String], marker: Option<&str>) -> String {
    let tail = match marker {
        Some(m) => format!(
            "<IsTruncated>true</IsTruncated><Marker>{}</Marker>",
            escape(m)
        ),
        None => "<IsTruncated>false</IsTruncated>".to_owned(),
    };
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>\
         <{list}>{}</{list}>{tail}</{action}Result><ResponseMetadata><RequestId>stub</RequestId>\
         </ResponseMetadata></{action}Response>",
        members.concat()
    )
}

/// An AWS error document.
pub fn error_response(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{}</Message></Error><RequestId>stub</RequestId></ErrorResponse>",
        escape(message)
    )
}
