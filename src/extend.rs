//! Augmenting signed PDFs to B-T, B-LT or B-LTA (ETSI EN 319 142-1 §5.4 and §6), whoever
//! signed them: kyso, pyHanko, Adobe, the national CAs' tools. Administrative documents are
//! kept for decades, their signers' certificates for one to three years; what keeps a signature
//! verifiable after they expire is a document time-stamp over it and its validation data.
//!
//! Steps, each an incremental update appended after everything there, so that no byte of an
//! existing signature or revision changes:
//! - **time**: a document time-stamp, when a signature has no time-stamp yet (a B-B signature
//!   becomes B-T: EN 319 142-1 §5.3 lets a document time-stamp be the signature's);
//! - **validation data**: a DSS with every certificate, CRL and OCSP response that proves the
//!   signers' and the time-stamps' paths, gathered and checked as PAdES B-LT gathers them
//!   ([`crate::pades::LongTerm`]);
//! - **archive**: a document time-stamp over all of that, then a DSS with that time-stamp's own
//!   evidence, so that the result verifies offline.
//!
//! A B-LTA document is extended again (re-time-stamped) when the TSA certificate its newest
//! proofs of existence rest on (the verification report's `long_term`) expires within
//! `renew_before`: the chain of proofs of existence continues
//! under a new time-stamp before the old one stops proving anything.
//!
//! Refuses: a document that is not a PDF, has no signature, or has a signature that does not
//! verify now (TOTAL-PASSED) — extending it would seal a signature nobody can rely on; the
//! verification report says why. Reads no clock: "now" is the verifier's time.

use time::{Duration, OffsetDateTime};

use crate::cms::SignedData;
use crate::pades::{self, LongTerm, Tsa};
use crate::pdf::{
    self, Document, DssEntry, FoundSignature, Object, SignatureKind, ValidationData,
    find_signatures,
};
use crate::pki::Certificate;
use crate::verify::{DocumentReport, Indication, SignatureReport, Verifier};

/// The level to extend to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// B-T: every signature has a time-stamp or a document time-stamp after it.
    Timestamp,
    /// B-LT: and the validation data of every signature and time-stamp is in the DSS.
    LongTerm,
    /// B-LTA: and a document time-stamp covers that data.
    Archive,
}

impl Target {
    /// `B-T`, `B-LT` or `B-LTA`, in any case.
    pub fn parse(text: &str) -> Option<Target> {
        match text.to_ascii_uppercase().as_str() {
            "B-T" => Some(Target::Timestamp),
            "B-LT" => Some(Target::LongTerm),
            "B-LTA" => Some(Target::Archive),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Timestamp => "B-T",
            Target::LongTerm => "B-LT",
            Target::Archive => "B-LTA",
        }
    }

    /// The rank of a verified signature's format: 0 for B-B and plain PKCS#7 or CMS, then
    /// B-T, B-LT, B-LTA.
    fn rank_of(format: &str) -> u8 {
        match format {
            "PAdES-B-T" => 1,
            "PAdES-B-LT" => 2,
            "PAdES-B-LTA" => 3,
            _ => 0,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Target::Timestamp => 1,
            Target::LongTerm => 2,
            Target::Archive => 3,
        }
    }
}

/// What to extend with.
pub struct Extension<'a> {
    /// Verifies the document first, and supplies the trust, the revocation sources and the
    /// time ("now") the evidence is gathered with.
    pub verifier: &'a Verifier,
    /// The time-stamping authority of the document time-stamps.
    pub tsa: &'a Tsa,
    /// A B-LTA document is re-time-stamped when the TSA certificate its newest proofs of
    /// existence rest on expires sooner than this.
    pub renew_before: Duration,
}

/// What extending did.
#[derive(Debug)]
pub enum Outcome {
    /// The document with the steps appended.
    Extended {
        document: Vec<u8>,
        steps: Vec<Step>,
        /// The lowest level of its signatures before and after.
        before: String,
        after: String,
    },
    /// Already at the level asked, and no renewal due.
    Unchanged {
        level: String,
        /// For a B-LTA document, when the TSA certificate its newest proofs of existence rest on
        /// expires (the report's `long_term`).
        protected_until: Option<OffsetDateTime>,
    },
    /// Not extended, and why; the verification report says the rest.
    Refused {
        refusal: Refusal,
        report: Box<DocumentReport>,
    },
}

/// A step appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A document time-stamp giving time to signatures without one.
    Timestamp,
    /// A DSS update with this many certificates, CRLs and OCSP responses.
    ValidationData {
        certificates: usize,
        crls: usize,
        ocsp_responses: usize,
    },
    /// The archive document time-stamp.
    ArchiveTimestamp,
    /// The archive document time-stamp renewing one whose TSA certificate expires soon.
    Renewal { expiring: OffsetDateTime },
}

/// Why a document is not extended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a PDF: only PDF documents are extended")]
    NotPdf,
    #[error("the document has no signature to extend")]
    NoSignature,
    #[error(
        "signature {name} does not verify now ({indication}{sub}): extending it would seal a signature nobody can rely on"
    )]
    NotValid {
        name: String,
        indication: String,
        sub: String,
    },
}

impl Refusal {
    /// The refusal in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            Refusal::NotPdf => "không phải PDF: chỉ gia hạn được tài liệu PDF".to_owned(),
            Refusal::NoSignature => "tài liệu không có chữ ký nào để gia hạn".to_owned(),
            Refusal::NotValid {
                name,
                indication,
                sub,
            } => format!(
                "chữ ký {name} hiện không hợp lệ ({indication}{sub}): gia hạn sẽ niêm phong một chữ ký không ai tin cậy được"
            ),
        }
    }
}

/// Why extending could not be done: a service or the document failed under the steps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pades(#[from] pades::Error),
    #[error("the document cannot be updated: {0}")]
    Pdf(#[from] pdf::Error),
    #[error("signature {name}: {reason}")]
    Signature { name: String, reason: String },
    #[error(
        "the extended document no longer verifies ({detail}); nothing was written (a defect: please report it)"
    )]
    Broken { detail: String },
}

impl Extension<'_> {
    /// Extends `input` to `target`: the steps it lacks, or nothing.
    pub fn extend(&self, input: &[u8], target: Target) -> Result<Outcome, Error> {
        let report = self.verifier.verify(input);
        if report.format != "pdf" {
            return Ok(refused(Refusal::NotPdf, report));
        }
        let signatures = signatures_proper(&report);
        if signatures.is_empty() {
            return Ok(refused(Refusal::NoSignature, report));
        }
        if let Some((name, indication, sub)) = first_failing(&signatures) {
            let refusal = Refusal::NotValid {
                name,
                indication,
                sub,
            };
            return Ok(refused(refusal, report));
        }
        let lowest = lowest_level(&signatures);
        // Every signature passed, so the report says until when the newest proofs of existence
        // hold; a B-LTA document is renewed before that.
        let protected_until = (report.long_term.as_ref())
            .filter(|_| lowest.0 == 3)
            .map(|status| status.until);
        let renewal =
            protected_until.filter(|until| *until < self.verifier.at() + self.renew_before);
        if lowest.0 >= target.rank() && renewal.is_none() {
            return Ok(Outcome::Unchanged {
                level: lowest.1,
                protected_until,
            });
        }

        let mut document = input.to_vec();
        let mut steps = Vec::new();
        let at = self.verifier.at();
        if lowest.0 < 1 {
            let stamp = pades::document_timestamp(&document, self.tsa, at)?;
            document.extend(stamp.update);
            steps.push(Step::Timestamp);
        }
        if target >= Target::LongTerm && (lowest.0 < 2 || renewal.is_some()) {
            steps.extend(self.add_validation_data(&mut document, &report)?);
        }
        if target == Target::Archive {
            let stamp = pades::document_timestamp(&document, self.tsa, at)?;
            document.extend(stamp.update);
            steps.push(match renewal {
                Some(expiring) => Step::Renewal { expiring },
                None => Step::ArchiveTimestamp,
            });
            // The archive time-stamp's own evidence, so that the document verifies offline
            // until the next renewal.
            steps.extend(self.add_validation_data(&mut document, &report)?);
        }
        let after = self.verifier.verify(&document);
        let extended = signatures_proper(&after);
        if let Some((name, indication, sub)) = first_failing(&extended) {
            return Err(Error::Broken {
                detail: format!("{name} {indication}{sub}"),
            });
        }
        let reached = lowest_level(&extended).1;
        Ok(Outcome::Extended {
            document,
            steps,
            before: lowest.1,
            after: reached,
        })
    }

    /// Gathers the evidence of every signature and time-stamp of `document` that the DSS does
    /// not hold yet and appends it in a DSS update; no step when there is nothing to add.
    fn add_validation_data(
        &self,
        document: &mut Vec<u8>,
        report: &DocumentReport,
    ) -> Result<Option<Step>, Error> {
        let doc = Document::parse(document)?;
        let held = pdf::dss::read(&doc);
        let embedded = crate::verify::read_dss(&doc).evidence;
        let sources = self.verifier.revocation_sources(&embedded);
        let long_term = LongTerm {
            validator: self.verifier.validator(),
            sources: &sources,
        };
        let mut entries: Vec<(Vec<u8>, ValidationData)> = Vec::new();
        for found in find_signatures(&doc)? {
            let Some(contents) = found
                .dictionary
                .get(b"Contents")
                .and_then(Object::as_string)
            else {
                continue;
            };
            if contents.iter().all(|&b| b == 0) {
                continue;
            }
            let data = match found.kind {
                SignatureKind::DocumentTimestamp => {
                    let covered = covered_bytes(&doc, &found).ok_or_else(|| Error::Signature {
                        name: found.name(),
                        reason: "its /ByteRange does not lie in the file".to_owned(),
                    })?;
                    let token = definite(contents, &found)?;
                    long_term.timestamp_data(&token, &covered)?
                }
                _ => self.signature_data(&long_term, &found, contents, &held, report)?,
            };
            entries.push((contents.to_vec(), data));
        }
        let mut added = ValidationData::default();
        for (_, data) in &entries {
            for der in &data.certificates {
                if !held.certificates.contains(der) && !added.certificates.contains(der) {
                    added.certificates.push(der.clone());
                }
            }
            for der in &data.crls {
                if !held.crls.contains(der) && !added.crls.contains(der) {
                    added.crls.push(der.clone());
                }
            }
            for der in &data.ocsp_responses {
                if !held.ocsp_responses.contains(der) && !added.ocsp_responses.contains(der) {
                    added.ocsp_responses.push(der.clone());
                }
            }
        }
        if added.is_empty() {
            return Ok(None);
        }
        let dss_entries: Vec<DssEntry<'_>> = entries
            .iter()
            .map(|(contents, data)| DssEntry {
                signature_contents: Some(contents),
                data,
            })
            .collect();
        let update = pdf::dss_update(&doc, &dss_entries)?;
        drop(doc);
        document.extend(update);
        Ok(Some(Step::ValidationData {
            certificates: added.certificates.len(),
            crls: added.crls.len(),
            ocsp_responses: added.ocsp_responses.len(),
        }))
    }

    /// The evidence of one signature: its signer's path at the time it is proven to have
    /// existed (its time-stamp, else the earliest document time-stamp, else now), and its
    /// signature time-stamp's TSA path.
    fn signature_data(
        &self,
        long_term: &LongTerm<'_>,
        found: &FoundSignature,
        contents: &[u8],
        held: &ValidationData,
        report: &DocumentReport,
    ) -> Result<ValidationData, Error> {
        let name = found.name();
        let fail = |reason: String| Error::Signature {
            name: name.clone(),
            reason,
        };
        let cms = SignedData::parse(contents).map_err(|e| fail(e.to_string()))?;
        let info = (cms.signer_infos.first()).ok_or_else(|| fail("no SignerInfo".to_owned()))?;
        let certificates: Vec<Certificate> = (cms.certificates.iter())
            .map(|der| der.as_ref())
            .chain(held.certificates.iter().map(Vec::as_slice))
            .filter_map(|der| Certificate::from_der(der).ok())
            .collect();
        let leaf = (certificates.iter())
            .find(|c| crate::pki::timestamp::is_signer(c, &info.sid))
            .ok_or_else(|| fail("the signer's certificate is not in the signature".to_owned()))?;
        let chain: Vec<Vec<u8>> = (certificates.iter())
            .filter(|c| c.fingerprint() != leaf.fingerprint())
            .map(|c| c.der().to_vec())
            .collect();
        let proven = (report.signatures.iter())
            .find(|s| s.name == name)
            .and_then(|s| s.timestamp_time.or(s.archive_time));
        let at = proven.unwrap_or(self.verifier.at());
        let mut data = long_term.signer_data(leaf.der(), &chain, at)?;
        if let Some(attribute) = (info.unsigned_attributes.iter())
            .find(|a| a.oid.is(crate::oid::SIGNATURE_TIMESTAMP_TOKEN))
            && let [value] = attribute.values.as_slice()
        {
            let token = value.definite().map_err(|e| fail(e.to_string()))?;
            data.merge(&long_term.timestamp_data(&token, &info.signature)?);
        }
        Ok(data)
    }
}

/// The report's signatures proper: not document time-stamps, not usage rights.
fn signatures_proper(report: &DocumentReport) -> Vec<&SignatureReport> {
    (report.signatures.iter())
        .filter(|s| s.format != "document timestamp" && !s.is_usage_rights())
        .collect()
}

/// The first of `signatures` that does not pass: its name, indication and `/SUB_INDICATION`.
fn first_failing(signatures: &[&SignatureReport]) -> Option<(String, String, String)> {
    let bad = signatures
        .iter()
        .find(|s| s.indication != Indication::TotalPassed)?;
    Some((
        bad.name.clone(),
        bad.indication.as_str().to_owned(),
        (bad.sub_indication)
            .map(|s| format!("/{}", s.as_str()))
            .unwrap_or_default(),
    ))
}

/// The lowest level of `signatures` as ([`Target::rank_of`], format).
fn lowest_level(signatures: &[&SignatureReport]) -> (u8, String) {
    (signatures.iter())
        .map(|s| (Target::rank_of(&s.format), s.format.clone()))
        .min()
        .unwrap_or((0, String::new()))
}

fn refused(refusal: Refusal, report: DocumentReport) -> Outcome {
    Outcome::Refused {
        refusal,
        report: Box::new(report),
    }
}

/// The bytes a signature's `/ByteRange` covers.
fn covered_bytes(doc: &Document<'_>, found: &FoundSignature) -> Option<Vec<u8>> {
    let range = found.dictionary.get(b"ByteRange")?.as_array()?;
    let number = |i: usize| usize::try_from(range.get(i)?.as_integer()?).ok();
    let (a, b, c, d) = (number(0)?, number(1)?, number(2)?, number(3)?);
    let bytes = doc.bytes();
    let mut covered = bytes.get(a..a.checked_add(b)?)?.to_vec();
    covered.extend_from_slice(bytes.get(c..c.checked_add(d)?)?);
    Some(covered)
}

/// A time-stamp token from `/Contents`, its BER lengths made definite and the zero padding cut.
fn definite(contents: &[u8], found: &FoundSignature) -> Result<Vec<u8>, Error> {
    crate::ber::parse(contents)
        .and_then(|(element, _)| element.definite().map(std::borrow::Cow::into_owned))
        .map_err(|e| Error::Signature {
            name: found.name(),
            reason: format!("its time-stamp token cannot be read: {e}"),
        })
}
