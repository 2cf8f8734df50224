//! A loopback IAM Query API stub: answers AWS-shaped XML from a handler, records every
//! request (form parameters and the SigV4 `Authorization` header), and stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
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

/// How the stub answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Extra response headers, e.g. `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Announce the whole body but send only its first half, then close the connection.
    pub cut_mid_body: bool,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            headers: Vec::new(),
            delay: Duration::ZERO,
            cut_mid_body: false,
        }
    }
}

impl From<(u16, String)> for Reply {
    fn from((status, body): (u16, String)) -> Self {
        Reply::new(status, body)
    }
}

pub struct IamStub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

type Handler = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

impl IamStub {
    /// Starts the stub on a free loopback port. Each connection is served by its own thread
    /// and closed after one response, so concurrent calls never wait on each other.
    pub fn start<R: Into<Reply>>(handler: impl Fn(&Received) -> R + Send + Sync + 'static) -> Self {
        // A blocking accept, so a connection is taken at once (a polling loop would add its
        // sleep to every call's latency); dropping the stub wakes it with a connection.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Handler = Arc::new(move |request: &Received| handler(request).into());
        let thread = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok(_) if stop.load(Ordering::Relaxed) => break,
                        Ok((stream, _)) => {
                            let (received, handler) = (received.clone(), handler.clone());
                            std::thread::spawn(move || serve(stream, &handler, &received));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
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

/// Reads one request (headers, then `Content-Length` bytes of form body), answers it, closes.
fn serve(mut stream: TcpStream, handler: &Handler, received: &Mutex<Vec<Received>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => headers.push(line.trim_end().to_owned()),
        }
    }
    let header = |name: &str| {
        headers.iter().find_map(|h| {
            let (key, value) = h.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let seen = Received {
        params: form_urlencoded::parse(&body).into_owned().collect(),
        authorization: header("authorization"),
        security_token: header("x-amz-security-token"),
    };
    let reply = handler(&seen);
    received.lock().unwrap().push(seen);
    if !reply.delay.is_zero() {
        std::thread::sleep(reply.delay);
    }
    let headers: String = reply
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {} Stub\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        reply.status,
        reply.body.len()
    );
    let body = if reply.cut_mid_body {
        &reply.body.as_bytes()[..reply.body.len() / 2]
    } else {
        reply.body.as_bytes()
    };
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
}

impl Drop for IamStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the blocking accept; if the connection fails the listener is gone already.
        let _ = TcpStream::connect_timeout(
            &self
                .url
                .trim_start_matches("http://")
                .parse()
                .expect("the stub's own address"),
            Duration::from_secs(1),
        );
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
