//! Builds the test components for `wasm32-wasip2` and exports their paths
//! (`MISBEHAVING_COMPONENT`, `FUTURE_CONTRACT_COMPONENT`) and the future contract's version
//! (`FUTURE_CONTRACT_VERSION`) to `src/lib.rs`.
//!
//! The future-contract component's WIT is generated, not copied: `wit/world.wit` with its
//! package version's minor bumped (`aws-iam-users:connector@0.2.0` → `@0.3.0`), written with a
//! copy of the component's crate into `OUT_DIR` and built there, so it always has the current
//! contract's shape under a version the host does not speak.

use std::fs;
use std::path::Path;

fn main() {
    let workspace = component_build::workspace_root();
    let here = workspace.join("tests/components");
    for watched in ["misbehaving", "future-contract"] {
        println!("cargo:rerun-if-changed={}", here.join(watched).display());
    }
    let world = workspace.join("wit/world.wit");
    println!("cargo:rerun-if-changed={}", world.display());
    let target_dir = workspace.join("target").join("guest");

    let manifest = here.join("misbehaving/Cargo.toml");
    let misbehaving = component_build::build_component(
        &workspace,
        &target_dir,
        &["--manifest-path", manifest.to_str().expect("UTF-8 path")],
        "misbehaving_component.wasm",
    );
    println!(
        "cargo:rustc-env=MISBEHAVING_COMPONENT={}",
        misbehaving.display()
    );

    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("future-contract");
    let (wit, version) = future_world(&fs::read_to_string(&world).expect("read wit/world.wit"));
    copy_crate(&here.join("future-contract"), &out, &version);
    fs::create_dir_all(out.join("wit")).expect("create the future contract's wit/");
    fs::write(out.join("wit/world.wit"), wit).expect("write the future contract's WIT");
    let manifest = out.join("Cargo.toml");
    let future = component_build::build_component(
        &workspace,
        &target_dir,
        &["--manifest-path", manifest.to_str().expect("UTF-8 path")],
        "future_contract_component.wasm",
    );
    println!(
        "cargo:rustc-env=FUTURE_CONTRACT_COMPONENT={}",
        future.display()
    );
    println!("cargo:rustc-env=FUTURE_CONTRACT_VERSION={version}");
}

/// `wit` with the version of its `package aws-iam-users:connector@X.Y.Z;` line replaced by
/// `X.(Y+1).0`, and that version.
fn future_world(wit: &str) -> (String, String) {
    const PACKAGE: &str = "package aws-iam-users:connector@";
    let line = wit
        .lines()
        .find(|line| line.starts_with(PACKAGE))
        .expect("wit/world.wit declares package aws-iam-users:connector@X.Y.Z;");
    let current = line[PACKAGE.len()..].trim_end_matches(';');
    let mut parts = current.split('.').map(|part| {
        part.parse::<u64>()
            .unwrap_or_else(|_| panic!("{current:?} is not a plain X.Y.Z version"))
    });
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let future = format!("{major}.{}.0", minor + 1);
    (
        wit.replacen(line, &format!("{PACKAGE}{future};"), 1),
        future,
    )
}

/// Copies the crate at `from` (its manifest, lock file and `src/`) to `to`, its package
/// version set to `version` (the component's `version` export reports it).
fn copy_crate(from: &Path, to: &Path, version: &str) {
    fs::create_dir_all(to.join("src")).expect("create the copy's src/");
    let manifest = fs::read_to_string(from.join("Cargo.toml")).expect("read Cargo.toml");
    let manifest = manifest
        .lines()
        .map(|line| {
            if line.starts_with("version = ") {
                format!("version = \"{version}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(to.join("Cargo.toml"), manifest + "\n").expect("write Cargo.toml");
    fs::copy(from.join("Cargo.lock"), to.join("Cargo.lock")).expect("copy Cargo.lock");
    for entry in fs::read_dir(from.join("src")).expect("read src/") {
        let entry = entry.expect("read src/");
        fs::copy(entry.path(), to.join("src").join(entry.file_name())).expect("copy src/");
    }
}
