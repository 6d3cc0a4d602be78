//! A throwaway PKI for tests, benchmarks and `kyso demo`: a root, an intermediate, an untrusted
//! root, and signer certificates in every variant verification must tell apart (valid, expired,
//! not yet valid, wrong key usage, revoked, issued under an untrusted root), with CRLs.
//!
//! CA keys are software keys made here; a signer's key is normally a token key, and its
//! certificate is issued for the public key read from the token ([`TestPki::issue`] takes a DER
//! `SubjectPublicKeyInfo`), so the private key never leaves the token. Nothing here is fit to be
//! trusted outside a test: the CA private keys sit in memory and in the fixture folder.
//!
//! Times are parameters: a PKI is built "as of" a given instant and every validity window is
//! placed relative to it, so tests never depend on the clock.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, PublicKeyData, RevokedCertParams, SerialNumber, SubjectPublicKeyInfo,
};
use time::{Duration, OffsetDateTime};

use crate::der;
use crate::oid;
use crate::signer::{Curve, DigestAlgorithm, Signature, SignatureAlgorithm, Signer};
use crate::token::KeyAlgorithm;

/// Why a test PKI could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// How to build a [`TestPki`].
#[derive(Clone, Debug)]
pub struct PkiOptions {
    /// The instant the PKI is built for: roots are valid 10 years around it, signers 2 years.
    pub at: OffsetDateTime,
    /// Key type of the CA keys.
    pub ca_algorithm: KeyAlgorithm,
    /// A name put in every CA's common name, to tell PKIs apart.
    pub name: String,
    /// CRL distribution point written into certificates the intermediate issues.
    pub crl_url: Option<String>,
    /// OCSP responder written into certificates the intermediate issues (AIA, RFC 5280 §4.2.2.1).
    pub ocsp_url: Option<String>,
    /// Where the intermediate's certificate is published, written into the certificates it
    /// issues (AIA caIssuers, RFC 5280 §4.2.2.1).
    pub ca_issuers_url: Option<String>,
    /// CRL distribution point written into the intermediate's certificate, where
    /// [`TestPki::root_crl`] is to be served: without one a validator that checks the whole
    /// chain (PAdES B-LT, pyHanko's `--force-revinfo`) has no evidence for the intermediate.
    pub root_crl_url: Option<String>,
    /// The CAs' names, where a test needs a PKI named like a real one (the national
    /// hierarchies of the `vn` trust profile); `None`: `{name} Root CA` and `{name} Signing CA`
    /// under `O=kyso test PKI`.
    pub authority_names: Option<AuthorityNames>,
}

/// Names for a PKI's CAs.
#[derive(Clone, Debug)]
pub struct AuthorityNames {
    /// The organisation (`O`) of both CAs.
    pub organization: String,
    /// The root's common name.
    pub root: String,
    /// The intermediate's common name.
    pub intermediate: String,
}

impl Default for PkiOptions {
    fn default() -> Self {
        PkiOptions {
            at: OffsetDateTime::now_utc(),
            ca_algorithm: KeyAlgorithm::P256,
            // Distinct names per PKI: validators handed two test PKIs with the same CA names
            // (pyHanko does) may try one's issuer for the other's certificate.
            name: format!("kyso Test {}", hex::encode_upper(random_bytes::<3>())),
            crl_url: None,
            ocsp_url: None,
            ca_issuers_url: None,
            root_crl_url: None,
            authority_names: None,
        }
    }
}

/// A certificate authority: its certificate and its (software) key.
pub struct Authority {
    cert_der: Vec<u8>,
    params: CertificateParams,
    key: KeyPair,
}

impl Authority {
    pub fn der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The CA's private key as PKCS#8 PEM, for peers in tests (an OCSP responder, `openssl ca`).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// What a signer certificate should look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerProfile {
    /// digitalSignature + nonRepudiation, valid around the PKI's instant.
    Valid,
    /// Expired a year before the PKI's instant.
    Expired,
    /// Becomes valid a year after the PKI's instant.
    NotYetValid,
    /// keyEncipherment only: not for signing documents.
    WrongKeyUsage,
    /// Valid, and listed in [`TestPki::intermediate_crl`].
    Revoked,
    /// Valid, but issued by [`TestPki::untrusted_root`] directly.
    UntrustedIssuer,
    /// Valid, without a keyUsage extension (RFC 5280: no restriction on the key).
    NoKeyUsage,
    /// No keyUsage, and issued by [`TestPki::untrusted_root`] directly: the signer of the
    /// shadow-attack files whose chain is in doubt twice over.
    UntrustedNoKeyUsage,
}

/// Who a signer certificate names.
#[derive(Clone, Debug)]
pub struct SignerName {
    pub common_name: String,
    /// The organisation (`O`): the province or agency.
    pub organization: String,
    /// The unit (`OU`): department, district or commune.
    pub unit: String,
    /// The position (`title`, 2.5.4.12), which some Vietnamese CAs write: `Chủ tịch`.
    pub title: Option<String>,
    /// The `UID` (0.9.2342.19200300.100.1.1) where Vietnamese CAs write the holder's
    /// identifiers: `CCCD:001234567890` for a person, `MST:0101234567` for an organisation.
    pub uid: Option<String>,
}

impl SignerName {
    pub fn new(common_name: &str, organization: &str, unit: &str) -> Self {
        SignerName {
            common_name: common_name.to_owned(),
            organization: organization.to_owned(),
            unit: unit.to_owned(),
            title: None,
            uid: None,
        }
    }

    /// The same name with a position (`title`).
    pub fn with_title(mut self, title: &str) -> Self {
        self.title = Some(title.to_owned());
        self
    }

    /// The same name with a `UID` value (`CCCD:…`, `MST:…`).
    pub fn with_uid(mut self, uid: &str) -> Self {
        self.uid = Some(uid.to_owned());
        self
    }
}

/// An issued certificate.
#[derive(Clone, Debug)]
pub struct Issued {
    pub der: Vec<u8>,
    pub serial: u64,
}

impl Issued {
    pub fn pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }
}

/// A root, an intermediate under it, and an unrelated root.
pub struct TestPki {
    pub root: Authority,
    pub intermediate: Authority,
    pub untrusted_root: Authority,
    options: PkiOptions,
    next_serial: AtomicU64,
    revoked: std::sync::Mutex<Vec<u64>>,
    /// Every serial the intermediate issued, for [`TestPki::ocsp_index`].
    issued: std::sync::Mutex<Vec<u64>>,
}

impl TestPki {
    pub fn new(options: PkiOptions) -> Result<TestPki, Error> {
        let at = options.at;
        let names = options.authority_names.clone().unwrap_or(AuthorityNames {
            organization: "kyso test PKI".to_owned(),
            root: format!("{} Root CA", options.name),
            intermediate: format!("{} Signing CA", options.name),
        });
        let root = self_signed_ca(&names.organization, &names.root, options.ca_algorithm, at)?;
        let untrusted_root = self_signed_ca(
            "kyso test PKI",
            &format!("{} Untrusted Root CA", options.name),
            options.ca_algorithm,
            at,
        )?;
        let intermediate_key = generate(options.ca_algorithm)?;
        let mut params = ca_params(&names.organization, &names.intermediate, at, Some(0));
        params.serial_number = Some(SerialNumber::from(2u64));
        if let Some(url) = &options.root_crl_url {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }];
        }
        let cert = params.signed_by(&intermediate_key, &root.issuer())?;
        let intermediate = Authority {
            cert_der: cert.der().to_vec(),
            params,
            key: intermediate_key,
        };
        Ok(TestPki {
            root,
            intermediate,
            untrusted_root,
            options,
            next_serial: AtomicU64::new(0x1000),
            revoked: std::sync::Mutex::new(Vec::new()),
            issued: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The instant the PKI was built for.
    pub fn at(&self) -> OffsetDateTime {
        self.options.at
    }

    /// Issues a document-signing certificate for `spki` (DER `SubjectPublicKeyInfo`).
    pub fn issue(
        &self,
        spki: &[u8],
        name: &SignerName,
        profile: SignerProfile,
    ) -> Result<Issued, Error> {
        let public_key = SubjectPublicKeyInfo::from_der(spki)?;
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        let at = self.options.at;
        let mut params = CertificateParams::default();
        params.distinguished_name = signer_dn(name);
        params.serial_number = Some(SerialNumber::from(serial));
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        (params.not_before, params.not_after) = match profile {
            SignerProfile::Expired => (at - Duration::days(3 * 365), at - Duration::days(365)),
            SignerProfile::NotYetValid => (at + Duration::days(365), at + Duration::days(3 * 365)),
            _ => (at - Duration::days(30), at + Duration::days(2 * 365)),
        };
        params.key_usages = match profile {
            SignerProfile::WrongKeyUsage => vec![KeyUsagePurpose::KeyEncipherment],
            SignerProfile::NoKeyUsage | SignerProfile::UntrustedNoKeyUsage => Vec::new(),
            _ => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
        };
        if let Some(url) = &self.options.crl_url {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }];
        }
        if let Some(aia) = authority_info_access(
            self.options.ocsp_url.as_deref(),
            self.options.ca_issuers_url.as_deref(),
        ) {
            params.custom_extensions.push(aia);
        }
        let untrusted = matches!(
            profile,
            SignerProfile::UntrustedIssuer | SignerProfile::UntrustedNoKeyUsage
        );
        let issuer = if untrusted {
            &self.untrusted_root
        } else {
            &self.intermediate
        };
        let cert = params.signed_by(&public_key, &issuer.issuer())?;
        if !untrusted {
            self.record_issued(serial);
        }
        if profile == SignerProfile::Revoked {
            self.revoked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(serial);
        }
        Ok(Issued {
            der: cert.der().to_vec(),
            serial,
        })
    }

    /// Issues a certificate for a fresh software key; for verification tests that need no token.
    pub fn issue_with_software_key(
        &self,
        algorithm: KeyAlgorithm,
        name: &SignerName,
        profile: SignerProfile,
    ) -> Result<(Issued, KeyPair), Error> {
        let key = generate(algorithm)?;
        let issued = self.issue(&key.subject_public_key_info(), name, profile)?;
        Ok((issued, key))
    }

    /// Issues a timestamping (TSA) certificate and its software key: extendedKeyUsage critical
    /// and exactly id-kp-timeStamping, as RFC 3161 §2.3 requires (OpenSSL's `ts -reply` refuses
    /// to sign with anything else). It carries the PKI's CRL and OCSP pointers like a signer's,
    /// so its revocation data can be gathered for PAdES B-LT.
    pub fn issue_tsa(&self, name: &str) -> Result<(Issued, KeyPair), Error> {
        let not_after = self.options.at + Duration::days(2 * 365);
        self.issue_service(name, Service::TimeStamping, not_after)
    }

    /// A TSA certificate like [`TestPki::issue_tsa`]'s, valid until `not_after`: the long-lived
    /// TSA of an archive, or a short-lived one whose tokens must be renewed.
    pub fn issue_tsa_until(
        &self,
        name: &str,
        not_after: OffsetDateTime,
    ) -> Result<(Issued, KeyPair), Error> {
        self.issue_service(name, Service::TimeStamping, not_after)
    }

    /// Issues an OCSP responder certificate and its software key, delegated by the
    /// intermediate: extendedKeyUsage id-kp-OCSPSigning (RFC 6960 §4.2.2.2), critical as
    /// responders' certificates usually have it, and id-pkix-ocsp-nocheck (§4.2.2.2.1) so that
    /// validators need no revocation data for the responder itself.
    pub fn issue_ocsp_responder(&self, name: &str) -> Result<(Issued, KeyPair), Error> {
        let not_after = self.options.at + Duration::days(2 * 365);
        self.issue_service(name, Service::OcspSigning, not_after)
    }

    fn issue_service(
        &self,
        name: &str,
        service: Service,
        not_after: OffsetDateTime,
    ) -> Result<(Issued, KeyPair), Error> {
        let key = generate(KeyAlgorithm::P256)?;
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        let at = self.options.at;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "VN");
        dn.push(DnType::OrganizationName, self.options.name.as_str());
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.serial_number = Some(SerialNumber::from(serial));
        params.not_before = at - Duration::days(30);
        params.not_after = not_after;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // rcgen writes `extended_key_usages` non-critical; RFC 3161 §2.3 wants the TSA's
        // critical, so the extension is written by hand.
        params.custom_extensions.push(critical_eku(service));
        match service {
            Service::TimeStamping => {
                if let Some(url) = &self.options.crl_url {
                    params.crl_distribution_points = vec![CrlDistributionPoint {
                        uris: vec![url.clone()],
                    }];
                }
                if let Some(aia) = authority_info_access(self.options.ocsp_url.as_deref(), None) {
                    params.custom_extensions.push(aia);
                }
            }
            Service::OcspSigning => params.custom_extensions.push(ocsp_no_check()),
        }
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.intermediate.issuer())?;
        self.record_issued(serial);
        Ok((
            Issued {
                der: cert.der().to_vec(),
                serial,
            },
            key,
        ))
    }

    /// The intermediate's CRL, listing every certificate issued with [`SignerProfile::Revoked`]
    /// (revoked a day before the PKI's instant), valid from `this_update` for `validity`.
    pub fn intermediate_crl(
        &self,
        this_update: OffsetDateTime,
        validity: Duration,
    ) -> Result<Vec<u8>, Error> {
        let revoked = self
            .revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let params = CertificateRevocationListParams {
            this_update,
            next_update: this_update + validity,
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .into_iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from(serial),
                    revocation_time: self.options.at - Duration::days(1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params
            .signed_by(&self.intermediate.issuer())?
            .der()
            .to_vec())
    }

    /// The root's CRL (empty: the test PKI never revokes its intermediate), valid from
    /// `this_update` for `validity`: with it, every certificate of a chain has revocation
    /// evidence, as a full-chain, hard-fail policy requires. Served at
    /// [`PkiOptions::root_crl_url`] when the intermediate names one.
    pub fn root_crl(
        &self,
        this_update: OffsetDateTime,
        validity: Duration,
    ) -> Result<Vec<u8>, Error> {
        let params = CertificateRevocationListParams {
            this_update,
            next_update: this_update + validity,
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.root.issuer())?.der().to_vec())
    }

    /// OpenSSL's CA database (`index.txt`, as `openssl ocsp -index` reads it) for every
    /// certificate the intermediate issued: `V` (valid) or `R` (revoked a day before the PKI's
    /// instant, as in [`TestPki::intermediate_crl`]). Serials not listed are answered "unknown".
    pub fn ocsp_index(&self) -> String {
        let lock = |m: &'_ std::sync::Mutex<Vec<u64>>| {
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        };
        let (issued, revoked) = (lock(&self.issued), lock(&self.revoked));
        let expiry = openssl_index_time(self.options.at + Duration::days(3 * 365));
        let revoked_at = openssl_index_time(self.options.at - Duration::days(1));
        issued
            .iter()
            .map(|serial| {
                let serial_hex = format!("{serial:X}");
                let serial_hex = if serial_hex.len() % 2 == 1 {
                    format!("0{serial_hex}")
                } else {
                    serial_hex
                };
                if revoked.contains(serial) {
                    format!("R\t{expiry}\t{revoked_at},keyCompromise\t{serial_hex}\tunknown\t/CN={serial_hex}\n")
                } else {
                    format!("V\t{expiry}\t\t{serial_hex}\tunknown\t/CN={serial_hex}\n")
                }
            })
            .collect()
    }

    fn record_issued(&self, serial: u64) {
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(serial);
    }

    /// Serials issued as [`SignerProfile::Revoked`].
    pub fn revoked_serials(&self) -> Vec<u64> {
        self.revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Writes the CA certificates (PEM) and current CRLs (DER) into `dir`:
    /// `root.pem`, `intermediate.pem`, `untrusted-root.pem`, `intermediate.crl`, `root.crl`.
    pub fn write_authorities(&self, dir: &Path) -> Result<(), Error> {
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })
        };
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
        write("root.pem", self.root.pem().as_bytes())?;
        write("intermediate.pem", self.intermediate.pem().as_bytes())?;
        write("untrusted-root.pem", self.untrusted_root.pem().as_bytes())?;
        let crl = self.intermediate_crl(self.options.at - Duration::hours(1), Duration::days(7))?;
        write("intermediate.crl", &crl)?;
        let root_crl = self.root_crl(self.options.at - Duration::hours(1), Duration::days(7))?;
        write("root.crl", &root_crl)?;
        Ok(())
    }
}

/// A software key that implements [`Signer`]: for tests and benchmarks of *verification*, which
/// need many signed documents quickly. Signing paths under test use SoftHSM keys instead.
pub struct SoftwareSigner {
    key: KeyPair,
    algorithm: SignatureAlgorithm,
    spki: Vec<u8>,
}

impl SoftwareSigner {
    pub fn new(key: KeyPair, algorithm: KeyAlgorithm) -> Self {
        let algorithm = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256)
            }
            KeyAlgorithm::P256 => SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
            KeyAlgorithm::P384 => SignatureAlgorithm::Ecdsa(Curve::P384, DigestAlgorithm::Sha384),
        };
        let spki = key.subject_public_key_info();
        SoftwareSigner {
            key,
            algorithm,
            spki,
        }
    }
}

impl Signer for SoftwareSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, crate::signer::SignError> {
        let failed = || crate::signer::SignError::Software {
            key: format!("{:?}", self.algorithm),
        };
        let der = rcgen::SigningKey::sign(&self.key, message).map_err(|_| failed())?;
        let bytes = match self.algorithm {
            // rcgen's ECDSA signatures are ASN.1: bring them to the raw r‖s a token returns.
            SignatureAlgorithm::Ecdsa(curve, _) => {
                ecdsa_der_to_raw(&der, curve.field_len()).ok_or_else(failed)?
            }
            _ => der,
        };
        Ok(Signature::new(self.algorithm, bytes))
    }
}

/// `ECDSA-Sig-Value` (DER) to `r‖s`, each `field_len` bytes.
fn ecdsa_der_to_raw(der: &[u8], field_len: usize) -> Option<Vec<u8>> {
    let (seq, _) = crate::ber::parse(der).ok()?;
    let parts = seq.child_vec().ok()?;
    let mut out = Vec::with_capacity(2 * field_len);
    for part in parts.iter().take(2) {
        let digits = part.content.strip_prefix(&[0]).unwrap_or(part.content);
        if digits.len() > field_len {
            return None;
        }
        out.extend(std::iter::repeat_n(0, field_len - digits.len()));
        out.extend_from_slice(digits);
    }
    (out.len() == 2 * field_len).then_some(out)
}

/// Generates a software key pair of the given type.
pub fn generate(algorithm: KeyAlgorithm) -> Result<KeyPair, Error> {
    Ok(match algorithm {
        KeyAlgorithm::Rsa2048 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?
        }
        KeyAlgorithm::Rsa3072 => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_3072)?
        }
        KeyAlgorithm::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        KeyAlgorithm::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?,
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG failing is not something a test PKI can recover from; zeros still work.
    let _ = aws_lc_rs::rand::fill(&mut out);
    out
}

/// PEM armour (RFC 7468) around DER.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(label, der.to_vec()))
}

fn self_signed_ca(
    organization: &str,
    common_name: &str,
    algorithm: KeyAlgorithm,
    at: OffsetDateTime,
) -> Result<Authority, Error> {
    let key = generate(algorithm)?;
    let mut params = ca_params(organization, common_name, at, None);
    params.serial_number = Some(SerialNumber::from(1u64));
    let cert = params.self_signed(&key)?;
    Ok(Authority {
        cert_der: cert.der().to_vec(),
        params,
        key,
    })
}

fn ca_params(
    organization: &str,
    common_name: &str,
    at: OffsetDateTime,
    path_len: Option<u8>,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, organization);
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = at - Duration::days(365);
    params.not_after = at + Duration::days(10 * 365);
    params.use_authority_key_identifier_extension = path_len.is_some();
    params.key_identifier_method = KeyIdMethod::Sha256;
    params
}

fn signer_dn(name: &SignerName) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, name.organization.as_str());
    dn.push(DnType::OrganizationalUnitName, name.unit.as_str());
    dn.push(DnType::CommonName, name.common_name.as_str());
    if let Some(title) = &name.title {
        // id-at-title (RFC 5280 Appendix A: X520Title).
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 12]), title.as_str());
    }
    if let Some(uid) = &name.uid {
        // userId (RFC 4519 §2.39), as Vietnamese CAs carry CMND/CCCD/MST.
        dn.push(
            DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
            uid.as_str(),
        );
    }
    dn
}

/// Which service certificate [`TestPki::issue_service`] makes.
#[derive(Clone, Copy)]
enum Service {
    TimeStamping,
    OcspSigning,
}

/// `extendedKeyUsage` (RFC 5280 §4.2.1.12) with the service's one purpose, marked critical.
fn critical_eku(service: Service) -> CustomExtension {
    let purpose = match service {
        Service::TimeStamping => oid::KP_TIME_STAMPING,
        Service::OcspSigning => oid::KP_OCSP_SIGNING,
    };
    let content = der::sequence(&[&der::oid(purpose)]);
    let mut extension = CustomExtension::from_oid_content(&oid::EXTENDED_KEY_USAGE.arcs(), content);
    extension.set_criticality(true);
    extension
}

/// `id-pkix-ocsp-nocheck` (RFC 6960 §4.2.2.2.1): extnValue is NULL.
fn ocsp_no_check() -> CustomExtension {
    CustomExtension::from_oid_content(&oid::OCSP_NO_CHECK.arcs(), der::null())
}

/// OpenSSL's `index.txt` date format, YYMMDDHHMMSSZ.
fn openssl_index_time(t: OffsetDateTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `authorityInfoAccess` (RFC 5280 §4.2.2.1) with an OCSP and/or a caIssuers access
/// description; `None` when neither is given.
fn authority_info_access(ocsp: Option<&str>, ca_issuers: Option<&str>) -> Option<CustomExtension> {
    let descriptions: Vec<Vec<u8>> = [(oid::AD_OCSP, ocsp), (oid::AD_CA_ISSUERS, ca_issuers)]
        .into_iter()
        .filter_map(|(method, url)| {
            // GeneralName uniformResourceIdentifier [6] IA5String
            let location = der::implicit_primitive(6, url?.as_bytes());
            Some(der::sequence(&[&der::oid(method), &location]))
        })
        .collect();
    if descriptions.is_empty() {
        return None;
    }
    let refs: Vec<&[u8]> = descriptions.iter().map(Vec::as_slice).collect();
    Some(CustomExtension::from_oid_content(
        &oid::AUTHORITY_INFO_ACCESS.arcs(),
        der::sequence(&refs),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki() -> TestPki {
        TestPki::new(PkiOptions {
            at: time::macros::datetime!(2026-06-01 00:00 UTC),
            crl_url: Some("http://127.0.0.1:1/ca.crl".into()),
            ocsp_url: Some("http://127.0.0.1:1/ocsp".into()),
            ..PkiOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn variants_differ_where_they_should() {
        let pki = pki();
        let name = SignerName::new("Nguyễn Văn An", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
        let parse = |profile| {
            let (issued, _) = pki
                .issue_with_software_key(KeyAlgorithm::P256, &name, profile)
                .unwrap();
            issued.der
        };
        let valid = parse(SignerProfile::Valid);
        let (_, cert) = x509_parser::parse_x509_certificate(&valid).unwrap();
        let at = pki.at().unix_timestamp();
        assert!(cert.validity().not_before.timestamp() < at);
        assert!(cert.validity().not_after.timestamp() > at);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.non_repudiation());
        assert!(cert.subject().to_string().contains("Nguyễn Văn An"));
        assert!(
            cert.tbs_certificate.issuer
                == *x509_parser::parse_x509_certificate(pki.intermediate.der())
                    .unwrap()
                    .1
                    .subject()
        );

        let expired = parse(SignerProfile::Expired);
        let (_, cert) = x509_parser::parse_x509_certificate(&expired).unwrap();
        assert!(cert.validity().not_after.timestamp() < at);

        let wrong = parse(SignerProfile::WrongKeyUsage);
        let (_, cert) = x509_parser::parse_x509_certificate(&wrong).unwrap();
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(!ku.digital_signature() && !ku.non_repudiation());

        parse(SignerProfile::Revoked);
        let crl = pki.intermediate_crl(pki.at(), Duration::days(1)).unwrap();
        let (_, crl) = x509_parser::parse_x509_crl(&crl).unwrap();
        assert_eq!(crl.iter_revoked_certificates().count(), 1);
        let index = pki.ocsp_index();
        assert_eq!(index.lines().filter(|l| l.starts_with("V\t")).count(), 3);
        assert_eq!(index.lines().filter(|l| l.starts_with("R\t")).count(), 1);
    }

    #[test]
    fn service_certificates_carry_a_critical_purpose() {
        use crate::pki::Certificate;
        let pki = pki();
        let (tsa, _) = pki.issue_tsa("TSA").unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&tsa.der).unwrap();
        let eku = parsed.extended_key_usage().unwrap().unwrap();
        assert!(eku.critical, "RFC 3161 §2.3: critical");
        assert!(eku.value.time_stamping && !eku.value.ocsp_signing);
        let tsa = Certificate::from_der(&tsa.der).unwrap();
        assert_eq!(tsa.extensions().ocsp_urls, ["http://127.0.0.1:1/ocsp"]);
        assert_eq!(tsa.extensions().crl_distribution_points.len(), 1);

        let (responder, _) = pki.issue_ocsp_responder("OCSP").unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&responder.der).unwrap();
        let eku = parsed.extended_key_usage().unwrap().unwrap();
        assert!(eku.critical && eku.value.ocsp_signing);
        assert!(
            Certificate::from_der(&responder.der)
                .unwrap()
                .extensions()
                .ocsp_no_check
        );
    }

    #[test]
    fn the_intermediate_points_at_the_root_crl() {
        use crate::pki::Certificate;
        let pki = TestPki::new(PkiOptions {
            root_crl_url: Some("http://127.0.0.1:1/root.crl".into()),
            ..PkiOptions::default()
        })
        .unwrap();
        let intermediate = Certificate::from_der(pki.intermediate.der()).unwrap();
        assert_eq!(intermediate.extensions().crl_distribution_points.len(), 1);
        let crl =
            crate::pki::crl::Crl::from_der(&pki.root_crl(pki.at(), Duration::days(1)).unwrap())
                .unwrap();
        assert_eq!(crl.issuer(), intermediate.issuer());
        assert!(crl.is_empty());
    }
}
