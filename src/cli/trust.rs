//! `kyso trust list|show|add|remove`: the trust anchors verification uses, where each came from
//! (a profile's bundle, `[verify] trust`, the user), and the user's changes to them (Decree
//! 23/2025/NĐ-CP: verification software must let its user add and remove CA certificates).
//! Changes are kept in `[verify] trust_dir` (default `var/trust`), read by every later `kyso
//! verify`, `kyso sign --level B-LT` and `kyso serve` (at its start).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::anchors::{Anchors, Entry, Removal, UserTrust};
use kyso::pki::Certificate;
use kyso::pki::profile::Role;
use kyso::verify::text::Language;

use super::{EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// List every trusted certificate: subject, SHA-256 fingerprint, validity, source, hierarchy.
    List(ListArgs),
    /// Show one certificate in full.
    Show {
        /// Its SHA-256 fingerprint (or an unambiguous prefix of at least 8 hex digits).
        fingerprint: String,
        #[command(flatten)]
        output: Output,
    },
    /// Trust the CA certificates of a PEM or DER file from now on.
    Add {
        /// The certificate file (PEM may hold several).
        file: PathBuf,
    },
    /// Stop trusting an anchor (of the bundle, the configuration or added by the user).
    Remove {
        /// Its full SHA-256 fingerprint (64 hex digits; colons allowed).
        fingerprint: String,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    output: Output,
}

#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Language of the words: vi or en (default from the locale).
    #[arg(long, value_name = "vi|en")]
    lang: Option<String>,
}

impl Output {
    fn language(&self) -> anyhow::Result<Language> {
        super::language(self.lang.as_deref())
    }
}

pub fn run(runtime: &Runtime, command: &TrustCommand) -> anyhow::Result<u8> {
    let config = &runtime.config.verify;
    let user = UserTrust::new(config.trust_dir());
    match command {
        TrustCommand::List(args) => {
            let anchors = load(runtime)?;
            let language = args.output.language()?;
            if args.output.json {
                let list: Vec<_> = anchors.entries().iter().map(json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if anchors.entries().is_empty() {
                println!(
                    "{}",
                    words(
                        language,
                        "Chưa tin cậy chứng thư nào: đặt [verify] profile = \"vn\" hoặc [verify] trust trong kyso.toml, hoặc dùng kyso trust add.",
                        "No certificate is trusted: set [verify] profile = \"vn\" or [verify] trust in kyso.toml, or use kyso trust add.",
                    )
                );
            } else {
                for entry in anchors.entries() {
                    print!("{}", summary(entry, language));
                }
            }
            Ok(EXIT_OK)
        }
        TrustCommand::Show {
            fingerprint,
            output,
        } => {
            let anchors = load(runtime)?;
            let entry = anchors.find(fingerprint)?;
            if output.json {
                println!("{}", serde_json::to_string_pretty(&json(entry))?);
            } else {
                print!("{}", details(entry, output.language()?));
            }
            Ok(EXIT_OK)
        }
        TrustCommand::Add { file } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let certificates = Certificate::from_pem_or_der(&bytes)
                .with_context(|| format!("{} holds no certificate", file.display()))?;
            if certificates.is_empty() {
                bail!("{} holds no certificate", file.display());
            }
            // All or nothing: a file with a signer's certificate among CAs adds none of them.
            if let Some(leaf) = certificates.iter().find(|c| !c.is_ca()) {
                bail!(
                    "{}: {} is not a CA certificate (basicConstraints cA is not set), so nothing was added",
                    file.display(),
                    written(leaf, false)
                );
            }
            for certificate in &certificates {
                let path = user.add(certificate)?;
                println!(
                    "added / đã thêm: {}  SHA-256 {}  ({})",
                    written(certificate, false),
                    hex::encode_upper(certificate.fingerprint()),
                    path.display()
                );
            }
            Ok(EXIT_OK)
        }
        TrustCommand::Remove { fingerprint } => {
            if kyso::anchors::parse_fingerprint(fingerprint).is_none() {
                bail!(
                    "`{fingerprint}`: give the full SHA-256 fingerprint (64 hex digits) of the anchor to remove, as kyso trust list prints it"
                );
            }
            let anchors = load(runtime)?;
            let entry = anchors.find(fingerprint)?;
            let subject = written(&entry.certificate, false);
            match user.remove(entry)? {
                Removal::Deleted => {
                    println!("removed / đã gỡ: {subject} (user-added file deleted)")
                }
                Removal::Distrusted => println!(
                    "removed / đã gỡ: {subject} (no longer trusted; listed in {})",
                    user.dir().join("removed.txt").display()
                ),
            }
            Ok(EXIT_OK)
        }
    }
}

/// A name as the certificate writes it (the `pki` names are prepared for comparison).
fn written(certificate: &Certificate, issuer: bool) -> String {
    match x509_parser::parse_x509_certificate(certificate.der()) {
        Ok((_, parsed)) if issuer => parsed.issuer().to_string(),
        Ok((_, parsed)) => parsed.subject().to_string(),
        Err(_) if issuer => certificate.issuer().to_string(),
        Err(_) => certificate.subject().to_string(),
    }
}

fn load(runtime: &Runtime) -> anyhow::Result<Anchors> {
    Anchors::load(&runtime.config.verify).context("loading the trust anchors")
}

fn words(language: Language, vi: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Vietnamese => vi,
        _ => en,
    }
}

fn date(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn source_words(entry: &Entry, language: Language) -> String {
    use kyso::pki::AnchorSource;
    match (entry.source, language) {
        (AnchorSource::Profile(p), Language::Vietnamese) => format!("bộ chứng thư {}", p.name()),
        (AnchorSource::Config, Language::Vietnamese) => "cấu hình ([verify] trust)".to_owned(),
        (AnchorSource::UserAdded, Language::Vietnamese) => "người dùng thêm".to_owned(),
        (AnchorSource::Given, Language::Vietnamese) => "dòng lệnh".to_owned(),
        (AnchorSource::Profile(p), _) => format!("bundle {}", p.name()),
        (AnchorSource::Config, _) => "config ([verify] trust)".to_owned(),
        (AnchorSource::UserAdded, _) => "user-added".to_owned(),
        (AnchorSource::Given, _) => "command line".to_owned(),
    }
}

fn role_words(entry: &Entry, language: Language) -> &'static str {
    match entry.role {
        Role::Anchor => words(language, "gốc tin cậy", "trust anchor"),
        Role::Intermediate => words(language, "CA trung gian", "intermediate CA"),
    }
}

fn hierarchy_words(entry: &Entry, language: Language) -> String {
    match (entry.hierarchy, language) {
        (Some(h), Language::Vietnamese) => h.name_vi().to_owned(),
        (Some(h), _) => h.name_en().to_owned(),
        (None, _) => "—".to_owned(),
    }
}

fn status_words(entry: &Entry, language: Language) -> &'static str {
    if entry.removed {
        words(language, "ĐÃ GỠ (không tin cậy)", "REMOVED (not trusted)")
    } else {
        words(language, "tin cậy", "trusted")
    }
}

/// One entry of `kyso trust list`.
fn summary(entry: &Entry, language: Language) -> String {
    let c = &entry.certificate;
    let name = entry.name.clone().unwrap_or_else(|| written(c, false));
    let (valid, source, hierarchy, fingerprint) = match language {
        Language::Vietnamese => ("hiệu lực", "nguồn", "hệ thống chứng thực", "SHA-256"),
        _ => ("valid", "source", "hierarchy", "SHA-256"),
    };
    format!(
        "{name}\n  {status}, {role}\n  {fingerprint} {}\n  {valid} {} – {}\n  {source}: {}\n  {hierarchy}: {}{}\n",
        hex::encode_upper(c.fingerprint()),
        date(c.not_before()),
        date(c.not_after()),
        source_words(entry, language),
        hierarchy_words(entry, language),
        entry
            .generation
            .map(|g| format!(" (G{g})"))
            .unwrap_or_default(),
        status = status_words(entry, language),
        role = role_words(entry, language),
    )
}

/// `kyso trust show`.
fn details(entry: &Entry, language: Language) -> String {
    let c = &entry.certificate;
    let algorithm = match c.signature_algorithm() {
        Ok(a) => format!("{a:?}"),
        Err(e) => e.to_string(),
    };
    let labels: [&str; 6] = match language {
        Language::Vietnamese => [
            "Chủ thể",
            "Tổ chức cấp",
            "Số hiệu",
            "Hiệu lực",
            "Thuật toán ký",
            "Nguồn",
        ],
        _ => [
            "Subject",
            "Issuer",
            "Serial",
            "Valid",
            "Signature algorithm",
            "Source",
        ],
    };
    let mut out = summary(entry, language);
    out.push_str(&format!(
        "  {}: {}\n  {}: {}\n  {}: {}\n  {}: {} – {}\n  {}: {algorithm}\n  {}: {}\n",
        labels[0],
        written(c, false),
        labels[1],
        written(c, true),
        labels[2],
        hex::encode_upper(c.serial()),
        labels[3],
        date(c.not_before()),
        date(c.not_after()),
        labels[4],
        labels[5],
        source_words(entry, language),
    ));
    out
}

fn json(entry: &Entry) -> serde_json::Value {
    let c = &entry.certificate;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    serde_json::json!({
        "subject": written(c, false),
        "issuer": written(c, true),
        "name": entry.name,
        "sha256": hex::encode_upper(c.fingerprint()),
        "serial": hex::encode_upper(c.serial()),
        "not_before": rfc3339(c.not_before()),
        "not_after": rfc3339(c.not_after()),
        "source": entry.source.code(),
        "role": match entry.role { Role::Anchor => "anchor", Role::Intermediate => "intermediate" },
        "hierarchy": entry.hierarchy.map(kyso::pki::Hierarchy::code),
        "hierarchy_name": entry.hierarchy.map(kyso::pki::Hierarchy::name_en),
        "hierarchy_name_vi": entry.hierarchy.map(kyso::pki::Hierarchy::name_vi),
        "generation": entry.generation,
        "removed": entry.removed,
    })
}
