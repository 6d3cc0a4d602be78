//! The ledger's command line: `kyso units import|export|list|show`, `kyso report`, and
//! `kyso ledger record|demo`. The top-level parser flattens these types in; each `run_*` first
//! turns raw arguments into checked values (no I/O), then opens the ledger and does the work, and
//! returns the exit code (0; errors are the caller's exit code 2).
//!
//! The ledger is the SQLite file given by `--ledger` (default `var/ledger.sqlite`), unless
//! `KYSO_LEDGER_POSTGRES_URL` is set: that URL may carry a password, so it is read from the
//! environment only, never from the command line.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::Runtime;
use kyso::ledger::event::parse_json_lines;
use kyso::ledger::render::{self, Format};
use kyso::ledger::{LevelScheme, Period, Recorded, ReportQuery, Store, demo, report, units};

/// Environment variable naming a PostgreSQL ledger (`postgres://user:password@host/db`); with
/// `KYSO_LEDGER_POSTGRES_SCHEMA`, the schema inside it, as for `kyso serve`.
pub use kyso::api::state::POSTGRES_URL_ENV;

/// Which ledger to open.
#[derive(Clone, Debug, clap::Args)]
pub struct LedgerArgs {
    /// The SQLite ledger file (ignored when KYSO_LEDGER_POSTGRES_URL is set).
    #[arg(long, env = "KYSO_LEDGER_PATH", default_value = "var/ledger.sqlite")]
    pub ledger: PathBuf,
}

/// `kyso units …`
#[derive(Clone, Debug, clap::Subcommand)]
pub enum UnitsCommand {
    /// Import units from CSV (header code,name,level,parent); all rows or none.
    Import {
        /// The CSV file, or `-` for standard input.
        file: PathBuf,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
    /// Write all units as CSV, parents before children.
    Export {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
    /// List units as a tree.
    List {
        /// Only units at this level (province, department, district, commune).
        #[arg(long)]
        level: Option<String>,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
    /// Show one unit, its parents and the units directly below it.
    Show {
        code: String,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
}

/// `kyso report …`
#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// 2022-07-01, 2022-07, 2022-Q3, 2022-H1, 2022, or 2022-01-15..2022-02-14 (local days).
    #[arg(long)]
    pub period: String,
    /// Only units at this level.
    #[arg(long)]
    pub level: Option<String>,
    /// Only this unit and the units below it; lists its unsigned documents.
    #[arg(long)]
    pub unit: Option<String>,
    /// table, csv, json or html.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// At most this many unsigned documents listed with --unit.
    #[arg(long, default_value_t = 1000)]
    pub unsigned_limit: usize,
    #[command(flatten)]
    pub ledger: LedgerArgs,
}

/// `kyso ledger …`
#[derive(Clone, Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Record events, one JSON object per line (`-` for standard input); all lines or none.
    Record {
        file: PathBuf,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
    /// Seed the demo province with 2022-H1 documents (idempotent).
    Demo {
        #[command(flatten)]
        ledger: LedgerArgs,
    },
}

/// The unit levels of the configuration (`[[ledger.levels]]`, or the default four).
fn levels(runtime: &Runtime) -> anyhow::Result<LevelScheme> {
    runtime
        .config
        .level_scheme()
        .context("reading [[ledger.levels]] in the configuration")
}

/// Runs `kyso units …`; returns the exit code.
pub fn run_units(runtime: &Runtime, command: UnitsCommand) -> anyhow::Result<u8> {
    let scheme = levels(runtime)?;
    match command {
        UnitsCommand::Import { file, ledger } => {
            let input = open_input(&file)?;
            let rows = units::parse_csv(input, &scheme)
                .with_context(|| format!("reading units from {}", file.display()))?;
            let mut store = open_store(&ledger)?;
            let summary = units::import(store.as_mut(), &rows, &scheme)
                .with_context(|| format!("importing units from {}", file.display()))?;
            println!(
                "{} đơn vị mới, {} cập nhật, {} không đổi / {} new, {} updated, {} unchanged",
                summary.inserted,
                summary.updated,
                summary.unchanged,
                summary.inserted,
                summary.updated,
                summary.unchanged
            );
        }
        UnitsCommand::Export { out, ledger } => {
            let all = open_store(&ledger)?.units()?;
            let mut buffer = Vec::new();
            units::write_csv(&all, &mut buffer)?;
            write_output(out.as_deref(), &buffer)?;
        }
        UnitsCommand::List { level, ledger } => {
            if let Some(level) = &level
                && scheme.rank(level).is_none()
            {
                bail!("unknown level `{level}`, expected one of {}", scheme.keys());
            }
            let all = open_store(&ledger)?.units()?;
            let by_code = all.iter().map(|u| (u.code.clone(), u.clone())).collect();
            let order = units::tree_order(&by_code, &scheme)?;
            let mut depth = std::collections::HashMap::new();
            for code in order {
                let unit = &by_code[&code];
                let d = unit
                    .parent
                    .as_ref()
                    .and_then(|p| depth.get(p).copied())
                    .map_or(0, |d: usize| d + 1);
                depth.insert(code.clone(), d);
                if level.as_ref().is_none_or(|l| &unit.level == l) {
                    let indent = if level.is_some() { 0 } else { d };
                    println!(
                        "{}{:<12} {:<10} {}",
                        "  ".repeat(indent),
                        unit.code,
                        unit.level,
                        unit.name
                    );
                }
            }
        }
        UnitsCommand::Show { code, ledger } => {
            let all = open_store(&ledger)?.units()?;
            let Some(unit) = all.iter().find(|u| u.code == code) else {
                bail!("unknown unit `{code}`");
            };
            let level = scheme.level(&unit.level);
            println!("Mã / code:      {}", unit.code);
            println!("Tên / name:     {}", unit.name);
            println!(
                "Cấp / level:    {}{}",
                unit.level,
                level.map_or(String::new(), |l| format!(
                    " ({} / {})",
                    l.label_vi, l.label_en
                ))
            );
            let mut chain = Vec::new();
            let mut at = unit.parent.clone();
            while let Some(parent) = at {
                if chain.len() > all.len() {
                    break;
                }
                let found = all.iter().find(|u| u.code == parent);
                chain.push(found.map_or(parent.clone(), |u| format!("{} {}", u.code, u.name)));
                at = found.and_then(|u| u.parent.clone());
            }
            if !chain.is_empty() {
                println!("Trực thuộc / under: {}", chain.join(" ← "));
            }
            let children: Vec<_> = all
                .iter()
                .filter(|u| u.parent.as_deref() == Some(&unit.code))
                .collect();
            println!("Đơn vị trực thuộc / units below: {}", children.len());
            for child in children {
                println!("  {:<12} {:<10} {}", child.code, child.level, child.name);
            }
        }
    }
    Ok(0)
}

/// Runs `kyso report …`; returns the exit code.
pub fn run_report(runtime: &Runtime, args: ReportArgs) -> anyhow::Result<u8> {
    // Check every argument before touching the ledger.
    let period = Period::parse(&args.period)?;
    let Some(format) = Format::parse(&args.format) else {
        bail!(
            "unknown format `{}`, expected table, csv, json or html",
            args.format
        );
    };
    let scheme = levels(runtime)?;
    if let Some(level) = &args.level
        && scheme.rank(level).is_none()
    {
        bail!("unknown level `{level}`, expected one of {}", scheme.keys());
    }
    let query = ReportQuery {
        period,
        level: args.level,
        unit: args.unit,
        unsigned_limit: args.unsigned_limit,
        renew_by: time::OffsetDateTime::now_utc() + runtime.config.archive.renew_before(),
    };
    let mut store = open_store(&args.ledger)?;
    let report = report::build(store.as_mut(), &scheme, &query)
        .with_context(|| format!("building the {period} report"))?;
    let text = render::render(&report, format)?;
    write_output(args.out.as_deref(), text.as_bytes())?;
    Ok(0)
}

/// Runs `kyso ledger …`; returns the exit code.
pub fn run_ledger(command: LedgerCommand) -> anyhow::Result<u8> {
    match command {
        LedgerCommand::Record { file, ledger } => {
            let events = parse_json_lines(BufReader::new(open_input(&file)?))
                .with_context(|| format!("reading events from {}", file.display()))?;
            let mut store = open_store(&ledger)?;
            let outcomes = store
                .record(&events)
                .with_context(|| format!("recording events from {}", file.display()))?;
            let count = |o: Recorded| outcomes.iter().filter(|x| **x == o).count();
            println!(
                "{} mới, {} cập nhật, {} đã có / {} new, {} updated, {} already recorded",
                count(Recorded::Inserted),
                count(Recorded::Updated),
                count(Recorded::Unchanged),
                count(Recorded::Inserted),
                count(Recorded::Updated),
                count(Recorded::Unchanged)
            );
        }
        LedgerCommand::Demo { ledger } => run_demo(&ledger)?,
    }
    Ok(0)
}

/// Seeds the demo ledger (for `kyso demo` and `make demo`).
pub fn run_demo(ledger: &LedgerArgs) -> anyhow::Result<()> {
    let mut store = open_store(ledger)?;
    let summary = demo::seed(store.as_mut()).context("seeding the demo ledger")?;
    println!(
        "Dữ liệu mẫu / demo ledger: {} đơn vị / units, {} sự kiện / events ({} mới / new), kỳ / period {}",
        summary.units,
        summary.events,
        summary.inserted,
        demo::PERIOD
    );
    Ok(())
}

/// Opens the PostgreSQL ledger when `KYSO_LEDGER_POSTGRES_URL` is set, the SQLite file otherwise.
pub fn open_store(args: &LedgerArgs) -> anyhow::Result<Box<dyn Store>> {
    open_store_at(&args.ledger)
}

/// [`open_store`] for a SQLite path given some other way (the batch audit's `--ledger`).
pub fn open_store_at(path: &Path) -> anyhow::Result<Box<dyn Store>> {
    let config = kyso::api::StoreConfig::from_env(path.to_path_buf())?;
    config.open().with_context(|| match &config {
        kyso::api::StoreConfig::Postgres { schema, .. } => format!(
            "opening the PostgreSQL ledger from {POSTGRES_URL_ENV} (schema {})",
            schema.as_deref().unwrap_or("of the search path")
        ),
        kyso::api::StoreConfig::Sqlite(path) => format!("opening the ledger {}", path.display()),
    })
}

fn open_input(file: &Path) -> anyhow::Result<Box<dyn Read>> {
    if file == Path::new("-") {
        return Ok(Box::new(std::io::stdin()));
    }
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    Ok(Box::new(f))
}

fn write_output(out: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
        }
        None => std::io::stdout()
            .write_all(bytes)
            .context("writing to standard output"),
    }
}
