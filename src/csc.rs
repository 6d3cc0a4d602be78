//! Keys held by a remote signing service that speaks the Cloud Signature Consortium API
//! (CSC API v2.0, and v1.0.4 where the two differ): a [`CscKey`] is a [`Signer`] whose private
//! key never leaves the provider. Its certificate and chain come from `credentials/info`; each
//! signature is one `credentials/authorize` for the exact hash, then one `signatures/signHash`.
//!
//! Owns: naming a remote credential ([`CredentialRef`], `csc:https://host/csc/v2#credential-id`),
//! the secrets an exchange needs ([`Access`]: the bearer token, and for explicit authorisation a
//! PIN and an OTP, each from a `file:`/`env:` [`SecretSource`], held zeroizing and never
//! written anywhere), choosing the `signAlgo` for the key and turning the answer into the
//! [`Signature`] the trait returns (ECDSA's DER `ECDSA-Sig-Value` into `r‖s`). Every signature a
//! provider returns is checked against the credential's certificate before it is used, so a
//! provider that signs with another key, or answers garbage, is an error here rather than an
//! invalid document later.
//!
//! Refuses: a refused authorisation is never retried with the same secrets (a provider may lock
//! the credential after a few wrong PINs or OTPs, as a token does): refusals are remembered for
//! the life of the process as keyed fingerprints, never as the secrets. Secrets are sent over
//! `https://` only, or over `http://` to a loopback address (a provider on the same machine).
//!
//! The protocol's steps live in [`protocol`], one function per CSC method. The asynchronous
//! mode (v2: a `signHash` answered with a `responseID`, confirmed later on the holder's phone,
//! its outcome asked for with `signatures/signPolling`) is [`CscKey::start_asynchronous`] and
//! [`CscKey::poll_asynchronous`], which [`asynchronous`] offers to the service's signing jobs as
//! one more provider of signatures confirmed later ([`crate::phone::Provider`]).

pub mod asynchronous;
mod protocol;

use std::fmt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::ber::{self, tag};
use crate::http::TlsRoots;
use crate::pki::signature::KeyKind;
use crate::secret::{self, SecretSource};
use crate::signer::{
    Curve, DigestAlgorithm, SignError, Signature, SignatureAlgorithm, SignatureScheme, Signer,
};

pub use protocol::Version;

/// The prefix that names a remote credential where a PKCS#11 URI could stand.
pub const SCHEME: &str = "csc:";

/// The largest answer read from a provider. A `credentials/info` with a chain of four
/// certificates is under 10 KB; a signature under 1 KB.
pub const MAX_RESPONSE: u64 = 1 << 20;

/// What went wrong with a remote signing service. No variant holds a secret: the bearer token,
/// PIN, OTP and SAD are never formatted, and a provider's own error text is shortened and
/// stripped of control characters before it is shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "not a CSC credential name: {reason} (expected csc:https://host/path/csc/v2#credential-id)"
    )]
    BadReference { reason: &'static str },
    #[error(
        "refusing to send CSC credentials to {url}: they go over https:// (or http:// to this machine) only"
    )]
    CredentialsOverHttp { url: String },
    #[error("CSC secrets: {0}")]
    Secret(#[from] secret::Error),
    #[error("cannot use {} as the CSC service's CA: {reason}", path.display())]
    CaFile {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("cannot reach the CSC service at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("TLS with the CSC service at {url} failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("the CSC service at {url} did not answer within {} s", deadline.as_secs_f32())]
    Timeout { url: String, deadline: Duration },
    #[error("the CSC service at {url} answered HTTP 401: {}", if *credentials_sent {
        "it refused the access token (check the token source)"
    } else {
        "it wants an access token (give a token source)"
    })]
    Unauthorized { url: String, credentials_sent: bool },
    #[error("the CSC service at {url} has no credential `{credential}`")]
    CredentialNotFound { url: String, credential: String },
    #[error("the CSC credential `{credential}` at {url} is disabled")]
    CredentialDisabled { url: String, credential: String },
    #[error(
        "the CSC service at {url} refused to authorise a signature with `{credential}` ({reason}): not retried with the same secrets, since a provider may lock the credential; fix the PIN/OTP source and try again"
    )]
    AuthorizationRefused {
        url: String,
        credential: String,
        reason: String,
    },
    #[error(
        "the CSC service at {url} already refused to authorise `{credential}` with these secrets; kyso will not present them again"
    )]
    AlreadyRefused { url: String, credential: String },
    #[error("the CSC service at {url} refused {method} (HTTP {status}): {reason}")]
    Refused {
        url: String,
        method: &'static str,
        status: u16,
        reason: String,
    },
    #[error("the CSC service at {url} answered HTTP {status} to {method}")]
    HttpStatus {
        url: String,
        method: &'static str,
        status: u16,
    },
    #[error("the CSC service's answer to {method} is larger than {limit} bytes")]
    TooLarge { method: &'static str, limit: u64 },
    #[error("the CSC service's answer to {method} is malformed: {reason}")]
    Malformed {
        method: &'static str,
        reason: String,
    },
    #[error("the CSC service at {url} speaks CSC API {specs}; kyso speaks 1.0.4 and 2.0")]
    UnsupportedVersion { url: String, specs: String },
    #[error("the CSC credential `{credential}` cannot sign for kyso: {reason}")]
    UnsupportedKey { credential: String, reason: String },
    #[error(
        "the CSC service at {url} answered signHash asynchronously, with a responseID: give the key mode = \"async\" in [[serve.keys]] so that `kyso serve` signs with it through signing jobs"
    )]
    Asynchronous { url: String },
    #[error(
        "the CSC service at {url} speaks CSC API 1.0.4, which has no asynchronous mode: use mode = \"sync\" for this key"
    )]
    AsynchronousUnsupported { url: String },
    #[error(
        "the CSC service at {url} signed at once a request kyso made in the asynchronous mode: use mode = \"sync\" for this key"
    )]
    SignedSynchronously { url: String },
    #[error(
        "the signature the CSC service returned for `{credential}` does not verify with the credential's certificate ({algorithm})"
    )]
    WrongSignature {
        credential: String,
        algorithm: SignatureAlgorithm,
    },
}

/// What an asynchronous request has come to ([`CscKey::poll_asynchronous`]).
#[derive(Debug)]
pub enum Polled {
    Pending,
    /// The signature, in the form the [`Signer`] trait returns; not yet checked.
    Signed(Signature),
    Refused {
        reason: String,
    },
    Expired {
        reason: String,
    },
}

/// A remote credential: the service's base URL (the path its methods hang under, as
/// `https://host/csc/v2`) and the credential's id there. Written `csc:BASE#ID`, the id
/// percent-encoded where it holds `%` or `#`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRef {
    pub service: String,
    pub credential: String,
}

impl CredentialRef {
    /// Parses `csc:http(s)://host[:port]/path#credential-id`. A URL with a user or password in
    /// it is refused, and not quoted: secrets come from sources.
    pub fn parse(text: &str) -> Result<CredentialRef, Error> {
        let bad = |reason| Error::BadReference { reason };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or(bad("it does not start with csc:"))?;
        let (service, credential) = rest
            .split_once('#')
            .ok_or(bad("no #credential-id after the service URL"))?;
        let after_scheme = service
            .strip_prefix("https://")
            .or_else(|| service.strip_prefix("http://"))
            .ok_or(bad("the service URL must be http:// or https://"))?;
        let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
        if authority.is_empty() {
            return Err(bad("the service URL has no host"));
        }
        if authority.contains('@') {
            return Err(bad(
                "the service URL carries credentials: give them through a token source",
            ));
        }
        if service.contains('?') {
            return Err(bad("the service URL has a query"));
        }
        let credential = percent_decode(credential).ok_or(bad("the credential id is not UTF-8"))?;
        if credential.is_empty() {
            return Err(bad("the credential id is empty"));
        }
        Ok(CredentialRef {
            service: service.trim_end_matches('/').to_owned(),
            credential,
        })
    }

    /// Whether `text` names a remote credential rather than a PKCS#11 key.
    pub fn is_csc(text: &str) -> bool {
        text.starts_with(SCHEME)
    }
}

impl fmt::Display for CredentialRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.credential.replace('%', "%25").replace('#', "%23");
        write!(f, "{SCHEME}{}#{id}", self.service)
    }
}

/// Where a remote credential's secrets come from and how its service is reached.
#[derive(Clone, Debug)]
pub struct Access {
    /// The OAuth 2.0 access token (or the provider's API key) sent as `Authorization: Bearer`.
    pub token: Option<SecretSource>,
    /// A PIN for `credentials/authorize`, for credentials in explicit authorisation mode.
    pub pin: Option<SecretSource>,
    /// A one-time password for `credentials/authorize`, read afresh for every signature.
    pub otp: Option<SecretSource>,
    /// Whose certificates an `https://` service's chain must reach.
    pub roots: TlsRoots,
    /// For each whole exchange: connecting, TLS, the request and the whole answer.
    pub timeout: Duration,
}

impl Default for Access {
    /// No secrets, the platform's roots and a 30-second deadline: a provider answers a
    /// synchronous call in well under a second.
    fn default() -> Self {
        Access {
            token: None,
            pin: None,
            otp: None,
            roots: TlsRoots::Platform,
            timeout: Duration::from_secs(30),
        }
    }
}

impl Access {
    /// Access as `[csc]` and a `[[serve.keys]]` entry (or the command line) describe it: the
    /// sources in the `file:`/`env:` forms, `ca` a PEM or DER file of CA certificates.
    pub fn configured(
        token_source: Option<&str>,
        pin_source: Option<&str>,
        otp_source: Option<&str>,
        ca: Option<&Path>,
        timeout: Option<Duration>,
    ) -> Result<Access, Error> {
        let parse = |text: Option<&str>| text.map(SecretSource::parse).transpose();
        let roots = match ca {
            Some(path) => TlsRoots::Only(std::sync::Arc::new(load_ca(path)?)),
            None => TlsRoots::Platform,
        };
        Ok(Access {
            token: parse(token_source)?,
            pin: parse(pin_source)?,
            otp: parse(otp_source)?,
            roots,
            timeout: timeout.unwrap_or(Access::default().timeout),
        })
    }
}

/// A credential of a remote signing service, opened: its certificates read, its algorithm
/// chosen, its secrets read (except the OTP, read per signature).
pub struct CscKey {
    reference: CredentialRef,
    service: protocol::Service,
    pin: Option<SecretString>,
    otp: Option<SecretSource>,
    algorithm: SignatureAlgorithm,
    sign_algo: protocol::SignAlgo,
    spki: Vec<u8>,
    /// The signer's certificate first, then the issuers the service gave.
    certificates: Vec<Vec<u8>>,
}

impl CscKey {
    /// Reads the token and PIN, asks the service which CSC version it speaks (`info`), then
    /// asks `credentials/info` for the credential's certificate chain and algorithms, and picks
    /// the signature algorithm: `scheme` if given, else RSA PKCS#1 v1.5 with SHA-256 or ECDSA
    /// with the curve's digest, as for token keys.
    pub fn open(
        reference: &CredentialRef,
        access: &Access,
        scheme: Option<SignatureScheme>,
    ) -> Result<CscKey, Error> {
        let token = access.token.as_ref().map(SecretSource::read).transpose()?;
        let pin = access.pin.as_ref().map(SecretSource::read).transpose()?;
        let service =
            protocol::Service::connect(&reference.service, token, &access.roots, access.timeout)?;
        let info = service.credential_info(&reference.credential)?;
        let unsupported = |reason: String| Error::UnsupportedKey {
            credential: reference.credential.clone(),
            reason,
        };
        if info.disabled {
            return Err(Error::CredentialDisabled {
                url: reference.service.clone(),
                credential: reference.credential.clone(),
            });
        }
        let Some(leaf) = info.certificates.first() else {
            return Err(unsupported(
                "the service gave no certificate for it".to_owned(),
            ));
        };
        let certificate =
            crate::pki::Certificate::from_der(leaf).map_err(|e| Error::Malformed {
                method: "credentials/info",
                reason: format!("the credential's certificate does not parse: {e}"),
            })?;
        for der in &info.certificates[1..] {
            crate::pki::Certificate::from_der(der).map_err(|e| Error::Malformed {
                method: "credentials/info",
                reason: format!("an issuer certificate does not parse: {e}"),
            })?;
        }
        let algorithm = choose_algorithm(&certificate.public_key().kind, scheme)
            .map_err(|r| unsupported(r.to_owned()))?;
        let sign_algo =
            protocol::SignAlgo::for_algorithm(algorithm, &info.algorithms).ok_or_else(|| {
                unsupported(format!(
                    "the service does not offer {algorithm} for it (it offers {})",
                    info.algorithms.join(", ")
                ))
            })?;
        Ok(CscKey {
            reference: reference.clone(),
            service,
            pin,
            otp: access.otp.clone(),
            algorithm,
            sign_algo,
            spki: certificate.spki_der().to_vec(),
            certificates: info.certificates,
        })
    }

    /// The credential this key is.
    pub fn reference(&self) -> &CredentialRef {
        &self.reference
    }

    /// The CSC version the service speaks.
    pub fn version(&self) -> Version {
        self.service.version()
    }

    /// The signer's certificate, DER.
    pub fn certificate(&self) -> &[u8] {
        &self.certificates[0]
    }

    /// The issuers the service gave, nearest first, DER.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.certificates[1..]
    }

    /// Hashes `message`, has the service authorise and sign that one digest, and checks the
    /// answer against the certificate's key. Blocks on the network.
    pub fn sign_message(&self, message: &[u8]) -> Result<Signature, Error> {
        let digest = self.algorithm.digest().digest(message);
        let signature = self.sign_digest(&digest)?;
        crate::signer::verify(&self.spki, self.algorithm, message, &signature.to_der()).map_err(
            |_| Error::WrongSignature {
                credential: self.reference.credential.clone(),
                algorithm: self.algorithm,
            },
        )?;
        Ok(signature)
    }

    /// Authorises `digest` (the output of the key's digest algorithm) and asks the service to
    /// sign it in the asynchronous mode, the outcome kept for `validity`: the `responseID` to
    /// poll with. Blocks on the network. v2 only ([`Error::AsynchronousUnsupported`]).
    pub fn start_asynchronous(&self, digest: &[u8], validity: Duration) -> Result<String, Error> {
        // Before the authorisation: a v1 service would be asked for a SAD it cannot use.
        if self.version() == Version::V1 {
            return Err(Error::AsynchronousUnsupported {
                url: self.reference.service.clone(),
            });
        }
        let (sad, hashes) = self.authorized(digest)?;
        match self.service.sign_hash(
            &self.reference.credential,
            &sad,
            &hashes,
            self.algorithm.digest(),
            &self.sign_algo,
            protocol::OperationMode::Asynchronous { validity },
        )? {
            protocol::SignHashOutcome::Pending { response_id } => Ok(response_id),
            protocol::SignHashOutcome::Signed(_) => Err(Error::SignedSynchronously {
                url: self.reference.service.clone(),
            }),
        }
    }

    /// What became of an asynchronous request: the signature (not yet checked: the caller
    /// checks it against the certificate over the message it kept), or still pending, refused,
    /// expired. Blocks on the network.
    pub fn poll_asynchronous(&self, response_id: &str) -> Result<Polled, Error> {
        Ok(match self.service.sign_polling(response_id)? {
            protocol::PollOutcome::Pending => Polled::Pending,
            protocol::PollOutcome::Refused { reason } => Polled::Refused { reason },
            protocol::PollOutcome::Expired { reason } => Polled::Expired { reason },
            protocol::PollOutcome::Signed(signed) => {
                let [value] = <[Vec<u8>; 1]>::try_from(signed).map_err(|got| Error::Malformed {
                    method: "signatures/signPolling",
                    reason: format!("{} signatures for one hash", got.len()),
                })?;
                Polled::Signed(self.to_signature(value)?)
            }
        })
    }

    /// The algorithm this key signs with.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Authorises and signs one digest (the output of the algorithm's digest): the protocol's
    /// three steps, unchecked.
    fn sign_digest(&self, digest: &[u8]) -> Result<Signature, Error> {
        let (sad, hashes) = self.authorized(digest)?;
        let signed = match self.service.sign_hash(
            &self.reference.credential,
            &sad,
            &hashes,
            self.algorithm.digest(),
            &self.sign_algo,
            protocol::OperationMode::Synchronous,
        )? {
            protocol::SignHashOutcome::Signed(signed) => signed,
            protocol::SignHashOutcome::Pending { .. } => {
                return Err(Error::Asynchronous {
                    url: self.reference.service.clone(),
                });
            }
        };
        let [value] = <[Vec<u8>; 1]>::try_from(signed).map_err(|got| Error::Malformed {
            method: "signatures/signHash",
            reason: format!("{} signatures for one hash", got.len()),
        })?;
        self.to_signature(value)
    }

    /// `credentials/authorize` for exactly `digest`, with the secrets, unless that set was
    /// refused before (a refusal is remembered): the SAD and the hashes it is bound to.
    fn authorized(&self, digest: &[u8]) -> Result<(protocol::Sad, [Vec<u8>; 1]), Error> {
        let otp = self.otp.as_ref().map(SecretSource::read).transpose()?;
        let fingerprint = self.fingerprint(otp.as_ref());
        if refusals().contains(&fingerprint) {
            return Err(Error::AlreadyRefused {
                url: self.reference.service.clone(),
                credential: self.reference.credential.clone(),
            });
        }
        let hashes = [digest.to_vec()];
        let activation = protocol::Activation {
            pin: self.pin.as_ref(),
            otp: otp.as_ref(),
        };
        let sad = match self.service.authorize(
            &self.reference.credential,
            &hashes,
            self.algorithm.digest(),
            &activation,
        ) {
            Ok(sad) => sad,
            Err(e @ Error::AuthorizationRefused { .. }) => {
                refusals().remember(fingerprint);
                tracing::warn!(credential = %self.reference, "CSC authorisation refused (not retried)");
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        Ok((sad, hashes))
    }

    /// The provider's signature bytes as the trait carries them: RSA unchanged, ECDSA from DER
    /// `ECDSA-Sig-Value` (what CSC returns, as X.509 does) to `r‖s`.
    fn to_signature(&self, value: Vec<u8>) -> Result<Signature, Error> {
        match self.algorithm {
            SignatureAlgorithm::Ecdsa(curve, _) => {
                let raw = ecdsa_raw(&value, curve).ok_or_else(|| Error::Malformed {
                    method: "signatures/signHash",
                    reason: "the ECDSA signature is not a DER ECDSA-Sig-Value for the key's curve"
                        .to_owned(),
                })?;
                Ok(Signature::new(self.algorithm, raw))
            }
            _ => Ok(Signature::new(self.algorithm, value)),
        }
    }

    /// A keyed fingerprint of what an authorisation presents: service, credential, token, PIN
    /// and OTP. Kept for refusals instead of the secrets.
    fn fingerprint(&self, otp: Option<&SecretString>) -> [u8; 32] {
        let mut context = aws_lc_rs::hmac::Context::with_key(&refusals().key);
        for part in [
            Some(self.reference.service.as_str()),
            Some(self.reference.credential.as_str()),
            self.service.bearer().map(ExposeSecret::expose_secret),
            self.pin.as_ref().map(ExposeSecret::expose_secret),
            otp.map(ExposeSecret::expose_secret),
        ] {
            let part = part.unwrap_or_default().as_bytes();
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        let tag = context.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag.as_ref()[..32]);
        out
    }
}

impl Signer for CscKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
        self.sign_message(message).map_err(SignError::from)
    }
}

impl fmt::Debug for CscKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CscKey")
            .field("reference", &self.reference.to_string())
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The algorithm a key of `kind` signs with under `scheme` (the token's defaults when `None`).
fn choose_algorithm(
    kind: &KeyKind,
    scheme: Option<SignatureScheme>,
) -> Result<SignatureAlgorithm, &'static str> {
    match kind {
        KeyKind::Rsa { bits } => {
            if *bits < 2048 {
                return Err("its RSA key is under 2048 bits");
            }
            match scheme {
                None => Ok(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256)),
                Some(SignatureScheme::RsaPkcs1v15(d)) => Ok(SignatureAlgorithm::RsaPkcs1v15(d)),
                Some(SignatureScheme::RsaPss(d)) => Ok(SignatureAlgorithm::RsaPss(d)),
                Some(SignatureScheme::Ecdsa(_)) => Err("an RSA key cannot sign with ECDSA"),
            }
        }
        KeyKind::EcP256 | KeyKind::EcP384 => {
            let curve = if *kind == KeyKind::EcP256 {
                Curve::P256
            } else {
                Curve::P384
            };
            match scheme {
                None => Ok(SignatureAlgorithm::Ecdsa(curve, curve.default_digest())),
                Some(SignatureScheme::Ecdsa(d)) => Ok(SignatureAlgorithm::Ecdsa(curve, d)),
                Some(_) => Err("an EC key cannot sign with RSA"),
            }
        }
        _ => Err("its key is neither RSA nor ECDSA on P-256 or P-384"),
    }
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) as `r‖s`, each
/// left-padded to the curve's field length; `None` if it is not that, or a value is too long.
fn ecdsa_raw(der: &[u8], curve: Curve) -> Option<Vec<u8>> {
    let sequence = ber::der(der, "ECDSA-Sig-Value")
        .and_then(|e| e.expect(tag::SEQUENCE, "an ECDSA-Sig-Value SEQUENCE"))
        .ok()?;
    let mut fields = sequence.fields();
    let r = fields.expect(tag::INTEGER, "r").ok()?.integer().ok()?;
    let s = fields.expect(tag::INTEGER, "s").ok()?.integer().ok()?;
    fields.finish("ECDSA-Sig-Value").ok()?;
    let len = curve.field_len();
    let mut raw = vec![0u8; 2 * len];
    for (value, half) in [r, s].into_iter().zip(raw.chunks_mut(len)) {
        if value[0] & 0x80 != 0 {
            return None; // negative
        }
        let value = ber::canonical_integer(value);
        let value = if value == [0] { &[][..] } else { value };
        let value = value.strip_prefix(&[0]).unwrap_or(value);
        if value.len() > len {
            return None;
        }
        half[len - value.len()..].copy_from_slice(value);
    }
    Some(raw)
}

/// `%XX` escapes decoded; `None` if the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The CA certificates in `path`: PEM (one or more CERTIFICATE blocks) or one DER certificate.
fn load_ca(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let failed = |reason: String| Error::CaFile {
        path: path.to_owned(),
        reason,
    };
    let certificates =
        crate::signing::read_certificates(path).map_err(|e| failed(e.to_string()))?;
    for der in &certificates {
        crate::pki::Certificate::from_der(der).map_err(|e| failed(e.to_string()))?;
    }
    Ok(certificates)
}

/// Authorisations a service refused in this process, as fingerprints under a random key.
struct Refusals {
    key: aws_lc_rs::hmac::Key,
    seen: Mutex<Vec<[u8; 32]>>,
}

impl Refusals {
    fn contains(&self, fingerprint: &[u8; 32]) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(fingerprint)
    }

    fn remember(&self, fingerprint: [u8; 32]) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fingerprint);
    }
}

fn refusals() -> &'static Refusals {
    static REFUSALS: OnceLock<Refusals> = OnceLock::new();
    REFUSALS.get_or_init(|| {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        // A key that cannot be generated leaves fingerprints of a fixed key: still not the
        // secrets, only guessable by someone who can already read this process's memory.
        let key = aws_lc_rs::hmac::Key::generate(aws_lc_rs::hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[0; 32]));
        Refusals {
            key,
            seen: Mutex::new(Vec::new()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print_back() {
        let r =
            CredentialRef::parse("csc:https://sign.example.vn/csc/v2/#kyso/signer-rsa").unwrap();
        assert_eq!(r.service, "https://sign.example.vn/csc/v2");
        assert_eq!(r.credential, "kyso/signer-rsa");
        assert_eq!(
            r.to_string(),
            "csc:https://sign.example.vn/csc/v2#kyso/signer-rsa"
        );
        let odd = CredentialRef::parse("csc:http://127.0.0.1:8080/csc/v1#a%23b%25c").unwrap();
        assert_eq!(odd.credential, "a#b%c");
        assert_eq!(CredentialRef::parse(&odd.to_string()).unwrap(), odd);
        for bad in [
            "pkcs11:token=x",
            "csc:https://host/csc/v2",
            "csc:ftp://host/csc#x",
            "csc:https://#x",
            "csc:https://host/csc/v2#",
            "csc:https://host/csc/v2?a=b#x",
        ] {
            assert!(CredentialRef::parse(bad).is_err(), "{bad}");
        }
        let err = CredentialRef::parse("csc:https://user:hunter2@host/csc/v2#x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn ecdsa_der_becomes_padded_r_and_s() {
        let r = [0x80u8; 32]; // needs a 0x00 pad in DER
        let s = [0x01u8; 31]; // shorter than the field
        let der = crate::der::sequence(&[
            &crate::der::unsigned_integer(&r),
            &crate::der::unsigned_integer(&s),
        ]);
        let raw = ecdsa_raw(&der, Curve::P256).unwrap();
        assert_eq!(&raw[..32], &r);
        assert_eq!(raw[32], 0);
        assert_eq!(&raw[33..], &s);
        // Too long for P-256, trailing bytes, not a SEQUENCE: refused.
        let long = crate::der::sequence(&[
            &crate::der::unsigned_integer(&[1; 33]),
            &crate::der::unsigned_integer(&s),
        ]);
        assert!(ecdsa_raw(&long, Curve::P256).is_none());
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(ecdsa_raw(&trailing, Curve::P256).is_none());
        assert!(ecdsa_raw(b"garbage", Curve::P256).is_none());
    }

    #[test]
    fn algorithms_follow_the_key_and_the_scheme() {
        let rsa = KeyKind::Rsa { bits: 2048 };
        assert_eq!(
            choose_algorithm(&rsa, None),
            Ok(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256))
        );
        assert!(choose_algorithm(&KeyKind::Rsa { bits: 1024 }, None).is_err());
        assert_eq!(
            choose_algorithm(&KeyKind::EcP384, None),
            Ok(SignatureAlgorithm::Ecdsa(
                Curve::P384,
                DigestAlgorithm::Sha384
            ))
        );
        assert!(
            choose_algorithm(
                &KeyKind::EcP256,
                Some(SignatureScheme::RsaPss(DigestAlgorithm::Sha256))
            )
            .is_err()
        );
    }
}
