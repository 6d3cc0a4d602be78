//! PDF signatures: every check from the byte range to the changes made after signing
//! (ETSI EN 319 142-1, ISO 32000-2 §12.8).

use std::collections::HashSet;

use time::OffsetDateTime;

use super::verdict::{Change, Coverage, Facet, SignatureReport, SubIndication, TimeSource};
use super::{Verifier, document_sha256, empty_report, signer_of, validate_chain};
use crate::cms::{self, SignedData, SignerId, SignerInfo};
use crate::pdf::diff::{self, ModificationLevel};
use crate::pdf::{
    Document, FoundSignature, Object, ObjectId, SignatureKind, contents_span, find_signatures,
    revision_ends,
};
use crate::pki::signature::{self as pki_signature, Hash, PublicKey, SignatureAlgorithm};
use crate::pki::timestamp::{self, TimestampToken};
use crate::pki::{Certificate, Evidence};
use crate::signer::DigestAlgorithm;
use crate::verify::DocumentReport;

pub(super) fn verify(verifier: &Verifier, bytes: &[u8]) -> DocumentReport {
    let unreadable = |reason: String| {
        let report = empty_report("pdf", document_sha256(bytes), verifier.at);
        format_failure(report, reason)
    };
    let doc = match Document::parse(bytes) {
        Ok(doc) => doc,
        Err(e) => return unreadable(format!("the PDF cannot be read: {e}")),
    };
    let signatures = match find_signatures(&doc) {
        Ok(s) => s,
        Err(e) => return unreadable(format!("the PDF's form cannot be read: {e}")),
    };
    let digests = PrefixDigests::compute(
        bytes,
        signatures.iter().filter_map(|s| {
            let range = s.dictionary.get(b"ByteRange")?.as_array()?;
            usize::try_from(range.get(1)?.as_integer()?).ok()
        }),
    );
    let mut report = empty_report("pdf", hex::encode(&digests.document), verifier.at);
    let dss = read_dss(&doc);
    let ends = revision_ends(bytes);
    // Each signature's gap, to check that no two signatures' byte ranges interleave.
    let gaps: Vec<Option<(usize, usize)>> = signatures
        .iter()
        .map(|s| contents_span(&doc, s.id).ok())
        .collect();
    let certification = certification_signature(&doc);
    for (i, sig) in signatures.iter().enumerate() {
        let others: Vec<(usize, usize)> = gaps
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, g)| *g)
            .collect();
        let docmdp = (certification == Some(sig.id)).then(|| docmdp_level(&doc, sig));
        report.signatures.push(verify_signature(
            verifier, &doc, sig, &dss, &ends, &others, docmdp, &digests,
        ));
    }
    report
}

/// Signatures whose signed prefix shares the document's hashing pass: documents carry a handful
/// of signatures; past this many, each further one hashes its own bytes (as it would anyway),
/// so a file with thousands of signature fields cannot make the pass keep thousands of states.
const MAX_SHARED_PREFIXES: usize = 64;

/// The document's SHA-256 and the SHA-256 states at each signature's gap, from one pass.
///
/// A PDF signature signs `[0, a) ∪ [b, end)`: a prefix of the file up to its `/Contents`, then
/// the rest of its revision (ISO 32000-2 §12.8.1). The document's own SHA-256 (the ledger's key)
/// reads `[0, len)`. SHA-256 reads its input in order, so the state after `[0, a)` is the same
/// in both: the pass keeps a copy of it at each signature's `a`, and a signature's digest is that
/// copy finished with `[b, end)` alone. Each digest is the value a separate pass gives; what is
/// saved is reading the file once per signature plus once for the document (three signatures on
/// a 2 MB file: 2 MB hashed instead of 8 MB).
struct PrefixDigests {
    document: Vec<u8>,
    /// By offset.
    states: Vec<(usize, aws_lc_rs::digest::Context)>,
}

impl PrefixDigests {
    fn compute(bytes: &[u8], gaps: impl Iterator<Item = usize>) -> PrefixDigests {
        let mut offsets: Vec<usize> = gaps.filter(|&a| a <= bytes.len()).collect();
        offsets.sort_unstable();
        offsets.dedup();
        offsets.truncate(MAX_SHARED_PREFIXES);
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut states = Vec::with_capacity(offsets.len());
        let mut done = 0;
        for offset in offsets {
            context.update(&bytes[done..offset]);
            states.push((offset, context.clone()));
            done = offset;
        }
        context.update(&bytes[done..]);
        PrefixDigests {
            document: context.finish().as_ref().to_vec(),
            states,
        }
    }

    /// The SHA-256 of `ranges` (`[(0, a), (b, end)]`, already checked to lie in `bytes`) from
    /// the state kept at `a`; `None` when no state was kept there.
    fn ranges(&self, bytes: &[u8], ranges: &[(usize, usize)]) -> Option<Vec<u8>> {
        let [(0, a), rest @ ..] = ranges else {
            return None;
        };
        let at = self.states.binary_search_by_key(a, |(o, _)| *o).ok()?;
        let mut context = self.states[at].1.clone();
        for (start, end) in rest {
            context.update(bytes.get(*start..*end)?);
        }
        Some(context.finish().as_ref().to_vec())
    }
}

fn format_failure(mut report: DocumentReport, reason: String) -> DocumentReport {
    report.indication = super::Indication::TotalFailed;
    report.sub_indication = Some(SubIndication::FormatFailure);
    report.reasons.push(reason);
    report
}

/// Evidence from the document security store (ISO 32000-2 §12.8.4.3).
struct Dss {
    certificates: Vec<Certificate>,
    evidence: Evidence,
}

fn read_dss(doc: &Document<'_>) -> Dss {
    let mut dss = Dss {
        certificates: Vec::new(),
        evidence: Evidence::new(),
    };
    let Ok((_, catalog)) = doc.catalog() else {
        return dss;
    };
    let Some(store) = catalog.get(b"DSS").and_then(|d| doc.resolve(d).ok()) else {
        return dss;
    };
    let Some(store) = store.as_dict() else {
        return dss;
    };
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        store
            .get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|r| match doc.resolve(r).ok()? {
                Object::Stream(s) => crate::pdf::decode(&s).ok(),
                _ => None,
            })
            .collect()
    };
    for der in streams(b"Certs") {
        if let Ok(cert) = Certificate::from_der(&der) {
            dss.certificates.push(cert);
        }
    }
    for der in streams(b"CRLs") {
        if let Ok(crl) = crate::pki::crl::Crl::from_der(&der) {
            dss.evidence.add_crl(crl);
        }
    }
    for der in streams(b"OCSPs") {
        if let Ok(ocsp) = crate::pki::ocsp::OcspResponse::from_der(&der) {
            dss.evidence.add_ocsp(ocsp);
        }
    }
    dss
}

#[allow(clippy::too_many_arguments)]
fn verify_signature(
    verifier: &Verifier,
    doc: &Document<'_>,
    sig: &FoundSignature,
    dss: &Dss,
    ends: &[usize],
    other_gaps: &[(usize, usize)],
    docmdp: Option<i64>,
    digests: &PrefixDigests,
) -> SignatureReport {
    let bytes = doc.bytes();
    let dict = &sig.dictionary;
    let sub_filter = dict.name(b"SubFilter").unwrap_or(b"");
    let format = match (sig.kind, sub_filter) {
        (SignatureKind::DocumentTimestamp, _) => "document timestamp",
        (_, b"ETSI.CAdES.detached") => "PAdES-B-B",
        (_, b"adbe.pkcs7.detached") => "PKCS#7 (adbe.pkcs7.detached)",
        _ => "unsupported",
    };
    let mut report = SignatureReport::new(sig.name(), format);
    if format == "unsupported" {
        report.fail(
            SubIndication::FormatFailure,
            format!(
                "signature format /{} is not supported (only ETSI.CAdES.detached, adbe.pkcs7.detached and ETSI.RFC3161)",
                String::from_utf8_lossy(sub_filter)
            ),
        );
        return report;
    }

    // 1. The byte range: [0 a b c], excluding exactly this dictionary's /Contents, ending at a
    //    revision's end, not interleaved with another signature's gap.
    let (ranges, signed_end) = match byte_range(doc, sig, ends, other_gaps, &mut report) {
        Some(r) => r,
        None => return report,
    };

    // 2. The CMS.
    let Some(contents) = dict.get(b"Contents").and_then(Object::as_string) else {
        report.fail(
            SubIndication::FormatFailure,
            "the signature has no /Contents string",
        );
        return report;
    };
    let cms = match SignedData::parse(contents) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                SubIndication::FormatFailure,
                format!("the CMS cannot be read: {e}"),
            );
            return report;
        }
    };
    if cms.trailing_garbage {
        report.fail(
            SubIndication::FormatFailure,
            "/Contents holds data after the CMS that is not zero padding",
        );
        return report;
    }
    if sig.kind == SignatureKind::DocumentTimestamp {
        verify_document_timestamp(verifier, &mut report, contents, bytes, &ranges, dss);
        finish_changes(doc, &mut report, signed_end, None);
        report.bottom_line();
        return report;
    }
    let [info] = cms.signer_infos.as_slice() else {
        report.fail(
            SubIndication::FormatFailure,
            format!(
                "the CMS has {} SignerInfos; a PDF signature has exactly one",
                cms.signer_infos.len()
            ),
        );
        return report;
    };

    if let Some(problem) = envelope_problem(&cms, info) {
        report.fail(SubIndication::FormatFailure, problem);
        return report;
    }

    // 3. Integrity: the digest of the byte ranges.
    let Some(digest) = digest_algorithm(&info.digest_algorithm, verifier) else {
        report.fail(
            SubIndication::CryptoConstraintsFailure,
            format!("digest algorithm {} is not accepted", info.digest_algorithm),
        );
        return report;
    };
    let shared = match digest {
        DigestAlgorithm::Sha256 => digests.ranges(bytes, &ranges),
        _ => None,
    };
    let document_digest = shared.unwrap_or_else(|| {
        let mut hasher = digest.hasher();
        for (start, end) in &ranges {
            hasher.update(&bytes[*start..*end]);
        }
        hasher.finish()
    });

    // 4. The signing certificate.
    let mut pool: Vec<Certificate> = cms
        .certificates
        .iter()
        .filter_map(|der| verifier.certificate(der))
        .collect();
    pool.extend(dss.certificates.iter().cloned());
    let Some(leaf) = find_signer(&info.sid, &pool) else {
        report.fail(
            SubIndication::NoSigningCertificateFound,
            "the signer's certificate is not in the signature or the document",
        );
        return report;
    };
    report.signer = Some(signer_of(verifier, &leaf));

    // 5. Signed attributes: message digest, content type, signing certificate reference.
    let message: std::borrow::Cow<'_, [u8]> = match &info.signed_attributes {
        Some(attributes) => {
            match attributes.message_digest() {
                Some(md) if md.as_ref() == document_digest.as_slice() => {
                    report.intact = Facet::Passed;
                }
                Some(_) => {
                    report.intact = Facet::Failed;
                    report.fail(
                        SubIndication::HashFailure,
                        "the signed bytes were changed: their digest differs from the one signed",
                    );
                    return report;
                }
                None => {
                    report.fail(
                        SubIndication::FormatFailure,
                        "the signed attributes have no single messageDigest",
                    );
                    return report;
                }
            }
            if !attributes
                .content_type()
                .is_some_and(|c| c.is(cms::oid::DATA))
            {
                report.fail(
                    SubIndication::FormatFailure,
                    "the signed attributes' content type is not id-data",
                );
                return report;
            }
            if let Some(problem) = signing_certificate_problem(attributes, &leaf) {
                report.fail(SubIndication::NoSigningCertificateFound, problem);
                return report;
            }
            if attributes.count(cms::oid::SIGNING_CERTIFICATE_V2) == 0
                && format.starts_with("PAdES")
            {
                report.format = "CMS (no signing-certificate attribute)".to_owned();
            }
            std::borrow::Cow::Borrowed(&attributes.signed_bytes)
        }
        // adbe.pkcs7.detached without signed attributes: the signature is over the content.
        None => {
            report.intact = Facet::Undetermined;
            let mut content = Vec::new();
            for (start, end) in &ranges {
                content.extend_from_slice(&bytes[*start..*end]);
            }
            std::borrow::Cow::Owned(content)
        }
    };

    // 6. The signature value.
    match signature_check(info, &leaf, &message, verifier) {
        Ok(name) => {
            report.signature_valid = Facet::Passed;
            if report.intact == Facet::Undetermined {
                report.intact = Facet::Passed;
            }
            report.signature_algorithm = Some(name);
        }
        Err((sub, reason)) => {
            report.signature_valid = Facet::Failed;
            report.fail(sub, reason);
            return report;
        }
    }

    // 7. Time: a verified signature timestamp proves it; otherwise the claimed /M.
    let claimed = dict
        .get(b"M")
        .and_then(Object::as_string)
        .and_then(parse_pdf_date);
    report.signing_time = claimed;
    report.signing_time_source = claimed.map(|_| TimeSource::Claimed);
    let embedded = &dss.evidence;
    let mut proven = None;
    if let Some(attribute) = info
        .unsigned_attributes
        .iter()
        .find(|a| a.oid.is(cms::oid::SIGNATURE_TIMESTAMP_TOKEN))
    {
        match check_timestamp(verifier, attribute, &info.signature, &pool, embedded) {
            Ok(at) => {
                proven = Some(at);
                report.timestamp_time = Some(at);
                report.signing_time = Some(at);
                report.signing_time_source = Some(TimeSource::Timestamp);
                if report.format == "PAdES-B-B" {
                    report.format = "PAdES-B-T".to_owned();
                }
            }
            Err(reason) => report.reasons.push(format!(
                "the signature timestamp is not valid and was ignored: {reason}"
            )),
        }
    }

    // 8. The certificate path, at the proven time or now.
    let intermediates: Vec<Certificate> = pool
        .iter()
        .filter(|c| c.fingerprint() != leaf.fingerprint())
        .cloned()
        .collect();
    validate_chain(
        verifier,
        &mut report,
        &leaf,
        &intermediates,
        proven.unwrap_or(verifier.at),
        proven.is_some(),
        embedded,
    );
    if report.format == "PAdES-B-T" && dss_covers_chain(dss, &report) {
        report.format = "PAdES-B-LT".to_owned();
    }

    // 9. What changed afterwards.
    finish_changes(doc, &mut report, signed_end, docmdp);
    report.bottom_line();
    report
}

/// Reads and checks `/ByteRange`; on success the two ranges and the signed end.
fn byte_range(
    doc: &Document<'_>,
    sig: &FoundSignature,
    ends: &[usize],
    other_gaps: &[(usize, usize)],
    report: &mut SignatureReport,
) -> Option<(Vec<(usize, usize)>, usize)> {
    let len = doc.bytes().len();
    let values: Option<[usize; 4]> = sig
        .dictionary
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .and_then(|a| {
            a.iter()
                .map(|v| v.as_integer().and_then(|i| usize::try_from(i).ok()))
                .collect::<Option<Vec<usize>>>()
        })
        .and_then(|v| <[usize; 4]>::try_from(v).ok());
    let Some([0, a, b, c]) = values else {
        report.fail(
            SubIndication::FormatFailure,
            "/ByteRange is missing or not four non-negative integers starting at 0",
        );
        return None;
    };
    let signed_end = b.checked_add(c).filter(|&end| a < b && end <= len);
    let Some(signed_end) = signed_end else {
        report.fail(
            SubIndication::FormatFailure,
            format!("/ByteRange [0 {a} {b} {c}] does not fit in the {len}-byte file"),
        );
        return None;
    };
    match contents_span(doc, sig.id) {
        Ok((start, end)) if (start, end) == (a, b) => {}
        Ok((start, end)) => {
            report.fail(
                SubIndication::FormatFailure,
                format!(
                    "/ByteRange leaves out bytes {a}..{b}, but this signature's /Contents lies at {start}..{end}: the signed bytes are not the document this signature describes"
                ),
            );
            return None;
        }
        Err(e) => {
            report.fail(SubIndication::FormatFailure, e.to_string());
            return None;
        }
    }
    for &(start, end) in other_gaps {
        let inside_gap = start < b && a < end;
        if inside_gap && (start, end) != (a, b) {
            report.fail(
                SubIndication::FormatFailure,
                format!("/ByteRange overlaps another signature's /Contents at {start}..{end}"),
            );
            return None;
        }
    }
    report.coverage = if signed_end == len {
        Coverage::WholeDocument
    } else if ends.contains(&signed_end) {
        Coverage::Revision
    } else {
        Coverage::Unclear
    };
    if report.coverage == Coverage::Unclear {
        report.fail(
            SubIndication::FormatFailure,
            format!(
                "the signed bytes end at {signed_end}, which is not the end of a revision (%%EOF)"
            ),
        );
        return None;
    }
    Some((vec![(0, a), (b, signed_end)], signed_end))
}

/// The parts of a SignedData outside the signature must agree with the SignerInfo (RFC 5652
/// §5.1, §5.3): the digest algorithm is listed, the content types match, versions are the ones
/// the structure implies. They are not signed, so a verifier that ignored them would accept a
/// CMS whose outer fields were altered.
fn envelope_problem(cms: &SignedData<'_>, info: &SignerInfo<'_>) -> Option<String> {
    if !matches!(cms.version, 1 | 3 | 4 | 5) {
        return Some(format!(
            "SignedData version {} is not a CMS version",
            cms.version
        ));
    }
    if !cms.digest_algorithms.contains(&info.digest_algorithm) {
        return Some(
            "the SignerInfo's digest algorithm is not listed in digestAlgorithms".to_owned(),
        );
    }
    let expected_version = match info.sid {
        SignerId::IssuerAndSerial { .. } => 1,
        SignerId::SubjectKeyIdentifier(_) => 3,
    };
    if info.version != expected_version {
        return Some(format!(
            "SignerInfo version {} does not match its signer identifier (expected {expected_version})",
            info.version
        ));
    }
    if let Some(attributes) = &info.signed_attributes
        && attributes.content_type().as_ref() != Some(&cms.content_type)
    {
        return Some(
            "the signed content type differs from the SignedData's eContentType".to_owned(),
        );
    }
    None
}

fn digest_algorithm(oid: &crate::ber::Oid, verifier: &Verifier) -> Option<DigestAlgorithm> {
    let _ = verifier;
    if oid.is(cms::oid::SHA256) {
        Some(DigestAlgorithm::Sha256)
    } else if oid.is(cms::oid::SHA384) {
        Some(DigestAlgorithm::Sha384)
    } else if oid.is(cms::oid::SHA512) {
        Some(DigestAlgorithm::Sha512)
    } else {
        None
    }
}

fn find_signer(sid: &SignerId<'_>, pool: &[Certificate]) -> Option<Certificate> {
    pool.iter()
        .find(|cert| match sid {
            SignerId::IssuerAndSerial { issuer, serial } => {
                cert.issuer().der() == *issuer && canonical(cert.serial()) == canonical(serial)
            }
            SignerId::SubjectKeyIdentifier(ski) => cert
                .extensions()
                .subject_key_id
                .as_deref()
                .is_some_and(|k| k == ski.as_ref()),
        })
        .cloned()
}

/// An INTEGER's content without redundant leading zero octets.
fn canonical(serial: &[u8]) -> &[u8] {
    let mut s = serial;
    while s.len() > 1 && s[0] == 0 && s[1] & 0x80 == 0 {
        s = &s[1..];
    }
    s
}

/// The ESS signing-certificate attribute, when present, must name the certificate that verified
/// (RFC 5035): otherwise another certificate for the same key could be substituted.
fn signing_certificate_problem(
    attributes: &cms::SignedAttributes<'_>,
    leaf: &Certificate,
) -> Option<String> {
    let attribute = attributes.get(cms::oid::SIGNING_CERTIFICATE_V2)?;
    let [value] = attribute.values.as_slice() else {
        return Some("signingCertificateV2 holds more than one value".to_owned());
    };
    // SigningCertificateV2 → certs SEQUENCE OF → first ESSCertIDv2.
    let first = value.children().next()?.ok()?.children().next()?.ok()?;
    let parts = first.child_vec().ok()?;
    let (hash, cert_hash) = match parts.as_slice() {
        [algorithm, hash, ..] if algorithm.is(crate::ber::tag::SEQUENCE) => {
            let oid = algorithm.children().next()?.ok()?.oid().ok()?;
            let digest = if oid.is(cms::oid::SHA256) {
                DigestAlgorithm::Sha256
            } else if oid.is(cms::oid::SHA384) {
                DigestAlgorithm::Sha384
            } else if oid.is(cms::oid::SHA512) {
                DigestAlgorithm::Sha512
            } else {
                return Some(format!("signingCertificateV2 uses unsupported hash {oid}"));
            };
            (digest, hash.octets().ok()?.into_owned())
        }
        [hash, ..] => (DigestAlgorithm::Sha256, hash.octets().ok()?.into_owned()),
        [] => return Some("signingCertificateV2 is empty".to_owned()),
    };
    (hash.digest(leaf.der()) != cert_hash).then(|| {
        "the signing-certificate attribute names another certificate than the one that signed"
            .to_owned()
    })
}

/// Verifies the signature value; returns the algorithm's name.
fn signature_check(
    info: &SignerInfo<'_>,
    leaf: &Certificate,
    message: &[u8],
    verifier: &Verifier,
) -> Result<String, (SubIndication, String)> {
    let oid = info.signature_algorithm.oid.to_string();
    let hash = match digest_algorithm(&info.digest_algorithm, verifier) {
        Some(DigestAlgorithm::Sha256) => Hash::Sha256,
        Some(DigestAlgorithm::Sha384) => Hash::Sha384,
        Some(DigestAlgorithm::Sha512) => Hash::Sha512,
        None => Hash::Sha1,
    };
    // CMS allows naming only the key type (rsaEncryption, id-ecPublicKey) with the digest
    // given separately (RFC 3370 §3.2, RFC 5753 §2.1.1).
    let algorithm = match oid.as_str() {
        "1.2.840.113549.1.1.1" => SignatureAlgorithm::RsaPkcs1(hash),
        "1.2.840.10045.2.1" => SignatureAlgorithm::Ecdsa(hash),
        _ => SignatureAlgorithm::from_oid_and_params(&oid, info.signature_algorithm.parameters)
            .map_err(|e| (SubIndication::CryptoConstraintsFailure, e.to_string()))?,
    };
    let key = PublicKey::from_spki_der(leaf.spki_der()).ok_or_else(|| {
        (
            SubIndication::CryptoConstraintsFailure,
            "the signer's public key cannot be read".to_owned(),
        )
    })?;
    pki_signature::verify(
        &algorithm,
        &key,
        message,
        &info.signature,
        verifier.signers.policy().algorithms,
    )
    .map(|()| algorithm.name().to_owned())
    .map_err(|e| match e {
        pki_signature::SignatureError::Invalid => (
            SubIndication::SigCryptoFailure,
            "the signature value does not verify with the signer's key".to_owned(),
        ),
        other => (SubIndication::CryptoConstraintsFailure, other.to_string()),
    })
}

/// Verifies a signature timestamp token over the signature value; returns its time.
fn check_timestamp(
    verifier: &Verifier,
    attribute: &cms::Attribute<'_>,
    signature: &[u8],
    pool: &[Certificate],
    embedded: &Evidence,
) -> Result<OffsetDateTime, String> {
    let [value] = attribute.values.as_slice() else {
        return Err("the timestamp attribute holds more than one token".to_owned());
    };
    let der = value.definite().map_err(|e| e.to_string())?;
    let token = TimestampToken::from_der(&der).map_err(|e| e.to_string())?;
    let mut intermediates = token.certificates().to_vec();
    intermediates.extend(pool.iter().cloned());
    let sources = verifier.sources(embedded);
    timestamp::verify(
        &token,
        signature,
        None,
        &verifier.signers,
        &intermediates,
        &sources,
    )
    .map(|verified| verified.gen_time())
    .map_err(|e| e.to_string())
}

fn verify_document_timestamp(
    verifier: &Verifier,
    report: &mut SignatureReport,
    contents: &[u8],
    bytes: &[u8],
    ranges: &[(usize, usize)],
    dss: &Dss,
) {
    let token = match crate::ber::parse(contents)
        .map_err(|e| e.to_string())
        .and_then(|(el, _)| TimestampToken::from_der(el.raw).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            report.fail(
                SubIndication::FormatFailure,
                format!("the document timestamp cannot be read: {e}"),
            );
            return;
        }
    };
    let mut covered = Vec::new();
    for (start, end) in ranges {
        covered.extend_from_slice(&bytes[*start..*end]);
    }
    let mut intermediates = token.certificates().to_vec();
    intermediates.extend(dss.certificates.iter().cloned());
    let sources = verifier.sources(&dss.evidence);
    match timestamp::verify(
        &token,
        &covered,
        None,
        &verifier.signers,
        &intermediates,
        &sources,
    ) {
        Ok(verified) => {
            report.intact = Facet::Passed;
            report.signature_valid = Facet::Passed;
            report.trusted = Facet::Passed;
            report.revocation = Facet::Passed;
            report.timestamp_time = Some(verified.gen_time());
            report.signing_time = Some(verified.gen_time());
            report.signing_time_source = Some(TimeSource::Timestamp);
        }
        Err(timestamp::Error::ImprintMismatch) => {
            report.intact = Facet::Failed;
            report.fail(
                SubIndication::HashFailure,
                "the document timestamp does not match the document",
            );
        }
        Err(e) => report.fail(
            SubIndication::TryLater,
            format!("the document timestamp could not be validated: {e}"),
        ),
    }
}

/// Whether the DSS holds revocation evidence and the chain's certificates (a B-LT signature).
fn dss_covers_chain(dss: &Dss, report: &SignatureReport) -> bool {
    dss.evidence.crl_count() > 0
        || !dss.certificates.is_empty() && report.revocation == Facet::Passed
}

/// Records what changed after the signature and whether the signature permits it.
fn finish_changes(
    doc: &Document<'_>,
    report: &mut SignatureReport,
    signed_end: usize,
    docmdp: Option<i64>,
) {
    let bytes = doc.bytes();
    if signed_end >= bytes.len() {
        return;
    }
    match diff::analyse(bytes, signed_end) {
        Ok(analysis) => {
            let level = analysis.level();
            report.modification = level;
            report.changes = analysis
                .changes
                .iter()
                .map(|c| Change {
                    object: format!("{} {} R ({:?})", c.id.number, c.id.generation, c.kind)
                        .to_lowercase(),
                    page: c.page,
                    rule: c.rule,
                    level: c.level,
                })
                .collect();
            // Approval signatures permit signatures, form filling and annotations after them;
            // a certification signature permits what its DocMDP level says (§12.8.2.2).
            let allowed = match docmdp {
                Some(1) => ModificationLevel::LongTermValidation,
                Some(2) => ModificationLevel::FormFilling,
                _ => ModificationLevel::Annotations,
            };
            if level > allowed {
                report.changes_permitted = Facet::Failed;
                let pages: HashSet<usize> = analysis
                    .changes
                    .iter()
                    .filter(|c| c.level > allowed)
                    .filter_map(|c| c.page)
                    .collect();
                let mut pages: Vec<usize> = pages.into_iter().collect();
                pages.sort_unstable();
                report.reasons.push(format!(
                    "changed after signing beyond what the signature permits ({} object(s){})",
                    analysis
                        .changes
                        .iter()
                        .filter(|c| c.level > allowed)
                        .count(),
                    if pages.is_empty() {
                        String::new()
                    } else {
                        format!(", page(s) {pages:?}")
                    }
                ));
            } else if level > ModificationLevel::LongTermValidation {
                report.reasons.push(format!(
                    "the document was extended after signing ({}), as the signature permits",
                    match level {
                        ModificationLevel::Signatures => "further signatures",
                        ModificationLevel::FormFilling => "form filling",
                        _ => "annotations",
                    }
                ));
            }
        }
        Err(e) => {
            report.changes_permitted = Facet::Failed;
            report
                .reasons
                .push(format!("the later revisions cannot be read: {e}"));
        }
    }
}

/// The certification signature's dictionary, from the catalog's `/Perms /DocMDP`.
fn certification_signature(doc: &Document<'_>) -> Option<ObjectId> {
    let (_, catalog) = doc.catalog().ok()?;
    let perms = doc.resolve(catalog.get(b"Perms")?).ok()?;
    perms.as_dict()?.reference(b"DocMDP")
}

fn docmdp_level(doc: &Document<'_>, sig: &FoundSignature) -> i64 {
    let references = sig
        .dictionary
        .get(b"Reference")
        .and_then(|r| doc.resolve(r).ok());
    for reference in references
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
    {
        let Ok(reference) = doc.resolve(reference) else {
            continue;
        };
        let Some(reference) = reference.as_dict() else {
            continue;
        };
        if reference.name(b"TransformMethod") == Some(b"DocMDP") {
            return reference
                .get(b"TransformParams")
                .and_then(|p| doc.resolve(p).ok())
                .and_then(|p| p.as_dict().and_then(|d| d.integer(b"P")))
                .unwrap_or(2);
        }
    }
    2
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (ISO 32000-2 §7.9.4); missing parts default as the
/// standard says.
pub(crate) fn parse_pdf_date(bytes: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix("D:").unwrap_or(text);
    let digits = |from: usize, len: usize, default: u32| -> Option<u32> {
        match text.get(from..from + len) {
            Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            Some(_) => None,
            None => Some(default),
        }
    };
    let year = digits(0, 4, 0)?;
    let month = digits(4, 2, 1)?;
    let day = digits(6, 2, 1)?;
    let hour = digits(8, 2, 0)?;
    let minute = digits(10, 2, 0)?;
    let second = digits(12, 2, 0)?;
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let offset = match text.get(14..15) {
        Some(sign @ ("+" | "-")) => {
            let rest: String = text[15..].chars().filter(char::is_ascii_digit).collect();
            let h: i8 = rest.get(0..2)?.parse().ok()?;
            let m: i8 = rest.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let (h, m) = if sign == "-" { (-h, -m) } else { (h, m) };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefix_digests_equal_separate_ones() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let gaps = [40_000usize, 10, 99_999, 100_000, 0];
        let digests = PrefixDigests::compute(&bytes, gaps.into_iter().chain([200_000]));
        assert_eq!(
            digests.document,
            DigestAlgorithm::Sha256.digest(&bytes),
            "the document's own digest"
        );
        for (a, b, end) in [
            (40_000, 41_000, 90_000),
            (10, 20, 30),
            (99_999, 100_000, 100_000),
        ] {
            let ranges = [(0, a), (b, end)];
            let mut separate = DigestAlgorithm::Sha256.hasher();
            separate.update(&bytes[..a]);
            separate.update(&bytes[b..end]);
            assert_eq!(
                digests.ranges(&bytes, &ranges),
                Some(separate.finish()),
                "{ranges:?}"
            );
        }
        assert_eq!(
            digests.ranges(&bytes, &[(0, 12), (20, 30)]),
            None,
            "no state at 12"
        );
        assert_eq!(digests.ranges(&bytes, &[(5, 12)]), None, "not a prefix");
    }

    #[test]
    fn pdf_dates() {
        let t = parse_pdf_date(b"D:20261128184530+07'00'").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_866_330);
        assert!(parse_pdf_date(b"D:2026").is_some());
        assert!(parse_pdf_date(b"D:20261328").is_none());
        let z = parse_pdf_date(b"D:20260101000000Z").unwrap();
        assert_eq!(z.offset(), time::UtcOffset::UTC);
    }
}
