//! The `kyso` command. Everything it does lives in the library; this file only turns the process
//! (arguments, environment, exit code) into a call and back.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
