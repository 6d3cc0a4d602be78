//! Command-line interface: raw arguments become a checked runtime in two steps, as in ripgrep.
//! First clap parses the words ([`Args`]); then [`Runtime`] joins them with `kyso.toml` and the
//! `KYSO_*` environment into the settings the commands run with. Nothing is read or opened while
//! parsing.
//!
//! Exit codes (design §3): 0 success (every signature valid), 1 a document is invalid or
//! indeterminate, 2 a usage or system error.

mod batch;
#[cfg(feature = "test-support")]
mod demo;
mod edxml;
mod extend;
mod ledger;
mod logging;
mod serve;
mod sign;
mod token;
mod trust;
mod verify;
mod xml;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use kyso::config::Config;
use kyso::token::TokenDefaults;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: usage or system error.
pub const EXIT_ERROR: u8 = 2;

/// The language of a command's words: `--lang vi|en`, else the locale (`LC_ALL`, then `LANG`).
fn language(lang: Option<&str>) -> anyhow::Result<kyso::verify::text::Language> {
    use kyso::verify::text::Language;
    Ok(match lang {
        Some("vi") => Language::Vietnamese,
        Some("en") => Language::English,
        Some(other) => anyhow::bail!("--lang {other}: expected vi or en"),
        None => Language::from_locale(
            &std::env::var("LC_ALL")
                .or_else(|_| std::env::var("LANG"))
                .unwrap_or_default(),
        ),
    })
}

#[derive(Debug, Parser)]
#[command(
    name = "kyso",
    version,
    about = "Ký số: sign PDF and XML with PKCS#11 keys, verify signatures, report signing rates"
)]
pub struct Args {
    /// Configuration file (default: ./kyso.toml when present). Every setting can also be given as
    /// a KYSO_* environment variable.
    #[arg(long, global = true, env = "KYSO_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Tokens and keys: list, generate a key pair, import a certificate, sign raw bytes.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Sign a document with a token key.
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Verify the signatures of PDF and XML documents and edXML packages.
    Verify(Box<verify::VerifyArgs>),
    /// Extend signed PDFs to B-T, B-LT or B-LTA so they stay verifiable after their
    /// certificates expire (time-stamps and validation data, by incremental update).
    Extend(Box<extend::ExtendArgs>),
    /// Trust anchors: list, show, add, remove (the profile's bundle, kyso.toml, the user's).
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// edXML packages (QCVN 102:2016) for the document axis: build outgoing ones.
    #[command(subcommand)]
    Edxml(edxml::EdxmlCommand),
    /// Organisational units: import, export, list, show.
    #[command(subcommand)]
    Units(ledger::UnitsCommand),
    /// Signing-rate report for a period: per unit, per level, rolled up.
    Report(ledger::ReportArgs),
    /// The document ledger: record events, seed the demo province.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Revocation evidence: collect a snapshot for offline batches.
    #[command(subcommand)]
    Revocation(batch::RevocationCommand),
    /// Run the main job end to end on a project-local SoftHSM token and print what happened.
    #[cfg(feature = "test-support")]
    Demo(demo::DemoArgs),
    /// Run the HTTP service (signing, verification, ledger, reports).
    Serve(serve::ServeArgs),
    /// API keys of the service: create (printed once), list, revoke.
    #[command(subcommand)]
    Apikey(serve::ApiKeyCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(serve::AuditCommand),
}

/// What every command runs with: the configuration, resolved once.
pub struct Runtime {
    pub config: Config,
}

impl Runtime {
    fn new(args: &Args) -> anyhow::Result<Runtime> {
        let config = Config::load(args.config.as_deref()).context("loading the configuration")?;
        Ok(Runtime { config })
    }

    /// Token defaults from the configuration, with an optional module given on the command line.
    pub fn token_defaults(&self, module: Option<&PathBuf>) -> anyhow::Result<TokenDefaults> {
        let mut defaults = self
            .config
            .token_defaults()
            .context("reading the [token] settings")?;
        if let Some(module) = module {
            defaults.module = Some(module.clone());
        }
        if defaults.module.is_none() {
            defaults.module = kyso_default_module();
        }
        Ok(defaults)
    }
}

/// SoftHSM's module where Debian installs it, used when nothing else names a module so that the
/// demo and first experiments need no configuration.
pub fn kyso_default_module() -> Option<PathBuf> {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

pub fn main() -> ExitCode {
    let args = Args::parse();
    let code = match Runtime::new(&args) {
        Ok(runtime) => {
            logging::init(&runtime.config.log);
            let result = match &args.command {
                Command::Token(cmd) => token::run(&runtime, cmd),
                Command::Sign(cmd) => sign::run(&runtime, cmd),
                Command::Verify(args) => verify::run(&runtime, args),
                Command::Extend(args) => extend::run(&runtime, args),
                Command::Trust(cmd) => trust::run(&runtime, cmd),
                Command::Edxml(cmd) => edxml::run(&runtime, cmd),
                Command::Units(cmd) => ledger::run_units(&runtime, cmd.clone()),
                Command::Report(args) => ledger::run_report(&runtime, args.clone()),
                Command::Ledger(cmd) => ledger::run_ledger(cmd.clone()),
                Command::Revocation(cmd) => batch::run_revocation(&runtime, cmd),
                #[cfg(feature = "test-support")]
                Command::Demo(demo) => demo::run(&runtime, demo),
                Command::Serve(args) => serve::run_serve(&runtime, args),
                Command::Apikey(cmd) => serve::run_apikey(&runtime, cmd),
                Command::Audit(cmd) => serve::run_audit(&runtime, cmd),
            };
            match result {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("kyso: error: {e:#}");
                    EXIT_ERROR
                }
            }
        }
        Err(e) => {
            eprintln!("kyso: error: {e:#}");
            EXIT_ERROR
        }
    };
    // Sessions closed before C_Finalize: SoftHSM crashes when finalised with sessions logged in.
    kyso::token::shutdown(std::time::Duration::from_secs(10));
    ExitCode::from(code)
}
