//! Reads a component file without compiling or instantiating it: its name and version (the
//! `aws-iam-users:name` / `aws-iam-users:version` custom sections the guest embeds), its
//! component type decoded as a WIT world (`wit-parser`), its size and sha256; and decides
//! whether this host speaks its contract.
//!
//! **The contract** is the WIT package `aws-iam-users:connector`; its version is the one of the
//! interfaces the component imports and exports (`…/inventory@0.2.0`), recorded in the
//! component's type. A component binary keeps its interfaces but not its world's name, so the
//! world is named by matching those interfaces against the worlds of this host's WIT.
//!
//! **Compatibility** (semver of the contract, checked by [`ensure_compatible`] before the
//! component is compiled): a host speaking `M.N.P` runs components of the same major `M` and a
//! minor up to its own `N`; for `0.x` the minor acts as the major, so a `0.N` host runs `0.N.*`
//! components only. Anything else is refused with both versions named and exit code 2
//! (`crate::error::exit::USAGE`: the wrong component for this host is a deployment mistake, found
//! before anything runs).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};
use wit_parser::decoding::DecodedWasm;
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

use crate::error::{InspectError, SandboxError};

/// Namespace and name of the contract's WIT package.
pub const CONTRACT_PACKAGE: &str = "aws-iam-users:connector";
/// The interface a connector exports.
pub const INVENTORY_INTERFACE: &str = "inventory";
/// Custom section holding the component's version (crate version, UTF-8).
pub const VERSION_SECTION: &str = "aws-iam-users:version";
/// Custom section holding the component's name (crate name, UTF-8).
pub const NAME_SECTION: &str = "aws-iam-users:name";

/// Longest name or version section reported; a longer one is cut, marked with its length.
const MAX_SECTION_TEXT: usize = 256;

/// This host's WIT, compiled in (the same files its bindings are generated from).
const HOST_WIT: &str = include_str!("../../wit/world.wit");

/// What `inspect` reports about a component file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The `aws-iam-users:name` custom section, when present.
    pub name: Option<String>,
    /// The `aws-iam-users:version` custom section, when present.
    pub version: Option<String>,
    /// The WIT package of the exported interfaces (`aws-iam-users:connector@0.2.0`).
    pub wit_package: Option<String>,
    /// The world of this host's WIT that the component's interfaces match.
    pub world: Option<String>,
    /// Exported interfaces (and bare functions), in the component's order.
    pub exports: Vec<String>,
    /// Functions of the exported `inventory` interface.
    pub functions: Vec<String>,
    /// Imported interfaces (and bare functions), in the component's order.
    pub imports: Vec<String>,
    /// File size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The contract this host speaks (`aws-iam-users:connector@0.2.0`).
    pub host_contract: String,
    /// Whether this host would run it.
    pub compatible: bool,
    /// Why not, when it would not.
    pub incompatibility: Option<String>,
}

/// Why a component's contract is not this host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incompatibility {
    /// It speaks another version of the contract.
    Version {
        /// The contract version the component was built for.
        component: Version,
    },
    /// It does not export the contract's `inventory` interface.
    NotAConnector {
        /// What it exports instead.
        exports: Vec<String>,
    },
}

impl Incompatibility {
    /// The reason, naming both versions (for `inspect`; the run's error adds the path).
    pub fn describe(&self, host: &HostContract) -> String {
        match self {
            Incompatibility::Version { component } => format!(
                "built for {CONTRACT_PACKAGE}@{component}, this host speaks {} and runs {} components only",
                host.package(),
                host.accepted()
            ),
            Incompatibility::NotAConnector { exports } => format!(
                "not an aws-iam-users connector: it exports no {CONTRACT_PACKAGE}/{INVENTORY_INTERFACE} interface (exports: {})",
                list_or_none(exports)
            ),
        }
    }

    fn into_error(self, path: &Path, host: &HostContract) -> SandboxError {
        match self {
            Incompatibility::Version { component } => SandboxError::IncompatibleContract {
                path: path.to_owned(),
                component: format!("{CONTRACT_PACKAGE}@{component}"),
                host: host.package(),
                accepted: host.accepted(),
            },
            Incompatibility::NotAConnector { exports } => SandboxError::NotAConnector {
                path: path.to_owned(),
                exports: list_or_none(&exports),
            },
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The contract this host speaks, read from its compiled-in WIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostContract {
    /// The WIT package version (`0.2.0`).
    pub version: Version,
    /// The package's worlds by name, with the interface names they import and export.
    worlds: Vec<WorldShape>,
}

/// A world reduced to the names of the contract interfaces it imports and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WorldShape {
    name: String,
    imports: BTreeSet<String>,
    exports: BTreeSet<String>,
}

impl HostContract {
    /// `aws-iam-users:connector@<version>`.
    pub fn package(&self) -> String {
        format!("{CONTRACT_PACKAGE}@{}", self.version)
    }

    /// The component versions this host runs, in words: `0.2.x`, or `1.0.x to 1.3.x`.
    pub fn accepted(&self) -> String {
        let Version { major, minor, .. } = self.version;
        if major == 0 || minor == 0 {
            format!("{major}.{minor}.x")
        } else {
            format!("{major}.0.x to {major}.{minor}.x")
        }
    }

    /// Whether a component built for contract `component` may run on this host.
    pub fn accepts(&self, component: &Version) -> bool {
        let host = &self.version;
        if host.major == 0 {
            component.major == 0 && component.minor == host.minor
        } else {
            component.major == host.major && component.minor <= host.minor
        }
    }

    /// The world whose contract imports include the component's and whose exports equal them.
    fn world_of(&self, imports: &BTreeSet<String>, exports: &BTreeSet<String>) -> Option<&str> {
        self.worlds
            .iter()
            .find(|world| &world.exports == exports && imports.is_subset(&world.imports))
            .map(|world| world.name.as_str())
    }
}

/// The contract of this host (parsed once from the compiled-in `wit/world.wit`).
pub fn host_contract() -> &'static HostContract {
    static CONTRACT: OnceLock<HostContract> = OnceLock::new();
    CONTRACT.get_or_init(|| parse_host_contract(HOST_WIT))
}

fn parse_host_contract(wit: &str) -> HostContract {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("wit/world.wit", wit)
        .expect("the host's WIT parses (its bindings were generated from it)");
    let version = resolve.packages[package]
        .name
        .version
        .clone()
        .expect("the host's WIT package has a version");
    let worlds = resolve.packages[package]
        .worlds
        .iter()
        .map(|(name, &world)| {
            let shape = Shape::of(&resolve, world);
            WorldShape {
                name: name.clone(),
                imports: shape.contract_names(&shape.imports),
                exports: shape.contract_names(&shape.exports),
            }
        })
        .collect();
    HostContract { version, worlds }
}

/// One import or export of a decoded world.
#[derive(Debug, Clone)]
struct Item {
    /// `aws-iam-users:connector/inventory@0.1.0`, `wasi:io/poll@0.2.12`, or a function name.
    label: String,
    /// For an interface of a versioned package: `(namespace:name, interface, version)`.
    interface: Option<(String, String, Option<Version>)>,
    /// For an interface: its function names, in order.
    functions: Vec<String>,
}

/// A world's imports and exports.
struct Shape {
    imports: Vec<Item>,
    exports: Vec<Item>,
}

impl Shape {
    fn of(resolve: &Resolve, world: WorldId) -> Shape {
        let items = |entries: &wit_parser::IndexMap<WorldKey, WorldItem>| {
            entries
                .iter()
                .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
                .map(|(key, item)| Item::of(resolve, key, item))
                .collect()
        };
        let world = &resolve.worlds[world];
        Shape {
            imports: items(&world.imports),
            exports: items(&world.exports),
        }
    }

    /// Names of the contract-package interfaces among `items`, versions left out.
    fn contract_names(&self, items: &[Item]) -> BTreeSet<String> {
        items
            .iter()
            .filter_map(|item| item.interface.as_ref())
            .filter(|(package, _, _)| package == CONTRACT_PACKAGE)
            .map(|(_, name, _)| name.clone())
            .collect()
    }

    fn contract_versions(&self) -> impl Iterator<Item = &Version> {
        self.imports
            .iter()
            .chain(&self.exports)
            .filter_map(|item| item.interface.as_ref())
            .filter(|(package, _, _)| package == CONTRACT_PACKAGE)
            .filter_map(|(_, _, version)| version.as_ref())
    }

    /// The exported `inventory` interface of the contract package.
    fn inventory(&self) -> Option<&Item> {
        self.exports.iter().find(|item| {
            item.interface.as_ref().is_some_and(|(package, name, _)| {
                package == CONTRACT_PACKAGE && name == INVENTORY_INTERFACE
            })
        })
    }

    /// Whether this host runs it; `Err` says why not.
    fn check(&self, host: &HostContract) -> Result<(), Incompatibility> {
        let Some(inventory) = self.inventory() else {
            return Err(Incompatibility::NotAConnector {
                exports: labels(&self.exports),
            });
        };
        let exported = inventory
            .interface
            .as_ref()
            .and_then(|(_, _, v)| v.as_ref());
        // The exported interface's version first, then any import of another version.
        for version in exported.into_iter().chain(self.contract_versions()) {
            if !host.accepts(version) {
                return Err(Incompatibility::Version {
                    component: version.clone(),
                });
            }
        }
        Ok(())
    }
}

impl Item {
    fn of(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> Item {
        let label = resolve.name_world_key(key);
        match item {
            WorldItem::Interface { id, .. } => {
                let interface = &resolve.interfaces[*id];
                let package = interface
                    .package
                    .map(|package| &resolve.packages[package].name);
                Item {
                    label,
                    interface: package.zip(interface.name.as_ref()).map(|(package, name)| {
                        (
                            format!("{}:{}", package.namespace, package.name),
                            name.clone(),
                            package.version.clone(),
                        )
                    }),
                    functions: interface.functions.keys().cloned().collect(),
                }
            }
            WorldItem::Function(_) | WorldItem::Type { .. } => Item {
                label,
                interface: None,
                functions: Vec::new(),
            },
        }
    }
}

fn labels(items: &[Item]) -> Vec<String> {
    items.iter().map(|item| item.label.clone()).collect()
}

/// Decodes the component type of `bytes` into its world.
fn decode(bytes: &[u8]) -> Result<Shape, String> {
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err("it is a core module".to_owned());
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err("no component header".to_owned());
    }
    match wit_parser::decoding::decode(bytes) {
        Ok(DecodedWasm::Component(resolve, world)) => Ok(Shape::of(&resolve, world)),
        Ok(DecodedWasm::WitPackage(..)) => Err("it is a WIT package, not a component".to_owned()),
        Err(error) => Err(format!("{error:#}")),
    }
}

/// The first custom section named `name` (in the component or any module inside it), as text.
fn custom_section(bytes: &[u8], name: &str) -> Option<String> {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .map_while(Result::ok)
        .find_map(|payload| match payload {
            wasmparser::Payload::CustomSection(section) if section.name() == name => {
                Some(String::from_utf8_lossy(section.data()).into_owned())
            }
            _ => None,
        })
}

/// Reads and describes the component at `path`.
///
/// Errors: [`InspectError::Read`], [`InspectError::NotAComponent`].
pub fn inspect_file(path: &Path) -> Result<Inspection, InspectError> {
    let bytes = std::fs::read(path).map_err(|source| InspectError::Read {
        path: path.to_owned(),
        source,
    })?;
    inspect_bytes(&bytes).map_err(|reason| InspectError::NotAComponent {
        path: path.to_owned(),
        reason,
    })
}

/// Describes a component held in memory; `Err` is the decoder's message.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Inspection, String> {
    let shape = decode(bytes)?;
    let host = host_contract();
    let inventory = shape.inventory();
    let wit_package = inventory
        .or_else(|| shape.exports.iter().find(|item| item.interface.is_some()))
        .and_then(|item| item.interface.as_ref())
        .map(|(package, _, version)| match version {
            Some(version) => format!("{package}@{version}"),
            None => package.clone(),
        });
    let world = host
        .world_of(
            &shape.contract_names(&shape.imports),
            &shape.contract_names(&shape.exports),
        )
        .filter(|_| inventory.is_some())
        .map(str::to_owned);
    let incompatibility = shape.check(host).err().map(|why| why.describe(host));
    let bounded = |section: Option<String>| {
        section.map(|text| crate::escape::truncate(&text, MAX_SECTION_TEXT).into_owned())
    };
    Ok(Inspection {
        name: bounded(custom_section(bytes, NAME_SECTION)),
        version: bounded(custom_section(bytes, VERSION_SECTION)),
        wit_package,
        world,
        exports: labels(&shape.exports),
        functions: inventory
            .map(|item| item.functions.clone())
            .unwrap_or_default(),
        imports: labels(&shape.imports),
        size_bytes: bytes.len() as u64,
        sha256: format!("{:x}", Sha256::digest(bytes)),
        host_contract: host.package(),
        compatible: incompatibility.is_none(),
        incompatibility,
    })
}

/// Refuses a component whose contract this host does not speak. Called on the file's bytes
/// before compiling them; bytes that do not decode as a component pass, for wasmtime to
/// report.
///
/// Errors: [`SandboxError::IncompatibleContract`], [`SandboxError::NotAConnector`].
pub fn ensure_compatible(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let Ok(shape) = decode(bytes) else {
        return Ok(());
    };
    let host = host_contract();
    shape.check(host).map_err(|why| why.into_error(path, host))
}

impl Inspection {
    /// The human-readable report: one `key: value` line each, lists one item per line.
    pub fn render_text(&self) -> String {
        fn line(text: &mut String, key: &str, value: &str) {
            let label = if key.is_empty() {
                String::new()
            } else {
                format!("{key}:")
            };
            // The values come from the component file: escaped, so they cannot forge a line
            // of this report or reach the terminal as escape sequences.
            text.push_str(&format!(
                "{label:<13}{}\n",
                crate::escape::escape_text(value)
            ));
        }
        fn list(text: &mut String, key: &str, items: &[String]) {
            if items.is_empty() {
                line(text, key, NONE);
            }
            for (index, item) in items.iter().enumerate() {
                line(text, if index == 0 { key } else { "" }, item);
            }
        }
        const NONE: &str = "(none)";
        let mut text = String::new();
        line(&mut text, "name", self.name.as_deref().unwrap_or(NONE));
        line(
            &mut text,
            "version",
            self.version.as_deref().unwrap_or(NONE),
        );
        line(
            &mut text,
            "wit package",
            self.wit_package.as_deref().unwrap_or(NONE),
        );
        line(&mut text, "world", self.world.as_deref().unwrap_or(NONE));
        list(&mut text, "exports", &self.exports);
        let functions = self.functions.join(", ");
        line(
            &mut text,
            "functions",
            if functions.is_empty() {
                NONE
            } else {
                &functions
            },
        );
        list(&mut text, "imports", &self.imports);
        line(&mut text, "size", &format!("{} bytes", self.size_bytes));
        line(&mut text, "sha256", &self.sha256);
        let compatible = match &self.incompatibility {
            None => format!(
                "yes, this host speaks {} and runs {} components",
                self.host_contract,
                host_contract().accepted()
            ),
            Some(why) => format!("no, {why}"),
        };
        line(&mut text, "compatible", &compatible);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(version: &str) -> HostContract {
        HostContract {
            version: Version::parse(version).unwrap(),
            worlds: Vec::new(),
        }
    }

    fn accepts(host_version: &str, component: &str) -> bool {
        host(host_version).accepts(&Version::parse(component).unwrap())
    }

    #[test]
    fn a_0_x_host_runs_its_own_minor_only() {
        assert!(accepts("0.1.0", "0.1.0"));
        assert!(accepts("0.1.0", "0.1.7"));
        assert!(accepts("0.1.3", "0.1.0"));
        assert!(!accepts("0.1.0", "0.2.0"));
        assert!(!accepts("0.2.0", "0.1.0"));
        assert!(!accepts("0.1.0", "1.1.0"));
        assert_eq!(host("0.1.0").accepted(), "0.1.x");
    }

    #[test]
    fn a_1_x_host_runs_its_major_up_to_its_minor() {
        assert!(accepts("1.3.0", "1.0.0"));
        assert!(accepts("1.3.0", "1.3.9"));
        assert!(!accepts("1.3.0", "1.4.0"));
        assert!(!accepts("1.3.0", "2.0.0"));
        assert!(!accepts("1.3.0", "0.3.0"));
        assert_eq!(host("1.3.2").accepted(), "1.0.x to 1.3.x");
        assert_eq!(host("2.0.0").accepted(), "2.0.x");
    }

    #[test]
    fn the_host_contract_is_its_wit_and_agrees_with_its_crate_version() {
        let contract = host_contract();
        assert_eq!(
            contract.worlds,
            vec![WorldShape {
                name: "user-inventory".into(),
                imports: ["identity", "log", "transport"].map(String::from).into(),
                exports: ["inventory"].map(String::from).into(),
            }]
        );
        let crate_version = Version::parse(env!("CARGO_PKG_VERSION")).unwrap();
        assert_eq!(
            (contract.version.major, contract.version.minor),
            (crate_version.major, crate_version.minor),
            "the WIT package version and the workspace version agree on major.minor"
        );
    }

    #[test]
    fn the_built_component_is_compatible_and_described() {
        let bytes = std::fs::read(crate::COMPONENT_PATH).unwrap();
        assert_eq!(
            ensure_compatible(Path::new("c.wasm"), &bytes).ok(),
            Some(())
        );
        let inspection = inspect_bytes(&bytes).unwrap();
        assert_eq!(inspection.name.as_deref(), Some("aws-iam-users"));
        assert_eq!(
            inspection.version.as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(inspection.world.as_deref(), Some("user-inventory"));
        assert!(inspection.compatible);
    }

    #[test]
    fn bytes_that_are_not_a_component_are_left_to_wasmtime() {
        assert!(ensure_compatible(Path::new("x.wasm"), b"\0asm garbage").is_ok());
        let core_module = b"\0asm\x01\0\0\0";
        assert!(ensure_compatible(Path::new("x.wasm"), core_module).is_ok());
        assert_eq!(
            inspect_bytes(core_module).err().unwrap(),
            "it is a core module"
        );
        assert_eq!(
            inspect_bytes(b"not wasm").err().unwrap(),
            "no component header"
        );
    }
}
