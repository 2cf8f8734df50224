//! Command-line interface (clap derive). Doc comments are the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::inventory::{Settings, Strategy};
use crate::limits::{SandboxLimits, TransportConfig};
use crate::logging::LogLevel;

const MIB: u64 = 1024 * 1024;

/// Runs the aws-iam-users WebAssembly component: the host holds the AWS credentials, signs
/// and sends the component's IAM calls, sandboxes it, and writes its OCSF events.
///
/// Credentials, first match wins: the --config file (access_key_id + secret_access_key, or
/// role_arn + web_identity_token_file); AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
/// AWS_SESSION_TOKEN); AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (+ AWS_ROLE_SESSION_NAME), a
/// role assumed with STS AssumeRoleWithWebIdentity and refreshed before it expires. The
/// component never sees a secret.
///
/// Exit codes: 0 ok, 1 internal error, 2 usage or configuration (a component of another
/// contract version included), 3 credentials or authorisation (missing keys, rejected
/// signature, access denied), 4 partial (some fields or permissions missing), 5 AWS, transport
/// or malformed-response error, or a run stopped for running too long, 6 sandbox (trap, memory
/// cap, deadline, a limit on what the component hands the host).
#[derive(Debug, Parser)]
#[command(
    name = "host-harness",
    version,
    about,
    long_about,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The harness's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect every IAM user as one OCSF 1.6.0 User Inventory Info event per line (NDJSON) on
    /// stdout or --output; print a summary line on stderr.
    Collect(CollectArgs),
    /// Verify the credentials and probe each IAM permission the collection needs; print a
    /// table (or --json). Exits 0 only if every permission is granted.
    Check(CheckArgs),
    /// Describe a component without running it: name and version (its custom sections), WIT
    /// package and world, exported functions, imports, size and sha256, and whether this host
    /// speaks its contract. Exits 0 if the file is a component, 2 if not.
    Inspect(InspectArgs),
}

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component file to describe.
    #[arg(long, value_name = "PATH")]
    pub component: PathBuf,

    /// Print the description as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Default of `--max-accounts-in-flight`: two accounts at once. Each account's component
/// instance is CPU-bound while it parses and maps a page (and a bulk page of 1,000 users
/// takes about a second of CPU in the debug build), so on the 2-core machines this runs on
/// more than two would only queue on the cores; the HTTP waits of each account are already
/// overlapped inside it by `--max-in-flight`.
pub const DEFAULT_ACCOUNTS_IN_FLIGHT: u32 = 2;

/// Arguments of `collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Write the events to FILE instead of stdout. FILE is replaced only when the collection
    /// ends; a failed run leaves the previous FILE untouched (unless --checkpoint is given).
    #[arg(long, short = 'o', value_name = "FILE", group = "destination")]
    pub output: Option<PathBuf>,

    /// Organization mode: write each account's events to DIR/<account id>.ndjson instead of
    /// one stream; each file is replaced when its account finishes.
    #[arg(long, value_name = "DIR", group = "destination")]
    pub output_dir: Option<PathBuf>,

    /// Make the run resumable: after each page, the events are fsynced to --output FILE (or
    /// the account's file in --output-dir) and the position is saved atomically to CP.
    /// Running the same command again after a crash or a failure resumes from CP, appending,
    /// so every user is written exactly once; a complete collection removes CP.
    #[arg(long, value_name = "CP", requires = "destination")]
    pub checkpoint: Option<PathBuf>,

    /// Keep what this run listed in FILE for the next run of the same account and component
    /// version (read at the start, replaced atomically when the collection completes): the
    /// bulk strategy then lists access keys and signing certificates again only for users
    /// whose credential-report slots changed. A FILE of another account or component version
    /// is ignored with a warning. One account's: not with --organization or --accounts.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["organization", "accounts"])]
    pub state: Option<PathBuf>,

    /// Many accounts in one run.
    #[command(flatten)]
    pub organization: OrganizationArgs,

    /// Component, connection, logging and limits.
    #[command(flatten)]
    pub common: CommonArgs,

    /// Where the events are pushed besides the output.
    #[command(flatten)]
    pub sekoia: SekoiaArgs,

    /// How they are pushed.
    #[command(flatten)]
    pub push: PushArgs,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the report as one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Send nothing: print the IAM and STS endpoints and signing regions of the region, and
    /// the auth method that would be used (no secret is resolved over the network), then
    /// exit 0. Needs no --component.
    #[arg(long)]
    pub dry_run: bool,

    /// Many accounts in one run.
    #[command(flatten)]
    pub organization: OrganizationArgs,

    /// Component, connection, logging and limits.
    #[command(flatten)]
    pub common: CommonArgs,

    /// The Sekoia connector to verify besides the AWS permissions.
    #[command(flatten)]
    pub sekoia: SekoiaArgs,
}

/// Organization mode: the accounts of an AWS Organization (or a list), each through a role.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Organization")]
pub struct OrganizationArgs {
    /// Inventory every ACTIVE account of the AWS Organization: the configured credentials (of
    /// the management account or a delegated administrator) list them with Organizations
    /// ListAccounts, then assume --member-role in each with STS AssumeRole. One fresh
    /// component instance per account; one summary line per account and a total; an account
    /// that fails is reported and the others go on (exit 4).
    #[arg(long, requires = "member_role")]
    pub organization: bool,

    /// The role assumed in each account: arn:<partition>:iam::<account id>:role/NAME (NAME
    /// may start with the role's path, e.g. security/aws-iam-users-reader).
    #[arg(long, value_name = "NAME")]
    pub member_role: Option<String>,

    /// Only these accounts (12-digit ids, comma-separated): with --organization, a subset of
    /// the ACTIVE accounts (an id the organization does not list is reported as failed);
    /// without it, these accounts and no ListAccounts call.
    #[arg(
        long,
        value_name = "ID,…",
        value_delimiter = ',',
        requires = "member_role"
    )]
    pub accounts: Vec<String>,

    /// The external ID the member role's trust policy requires (sts:ExternalId), sent with
    /// every AssumeRole; never printed.
    #[arg(long, value_name = "ID", requires = "member_role")]
    pub external_id: Option<String>,

    /// Accounts collected (or checked) at once (1 to 16), each in its own component instance.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ACCOUNTS_IN_FLIGHT, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_accounts_in_flight: u32,
}

impl OrganizationArgs {
    /// Whether the run is over many accounts (`--organization` or `--accounts`).
    pub fn enabled(&self) -> bool {
        self.organization || !self.accounts.is_empty()
    }
}

/// Sekoia's asset-connector API: where `collect` pushes the events, what `check` verifies.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sekoia")]
pub struct SekoiaArgs {
    /// Push the events to Sekoia's asset-connector API at URL (e.g. https://api.sekoia.io) as
    /// well as writing them; with `check`, verify the API key and the connector with an empty
    /// push. The API key is read from SEKOIA_API_KEY or the --config file's sekoia_api_key,
    /// never from a flag. Plain http is accepted only for a loopback IP address.
    #[arg(long, value_name = "URL", requires = "connector_uuid")]
    pub sekoia_url: Option<String>,

    /// UUID of the asset connector in Sekoia: events are POSTed to
    /// URL/api/v2/asset-management/asset-connector/UUID.
    #[arg(long, value_name = "UUID", requires = "sekoia_url")]
    pub connector_uuid: Option<String>,

    /// Attempts per Sekoia request, the first included (1 to 20). HTTP 429 (after its
    /// Retry-After, at most 300 s), 5xx, timeouts and dropped connections are retried with
    /// --retry-base-ms's backoff; any other 4xx stops the run.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub push_attempts: u32,
}

/// How `collect` pushes to Sekoia.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sekoia")]
pub struct PushArgs {
    /// Events per push (1 to 1000). A page's events go in batches of N; with --checkpoint a
    /// page is done only when all its batches were accepted, and each accepted batch is
    /// recorded so that a resumed run sends none twice.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub batch_size: u32,

    /// Longest wait for the ingestion task of one push, in seconds (0 to 3600; 0: do not
    /// poll tasks). A task still pending then, or whose status cannot be read, is counted as
    /// unconfirmed and the tasks of later pushes are not polled.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub task_timeout_secs: u64,

    /// Longest pause between two polls of a task, in ms (10 to 60000); the first poll comes
    /// after 1 s (or this, when shorter), each pause doubling up to it.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub task_poll_ms: u64,
}

/// Component, connection, logging and limit options shared by every command.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The aws-iam-users component to run (a wasm32-wasip2 component, e.g.
    /// target/guest/wasm32-wasip2/release/aws_iam_users.wasm). Required, except for
    /// `check --dry-run`.
    #[arg(long, value_name = "PATH")]
    pub component: Option<PathBuf>,

    /// Directory of the compiled component's cache (wasmtime's, keyed by the component's
    /// bytes, the wasmtime version and the engine settings): runs after the first load the
    /// native code instead of compiling the component again (about a second). Created 0700;
    /// not used (the run compiles, with a warning) when another user owns it or others may
    /// write it. [default: $XDG_CACHE_HOME/aws-iam-users, else $HOME/.cache/aws-iam-users;
    /// none when neither is set]
    #[arg(long, env = "AWS_IAM_USERS_COMPILE_CACHE", value_name = "DIR")]
    pub compile_cache: Option<PathBuf>,

    /// Compile the component every run: no compile cache read or written.
    #[arg(long)]
    pub no_compile_cache: bool,

    /// Connector configuration file (TOML): region, and either role_arn (+
    /// web_identity_token_file, role_session_name) or access_key_id + secret_access_key. Its
    /// credentials come before the environment's; keep it private (chmod 600) if it holds a
    /// secret.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Send every AWS call to URL instead of the partition's endpoints, e.g. a local moto at
    /// http://127.0.0.1:5055. Plain http is accepted only for loopback hosts. Calls are still
    /// signed for the region's partition (IAM in us-east-1 for aws). AWS_ENDPOINT_URL_STS, when
    /// set, replaces it for STS (GetCallerIdentity, AssumeRoleWithWebIdentity).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// AWS region [default: the config file's region, else us-east-1]. Selects the
    /// partition (aws, aws-cn, aws-us-gov), its IAM endpoint and the regional STS endpoint.
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// MaxItems of every IAM List* call, and users per page (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_items: u32,

    /// How users are enriched: `bulk` reads GetAccountAuthorizationDetails and the credential
    /// report (a few calls per page, plus ListAccessKeys for key holders; no SSH key count);
    /// `per-user` makes ten calls per user; `auto` tries bulk and falls back to per-user when
    /// AWS refuses a bulk action (e.g. AccessDenied), saying so in the summary.
    #[arg(long, value_enum, value_name = "STRATEGY", default_value = "auto")]
    pub strategy: Strategy,

    /// Attempts per IAM call, the first included (1 to 10; 1 = never retry). Throttling,
    /// HTTP 5xx, timeouts and dropped connections are retried with full-jitter backoff.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub max_attempts: u32,

    /// Base of the retry backoff in ms (0 to 20000), for IAM calls and Sekoia requests alike;
    /// the wait before retry n is random up to base × 2^(n-1), at most 20 s, or what the
    /// server's Retry-After asks.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(0..=20_000))]
    pub retry_base_ms: u32,

    /// HTTP calls in flight at the start (1 to 256, at most --max-in-flight). The component
    /// sends a window's worth at a time and doubles it after each round without throttling,
    /// up to --max-in-flight, and halves it after a throttled one.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub max_concurrency: u64,

    /// Most HTTP calls in flight at once (1 to 256): the ceiling the window grows to (128
    /// calls of 30 ms each are about 4,000 calls a second). IAM throttles per account; the
    /// window halves when it does; lower the ceiling if it throttles often.
    /// `--max-concurrency 1 --max-in-flight 1` sends one call at a time.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub max_in_flight: u64,

    /// Leave out the event of the account's root user (`arn:<partition>:iam::<id>:root`,
    /// from GetAccountSummary and the credential report), which is written by default.
    #[arg(long)]
    pub no_root: bool,

    /// Least severe log level written to stderr (guest and host lines).
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,

    /// Log each HTTP call to stderr (STS AssumeRoleWithWebIdentity included): action, service,
    /// endpoint host, status, duration in ms. Never headers, bodies or tokens.
    #[arg(long)]
    pub debug: bool,

    /// Sandbox and network limits.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Sandbox and network limits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Memory cap of the component, in MiB (2 to 65536): all its linear memories together.
    /// Exceeding it exits with 6.
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(2..=65536))]
    pub max_memory_mib: u64,

    /// Wall-clock deadline of each component call (one collect page, or the check), in
    /// seconds (1 to 86400), held while the component waits in the host too (a sleep, a
    /// call). Exceeding it exits with 6. A page works for four fifths of it at most, then
    /// ends early and the next call resumes inside it.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub deadline_secs: u64,

    /// Wall-clock limit of a whole collection, in seconds (1 to 604800) [default: none]. The
    /// run stops with exit 5 when it passes (also mid-page). Runs end anyway: a collection
    /// that returns more pages than the account can hold (from its user count and
    /// --max-items) is stopped with exit 5 too.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub max_run_secs: Option<u64>,

    /// Most bytes of events one page may hold, in MiB (1 to 1024); also the most the host
    /// copies out of the component in one call. A page over it exits with 6.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_page_mib: u64,

    /// Largest HTTP response body accepted, in MiB (1 to 1024); checked while reading.
    #[arg(long, value_name = "MIB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_body_mib: u64,

    /// Connect timeout of each HTTP call, in seconds (1 to 600).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout_secs: u64,

    /// Overall timeout of each HTTP call, body included, in seconds (1 to 3600).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,
}

/// `--strategy` takes the strategies' own names ([`Strategy::name`]).
impl clap::ValueEnum for Strategy {
    fn value_variants<'a>() -> &'a [Self] {
        &Strategy::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

impl CommonArgs {
    /// The component settings these flags select.
    pub fn settings(&self) -> Settings {
        Settings {
            max_items: self.max_items,
            max_attempts: self.max_attempts,
            retry_base_ms: self.retry_base_ms,
            strategy: self.strategy,
            max_concurrency: u32::try_from(self.max_concurrency.min(self.max_in_flight))
                .unwrap_or(1),
            max_in_flight: u32::try_from(self.max_in_flight).unwrap_or(1),
            time_budget_ms: self.time_budget_ms(),
            include_root: !self.no_root,
        }
    }

    /// How long one `collect` call may work: four fifths of `--deadline-secs`, so a page
    /// ends early (and the next resumes inside it) well before the deadline stops it.
    pub fn time_budget_ms(&self) -> u32 {
        u32::try_from(self.limits.deadline_secs.saturating_mul(800)).unwrap_or(u32::MAX)
    }

    /// The transport limits these flags select.
    pub fn transport_config(&self) -> TransportConfig {
        TransportConfig {
            connect_timeout: Duration::from_secs(self.limits.connect_timeout_secs),
            call_timeout: Duration::from_secs(self.limits.request_timeout_secs),
            max_body_bytes: self.limits.max_body_mib * MIB,
            // Room for the largest body and a second one, at least the 64 MiB default.
            max_batch_bytes: (2 * self.limits.max_body_mib * MIB).max(64 * MIB),
            max_concurrency: usize::try_from(self.max_in_flight).unwrap_or(1),
        }
    }

    /// The sandbox limits these flags select.
    pub fn sandbox_limits(&self) -> SandboxLimits {
        SandboxLimits {
            max_memory_bytes: usize::try_from(self.limits.max_memory_mib * MIB)
                .unwrap_or(usize::MAX),
            call_deadline: Duration::from_secs(self.limits.deadline_secs),
            max_page_bytes: usize::try_from(self.limits.max_page_mib * MIB).unwrap_or(usize::MAX),
        }
    }

    /// `--max-run-secs` as a duration.
    pub fn max_run(&self) -> Option<Duration> {
        self.limits.max_run_secs.map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_and_ranges() {
        let cli = Cli::try_parse_from([
            "host-harness",
            "collect",
            "--component",
            "x.wasm",
            "--region",
            "eu-west-1",
        ])
        .unwrap();
        let Command::Collect(args) = cli.command else {
            panic!("collect expected")
        };
        assert_eq!(args.common.max_items, 1000);
        assert_eq!(args.common.max_concurrency, 16);
        assert_eq!(args.common.settings().max_concurrency, 16);
        assert_eq!(args.common.settings().max_in_flight, 128);
        // Four fifths of the 300 s deadline.
        assert_eq!(args.common.settings().time_budget_ms, 240_000);
        assert_eq!(args.common.log_level, LogLevel::Info);
        assert_eq!(args.common.transport_config(), TransportConfig::default());
        assert_eq!(args.common.sandbox_limits(), SandboxLimits::default());
        for bad in [
            ["--max-items", "0"],
            ["--max-items", "1001"],
            ["--max-concurrency", "0"],
            ["--max-in-flight", "257"],
            ["--max-memory-mib", "1"],
        ] {
            let mut argv = vec!["host-harness", "collect", "--component", "x.wasm"];
            argv.extend(bad);
            assert!(Cli::try_parse_from(argv).is_err(), "{bad:?}");
        }
        let cli = Cli::try_parse_from([
            "host-harness",
            "check",
            "--component",
            "x.wasm",
            "--json",
            "--log-level",
            "debug",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("check expected")
        };
        assert!(args.json);
        assert!(!args.dry_run);
        assert_eq!(args.common.log_level, LogLevel::Debug);
        assert_eq!(args.common.component, Some(PathBuf::from("x.wasm")));
    }

    #[test]
    fn sekoia_flags_come_together_and_have_defaults() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["host-harness", "collect", "--component", "x.wasm"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        let Command::Collect(args) = parse(&[]).unwrap().command else {
            panic!("collect expected")
        };
        assert_eq!(args.sekoia.sekoia_url, None);
        assert_eq!(
            (
                args.push.batch_size,
                args.sekoia.push_attempts,
                args.push.task_timeout_secs,
                args.push.task_poll_ms
            ),
            (100, 5, 300, 5000)
        );
        let uuid = "1f0e8d2c-3b4a-4c5d-9e6f-7a8b9c0d1e2f";
        let Command::Collect(args) = parse(&[
            "--sekoia-url",
            "https://api.sekoia.io",
            "--connector-uuid",
            uuid,
            "--batch-size",
            "7",
        ])
        .unwrap()
        .command
        else {
            panic!("collect expected")
        };
        assert_eq!(args.sekoia.connector_uuid.as_deref(), Some(uuid));
        assert_eq!(args.push.batch_size, 7);
        assert!(parse(&["--sekoia-url", "https://api.sekoia.io"]).is_err());
        assert!(parse(&["--connector-uuid", uuid]).is_err());
        assert!(parse(&["--batch-size", "0"]).is_err());
        assert!(parse(&["--batch-size", "1001"]).is_err());
        assert!(parse(&["--sekoia-api-key", "x"]).is_err(), "never a flag");
        let check = Cli::try_parse_from([
            "host-harness",
            "check",
            "--sekoia-url",
            "https://api.sekoia.io",
            "--connector-uuid",
            uuid,
        ])
        .unwrap();
        let Command::Check(args) = check.command else {
            panic!("check expected")
        };
        assert_eq!(
            args.sekoia.sekoia_url.as_deref(),
            Some("https://api.sekoia.io")
        );
    }

    #[test]
    fn organization_flags_need_a_member_role_and_one_destination() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["host-harness", "collect", "--component", "x.wasm"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        let Command::Collect(args) = parse(&[]).unwrap().command else {
            panic!("collect expected")
        };
        assert!(!args.organization.enabled());
        assert_eq!(args.organization.max_accounts_in_flight, 2);
        let Command::Collect(args) = parse(&[
            "--organization",
            "--member-role",
            "reader",
            "--accounts",
            "111122223333,444455556666",
            "--external-id",
            "x-1",
            "--output-dir",
            "out",
            "--checkpoint",
            "cp",
        ])
        .unwrap()
        .command
        else {
            panic!("collect expected")
        };
        assert!(args.organization.enabled());
        assert_eq!(args.organization.accounts, ["111122223333", "444455556666"]);
        assert_eq!(args.output_dir, Some(PathBuf::from("out")));
        assert!(parse(&["--organization"]).is_err(), "needs --member-role");
        assert!(
            parse(&["--accounts", "111122223333"]).is_err(),
            "needs --member-role"
        );
        assert!(parse(&["--output", "a", "--output-dir", "b"]).is_err());
        assert!(
            parse(&["--checkpoint", "cp"]).is_err(),
            "needs a destination"
        );
        assert!(parse(&["--max-accounts-in-flight", "0"]).is_err());
        assert!(parse(&["--max-accounts-in-flight", "17"]).is_err());
        let Command::Collect(args) = parse(&["--accounts", "111122223333", "--member-role", "r"])
            .unwrap()
            .command
        else {
            panic!("collect expected")
        };
        assert!(args.organization.enabled() && !args.organization.organization);
        let check = Cli::try_parse_from([
            "host-harness",
            "check",
            "--organization",
            "--member-role",
            "reader",
            "--json",
        ])
        .unwrap();
        let Command::Check(args) = check.command else {
            panic!("check expected")
        };
        assert!(args.organization.enabled() && args.json);
    }

    #[test]
    fn dry_run_and_config_parse_without_a_component() {
        let cli = Cli::try_parse_from([
            "host-harness",
            "check",
            "--dry-run",
            "--config",
            "connector.toml",
            "--region",
            "cn-north-1",
        ])
        .unwrap();
        let Command::Check(args) = cli.command else {
            panic!("check expected")
        };
        assert!(args.dry_run);
        assert_eq!(args.common.component, None);
        assert_eq!(args.common.config, Some(PathBuf::from("connector.toml")));
        assert_eq!(args.common.region.as_deref(), Some("cn-north-1"));
    }
}
