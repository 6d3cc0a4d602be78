//! XML signatures: the integrity checks of [`crate::xml::verify`] mapped onto the common verdict,
//! completed with the signer's certificate path, revocation and the XAdES timestamp.

use time::OffsetDateTime;

use super::reason::Reason;
use super::verdict::{Coverage, Facet, SignatureReport, SubIndication, TimeSource};
use super::verdict::{ScopeElement, SignedScope};
use super::{
    DetachedContent, Verifier, XmlScope, document_sha256, empty_report, signer_of, validate_chain,
};
use crate::pki::{AlgorithmPolicy, Weakness};
use crate::pki::{Certificate, Evidence};
use crate::verify::DocumentReport;
use crate::xml::dsig::DigestMethod;
use crate::xml::verify::{Role, SignerKey, Target};
use crate::xml::{self, Expect, LegacyCrypto, Status, VerifyOptions};

pub(super) fn verify(
    verifier: &Verifier,
    bytes: &[u8],
    detached: &DetachedContent,
) -> DocumentReport {
    let mut report = empty_report("xml", document_sha256(bytes), verifier.at);
    let supplied: Vec<(&str, &[u8])> = detached
        .documents
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    let options = VerifyOptions {
        expect: match verifier.xml_scope {
            XmlScope::SignedContent => Expect::AnyContent,
            XmlScope::WholeDocument => Expect::WholeDocument,
        },
        // The XML layer only says whether values verify; the dated policy below judges their
        // algorithms at the signature's proven time, as for PDF.
        legacy: LegacyCrypto::DangerouslyAllowSha1AndSmallRsa,
        detached: &supplied,
        ..VerifyOptions::default()
    };
    let result = match xml::verify(bytes, &options) {
        Ok(r) => r,
        Err(e) => {
            report.indication = super::Indication::TotalFailed;
            report.sub_indication = Some(SubIndication::FormatFailure);
            report.reasons.push(Reason::XmlNotAccepted {
                detail: e.to_string(),
            });
            return report;
        }
    };
    for signature in &result.signatures {
        // Its Id, else its positional path: a name in no language.
        let name = signature
            .id
            .clone()
            .unwrap_or_else(|| signature.path.clone());
        let format = match &signature.xades {
            Some(p) => p.level().format(),
            None => "XMLDSig",
        };
        let mut out = SignatureReport::new(name, format);
        match &signature.status {
            Status::Intact => {
                out.intact = Facet::Passed;
                out.signature_valid = Facet::Passed;
            }
            Status::Failed {
                sub_indication,
                detail,
            } => {
                match sub_indication {
                    xml::SubIndication::HashFailure => out.intact = Facet::Failed,
                    xml::SubIndication::SigCryptoFailure => out.signature_valid = Facet::Failed,
                    _ => {}
                }
                let sub = map_sub(*sub_indication);
                out.fail(
                    sub,
                    Reason::XmlSignature {
                        sub,
                        detail: detail.clone(),
                    },
                );
                report.signatures.push(out);
                continue;
            }
            Status::Unsupported { feature } => {
                out.fail(
                    SubIndication::FormatFailure,
                    Reason::XmlUnsupported {
                        feature: feature.to_string(),
                    },
                );
                report.signatures.push(out);
                continue;
            }
        }
        out.warnings
            .extend(signature.notes.iter().map(|n| Reason::XmlRepeatedId {
                id: n.id.clone(),
                count: n.count,
                reference_line: n.reference_line,
                own: n.own,
                target_line: n.target_line,
            }));
        let scope = scope_of(signature);
        out.coverage = if scope.whole_document {
            Coverage::SignedContent
        } else {
            Coverage::PartialContent
        };
        if !scope.whole_document {
            out.warnings.push(scope_words(&scope));
        }
        out.scope = Some(scope);
        if signature.signer != Some(SignerKey::Certificate) {
            out.fail(SubIndication::NoSigningCertificateFound, Reason::XmlBareKey);
            report.signatures.push(out);
            continue;
        }
        // B-LT: the signature's own CertificateValues and RevocationValues are evidence like
        // the ones given, offered to the path checks; they are trusted for nothing by
        // themselves (an anchor must still be reached, each item must still verify).
        let (embedded, carried) = validation_values(verifier, signature);
        let certificates: Vec<Certificate> = signature
            .certificates
            .iter()
            .filter_map(|der| verifier.certificate(der))
            .chain(carried)
            .collect();
        let Some(leaf) = certificates.first().cloned() else {
            out.fail(
                SubIndication::NoSigningCertificateFound,
                Reason::XmlCertificateUnreadable,
            );
            report.signatures.push(out);
            continue;
        };
        out.signer = Some(signer_of(verifier, &leaf));
        let claimed = signature.signing_time().and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        out.signing_time = claimed;
        out.signing_time_source = claimed.map(|_| TimeSource::Claimed);
        let mut proven = None;
        let mut own_proof = None;
        for stamp in signature.xades.iter().flat_map(|p| &p.timestamps) {
            match super::signature_timestamp(
                verifier,
                &stamp.token,
                &stamp.message,
                &certificates,
                &embedded,
                verifier.at,
            ) {
                Ok(stamped) => {
                    let at = stamped.time;
                    own_proof = Some((stamped.tsa_until, stamped.tsa_subject));
                    proven = Some(at);
                    out.timestamp_time = Some(at);
                    out.signing_time = Some(at);
                    out.signing_time_source = Some(TimeSource::Timestamp);
                    break;
                }
                Err(reason) => out.reasons.push(Reason::TimestampIgnored(reason)),
            }
        }
        let archived = archive_timestamps(verifier, signature, &certificates, &embedded, &mut out);
        // Intact: now the algorithm policy, at the time the time-stamp proves.
        let weaknesses = weaknesses(verifier, signature, &leaf);
        super::judge_algorithms(verifier, &weaknesses, proven, &mut out);
        validate_chain(
            verifier,
            &mut out,
            &leaf,
            &certificates[1..],
            proven.unwrap_or(verifier.at),
            proven.is_some(),
            &embedded,
        );
        out.bottom_line();
        if out.indication == super::Indication::TotalPassed {
            out.long_term = Some(super::long_term(
                verifier,
                &out,
                &leaf,
                [own_proof, archived],
            ));
        }
        report.signatures.push(out);
    }
    report
}

/// The evidence a signature carries in `CertificateValues` and `RevocationValues`: CRLs and
/// OCSP responses as a revocation source, certificates to offer as intermediates. Items that
/// do not parse are left out (the checks then find the evidence missing and say so).
fn validation_values(
    verifier: &Verifier,
    signature: &xml::verify::SignatureReport,
) -> (Evidence, Vec<Certificate>) {
    let mut evidence = Evidence::new();
    let Some(values) = signature
        .xades
        .as_ref()
        .and_then(|p| p.validation_values.as_ref())
    else {
        return (evidence, Vec::new());
    };
    for der in &values.crls {
        if let Ok(crl) = crate::pki::crl::Crl::from_der(der) {
            evidence.add_crl(crl);
        }
    }
    for der in &values.ocsp_responses {
        if let Ok(ocsp) = crate::pki::ocsp::OcspResponse::from_der(der) {
            evidence.add_ocsp(ocsp);
        }
    }
    let certificates = values
        .certificates
        .iter()
        .filter_map(|der| verifier.certificate(der))
        .collect();
    (evidence, certificates)
}

/// B-LTA: each archive time-stamp must cover the signature as it now stands (its imprint) and
/// verify (its TSA's path, with the signature's own evidence); the earliest valid one's time is
/// the report's `archive_time`. A mismatch means something it covers changed after archiving:
/// the signature fails, as a document time-stamp over a changed PDF does.
fn archive_timestamps(
    verifier: &Verifier,
    signature: &xml::verify::SignatureReport,
    certificates: &[Certificate],
    embedded: &Evidence,
    out: &mut SignatureReport,
) -> Option<(OffsetDateTime, String)> {
    use super::reason::{ArchiveTimestampProblem, TimestampProblem};
    // The valid one whose TSA certificate lasts longest: until when they prove the signature.
    let mut lasting: Option<(OffsetDateTime, String)> = None;
    for stamp in signature.xades.iter().flat_map(|p| &p.archive_timestamps) {
        match stamp.imprint {
            xml::xades::Imprint::Matches => {}
            xml::xades::Imprint::Mismatch => {
                out.fail(
                    SubIndication::HashFailure,
                    Reason::XmlArchiveTimestamp(ArchiveTimestampProblem::Mismatch),
                );
                continue;
            }
            xml::xades::Imprint::Unreadable => {
                out.fail(
                    SubIndication::FormatFailure,
                    Reason::XmlArchiveTimestamp(ArchiveTimestampProblem::Invalid(
                        TimestampProblem::Unreadable {
                            detail: "not an RFC 3161 time-stamp token".to_owned(),
                        },
                    )),
                );
                continue;
            }
        }
        match super::signature_timestamp(
            verifier,
            &stamp.token,
            &stamp.message,
            certificates,
            embedded,
            verifier.at,
        ) {
            // The earliest valid one, as for a PDF's document time-stamps.
            Ok(stamped) => {
                let at = stamped.time;
                out.archive_time = Some(out.archive_time.map_or(at, |t| t.min(at)));
                if lasting
                    .as_ref()
                    .is_none_or(|(until, _)| stamped.tsa_until > *until)
                {
                    lasting = Some((stamped.tsa_until, stamped.tsa_subject));
                }
            }
            Err(problem) => out.fail(
                SubIndication::TryLater,
                Reason::XmlArchiveTimestamp(ArchiveTimestampProblem::Invalid(problem)),
            ),
        }
    }
    lasting
}

/// What puts an intact signature below the floor of current algorithms: a SHA-1 signature
/// method or reference digest, the signer's key size.
fn weaknesses(
    verifier: &Verifier,
    signature: &xml::verify::SignatureReport,
    leaf: &Certificate,
) -> Vec<Weakness> {
    let policy = verifier.signers.policy().algorithms;
    if policy == AlgorithmPolicy::DangerouslyAllowLegacy {
        return Vec::new();
    }
    let mut out: Vec<Weakness> = policy
        .key_weakness(&leaf.public_key().kind)
        .into_iter()
        .collect();
    let sha1 = signature
        .method
        .is_some_and(|m| m.digest() == DigestMethod::Sha1)
        || signature
            .references
            .iter()
            .any(|r| r.digest_method == DigestMethod::Sha1);
    if sha1 {
        out.push(Weakness::Sha1);
    }
    out
}

/// What an intact signature covers, from its content references.
fn scope_of(signature: &xml::verify::SignatureReport) -> SignedScope {
    let mut scope = SignedScope {
        whole_document: signature.whole_document || signature.covers_whole_document(),
        not_covered: signature.not_covered.clone(),
        ..SignedScope::default()
    };
    let own = format!("{}/", signature.path);
    for r in signature
        .references
        .iter()
        .filter(|r| r.role == Role::Content)
    {
        match &r.target {
            Target::Document => {}
            // What a signature signs inside itself (the signing-time properties e-invoices
            // keep in a ds:Object) is its own, not the document's; for an enveloping signature
            // (the document element) its objects are the document.
            // Only the document's own elements: a signature's signing-time properties (its own,
            // or another's reached through a repeated local Id) are not what a reader reads.
            Target::Element { path, .. }
                if signature
                    .document_elements
                    .as_ref()
                    .map_or(path.starts_with(&own), |listed| !listed.contains(path)) => {}
            Target::Element { name, id, path, .. } => scope.elements.push(ScopeElement {
                path: path.clone(),
                id: id.clone(),
                name: name.clone(),
            }),
            Target::Detached { uri } => scope.detached.push(uri.clone()),
        }
    }
    scope
}

/// The warning that tells a reader what a partial signature covers.
fn scope_words(scope: &SignedScope) -> Reason {
    Reason::XmlPartialScope {
        covered: scope
            .elements
            .iter()
            .map(|e| match &e.id {
                Some(id) => format!("{} (Id {id:?})", e.path),
                None => e.path.clone(),
            })
            .collect(),
        detached: scope.detached.clone(),
        not_covered: scope.not_covered.clone(),
    }
}

fn map_sub(sub: xml::SubIndication) -> SubIndication {
    match sub {
        xml::SubIndication::FormatFailure => SubIndication::FormatFailure,
        xml::SubIndication::HashFailure => SubIndication::HashFailure,
        xml::SubIndication::SigCryptoFailure => SubIndication::SigCryptoFailure,
        xml::SubIndication::SignedDataNotFound => SubIndication::SignedDataNotFound,
        xml::SubIndication::NoSigningCertificateFound => SubIndication::NoSigningCertificateFound,
        xml::SubIndication::CryptoConstraintsFailure => SubIndication::CryptoConstraintsFailure,
    }
}
