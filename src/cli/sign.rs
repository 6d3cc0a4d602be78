//! `kyso sign pdf|xml`: sign a document with a token key.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::cms::SignerIdentity;
use kyso::pdf::SignatureOptions;
use kyso::signer::SignatureScheme;
use kyso::token::{self, KeyOptions, TokenKey};

use super::{EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign a PDF (PAdES baseline B-B, incremental update: earlier signatures stay valid).
    Pdf(PdfArgs),
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
    /// Signer name to show (/Name); the certificate remains the authority.
    #[arg(long)]
    name: Option<String>,
    /// Name of the signature field (default: the first free SignatureN).
    #[arg(long)]
    field: Option<String>,
    /// Page carrying the signature's widget, from 1.
    #[arg(long, default_value_t = 1)]
    page: usize,
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
    let identity = SignerIdentity {
        signer: &key,
        certificate: &certificate,
        chain: &chain,
    };
    if args.page == 0 {
        bail!("pages are numbered from 1");
    }
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&identity),
    );
    options.reason = args.reason.clone();
    options.location = args.location.clone();
    options.name = args.name.clone();
    options.field_name = args.field.clone();
    options.page = args.page - 1;
    let signed = kyso::pades::sign(&input, &identity, &options)
        .with_context(|| format!("signing {}", args.input.display()))?;
    write_atomically(&args.output, |out| signed.write_to(out))?;
    println!(
        "signed {} → {} (field {}, PAdES B-B, {})",
        args.input.display(),
        args.output.display(),
        signed.field_name(),
        kyso::signer::Signer::algorithm(&key)
    );
    Ok(EXIT_OK)
}

/// Certificates in a PEM file (any number) or a DER file (one).
pub fn read_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"-----BEGIN") || bytes.iter().take(64).all(u8::is_ascii) {
        let pems =
            pem::parse_many(&bytes).with_context(|| format!("reading PEM {}", path.display()))?;
        let certs: Vec<Vec<u8>> = pems
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect();
        if certs.is_empty() {
            bail!("{} holds no CERTIFICATE", path.display());
        }
        Ok(certs)
    } else {
        Ok(vec![bytes])
    }
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
