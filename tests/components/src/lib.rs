//! The paths of the test components, built for `wasm32-wasip2` by this crate's build script
//! (the way wasmtime's `test-programs` artifacts are): a test depends on this crate, the
//! product's build never does.

#![warn(missing_docs)]

/// `misbehaving/`: a `user-inventory` component that misbehaves on request (its
/// `max-items` setting picks the attack), for the sandbox tests.
pub const MISBEHAVING: &str = env!("MISBEHAVING_COMPONENT");

/// `future-contract/`: a `user-inventory` component built from `wit/world.wit` with the
/// package's minor version bumped ([`FUTURE_CONTRACT_VERSION`]): a contract this host does not
/// speak, for the refusal tests.
pub const FUTURE_CONTRACT: &str = env!("FUTURE_CONTRACT_COMPONENT");

/// The contract version [`FUTURE_CONTRACT`] was built for, e.g. `0.3.0` for a `0.2.0` host.
pub const FUTURE_CONTRACT_VERSION: &str = env!("FUTURE_CONTRACT_VERSION");
