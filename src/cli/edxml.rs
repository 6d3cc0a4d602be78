//! `kyso edxml pack DOCUMENT.pdf OUT.edxml`: an outgoing edXML package (QCVN 102:2016) from a
//! signed PDF, its appendices and the header's fields (a JSON file, `--header`, with flags over
//! it), optionally signed by the unit's key through the one signing path (`--key`).
//! Verification of packages is `kyso verify`, which recognises them.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use kyso::edxml::{AttachmentInput, Code, Header, Organ, Promulgation, SignerInfo};
use kyso::signer::SignatureScheme;
use kyso::signing::{DocumentKind, Signing, XmlForm};

use super::{EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum EdxmlCommand {
    /// Build an outgoing package from a signed PDF and the header's fields; with --key, sign
    /// it (an enveloped XMLDSig over the whole package, at the end of edXMLHeader).
    Pack(Box<PackArgs>),
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// The document: a signed PDF.
    document: PathBuf,
    /// Where to write the package (written only when it is complete).
    output: PathBuf,
    /// An appendix to attach after the document (any file). Repeatable.
    #[arg(long, value_name = "FILE")]
    appendix: Vec<PathBuf>,
    /// The header's fields as JSON (docs/manual/edxml.md shows the form); the flags below
    /// override it.
    #[arg(long, value_name = "JSON")]
    header: Option<PathBuf>,
    /// The sender's OrganId.
    #[arg(long, value_name = "ID")]
    from_organ_id: Option<String>,
    /// The sender's name.
    #[arg(long, value_name = "NAME")]
    from_name: Option<String>,
    /// A receiver's OrganId. Repeatable; replaces the JSON file's receivers.
    #[arg(long, value_name = "ID")]
    to_organ_id: Vec<String>,
    /// The receivers' names, in the order of --to-organ-id.
    #[arg(long, value_name = "NAME")]
    to_name: Vec<String>,
    /// DocumentId (default: SENDER,yyyy/MM/dd,NUMBER/SYMBOL, as the SDK writes it).
    #[arg(long, value_name = "ID")]
    document_id: Option<String>,
    /// The document's number (CodeNumber): 123.
    #[arg(long, value_name = "N")]
    number: Option<String>,
    /// The document's symbol (CodeNotation): QĐ-UBND.
    #[arg(long, value_name = "SYMBOL")]
    notation: Option<String>,
    /// The promulgation date: yyyy-MM-dd or yyyy/MM/dd.
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Where it was promulgated.
    #[arg(long, value_name = "PLACE")]
    place: Option<String>,
    /// The document type's name: Quyết định, Công văn.
    #[arg(long, value_name = "NAME")]
    type_name: Option<String>,
    /// The excerpt (Subject).
    #[arg(long)]
    subject: Option<String>,
    /// Who signed the document (SignerInfo/FullName).
    #[arg(long, value_name = "NAME")]
    signer_name: Option<String>,
    /// Their position (SignerInfo/Position).
    #[arg(long, value_name = "POSITION")]
    signer_position: Option<String>,
    /// Sign the package with this key: pkcs11:token=…;object=…[?module-path=…&pin-source=…]
    #[arg(long)]
    key: Option<String>,
    /// Issuer certificates for X509Data (PEM or DER), beside those on the token. Repeatable.
    #[arg(long, value_name = "PEM", requires = "key")]
    chain: Vec<PathBuf>,
    /// Signature scheme (default: rsa-pkcs1-sha256 for RSA, ecdsa with the curve's digest).
    #[arg(long, value_name = "SCHEME", requires = "key")]
    scheme: Option<SignatureScheme>,
    /// Sign as XAdES B-B (signing time and certificate) rather than plain XMLDSig, the form the
    /// SDK's samples have; --tsa makes XAdES B-T.
    #[arg(long, requires = "key")]
    xades: bool,
    /// XAdES B-T: a signature time-stamp from this RFC 3161 TSA.
    #[arg(long, value_name = "URL", requires = "key")]
    tsa: Option<String>,
}

pub fn run(runtime: &Runtime, command: &EdxmlCommand) -> anyhow::Result<u8> {
    let EdxmlCommand::Pack(args) = command;
    let header = header(args)?;
    // Everything checked before a file is written or the token opened.
    header.check_for_pack()?;
    let mut attachments = vec![read(&args.document)?];
    for path in &args.appendix {
        attachments.push(read(path)?);
    }
    let at = time::OffsetDateTime::now_utc();
    let (levels, form) = super::xml::xml_level_and_form(runtime, args.tsa.as_ref(), args.xades)?;
    if args.key.is_some() {
        Signing::check(
            levels.level,
            DocumentKind::Xml(form),
            levels.tsa.as_ref(),
            None,
        )?;
    }
    let package = kyso::edxml::pack(&header, &attachments, at)
        .with_context(|| format!("packing {}", args.document.display()))?;
    let (package, signed) = match &args.key {
        None => (package, "unsigned"),
        Some(key) => {
            let key = super::sign::open_key(
                runtime,
                key,
                &super::sign::RemoteKeyArgs::default(),
                args.scheme,
                &args.chain,
            )?;
            let (signed, _) = kyso::edxml::pack::sign(&package, &levels.signing(&key), form)
                .context("signing the package")?;
            (
                signed,
                match form {
                    XmlForm::XmlDsig => "signed (XMLDSig)",
                    XmlForm::Xades => "signed (XAdES)",
                },
            )
        }
    };
    super::sign::write_atomically(&args.output, |out| std::io::Write::write_all(out, &package))?;
    println!(
        "packed {} and {} appendix(es) → {} ({signed}, {} bytes)",
        args.document.display(),
        args.appendix.len(),
        args.output.display(),
        package.len()
    );
    Ok(EXIT_OK)
}

/// The JSON file's header with the flags over it.
fn header(args: &PackArgs) -> anyhow::Result<Header> {
    let base = match &args.header {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a header (JSON)", path.display()))?
        }
        None => Header::default(),
    };
    if args.to_name.len() > args.to_organ_id.len() {
        bail!("--to-name: one per --to-organ-id, in the same order");
    }
    let flags = Header {
        from: Organ {
            organ_id: args.from_organ_id.clone(),
            organ_name: args.from_name.clone(),
            ..Organ::default()
        },
        to: args
            .to_organ_id
            .iter()
            .enumerate()
            .map(|(n, id)| Organ {
                organ_id: Some(id.clone()),
                organ_name: args.to_name.get(n).cloned(),
                ..Organ::default()
            })
            .collect(),
        document_id: args.document_id.clone(),
        code: Code {
            number: args.number.clone(),
            notation: args.notation.clone(),
        },
        promulgation: Promulgation {
            place: args.place.clone(),
            date: args.date.clone(),
        },
        document_type: kyso::edxml::DocumentType {
            type_name: args.type_name.clone(),
            ..Default::default()
        },
        subject: args.subject.clone(),
        signer: SignerInfo {
            position: args.signer_position.clone(),
            full_name: args.signer_name.clone(),
            ..SignerInfo::default()
        },
        ..Header::default()
    };
    Ok(base.overridden_by(flags))
}

fn read(path: &Path) -> anyhow::Result<AttachmentInput> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{}: not a file name", path.display()))?;
    Ok(AttachmentInput {
        name,
        bytes,
        description: None,
    })
}
