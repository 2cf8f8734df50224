//! One loopback HTTP/1.1 server for every test: it binds `127.0.0.1:0`, serves each
//! connection on its own thread (one request, one reply, then the connection closes, so
//! concurrent calls never wait on each other), answers from a handler, records every request,
//! and stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request line and the header lines, as sent (CRLF-separated, without the blank
    /// line that ends them).
    pub head: String,
    /// Header names and values, in order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body: `Content-Length` bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (compared ignoring ASCII case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The whole request as text: head, blank line, body (lossy UTF-8).
    pub fn text(&self) -> String {
        format!(
            "{}\r\n\r\n{}",
            self.head,
            String::from_utf8_lossy(&self.body)
        )
    }
}

/// How the server answers one request: `HTTP/1.1 {status}` with `Content-Type: text/xml`,
/// `Content-Length`, the extra headers and `Connection: close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub body: String,
    /// Extra response headers, e.g. `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Announce the whole body but send only its first half, then close the connection.
    pub cut_mid_body: bool,
}

impl Reply {
    /// `status` with `body`, no extra header, at once, whole.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            headers: Vec::new(),
            delay: Duration::ZERO,
            cut_mid_body: false,
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

impl From<(u16, String)> for Reply {
    fn from((status, body): (u16, String)) -> Self {
        Reply::new(status, body)
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// The running server.
pub struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts the server on a free loopback port; `handler` answers every request.
    pub fn start<R: Into<Reply>>(handler: impl Fn(&Request) -> R + Send + Sync + 'static) -> Self {
        // A blocking accept, so a connection is taken at once (a polling loop would add its
        // sleep to every call's latency); dropping the server wakes it with a connection.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Handler = Arc::new(move |request: &Request| handler(request).into());
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok(_) if stop.load(Ordering::Relaxed) => break,
                        Ok((stream, _)) => {
                            let (requests, handler) = (requests.clone(), handler.clone());
                            std::thread::spawn(move || serve(stream, &handler, &requests));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })
        };
        Self {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request read so far, in the order their replies were decided.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request (head, then `Content-Length` bytes of body), answers it, closes. A
/// client that hangs up early (e.g. over its body cap) is no error.
fn serve(mut stream: TcpStream, handler: &Handler, requests: &Mutex<Vec<Request>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => lines.push(line.trim_end_matches(['\r', '\n']).to_owned()),
        }
    }
    let headers: Vec<(String, String)> = lines
        .iter()
        .skip(1)
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    let mut request = Request {
        head: lines.join("\r\n"),
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    if reader.read_exact(&mut request.body).is_err() {
        return;
    }
    let reply = handler(&request);
    requests.lock().unwrap().push(request);
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

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the blocking accept; if the connection fails the listener is gone already.
        let _ = TcpStream::connect_timeout(
            &self
                .url
                .trim_start_matches("http://")
                .parse()
                .expect("the server's own address"),
            Duration::from_secs(1),
        );
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
