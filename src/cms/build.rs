//! Building a detached CMS `SignedData`.
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,                          -- 1: issuerAndSerialNumber, id-data
//!   digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!   encapContentInfo EncapsulatedContentInfo,    -- id-data, no eContent: detached
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier, signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```
//! (RFC 5652 §5.1, §5.3.) The signature is computed over the DER of the signed attributes with
//! the SET OF tag (RFC 5652 §5.4), and the same bytes are written under the `[0]` tag, so what
//! was signed is exactly what a verifier re-reads.

use crate::ber::tag;
use crate::der;
use crate::oid::{self, Oid};
use crate::signer::{DigestAlgorithm, SignatureAlgorithm, Signer};

use super::Error;

/// Who signs: the key and the certificates that name it.
pub struct SignerIdentity<'a> {
    pub signer: &'a dyn Signer,
    /// The signer's certificate, DER.
    pub certificate: &'a [u8],
    /// Issuers to include so verifiers can build the chain (leaf excluded), DER.
    pub chain: &'a [Vec<u8>],
}

/// A signed `SignedData`, before unsigned attributes are added and it is encoded.
pub struct SignedCms {
    digest_algorithm: DigestAlgorithm,
    certificates: Vec<Vec<u8>>,
    sid: Vec<u8>,
    signed_attributes: Vec<u8>,
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
    unsigned_attributes: Vec<Vec<u8>>,
}

impl SignedCms {
    /// Signs `message_digest` (the digest of the detached content, computed with the signer's
    /// digest algorithm) as PAdES/CAdES baseline B does.
    pub fn sign(identity: &SignerIdentity<'_>, message_digest: &[u8]) -> Result<SignedCms, Error> {
        let (_, cert) = x509_parser::parse_x509_certificate(identity.certificate)
            .map_err(|e| Error::BadCertificate(e.to_string()))?;
        if cert.tbs_certificate.subject_pki.raw != identity.signer.public_key_spki() {
            return Err(Error::KeyMismatch);
        }
        let algorithm = identity.signer.algorithm();
        let digest_algorithm = algorithm.digest();

        let issuer = cert.tbs_certificate.issuer.as_raw();
        let serial = cert.tbs_certificate.raw_serial();
        // IssuerAndSerialNumber (RFC 5652 §10.2.4): the name and serial as the certificate has
        // them, so that a verifier matches them byte for byte.
        let sid = der::sequence(&[issuer, &der::integer_as_read(serial)]);

        let signed_attributes = der::set_of(vec![
            attribute(oid::CONTENT_TYPE, &der::oid(oid::DATA)),
            attribute(oid::MESSAGE_DIGEST, &der::octet_string(message_digest)),
            attribute(
                oid::SIGNING_CERTIFICATE_V2,
                &signing_certificate_v2(identity.certificate, issuer, serial),
            ),
        ]);
        let signature = identity.signer.sign(&signed_attributes)?;

        let mut certificates = vec![identity.certificate.to_vec()];
        certificates.extend(identity.chain.iter().cloned());
        Ok(SignedCms {
            digest_algorithm,
            certificates,
            sid,
            signed_attributes,
            signature_algorithm: signature_algorithm_identifier(algorithm),
            signature: signature.to_der(),
            unsigned_attributes: Vec::new(),
        })
    }

    /// The signature value; a signature timestamp (B-T) is requested over its digest.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Adds an unsigned attribute whose single value is `value` (DER).
    pub fn add_unsigned_attribute(&mut self, attribute_type: Oid, value: &[u8]) {
        self.unsigned_attributes
            .push(attribute(attribute_type, value));
    }

    /// The `ContentInfo` wrapping the `SignedData`, DER.
    pub fn to_der(&self) -> Vec<u8> {
        let digest_algorithm = digest_algorithm_identifier(self.digest_algorithm);
        let mut signer_info = vec![
            der::unsigned_integer(&[1]),
            self.sid.clone(),
            digest_algorithm.clone(),
            // [0] IMPLICIT: the SET tag replaced by the context tag, content unchanged.
            der::implicit_constructed(0, &self.signed_attributes),
            self.signature_algorithm.clone(),
            der::octet_string(&self.signature),
        ];
        if !self.unsigned_attributes.is_empty() {
            let set = der::set_of(self.unsigned_attributes.clone());
            signer_info.push(der::implicit_constructed(1, &set));
        }
        let signer_info = der::tlv(tag::SEQUENCE, &signer_info.concat());
        // [0] IMPLICIT CertificateSet: the certificates as they were given, never re-encoded.
        let certificates = der::explicit(0, &self.certificates.concat());
        let signed_data = der::sequence(&[
            &der::unsigned_integer(&[1]),
            &der::set_of(vec![digest_algorithm]),
            &der::sequence(&[&der::oid(oid::DATA)]),
            &certificates,
            &der::set_of(vec![signer_info]),
        ]);
        der::sequence(&[&der::oid(oid::SIGNED_DATA), &der::explicit(0, &signed_data)])
    }
}

/// `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }`.
fn attribute(attribute_type: Oid, value: &[u8]) -> Vec<u8> {
    der::sequence(&[
        &der::oid(attribute_type),
        &der::set_of(vec![value.to_vec()]),
    ])
}

/// ```text
/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }
/// ESSCertIDv2 ::= SEQUENCE {
///   hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///   certHash Hash, issuerSerial IssuerSerial OPTIONAL }
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
/// ```
/// (RFC 5035 §3.) SHA-256, so the hash algorithm is left to its default.
fn signing_certificate_v2(certificate: &[u8], issuer: &[u8], serial: &[u8]) -> Vec<u8> {
    let cert_hash = DigestAlgorithm::Sha256.digest(certificate);
    let ess_cert_id = der::sequence(&[
        &der::octet_string(&cert_hash),
        &issuer_serial(issuer, serial),
    ]);
    der::sequence(&[&der::sequence(&[&ess_cert_id])])
}

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`
/// (RFC 5035 §3; XAdES `IssuerSerialV2` holds the same, EN 319 132-1 §5.2.2): `issuer` (a DER
/// `Name`) as the one `directoryName` ([4] EXPLICIT) of the GeneralNames, `serial` the INTEGER
/// content octets as the certificate has them.
pub(crate) fn issuer_serial(issuer: &[u8], serial: &[u8]) -> Vec<u8> {
    let general_names = der::sequence(&[&der::explicit(4, issuer)]);
    der::sequence(&[&general_names, &der::integer_as_read(serial)])
}

/// A digest `AlgorithmIdentifier`, parameters absent (RFC 5754 §2: "SHOULD be absent").
pub fn digest_algorithm_identifier(digest: DigestAlgorithm) -> Vec<u8> {
    der::algorithm_identifier(digest.oid(), None)
}

/// The signature `AlgorithmIdentifier` (RFC 4055 §5 with NULL parameters for RSA; RFC 4055 §3.1
/// `RSASSA-PSS-params` for PSS; RFC 5758 §3.2, parameters absent, for ECDSA).
pub fn signature_algorithm_identifier(algorithm: SignatureAlgorithm) -> Vec<u8> {
    let null = der::null();
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => {
            let id = match d {
                DigestAlgorithm::Sha256 => oid::SHA256_WITH_RSA,
                DigestAlgorithm::Sha384 => oid::SHA384_WITH_RSA,
                DigestAlgorithm::Sha512 => oid::SHA512_WITH_RSA,
            };
            der::algorithm_identifier(id, Some(&null))
        }
        SignatureAlgorithm::RsaPss(d) => {
            let hash = der::algorithm_identifier(d.oid(), Some(&null));
            let mgf = der::algorithm_identifier(oid::MGF1, Some(&hash));
            let salt = der::unsigned_integer(&(d.output_len() as u64).to_be_bytes());
            let params = der::sequence(&[
                &der::explicit(0, &hash),
                &der::explicit(1, &mgf),
                &der::explicit(2, &salt),
            ]);
            der::algorithm_identifier(oid::RSASSA_PSS, Some(&params))
        }
        SignatureAlgorithm::Ecdsa(_, d) => {
            let id = match d {
                DigestAlgorithm::Sha256 => oid::ECDSA_WITH_SHA256,
                DigestAlgorithm::Sha384 => oid::ECDSA_WITH_SHA384,
                DigestAlgorithm::Sha512 => oid::ECDSA_WITH_SHA512,
            };
            der::algorithm_identifier(id, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::{SignedData, SignerId};
    use crate::testpki::{PkiOptions, SignerName, SignerProfile, SoftwareSigner, TestPki};
    use crate::token::KeyAlgorithm;

    #[test]
    fn built_cms_parses_back_and_verifies() {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        for algorithm in [
            KeyAlgorithm::P256,
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::P384,
        ] {
            let name = SignerName::new("Hồ Văn Khánh", "UBND tỉnh Thử Nghiệm", "Sở Y tế");
            let (issued, key) = pki
                .issue_with_software_key(algorithm, &name, SignerProfile::Valid)
                .unwrap();
            let signer = SoftwareSigner::new(key, algorithm);
            let chain = vec![pki.intermediate.der().to_vec()];
            let identity = SignerIdentity {
                signer: &signer,
                certificate: &issued.der,
                chain: &chain,
            };
            let digest = signer.algorithm().digest().digest(b"the document");
            let mut cms = SignedCms::sign(&identity, &digest).unwrap();
            cms.add_unsigned_attribute(oid::SIGNATURE_TIMESTAMP_TOKEN, &der::octet_string(b"x"));
            let mut der = cms.to_der();
            der.extend_from_slice(&[0; 100]); // PDF pads /Contents with zeros
            let parsed = SignedData::parse(&der).unwrap();
            assert!(!parsed.trailing_garbage);
            // One byte that is not zero anywhere in the padding, across the checked blocks.
            let end = der.len() - 100;
            for at in [0, 1, 63, 64, 65, 99] {
                let mut padded = der.clone();
                padded[end + at] = 1;
                let parsed = SignedData::parse(&padded).unwrap();
                assert!(parsed.trailing_garbage, "a byte at {at} of the padding");
            }
            assert_eq!(parsed.certificates.len(), 2);
            assert_eq!(parsed.certificates[0].as_ref(), &issued.der[..]);
            let [info] = parsed.signer_infos.as_slice() else {
                panic!("one signer")
            };
            let SignerId::IssuerAndSerial { serial, .. } = &info.sid else {
                panic!("issuer and serial")
            };
            let expected_serial = der::unsigned_integer(&issued.serial.to_be_bytes());
            assert_eq!(*serial, &expected_serial[2..]);
            let signed = info.signed_attributes.as_ref().unwrap();
            assert_eq!(signed.message_digest().unwrap().as_ref(), &digest[..]);
            assert!(signed.content_type().unwrap().is(oid::DATA));
            assert!(
                signed.get(oid::SIGNING_TIME).is_none(),
                "PAdES: no signingTime"
            );
            assert_eq!(signed.count(oid::SIGNING_CERTIFICATE_V2), 1);
            assert_eq!(info.unsigned_attributes.len(), 1);
            crate::signer::verify(
                signer.public_key_spki(),
                signer.algorithm(),
                &signed.signed_bytes,
                &info.signature,
            )
            .unwrap();
        }
    }

    #[test]
    fn a_certificate_for_another_key_is_refused() {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let name = SignerName::new("A", "B", "C");
        let (issued, _) = pki
            .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
            .unwrap();
        let other = SoftwareSigner::new(
            crate::testpki::generate(KeyAlgorithm::P256).unwrap(),
            KeyAlgorithm::P256,
        );
        let identity = SignerIdentity {
            signer: &other,
            certificate: &issued.der,
            chain: &[],
        };
        assert!(matches!(
            SignedCms::sign(&identity, &[0; 32]),
            Err(Error::KeyMismatch)
        ));
    }
}
