//! Certificate path validation and revocation: is this certificate a real, unrevoked, properly
//! constrained certificate of a trusted authority at a given time?
//!
//! Owns: the trust store ([`TrustStore`]: several independent roots), the pool of candidate
//! intermediates ([`CertPool`]), path building over several candidates with an explicit work
//! budget, RFC 5280 §6.1 path validation at a caller-given time, revocation per RFC 5280 §6.3
//! (CRLs, [`crl`]) and RFC 6960 (OCSP, [`ocsp`]) behind the [`RevocationSource`] trait, and RFC
//! 3161 timestamp token verification ([`timestamp`]).
//!
//! Refuses: to read the clock (time is always a parameter), to return a bare bool (success is a
//! [`VerifiedChain`] that only [`Validator::validate`] can build; failure is a ranked
//! [`PathError`]), DSA, and SHA-1 or RSA < 2048 past the cut-off dates of the
//! [`AlgorithmPolicy`] (or at any date, unless the caller names
//! [`AlgorithmPolicy::DangerouslyAllowLegacy`]).
//!
//! "Could not check" (no revocation evidence, responder down: [`PathError::is_indeterminate`])
//! is kept apart from "checked and bad" (revoked, expired, bad signature).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use thiserror::Error;

pub mod algorithm_policy;
mod cert;
pub mod crl;
pub mod fetch;
pub mod identity;
mod name;
pub mod ocsp;
mod path;
mod policy;
pub mod profile;
pub mod revocation;
pub mod signature;
pub mod timestamp;

pub use algorithm_policy::{AlgorithmDates, AlgorithmPolicy, Judgement, Weakness};
pub use cert::{BasicConstraints, Certificate, Defect, DistributionPoint, Extensions, key_usage};
pub use name::{GeneralName, Name};
pub use path::{
    AnyPolicy, CertificatePolicies, ChainDepth, ExplicitPolicy, ExtendedKeyUsage, IssuerSource,
    KeyPurpose, MAX_INTERMEDIATES, PathError, PolicyMapping, RetiredUse, RevocationStatus,
    SignerKeyUsage, ValidationPolicy, Validator, VerifiedChain,
};
pub use profile::{Hierarchy, Profile};
pub use revocation::{
    Evidence, RevocationCheck, RevocationPolicy, RevocationSource, UnknownRevocation,
};
pub use signature::SignatureError;

/// Errors of this module that are not validation verdicts: loading trust anchors and
/// certificates, parsing inputs.
#[derive(Debug, Error)]
pub enum Error {
    #[error("not a certificate: {reason}")]
    BadCertificate { reason: String },
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no certificate found in {path}")]
    NoCertificate { path: PathBuf },
}

/// Trust anchors: the certificates of the roots kyso trusts. Several independent roots may be
/// loaded (national root CA, government CA, test roots); a path may end at any of them.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    by_subject: HashMap<String, Vec<usize>>,
    fingerprints: HashSet<[u8; 32]>,
    labels: HashMap<[u8; 32], AnchorLabel>,
}

/// Where an anchor came from and which national hierarchy it heads: what `kyso trust list`
/// shows and what a report names when a chain reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorLabel {
    pub source: AnchorSource,
    /// `None` for anchors outside a profile's bundle (a configured or user-added root).
    pub hierarchy: Option<profile::Hierarchy>,
}

/// Where an anchor was loaded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorSource {
    /// The bundle of a trust profile kyso carries (`[verify] profile`).
    Profile(profile::Profile),
    /// `[verify] trust` in kyso.toml.
    Config,
    /// Added with `kyso trust add` (kept in `[verify] trust_dir`).
    UserAdded,
    /// Given for one run (`--trust`) or by a program through [`TrustStore::add`].
    Given,
}

impl AnchorSource {
    /// The word reports and `kyso trust list` use: `bundle vn`, `config`, `user`, `given`.
    pub fn code(self) -> String {
        match self {
            AnchorSource::Profile(p) => format!("bundle {}", p.name()),
            AnchorSource::Config => "config".to_owned(),
            AnchorSource::UserAdded => "user".to_owned(),
            AnchorSource::Given => "given".to_owned(),
        }
    }
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Adds one anchor with where it came from; the first label of a certificate given twice
    /// stays (a bundle's anchor also named in `[verify] trust` still heads its hierarchy).
    pub fn add_labelled(&mut self, cert: Certificate, label: AnchorLabel) {
        self.labels.entry(*cert.fingerprint()).or_insert(label);
        self.add(cert);
    }

    /// What is known of an anchor's origin; `None` for one added without a label.
    pub fn label(&self, cert: &Certificate) -> Option<&AnchorLabel> {
        self.labels.get(cert.fingerprint())
    }

    /// Adds one anchor; duplicates (same DER) are ignored.
    pub fn add(&mut self, cert: Certificate) {
        if self.fingerprints.insert(*cert.fingerprint()) {
            self.by_subject
                .entry(cert.subject().key().to_owned())
                .or_default()
                .push(self.anchors.len());
            self.anchors.push(cert);
        }
    }

    /// Adds every certificate in a PEM or DER buffer.
    pub fn add_pem_or_der(&mut self, data: &[u8]) -> Result<usize, Error> {
        let certs = Certificate::from_pem_or_der(data)?;
        let n = certs.len();
        certs.into_iter().for_each(|c| self.add(c));
        Ok(n)
    }

    /// Loads a PEM/DER file, or every `.pem`, `.crt`, `.cer` and `.der` file of a folder.
    pub fn load(&mut self, path: &Path) -> Result<usize, Error> {
        load_path(path, |data| self.add_pem_or_der(data))
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    pub(crate) fn by_subject(&self, key: &str) -> impl Iterator<Item = &Certificate> {
        self.by_subject
            .get(key)
            .into_iter()
            .flatten()
            .map(|i| &self.anchors[*i])
    }

    pub(crate) fn contains(&self, cert: &Certificate) -> bool {
        self.fingerprints.contains(cert.fingerprint())
    }
}

/// Candidate intermediate certificates: a configured pool plus, per validation, those carried
/// by the signature itself (CMS certificates, XML X509Data, PDF DSS).
#[derive(Clone, Debug, Default)]
pub struct CertPool {
    certs: Vec<Certificate>,
    by_subject: HashMap<String, Vec<usize>>,
    fingerprints: HashSet<[u8; 32]>,
}

impl CertPool {
    pub fn new() -> CertPool {
        CertPool::default()
    }

    pub fn add(&mut self, cert: Certificate) {
        if self.fingerprints.insert(*cert.fingerprint()) {
            self.by_subject
                .entry(cert.subject().key().to_owned())
                .or_default()
                .push(self.certs.len());
            self.certs.push(cert);
        }
    }

    pub fn extend(&mut self, certs: impl IntoIterator<Item = Certificate>) {
        certs.into_iter().for_each(|c| self.add(c));
    }

    /// Adds every certificate in a PEM or DER buffer.
    pub fn add_pem_or_der(&mut self, data: &[u8]) -> Result<usize, Error> {
        let certs = Certificate::from_pem_or_der(data)?;
        let n = certs.len();
        self.extend(certs);
        Ok(n)
    }

    /// Loads a PEM/DER file, or every certificate file of a folder.
    pub fn load(&mut self, path: &Path) -> Result<usize, Error> {
        load_path(path, |data| self.add_pem_or_der(data))
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    pub(crate) fn by_subject(&self, key: &str) -> impl Iterator<Item = &Certificate> {
        self.by_subject
            .get(key)
            .into_iter()
            .flatten()
            .map(|i| &self.certs[*i])
    }
}

fn load_path(
    path: &Path,
    mut add: impl FnMut(&[u8]) -> Result<usize, Error>,
) -> Result<usize, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if matches!(ext.as_str(), "pem" | "crt" | "cer" | "der") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_owned());
    }
    let mut total = 0;
    for f in files {
        let data = std::fs::read(&f).map_err(|source| Error::Io {
            path: f.clone(),
            source,
        })?;
        total += add(&data)?;
    }
    if total == 0 {
        return Err(Error::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(total)
}
