//! CPU cost of reading IAM responses and mapping users to OCSF events, natively (`make bench`).
//!
//! - `list_users_1000`: one 1,000-user ListUsers page: `parse` alone, then `parse_map` (parse,
//!   `User::from_xml`, `user_inventory_info`, `to_json` for every user).
//! - `authorization_details_1000`: one 1,000-user GetAccountAuthorizationDetails page (groups,
//!   inline and attached policies, tags): `parse`, then `parse_map`.
//! - `bulk_collect_1000`: a whole first `collect` of the bulk strategy (account summary,
//!   groups, credential report, service credentials, the users page, ListAccessKeys for the key
//!   holders, events) against an in-memory host: the component's own work without the sandbox
//!   and the network. The same work inside the component is the `bulk-zero-latency` line of
//!   the scale benchmark (`host-harness/benches/scale.rs`).
//!
//! The XML is generated here, in the shape IAM answers (namespaces, `ResponseMetadata`,
//! escaped characters, fractional and whole-second timestamps).

use std::hint::black_box;

use aws_iam_users::admin::GroupPolicies;
use aws_iam_users::bulk::{detail_record, GroupDetail, Groups};
use aws_iam_users::collect::{self, CollectionState};
use aws_iam_users::host::{
    AuthMethod, Host, HttpResponse, Identity, Level, QueryCall, TransportError,
};
use aws_iam_users::model::{AttachedPolicy, InlinePolicy, User, UserRecord};
use aws_iam_users::ocsf::{to_json, user_inventory_info, Context};
use aws_iam_users::query::parse;
use aws_iam_users::query::responses::{
    GetAccountAuthorizationDetailsResponse, ListUsersResponse, UserDetailXml,
};
use aws_iam_users::query::ListResponse;
use aws_iam_users::retry::RetryPolicy;
use aws_iam_users::settings::{Settings, Strategy};
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const USERS: usize = 1_000;
const GROUPS: usize = 20;
const ACCOUNT: &str = "123456789012";
const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const PROCESSED_MS: i64 = 1_795_953_600_000;
const CONTEXT: Context<'static> = Context {
    processed_time: PROCESSED_MS,
    account_alias: None,
    credential_report_time: None,
};

fn user_name(i: usize) -> String {
    format!("user-{i:05}")
}

/// Paths vary, some with an escaped `&`.
fn user_path(i: usize) -> String {
    match i % 4 {
        0 => "/".to_owned(),
        1 => "/engineering/".to_owned(),
        2 => format!("/teams/team-{}/", i % 17),
        _ => "/r&amp;d/".to_owned(),
    }
}

fn create_date(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!(
            "2020-01-{:02}T10:{:02}:{:02}Z",
            1 + i % 28,
            i % 60,
            (i * 7) % 60
        )
    } else {
        format!("2021-06-{:02}T08:15:{:02}.123Z", 1 + i % 28, i % 60)
    }
}

fn response_xml(action: &str, result: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\
         </ResponseMetadata></{action}Response>"
    )
}

fn list_users_page() -> String {
    let members: String = (0..USERS)
        .map(|i| {
            let last_used = if i % 3 == 1 {
                format!(
                    "<PasswordLastUsed>2024-03-{:02}T12:00:00Z</PasswordLastUsed>",
                    1 + i % 28
                )
            } else {
                String::new()
            };
            format!(
                "<member><Path>{path}</Path><UserName>{name}</UserName>\
                 <UserId>AIDA{i:017}</UserId><Arn>arn:aws:iam::{ACCOUNT}:user{path}{name}</Arn>\
                 <CreateDate>{created}</CreateDate>{last_used}</member>",
                path = user_path(i),
                name = user_name(i),
                created = create_date(i),
            )
        })
        .collect();
    response_xml(
        "ListUsers",
        &format!(
            "<Users>{members}</Users><IsTruncated>true</IsTruncated>\
             <Marker>AAEAAQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==</Marker>"
        ),
    )
}

fn group_name(k: usize) -> String {
    format!("team-{k:02}")
}

fn user_detail(i: usize) -> String {
    let groups: String = (0..i % 3)
        .map(|g| format!("<member>{}</member>", group_name((i + g) % GROUPS)))
        .collect();
    let inline: String = (0..i % 2)
        .map(|p| {
            format!(
                "<member><PolicyName>inline-{i}-{p}</PolicyName><PolicyDocument>\
                 %7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A\
                 %22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22*%22%7D%5D%7D\
                 </PolicyDocument></member>"
            )
        })
        .collect();
    let attached: String = (0..i % 3)
        .map(|p| {
            format!(
                "<member><PolicyName>Managed-{p}</PolicyName>\
                 <PolicyArn>arn:aws:iam::{ACCOUNT}:policy/Managed-{p}</PolicyArn></member>"
            )
        })
        .collect();
    format!(
        "<member><Path>{path}</Path><UserName>{name}</UserName><UserId>AIDA{i:017}</UserId>\
         <Arn>arn:aws:iam::{ACCOUNT}:user{path}{name}</Arn><CreateDate>{created}</CreateDate>\
         <UserPolicyList>{inline}</UserPolicyList><GroupList>{groups}</GroupList>\
         <AttachedManagedPolicies>{attached}</AttachedManagedPolicies>\
         <Tags><member><Key>index</Key><Value>{i}</Value></member>\
         <member><Key>cost-center</Key><Value>cc &amp; {}</Value></member></Tags></member>",
        i % 11,
        path = user_path(i),
        name = user_name(i),
        created = create_date(i),
    )
}

fn group_detail(k: usize) -> String {
    format!(
        "<member><Path>/</Path><GroupName>{name}</GroupName><GroupId>AGPA{k:017}</GroupId>\
         <Arn>arn:aws:iam::{ACCOUNT}:group/{name}</Arn><CreateDate>2020-01-01T00:00:00Z</CreateDate>\
         <GroupPolicyList><member><PolicyName>inline-{name}</PolicyName>\
         <PolicyDocument>%7B%7D</PolicyDocument></member></GroupPolicyList>\
         <AttachedManagedPolicies><member><PolicyName>Managed-{name}</PolicyName>\
         <PolicyArn>arn:aws:iam::{ACCOUNT}:policy/Managed-{name}</PolicyArn></member>\
         </AttachedManagedPolicies></member>",
        name = group_name(k)
    )
}

fn details_page(users: &str, groups: &str, tail: &str) -> String {
    response_xml(
        "GetAccountAuthorizationDetails",
        &format!(
            "<UserDetailList>{users}</UserDetailList><GroupDetailList>{groups}</GroupDetailList>\
             <RoleDetailList/><Policies/>{tail}"
        ),
    )
}

fn users_details_page() -> String {
    let users: String = (0..USERS).map(user_detail).collect();
    details_page(&users, "", "<IsTruncated>false</IsTruncated>")
}

fn groups_details_page() -> String {
    let groups: String = (0..GROUPS).map(group_detail).collect();
    details_page("", &groups, "<IsTruncated>false</IsTruncated>")
}

fn http(body: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// ListUsers page → events, as the per-user strategy starts (before its lookups).
fn map_list_users(response: &HttpResponse) -> Vec<String> {
    let page = parse::<ListUsersResponse>(response)
        .expect("the generated page parses")
        .into_page();
    page.items
        .into_iter()
        .map(|xml| {
            let (user, _) = User::from_xml(xml);
            to_json(&user_inventory_info(&UserRecord::new(user), &CONTEXT))
        })
        .collect()
}

/// GetAccountAuthorizationDetails page → events, as the bulk strategy maps a `UserDetail`
/// (groups resolved from the groups page; no credential report here).
fn map_details(response: &HttpResponse, groups: &Groups) -> Vec<String> {
    let page = parse::<GetAccountAuthorizationDetailsResponse>(response)
        .expect("the generated page parses")
        .result;
    page.user_detail_list
        .member
        .into_iter()
        .map(|detail: UserDetailXml| {
            let (record, _) = detail_record(detail, Some(groups));
            to_json(&user_inventory_info(&record, &CONTEXT))
        })
        .collect()
}

fn groups_by_name() -> Groups {
    let page = parse::<GetAccountAuthorizationDetailsResponse>(&http(&groups_details_page()))
        .expect("the generated groups page parses")
        .result;
    page.group_detail_list
        .member
        .into_iter()
        .map(|g| {
            let policies = GroupPolicies {
                inline: g
                    .group_policy_list
                    .member
                    .into_iter()
                    .map(|p| InlinePolicy {
                        name: p.policy_name,
                        document: None,
                    })
                    .collect(),
                attached: g
                    .attached_managed_policies
                    .member
                    .into_iter()
                    .map(AttachedPolicy::from)
                    .collect(),
            };
            (
                g.group_name,
                GroupDetail {
                    arn: g.arn,
                    policies,
                },
            )
        })
        .collect()
}

fn credential_report() -> String {
    let mut csv = String::from(
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
         password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
         access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,\
         access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
         access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
         cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
    );
    csv.push_str(&format!(
        "<root_account>,arn:aws:iam::{ACCOUNT}:root,2019-01-01T00:00:00+00:00,not_supported,N/A,\
         not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    ));
    for i in 0..USERS {
        let key = |n: usize| {
            if i % 3 >= n {
                "true,2022-01-01T00:00:00+00:00,N/A,N/A,N/A"
            } else {
                "false,N/A,N/A,N/A,N/A"
            }
        };
        // The report has whole seconds: the user's CreateDate truncated.
        let created = create_date(i);
        let created = format!("{}+00:00", &created[..19]);
        csv.push_str(&format!(
            "{name},arn:aws:iam::{ACCOUNT}:user{path}{name},{created},{},N/A,N/A,N/A,{},{},{},false,N/A,false,N/A\n",
            i % 4 == 1,
            i % 2 == 0,
            key(1),
            key(2),
            name = user_name(i),
            path = user_path(i).replace("&amp;", "&"),
        ));
    }
    csv
}

/// Answers every call of a bulk collection from pre-rendered bodies.
struct MemoryHost {
    summary: String,
    groups: String,
    users: String,
    generate_report: String,
    report: String,
    service_credentials: String,
}

impl MemoryHost {
    fn new() -> Self {
        MemoryHost {
            summary: response_xml(
                "GetAccountSummary",
                &format!("<SummaryMap><entry><key>Users</key><value>{USERS}</value></entry></SummaryMap>"),
            ),
            groups: groups_details_page(),
            users: users_details_page(),
            generate_report: response_xml("GenerateCredentialReport", "<State>COMPLETE</State>"),
            report: response_xml(
                "GetCredentialReport",
                &format!(
                    "<Content>{}</Content><ReportFormat>text/csv</ReportFormat>\
                     <GeneratedTime>2030-01-01T00:00:00Z</GeneratedTime>",
                    base64::engine::general_purpose::STANDARD.encode(credential_report())
                ),
            ),
            service_credentials: response_xml(
                "ListServiceSpecificCredentials",
                "<ServiceSpecificCredentials/><IsTruncated>false</IsTruncated>",
            ),
        }
    }

    fn answer(&self, call: &QueryCall) -> HttpResponse {
        match call.action() {
            "GetAccountSummary" => http(&self.summary),
            "GetAccountAuthorizationDetails" if call.param("Filter.member.1") == Some("Group") => {
                http(&self.groups)
            }
            "GetAccountAuthorizationDetails" if call.param("Filter.member.1") == Some("User") => {
                http(&self.users)
            }
            "GenerateCredentialReport" => http(&self.generate_report),
            "GetCredentialReport" => http(&self.report),
            "ListServiceSpecificCredentials" => http(&self.service_credentials),
            "ListAccessKeys" => {
                let name = call.param("UserName").unwrap_or_default();
                let i: usize = name.trim_start_matches("user-").parse().unwrap_or(0);
                let keys: String = (0..i % 3)
                    .map(|k| {
                        format!(
                            "<member><UserName>{name}</UserName><AccessKeyId>AKIA{i:012}K{k}</AccessKeyId>\
                             <Status>Active</Status><CreateDate>2022-01-01T00:00:00Z</CreateDate></member>"
                        )
                    })
                    .collect();
                http(&response_xml(
                    "ListAccessKeys",
                    &format!("<AccessKeyMetadata>{keys}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"),
                ))
            }
            "GetAccountAuthorizationDetails"
                if call.param("Filter.member.1") == Some("LocalManagedPolicy") =>
            {
                http(&response_xml(
                    "GetAccountAuthorizationDetails",
                    "<Policies/><IsTruncated>false</IsTruncated>",
                ))
            }
            "ListAccountAliases" => http(&response_xml(
                "ListAccountAliases",
                "<AccountAliases/><IsTruncated>false</IsTruncated>",
            )),
            "GetCallerIdentity" => http(&format!(
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/bench</Arn>\
                 <Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
            )),
            action @ ("ListMFADevices" | "ListSigningCertificates") => {
                let list = if action == "ListMFADevices" { "MFADevices" } else { "Certificates" };
                http(&response_xml(action, &format!("<{list}/><IsTruncated>false</IsTruncated>")))
            }
            "GetAccessKeyLastUsed" => http(&response_xml(
                "GetAccessKeyLastUsed",
                "<AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>",
            )),
            other => panic!("the bulk strategy does not call {other} here"),
        }
    }
}

impl Host for MemoryHost {
    fn send_all(&self, calls: &[QueryCall]) -> Vec<Result<HttpResponse, TransportError>> {
        calls.iter().map(|call| Ok(self.answer(call))).collect()
    }
    fn log(&self, _level: Level, _message: &str) {}
    fn identity(&self) -> Identity {
        Identity {
            auth_method: AuthMethod::AccessKeys,
            partition: "aws".into(),
            region: "us-east-1".into(),
            role_arn: None,
        }
    }
    fn now_ms(&self) -> i64 {
        PROCESSED_MS
    }
    fn sleep_ms(&self, _ms: u64) {}
    fn random_u64(&self) -> u64 {
        4
    }
}

fn bulk_collect(host: &MemoryHost) -> usize {
    let settings = Settings {
        max_items: 1000,
        retry: RetryPolicy::default(),
        strategy: Strategy::Bulk,
        max_concurrency: 16,
        include_root: true,
    };
    let page = collect::collect(host, settings, None, &mut CollectionState::default())
        .expect("the bulk collection succeeds");
    assert!(page.cursor.is_none());
    page.events.len()
}

fn benches(c: &mut Criterion) {
    let list_users = http(&list_users_page());
    assert_eq!(map_list_users(&list_users).len(), USERS);
    let mut group = c.benchmark_group("list_users_1000");
    group.throughput(Throughput::Elements(USERS as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse::<ListUsersResponse>(black_box(&list_users)).unwrap())
    });
    group.bench_function("parse_map", |b| {
        b.iter(|| map_list_users(black_box(&list_users)))
    });
    group.finish();

    let details = http(&users_details_page());
    let groups = groups_by_name();
    let events = map_details(&details, &groups);
    assert_eq!(events.len(), USERS);
    assert!(
        events
            .iter()
            .any(|e| e.contains("\"privileges\":[\"inline-team-")),
        "{}",
        events[1]
    );
    let mut group = c.benchmark_group("authorization_details_1000");
    group.throughput(Throughput::Elements(USERS as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse::<GetAccountAuthorizationDetailsResponse>(black_box(&details)).unwrap())
    });
    group.bench_function("parse_map", |b| {
        b.iter(|| map_details(black_box(&details), &groups))
    });
    group.finish();

    let host = MemoryHost::new();
    assert_eq!(
        bulk_collect(&host),
        USERS + 1,
        "every user and the root user"
    );
    let mut group = c.benchmark_group("bulk_collect_1000");
    group.throughput(Throughput::Elements(USERS as u64));
    group.sample_size(20);
    group.bench_function("native", |b| b.iter(|| bulk_collect(black_box(&host))));
    group.finish();
}

criterion_group!(parse_map, benches);
criterion_main!(parse_map);
