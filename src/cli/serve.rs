//! `kyso serve` (the HTTP service), `kyso apikey create|list|revoke` (its credentials) and
//! `kyso audit verify|checkpoint|export` (the audit chain; the work is in [`super::audit`]).
//! The ledger is `[serve] ledger` (SQLite) unless `KYSO_LEDGER_POSTGRES_URL` names a PostgreSQL
//! database (environment only: it may carry a password; or `KYSO_LEDGER_POSTGRES_URL_SOURCE`
//! names where it is kept, `file:/run/secrets/…` or `env:NAME`); `KYSO_LEDGER_POSTGRES_SCHEMA`
//! picks a schema inside it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::api::auth::{self, Role};
use kyso::api::{AppState, StoreConfig};
use kyso::audit::{self, Action};

use super::{EXIT_OK, Runtime};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides [serve] listen); port 0 picks a free port, and the
    /// address bound is printed on the first line of standard output.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The SQLite ledger (overrides [serve] ledger; ignored with KYSO_LEDGER_POSTGRES_URL).
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it once (it is stored only as a hash).
    Create {
        /// signer, verifier, auditor or admin.
        #[arg(long)]
        role: String,
        /// A unit the key acts for (repeatable); `*` for every unit.
        #[arg(long = "unit", required = true)]
        units: Vec<String>,
        /// What the key is for, e.g. the DMS instance using it.
        #[arg(long, default_value = "")]
        label: String,
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
    /// List API keys (ids, roles, units; never the keys).
    List {
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
    /// Revoke an API key by its id.
    Revoke {
        key_id: String,
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole audit chain (every link, every hash, the head) and every checkpoint.
    Verify {
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Checkpoints exported earlier (`kyso audit export`): each must still be in the log.
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
        /// Judge staleness as of this RFC 3339 time instead of now (for a copy of the log).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// vi or en (default: both).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Sign and time-stamp the chain's head now ([audit] checkpoint_key, [tsa] url).
    Checkpoint {
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
        /// Print the checkpoint entry as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every checkpoint as JSON lines, to keep somewhere the database's writers cannot.
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
}

fn store_config(runtime: &Runtime, ledger: Option<&PathBuf>) -> anyhow::Result<StoreConfig> {
    Ok(StoreConfig::from_env(
        ledger
            .cloned()
            .unwrap_or_else(|| runtime.config.serve.ledger.clone()),
    )?)
}

pub fn run_serve(runtime: &Runtime, args: &ServeArgs) -> anyhow::Result<u8> {
    let mut config = runtime.config.clone();
    if let Some(listen) = &args.listen {
        config.serve.listen.clone_from(listen);
    }
    if config.token.module.is_none() {
        config.token.module = super::kyso_default_module();
    }
    let store = store_config(runtime, args.ledger.as_ref())?;
    let grace = Duration::from_secs(config.serve.shutdown_grace_secs);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kyso-http")
        .build()
        .context("starting the async runtime")?;
    // Built outside the runtime: the ledger's PostgreSQL client is synchronous and runs a
    // runtime of its own, which cannot start inside another.
    let state = AppState::new(&config, store).context("setting up the service")?;
    // And torn down outside it, for the same reason: the last clone of the state closes the
    // PostgreSQL connections, whose synchronous client panics when dropped on the runtime (as
    // `docker stop` showed: SIGTERM ended in a panic). This clone outlives the runtime.
    let held = state.clone();
    let served = tokio.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.serve.listen)
            .await
            .with_context(|| format!("listening on {}", config.serve.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        // The first line of standard output, for scripts and tests that asked for port 0.
        println!("kyso: listening on http://{address}");
        std::io::stdout()
            .flush()
            .context("writing to standard output")?;
        tracing::info!(%address, "listening");
        kyso::api::serve(listener, state, shutdown_signal(), grace)
            .await
            .context("serving")
    });
    drop(tokio);
    drop(held);
    served?;
    Ok(EXIT_OK)
}

/// SIGTERM (service managers) or SIGINT (a terminal).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

pub fn run_apikey(runtime: &Runtime, command: &ApiKeyCommand) -> anyhow::Result<u8> {
    match command {
        ApiKeyCommand::Create {
            role,
            units,
            label,
            ledger,
        } => {
            let Some(role) = Role::parse(role) else {
                bail!("role `{role}`: expected signer, verifier, auditor or admin");
            };
            for unit in units {
                if unit != "*" {
                    kyso::ledger::units::check_code(unit).map_err(anyhow::Error::msg)?;
                }
            }
            let made = auth::generate(role, units, label)
                .map_err(|e| anyhow::anyhow!("generating the key: {e}"))?;
            let mut store = store_config(runtime, ledger.as_ref())?
                .open()
                .context("opening the ledger")?;
            let record = audit::Record::new(
                "cli",
                Action::ApiKeyCreated,
                made.record.key_id.clone(),
                &serde_json::json!({
                    "role": role.as_str(),
                    "units": units,
                    "label": label,
                }),
            );
            store
                .create_api_key(&made.record, &record)
                .context("storing the key")?;
            eprintln!(
                "API key {} created for role {} and unit(s) {}; it is shown once, below:",
                made.record.key_id,
                role.as_str(),
                units.join(",")
            );
            println!("{}", made.presented);
        }
        ApiKeyCommand::List { ledger } => {
            let mut store = store_config(runtime, ledger.as_ref())?
                .open()
                .context("opening the ledger")?;
            for key in store.api_keys()? {
                println!(
                    "{}  {:<8}  {:<20}  {}{}",
                    key.key_id,
                    key.role,
                    key.units.join(","),
                    key.label,
                    if key.revoked_at.is_some() {
                        "  (revoked)"
                    } else {
                        ""
                    }
                );
            }
        }
        ApiKeyCommand::Revoke { key_id, ledger } => {
            let mut store = store_config(runtime, ledger.as_ref())?
                .open()
                .context("opening the ledger")?;
            let record = audit::Record::new(
                "cli",
                Action::ApiKeyRevoked,
                key_id.clone(),
                &serde_json::json!({}),
            );
            match store.revoke_api_key(key_id, time::OffsetDateTime::now_utc(), &record)? {
                Some(_) => {
                    println!("API key {key_id} revoked (services stop accepting it within 30 s)")
                }
                None => bail!("no active API key {key_id}"),
            }
        }
    }
    Ok(EXIT_OK)
}

pub fn run_audit(runtime: &Runtime, command: &AuditCommand) -> anyhow::Result<u8> {
    match command {
        AuditCommand::Verify {
            ledger,
            json,
            checkpoints,
            at,
            lang,
        } => super::audit::verify(
            runtime,
            &store_config(runtime, ledger.as_ref())?,
            checkpoints.as_deref(),
            at.as_deref(),
            lang.as_deref(),
            *json,
        ),
        AuditCommand::Checkpoint { ledger, json } => {
            super::audit::make(runtime, &store_config(runtime, ledger.as_ref())?, *json)
        }
        AuditCommand::Export { out, ledger } => {
            super::audit::export(&store_config(runtime, ledger.as_ref())?, out)
        }
    }
}
