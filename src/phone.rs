//! Keys held by a remote provider that signs only after the holder confirms on a phone ("Smart"
//! remote signing, SIM signing): the [`Provider`] the service's signing jobs ([`crate::api`]'s
//! `/v1/jobs`) take — a digest now, a transaction id back, the signature (or a refusal, or
//! nothing) later — with its generic REST adapter [`PhoneKey`], and the two [`Signer`]s with
//! which a job signs through any provider. The other provider is a CSC credential in the
//! asynchronous mode ([`crate::csc::asynchronous`]).
//!
//! The provider speaks one generic hash-signing REST protocol, configured per key in
//! `[[serve.keys]]` (`uri = "phone:https://provider.example/api"`, `[serve.keys.phone]`):
//!
//! - `GET {base}/credentials/{credential}` → `{"certificates": ["<base64 DER>", …]}`, the
//!   signer's certificate first, then its issuers: the chain the CMS carries, which must be
//!   known before anything is signed;
//! - `POST {base}/credentials/{credential}/sign` with `{"hash_algorithm": "sha256", "hashes":
//!   ["<base64>"], "description": "…"}` → `{"transaction_id": "…"}` (the holder is asked), or a
//!   4xx refusal at once (holder blocked, credential suspended);
//! - `GET {base}/transactions/{id}` → `{"status": "pending"}`, `{"status": "done",
//!   "signatures": ["<base64>"]}`, `{"status": "refused"}` or `{"status": "expired"}`.
//!
//! Signatures come as PKCS#11 gives them (RSA octets; ECDSA `r‖s`) or, for ECDSA, as a DER
//! `ECDSA-Sig-Value`. The bearer token comes from a `file:`/`env:` source ([`crate::secret`]),
//! is read per request, and is never logged; it is sent over `https://` only, or `http://` to a
//! loopback address (a provider's local gateway, the tests).
//!
//! What it refuses: a provider answer that does not parse, transaction ids that are not plain
//! tokens (they become part of a URL), and — in [`PresignedSigner`] — a signature for any message
//! but the confirmed one. Whether the provider's signature is right is checked by the caller
//! against the certificate before it is embedded ([`check_signature`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::http::{self, TlsRoots};
use crate::pki::signature::KeyKind;
use crate::secret::SecretSource;
use crate::signer::{Curve, DigestAlgorithm, SignError, Signature, SignatureAlgorithm, Signer};

/// The URI scheme of a confirm-on-phone key in `[[serve.keys]]`.
pub const SCHEME: &str = "phone:";

/// One exchange with the provider, connection to last byte: providers answer status queries at
/// once (the wait is the poll interval's, not the request's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A provider answer is a few certificates or signatures in JSON: 256 KiB is ten times the
/// largest chain seen.
const MAX_RESPONSE: u64 = 256 * 1024;

/// Transaction ids become part of a URL path: plain tokens only.
const MAX_TRANSACTION_ID: usize = 128;

/// Why the provider could not be used. Never holds the bearer token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("provider URL `{url}`: expected https://…, or http:// to a loopback address")]
    UnsupportedUrl { url: String },
    #[error("provider credential: {0}")]
    Secret(#[from] crate::secret::Error),
    #[error("provider {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("provider {url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("provider {url}: the answer is not what the protocol says: {reason}")]
    BadAnswer { url: String, reason: String },
    #[error("the provider's certificate for the credential: {reason}")]
    Certificate { reason: String },
    /// A CSC service in the asynchronous mode failed.
    #[error(transparent)]
    Csc(#[from] crate::csc::Error),
}

/// A provider of signatures its holder confirms later. Asked once with a digest, it answers
/// with a transaction id (or refuses at once); asked about the id, it says what became of it.
/// Ids are kept in the job table, so a provider holds no state of its own between the two and a
/// restarted service asks again. Every method blocks on the network.
pub trait Provider: Send + Sync {
    /// What the ledger records as the key: the provider and the credential, no secret.
    fn reference(&self) -> String;

    /// The credential's certificates and the algorithm its key signs with, asked of the
    /// provider once and kept: the CMS carries the chain before anything is signed.
    fn credential(&self) -> Result<Arc<Credential>, Error>;

    /// Asks the holder to confirm a signature over `digest` (made with `algorithm`);
    /// `description` names the document for the holder's phone.
    fn submit(
        &self,
        digest: &[u8],
        algorithm: DigestAlgorithm,
        description: &str,
    ) -> Result<Submitted, Error>;

    /// What became of a transaction; a signature comes as `algorithm` makes it.
    fn status(&self, transaction_id: &str, algorithm: SignatureAlgorithm) -> Result<Status, Error>;
}

/// A confirm-on-phone key: where its provider is and how it is asked.
#[derive(Debug)]
pub struct PhoneKey {
    base: String,
    credential: String,
    token: Option<SecretSource>,
    /// The credential's certificates, fetched on first use.
    chain: Mutex<Option<Arc<Credential>>>,
}

/// A credential's certificate, issuers and the algorithm its key signs with.
#[derive(Debug)]
pub struct Credential {
    pub certificate: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub algorithm: SignatureAlgorithm,
    pub key_kind: KeyKind,
    spki: Vec<u8>,
}

/// What the provider said to a signing request.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The holder is asked; the transaction is to be polled.
    Pending { transaction_id: String },
    /// Refused at once (holder blocked, credential suspended).
    Refused,
}

/// What the provider says about a transaction.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Done { signature: Signature },
    Refused,
    Expired,
}

impl PhoneKey {
    /// A key at the provider `uri` (`phone:https://…`) for `credential`, authenticated with
    /// the bearer token in `token` if given.
    pub fn new(
        uri: &str,
        credential: String,
        token: Option<SecretSource>,
    ) -> Result<PhoneKey, Error> {
        let base = uri
            .strip_prefix(SCHEME)
            .unwrap_or(uri)
            .trim_end_matches('/');
        check_url(base)?;
        Ok(PhoneKey {
            base: base.to_owned(),
            credential,
            token,
            chain: Mutex::new(None),
        })
    }

    fn exchange(&self, url: &str, body: Option<Vec<u8>>) -> Result<Answer, Error> {
        let agent: ureq::Agent = http::config(REQUEST_TIMEOUT, &TlsRoots::Platform)
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let transport = |e: ureq::Error| Error::Transport {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let authorization = match &self.token {
            Some(source) => {
                let token = source.read()?;
                let mut value =
                    ureq::http::HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                        .map_err(|_| Error::BadAnswer {
                            url: url.to_owned(),
                            reason: "the bearer token is not valid in an HTTP header".to_owned(),
                        })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let mut response = match body {
            Some(body) => {
                let mut request = agent.post(url).header("Content-Type", "application/json");
                if let Some(value) = authorization {
                    request = request.header(ureq::http::header::AUTHORIZATION, value);
                }
                request.send(&body[..]).map_err(transport)?
            }
            None => {
                let mut request = agent.get(url).header("Accept", "application/json");
                if let Some(value) = authorization {
                    request = request.header(ureq::http::header::AUTHORIZATION, value);
                }
                request.call().map_err(transport)?
            }
        };
        match response.status().as_u16() {
            200..=202 => Ok(Answer {
                body: http::read_body(&mut response, MAX_RESPONSE).map_err(transport)?,
                refused: false,
            }),
            // The protocol's at-once refusals: the holder or credential may not sign now.
            403 | 409 | 422 => Ok(Answer {
                body: Vec::new(),
                refused: true,
            }),
            status => Err(Error::HttpStatus {
                url: url.to_owned(),
                status,
            }),
        }
    }
}

impl Provider for PhoneKey {
    /// What the ledger records as the key: the provider and the credential, no secret.
    fn reference(&self) -> String {
        format!("{SCHEME}{}#{}", self.base, self.credential)
    }

    /// The credential's certificates, asked of the provider once and kept. Blocks.
    fn credential(&self) -> Result<Arc<Credential>, Error> {
        let mut cached = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(credential) = cached.as_ref() {
            return Ok(Arc::clone(credential));
        }
        #[derive(Deserialize)]
        struct Info {
            certificates: Vec<String>,
        }
        let url = format!("{}/credentials/{}", self.base, self.credential);
        let info: Info = self.exchange(&url, None)?.json(&url)?;
        let mut certificates = info
            .certificates
            .iter()
            .map(|c| BASE64.decode(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad_answer(&url, format!("certificates: {e}")))?;
        if certificates.is_empty() {
            return Err(bad_answer(&url, "no certificate".to_owned()));
        }
        let certificate = certificates.remove(0);
        let credential = Arc::new(Credential::new(certificate, certificates)?);
        *cached = Some(Arc::clone(&credential));
        Ok(credential)
    }

    /// Asks the holder to confirm a signature over `digest`. Blocks.
    fn submit(
        &self,
        digest: &[u8],
        algorithm: DigestAlgorithm,
        description: &str,
    ) -> Result<Submitted, Error> {
        let url = format!("{}/credentials/{}/sign", self.base, self.credential);
        let body = serde_json::json!({
            "hash_algorithm": digest_name(algorithm),
            "hashes": [BASE64.encode(digest)],
            "description": description,
        });
        let answer = self.exchange(&url, Some(body.to_string().into_bytes()))?;
        if answer.refused {
            return Ok(Submitted::Refused);
        }
        #[derive(Deserialize)]
        struct Started {
            transaction_id: String,
        }
        let started: Started = answer.json(&url)?;
        check_transaction_id(&started.transaction_id)
            .map_err(|reason| bad_answer(&url, reason.to_owned()))?;
        Ok(Submitted::Pending {
            transaction_id: started.transaction_id,
        })
    }

    /// What became of a transaction. Blocks.
    fn status(&self, transaction_id: &str, algorithm: SignatureAlgorithm) -> Result<Status, Error> {
        let url = format!("{}/transactions/{transaction_id}", self.base);
        check_transaction_id(transaction_id)
            .map_err(|reason| bad_answer(&url, reason.to_owned()))?;
        #[derive(Deserialize)]
        struct Answer {
            status: String,
            #[serde(default)]
            signatures: Vec<String>,
        }
        let answer: Answer = self.exchange(&url, None)?.json(&url)?;
        Ok(match answer.status.as_str() {
            "pending" => Status::Pending,
            "refused" => Status::Refused,
            "expired" => Status::Expired,
            "done" => {
                let [one] = answer.signatures.as_slice() else {
                    return Err(bad_answer(&url, "expected one signature".to_owned()));
                };
                let bytes = BASE64
                    .decode(one)
                    .map_err(|e| bad_answer(&url, format!("signature: {e}")))?;
                let raw = raw_signature(algorithm, &bytes).ok_or_else(|| {
                    bad_answer(&url, "signature: not an ECDSA signature".to_owned())
                })?;
                Status::Done {
                    signature: Signature::new(algorithm, raw),
                }
            }
            other => return Err(bad_answer(&url, format!("unknown status `{other}`"))),
        })
    }
}

struct Answer {
    body: Vec<u8>,
    refused: bool,
}

impl Answer {
    fn json<T: for<'de> Deserialize<'de>>(&self, url: &str) -> Result<T, Error> {
        if self.refused {
            return Err(bad_answer(url, "refused".to_owned()));
        }
        serde_json::from_slice(&self.body).map_err(|e| bad_answer(url, e.to_string()))
    }
}

impl Credential {
    /// The credential of `certificate` (DER), with its issuers `chain`; the algorithm is the
    /// one its key kind signs with.
    pub fn new(certificate: Vec<u8>, chain: Vec<Vec<u8>>) -> Result<Credential, Error> {
        let parsed =
            crate::pki::Certificate::from_der(&certificate).map_err(|e| Error::Certificate {
                reason: e.to_string(),
            })?;
        let key_kind = parsed.public_key().kind.clone();
        let algorithm = algorithm_for(&key_kind).ok_or_else(|| Error::Certificate {
            reason: format!("kyso does not sign with a {key_kind:?} key"),
        })?;
        Ok(Credential {
            spki: parsed.spki_der().to_vec(),
            certificate,
            chain,
            algorithm,
            key_kind,
        })
    }

    /// The key's public half, DER `SubjectPublicKeyInfo`.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// Checks a provider's `signature` over `message` against the credential's public key: a wrong
/// signature fails the job, never the document.
pub fn check_signature(
    credential: &Credential,
    message: &[u8],
    signature: &Signature,
) -> Result<(), crate::signer::VerifyError> {
    crate::signer::verify(
        &credential.spki,
        signature.algorithm(),
        message,
        &signature.to_der(),
    )
}

/// A signer that signs nothing: it keeps the message it was given (the CMS signed attributes,
/// the XMLDSig `SignedInfo`) and stops the signing with [`SignError::Deferred`], before any
/// time-stamp is asked for. Its message's digest is what the holder confirms.
pub struct CapturingSigner<'a> {
    credential: &'a Credential,
    captured: Mutex<Option<Vec<u8>>>,
}

impl<'a> CapturingSigner<'a> {
    pub fn new(credential: &'a Credential) -> Self {
        CapturingSigner {
            credential,
            captured: Mutex::new(None),
        }
    }

    /// The message signing stopped at, if it got that far.
    pub fn captured(self) -> Option<Vec<u8>> {
        self.captured
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Signer for CapturingSigner<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.credential.algorithm
    }

    fn public_key_spki(&self) -> &[u8] {
        &self.credential.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
        *self.captured.lock().unwrap_or_else(|e| e.into_inner()) = Some(message.to_vec());
        Err(SignError::Deferred)
    }
}

/// A signer holding a signature the holder confirmed: it gives it for the message whose digest
/// was confirmed, and refuses any other ([`SignError::NotTheConfirmedMessage`]).
pub struct PresignedSigner<'a> {
    credential: &'a Credential,
    digest: &'a [u8],
    signature: Signature,
}

impl<'a> PresignedSigner<'a> {
    pub fn new(credential: &'a Credential, digest: &'a [u8], signature: Signature) -> Self {
        PresignedSigner {
            credential,
            digest,
            signature,
        }
    }
}

impl Signer for PresignedSigner<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.credential.algorithm
    }

    fn public_key_spki(&self) -> &[u8] {
        &self.credential.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, SignError> {
        if self.credential.algorithm.digest().digest(message) != self.digest {
            return Err(SignError::NotTheConfirmedMessage);
        }
        Ok(self.signature.clone())
    }
}

/// The algorithm a provider key signs with, from its certificate: RSA PKCS#1 v1.5 with SHA-256
/// (what Vietnamese remote-signing providers sign), ECDSA with the curve's digest.
fn algorithm_for(kind: &KeyKind) -> Option<SignatureAlgorithm> {
    match kind {
        KeyKind::Rsa { .. } => Some(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256)),
        KeyKind::EcP256 => Some(SignatureAlgorithm::Ecdsa(
            Curve::P256,
            Curve::P256.default_digest(),
        )),
        KeyKind::EcP384 => Some(SignatureAlgorithm::Ecdsa(
            Curve::P384,
            Curve::P384.default_digest(),
        )),
        _ => None,
    }
}

fn digest_name(algorithm: DigestAlgorithm) -> &'static str {
    match algorithm {
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        DigestAlgorithm::Sha512 => "sha512",
    }
}

/// ECDSA signatures as the signer trait carries them (`r‖s`), from either form a provider
/// sends; RSA signatures unchanged.
fn raw_signature(algorithm: SignatureAlgorithm, bytes: &[u8]) -> Option<Vec<u8>> {
    let SignatureAlgorithm::Ecdsa(curve, _) = algorithm else {
        return Some(bytes.to_vec());
    };
    let field = curve.field_len();
    if bytes.len() == 2 * field {
        return Some(bytes.to_vec());
    }
    let (sequence, _) = crate::ber::parse(bytes).ok()?;
    let parts = sequence.child_vec().ok()?;
    let [r, s] = parts.as_slice() else {
        return None;
    };
    let mut raw = Vec::with_capacity(2 * field);
    for part in [r, s] {
        let digits = part.content.strip_prefix(&[0]).unwrap_or(part.content);
        if digits.len() > field {
            return None;
        }
        raw.extend(std::iter::repeat_n(0, field - digits.len()));
        raw.extend_from_slice(digits);
    }
    Some(raw)
}

fn check_transaction_id(id: &str) -> Result<(), &'static str> {
    let plain = !id.is_empty()
        && id.len() <= MAX_TRANSACTION_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        Ok(())
    } else {
        Err("transaction_id: 1 to 128 ASCII letters, digits, `-`, `_` and `.`")
    }
}

/// `https://…`, or `http://` to a loopback address or `localhost`: a bearer token never
/// crosses a network in clear.
fn check_url(url: &str) -> Result<(), Error> {
    match crate::http::url_parts(url) {
        Some(p)
            if !p.credentials && !p.query && (p.https || crate::http::is_loopback_host(p.host)) =>
        {
            Ok(())
        }
        _ => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
        }),
    }
}

fn bad_answer(url: &str, reason: String) -> Error {
    Error::BadAnswer {
        url: url.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::SignerIdentity;
    use crate::pdf::SignatureOptions;
    use crate::pdf::sample::{SampleOptions, sample_pdf};
    use crate::testpki::{PkiOptions, SignerName, SignerProfile, SoftwareSigner, TestPki};
    use crate::token::KeyAlgorithm;

    /// The design rests on this: a PDF signed by capturing the message, having it signed
    /// elsewhere and signing again with that signature is the PDF the key would have made
    /// directly (byte for byte with a deterministic RSA signature). And the presigned signer
    /// signs nothing else.
    #[test]
    fn a_confirmed_signature_makes_the_document_the_key_would_have_made() {
        for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
            let pki = TestPki::new(PkiOptions::default()).unwrap();
            let name = SignerName::new("Lê Thị Cúc", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
            let (issued, key) = pki
                .issue_with_software_key(algorithm, &name, SignerProfile::Valid)
                .unwrap();
            let key = SoftwareSigner::new(key, algorithm);
            let chain = vec![pki.intermediate.der().to_vec()];
            let credential = Credential::new(issued.der.clone(), chain.clone()).unwrap();
            assert_eq!(credential.algorithm, key.algorithm());
            let input = sample_pdf(&SampleOptions::default());
            let sign_with = |signer: &dyn Signer| {
                let identity = SignerIdentity {
                    signer,
                    certificate: &issued.der,
                    chain: &chain,
                };
                let mut options = SignatureOptions::new(pki.at(), 0);
                options.reason = Some("Phê duyệt".to_owned());
                options.contents_size =
                    crate::pades::contents_size(&identity, &crate::pades::Level::BB);
                crate::pades::sign(&input, &identity, &options, &crate::pades::Level::BB)
                    .map(|signed| signed.to_vec())
            };
            let direct = sign_with(&key).unwrap();

            let capturing = CapturingSigner::new(&credential);
            assert!(matches!(
                sign_with(&capturing),
                Err(crate::pades::Error::Cms(crate::cms::Error::Signer(
                    SignError::Deferred
                )))
            ));
            let message = capturing.captured().unwrap();
            let digest = credential.algorithm.digest().digest(&message);
            let confirmed = key.sign(&message).unwrap();
            check_signature(&credential, &message, &confirmed).unwrap();
            let presigned = PresignedSigner::new(&credential, &digest, confirmed.clone());
            let again = sign_with(&presigned).unwrap();
            match algorithm {
                // PKCS#1 v1.5 is deterministic: the very bytes the key would have made.
                KeyAlgorithm::Rsa2048 => assert!(again == direct, "byte for byte"),
                // ECDSA signatures differ per signing; everything around them is the same.
                _ => assert_eq!(again.len(), direct.len()),
            }

            // Another message (another document, another time) is refused, and a signature
            // over another message does not check.
            assert!(matches!(
                presigned.sign(b"another message"),
                Err(SignError::NotTheConfirmedMessage)
            ));
            let other = key.sign(b"another message").unwrap();
            assert!(check_signature(&credential, &message, &other).is_err());
        }
    }

    #[test]
    fn tokens_cross_networks_only_over_tls() {
        assert!(check_url("https://sign.example.vn/api").is_ok());
        assert!(check_url("http://127.0.0.1:9000/api").is_ok());
        assert!(check_url("http://[::1]:9000").is_ok());
        assert!(check_url("http://sign.example.vn/api").is_err());
        assert!(check_url("https://user@sign.example.vn").is_err());
        assert!(check_url("ftp://sign.example.vn").is_err());
    }

    #[test]
    fn transaction_ids_are_plain_tokens() {
        assert!(check_transaction_id("tx-01.a_B").is_ok());
        assert!(check_transaction_id("../credentials").is_err());
        assert!(check_transaction_id("").is_err());
        assert!(check_transaction_id(&"a".repeat(129)).is_err());
    }

    #[test]
    fn ecdsa_signatures_arrive_in_either_form() {
        let algorithm = SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256);
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 7;
        let der = Signature::new(algorithm, raw.clone()).to_der();
        assert_eq!(raw_signature(algorithm, &der), Some(raw.clone()));
        assert_eq!(raw_signature(algorithm, &raw), Some(raw));
        assert_eq!(raw_signature(algorithm, &[1, 2, 3]), None);
    }
}
