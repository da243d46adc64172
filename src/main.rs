use chatshop::cli::{Cli, run};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            // One line, as scripts read it.
            let reason = error.to_string().replace('\n', " ");
            eprintln!("chatshop: {reason}");
            ExitCode::FAILURE
        }
    }
}
