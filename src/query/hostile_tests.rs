//! Hostile and broken responses: every reader returns a clear error, never a panic, and
//! inputs found by fuzzing (tests/fixtures/hostile/) stay fixed.

use super::*;
use crate::test_support::fixture;

fn details(body: &[u8]) -> Vec<String> {
    parse_with_every_reader(200, body)
        .into_iter()
        .map(|r| r.map_or_else(|e| e.to_string(), |()| "ok".into()))
        .collect()
}

/// The ListUsers reader's verdict (the first of [`parse_with_every_reader`]).
fn list_users(body: &[u8]) -> String {
    details(body).remove(0)
}

#[test]
fn a_doctype_with_entities_is_refused_before_expansion() {
    let billion_laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
        <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
        <ListUsersResponse><ListUsersResult><Users><member><UserName>&lol2;</UserName>
        </member></Users></ListUsersResult></ListUsersResponse>"#;
    assert_eq!(
        list_users(billion_laughs.as_bytes()),
        "ListUsers returned an unreadable response (HTTP 200): DOCTYPE declarations are not accepted"
    );
    let external = r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><ListUsersResponse>&x;</ListUsersResponse>"#;
    assert!(list_users(external.as_bytes()).ends_with("DOCTYPE declarations are not accepted"));
}

#[test]
fn an_undeclared_entity_is_an_error_not_an_expansion() {
    let text = "<ListUsersResponse><ListUsersResult><Users><member><Path>&x;</Path></member>\
                </Users></ListUsersResult></ListUsersResponse>";
    let verdict = list_users(text.as_bytes());
    assert!(
        verdict.starts_with("ListUsers returned an unreadable response (HTTP 200): "),
        "{verdict}"
    );
    assert!(!verdict.contains("ok"), "{verdict}");
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let depth = 100_000;
    let text = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    assert!(details(text.as_bytes())
        .iter()
        .all(|d| d.ends_with("elements nested deeper than 64")
            || d.ends_with("error document without an <Error> element")));
}

#[test]
fn truncation_at_every_byte_of_a_real_page_never_panics_and_never_reads_as_success() {
    let page = fixture("moto/ListUsers.page1.xml");
    for end in 0..page.len() - 1 {
        if !page.is_char_boundary(end) {
            continue;
        }
        let verdict = list_users(&page.as_bytes()[..end]);
        assert_ne!(
            verdict, "ok",
            "a page cut at byte {end} was read as a whole page"
        );
    }
}

#[test]
fn invalid_utf8_anywhere_is_refused() {
    let mut page = fixture("moto/ListUsers.page1.xml").into_bytes();
    page[200] = 0xff;
    assert!(list_users(&page).contains("body is not UTF-8"));
}

#[test]
fn binary_garbage_and_empty_bodies() {
    assert!(details(&[0, 159, 146, 150, 255]).iter().all(|d| d != "ok"));
    assert!(details(b"").iter().all(|d| d != "ok"));
    assert_eq!(
        list_users(b"   \n"),
        "ListUsers returned an unreadable response (HTTP 200): empty body"
    );
}

#[test]
fn wrong_types_are_errors() {
    let text = "<ListUsersResponse><ListUsersResult><Users/><IsTruncated>maybe</IsTruncated>\
                </ListUsersResult></ListUsersResponse>";
    assert!(list_users(text.as_bytes())
        .starts_with("ListUsers returned an unreadable response (HTTP 200): "));
    let summary = "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key>\
                   <value>-3</value></entry></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>";
    let verdicts = details(summary.as_bytes());
    assert_ne!(verdicts[14], "ok", "a negative count is not a count");
}

#[test]
fn inputs_found_by_fuzzing_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let body = std::fs::read(entry.unwrap().path()).unwrap();
        for status in [200, 400, 500] {
            parse_with_every_reader(status, &body);
        }
        count += 1;
    }
    assert!(count > 0, "no regression inputs in {}", dir.display());
}
