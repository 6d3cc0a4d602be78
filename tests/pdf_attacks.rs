//! The attack classes of the PDF-insecurity research (pdf-insecurity.org; Mladenov et al., "1
//! Trillion Dollar Refund", CCS 2019; Mainka et al., "Shadow Attacks", NDSS 2021; Rohlmann et
//! al., "Breaking the Specification: PDF Certification", S&P 2021), each generated here from a
//! kyso-signed sample with kyso's own object model and incremental updates — no attack file
//! without its recipe — and each rejected with the reason that names it.
//!
//! Every test prints one line per signature: class, signature, indication, sub-indication and
//! the rules that named the changes, so that a run shows what kyso says about each attack.

use std::sync::Arc;

use kyso::pdf::diff::FieldLock;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{
    Appearance, Dictionary, DocMdp, Document, Font, IncrementalUpdate, Location, Object, ObjectId,
    Rect, SignatureOptions, Stream, StringFormat, VisibleSignature, contents_span, find_signatures,
    text_string,
};
use kyso::token::KeyAlgorithm;
use kyso::verify::{
    DocumentReport, Facet, Indication, ModificationLevel, SignatureReport, SubIndication,
};

use crate::support::Signing;

#[test]
fn universal_signature_forgery_is_a_format_failure() {
    let signing = Signing::new(KeyAlgorithm::P256, "Nguyễn Văn Thật");
    let plain = sample_pdf(&SampleOptions::default());
    let signed = sign(&signing, &plain, |_| {});
    let verifier = signing.verifier();
    // The CMS an attacker copies from any signed document.
    let stolen_cms = signature_dictionary(&signed)
        .1
        .get(b"Contents")
        .cloned()
        .unwrap();

    let mut lines = Vec::new();
    for variant in Usf::ALL {
        // A fresh signature field whose dictionary is forged: no valid signature at all.
        let forged = append_signature_field(&plain, |dict| {
            dict.set(b"Contents", stolen_cms.clone());
            variant.apply(dict);
        });
        let report = verifier.verify(&forged);
        lines.push(show(
            &format!("USF {} (forged field)", variant.name()),
            &report,
        ));
        assert_rejected_as_format_failure(&report, variant.name());

        // The dictionary of a real kyso signature rewritten in a later revision.
        let (id, original) = signature_dictionary(&signed);
        let rewritten = update(&signed, |_, update| {
            let mut dict = original.clone();
            variant.apply(&mut dict);
            update.put(id, dict);
        });
        let report = verifier.verify(&rewritten);
        lines.push(show(
            &format!("USF {} (rewritten)", variant.name()),
            &report,
        ));
        let sig = only_signature(&report);
        assert_eq!(
            (sig.indication, sig.sub_indication),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
            "{}: {sig:#?}",
            variant.name()
        );
        assert!(
            sig.changes
                .iter()
                .any(|c| c.rule == "signature dictionary rewritten"),
            "{}: {:#?}",
            variant.name(),
            sig.changes
        );
    }
    print(&lines);
}

#[test]
fn signature_dictionary_spoofing_is_reported_and_the_signed_dictionary_is_verified() {
    let signing = Signing::new(KeyAlgorithm::P256, "Ngô Văn Thực");
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()), |o| {
        o.reason = Some("Phê duyệt".to_owned())
    });
    let verifier = signing.verifier();
    let (id, original) = signature_dictionary(&signed);
    let mut lines = Vec::new();

    // /Reason and /M replaced in a later revision (DSS's pades-spoofing-replaced-reason).
    let respoken = update(&signed, |_, update| {
        let mut dict = original.clone();
        dict.set(b"Reason", text_string("Từ chối"));
        dict.set(b"M", Object::literal(b"D:20200101000000+07'00'".to_vec()));
        update.put(id, dict);
    });
    let report = verifier.verify(&respoken);
    lines.push(show(
        "signature dictionary: /Reason and /M replaced",
        &report,
    ));
    let sig = only_signature(&report);
    assert_disallowed(sig, id, "signature dictionary rewritten");
    assert!(
        sig.reasons
            .iter()
            .any(|r| r.to_string().contains("/Reason") && r.to_string().contains("/M")),
        "{:#?}",
        sig.reasons
    );
    // The time shown is the one signed, not the one written later.
    assert_ne!(sig.signing_time.map(|t| t.year()), Some(2020));

    // A shadow: the field re-pointed at a copy of the dictionary added later. The copy's
    // /Contents is not where its /ByteRange says; the original, which no field holds now, is
    // still verified as signed and reports the change to its field.
    let field = {
        let doc = Document::parse(&signed).unwrap();
        find_signatures(&doc).unwrap()[0].fields[0]
    };
    let shadowed = update(&signed, |doc, update| {
        let shadow = update.allocate();
        let mut copy = original.clone();
        copy.set(b"Reason", text_string("Từ chối"));
        update.put(shadow, copy);
        let mut widget = doc.dictionary(field).unwrap();
        widget.set(b"V", shadow);
        update.put(field, widget);
    });
    let report = verifier.verify(&shadowed);
    lines.push(show("shadow signature dictionary", &report));
    assert_eq!(report.signatures.len(), 2, "{report:#?}");
    let original_report = report
        .signatures
        .iter()
        .find(|s| s.name == id.to_string())
        .expect("the signed dictionary is still verified");
    assert_disallowed(original_report, field, kyso::pdf::diff::UNEXPLAINED);
    let shadow_report = report
        .signatures
        .iter()
        .find(|s| s.name == "Signature1")
        .expect("the field's shadow");
    assert_eq!(
        shadow_report.sub_indication,
        Some(SubIndication::FormatFailure),
        "{shadow_report:#?}"
    );
    print(&lines);
}

/// Not an attack: a signature dictionary written first as an unsigned placeholder and signed in
/// a later revision under the same object number is verified as the version its byte range
/// covers.
#[test]
fn a_placeholder_signed_in_a_later_revision_is_verified() {
    let signing = Signing::new(KeyAlgorithm::P256, "Đinh Văn Sau");
    let size = kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB);
    let zeros = Object::String(vec![0; size], StringFormat::Hex);
    let prepared = append_signature_field(&sample_pdf(&SampleOptions::default()), |dict| {
        dict.set(b"Contents", zeros.clone());
    });
    let id = {
        let doc = Document::parse(&prepared).unwrap();
        find_signatures(&doc).unwrap()[0].id
    };
    let verifier = signing.verifier();
    let report = verifier.verify(&prepared);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::SignedDataNotFound),
        "a placeholder is not a signature: {report:#?}"
    );
    let mut signed = update(&prepared, |doc, update| {
        let mut dict = doc.dictionary(id).unwrap();
        dict.set(
            b"ByteRange",
            Object::Array(vec![
                0i64.into(),
                9_999_999_999i64.into(),
                9_999_999_999i64.into(),
                9_999_999_999i64.into(),
            ]),
        );
        update.put(id, dict);
    });
    fix_byte_range(&mut signed, id);
    let (start, end) = contents_span(&Document::parse(&signed).unwrap(), id).unwrap();
    let digest = {
        let mut hasher = kyso::signer::DigestAlgorithm::Sha256.hasher();
        hasher.update(&signed[..start]);
        hasher.update(&signed[end..]);
        hasher.finish()
    };
    let cms = kyso::cms::SignedCms::sign(&signing.identity(), &digest)
        .unwrap()
        .to_der();
    let hex = hex::encode_upper(&cms);
    signed[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    let report = verifier.verify(&signed);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
}

#[test]
fn incremental_saving_attack_reports_the_disallowed_change() {
    let signing = Signing::new(KeyAlgorithm::Rsa2048, "Trần Văn Ký");
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()), |_| {});
    let verifier = signing.verifier();
    assert_eq!(verifier.verify(&signed).indication, Indication::TotalPassed);
    let mut lines = Vec::new();

    // ISA 1: the page's content replaced by an incremental update.
    let content = page_content(&signed);
    let isa = update(&signed, |_, update| {
        update.put(content, text_stream("So tien: 999.000.000 dong"));
    });
    let report = verifier.verify(&isa);
    lines.push(show("ISA content replaced", &report));
    let sig = only_signature(&report);
    assert_disallowed(sig, content, kyso::pdf::diff::UNEXPLAINED);
    assert_eq!(
        sig.changes
            .iter()
            .find(|c| c.object == content.to_string())
            .and_then(|c| c.page),
        Some(1),
        "the page is named"
    );

    // ISA 3: the new content appended as bare object bytes, with no cross-reference update at
    // all (or with one that the last startxref does not name): readers that repair files show
    // it, a reader that follows the cross-reference chain does not.
    let mut bare = signed.clone();
    bare.extend_from_slice(
        format!(
            "{} 0 obj\n<</Length 56>>\nstream\nBT /F1 14 Tf 72 770 Td (So tien: 999.000.000 dong) Tj ET\nendstream\nendobj\n",
            content.number
        )
        .as_bytes(),
    );
    let report = verifier.verify(&bare);
    lines.push(show("ISA objects without cross-reference data", &report));
    assert_disallowed(
        only_signature(&report),
        content,
        "object written after signing outside the cross-reference data",
    );
    let mut unnamed = isa.clone();
    let startxref = find_last(&unnamed, b"startxref").unwrap();
    let previous = Document::parse(&signed)
        .unwrap()
        .last_startxref()
        .to_string();
    let tail = format!("startxref\n{previous}\n%%EOF\n");
    unnamed.truncate(startxref);
    unnamed.extend_from_slice(tail.as_bytes());
    let report = verifier.verify(&unnamed);
    lines.push(show("ISA update the last startxref skips", &report));
    assert_disallowed(
        only_signature(&report),
        content,
        "object written after signing outside the cross-reference data",
    );

    // ISA 2: the same, with a fake signature dictionary appended that claims to cover the new
    // revision (with the stolen CMS): viewers that look only at the last signature are fooled.
    let stolen_cms = signature_dictionary(&signed)
        .1
        .get(b"Contents")
        .cloned()
        .unwrap();
    let with_fake = append_signature_field(&isa, |dict| {
        dict.set(b"Contents", stolen_cms.clone());
    });
    let report = verifier.verify(&with_fake);
    lines.push(show("ISA with a fake signature", &report));
    assert_eq!(report.signatures.len(), 2);
    assert_disallowed(&report.signatures[0], content, kyso::pdf::diff::UNEXPLAINED);
    assert_eq!(
        report.signatures[1].sub_indication,
        Some(SubIndication::HashFailure),
        "the fake signature's digest is not the new revision's: {:#?}",
        report.signatures[1]
    );
    print(&lines);
}

/// The walks over every object read only streams' dictionaries (issue 22: a 75 KB letter's
/// image is not copied to find its references), but the comparison of what changed reads
/// whole objects: a later revision that rewrites a stream with the same dictionary (same
/// `/Length`) and other bytes is still a change, on a page, that no rule permits; and so is
/// the padding image of a letter rewritten byte for byte.
#[test]
fn a_stream_rewritten_with_only_its_data_changed_is_a_change() {
    let signing = Signing::new(KeyAlgorithm::P256, "Trần Văn Ký");
    let letter = sample_pdf(&SampleOptions {
        pad_to: 60_000,
        ..SampleOptions::default()
    });
    let signed = sign(&signing, &letter, |_| {});
    let verifier = signing.verifier();
    assert_eq!(verifier.verify(&signed).indication, Indication::TotalPassed);
    let doc = Document::parse(&signed).unwrap();
    let content = page_content(&signed);
    let Object::Stream(original) = doc.object(content).unwrap() else {
        panic!("the page's content is a stream")
    };
    let at = find(&original.data, b"UY BAN").expect("the letter's first line");
    let mut data = original.data.clone();
    data[at..at + 2].copy_from_slice(b"XX");
    let rewritten = update(&signed, |_, update| {
        update.put(
            content,
            Stream {
                dict: original.dict.clone(),
                data,
            },
        );
    });
    let report = verifier.verify(&rewritten);
    let sig = only_signature(&report);
    assert_disallowed(sig, content, kyso::pdf::diff::UNEXPLAINED);
    assert_eq!(report.indication, Indication::TotalFailed);

    // The padding stream, referred to by nothing, rewritten with the same dictionary.
    let padding = doc
        .locations()
        .map(|(id, _)| id)
        .find(|id| matches!(doc.object(*id), Ok(Object::Stream(s)) if s.data.len() >= 60_000))
        .expect("the padding stream");
    let Object::Stream(image) = doc.object(padding).unwrap() else {
        unreachable!()
    };
    let mut data = image.data.clone();
    data[30_000] ^= 0xff;
    let rewritten = update(&signed, |_, update| {
        update.put(
            padding,
            Stream {
                dict: image.dict.clone(),
                data,
            },
        );
    });
    let report = verifier.verify(&rewritten);
    let sig = only_signature(&report);
    assert!(
        sig.changes.iter().any(|c| c.object == padding.to_string()),
        "the rewritten image is a change: {:#?}",
        sig.changes
    );
}

#[test]
fn signature_wrapping_is_a_format_failure() {
    let signing = Signing::new(KeyAlgorithm::P256, "Lê Thị Gói");
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()), |_| {});
    let verifier = signing.verifier();
    let (id, dict) = signature_dictionary(&signed);
    let range: Vec<usize> = dict
        .get(b"ByteRange")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_integer().unwrap() as usize)
        .collect();
    let (a, b) = (range[1], range[2]);
    let cms_hex = {
        let doc = Document::parse(&signed).unwrap();
        let (start, end) = contents_span(&doc, id).unwrap();
        assert_eq!((start, end), (a, b));
        signed[start + 1..end - 1].to_vec()
    };
    let used = cms_hex.iter().rposition(|&h| h != b'0').unwrap() + 2;
    let mut lines = Vec::new();

    // SWA 1: the signed /Contents moved inside the unsigned gap, which now also carries bytes
    // of the attacker's (an extra entry the dictionary did not have when signed).
    let mut wrapped = signed.clone();
    let mut gap = Vec::new();
    gap.push(b'<');
    gap.extend_from_slice(&cms_hex[..used]);
    gap.extend_from_slice(b"> /Wrapped <");
    while gap.len() < b - a - 1 {
        gap.push(b'0');
    }
    gap.push(b'>');
    wrapped[a..b].copy_from_slice(&gap);
    let report = verifier.verify(&wrapped);
    lines.push(show("SWA /Contents moved in the gap", &report));
    assert_format_failure_mentions(&report, "/ByteRange");

    // SWA 2: /ByteRange pointing elsewhere: the gap widened past the /Contents string so that
    // what follows it is no longer signed.
    let mut widened = signed.clone();
    let text = format!("[0 {a} {} {}]", b + 40, signed.len() - b - 40);
    let at = a - 200 + find(&signed[a - 200..a], b"/ByteRange [").unwrap() + 11;
    let close = at + find(&signed[at..], b"]").unwrap() + 1;
    let mut padded = format!("{text:<width$}", width = close - at).into_bytes();
    let last = padded.len() - 1;
    padded[text.len() - 1] = b' ';
    padded[last] = b']';
    widened[at..close].copy_from_slice(&padded);
    let report = verifier.verify(&widened);
    lines.push(show("SWA /ByteRange pointing elsewhere", &report));
    assert_format_failure_mentions(&report, "/ByteRange");
    print(&lines);
}

#[test]
fn shadow_hide_replace_and_hide_and_replace_are_named() {
    let signing = Signing::new(KeyAlgorithm::P256, "Phạm Văn Bóng");
    print(&shadow_attacks(&signing, Chain::Trusted));
}

/// Issue 15 (4): a change no rule permits fails the signature whatever its chain says. The
/// signer here has no keyUsage and is issued by a root the verifier does not trust, so before
/// the fix every one of these attacks read INDETERMINATE ("not enough evidence") for a document
/// that was demonstrably altered.
#[test]
fn shadow_attacks_fail_whatever_the_chain_says() {
    let signing = Signing::with_profile(
        KeyAlgorithm::P256,
        "Phạm Văn Bóng",
        kyso::testpki::SignerProfile::UntrustedNoKeyUsage,
    );
    print(&shadow_attacks(&signing, Chain::InDoubt));
}

/// What the verifier will make of the signer's chain on an untouched file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    Trusted,
    InDoubt,
}

/// Shadow hide, replace and hide-and-replace on files `signing` signs; each attack fails with
/// FORMAT_FAILURE naming the changed object. Returns one line per attack.
fn shadow_attacks(signing: &Signing, chain: Chain) -> Vec<String> {
    let verifier = signing.verifier();
    let mut lines = Vec::new();
    let untouched = |report: &DocumentReport| match chain {
        Chain::Trusted => assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}"),
        Chain::InDoubt => {
            assert_eq!(report.indication, Indication::Indeterminate, "{report:#?}");
            assert_eq!(
                report.sub_indication,
                Some(SubIndication::NoCertificateChainFound),
                "{report:#?}"
            );
        }
    };
    let reason_first = |sig: &SignatureReport, object: ObjectId| {
        assert!(
            sig.reasons[0]
                .to_string()
                .contains("changed after signing beyond")
                && sig.reasons[0].to_string().contains(&object.to_string()),
            "the deciding reason names the change first: {:#?}",
            sig.reasons
        );
    };

    // Hide: the signed page draws the real amount, a second amount, and a white box over the
    // second one; after signing, the box is emptied and the second amount shows.
    let plain = sample_pdf(&SampleOptions::default());
    let content = page_content(&plain);
    let (prepared, cover) = {
        let doc = Document::parse(&plain).unwrap();
        let page = doc.pages().unwrap()[0];
        let mut page_dict = doc.dictionary(page).unwrap();
        let mut update = IncrementalUpdate::new(&doc);
        let hidden = update.allocate();
        let cover = update.allocate();
        update.put(
            hidden,
            raw_stream(b"BT /F1 14 Tf 72 500 Td (So tien: 999.000.000 dong) Tj ET"),
        );
        update.put(cover, raw_stream(b"1 1 1 rg 60 490 400 30 re f"));
        page_dict.set(
            b"Contents",
            Object::Array(vec![content.into(), hidden.into(), cover.into()]),
        );
        update.put(page, page_dict);
        let mut out = plain.clone();
        out.extend_from_slice(&update.write(b"prepared-by-them").bytes);
        (out, cover)
    };
    let signed = sign(signing, &prepared, |_| {});
    untouched(&verifier.verify(&signed));
    let hide = update(&signed, |_, update| update.put(cover, raw_stream(b"")));
    let report = verifier.verify(&hide);
    lines.push(show("shadow hide (overlay emptied)", &report));
    assert_disallowed(only_signature(&report), cover, kyso::pdf::diff::UNEXPLAINED);
    reason_first(only_signature(&report), cover);

    // Replace: a text field whose value was set before signing while its appearance still shows
    // the old text; after signing only the appearance is regenerated.
    let form = sample_pdf(&SampleOptions {
        text_field: true,
        ..SampleOptions::default()
    });
    let field = text_field(&form);
    let prepared = update(&form, |doc, update| {
        let mut widget = doc.dictionary(field).unwrap();
        let shown = update.allocate();
        update.put(shown, appearance_stream("1.000.000 dong"));
        widget.set(b"V", text_string("999.000.000 dong"));
        widget.set(b"AP", kyso::pdf_dict! { b"N" => shown });
        update.put(field, widget);
    });
    let signed = sign(signing, &prepared, |_| {});
    untouched(&verifier.verify(&signed));
    let replace = update(&signed, |doc, update| {
        let mut widget = doc.dictionary(field).unwrap();
        let shown = update.allocate();
        update.put(shown, appearance_stream("999.000.000 dong"));
        widget.set(b"AP", kyso::pdf_dict! { b"N" => shown });
        update.put(field, widget);
    });
    let report = verifier.verify(&replace);
    lines.push(show("shadow replace (appearance swapped)", &report));
    assert_disallowed(
        only_signature(&report),
        field,
        "field appearance changed without its value",
    );
    reason_first(only_signature(&report), field);

    // Replace without touching the field at all: the form is told to redraw appearances
    // (NeedAppearances), and readers then draw the hidden value. Form filling, so permitted —
    // and said.
    let redraw = update(&signed, |doc, update| {
        let (catalog_id, mut catalog) = doc.catalog().unwrap();
        let Some(Object::Dictionary(mut form)) = catalog.get(b"AcroForm").cloned() else {
            panic!("the sample's form is a direct dictionary")
        };
        form.set(b"NeedAppearances", true);
        catalog.set(b"AcroForm", form);
        update.put(catalog_id, catalog);
    });
    let report = verifier.verify(&redraw);
    lines.push(show("shadow replace (NeedAppearances)", &report));
    let sig = only_signature(&report);
    assert_eq!(sig.modification, ModificationLevel::FormFilling, "{sig:#?}");
    assert!(
        sig.warnings
            .iter()
            .any(|w| w.to_string().contains("NeedAppearances")),
        "{:#?}",
        sig.warnings
    );

    // A content stream that claims to be a cross-reference stream is still content.
    let prepared = update(&plain, |doc, update| {
        let Object::Stream(mut stream) = doc.object(content).unwrap() else {
            panic!("the page content is a stream")
        };
        stream.dict.set(b"Type", Object::name(b"XRef"));
        update.put(content, stream);
    });
    let signed = sign(signing, &prepared, |_| {});
    untouched(&verifier.verify(&signed));
    let disguised = update(&signed, |doc, update| {
        let Object::Stream(mut stream) = doc.object(content).unwrap() else {
            panic!("the page content is a stream")
        };
        stream.data = b"BT /F1 14 Tf 72 770 Td (So tien: 999.000.000 dong) Tj ET".to_vec();
        update.put(content, stream);
    });
    let report = verifier.verify(&disguised);
    lines.push(show("content disguised as /Type /XRef", &report));
    assert_disallowed(
        only_signature(&report),
        content,
        kyso::pdf::diff::UNEXPLAINED,
    );

    // Hide-and-replace: a second version of the page content is planted in the file as bytes
    // no cross-reference section points to; after signing, an update that adds no object at
    // all — only a cross-reference section — points the content's object number at them.
    let mut planted = plain.clone();
    let shadow_at = planted.len();
    planted.extend_from_slice(
        format!(
            "{} 0 obj\n<</Length 56>>\nstream\nBT /F1 14 Tf 72 770 Td (So tien: 999.000.000 dong) Tj ET\nendstream\nendobj\n",
            content.number
        )
        .as_bytes(),
    );
    let signed = sign(signing, &planted, |_| {});
    untouched(&verifier.verify(&signed));
    let swapped = repoint(&signed, content, shadow_at);
    let doc = Document::parse(&swapped).unwrap();
    assert_eq!(
        doc.location(content),
        Some(Location::Offset(shadow_at)),
        "the update re-points the content at the planted bytes"
    );
    let report = verifier.verify(&swapped);
    lines.push(show("shadow hide-and-replace (xref only)", &report));
    assert_disallowed(
        only_signature(&report),
        content,
        "object swapped for bytes hidden in the signed revision",
    );
    reason_first(only_signature(&report), content);
    lines
}

#[test]
fn evil_annotation_after_a_p2_certification_is_not_permitted() {
    let signing = Signing::new(KeyAlgorithm::P256, "Võ Văn Chứng");
    let verifier = signing.verifier();
    let plain = sample_pdf(&SampleOptions::default());
    let mut lines = Vec::new();
    for (level, subtype) in [
        (DocMdp::FormFilling, &b"FreeText"[..]),
        (DocMdp::FormFilling, b"Stamp"),
        (DocMdp::Annotations, b"FreeText"),
    ] {
        let certified = sign(&signing, &plain, |o| o.certification = Some(level));
        let report = verifier.verify(&certified);
        assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
        let evil = add_annotation(&certified, subtype);
        let report = verifier.verify(&evil);
        let name = format!(
            "evil annotation /{} after P={}",
            String::from_utf8_lossy(subtype),
            level.p()
        );
        lines.push(show(&name, &report));
        let sig = only_signature(&report);
        assert_eq!(sig.modification, ModificationLevel::Annotations, "{name}");
        assert!(
            sig.changes.iter().any(|c| c.rule == "new annotation"),
            "{name}: {:#?}",
            sig.changes
        );
        if level == DocMdp::FormFilling {
            // Annotations need P=3.
            assert_eq!(sig.changes_permitted, Facet::Failed, "{name}");
            assert_eq!(
                sig.sub_indication,
                Some(SubIndication::FormatFailure),
                "{name}"
            );
            assert!(
                sig.reasons
                    .iter()
                    .any(|r| r.to_string().contains("DocMDP P=2")),
                "{name}: {:#?}",
                sig.reasons
            );
        } else {
            assert_eq!(sig.indication, Indication::TotalPassed, "{name}");
            assert!(!sig.warnings.is_empty(), "{name}: permitted, but said");
        }
    }
    print(&lines);
}

#[test]
fn sneaky_signature_after_certification_is_flagged() {
    let victim = Signing::new(KeyAlgorithm::P256, "Đặng Văn Chứng");
    let attacker = Signing::new(KeyAlgorithm::P256, "Kẻ Giả Mạo");
    let verifier = victim.verifier();
    let certified = sign(&victim, &sample_pdf(&SampleOptions::default()), |o| {
        o.certification = Some(DocMdp::FormFilling)
    });
    let mut lines = Vec::new();

    // 1. An empty signature field whose appearance paints over the certified text.
    let overlay = update(&certified, |doc, update| {
        let page = doc.pages().unwrap()[0];
        let mut page_dict = doc.dictionary(page).unwrap();
        let field = update.allocate();
        let shown = update.allocate();
        update.put(shown, appearance_stream("So tien: 999.000.000 dong"));
        update.put(
            field,
            kyso::pdf_dict! {
                b"Type" => Object::name(b"Annot"),
                b"Subtype" => Object::name(b"Widget"),
                b"FT" => Object::name(b"Sig"),
                b"T" => Object::literal(b"Sneaky".to_vec()),
                b"Rect" => numbers(&[60.0, 740.0, 400.0, 790.0]),
                b"F" => 4i64,
                b"P" => page,
                b"AP" => kyso::pdf_dict! { b"N" => shown },
            },
        );
        append_to_annots(doc, update, page, &mut page_dict, field);
        append_to_fields(doc, update, field);
    });
    let report = verifier.verify(&overlay);
    lines.push(show("sneaky signature (unsigned field)", &report));
    let sig = only_signature(&report);
    assert_eq!(sig.changes_permitted, Facet::Failed, "{sig:#?}");
    assert!(
        sig.changes
            .iter()
            .any(|c| c.rule == "unsigned signature field showing an appearance"),
        "{:#?}",
        sig.changes
    );
    assert!(
        sig.warnings
            .iter()
            .any(|w| w.to_string().contains("holds no signature"))
    );

    // 2. A real signature by the attacker's own key, with a visible appearance over the text:
    //    P=2 permits signing, so the certification stands, but the appearance is flagged.
    let font = Arc::new(Font::load(std::path::Path::new(kyso::pdf::font::DEFAULT_FONT)).unwrap());
    let signed_over = sign(&attacker, &certified, |o| {
        o.visible = Some(VisibleSignature {
            rect: Rect::new(60.0, 740.0, 340.0, 50.0).unwrap(),
            appearance: Appearance::new(font, "So tien: 999.000.000 dong", None),
        });
    });
    let report = verifier.verify(&signed_over);
    lines.push(show("sneaky signature (attacker-signed)", &report));
    let [certification, sneaky] = report.signatures.as_slice() else {
        panic!("two signatures: {report:#?}")
    };
    assert_eq!(certification.changes_permitted, Facet::Passed);
    assert_eq!(certification.modification, ModificationLevel::Signatures);
    assert!(
        certification.warnings.iter().any(|w| w
            .to_string()
            .contains("added after certification shows its own appearance")),
        "{:#?}",
        certification.warnings
    );
    assert_eq!(
        sneaky.sub_indication,
        Some(SubIndication::NoCertificateChainFound),
        "the attacker's key is not trusted"
    );
    print(&lines);
}

#[test]
fn field_locks_and_docmdp_p1_hold() {
    let signing = Signing::new(KeyAlgorithm::P256, "Hoàng Văn Khóa");
    let verifier = signing.verifier();
    let form = sample_pdf(&SampleOptions {
        text_field: true,
        ..SampleOptions::default()
    });
    let mut lines = Vec::new();

    // An approval signature permits filling an unlocked field.
    let approved = sign(&signing, &form, |_| {});
    let filled = fill_text_field(&approved, "15/QĐ-UBND");
    let report = verifier.verify(&filled);
    lines.push(show("form filled after approval", &report));
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        report.signatures[0].modification,
        ModificationLevel::FormFilling
    );

    // A FieldMDP lock on the field forbids it, by /Include and by /All.
    for lock in [
        FieldLock::Include(vec!["so_van_ban".to_owned()]),
        FieldLock::All,
    ] {
        let locked = sign(&signing, &form, |o| o.lock = Some(lock.clone()));
        assert_eq!(verifier.verify(&locked).indication, Indication::TotalPassed);
        let report = verifier.verify(&fill_text_field(&locked, "16/QĐ-UBND"));
        lines.push(show(&format!("locked field filled ({lock:?})"), &report));
        assert_disallowed(
            only_signature(&report),
            text_field(&form),
            "FieldMDP: locked field changed",
        );
    }
    // An /Exclude lock naming the field leaves it free.
    let excluded = sign(&signing, &form, |o| {
        o.lock = Some(FieldLock::Exclude(vec!["so_van_ban".to_owned()]))
    });
    let report = verifier.verify(&fill_text_field(&excluded, "17/QĐ-UBND"));
    lines.push(show("excluded field filled", &report));
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");

    // DocMDP P=1: an annotation is not permitted; validation data is.
    let frozen = sign(&signing, &form, |o| {
        o.certification = Some(DocMdp::NoChanges)
    });
    let report = verifier.verify(&add_annotation(&frozen, b"Text"));
    lines.push(show("annotation after P=1", &report));
    assert_eq!(
        only_signature(&report).changes_permitted,
        Facet::Failed,
        "{report:#?}"
    );
    let report = verifier.verify(&fill_text_field(&frozen, "18/QĐ-UBND"));
    lines.push(show("form filled after P=1", &report));
    assert_eq!(only_signature(&report).changes_permitted, Facet::Failed);
    let with_dss = update(&frozen, |doc, update| {
        let (catalog_id, mut catalog) = doc.catalog().unwrap();
        let cert = update.allocate();
        let dss = update.allocate();
        update.put(
            cert,
            Stream {
                dict: Dictionary::new(),
                data: signing.certificate.clone(),
            },
        );
        update.put(
            dss,
            kyso::pdf_dict! { b"Certs" => Object::Array(vec![cert.into()]) },
        );
        catalog.set(b"DSS", dss);
        update.put(catalog_id, catalog);
    });
    let report = verifier.verify(&with_dss);
    lines.push(show("DSS added after P=1", &report));
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        report.signatures[0].modification,
        ModificationLevel::LongTermValidation
    );
    print(&lines);
}

#[test]
fn pages_added_and_removed_are_named() {
    let signing = Signing::new(KeyAlgorithm::P256, "Bùi Thị Trang");
    let verifier = signing.verifier();
    let signed = sign(
        &signing,
        &sample_pdf(&SampleOptions {
            pages: 2,
            ..SampleOptions::default()
        }),
        |_| {},
    );
    let mut lines = Vec::new();
    let (removed, added) = {
        let doc = Document::parse(&signed).unwrap();
        let (_, catalog) = doc.catalog().unwrap();
        let tree = catalog.reference(b"Pages").unwrap();
        let pages = doc.pages().unwrap();
        let mut node = doc.dictionary(tree).unwrap();
        node.set(b"Kids", Object::Array(vec![pages[0].into()]));
        node.set(b"Count", 1i64);
        let removed = update(&signed, |_, update| update.put(tree, node.clone()));
        let added = update(&signed, |doc, update| {
            let page = update.allocate();
            let content = update.allocate();
            update.put(content, text_stream("Trang them vao sau khi ky"));
            let mut new_page = doc.dictionary(pages[0]).unwrap();
            new_page.set(b"Contents", content);
            new_page.remove(b"Annots");
            update.put(page, new_page);
            let mut node = doc.dictionary(tree).unwrap();
            let mut kids = pages.iter().map(|p| Object::from(*p)).collect::<Vec<_>>();
            kids.push(page.into());
            node.set(b"Kids", Object::Array(kids));
            node.set(b"Count", 3i64);
            update.put(tree, node);
        });
        (removed, added)
    };
    for (name, file, words) in [
        (
            "page removed",
            removed,
            "page(s) 2 of the signed document removed",
        ),
        ("page added", added, "page(s) 3 added"),
    ] {
        let report = verifier.verify(&file);
        lines.push(show(name, &report));
        let sig = only_signature(&report);
        assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
        assert!(
            sig.reasons.iter().any(|r| r.to_string().contains(words)),
            "{name}: {:#?}",
            sig.reasons
        );
        assert!(
            sig.changes
                .iter()
                .any(|c| c.rule.starts_with("page tree changed")),
            "{name}: {:#?}",
            sig.changes
        );
    }
    print(&lines);
}

// ---- the USF variants ----

#[derive(Clone, Copy, Debug)]
enum Usf {
    ContentsMissing,
    ContentsEmpty,
    ContentsNull,
    ByteRangeMissing,
    ByteRangeNull,
    ByteRangeMalformed,
}

impl Usf {
    const ALL: [Usf; 6] = [
        Usf::ContentsMissing,
        Usf::ContentsEmpty,
        Usf::ContentsNull,
        Usf::ByteRangeMissing,
        Usf::ByteRangeNull,
        Usf::ByteRangeMalformed,
    ];

    fn name(self) -> &'static str {
        match self {
            Usf::ContentsMissing => "/Contents missing",
            Usf::ContentsEmpty => "/Contents empty",
            Usf::ContentsNull => "/Contents null",
            Usf::ByteRangeMissing => "/ByteRange missing",
            Usf::ByteRangeNull => "/ByteRange null",
            Usf::ByteRangeMalformed => "/ByteRange malformed",
        }
    }

    fn apply(self, dict: &mut Dictionary) {
        match self {
            Usf::ContentsMissing => {
                dict.remove(b"Contents");
            }
            Usf::ContentsEmpty => {
                dict.set(b"Contents", Object::String(Vec::new(), StringFormat::Hex))
            }
            Usf::ContentsNull => dict.set(b"Contents", Object::Null),
            Usf::ByteRangeMissing => {
                dict.remove(b"ByteRange");
            }
            Usf::ByteRangeNull => dict.set(b"ByteRange", Object::Null),
            Usf::ByteRangeMalformed => dict.set(
                b"ByteRange",
                Object::Array(vec![
                    0i64.into(),
                    Object::literal(b"x".to_vec()),
                    (-5i64).into(),
                ]),
            ),
        }
    }
}

// ---- building documents ----

fn sign(signing: &Signing, input: &[u8], tweak: impl FnOnce(&mut SignatureOptions)) -> Vec<u8> {
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    tweak(&mut options);
    kyso::pades::sign(
        input,
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec()
}

/// `bytes` followed by an incremental update made by `edit`.
fn update(
    bytes: &[u8],
    edit: impl FnOnce(&Document<'_>, &mut IncrementalUpdate<'_, '_>),
) -> Vec<u8> {
    let doc = Document::parse(bytes).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    edit(&doc, &mut update);
    let written = update.write(b"attack-revision!");
    let mut out = bytes.to_vec();
    out.extend_from_slice(&written.bytes);
    out
}

/// The first signature's dictionary.
fn signature_dictionary(bytes: &[u8]) -> (ObjectId, Dictionary) {
    let doc = Document::parse(bytes).unwrap();
    let sig = find_signatures(&doc).unwrap().remove(0);
    (sig.id, sig.dictionary)
}

/// Appends a new signature field (widget on page 1) whose `/Sig` dictionary `shape` makes; the
/// `/ByteRange` is set, as a signer would, to leave out exactly the new `/Contents`, when both
/// are there.
fn append_signature_field(bytes: &[u8], shape: impl FnOnce(&mut Dictionary)) -> Vec<u8> {
    let mut sig_id = None;
    let mut out = update(bytes, |doc, update| {
        let page = doc.pages().unwrap()[0];
        let mut page_dict = doc.dictionary(page).unwrap();
        let field = update.allocate();
        let sig = update.allocate();
        sig_id = Some(sig);
        let mut dict = kyso::pdf_dict! {
            b"ByteRange" => Object::Array(vec![0i64.into(), 9_999_999_999i64.into(), 9_999_999_999i64.into(), 9_999_999_999i64.into()]),
            b"Type" => Object::name(b"Sig"),
            b"Filter" => Object::name(b"Adobe.PPKLite"),
            b"SubFilter" => Object::name(b"ETSI.CAdES.detached"),
            b"M" => Object::literal(b"D:20260101000000+07'00'".to_vec()),
        };
        shape(&mut dict);
        update.put(sig, dict);
        update.put(
            field,
            kyso::pdf_dict! {
                b"Type" => Object::name(b"Annot"),
                b"Subtype" => Object::name(b"Widget"),
                b"FT" => Object::name(b"Sig"),
                b"T" => Object::literal(b"Forged".to_vec()),
                b"V" => sig,
                b"F" => 132i64,
                b"Rect" => numbers(&[0.0, 0.0, 0.0, 0.0]),
                b"P" => page,
            },
        );
        append_to_annots(doc, update, page, &mut page_dict, field);
        append_to_fields(doc, update, field);
    });
    if let Some(sig) = sig_id {
        fix_byte_range(&mut out, sig);
    }
    out
}

/// Writes the real `/ByteRange` over the placeholder of dictionary `id`, if it has both.
fn fix_byte_range(bytes: &mut [u8], id: ObjectId) {
    let (offset, span) = {
        let doc = Document::parse(bytes).unwrap();
        let Some(Location::Offset(offset)) = doc.location(id) else {
            return;
        };
        (offset, contents_span(&doc, id).ok())
    };
    let Some((start, end)) = span else { return };
    let Some(at) = find(&bytes[offset..], b"[0 9999999999 9999999999 9999999999]") else {
        return;
    };
    let at = offset + at;
    let text = format!("[0 {start} {end} {}]", bytes.len() - end);
    let width = "[0 9999999999 9999999999 9999999999]".len();
    let mut padded = format!("{text:<width$}").into_bytes();
    padded[text.len() - 1] = b' ';
    padded[width - 1] = b']';
    bytes[at..at + width].copy_from_slice(&padded);
}

fn append_to_annots(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate<'_, '_>,
    page: ObjectId,
    page_dict: &mut Dictionary,
    annotation: ObjectId,
) {
    let mut annots = page_dict
        .get(b"Annots")
        .map(|a| doc.resolve(a).unwrap())
        .and_then(|a| a.as_array().map(<[Object]>::to_vec))
        .unwrap_or_default();
    annots.push(annotation.into());
    page_dict.set(b"Annots", Object::Array(annots));
    update.put(page, page_dict.clone());
}

/// Adds `field` to the AcroForm's `/Fields` (making an AcroForm if there is none).
fn append_to_fields(doc: &Document<'_>, update: &mut IncrementalUpdate<'_, '_>, field: ObjectId) {
    let (catalog_id, mut catalog) = doc.catalog().unwrap();
    match catalog.get(b"AcroForm").cloned() {
        Some(Object::Reference(form_id)) => {
            let mut form = doc.dictionary(form_id).unwrap();
            push_field(doc, &mut form, field);
            update.put(form_id, form);
        }
        Some(Object::Dictionary(mut form)) => {
            push_field(doc, &mut form, field);
            catalog.set(b"AcroForm", form);
            update.put(catalog_id, catalog);
        }
        _ => {
            catalog.set(
                b"AcroForm",
                kyso::pdf_dict! { b"Fields" => Object::Array(vec![field.into()]) },
            );
            update.put(catalog_id, catalog);
        }
    }
}

fn push_field(doc: &Document<'_>, form: &mut Dictionary, field: ObjectId) {
    let mut fields = form
        .get(b"Fields")
        .map(|f| doc.resolve(f).unwrap())
        .and_then(|f| f.as_array().map(<[Object]>::to_vec))
        .unwrap_or_default();
    fields.push(field.into());
    form.set(b"Fields", Object::Array(fields));
}

pub(crate) fn add_annotation(bytes: &[u8], subtype: &[u8]) -> Vec<u8> {
    update(bytes, |doc, update| {
        let page = doc.pages().unwrap()[0];
        let mut page_dict = doc.dictionary(page).unwrap();
        let note = update.allocate();
        let shown = update.allocate();
        update.put(shown, appearance_stream("So tien: 999.000.000 dong"));
        update.put(
            note,
            kyso::pdf_dict! {
                b"Type" => Object::name(b"Annot"),
                b"Subtype" => Object::name(subtype),
                b"Rect" => numbers(&[60.0, 740.0, 400.0, 790.0]),
                b"Contents" => text_string("Số tiền: 999.000.000 đồng"),
                b"F" => 4i64,
                b"P" => page,
                b"AP" => kyso::pdf_dict! { b"N" => shown },
            },
        );
        append_to_annots(doc, update, page, &mut page_dict, note);
    })
}

/// The sample form's text field (a merged field and widget).
fn text_field(bytes: &[u8]) -> ObjectId {
    let doc = Document::parse(bytes).unwrap();
    let (_, catalog) = doc.catalog().unwrap();
    let form = doc.resolve(catalog.get(b"AcroForm").unwrap()).unwrap();
    let fields = doc
        .resolve(form.as_dict().unwrap().get(b"Fields").unwrap())
        .unwrap();
    fields
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Object::as_reference)
        .find(|f| doc.dictionary(*f).unwrap().name(b"FT") == Some(b"Tx"))
        .unwrap()
}

/// Fills the sample form's text field as a reader would: a new value and a new appearance.
fn fill_text_field(bytes: &[u8], value: &str) -> Vec<u8> {
    let field = text_field(bytes);
    update(bytes, |doc, update| {
        let mut widget = doc.dictionary(field).unwrap();
        let shown = update.allocate();
        update.put(shown, appearance_stream(value));
        widget.set(b"V", text_string(value));
        widget.set(b"AP", kyso::pdf_dict! { b"N" => shown });
        update.put(field, widget);
    })
}

/// The first page's (single) content stream.
fn page_content(bytes: &[u8]) -> ObjectId {
    let doc = Document::parse(bytes).unwrap();
    let page = doc.pages().unwrap()[0];
    doc.dictionary(page)
        .unwrap()
        .reference(b"Contents")
        .unwrap()
}

/// A cross-reference section (and nothing else) pointing object `id` at `offset`.
fn repoint(bytes: &[u8], id: ObjectId, offset: usize) -> Vec<u8> {
    let doc = Document::parse(bytes).unwrap();
    let root = doc.trailer().reference(b"Root").unwrap();
    let mut out = bytes.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{} 1\n{offset:010} {:05} n \ntrailer\n<</Size {}/Root {} {} R/Prev {}>>\nstartxref\n{xref_at}\n%%EOF\n",
            id.number,
            id.generation,
            doc.size(),
            root.number,
            root.generation,
            doc.last_startxref()
        )
        .as_bytes(),
    );
    out
}

fn raw_stream(data: &[u8]) -> Stream {
    Stream {
        dict: Dictionary::new(),
        data: data.to_vec(),
    }
}

fn text_stream(text: &str) -> Stream {
    raw_stream(format!("BT /F1 14 Tf 72 770 Td ({text}) Tj ET").as_bytes())
}

/// A form XObject showing `text` in Helvetica (the sample's font object 3).
fn appearance_stream(text: &str) -> Stream {
    let ascii: String = text.chars().filter(char::is_ascii).collect();
    Stream {
        dict: kyso::pdf_dict! {
            b"Type" => Object::name(b"XObject"),
            b"Subtype" => Object::name(b"Form"),
            b"BBox" => numbers(&[0.0, 0.0, 340.0, 50.0]),
            b"Resources" => kyso::pdf_dict! {
                b"Font" => kyso::pdf_dict! { b"Helv" => ObjectId::new(3, 0) },
            },
        },
        data: format!("1 1 1 rg 0 0 340 50 re f BT 0 g /Helv 14 Tf 4 18 Td ({ascii}) Tj ET")
            .into_bytes(),
    }
}

fn numbers(values: &[f64]) -> Object {
    Object::Array(values.iter().map(|v| Object::Real(*v)).collect())
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---- judging ----

fn only_signature(report: &DocumentReport) -> &SignatureReport {
    let [sig] = report.signatures.as_slice() else {
        panic!("one signature expected: {report:#?}")
    };
    sig
}

/// The signature is intact and valid, but the change to `object` is not permitted and is named
/// by `rule`.
fn assert_disallowed(sig: &SignatureReport, object: ObjectId, rule: &str) {
    assert_eq!(sig.intact, Facet::Passed, "{sig:#?}");
    assert_eq!(sig.signature_valid, Facet::Passed, "{sig:#?}");
    assert_eq!(sig.changes_permitted, Facet::Failed, "{sig:#?}");
    assert_eq!(sig.indication, Indication::TotalFailed);
    assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
    let change = sig
        .changes
        .iter()
        .find(|c| c.object == object.to_string())
        .unwrap_or_else(|| panic!("{object} is named: {:#?}", sig.changes));
    assert_eq!(change.rule, rule, "{:#?}", sig.changes);
    assert_eq!(change.level, ModificationLevel::Other);
}

/// FORMAT_FAILURE for the document or for every signature, or no signature at all.
fn assert_rejected_as_format_failure(report: &DocumentReport, what: &str) {
    assert_ne!(report.indication, Indication::TotalPassed, "{what}");
    let ok = report.signatures.iter().all(|s| {
        s.sub_indication == Some(SubIndication::FormatFailure)
            && s.indication == Indication::TotalFailed
    }) && (report.sub_indication == Some(SubIndication::FormatFailure)
        || report.sub_indication == Some(SubIndication::SignedDataNotFound));
    assert!(ok, "{what}: {report:#?}");
}

fn assert_format_failure_mentions(report: &DocumentReport, words: &str) {
    let sig = only_signature(report);
    assert_eq!(
        (sig.indication, sig.sub_indication),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
        "{sig:#?}"
    );
    assert!(
        sig.reasons.iter().any(|r| r.to_string().contains(words)),
        "{:#?}",
        sig.reasons
    );
}

/// One line per signature: class, signature, indication/sub-indication, rules named.
fn show(class: &str, report: &DocumentReport) -> String {
    let mut out = String::new();
    for s in &report.signatures {
        let mut rules: Vec<&str> = s
            .changes
            .iter()
            .filter(|c| c.level == ModificationLevel::Other)
            .map(|c| c.rule)
            .collect();
        if rules.is_empty() {
            rules = s.changes.iter().map(|c| c.rule).collect();
        }
        rules.dedup();
        out.push_str(&format!(
            "{class:<40} | {:<10} | {}{} | {}\n",
            s.name,
            s.indication.as_str(),
            s.sub_indication
                .map(|x| format!("/{}", x.as_str()))
                .unwrap_or_default(),
            if rules.is_empty() {
                s.reasons.first().map(|r| r.to_string()).unwrap_or_default()
            } else {
                rules.join(", ")
            }
        ));
    }
    if report.signatures.is_empty() {
        out.push_str(&format!(
            "{class:<40} | (none)     | {}{} | {}\n",
            report.indication.as_str(),
            report
                .sub_indication
                .map(|x| format!("/{}", x.as_str()))
                .unwrap_or_default(),
            report
                .reasons
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    out
}

fn print(lines: &[String]) {
    for line in lines {
        print!("{line}");
    }
}

/// Bytes flipped and cut in the unsigned revisions: never a panic, and a content change is never
/// made to pass by damaging the update that carries it.
#[test]
fn damaged_later_revisions_never_panic_nor_hide_a_change() {
    let signing = Signing::new(KeyAlgorithm::P256, "Mai Văn Hỏng");
    let verifier = signing.verifier();
    let signed = sign(
        &signing,
        &sample_pdf(&SampleOptions {
            text_field: true,
            ..SampleOptions::default()
        }),
        |_| {},
    );
    let permitted = fill_text_field(&add_annotation(&signed, b"Text"), "20/QĐ-UBND");
    let content = page_content(&signed);
    let forbidden = update(&signed, |_, update| {
        update.put(content, text_stream("So tien: 999.000.000 dong"))
    });
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    for (file, may_pass) in [(&permitted, true), (&forbidden, false)] {
        let tail = file.len() - signed.len();
        for _ in 0..200 {
            let at = signed.len() + next() % tail;
            let mut damaged = file.clone();
            damaged[at] ^= 1 << (next() % 8);
            let report = verifier.verify(&damaged);
            if !may_pass {
                assert_ne!(
                    report.indication,
                    Indication::TotalPassed,
                    "flipping byte {at} ({:?}) hid the content change",
                    file[at] as char
                );
            }
        }
        // Cuts past the first object header: a few bytes of "n 0 o" carry nothing to show.
        for _ in 0..32 {
            let len = signed.len() + 16 + next() % (tail - 16);
            let report = verifier.verify(&file[..len]);
            if !may_pass {
                assert_ne!(report.indication, Indication::TotalPassed, "cut at {len}");
            }
        }
    }
}
