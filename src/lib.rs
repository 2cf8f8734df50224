//! aws-iam-users: inventories the IAM users of an AWS account as OCSF 1.6.0
//! "User Inventory Info" events (class_uid 5003).
//!
//! Built for `wasm32-wasip2` this crate is a component of the `user-inventory` world in
//! `wit/` (the glue is in `component`). Everything else is plain Rust over the [`host::Host`]
//! trait, so the IAM client logic and the OCSF mapping are tested natively.

pub mod admin;
pub mod arn;
pub mod bulk;
pub mod check;
pub mod collect;
pub mod credential_report;
pub mod cursor;
pub mod enrich;
pub mod error;
pub mod facts;
pub mod host;
pub mod model;
pub mod ocsf;
pub mod paging;
pub mod policy;
pub mod query;
pub mod retry;
pub mod risk;
pub mod run_facts;
pub mod run_state;
pub mod settings;
pub mod xml;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod version_section;

#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod test_support;

/// The component's version, from Cargo.toml (the WIT package's major.minor follows it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
