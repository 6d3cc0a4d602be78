//! What a signing request is assembled from, shared by `kyso sign` and the service: the key with
//! its certificate and issuer chain, and the names a visible stamp shows.
//!
//! What it refuses: a key without a certificate (a signature must name its signer, ETSI EN 319
//! 142-1 §5.2.2 signing-certificate attribute), and certificate files that hold no certificate.

use std::path::{Path, PathBuf};

use crate::cms::SignerIdentity;
use crate::token::{self, KeyOptions, Pkcs11Uri, TokenDefaults, TokenKey};

/// Why a key could not be made ready to sign.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Token(#[from] token::Error),
    #[error(
        "the key {uri} has no certificate on the token: store one with `kyso token import-cert`"
    )]
    NoCertificate { uri: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Certificates { path: PathBuf, reason: String },
    #[error("the signer's certificate does not parse: {reason}")]
    Certificate { reason: String },
}

/// A token key with the certificate stored beside it and the issuers to embed.
pub struct KeyMaterial {
    pub key: TokenKey,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Issuer certificates, DER, nearest first: those on the token, then `extra` ones.
    pub chain: Vec<Vec<u8>>,
}

impl KeyMaterial {
    /// Opens the key `uri` names (logging in if needed) and gathers its certificates: the one
    /// stored with it, the issuers stored on the token, then `extra` (duplicates dropped).
    pub fn open(
        uri: &Pkcs11Uri,
        defaults: &TokenDefaults,
        options: KeyOptions,
        extra: &[Vec<u8>],
    ) -> Result<KeyMaterial, Error> {
        let key = TokenKey::open(uri, defaults, options)?;
        let Some(certificate) = key.certificate().map(<[u8]>::to_vec) else {
            return Err(Error::NoCertificate {
                uri: key.uri().to_string(),
            });
        };
        let mut chain = key.chain_from_token()?;
        for der in extra {
            if !chain.contains(der) && *der != certificate {
                chain.push(der.clone());
            }
        }
        Ok(KeyMaterial {
            key,
            certificate,
            chain,
        })
    }

    /// The identity `pades::sign` takes.
    pub fn identity(&self) -> SignerIdentity<'_> {
        SignerIdentity {
            signer: &self.key,
            certificate: &self.certificate,
            chain: &self.chain,
        }
    }

    /// The signer's certificate followed by its issuers: what XMLDSig's `X509Data` carries.
    pub fn certificates(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::with_capacity(self.chain.len() + 1);
        all.push(self.certificate.clone());
        all.extend(self.chain.iter().cloned());
        all
    }
}

/// The subject's common name, and its organisational unit or else its organisation: who signed
/// and for which unit, as a Vietnamese signing certificate states them. Values that are not text
/// (a BMPString, say) are skipped rather than shown garbled.
pub fn subject_names(certificate: &[u8]) -> Result<(Option<String>, Option<String>), Error> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(certificate).map_err(|e| Error::Certificate {
            reason: e.to_string(),
        })?;
    let subject = parsed.subject();
    let common_name = subject
        .iter_common_name()
        .find_map(|v| v.as_str().ok().map(str::to_owned));
    let unit = subject
        .iter_organizational_unit()
        .chain(subject.iter_organization())
        .find_map(|v| v.as_str().ok().map(str::to_owned));
    Ok((common_name, unit))
}

/// Certificates in a PEM file (any number) or a DER file (one).
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.starts_with(b"-----BEGIN") || bytes.iter().take(64).all(u8::is_ascii) {
        let pems = pem::parse_many(&bytes).map_err(|e| Error::Certificates {
            path: path.to_owned(),
            reason: format!("not PEM: {e}"),
        })?;
        let certs: Vec<Vec<u8>> = pems
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect();
        if certs.is_empty() {
            return Err(Error::Certificates {
                path: path.to_owned(),
                reason: "holds no CERTIFICATE".to_owned(),
            });
        }
        Ok(certs)
    } else {
        Ok(vec![bytes])
    }
}
