//! `kyso sign pdf|xml`: sign a document with a token key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::cms::SignerIdentity;
use kyso::pdf::{Appearance, Font, PngImage, Rect, SignatureOptions, VisibleSignature};
use kyso::signer::SignatureScheme;
use kyso::token::{self, KeyOptions, TokenKey};

use super::{EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a PDF (PAdES baseline B-B, B-T or B-LT, by incremental update: earlier signatures
    /// stay valid).
    Pdf(Box<PdfArgs>),
    /// Sign an XML document (XMLDSig; XAdES B-B with --xades, B-T with --tsa).
    Xml(super::xml::SignXmlArgs),
}

#[derive(Debug, Args)]
pub struct PdfArgs {
    /// The PDF to sign.
    input: PathBuf,
    /// Where to write the signed PDF (written only if signing succeeds).
    output: PathBuf,
    /// The signing key: pkcs11:token=…;object=…[?module-path=…&pin-source=file:…]
    #[arg(long)]
    key: String,
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
    /// Unit shown on a visible signature (default: the certificate's OU, else its O).
    #[arg(long, requires = "visible")]
    unit: Option<String>,
    /// Make the signature visible on page PAGE (from 1) in the rectangle X,Y,W,H, in points
    /// from the page's bottom-left corner.
    #[arg(long, value_name = "PAGE,X,Y,W,H", value_parser = parse_placement, conflicts_with = "page")]
    visible: Option<Placement>,
    /// Handwritten signature image for the visible signature (PNG, transparent background).
    #[arg(long, value_name = "PNG", requires = "visible")]
    signature_image: Option<PathBuf>,
    /// Seal image for the visible signature (PNG, transparent background), drawn over the
    /// left third of the signature image.
    #[arg(long, value_name = "PNG", requires = "visible")]
    seal_image: Option<PathBuf>,
    /// Name of the signature field (default: the first free SignatureN).
    #[arg(long)]
    field: Option<String>,
    /// Page carrying the (invisible) signature's widget, from 1.
    #[arg(long, default_value_t = 1)]
    page: usize,
    #[command(flatten)]
    levels: LevelArgs,
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
    let input =
        std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    // The font and images are read before the token is opened: a wrong path should not cost a
    // PIN entry.
    let stamp = args
        .visible
        .map(|_| StampInputs::read(runtime, args))
        .transpose()?;
    let uri = token::parse_uri(&args.key)?;
    let defaults = runtime.token_defaults(None)?;
    let key = TokenKey::open(
        &uri,
        &defaults,
        KeyOptions {
            scheme: args.scheme,
        },
    )?;
    let Some(certificate) = key.certificate().map(<[u8]>::to_vec) else {
        bail!(
            "the key has no certificate on the token: store one with `kyso token import-cert --uri '{}' CERT`",
            key.uri()
        );
    };
    let mut chain = key.chain_from_token()?;
    for path in &args.chain {
        for der in read_certificates(path)? {
            if !chain.contains(&der) && der != certificate {
                chain.push(der);
            }
        }
    }
    // Issuers neither the token nor the operator supplied: from the caIssuers URLs (AIA).
    let known: Vec<kyso::pki::Certificate> = std::iter::once(&certificate)
        .chain(&chain)
        .filter_map(|der| kyso::pki::Certificate::from_der(der).ok())
        .collect();
    let fetcher = kyso::pki::fetch::Online::new(
        std::time::Duration::from_secs(10),
        kyso::pki::fetch::OcspNonce::default(),
    );
    for issuer in fetcher.complete_chain(&known) {
        chain.push(issuer.der().to_vec());
    }
    let identity = SignerIdentity {
        signer: &key,
        certificate: &certificate,
        chain: &chain,
    };
    if args.page == 0 {
        bail!("pages are numbered from 1");
    }
    let levels = LevelSettings::new(runtime, &args.levels, &certificate, &chain)?;
    let sources = levels.sources();
    let level = levels.level(&sources);
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&identity, &level),
    );
    options.reason = args.reason.clone();
    options.location = args.location.clone();
    options.name = args.name.clone();
    options.field_name = args.field.clone();
    options.page = args.page - 1;
    if let (Some(placement), Some(stamp)) = (args.visible, stamp) {
        options.page = placement.page - 1;
        options.visible = Some(VisibleSignature {
            rect: placement.rect,
            appearance: stamp.appearance(args, &certificate)?,
        });
    }
    let signed = kyso::pades::sign(&input, &identity, &options, &level)
        .with_context(|| format!("signing {}", args.input.display()))?;
    write_atomically(&args.output, |out| signed.write_to(out))?;
    let shown = match args.visible {
        Some(p) => format!("visible on page {}", p.page),
        None => "invisible".to_owned(),
    };
    println!(
        "signed {} → {} (field {}, PAdES {}, {}, {shown})",
        args.input.display(),
        args.output.display(),
        signed.field_name(),
        level.name(),
        kyso::signer::Signer::algorithm(&key)
    );
    Ok(EXIT_OK)
}

/// The files a visible signature needs: the configured font and the images.
struct StampInputs {
    font: Font,
    signature_image: Option<PngImage>,
    seal_image: Option<PngImage>,
}

impl StampInputs {
    fn read(runtime: &Runtime, args: &PdfArgs) -> anyhow::Result<StampInputs> {
        let font = Font::load(&runtime.config.pdf.font).context("loading the signature font")?;
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
        Ok(appearance)
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

/// `--level`, `--tsa` and `--trust`: how much the PDF signature carries (PAdES baseline levels).
#[derive(Debug, Args)]
pub struct LevelArgs {
    /// PAdES baseline level: B-B (the signature), B-T (plus a signature time-stamp), B-LT (plus
    /// the chains' certificates, CRLs and OCSP responses in the document). Default: B-T when
    /// --tsa is given, else B-B.
    #[arg(long, value_enum, value_name = "LEVEL")]
    level: Option<LevelName>,
    /// RFC 3161 time-stamping authority for B-T and B-LT (http:// or https://); default: [tsa]
    /// url in kyso.toml (KYSO_TSA_URL). [tsa] ca and credentials apply as kyso.toml says.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Trust anchors (PEM or DER) the signer's and the TSA's chains must reach at B-LT, besides
    /// any self-signed certificate of the chain given with the key.
    #[arg(long, value_name = "FILE")]
    trust: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LevelName {
    #[value(name = "B-B")]
    Basic,
    #[value(name = "B-T")]
    Timestamp,
    #[value(name = "B-LT")]
    LongTerm,
}

/// What the chosen level needs, owned here so that [`kyso::pades::Level`] can borrow it: the
/// TSA, and for B-LT a validator and an online source of revocation evidence.
enum LevelSettings {
    Basic,
    Timestamp(kyso::pades::Tsa),
    LongTerm(
        kyso::pades::Tsa,
        Box<kyso::pki::Validator>,
        std::sync::Arc<kyso::pki::fetch::Online>,
    ),
}

/// Each CRL or OCSP request at B-LT: CAs' responders answer in well under a second.
const REVOCATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl LevelSettings {
    fn new(
        runtime: &Runtime,
        args: &LevelArgs,
        certificate: &[u8],
        chain: &[Vec<u8>],
    ) -> anyhow::Result<LevelSettings> {
        use kyso::pki::{CertPool, Certificate, TrustStore, ValidationPolicy, Validator};
        let name = match (args.level, &args.tsa) {
            (Some(LevelName::Basic), Some(_)) => {
                bail!("--tsa is for --level B-T or B-LT; B-B has no time-stamp")
            }
            (Some(name), _) => name,
            (None, Some(_)) => LevelName::Timestamp,
            (None, None) => LevelName::Basic,
        };
        if name == LevelName::Basic {
            return Ok(LevelSettings::Basic);
        }
        let Some(tsa) = runtime
            .config
            .tsa(args.tsa.clone())
            .context("the [tsa] settings")?
        else {
            bail!(
                "this level needs a time-stamping authority: give --tsa URL or set [tsa] url in kyso.toml (KYSO_TSA_URL)"
            );
        };
        if name == LevelName::Timestamp {
            return Ok(LevelSettings::Timestamp(tsa));
        }
        let mut anchors = TrustStore::new();
        for path in &args.trust {
            anchors
                .load(path)
                .with_context(|| format!("reading trust anchors {}", path.display()))?;
        }
        let mut pool = CertPool::new();
        for der in std::iter::once(certificate).chain(chain.iter().map(Vec::as_slice)) {
            let cert = Certificate::from_der(der).context("reading the signer's chain")?;
            // B-LT gathers evidence and refuses a revoked certificate; whether verifiers trust
            // the root is theirs to decide. So the root the key is used with serves as anchor.
            if cert.is_self_issued() && cert.is_ca() {
                anchors.add(cert);
            } else {
                pool.add(cert);
            }
        }
        if anchors.is_empty() {
            bail!(
                "B-LT needs the root of the signer's chain: add it with --chain ROOT.pem or --trust ROOT.pem"
            );
        }
        let online = std::sync::Arc::new(kyso::pki::fetch::Online::new(
            REVOCATION_TIMEOUT,
            kyso::pki::fetch::OcspNonce::Optional,
        ));
        let validator = Validator::new(anchors, pool, ValidationPolicy::default())
            .with_issuer_source(online.clone());
        Ok(LevelSettings::LongTerm(tsa, Box::new(validator), online))
    }

    fn sources(&self) -> Vec<&dyn kyso::pki::RevocationSource> {
        match self {
            LevelSettings::LongTerm(_, _, online) => vec![online.as_ref()],
            _ => Vec::new(),
        }
    }

    fn level<'a>(
        &'a self,
        sources: &'a [&'a dyn kyso::pki::RevocationSource],
    ) -> kyso::pades::Level<'a> {
        use kyso::pades::{Level, LongTerm};
        match self {
            LevelSettings::Basic => Level::BB,
            LevelSettings::Timestamp(tsa) => Level::BT { tsa: tsa.clone() },
            LevelSettings::LongTerm(tsa, validator, _) => Level::BLT {
                tsa: tsa.clone(),
                validation: LongTerm { validator, sources },
            },
        }
    }
}
