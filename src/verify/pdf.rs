//! PDF signatures: every check from the byte range to the changes made after signing
//! (ETSI EN 319 142-1, ISO 32000-2 §12.8).

use time::OffsetDateTime;

use super::reason::{
    ChangeNamed, ChangesBeyond, CmsEnvelopeProblem, Permitter, Reason, SigningCertificateProblem,
    TimestampProblem,
};
use super::verdict::{Change, Coverage, Facet, SignatureReport, SubIndication, TimeSource};
use super::{Verifier, document_sha256, empty_report, signer_of, validate_chain};
use crate::cms::{self, SignedData, SignerId, SignerInfo};
use crate::pdf::diff::{self, FieldLocks, ModificationLevel};
use crate::pdf::{
    Dictionary, Document, FoundSignature, Object, ObjectId, SignatureKind, contents_span,
    find_signatures, revision_ends,
};
use crate::pki::signature::{self as pki_signature, Hash, PublicKey, SignatureAlgorithm};
use crate::pki::timestamp::{self, TimestampToken};
use crate::pki::{AlgorithmPolicy, Weakness};
use crate::pki::{Certificate, Evidence};
use crate::verify::DocumentReport;

pub(super) fn verify(verifier: &Verifier, bytes: &[u8]) -> DocumentReport {
    let unreadable = |reason: Reason| {
        let report = empty_report("pdf", document_sha256(bytes), verifier.at);
        format_failure(report, reason)
    };
    let doc = match Document::parse(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            return unreadable(Reason::PdfUnreadable {
                detail: e.to_string(),
            });
        }
    };
    let signatures = match find_signatures(&doc) {
        Ok(s) => s,
        Err(e) => {
            return unreadable(Reason::PdfFormUnreadable {
                detail: e.to_string(),
            });
        }
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
    // Each signature as it was signed: the dictionary in its own revision, not whatever a later
    // revision wrote under the same object number.
    let signed: Vec<Result<SignedRevision<'_>, Reason>> = signatures
        .iter()
        .map(|s| signed_revision(&doc, s, &ends))
        .collect();
    // Each signature's gap, to check that no two signatures' byte ranges interleave.
    let gaps: Vec<Option<(usize, usize)>> = signed
        .iter()
        .map(|s| s.as_ref().ok().map(|s| s.contents))
        .collect();
    // The final document is read once for the change analysis of every signature.
    let analyser = std::cell::OnceCell::new();
    let first_signature_end = signed
        .iter()
        .filter_map(|s| s.as_ref().ok())
        .filter(|s| !is_unsigned_placeholder(&s.dictionary))
        .map(|s| s.end)
        .min();
    let stamps = archive_stamps(verifier, &doc, &signatures, &signed, &gaps, &dss);
    for (i, (sig, revision)) in signatures.iter().zip(&signed).enumerate() {
        // A signature field prepared and never signed: its /Contents is the reserved zeros.
        // It is not a signature (nor a forged one: it claims nothing), so it is named and
        // skipped; a document holding only such fields carries no signature.
        if let Ok(revision) = revision
            && is_unsigned_placeholder(&revision.dictionary)
        {
            report
                .reasons
                .push(Reason::EmptyPlaceholder { field: sig.name() });
            continue;
        }
        let others = other_gaps(&gaps, i);
        let context = Signature {
            full: &doc,
            found: sig,
            dss: &dss,
            other_gaps: &others,
            analyser: &analyser,
            first_signature_end,
            digests: &digests,
            proofs: revision
                .as_ref()
                .map(|r| Proofs::of(&stamps, i, r.end))
                .unwrap_or_default(),
            checked: stamps.iter().find(|s| s.index == i).map(|s| &s.checked),
        };
        report
            .signatures
            .push(verify_signature(verifier, &doc, &context, revision));
    }
    report
}

/// The gaps of every signature but the one at `index`: its byte range may not interleave them.
fn other_gaps(gaps: &[Option<(usize, usize)>], index: usize) -> Vec<(usize, usize)> {
    (gaps.iter().enumerate())
        .filter(|(j, _)| *j != index)
        .filter_map(|(_, g)| *g)
        .collect()
}

fn is_unsigned_placeholder(dict: &Dictionary) -> bool {
    dict.get(b"Contents")
        .and_then(Object::as_string)
        .is_some_and(|c| !c.is_empty() && c.iter().all(|&b| b == 0))
}

/// What one signature is checked with besides the verifier and the document.
struct Signature<'s, 'a> {
    /// The whole file as a document.
    full: &'s Document<'a>,
    found: &'s FoundSignature,
    dss: &'s Dss,
    other_gaps: &'s [(usize, usize)],
    analyser: &'s std::cell::OnceCell<Result<diff::Analyser<'a>, String>>,
    /// Where the earliest signed revision ends: a certification signature must come first.
    first_signature_end: Option<usize>,
    /// SHA-256 states at each signature's gap, from the one pass that hashed the document.
    digests: &'s PrefixDigests,
    /// The valid document time-stamps that cover the signature.
    proofs: Proofs,
    /// For a document time-stamp, its check at its control time, made once by
    /// [`archive_stamps`].
    checked: Option<&'s StampCheck>,
}

/// What checking a document time-stamp gave: its time and TSA, or why it proves nothing.
type StampCheck = Result<super::Stamped, (SubIndication, Reason)>;

/// A document time-stamp, checked: when valid, a proof that everything before its `/Contents`
/// existed at its time.
struct ArchiveStamp {
    /// Its index among the document's signatures.
    index: usize,
    /// Where its `/Contents` starts: it covers every revision that ends before.
    covers: usize,
    checked: StampCheck,
}

/// What the valid document time-stamps prove of one signature.
#[derive(Clone, Default)]
struct Proofs {
    /// The earliest time one of them proves the signature existed at.
    earliest: Option<OffsetDateTime>,
    /// How many of them cover it.
    count: usize,
    /// The one whose TSA certificate lasts longest: until when they keep proving it.
    lasting: Option<(OffsetDateTime, String)>,
}

impl Proofs {
    /// The proofs `stamps` give of the signature at `index`, whose revision ends at `end`.
    fn of(stamps: &[ArchiveStamp], index: usize, end: usize) -> Proofs {
        let covering = (stamps.iter())
            .filter(|s| s.index != index && s.covers >= end)
            .filter_map(|s| s.checked.as_ref().ok());
        Proofs {
            earliest: covering.clone().map(|s| s.time).min(),
            count: covering.clone().count(),
            lasting: covering
                .max_by_key(|s| s.tsa_until)
                .map(|s| (s.tsa_until, s.tsa_subject.clone())),
        }
    }

    /// When a time-stamp of the signature is relied on: the earliest proof of existence,
    /// otherwise the validation time.
    fn control(&self, verifier: &Verifier) -> OffsetDateTime {
        self.earliest.unwrap_or(verifier.at)
    }
}

/// The document time-stamps, each checked at the time the valid ones after it prove it existed (ETSI EN 319 102-1 §5.6, the archival validation process): the newest at the
/// validation time, an older one at the earliest time of a valid newer one covering it, and
/// so on back. A time-stamp whose TSA certificate expired before its own control time proves
/// nothing, nor do the ones only it covered.
fn archive_stamps(
    verifier: &Verifier,
    doc: &Document<'_>,
    signatures: &[FoundSignature],
    signed: &[Result<SignedRevision<'_>, Reason>],
    gaps: &[Option<(usize, usize)>],
    dss: &Dss,
) -> Vec<ArchiveStamp> {
    let mut candidates: Vec<(usize, &SignedRevision<'_>)> = signatures
        .iter()
        .zip(signed)
        .enumerate()
        .filter(|(_, (sig, _))| sig.kind == SignatureKind::DocumentTimestamp)
        .filter_map(|(i, (_, revision))| Some((i, revision.as_ref().ok()?)))
        .collect();
    candidates.sort_by_key(|(_, revision)| std::cmp::Reverse(revision.end));
    let mut stamps: Vec<ArchiveStamp> = Vec::new();
    for (index, revision) in candidates {
        let others = other_gaps(gaps, index);
        let mut scratch = SignatureReport::new(String::new(), "document timestamp");
        let Some((ranges, _)) = byte_range(doc.bytes(), revision, &others, &mut scratch) else {
            continue;
        };
        let Some((contents, _)) = read_cms(&revision.dictionary, &mut scratch) else {
            continue;
        };
        let control = Proofs::of(&stamps, index, revision.end).control(verifier);
        stamps.push(ArchiveStamp {
            index,
            covers: ranges.first().map_or(0, |(_, a)| *a),
            checked: check_document_timestamp(
                verifier,
                contents,
                doc.bytes(),
                &ranges,
                dss,
                control,
            ),
        });
    }
    stamps
}

/// A signature as its own revision holds it (ISO 32000-2 §12.8.1: the signature dictionary is
/// part of the revision it signs).
struct SignedRevision<'a> {
    /// The document up to the end of that revision; `None` when it is the whole file.
    doc: Option<Document<'a>>,
    /// The end of that revision.
    end: usize,
    /// The dictionary as that revision holds it: what the signer signed.
    dictionary: Dictionary,
    /// Where that dictionary's `/Contents` lies.
    contents: (usize, usize),
    /// The keys a later revision changed in it (`/Reason`, `/M`, `/Contents`, …), if any.
    rewritten: Vec<String>,
}

impl<'a> SignedRevision<'a> {
    /// The signed revision as a document (`full` is the whole file's).
    fn doc<'s>(&'s self, full: &'s Document<'a>) -> &'s Document<'a> {
        self.doc.as_ref().unwrap_or(full)
    }
}

/// Finds the dictionary a signature was made with: the version its `/ByteRange`'s revision
/// holds (a dictionary may be written as an unsigned placeholder first and signed in a later
/// revision, so that is the version signed), or, when that revision does not hold it (the
/// range was rewritten to point elsewhere), the version of the first revision that does. A
/// later revision that rewrote the dictionary is recorded; a dictionary only a later revision
/// holds cannot cover an earlier one, which the byte range check then reports.
fn signed_revision<'a>(
    full: &Document<'a>,
    sig: &FoundSignature,
    ends: &[usize],
) -> Result<SignedRevision<'a>, Reason> {
    let bytes = full.bytes();
    // One boundary per %%EOF (the end-of-line after it included): a prefix ending at either
    // reads as the same revision.
    let mut revisions: Vec<usize> = Vec::new();
    for &end in ends {
        match revisions.last_mut() {
            Some(last)
                if end <= *last + 2 && bytes[*last..end].iter().all(|b| b"\r\n".contains(b)) =>
            {
                *last = end
            }
            _ => revisions.push(end),
        }
    }
    if revisions.last() != Some(&bytes.len()) {
        revisions.push(bytes.len());
    }
    let last = revisions.len() - 1;
    // The whole file is already read, and its version of the dictionary is the one found
    // there (`full.dictionary(sig.id)` parses to the same); only earlier revisions are parsed
    // again.
    let holds = |index: usize| -> Option<(Option<Document<'a>>, Dictionary)> {
        if index == last {
            full.location(sig.id)?;
            return Some((None, sig.dictionary.clone()));
        }
        let doc = Document::parse(&bytes[..revisions[index]]).ok()?;
        doc.location(sig.id)?;
        let dict = doc.dictionary(sig.id).ok()?;
        Some((Some(doc), dict))
    };
    let named = sig
        .dictionary
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .and_then(|a| Some(a.get(2)?.as_integer()? + a.get(3)?.as_integer()?))
        .and_then(|end| usize::try_from(end).ok())
        .and_then(|end| revisions.iter().position(|&r| r >= end));
    let found = named
        .and_then(|i| holds(i).map(|held| (i, held)))
        .or_else(|| (0..revisions.len()).find_map(|i| holds(i).map(|held| (i, held))));
    let Some((index, (doc, dictionary))) = found else {
        return Err(Reason::DictionaryInNoRevision {
            object: sig.id.to_string(),
        });
    };
    let contents = contents_span(doc.as_ref().unwrap_or(full), sig.id).map_err(|e| {
        Reason::ContentsNotLocated {
            detail: e.to_string(),
        }
    })?;
    let rewritten = diff::differing_keys(&dictionary, &sig.dictionary)
        .into_iter()
        .map(|k| format!("/{}", String::from_utf8_lossy(&k)))
        .collect();
    Ok(SignedRevision {
        doc,
        end: revisions[index],
        dictionary,
        contents,
        rewritten,
    })
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

fn format_failure(mut report: DocumentReport, reason: Reason) -> DocumentReport {
    report.indication = super::Indication::TotalFailed;
    report.sub_indication = Some(SubIndication::FormatFailure);
    report.reasons.push(reason);
    report
}

/// Evidence from the document security store (ISO 32000-2 §12.8.4.3).
pub(crate) struct Dss {
    pub(crate) certificates: Vec<Certificate>,
    pub(crate) evidence: Evidence,
}

/// The DSS's certificates, CRLs and OCSP responses, parsed; items that do not parse are left
/// out (a verifier judges with what it can read).
pub(crate) fn read_dss(doc: &Document<'_>) -> Dss {
    let data = crate::pdf::dss::read(doc);
    let mut dss = Dss {
        certificates: Vec::new(),
        evidence: Evidence::new(),
    };
    for der in &data.certificates {
        if let Ok(cert) = Certificate::from_der(der) {
            dss.certificates.push(cert);
        }
    }
    for der in &data.crls {
        if let Ok(crl) = crate::pki::crl::Crl::from_der(der) {
            dss.evidence.add_crl(crl);
        }
    }
    for der in &data.ocsp_responses {
        if let Ok(ocsp) = crate::pki::ocsp::OcspResponse::from_der(der) {
            dss.evidence.add_ocsp(ocsp);
        }
    }
    dss
}

/// Every check of one signature, in the order of ETSI EN 319 102-1: format, byte range, CMS,
/// integrity, signing certificate, signature value and algorithm policy, time, certificate
/// path, changes after signing. A step that cannot go on records why and ends the report there;
/// the ones that can (a signature below policy, a chain in doubt) let the later steps add facts.
fn verify_signature(
    verifier: &Verifier,
    doc: &Document<'_>,
    context: &Signature<'_, '_>,
    revision: &Result<SignedRevision<'_>, Reason>,
) -> SignatureReport {
    let sig = context.found;
    let mut report = SignatureReport::new(sig.name(), "unsupported");
    // 0. The dictionary as signed: the one in the signature's own revision.
    let revision = match revision {
        Ok(r) => r,
        Err(e) => {
            report.fail(SubIndication::FormatFailure, e.clone());
            return report;
        }
    };
    let Some(format) = recognise_format(doc, revision, sig, &mut report) else {
        return report;
    };
    // 1. The byte range: [0 a b c], excluding exactly this dictionary's /Contents, ending at the
    //    end of the revision the dictionary appears in, not interleaved with another signature's
    //    gap.
    let Some((ranges, signed_end)) =
        byte_range(doc.bytes(), revision, context.other_gaps, &mut report)
    else {
        return report;
    };
    // 2. The CMS.
    let Some((contents, cms)) = read_cms(&revision.dictionary, &mut report) else {
        return report;
    };
    if format == Format::DocumentTimestamp {
        // Checked once, newest first, by `archive_stamps`, which reads the same byte range
        // and /Contents; checked here only if that pass could not.
        let checked = match context.checked {
            Some(checked) => checked.clone(),
            None => check_document_timestamp(
                verifier,
                contents,
                doc.bytes(),
                &ranges,
                context.dss,
                context.proofs.control(verifier),
            ),
        };
        document_timestamp_facts(&mut report, checked);
        report.archive_time = context.proofs.earliest;
        finish_changes(context, &mut report, revision, signed_end, None);
        report.bottom_line();
        return report;
    }
    let Some(info) = signer_info(&cms, &mut report) else {
        return report;
    };
    // 3.–6. Integrity, the signing certificate, the signature value and the algorithm policy.
    let signed = SignedBytes {
        doc,
        ranges: &ranges,
        digests: context.digests,
        format,
    };
    let Some(signer) = check_signed_data(verifier, &signed, &cms, info, context.dss, &mut report)
    else {
        return report;
    };
    // 7. Time: a verified signature timestamp proves it; otherwise the claimed /M.
    let timestamped = signing_time(
        verifier,
        &revision.dictionary,
        info,
        &signer,
        context.dss,
        context.proofs.control(verifier),
        &mut report,
    );
    // 7a. Otherwise the earliest document time-stamp covering the signature proves when it
    //     existed (a B-B signature augmented, or one whose own time-stamp's TSA has expired).
    report.archive_time = context.proofs.earliest;
    let proven = (timestamped.as_ref())
        .map(|s| s.time)
        .or(context.proofs.earliest);
    // 7b. The algorithm policy at that time: a retired algorithm needs a proof of existence
    //     before its cut-off.
    super::judge_algorithms(verifier, &signer.weaknesses, proven, &mut report);
    // 8. The certificate path, at the proven time or now.
    let intermediates: Vec<Certificate> = signer
        .pool
        .iter()
        .filter(|c| c.fingerprint() != signer.leaf.fingerprint())
        .cloned()
        .collect();
    validate_chain(
        verifier,
        &mut report,
        &signer.leaf,
        &intermediates,
        proven.unwrap_or(verifier.at),
        proven.is_some(),
        &context.dss.evidence,
    );
    // The level: a document time-stamp gives a B-B signature its time (EN 319 142-1 §5.3), the
    // DSS its validation data, and a further document time-stamp the archive (B-LTA).
    if report.format == "PAdES-B-B" && context.proofs.count > 0 {
        report.format = "PAdES-B-T".to_owned();
    }
    if report.format == "PAdES-B-T" && dss_covers_chain(context.dss, &report) {
        report.format = "PAdES-B-LT".to_owned();
    }
    let archiving = (context.proofs.count).saturating_sub(usize::from(timestamped.is_none()));
    if report.format == "PAdES-B-LT" && context.proofs.count > 0 && archiving > 0 {
        report.format = "PAdES-B-LTA".to_owned();
    }
    // 9. What changed afterwards, within what a certification permits.
    let docmdp = certification_level(doc, revision, sig.id);
    if docmdp.is_some()
        && context
            .first_signature_end
            .is_some_and(|first| first < revision.end)
    {
        report.warnings.push(Reason::CertificationNotFirst);
    }
    finish_changes(context, &mut report, revision, signed_end, docmdp);
    report.bottom_line();
    if report.indication == super::Indication::TotalPassed {
        let own = (timestamped.as_ref()).map(|s| (s.tsa_until, s.tsa_subject.clone()));
        report.long_term = Some(super::long_term(
            verifier,
            &report,
            &signer.leaf,
            [own, context.proofs.lasting.clone()],
        ));
    }
    report
}

/// The signature formats kyso verifies, by `/SubFilter` (or the dictionary's `/Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `ETSI.CAdES.detached`: PAdES.
    Pades,
    /// `adbe.pkcs7.detached`.
    Pkcs7Detached,
    /// `adbe.pkcs7.sha1` (ISO 32000-1 §12.8.3.3.1, deprecated by ISO 32000-2 but still made by
    /// Vietnamese signing tools): the CMS encapsulates the SHA-1 digest of the byte ranges and
    /// signs that, instead of signing the ranges detached.
    Pkcs7Sha1,
    /// `ETSI.RFC3161`.
    DocumentTimestamp,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Pades => "PAdES-B-B",
            Format::Pkcs7Detached => "PKCS#7 (adbe.pkcs7.detached)",
            Format::Pkcs7Sha1 => "PKCS#7 (adbe.pkcs7.sha1)",
            Format::DocumentTimestamp => "document timestamp",
        }
    }
}

/// The format the dictionary declares, recorded in the report; `None` (a FORMAT_FAILURE
/// recorded) for a SubFilter kyso does not verify.
fn recognise_format(
    doc: &Document<'_>,
    revision: &SignedRevision<'_>,
    sig: &FoundSignature,
    report: &mut SignatureReport,
) -> Option<Format> {
    let sub_filter = revision.dictionary.name(b"SubFilter").unwrap_or(b"");
    let format = match (sig.kind, sub_filter) {
        (SignatureKind::DocumentTimestamp, _) => Some(Format::DocumentTimestamp),
        (_, b"ETSI.CAdES.detached") => Some(Format::Pades),
        (_, b"adbe.pkcs7.detached") => Some(Format::Pkcs7Detached),
        (_, b"adbe.pkcs7.sha1") => Some(Format::Pkcs7Sha1),
        _ => None,
    };
    report.format = format.map_or("unsupported", Format::name).to_owned();
    if is_usage_rights(doc, revision, sig.id) {
        report.format = "usage rights (UR3)".to_owned();
        report.warnings.push(Reason::UsageRightsSignature);
    }
    if format.is_none() {
        report.fail(
            SubIndication::FormatFailure,
            Reason::UnsupportedSubFilter {
                sub_filter: String::from_utf8_lossy(sub_filter).into_owned(),
            },
        );
    }
    format
}

/// The `/Contents` string and the CMS it holds. Data after the CMS is outside what the
/// signature covers and may carry anything: a format failure, but the checks go on so that the
/// report also says what else is wrong.
fn read_cms<'d>(
    dict: &'d Dictionary,
    report: &mut SignatureReport,
) -> Option<(&'d [u8], SignedData<'d>)> {
    let Some(contents) = dict.get(b"Contents").and_then(Object::as_string) else {
        report.fail(SubIndication::FormatFailure, Reason::NoContents);
        return None;
    };
    let cms = match SignedData::parse(contents) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                SubIndication::FormatFailure,
                Reason::CmsUnreadable {
                    detail: e.to_string(),
                },
            );
            return None;
        }
    };
    if cms.trailing_garbage {
        report.fail(SubIndication::FormatFailure, Reason::ContentsTrailingData);
    }
    Some((contents, cms))
}

/// The one SignerInfo of a PDF signature, with the unsigned envelope around it consistent.
fn signer_info<'c, 'd>(
    cms: &'c SignedData<'d>,
    report: &mut SignatureReport,
) -> Option<&'c SignerInfo<'d>> {
    let [info] = cms.signer_infos.as_slice() else {
        report.fail(
            SubIndication::FormatFailure,
            Reason::SignerInfoCount {
                count: cms.signer_infos.len(),
            },
        );
        return None;
    };
    if let Some(problem) = envelope_problem(cms, info) {
        report.fail(SubIndication::FormatFailure, Reason::CmsEnvelope(problem));
        return None;
    }
    Some(info)
}

/// What a signature's integrity is checked against: the document's byte ranges.
struct SignedBytes<'s, 'a> {
    doc: &'s Document<'a>,
    ranges: &'s [(usize, usize)],
    digests: &'s PrefixDigests,
    format: Format,
}

impl SignedBytes<'_, '_> {
    /// The digest of the byte ranges. One pass over the file serves every SHA-256 signature;
    /// other digests hash their ranges.
    fn digest(&self, algorithm: Hash) -> Vec<u8> {
        let bytes = self.doc.bytes();
        match algorithm {
            Hash::Sha256 => self.digests.ranges(bytes, self.ranges),
            _ => None,
        }
        .unwrap_or_else(|| {
            algorithm.of(self.ranges.iter().map(|(start, end)| &bytes[*start..*end]))
        })
    }

    /// The byte ranges, concatenated: what a CMS without signed attributes signs.
    fn concatenated(&self) -> Vec<u8> {
        let bytes = self.doc.bytes();
        let mut content = Vec::new();
        for (start, end) in self.ranges {
            content.extend_from_slice(&bytes[*start..*end]);
        }
        content
    }
}

/// The signer found and verified: its certificate, and every certificate the signature and the
/// document carry (the pool its path is built from).
struct VerifiedSigner {
    leaf: Certificate,
    pool: Vec<Certificate>,
    /// What puts the intact signature below the floor of current algorithms, judged once its
    /// time is known.
    weaknesses: Vec<Weakness>,
}

/// Steps 3–6: integrity (the digest of what is signed), the signing certificate, the signed
/// attributes, the signature value, then the algorithm policy. Every digest kyso can compute is
/// computed whatever the policy says of it: a tampered SHA-1 signature is HASH_FAILURE, an
/// intact one is judged by the policy afterwards.
fn check_signed_data(
    verifier: &Verifier,
    signed: &SignedBytes<'_, '_>,
    cms: &SignedData<'_>,
    info: &SignerInfo<'_>,
    dss: &Dss,
    report: &mut SignatureReport,
) -> Option<VerifiedSigner> {
    let digest = match digest_algorithm(&info.digest_algorithm) {
        Ok(d) => d,
        Err(reason) => {
            report.fail(SubIndication::CryptoConstraintsFailure, reason);
            return None;
        }
    };
    // 3. What the CMS signs, and its digest under the SignerInfo's algorithm.
    let (content, content_digest): (std::borrow::Cow<'_, [u8]>, Vec<u8>) =
        if signed.format == Format::Pkcs7Sha1 {
            let Some(encapsulated) = cms.content.as_deref() else {
                report.fail(SubIndication::FormatFailure, Reason::Pkcs7Sha1WithoutDigest);
                return None;
            };
            if encapsulated != signed.digest(Hash::Sha1).as_slice() {
                report.intact = Facet::Failed;
                report.fail(SubIndication::HashFailure, Reason::Sha1DigestMismatch);
                return None;
            }
            let content_digest = digest.of(std::iter::once(encapsulated));
            (std::borrow::Cow::Borrowed(encapsulated), content_digest)
        } else if info.signed_attributes.is_none() {
            (
                std::borrow::Cow::Owned(signed.concatenated()),
                signed.digest(digest),
            )
        } else {
            (std::borrow::Cow::Borrowed(&[][..]), signed.digest(digest))
        };

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
            Reason::SignerCertificateMissing,
        );
        return None;
    };
    report.signer = Some(signer_of(verifier, &leaf));

    // 5. Signed attributes: message digest, content type, signing certificate reference. No
    //    signed attributes: the signature is over the content itself (the byte ranges, or for
    //    adbe.pkcs7.sha1 their encapsulated digest, already compared above).
    let message = match &info.signed_attributes {
        Some(attributes) => std::borrow::Cow::Borrowed(signed_attributes(
            attributes,
            &content_digest,
            &leaf,
            signed.format,
            report,
        )?),
        None => {
            report.intact = if signed.format == Format::Pkcs7Sha1 {
                Facet::Passed
            } else {
                Facet::Undetermined
            };
            content
        }
    };

    // 6. The signature value; the algorithm policy once the signature's time is known.
    let weaknesses = signature_value(
        verifier,
        info,
        digest,
        &leaf,
        &message,
        signed.format,
        report,
    )?;
    Some(VerifiedSigner {
        leaf,
        pool,
        weaknesses,
    })
}

/// Checks the signed attributes against the content's digest and the signer; returns the
/// bytes the signature value is over (the attributes as they arrived, never re-encoded).
fn signed_attributes<'x>(
    attributes: &'x cms::SignedAttributes<'_>,
    content_digest: &[u8],
    leaf: &Certificate,
    format: Format,
    report: &mut SignatureReport,
) -> Option<&'x [u8]> {
    match attributes.message_digest() {
        Some(md) if md.as_ref() == content_digest => report.intact = Facet::Passed,
        Some(_) => {
            report.intact = Facet::Failed;
            report.fail(SubIndication::HashFailure, Reason::DigestMismatch);
            return None;
        }
        None => {
            report.fail(SubIndication::FormatFailure, Reason::NoSingleMessageDigest);
            return None;
        }
    }
    if !attributes
        .content_type()
        .is_some_and(|c| c.is(crate::oid::DATA))
    {
        report.fail(SubIndication::FormatFailure, Reason::ContentTypeNotData);
        return None;
    }
    if let Some(problem) = signing_certificate_problem(attributes, leaf) {
        report.fail(
            SubIndication::NoSigningCertificateFound,
            Reason::SigningCertificateAttribute(problem),
        );
        return None;
    }
    if attributes.count(crate::oid::SIGNING_CERTIFICATE_V2) == 0 && format == Format::Pades {
        report.format = "CMS (no signing-certificate attribute)".to_owned();
    }
    Some(&attributes.signed_bytes)
}

/// The signature value: `None` when it does not verify (recorded). A value that verifies is
/// intact; what puts it below the floor of current algorithms is returned, for the dated policy
/// to judge at the signature's proven time.
fn signature_value(
    verifier: &Verifier,
    info: &SignerInfo<'_>,
    digest: Hash,
    leaf: &Certificate,
    message: &[u8],
    format: Format,
    report: &mut SignatureReport,
) -> Option<Vec<Weakness>> {
    let checked = match signature_check(info, digest, leaf, message) {
        Ok(checked) => checked,
        Err((sub, reason)) => {
            if sub == SubIndication::SigCryptoFailure {
                report.signature_valid = Facet::Failed;
            }
            report.fail(sub, reason);
            return None;
        }
    };
    report.signature_valid = Facet::Passed;
    if report.intact == Facet::Undetermined {
        report.intact = Facet::Passed;
    }
    report.signature_algorithm = Some(checked.name.to_owned());
    let policy = verifier.signers.policy().algorithms;
    let mut weaknesses = policy.weaknesses(&checked.algorithm, &checked.key.kind);
    // adbe.pkcs7.sha1 signs a SHA-1 digest of the document whatever its own digest is.
    if (digest == Hash::Sha1 || format == Format::Pkcs7Sha1)
        && policy != AlgorithmPolicy::DangerouslyAllowLegacy
        && !weaknesses.contains(&Weakness::Sha1)
    {
        weaknesses.push(Weakness::Sha1);
    }
    Some(weaknesses)
}

/// The signing time: a verified signature timestamp proves it (returned); otherwise the
/// claimed `/M` is reported as claimed.
fn signing_time(
    verifier: &Verifier,
    dict: &Dictionary,
    info: &SignerInfo<'_>,
    signer: &VerifiedSigner,
    dss: &Dss,
    control: OffsetDateTime,
    report: &mut SignatureReport,
) -> Option<super::Stamped> {
    let claimed = dict
        .get(b"M")
        .and_then(Object::as_string)
        .and_then(parse_pdf_date);
    report.signing_time = claimed;
    report.signing_time_source = claimed.map(|_| TimeSource::Claimed);
    let attribute = info
        .unsigned_attributes
        .iter()
        .find(|a| a.oid.is(crate::oid::SIGNATURE_TIMESTAMP_TOKEN))?;
    let token = match attribute.values.as_slice() {
        [value] => value.definite().map_err(|e| TimestampProblem::Unreadable {
            detail: e.to_string(),
        }),
        _ => Err(TimestampProblem::SeveralTokens),
    };
    let checked = token.and_then(|der| {
        super::signature_timestamp(
            verifier,
            &der,
            &info.signature,
            &signer.pool,
            &dss.evidence,
            control,
        )
    });
    match checked {
        Ok(stamped) => {
            let at = stamped.time;
            report.timestamp_time = Some(at);
            report.signing_time = Some(at);
            report.signing_time_source = Some(TimeSource::Timestamp);
            if report.format == "PAdES-B-B" {
                report.format = "PAdES-B-T".to_owned();
            }
            Some(stamped)
        }
        Err(reason) => {
            report.warnings.push(Reason::TimestampIgnored(reason));
            None
        }
    }
}

/// Reads and checks `/ByteRange` of the dictionary as signed; on success the two ranges and the
/// signed end.
fn byte_range(
    bytes: &[u8],
    revision: &SignedRevision<'_>,
    other_gaps: &[(usize, usize)],
    report: &mut SignatureReport,
) -> Option<(Vec<(usize, usize)>, usize)> {
    let len = bytes.len();
    let values: Option<[usize; 4]> = revision
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
        report.fail(SubIndication::FormatFailure, Reason::ByteRangeMalformed);
        return None;
    };
    let signed_end = b.checked_add(c).filter(|&end| a < b && end <= len);
    let Some(signed_end) = signed_end else {
        report.fail(
            SubIndication::FormatFailure,
            Reason::ByteRangeOutsideFile {
                range: [0, a, b, c],
                length: len,
            },
        );
        return None;
    };
    let (start, end) = revision.contents;
    if (start, end) != (a, b) {
        report.fail(
            SubIndication::FormatFailure,
            Reason::ByteRangeGapNotContents {
                gap: (a, b),
                contents: (start, end),
            },
        );
        return None;
    }
    for &(start, end) in other_gaps {
        let inside_gap = start < b && a < end;
        if inside_gap && (start, end) != (a, b) {
            report.fail(
                SubIndication::FormatFailure,
                Reason::ByteRangeOverlap {
                    contents: (start, end),
                },
            );
            return None;
        }
    }
    // The signed bytes must be exactly the revision the dictionary belongs to: from byte 0 to
    // that revision's %%EOF (with or without its end-of-line).
    let own_revision = ends_revision(bytes, signed_end, revision.end);
    report.coverage = if signed_end == len {
        Coverage::WholeDocument
    } else if own_revision {
        Coverage::Revision
    } else {
        Coverage::Unclear
    };
    if !own_revision {
        report.fail(
            SubIndication::FormatFailure,
            Reason::SignedEndNotRevisionEnd {
                signed_end,
                revision_end: revision.end,
            },
        );
        return None;
    }
    Some((vec![(0, a), (b, signed_end)], signed_end))
}

/// Whether `signed_end` is the end of the revision that ends at `revision_end`: just after its
/// `%%EOF`, or after the end-of-line that follows it.
fn ends_revision(bytes: &[u8], signed_end: usize, revision_end: usize) -> bool {
    if signed_end > revision_end || revision_end - signed_end > 2 {
        return false;
    }
    if !bytes[signed_end..revision_end]
        .iter()
        .all(|b| matches!(b, b'\r' | b'\n'))
    {
        return false;
    }
    let mut head = &bytes[..signed_end];
    while let Some(rest) = head
        .strip_suffix(b"\n")
        .or_else(|| head.strip_suffix(b"\r"))
    {
        head = rest;
    }
    head.ends_with(b"%%EOF")
}
/// The parts of a SignedData outside the signature must agree with the SignerInfo (RFC 5652
/// §5.1, §5.3): the digest algorithm is listed, the content types match, versions are the ones
/// the structure implies. They are not signed, so a verifier that ignored them would accept a
/// CMS whose outer fields were altered.
fn envelope_problem(cms: &SignedData<'_>, info: &SignerInfo<'_>) -> Option<CmsEnvelopeProblem> {
    if !matches!(cms.version, 1 | 3 | 4 | 5) {
        return Some(CmsEnvelopeProblem::Version {
            version: cms.version,
        });
    }
    if !cms.digest_algorithms.contains(&info.digest_algorithm) {
        return Some(CmsEnvelopeProblem::DigestNotListed);
    }
    let expected_version = match info.sid {
        SignerId::IssuerAndSerial { .. } => 1,
        SignerId::SubjectKeyIdentifier(_) => 3,
    };
    if info.version != expected_version {
        return Some(CmsEnvelopeProblem::SignerInfoVersion {
            version: info.version,
            expected: expected_version,
        });
    }
    if let Some(attributes) = &info.signed_attributes
        && attributes.content_type().as_ref() != Some(&cms.content_type)
    {
        return Some(CmsEnvelopeProblem::ContentTypeDiffers);
    }
    None
}

/// The message digest a SignerInfo names. SHA-1 is computed like the others; whether the policy
/// accepts it is decided after integrity (a SHA-1 collision lets one signature cover two
/// documents, so an intact SHA-1 signature is never TOTAL-PASSED under the default policy).
fn digest_algorithm(oid: &crate::ber::ObjectIdentifier<'_>) -> Result<Hash, Reason> {
    use crate::oid::*;
    let known = [
        (SHA256, Hash::Sha256),
        (SHA384, Hash::Sha384),
        (SHA512, Hash::Sha512),
        (SHA1, Hash::Sha1),
        // Some signers (one ETSI plugtest sample among them) write the signature algorithm
        // where the digest algorithm belongs; the digest it names is unambiguous, and DSS reads
        // it the same way.
        (SHA1_WITH_RSA, Hash::Sha1),
        (SHA256_WITH_RSA, Hash::Sha256),
        (SHA384_WITH_RSA, Hash::Sha384),
        (SHA512_WITH_RSA, Hash::Sha512),
    ];
    known
        .into_iter()
        .find(|(id, _)| oid.is(*id))
        .map(|(_, digest)| digest)
        .ok_or_else(|| Reason::UnsupportedDigest {
            oid: oid.to_string(),
        })
}

fn find_signer(sid: &SignerId<'_>, pool: &[Certificate]) -> Option<Certificate> {
    pool.iter()
        .find(|cert| match sid {
            SignerId::IssuerAndSerial { issuer, serial } => {
                cert.issuer().der() == *issuer
                    && crate::ber::canonical_integer(cert.serial())
                        == crate::ber::canonical_integer(serial)
            }
            SignerId::SubjectKeyIdentifier(ski) => cert
                .extensions()
                .subject_key_id
                .as_deref()
                .is_some_and(|k| k == ski.as_ref()),
        })
        .cloned()
}

/// The ESS signing-certificate attribute, when present, must name the certificate that verified
/// (RFC 5035): otherwise another certificate for the same key could be substituted.
fn signing_certificate_problem(
    attributes: &cms::SignedAttributes<'_>,
    leaf: &Certificate,
) -> Option<SigningCertificateProblem> {
    let attribute = attributes.get(crate::oid::SIGNING_CERTIFICATE_V2)?;
    let [value] = attribute.values.as_slice() else {
        return Some(SigningCertificateProblem::SeveralValues);
    };
    // SigningCertificateV2 → certs SEQUENCE OF → first ESSCertIDv2.
    let first = value.children().next()?.ok()?.children().next()?.ok()?;
    let parts = first.child_vec().ok()?;
    let (hash, cert_hash) = match parts.as_slice() {
        [algorithm, hash, ..] if algorithm.is(crate::ber::tag::SEQUENCE) => {
            let oid = algorithm.children().next()?.ok()?.oid().ok()?;
            let digest = match digest_algorithm(&oid) {
                Ok(d) => d,
                Err(_) => {
                    return Some(SigningCertificateProblem::UnsupportedDigest {
                        oid: oid.to_string(),
                    });
                }
            };
            (digest, hash.octets().ok()?.into_owned())
        }
        // The algorithm defaults to SHA-256 (RFC 5035 §3).
        [hash, ..] => (Hash::Sha256, hash.octets().ok()?.into_owned()),
        [] => return Some(SigningCertificateProblem::Empty),
    };
    (hash.of(std::iter::once(leaf.der())) != cert_hash)
        .then_some(SigningCertificateProblem::OtherCertificate)
}

/// A signature value that verified: with which algorithm and key, for the policy to judge.
struct CheckedSignature {
    name: &'static str,
    algorithm: SignatureAlgorithm,
    key: PublicKey,
}

/// Verifies the signature value, whatever the algorithm policy says of its algorithm.
fn signature_check(
    info: &SignerInfo<'_>,
    digest: Hash,
    leaf: &Certificate,
    message: &[u8],
) -> Result<CheckedSignature, (SubIndication, Reason)> {
    let oid = info.signature_algorithm.oid.to_string();
    let hash = digest;
    // CMS allows naming only the key type (rsaEncryption, id-ecPublicKey) with the digest
    // given separately (RFC 3370 §3.2, RFC 5753 §2.1.1).
    let algorithm = if info.signature_algorithm.oid.is(crate::oid::RSA_ENCRYPTION) {
        SignatureAlgorithm::RsaPkcs1(hash)
    } else if info.signature_algorithm.oid.is(crate::oid::EC_PUBLIC_KEY) {
        SignatureAlgorithm::Ecdsa(hash)
    } else {
        SignatureAlgorithm::from_oid_and_params(&oid, info.signature_algorithm.parameters).map_err(
            |e| {
                (
                    SubIndication::CryptoConstraintsFailure,
                    Reason::SignatureAlgorithm(e),
                )
            },
        )?
    };
    let key = PublicKey::from_spki_der(leaf.spki_der()).ok_or((
        SubIndication::CryptoConstraintsFailure,
        Reason::SignerKeyUnreadable,
    ))?;
    match pki_signature::verify_value(&algorithm, &key, message, &info.signature) {
        Ok(()) => Ok(CheckedSignature {
            name: algorithm.name(),
            algorithm,
            key,
        }),
        Err(pki_signature::SignatureError::Invalid) => Err((
            SubIndication::SigCryptoFailure,
            Reason::SignatureValueInvalid,
        )),
        Err(other) => Err((
            SubIndication::CryptoConstraintsFailure,
            Reason::SignatureAlgorithm(other),
        )),
    }
}

/// A document time-stamp's report from its check.
fn document_timestamp_facts(report: &mut SignatureReport, checked: StampCheck) {
    match checked {
        Ok(super::Stamped { time, .. }) => {
            report.intact = Facet::Passed;
            report.signature_valid = Facet::Passed;
            report.trusted = Facet::Passed;
            report.revocation = Facet::Passed;
            report.timestamp_time = Some(time);
            report.signing_time = Some(time);
            report.signing_time_source = Some(TimeSource::Timestamp);
        }
        Err((sub, reason)) => {
            if sub == SubIndication::HashFailure {
                report.intact = Facet::Failed;
            }
            report.fail(sub, reason);
        }
    }
}

/// A document time-stamp's time, when its token reads, covers `ranges` of `bytes`, and its TSA
/// was good at its time and still unexpired at `control`.
fn check_document_timestamp(
    verifier: &Verifier,
    contents: &[u8],
    bytes: &[u8],
    ranges: &[(usize, usize)],
    dss: &Dss,
    control: OffsetDateTime,
) -> StampCheck {
    let token = crate::ber::parse(contents)
        .map_err(|e| e.to_string())
        .and_then(|(el, _)| {
            // Timestamp tokens in the wild use BER indefinite lengths as often as signatures do.
            let der = el.definite().map_err(|e| e.to_string())?;
            TimestampToken::from_der(&der).map_err(|e| e.to_string())
        })
        .map_err(|detail| {
            (
                SubIndication::FormatFailure,
                Reason::DocumentTimestampUnreadable { detail },
            )
        })?;
    let mut covered = Vec::new();
    for (start, end) in ranges {
        covered.extend_from_slice(&bytes[*start..*end]);
    }
    let mut intermediates = token.certificates().to_vec();
    intermediates.extend(dss.certificates.iter().cloned());
    let sources = verifier.sources(&dss.evidence);
    timestamp::verify(
        &token,
        &covered,
        None,
        &verifier.signers,
        &intermediates,
        &sources,
    )
    .and_then(|verified| {
        (verified.usable_at(control)).map(|()| super::Stamped::of(verifier, &verified))
    })
    .map_err(|e| match e {
        timestamp::Error::ImprintMismatch => (
            SubIndication::HashFailure,
            Reason::DocumentTimestampMismatch,
        ),
        e if e.lacks_proof() => (
            SubIndication::OutOfBoundsNoPoe,
            Reason::DocumentTimestampInvalid(e),
        ),
        e => (SubIndication::TryLater, Reason::DocumentTimestampInvalid(e)),
    })
}

/// Whether the DSS holds revocation evidence and the chain's certificates (a B-LT signature).
fn dss_covers_chain(dss: &Dss, report: &SignatureReport) -> bool {
    dss.evidence.crl_count() > 0
        || !dss.certificates.is_empty() && report.revocation == Facet::Passed
}

/// Records what changed after the signature and whether the signature permits it: approval
/// signatures permit signatures, form filling and annotations after them; a certification
/// permits what its DocMDP level says (ISO 32000-2 §12.8.2.2, Table 257), and every signature's
/// FieldMDP locks forbid changes to the fields they name (§12.8.2.4).
fn finish_changes(
    context: &Signature<'_, '_>,
    report: &mut SignatureReport,
    revision: &SignedRevision<'_>,
    signed_end: usize,
    docmdp: Option<i64>,
) {
    if !revision.rewritten.is_empty() {
        report.changes_permitted = Facet::Failed;
        report.fail(
            SubIndication::FormatFailure,
            Reason::DictionaryRewritten {
                keys: revision.rewritten.clone(),
            },
        );
    }
    if signed_end >= context.full.bytes().len() {
        return;
    }
    let Some(analyser) = context
        .analyser
        .get_or_init(|| diff::Analyser::new(context.full.bytes()).map_err(|e| e.to_string()))
        .as_ref()
        .ok()
    else {
        if let Some(Err(e)) = context.analyser.get() {
            report.changes_permitted = Facet::Failed;
            report
                .reasons
                .push(Reason::RevisionsUnreadable { detail: e.clone() });
        }
        return;
    };
    let locks = FieldLocks::of_signature(
        revision.doc(context.full),
        &revision.dictionary,
        &context.found.fields,
    );
    let analysis = match analyser.analyse(signed_end, &locks) {
        Ok(a) => a,
        Err(e) => {
            report.changes_permitted = Facet::Failed;
            report.reasons.push(Reason::RevisionsUnanalysable {
                detail: e.to_string(),
            });
            return;
        }
    };
    let level = analysis.level();
    report.modification = level;
    report.changes = analysis
        .changes
        .iter()
        .map(|c| Change {
            object: c.id.to_string(),
            kind: c.kind.as_str(),
            page: c.page,
            rule: c.rule,
            rule_vi: c.rule_vi,
            level: c.level,
        })
        .collect();
    let allowed = match docmdp {
        Some(1) => ModificationLevel::LongTermValidation,
        Some(2) => ModificationLevel::FormFilling,
        _ => ModificationLevel::Annotations,
    };
    let by = match docmdp {
        Some(p) => Permitter::Certification { p },
        None => Permitter::Approval,
    };
    if !analysis.pages_added.is_empty() {
        report.reasons.push(Reason::PagesAdded {
            pages: analysis.pages_added.clone(),
        });
    }
    if !analysis.pages_removed.is_empty() {
        report.reasons.push(Reason::PagesRemoved {
            pages: analysis.pages_removed.clone(),
        });
    }
    let beyond: Vec<&diff::ObjectChange> = analysis
        .changes
        .iter()
        .filter(|c| c.level > allowed)
        .collect();
    if !beyond.is_empty() {
        report.changes_permitted = Facet::Failed;
        let mut pages: Vec<usize> = beyond.iter().filter_map(|c| c.page).collect();
        pages.sort_unstable();
        pages.dedup();
        // The first few, rule named: enough to point a clerk (or an auditor) at the change.
        let shown: Vec<ChangeNamed> = beyond
            .iter()
            .take(5)
            .map(|c| ChangeNamed {
                object: c.id.to_string(),
                kind: c.kind,
                page: c.page,
                rule: c.rule,
                rule_vi: c.rule_vi,
            })
            .collect();
        report.fail(
            SubIndication::FormatFailure,
            Reason::ChangesNotPermitted(Box::new(ChangesBeyond {
                by,
                allowed,
                count: beyond.len(),
                pages,
                shown,
            })),
        );
    } else if level > ModificationLevel::LongTermValidation {
        report.warnings.push(Reason::ChangesPermitted { level, by });
    }
    for widget in &analysis.visible_signatures {
        if !widget.signed {
            report.warnings.push(Reason::UnsignedFieldAppearance {
                widget: widget.id.to_string(),
                page: widget.page,
            });
        } else if docmdp.is_some() {
            report.warnings.push(Reason::AppearanceAfterCertification {
                widget: widget.id.to_string(),
                page: widget.page,
            });
        }
    }
    if analysis.appearances_regenerated {
        report.warnings.push(Reason::NeedAppearances);
    }
    for overlap in &analysis.overlaps {
        report.warnings.push(Reason::AnnotationOverlap {
            added: overlap.added.to_string(),
            other: overlap.other.to_string(),
            page: overlap.page,
        });
    }
}

/// The DocMDP level of a certification signature: the signature the catalog's `/Perms /DocMDP`
/// names *in the signature's own revision* (a later revision cannot certify or un-certify it),
/// with `/P` from its DocMDP `/Reference` (§12.8.2.2; 2 when absent).
fn certification_level(
    full: &Document<'_>,
    revision: &SignedRevision<'_>,
    id: ObjectId,
) -> Option<i64> {
    let doc = revision.doc(full);
    let (_, catalog) = doc.catalog().ok()?;
    let perms = doc.resolve(catalog.get(b"Perms")?).ok()?;
    if perms.as_dict()?.reference(b"DocMDP")? != id {
        return None;
    }
    Some(crate::pdf::docmdp_level(doc, &revision.dictionary))
}

/// A usage-rights signature (`/Perms /UR3`, or a `/Reference` with the UR3 transform): Adobe's
/// Reader extensions, not a signer's approval.
fn is_usage_rights(full: &Document<'_>, revision: &SignedRevision<'_>, id: ObjectId) -> bool {
    let doc = revision.doc(full);
    let in_perms = doc
        .catalog()
        .ok()
        .and_then(|(_, c)| doc.resolve(c.get(b"Perms")?).ok())
        .and_then(|p| {
            p.as_dict()
                .map(|p| p.reference(b"UR3") == Some(id) || p.reference(b"UR") == Some(id))
        })
        .unwrap_or(false);
    let by_reference =
        !crate::pdf::transform_references(doc, &revision.dictionary, &[b"UR3", b"UR"]).is_empty();
    in_perms || by_reference
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
    use crate::signer::DigestAlgorithm;

    #[test]
    fn shared_prefix_digests_equal_separate_ones() {
        let bytes: Vec<u8> = (0..100_000u32)
            .map(|i| (i * 7 + i / 13).to_le_bytes()[0])
            .collect();
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
