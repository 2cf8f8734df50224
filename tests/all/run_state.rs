//! `collect --state FILE` across runs on the generated account (bulk strategy): a repeat run
//! of an unchanged account lists no access key and no signing certificate and gives the same
//! events; a new user's credentials are listed, a deleted user leaves the state; a state of
//! another account is ignored with a warning.
//!
//! The other changes the state must notice (a key rotated, deactivated or deleted, a user
//! re-created under its name, a new certificate) are the component's unit tests
//! (`src/run_state.rs`); group membership and policies never come from the state.

use std::path::Path;
use std::time::Duration;

use test_support::fake_iam::{FakeAccount, FakeIam};

use crate::harness::{self, Run};
use crate::strategies::comparable;

const LIMIT: Duration = Duration::from_secs(300);
const KEYS: (&str, &str) = ("AKIDRUNSTATE00000001", "run-state-secret");
const USERS: usize = 300;

/// Holders among users `0..users` (tests/support/src/fake_iam.rs): keys when `i % 3 != 0`,
/// a certificate when `i % 7 == 3`.
fn key_holders(users: std::ops::Range<usize>) -> usize {
    users.filter(|i| i % 3 != 0).count()
}

fn certificate_holders(users: std::ops::Range<usize>) -> usize {
    users.filter(|i| i % 7 == 3).count()
}

/// A bulk run of `account` with `--state state`; returns the run and the calls of
/// ListAccessKeys and ListSigningCertificates the account answered.
fn run(account: FakeAccount, state: &Path) -> (Run, usize, usize) {
    let iam = FakeIam::start(account);
    let run = harness::collect(
        iam.url(),
        KEYS,
        &[
            "--strategy",
            "bulk",
            "--max-items",
            "100",
            "--state",
            state.to_str().unwrap(),
        ],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    (
        run,
        iam.calls_of("ListAccessKeys"),
        iam.calls_of("ListSigningCertificates"),
    )
}

fn account(users: usize) -> FakeAccount {
    FakeAccount {
        users,
        ..FakeAccount::default()
    }
}

#[test]
fn a_repeat_run_of_an_unchanged_account_lists_no_credential_and_gives_the_same_events() {
    let state = test_support::scratch_dir("run-state-unchanged").join("state.json");
    let (first, keys, certificates) = run(account(USERS), &state);
    assert_eq!(keys, key_holders(0..USERS));
    assert_eq!(certificates, certificate_holders(0..USERS));
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("\"account\":\"210987654321\""), "{saved}");
    assert!(saved.contains("AKIAGEN00000001K0"), "{saved}");

    let (second, keys, certificates) = run(account(USERS), &state);
    assert_eq!((keys, certificates), (0, 0), "stderr: {}", second.stderr);
    assert!(
        second.stderr.contains(&format!(
            "the run-state vouched for the access keys of {} users and the signing \
             certificates of {}: not listed again",
            key_holders(0..USERS),
            certificate_holders(0..USERS)
        )),
        "{}",
        second.stderr
    );
    assert_eq!(comparable(&first), comparable(&second));
    assert_eq!(comparable(&second).len(), USERS);
}

#[test]
fn a_new_user_is_listed_and_a_deleted_one_leaves_the_state() {
    let state = test_support::scratch_dir("run-state-changes").join("state.json");
    run(account(USERS), &state);

    // Three users more: only theirs are listed.
    let (grown, keys, certificates) = run(account(USERS + 3), &state);
    assert_eq!(keys, key_holders(USERS..USERS + 3));
    assert_eq!(certificates, certificate_holders(USERS..USERS + 3));
    assert_eq!(comparable(&grown).len(), USERS + 3);
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("user-00302"), "the new key holder is kept");

    // The last ten deleted: nothing listed, and they are no longer in the state.
    let (shrunk, keys, certificates) = run(account(USERS - 10), &state);
    assert_eq!((keys, certificates), (0, 0), "stderr: {}", shrunk.stderr);
    assert_eq!(comparable(&shrunk).len(), USERS - 10);
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(!saved.contains("user-00298"), "a deleted user is dropped");
    assert!(saved.contains("user-00289"));
}

#[test]
fn a_state_of_another_account_is_ignored_with_a_warning() {
    let state = test_support::scratch_dir("run-state-account").join("state.json");
    run(account(30), &state);
    let other = FakeAccount {
        account_id: Some("123456789012"),
        ..account(30)
    };
    let (run, keys, certificates) = run(other, &state);
    assert_eq!(keys, key_holders(0..30), "everything is listed again");
    assert_eq!(certificates, certificate_holders(0..30));
    assert!(
        run.stderr.contains(
            "written for account 210987654321, this run is for account 123456789012; this \
             run lists every credential"
        ),
        "{}",
        run.stderr
    );
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("\"account\":\"123456789012\""), "{saved}");
}
