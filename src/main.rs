//! The `sandboxc` command line: parses the arguments, runs the command, exits with its status
//! (0 success or no changes, 1 error, 2 changes, drift or findings). Everything else lives in
//! the library (`sandboxc::cli`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let status = match sandboxc::cli::Cli::try_parse() {
        Ok(cli) => sandboxc::cli::run(&cli),
        Err(e) => sandboxc::cli::usage(&e),
    };
    ExitCode::from(status.code())
}
