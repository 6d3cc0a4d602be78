//! `kyso sign xml IN OUT --key pkcs11:… [--chain PEM]… [--xades] [--tsa URL] [--detached]`: a thin
//! wrapper over [`kyso::xml::sign`]. The clock is read here and nowhere below. Verification goes
//! through `kyso verify`, which adds the trust and revocation decisions `xml::verify` leaves out.

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, bail};

use kyso::signer::{SignatureScheme, Signer};
use kyso::token::{self, KeyOptions, TokenKey};
use kyso::xml::{self, Level, OtherSignatures, Packaging, SignOptions};

use super::{EXIT_OK, Runtime};

#[derive(Debug, clap::Args)]
pub struct SignXmlArgs {
    /// The XML document to sign (UTF-8 or UTF-16; no DTD).
    pub input: PathBuf,
    /// Where to write the signed document (or, with --detached, the signature).
    pub output: PathBuf,
    /// The signing key: pkcs11:token=…;object=…[?module-path=…&pin-source=…]
    #[arg(long)]
    pub key: String,
    /// Signature scheme (default: rsa-pkcs1-sha256 for RSA, ecdsa with the curve's digest).
    #[arg(long, value_name = "SCHEME")]
    pub scheme: Option<SignatureScheme>,
    /// Certificates for X509Data, PEM, signer's first; repeatable. Default: the certificate
    /// stored on the token with the key.
    #[arg(long, value_name = "PEM")]
    pub chain: Vec<PathBuf>,
    /// XAdES baseline B-B (SigningTime, SigningCertificateV2).
    #[arg(long)]
    pub xades: bool,
    /// XAdES baseline B-T: add a signature time-stamp from this RFC 3161 TSA (http:// or
    /// https://; [tsa] ca and credentials apply as kyso.toml says).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
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

pub fn run_sign(runtime: &Runtime, args: &SignXmlArgs) -> anyhow::Result<u8> {
    let uri = token::parse_uri(&args.key)?;
    let defaults = runtime.token_defaults(None)?;
    let key = TokenKey::open(
        &uri,
        &defaults,
        KeyOptions {
            scheme: args.scheme,
        },
    )?;
    let mut chain: Vec<Vec<u8>> = Vec::new();
    for path in &args.chain {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let blocks =
            pem::parse_many(&text).with_context(|| format!("{} is not PEM", path.display()))?;
        chain.extend(
            blocks
                .into_iter()
                .filter(|b| b.tag() == "CERTIFICATE")
                .map(|b| b.into_contents()),
        );
    }
    if let Some(stored) = key.certificate()
        && chain.first().map(Vec::as_slice) != Some(stored)
    {
        chain.insert(0, stored.to_vec());
    }
    if chain.is_empty() {
        bail!("no certificate: the token holds none for this key; pass --chain signer.pem");
    }
    let document =
        std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let mut options = SignOptions::new(SystemTime::now());
    options.level = match (&args.tsa, args.xades) {
        (Some(url), _) => {
            // [tsa]'s CA, and its credentials when --tsa names the same TSA.
            let tsa = runtime
                .config
                .tsa(Some(url.clone()))
                .context("the [tsa] settings")?
                .context("BUG: a TSA URL was given")?;
            options.tsa_timeout = tsa.timeout;
            options.tsa_access = tsa.access;
            Level::XadesT { tsa_url: tsa.url }
        }
        (None, true) => Level::XadesB,
        (None, false) => Level::XmlDsig,
    };
    options.packaging = if args.detached {
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
    if args.parallel {
        options.other_signatures = OtherSignatures::Excluded;
    }
    let signed = xml::sign(&document, &key, &chain, &options)
        .with_context(|| format!("signing {}", args.input.display()))?;
    super::sign::write_atomically(&args.output, |out| out.write_all(&signed))?;
    println!(
        "signed {} with {} → {}",
        args.input.display(),
        key.algorithm(),
        args.output.display()
    );
    Ok(EXIT_OK)
}
