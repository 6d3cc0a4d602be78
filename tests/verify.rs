//! The verification engine: our own signatures, other tools' signatures, every failure class,
//! and mutated documents — each with the ETSI verdict it must get.

use std::process::Command;

use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{Document, IncrementalUpdate, Object, SignatureOptions, Stream};
use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{Facet, Indication, ModificationLevel, SubIndication};

use crate::support::{Signing, run, verifier_for};

fn sign(signing: &Signing, input: &[u8]) -> Vec<u8> {
    let options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    kyso::pades::sign(
        input,
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec()
}

#[test]
fn our_signature_passes_and_each_failure_is_named() {
    let signing = Signing::new(KeyAlgorithm::Rsa2048, "Nguyễn Văn An");
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()));
    let report = signing.verifier().verify(&signed);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    let [sig] = report.signatures.as_slice() else {
        panic!("one signature")
    };
    assert_eq!(sig.format, "PAdES-B-B");
    assert_eq!(
        sig.signer.as_ref().unwrap().common_name.as_deref(),
        Some("Nguyễn Văn An")
    );
    assert_eq!(
        sig.signer.as_ref().unwrap().unit.as_deref(),
        Some("Sở Tư pháp")
    );
    assert_eq!(sig.chain.len(), 3, "signer, signing CA, root");

    // One changed byte inside the signed range.
    let mut tampered = signed.clone();
    let at = tampered
        .windows(4)
        .position(|w| w == b"Trang")
        .unwrap_or(200);
    tampered[at] ^= 0x01;
    let report = signing.verifier().verify(&tampered);
    assert_eq!(report.indication, Indication::TotalFailed);
    assert_eq!(report.sub_indication, Some(SubIndication::HashFailure));

    // Revocation off can never pass.
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&signing.root_pem()).unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::DangerouslyOff;
    let report = kyso::verify::Verifier::new(options).verify(&signed);
    assert_eq!(report.indication, Indication::Indeterminate);
    assert_eq!(report.signatures[0].revocation, Facet::Undetermined);

    // Offline with no evidence: TRY_LATER.
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&signing.root_pem()).unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::Offline;
    let report = kyso::verify::Verifier::new(options).verify(&signed);
    assert_eq!(report.sub_indication, Some(SubIndication::TryLater));

    // Another PKI's root: no chain.
    let stranger = Signing::new(KeyAlgorithm::P256, "Người lạ");
    let report = stranger.verifier().verify(&signed);
    assert_eq!(report.indication, Indication::Indeterminate);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::NoCertificateChainFound)
    );
}

#[test]
fn certificate_variants_get_their_sub_indications() {
    let input = sample_pdf(&SampleOptions::default());
    for (profile, indication, sub) in [
        (
            SignerProfile::Revoked,
            Indication::Indeterminate,
            SubIndication::RevokedNoPoe,
        ),
        (
            SignerProfile::Expired,
            Indication::Indeterminate,
            SubIndication::OutOfBoundsNoPoe,
        ),
        (
            SignerProfile::NotYetValid,
            Indication::TotalFailed,
            SubIndication::NotYetValid,
        ),
        (
            SignerProfile::WrongKeyUsage,
            Indication::Indeterminate,
            SubIndication::ChainConstraintsFailure,
        ),
        (
            SignerProfile::UntrustedIssuer,
            Indication::Indeterminate,
            SubIndication::NoCertificateChainFound,
        ),
    ] {
        let signing = Signing::with_profile(KeyAlgorithm::P256, "Trần Văn Bình", profile);
        let report = signing.verifier().verify(&sign(&signing, &input));
        assert_eq!(
            (report.indication, report.sub_indication),
            (indication, Some(sub)),
            "{profile:?}: {:#?}",
            report.signatures[0].reasons
        );
    }
}

#[test]
fn later_signatures_are_permitted_and_content_changes_are_not() {
    let official = Signing::new(KeyAlgorithm::Rsa2048, "Phạm Văn Đức");
    let seal = Signing::new(KeyAlgorithm::P256, "UBND tỉnh Thử Nghiệm");
    let once = sign(&official, &sample_pdf(&SampleOptions::default()));
    let twice = sign(&seal, &once);
    for signing in [&official, &seal] {
        let report = signing.verifier().verify(&twice);
        let first = &report.signatures[0];
        assert_eq!(
            first.modification,
            ModificationLevel::Signatures,
            "{:#?}",
            first.changes
        );
        assert_eq!(first.changes_permitted, Facet::Passed);
    }
    // Each signer's PKI only trusts its own root: trust both.
    let dir = tempfile::tempdir().unwrap();
    let both = both_roots(&official, &seal, dir.path());
    let report = both.verify(&twice);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");

    // An incremental update that replaces the page's content stream.
    let doc = Document::parse(&twice).unwrap();
    let page = doc.pages().unwrap()[0];
    let content = doc
        .dictionary(page)
        .unwrap()
        .reference(b"Contents")
        .unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    update.put(
        content,
        Stream {
            dict: kyso::pdf::Dictionary::new(),
            data: b"BT /F1 14 Tf 72 770 Td (So tien: 999.000.000 dong) Tj ET".to_vec(),
        },
    );
    let written = update.write(b"0123456789abcdef");
    let mut changed = twice.clone();
    changed.extend_from_slice(&written.bytes);
    let report = both.verify(&changed);
    assert_eq!(report.indication, Indication::TotalFailed);
    for sig in &report.signatures {
        assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
        assert_eq!(sig.modification, ModificationLevel::Other);
        assert!(
            sig.changes
                .iter()
                .any(|c| c.page == Some(1) || c.object.starts_with(&content.number.to_string())),
            "the changed object is named: {:#?}",
            sig.changes
        );
    }

    // A text annotation added later is permitted for approval signatures.
    let doc = Document::parse(&twice).unwrap();
    let page = doc.pages().unwrap()[0];
    let mut page_dict = doc.dictionary(page).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    let note = update.allocate();
    update.put(
        note,
        kyso::pdf_dict! {
            b"Type" => Object::name(b"Annot"),
            b"Subtype" => Object::name(b"Text"),
            b"Rect" => Object::Array(vec![10i64.into(), 10i64.into(), 30i64.into(), 30i64.into()]),
            b"Contents" => kyso::pdf::text_string("Đã xem"),
        },
    );
    let mut annots = doc
        .resolve(page_dict.get(b"Annots").unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .to_vec();
    annots.push(Object::Reference(note));
    page_dict.set(b"Annots", Object::Array(annots));
    update.put(page, page_dict);
    let mut annotated = twice.clone();
    annotated.extend_from_slice(&update.write(b"fedcba9876543210").bytes);
    let report = both.verify(&annotated);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        report.signatures[1].modification,
        ModificationLevel::Annotations
    );
}

fn both_roots(a: &Signing, b: &Signing, dir: &std::path::Path) -> kyso::verify::Verifier {
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&a.root_pem()).unwrap();
    trust.load(&b.root_pem()).unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    for signing in [a, b] {
        for name in ["intermediate.crl", "root.crl"] {
            let bytes = std::fs::read(signing.dir.path().join(name)).unwrap();
            options
                .evidence
                .add_crl(kyso::pki::crl::Crl::from_der(&bytes).unwrap());
        }
    }
    let _ = dir;
    options.revocation = kyso::verify::Revocation::Offline;
    kyso::verify::Verifier::new(options)
}

#[test]
fn pyhanko_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    run(Command::new(env!("CARGO_BIN_EXE_test-pki")).arg(&pki));
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, sample_pdf(&SampleOptions::default())).unwrap();
    let signed = dir.path().join("signed.pdf");
    run(Command::new("pyhanko")
        .args([
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(pki.join("signer-p256-valid.key.pem"))
        .arg("--cert")
        .arg(pki.join("signer-p256-valid.pem"))
        .arg("--chain")
        .arg(pki.join("intermediate.pem"))
        .arg(&plain)
        .arg(&signed));
    let report = verifier_for(&pki).verify(&std::fs::read(&signed).unwrap());
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
}

#[test]
fn xml_signatures_share_the_verdict_model() {
    let signing = Signing::new(KeyAlgorithm::P256, "Đỗ Thị Hạnh");
    let document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VanBan><SoKyHieu>15/TB-UBND</SoKyHieu><TrichYeu>Thông báo lịch tiếp công dân</TrichYeu></VanBan>";
    let options = kyso::xml::SignOptions::new(std::time::SystemTime::now());
    let mut chain = vec![signing.certificate.clone()];
    chain.extend(signing.chain.iter().cloned());
    let signed = kyso::xml::sign(document.as_bytes(), &signing.key, &chain, &options).unwrap();
    let report = signing.verifier().verify(&signed);
    assert_eq!(report.format, "xml");
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signatures[0].format, "XAdES-B-B");

    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("15/TB-UBND", "16/TB-UBND");
    let report = signing.verifier().verify(tampered.as_bytes());
    assert_eq!(report.indication, Indication::TotalFailed);
    assert_eq!(report.sub_indication, Some(SubIndication::HashFailure));
}

#[test]
fn mutated_and_truncated_pdfs_never_pass_and_never_panic() {
    let signing = Signing::new(KeyAlgorithm::P256, "Lý Văn Minh");
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()));
    let verifier = signing.verifier();
    // A deterministic walk over positions: every 7th byte flipped, and 64 truncations.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let at = (next() as usize) % signed.len();
        let mut mutated = signed.clone();
        mutated[at] ^= 0x01;
        let report = verifier.verify(&mutated);
        assert_ne!(
            report.indication,
            Indication::TotalPassed,
            "flipping byte {at} ({:?}) still passed",
            signed[at] as char
        );
    }
    // Every byte of the CMS itself (the hex digits before the zero padding): the signature's
    // unsigned parts must not be alterable without the verdict changing.
    let doc = Document::parse(&signed).unwrap();
    let sig = &kyso::pdf::find_signatures(&doc).unwrap()[0];
    let (start, end) = kyso::pdf::contents_span(&doc, sig.id).unwrap();
    let hex_end = signed[start..end]
        .windows(16)
        .position(|w| w.iter().all(|&b| b == b'0'))
        .map_or(end, |p| start + p);
    for at in start + 1..hex_end {
        let mut mutated = signed.clone();
        mutated[at] ^= 0x01;
        assert_ne!(
            verifier.verify(&mutated).indication,
            Indication::TotalPassed,
            "flipping CMS hex digit {} of the CMS still passed: …{}…",
            at - start - 1,
            String::from_utf8_lossy(&signed[at.saturating_sub(20)..(at + 20).min(end)])
        );
    }
    for _ in 0..64 {
        let len = (next() as usize) % signed.len();
        let report = verifier.verify(&signed[..len]);
        assert_ne!(
            report.indication,
            Indication::TotalPassed,
            "truncated to {len}"
        );
    }
    for junk in [&b""[..], b"%PDF-", b"<x/>", b"\xff\xfe<\x00", b"hello"] {
        assert_ne!(verifier.verify(junk).indication, Indication::TotalPassed);
    }
}

/// Issue 20 item 3: the report names the holder's title, kind and identifiers as Vietnamese
/// CAs write them, masks personal numbers by default, and shows them whole only when asked.
#[test]
fn the_signers_identifiers_are_read_and_masked_until_revealed() {
    let pki = kyso::testpki::TestPki::new(kyso::testpki::PkiOptions::default()).unwrap();
    let name = kyso::testpki::SignerName::new("Lê Thị Hoa", "UBND tỉnh Thử Nghiệm", "Sở Y tế")
        .with_title("Phó Giám đốc")
        .with_uid("CCCD:001234567890");
    let signing = Signing::named(pki, KeyAlgorithm::P256, &name, SignerProfile::Valid);
    let signed = sign(&signing, &sample_pdf(&SampleOptions::default()));
    let mut report = signing.verifier().verify(&signed);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");

    let json = serde_json::to_value(&report).unwrap();
    let signer = &json["signatures"][0]["signer"];
    assert_eq!(signer["title"], "Phó Giám đốc");
    assert_eq!(signer["holder"], "person");
    assert_eq!(
        signer["identifiers"],
        serde_json::json!([{"kind": "CCCD", "value": "********7890", "masked": true}])
    );
    let text = serde_json::to_string(&report).unwrap();
    assert!(
        !text.contains("001234567890"),
        "the whole number leaks: {text}"
    );
    let words = kyso::verify::text::render(&report, kyso::verify::text::Language::Vietnamese);
    assert!(
        words.contains("Chủ thể: chức vụ Phó Giám đốc · cá nhân · CCCD:********7890"),
        "{words}"
    );

    report.reveal_identifiers();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["signatures"][0]["signer"]["identifiers"],
        serde_json::json!([{"kind": "CCCD", "value": "001234567890", "masked": false}])
    );
}
