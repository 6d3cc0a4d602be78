//! Verdicts in plain words, Vietnamese first (the clerks' language), English on request.

use super::verdict::{DocumentReport, Indication, SignatureReport, SubIndication, TimeSource};

/// The language of the words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Vietnamese,
    English,
}

impl Language {
    /// From a locale such as `vi_VN.UTF-8` or `en_US`; Vietnamese unless it says English.
    pub fn from_locale(locale: &str) -> Language {
        if locale.to_ascii_lowercase().starts_with("en") {
            Language::English
        } else {
            Language::Vietnamese
        }
    }
}

/// One line summing up an indication.
pub fn indication(indication: Indication, language: Language) -> &'static str {
    match (indication, language) {
        (Indication::TotalPassed, Language::Vietnamese) => "HỢP LỆ — chữ ký số đúng và tin cậy",
        (Indication::TotalFailed, Language::Vietnamese) => "KHÔNG HỢP LỆ — chữ ký số bị từ chối",
        (Indication::Indeterminate, Language::Vietnamese) => {
            "CHƯA XÁC ĐỊNH — chưa đủ căn cứ để kết luận"
        }
        (Indication::TotalPassed, Language::English) => {
            "VALID — the signature is intact and trusted"
        }
        (Indication::TotalFailed, Language::English) => "INVALID — the signature is rejected",
        (Indication::Indeterminate, Language::English) => {
            "INDETERMINATE — not enough evidence to decide"
        }
    }
}

/// What a sub-indication means, in plain words.
pub fn sub_indication(sub: SubIndication, language: Language) -> &'static str {
    use Language::*;
    use SubIndication::*;
    match (sub, language) {
        (FormatFailure, Vietnamese) => {
            "tệp hoặc chữ ký không đúng định dạng, hoặc tài liệu bị sửa sau khi ký"
        }
        (FormatFailure, English) => {
            "the file or signature is malformed, or the document was changed after signing"
        }
        (HashFailure, Vietnamese) => "nội dung đã bị thay đổi sau khi ký",
        (HashFailure, English) => "the signed content was changed after signing",
        (SigCryptoFailure, Vietnamese) => "giá trị chữ ký không khớp với khóa của người ký",
        (SigCryptoFailure, English) => "the signature value does not match the signer's key",
        (Revoked, Vietnamese) => "chứng thư số đã bị thu hồi trước khi ký",
        (Revoked, English) => "the certificate was revoked before the signature was made",
        (RevokedNoPoe, Vietnamese) => {
            "chứng thư số đã bị thu hồi và không có dấu thời gian chứng minh ký trước đó"
        }
        (RevokedNoPoe, English) => {
            "the certificate is revoked and no timestamp proves the signature came earlier"
        }
        (Expired, Vietnamese) => "chứng thư số đã hết hạn khi ký",
        (Expired, English) => "the certificate had expired when the signature was made",
        (OutOfBoundsNoPoe, Vietnamese) => {
            "chứng thư số đã hết hạn và không có dấu thời gian chứng minh ký khi còn hạn"
        }
        (OutOfBoundsNoPoe, English) => {
            "the certificate has expired and no timestamp proves the signature came while it was valid"
        }
        (NotYetValid, Vietnamese) => "chứng thư số chưa có hiệu lực",
        (NotYetValid, English) => "the certificate is not yet valid",
        (NoCertificateChainFound, Vietnamese) => {
            "không tìm được chuỗi chứng thư đến tổ chức cung cấp dịch vụ tin cậy"
        }
        (NoCertificateChainFound, English) => {
            "no certificate chain to a trusted authority was found"
        }
        (ChainConstraintsFailure, Vietnamese) => {
            "chứng thư số không được phép dùng để ký văn bản hoặc chuỗi chứng thư không hợp lệ"
        }
        (ChainConstraintsFailure, English) => {
            "the certificate may not sign documents, or its chain breaks a rule"
        }
        (CryptoConstraintsFailure, Vietnamese) => "thuật toán hoặc độ dài khóa không còn an toàn",
        (CryptoConstraintsFailure, English) => {
            "the algorithm or key size is no longer considered secure"
        }
        (CryptoConstraintsFailureNoPoe, Vietnamese) => {
            "chữ ký còn nguyên vẹn nhưng dùng thuật toán hoặc độ dài khóa không còn được chấp nhận, và không có dấu thời gian chứng minh ký trước thời hạn đó"
        }
        (CryptoConstraintsFailureNoPoe, English) => {
            "the signature is intact but uses an algorithm or key size no longer accepted, and no timestamp proves it was made before that cut-off"
        }
        (SigConstraintsFailure, Vietnamese) => "chữ ký không đáp ứng chính sách kiểm tra",
        (SigConstraintsFailure, English) => "the signature does not meet the validation policy",
        (SignedDataNotFound, Vietnamese) => "không tìm thấy dữ liệu đã được ký",
        (SignedDataNotFound, English) => "the signed data was not found",
        (NoSigningCertificateFound, Vietnamese) => "không xác định được chứng thư số của người ký",
        (NoSigningCertificateFound, English) => "the signer's certificate could not be identified",
        (TryLater, Vietnamese) => "chưa kiểm tra được tình trạng thu hồi chứng thư (thử lại sau)",
        (TryLater, English) => "revocation status could not be established (try later)",
    }
}

/// A time as the clerks read it: `dd/MM/yyyy HH:mm:ss (+07:00)`, at UTC+7 whatever the offset
/// it was given in.
pub fn local_time(at: time::OffsetDateTime) -> String {
    format!(
        "{} (+07:00)",
        crate::pdf::appearance::format_signing_time(at)
    )
}

/// A string that came from a document (a field name, a signer's name, a reason quoting either)
/// made safe for a terminal: control characters (C0, DEL, C1) and the bidirectional overrides
/// that reorder what a reader sees are written as `\u{…}` escapes, so that a hostile document
/// cannot recolour, move the cursor over, or rewrite the verdict a clerk reads. JSON output
/// escapes control characters by itself.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A report as a few lines for a terminal.
pub fn render(report: &DocumentReport, language: Language) -> String {
    let vi = language == Language::Vietnamese;
    let mut out = String::new();
    out.push_str(&format!(
        "{}: {}\n",
        if vi { "Kết luận" } else { "Verdict" },
        indication(report.indication, language)
    ));
    // A document-level sub-indication (no signature, not a PDF) has no signature section to
    // explain it: say what it means here.
    if report.signatures.is_empty()
        && let Some(sub) = report.sub_indication
    {
        out.push_str(&format!("  {}\n", sub_indication(sub, language)));
    }
    for reason in &report.reasons {
        out.push_str(&format!("  - {}\n", shown(&reason.text(language))));
    }
    if report.signatures.is_empty() && report.reasons.is_empty() && report.package.is_none() {
        out.push_str(if vi {
            "  - không có chữ ký số\n"
        } else {
            "  - no signature\n"
        });
    }
    for (n, s) in report.signatures.iter().enumerate() {
        out.push_str(&signature_lines(n + 1, s, language));
    }
    if let Some(package) = &report.package {
        out.push_str(&package_lines(package, language));
    }
    out
}

/// An edXML package: what its header says, each attachment with its own verdict (indented), and
/// how the header compares with the signed content.
fn package_lines(package: &crate::edxml::PackageReport, language: Language) -> String {
    let vi = language == Language::Vietnamese;
    let header = &package.header;
    let none = if vi { "(không có)" } else { "(none)" };
    let organ = |o: &crate::edxml::Organ| {
        let name = o.organ_name.as_deref().unwrap_or(none);
        match &o.organ_id {
            Some(id) => format!("{} ({})", shown(name), shown(id)),
            None => shown(name).into_owned(),
        }
    };
    let mut out = format!(
        "
{}: {} {}, {} {}
",
        if vi {
            "Gói tin edXML"
        } else {
            "edXML package"
        },
        if vi { "số" } else { "number" },
        shown(&header.code.printed().unwrap_or_else(|| none.to_owned())),
        if vi { "ngày ban hành" } else { "promulgated" },
        shown(header.promulgation.date.as_deref().unwrap_or(none)),
    );
    out.push_str(&format!(
        "  {}: {}
  {}: {}
",
        if vi { "Nơi gửi" } else { "From" },
        organ(&header.from),
        if vi { "Nơi nhận" } else { "To" },
        header.to.iter().map(organ).collect::<Vec<_>>().join("; ")
    ));
    if let Some(subject) = &header.subject {
        out.push_str(&format!(
            "  {}: {}
",
            if vi { "Trích yếu" } else { "Subject" },
            shown(subject)
        ));
    }
    if let Some(name) = &header.signer.full_name {
        out.push_str(&format!(
            "  {}: {}{}
",
            if vi {
                "Người ký (theo tiêu đề)"
            } else {
                "Signer (per the header)"
            },
            shown(name),
            header
                .signer
                .position
                .as_deref()
                .map(|p| format!(", {}", shown(p)))
                .unwrap_or_default()
        ));
    }
    for warning in &package.warnings {
        out.push_str(&format!(
            "  ! {}: {}
",
            if vi { "lưu ý" } else { "note" },
            shown(&warning.text(language))
        ));
    }
    for (n, attachment) in package.attachments.iter().enumerate() {
        let name = attachment
            .name
            .as_deref()
            .or(attachment.content_id.as_deref())
            .unwrap_or(none);
        let verdict = match (attachment.indication, attachment.status) {
            (Some(i), _) => format!(
                "{} [{}{}]",
                indication(i, language),
                i.as_str(),
                attachment
                    .sub_indication
                    .map(|s| format!("/{}", s.as_str()))
                    .unwrap_or_default()
            ),
            (None, _) if vi => "không có chữ ký để kiểm tra (loại tệp không hỗ trợ)".to_owned(),
            (None, _) => "no signature to check (a file type kyso does not verify)".to_owned(),
        };
        out.push_str(&format!(
            "
{} {} ({}, {}): {verdict}
",
            if vi {
                "Tệp đính kèm"
            } else {
                "Attachment"
            },
            n + 1,
            shown(name),
            attachment.kind
        ));
        for reason in &attachment.reasons {
            out.push_str(&format!(
                "  - {}
",
                shown(&reason.text(language))
            ));
        }
        if let Some(report) = &attachment.report {
            for line in render(report, language).lines().skip(1) {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    if !package.checks.is_empty() {
        out.push_str(&format!(
            "
{}
",
            if vi {
                "Đối chiếu tiêu đề với nội dung đã ký:"
            } else {
                "The header against the signed content:"
            }
        ));
    }
    for check in &package.checks {
        let field = match (check.field, vi) {
            ("number", true) => "số, ký hiệu",
            ("number", false) => "number",
            ("promulgation_date", true) => "ngày ban hành",
            ("promulgation_date", false) => "promulgation date",
            ("signer_name", true) => "người ký",
            ("signer_name", false) => "signer",
            ("signer_position", true) => "chức vụ",
            ("signer_position", false) => "position",
            (other, _) => other,
        };
        let outcome = match (check.outcome, vi) {
            (crate::edxml::CheckOutcome::Match, true) => "khớp",
            (crate::edxml::CheckOutcome::Match, false) => "matches",
            (crate::edxml::CheckOutcome::Mismatch, true) => "KHÔNG KHỚP",
            (crate::edxml::CheckOutcome::Mismatch, false) => "DOES NOT MATCH",
            (crate::edxml::CheckOutcome::NotFound, true) => "không có gì để đối chiếu",
            (crate::edxml::CheckOutcome::NotFound, false) => "nothing to compare with",
        };
        out.push_str(&format!(
            "  * {field} {:?}: {outcome}",
            shown(&check.header)
        ));
        if let (Some(found), Some(source)) = (&check.found, &check.source) {
            out.push_str(&format!(" ({:?}, {})", shown(found), shown(source)));
        }
        out.push('\n');
    }
    out
}

/// `Chức vụ: Giám đốc · cá nhân · CCCD:********7890`: what the certificate says of its holder
/// (Decree 23/2025/NĐ-CP: an official's certificate names the position); empty when it says
/// nothing.
fn signer_identity_line(signer: &crate::verify::Signer, language: Language) -> String {
    let vi = language == Language::Vietnamese;
    let mut parts = Vec::new();
    if let Some(title) = &signer.title {
        parts.push(format!(
            "{} {}",
            if vi { "chức vụ" } else { "title" },
            shown(title)
        ));
    }
    if signer.holder != crate::pki::identity::Holder::Unknown {
        parts.push(if vi {
            signer.holder.vietnamese().to_owned()
        } else {
            signer.holder.as_str().to_owned()
        });
    }
    parts.extend(
        signer
            .identifiers
            .iter()
            .map(|i| shown(&i.labelled()).into_owned()),
    );
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "  {}: {}\n",
        if vi { "Chủ thể" } else { "Holder" },
        parts.join(" · ")
    )
}

fn signature_lines(n: usize, s: &SignatureReport, language: Language) -> String {
    let vi = language == Language::Vietnamese;
    let mut out = format!(
        "\n{} {n} ({}, {}): {} [{}{}]\n",
        if vi { "Chữ ký" } else { "Signature" },
        shown(&s.name),
        shown(&s.format),
        indication(s.indication, language),
        s.indication.as_str(),
        s.sub_indication
            .map(|x| format!("/{}", x.as_str()))
            .unwrap_or_default(),
    );
    if let Some(sub) = s.sub_indication {
        out.push_str(&format!("  {}\n", sub_indication(sub, language)));
    }
    if let Some(signer) = &s.signer {
        out.push_str(&format!(
            "  {}: {}{}\n",
            if vi { "Người ký" } else { "Signer" },
            shown(signer.common_name.as_deref().unwrap_or(&signer.subject)),
            signer
                .unit
                .as_deref()
                .or(signer.organization.as_deref())
                .map(|u| format!(" — {}", shown(u)))
                .unwrap_or_default()
        ));
        out.push_str(&signer_identity_line(signer, language));
        out.push_str(&format!(
            "  {}: {}\n",
            if vi { "Cấp bởi" } else { "Issued by" },
            shown(&signer.issuer)
        ));
    }
    // Which national hierarchy the chain reached (an agency receives both for years).
    if let Some(anchor) = &s.trust_anchor {
        let hierarchy = if vi {
            anchor.hierarchy_name_vi
        } else {
            anchor.hierarchy_name
        };
        out.push_str(&format!(
            "  {}: {}\n",
            if vi {
                "Gốc tin cậy"
            } else {
                "Trust anchor"
            },
            hierarchy.map_or_else(|| shown(&anchor.subject), std::borrow::Cow::Borrowed)
        ));
    }
    if let Some(at) = s.signing_time {
        out.push_str(&format!(
            "  {}: {}{}\n",
            if vi { "Thời gian ký" } else { "Signed at" },
            local_time(at),
            match (s.signing_time_source, vi) {
                (Some(TimeSource::Timestamp), true) => ", theo dấu thời gian",
                (Some(TimeSource::Timestamp), false) => ", from a timestamp",
                (_, true) => ", do người ký khai",
                (_, false) => ", as claimed by the signer",
            }
        ));
    }
    for reason in &s.reasons {
        out.push_str(&format!("  - {}\n", shown(&reason.text(language))));
    }
    for warning in &s.warnings {
        out.push_str(&format!(
            "  ! {}: {}\n",
            if vi { "lưu ý" } else { "note" },
            shown(&warning.text(language))
        ));
    }
    // Twenty lines name the changes a clerk needs to see; the JSON report lists them all.
    for change in s.changes.iter().take(20) {
        out.push_str(&format!(
            "  * {} {} {}{}: {}\n",
            if vi {
                "thay đổi sau khi ký"
            } else {
                "changed after signing"
            },
            change.object,
            match (change.kind, vi) {
                ("added", true) => "được thêm",
                ("modified", true) => "bị sửa",
                ("deleted", true) => "bị xóa",
                (kind, _) => kind,
            },
            change
                .page
                .map(|p| format!(" ({} {p})", if vi { "trang" } else { "page" }))
                .unwrap_or_default(),
            if vi { change.rule_vi } else { change.rule }
        ));
    }
    if s.changes.len() > 20 {
        out.push_str(&format!(
            "  * … {} {}\n",
            s.changes.len() - 20,
            if vi {
                "thay đổi khác"
            } else {
                "more changes"
            }
        ));
    }
    out
}
