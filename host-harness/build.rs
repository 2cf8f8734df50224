//! Builds the guest component (the workspace's root crate) for `wasm32-wasip2` and exports its
//! path to the harness as `AWS_IAM_USERS_COMPONENT`; also the test components under
//! `tests/components/` (`AWS_IAM_USERS_MISBEHAVING_COMPONENT`, `AWS_IAM_USERS_FUTURE_COMPONENT`).
//!
//! The guest is built by a nested `cargo build` with its own target directory
//! (`<workspace>/target/guest`), so it never contends with the outer build's lock. The nested
//! command's environment is cleaned of everything the outer cargo sets for build scripts
//! (target, rustflags, wrappers, jobserver, cfg values): left in place they would make the
//! nested cargo build for the host, with clippy as a wrapper, or into the outer target dir.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The guest package and the file its `cdylib` produces.
const GUEST_PACKAGE: &str = "aws-iam-users";
const GUEST_ARTIFACT: &str = "aws_iam_users.wasm";
const GUEST_TARGET: &str = "wasm32-wasip2";

/// `CARGO_*` variables that are user configuration of the cargo installation and are kept.
const KEPT_CARGO_PREFIXES: &[&str] = &[
    "CARGO_HOME",
    "CARGO_NET_",
    "CARGO_HTTP_",
    "CARGO_REGISTRIES_",
    "CARGO_REGISTRY_",
    "CARGO_TERM_",
];

/// Non-`CARGO_*` variables the outer cargo (or make) sets that would redirect the nested build.
const REMOVED_VARIABLES: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "OPT_LEVEL",
    "PROFILE",
    "DEBUG",
    "NUM_JOBS",
    "MAKEFLAGS",
    "MFLAGS",
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host-harness lives inside the workspace")
        .to_path_buf();

    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock", "tests/components"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let target_dir = workspace.join("target").join("guest");

    let component = build_component(
        &workspace,
        &target_dir,
        &["-p", GUEST_PACKAGE],
        GUEST_ARTIFACT,
    );
    println!(
        "cargo:rustc-env=AWS_IAM_USERS_COMPONENT={}",
        component.display()
    );

    // A component that misbehaves on request, for the sandbox tests (never shipped).
    let manifest = workspace.join("tests/components/misbehaving/Cargo.toml");
    let misbehaving = build_component(
        &workspace,
        &target_dir,
        &["--manifest-path", manifest.to_str().expect("UTF-8 path")],
        "misbehaving_component.wasm",
    );
    println!(
        "cargo:rustc-env=AWS_IAM_USERS_MISBEHAVING_COMPONENT={}",
        misbehaving.display()
    );

    // A component of a contract this host does not speak (`@0.2.0`), for the refusal test.
    let manifest = workspace.join("tests/components/future-contract/Cargo.toml");
    let future = build_component(
        &workspace,
        &target_dir,
        &["--manifest-path", manifest.to_str().expect("UTF-8 path")],
        "future_contract_component.wasm",
    );
    println!(
        "cargo:rustc-env=AWS_IAM_USERS_FUTURE_COMPONENT={}",
        future.display()
    );
}

/// Runs the nested `cargo build --release --target wasm32-wasip2` with `selection` (a
/// package or a manifest) and returns the path of `artifact`.
fn build_component(
    workspace: &Path,
    target_dir: &Path,
    selection: &[&str],
    artifact: &str,
) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .arg("build")
        .args(selection)
        .args(["--release", "--target", GUEST_TARGET])
        .arg("--target-dir")
        .arg(target_dir);
    clean_environment(&mut command);

    let output = command
        .output()
        .unwrap_or_else(|err| panic!("could not run the nested cargo to build a component: {err}"));
    if !output.status.success() {
        // Build-script stderr is shown by cargo when the script fails.
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!(
            "building a component failed ({}): cargo build {} --release --target {GUEST_TARGET} --target-dir {}; its stderr is above",
            output.status,
            selection.join(" "),
            target_dir.display()
        );
    }
    let path = target_dir.join(GUEST_TARGET).join("release").join(artifact);
    assert!(
        path.is_file(),
        "the nested cargo succeeded but {} does not exist",
        path.display()
    );
    path
}

/// Removes every variable that the outer cargo sets for build scripts, keeping `CARGO_HOME`
/// and the user's network/registry/terminal configuration.
fn clean_environment(command: &mut Command) {
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_internal = key.starts_with("CARGO_")
            && !KEPT_CARGO_PREFIXES.iter().any(|kept| key.starts_with(kept));
        if cargo_internal
            || key == "CARGO"
            || key.starts_with("__CARGO")
            || REMOVED_VARIABLES.contains(&key)
        {
            command.env_remove(key);
        }
    }
}
