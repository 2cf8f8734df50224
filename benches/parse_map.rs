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
//! The XML is the generated AWS-shaped account of the tests (`test_support::fake_iam`, 1,000
//! users), answered in memory: namespaces, `ResponseMetadata`, escaped characters, fractional
//! and whole-second timestamps, as IAM writes them.

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
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use test_support::fake_iam::FakeAccount;
use test_support::iam_stub::Received;

const USERS: usize = 1_000;
const PROCESSED_MS: i64 = 1_795_953_600_000;
const CONTEXT: Context<'static> = Context {
    processed_time: PROCESSED_MS,
    account_alias: None,
    credential_report_time: None,
};

/// The generated account.
fn account() -> FakeAccount {
    FakeAccount {
        users: USERS,
        ..FakeAccount::default()
    }
}

/// The account's answer to `params` (its status and body), as the host would hand it over.
fn answer(account: &FakeAccount, params: &[(&str, &str)]) -> HttpResponse {
    let reply = account.reply(&Received {
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        authorization: None,
        security_token: None,
    });
    HttpResponse {
        status: reply.status,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: reply.body.into_bytes(),
    }
}

/// The one page of all users of ListUsers.
fn list_users_page(account: &FakeAccount) -> HttpResponse {
    let max_items = USERS.to_string();
    answer(
        account,
        &[
            ("Action", "ListUsers"),
            ("Version", "2010-05-08"),
            ("MaxItems", &max_items),
        ],
    )
}

/// The one page of GetAccountAuthorizationDetails for `filter` (`User`, `Group`).
fn details_page(account: &FakeAccount, filter: &str) -> HttpResponse {
    let max_items = USERS.to_string();
    answer(
        account,
        &[
            ("Action", "GetAccountAuthorizationDetails"),
            ("Version", "2010-05-08"),
            ("Filter.member.1", filter),
            ("MaxItems", &max_items),
        ],
    )
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

fn groups_by_name(account: &FakeAccount) -> Groups {
    let page = parse::<GetAccountAuthorizationDetailsResponse>(&details_page(account, "Group"))
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

/// Answers every call of a bulk collection from the generated account.
struct MemoryHost {
    account: FakeAccount,
}

impl Host for MemoryHost {
    fn send_all_in_flight(
        &self,
        calls: &[QueryCall],
        _max_in_flight: usize,
    ) -> Vec<Result<HttpResponse, TransportError>> {
        calls
            .iter()
            .map(|call| {
                let params: Vec<(&str, &str)> = call
                    .params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                Ok(answer(&self.account, &params))
            })
            .collect()
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
        max_in_flight: 64,
        time_budget_ms: 0,
        include_root: true,
    };
    let page = collect::collect(host, settings, None, None, &mut CollectionState::default())
        .expect("the bulk collection succeeds");
    assert!(page.cursor.is_none());
    page.events.len()
}

fn benches(c: &mut Criterion) {
    let account = account();
    let list_users = list_users_page(&account);
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

    let details = details_page(&account, "User");
    let groups = groups_by_name(&account);
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

    let host = MemoryHost { account };
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
