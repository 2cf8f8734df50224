//! aws-iam-users: inventories the IAM users of an AWS account as OCSF 1.6.0
//! "User Inventory Info" events (class_uid 5003).
//!
//! Built for `wasm32-wasip2` this crate is a component of the `user-inventory` world in
//! `wit/` (the glue is in `component`). Everything else is plain Rust over the [`host::Host`]
//! trait, so the IAM client logic and the OCSF mapping are tested natively.
//!
//! The modules are private: the component's exports are the interface. Built natively the
//! crate is a library for its own tests (and, with the `hooks` feature, for the fuzz targets
//! and benchmarks), so code reached only from the wasm glue is checked for use on the
//! `wasm32-wasip2` target (`make lint`), not natively.

#![warn(missing_docs)]
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// Declares modules private, or public with the `hooks` feature: what the fuzz targets
/// (`fuzz/`) and the parse-and-map benchmark (`benches/parse_map.rs`) reach. Not an API.
macro_rules! hooked_modules {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "hooks")]
            pub mod $name;
            #[cfg(not(feature = "hooks"))]
            mod $name;
        )*
    };
}

hooked_modules!(admin, bulk, collect, cursor, host, model, ocsf, query, retry, settings);

mod arn;
mod check;
mod credential_report;
mod enrich;
mod error;
mod facts;
mod paging;
mod policy;
mod risk;
mod run_facts;
mod run_state;
mod xml;

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
