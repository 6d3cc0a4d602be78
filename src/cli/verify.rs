//! `kyso verify FILE…`: a verdict on every signature of each document, in plain words or JSON.
//!
//! Exit codes: 0 when every signature of every document is TOTAL-PASSED, 1 when any is not (or a
//! document carries no signature), 2 when a file cannot be read or the options are wrong.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use kyso::pki::{CertPool, Evidence};
use kyso::verify::text::{self, Language};
use kyso::verify::{DetachedContent, Revocation, Verifier, VerifyOptions};

use super::{EXIT_ERROR, EXIT_OK, Runtime};

/// Exit code: a document is invalid or indeterminate.
pub(super) const EXIT_INVALID: u8 = 1;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// PDF or XML documents (recognised by content).
    #[arg(required_unless_present = "batch", conflicts_with = "batch")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    pub(super) trust: TrustArgs,
    /// Language of the words: vi or en (default from the locale).
    #[arg(long, value_name = "vi|en")]
    lang: Option<String>,
    /// Print the JSON report instead (one document: an object; several: an array).
    #[arg(long, conflicts_with = "batch")]
    json: bool,
    /// Documents a detached XML signature refers to: a file (found by its name) or a folder
    /// (found by their paths inside it). References resolve only among these.
    #[arg(long, value_name = "FILE|DIR", conflicts_with = "batch")]
    detached: Vec<PathBuf>,
    /// Show signers' personal identifiers (CMND/CCCD/passport numbers) whole; by default all
    /// but their last digits are masked.
    #[arg(long)]
    reveal_identifiers: bool,
    /// Further checks beside the ETSI verdict, shown on a line of their own: `decree30` (the
    /// form of Decree 30/2020/NĐ-CP: the agency signs after the person, with an organisation's
    /// certificate; each attachment carries the agency's signature). Default: [verify]
    /// decree30 in kyso.toml.
    #[arg(long, value_enum, value_name = "CHECK", conflicts_with = "batch")]
    check: Vec<Check>,
    /// Also write the printable verification record (biên bản kiểm tra, HTML: Vietnamese
    /// with English) of the one document given to OUT; print it or save it as PDF from a
    /// browser.
    #[arg(long, value_name = "OUT", conflicts_with = "batch")]
    record_html: Option<PathBuf>,
    /// Also write the record as PDF to OUT, printed by a Chromium already on the machine
    /// (`--record-browser`); kyso does not ship a browser.
    #[arg(long, value_name = "OUT", conflicts_with = "batch")]
    record_pdf: Option<PathBuf>,
    /// The headless browser that prints `--record-pdf` (default: chromium on PATH).
    #[arg(long, value_name = "PROGRAM", default_value = "chromium")]
    record_browser: PathBuf,
    #[command(flatten)]
    pub(super) batch: super::batch::BatchArgs,
}

/// `--check`: checks beside the ETSI verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Check {
    /// The form of Decree 30/2020/NĐ-CP.
    Decree30,
}

/// What verification trusts and how it checks revocation: shared by `kyso verify` (one file or
/// a batch) and `kyso revocation snapshot`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Trust anchors: PEM/DER certificate files or folders (also [verify] trust in kyso.toml).
    #[arg(long, value_name = "PEM|DIR")]
    pub(super) trust: Vec<PathBuf>,
    /// Extra intermediate certificates (PEM/DER).
    #[arg(long, value_name = "PEM")]
    certs: Vec<PathBuf>,
    /// CRL files to use as revocation evidence.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Where revocation evidence may come from: online (embedded first, then CRL/OCSP over the
    /// network), offline (embedded and given only), off (never TOTAL-PASSED).
    #[arg(long, value_name = "online|offline|off")]
    pub(super) revocation: Option<String>,
    /// CRLs, OCSP responses and certificates collected by `kyso revocation snapshot`; implies
    /// --revocation offline unless --revocation says otherwise.
    #[arg(long, value_name = "FILE")]
    revocation_snapshot: Option<PathBuf>,
    /// Validate as at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub(super) at: Option<String>,
}

pub fn run(runtime: &Runtime, args: &VerifyArgs) -> anyhow::Result<u8> {
    let verifier = build_verifier(runtime, &args.trust, None)?;
    let language = super::language(args.lang.as_deref())?;
    if let Some(source) = &args.batch.batch {
        return super::batch::run(&verifier, source, &args.batch, language);
    }
    if (args.record_html.is_some() || args.record_pdf.is_some()) && args.files.len() != 1 {
        bail!(
            "--record-html and --record-pdf write the record of one document: give exactly one file"
        );
    }
    let detached = read_detached(&args.detached)?;
    let decree30 = args.check.contains(&Check::Decree30) || runtime.config.verify.decree30_checks();
    let no_anchors = verifier.has_no_trust_anchors();
    let mut reports = Vec::new();
    let mut code = EXIT_OK;
    for file in &args.files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("kyso: cannot read {}: {e}", file.display());
                code = EXIT_ERROR;
                continue;
            }
        };
        let mut report = verifier.verify_with(&bytes, &detached);
        if args.reveal_identifiers {
            report.reveal_identifiers();
        }
        if decree30 {
            report.check_decree30();
        }
        if args.record_html.is_some() || args.record_pdf.is_some() {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let page = kyso::verify::record::html(
                &report,
                &kyso::verify::record::RecordFacts {
                    file_name: name.as_deref(),
                },
            );
            if let Some(out) = &args.record_html {
                std::fs::write(out, &page)
                    .with_context(|| format!("writing the record to {}", out.display()))?;
            }
            if let Some(out) = &args.record_pdf {
                print_pdf(&page, out, &args.record_browser)?;
            }
        }
        if !report.all_passed() && code == EXIT_OK {
            code = EXIT_INVALID;
        }
        if args.json {
            reports.push(serde_json::json!({
                "file": file.display().to_string(),
                "report": report,
            }));
        } else {
            if args.files.len() > 1 {
                println!("== {}", text::shown(&file.display().to_string()));
            }
            print!("{}", text::render(&report, language));
            if let Some(check) = &report.decree30 {
                // Names in it come from certificates: shown, never printed raw.
                let line = match language {
                    Language::Vietnamese => &check.summary_vi,
                    Language::English => &check.summary_en,
                };
                println!("{}", text::shown(line));
            }
        }
    }
    if no_anchors {
        eprintln!(
            "{}",
            match language {
                Language::Vietnamese =>
                    "kyso: chưa cấu hình chứng thư gốc tin cậy nên không người ký nào được tin cậy (NO_CERTIFICATE_CHAIN_FOUND): dùng --trust ROOT.pem hoặc đặt [verify] profile = \"vn\" hay [verify] trust trong kyso.toml; tính toàn vẹn, giá trị chữ ký và các thay đổi sau khi ký đã được kiểm tra",
                Language::English =>
                    "kyso: no trust anchors are configured, so no signer can be trusted (NO_CERTIFICATE_CHAIN_FOUND): pass --trust ROOT.pem, or set [verify] profile = \"vn\" or [verify] trust in kyso.toml; integrity, signature values and changes after signing were checked",
            }
        );
    }
    if args.json {
        let out = match reports.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            _ => serde_json::to_string_pretty(&reports)?,
        };
        println!("{out}");
    }
    Ok(code)
}

/// Prints the record page to a PDF with a headless Chromium: the page is kyso's own (escaped
/// text, inline style, no script, nothing loaded), written to a fresh private folder beside the
/// output and removed afterwards.
fn print_pdf(page: &str, out: &Path, browser: &Path) -> anyhow::Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let work = parent.join(format!(".kyso-record-{}", std::process::id()));
    std::fs::create_dir(&work)
        .with_context(|| format!("making a working folder {}", work.display()))?;
    let printed = (|| {
        let html = work.join("record.html");
        std::fs::write(&html, page).with_context(|| format!("writing {}", html.display()))?;
        let html = std::fs::canonicalize(&html)?;
        let target = std::path::absolute(out)?;
        let status = std::process::Command::new(browser)
            .args([
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--disable-background-networking",
                "--no-pdf-header-footer",
            ])
            .arg(format!("--user-data-dir={}", std::path::absolute(&work)?.display()))
            .arg(format!("--print-to-pdf={}", target.display()))
            .arg(format!("file://{}", html.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| {
                format!(
                    "running {} to print the record (install chromium, or name another browser with --record-browser, or use --record-html and print it)",
                    browser.display()
                )
            })?;
        if !status.success() || !target.exists() {
            bail!(
                "{} did not print the record to {} ({status})",
                browser.display(),
                target.display()
            );
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    printed
}

/// The verifier the options describe; `force` overrides the revocation mode (the snapshot
/// command must fetch).
pub(super) fn build_verifier(
    runtime: &Runtime,
    args: &TrustArgs,
    force: Option<Revocation>,
) -> anyhow::Result<Verifier> {
    let config = &runtime.config.verify;
    // The profile's bundle, [verify] trust and the user's additions, less the user's removals;
    // then what the command line gives for this run.
    let anchors = kyso::anchors::Anchors::load(config).context("loading the trust anchors")?;
    let mut trust = anchors.trust_store();
    for path in &args.trust {
        trust
            .load(path)
            .with_context(|| format!("loading trust anchors from {}", path.display()))?;
    }
    // Without anchors a document is still checked (integrity, signature value, changes after
    // signing); every chain then reads NO_CERTIFICATE_CHAIN_FOUND, and `run` says why. A
    // revocation snapshot, though, is gathered along validated paths: it needs anchors.
    if trust.is_empty() && force.is_some() {
        bail!(
            "no trust anchors: pass --trust ROOT.pem (or set [verify] profile or [verify] trust in kyso.toml)"
        );
    }
    let mut pool = CertPool::new();
    anchors.add_intermediates_to(&mut pool);
    for path in config.certificates.iter().chain(&args.certs) {
        pool.load(path)
            .with_context(|| format!("loading certificates from {}", path.display()))?;
    }
    let mut evidence = Evidence::new();
    for path in config.crls.iter().chain(&args.crl) {
        for crl in read_crls(path)? {
            evidence.add_crl(crl);
        }
    }
    if let Some(path) = &args.revocation_snapshot {
        kyso::batch::snapshot::Snapshot::load(path)?.add_to(&mut evidence, &mut pool);
    }
    // A snapshot is there so that nothing is fetched: offline, unless the command line asks
    // otherwise (kyso.toml's setting was written for runs without a snapshot).
    let configured = if args.revocation_snapshot.is_some() {
        Some("offline")
    } else {
        config.revocation.as_deref()
    };
    let revocation = match args
        .revocation
        .as_deref()
        .or(configured)
        .unwrap_or("online")
    {
        "online" => Revocation::Online,
        "offline" => Revocation::Offline,
        "off" => Revocation::DangerouslyOff,
        other => bail!("revocation `{other}`: expected online, offline or off"),
    };
    let revocation = force.unwrap_or(revocation);
    let at = match &args.at {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .with_context(|| {
                    format!("--at {text}: not an RFC 3339 time such as 2026-06-30T17:00:00+07:00")
                })?
                // Reports carry times in UTC, whatever offset the clerk typed.
                .to_offset(time::UtcOffset::UTC)
        }
        None => time::OffsetDateTime::now_utc(),
    };
    let mut options = VerifyOptions::new(trust, at);
    options.certificates = pool;
    options.evidence = evidence;
    options.revocation = revocation;
    options.fetch = kyso::pki::fetch::FetchSettings::from_config(&runtime.config.revocation)
        .context("the [revocation] settings")?;
    options.xml_scope = config.xml_scope.unwrap_or_default();
    options.signer_key_usage = config.signer_key_usage();
    options.algorithms = config.algorithms.policy()?;
    Ok(Verifier::new(options))
}

/// Detached documents a file (by its name) or folder (by relative paths) supplies; bounded so
/// that a folder given by mistake (a home directory) is refused rather than read whole.
fn read_detached(paths: &[PathBuf]) -> anyhow::Result<DetachedContent> {
    /// Files and bytes one verification reads as detached content: a signature names a few
    /// attachments; 256 files or 1 GiB is a folder given by mistake.
    const MAX_FILES: usize = 256;
    const MAX_BYTES: u64 = 1 << 30;
    let mut detached = DetachedContent::new();
    let mut total = 0u64;
    let mut add = |name: String, path: &Path| -> anyhow::Result<()> {
        total += std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if detached.len() >= MAX_FILES || total > MAX_BYTES {
            bail!(
                "--detached: more than {MAX_FILES} files or {} MiB; name the documents the signature refers to",
                MAX_BYTES >> 20
            );
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        detached.add(name, bytes);
        Ok(())
    };
    for path in paths {
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                for entry in
                    std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
                {
                    let entry = entry?;
                    let kind = entry.file_type()?;
                    if kind.is_dir() {
                        stack.push(entry.path());
                    } else if kind.is_file() {
                        let relative = entry.path();
                        let relative = relative.strip_prefix(path).unwrap_or(&relative);
                        let name = relative
                            .components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect::<Vec<_>>()
                            .join("/");
                        add(name, &entry.path())?;
                    }
                }
            }
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .with_context(|| format!("--detached {}: not a file name", path.display()))?;
            add(name, path)?;
        }
    }
    Ok(detached)
}

fn read_crls(path: &Path) -> anyhow::Result<Vec<kyso::pki::crl::Crl>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    kyso::pki::crl::Crl::from_pem_or_der(&bytes)
        .with_context(|| format!("{} is not a CRL", path.display()))
}
