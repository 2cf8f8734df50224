//! Builds a `wasm32-wasip2` component from a build script: `host-harness/build.rs` builds the
//! connector, `tests/components/build.rs` the test components.
//!
//! The component is built by a nested `cargo build` with its own target directory, so it
//! never contends with the outer build's lock. The nested command's environment is cleaned of
//! everything the outer cargo sets for build scripts (target, rustflags, wrappers, jobserver,
//! cfg values): left in place they would make the nested cargo build for the host, with
//! clippy as a wrapper, or into the outer target dir.

#![warn(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every component is built for.
pub const TARGET: &str = "wasm32-wasip2";

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

/// The workspace root: the parent of `CARGO_MANIFEST_DIR` walked up until a directory holds
/// `wit/world.wit`.
///
/// Panics when there is none (the build script is not in this workspace).
pub fn workspace_root() -> PathBuf {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .find(|dir| dir.join("wit/world.wit").is_file())
        .unwrap_or_else(|| panic!("no wit/world.wit above {}", manifest_dir.display()))
        .to_path_buf()
}

/// Runs `cargo build <selection> --release --target wasm32-wasip2 --target-dir <target_dir>`
/// in `workspace` (`selection`: `-p PACKAGE` or `--manifest-path PATH`) and returns the path
/// of `artifact` (e.g. `aws_iam_users.wasm`) under `<target_dir>/wasm32-wasip2/release/`.
///
/// Panics (failing the build script, whose stderr cargo shows) when the nested cargo cannot
/// run, fails, or does not produce `artifact`.
pub fn build_component(
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
        .args(["--release", "--target", TARGET])
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
            "building a component failed ({}): cargo build {} --release --target {TARGET} --target-dir {}; its stderr is above",
            output.status,
            selection.join(" "),
            target_dir.display()
        );
    }
    let path = target_dir.join(TARGET).join("release").join(artifact);
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
