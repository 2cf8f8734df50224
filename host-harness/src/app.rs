//! Runs a parsed command line: reads the config file, resolves region, endpoints and
//! credentials, builds the transport and the sandbox, runs the command, prints the summary or
//! the error, and returns the exit code.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use crate::checkpoint::{Binding, Destination};
use crate::cli::{
    CheckArgs, Cli, CollectArgs, Command, CommonArgs, InspectArgs, OrganizationArgs, PushArgs,
    SekoiaArgs,
};
use crate::config::{self, ConfigFile};
use crate::credentials::{self, CredentialSource, Plan, RoleAssumer};
use crate::endpoint::{EndpointResolver, Service};
use crate::error::{
    exit, ApiFailure, ConfigError, GuestError, OutputError, RunError, SandboxError,
};
use crate::logging::{LogLevel, Logger};
use crate::organization::fanout::{AccountResult, FanOut, OrganizationTotals, Outcome};
use crate::organization::state::{
    OrganizationBinding, OrganizationDestination, OrganizationOutput,
};
use crate::organization::Account;
use crate::run;
use crate::sandbox::{compile_cache, ImportRecorder, Imports, Runtime, Session};
use crate::sekoia::{SekoiaSettings, Sink};
use crate::signing::Signer;
use crate::state_file::{StateBinding, StateFile};
use crate::transport::{QueryCall, Transport};

/// Region used when neither `--region`, `AWS_REGION` nor the config file names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Environment variable overriding the STS endpoint (the AWS SDKs' service-specific form).
pub const ENDPOINT_URL_STS_VAR: &str = "AWS_ENDPOINT_URL_STS";

type Lookup = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// What the harness reads besides its flags: environment variables (credentials,
/// `AWS_ENDPOINT_URL_STS`), and an optional recorder of the component's import calls.
/// The binary uses [`HostEnv::process`]; tests build one from pairs, never touching the
/// process environment.
pub struct HostEnv {
    lookup: Box<Lookup>,
    /// When set, every import call of the component is recorded.
    pub recorder: Option<Arc<ImportRecorder>>,
}

impl std::fmt::Debug for HostEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEnv")
            .field("recording", &self.recorder.is_some())
            .finish_non_exhaustive()
    }
}

impl HostEnv {
    /// The process environment, no recorder.
    pub fn process() -> HostEnv {
        HostEnv {
            lookup: Box::new(|name| std::env::var_os(name)),
            recorder: None,
        }
    }

    /// Exactly these variables, no recorder.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> HostEnv {
        let vars: HashMap<String, OsString> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
            .collect();
        HostEnv {
            lookup: Box::new(move |name| vars.get(name).cloned()),
            recorder: None,
        }
    }

    /// Records the component's import calls into `recorder`.
    pub fn with_recorder(mut self, recorder: Arc<ImportRecorder>) -> HostEnv {
        self.recorder = Some(recorder);
        self
    }

    /// A variable's value.
    pub fn var(&self, name: &str) -> Option<OsString> {
        (self.lookup)(name)
    }
}

/// Runs `cli` with the process environment, events and reports on stdout, and logs,
/// summary and errors on stderr. Returns the exit code (see [`crate::error`]).
pub fn execute(cli: &Cli) -> u8 {
    let logger = |common: &CommonArgs| Arc::new(Logger::stderr(common.log_level, common.debug));
    let env = HostEnv::process();
    match &cli.command {
        Command::Collect(args) => collect(args, &env, &mut std::io::stdout(), logger(&args.common)),
        Command::Check(args) => check(args, &env, &mut std::io::stdout(), logger(&args.common)),
        Command::Inspect(args) => inspect(args, &mut std::io::stdout(), &mut std::io::stderr()),
    }
}

/// Runs `collect`: events go to `--output` or `stdout`; the summary and any error to `logger`.
pub fn collect(
    args: &CollectArgs,
    env: &HostEnv,
    stdout: &mut dyn Write,
    logger: Arc<Logger>,
) -> u8 {
    if args.organization.enabled() || args.output_dir.is_some() {
        return collect_organization(args, env, stdout, logger);
    }
    let prepared = match prepare(&args.common, (&args.sekoia, Some(&args.push)), env, &logger) {
        Ok(prepared) => prepared,
        Err(error) => return report_error(&logger, &error),
    };
    let Prepared {
        runtime,
        mut session,
        transport,
        sekoia,
    } = prepared;
    let settings = args.common.settings();
    // The account the checkpoint and the state are bound to (one STS call, only if needed).
    let account = match (&args.checkpoint, &args.state) {
        (None, None) => None,
        _ => match caller_account(&transport) {
            Ok(account) => Some(account),
            Err(error) => return report_error(&logger, &error),
        },
    };
    let checkpoint = args
        .checkpoint
        .as_deref()
        .zip(account.clone())
        .map(|(path, account)| {
            (
                path,
                Binding {
                    account,
                    region: transport.endpoints().region().to_owned(),
                    component_sha256: runtime.component_sha256().to_owned(),
                    sekoia: sekoia.as_ref().map(SekoiaSettings::push_url),
                },
            )
        });
    let state = match (&args.state, account) {
        (Some(path), Some(account)) => match session.version() {
            Ok(component_version) => Some((
                StateFile::new(path),
                StateBinding {
                    account,
                    component_version,
                },
            )),
            Err(error) => return report_error(&logger, &error.into()),
        },
        _ => None,
    };
    let prior_state = state.as_ref().and_then(|(file, binding)| {
        let (prior, warning) = file.load(binding);
        if let Some(warning) = warning {
            logger.raw(&format!("warning: {warning}"));
        }
        prior
    });
    let (mut output, start) = match Destination::open(stdout, args.output.as_deref(), checkpoint) {
        Ok(opened) => opened,
        Err(error) => return report_error(&logger, &error.into()),
    };
    if let (Some(cursor), Some(checkpoint)) = (&start.cursor, &args.checkpoint) {
        logger.raw(&format!(
            "resuming from {} after {} events (cursor {} bytes)",
            checkpoint.display(),
            start.events,
            cursor.len()
        ));
    }
    if let (false, Some(checkpoint)) = (start.pushed.is_empty(), &args.checkpoint) {
        logger.raw(&format!(
            "resuming the push of a page from {}: {} of its events were already accepted",
            checkpoint.display(),
            start.pushed.len()
        ));
    }
    let mut sink = sekoia.map(|settings| Sink::new(settings, logger.clone()));
    let max_run = args.common.max_run();
    match run::collect(
        &mut session,
        &transport,
        settings,
        &mut output,
        (start, prior_state.as_deref()),
        max_run,
        sink.as_mut(),
    ) {
        Ok(mut summary) => {
            logger.raw(&summary.to_string());
            if let Err(error) = output.finish() {
                return report_error(&logger, &RunError::from(error));
            }
            // Only a complete collection replaces the state; failing to keep it costs the
            // next run its reuse, not this run its events.
            if let (Some((file, binding)), Some(run_state)) = (&state, summary.run_state.take()) {
                if let Err(error) = file.save(binding, run_state) {
                    logger.raw(&format!("warning: {error}"));
                }
            }
            if let Some(warning) = summary.count_mismatch() {
                logger.raw(&warning);
            }
            summary.exit_code()
        }
        Err(failure) => {
            logger.raw(&failure.summary.to_string());
            let code = report_error(&logger, &failure.error);
            if let Some(note) = output.abandon() {
                logger.raw(&format!("note: {note}"));
            }
            code
        }
    }
}

/// Runs `check`: the report goes to `stdout` (table or JSON); errors to `logger`. With
/// `--dry-run`, prints the resolved endpoints and auth method instead and sends nothing.
pub fn check(args: &CheckArgs, env: &HostEnv, stdout: &mut dyn Write, logger: Arc<Logger>) -> u8 {
    if args.dry_run {
        return dry_run(args, env, stdout, &logger);
    }
    if args.organization.enabled() {
        return check_organization(args, env, stdout, &logger);
    }
    let result =
        prepare(&args.common, (&args.sekoia, None), env, &logger).and_then(|mut prepared| {
            let report = run::check(&mut prepared.session, args.common.settings())?;
            // The Sekoia side, after the AWS probes: an empty push.
            let probe = prepared
                .sekoia
                .as_ref()
                .map(|settings| crate::sekoia::probe(settings, logger.clone()));
            Ok((report, probe))
        });
    let (report, probe) = match result {
        Ok(checked) => checked,
        Err(error) => return report_error(&logger, &error),
    };
    let text = if args.json {
        let mut json = run::check_json(&report);
        if let Some(probe) = &probe {
            json["sekoia"] = probe.to_json();
        }
        format!("{}\n", crate::escape::to_json_string(&json))
    } else {
        let mut table = run::render_check_table(&report);
        if let Some(probe) = &probe {
            table.push_str(&probe.render());
        }
        table
    };
    let code = crate::sekoia::probe::combined_exit_code(
        run::check_exit_code(&report),
        probe
            .as_ref()
            .map_or(exit::OK, crate::sekoia::Probe::exit_code),
    );
    write_out(stdout, &text, &logger).unwrap_or(code)
}

/// Runs `inspect`: the report on `stdout` (text or `--json`), an error on `stderr`. Exit 0 when
/// the file could be read (compatible or not: the report says), 2 when it is unreadable or
/// not a component, 1 when `stdout` cannot be written.
pub fn inspect(args: &InspectArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let inspection = match crate::inspect::inspect_file(&args.component) {
        Ok(inspection) => inspection,
        Err(error) => {
            let _ = writeln!(
                stderr,
                "{}",
                crate::escape::escape_text(&format!("error: {error}"))
            );
            return exit::USAGE;
        }
    };
    let text = if args.json {
        format!("{}\n", crate::escape::to_json_string(&inspection))
    } else {
        inspection.render_text()
    };
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => exit::OK,
        Err(error) => {
            let _ = writeln!(
                stderr,
                "{}",
                crate::escape::escape_text(&format!("error: cannot write the report: {error}"))
            );
            exit::INTERNAL
        }
    }
}

/// `check --dry-run`: region, partition, IAM and STS endpoints with their signing regions,
/// and the auth method (decided offline). Exit 0; 2 for an unusable configuration; 3 when no
/// credentials are configured (the endpoints are printed all the same).
fn dry_run(args: &CheckArgs, env: &HostEnv, stdout: &mut dyn Write, logger: &Logger) -> u8 {
    let (endpoints, file) = match resolve_endpoints(&args.common, env, logger) {
        Ok(resolved) => resolved,
        Err(error) => return report_error(logger, &error),
    };
    let plan = credentials::plan(file.as_ref(), &|name| env.var(name))
        .map_err(RunError::from)
        .and_then(|plan| {
            plan.validate(endpoints.partition())?;
            Ok(plan)
        });
    let iam = endpoints.resolve(Service::Iam);
    let sts = endpoints.resolve(Service::Sts);
    // The Sekoia destination and where its key would come from (nothing is sent).
    let sekoia = crate::sekoia::settings::resolve(
        &args.sekoia,
        None,
        &args.common,
        file.as_ref(),
        &|name| env.var(name),
    );
    let text = if args.json {
        let mut json = serde_json::json!({
            "region": endpoints.region(),
            "partition": endpoints.partition().id,
            "endpoints": {
                "iam": { "url": iam.url, "signing_region": iam.signing_region },
                "sts": { "url": sts.url, "signing_region": sts.signing_region },
            },
            "sent": false,
        });
        if args.organization.enabled() {
            let organizations = endpoints.organizations();
            json["endpoints"]["organizations"] = serde_json::json!({
                "url": organizations.url,
                "signing_region": organizations.signing_region,
            });
            if let Some(role) = &args.organization.member_role {
                json["member_role_arn"] = serde_json::json!(crate::organization::member_role_arn(
                    endpoints.partition(),
                    "<account id>",
                    role
                ));
            }
        }
        if let Ok(plan) = &plan {
            json["auth"] = serde_json::json!({
                "method": plan.method().name(),
                "role_arn": plan.role_arn(),
                "description": plan.describe(),
            });
        }
        if let Ok(Some(settings)) = &sekoia {
            json["sekoia"] = serde_json::json!({
                "url": settings.push_url(),
                "api_key_from": settings.api_key_source,
            });
        }
        format!("{}\n", crate::escape::to_json_string(&json))
    } else {
        let auth = match &plan {
            Ok(plan) => plan.describe(),
            Err(_) => "none usable (see the error below)".to_owned(),
        };
        let sekoia = match &sekoia {
            Ok(Some(settings)) => format!(
                "sekoia: {} (API key from {})\n",
                settings.push_url(),
                settings.api_key_source
            ),
            Ok(None) => String::new(),
            Err(_) => "sekoia: not usable (see the error below)\n".to_owned(),
        };
        let organization = if args.organization.enabled() {
            let organizations = endpoints.organizations();
            let role = args
                .organization
                .member_role
                .as_deref()
                .map_or_else(String::new, |role| {
                    format!(
                        "member role: {}\n",
                        crate::organization::member_role_arn(
                            endpoints.partition(),
                            "<account id>",
                            role
                        )
                    )
                });
            format!(
                "organizations: {} (signing region {})\n{role}",
                organizations.url, organizations.signing_region
            )
        } else {
            String::new()
        };
        format!(
            "region: {} (partition {})\n\
             iam: {} (signing region {})\n\
             sts: {} (signing region {})\n\
             {organization}\
             auth: {auth}\n\
             {sekoia}\
             dry run: nothing was sent\n",
            endpoints.region(),
            endpoints.partition().id,
            iam.url,
            iam.signing_region,
            sts.url,
            sts.signing_region,
        )
    };
    if let Some(code) = write_out(stdout, &text, logger) {
        return code;
    }
    match (plan, sekoia) {
        (Err(error), _) => report_error(logger, &error),
        (Ok(_), Err(error)) => report_error(logger, &error.into()),
        (Ok(_), Ok(_)) => exit::OK,
    }
}

/// Writes `text` to `stdout`, scrubbed of every registered secret like every log line;
/// `Some(exit code)` when that fails.
fn write_out(stdout: &mut dyn Write, text: &str, logger: &Logger) -> Option<u8> {
    match stdout
        .write_all(crate::redact::scrub(text).as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => None,
        Err(error) => Some(report_error(logger, &OutputError::Write(error).into())),
    }
}

/// Everything a command needs, built in order of the cheapest check first: config file,
/// region and endpoints (exit 2), credentials (exit 3; for web identity the first
/// AssumeRoleWithWebIdentity), then compiling and instantiating (exit 2/6).
struct Prepared {
    /// Kept alive for its epoch ticker while the session runs.
    runtime: Runtime,
    session: Session,
    transport: Arc<Transport>,
    /// The Sekoia sink's settings, with `--sekoia-url`.
    sekoia: Option<SekoiaSettings>,
}

/// The config file (its warnings logged) and the endpoints of the region: `--region` (or
/// `AWS_REGION`), else the file's `region`, else [`DEFAULT_REGION`].
fn resolve_endpoints(
    common: &CommonArgs,
    env: &HostEnv,
    logger: &Logger,
) -> Result<(EndpointResolver, Option<ConfigFile>), RunError> {
    let file = common.config.as_deref().map(config::load).transpose()?;
    for warning in file.iter().flat_map(|file| &file.warnings) {
        logger.host(LogLevel::Warn, warning);
    }
    let region = common
        .region
        .as_deref()
        .or(file.as_ref().and_then(|file| file.region.as_deref()))
        .unwrap_or(DEFAULT_REGION);
    let sts_override = env
        .var(ENDPOINT_URL_STS_VAR)
        .map(|url| url.to_string_lossy().into_owned())
        .filter(|url| !url.trim().is_empty());
    let endpoints = EndpointResolver::new(region, common.endpoint_url.as_deref())?
        .with_sts_override(sts_override.as_deref())?;
    Ok((endpoints, file))
}

/// The configured credentials' source, checked before anything is compiled: the plan (exit
/// 3 when none), its partition, a warning when a web identity token would leave AWS, then the
/// first credentials (for web identity the first AssumeRoleWithWebIdentity; later calls reuse
/// or refresh them).
fn credential_source(
    common: &CommonArgs,
    file: Option<&ConfigFile>,
    endpoints: &EndpointResolver,
    env: &HostEnv,
    logger: &Arc<Logger>,
) -> Result<CredentialSource, RunError> {
    let plan: Plan = credentials::plan(file, &|name| env.var(name))?;
    plan.validate(endpoints.partition())?;
    if endpoints.is_overridden() {
        logger.host(
            LogLevel::Debug,
            &format!(
                "sending IAM calls to {} and STS calls to {}",
                endpoints.resolve(Service::Iam).url,
                endpoints.resolve(Service::Sts).url
            ),
        );
    }
    logger.host(
        LogLevel::Debug,
        &format!("credentials: {}", plan.describe()),
    );
    if plan.method() == credentials::AuthMethod::WebIdentityRole {
        let sts = endpoints.resolve(Service::Sts);
        let host = sts
            .url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(str::to_owned));
        let to_aws = host.as_deref().is_some_and(crate::endpoint::is_aws_host);
        if !to_aws && !crate::endpoint::is_loopback_http(&sts.url) {
            logger.host(
                LogLevel::Warn,
                &format!(
                    "the web identity token will be sent to {}, which is not an AWS STS endpoint \
                     (set by --endpoint-url or {ENDPOINT_URL_STS_VAR}); whoever runs it can use the \
                     token until it expires",
                    sts.url
                ),
            );
        }
    }
    let config = common.transport_config();
    let source = CredentialSource::from_plan(plan, endpoints, &config, logger.clone())?;
    // Fail before compiling anything when the credentials cannot be had (for web identity
    // this is the first AssumeRoleWithWebIdentity; later calls reuse or refresh the result).
    source.credentials()?;
    Ok(source)
}

/// Compiles `component`, or loads it from the compile cache `--compile-cache` (or its
/// default) names, unless `--no-compile-cache`; says which, and how long it took, at debug.
fn load_runtime(
    component: &Path,
    common: &CommonArgs,
    env: &HostEnv,
    logger: &Logger,
) -> Result<Runtime, SandboxError> {
    let directory = if common.no_compile_cache {
        None
    } else {
        common
            .compile_cache
            .clone()
            .or_else(|| compile_cache::default_directory(|name| env.var(name)))
    };
    let cache = directory.as_deref().and_then(|dir| {
        compile_cache::open(dir)
            .map_err(|reason| logger.host(LogLevel::Warn, &format!("{reason}; compiling")))
            .ok()
    });
    let runtime = Runtime::load(component, cache)?;
    let compiled = runtime.compiled();
    let seconds = compiled.took.as_secs_f64();
    logger.host(
        LogLevel::Debug,
        &match (compiled.from_cache, &directory) {
            (Some(true), Some(dir)) => format!(
                "component: native code loaded from the compile cache {} in {seconds:.2} s",
                dir.display()
            ),
            (Some(false), Some(dir)) => format!(
                "component: compiled in {seconds:.2} s, kept in the compile cache {}",
                dir.display()
            ),
            _ => format!("component: compiled in {seconds:.2} s (no compile cache)"),
        },
    );
    Ok(runtime)
}

fn prepare(
    common: &CommonArgs,
    (sekoia, push): (&SekoiaArgs, Option<&PushArgs>),
    env: &HostEnv,
    logger: &Arc<Logger>,
) -> Result<Prepared, RunError> {
    let (endpoints, file) = resolve_endpoints(common, env, logger)?;
    // Sekoia's URL, connector and key before anything is sent or compiled.
    let sekoia = crate::sekoia::settings::resolve(sekoia, push, common, file.as_ref(), &|name| {
        env.var(name)
    })?;
    let component = common
        .component
        .as_deref()
        .ok_or(ConfigError::MissingComponent)?;
    let source = credential_source(common, file.as_ref(), &endpoints, env, logger)?;
    let transport = Arc::new(Transport::new(
        Signer::from_source(Arc::new(source)),
        endpoints,
        common.transport_config(),
        logger.clone(),
    ));
    let runtime = load_runtime(component, common, env, logger)?;
    let session = runtime.instantiate(
        Imports {
            transport: transport.clone(),
            logger: logger.clone(),
            recorder: env.recorder.clone(),
        },
        common.sandbox_limits(),
    )?;
    Ok(Prepared {
        runtime,
        session,
        transport,
        sekoia,
    })
}

/// The AWS account the credentials act in, from STS GetCallerIdentity sent by the host itself
/// (no permission can deny it): what a checkpoint is bound to.
///
/// Errors: [`RunError::Guest`] with the transport failure, the AWS error, or a response
/// without a 12-digit `Account`.
pub(crate) fn caller_account(transport: &Transport) -> Result<String, RunError> {
    const ACTION: &str = "GetCallerIdentity";
    let call = QueryCall {
        service: Service::Sts.signing_name().to_owned(),
        params: vec![
            ("Action".to_owned(), ACTION.to_owned()),
            ("Version".to_owned(), Service::Sts.api_version().to_owned()),
        ],
    };
    let response = transport
        .send(&call)
        .map_err(|error| GuestError::Transport {
            action: ACTION.to_owned(),
            error,
        })?;
    let body = String::from_utf8_lossy(&response.body);
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(crate::escape::truncate(&body[start..end], 1024).into_owned())
    };
    if response.status != 200 {
        return Err(GuestError::Api(ApiFailure {
            action: ACTION.to_owned(),
            status: response.status,
            code: element("Code").unwrap_or_else(|| "Unknown".to_owned()),
            message: element("Message").unwrap_or_default(),
            request_id: element("RequestId"),
        })
        .into());
    }
    element("Account")
        .filter(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            GuestError::MalformedResponse {
                action: ACTION.to_owned(),
                status: response.status,
                detail: "no 12-digit Account element".to_owned(),
            }
            .into()
        })
}

/// What an organization run needs before its first account: the checked flags, endpoints,
/// the configured credentials and the account they act in, the accounts, the compiled
/// component.
struct Organization {
    fan_out_parts: (Runtime, Arc<RoleAssumer>, EndpointResolver),
    member_role: String,
    caller_account: String,
    accounts: Vec<Account>,
    /// Accounts `--accounts` names that the organization does not list as ACTIVE.
    unknown: Vec<String>,
}

/// Checks the organization flags, resolves endpoints and credentials, learns the caller's
/// account, lists the accounts (ListAccounts, or `--accounts`) and compiles the component.
fn prepare_organization(
    common: &CommonArgs,
    organization: &OrganizationArgs,
    sekoia: &SekoiaArgs,
    env: &HostEnv,
    logger: &Arc<Logger>,
) -> Result<Organization, RunError> {
    let (endpoints, file) = resolve_endpoints(common, env, logger)?;
    if sekoia.sekoia_url.is_some() {
        return Err(ConfigError::InvalidSetting(
            "--sekoia-url is not supported with --organization or --accounts; push each \
             account with a run of its own"
                .into(),
        )
        .into());
    }
    let member_role = organization.member_role.clone().ok_or_else(|| {
        ConfigError::InvalidSetting(
            "--member-role NAME is required with --organization, --accounts or --output-dir".into(),
        )
    })?;
    crate::organization::validate_member_role(&member_role)?;
    if !organization.enabled() {
        return Err(ConfigError::InvalidSetting(
            "--output-dir and --member-role need --organization or --accounts".into(),
        )
        .into());
    }
    let listed = crate::organization::parse_accounts(&organization.accounts)?;
    let component = common
        .component
        .as_deref()
        .ok_or(ConfigError::MissingComponent)?;
    let base = Arc::new(credential_source(
        common,
        file.as_ref(),
        &endpoints,
        env,
        logger,
    )?);
    let config = common.transport_config();
    let base_transport = Transport::new(
        Signer::from_source(base.clone()),
        endpoints.clone(),
        config.clone(),
        logger.clone(),
    );
    let caller_account = caller_account(&base_transport)?;
    let (accounts, unknown) = if organization.organization {
        let active = crate::organization::discovery::list_active_accounts(
            &base,
            &endpoints.organizations(),
            &config,
            logger,
        )?;
        if listed.is_empty() {
            (active, Vec::new())
        } else {
            let unknown = listed
                .iter()
                .filter(|id| !active.iter().any(|account| &account.id == *id))
                .cloned()
                .collect();
            let kept = active
                .into_iter()
                .filter(|account| listed.contains(&account.id))
                .collect();
            (kept, unknown)
        }
    } else {
        let accounts = listed
            .into_iter()
            .map(|id| Account { id, name: None })
            .collect();
        (accounts, Vec::new())
    };
    let assumer = Arc::new(RoleAssumer::new(
        base,
        endpoints.resolve(Service::Sts),
        &config,
        organization.external_id.clone(),
        logger.clone(),
    )?);
    let runtime = load_runtime(component, common, env, logger)?;
    Ok(Organization {
        fan_out_parts: (runtime, assumer, endpoints),
        member_role,
        caller_account,
        accounts,
        unknown,
    })
}

/// The fan-out of a prepared organization run.
fn fan_out<'a>(
    organization: &'a Organization,
    common: &CommonArgs,
    args: &OrganizationArgs,
    env: &HostEnv,
    logger: &Arc<Logger>,
) -> FanOut<'a> {
    let (runtime, assumer, endpoints) = &organization.fan_out_parts;
    FanOut {
        runtime,
        assumer: assumer.clone(),
        endpoints: endpoints.clone(),
        config: common.transport_config(),
        limits: common.sandbox_limits(),
        settings: common.settings(),
        member_role: organization.member_role.clone(),
        in_flight: usize::try_from(args.max_accounts_in_flight).unwrap_or(1),
        deadline: common
            .max_run()
            .and_then(|max_run| std::time::Instant::now().checked_add(max_run)),
        logger: logger.clone(),
        recorder: env.recorder.clone(),
    }
}

/// `collect --organization` / `--accounts`: every account's events to one stream (stdout or
/// `--output`) or `--output-dir`, one summary line per account and a total on stderr.
fn collect_organization(
    args: &CollectArgs,
    env: &HostEnv,
    stdout: &mut dyn Write,
    logger: Arc<Logger>,
) -> u8 {
    let started = std::time::Instant::now();
    let organization =
        match prepare_organization(&args.common, &args.organization, &args.sekoia, env, &logger) {
            Ok(organization) => organization,
            Err(error) => return report_error(&logger, &error),
        };
    let fan_out = fan_out(
        &organization,
        &args.common,
        &args.organization,
        env,
        &logger,
    );
    let destination = match (&args.output, &args.output_dir) {
        (Some(file), _) => OrganizationDestination::File(file.clone()),
        (None, Some(dir)) => OrganizationDestination::Dir(dir.clone()),
        (None, None) => OrganizationDestination::Stdout,
    };
    let checkpoint = args.checkpoint.as_deref().map(|path| {
        (
            path,
            OrganizationBinding {
                caller_account: organization.caller_account.clone(),
                region: fan_out.endpoints.region().to_owned(),
                component_sha256: fan_out.runtime.component_sha256().to_owned(),
                member_role: organization.member_role.clone(),
            },
        )
    });
    let (mut output, resumed) = match OrganizationOutput::open(stdout, &destination, checkpoint) {
        Ok(opened) => opened,
        Err(error) => return report_error(&logger, &error.into()),
    };
    let done_before = resumed.values().filter(|p| p.finished).count();
    let resuming = resumed.values().filter(|p| !p.finished).count();
    if let (true, Some(path)) = (done_before + resuming > 0, &args.checkpoint) {
        logger.raw(&format!(
            "resuming from {}: {done_before} accounts done, {resuming} to resume",
            path.display()
        ));
    }
    let mut report = |result: &AccountResult| {
        if let Outcome::Failed { error, .. } = &result.outcome {
            logger.raw(&format!("error: account {}: {error}", result.account));
        }
        logger.raw(&crate::organization::fanout::account_line(result));
    };
    let mut results =
        match fan_out.collect(&organization.accounts, &resumed, &mut output, &mut report) {
            Ok(results) => results,
            Err(error) => return report_error(&logger, &error.into()),
        };
    for id in &organization.unknown {
        let result = AccountResult {
            account: Account {
                id: id.clone(),
                name: None,
            },
            outcome: Outcome::Failed {
                error: ConfigError::InvalidSetting(format!(
                    "--accounts names {id}, which is not an ACTIVE account of the organization"
                ))
                .into(),
                summary: None,
            },
        };
        report(&result);
        results.push(result);
    }
    let totals = OrganizationTotals::of(&results);
    logger.raw(&totals.line(started.elapsed()));
    let complete = totals.failed == 0;
    match output.finish(
        complete,
        totals.ok + totals.partial + totals.done_before > 0,
    ) {
        Ok(Some(note)) => logger.raw(&format!("note: {note}")),
        Ok(None) => {}
        Err(error) => return report_error(&logger, &error.into()),
    }
    if results.is_empty() {
        return report_error(
            &logger,
            &ConfigError::InvalidSetting("the organization lists no ACTIVE account".into()).into(),
        );
    }
    totals.exit_code(&results)
}

/// `check --organization` / `--accounts`: per account, the role assumption and the
/// permission probes, as a table or `--json`.
fn check_organization(
    args: &CheckArgs,
    env: &HostEnv,
    stdout: &mut dyn Write,
    logger: &Arc<Logger>,
) -> u8 {
    let organization =
        match prepare_organization(&args.common, &args.organization, &args.sekoia, env, logger) {
            Ok(organization) => organization,
            Err(error) => return report_error(logger, &error),
        };
    let fan_out = fan_out(&organization, &args.common, &args.organization, env, logger);
    let mut results = fan_out.check(&organization.accounts);
    for id in &organization.unknown {
        results.push((
            Account {
                id: id.clone(),
                name: None,
            },
            Err(
                ConfigError::InvalidSetting("not an ACTIVE account of the organization".into())
                    .into(),
            ),
        ));
    }
    let text = if args.json {
        let mut json = crate::organization::fanout::check_json(&fan_out, &results);
        json["caller_account"] = serde_json::json!(organization.caller_account);
        format!("{}\n", crate::escape::to_json_string(&json))
    } else {
        format!(
            "caller account: {}\n{}",
            organization.caller_account,
            crate::organization::fanout::render_check_table(&organization.member_role, &results)
        )
    };
    let code = crate::organization::fanout::check_exit_code(&results);
    write_out(stdout, &text, logger).unwrap_or(code)
}

fn report_error(logger: &Logger, error: &RunError) -> u8 {
    logger.raw(&format!("error: {error}"));
    match error.exit_code() {
        exit::OK => exit::INTERNAL,
        code => code,
    }
}
