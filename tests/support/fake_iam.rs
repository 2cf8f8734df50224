//! An AWS-shaped IAM account served on loopback for reliability tests and benchmarks:
//! `users` generated users, paged like IAM (`MaxItems` honoured, opaque `Marker`s), every
//! action the connector calls, optional latency, and injected faults.
//!
//! User `i` (0-based) is `user-{i:05}` under `/generated/`; it has `i % 3` access keys, an
//! MFA device when `i` is even, a console password when `i % 4 == 1`, one tag, and belongs
//! to group `team-{i % 5}` when `i % 3 == 0`. Group `team-k` has one inline and one attached
//! policy. The data depends only on `users`, so a run can resume against a fresh server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::iam_stub::{error_response, list_response, IamStub, Received, Reply};

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 `Throttling`.
    Throttle,
    /// HTTP 500 with an HTML page.
    ServerErrorHtml,
    /// HTTP 503 with `Retry-After: 0`.
    Unavailable,
    /// The connection closes halfway through the body.
    CutMidBody,
    /// HTTP 200 with a body that is not XML.
    Garbage,
}

/// Which calls fail.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every `every`-th call (1-based count over all calls) gets the next fault of `kinds`;
    /// 0 injects none.
    pub every: u64,
    pub kinds: Vec<Fault>,
    /// ListUsers pages starting at or after this user index always fail with this fault.
    pub list_users_from: Option<(usize, Fault)>,
}

/// The account and how the server behaves.
#[derive(Debug, Clone, Default)]
pub struct FakeAccount {
    pub users: usize,
    /// Added to every answer.
    pub latency: Duration,
    pub faults: Faults,
    /// Actions answered with 403 `AccessDenied`.
    pub denied: Vec<&'static str>,
    /// Users the credential report covers (the first ones); `None`: all. The others were
    /// "created after the report".
    pub report_users: Option<usize>,
    /// The account STS GetCallerIdentity names; `None`: [`ACCOUNT_ID`].
    pub account_id: Option<&'static str>,
}

/// The running server; stops when dropped.
pub struct FakeIam {
    pub stub: IamStub,
    calls: Arc<AtomicU64>,
}

impl FakeIam {
    pub fn start(account: FakeAccount) -> Self {
        let calls = Arc::new(AtomicU64::new(0));
        let counter = calls.clone();
        let stub = IamStub::start(move |request: &Received| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let mut reply = account.answer(request, n);
            reply.delay += account.latency;
            reply
        });
        Self { stub, calls }
    }

    pub fn url(&self) -> &str {
        &self.stub.url
    }

    /// Calls answered so far, faults included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

pub fn user_name(index: usize) -> String {
    format!("user-{index:05}")
}

pub const ACCOUNT_ID: &str = "210987654321";

impl FakeAccount {
    /// The answer without faults or latency, for tests that script some actions themselves.
    pub fn reply(&self, request: &Received) -> Reply {
        self.answer_normally(request.param("Action").unwrap_or_default(), request)
    }

    fn answer(&self, request: &Received, call: u64) -> Reply {
        let action = request.param("Action").unwrap_or_default();
        if action == "ListUsers" {
            let start = marker_start(request);
            if let Some((from, fault)) = self.faults.list_users_from {
                if start >= from {
                    return fault_reply(fault);
                }
            }
        }
        if self.faults.every > 0
            && call.is_multiple_of(self.faults.every)
            && !self.faults.kinds.is_empty()
        {
            let kind =
                self.faults.kinds[((call / self.faults.every) as usize) % self.faults.kinds.len()];
            return fault_reply(kind);
        }
        self.answer_normally(action, request)
    }

    fn answer_normally(&self, action: &str, request: &Received) -> Reply {
        if self.denied.contains(&action) {
            return Reply::new(
                403,
                error_response(
                    "AccessDenied",
                    &format!("not authorized to perform: iam:{action}"),
                ),
            );
        }
        let user_index = || {
            request
                .param("UserName")
                .and_then(|n| n.strip_prefix("user-"))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&i| i < self.users)
        };
        let group = || request.param("GroupName").unwrap_or_default().to_owned();
        let members = |items: Vec<String>| page(request, items);
        match action {
            "GetCallerIdentity" => {
                let account = self.account_id.unwrap_or(ACCOUNT_ID);
                Reply::new(
                    200,
                    format!(
                        "<GetCallerIdentityResponse><GetCallerIdentityResult>\
                         <Arn>arn:aws:iam::{account}:user/connector</Arn><UserId>AIDAFAKE</UserId>\
                         <Account>{account}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
                    ),
                )
            }
            "GetAccountSummary" => Reply::new(
                200,
                format!(
                    "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key>\
                     <value>{}</value></entry></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>",
                    self.users
                ),
            ),
            "ListUsers" => {
                let (items, marker) = members((0..self.users).map(user_xml).collect());
                Reply::new(200, list_response(action, "Users", &items, marker.as_deref()))
            }
            "GetUser" => match user_index() {
                Some(i) => Reply::new(
                    200,
                    format!("<GetUserResponse><GetUserResult><User>{}</User></GetUserResult></GetUserResponse>",
                        user_xml(i).trim_start_matches("<member>").trim_end_matches("</member>")),
                ),
                None => Reply::new(404, error_response("NoSuchEntity", "The user cannot be found.")),
            },
            "GetLoginProfile" => match user_index() {
                Some(i) if i % 4 == 1 => Reply::new(
                    200,
                    format!(
                        "<GetLoginProfileResponse><GetLoginProfileResult><LoginProfile><UserName>{}</UserName>\
                         <CreateDate>2021-01-01T00:00:00Z</CreateDate></LoginProfile></GetLoginProfileResult>\
                         </GetLoginProfileResponse>",
                        user_name(i)
                    ),
                ),
                _ => Reply::new(404, error_response("NoSuchEntity", "Login profile cannot be found.")),
            },
            "GetAccountAuthorizationDetails" => {
                if request.param("Filter.member.1") == Some("Group") {
                    let groups: Vec<String> = (0..5).map(group_detail_xml).collect();
                    let tail = "<IsTruncated>false</IsTruncated>";
                    return Reply::new(200, details_response("", &groups.concat(), tail));
                }
                let (items, marker) = members((0..self.users).map(user_detail_xml).collect());
                let tail = match marker {
                    Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
                    None => "<IsTruncated>false</IsTruncated>".into(),
                };
                Reply::new(200, details_response(&items.concat(), "", &tail))
            }
            "GenerateCredentialReport" => Reply::new(
                200,
                "<GenerateCredentialReportResponse><GenerateCredentialReportResult><State>COMPLETE</State>\
                 </GenerateCredentialReportResult></GenerateCredentialReportResponse>",
            ),
            "GetCredentialReport" => Reply::new(
                200,
                format!(
                    "<GetCredentialReportResponse><GetCredentialReportResult><Content>{}</Content>\
                     <ReportFormat>text/csv</ReportFormat><GeneratedTime>2030-01-01T00:00:00Z</GeneratedTime>\
                     </GetCredentialReportResult></GetCredentialReportResponse>",
                    base64_encode(&credential_report(self.report_users.unwrap_or(self.users).min(self.users)))
                ),
            ),
            "ListServiceSpecificCredentials" if request.param("AllUsers") == Some("true") => Reply::new(
                200,
                list_response(action, "ServiceSpecificCredentials", &[], None),
            ),
            "ListGroupPolicies" | "ListAttachedGroupPolicies" => {
                let name = group();
                let (list, item) = if action == "ListGroupPolicies" {
                    ("PolicyNames", format!("<member>inline-{name}</member>"))
                } else {
                    (
                        "AttachedPolicies",
                        format!(
                            "<member><PolicyName>Managed-{name}</PolicyName>\
                             <PolicyArn>arn:aws:iam::{ACCOUNT_ID}:policy/Managed-{name}</PolicyArn></member>"
                        ),
                    )
                };
                Reply::new(200, list_response(action, list, &[item], None))
            }
            _ => {
                let Some(i) = user_index() else {
                    return Reply::new(404, error_response("NoSuchEntity", "The user cannot be found."));
                };
                let (list, items) = match action {
                    "ListGroupsForUser" => ("Groups", if i % 3 == 0 { vec![group_xml(i % 5)] } else { vec![] }),
                    "ListMFADevices" => ("MFADevices", if i % 2 == 0 { vec![mfa_xml(i)] } else { vec![] }),
                    "ListAccessKeys" => ("AccessKeyMetadata", (0..i % 3).map(|k| key_xml(i, k)).collect()),
                    "ListUserTags" => ("Tags", vec![format!("<member><Key>index</Key><Value>{i}</Value></member>")]),
                    "ListUserPolicies" => ("PolicyNames", vec![]),
                    "ListAttachedUserPolicies" => ("AttachedPolicies", vec![]),
                    "ListSSHPublicKeys" => ("SSHPublicKeys", vec![]),
                    "ListSigningCertificates" => ("Certificates", vec![]),
                    "ListServiceSpecificCredentials" => ("ServiceSpecificCredentials", vec![]),
                    other => return Reply::new(400, error_response("InvalidAction", other)),
                };
                let (items, marker) = members(items);
                Reply::new(200, list_response(action, list, &items, marker.as_deref()))
            }
        }
    }
}

fn marker_start(request: &Received) -> usize {
    request
        .param("Marker")
        .and_then(|m| m.strip_prefix("next:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// One page of `items` as IAM pages: `MaxItems` (default 100) from the marker's position.
fn page(request: &Received, items: Vec<String>) -> (Vec<String>, Option<String>) {
    let max_items: usize = request
        .param("MaxItems")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    let start = marker_start(request).min(items.len());
    let end = (start + max_items).min(items.len());
    let marker = (end < items.len()).then(|| format!("next:{end}"));
    (items[start..end].to_vec(), marker)
}

fn fault_reply(fault: Fault) -> Reply {
    match fault {
        Fault::Throttle => Reply::new(400, error_response("Throttling", "Rate exceeded")),
        Fault::ServerErrorHtml => Reply::new(
            500,
            "<!doctype html><html><title>500 Internal Server Error</title></html>",
        ),
        Fault::Unavailable => Reply {
            headers: vec![("Retry-After".into(), "0".into())],
            ..Reply::new(
                503,
                error_response("ServiceUnavailable", "Service Unavailable"),
            )
        },
        Fault::CutMidBody => Reply {
            cut_mid_body: true,
            ..Reply::new(
                200,
                list_response("ListUsers", "Users", &[user_xml(0)], None),
            )
        },
        Fault::Garbage => Reply::new(200, "\u{0}\u{1}garbage, not XML"),
    }
}

fn user_xml(i: usize) -> String {
    format!(
        "<member><Path>/generated/</Path><UserName>{0}</UserName><UserId>AIDAGENERATED{i:08}</UserId>\
         <Arn>arn:aws:iam::{ACCOUNT_ID}:user/generated/{0}</Arn><CreateDate>2020-01-01T00:00:{1:02}Z</CreateDate>\
         </member>",
        user_name(i),
        i % 60
    )
}

fn group_xml(k: usize) -> String {
    format!(
        "<member><Path>/</Path><GroupName>team-{k}</GroupName><GroupId>AGPATEAM{k}</GroupId>\
         <Arn>arn:aws:iam::{ACCOUNT_ID}:group/team-{k}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
    )
}

fn mfa_xml(i: usize) -> String {
    format!(
        "<member><UserName>{0}</UserName><SerialNumber>arn:aws:iam::{ACCOUNT_ID}:mfa/{0}</SerialNumber>\
         <EnableDate>2021-01-01T00:00:00Z</EnableDate></member>",
        user_name(i)
    )
}

fn key_xml(i: usize, k: usize) -> String {
    format!(
        "<member><UserName>{}</UserName><AccessKeyId>AKIAGEN{i:08}K{k}</AccessKeyId><Status>Active</Status>\
         <CreateDate>2022-01-01T00:00:00Z</CreateDate></member>",
        user_name(i)
    )
}

fn details_response(users: &str, groups: &str, tail: &str) -> String {
    format!(
        "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>\
         <UserDetailList>{users}</UserDetailList><GroupDetailList>{groups}</GroupDetailList>\
         <RoleDetailList/><Policies/>{tail}</GetAccountAuthorizationDetailsResult>\
         </GetAccountAuthorizationDetailsResponse>"
    )
}

fn user_detail_xml(i: usize) -> String {
    let groups = if i.is_multiple_of(3) {
        format!("<member>team-{}</member>", i % 5)
    } else {
        String::new()
    };
    format!(
        "<member><Path>/generated/</Path><UserName>{0}</UserName><UserId>AIDAGENERATED{i:08}</UserId>\
         <Arn>arn:aws:iam::{ACCOUNT_ID}:user/generated/{0}</Arn><CreateDate>2020-01-01T00:00:{1:02}Z</CreateDate>\
         <UserPolicyList/><GroupList>{groups}</GroupList><AttachedManagedPolicies/>\
         <Tags><member><Key>index</Key><Value>{i}</Value></member></Tags></member>",
        user_name(i),
        i % 60
    )
}

fn group_detail_xml(k: usize) -> String {
    format!(
        "<member><Path>/</Path><GroupName>team-{k}</GroupName><GroupId>AGPATEAM{k}</GroupId>\
         <Arn>arn:aws:iam::{ACCOUNT_ID}:group/team-{k}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate>\
         <GroupPolicyList><member><PolicyName>inline-team-{k}</PolicyName><PolicyDocument>%7B%7D</PolicyDocument>\
         </member></GroupPolicyList><AttachedManagedPolicies><member><PolicyName>Managed-team-{k}</PolicyName>\
         <PolicyArn>arn:aws:iam::{ACCOUNT_ID}:policy/Managed-team-{k}</PolicyArn></member></AttachedManagedPolicies>\
         </member>"
    )
}

/// The credential report CSV: the same facts the per-user answers give.
fn credential_report(users: usize) -> String {
    let mut csv = String::from(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
         password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
         access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,\
         access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
         access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
         cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    csv.push_str(&format!(
        "<root_account>,arn:aws:iam::{ACCOUNT_ID}:root,2019-01-01T00:00:00+00:00,not_supported,N/A,\
         not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    ));
    for i in 0..users {
        let key = |n: usize| {
            if i % 3 >= n {
                "true,2022-01-01T00:00:00+00:00,N/A,N/A,N/A"
            } else {
                "false,N/A,N/A,N/A,N/A"
            }
        };
        csv.push_str(&format!(
            "{0},arn:aws:iam::{ACCOUNT_ID}:user/generated/{0},2020-01-01T00:00:{1:02}+00:00,{2},N/A,N/A,N/A,{3},{4},{5},false,N/A,false,N/A\n",
            user_name(i),
            i % 60,
            i % 4 == 1,
            i % 2 == 0,
            key(1),
            key(2),
        ));
    }
    csv
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
