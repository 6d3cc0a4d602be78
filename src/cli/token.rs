//! `kyso token …`: list, keygen, import-cert, sign.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;

use kyso::signer::{SignatureScheme, Signer};
use kyso::token::{self, KeyAlgorithm, KeyOptions, PinSource, Token, TokenKey};

use super::{EXIT_ERROR, EXIT_OK, Runtime};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List slots, tokens, keys and certificates.
    List {
        /// PKCS#11 module (default: token.module from kyso.toml, else SoftHSM).
        #[arg(long, value_name = "PATH")]
        module: Option<PathBuf>,
        /// Log in to this token to list its private keys too (needed when the module has
        /// several tokens; the PIN is presented to no other token).
        #[arg(long, value_name = "LABEL")]
        token: Option<String>,
        /// Where the PIN comes from: file:/path, env:NAME or prompt. Never the PIN itself.
        #[arg(long, value_name = "SOURCE")]
        pin_source: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Generate a key pair inside a token.
    Keygen {
        /// Where to put the key: pkcs11:token=…;object=LABEL[;id=…][?module-path=…&pin-source=…]
        #[arg(long)]
        uri: String,
        /// Key type.
        #[arg(long, value_name = "rsa2048|rsa3072|p256|p384")]
        algo: KeyAlgorithm,
        /// Also write the public key (PEM SubjectPublicKeyInfo) to this file.
        #[arg(long, value_name = "FILE")]
        public_key_out: Option<PathBuf>,
    },
    /// Store a certificate (PEM or DER) on a token, next to its key when the URI names one.
    ImportCert {
        /// pkcs11:token=…;object=LABEL[;id=…]
        #[arg(long)]
        uri: String,
        /// The certificate file.
        cert: PathBuf,
    },
    /// Sign a file's bytes with a token key and write the bare signature (DER for ECDSA).
    Sign {
        /// pkcs11:token=…;object=…[?module-path=…&pin-source=…]
        #[arg(long)]
        key: String,
        /// Signature scheme (default: rsa-pkcs1-sha256 for RSA, ecdsa with the curve's digest).
        #[arg(long, value_name = "SCHEME")]
        scheme: Option<SignatureScheme>,
        input: PathBuf,
        output: PathBuf,
    },
}

pub fn run(runtime: &Runtime, command: &TokenCommand) -> anyhow::Result<u8> {
    match command {
        TokenCommand::List {
            module,
            token,
            pin_source,
            json,
        } => list(
            runtime,
            module.as_ref(),
            token.as_deref(),
            pin_source.as_deref(),
            *json,
        ),
        TokenCommand::Keygen {
            uri,
            algo,
            public_key_out,
        } => keygen(runtime, uri, *algo, public_key_out.as_ref()),
        TokenCommand::ImportCert { uri, cert } => import_cert(runtime, uri, cert),
        TokenCommand::Sign {
            key,
            scheme,
            input,
            output,
        } => sign(runtime, key, *scheme, input, output),
    }
}

fn list(
    runtime: &Runtime,
    module: Option<&PathBuf>,
    login_to: Option<&str>,
    pin_source: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let defaults = runtime.token_defaults(module)?;
    let Some(module) = defaults.module.clone() else {
        bail!("no PKCS#11 module: pass --module or set token.module in kyso.toml");
    };
    let pin_source = match pin_source {
        Some(text) => Some(PinSource::parse(text)?),
        None => defaults.pin_source.clone(),
    };
    let slots = token::inventory(&module, pin_source.as_ref().map(|p| (login_to, p)))?;
    if json {
        let plain: Vec<_> = slots.iter().map(|(slot, _)| slot).collect();
        println!("{}", serde_json::to_string_pretty(&plain)?);
    } else if slots.is_empty() {
        println!("no initialised token in {}", module.display());
    }
    let mut code = EXIT_OK;
    for (slot, login_error) in &slots {
        if !json {
            println!(
                "slot {} ({}): token \"{}\" — {} {} serial {}{}",
                slot.slot_id,
                slot.slot_description,
                slot.token_label,
                slot.manufacturer,
                slot.model,
                slot.serial,
                if slot.logged_in {
                    ", logged in"
                } else if slot.login_required {
                    ", not logged in: private keys hidden"
                } else {
                    ""
                }
            );
            for o in &slot.objects {
                let what = o
                    .key
                    .clone()
                    .or_else(|| o.subject.clone())
                    .unwrap_or_default();
                println!(
                    "  {:<12} {:<10} \"{}\"  {}",
                    format!("{:?}", o.kind).to_lowercase(),
                    what,
                    o.label,
                    o.uri
                );
            }
        }
        if let Some(e) = login_error {
            eprintln!("kyso: token \"{}\": {e}", slot.token_label);
            code = EXIT_ERROR;
        }
    }
    Ok(code)
}

/// Opens the token a URI names and logs in.
fn open_token(runtime: &Runtime, uri: &token::Pkcs11Uri) -> anyhow::Result<Arc<Token>> {
    let defaults = runtime.token_defaults(None)?;
    let token = Token::open(uri, &defaults)?;
    let pin_source = match &uri.pin_source {
        Some(text) => Some(PinSource::parse(text)?),
        None => defaults.pin_source.clone(),
    };
    token.ensure_login(pin_source.as_ref())?;
    Ok(token)
}

fn keygen(
    runtime: &Runtime,
    uri: &str,
    algorithm: KeyAlgorithm,
    public_key_out: Option<&PathBuf>,
) -> anyhow::Result<u8> {
    let uri = token::parse_uri(uri)?;
    let Some(label) = uri.object.clone() else {
        bail!("the URI must name the new key with object=LABEL");
    };
    let token = open_token(runtime, &uri)?;
    let key = token::generate_key_pair(&token, &label, uri.id.as_deref(), algorithm)?;
    let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", key.public_key_spki().to_vec()));
    if let Some(path) = public_key_out {
        std::fs::write(path, &pem).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("generated {algorithm} key in token \"{}\"", token.label());
    println!("  {}", key.uri());
    Ok(EXIT_OK)
}

fn import_cert(runtime: &Runtime, uri: &str, cert: &PathBuf) -> anyhow::Result<u8> {
    let uri = token::parse_uri(uri)?;
    let Some(label) = uri.object.clone() else {
        bail!("the URI must give the certificate a label with object=LABEL");
    };
    let bytes = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let der = match pem::parse(&bytes) {
        Ok(p) if p.tag() == "CERTIFICATE" => p.into_contents(),
        Ok(p) => bail!("{} holds a {}, not a CERTIFICATE", cert.display(), p.tag()),
        Err(_) => bytes,
    };
    let token = open_token(runtime, &uri)?;
    let id = token::import_certificate(&token, &label, uri.id.as_deref(), &der)?;
    println!(
        "certificate stored in token \"{}\" as \"{label}\" (id {})",
        token.label(),
        hex::encode(id)
    );
    Ok(EXIT_OK)
}

fn sign(
    runtime: &Runtime,
    key: &str,
    scheme: Option<SignatureScheme>,
    input: &PathBuf,
    output: &PathBuf,
) -> anyhow::Result<u8> {
    let uri = token::parse_uri(key)?;
    let defaults = runtime.token_defaults(None)?;
    let key = TokenKey::open(&uri, &defaults, KeyOptions { scheme })?;
    let data = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let signature = key.sign(&data)?;
    std::fs::write(output, signature.to_der())
        .with_context(|| format!("writing {}", output.display()))?;
    println!("signed {} with {}", input.display(), key.algorithm());
    Ok(EXIT_OK)
}
