//! The one signing path of `kyso sign` and the service: a key with its certificate and issuer
//! chain ([`KeyMaterial`]), a baseline [`Level`], the TSA and, for B-LT, the [`Trust`] the signer
//! is checked against before the token signs; then [`Signing::pdf`] or [`Signing::xml`]. The CLI
//! and the service build the same [`Signing`] and so make the same signature: the same signed
//! attributes, the same DSS, the same trust decision (ETSI EN 319 142-1 and 319 132-1 baseline
//! levels).
//!
//! What it refuses: a key without a certificate (a signature must name its signer, ETSI EN 319
//! 142-1 §5.2.2 signing-certificate attribute), certificate files that hold no certificate, a
//! level it lacks the means for (B-T without a TSA, B-LT without trust anchors, a time-stamp on
//! plain XMLDSig), and a B-LT signer whose chain does not validate against the configured
//! anchors — never the root the key's own chain happens to end in: the configuration decides
//! what is trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::cms::SignerIdentity;
use crate::ledger::SignatureLevel;
use crate::pades::{self, LongTerm, Tsa};
use crate::pdf::SignatureOptions;
use crate::pki::fetch::{OcspNonce, Online};
use crate::pki::{CertPool, Certificate, Evidence, RevocationSource, TrustStore, Validator};
use crate::token::{self, KeyOptions, Pkcs11Uri, TokenDefaults, TokenKey};
use crate::verify::Revocation;
use crate::xml::{OtherSignatures, Packaging};

/// A baseline level as a caller names it (`--level`, `level=`): ETSI's B-B, B-T and B-LT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// The signature alone.
    BaselineB,
    /// Plus a signature time-stamp.
    BaselineT,
    /// Plus the chains' certificates, CRLs and OCSP responses (a DSS in PDF,
    /// `CertificateValues`/`RevocationValues` in XAdES).
    BaselineLt,
    /// Plus a time-stamp over the whole signed document and its validation data: the proof of
    /// existence that keeps it verifiable after its certificates expire (a document time-stamp
    /// in PDF, an `ArchiveTimeStamp` in XAdES).
    BaselineLta,
}

impl Level {
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`, in any case.
    pub fn parse(text: &str) -> Result<Level, Error> {
        match text.to_ascii_uppercase().as_str() {
            "B-B" => Ok(Level::BaselineB),
            "B-T" => Ok(Level::BaselineT),
            "B-LT" => Ok(Level::BaselineLt),
            "B-LTA" => Ok(Level::BaselineLta),
            _ => Err(Error::UnknownLevel {
                level: text.to_owned(),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::BaselineB => "B-B",
            Level::BaselineT => "B-T",
            Level::BaselineLt => "B-LT",
            Level::BaselineLta => "B-LTA",
        }
    }

    /// Whether the level embeds validation data, and so checks the signer's chain first.
    pub fn is_long_term(self) -> bool {
        matches!(self, Level::BaselineLt | Level::BaselineLta)
    }
}

/// XML signatures: plain XMLDSig, or XAdES (the baseline levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XmlForm {
    XmlDsig,
    Xades,
}

/// How an XML signature is packaged and qualified.
#[derive(Clone, Debug)]
pub struct XmlOptions {
    pub packaging: Packaging,
    pub other_signatures: OtherSignatures,
    pub form: XmlForm,
}

impl Default for XmlOptions {
    fn default() -> Self {
        XmlOptions {
            packaging: Packaging::Enveloped,
            other_signatures: OtherSignatures::default(),
            form: XmlForm::Xades,
        }
    }
}

/// What a B-LT signer is checked against before the token signs: the `[verify]` anchors,
/// intermediates and CRL files (and, on the command line, `--trust`), and where revocation
/// evidence may come from. The same rule for the CLI and the service, and the same trust the
/// service's own verifier applies, so that a signature it would call INDETERMINATE never claims
/// long-term validity.
#[derive(Clone, Default)]
pub struct Trust {
    pub anchors: TrustStore,
    pub certificates: CertPool,
    pub evidence: Evidence,
    pub revocation: Revocation,
    /// How CRLs and OCSP responses are fetched (`[revocation]`).
    pub fetch: crate::pki::fetch::FetchSettings,
}

impl Trust {
    /// Loads `[verify]` and `[revocation]`: see [`Trust::from_config`], with fetching set up
    /// as `[revocation]` says (URL rewrites, timeout, CRL cache).
    pub fn configured(config: &crate::config::Config) -> Result<Trust, Error> {
        let mut trust = Trust::from_config(&config.verify)?;
        trust.fetch =
            crate::pki::fetch::FetchSettings::from_config(&config.revocation).map_err(|e| {
                Error::Setting {
                    setting: "revocation.rewrite",
                    reason: e.to_string(),
                }
            })?;
        Ok(trust)
    }

    /// Loads `[verify]`: the anchors of its profile's bundle, of `trust` and of the user's
    /// `trust_dir` ([`crate::anchors::Anchors`]), the intermediates and CRL files it names, and
    /// its revocation mode (`online` unless it says `offline` or `off`).
    pub fn from_config(config: &crate::config::VerifyConfig) -> Result<Trust, Error> {
        let mut trust = Trust::default();
        let anchors = crate::anchors::Anchors::load(config).map_err(|e| Error::Setting {
            setting: "verify.trust",
            reason: e.to_string(),
        })?;
        trust.anchors = anchors.trust_store();
        anchors.add_intermediates_to(&mut trust.certificates);
        for path in &config.certificates {
            trust
                .certificates
                .load(path)
                .map_err(|e| Error::Certificates {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
        for path in &config.crls {
            let bytes = std::fs::read(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let crls =
                crate::pki::crl::Crl::from_pem_or_der(&bytes).map_err(|e| Error::Certificates {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            for crl in crls {
                trust.evidence.add_crl(crl);
            }
        }
        trust.revocation = match config.revocation.as_deref().unwrap_or("online") {
            "online" => Revocation::Online,
            "offline" => Revocation::Offline,
            "off" => Revocation::DangerouslyOff,
            other => {
                return Err(Error::Setting {
                    setting: "verify.revocation",
                    reason: format!("`{other}`: expected online, offline or off"),
                });
            }
        };
        Ok(trust)
    }

    /// Adds the anchors in a PEM/DER file or a folder of them.
    pub fn add_anchors(&mut self, path: &Path) -> Result<(), Error> {
        self.anchors
            .load(path)
            .map(|_| ())
            .map_err(|e| Error::Certificates {
                path: path.to_owned(),
                reason: e.to_string(),
            })
    }
}

/// Each CRL or OCSP request while gathering B-LT evidence: CAs' responders answer in well under
/// a second, and a caller's own deadline bounds the whole.
const REVOCATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// One signature to make: the key, the level and what the level needs.
pub struct Signing<'a> {
    pub key: &'a KeyMaterial,
    pub level: Level,
    /// The TSA of B-T and B-LT.
    pub tsa: Option<&'a Tsa>,
    /// What B-LT checks the signer against.
    pub trust: Option<&'a Trust>,
    /// The signing time (`/M`, XAdES `SigningTime`).
    pub at: OffsetDateTime,
    /// What new signatures may use (`[verify.algorithms]`): a key below its floor does not sign.
    pub algorithms: crate::pki::AlgorithmPolicy,
}

/// What the document is, for [`Signing::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Pdf,
    Xml(XmlForm),
}

/// A signed document. A PDF keeps borrowing the input (the signature is an update appended to
/// it), so that a 200 MB document is written out without a second copy in memory.
pub struct SignedDocument<'a> {
    body: Body<'a>,
    /// The PDF signature field's name.
    pub field: Option<String>,
    /// The level made, as the ledger records it.
    pub level: SignatureLevel,
}

enum Body<'a> {
    Pdf(crate::pdf::SignedPdf<'a>),
    Xml(Vec<u8>),
}

impl SignedDocument<'_> {
    /// Streams the signed document.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match &self.body {
            Body::Pdf(pdf) => pdf.write_to(out),
            Body::Xml(bytes) => out.write_all(bytes),
        }
    }

    /// The signed document in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        match &self.body {
            Body::Pdf(pdf) => pdf.to_vec(),
            Body::Xml(bytes) => bytes.clone(),
        }
    }

    /// The signed document, its buffer taken.
    pub fn into_vec(self) -> Vec<u8> {
        match self.body {
            Body::Pdf(pdf) => pdf.to_vec(),
            Body::Xml(bytes) => bytes,
        }
    }
}

impl Signing<'_> {
    /// What B-LT and B-LTA check the signer with and gather evidence from (`None` below them).
    fn long_term_parts(&self) -> Result<Option<LongTermParts>, Error> {
        if !self.level.is_long_term() {
            return Ok(None);
        }
        let trust = self
            .trust
            .ok_or(Error::Internal("a long-term level checked without trust"))?;
        LongTermParts::new(trust, &self.key.chain).map(Some)
    }

    /// Refuses a key below the policy's floor for new signatures (a 1024-bit RSA key from an old
    /// token): the policy accepts retired algorithms only for signatures proven older than their
    /// cut-off, which a signature made now never is.
    fn check_key(&self) -> Result<(), Error> {
        self.algorithms
            .for_new_key(&self.key.key_kind)
            .map_err(|weakness| Error::KeyBelowPolicy { weakness })
    }

    /// Whether `level` can be made for `kind` with `tsa` and `trust`: cheap (no network, no
    /// token), so that a caller refuses at once what it cannot make.
    pub fn check(
        level: Level,
        kind: DocumentKind,
        tsa: Option<&Tsa>,
        trust: Option<&Trust>,
    ) -> Result<(), Error> {
        let unavailable = |reason: String| Err(Error::LevelUnavailable { reason });
        if level != Level::BaselineB && kind == DocumentKind::Xml(XmlForm::XmlDsig) {
            return unavailable(format!(
                "time-stamps and validation data are XAdES properties: sign as XAdES for {}",
                level.name()
            ));
        }
        if level != Level::BaselineB && tsa.is_none() {
            return unavailable(format!(
                "level {} needs a time-stamping authority, and none is configured (--tsa URL or set [tsa] url in kyso.toml, KYSO_TSA_URL)",
                level.name()
            ));
        }
        if level.is_long_term() && trust.is_none_or(|t| t.anchors.is_empty()) {
            return unavailable(format!(
                "level {} checks the signer's chain before signing, and no trust anchors are configured ([verify] trust, or --trust)",
                level.name()
            ));
        }
        Ok(())
    }

    /// Signs a PDF by incremental update. `options` say where and how the signature shows; its
    /// time and the room reserved for the CMS are set here.
    pub fn pdf<'d>(
        &self,
        document: &'d [u8],
        mut options: SignatureOptions,
    ) -> Result<SignedDocument<'d>, Error> {
        Signing::check(self.level, DocumentKind::Pdf, self.tsa, self.trust)?;
        self.check_key()?;
        let identity = self.key.identity();
        let long_term = self.long_term_parts()?;
        let sources = long_term
            .as_ref()
            .map(LongTermParts::sources)
            .unwrap_or_default();
        let level = match (self.level, self.tsa, &long_term) {
            (Level::BaselineB, _, _) => pades::Level::BB,
            (Level::BaselineT, Some(tsa), _) => pades::Level::BT { tsa: tsa.clone() },
            (Level::BaselineLt, Some(tsa), Some(parts)) => pades::Level::BLT {
                tsa: tsa.clone(),
                validation: LongTerm {
                    validator: &parts.validator,
                    sources: &sources,
                },
            },
            (Level::BaselineLta, Some(tsa), Some(parts)) => pades::Level::BLTA {
                tsa: tsa.clone(),
                validation: LongTerm {
                    validator: &parts.validator,
                    sources: &sources,
                },
            },
            _ => return Err(Error::Internal("a level without what it needs")),
        };
        options.signing_time = self.at;
        options.contents_size = pades::contents_size(&identity, &level);
        let signed =
            pades::sign(document, &identity, &options, &level).map_err(Error::from_pades)?;
        Ok(SignedDocument {
            field: Some(signed.field_name().to_owned()),
            body: Body::Pdf(signed),
            level: match self.level {
                Level::BaselineB => SignatureLevel::PadesBB,
                Level::BaselineT => SignatureLevel::PadesBT,
                Level::BaselineLt => SignatureLevel::PadesBLt,
                Level::BaselineLta => SignatureLevel::PadesBLta,
            },
        })
    }

    /// Signs an XML document: XMLDSig, or XAdES at B-B, B-T, B-LT or B-LTA. B-LT and B-LTA
    /// check the signer's path before the token signs and gather the validation data as PDF
    /// does ([`LongTerm`]); the XML side only writes it ([`crate::xml::longterm`]).
    pub fn xml(
        &self,
        document: &[u8],
        options: XmlOptions,
    ) -> Result<SignedDocument<'static>, Error> {
        Signing::check(
            self.level,
            DocumentKind::Xml(options.form),
            self.tsa,
            self.trust,
        )?;
        self.check_key()?;
        let mut xml = crate::xml::SignOptions::new(self.at.into());
        xml.packaging = options.packaging;
        xml.other_signatures = options.other_signatures;
        let (level, recorded) = match (self.level, options.form, self.tsa) {
            (Level::BaselineB, XmlForm::XmlDsig, _) => {
                (crate::xml::Level::XmlDsig, SignatureLevel::XadesBB)
            }
            (Level::BaselineB, XmlForm::Xades, _) => {
                (crate::xml::Level::XadesB, SignatureLevel::XadesBB)
            }
            (Level::BaselineT, XmlForm::Xades, Some(tsa)) => (
                crate::xml::Level::XadesT { tsa: tsa.clone() },
                SignatureLevel::XadesBT,
            ),
            (Level::BaselineLt, XmlForm::Xades, Some(tsa)) => (
                crate::xml::Level::XadesT { tsa: tsa.clone() },
                SignatureLevel::XadesBLt,
            ),
            (Level::BaselineLta, XmlForm::Xades, Some(tsa)) => (
                crate::xml::Level::XadesT { tsa: tsa.clone() },
                SignatureLevel::XadesBLta,
            ),
            _ => return Err(Error::Internal("an XML level without what it needs")),
        };
        xml.level = level;
        let long_term = self.long_term_parts()?;
        let sources = long_term
            .as_ref()
            .map(LongTermParts::sources)
            .unwrap_or_default();
        let validation = long_term.as_ref().map(|parts| LongTerm {
            validator: &parts.validator,
            sources: &sources,
        });
        // B-LT: the signer's path is checked before anything is signed.
        let signer_data = validation
            .map(|v| v.signer_data(&self.key.certificate, &self.key.chain, self.at))
            .transpose()
            .map_err(Error::from_pades)?;
        let mut signed =
            crate::xml::sign_document(document, &self.key.key, &self.key.certificates(), &xml)
                .map_err(Error::from_xml)?;
        if let (Some(validation), Some(mut data)) = (validation, signer_data) {
            let stamp = signed.signature_timestamp().map_err(Error::from_xml)?;
            let tsa_data = validation
                .timestamp_data(&stamp.token, &stamp.message)
                .map_err(Error::from_pades)?;
            data.merge(&tsa_data);
            let values = crate::xml::ValidationValues {
                certificates: data.certificates,
                crls: data.crls,
                ocsp_responses: data.ocsp_responses,
            };
            signed = signed
                .with_validation_values(&values)
                .map_err(Error::from_xml)?;
            if let (Level::BaselineLta, Some(tsa)) = (self.level, self.tsa) {
                signed = signed
                    .with_archive_timestamp(tsa, crate::signer::DigestAlgorithm::Sha256)
                    .map_err(Error::from_xml)?;
            }
        }
        let bytes = signed.into_bytes();
        Ok(SignedDocument {
            body: Body::Xml(bytes),
            field: None,
            level: recorded,
        })
    }
}

/// The validator and evidence sources of a B-LT signature, built from a [`Trust`] and the
/// key's chain (offered as intermediates).
struct LongTermParts {
    validator: Validator,
    evidence: Evidence,
    online: Option<Arc<Online>>,
}

impl LongTermParts {
    fn new(trust: &Trust, chain: &[Vec<u8>]) -> Result<LongTermParts, Error> {
        let mut pool = trust.certificates.clone();
        for der in chain {
            let certificate = Certificate::from_der(der).map_err(|e| Error::Certificate {
                reason: e.to_string(),
            })?;
            pool.add(certificate);
        }
        let online = (trust.revocation == Revocation::Online).then(|| {
            Arc::new(Online::configured(
                REVOCATION_TIMEOUT,
                OcspNonce::Optional,
                &trust.fetch,
            ))
        });
        let mut validator = Validator::new(
            trust.anchors.clone(),
            pool,
            crate::pki::ValidationPolicy::default(),
        );
        if let Some(online) = &online {
            validator = validator.with_issuer_source(online.clone());
        }
        Ok(LongTermParts {
            validator,
            evidence: trust.evidence.clone(),
            online,
        })
    }

    /// Evidence already held first, the network second.
    fn sources(&self) -> Vec<&dyn RevocationSource> {
        let mut sources: Vec<&dyn RevocationSource> = vec![&self.evidence];
        if let Some(online) = &self.online {
            sources.push(online.as_ref());
        }
        sources
    }
}

/// Why a signature could not be made. The variants sort the causes as a caller answers them:
/// the caller's request, the token, a service the level needs, the signer, the document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("level `{level}`: expected B-B, B-T or B-LT")]
    UnknownLevel { level: String },
    /// The level cannot be made here: no TSA, no anchors, a time-stamp on plain XMLDSig, a TSA
    /// whose chain does not reach the anchors.
    #[error("{reason}")]
    LevelUnavailable { reason: String },
    #[error(transparent)]
    Token(#[from] token::Error),
    /// A remote credential (CSC API) could not be opened: the service, the access token, the
    /// credential or its certificates.
    #[error(transparent)]
    Remote(#[from] crate::csc::Error),
    /// The key did not sign (a token that failed, a remote signer that refused).
    #[error("signing failed: {0}")]
    Signer(#[source] crate::signer::SignError),
    /// The TSA failed or answered what cannot be used: worth retrying later.
    #[error(transparent)]
    TimestampAuthority(Box<dyn std::error::Error + Send + Sync>),
    /// B-LT: the signer's chain does not validate (revoked, expired, no evidence).
    #[error(transparent)]
    SignerNotValid(Box<pades::Error>),
    /// The document cannot be signed (not a PDF kyso reads, certified P=1, malformed XML).
    #[error(transparent)]
    Unsignable(Box<dyn std::error::Error + Send + Sync>),
    /// Anything else in making the signature: a bug or a broken configuration, never the
    /// caller's to fix.
    #[error(transparent)]
    Signing(Box<dyn std::error::Error + Send + Sync>),
    /// The key is below the algorithm policy for new signatures.
    #[error(
        "the key is {weakness}, which the algorithm policy no longer accepts for new signatures ([verify.algorithms]; Circular 15/2025/TT-BKHCN: RSA at least 2048 bits, ECDSA at least 256)"
    )]
    KeyBelowPolicy { weakness: crate::pki::Weakness },
    #[error("internal: {0}")]
    Internal(&'static str),
    #[error("{setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    #[error(
        "the key {uri} has no certificate on the token: store one with `kyso token import-cert` (or give it with --chain)"
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

/// A key as a caller names it: a PKCS#11 URI (`pkcs11:…`) or a remote credential
/// (`csc:https://host/csc/v2#credential-id`).
#[derive(Clone, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per key opened; a Box would only add a dereference"
)]
pub enum KeyName {
    Token(Pkcs11Uri),
    Remote(crate::csc::CredentialRef),
}

impl KeyName {
    /// `csc:…` names a remote credential; anything else is read as a PKCS#11 URI (which refuses
    /// `pin-value`).
    pub fn parse(text: &str) -> Result<KeyName, Error> {
        if crate::csc::CredentialRef::is_csc(text) {
            Ok(KeyName::Remote(crate::csc::CredentialRef::parse(text)?))
        } else {
            Ok(KeyName::Token(token::parse_uri(text)?))
        }
    }
}

/// Where a key lives: a token kyso opens itself, or a remote signing service. Both sign through
/// [`crate::signer::Signer`]; the service only asks which for a token's session pool and for a
/// token failure's reopening.
pub enum SigningKey {
    Token(TokenKey),
    Remote(crate::csc::CscKey),
}

impl SigningKey {
    /// The token key, if this is one.
    pub fn token(&self) -> Option<&TokenKey> {
        match self {
            SigningKey::Token(key) => Some(key),
            SigningKey::Remote(_) => None,
        }
    }

    /// What the ledger and audit log record as the key: the PKCS#11 URI less `pin-source` and
    /// `module-path` (what the key is, not where its PIN lives), or the `csc:` name (which holds
    /// no secret).
    pub fn reference(&self) -> String {
        match self {
            SigningKey::Token(key) => {
                let mut uri = key.uri();
                uri.pin_source = None;
                uri.module_path = None;
                uri.to_string()
            }
            SigningKey::Remote(key) => key.reference().to_string(),
        }
    }

    /// The key in an error message: the token object, or the `csc:` name.
    pub fn describe(&self) -> String {
        match self {
            SigningKey::Token(key) => key.uri().describe_object(),
            SigningKey::Remote(key) => key.reference().to_string(),
        }
    }
}

impl crate::signer::Signer for SigningKey {
    fn algorithm(&self) -> crate::signer::SignatureAlgorithm {
        match self {
            SigningKey::Token(key) => key.algorithm(),
            SigningKey::Remote(key) => key.algorithm(),
        }
    }

    fn public_key_spki(&self) -> &[u8] {
        match self {
            SigningKey::Token(key) => key.public_key_spki(),
            SigningKey::Remote(key) => key.public_key_spki(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<crate::signer::Signature, crate::signer::SignError> {
        match self {
            SigningKey::Token(key) => key.sign(message),
            SigningKey::Remote(key) => key.sign(message),
        }
    }
}

/// A key with its certificate and the issuers to embed: a token key with the certificate
/// stored beside it, or a remote credential with the chain its service gave.
pub struct KeyMaterial {
    pub key: SigningKey,
    /// The signer's certificate, DER.
    pub certificate: Vec<u8>,
    /// Issuer certificates, DER, nearest first: those on the token, then `extra` ones.
    pub chain: Vec<Vec<u8>>,
    /// The kind and size of the key, from its certificate, for the algorithm policy.
    pub key_kind: crate::pki::signature::KeyKind,
}

impl KeyMaterial {
    /// Opens the key `uri` names (logging in if needed) and gathers its certificates: the one
    /// stored with it, the issuers stored on the token, then `extra` (duplicates dropped). A
    /// key stored without its certificate may take it from `extra`: the one for its public key.
    pub fn open(
        uri: &Pkcs11Uri,
        defaults: &TokenDefaults,
        options: KeyOptions,
        extra: &[Vec<u8>],
    ) -> Result<KeyMaterial, Error> {
        let key = TokenKey::open(uri, defaults, options)?;
        let stored = key.certificate().map(<[u8]>::to_vec);
        let given = || {
            let spki = crate::signer::Signer::public_key_spki(&key);
            extra
                .iter()
                .find(|der| Certificate::from_der(der).is_ok_and(|c| c.spki_der() == spki))
                .cloned()
        };
        let Some(certificate) = stored.or_else(given) else {
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
        let key_kind = Certificate::from_der(&certificate)
            .map_err(|e| Error::Certificate {
                reason: e.to_string(),
            })?
            .public_key()
            .kind
            .clone();
        Ok(KeyMaterial {
            key: SigningKey::Token(key),
            certificate,
            chain,
            key_kind,
        })
    }

    /// Opens the remote credential `reference` names through its service: the certificate and
    /// issuers `credentials/info` gives, then `extra` (duplicates dropped). The shape a token
    /// key has, so that PDF and XML signing, B-LT and the service do not know the difference.
    pub fn open_remote(
        reference: &crate::csc::CredentialRef,
        access: &crate::csc::Access,
        options: KeyOptions,
        extra: &[Vec<u8>],
    ) -> Result<KeyMaterial, Error> {
        let key = crate::csc::CscKey::open(reference, access, options.scheme)?;
        let certificate = key.certificate().to_vec();
        let mut chain = key.chain().to_vec();
        for der in extra {
            if !chain.contains(der) && *der != certificate {
                chain.push(der.clone());
            }
        }
        let key_kind = Certificate::from_der(&certificate)
            .map_err(|e| Error::Certificate {
                reason: e.to_string(),
            })?
            .public_key()
            .kind
            .clone();
        Ok(KeyMaterial {
            key: SigningKey::Remote(key),
            certificate,
            chain,
            key_kind,
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

impl Error {
    fn from_pades(error: pades::Error) -> Error {
        match error {
            pades::Error::Pdf(e) => Error::Unsignable(Box::new(e)),
            pades::Error::Cms(crate::cms::Error::Signer(e)) => Error::Signer(e),
            // A TSA whose own chain does not reach the anchors is a configuration to fix, not
            // an outage to retry.
            e @ pades::Error::TimestampNotValid(crate::pki::timestamp::Error::Path(_)) => {
                Error::LevelUnavailable {
                    reason: e.to_string(),
                }
            }
            e @ (pades::Error::Timestamp(_)
            | pades::Error::TimestampRejected { .. }
            | pades::Error::TimestampNotValid(_)) => Error::TimestampAuthority(Box::new(e)),
            e @ pades::Error::SignerNotValid { .. } => Error::SignerNotValid(Box::new(e)),
            e => Error::Signing(Box::new(e)),
        }
    }

    fn from_xml(error: crate::xml::Error) -> Error {
        use crate::xml::Error as X;
        match error {
            X::Signer(e) => Error::Signer(e),
            e @ X::Timestamp(_) => Error::TimestampAuthority(Box::new(e)),
            e @ (X::Build(_)
            | X::SelfCheck(_)
            | X::Certificate(_)
            | X::CertificateKeyMismatch
            | X::NoCertificate) => Error::Signing(Box::new(e)),
            e => Error::Unsignable(Box::new(e)),
        }
    }
}
