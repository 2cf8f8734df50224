//! `host-harness`: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    host_harness::redact::install_panic_hook();
    let cli = host_harness::cli::Cli::parse();
    std::process::ExitCode::from(host_harness::app::execute(&cli))
}
