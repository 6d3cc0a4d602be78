//! The printable verification record (biên bản kiểm tra chữ ký số): one self-contained HTML
//! page per document, Vietnamese first and English as the second language, with what Circular
//! 15/2025/TT-BKHCN asks verification software to show: the document's hash, each signer and
//! what identifies them, the signing time and where it comes from, integrity, the chain and the
//! anchor it reached, revocation, and when and with what the check was made.
//!
//! Owns the layout only: every fact is the [`DocumentReport`]'s, every reason its
//! [`super::Reason`]'s own words. Everything from the document or its certificates is escaped;
//! the page holds no script and loads nothing. Print it (or "save as PDF") from a browser.

use crate::html::escape;
use time::OffsetDateTime;

use super::reason::level_vi;
use super::text::{self, Language};
use super::verdict::{DocumentReport, Facet, SignatureReport, TimeSource};
use super::{Indication, Reason};

/// What the record says besides the report.
#[derive(Clone, Debug, Default)]
pub struct RecordFacts<'a> {
    /// The file's name as the clerk gave it, when known.
    pub file_name: Option<&'a str>,
}

/// The record as an HTML page.
pub fn html(report: &DocumentReport, facts: &RecordFacts<'_>) -> String {
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<title>Biên bản kiểm tra chữ ký số</title>\n<style>\n",
        "body{font-family:\"Times New Roman\",\"Liberation Serif\",serif;font-size:12pt;",
        "margin:2cm;color:#000}\n",
        "h1{font-size:15pt;text-align:center;margin:0}\n",
        "h2{font-size:13pt;margin:1.2em 0 .4em;border-bottom:1px solid #000}\n",
        ".en{color:#444;font-size:10pt}\n",
        "p.en{text-align:center;margin:0 0 1em}\n",
        "table{border-collapse:collapse;width:100%;margin:.3em 0}\n",
        "th,td{border:1px solid #888;padding:3px 6px;text-align:left;vertical-align:top}\n",
        "th{width:32%;font-weight:normal;background:#f2f2f2}\n",
        ".mono{font-family:\"DejaVu Sans Mono\",monospace;font-size:9.5pt;word-break:break-all}\n",
        "ul{margin:.2em 0;padding-left:1.4em}\n",
        "@media print{body{margin:1.5cm}}\n",
        "</style>\n</head>\n<body>\n",
        "<h1>BIÊN BẢN KIỂM TRA CHỮ KÝ SỐ</h1>\n",
        "<p class=\"en\" lang=\"en\">Signature verification record</p>\n",
    ));

    out.push_str(&heading("Tài liệu", "Document"));
    let mut rows = Vec::new();
    if let Some(name) = facts.file_name {
        rows.push(row("Tên tệp", "File", &escape(name)));
    }
    rows.push(row(
        "Định dạng",
        "Format",
        &escape(&report.format.to_uppercase()),
    ));
    rows.push(row(
        "Giá trị băm SHA-256 của tài liệu",
        "Document SHA-256",
        &format!("<span class=\"mono\">{}</span>", escape(&report.sha256)),
    ));
    rows.push(row(
        "Kết luận",
        "Verdict",
        &verdict(report.indication, report.sub_indication),
    ));
    rows.push(row(
        "Số chữ ký",
        "Signatures",
        &report.signatures.len().to_string(),
    ));
    if !report.reasons.is_empty() {
        rows.push(row("Lý do", "Reasons", &reasons(&report.reasons)));
    }
    out.push_str(&table(&rows));

    for (n, signature) in report.signatures.iter().enumerate() {
        out.push_str(&signature_part(n + 1, signature));
    }
    if let Some(package) = &report.package {
        out.push_str(&heading(
            "Tệp đính kèm của gói tin edXML",
            "edXML attachments",
        ));
        let rows: Vec<String> = package
            .attachments
            .iter()
            .enumerate()
            .map(|(n, a)| {
                let name = a.name.as_deref().or(a.content_id.as_deref()).unwrap_or("—");
                let value = match a.indication {
                    Some(i) => verdict(i, a.sub_indication),
                    None => both("không có chữ ký để kiểm tra", "no signature to check"),
                };
                row(
                    &format!("Tệp đính kèm {}: {}", n + 1, escape(name)),
                    &format!("Attachment {}", n + 1),
                    &value,
                )
            })
            .collect();
        out.push_str(&table(&rows));
        if !package.warnings.is_empty() {
            out.push_str(&table(&[row(
                "Lưu ý",
                "Notes",
                &reasons(&package.warnings),
            )]));
        }
    }

    out.push_str(&heading("Thông tin kiểm tra", "About this check"));
    out.push_str(&table(&[
        row(
            "Thời điểm kiểm tra",
            "Checked at",
            &format!(
                "{} <span class=\"en\">({})</span>",
                text::local_time(report.validated_at),
                escape(&rfc3339(report.validated_at))
            ),
        ),
        row(
            "Phần mềm kiểm tra",
            "Checked with",
            &format!(
                "kyso {} — ETSI EN 319 102-1",
                escape(env!("CARGO_PKG_VERSION"))
            ),
        ),
    ]));
    out.push_str("</body>\n</html>\n");
    out
}

fn signature_part(n: usize, s: &SignatureReport) -> String {
    let mut out = heading(&format!("Chữ ký {n}"), &format!("Signature {n}"));
    let mut rows = vec![
        row(
            "Kết luận",
            "Verdict",
            &verdict(s.indication, s.sub_indication),
        ),
        row("Trường chữ ký", "Field", &escape(&s.name)),
        row("Loại chữ ký", "Kind", &escape(&s.format)),
    ];
    if let Some(signer) = &s.signer {
        let optional = |rows: &mut Vec<String>, vi: &str, en: &str, value: &Option<String>| {
            if let Some(v) = value {
                rows.push(row(vi, en, &escape(v)));
            }
        };
        optional(&mut rows, "Người ký", "Signer", &signer.common_name);
        optional(&mut rows, "Chức danh", "Title", &signer.title);
        optional(&mut rows, "Đơn vị", "Unit", &signer.unit);
        optional(
            &mut rows,
            "Cơ quan, tổ chức",
            "Organisation",
            &signer.organization,
        );
        if signer.holder != crate::pki::identity::Holder::Unknown {
            rows.push(row(
                "Chủ thể chứng thư",
                "Certificate holder",
                &escape(&format!(
                    "{} / {}",
                    signer.holder.vietnamese(),
                    signer.holder.as_str()
                )),
            ));
        }
        // CMND/CCCD/HC/MST/MNS as the CA wrote them, personal numbers masked unless the
        // caller may read them (`pki::identity`).
        if !signer.identifiers.is_empty() {
            let shown: Vec<String> = signer.identifiers.iter().map(|i| i.labelled()).collect();
            rows.push(row(
                "Số định danh",
                "Identifiers",
                &escape(&shown.join(", ")),
            ));
        }
        rows.push(row(
            "Chủ thể chứng thư (tên phân biệt)",
            "Certificate subject",
            &escape(&signer.subject),
        ));
        rows.push(row(
            "Tổ chức cấp chứng thư",
            "Issuer",
            &escape(&signer.issuer),
        ));
        rows.push(row(
            "Số hiệu chứng thư",
            "Certificate serial",
            &format!("<span class=\"mono\">{}</span>", escape(&signer.serial)),
        ));
        rows.push(row(
            "SHA-256 của chứng thư",
            "Certificate SHA-256",
            &format!(
                "<span class=\"mono\">{}</span>",
                escape(&signer.certificate_sha256)
            ),
        ));
    }
    let time = match s.signing_time {
        Some(at) => format!(
            "{} — {}",
            text::local_time(at),
            match s.signing_time_source {
                Some(TimeSource::Timestamp) => both(
                    "theo dấu thời gian đã xác thực",
                    "from a verified timestamp",
                ),
                _ => both(
                    "do người ký khai, không được chứng minh",
                    "claimed by the signer, not proven",
                ),
            }
        ),
        None => both("không xác định", "unknown"),
    };
    rows.push(row("Thời gian ký", "Signing time", &time));
    if let Some(at) = s.timestamp_time {
        rows.push(row("Dấu thời gian", "Timestamp", &text::local_time(at)));
    }
    rows.push(row(
        "Tính toàn vẹn của nội dung",
        "Integrity",
        &facet(s.intact),
    ));
    rows.push(row(
        "Giá trị chữ ký",
        "Signature value",
        &facet(s.signature_valid),
    ));
    if let Some(algorithm) = &s.signature_algorithm {
        rows.push(row("Thuật toán", "Algorithm", &escape(algorithm)));
    }
    rows.push(row(
        "Chuỗi chứng thư tin cậy",
        "Trusted chain",
        &facet(s.trusted),
    ));
    if s.trusted == Facet::Passed
        && let Some(anchor) = s.chain.last()
    {
        rows.push(row(
            "Chứng thư gốc tin cậy",
            "Trust anchor",
            &escape(&anchor.subject),
        ));
    }
    rows.push(row(
        "Tình trạng thu hồi",
        "Revocation",
        &facet(s.revocation),
    ));
    rows.push(row(
        "Thay đổi sau khi ký",
        "Changes after signing",
        &format!(
            "{} — {}",
            facet(s.changes_permitted),
            both(
                level_vi(s.modification),
                super::reason::level_en(s.modification)
            )
        ),
    ));
    if !s.reasons.is_empty() {
        rows.push(row("Lý do", "Reasons", &reasons(&s.reasons)));
    }
    if !s.warnings.is_empty() {
        rows.push(row("Lưu ý", "Notes", &reasons(&s.warnings)));
    }
    out.push_str(&table(&rows));
    if !s.chain.is_empty() {
        out.push_str("<table>\n<tr><th>Chủ thể <span class=\"en\" lang=\"en\">Subject</span></th>");
        out.push_str("<th>Hiệu lực <span class=\"en\" lang=\"en\">Validity</span></th>");
        out.push_str("<th>Thu hồi <span class=\"en\" lang=\"en\">Revocation</span></th></tr>\n");
        for link in &s.chain {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"mono\">{} – {}</td><td>{}</td></tr>\n",
                escape(&link.subject),
                escape(&link.not_before),
                escape(&link.not_after),
                both(&link.revocation_vi, &link.revocation)
            ));
        }
        out.push_str("</table>\n");
    }
    out
}

fn verdict(indication: Indication, sub: Option<super::SubIndication>) -> String {
    let mut out = format!(
        "<strong>{}</strong><br><span class=\"en\" lang=\"en\">{}</span><br><span class=\"mono\">{}{}</span>",
        escape(text::indication(indication, Language::Vietnamese)),
        escape(text::indication(indication, Language::English)),
        indication.as_str(),
        sub.map(|s| format!(" / {}", s.as_str()))
            .unwrap_or_default()
    );
    if let Some(sub) = sub {
        out.push_str(&format!(
            "<br>{}",
            both(
                text::sub_indication(sub, Language::Vietnamese),
                text::sub_indication(sub, Language::English)
            )
        ));
    }
    out
}

fn facet(value: Facet) -> String {
    match value {
        Facet::Passed => both("đạt", "passed"),
        Facet::Failed => both("không đạt", "failed"),
        Facet::Undetermined => both("chưa xác định được", "undetermined"),
    }
}

fn reasons(list: &[Reason]) -> String {
    let items: String = list
        .iter()
        .map(|r| {
            format!(
                "<li>{}<br><span class=\"en\" lang=\"en\">{}</span></li>",
                escape(&r.vietnamese()),
                escape(&r.english())
            )
        })
        .collect();
    format!("<ul>{items}</ul>")
}

/// Vietnamese, then English in the second language's style.
fn both(vi: &str, en: &str) -> String {
    format!(
        "{} <span class=\"en\" lang=\"en\">({})</span>",
        escape(vi),
        escape(en)
    )
}

fn heading(vi: &str, en: &str) -> String {
    format!(
        "<h2>{} <span class=\"en\" lang=\"en\">{}</span></h2>\n",
        escape(vi),
        escape(en)
    )
}

/// A row whose labels are kyso's (escaped here) and whose value is already HTML.
fn row(vi: &str, en: &str, value_html: &str) -> String {
    format!(
        "<tr><th>{} <span class=\"en\" lang=\"en\">{}</span></th><td>{value_html}</td></tr>\n",
        escape(vi),
        escape(en)
    )
}

fn table(rows: &[String]) -> String {
    format!("<table>\n{}</table>\n", rows.concat())
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::verdict::{ChainLink, Signer, SubIndication};

    fn report() -> DocumentReport {
        let mut signature = SignatureReport::new("Chữ ký <1>".to_owned(), "PAdES-B-T");
        signature.fail(SubIndication::HashFailure, Reason::DigestMismatch);
        signature.intact = Facet::Failed;
        signature.signer = Some(Signer {
            common_name: Some("Nguyễn Văn <b>A</b>".to_owned()),
            title: Some("Giám đốc".to_owned()),
            unit: Some("Sở Tư pháp".to_owned()),
            organization: Some("UBND tỉnh Thử Nghiệm".to_owned()),
            subject: "C=VN, UID=CCCD:001099012345, CN=Nguyễn Văn A".to_owned(),
            issuer: "CN=CA phục vụ các cơ quan Nhà nước".to_owned(),
            serial: "1000".to_owned(),
            certificate_sha256: "ab".repeat(32),
            ..Signer::default()
        });
        signature.signing_time = Some(time::macros::datetime!(2026-03-01 03:00 UTC));
        signature.signing_time_source = Some(TimeSource::Timestamp);
        signature.chain = vec![ChainLink {
            subject: "CN=Nguyễn Văn A".to_owned(),
            issuer: "CN=CA".to_owned(),
            not_before: "2025-01-01T00:00:00Z".to_owned(),
            not_after: "2027-01-01T00:00:00Z".to_owned(),
            revocation: "good (crl)".to_owned(),
            revocation_vi: "chưa bị thu hồi (theo danh sách thu hồi CRL)".to_owned(),
            subject_whole: None,
        }];
        let mut report = DocumentReport {
            format: "pdf".to_owned(),
            sha256: "cd".repeat(32),
            indication: Indication::Indeterminate,
            sub_indication: None,
            reasons: Vec::new(),
            signatures: vec![signature],
            long_term: None,
            validated_at: time::macros::datetime!(2026-03-02 01:30 UTC),
            package: None,
            decree30: None,
        };
        report.summarise();
        report
    }

    #[test]
    fn the_record_shows_what_circular_15_asks_in_both_languages() {
        let page = html(
            &report(),
            &RecordFacts {
                file_name: Some("quyet-dinh.pdf"),
            },
        );
        for expected in [
            "BIÊN BẢN KIỂM TRA CHỮ KÝ SỐ",
            "quyet-dinh.pdf",
            &"cd".repeat(32),
            "KHÔNG HỢP LỆ",
            "TOTAL-FAILED / HASH_FAILURE",
            "Giám đốc",
            "UID=CCCD:001099012345",
            &"ab".repeat(32),
            "01/03/2026 10:00:00 (+07:00)",
            "theo dấu thời gian đã xác thực",
            "dữ liệu được ký đã bị thay đổi",
            "the signed bytes were changed",
            "chưa bị thu hồi (theo danh sách thu hồi CRL)",
            "02/03/2026 08:30:00 (+07:00)",
            concat!("kyso ", env!("CARGO_PKG_VERSION")),
        ] {
            assert!(
                page.contains(expected),
                "{expected:?} missing from the record"
            );
        }
        // Names from certificates and documents are text, never markup.
        assert!(page.contains("Nguyễn Văn &lt;b&gt;A&lt;/b&gt;"));
        assert!(page.contains("Chữ ký &lt;1&gt;"));
        assert!(!page.contains("<b>A"));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn a_document_without_signatures_says_so() {
        let mut report = report();
        report.signatures.clear();
        report.sub_indication = None;
        report.summarise();
        let page = html(&report, &RecordFacts::default());
        assert!(page.contains("SIGNED_DATA_NOT_FOUND"));
        assert!(page.contains("tài liệu không có chữ ký số"));
        assert!(!page.contains("Chữ ký 1"));
    }
}
