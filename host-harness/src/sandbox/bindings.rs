//! Bindings generated from `wit/world.wit` (world `user-inventory`), and the names of the
//! contract's interfaces as the linker knows them. The exports are called asynchronously; of
//! the imports only `identity` is linked through the generated `add_to_linker`
//! ([`super::identity_impl`]); `transport` and `log` are defined on the linker directly
//! ([`super::transport_impl`], [`super::log_impl`]), lifting their arguments lazily.
//!
//! The generated types never leave [`crate::sandbox`]: [`super::convert`] turns them into the
//! host's types and back.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "user-inventory",
    exports: { default: async },
});

pub(super) use aws_iam_users::connector::{identity, log, transport};
pub(super) use exports::aws_iam_users::connector::inventory;

/// The linker's name of the contract interface `name`, e.g.
/// `aws-iam-users:connector/transport@0.2.0`.
pub(super) fn interface(name: &str) -> String {
    format!(
        "{}/{name}@{}",
        crate::inspect::CONTRACT_PACKAGE,
        crate::inspect::host_contract().version
    )
}
