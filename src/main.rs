//! The `dorsal` binary: parses the command line and wires the crates.

mod commands;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dorsal: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
