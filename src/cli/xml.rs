//! `kyso sign xml IN OUT --key pkcs11:… [--chain PEM]… [--xades] [--level B-B|B-T|B-LT|B-LTA]
//! [--tsa URL] [--trust PEM]… [--detached]`: the
//! same signing path as the service ([`kyso::signing::Signing::xml`]). Verification goes through
//! `kyso verify`, which adds the trust and revocation decisions `xml::verify` leaves out.

use std::path::PathBuf;

use anyhow::Context;

use kyso::signer::{SignatureScheme, Signer};
use kyso::signing::{DocumentKind, Level, Signing, XmlForm, XmlOptions};
use kyso::xml::{OtherSignatures, Packaging};

use super::sign::{LevelArgs, LevelChoice, LevelName};
use super::{EXIT_OK, Runtime};

#[derive(Debug, clap::Args)]
pub struct SignXmlArgs {
    /// The XML document to sign (UTF-8 or UTF-16; no DTD).
    pub input: PathBuf,
    /// Where to write the signed document (or, with --detached, the signature).
    pub output: PathBuf,
    /// The signing key: pkcs11:token=…;object=…[?module-path=…&pin-source=…], or a remote
    /// credential csc:https://host/csc/v2#credential-id (docs/manual/remote-signing.md)
    #[arg(long)]
    pub key: String,
    #[command(flatten)]
    pub remote: super::sign::RemoteKeyArgs,
    /// Signature scheme (default: rsa-pkcs1-sha256 for RSA, ecdsa with the curve's digest).
    #[arg(long, value_name = "SCHEME")]
    pub scheme: Option<SignatureScheme>,
    /// Issuer certificates for X509Data (PEM or DER), in addition to those on the token; the
    /// signer's own when the token stores none with the key. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub chain: Vec<PathBuf>,
    /// XAdES baseline B-B (SigningTime, SigningCertificateV2).
    #[arg(long)]
    pub xades: bool,
    /// XAdES baseline level: B-B, B-T (plus a signature time-stamp), B-LT (plus the chains'
    /// certificates, CRLs and OCSP responses in CertificateValues/RevocationValues), B-LTA (plus
    /// an archive time-stamp). Default: B-T when --tsa is given, else B-B. Above B-B the
    /// signature is XAdES.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub level: Option<LevelName>,
    /// XAdES baseline B-T: add a signature time-stamp from this RFC 3161 TSA (http:// or
    /// https://; [tsa] ca and credentials apply as kyso.toml says); default for B-T and above:
    /// [tsa] url in kyso.toml (KYSO_TSA_URL).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Trust anchors (PEM or DER) the signer's and the TSA's chains must reach at B-LT and
    /// B-LTA, beside [verify] trust in kyso.toml.
    #[arg(long, value_name = "FILE")]
    pub trust: Vec<PathBuf>,
    /// Write a detached signature referencing INPUT by its file name.
    #[arg(long, conflicts_with = "enveloping")]
    pub detached: bool,
    /// Put the document inside the signature (ds:Object) instead of the signature inside it.
    #[arg(long)]
    pub enveloping: bool,
    /// Exclude every ds:Signature from the signed content, so that further signatures (a unit's
    /// seal after an officer's signature) can be added without breaking this one.
    #[arg(long, conflicts_with_all = ["detached", "enveloping"])]
    pub parallel: bool,
}

/// The level and form of an XML signature: `--tsa` makes B-T, which is XAdES; otherwise plain
/// XMLDSig unless `--xades` asks for XAdES B-B. `kyso sign xml` and `kyso edxml pack` share it.
pub(super) fn xml_level_and_form(
    runtime: &Runtime,
    tsa: Option<&String>,
    xades: bool,
) -> anyhow::Result<(LevelChoice, XmlForm)> {
    let args = LevelArgs {
        level: None,
        tsa: tsa.cloned(),
        trust: Vec::new(),
    };
    levels_and_form(runtime, &args, xades)
}

/// Like [`xml_level_and_form`] with a level named (`--level`): any level above B-B is XAdES.
fn levels_and_form(
    runtime: &Runtime,
    args: &LevelArgs,
    xades: bool,
) -> anyhow::Result<(LevelChoice, XmlForm)> {
    let levels = LevelChoice::read(runtime, args)?;
    let form = if xades || levels.level != Level::BaselineB {
        XmlForm::Xades
    } else {
        XmlForm::XmlDsig
    };
    Ok((levels, form))
}

pub fn run_sign(runtime: &Runtime, args: &SignXmlArgs) -> anyhow::Result<u8> {
    let document =
        std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let level_args = LevelArgs {
        level: args.level,
        tsa: args.tsa.clone(),
        trust: args.trust.clone(),
    };
    let (levels, form) = levels_and_form(runtime, &level_args, args.xades)?;
    Signing::check(
        levels.level,
        DocumentKind::Xml(form),
        levels.tsa.as_ref(),
        levels.trust.as_ref(),
    )?;
    let packaging = if args.detached {
        let name = args
            .input
            .file_name()
            .and_then(|n| n.to_str())
            .context("the input file name is not UTF-8")?;
        Packaging::Detached {
            uri: name.to_owned(),
        }
    } else if args.enveloping {
        Packaging::Enveloping
    } else {
        Packaging::Enveloped
    };
    let options = XmlOptions {
        packaging,
        other_signatures: if args.parallel {
            OtherSignatures::Excluded
        } else {
            OtherSignatures::default()
        },
        form,
    };
    let key = super::sign::open_key(runtime, &args.key, &args.remote, args.scheme, &args.chain)?;
    let signed = levels
        .signing(&key)
        .xml(&document, options)
        .with_context(|| format!("signing {}", args.input.display()))?;
    super::sign::write_atomically(&args.output, |out| signed.write_to(out))?;
    println!(
        "signed {} with {} → {} ({})",
        args.input.display(),
        key.key.algorithm(),
        args.output.display(),
        match (form, levels.level) {
            (XmlForm::XmlDsig, _) => "XMLDSig",
            (_, Level::BaselineB) => "XAdES B-B",
            (_, Level::BaselineT) => "XAdES B-T",
            (_, Level::BaselineLt) => "XAdES B-LT",
            (_, Level::BaselineLta) => "XAdES B-LTA",
        }
    );
    Ok(EXIT_OK)
}
