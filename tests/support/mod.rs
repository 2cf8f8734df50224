//! Support for the end-to-end tests: a loopback IAM stub, the moto peer, and running the
//! harness binary with a time limit.

#![allow(dead_code)]

pub mod fake_iam;
pub mod harness;
pub mod iam_stub;
pub mod moto_peer;
pub mod ocsf_schema;
pub mod sekoia;
