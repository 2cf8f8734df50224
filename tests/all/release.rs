//! The shipped artifact describes itself and the host refuses a contract it does not speak:
//! `host-harness inspect` on the built component, and a component built from the contract
//! bumped (tests/components/future-contract, `0.3.0` for this `0.2.0` host) refused before it
//! is compiled.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::harness::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);

/// Built by host-harness's build script from tests/components/future-contract.
const FUTURE_COMPONENT: &str = test_components::FUTURE_CONTRACT;
/// Its contract version.
const FUTURE_VERSION: &str = test_components::FUTURE_CONTRACT_VERSION;

/// Static keys and an endpoint that is never reached: the refusal comes first.
const ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIDRELEASETEST00001"),
    ("AWS_SECRET_ACCESS_KEY", "release-secret"),
];

fn inspect(path: &str, json: bool) -> Run {
    let mut args = vec!["inspect", "--component", path];
    if json {
        args.push("--json");
    }
    harness::run(&args, &[], LIMIT)
}

/// `(size, sha256)` of a file, computed here.
fn size_and_sha256(path: &str) -> (usize, String) {
    let bytes = std::fs::read(path).unwrap();
    (bytes.len(), format!("{:x}", Sha256::digest(&bytes)))
}

/// The imports of every component built with Rust's wasm32-wasip2 std and this contract.
const IMPORTS_01: &[&str] = &[
    "aws-iam-users:connector/transport@0.2.0",
    "aws-iam-users:connector/identity@0.2.0",
    "aws-iam-users:connector/log@0.2.0",
    "wasi:io/poll@0.2.12",
    "wasi:clocks/monotonic-clock@0.2.12",
    "wasi:clocks/wall-clock@0.2.12",
    "wasi:random/random@0.2.12",
    "wasi:io/error@0.2.12",
    "wasi:io/streams@0.2.12",
    "wasi:cli/stdout@0.2.12",
    "wasi:cli/stderr@0.2.12",
    "wasi:cli/stdin@0.2.12",
    "wasi:cli/environment@0.2.12",
    "wasi:cli/exit@0.2.12",
    "wasi:cli/terminal-input@0.2.12",
    "wasi:cli/terminal-output@0.2.12",
    "wasi:cli/terminal-stdin@0.2.12",
    "wasi:cli/terminal-stdout@0.2.12",
    "wasi:cli/terminal-stderr@0.2.12",
    "wasi:random/insecure-seed@0.2.12",
];

#[test]
fn inspect_describes_the_built_component() {
    let component = harness::component();
    let path = component.to_str().unwrap();
    let run = inspect(path, false);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "");
    let (size, sha256) = size_and_sha256(path);
    let version = env!("CARGO_PKG_VERSION");
    let mut imports = String::new();
    for (index, import) in IMPORTS_01.iter().enumerate() {
        let label = if index == 0 { "imports:" } else { "" };
        imports.push_str(&format!("{label:<13}{import}\n"));
    }
    assert_eq!(
        run.stdout,
        format!(
            "name:        aws-iam-users\n\
             version:     {version}\n\
             wit package: aws-iam-users:connector@0.2.0\n\
             world:       user-inventory\n\
             exports:     aws-iam-users:connector/inventory@0.2.0\n\
             functions:   check, collect, version\n\
             {imports}\
             size:        {size} bytes\n\
             sha256:      {sha256}\n\
             compatible:  yes, this host speaks aws-iam-users:connector@0.2.0 and runs 0.2.x components\n"
        )
    );
}

#[test]
fn inspect_json_describes_the_built_component() {
    let component = harness::component();
    let path = component.to_str().unwrap();
    let run = inspect(path, true);
    assert_eq!(run.code, Some(0), "{run:?}");
    let (size, sha256) = size_and_sha256(path);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "aws-iam-users",
            "version": env!("CARGO_PKG_VERSION"),
            "wit_package": "aws-iam-users:connector@0.2.0",
            "world": "user-inventory",
            "exports": ["aws-iam-users:connector/inventory@0.2.0"],
            "functions": ["check", "collect", "version"],
            "imports": IMPORTS_01,
            "size_bytes": size,
            "sha256": sha256,
            "host_contract": "aws-iam-users:connector@0.2.0",
            "compatible": true,
            "incompatibility": null,
        })
    );
    assert_eq!(run.stdout.lines().count(), 1, "one JSON object, one line");
}

#[test]
fn inspect_says_why_this_host_would_not_run_a_future_contract() {
    let run = inspect(FUTURE_COMPONENT, true);
    assert_eq!(run.code, Some(0), "{run:?}");
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["name"], serde_json::Value::Null, "no custom sections");
    assert_eq!(json["version"], serde_json::Value::Null);
    assert_eq!(FUTURE_VERSION, "0.3.0");
    assert_eq!(
        json["wit_package"],
        format!("aws-iam-users:connector@{FUTURE_VERSION}")
    );
    assert_eq!(json["world"], "user-inventory");
    assert_eq!(json["compatible"], false);
    assert_eq!(
        json["incompatibility"],
        format!(
            "built for aws-iam-users:connector@{FUTURE_VERSION}, this host speaks \
             aws-iam-users:connector@0.2.0 and runs 0.2.x components only"
        )
    );
}

#[test]
fn the_host_refuses_a_component_of_another_contract_version() {
    for command in ["collect", "check"] {
        let run = harness::run(
            &[
                command,
                "--component",
                FUTURE_COMPONENT,
                "--endpoint-url",
                "http://127.0.0.1:9",
            ],
            ENV,
            LIMIT,
        );
        assert_eq!(run.code, Some(2), "{command}: {run:?}");
        assert_eq!(
            run.stderr,
            format!(
                "error: incompatible component {FUTURE_COMPONENT}: built for \
                 aws-iam-users:connector@{FUTURE_VERSION}, this host speaks aws-iam-users:connector@0.2.0 \
                 and runs 0.2.x components only\n"
            ),
            "{command}"
        );
        assert_eq!(run.stdout, "", "{command}");
    }
}

#[test]
fn inspect_refuses_a_file_that_is_not_a_component() {
    let dir = std::env::temp_dir().join(format!("release-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not-a-component.wasm");
    std::fs::write(&file, b"\0asm\x01\0\0\0").unwrap();
    let run = inspect(file.to_str().unwrap(), false);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: {} is not a WebAssembly component: it is a core module\n",
            file.display()
        )
    );
    assert_eq!(run.stdout, "");
}
