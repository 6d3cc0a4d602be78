//! The form checks of Decree 30/2020/NĐ-CP on a verified document: whether its signatures are
//! the ones an electronic administrative document must carry, in the order it must carry them.
//!
//! What it owns, read from a [`DocumentReport`] already made:
//!
//! - **the agency signs last** (Art. 32: the clerk signs with the agency's key only documents the
//!   competent person has already signed): no person's signature may follow the agency's;
//! - **the agency's signature uses an organisation's certificate** (Appendix I, Part I, II.8:
//!   "chữ ký số của cơ quan, tổ chức"): the last signature's certificate must be an
//!   organisation's, as [`crate::pki::identity`] tells it (a tax or budget code, no personal
//!   identifier);
//! - **each attachment file carries the agency's signature** (Appendix I, Part I, II.8(c): an
//!   attachment that is a file of its own is signed by the agency): in an edXML package, every
//!   attachment's own report is held to the same rules.
//!
//! The result is a line of its own ([`Decree30Check`]: "đúng thể thức", or what is missing), in
//! Vietnamese and English. It never changes an ETSI indication: a document can be validly signed
//! and still not in due form, and the reverse.
//!
//! What it refuses: to guess. A certificate that says neither person nor organisation is named
//! as undetermined, not passed. A main document and an attachment cannot be told apart from the
//! file alone, so a document the agency alone signed passes (attachments and copies are signed
//! that way); the person's signature is required only before the agency's, never on its own.
//! Document timestamps and usage-rights signatures are no one's signature and are left out.

use serde::Serialize;

use super::verdict::{DocumentReport, SignatureReport};
use crate::edxml::report::AttachmentStatus;
use crate::pki::identity::Holder;

/// The outcome of the Decree 30 checks on one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decree30Check {
    /// Every rule holds: "đúng thể thức".
    pub passed: bool,
    /// The line a report shows, in Vietnamese.
    pub summary_vi: String,
    /// The same line in English.
    pub summary_en: String,
    /// What is missing or out of order; empty when `passed`.
    pub missing: Vec<Finding>,
}

/// One rule a document does not meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub message_vi: String,
    pub message_en: String,
}

/// The rules, as the JSON names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The document carries no signature at all.
    NoSignature,
    /// No signature of the agency: the last signature uses a person's certificate.
    NoAgencySignature,
    /// A person signed after the agency (Art. 32).
    AgencyBeforePerson,
    /// The last signature's certificate says neither person nor organisation.
    HolderUndetermined,
    /// An attachment carries no signature kyso could check.
    AttachmentNotSigned,
}

/// The Decree 30 checks on `report`.
pub fn check(report: &DocumentReport) -> Decree30Check {
    let mut missing = signatures(&report.signatures);
    if let Some(package) = &report.package {
        // The envelope is QCVN 102's signature of the package, not one of Decree 30's: only
        // the documents inside are held to the decree.
        missing.clear();
        for (n, attachment) in package.attachments.iter().enumerate() {
            let name = attachment
                .name
                .clone()
                .or_else(|| attachment.content_id.clone())
                .unwrap_or_else(|| format!("#{}", n + 1));
            match (&attachment.status, &attachment.report) {
                (AttachmentStatus::Verified, Some(inner)) => {
                    for finding in check(inner).missing {
                        missing.push(Finding {
                            rule: finding.rule,
                            message_vi: format!("tệp đính kèm \"{name}\": {}", finding.message_vi),
                            message_en: format!("attachment \"{name}\": {}", finding.message_en),
                        });
                    }
                }
                _ => missing.push(Finding {
                    rule: Rule::AttachmentNotSigned,
                    message_vi: format!(
                        "tệp đính kèm \"{name}\" không mang chữ ký số của cơ quan, tổ chức có thể kiểm tra"
                    ),
                    message_en: format!(
                        "attachment \"{name}\" carries no agency signature that could be checked"
                    ),
                }),
            }
        }
    }
    Decree30Check::from_findings(missing)
}

impl DocumentReport {
    /// Runs the Decree 30 checks and keeps their outcome in the report (`decree30`).
    pub fn check_decree30(&mut self) {
        self.decree30 = Some(check(self));
    }
}

impl Decree30Check {
    fn from_findings(missing: Vec<Finding>) -> Decree30Check {
        let passed = missing.is_empty();
        let (summary_vi, summary_en) = if passed {
            (
                "Thể thức chữ ký số (Nghị định 30/2020/NĐ-CP): đúng thể thức".to_owned(),
                "Signature form (Decree 30/2020/NĐ-CP): in due form".to_owned(),
            )
        } else {
            let join = |pick: fn(&Finding) -> &str| {
                missing.iter().map(pick).collect::<Vec<_>>().join("; ")
            };
            (
                format!(
                    "Thể thức chữ ký số (Nghị định 30/2020/NĐ-CP): chưa đúng thể thức — {}",
                    join(|f| &f.message_vi)
                ),
                format!(
                    "Signature form (Decree 30/2020/NĐ-CP): not in due form — {}",
                    join(|f| &f.message_en)
                ),
            )
        };
        Decree30Check {
            passed,
            summary_vi,
            summary_en,
            missing,
        }
    }
}

/// The rules on one file's signatures, in the order the file carries them.
fn signatures(all: &[SignatureReport]) -> Vec<Finding> {
    let signed: Vec<&SignatureReport> = all
        .iter()
        .filter(|s| !s.is_usage_rights() && s.format != "document timestamp")
        .collect();
    let Some(last) = signed.last() else {
        return vec![Finding {
            rule: Rule::NoSignature,
            message_vi: "văn bản không có chữ ký số".to_owned(),
            message_en: "the document carries no signature".to_owned(),
        }];
    };
    let holder = |s: &SignatureReport| s.signer.as_ref().map_or(Holder::Unknown, |s| s.holder);
    match holder(last) {
        Holder::Organisation => Vec::new(),
        Holder::Unknown => vec![Finding {
            rule: Rule::HolderUndetermined,
            message_vi: format!(
                "không xác định được chứng thư số của chữ ký cuối \"{}\" là của cơ quan, tổ chức (chủ thể không ghi MST, MNS hay CMND, CCCD)",
                who(last)
            ),
            message_en: format!(
                "cannot tell whether the certificate of the last signature (\"{}\") is an organisation's (its subject names no MST, MNS, CMND or CCCD)",
                who(last)
            ),
        }],
        Holder::Person => {
            let agency = signed
                .iter()
                .rev()
                .find(|s| holder(s) == Holder::Organisation);
            match agency {
                Some(agency) => vec![Finding {
                    rule: Rule::AgencyBeforePerson,
                    message_vi: format!(
                        "chữ ký số của cơ quan, tổ chức \"{}\" đứng trước chữ ký số của \"{}\": văn thư chỉ ký số của cơ quan, tổ chức vào văn bản người có thẩm quyền đã ký (Điều 32)",
                        who(agency),
                        who(last)
                    ),
                    message_en: format!(
                        "the agency's signature (\"{}\") comes before the signature of \"{}\": the agency signs only what the competent person has signed (Art. 32)",
                        who(agency),
                        who(last)
                    ),
                }],
                None => vec![Finding {
                    rule: Rule::NoAgencySignature,
                    message_vi: format!(
                        "thiếu chữ ký số của cơ quan, tổ chức: chữ ký cuối \"{}\" dùng chứng thư số của cá nhân",
                        who(last)
                    ),
                    message_en: format!(
                        "the agency's signature is missing: the last signature (\"{}\") uses a person's certificate",
                        who(last)
                    ),
                }],
            }
        }
    }
}

/// The name a finding gives a signature: its signer's, else its own.
fn who(signature: &SignatureReport) -> String {
    signature
        .signer
        .as_ref()
        .and_then(|s| s.common_name.clone())
        .unwrap_or_else(|| signature.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::verify::Signer;

    fn signature(name: &str, holder: Holder) -> SignatureReport {
        let mut report = SignatureReport::new(format!("Signature {name}"), "PAdES-B-B");
        report.signer = Some(Signer {
            common_name: Some(name.to_owned()),
            holder,
            ..Signer::default()
        });
        report
    }

    fn document(signatures: Vec<SignatureReport>) -> DocumentReport {
        let mut report =
            crate::verify::empty_report("pdf", String::new(), time::OffsetDateTime::UNIX_EPOCH);
        report.signatures = signatures;
        report
    }

    fn rules(check: &Decree30Check) -> Vec<Rule> {
        check.missing.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn person_then_agency_is_in_due_form() {
        let check = check(&document(vec![
            signature("Nguyễn Văn An", Holder::Person),
            signature("UBND tỉnh Thử Nghiệm", Holder::Organisation),
        ]));
        assert!(check.passed, "{check:?}");
        assert!(check.summary_vi.ends_with("đúng thể thức"));
        assert!(check.summary_en.ends_with("in due form"));
    }

    #[test]
    fn the_agency_alone_passes_as_attachments_and_copies_are_signed() {
        let check = check(&document(vec![signature(
            "UBND tỉnh Thử Nghiệm",
            Holder::Organisation,
        )]));
        assert!(check.passed);
    }

    #[test]
    fn the_agency_before_the_person_is_named_with_article_32() {
        let check = check(&document(vec![
            signature("UBND tỉnh Thử Nghiệm", Holder::Organisation),
            signature("Nguyễn Văn An", Holder::Person),
        ]));
        assert!(!check.passed);
        assert_eq!(rules(&check), [Rule::AgencyBeforePerson]);
        assert!(check.summary_vi.contains("chưa đúng thể thức"));
        assert!(check.missing[0].message_vi.contains("Điều 32"));
        assert!(check.missing[0].message_en.contains("Art. 32"));
        assert!(check.missing[0].message_en.contains("UBND tỉnh Thử Nghiệm"));
    }

    #[test]
    fn a_person_alone_lacks_the_agency() {
        let check = check(&document(vec![signature("Nguyễn Văn An", Holder::Person)]));
        assert_eq!(rules(&check), [Rule::NoAgencySignature]);
        assert!(
            check.missing[0]
                .message_vi
                .contains("thiếu chữ ký số của cơ quan")
        );
    }

    #[test]
    fn an_undetermined_certificate_is_not_passed() {
        let check = check(&document(vec![
            signature("Nguyễn Văn An", Holder::Person),
            signature("Văn thư", Holder::Unknown),
        ]));
        assert_eq!(rules(&check), [Rule::HolderUndetermined]);
        let mut unreadable = SignatureReport::new("Signature2".to_owned(), "PKCS7");
        unreadable.signer = None;
        let check = super::check(&document(vec![unreadable]));
        assert_eq!(rules(&check), [Rule::HolderUndetermined]);
        assert!(check.missing[0].message_en.contains("Signature2"));
    }

    #[test]
    fn no_signature_and_timestamps_are_not_signatures() {
        assert_eq!(rules(&check(&document(Vec::new()))), [Rule::NoSignature]);
        let stamp = SignatureReport::new("Timestamp".to_owned(), "document timestamp");
        let check = check(&document(vec![
            signature("Nguyễn Văn An", Holder::Person),
            signature("UBND tỉnh Thử Nghiệm", Holder::Organisation),
            stamp,
        ]));
        assert!(
            check.passed,
            "a later document timestamp is no one's signature"
        );
    }
}
