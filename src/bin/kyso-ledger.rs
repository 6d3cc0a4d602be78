//! A stand-in front end for the ledger commands until the `kyso` binary wires them in
//! (`src/cli/ledger.rs`); delete it then.

use clap::Parser;

#[path = "../cli/ledger.rs"]
mod ledger;

#[derive(Parser)]
#[command(
    name = "kyso-ledger",
    about = "kyso's signing-rate ledger (stand-in front end)"
)]
enum Cli {
    /// Units: import, export, list, show.
    #[command(subcommand)]
    Units(ledger::UnitsCommand),
    /// Signing-rate report for a period.
    Report(ledger::ReportArgs),
    /// Record events; seed the demo.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
}

fn main() {
    let result = match Cli::parse() {
        Cli::Units(command) => ledger::run_units(command),
        Cli::Report(args) => ledger::run_report(args),
        Cli::Ledger(command) => ledger::run_ledger(command),
    };
    let code = result.unwrap_or_else(|e| {
        eprintln!("kyso: error: {e:#}");
        2
    });
    std::process::exit(i32::from(code));
}
