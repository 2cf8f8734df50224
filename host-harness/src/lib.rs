//! Host harness of the aws-iam-users component: a wasmtime 48 embedding that holds the AWS
//! credentials, signs and sends the component's Query API calls, sandboxes the component and
//! writes its OCSF events as NDJSON.
//!
//! Library layout (one responsibility per module):
//! - [`cli`]: clap definitions; [`app`]: runs a parsed command line and returns the exit code.
//! - [`config`]: the `--config` TOML file; [`credentials`]: the resolution order (config file,
//!   environment keys, web identity) and the refresh cache; [`web_identity`]: STS
//!   AssumeRoleWithWebIdentity with `aws-sdk-sts`; [`signing`]: SigV4 with `aws-sigv4`;
//!   [`redact`]: secrets scrubbed from every printed line and panic.
//! - [`endpoint`]: the service allowlist and partition table; [`actions`]: the actions the
//!   host signs for the component; [`transport`]: form encoding, signing, sending with `ureq`,
//!   `send_all`.
//! - [`inventory`]: the host's types of the contract's `inventory` interface; [`sandbox`]:
//!   engine, linker, limits, WASI context, the WIT bindings, the host side of each import, and
//!   the conversions between the generated types and the host's (which alone leave it).
//! - [`inspect`]: a component's name, version, WIT world, size and sha256 read without
//!   compiling it, and the contract-version check done before compiling.
//! - [`run`]: the collect loop and summary, the check report; [`output`]: the NDJSON writer
//!   and the page output the loop writes through; [`checkpoint`]: the resumable output;
//!   [`state_file`]: the run-state kept between runs.
//! - [`organization`]: organization mode (`--organization`, `--accounts`): account discovery
//!   (Organizations ListAccounts), the fan-out of one component instance per account through
//!   its member role ([`credentials::RoleAssumer`]), one stream or a file per account, the
//!   organization checkpoint.
//! - [`sekoia`]: the Sekoia sink (`--sekoia-url`): batches pushed to the asset-connector API,
//!   retries, task polling, the `check` probe.
//! - [`logging`]: stderr lines; [`escape`]: escaping of text the harness did not write;
//!   [`error`]: every error enum and the exit-code table; [`limits`]: the transport's and the
//!   sandbox's limits.
//!
//! Tests drive it in-process: load a [`sandbox::Runtime`] once (e.g. in a `OnceLock`) from
//! [`COMPONENT_PATH`], instantiate a [`sandbox::Session`] per test with a
//! [`transport::Transport`] pointed at a local endpoint, and call [`run::collect`].

#![warn(missing_docs)]

pub mod actions;
pub mod app;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod escape;
pub mod inspect;
pub mod inventory;
pub mod limits;
pub mod logging;
pub mod organization;
pub mod output;
pub mod redact;
pub mod run;
pub mod sandbox;
pub mod sekoia;
pub mod signing;
pub mod state_file;
pub mod transport;

/// Absolute path of the guest component that `build.rs` built
/// (`<workspace>/target/guest/wasm32-wasip2/release/aws_iam_users.wasm`).
pub const COMPONENT_PATH: &str = env!("AWS_IAM_USERS_COMPONENT");

#[cfg(test)]
pub(crate) mod test_support {
    //! What the unit tests add to the `test-support` crate: canary credentials.

    use aws_credential_types::Credentials;

    pub use ::test_support::capture::SharedBuffer;

    /// A recognisable secret that must never show up in any output.
    pub const CANARY_SECRET: &str = "CANARY/secret+Value=do-not-print-9f3b";
    /// A recognisable session token that must only ever travel in `x-amz-security-token`.
    pub const CANARY_TOKEN: &str = "CANARY-session-token-do-not-print-77ad";

    /// Credentials made of canaries (key id `AKIDCANARY`).
    pub fn canary_credentials() -> Credentials {
        Credentials::new(
            "AKIDCANARY",
            CANARY_SECRET,
            Some(CANARY_TOKEN.into()),
            None,
            "test",
        )
    }
}
