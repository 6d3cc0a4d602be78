//! One verdict for a package (ETSI EN 319 102-1 indications), for the receiving clerk.
//!
//! What is checked: the envelope's XMLDSig signatures, if any, by the XML verifier and the
//! verdict layer as any XML signature (a repair kyso made to read the package is named on each
//! of them: its digest is over bytes kyso had to change); every attachment, decoded under
//! [`Limits`], verified as a file on its own when it is a PDF, XML or edXML document; the
//! manifest against the attachments; the header against what the attachments' signatures
//! signed ([`super::check`]).
//!
//! The package's indication is the worst of:
//! - each envelope signature's indication;
//! - each verified attachment's indication (an unsigned document is INDETERMINATE /
//!   SIGNED_DATA_NOT_FOUND, as `kyso verify` says of it alone);
//! - TOTAL-FAILED / FORMAT_FAILURE for an attachment that cannot be decoded (the package is
//!   malformed), INDETERMINATE / SIGNED_DATA_NOT_FOUND for one past a limit (not checked);
//! - INDETERMINATE / SIG_CONSTRAINTS_FAILURE for each finding: a header field the signed
//!   content contradicts, a manifest entry with no attachment or an attachment the manifest
//!   does not list, two attachments with one content id. ETSI EN 319 102-1 reserves
//!   TOTAL-FAILED for a signature proven bad (format, hash, value, a revoked or expired
//!   signer); these signatures may all be good, and what fails is the receiving policy's
//!   constraint that the package describes what it carries. That is SIG_CONSTRAINTS_FAILURE,
//!   which the standard puts under INDETERMINATE: the clerk must not accept the package as it
//!   stands (exit code 1, not VALID), and the report says which field and where;
//! - INDETERMINATE / SIGNED_DATA_NOT_FOUND when the package carries no attachment, or nothing
//!   in it is signed.
//!
//! Ties keep the first found, in that order. Attachments that are not signature-checkable (a
//! Word file) do not change the indication; the report lists them and says whether the
//! envelope signature covers them.

use super::attachment::{self, Compression, Kind, Limits};
use super::check::{self, SignedBy, SignedText};
use super::report::{AttachmentReport, AttachmentStatus, CheckOutcome, PackageReport};
use super::{EncodedAttachment, Package};
use crate::verify::reason::PackagePart;
use crate::verify::{
    DocumentReport, Facet, Indication, Reason, SignatureReport, SubIndication, Verifier,
};

/// Verifies a package at nesting `depth` (0: the file itself).
pub(crate) fn verify(verifier: &Verifier, bytes: &[u8], depth: usize) -> DocumentReport {
    let limits = Limits::default();
    let mut report = DocumentReport {
        format: "edxml".to_owned(),
        sha256: hex::encode(crate::signer::DigestAlgorithm::Sha256.digest(bytes)),
        indication: Indication::Indeterminate,
        sub_indication: None,
        reasons: Vec::new(),
        signatures: Vec::new(),
        long_term: None,
        validated_at: verifier.at(),
        package: None,
        decree30: None,
    };
    let package = match Package::read(bytes) {
        Ok(package) => package,
        Err(e) => {
            report.indication = Indication::TotalFailed;
            report.sub_indication = Some(SubIndication::FormatFailure);
            report.reasons.push(Reason::PackageUnreadable {
                detail: e.to_string(),
            });
            return report;
        }
    };
    let mut verdict = Verdict::default();
    let mut warnings = package.repairs.clone();

    // The envelope.
    if package.signed {
        let envelope = verifier.verify_xml(package.signed_text().as_bytes());
        if envelope.signatures.is_empty() {
            // The XML verifier refused the document as a whole.
            for reason in &envelope.reasons {
                verdict.add(
                    envelope.indication,
                    envelope.sub_indication,
                    Reason::EnvelopeRefused(Box::new(reason.clone())),
                );
            }
        }
        for mut signature in envelope.signatures {
            if !package.repairs.is_empty() {
                signature.warnings.push(Reason::PackageNotWellFormed);
            }
            verdict.signature(&signature);
            report.signatures.push(signature);
        }
    }

    // The attachments.
    let mut attachments = Vec::new();
    let mut texts: Vec<SignedText> = Vec::new();
    let mut signers: Vec<SignedBy> = Vec::new();
    let mut spent = 0u64;
    if package.attachments.len() > limits.max_attachments {
        verdict.add(
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound),
            Reason::PackageTooManyAttachments {
                count: package.attachments.len(),
                limit: limits.max_attachments,
            },
        );
    }
    for encoded in package.attachments.iter().take(limits.max_attachments) {
        let label = label(encoded);
        let (out, content) = attachment(verifier, &package, encoded, &limits, &mut spent, depth);
        if let Some(indication) = out.indication {
            let first = out.reasons.first().cloned().or_else(|| {
                out.report.as_ref().and_then(|r| {
                    r.reasons
                        .first()
                        .or_else(|| r.signatures.iter().find_map(|s| s.reasons.first()))
                        .cloned()
                })
            });
            if indication != Indication::TotalPassed {
                verdict.add(
                    indication,
                    out.sub_indication,
                    Reason::PackageSignature {
                        what: PackagePart::Attachment,
                        name: label.clone(),
                        indication: indication.as_str(),
                        first: first.map(Box::new),
                    },
                );
            }
        }
        if let (Some(report), Some(bytes)) = (&out.report, &content) {
            if out.kind == "pdf" {
                texts.extend(check::pdf_texts(bytes, report, &label));
            }
            for signature in &report.signatures {
                if signature.intact == Facet::Passed
                    && signature.signature_valid == Facet::Passed
                    && let Some(signer) = &signature.signer
                {
                    signers.push(SignedBy {
                        source: format!("{label} › {}", signature.name),
                        signer: signer.clone(),
                    });
                }
            }
        }
        if out.status == AttachmentStatus::NotCheckable {
            let covered = !report.signatures.is_empty()
                && report.signatures.iter().all(|s| s.intact == Facet::Passed);
            let kind = out.content_type.clone().unwrap_or_else(|| "?".to_owned());
            let label = label.clone();
            warnings.push(if covered {
                Reason::AttachmentCoveredByEnvelope { label, kind }
            } else {
                Reason::AttachmentUncovered { label, kind }
            });
        }
        attachments.push(out);
    }

    // The manifest against the attachments.
    manifest_findings(&package, &mut verdict);

    // The header against the signed content.
    let checks = check::check(&package.header, &texts, &signers);
    for check in checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Mismatch)
    {
        verdict.add(
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure),
            Reason::HeaderMismatch {
                field: check.field,
                header: check.header.clone(),
                source: check.source.clone(),
                found: check.found.clone(),
            },
        );
    }

    if package.attachments.is_empty() {
        verdict.add(
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound),
            Reason::PackageNoAttachment,
        );
    }
    let anything_signed = !report.signatures.is_empty()
        || attachments
            .iter()
            .filter_map(|a| a.report.as_ref())
            .any(|r| !r.signatures.is_empty());
    if !anything_signed {
        verdict.add(
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound),
            Reason::PackageUnsigned,
        );
    }
    report.indication = verdict.indication;
    report.sub_indication = verdict.sub_indication;
    report.reasons = verdict.reasons;
    report.package = Some(Box::new(PackageReport {
        header: package.header.clone(),
        warnings,
        attachments,
        checks,
    }));
    report
}

/// The worst indication seen, with its sub-indication, and every reason in the order found.
struct Verdict {
    indication: Indication,
    sub_indication: Option<SubIndication>,
    reasons: Vec<Reason>,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict {
            indication: Indication::TotalPassed,
            sub_indication: None,
            reasons: Vec::new(),
        }
    }
}

impl Verdict {
    fn add(&mut self, indication: Indication, sub: Option<SubIndication>, reason: Reason) {
        let rank = |i: Indication| match i {
            Indication::TotalPassed => 0,
            Indication::Indeterminate => 1,
            Indication::TotalFailed => 2,
        };
        if rank(indication) > rank(self.indication) {
            self.indication = indication;
            self.sub_indication = sub;
        }
        if indication != Indication::TotalPassed {
            self.reasons.push(reason);
        }
    }

    fn signature(&mut self, signature: &SignatureReport) {
        if signature.indication != Indication::TotalPassed {
            self.add(
                signature.indication,
                signature.sub_indication,
                Reason::PackageSignature {
                    what: PackagePart::Envelope,
                    name: signature.name.clone(),
                    indication: signature.indication.as_str(),
                    first: signature.reasons.first().cloned().map(Box::new),
                },
            );
        }
    }
}

/// `cid:209 "qd-123.pdf"` (or `@12`, the line, without a content id): how reasons name an
/// attachment, in no language.
fn label(attachment: &EncodedAttachment) -> String {
    let id = attachment
        .content_id
        .as_deref()
        .map_or_else(|| format!("@{}", attachment.line), |c| format!("cid:{c}"));
    match &attachment.name {
        Some(name) => format!("{id} \"{name}\""),
        None => id,
    }
}

/// Decodes and verifies one attachment; its decoded bytes come back for the header checks.
fn attachment(
    verifier: &Verifier,
    package: &Package,
    encoded: &EncodedAttachment,
    limits: &Limits,
    spent: &mut u64,
    depth: usize,
) -> (AttachmentReport, Option<Vec<u8>>) {
    let mut out = AttachmentReport {
        content_id: encoded.content_id.clone(),
        name: encoded.name.clone(),
        content_type: encoded.content_type.clone(),
        description: encoded.description.clone(),
        compression: "none",
        entry: None,
        size: None,
        sha256: None,
        kind: "unread",
        status: AttachmentStatus::NotRead,
        indication: None,
        sub_indication: None,
        reasons: Vec::new(),
        report: None,
    };
    let decoded = match package.encoded(encoded) {
        None => Err(attachment::Error::Empty),
        Some(text) => attachment::decode(text, limits, spent),
    };
    let decoded = match decoded {
        Ok(decoded) => decoded,
        Err(e) => {
            let (indication, sub) = if e.is_malformed() {
                (Indication::TotalFailed, SubIndication::FormatFailure)
            } else {
                (Indication::Indeterminate, SubIndication::SignedDataNotFound)
            };
            out.indication = Some(indication);
            out.sub_indication = Some(sub);
            out.reasons.push(Reason::AttachmentUnreadable {
                detail: e.to_string(),
            });
            return (out, None);
        }
    };
    if let Compression::Zip { entry } = &decoded.compression {
        out.compression = "zip";
        out.entry = Some(entry.clone());
    }
    out.size = Some(decoded.bytes.len() as u64);
    out.sha256 = Some(hex::encode(
        crate::signer::DigestAlgorithm::Sha256.digest(&decoded.bytes),
    ));
    let kind = Kind::of(&decoded.bytes);
    out.kind = kind.as_str();
    let report = match kind {
        Kind::Other => {
            out.status = AttachmentStatus::NotCheckable;
            return (out, Some(decoded.bytes));
        }
        Kind::Edxml if depth >= limits.max_nesting => {
            out.indication = Some(Indication::Indeterminate);
            out.sub_indication = Some(SubIndication::SignedDataNotFound);
            out.reasons.push(Reason::PackageNestingLimit {
                limit: limits.max_nesting,
            });
            return (out, Some(decoded.bytes));
        }
        Kind::Edxml => verify(verifier, &decoded.bytes, depth + 1),
        Kind::Pdf | Kind::Xml => verifier.verify(&decoded.bytes),
    };
    out.status = AttachmentStatus::Verified;
    out.indication = Some(report.indication);
    out.sub_indication = report.sub_indication;
    out.report = Some(Box::new(report));
    (out, Some(decoded.bytes))
}

/// Manifest entries without an attachment, attachments the manifest does not list, and content
/// ids carried twice: each a finding.
fn manifest_findings(package: &Package, verdict: &mut Verdict) {
    let constraint = |verdict: &mut Verdict, reason: Reason| {
        verdict.add(
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure),
            reason,
        );
    };
    let ids: Vec<&str> = package
        .attachments
        .iter()
        .filter_map(|a| a.content_id.as_deref())
        .collect();
    for (n, id) in ids.iter().enumerate() {
        if ids[..n].contains(id) {
            constraint(verdict, Reason::DuplicateContentId { id: id.to_string() });
        }
    }
    // A package without a manifest (some producers leave it out) lists nothing to compare.
    if package.manifest.is_empty() {
        return;
    }
    let listed: Vec<&str> = package
        .manifest
        .iter()
        .filter_map(|m| m.content_id.as_deref())
        .collect();
    for entry in &package.manifest {
        if let Some(id) = entry.content_id.as_deref()
            && !ids.contains(&id)
        {
            constraint(
                verdict,
                Reason::ManifestEntryMissing {
                    id: id.to_string(),
                    name: entry.name.clone(),
                },
            );
        }
    }
    for attachment in &package.attachments {
        if !attachment
            .content_id
            .as_deref()
            .is_some_and(|id| listed.contains(&id))
        {
            constraint(
                verdict,
                Reason::AttachmentNotInManifest {
                    label: label(attachment),
                },
            );
        }
    }
}
