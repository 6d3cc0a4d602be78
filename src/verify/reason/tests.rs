//! Every reason in both languages, and no English word left in the Vietnamese.

use std::collections::BTreeSet;

use time::macros::datetime;

use super::*;
use crate::pdf::diff::{ChangeKind, DEFAULT_DIFF_RULES, UNEXPLAINED, UNEXPLAINED_VI};

/// Tokens written in Vietnamese without diacritics that English texts also use, and the
/// product's name: not English when they appear in Vietnamese words.
const VIETNAMESE_ASCII: &[&str] = &["an", "in", "do", "kyso", "byte", "bit"];

/// Which variant a reason is: an exhaustive match, so a new variant fails to compile here until
/// it is numbered, and [`every_variant_has_words_in_both_languages`] fails until it has a sample.
fn ordinal(reason: &Reason) -> usize {
    use Reason::*;
    match reason {
        NotPdfOrXml => 0,
        NoSignature => 1,
        OnlyUsageRights => 2,
        PdfUnreadable { .. } => 3,
        PdfFormUnreadable { .. } => 4,
        EmptyPlaceholder { .. } => 5,
        XmlNotAccepted { .. } => 6,
        DictionaryInNoRevision { .. } => 7,
        ContentsNotLocated { .. } => 8,
        UnsupportedSubFilter { .. } => 9,
        NoContents => 10,
        CmsUnreadable { .. } => 11,
        ContentsTrailingData => 12,
        SignerInfoCount { .. } => 13,
        CmsEnvelope(_) => 14,
        ByteRangeMalformed => 15,
        ByteRangeOutsideFile { .. } => 16,
        ByteRangeGapNotContents { .. } => 17,
        ByteRangeOverlap { .. } => 18,
        SignedEndNotRevisionEnd { .. } => 19,
        DictionaryRewritten { .. } => 20,
        UnsupportedDigest { .. } => 21,
        Pkcs7Sha1WithoutDigest => 22,
        Sha1DigestMismatch => 23,
        DigestMismatch => 24,
        NoSingleMessageDigest => 25,
        ContentTypeNotData => 26,
        SignerCertificateMissing => 27,
        SigningCertificateAttribute(_) => 28,
        SignerKeyUnreadable => 29,
        SignatureValueInvalid => 30,
        SignatureAlgorithm(_) => 31,
        AlgorithmRefused(_) => 32,
        RetiredAlgorithmAccepted { .. } => 78,
        RetiredInChain(_) => 79,
        TimestampIgnored(_) => 33,
        DocumentTimestampUnreadable { .. } => 34,
        DocumentTimestampMismatch => 35,
        DocumentTimestampInvalid(_) => 36,
        Path(_) => 37,
        NoKeyUsage => 38,
        RevocationOff => 39,
        PagesAdded { .. } => 40,
        PagesRemoved { .. } => 41,
        ChangesNotPermitted(_) => 42,
        ChangesPermitted { .. } => 43,
        CertificationNotFirst => 44,
        UsageRightsSignature => 45,
        UnsignedFieldAppearance { .. } => 46,
        AppearanceAfterCertification { .. } => 47,
        NeedAppearances => 48,
        AnnotationOverlap { .. } => 49,
        RevisionsUnreadable { .. } => 50,
        RevisionsUnanalysable { .. } => 51,
        ChangedBeyondPermission => 52,
        NotEverythingChecked => 53,
        XmlSignature { .. } => 54,
        XmlBelowPolicy { .. } => 55,
        XmlUnsupported { .. } => 56,
        XmlPartialScope { .. } => 57,
        XmlBareKey => 58,
        XmlCertificateUnreadable => 59,
        XmlRepeatedId { .. } => 60,
        PackageUnreadable { .. } => 61,
        PackageNotWellFormed => 62,
        PackageTooManyAttachments { .. } => 63,
        PackageUnsigned => 64,
        PackageNestingLimit { .. } => 65,
        AttachmentUnreadable { .. } => 66,
        AttachmentCoveredByEnvelope { .. } => 67,
        AttachmentUncovered { .. } => 68,
        PackageNoAttachment => 69,
        PrefixUndeclared { .. } => 70,
        SignatureNamespace { .. } => 71,
        DuplicateContentId { .. } => 72,
        ManifestEntryMissing { .. } => 73,
        AttachmentNotInManifest { .. } => 74,
        HeaderMismatch { .. } => 75,
        EnvelopeRefused(_) => 76,
        PackageSignature { .. } => 77,
        XmlArchiveTimestamp(_) => 80,
    }
}

/// One more than the highest [`ordinal`].
const VARIANTS: usize = 81;

fn every_signature_error() -> Vec<SignatureError> {
    vec![
        SignatureError::Invalid,
        SignatureError::UnsupportedAlgorithm {
            oid: "1.2.3.4".into(),
        },
        SignatureError::WeakAlgorithm { name: "SHA-1" },
        SignatureError::KeyTooSmall { bits: 1024 },
        SignatureError::UnsupportedKey {
            oid: "1.2.3.5".into(),
        },
        SignatureError::KeyMismatch {
            algorithm: "ECDSA-SHA256",
            key: "RSA",
        },
        SignatureError::BadParameters("trailing data in the parameters"),
        SignatureError::PssMaskHash {
            hash: "SHA-256",
            mgf: "SHA-1",
        },
    ]
}

fn every_path_error() -> Vec<PathError> {
    let cert = || "CN=Nguyễn Văn A, O=Sở Nội vụ".to_owned();
    let at = datetime!(2026-03-01 10:00 UTC);
    let mut errors = vec![
        PathError::UnknownIssuer {
            subject: cert(),
            issuer: "CN=CA phục vụ các cơ quan Nhà nước".into(),
        },
        PathError::BudgetExceeded {
            what: "signature checks",
            limit: 100,
        },
        PathError::ChainTooLong {
            certificate: cert(),
            max: 8,
        },
        PathError::ProfileViolation {
            certificate: cert(),
            defect: "serial number longer than 20 octets".into(),
        },
        PathError::Expired {
            certificate: cert(),
            at,
            not_after: datetime!(2025-12-31 23:59 UTC),
        },
        PathError::NotYetValid {
            certificate: cert(),
            at,
            not_before: datetime!(2027-01-01 0:00 UTC),
        },
        PathError::NotCa {
            certificate: cert(),
        },
        PathError::MissingKeyCertSign {
            certificate: cert(),
        },
        PathError::PathLenExceeded {
            certificate: cert(),
        },
        PathError::UnknownCriticalExtension {
            certificate: cert(),
            oid: "1.2.3.6".into(),
        },
        PathError::NameConstraintViolation {
            certificate: cert(),
            detail: "email outside the permitted subtree".into(),
        },
        PathError::PolicyViolation {
            certificate: cert(),
        },
        PathError::WrongKeyPurpose {
            certificate: cert(),
            purpose: "document signing",
            detail: "keyUsage lacks digitalSignature and nonRepudiation".into(),
        },
        PathError::RevocationUnknown {
            certificate: cert(),
            reason: "no CRL or OCSP response available".into(),
        },
        PathError::Revoked {
            certificate: cert(),
            revoked_at: at,
            reason: "keyCompromise".into(),
        },
    ];
    errors.extend(
        every_signature_error()
            .into_iter()
            .map(|reason| PathError::BadSignature {
                certificate: cert(),
                issuer: "CN=Root".into(),
                reason,
            }),
    );
    errors
}

fn every_timestamp_error() -> Vec<timestamp::Error> {
    let mut errors = vec![
        timestamp::Error::Malformed("unexpected end of input".into()),
        timestamp::Error::Refused { status: 2 },
        timestamp::Error::ImprintMismatch,
        timestamp::Error::NonceMismatch,
        timestamp::Error::BadAttributes("no ESS signing certificate"),
        timestamp::Error::SignerNotFound,
    ];
    errors.extend(
        every_signature_error()
            .into_iter()
            .map(timestamp::Error::BadSignature),
    );
    errors.extend(every_path_error().into_iter().map(timestamp::Error::Path));
    errors
}

fn levels() -> [ModificationLevel; 6] {
    [
        ModificationLevel::None,
        ModificationLevel::LongTermValidation,
        ModificationLevel::Signatures,
        ModificationLevel::FormFilling,
        ModificationLevel::Annotations,
        ModificationLevel::Other,
    ]
}

/// A sample of every variant, and of every variant of what they carry.
fn every_reason() -> Vec<Reason> {
    use Reason::*;
    let detail = || "unexpected token at offset 12".to_owned();
    let mut reasons = vec![
        NotPdfOrXml,
        NoSignature,
        OnlyUsageRights,
        PdfUnreadable { detail: detail() },
        PdfFormUnreadable { detail: detail() },
        EmptyPlaceholder {
            field: "Chữ ký 1".into(),
        },
        XmlNotAccepted { detail: detail() },
        DictionaryInNoRevision {
            object: "12 0 R".into(),
        },
        ContentsNotLocated { detail: detail() },
        UnsupportedSubFilter {
            sub_filter: "adbe.x509.rsa_sha1".into(),
        },
        NoContents,
        CmsUnreadable { detail: detail() },
        ContentsTrailingData,
        SignerInfoCount { count: 2 },
        CmsEnvelope(CmsEnvelopeProblem::Version { version: 7 }),
        CmsEnvelope(CmsEnvelopeProblem::DigestNotListed),
        CmsEnvelope(CmsEnvelopeProblem::SignerInfoVersion {
            version: 3,
            expected: 1,
        }),
        CmsEnvelope(CmsEnvelopeProblem::ContentTypeDiffers),
        ByteRangeMalformed,
        ByteRangeOutsideFile {
            range: [0, 10, 20, 30],
            length: 25,
        },
        ByteRangeGapNotContents {
            gap: (10, 20),
            contents: (40, 60),
        },
        ByteRangeOverlap { contents: (40, 60) },
        SignedEndNotRevisionEnd {
            signed_end: 900,
            revision_end: 1000,
        },
        DictionaryRewritten {
            keys: vec!["/Reason".into(), "/M".into()],
        },
        UnsupportedDigest {
            oid: "1.2.840.113549.2.5".into(),
        },
        Pkcs7Sha1WithoutDigest,
        Sha1DigestMismatch,
        DigestMismatch,
        NoSingleMessageDigest,
        ContentTypeNotData,
        SignerCertificateMissing,
        SigningCertificateAttribute(SigningCertificateProblem::SeveralValues),
        SigningCertificateAttribute(SigningCertificateProblem::Empty),
        SigningCertificateAttribute(SigningCertificateProblem::UnsupportedDigest {
            oid: "1.2.3".into(),
        }),
        SigningCertificateAttribute(SigningCertificateProblem::OtherCertificate),
        SignerKeyUnreadable,
        SignatureValueInvalid,
        AlgorithmRefused(Refusal {
            weakness: Weakness::Sha1,
            until: Some(time::macros::date!(2019 - 01 - 01)),
            existed: None,
        }),
        AlgorithmRefused(Refusal {
            weakness: Weakness::SmallRsa { bits: 512 },
            until: None,
            existed: None,
        }),
        AlgorithmRefused(Refusal {
            weakness: Weakness::SmallEc { bits: 256 },
            until: Some(time::macros::date!(2030 - 01 - 01)),
            existed: Some(datetime!(2031-05-01 0:00 UTC)),
        }),
        RetiredAlgorithmAccepted {
            retired: vec![(Weakness::Sha1, time::macros::date!(2019 - 01 - 01))],
        },
        RetiredInChain(RetiredUse {
            certificate: "CN=Co quan chung thuc so Bo Tai chinh (serial 01)".into(),
            weakness: Weakness::SmallRsa { bits: 1024 },
            until: time::macros::date!(2014 - 01 - 01),
        }),
        TimestampIgnored(TimestampProblem::SeveralTokens),
        TimestampIgnored(TimestampProblem::Unreadable { detail: detail() }),
        DocumentTimestampUnreadable { detail: detail() },
        DocumentTimestampMismatch,
        NoKeyUsage,
        RevocationOff,
        PagesAdded { pages: vec![3, 4] },
        PagesRemoved { pages: vec![2] },
        CertificationNotFirst,
        UsageRightsSignature,
        UnsignedFieldAppearance {
            widget: "14 0 R".into(),
            page: Some(1),
        },
        UnsignedFieldAppearance {
            widget: "14 0 R".into(),
            page: None,
        },
        AppearanceAfterCertification {
            widget: "15 0 R".into(),
            page: Some(2),
        },
        NeedAppearances,
        AnnotationOverlap {
            added: "16 0 R".into(),
            other: "9 0 R".into(),
            page: 1,
        },
        RevisionsUnreadable { detail: detail() },
        RevisionsUnanalysable { detail: detail() },
        ChangedBeyondPermission,
        NotEverythingChecked,
        XmlBelowPolicy {
            detail: "RSA-SHA1 refused by policy".into(),
        },
        XmlUnsupported {
            feature: "transform http://www.w3.org/2002/06/xmldsig-filter2".into(),
        },
        XmlPartialScope {
            covered: vec!["/HDon[1]/DLHDon[1] (Id \"data\")".into()],
            detached: vec!["phu-luc.pdf".into()],
            not_covered: vec!["/HDon[1]/MCCQT[1]".into()],
        },
        XmlBareKey,
        XmlCertificateUnreadable,
        XmlRepeatedId {
            id: "data".into(),
            count: 2,
            reference_line: 10,
            own: true,
            target_line: 40,
        },
        XmlRepeatedId {
            id: "data".into(),
            count: 2,
            reference_line: 10,
            own: false,
            target_line: 40,
        },
        XmlArchiveTimestamp(ArchiveTimestampProblem::Mismatch),
        XmlArchiveTimestamp(ArchiveTimestampProblem::Invalid(
            TimestampProblem::Unreadable { detail: detail() },
        )),
        XmlArchiveTimestamp(ArchiveTimestampProblem::Invalid(
            TimestampProblem::SeveralTokens,
        )),
        PackageUnreadable { detail: detail() },
        PackageNotWellFormed,
        PackageTooManyAttachments {
            count: 300,
            limit: 256,
        },
        PackageUnsigned,
        PackageNestingLimit { limit: 2 },
        AttachmentUnreadable { detail: detail() },
        AttachmentCoveredByEnvelope {
            label: "cid:209 \"qd-123.docx\"".into(),
            kind: "application/msword".into(),
        },
        AttachmentUncovered {
            label: "cid:209 \"qd-123.docx\"".into(),
            kind: "application/msword".into(),
        },
        PackageNoAttachment,
        PrefixUndeclared {
            prefix: "edXML".into(),
            line: 3,
            column: 5,
            elements: 4,
            namespace: "http://www.mic.gov.vn/TBT/QCVN_102_2016".into(),
        },
        SignatureNamespace {
            lines: vec![40, 80],
        },
        DuplicateContentId { id: "209".into() },
        ManifestEntryMissing {
            id: "210".into(),
            name: Some("phu-luc.pdf".into()),
        },
        ManifestEntryMissing {
            id: "210".into(),
            name: None,
        },
        AttachmentNotInManifest {
            label: "cid:211".into(),
        },
        EnvelopeRefused(Box::new(XmlNotAccepted { detail: detail() })),
        PackageSignature {
            what: PackagePart::Envelope,
            name: "sig-1".into(),
            indication: "TOTAL-FAILED",
            first: Some(Box::new(DigestMismatch)),
        },
        PackageSignature {
            what: PackagePart::Attachment,
            name: "cid:209".into(),
            indication: "INDETERMINATE",
            first: None,
        },
    ];
    for field in [
        "number",
        "promulgation_date",
        "signer_name",
        "signer_position",
    ] {
        reasons.push(HeaderMismatch {
            field,
            header: "123/QĐ-UBND".into(),
            source: Some("cid:209, signature Signature1".into()),
            found: Some("124/QĐ-UBND".into()),
        });
    }
    reasons.push(HeaderMismatch {
        field: "number",
        header: "123/QĐ-UBND".into(),
        source: None,
        found: None,
    });
    for sub in [
        SubIndication::FormatFailure,
        SubIndication::HashFailure,
        SubIndication::SigCryptoFailure,
        SubIndication::SignedDataNotFound,
        SubIndication::NoSigningCertificateFound,
        SubIndication::CryptoConstraintsFailure,
    ] {
        reasons.push(XmlSignature {
            sub,
            detail: "digest of the Reference at line 9 (URI \"#data\") does not match".into(),
        });
    }
    for error in every_signature_error() {
        reasons.push(SignatureAlgorithm(error));
    }
    for error in every_timestamp_error() {
        reasons.push(TimestampIgnored(TimestampProblem::Invalid(error.clone())));
        reasons.push(XmlArchiveTimestamp(ArchiveTimestampProblem::Invalid(
            TimestampProblem::Invalid(error.clone()),
        )));
        reasons.push(DocumentTimestampInvalid(error));
    }
    reasons.extend(every_path_error().into_iter().map(Path));
    let rules: Vec<(&'static str, &'static str)> = DEFAULT_DIFF_RULES
        .iter()
        .map(|r| (r.name, r.name_vi))
        .chain([(UNEXPLAINED, UNEXPLAINED_VI)])
        .collect();
    for level in levels() {
        for by in [Permitter::Approval, Permitter::Certification { p: 2 }] {
            reasons.push(ChangesPermitted { level, by });
            let shown: Vec<ChangeNamed> = rules
                .iter()
                .zip(
                    [ChangeKind::Added, ChangeKind::Modified, ChangeKind::Deleted]
                        .iter()
                        .cycle(),
                )
                .enumerate()
                .map(|(n, ((rule, rule_vi), kind))| ChangeNamed {
                    object: format!("{n} 0 R"),
                    kind: *kind,
                    page: (n % 2 == 0).then_some(n),
                    rule,
                    rule_vi,
                })
                .collect();
            reasons.push(ChangesNotPermitted(Box::new(ChangesBeyond {
                by,
                allowed: level,
                count: shown.len() + 1,
                pages: vec![1, 2],
                shown,
            })));
        }
    }
    reasons
}

/// The words of `text` that the English-word rule looks at, lower-cased: quoted data (“…”),
/// PDF names (`/Annots`), dotted identifiers and tokens holding a digit removed; runs of letters; all lower-case or capitalised only (names
/// and codes such as `PDF`, `SignerInfo`, `DocMDP` are not words).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut plain = String::with_capacity(text.len());
    let mut quoted = false;
    let mut name = false;
    for c in text.chars() {
        match c {
            '“' => quoted = true,
            '”' => quoted = false,
            '/' if !quoted => name = true,
            _ if quoted => {}
            c if name && (c.is_alphanumeric() || c == '.') => {}
            c => {
                name = false;
                plain.push(c);
            }
        }
    }
    // Dotted identifiers (`adbe.pkcs7.detached`) and anything holding a digit (hex, `SHA256`).
    let plain: String = plain
        .split_whitespace()
        .flat_map(|chunk| {
            chunk
                .split(|c: char| !(c.is_alphanumeric() || c == '.'))
                .map(|token| {
                    let token = token.trim_matches('.');
                    if token.contains('.') || token.chars().any(|c| c.is_numeric()) {
                        ""
                    } else {
                        token
                    }
                })
        })
        .collect::<Vec<_>>()
        .join(" ");
    plain
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .filter(|w| w.chars().skip(1).all(char::is_lowercase))
        .map(str::to_lowercase)
        .collect()
}

/// English words of `vietnamese`: words of the English vocabulary that are plain ASCII and not
/// one of [`VIETNAMESE_ASCII`].
fn english_in(vietnamese: &str, english: &BTreeSet<String>) -> Vec<String> {
    words(vietnamese)
        .into_iter()
        .filter(|w| w.len() >= 2 && w.is_ascii())
        .filter(|w| english.contains(w) && !VIETNAMESE_ASCII.contains(&w.as_str()))
        .collect()
}

#[test]
fn every_variant_has_words_in_both_languages() {
    let reasons = every_reason();
    let seen: BTreeSet<usize> = reasons.iter().map(ordinal).collect();
    let missing: Vec<usize> = (0..VARIANTS).filter(|n| !seen.contains(n)).collect();
    assert!(missing.is_empty(), "variants without a sample: {missing:?}");
    assert!(seen.iter().all(|n| *n < VARIANTS), "raise VARIANTS");
    let vocabulary: BTreeSet<String> = reasons
        .iter()
        .flat_map(|r| words(&r.english()))
        .chain(DEFAULT_DIFF_RULES.iter().flat_map(|r| words(r.name)))
        .collect();
    let mut failures = Vec::new();
    for reason in &reasons {
        let vi = reason.vietnamese();
        let en = reason.english();
        assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{reason:?}");
        assert_ne!(vi, en, "{reason:?} has no Vietnamese words of its own");
        assert_eq!(reason.text(Language::Vietnamese), vi);
        assert_eq!(reason.text(Language::English), en);
        let english = english_in(&vi, &vocabulary);
        if !english.is_empty() {
            failures.push(format!("{}: {english:?} in {vi:?}", reason.code()));
        }
    }
    assert!(
        failures.is_empty(),
        "English words in Vietnamese reasons:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_diff_rule_has_a_vietnamese_name() {
    let vocabulary: BTreeSet<String> = DEFAULT_DIFF_RULES
        .iter()
        .flat_map(|r| words(r.name))
        .chain(every_reason().iter().flat_map(|r| words(&r.english())))
        .collect();
    for rule in DEFAULT_DIFF_RULES {
        assert_ne!(rule.name, rule.name_vi);
        assert!(
            english_in(rule.name_vi, &vocabulary).is_empty(),
            "{:?}: {:?}",
            rule.name_vi,
            english_in(rule.name_vi, &vocabulary)
        );
    }
    assert!(english_in(UNEXPLAINED_VI, &vocabulary).is_empty());
}

#[test]
fn the_rule_finds_english_left_in_vietnamese() {
    let vocabulary: BTreeSet<String> = ["signature", "the", "document", "changed", "an"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        english_in("chữ ký: the signature was changed", &vocabulary),
        ["the", "signature", "changed"]
    );
    // Data in quotes, PDF names, codes and a Vietnamese syllable English also writes are not.
    assert!(
        english_in(
            "tài liệu “the document” trong /Signature, an toàn, PDF",
            &vocabulary
        )
        .is_empty()
    );
    assert_eq!(english_in("The chữ ký", &vocabulary), ["the"]);
}

#[test]
fn the_json_carries_a_code_and_both_languages() {
    let json = serde_json::to_value(Reason::DigestMismatch).unwrap();
    assert_eq!(json["code"], "digest_mismatch");
    assert_eq!(
        json["message"],
        "the signed bytes were changed: their digest differs from the one signed"
    );
    assert_eq!(
        json["message_vi"],
        "dữ liệu được ký đã bị thay đổi: giá trị băm khác với giá trị đã ký"
    );
    let codes: BTreeSet<&str> = every_reason().iter().map(Reason::code).collect();
    assert_eq!(codes.len(), VARIANTS, "codes are one per variant");
}
