//! Generated corpora of signed documents for the batch tests and `make bench`: thousands of PDFs
//! and XMLs signed in seconds with software keys ([`SoftwareSigner`]) under a throwaway
//! [`TestPki`], so that no document enters the repository without its recipe.
//!
//! Refuses nothing and trusts nothing: the CA and signer keys sit in memory, and every file is
//! deterministic given its number except for the keys (fresh per [`CorpusPki`]).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use time::OffsetDateTime;

use crate::cms::SignerIdentity;
use crate::pdf::SignatureOptions;
use crate::pdf::sample::{SampleOptions, sample_pdf};
use crate::testpki::{self, PkiOptions, SignerName, SignerProfile, SoftwareSigner, TestPki};
use crate::token::KeyAlgorithm;

/// Why a corpus could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pki(#[from] testpki::Error),
    #[error("signing corpus document {name}: {reason}")]
    Sign { name: String, reason: String },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who signs a corpus document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The n-th valid signer (modulo the number of signers).
    Valid(usize),
    /// A signer whose certificate is on the intermediate's CRL.
    Revoked,
    /// A signer certified by the untrusted root.
    Untrusted,
}

/// A test PKI with a set of signers, each with a software key.
pub struct CorpusPki {
    pki: TestPki,
    signers: Vec<CorpusSigner>,
    revoked: CorpusSigner,
    untrusted: CorpusSigner,
}

struct CorpusSigner {
    key: SoftwareSigner,
    algorithm: KeyAlgorithm,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    name: SignerName,
}

impl CorpusPki {
    /// A PKI built for `at` (P-256 CAs) with one valid signer per entry of `names`; keys alternate
    /// RSA-2048 and P-256, the two kinds the province's tokens carry.
    pub fn new(at: OffsetDateTime, names: &[SignerName]) -> Result<CorpusPki, Error> {
        CorpusPki::with_options(
            PkiOptions {
                at,
                ..PkiOptions::default()
            },
            names,
        )
    }

    /// Like [`CorpusPki::new`] with every PKI option (a CRL or OCSP URL in the signers'
    /// certificates, for revocation snapshots).
    pub fn with_options(options: PkiOptions, names: &[SignerName]) -> Result<CorpusPki, Error> {
        CorpusPki::with_algorithms(options, names, &[KeyAlgorithm::Rsa2048, KeyAlgorithm::P256])
    }

    /// Like [`CorpusPki::with_options`], the valid signers' keys cycling through `algorithms`
    /// (RSA-2048, RSA-3072 and P-256 for the small-document bench, the mix of the province's
    /// tokens and seals); an empty list means RSA-2048 and P-256.
    pub fn with_algorithms(
        options: PkiOptions,
        names: &[SignerName],
        algorithms: &[KeyAlgorithm],
    ) -> Result<CorpusPki, Error> {
        let algorithms = if algorithms.is_empty() {
            &[KeyAlgorithm::Rsa2048, KeyAlgorithm::P256][..]
        } else {
            algorithms
        };
        let pki = TestPki::new(options)?;
        let make = |name: &SignerName, algorithm: KeyAlgorithm, profile: SignerProfile| {
            let (issued, key) = pki.issue_with_software_key(algorithm, name, profile)?;
            let chain = match profile {
                SignerProfile::UntrustedIssuer => vec![pki.untrusted_root.der().to_vec()],
                _ => vec![pki.intermediate.der().to_vec()],
            };
            Ok::<_, Error>(CorpusSigner {
                key: SoftwareSigner::new(key, algorithm),
                algorithm,
                certificate: issued.der,
                chain,
                name: name.clone(),
            })
        };
        let mut signers = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let algorithm = algorithms[i % algorithms.len()];
            signers.push(make(name, algorithm, SignerProfile::Valid)?);
        }
        let stranger = SignerName::new("Người Ngoài", "Tổ chức Không Tin Cậy", "Phòng Lạ");
        let revoked = make(
            &SignerName::new("Người Bị Thu Hồi", "UBND tỉnh Thử Nghiệm", "Phòng Thu Hồi"),
            KeyAlgorithm::P256,
            SignerProfile::Revoked,
        )?;
        let untrusted = make(
            &stranger,
            KeyAlgorithm::P256,
            SignerProfile::UntrustedIssuer,
        )?;
        Ok(CorpusPki {
            pki,
            signers,
            revoked,
            untrusted,
        })
    }

    /// The instant the PKI was built for: verify the corpus at this time.
    pub fn at(&self) -> OffsetDateTime {
        self.pki.at()
    }

    pub fn pki(&self) -> &TestPki {
        &self.pki
    }

    /// Number of valid signers.
    pub fn signers(&self) -> usize {
        self.signers.len()
    }

    /// The key algorithm a signer signs with.
    pub fn algorithm(&self, who: Who) -> KeyAlgorithm {
        self.signer(who).algorithm
    }

    /// The name a signer's certificate carries.
    pub fn name(&self, who: Who) -> &SignerName {
        &self.signer(who).name
    }

    /// Writes `root.pem`, `intermediate.pem`, `untrusted-root.pem`, `intermediate.crl` and
    /// `root.crl` (valid for a week from an hour before [`CorpusPki::at`]).
    pub fn write_authorities(&self, dir: &Path) -> Result<(), Error> {
        Ok(self.pki.write_authorities(dir)?)
    }

    fn signer(&self, who: Who) -> &CorpusSigner {
        match who {
            Who::Valid(n) => &self.signers[n % self.signers.len().max(1)],
            Who::Revoked => &self.revoked,
            Who::Untrusted => &self.untrusted,
        }
    }

    /// A PDF of about `size` bytes numbered `number`, signed by each of `who` in turn (one
    /// incremental update per signature, as an officer then the unit's seal sign).
    pub fn pdf(&self, number: usize, size: usize, who: &[Who]) -> Result<Vec<u8>, Error> {
        let mut bytes = sample_pdf(&SampleOptions {
            lines: vec![
                "UY BAN NHAN DAN TINH THU NGHIEM".to_owned(),
                format!("So: {number}/UBND-VP"),
                "V/v kiem tra chu ky so hang loat".to_owned(),
            ],
            pad_to: size,
            ..SampleOptions::default()
        });
        for (i, w) in who.iter().enumerate() {
            let signer = self.signer(*w);
            let identity = SignerIdentity {
                signer: &signer.key,
                certificate: &signer.certificate,
                chain: &signer.chain,
            };
            let mut options = SignatureOptions::new(
                self.at() + time::Duration::minutes(i as i64),
                crate::pades::contents_size(&identity, &crate::pades::Level::BB),
            );
            options.name = Some(signer.name.common_name.clone());
            bytes = crate::pades::sign(&bytes, &identity, &options, &crate::pades::Level::BB)
                .map_err(|e| Error::Sign {
                    name: format!("pdf {number}"),
                    reason: e.to_string(),
                })?
                .to_vec();
        }
        Ok(bytes)
    }

    /// An XML document numbered `number` with `rows` rows, signed (enveloped XAdES B-B) by `who`.
    pub fn xml(&self, number: usize, rows: usize, who: Who) -> Result<Vec<u8>, Error> {
        let mut document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VanBan so=\"{number}\"><SoKyHieu>{number}/TB-UBND</SoKyHieu><TrichYeu>Thông báo kiểm tra chữ ký số</TrichYeu>\n"
        );
        for row in 0..rows {
            document.push_str(&format!(
                "<Dong stt=\"{row}\"><Ten>Hạng mục số {row}</Ten><SoLuong>{}</SoLuong></Dong>\n",
                row % 7 + 1
            ));
        }
        document.push_str("</VanBan>\n");
        let signer = self.signer(who);
        let mut chain = vec![signer.certificate.clone()];
        chain.extend(signer.chain.iter().cloned());
        let at = SystemTime::from(self.at());
        let options = crate::xml::SignOptions::new(at);
        crate::xml::sign(document.as_bytes(), &signer.key, &chain, &options).map_err(|e| {
            Error::Sign {
                name: format!("xml {number}"),
                reason: e.to_string(),
            }
        })
    }
}

/// Writes `bytes` to `path`, creating its folder.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// A small deterministic generator (xorshift64*), so that a corpus is the same for a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        let span = u64::try_from(high - low + 1).unwrap_or(u64::MAX);
        // Below `span`, itself a usize: the conversion back cannot fail.
        low + usize::try_from(self.next_u64() % span).unwrap_or(0)
    }

    /// Log-uniform in `low..=high`: as many files of 50–100 KB as of 1–2 MB, the shape of a
    /// document archive where scans are the minority.
    pub fn log_range(&mut self, low: usize, high: usize) -> usize {
        let low_f = low.max(1) as f64;
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let v = low_f * (high.max(low) as f64 / low_f).powf(u);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a float between low and high, clamped to them"
        )]
        let v = v as usize;
        v.clamp(low, high)
    }
}
