//! `kyso sign pdf|xml`: sign a document with a token key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::pdf::decree30::{self, CopyForm, Stamp};
use kyso::pdf::{Appearance, Font, PngImage, Rect, SignatureOptions, Style, VisibleSignature};
use kyso::signer::SignatureScheme;
use kyso::signing::{DocumentKind, KeyMaterial, KeyName, Level, Signing, Trust};
use kyso::token::KeyOptions;

use super::{EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a PDF (PAdES baseline B-B, B-T, B-LT or B-LTA, by incremental update: earlier
    /// signatures stay valid).
    Pdf(Box<PdfArgs>),
    /// Sign an XML document (XMLDSig; XAdES B-B with --xades, B-T with --tsa, B-LT and B-LTA with --level).
    Xml(super::xml::SignXmlArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("placement").args(["visible", "stamp"]).multiple(true))]
pub struct PdfArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF (written only if signing succeeds).
    output: PathBuf,
    /// The signing key: pkcs11:token=…;object=…[?module-path=…&pin-source=file:…], or a
    /// remote credential csc:https://host/csc/v2#credential-id (docs/manual/remote-signing.md)
    #[arg(long)]
    key: String,
    #[command(flatten)]
    remote: RemoteKeyArgs,
    /// Issuer certificates to embed (PEM or DER files), in addition to those on the token.
    #[arg(long, value_name = "FILE")]
    chain: Vec<PathBuf>,
    /// Signature scheme (default: rsa-pkcs1-sha256 for RSA keys, ECDSA with the curve's digest).
    #[arg(long, value_name = "SCHEME")]
    scheme: Option<SignatureScheme>,
    /// Why the document is signed (/Reason).
    #[arg(long)]
    reason: Option<String>,
    /// Where it is signed (/Location).
    #[arg(long)]
    location: Option<String>,
    /// Signer name to show (/Name, and on a visible signature instead of the certificate's
    /// common name); the certificate remains the authority.
    #[arg(long)]
    name: Option<String>,
    /// Unit shown on a visible signature (default: the certificate's OU, else its O); on a
    /// `--stamp copy`, the copying agency.
    #[arg(long, requires = "placement")]
    unit: Option<String>,
    /// Make the signature visible on page PAGE (from 1) in the rectangle X,Y,W,H, in points
    /// from the page's bottom-left corner.
    #[arg(long, value_name = "PAGE,X,Y,W,H", value_parser = parse_placement, conflicts_with = "page")]
    visible: Option<Placement>,
    /// Handwritten signature image for the visible signature (PNG, transparent background).
    #[arg(long, value_name = "PNG", requires = "placement")]
    signature_image: Option<PathBuf>,
    /// Seal image for the visible signature (PNG, transparent background), drawn over the
    /// left third of the signature image.
    #[arg(long, value_name = "PNG", requires = "placement")]
    seal_image: Option<PathBuf>,
    /// A Decree 30/2020/NĐ-CP layout: `person` (the signature image centred in the --visible
    /// space between title and name), `agency` (the seal, real size, over the left third of
    /// the person's signature image), `attachment` or `copy` (top right of page 1, no image,
    /// the number or the form of copy, and the time).
    #[arg(long, value_enum, value_name = "STAMP")]
    stamp: Option<StampKind>,
    /// The seal's real width in millimetres, for `--stamp agency` when the PNG does not carry
    /// its resolution (pHYs).
    #[arg(long, value_name = "MM", requires = "stamp")]
    seal_width: Option<f64>,
    /// The main document's number and symbol (`12/QĐ-UBND`), for `--stamp attachment`.
    #[arg(long, value_name = "TEXT", requires = "stamp")]
    number: Option<String>,
    /// The form of copy for `--stamp copy`: sao-y (default), sao-luc or trich-sao.
    #[arg(long, value_name = "FORM", requires = "stamp", value_parser = parse_copy_form)]
    copy_form: Option<CopyForm>,
    /// Name of the signature field (default: the first free SignatureN).
    #[arg(long)]
    field: Option<String>,
    /// Page carrying the (invisible) signature's widget, from 1.
    #[arg(long, default_value_t = 1)]
    page: usize,
    #[command(flatten)]
    levels: LevelArgs,
}

/// The secrets of a `csc:` key, as sources (`file:/path`, `env:NAME`), never as values; each
/// defaults to `[csc]` in kyso.toml (KYSO_CSC_TOKEN_SOURCE, KYSO_CSC_PIN_SOURCE).
#[derive(Clone, Debug, Default, Args)]
pub struct RemoteKeyArgs {
    /// Where the CSC service's access token is (sent as Authorization: Bearer).
    #[arg(long, value_name = "SOURCE")]
    pub csc_token_source: Option<String>,
    /// Where the PIN for the credential's authorisation is (explicit authorisation mode).
    #[arg(long, value_name = "SOURCE")]
    pub csc_pin_source: Option<String>,
}

/// `--stamp`: the layouts of Decree 30/2020/NĐ-CP, Appendix I.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StampKind {
    Person,
    Agency,
    Attachment,
    Copy,
}

fn parse_copy_form(text: &str) -> Result<CopyForm, String> {
    CopyForm::parse(text)
        .ok_or_else(|| format!("`{text}` is not a form of copy: sao-y, sao-luc or trich-sao"))
}

/// `--visible PAGE,X,Y,W,H`, checked for form only: whether the page exists and the rectangle
/// fits on it is known once the document is read.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    /// From 1.
    page: usize,
    rect: Rect,
}

fn parse_placement(text: &str) -> Result<Placement, String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [page, x, y, w, h] = parts.as_slice() else {
        return Err(format!(
            "expected PAGE,X,Y,W,H (five comma-separated numbers), got `{text}`"
        ));
    };
    let page: usize = page
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| format!("page `{page}` is not a page number (pages count from 1)"))?;
    let number = |what: &str, v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| format!("{what} `{v}` is not a number of points"))
    };
    let rect = Rect::new(
        number("X", x)?,
        number("Y", y)?,
        number("W", w)?,
        number("H", h)?,
    )
    .map_err(|e| e.to_string())?;
    Ok(Placement { page, rect })
}

pub fn run(runtime: &Runtime, command: &SignCommand) -> anyhow::Result<u8> {
    match command {
        SignCommand::Pdf(args) => sign_pdf(runtime, args),
        SignCommand::Xml(args) => super::xml::run_sign(runtime, args),
    }
}

fn sign_pdf(runtime: &Runtime, args: &PdfArgs) -> anyhow::Result<u8> {
    if args.page == 0 {
        bail!("pages are numbered from 1");
    }
    let input =
        std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    // Everything the level needs, the font and the images are read before the token is opened:
    // a wrong path or a missing TSA should not cost a PIN entry.
    let levels = LevelChoice::read(runtime, &args.levels)?;
    Signing::check(
        levels.level,
        DocumentKind::Pdf,
        levels.tsa.as_ref(),
        levels.trust.as_ref(),
    )?;
    let stamp = (args.visible.is_some() || args.stamp.is_some())
        .then(|| StampInputs::read(runtime, args))
        .transpose()?;
    let key = open_key(runtime, &args.key, &args.remote, args.scheme, &args.chain)?;
    let mut options = SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
    options.reason = args.reason.clone();
    options.location = args.location.clone();
    options.name = args.name.clone();
    options.field_name = args.field.clone();
    options.page = args.page - 1;
    if let Some(stamp) = stamp {
        let appearance = stamp.appearance(args, &key.certificate)?;
        let given = args.visible.map(|p| (p.page - 1, p.rect));
        let (page, rect) = match &appearance.style {
            Style::Decree30(kind) => {
                decree30::place(&input, kind, &appearance, given, options.signing_time)
                    .context("placing the Decree 30 stamp")?
            }
            Style::Labelled => given.context("a visible signature needs --visible")?,
        };
        options.page = page;
        options.visible = Some(VisibleSignature { rect, appearance });
    }
    let shown = match (&options.visible, args.stamp) {
        (Some(_), Some(stamp)) => format!(
            "Decree 30 {} stamp on page {}",
            stamp_word(stamp),
            options.page + 1
        ),
        (Some(_), None) => format!("visible on page {}", options.page + 1),
        (None, _) => "invisible".to_owned(),
    };
    let signed = levels
        .signing(&key)
        .pdf(&input, options)
        .with_context(|| format!("signing {}", args.input.display()))?;
    write_atomically(&args.output, |out| signed.write_to(out))?;
    println!(
        "signed {} → {} (field {}, PAdES {}, {}, {shown})",
        args.input.display(),
        args.output.display(),
        signed.field.as_deref().unwrap_or("?"),
        levels.level.name(),
        kyso::signer::Signer::algorithm(&key.key)
    );
    Ok(EXIT_OK)
}

/// Opens the key with its certificate and issuers: those on the token, the `--chain` files,
/// then any the caIssuers URLs (AIA) lead to that neither supplied.
pub(super) fn open_key(
    runtime: &Runtime,
    key: &str,
    remote: &RemoteKeyArgs,
    scheme: Option<SignatureScheme>,
    chain_files: &[PathBuf],
) -> anyhow::Result<KeyMaterial> {
    let name = KeyName::parse(key)?;
    let mut extra = Vec::new();
    for path in chain_files {
        extra.extend(read_certificates(path)?);
    }
    let mut key = match name {
        KeyName::Token(uri) => {
            if remote.csc_token_source.is_some() || remote.csc_pin_source.is_some() {
                bail!(
                    "--csc-token-source and --csc-pin-source are for csc: keys; a PKCS#11 key's PIN source goes in its URI"
                );
            }
            let defaults = runtime.token_defaults(None)?;
            KeyMaterial::open(&uri, &defaults, KeyOptions { scheme }, &extra)?
        }
        KeyName::Remote(reference) => {
            let access = runtime
                .config
                .csc
                .access(
                    remote.csc_token_source.as_deref(),
                    remote.csc_pin_source.as_deref(),
                )
                .context("the CSC settings ([csc], --csc-token-source, --csc-pin-source)")?;
            KeyMaterial::open_remote(&reference, &access, KeyOptions { scheme }, &extra)
                .with_context(|| format!("opening the remote credential {reference}"))?
        }
    };
    let known: Vec<kyso::pki::Certificate> = std::iter::once(&key.certificate)
        .chain(&key.chain)
        .filter_map(|der| kyso::pki::Certificate::from_der(der).ok())
        .collect();
    let fetcher = kyso::pki::fetch::Online::new(
        std::time::Duration::from_secs(10),
        kyso::pki::fetch::OcspNonce::default(),
    );
    for issuer in fetcher.complete_chain(&known) {
        key.chain.push(issuer.der().to_vec());
    }
    Ok(key)
}

/// The files a visible signature needs: the configured font and the images.
struct StampInputs {
    font: Font,
    signature_image: Option<PngImage>,
    seal_image: Option<PngImage>,
}

impl StampInputs {
    fn read(runtime: &Runtime, args: &PdfArgs) -> anyhow::Result<StampInputs> {
        // A Decree 30 stamp is set in Times New Roman where the system has it.
        let path = match args.stamp {
            Some(_) => decree30::font_path(&runtime.config.pdf.font),
            None => runtime.config.pdf.font.clone(),
        };
        let font = Font::load(&path).context("loading the signature font")?;
        let image = |path: &Option<PathBuf>, what: &str| {
            path.as_deref().map(|p| read_png(p, what)).transpose()
        };
        Ok(StampInputs {
            font,
            signature_image: image(&args.signature_image, "signature image")?,
            seal_image: image(&args.seal_image, "seal image")?,
        })
    }

    /// What the stamp shows: name and unit from the options, else from the certificate.
    fn appearance(self, args: &PdfArgs, certificate: &[u8]) -> anyhow::Result<Appearance> {
        let (common_name, unit) = subject_names(certificate)?;
        let Some(signer) = args.name.clone().or(common_name) else {
            bail!("the certificate's subject has no common name to show: give --name");
        };
        let mut appearance =
            Appearance::new(Arc::new(self.font), signer, args.unit.clone().or(unit));
        appearance.signature_image = self.signature_image;
        appearance.seal_image = self.seal_image;
        if let Some(kind) = args.stamp {
            let stamp = match kind {
                StampKind::Person => Stamp::Person,
                StampKind::Agency => Stamp::Agency {
                    seal_width_mm: args.seal_width,
                },
                StampKind::Attachment => Stamp::Attachment {
                    number: args
                        .number
                        .clone()
                        .context("--stamp attachment shows the main document's number: give --number")?,
                },
                StampKind::Copy => Stamp::Copy {
                    form: args.copy_form.unwrap_or(CopyForm::SaoY),
                    agency: appearance.unit.clone().context(
                        "--stamp copy names the copying agency: the certificate has no O or OU, give --unit",
                    )?,
                },
            };
            appearance.style = Style::Decree30(stamp);
        }
        Ok(appearance)
    }
}

fn stamp_word(stamp: StampKind) -> &'static str {
    match stamp {
        StampKind::Person => "person",
        StampKind::Agency => "agency",
        StampKind::Attachment => "attachment",
        StampKind::Copy => "copy",
    }
}

fn subject_names(certificate: &[u8]) -> anyhow::Result<(Option<String>, Option<String>)> {
    Ok(kyso::signing::subject_names(certificate)?)
}

fn read_png(path: &Path, what: &str) -> anyhow::Result<PngImage> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))?;
    PngImage::decode(&bytes).with_context(|| format!("the {what} {}", path.display()))
}

/// Certificates in a PEM file (any number) or a DER file (one).
pub fn read_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    Ok(kyso::signing::read_certificates(path)?)
}

/// Writes `path` through a temporary file in the same folder, renamed into place only when
/// everything was written: a failure never leaves a half-written or partly signed document.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(".{}.kyso-tmp", name.to_string_lossy()));
    let result = (|| -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

/// `--level`, `--tsa` and `--trust`: how much the signature carries (the baseline levels).
#[derive(Debug, Args)]
pub struct LevelArgs {
    /// Baseline level: B-B (the signature), B-T (plus a signature time-stamp), B-LT (plus the
    /// chains' certificates, CRLs and OCSP responses in the document), B-LTA (plus an archive
    /// time-stamp over all of it). Default: B-T when --tsa is given, else B-B.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(super) level: Option<LevelName>,
    /// RFC 3161 time-stamping authority for B-T and above (http:// or https://); default: [tsa]
    /// url in kyso.toml (KYSO_TSA_URL). [tsa] ca and credentials apply as kyso.toml says.
    #[arg(long, value_name = "URL")]
    pub(super) tsa: Option<String>,
    /// Trust anchors (PEM or DER) the signer's and the TSA's chains must reach at B-LT and B-LTA, beside
    /// [verify] trust in kyso.toml: the same anchors the service checks with. The root the
    /// key's own chain ends in is not trusted for being there.
    #[arg(long, value_name = "FILE")]
    pub(super) trust: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum LevelName {
    #[value(name = "B-B")]
    Basic,
    #[value(name = "B-T")]
    Timestamp,
    #[value(name = "B-LT")]
    LongTerm,
    #[value(name = "B-LTA")]
    Archive,
}

/// The level chosen on the command line and what it needs: the TSA from `[tsa]` (or `--tsa`),
/// and for B-LT the `[verify]` trust plus `--trust`.
pub(super) struct LevelChoice {
    pub(super) level: Level,
    pub(super) tsa: Option<kyso::pades::Tsa>,
    pub(super) trust: Option<Trust>,
    /// `[verify.algorithms]`: a key below its floor does not sign.
    pub(super) algorithms: kyso::pki::AlgorithmPolicy,
}

impl LevelChoice {
    pub(super) fn read(runtime: &Runtime, args: &LevelArgs) -> anyhow::Result<LevelChoice> {
        let level = match (args.level, &args.tsa) {
            (Some(LevelName::Basic), Some(_)) => {
                bail!("--tsa is for --level B-T or B-LT; B-B has no time-stamp")
            }
            (Some(LevelName::Basic), None) | (None, None) => Level::BaselineB,
            (Some(LevelName::Timestamp), _) | (None, Some(_)) => Level::BaselineT,
            (Some(LevelName::LongTerm), _) => Level::BaselineLt,
            (Some(LevelName::Archive), _) => Level::BaselineLta,
        };
        let tsa = match level {
            Level::BaselineB => None,
            _ => runtime
                .config
                .tsa(args.tsa.clone())
                .context("the [tsa] settings")?,
        };
        let trust = match level {
            Level::BaselineLt | Level::BaselineLta => {
                let mut trust = Trust::configured(&runtime.config)?;
                for path in &args.trust {
                    trust.add_anchors(path)?;
                }
                Some(trust)
            }
            _ => None,
        };
        let algorithms = runtime
            .config
            .verify
            .algorithms
            .policy()
            .context("the [verify.algorithms] settings")?;
        Ok(LevelChoice {
            level,
            tsa,
            trust,
            algorithms,
        })
    }

    /// The signature to make with `key`, now.
    pub(super) fn signing<'a>(&'a self, key: &'a KeyMaterial) -> Signing<'a> {
        Signing {
            key,
            level: self.level,
            tsa: self.tsa.as_ref(),
            trust: self.trust.as_ref(),
            at: time::OffsetDateTime::now_utc(),
            algorithms: self.algorithms,
        }
    }
}
