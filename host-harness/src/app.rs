//! Runs a parsed command line: builds the transport and the sandbox, runs the command, prints
//! the summary or the error, and returns the exit code.

use std::io::Write;
use std::sync::Arc;

use aws_credential_types::Credentials;

use crate::cli::{CheckArgs, Cli, CollectArgs, Command, CommonArgs};
use crate::credentials;
use crate::endpoint::EndpointResolver;
use crate::error::{exit, CredentialsError, RunError};
use crate::logging::{LogLevel, Logger};
use crate::output::NdjsonWriter;
use crate::run;
use crate::sandbox::{Imports, Runtime, Session, Settings};
use crate::signing::Signer;
use crate::transport::Transport;

/// Runs `cli` with credentials from the environment, events and reports on stdout, and logs,
/// summary and errors on stderr. Returns the exit code (see [`crate::error`]).
pub fn execute(cli: &Cli) -> u8 {
    let logger = |common: &CommonArgs| Arc::new(Logger::stderr(common.log_level, common.debug));
    match &cli.command {
        Command::Collect(args) => collect(
            args,
            credentials::from_env(),
            &mut std::io::stdout(),
            logger(&args.common),
        ),
        Command::Check(args) => check(
            args,
            credentials::from_env(),
            &mut std::io::stdout(),
            logger(&args.common),
        ),
    }
}

/// Runs `collect`: events go to `--output` or `stdout`; the summary and any error to `logger`.
pub fn collect(
    args: &CollectArgs,
    credentials: Result<Credentials, CredentialsError>,
    stdout: &mut dyn Write,
    logger: Arc<Logger>,
) -> u8 {
    let prepared = match prepare(&args.common, credentials, &logger) {
        Ok(prepared) => prepared,
        Err(error) => return report_error(&logger, &error),
    };
    let Prepared {
        runtime: _runtime,
        mut session,
        transport,
    } = prepared;
    let settings = Settings {
        max_items: args.common.max_items,
    };
    let result = match &args.output {
        Some(path) => match NdjsonWriter::open(Some(path)) {
            Ok(mut writer) => run::collect(&mut session, &transport, settings, &mut writer),
            Err(error) => return report_error(&logger, &error.into()),
        },
        None => run::collect(
            &mut session,
            &transport,
            settings,
            &mut NdjsonWriter::new(stdout),
        ),
    };
    match result {
        Ok(summary) => {
            logger.raw(&summary.to_string());
            if let Some(warning) = summary.count_mismatch() {
                logger.raw(&warning);
            }
            summary.exit_code()
        }
        Err(failure) => {
            logger.raw(&failure.summary.to_string());
            report_error(&logger, &failure.error)
        }
    }
}

/// Runs `check`: the report goes to `stdout` (table or JSON); errors to `logger`.
pub fn check(
    args: &CheckArgs,
    credentials: Result<Credentials, CredentialsError>,
    stdout: &mut dyn Write,
    logger: Arc<Logger>,
) -> u8 {
    let result = prepare(&args.common, credentials, &logger).and_then(|mut prepared| {
        run::check(
            &mut prepared.session,
            Settings {
                max_items: args.common.max_items,
            },
        )
    });
    let report = match result {
        Ok(report) => report,
        Err(error) => return report_error(&logger, &error),
    };
    let text = if args.json {
        format!("{}\n", run::check_json(&report))
    } else {
        run::render_check_table(&report)
    };
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        return report_error(&logger, &crate::error::OutputError::Write(error).into());
    }
    run::check_exit_code(&report)
}

/// Everything a command needs, built in order of the cheapest check first: region and
/// endpoint (exit 2), credentials (exit 3), then compiling and instantiating (exit 2/6).
struct Prepared {
    /// Kept alive for its epoch ticker while the session runs.
    runtime: Runtime,
    session: Session,
    transport: Arc<Transport>,
}

fn prepare(
    common: &CommonArgs,
    credentials: Result<Credentials, CredentialsError>,
    logger: &Arc<Logger>,
) -> Result<Prepared, RunError> {
    let endpoints = EndpointResolver::new(&common.region, common.endpoint_url.as_deref())?;
    let credentials = credentials?;
    if endpoints.is_overridden() {
        logger.host(
            LogLevel::Debug,
            &format!(
                "sending every call to {}",
                endpoints.resolve(crate::endpoint::Service::Iam).url
            ),
        );
    }
    let transport = Arc::new(Transport::new(
        Signer::new(credentials),
        endpoints,
        common.transport_config(),
        logger.clone(),
    ));
    let runtime = Runtime::load(&common.component)?;
    let session = runtime.instantiate(
        Imports {
            transport: transport.clone(),
            logger: logger.clone(),
        },
        common.sandbox_limits(),
    )?;
    Ok(Prepared {
        runtime,
        session,
        transport,
    })
}

fn report_error(logger: &Logger, error: &RunError) -> u8 {
    logger.raw(&format!("error: {error}"));
    match error.exit_code() {
        exit::OK => exit::INTERNAL,
        code => code,
    }
}
