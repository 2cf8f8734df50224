//! The version has one source, the root Cargo.toml's `[workspace.package] version`; the WIT
//! package version (`package aws-iam-users:connector@X.Y.Z;` in wit/world.wit) must agree with
//! it on major.minor, and no `@since` may name a version later than the package's.

/// The root manifest and the contract, as compiled into this test.
const CARGO_TOML: &str = include_str!("../Cargo.toml");
const WORLD_WIT: &str = include_str!("../wit/world.wit");

/// `(major, minor, patch)` of a plain `X.Y.Z` version.
fn parse_version(text: &str) -> (u64, u64, u64) {
    let parts: Vec<u64> = text
        .split('.')
        .map(|part| {
            part.parse()
                .unwrap_or_else(|_| panic!("{text:?} is not a plain X.Y.Z version"))
        })
        .collect();
    match parts[..] {
        [major, minor, patch] => (major, minor, patch),
        _ => panic!("{text:?} is not a plain X.Y.Z version"),
    }
}

/// `version = "…"` of the `[workspace.package]` table.
fn workspace_version(manifest: &str) -> &str {
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.package]";
            continue;
        }
        if !in_table {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "version" {
                return value.trim().trim_matches('"');
            }
        }
    }
    panic!("Cargo.toml has no [workspace.package] version")
}

/// The version of the `package aws-iam-users:connector@…;` line.
fn wit_package_version(wit: &str) -> &str {
    wit.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("package aws-iam-users:connector@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("wit/world.wit declares package aws-iam-users:connector@X.Y.Z;")
}

#[test]
fn cargo_and_wit_versions_agree_on_major_minor() {
    let cargo = workspace_version(CARGO_TOML);
    let wit = wit_package_version(WORLD_WIT);
    let (cargo_major, cargo_minor, _) = parse_version(cargo);
    let (wit_major, wit_minor, _) = parse_version(wit);
    assert_eq!(
        (cargo_major, cargo_minor),
        (wit_major, wit_minor),
        "Cargo.toml [workspace.package] version {cargo} and the WIT package version {wit} \
         must agree on major.minor: bump both (see README, Versioning)"
    );
}

#[test]
fn the_version_export_is_the_workspace_version() {
    assert_eq!(crate::VERSION, workspace_version(CARGO_TOML));
}

#[test]
fn no_item_is_newer_than_its_package() {
    let package = parse_version(wit_package_version(WORLD_WIT));
    let mut count = 0;
    for (index, _) in WORLD_WIT.match_indices("@since(version = ") {
        let rest = &WORLD_WIT[index + "@since(version = ".len()..];
        let since = &rest[..rest.find(')').expect("@since(version = X.Y.Z)")];
        assert!(
            parse_version(since) <= package,
            "@since(version = {since}) is later than the package version {package:?}"
        );
        count += 1;
    }
    assert!(count > 0, "every WIT item carries @since");
}

#[test]
fn the_readers_read_what_they_should() {
    assert_eq!(
        workspace_version("[package]\nversion = \"9.9.9\"\n[workspace.package]\nedition = \"2021\"\nversion = \"1.2.3\"\n"),
        "1.2.3"
    );
    assert_eq!(
        wit_package_version("/// doc\npackage aws-iam-users:connector@0.3.1;\n"),
        "0.3.1"
    );
    assert_eq!(parse_version("10.0.7"), (10, 0, 7));
}
