//! `kyso verify --batch DIR|ZIP|@LIST`: every document of a folder, archive or list verified on
//! every core, one JSON line per document as it finishes (`--json-lines`), a progress bar on a
//! terminal, a closing summary; with `--record`, each verdict recorded in the ledger (audit
//! mode). And `kyso revocation snapshot`, which collects the revocation evidence a batch needs so
//! that later runs are offline.
//!
//! Exit codes: 0 when every document is TOTAL-PASSED (and, with `--record`, recorded); 1 when
//! any is not, could not be read, or could not be recorded; 2 when the batch could not run.

use std::io::{BufWriter, IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use kyso::batch::audit::{Attribution, Auditor, DocumentId, UnitFrom, UnitMap};
use kyso::batch::snapshot::Snapshot;
use kyso::batch::{Batch, Item, Shard, Source, Summary};
use kyso::verify::text::Language;
use kyso::verify::{Revocation, Verifier};

use super::verify::{EXIT_INVALID, TrustArgs, build_verifier};
use super::{EXIT_OK, Runtime};

/// The batch options of `kyso verify`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Verify every document of a folder (recursively), a zip archive, or a list file (@LIST, one
    /// path per line; @- reads the list from standard input).
    #[arg(long, value_name = "DIR|ZIP|@LIST")]
    pub(super) batch: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", requires = "batch")]
    jobs: Option<NonZeroUsize>,
    /// Only shard K of N (K from 0, as Kubernetes' JOB_COMPLETION_INDEX): the documents whose
    /// name hashes to K. N machines, one shard each, split one archive with no coordinator.
    #[arg(long, value_name = "K/N", requires = "batch")]
    shard: Option<Shard>,
    /// Write one JSON object per document, as each finishes, to OUT (`-`: standard output).
    #[arg(long, value_name = "OUT", requires = "batch")]
    json_lines: Option<PathBuf>,
    /// Audit mode: record every verdict in the ledger (idempotent: re-running the same files
    /// never counts twice).
    #[arg(long, requires = "batch")]
    record: bool,
    /// How documents are named in the ledger: content (sha256:…, recorded as issued by the
    /// attributed unit, then audited) or file-name (the file's name without extension is the
    /// DMS document id; only the audit is recorded).
    #[arg(long, value_name = "content|file-name", requires = "record")]
    document_id: Option<String>,
    /// CSV `match,unit`: folder names, file-name prefixes or certificate OU/O values to unit codes.
    #[arg(long, value_name = "CSV", requires = "record")]
    unit_map: Option<PathBuf>,
    /// Where a document's unit comes from: folder (its folders, then file-name prefixes in the
    /// unit map) or signer-org (the first signer certificate's OU, then O). Default: folder with
    /// --unit-map, signer-org without.
    #[arg(long, value_name = "folder|signer-org", requires = "record")]
    unit_from: Option<String>,
    /// Record documents as issued at this time (RFC 3339) instead of their file's modification
    /// time: for an archive known to hold one period's documents.
    #[arg(long, value_name = "RFC3339", requires = "record")]
    issued_at: Option<String>,
    /// The SQLite ledger (ignored when KYSO_LEDGER_POSTGRES_URL is set).
    #[arg(
        long,
        env = "KYSO_LEDGER_PATH",
        default_value = "var/ledger.sqlite",
        value_name = "FILE"
    )]
    ledger: PathBuf,
}

/// `kyso revocation …`
#[derive(Debug, Subcommand)]
pub enum RevocationCommand {
    /// Collect the CRLs and OCSP responses the documents' certificate paths need (online, once)
    /// into one file, for `kyso verify --revocation-snapshot FILE` with no network.
    Snapshot(SnapshotArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The documents whose chains need evidence: a folder, a zip archive or @LIST.
    source: String,
    /// Where to write the snapshot (PEM).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    trust: TrustArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    jobs: Option<NonZeroUsize>,
}

/// Runs a batch with an already built verifier.
pub fn run(
    verifier: &Verifier,
    source: &str,
    args: &BatchArgs,
    language: Language,
) -> anyhow::Result<u8> {
    let source = Source::parse(source);
    let jobs = jobs(args.jobs);
    // Checked before any work, so that a wrong option costs nothing.
    let audit = if args.record {
        Some(AuditPlan::from_args(args)?)
    } else {
        None
    };
    let mut store = match &audit {
        Some(_) => Some(super::ledger::open_store_at(&args.ledger)?),
        None => None,
    };
    let mut auditor = match (&audit, store.as_deref_mut()) {
        (Some(plan), Some(store)) => {
            let mut auditor = Auditor::new(
                store,
                plan.document_id,
                plan.attribution.clone(),
                verifier.at(),
            )?;
            if let Some(at) = plan.issued_at {
                auditor = auditor.with_issued_at(at);
            }
            Some(auditor)
        }
        _ => None,
    };

    let json_to_stdout = args.json_lines.as_deref() == Some(Path::new("-"));
    let mut json: Option<Box<dyn Write>> = match &args.json_lines {
        None => None,
        Some(path) if path == Path::new("-") => Some(Box::new(BufWriter::new(std::io::stdout()))),
        Some(path) => Some(Box::new(BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))),
    };
    let bar = progress_bar();
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let batch = Batch::new(verifier, jobs).with_shard(shard);
    let mut summary = Summary::new();
    let mut failure: Option<anyhow::Error> = None;
    let start = Instant::now();
    let result = batch.run(&source, |item: Item| {
        summary.add(&item);
        bar.set_length(batch.expected());
        bar.inc(1);
        if failure.is_some() {
            return;
        }
        if let Some(out) = json.as_mut() {
            let written = serde_json::to_writer(&mut *out, &item.to_json())
                .map_err(anyhow::Error::from)
                .and_then(|()| out.write_all(b"\n").map_err(anyhow::Error::from));
            if let Err(e) = written {
                failure = Some(e.context("writing the JSON lines"));
                return;
            }
        }
        if !item.passed() && !json_to_stdout {
            bar.suspend(|| println!("{}", failure_line(&item, language)));
        }
        if let Some(auditor) = auditor.as_mut()
            && let Err(e) = auditor.add(&item)
        {
            failure = Some(e.into());
        }
    });
    bar.finish_and_clear();
    if let Some(out) = json.as_mut() {
        out.flush().context("writing the JSON lines")?;
    }
    let count = result.context("the batch could not run")?;
    if let Some(e) = failure {
        return Err(e);
    }
    let totals = match auditor {
        Some(auditor) => Some(auditor.finish()?),
        None => None,
    };
    let mut text = summary.render(start.elapsed());
    if !shard.is_whole() {
        text.push_str(&format!(
            "  phần / shard {shard}: chỉ các tài liệu của phần này / only this shard's documents\n"
        ));
    }
    if let Some(totals) = &totals {
        text.push_str(&totals.render());
        text.push('\n');
    }
    if count == 0 {
        text.push_str("Không có tài liệu nào / no documents found\n");
    }
    if json_to_stdout {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    let complete = totals.as_ref().is_none_or(|t| t.not_recorded() == 0);
    Ok(if count > 0 && summary.all_passed() && complete {
        EXIT_OK
    } else {
        EXIT_INVALID
    })
}

/// `kyso revocation snapshot`.
pub fn run_revocation(runtime: &Runtime, command: &RevocationCommand) -> anyhow::Result<u8> {
    let RevocationCommand::Snapshot(args) = command;
    if args.trust.revocation.is_some() {
        bail!("a snapshot is collected online: leave out --revocation");
    }
    let verifier = build_verifier(runtime, &args.trust, Some(Revocation::Online))?;
    let batch = Batch::new(&verifier, jobs(args.jobs));
    let bar = progress_bar();
    let mut summary = Summary::new();
    let start = Instant::now();
    batch
        .run(&Source::parse(&args.source), |item| {
            summary.add(&item);
            bar.set_length(batch.expected());
            bar.inc(1);
        })
        .context("the batch could not run")?;
    bar.finish_and_clear();
    let snapshot = match verifier.online() {
        Some(online) => Snapshot::from_cached(online.cached()),
        None => Snapshot::default(),
    };
    snapshot
        .save(&args.out, time::OffsetDateTime::now_utc())
        .with_context(|| format!("writing {}", args.out.display()))?;
    print!("{}", summary.render(start.elapsed()));
    println!(
        "Ảnh chụp thu hồi / Revocation snapshot {}: {} CRL, {} OCSP, {} certificate(s)",
        args.out.display(),
        snapshot.crls.len(),
        snapshot.ocsp.len(),
        snapshot.certificates.len()
    );
    if snapshot.is_empty() {
        eprintln!(
            "kyso: warning: nothing was fetched (no CRL or OCSP location reached, or the documents carry their own evidence)"
        );
    }
    Ok(EXIT_OK)
}

/// What `--record` asks for, checked before the batch starts.
struct AuditPlan {
    document_id: DocumentId,
    attribution: Option<Attribution>,
    issued_at: Option<time::OffsetDateTime>,
}

impl AuditPlan {
    fn from_args(args: &BatchArgs) -> anyhow::Result<AuditPlan> {
        let document_id = match args.document_id.as_deref().unwrap_or("content") {
            "content" => DocumentId::Content,
            "file-name" => DocumentId::FileName,
            other => bail!("--document-id {other}: expected content or file-name"),
        };
        let map = match &args.unit_map {
            Some(path) => Some(UnitMap::load(path)?),
            None => None,
        };
        let from = match args.unit_from.as_deref() {
            Some("folder") => UnitFrom::Folder,
            Some("signer-org") => UnitFrom::SignerOrganization,
            Some(other) => bail!("--unit-from {other}: expected folder or signer-org"),
            None if map.is_some() => UnitFrom::Folder,
            None => UnitFrom::SignerOrganization,
        };
        let attribution = match document_id {
            DocumentId::Content => Some(Attribution { from, map }),
            DocumentId::FileName => {
                if args.unit_map.is_some() || args.unit_from.is_some() || args.issued_at.is_some() {
                    bail!(
                        "--document-id file-name records audits of documents the DMS has issued (their unit comes from the ledger): --unit-map, --unit-from and --issued-at do not apply"
                    );
                }
                None
            }
        };
        let issued_at = match &args.issued_at {
            Some(text) => Some(
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("--issued-at {text}: not an RFC 3339 time"))?,
            ),
            None => None,
        };
        Ok(AuditPlan {
            document_id,
            attribution,
            issued_at,
        })
    }
}

fn jobs(requested: Option<NonZeroUsize>) -> NonZeroUsize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
}

/// A bar on a terminal, nothing otherwise (logs and pipes get the summary only).
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} tài liệu / documents, còn / left {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `INDICATION/SUB  name: first reason` for a document that did not pass.
fn failure_line(item: &Item, language: Language) -> String {
    use kyso::verify::text::shown;
    match item.report() {
        Some(report) => {
            let reason = report
                .reasons
                .first()
                .or_else(|| report.signatures.iter().find_map(|s| s.reasons.first()))
                .map(|r| r.text(language))
                .unwrap_or_default();
            // Entry names (a zip's) and reasons come from the documents: escaped for the
            // terminal like every document string (`text::shown`).
            format!(
                "{}  {}: {}",
                kyso::batch::verdict_key(report),
                shown(&item.name),
                shown(&reason)
            )
        }
        None => match &item.outcome {
            kyso::batch::Outcome::Failed(e) => {
                format!("NOT-READ  {}: {}", shown(&item.name), shown(&e.to_string()))
            }
            kyso::batch::Outcome::Verified(_) => String::new(),
        },
    }
}
