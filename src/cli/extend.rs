//! `kyso extend`: augment signed PDFs to B-T, B-LT or B-LTA ([`kyso::extend`]) — files given
//! one by one, or every PDF under a folder — writing each result under `--out` with the same
//! relative name. A document that does not verify is not extended and its line says why; one
//! already at the level is left as it is (and not copied).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use kyso::extend::{Extension, Outcome, Step, Target};
use kyso::verify::text::Language;

use super::verify::{EXIT_INVALID, TrustArgs, build_verifier};
use super::{EXIT_ERROR, EXIT_OK, Runtime};

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// Signed PDF documents.
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    files: Vec<PathBuf>,
    /// Every PDF under this folder (recursively).
    #[arg(long, value_name = "DIR")]
    batch: Option<PathBuf>,
    /// The level to reach: B-T (a document time-stamp), B-LT (and the validation data), B-LTA
    /// (and an archive time-stamp over it; re-time-stamps a B-LTA document whose newest
    /// time-stamp's TSA certificate expires within [archive] renew_before_days).
    #[arg(long, value_name = "B-T|B-LT|B-LTA", default_value = "B-LTA")]
    to: String,
    /// Where the extended documents go, under the same relative names; the inputs are never
    /// rewritten.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The time-stamping authority (default: [tsa] url in kyso.toml, KYSO_TSA_URL).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Re-time-stamp when the newest TSA certificate expires within this many days (default:
    /// [archive] renew_before_days, 90).
    #[arg(long, value_name = "DAYS")]
    renew_before_days: Option<u32>,
    #[command(flatten)]
    trust: TrustArgs,
    /// Language of the words: vi or en (default from the locale).
    #[arg(long, value_name = "vi|en")]
    lang: Option<String>,
    /// One JSON object per document instead of words.
    #[arg(long)]
    json: bool,
}

pub fn run(runtime: &Runtime, args: &ExtendArgs) -> anyhow::Result<u8> {
    let Some(target) = Target::parse(&args.to) else {
        bail!("--to {}: expected B-T, B-LT or B-LTA", args.to);
    };
    if args.trust.at.is_some() {
        bail!("--at is for verification: extending gathers evidence now");
    }
    let language = super::language(args.lang.as_deref())?;
    let verifier = build_verifier(runtime, &args.trust, None)?;
    if verifier.has_no_trust_anchors() {
        bail!(
            "no trust anchors: extending checks every signature first; pass --trust ROOT.pem (or set [verify] profile or [verify] trust in kyso.toml)"
        );
    }
    let Some(tsa) = runtime
        .config
        .tsa(args.tsa.clone())
        .context("the [tsa] settings")?
    else {
        bail!(
            "extending needs a time-stamping authority: --tsa URL, or [tsa] url in kyso.toml (KYSO_TSA_URL)"
        );
    };
    let renew_before = match args.renew_before_days {
        Some(days) => time::Duration::days(i64::from(days)),
        None => runtime.config.archive.renew_before(),
    };
    let extension = Extension {
        verifier: &verifier,
        tsa: &tsa,
        renew_before,
    };
    let inputs = match &args.batch {
        Some(dir) => pdfs_under(dir)?,
        None => (args.files.iter())
            .map(|f| (f.clone(), relative_name(f)))
            .collect(),
    };
    let mut code = EXIT_OK;
    let mut counts = [0usize; 4];
    for (path, relative) in &inputs {
        let line = match extend_one(&extension, path, &args.out.join(relative), target) {
            Ok(outcome) => {
                let (index, line_code) = match &outcome {
                    Done::Extended { .. } => (0, EXIT_OK),
                    Done::Unchanged { .. } => (1, EXIT_OK),
                    Done::Refused { .. } => (2, EXIT_INVALID),
                };
                counts[index] += 1;
                code = code.max(line_code);
                outcome.describe(path, language, args.json)
            }
            Err(e) => {
                counts[3] += 1;
                code = EXIT_ERROR;
                if args.json {
                    serde_json::json!({"file": path, "outcome": "error", "error": format!("{e:#}")})
                        .to_string()
                } else {
                    format!("{}: {e:#}", path.display())
                }
            }
        };
        println!("{line}");
    }
    if !args.json && inputs.len() > 1 {
        let [extended, unchanged, refused, failed] = counts;
        eprintln!(
            "{}",
            match language {
                Language::Vietnamese => format!(
                    "{extended} đã gia hạn, {unchanged} giữ nguyên, {refused} bị từ chối, {failed} lỗi"
                ),
                Language::English => format!(
                    "{extended} extended, {unchanged} unchanged, {refused} refused, {failed} failed"
                ),
            }
        );
    }
    Ok(code)
}

/// What happened to one document, as printed.
enum Done {
    Extended {
        steps: Vec<Step>,
        before: String,
        after: String,
        out: PathBuf,
    },
    Unchanged {
        level: String,
        protected_until: Option<time::OffsetDateTime>,
    },
    Refused {
        english: String,
        vietnamese: String,
    },
}

fn extend_one(
    extension: &Extension<'_>,
    path: &Path,
    out: &Path,
    target: Target,
) -> anyhow::Result<Done> {
    let input = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(match extension.extend(&input, target)? {
        Outcome::Extended {
            document,
            steps,
            before,
            after,
        } => {
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            write_atomically(out, &document)?;
            Done::Extended {
                steps,
                before,
                after,
                out: out.to_owned(),
            }
        }
        Outcome::Unchanged {
            level,
            protected_until,
        } => Done::Unchanged {
            level,
            protected_until,
        },
        Outcome::Refused { refusal, .. } => Done::Refused {
            english: refusal.to_string(),
            vietnamese: refusal.message_vi(),
        },
    })
}

/// Writes `bytes` to a temporary file beside `out`, then renames it: a crash leaves either no
/// file or the whole one, never half a document.
fn write_atomically(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temporary = out.as_os_str().to_owned();
    temporary.push(".part");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, out).with_context(|| format!("writing {}", out.display()))
}

impl Done {
    fn describe(&self, path: &Path, language: Language, json: bool) -> String {
        let file = path.display();
        if json {
            return match self {
                Done::Extended {
                    steps,
                    before,
                    after,
                    out,
                } => serde_json::json!({
                    "file": path, "outcome": "extended", "before": before, "after": after,
                    "steps": steps.iter().map(step_name).collect::<Vec<_>>(), "out": out,
                }),
                Done::Unchanged {
                    level,
                    protected_until,
                } => serde_json::json!({
                    "file": path, "outcome": "unchanged", "level": level,
                    "protected_until": protected_until.map(rfc3339),
                }),
                Done::Refused {
                    english,
                    vietnamese,
                } => serde_json::json!({
                    "file": path, "outcome": "refused", "reason": english, "reason_vi": vietnamese,
                }),
            }
            .to_string();
        }
        let vi = language == Language::Vietnamese;
        match self {
            Done::Extended {
                steps,
                before,
                after,
                out,
            } => {
                let steps: Vec<String> = steps.iter().map(|s| step_words(s, vi)).collect();
                if vi {
                    format!(
                        "{file}: {before} → {after} ({}), ghi vào {}",
                        steps.join(", "),
                        out.display()
                    )
                } else {
                    format!(
                        "{file}: {before} → {after} ({}), written to {}",
                        steps.join(", "),
                        out.display()
                    )
                }
            }
            Done::Unchanged {
                level,
                protected_until,
            } => match (vi, protected_until) {
                (true, Some(until)) => format!(
                    "{file}: giữ nguyên, đã ở mức {level}, được bảo vệ đến {}",
                    kyso::verify::text::local_time(*until)
                ),
                (true, None) => format!("{file}: giữ nguyên, đã ở mức {level}"),
                (false, Some(until)) => format!(
                    "{file}: unchanged, already {level}, protected until {}",
                    kyso::verify::text::local_time(*until)
                ),
                (false, None) => format!("{file}: unchanged, already {level}"),
            },
            Done::Refused {
                english,
                vietnamese,
            } => {
                if vi {
                    format!("{file}: không gia hạn: {vietnamese}")
                } else {
                    format!("{file}: not extended: {english}")
                }
            }
        }
    }
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Timestamp => "timestamp",
        Step::ValidationData { .. } => "validation_data",
        Step::ArchiveTimestamp => "archive_timestamp",
        Step::Renewal { .. } => "renewal",
    }
}

fn step_words(step: &Step, vi: bool) -> String {
    match (step, vi) {
        (Step::Timestamp, true) => "dấu thời gian tài liệu".to_owned(),
        (Step::Timestamp, false) => "document time-stamp".to_owned(),
        (
            Step::ValidationData {
                certificates,
                crls,
                ocsp_responses,
            },
            true,
        ) => format!(
            "dữ liệu kiểm tra: {certificates} chứng thư, {crls} CRL, {ocsp_responses} phản hồi OCSP"
        ),
        (
            Step::ValidationData {
                certificates,
                crls,
                ocsp_responses,
            },
            false,
        ) => format!(
            "validation data: {certificates} certificates, {crls} CRLs, {ocsp_responses} OCSP responses"
        ),
        (Step::ArchiveTimestamp, true) => "dấu thời gian lưu trữ".to_owned(),
        (Step::ArchiveTimestamp, false) => "archive time-stamp".to_owned(),
        (Step::Renewal { expiring }, true) => format!(
            "dấu thời gian lưu trữ mới (chứng thư TSA cũ hết hạn {})",
            kyso::verify::text::local_time(*expiring)
        ),
        (Step::Renewal { expiring }, false) => format!(
            "renewed archive time-stamp (the previous TSA certificate expires {})",
            kyso::verify::text::local_time(*expiring)
        ),
    }
}

/// A file given on the command line keeps its own name under `--out`.
fn relative_name(path: &Path) -> PathBuf {
    path.file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("document.pdf"))
}

/// Every `*.pdf` under `dir`, with its path relative to `dir`, in a stable order.
fn pdfs_under(dir: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries =
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", folder.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pdf"))
            {
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_owned();
                found.push((path, relative));
            }
        }
    }
    found.sort();
    Ok(found)
}
