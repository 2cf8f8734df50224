//! Error types, one per boundary, and the process exit-code table.
//!
//! | code | constant            | meaning                                                                  |
//! |------|---------------------|--------------------------------------------------------------------------|
//! | 0    | [`exit::OK`]        | success: every event written, every permission granted                   |
//! | 1    | [`exit::INTERNAL`]  | a bug: I/O failure writing output, a component returning invalid data     |
//! | 2    | [`exit::USAGE`]     | usage or configuration: bad flag, unknown region, bad endpoint URL, bad `--sekoia-url` or `--connector-uuid` (or Sekoia answering 404: no such connector), unusable config file, malformed role ARN, unreadable or invalid component file, a component of a contract version this host does not speak (or no connector at all; checked before compiling, see [`crate::inspect`]), uncreatable output file |
//! | 3    | [`exit::AUTH`]      | credentials or authorisation: missing keys, unreadable web identity token, STS refusing AssumeRoleWithWebIdentity (`ExpiredTokenException`, `InvalidIdentityToken`, …), `InvalidClientTokenId`, `SignatureDoesNotMatch`, `ExpiredToken`, `AccessDenied` on the listing; `check` with a denied permission; no Sekoia API key, or Sekoia answering 401 or 403 |
//! | 4    | [`exit::PARTIAL`]   | partial: events written but some fields left out (`page-stats.errors` non-empty), or a Sekoia ingestion task that ended other than `FINISHED`; `check` with a permission not testable |
//! | 5    | [`exit::AWS`]       | AWS answered with another error, the transport failed (STS unreachable for web identity included), or a response was malformed; Sekoia refused a push (a 4xx other than 401, 403, 404 and 429) or stayed unreachable, throttled or failing (5xx) after the bounded attempts; the run was stopped for running too long (more pages than the account can hold, or `--max-run-secs`) |
//! | 6    | [`exit::SANDBOX`]   | the component trapped, hit the memory cap, a store limit, a limit on what it hands the host, or the per-call deadline, or could not be instantiated (it does not fit the world) |
//!
//! clap's own usage errors also exit with 2. No `Display` or `Debug` here ever contains a
//! credential: the types only hold variable names, paths, AWS codes and messages. Text from
//! the component or AWS is held as it came; it is escaped where it is printed
//! ([`crate::logging`], [`crate::escape`]).

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Process exit codes (see the module documentation for the table).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Internal error (a bug in the harness or the component).
    pub const INTERNAL: u8 = 1;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// Missing credentials, rejected credentials, or denied authorisation.
    pub const AUTH: u8 = 3;
    /// Events written, but some fields could not be collected.
    pub const PARTIAL: u8 = 4;
    /// AWS error, transport failure or malformed response.
    pub const AWS: u8 = 5;
    /// Sandbox failure: trap, memory cap, deadline, instantiation failure.
    pub const SANDBOX: u8 = 6;
}

/// AWS error codes that mean "these credentials cannot be used" or "this identity may not list
/// users"; a collection or check ending on one of them exits with [`exit::AUTH`].
pub const AUTH_ERROR_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
];

/// No usable credentials: none configured, half configured, or refused by STS.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CredentialsError {
    /// Nothing configured: no config file credentials, no keys, no web identity variables.
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials), or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for a web identity role, or pass --config FILE"
    )]
    NotFound,
    /// One variable of a pair is set and the other is not.
    #[error("AWS credentials: {companion} is set but {variable} is not")]
    Missing {
        /// Name of the missing environment variable.
        variable: &'static str,
        /// Name of the variable that is set.
        companion: &'static str,
    },
    /// A variable is set but empty or blank.
    #[error("AWS credentials: {variable} is set but empty")]
    Empty {
        /// Name of the environment variable.
        variable: &'static str,
    },
    /// A variable is not valid Unicode.
    #[error("AWS credentials: {variable} is not valid UTF-8")]
    NotUnicode {
        /// Name of the environment variable.
        variable: &'static str,
    },
    /// A value that travels in a header holds whitespace, control or non-ASCII characters.
    #[error("AWS credentials: {variable} contains whitespace, control or non-ASCII characters")]
    InvalidCharacters {
        /// Name of the environment variable.
        variable: &'static str,
    },
    /// The config file names a role but no token file is configured anywhere.
    #[error(
        "web identity: the config file names role_arn but no token file: set web_identity_token_file there, or AWS_WEB_IDENTITY_TOKEN_FILE"
    )]
    NoTokenFile,
    /// The web identity token file cannot be used.
    #[error("web identity token file {path}: {reason}")]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// Why (unreadable, empty, not UTF-8). Never the token.
        reason: String,
    },
    /// STS refused to issue credentials (expired or invalid token, role not assumable, …).
    #[error("{0}")]
    Rejected(String),
    /// STS could not be reached or answered unreadably (network, timeout, HTTP 5xx).
    #[error("{0}")]
    Unavailable(String),
}

/// Why no credentials came out of STS. Carried through `aws-credential-types`' error as its
/// source (`crate::credentials::web_identity`), then turned into a [`CredentialsError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsFailure {
    kind: FailureKind,
    message: String,
}

/// What kind of failure a [`StsFailure`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FailureKind {
    /// STS answered with an error (4xx): the token, the role or its trust policy.
    Rejected,
    /// STS was unreachable, timed out, answered 5xx or unreadably.
    Unavailable,
    /// The token file cannot be used.
    TokenFile(PathBuf),
}

impl StsFailure {
    /// STS refused (exit 3).
    pub fn rejected(message: String) -> StsFailure {
        StsFailure {
            kind: FailureKind::Rejected,
            message,
        }
    }

    /// STS unreachable or failing (exit 5).
    pub fn unavailable(message: String) -> StsFailure {
        StsFailure {
            kind: FailureKind::Unavailable,
            message,
        }
    }
}

impl StsFailure {
    /// The token file cannot be used (exit 3).
    pub fn token_file(path: PathBuf, message: String) -> StsFailure {
        StsFailure {
            kind: FailureKind::TokenFile(path),
            message,
        }
    }

    /// The host's error: `Rejected`, `Unavailable` or `TokenFile`, with the message.
    pub fn to_credentials_error(&self) -> CredentialsError {
        match &self.kind {
            FailureKind::Rejected => CredentialsError::Rejected(self.message.clone()),
            FailureKind::Unavailable => CredentialsError::Unavailable(self.message.clone()),
            FailureKind::TokenFile(path) => CredentialsError::TokenFile {
                path: path.clone(),
                reason: self.message.clone(),
            },
        }
    }
}

impl fmt::Display for StsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StsFailure {}

/// Why a request could not be signed. Never holds a secret.
#[derive(Debug, Error)]
pub enum SignError {
    /// No usable credentials (e.g. a web identity refresh failed and the old ones expired).
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// `aws-sigv4` refused the request.
    #[error("cannot sign the request: {0}")]
    Signing(#[from] aws_sigv4::http_request::SigningError),
    /// A credential value cannot be sent (empty, or whitespace, control or non-ASCII
    /// characters where a header carries it).
    #[error("cannot sign the request: the {0} is empty or holds whitespace, control or non-ASCII characters")]
    Unusable(&'static str),
}

/// Configuration that cannot be used (region, endpoint, limits).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The region belongs to no supported partition.
    #[error("unknown region {region:?}; supported regions: {supported}")]
    UnknownRegion {
        /// The region asked for.
        region: String,
        /// Comma-separated list of the supported regions, grouped by partition.
        supported: String,
    },
    /// `--endpoint-url` / `AWS_ENDPOINT_URL` is not usable.
    #[error("invalid endpoint URL {url:?}: {reason}")]
    InvalidEndpointUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A limit flag is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// The config file (`--config`) cannot be used. The reason never quotes its content.
    #[error("config file {}: {reason}", path.display())]
    ConfigFile {
        /// The file given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The role ARN is malformed or belongs to another partition than the region.
    #[error("invalid role ARN {arn:?}: {reason}")]
    InvalidRoleArn {
        /// The ARN given.
        arn: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--component` is missing (only `check --dry-run` runs without it).
    #[error("--component PATH is required (only check --dry-run runs without a component)")]
    MissingComponent,
}

/// Loading, compiling, instantiating or running the component failed in the sandbox.
#[derive(Debug, Error)]
pub enum SandboxError {
    /// The component file could not be read.
    #[error("cannot read component {path}: {source}")]
    ReadComponent {
        /// Path given with `--component`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The component was built for a contract version this host does not speak.
    #[error(
        "incompatible component {path}: built for {component}, this host speaks {host} and runs {accepted} components only"
    )]
    IncompatibleContract {
        /// Path given with `--component`.
        path: PathBuf,
        /// The component's contract, e.g. `aws-iam-users:connector@0.2.0`.
        component: String,
        /// This host's contract, e.g. `aws-iam-users:connector@0.1.0`.
        host: String,
        /// The versions this host runs, e.g. `0.1.x`.
        accepted: String,
    },
    /// The component does not export the contract's `inventory` interface.
    #[error(
        "component {path} is not an aws-iam-users connector: it exports no aws-iam-users:connector/inventory interface (exports: {exports})"
    )]
    NotAConnector {
        /// Path given with `--component`.
        path: PathBuf,
        /// What it exports instead, comma-separated.
        exports: String,
    },
    /// The file is not a valid component or could not be compiled.
    #[error("cannot compile component {path}: {message}")]
    Compile {
        /// Path given with `--component`.
        path: PathBuf,
        /// wasmtime's message, with its causes.
        message: String,
    },
    /// The engine or the linker could not be set up.
    #[error("cannot set up the wasm engine: {0}")]
    Engine(String),
    /// The component does not fit the `user-inventory` world or its start-up failed.
    #[error("cannot instantiate component: {0}")]
    Instantiate(String),
    /// The component tried to grow its memory beyond the cap.
    #[error("component exceeded the memory limit of {limit_mib} MiB in {function}")]
    MemoryLimit {
        /// Export being called (`collect`, `check`, `version`, `instantiate`).
        function: &'static str,
        /// The cap (`--max-memory-mib`).
        limit_mib: u64,
    },
    /// The per-call wall-clock deadline passed (while wasm ran, or while it waited in a host
    /// call).
    #[error("component call {function} exceeded its deadline of {seconds} s")]
    Deadline {
        /// Export being called.
        function: &'static str,
        /// The deadline (`--deadline-secs`).
        seconds: u64,
    },
    /// The run's own deadline (`--max-run-secs`) passed during a component call.
    #[error("the run reached its --max-run-secs limit during component call {function}")]
    RunTimeLimit {
        /// Export being called.
        function: &'static str,
    },
    /// The component handed the host more than a limit allows (a page, a report, a batch of
    /// calls; see `sandbox::limits`).
    #[error("component call {function} exceeded a host limit: {what}: {size}, more than {limit}")]
    OverLimit {
        /// Export being called.
        function: &'static str,
        /// What was counted, e.g. `events in a page`.
        what: String,
        /// How many there were.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// One call's arguments or result held more than the host copies out of the component at
    /// once (strings and lists counted at every place they occur).
    #[error("component call {function} exceeded a host limit: it handed the host more than {limit} bytes at once")]
    CopyLimit {
        /// Export being called.
        function: &'static str,
        /// The budget in bytes (`--max-page-mib` and 1 MiB).
        limit: u64,
    },
    /// A store limit refused the component (e.g. a table grown past its element limit).
    #[error("component exceeded the store limit of {limit} {what} in {function}")]
    StoreLimit {
        /// Export being called.
        function: &'static str,
        /// What is limited.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// The component trapped (panic, unreachable, stack overflow, …).
    #[error("component trapped in {function}: {message}")]
    Trap {
        /// Export being called.
        function: &'static str,
        /// The trap and its wasm backtrace.
        message: String,
    },
}

/// Writing the NDJSON output failed.
#[derive(Debug, Error)]
pub enum OutputError {
    /// `--output FILE` could not be created.
    #[error("cannot create output file {path}: {source}")]
    Create {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing or flushing failed.
    #[error("cannot write events: {0}")]
    Write(#[source] std::io::Error),
    /// A checkpoint file is unusable.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The `--checkpoint` path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint does not vouch for this run: it was written for another account, region,
    /// component or output file, or the output file changed since.
    #[error("checkpoint {path}: {reason}; remove it to start a new collection")]
    Mismatch {
        /// The `--checkpoint` path.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// `--output` and `--checkpoint` name the same file.
    #[error(
        "--output and --checkpoint name the same file ({path}); give the checkpoint its own path"
    )]
    SameFile {
        /// The path given.
        path: PathBuf,
    },
    /// The component returned an event that is not one JSON object.
    #[error("component returned an invalid event (#{index} of its page): {reason}")]
    InvalidEvent {
        /// Position of the event in its page (0-based).
        index: usize,
        /// Why it is invalid.
        reason: String,
    },
}

/// Why a call produced no HTTP response (WIT `transport-error`). Never holds a secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The host refused to send the call.
    #[error("refused: {0}")]
    Refused(String),
    /// No usable credentials.
    #[error("credentials: {0}")]
    Credentials(String),
    /// Connection, DNS, TLS or protocol failure.
    #[error("network error: {0}")]
    Network(String),
    /// No complete response within the per-call timeout.
    #[error("timed out")]
    Timeout,
    /// The body exceeded the cap (bytes).
    #[error("response body larger than {0} bytes")]
    BodyTooLarge(u64),
}

/// Why a file cannot be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file cannot be read.
    #[error("cannot read component {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a component (or its type cannot be decoded).
    #[error("{path} is not a WebAssembly component: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
}

/// An AWS error the component reported (WIT `api-error`), host side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// IAM/STS action, e.g. `ListUsers`.
    pub action: String,
    /// HTTP status code.
    pub status: u16,
    /// AWS error code, e.g. `AccessDenied`.
    pub code: String,
    /// AWS error message.
    pub message: String,
    /// AWS request id, when known.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: HTTP {} {}: {}",
            self.action, self.status, self.code, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Why `check` or `collect` failed as a whole, as the component reported it
/// (the host-side mirror of WIT `connector-error`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GuestError {
    /// AWS answered with an error.
    #[error("{0}")]
    Api(ApiFailure),
    /// AWS answered with something the component could not read.
    #[error("{action} returned an unreadable response (HTTP {status}): {detail}")]
    MalformedResponse {
        /// IAM/STS action.
        action: String,
        /// HTTP status code.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// The host could not complete a call.
    #[error("{action} failed: {error}")]
    Transport {
        /// IAM/STS action.
        action: String,
        /// The transport failure.
        error: TransportError,
    },
    /// The component rejected the cursor it was given.
    #[error("component rejected the cursor: {0}")]
    InvalidCursor(String),
    /// The component rejected the settings.
    #[error("component rejected the settings: {0}")]
    InvalidSettings(String),
}

impl GuestError {
    /// Exit code: [`exit::AUTH`] for credential/authorisation failures, [`exit::USAGE`] for
    /// rejected settings, [`exit::INTERNAL`] for a rejected cursor (the harness only passes
    /// cursors the component produced), [`exit::AWS`] otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            GuestError::Api(api) if AUTH_ERROR_CODES.contains(&api.code.as_str()) => exit::AUTH,
            GuestError::Api(_) | GuestError::MalformedResponse { .. } => exit::AWS,
            GuestError::Transport { error, .. } => match error {
                TransportError::Credentials(_) => exit::AUTH,
                _ => exit::AWS,
            },
            GuestError::InvalidCursor(_) => exit::INTERNAL,
            GuestError::InvalidSettings(_) => exit::USAGE,
        }
    }
}

/// The Sekoia sink cannot be set up, or Sekoia did not accept what it was sent. Never holds
/// the API key; `message` and `code` are Sekoia's, escaped where printed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SekoiaError {
    /// Neither `SEKOIA_API_KEY` nor the config file's `sekoia_api_key` is set.
    #[error(
        "no Sekoia API key: set SEKOIA_API_KEY, or sekoia_api_key in the --config file (it is never a flag)"
    )]
    MissingApiKey,
    /// The API key cannot travel in a header.
    #[error("Sekoia API key ({source_name}): {reason}")]
    InvalidApiKey {
        /// Where it came from: `SEKOIA_API_KEY` or the config file.
        source_name: String,
        /// What is wrong (never the key).
        reason: &'static str,
    },
    /// `--sekoia-url` is not usable.
    #[error("invalid --sekoia-url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `--connector-uuid` is not a UUID.
    #[error("invalid --connector-uuid {uuid:?}: not a UUID (8-4-4-4-12 hexadecimal digits)")]
    InvalidConnector {
        /// The value given.
        uuid: String,
    },
    /// Sekoia answered with a 4xx other than 429: never retried.
    #[error("Sekoia {what} failed: HTTP {status} {code}: {message}")]
    Refused {
        /// The request, e.g. `push of batch 3 (events 81 to 101 of page 1)`.
        what: String,
        /// HTTP status.
        status: u16,
        /// The API's `code` (else the status's reason).
        code: String,
        /// The API's `message` (else the body's first bytes).
        message: String,
    },
    /// Every attempt was throttled, failed with a 5xx, or could not reach Sekoia.
    #[error("Sekoia {what} failed after {attempts} attempts: {last}")]
    Exhausted {
        /// The request.
        what: String,
        /// Attempts made (`--push-attempts`).
        attempts: u32,
        /// The last attempt's outcome.
        last: String,
    },
    /// A 200 whose body is not the JSON object the API answers.
    #[error("Sekoia {what} returned an unreadable response (HTTP {status}): {detail}")]
    Malformed {
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// What is wrong.
        detail: String,
    },
    /// `--max-run-secs` passed while waiting for Sekoia (mapped to [`RunError::RunLimit`]).
    #[error("--max-run-secs passed while pushing to Sekoia")]
    RunDeadline,
}

impl SekoiaError {
    /// Exit code: [`exit::AUTH`] for a missing or refused key (401, 403), [`exit::USAGE`] for
    /// a bad URL or connector (404 included), [`exit::AWS`] otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            SekoiaError::MissingApiKey | SekoiaError::InvalidApiKey { .. } => exit::AUTH,
            SekoiaError::Refused {
                status: 401 | 403, ..
            } => exit::AUTH,
            SekoiaError::InvalidUrl { .. }
            | SekoiaError::InvalidConnector { .. }
            | SekoiaError::Refused { status: 404, .. } => exit::USAGE,
            SekoiaError::Refused { .. }
            | SekoiaError::Exhausted { .. }
            | SekoiaError::Malformed { .. }
            | SekoiaError::RunDeadline => exit::AWS,
        }
    }
}

/// Any failure of a harness command; maps to an exit code.
#[derive(Debug, Error)]
pub enum RunError {
    /// Configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Credentials are missing.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The sandbox failed.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Writing events failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The component reported a failure.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The component misbehaved in a way the WIT cannot express (e.g. returned the same
    /// cursor twice, which would loop forever).
    #[error("component protocol violation: {0}")]
    Protocol(String),
    /// The run was stopped for running too long: more pages than the account can hold, or
    /// `--max-run-secs` passed.
    #[error("collection stopped: {0}")]
    RunLimit(String),
    /// The Sekoia sink failed.
    #[error(transparent)]
    Sekoia(#[from] SekoiaError),
}

impl RunError {
    /// The process exit code for this error (see the module table).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) => exit::USAGE,
            RunError::Credentials(CredentialsError::Unavailable(_)) => exit::AWS,
            RunError::Credentials(_) => exit::AUTH,
            RunError::Sandbox(
                SandboxError::ReadComponent { .. }
                | SandboxError::IncompatibleContract { .. }
                | SandboxError::NotAConnector { .. }
                | SandboxError::Compile { .. },
            ) => exit::USAGE,
            RunError::Sandbox(SandboxError::RunTimeLimit { .. }) => exit::AWS,
            RunError::Sandbox(_) => exit::SANDBOX,
            RunError::Output(
                OutputError::Create { .. }
                | OutputError::Mismatch { .. }
                | OutputError::SameFile { .. },
            ) => exit::USAGE,
            RunError::Output(_) => exit::INTERNAL,
            RunError::Guest(guest) => guest.exit_code(),
            RunError::Protocol(_) => exit::INTERNAL,
            RunError::RunLimit(_) => exit::AWS,
            RunError::Sekoia(sekoia) => sekoia.exit_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> GuestError {
        GuestError::Api(ApiFailure {
            action: "ListUsers".into(),
            status: 403,
            code: code.into(),
            message: "The request signature we calculated does not match".into(),
            request_id: None,
        })
    }

    #[test]
    fn api_error_display_names_action_status_code_and_message() {
        assert_eq!(
            api("SignatureDoesNotMatch").to_string(),
            "ListUsers failed: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match"
        );
    }

    #[test]
    fn exit_codes_follow_the_table() {
        for code in [
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "AccessDenied",
        ] {
            assert_eq!(RunError::from(api(code)).exit_code(), exit::AUTH, "{code}");
        }
        assert_eq!(RunError::from(api("Throttling")).exit_code(), exit::AWS);
        assert_eq!(RunError::from(api("ServiceFailure")).exit_code(), exit::AWS);
        let malformed = GuestError::MalformedResponse {
            action: "ListUsers".into(),
            status: 500,
            detail: "not XML".into(),
        };
        assert_eq!(RunError::from(malformed).exit_code(), exit::AWS);
        let transport = |error| GuestError::Transport {
            action: "ListUsers".into(),
            error,
        };
        assert_eq!(
            RunError::from(transport(TransportError::Timeout)).exit_code(),
            exit::AWS
        );
        assert_eq!(
            RunError::from(transport(TransportError::Network("refused".into()))).exit_code(),
            exit::AWS
        );
        assert_eq!(
            RunError::from(transport(TransportError::Credentials("expired".into()))).exit_code(),
            exit::AUTH
        );
        assert_eq!(
            RunError::from(GuestError::InvalidSettings("max-items".into())).exit_code(),
            exit::USAGE
        );
        assert_eq!(
            RunError::from(GuestError::InvalidCursor("bad".into())).exit_code(),
            exit::INTERNAL
        );
        assert_eq!(
            RunError::from(CredentialsError::Missing {
                variable: "AWS_ACCESS_KEY_ID",
                companion: "AWS_SECRET_ACCESS_KEY"
            })
            .exit_code(),
            exit::AUTH
        );
        assert_eq!(
            RunError::from(CredentialsError::NotFound).exit_code(),
            exit::AUTH
        );
        assert_eq!(
            RunError::from(CredentialsError::Rejected("expired".into())).exit_code(),
            exit::AUTH
        );
        assert_eq!(
            RunError::from(CredentialsError::Unavailable("refused".into())).exit_code(),
            exit::AWS
        );
        assert_eq!(
            RunError::from(ConfigError::UnknownRegion {
                region: "xx-1".into(),
                supported: String::new()
            })
            .exit_code(),
            exit::USAGE
        );
        let sandbox = [
            SandboxError::MemoryLimit {
                function: "collect",
                limit_mib: 256,
            },
            SandboxError::Deadline {
                function: "collect",
                seconds: 300,
            },
            SandboxError::Trap {
                function: "collect",
                message: "unreachable".into(),
            },
            SandboxError::Instantiate("missing import".into()),
        ];
        for error in sandbox {
            assert_eq!(RunError::from(error).exit_code(), exit::SANDBOX);
        }
        let unreadable = SandboxError::ReadComponent {
            path: "x.wasm".into(),
            source: std::io::ErrorKind::NotFound.into(),
        };
        assert_eq!(RunError::from(unreadable).exit_code(), exit::USAGE);
        let invalid = SandboxError::Compile {
            path: "x.wasm".into(),
            message: "bad magic number".into(),
        };
        assert_eq!(RunError::from(invalid).exit_code(), exit::USAGE);
        let incompatible = SandboxError::IncompatibleContract {
            path: "x.wasm".into(),
            component: "aws-iam-users:connector@0.2.0".into(),
            host: "aws-iam-users:connector@0.1.0".into(),
            accepted: "0.1.x".into(),
        };
        assert_eq!(
            incompatible.to_string(),
            "incompatible component x.wasm: built for aws-iam-users:connector@0.2.0, this host speaks aws-iam-users:connector@0.1.0 and runs 0.1.x components only"
        );
        assert_eq!(RunError::from(incompatible).exit_code(), exit::USAGE);
        let foreign = SandboxError::NotAConnector {
            path: "x.wasm".into(),
            exports: "wasi:http/incoming-handler@0.2.0".into(),
        };
        assert_eq!(RunError::from(foreign).exit_code(), exit::USAGE);
        assert_eq!(
            RunError::from(OutputError::Write(std::io::ErrorKind::BrokenPipe.into())).exit_code(),
            exit::INTERNAL
        );
        assert_eq!(
            RunError::Protocol("same cursor".into()).exit_code(),
            exit::INTERNAL
        );
    }

    #[test]
    fn credential_errors_name_variables_only() {
        let error = CredentialsError::Missing {
            variable: "AWS_SECRET_ACCESS_KEY",
            companion: "AWS_ACCESS_KEY_ID",
        };
        assert_eq!(
            error.to_string(),
            "AWS credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
        );
    }
}
