//! The integration tests of the host harness, one binary (linking wasmtime once): each
//! module runs the built component through the `host-harness` binary, or the harness in
//! process, against loopback peers from `test-support` (an IAM stub, a generated account,
//! moto) and the test components of `test-components`.
//!
//! `cargo test --workspace --test all <filter>` runs some of them (e.g. `sandbox::`).

mod auth;
mod compile_cache;
mod end_to_end;
mod harness;
mod organization;
mod release;
mod reliability;
mod run_state;
mod sandbox;
mod sekoia_sink;
mod strategies;
