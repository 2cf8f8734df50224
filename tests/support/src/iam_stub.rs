//! A loopback IAM Query API stub on [`crate::http::Server`]: answers AWS-shaped XML from a
//! handler, records every request (form parameters and the SigV4 `Authorization` header),
//! and stops when dropped. Also the documents such a stub answers with: List* pages, IAM and
//! STS error documents, STS AssumeRoleWithWebIdentity credentials.

use std::time::{Duration, SystemTime};

use crate::http::{Request, Server};

pub use crate::http::Reply;

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
    /// The value of form parameter `name` (the first, if repeated).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl From<&Request> for Received {
    fn from(request: &Request) -> Self {
        Received {
            params: form_urlencoded::parse(&request.body).into_owned().collect(),
            authorization: request.header("authorization").map(str::to_owned),
            security_token: request.header("x-amz-security-token").map(str::to_owned),
        }
    }
}

/// The running stub.
pub struct IamStub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    server: Server,
}

impl IamStub {
    /// Starts the stub on a free loopback port; `handler` answers every request.
    pub fn start<R: Into<Reply>>(handler: impl Fn(&Received) -> R + Send + Sync + 'static) -> Self {
        let server = Server::start(move |request: &Request| handler(&Received::from(request)));
        Self {
            url: server.url().to_owned(),
            server,
        }
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.server.requests().iter().map(Received::from).collect()
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

/// An STS AssumeRoleWithWebIdentity answer whose credentials expire `lifetime` from now.
pub fn assume_role_response(
    key_id: &str,
    secret: &str,
    token: &str,
    lifetime: Duration,
    assumed_arn: &str,
) -> String {
    let expiration = httpdate(SystemTime::now() + lifetime);
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{key_id}</AccessKeyId>\
         <SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>\
         <Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>{assumed_arn}</Arn>\
         <AssumedRoleId>AROASTUB:session</AssumedRoleId></AssumedRoleUser>\
         <SubjectFromWebIdentityToken>system:serviceaccount:connector</SubjectFromWebIdentityToken>\
         </AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>sts-1</RequestId>\
         </ResponseMetadata></AssumeRoleWithWebIdentityResponse>"
    )
}

/// An STS error document.
pub fn sts_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>sts-err</RequestId></ErrorResponse>"
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `time` (UTC), without a date crate.
fn httpdate(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
