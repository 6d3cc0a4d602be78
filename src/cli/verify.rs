//! `kyso verify FILE…`: a verdict on every signature of each document, in plain words or JSON.
//!
//! Exit codes: 0 when every signature of every document is TOTAL-PASSED, 1 when any is not (or a
//! document carries no signature), 2 when a file cannot be read or the options are wrong.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use kyso::pki::{CertPool, Evidence, TrustStore};
use kyso::verify::text::{self, Language};
use kyso::verify::{Revocation, Verifier, VerifyOptions};

use super::{EXIT_ERROR, EXIT_OK, Runtime};

/// Exit code: a document is invalid or indeterminate.
const EXIT_INVALID: u8 = 1;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// PDF or XML documents (recognised by content).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Trust anchors: PEM/DER certificate files or folders (also [verify] trust in kyso.toml).
    #[arg(long, value_name = "PEM|DIR")]
    trust: Vec<PathBuf>,
    /// Extra intermediate certificates (PEM/DER).
    #[arg(long, value_name = "PEM")]
    certs: Vec<PathBuf>,
    /// CRL files to use as revocation evidence.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// Where revocation evidence may come from: online (embedded first, then CRL/OCSP over the
    /// network), offline (embedded and given only), off (never TOTAL-PASSED).
    #[arg(long, value_name = "online|offline|off")]
    revocation: Option<String>,
    /// Validate as at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Language of the words: vi or en (default from the locale).
    #[arg(long, value_name = "vi|en")]
    lang: Option<String>,
    /// Print the JSON report instead (one document: an object; several: an array).
    #[arg(long)]
    json: bool,
}

pub fn run(runtime: &Runtime, args: &VerifyArgs) -> anyhow::Result<u8> {
    let verifier = build_verifier(runtime, args)?;
    let language = match args.lang.as_deref() {
        Some("vi") => Language::Vietnamese,
        Some("en") => Language::English,
        Some(other) => bail!("--lang {other}: expected vi or en"),
        None => Language::from_locale(
            &std::env::var("LC_ALL")
                .or_else(|_| std::env::var("LANG"))
                .unwrap_or_default(),
        ),
    };
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
        let report = verifier.verify(&bytes);
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
                println!("== {}", file.display());
            }
            print!("{}", text::render(&report, language));
        }
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

fn build_verifier(runtime: &Runtime, args: &VerifyArgs) -> anyhow::Result<Verifier> {
    let config = &runtime.config.verify;
    let mut trust = TrustStore::new();
    for path in config.trust.iter().chain(&args.trust) {
        trust
            .load(path)
            .with_context(|| format!("loading trust anchors from {}", path.display()))?;
    }
    if trust.is_empty() {
        bail!("no trust anchors: pass --trust ROOT.pem (or set [verify] trust in kyso.toml)");
    }
    let mut pool = CertPool::new();
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
    let revocation = match args
        .revocation
        .as_deref()
        .or(config.revocation.as_deref())
        .unwrap_or("online")
    {
        "online" => Revocation::Online,
        "offline" => Revocation::Offline,
        "off" => Revocation::DangerouslyOff,
        other => bail!("revocation `{other}`: expected online, offline or off"),
    };
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
    Ok(Verifier::new(options))
}

fn read_crls(path: &Path) -> anyhow::Result<Vec<kyso::pki::crl::Crl>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    kyso::pki::crl::Crl::from_pem_or_der(&bytes)
        .with_context(|| format!("{} is not a CRL", path.display()))
}
