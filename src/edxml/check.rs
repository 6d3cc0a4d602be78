//! The header against what the attachments' signatures signed: a package whose header names
//! one document and carries another (a valid signed PDF of decision 124 under the header of
//! decision 123) must not read as TOTAL-PASSED, whatever its signatures say.
//!
//! What is compared, and with what (only what an intact signature covers counts, so that
//! nothing an attacker adds after signing can satisfy a check):
//! - `number` (`Code/CodeNumber` + `/` + `CodeNotation`, as a document prints it after
//!   "Số:") and `promulgation_date` (`PromulgationInfo/PromulgationDate`): with each intact
//!   PDF signature's `/Reason`, and with the document information dictionary (`/Title`,
//!   `/Subject`, `/Keywords`) of the revision that signature signed. A number matches when
//!   it appears there as a word; it is contradicted when a labelled number (`Số: 124/QĐ-UBND`,
//!   `số 124/QĐ-UBND`, `No. 124/…`) says another. A date matches or is contradicted by the
//!   dates those texts label "ngày" (`ngày 15 tháng 3 năm 2026`, `ngày 15/03/2026`), the forms
//!   Decree 30/2020/NĐ-CP Appendix I prints. Kyso does not read the stamp's drawn text: the
//!   stamps kyso and the common Vietnamese tools draw (Decree 30's layout) carry the signer,
//!   unit and time, not the number, and their time is the signing time, which may differ from
//!   the promulgation date.
//! - `signer_name` (`SignerInfo/FullName`): with the common names of the certificates of the
//!   intact signatures in the attachments; `signer_position` (`SignerInfo/Position`): with the
//!   `title` attribute of that signer's certificate, where it has one.
//!
//! Text is compared after Unicode NFC and lower-casing (Vietnamese names reach kyso precomposed
//! or not, in any case), with white space collapsed and the spaces around `/` dropped.
//! A field the attachments say nothing about is `not_found`: not checked, no finding.

use unicode_normalization::UnicodeNormalization;

use super::header::{Header, parse_date};
use super::report::{CheckOutcome, HeaderCheck};
use crate::pdf::{self, Document, SignatureKind};
use crate::verify::{DocumentReport, Facet, Signer};

/// A text an intact signature covers, and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedText {
    pub source: String,
    pub text: String,
}

/// A signer of an intact attachment signature, and which attachment.
#[derive(Clone, Debug)]
pub struct SignedBy {
    pub source: String,
    pub signer: Signer,
}

/// The texts of a PDF attachment that its intact signatures cover: each signature's `/Reason`,
/// and the document information of the revision it signed. `label` names the attachment in
/// the sources.
pub fn pdf_texts(bytes: &[u8], report: &DocumentReport, label: &str) -> Vec<SignedText> {
    let mut texts: Vec<SignedText> = Vec::new();
    let Ok(doc) = Document::parse(bytes) else {
        return texts;
    };
    let Ok(found) = pdf::find_signatures(&doc) else {
        return texts;
    };
    for signature in found.iter().filter(|s| s.kind == SignatureKind::Signature) {
        let name = signature.name();
        let intact = report.signatures.iter().any(|s| {
            s.name == name && s.intact == Facet::Passed && s.signature_valid == Facet::Passed
        });
        if !intact {
            continue;
        }
        let Some(end) = revision_end(&signature.dictionary, bytes.len()) else {
            continue;
        };
        let Ok(signed) = Document::parse(&bytes[..end]) else {
            continue;
        };
        let text_of = |object: Option<&pdf::Object>| {
            object
                .and_then(|o| signed.resolve(o).ok())
                .and_then(|o| o.as_string().map(pdf::decode_text_string))
                .filter(|t| !t.trim().is_empty())
        };
        if let Ok(dictionary) = signed.dictionary(signature.id)
            && let Some(reason) = text_of(dictionary.get(b"Reason"))
        {
            texts.push(SignedText {
                source: format!("{label} › {name} › /Reason"),
                text: reason,
            });
        }
        let info = signed
            .trailer()
            .get(b"Info")
            .and_then(|i| signed.resolve(i).ok());
        if let Some(info) = info.as_ref().and_then(pdf::Object::as_dict) {
            for key in ["Title", "Subject", "Keywords"] {
                let Some(text) = text_of(info.get(key.as_bytes())) else {
                    continue;
                };
                // The same information signed again by a later signature is one fact.
                if texts
                    .iter()
                    .any(|t| t.text == text && t.source.ends_with(key))
                {
                    continue;
                }
                texts.push(SignedText {
                    source: format!("{label} › {name} › /Info /{key}"),
                    text,
                });
            }
        }
    }
    texts
}

/// The end of the revision a signature's `/ByteRange [a b c d]` covers: `c + d`, within the file.
fn revision_end(signature: &pdf::Dictionary, len: usize) -> Option<usize> {
    let range = signature.get(b"ByteRange")?.as_array()?;
    let [_, _, c, d] = range else {
        return None;
    };
    let end = usize::try_from(c.as_integer()?)
        .ok()?
        .checked_add(usize::try_from(d.as_integer()?).ok()?)?;
    (end <= len).then_some(end)
}

/// Compares the header with the signed texts and signers (see the module documentation). Only
/// fields the header states are checked.
pub fn check(header: &Header, texts: &[SignedText], signers: &[SignedBy]) -> Vec<HeaderCheck> {
    let mut checks = Vec::new();
    if let Some(number) = header.code.printed() {
        checks.push(check_number(&number, texts));
    }
    if let Some(date) = header.promulgation.date.as_deref() {
        checks.push(check_date(date, texts));
    }
    if let Some(name) = header.signer.full_name.as_deref() {
        let (check, matched) = check_signer(name, signers);
        checks.push(check);
        if let Some(position) = header.signer.position.as_deref() {
            checks.push(check_position(position, matched));
        }
    }
    checks
}

fn check_number(number: &str, texts: &[SignedText]) -> HeaderCheck {
    let wanted = normalise(number);
    let mut check = HeaderCheck {
        field: "number",
        header: number.to_owned(),
        outcome: CheckOutcome::NotFound,
        found: None,
        source: None,
    };
    for text in texts {
        let normalised = normalise(&text.text);
        if words(&normalised).iter().any(|w| trim_word(w) == wanted) {
            check.outcome = CheckOutcome::Match;
            check.found = Some(number.to_owned());
            check.source = Some(text.source.clone());
            return check;
        }
    }
    // No text names the header's number: one that labels another contradicts it.
    for text in texts {
        let normalised = normalise(&text.text);
        if let Some(other) = labelled_numbers(&words(&normalised)).into_iter().next() {
            check.outcome = CheckOutcome::Mismatch;
            check.found = Some(other);
            check.source = Some(text.source.clone());
            return check;
        }
    }
    check
}

fn check_date(date: &str, texts: &[SignedText]) -> HeaderCheck {
    let mut check = HeaderCheck {
        field: "promulgation_date",
        header: date.to_owned(),
        outcome: CheckOutcome::NotFound,
        found: None,
        source: None,
    };
    let Some(wanted) = parse_date(date) else {
        return check;
    };
    let mut contradiction = None;
    for text in texts {
        let normalised = normalise(&text.text);
        for found in labelled_dates(&words(&normalised)) {
            if found == wanted {
                check.outcome = CheckOutcome::Match;
                check.found = Some(vietnamese_date(found));
                check.source = Some(text.source.clone());
                return check;
            }
            contradiction.get_or_insert((found, text.source.clone()));
        }
    }
    if let Some((found, source)) = contradiction {
        check.outcome = CheckOutcome::Mismatch;
        check.found = Some(vietnamese_date(found));
        check.source = Some(source);
    }
    check
}

/// The signer check, and the certificate that matched (for the position).
fn check_signer<'s>(name: &str, signers: &'s [SignedBy]) -> (HeaderCheck, Option<&'s SignedBy>) {
    let mut check = HeaderCheck {
        field: "signer_name",
        header: name.to_owned(),
        outcome: CheckOutcome::NotFound,
        found: None,
        source: None,
    };
    let wanted = normalise(name);
    if let Some(signed) = signers.iter().find(|s| {
        s.signer
            .common_name
            .as_deref()
            .is_some_and(|cn| normalise(cn) == wanted)
    }) {
        check.outcome = CheckOutcome::Match;
        check.found.clone_from(&signed.signer.common_name);
        check.source = Some(signed.source.clone());
        return (check, Some(signed));
    }
    if let Some(first) = signers.iter().find(|s| s.signer.common_name.is_some()) {
        check.outcome = CheckOutcome::Mismatch;
        check.found = Some(
            signers
                .iter()
                .filter_map(|s| s.signer.common_name.clone())
                .collect::<Vec<_>>()
                .join("; "),
        );
        check.source = Some(first.source.clone());
    }
    (check, None)
}

fn check_position(position: &str, signer: Option<&SignedBy>) -> HeaderCheck {
    let mut check = HeaderCheck {
        field: "signer_position",
        header: position.to_owned(),
        outcome: CheckOutcome::NotFound,
        found: None,
        source: None,
    };
    let Some((signed, title)) = signer.and_then(|s| s.signer.title.as_deref().map(|t| (s, t)))
    else {
        return check;
    };
    check.outcome = if normalise(title) == normalise(position) {
        CheckOutcome::Match
    } else {
        CheckOutcome::Mismatch
    };
    check.found = Some(title.to_owned());
    // The certificate's title attribute (2.5.4.12), named by its OID: a source is a locator in no
    // language, shown as it is on the Vietnamese and the English page.
    check.source = Some(format!("{} › 2.5.4.12", signed.source));
    check
}

/// NFC, lower case (NFC again: lower-casing may decompose), white space collapsed, no spaces
/// around `/`.
pub fn normalise(text: &str) -> String {
    let lower: String = text
        .nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect();
    let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.replace(" /", "/").replace("/ ", "/")
}

/// Words of normalised text: split at white space and at the punctuation that surrounds a
/// number or a date in running text (`,` `;` `:` `(` `)` `"` `«` `»`); `/`, `-` and `.` stay,
/// as they are part of numbers, symbols and dates.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '«' | '»' | '“' | '”')
    })
    .filter(|w| !w.is_empty())
    .collect()
}

/// A word without the sentence punctuation that may follow it.
fn trim_word(word: &str) -> &str {
    word.trim_end_matches(['.', '-', '/'])
}

/// Document numbers a text labels as such: the word after `số`, `so`, `no`, `no.` or `number`
/// that starts with a digit, has a `/`, and a letter after it (`124/QĐ-UBND`, `30/2020/NĐ-CP`;
/// not a date such as `15/03/2026`).
fn labelled_numbers(words: &[&str]) -> Vec<String> {
    words
        .windows(2)
        .filter(|w| matches!(w[0], "số" | "so" | "no" | "no." | "number"))
        .map(|w| trim_word(w[1]))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .filter(|w| {
            w.split_once('/')
                .is_some_and(|(_, symbol)| symbol.chars().any(char::is_alphabetic))
        })
        .map(str::to_owned)
        .collect()
}

/// Dates a text labels `ngày`: `ngày 15 tháng 3 năm 2026` (with or without diacritics) and
/// `ngày 15/03/2026` or `ngày 15-03-2026`.
fn labelled_dates(words: &[&str]) -> Vec<time::Date> {
    let number = |w: &str| trim_word(w).parse::<u16>().ok();
    let mut dates = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if !matches!(*word, "ngày" | "ngay") {
            continue;
        }
        let rest = &words[i + 1..];
        let parts = match rest {
            [d, month, m, year, y, ..]
                if matches!(*month, "tháng" | "thang") && matches!(*year, "năm" | "nam") =>
            {
                (number(d), number(m), number(y))
            }
            [dmy, ..] => {
                let parts: Vec<&str> = trim_word(dmy).split(['/', '-']).collect();
                match parts.as_slice() {
                    [d, m, y] if y.len() == 4 => (number(d), number(m), number(y)),
                    _ => continue,
                }
            }
            [] => continue,
        };
        if let (Some(d), Some(m), Some(y)) = parts
            && let Ok(month) = time::Month::try_from(u8::try_from(m).unwrap_or(0))
            && let Ok(date) =
                time::Date::from_calendar_date(i32::from(y), month, u8::try_from(d).unwrap_or(0))
        {
            dates.push(date);
        }
    }
    dates
}

/// `ngày 15 tháng 3 năm 2026`.
fn vietnamese_date(date: time::Date) -> String {
    format!(
        "ngày {} tháng {} năm {}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Vec<SignedText> {
        vec![SignedText {
            source: "cid:1, signature Signature1: /Reason".to_owned(),
            text: t.to_owned(),
        }]
    }

    #[test]
    fn numbers_match_as_words_and_labelled_ones_contradict() {
        let check = check_number(
            "123/QĐ-UBND",
            &text("Ban hành Quyết định số 123 / qđ-ubnd."),
        );
        assert_eq!(check.outcome, CheckOutcome::Match);
        // Decomposed input (NFD) is the same text.
        let nfd: String = "Số: 123/QĐ-UBND".nfd().collect();
        assert_eq!(
            check_number("123/QĐ-UBND", &text(&nfd)).outcome,
            CheckOutcome::Match
        );
        let check = check_number("123/QĐ-UBND", &text("Quyết định số 124/QĐ-UBND"));
        assert_eq!(check.outcome, CheckOutcome::Mismatch);
        assert_eq!(check.found.as_deref(), Some("124/qđ-ubnd"));
        // A prefix or an extension is another number.
        assert_eq!(
            check_number("23/QĐ-UBND", &text("Số: 123/QĐ-UBND")).outcome,
            CheckOutcome::Mismatch
        );
        // A cited decree is no document number; a date is no number either.
        assert_eq!(
            check_number(
                "123/QĐ-UBND",
                &text("Căn cứ Nghị định 30/2020/NĐ-CP ngày 05/03/2020")
            )
            .outcome,
            CheckOutcome::NotFound
        );
    }

    #[test]
    fn dates_are_read_in_the_forms_documents_print() {
        for t in [
            "Hà Nội, ngày 15 tháng 3 năm 2026",
            "Ha Noi, ngay 15 thang 03 nam 2026",
            "ban hành ngày 15/03/2026.",
        ] {
            assert_eq!(
                check_date("2026/03/15", &text(t)).outcome,
                CheckOutcome::Match,
                "{t}"
            );
        }
        let check = check_date("2026/03/15", &text("ngày 16 tháng 3 năm 2026"));
        assert_eq!(check.outcome, CheckOutcome::Mismatch);
        assert_eq!(check.found.as_deref(), Some("ngày 16 tháng 3 năm 2026"));
        assert_eq!(
            check_date("2026/03/15", &text("Thời gian ký: 16/03/2026 10:00:00")).outcome,
            CheckOutcome::NotFound,
            "a stamp's signing time is no promulgation date"
        );
    }

    #[test]
    fn signer_names_compare_without_case_or_normal_form() {
        let signer = |cn: &str, title: Option<&str>| SignedBy {
            source: "cid:1, signature Signature1".to_owned(),
            signer: Signer {
                common_name: Some(cn.to_owned()),
                title: title.map(str::to_owned),
                ..Signer::default()
            },
        };
        let signers = [
            signer("UBND TỈNH THỬ NGHIỆM", None),
            signer(&"NGUYỄN VĂN AN".nfd().collect::<String>(), Some("Chủ tịch")),
        ];
        let (check, matched) = check_signer("Nguyễn Văn An", &signers);
        assert_eq!(check.outcome, CheckOutcome::Match);
        assert_eq!(
            check_position("CHỦ TỊCH", matched).outcome,
            CheckOutcome::Match
        );
        assert_eq!(
            check_position("Phó Chủ tịch", matched).outcome,
            CheckOutcome::Mismatch
        );
        let (check, matched) = check_signer("Trần Thị Bình", &signers);
        assert_eq!(check.outcome, CheckOutcome::Mismatch);
        assert_eq!(
            check_position("Chủ tịch", matched).outcome,
            CheckOutcome::NotFound
        );
        assert_eq!(check_signer("Ai", &[]).0.outcome, CheckOutcome::NotFound);
    }
}
