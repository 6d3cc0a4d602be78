//! Revocation snapshots: the CRLs, OCSP responses and fetched issuer certificates that a batch's
//! certificate paths need, collected once online and saved in one PEM file, so that the batch
//! (or the same archive audited again) can run with no network.
//!
//! A snapshot is evidence, not a verdict: every CRL and OCSP response in it is checked as if it
//! had just been fetched (signature, issuer, scope, freshness at the validation time, RFC 5280
//! §6.3 and RFC 6960), so a stale or forged entry can only make a signature INDETERMINATE, never
//! pass. The file is PEM (RFC 7468): `X509 CRL`, `OCSP RESPONSE` and `CERTIFICATE` blocks that
//! `openssl crl`, `openssl ocsp -respin` and `openssl x509` read one by one.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::pki::crl::Crl;
use crate::pki::fetch::Cached;
use crate::pki::ocsp::OcspResponse;
use crate::pki::{CertPool, Certificate, Evidence};

/// A snapshot larger than this is not loaded: a province's CAs publish a few CRLs of at most a
/// few MB each ([`crate::pki::fetch::MAX_RESPONSE_BYTES`] caps one at 32 MiB), and OCSP
/// responses are ~2 KB each for at most [`MAX_OCSP_RESPONSES`] signers. 1 GiB is far beyond both.
pub const MAX_SNAPSHOT_BYTES: u64 = 1024 * 1024 * 1024;

/// OCSP responses kept: one per signing certificate; the seed case has 10,000+ certificates in
/// a province, and the online cache keeps 65,536.
pub const MAX_OCSP_RESPONSES: usize = 65_536;

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading the revocation snapshot {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing the revocation snapshot {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the revocation snapshot {} is {size} bytes, more than the {limit}-byte limit", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("the revocation snapshot {}, block {block} ({label}): {reason}", path.display())]
    Invalid {
        path: PathBuf,
        block: usize,
        label: String,
        reason: String,
    },
}

/// Revocation evidence for offline verification.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub crls: Vec<Crl>,
    pub ocsp: Vec<OcspResponse>,
    pub certificates: Vec<Certificate>,
}

impl Snapshot {
    /// What an online source fetched (see [`crate::verify::Verifier::online`]).
    pub fn from_cached(cached: Cached) -> Snapshot {
        let mut ocsp = cached.ocsp;
        ocsp.truncate(MAX_OCSP_RESPONSES);
        Snapshot {
            crls: cached.crls,
            ocsp,
            certificates: cached.certificates,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.crls.is_empty() && self.ocsp.is_empty() && self.certificates.is_empty()
    }

    /// The snapshot as PEM, headed by a comment saying when it was collected.
    pub fn to_pem(&self, collected_at: OffsetDateTime) -> String {
        let when = collected_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut out = format!(
            "# kyso revocation snapshot, collected {when}: {} CRL(s), {} OCSP response(s), {} certificate(s)\n",
            self.crls.len(),
            self.ocsp.len(),
            self.certificates.len()
        );
        // Sorted by content so that the same evidence always writes the same file.
        let mut blocks: Vec<(&str, &[u8])> = Vec::new();
        blocks.extend(self.crls.iter().map(|c| ("X509 CRL", c.der())));
        blocks.extend(self.ocsp.iter().map(|r| ("OCSP RESPONSE", r.der())));
        blocks.extend(self.certificates.iter().map(|c| ("CERTIFICATE", c.der())));
        blocks.sort();
        blocks.dedup();
        for (label, der) in blocks {
            out.push_str(&pem::encode(&pem::Pem::new(label, der.to_vec())));
        }
        out
    }

    /// Reads a snapshot file written by [`Snapshot::save`].
    pub fn load(path: &Path) -> Result<Snapshot, Error> {
        let read = |source| Error::Read {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read)?.len();
        if size > MAX_SNAPSHOT_BYTES {
            return Err(Error::TooLarge {
                path: path.to_owned(),
                size,
                limit: MAX_SNAPSHOT_BYTES,
            });
        }
        let data = std::fs::read(path).map_err(read)?;
        Snapshot::from_pem(&data, path)
    }

    fn from_pem(data: &[u8], path: &Path) -> Result<Snapshot, Error> {
        let invalid = |block: usize, label: &str, reason: String| Error::Invalid {
            path: path.to_owned(),
            block,
            label: label.to_owned(),
            reason,
        };
        let blocks = pem::parse_many(data).map_err(|e| invalid(0, "PEM", e.to_string()))?;
        let mut snapshot = Snapshot::default();
        for (n, block) in blocks.iter().enumerate() {
            let label = block.tag();
            match label {
                "X509 CRL" => snapshot.crls.push(
                    Crl::from_der(block.contents())
                        .map_err(|e| invalid(n + 1, label, e.to_string()))?,
                ),
                "OCSP RESPONSE" => snapshot.ocsp.push(
                    OcspResponse::from_der(block.contents())
                        .map_err(|e| invalid(n + 1, label, e.to_string()))?,
                ),
                "CERTIFICATE" => snapshot.certificates.push(
                    Certificate::from_der(block.contents())
                        .map_err(|e| invalid(n + 1, label, e.to_string()))?,
                ),
                other => {
                    return Err(invalid(
                        n + 1,
                        other,
                        "not a CRL, OCSP response or certificate".to_owned(),
                    ));
                }
            }
        }
        Ok(snapshot)
    }

    /// Writes the snapshot (see [`Snapshot::to_pem`]).
    pub fn save(&self, path: &Path, collected_at: OffsetDateTime) -> Result<(), Error> {
        std::fs::write(path, self.to_pem(collected_at)).map_err(|source| Error::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Adds the snapshot to the evidence and intermediates a verifier is built with.
    pub fn add_to(&self, evidence: &mut Evidence, pool: &mut CertPool) {
        for crl in &self.crls {
            evidence.add_crl(crl.clone());
        }
        for response in &self.ocsp {
            evidence.add_ocsp(response.clone());
        }
        pool.extend(self.certificates.iter().cloned());
    }
}
