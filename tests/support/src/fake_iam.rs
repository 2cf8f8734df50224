//! An AWS-shaped IAM account served on loopback for reliability tests and benchmarks:
//! `users` generated users, paged like IAM (`MaxItems` honoured, opaque `Marker`s), every
//! action the connector calls (IAM, and STS GetCallerIdentity on the same endpoint), in the
//! per-user and the bulk strategy alike, optional latency, and injected faults.
//!
//! The data depends only on `users`, so a run can resume against a fresh server, and the
//! per-user answers (ListUsers, GetUser, List*, Get*) and the bulk ones
//! (GetAccountAuthorizationDetails, the credential report, ListServiceSpecificCredentials
//! with `AllUsers=true`) describe the same account. Times are UTC; XML writes them
//! `…Z`, the credential report in whole seconds with `+00:00`.
//!
//! # Users
//!
//! User `i` (0-based) is `user-{i:05}` under `/generated/`, `UserId` `AIDAGENERATED{i:08}`,
//! created `2020-01-01T00:00:{i % 60:02}Z`, with one tag `index={i}`. Then:
//!
//! - **Access keys**: `i % 3` keys, `AKIAGEN{i:08}K{k}` for k = 0, 1. Key 0 is created
//!   `2022-01-01T00:00:00Z`, key 1 `2022-07-01T12:00:00.500Z` (a fraction, as ListAccessKeys
//!   may write it; the report's `access_key_2_last_rotated` is the whole second,
//!   `2022-07-01T12:00:00+00:00`). Key 1 is `Inactive` when `i % 4 == 3`, every other key
//!   `Active`. Key k was **last used** when `(i + k) % 2 == 0`: key 0 at
//!   `2024-03-01T10:00:00Z` (`s3`, `eu-west-1`), key 1 at `2024-04-15T08:30:00Z` (`iam`,
//!   `us-east-1`); otherwise never (GetAccessKeyLastUsed: no `LastUsedDate`, `N/A` service
//!   and region; the report: `N/A`). GetAccessKeyLastUsed reads i and k from the
//!   `AccessKeyId`: `NoSuchEntity` for any id that is not a key of a user of the account.
//!   The report's `access_key_1_*` slot is key 0, `access_key_2_*` key 1.
//! - **MFA**: a virtual device `arn:aws:iam::210987654321:mfa/user-{i:05}` (enabled
//!   `2021-01-01T00:00:00Z`) when i is even; the report's `mfa_active` says the same.
//! - **Console password** when `i % 4 == 1`: set `2021-01-01T00:00:00Z` (GetLoginProfile
//!   `CreateDate`, the report's `password_last_changed`), `PasswordResetRequired` when
//!   `i % 8 == 5`, last used `2024-05-01T09:30:00Z` when `i % 8 == 1` (ListUsers and GetUser
//!   `PasswordLastUsed`, the report's `password_last_used`), never otherwise (no
//!   `PasswordLastUsed`; the report: `no_information`). Users without one: GetLoginProfile
//!   `NoSuchEntity`, the report `false` and `N/A`.
//! - **Group** `team-{i % 5}` when `i % 3 == 0`.
//! - **Inline policy** `inline-user-{i:05}` when `i % 10 == 2` (ListUserPolicies,
//!   GetUserPolicy, `UserDetail` `UserPolicyList` with its URL-encoded document): `*` on `*`
//!   (an administrator) when `i % 20 == 2`, else `s3:GetObject` on one bucket's objects.
//! - **Attached customer-managed policy** `ops-all` when `i % 10 == 5`
//!   (ListAttachedUserPolicies, `UserDetail` `AttachedManagedPolicies`).
//! - **Permissions boundary** `s3-only-boundary` when `i % 40 == 22` (GetUser and `UserDetail`
//!   `PermissionsBoundary`): it caps user 22, 62, … (inline `*` on `*`) to not admin.
//! - **Signing certificate** `GENCERT{i:08}EXAMPLE`, `Active`, uploaded `2021-03-01T00:00:00Z`,
//!   when `i % 7 == 3` (the report's `cert_1_active`/`cert_1_last_rotated`).
//! - **SSH public key** `APKAGEN{i:08}`, `Active`, uploaded `2021-04-01T00:00:00Z`, when
//!   `i % 10 == 7` (ListSSHPublicKeys only: nothing account-wide lists them).
//! - **Service-specific credential** `ACCAGEN{i:08}` for `codecommit.amazonaws.com`
//!   (`ServiceUserName` `user-{i:05}-at-210987654321`), `Active`, created
//!   `2023-02-01T00:00:00Z`, when `i % 6 == 4` (per user and with `AllUsers=true`).
//!
//! So the administrator rule finds: admins by their own inline `*` (`i % 40 == 2`, e.g.
//! user 2), by `ops-all` (`i % 10 == 5`), by group `team-0`'s `AdministratorAccess`
//! (`i % 15 == 0`, e.g. user 30); not admin under the boundary (`i % 40 == 22`); every
//! document readable, so no `Unknown`.
//!
//! # Groups and policies
//!
//! Groups `team-0` … `team-4` (whatever `users`), path `/`, each with the inline policy
//! `inline-team-{k}` (`sts:GetCallerIdentity` on `*`; GetGroupPolicy and `GroupDetail`
//! `GroupPolicyList`) and one attached policy: `team-0` the AWS-managed
//! `arn:aws:iam::aws:policy/AdministratorAccess`, `team-k` (k ≥ 1) the customer-managed
//! `Managed-team-{k}`. Customer-managed policies (GetPolicy, GetPolicyVersion,
//! GetAccountAuthorizationDetails `Filter.member.1=LocalManagedPolicy` with every version):
//! - `arn:aws:iam::210987654321:policy/Managed-team-{k}`, k = 1…4: `v1` (default),
//!   `ec2:Describe*` and `cloudwatch:Get*` on `*`;
//! - `arn:aws:iam::210987654321:policy/generated/ops-all`: `v1` `iam:Get*` on `*`, `v2`
//!   (default) `iam:*` and `sts:*` on `*`, which grants admin (only the default version
//!   does);
//! - `arn:aws:iam::210987654321:policy/generated/s3-only-boundary`: `v1` (default), `s3:*`
//!   on `*`.
//!
//! Documents are URL-encoded (RFC 3986) as IAM returns them. Unknown users, groups,
//! policies, versions or keys get `NoSuchEntity`.
//!
//! # The account
//!
//! Account `210987654321`, alias `generated-account` (ListAccountAliases). STS
//! GetCallerIdentity: that account, as
//! `arn:aws:sts::210987654321:assumed-role/inventory-collector/generated`.
//! GetAccountSummary: `Users` = `users`, `Groups` 5, `Policies` 6, `MFADevices` and
//! `MFADevicesInUse` = the even users, `AccountMFAEnabled` 1, `AccountAccessKeysPresent` 0,
//! `AccountSigningCertificatesPresent` 0. The credential report (generated
//! `2026-01-01T00:00:00Z`, covering the first `report_users` users) has the
//! `<root_account>` row: created `2019-01-01T00:00:00+00:00`, password last used
//! `2024-06-01T08:00:00+00:00`, MFA active, no access key, no certificate.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::iam_stub::{error_response, list_response, IamStub, Received, Reply};

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
    /// The faults injected in turn.
    pub kinds: Vec<Fault>,
    /// ListUsers pages starting at or after this user index always fail with this fault.
    pub list_users_from: Option<(usize, Fault)>,
}

/// The account and how the server behaves.
#[derive(Debug, Clone, Default)]
pub struct FakeAccount {
    /// Users in the account (see the module documentation for each one's data).
    pub users: usize,
    /// Added to every answer.
    pub latency: Duration,
    /// Which calls fail.
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
    /// The stub serving the account.
    pub stub: IamStub,
    calls: Arc<AtomicU64>,
}

impl FakeIam {
    /// Serves `account` on a free loopback port.
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

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.stub.url
    }

    /// Calls answered so far, faults included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Calls of `action` received so far, faults included.
    pub fn calls_of(&self, action: &str) -> usize {
        self.stub
            .received()
            .iter()
            .filter(|r| r.param("Action") == Some(action))
            .count()
    }
}

/// The name of user `index`: `user-{index:05}`.
pub fn user_name(index: usize) -> String {
    format!("user-{index:05}")
}

/// The account's id (ARNs, STS GetCallerIdentity).
pub const ACCOUNT_ID: &str = "210987654321";
/// The account's one alias (ListAccountAliases).
pub const ACCOUNT_ALIAS: &str = "generated-account";
/// `GeneratedTime` of the credential report.
pub const REPORT_TIME: &str = "2026-01-01T00:00:00Z";
/// The number of groups, `team-0` … `team-4`.
pub const GROUPS: usize = 5;

/// The `AccessKeyId` of key `k` of user `i`.
pub fn access_key_id(i: usize, k: usize) -> String {
    format!("AKIAGEN{i:08}K{k}")
}

/// `CreateDate` of key `k` (ListAccessKeys).
fn key_created(k: usize) -> &'static str {
    ["2022-01-01T00:00:00Z", "2022-07-01T12:00:00.500Z"][k]
}

fn key_active(i: usize, k: usize) -> bool {
    !(k == 1 && i % 4 == 3)
}

/// The last use of key `k` of user `i`: (date, service, region); `None` when never used.
fn key_last_use(i: usize, k: usize) -> Option<(&'static str, &'static str, &'static str)> {
    (i + k).is_multiple_of(2).then_some(
        [
            ("2024-03-01T10:00:00Z", "s3", "eu-west-1"),
            ("2024-04-15T08:30:00Z", "iam", "us-east-1"),
        ][k],
    )
}

/// `(i, k)` of an access key id of the account with `users` users.
fn parse_access_key_id(id: &str, users: usize) -> Option<(usize, usize)> {
    let (i, k) = id.strip_prefix("AKIAGEN")?.split_once('K')?;
    if i.len() != 8 || k.len() != 1 {
        return None;
    }
    let (i, k): (usize, usize) = (i.parse().ok()?, k.parse().ok()?);
    (i < users && k < i % 3).then_some((i, k))
}

fn has_password(i: usize) -> bool {
    i % 4 == 1
}

const PASSWORD_SET: &str = "2021-01-01T00:00:00Z";

fn password_reset_required(i: usize) -> bool {
    i % 8 == 5
}

fn password_last_used(i: usize) -> Option<&'static str> {
    (i % 8 == 1).then_some("2024-05-01T09:30:00Z")
}

fn has_mfa(i: usize) -> bool {
    i.is_multiple_of(2)
}

fn group_of(i: usize) -> Option<usize> {
    i.is_multiple_of(3).then_some(i % 5)
}

fn inline_policy_name(i: usize) -> Option<String> {
    (i % 10 == 2).then(|| format!("inline-{}", user_name(i)))
}

fn inline_policy_document(i: usize) -> &'static str {
    if i % 20 == 2 {
        ADMIN_DOCUMENT
    } else {
        READ_DATA_DOCUMENT
    }
}

fn has_ops_all(i: usize) -> bool {
    i % 10 == 5
}

fn has_boundary(i: usize) -> bool {
    i % 40 == 22
}

fn has_certificate(i: usize) -> bool {
    i % 7 == 3
}

const CERTIFICATE_UPLOADED: &str = "2021-03-01T00:00:00Z";

fn has_ssh_key(i: usize) -> bool {
    i % 10 == 7
}

fn has_service_credential(i: usize) -> bool {
    i % 6 == 4
}

const ADMIN_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const READ_DATA_DOCUMENT: &str = concat!(
    r#"{"Version":"2012-10-17","#,
    r#""Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::generated-data/*"}]}"#
);
const GROUP_INLINE_DOCUMENT: &str = concat!(
    r#"{"Version":"2012-10-17","#,
    r#""Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#
);
const TEAM_MANAGED_DOCUMENT: &str = concat!(
    r#"{"Version":"2012-10-17","#,
    r#""Statement":[{"Effect":"Allow","Action":["ec2:Describe*","cloudwatch:Get*"],"Resource":"*"}]}"#
);
const OPS_ALL_V1_DOCUMENT: &str = concat!(
    r#"{"Version":"2012-10-17","#,
    r#""Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#
);
const OPS_ALL_V2_DOCUMENT: &str = concat!(
    r#"{"Version":"2012-10-17","#,
    r#""Statement":[{"Sid":"Operations","Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#
);
const BOUNDARY_DOCUMENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// The AWS-managed policy attached to group `team-0`.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn ops_all_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:policy/generated/ops-all")
}

fn boundary_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:policy/generated/s3-only-boundary")
}

/// A customer-managed policy of the account.
struct ManagedPolicy {
    name: String,
    path: &'static str,
    id: String,
    /// (version id, JSON document), oldest first.
    versions: Vec<(&'static str, &'static str)>,
    default_version: &'static str,
    attachments: usize,
    boundary_uses: usize,
}

impl ManagedPolicy {
    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT_ID}:policy{}{}", self.path, self.name)
    }

    /// The elements GetPolicy's `Policy` and the `ManagedPolicyDetail` share.
    fn common_xml(&self) -> String {
        format!(
            "<PolicyName>{}</PolicyName><PolicyId>{}</PolicyId><Arn>{}</Arn><Path>{}</Path>\
             <DefaultVersionId>{}</DefaultVersionId><AttachmentCount>{}</AttachmentCount>\
             <PermissionsBoundaryUsageCount>{}</PermissionsBoundaryUsageCount>\
             <IsAttachable>true</IsAttachable><CreateDate>2020-06-01T00:00:00Z</CreateDate>\
             <UpdateDate>2023-06-01T00:00:00Z</UpdateDate>",
            self.name,
            self.id,
            self.arn(),
            self.path,
            self.default_version,
            self.attachments,
            self.boundary_uses
        )
    }

    fn version_xml(&self, version: &str, document: &str) -> String {
        format!(
            "<Document>{}</Document><VersionId>{version}</VersionId>\
             <IsDefaultVersion>{}</IsDefaultVersion><CreateDate>2020-06-01T00:00:00Z</CreateDate>",
            url_encode(document),
            version == self.default_version
        )
    }

    fn detail_xml(&self) -> String {
        let versions: String = self
            .versions
            .iter()
            .map(|(v, d)| format!("<member>{}</member>", self.version_xml(v, d)))
            .collect();
        format!(
            "<member>{}<PolicyVersionList>{versions}</PolicyVersionList></member>",
            self.common_xml()
        )
    }
}

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

    /// Users `0..n` matching `rule`.
    fn count(&self, rule: impl Fn(usize) -> bool) -> usize {
        (0..self.users).filter(|&i| rule(i)).count()
    }

    fn managed_policies(&self) -> Vec<ManagedPolicy> {
        let mut policies: Vec<ManagedPolicy> = (1..GROUPS)
            .map(|k| ManagedPolicy {
                name: format!("Managed-team-{k}"),
                path: "/",
                id: format!("ANPATEAM{k}"),
                versions: vec![("v1", TEAM_MANAGED_DOCUMENT)],
                default_version: "v1",
                attachments: 1,
                boundary_uses: 0,
            })
            .collect();
        policies.push(ManagedPolicy {
            name: "ops-all".into(),
            path: "/generated/",
            id: "ANPAOPSALL".into(),
            versions: vec![("v1", OPS_ALL_V1_DOCUMENT), ("v2", OPS_ALL_V2_DOCUMENT)],
            default_version: "v2",
            attachments: self.count(has_ops_all),
            boundary_uses: 0,
        });
        policies.push(ManagedPolicy {
            name: "s3-only-boundary".into(),
            path: "/generated/",
            id: "ANPABOUNDARY".into(),
            versions: vec![("v1", BOUNDARY_DOCUMENT)],
            default_version: "v1",
            attachments: 0,
            boundary_uses: self.count(has_boundary),
        });
        policies
    }

    fn answer_normally(&self, action: &str, request: &Received) -> Reply {
        if self.denied.contains(&action) {
            let service = if action == "GetCallerIdentity" {
                "sts"
            } else {
                "iam"
            };
            return Reply::new(
                403,
                error_response(
                    "AccessDenied",
                    &format!("not authorized to perform: {service}:{action}"),
                ),
            );
        }
        let user_index = || {
            request
                .param("UserName")
                .and_then(|n| n.strip_prefix("user-"))
                .filter(|n| n.len() == 5)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&i| i < self.users)
        };
        let group_index = || {
            request
                .param("GroupName")
                .and_then(|n| n.strip_prefix("team-"))
                .filter(|n| n.len() == 1)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&k| k < GROUPS)
        };
        let paged = |list: &str, items: Vec<String>| {
            let (items, marker) = page(request, items);
            Reply::new(200, list_response(action, list, &items, marker.as_deref()))
        };
        let name = |param: &str| request.param(param).unwrap_or_default().to_owned();
        match action {
            "GetAccountSummary" => self.account_summary(),
            "ListAccountAliases" => paged(
                "AccountAliases",
                vec![format!("<member>{ACCOUNT_ALIAS}</member>")],
            ),
            "GetCallerIdentity" => caller_identity(self.account_id.unwrap_or(ACCOUNT_ID)),
            "ListUsers" => {
                let (range, marker) = page_range(request, self.users);
                let items: Vec<String> = range.map(user_xml).collect();
                Reply::new(
                    200,
                    list_response(action, "Users", &items, marker.as_deref()),
                )
            }
            "GetUser" => match user_index() {
                Some(i) => ok(action, &format!("<User>{}</User>", get_user_xml(i))),
                None => no_user(&name("UserName")),
            },
            "GetLoginProfile" => match user_index() {
                Some(i) => login_profile(i),
                None => no_user(&name("UserName")),
            },
            "GetAccessKeyLastUsed" => self.access_key_last_used(&name("AccessKeyId")),
            "GetUserPolicy" => match user_index() {
                Some(i) => user_policy(i, &name("PolicyName")),
                None => no_user(&name("UserName")),
            },
            "GetGroupPolicy" => match group_index() {
                Some(k) => group_policy(k, &name("PolicyName")),
                None => no_group(&name("GroupName")),
            },
            "ListGroupPolicies" => match group_index() {
                Some(k) => paged(
                    "PolicyNames",
                    vec![format!("<member>inline-team-{k}</member>")],
                ),
                None => no_group(&name("GroupName")),
            },
            "ListAttachedGroupPolicies" => match group_index() {
                Some(k) => paged("AttachedPolicies", vec![group_attached_xml(k)]),
                None => no_group(&name("GroupName")),
            },
            "GetPolicy" | "GetPolicyVersion" => {
                self.policy(action, &name("PolicyArn"), &name("VersionId"))
            }
            "GetAccountAuthorizationDetails" => self.authorization_details(request),
            "GenerateCredentialReport" => ok(
                action,
                "<State>COMPLETE</State><Description>No report exists. Starting a new report \
                 generation task</Description>",
            ),
            "GetCredentialReport" => {
                let covered = self.report_users.unwrap_or(self.users).min(self.users);
                ok(
                    action,
                    &format!(
                        "<Content>{}</Content><ReportFormat>text/csv</ReportFormat>\
                         <GeneratedTime>{REPORT_TIME}</GeneratedTime>",
                        base64_encode(&credential_report(covered))
                    ),
                )
            }
            "ListServiceSpecificCredentials" if request.param("AllUsers") == Some("true") => {
                let all = (0..self.users).filter(|&i| has_service_credential(i));
                paged(
                    "ServiceSpecificCredentials",
                    all.map(service_credential_xml).collect(),
                )
            }
            _ => match (user_list(action), user_index()) {
                (None, _) => Reply::new(400, error_response("InvalidAction", action)),
                (Some(_), None) => no_user(&name("UserName")),
                (Some((list, items)), Some(i)) => paged(list, items(i)),
            },
        }
    }

    fn account_summary(&self) -> Reply {
        let mfa = self.count(has_mfa);
        let entries = [
            ("Users", self.users),
            ("Groups", GROUPS),
            ("Policies", self.managed_policies().len()),
            ("MFADevices", mfa),
            ("MFADevicesInUse", mfa),
            ("AccountMFAEnabled", 1),
            ("AccountAccessKeysPresent", 0),
            ("AccountSigningCertificatesPresent", 0),
            ("UsersQuota", 5000),
        ];
        let map: String = entries
            .iter()
            .map(|(k, v)| format!("<entry><key>{k}</key><value>{v}</value></entry>"))
            .collect();
        ok(
            "GetAccountSummary",
            &format!("<SummaryMap>{map}</SummaryMap>"),
        )
    }

    fn access_key_last_used(&self, id: &str) -> Reply {
        let Some((i, k)) = parse_access_key_id(id, self.users) else {
            return not_found(&format!("The Access Key with id {id} cannot be found"));
        };
        let used = match key_last_use(i, k) {
            Some((date, service, region)) => format!(
                "<LastUsedDate>{date}</LastUsedDate><ServiceName>{service}</ServiceName>\
                 <Region>{region}</Region>"
            ),
            None => "<ServiceName>N/A</ServiceName><Region>N/A</Region>".to_owned(),
        };
        ok(
            "GetAccessKeyLastUsed",
            &format!(
                "<UserName>{}</UserName><AccessKeyLastUsed>{used}</AccessKeyLastUsed>",
                user_name(i)
            ),
        )
    }

    /// GetPolicy, or GetPolicyVersion of `version`, of the customer-managed policy `arn`.
    fn policy(&self, action: &str, arn: &str, version: &str) -> Reply {
        let policies = self.managed_policies();
        let Some(policy) = policies.iter().find(|p| p.arn() == arn) else {
            return not_found(&format!(
                "Policy {arn} does not exist or is not attachable."
            ));
        };
        if action == "GetPolicy" {
            return ok(action, &format!("<Policy>{}</Policy>", policy.common_xml()));
        }
        match policy.versions.iter().find(|(v, _)| *v == version) {
            Some((v, document)) => ok(
                action,
                &format!(
                    "<PolicyVersion>{}</PolicyVersion>",
                    policy.version_xml(v, document)
                ),
            ),
            None => not_found(&format!("Policy {arn} version {version} does not exist.")),
        }
    }

    /// GetAccountAuthorizationDetails: the entities of every `Filter.member.N` (`User`,
    /// `Group`, `LocalManagedPolicy`; others have none here; no filter: those three),
    /// paged together, users first.
    fn authorization_details(&self, request: &Received) -> Reply {
        let filters: Vec<&str> = (1..)
            .map_while(|n| request.param(&format!("Filter.member.{n}")))
            .collect();
        let wanted = |kind: &str| filters.is_empty() || filters.contains(&kind);
        #[derive(Clone, Copy, PartialEq)]
        enum Entity {
            User(usize),
            Group(usize),
            Policy(usize),
        }
        let policies = self.managed_policies();
        let mut entities = Vec::new();
        if wanted("User") {
            entities.extend((0..self.users).map(Entity::User));
        }
        if wanted("Group") {
            entities.extend((0..GROUPS).map(Entity::Group));
        }
        if wanted("LocalManagedPolicy") {
            entities.extend((0..policies.len()).map(Entity::Policy));
        }
        let (range, marker) = page_range(request, entities.len());
        let (mut users, mut groups, mut local) = (String::new(), String::new(), String::new());
        for entity in &entities[range] {
            match *entity {
                Entity::User(i) => users.push_str(&user_detail_xml(i)),
                Entity::Group(k) => groups.push_str(&group_detail_xml(k)),
                Entity::Policy(p) => local.push_str(&policies[p].detail_xml()),
            }
        }
        let tail = match marker {
            Some(m) => format!("<IsTruncated>true</IsTruncated><Marker>{m}</Marker>"),
            None => "<IsTruncated>false</IsTruncated>".into(),
        };
        Reply::new(
            200,
            result(
                "GetAccountAuthorizationDetails",
                &format!(
                    "<UserDetailList>{users}</UserDetailList><GroupDetailList>{groups}</GroupDetailList>\
                     <RoleDetailList/><Policies>{local}</Policies>{tail}"
                ),
            ),
        )
    }
}

/// `<{action}Response><{action}Result>{inner}</{action}Result>…`.
fn result(action: &str, inner: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{action}Result>{inner}\
         </{action}Result><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn not_found(message: &str) -> Reply {
    Reply::new(404, error_response("NoSuchEntity", message))
}

fn ok(action: &str, inner: &str) -> Reply {
    Reply::new(200, result(action, inner))
}

fn no_user(name: &str) -> Reply {
    not_found(&format!("The user with name {name} cannot be found."))
}

fn no_group(name: &str) -> Reply {
    not_found(&format!("The group with name {name} cannot be found."))
}

/// STS GetCallerIdentity: the account `account` (a test may name another account than the
/// generated one, to resume a checkpoint against it).
fn caller_identity(account: &str) -> Reply {
    Reply::new(
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult>\
             <Arn>arn:aws:sts::{account}:assumed-role/inventory-collector/generated</Arn>\
             <UserId>AROAGENERATEDCOLLECTOR:generated</UserId><Account>{account}</Account>\
             </GetCallerIdentityResult><ResponseMetadata><RequestId>stub</RequestId>\
             </ResponseMetadata></GetCallerIdentityResponse>"
        ),
    )
}

fn login_profile(i: usize) -> Reply {
    if !has_password(i) {
        return not_found(&format!(
            "Login Profile for User {} cannot be found.",
            user_name(i)
        ));
    }
    ok(
        "GetLoginProfile",
        &format!(
            "<LoginProfile><UserName>{}</UserName><CreateDate>{PASSWORD_SET}</CreateDate>\
             <PasswordResetRequired>{}</PasswordResetRequired></LoginProfile>",
            user_name(i),
            password_reset_required(i)
        ),
    )
}

fn user_policy(i: usize, name: &str) -> Reply {
    if inline_policy_name(i).as_deref() != Some(name) {
        return not_found(&format!(
            "The user policy with name {name} cannot be found."
        ));
    }
    ok(
        "GetUserPolicy",
        &format!(
            "<UserName>{}</UserName><PolicyName>{name}</PolicyName>\
             <PolicyDocument>{}</PolicyDocument>",
            user_name(i),
            url_encode(inline_policy_document(i))
        ),
    )
}

fn group_policy(k: usize, name: &str) -> Reply {
    if name != format!("inline-team-{k}") {
        return not_found(&format!(
            "The group policy with name {name} cannot be found."
        ));
    }
    ok(
        "GetGroupPolicy",
        &format!(
            "<GroupName>team-{k}</GroupName><PolicyName>{name}</PolicyName>\
             <PolicyDocument>{}</PolicyDocument>",
            url_encode(GROUP_INLINE_DOCUMENT)
        ),
    )
}

/// The List* calls about one user: the list element, and the members for user `i`.
type UserList = (&'static str, fn(usize) -> Vec<String>);

fn user_list(action: &str) -> Option<UserList> {
    fn when(condition: bool, item: impl FnOnce() -> String) -> Vec<String> {
        if condition {
            vec![item()]
        } else {
            vec![]
        }
    }
    Some(match action {
        "ListGroupsForUser" => ("Groups", |i| {
            group_of(i).map(group_xml).into_iter().collect()
        }),
        "ListMFADevices" => ("MFADevices", |i| when(has_mfa(i), || mfa_xml(i))),
        "ListAccessKeys" => ("AccessKeyMetadata", |i| {
            (0..i % 3).map(|k| key_xml(i, k)).collect()
        }),
        "ListUserTags" => ("Tags", |i| {
            vec![format!(
                "<member><Key>index</Key><Value>{i}</Value></member>"
            )]
        }),
        "ListUserPolicies" => ("PolicyNames", |i| {
            inline_policy_name(i)
                .map(|n| format!("<member>{n}</member>"))
                .into_iter()
                .collect()
        }),
        "ListAttachedUserPolicies" => ("AttachedPolicies", |i| {
            user_attached_xml(i).into_iter().collect()
        }),
        "ListSSHPublicKeys" => ("SSHPublicKeys", |i| when(has_ssh_key(i), || ssh_key_xml(i))),
        "ListSigningCertificates" => ("Certificates", |i| {
            when(has_certificate(i), || certificate_xml(i))
        }),
        "ListServiceSpecificCredentials" => ("ServiceSpecificCredentials", |i| {
            when(has_service_credential(i), || service_credential_xml(i))
        }),
        _ => return None,
    })
}

fn marker_start(request: &Received) -> usize {
    request
        .param("Marker")
        .and_then(|m| m.strip_prefix("next:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The positions of one page of `len` items as IAM pages: `MaxItems` (default 100) from the
/// marker's position, and the marker of the next page.
fn page_range(request: &Received, len: usize) -> (Range<usize>, Option<String>) {
    let max_items: usize = request
        .param("MaxItems")
        .and_then(|m| m.parse().ok())
        .unwrap_or(100);
    let start = marker_start(request).min(len);
    let end = (start + max_items).min(len);
    let marker = (end < len).then(|| format!("next:{end}"));
    (start..end, marker)
}

/// One page of `items`.
fn page(request: &Received, items: Vec<String>) -> (Vec<String>, Option<String>) {
    let (range, marker) = page_range(request, items.len());
    (items[range].to_vec(), marker)
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

fn user_arn(i: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:user/generated/{}", user_name(i))
}

/// The elements of a `User` (ListUsers, GetUser) and a `UserDetail` share.
fn user_core_xml(i: usize) -> String {
    format!(
        "<Path>/generated/</Path><UserName>{}</UserName><UserId>AIDAGENERATED{i:08}</UserId>\
         <Arn>{}</Arn><CreateDate>2020-01-01T00:00:{:02}Z</CreateDate>",
        user_name(i),
        user_arn(i),
        i % 60
    )
}

fn password_last_used_xml(i: usize) -> String {
    password_last_used(i)
        .map(|t| format!("<PasswordLastUsed>{t}</PasswordLastUsed>"))
        .unwrap_or_default()
}

fn boundary_xml(i: usize) -> String {
    if has_boundary(i) {
        format!(
            "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType>\
             <PermissionsBoundaryArn>{}</PermissionsBoundaryArn></PermissionsBoundary>",
            boundary_arn()
        )
    } else {
        String::new()
    }
}

fn tags_xml(i: usize) -> String {
    format!("<Tags><member><Key>index</Key><Value>{i}</Value></member></Tags>")
}

/// A ListUsers `member` (no boundary, no tags: ListUsers does not return them).
fn user_xml(i: usize) -> String {
    format!(
        "<member>{}{}</member>",
        user_core_xml(i),
        password_last_used_xml(i)
    )
}

/// GetUser's `User`: with the boundary and tags.
fn get_user_xml(i: usize) -> String {
    format!(
        "{}{}{}{}",
        user_core_xml(i),
        password_last_used_xml(i),
        boundary_xml(i),
        tags_xml(i)
    )
}

fn group_arn(k: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:group/team-{k}")
}

fn group_core_xml(k: usize) -> String {
    format!(
        "<Path>/</Path><GroupName>team-{k}</GroupName><GroupId>AGPATEAM{k}</GroupId>\
         <Arn>{}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate>",
        group_arn(k)
    )
}

fn group_xml(k: usize) -> String {
    format!("<member>{}</member>", group_core_xml(k))
}

/// The `AttachedPolicy` member of group `team-k`.
fn group_attached_xml(k: usize) -> String {
    if k == 0 {
        format!(
            "<member><PolicyName>AdministratorAccess</PolicyName>\
             <PolicyArn>{ADMINISTRATOR_ACCESS}</PolicyArn></member>"
        )
    } else {
        format!(
            "<member><PolicyName>Managed-team-{k}</PolicyName>\
             <PolicyArn>arn:aws:iam::{ACCOUNT_ID}:policy/Managed-team-{k}</PolicyArn></member>"
        )
    }
}

/// The `AttachedPolicy` member of user `i`, if it has one.
fn user_attached_xml(i: usize) -> Option<String> {
    has_ops_all(i).then(|| {
        format!(
            "<member><PolicyName>ops-all</PolicyName><PolicyArn>{}</PolicyArn></member>",
            ops_all_arn()
        )
    })
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
        "<member><UserName>{}</UserName><AccessKeyId>{}</AccessKeyId><Status>{}</Status>\
         <CreateDate>{}</CreateDate></member>",
        user_name(i),
        access_key_id(i, k),
        if key_active(i, k) {
            "Active"
        } else {
            "Inactive"
        },
        key_created(k)
    )
}

fn certificate_xml(i: usize) -> String {
    format!(
        "<member><UserName>{}</UserName><CertificateId>GENCERT{i:08}EXAMPLE</CertificateId>\
         <CertificateBody>-----BEGIN CERTIFICATE-----\nMIIBgenerated{i:08}\n-----END CERTIFICATE-----</CertificateBody>\
         <Status>Active</Status><UploadDate>{CERTIFICATE_UPLOADED}</UploadDate></member>",
        user_name(i)
    )
}

fn ssh_key_xml(i: usize) -> String {
    format!(
        "<member><UserName>{}</UserName><SSHPublicKeyId>APKAGEN{i:08}</SSHPublicKeyId>\
         <Status>Active</Status><UploadDate>2021-04-01T00:00:00Z</UploadDate></member>",
        user_name(i)
    )
}

fn service_credential_xml(i: usize) -> String {
    format!(
        "<member><UserName>{0}</UserName><Status>Active</Status><ServiceUserName>{0}-at-{ACCOUNT_ID}</ServiceUserName>\
         <CreateDate>2023-02-01T00:00:00Z</CreateDate><ServiceSpecificCredentialId>ACCAGEN{i:08}</ServiceSpecificCredentialId>\
         <ServiceName>codecommit.amazonaws.com</ServiceName></member>",
        user_name(i)
    )
}

fn user_detail_xml(i: usize) -> String {
    let inline = inline_policy_name(i)
        .map(|name| {
            format!(
                "<member><PolicyName>{name}</PolicyName><PolicyDocument>{}</PolicyDocument></member>",
                url_encode(inline_policy_document(i))
            )
        })
        .unwrap_or_default();
    let groups = group_of(i)
        .map(|k| format!("<member>team-{k}</member>"))
        .unwrap_or_default();
    format!(
        "<member>{}<UserPolicyList>{inline}</UserPolicyList><GroupList>{groups}</GroupList>\
         <AttachedManagedPolicies>{}</AttachedManagedPolicies>{}{}</member>",
        user_core_xml(i),
        user_attached_xml(i).unwrap_or_default(),
        boundary_xml(i),
        tags_xml(i)
    )
}

fn group_detail_xml(k: usize) -> String {
    format!(
        "<member>{}<GroupPolicyList><member><PolicyName>inline-team-{k}</PolicyName>\
         <PolicyDocument>{}</PolicyDocument></member></GroupPolicyList>\
         <AttachedManagedPolicies>{}</AttachedManagedPolicies></member>",
        group_core_xml(k),
        url_encode(GROUP_INLINE_DOCUMENT),
        group_attached_xml(k)
    )
}

/// An XML time (`…Z`, maybe with a fraction) as the credential report writes it: whole
/// seconds, `+00:00`.
fn report_time(xml_time: &str) -> String {
    let whole = xml_time.trim_end_matches('Z');
    let whole = whole.split('.').next().unwrap_or(whole);
    format!("{whole}+00:00")
}

/// The credential report CSV of the first `users` users: the same facts the per-user
/// answers give.
pub fn credential_report(users: usize) -> String {
    let mut csv = String::from(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
         password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
         access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,\
         access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
         access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
         cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    csv.push_str(&format!(
        "<root_account>,arn:aws:iam::{ACCOUNT_ID}:root,2019-01-01T00:00:00+00:00,not_supported,\
         2024-06-01T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,\
         N/A,N/A,N/A,false,N/A,false,N/A\n"
    ));
    for i in 0..users {
        let password = if has_password(i) {
            format!(
                "true,{},{},N/A",
                password_last_used(i).map_or_else(|| "no_information".to_owned(), report_time),
                report_time(PASSWORD_SET)
            )
        } else {
            "false,N/A,N/A,N/A".to_owned()
        };
        // active, last_rotated, last_used_date, last_used_region, last_used_service.
        let key = |k: usize| {
            if k >= i % 3 {
                return "false,N/A,N/A,N/A,N/A".to_owned();
            }
            let used = match key_last_use(i, k) {
                Some((date, service, region)) => {
                    format!("{},{region},{service}", report_time(date))
                }
                None => "N/A,N/A,N/A".to_owned(),
            };
            format!(
                "{},{},{used}",
                key_active(i, k),
                report_time(key_created(k))
            )
        };
        let certificate = if has_certificate(i) {
            format!("true,{}", report_time(CERTIFICATE_UPLOADED))
        } else {
            "false,N/A".to_owned()
        };
        csv.push_str(&format!(
            "{},{},2020-01-01T00:00:{:02}+00:00,{password},{},{},{},{certificate},false,N/A\n",
            user_name(i),
            user_arn(i),
            i % 60,
            has_mfa(i),
            key(0),
            key(1),
        ));
    }
    csv
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, as IAM encodes
/// policy documents.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
