//! The compile cache: the first run compiles the component and keeps its native code, the
//! next loads it and writes the same events; a cache directory others may write is not used.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use test_support::fake_iam::{FakeAccount, FakeIam};

use crate::harness;
use crate::strategies::comparable;

const LIMIT: Duration = Duration::from_secs(120);
const KEYS: (&str, &str) = ("AKIDCOMPILECACHE0001", "compile-cache-secret");

fn account(users: usize) -> FakeIam {
    FakeIam::start(FakeAccount {
        users,
        ..FakeAccount::default()
    })
}

fn collect(iam: &FakeIam, cache: &std::path::Path) -> harness::Run {
    let run = harness::collect(
        iam.url(),
        KEYS,
        &[
            "--compile-cache",
            cache.to_str().unwrap(),
            "--log-level",
            "debug",
        ],
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    run
}

#[test]
fn a_second_run_loads_the_compiled_component_and_writes_the_same_events() {
    let iam = account(5);
    let cache = test_support::scratch_dir("compile-cache-reuse").join("cache");
    let first = collect(&iam, &cache);
    assert!(
        first.stderr.contains("component: compiled in ")
            && first
                .stderr
                .contains(&format!("kept in the compile cache {}", cache.display())),
        "{}",
        first.stderr
    );
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let second = collect(&iam, &cache);
    assert!(
        second.stderr.contains(&format!(
            "component: native code loaded from the compile cache {} in ",
            cache.display()
        )),
        "{}",
        second.stderr
    );
    assert_eq!(comparable(&second), comparable(&first));
}

#[test]
fn a_cache_others_may_write_is_not_used() {
    let iam = account(2);
    let cache = test_support::scratch_dir("compile-cache-open").join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = collect(&iam, &cache);
    assert!(
        run.stderr.contains(&format!(
            "the compile cache {} is writable by others (mode 777): not used; chmod 700 it; \
             compiling",
            cache.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("component: compiled in "),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        0,
        "nothing written"
    );
    assert_eq!(run.events().len(), 3, "two users and the root user");
}
