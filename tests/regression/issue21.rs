//! Issue 21 (3): e-invoices as providers and the tax authority sign them — namespaces on `HDon`
//! that inclusive C14N carries into the signed invoice, signing-time objects in odd namespaces,
//! a buyer's signature whose object reuses the seller's local `Id`, the tax authority's
//! counter-signature over the invoice and its code, rsa-sha1 over SHA-256 digests — each
//! signature judged intact or not exactly as xmlsec1 judges it (with the `Id`s declared), and
//! each reporting what it covers.

use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{Facet, Indication, SignatureReport, SubIndication};

use super::einvoice::{
    RSA_SHA1, RSA_SHA256, SHA1, SHA256, Shape, signed_invoice, xmlsec1_accepts_signature,
};
use super::external_pdf::PeerPki;

fn signature<'r>(report: &'r kyso::verify::DocumentReport, id: &str) -> &'r SignatureReport {
    report
        .signatures
        .iter()
        .find(|s| s.name == id)
        .unwrap_or_else(|| panic!("signature {id}: {report:#?}"))
}

fn elements(sig: &SignatureReport) -> Vec<String> {
    sig.scope
        .as_ref()
        .map(|s| s.elements.iter().map(|e| e.path.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn einvoice_signatures_agree_with_xmlsec1() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let verifier = pki.verifier();
    let shapes = [
        (
            "namespaces on HDon, TimeStamp object, tax authority",
            Shape {
                root_namespaces: true,
                object_id: "TimeStamp",
                tax_authority: true,
                ..Shape::default()
            },
        ),
        (
            "rsa-sha1 and sha1 digests, SignatureProperties in no namespace",
            Shape {
                method: RSA_SHA1,
                digest: SHA1,
                undeclared_properties: true,
                ..Shape::default()
            },
        ),
        (
            "rsa-sha1 over SHA-256 digests",
            Shape {
                method: RSA_SHA1,
                digest: SHA256,
                ..Shape::default()
            },
        ),
        (
            "buyer reusing the seller's SigningTime Id, tax authority",
            Shape {
                buyer: true,
                tax_authority: true,
                ..Shape::default()
            },
        ),
    ];
    for (what, shape) in shapes {
        let invoice = signed_invoice(pki.dir.path(), &shape);
        let signed = invoice.merged.clone();
        let report = verifier.verify(&signed);
        // xmlsec1 judges each signature on the invoice its signer signed: it refuses a document
        // whose declared Ids repeat, as the buyer's and seller's objects' do.
        let own = |id: &str| {
            invoice
                .each
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, d)| d.clone())
                .unwrap()
        };
        let mut ids = vec!["seller"];
        if shape.buyer {
            ids.push("buyer");
        }
        if shape.tax_authority {
            ids.push("Tct-7f3e");
        }
        assert_eq!(report.signatures.len(), ids.len(), "{what}: {report:#?}");
        for id in &ids {
            let sig = signature(&report, id);
            let xmlsec1 = xmlsec1_accepts_signature(pki.dir.path(), &own(id), id);
            if !shape.buyer {
                assert!(
                    xmlsec1_accepts_signature(pki.dir.path(), &signed, id),
                    "{what}: xmlsec1 accepts {id} in the whole invoice"
                );
            }
            assert!(xmlsec1, "{what}: xmlsec1 accepts {id}");
            assert_eq!(sig.intact, Facet::Passed, "{what}: {id}: {sig:#?}");
            assert_eq!(sig.signature_valid, Facet::Passed, "{what}: {id}");
            if shape.method == RSA_SHA256 && shape.digest == SHA256 {
                assert_eq!(
                    sig.indication,
                    Indication::TotalPassed,
                    "{what}: {id}: {sig:#?}"
                );
            } else {
                assert_eq!(
                    sig.sub_indication,
                    Some(SubIndication::CryptoConstraintsFailureNoPoe),
                    "{what}: {id}: {sig:#?}"
                );
            }
        }
        assert_eq!(
            elements(signature(&report, "seller")),
            ["/HDon[1]/DLHDon[1]"],
            "{what}: the seller signs the invoice"
        );
        if shape.tax_authority {
            assert_eq!(
                elements(signature(&report, "Tct-7f3e")),
                ["/HDon[1]/DLHDon[1]", "/HDon[1]/MCCQT[1]"],
                "{what}: the tax authority signs the invoice and its code"
            );
        }
        if shape.buyer {
            let buyer = signature(&report, "buyer");
            assert!(
                buyer.warnings.iter().any(|w| w
                    .to_string()
                    .contains("\"SigningTime\" appears 2 times")
                    && w.to_string().contains("this signature's own")),
                "{what}: the repeated Id is said: {:#?}",
                buyer.warnings
            );
        }

        // The code changed after the tax authority signed: its signature fails, as xmlsec1
        // says; the seller's, which does not cover the code, holds.
        if shape.tax_authority {
            let tamper = |bytes: &[u8]| {
                String::from_utf8(bytes.to_vec())
                    .unwrap()
                    .replace("00A1B2C3D4E5F6", "FFA1B2C3D4E5F6")
            };
            let tampered = tamper(&signed);
            let report = verifier.verify(tampered.as_bytes());
            assert!(!xmlsec1_accepts_signature(
                pki.dir.path(),
                tamper(&own("Tct-7f3e")).as_bytes(),
                "Tct-7f3e"
            ));
            assert_eq!(
                signature(&report, "Tct-7f3e").sub_indication,
                Some(SubIndication::HashFailure),
                "{what}"
            );
            assert!(xmlsec1_accepts_signature(
                pki.dir.path(),
                tamper(&own("seller")).as_bytes(),
                "seller"
            ));
            assert_eq!(signature(&report, "seller").intact, Facet::Passed, "{what}");
        }
    }
}

/// A second element with the invoice's `Id` outside the signatures is still refused: local
/// `Id`s may repeat inside signatures, document content's may not.
#[test]
fn a_repeated_id_on_document_content_is_still_refused() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let signed = signed_invoice(
        pki.dir.path(),
        &Shape {
            buyer: true,
            ..Shape::default()
        },
    );
    let text = String::from_utf8(signed.merged).unwrap();
    let twin = text.replacen("<MCCQT Id=\"Id-MCCQT\">", "<MCCQT Id=\"data\">", 1);
    let report = pki.verifier().verify(twin.as_bytes());
    for sig in &report.signatures {
        assert_eq!(
            (sig.indication, sig.sub_indication),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
            "{sig:#?}"
        );
        assert!(
            sig.reasons[0].to_string().contains("duplicate Id \"data\""),
            "{:#?}",
            sig.reasons
        );
    }
}
