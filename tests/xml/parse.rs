//! The parser as a pure function of bytes: never panics, refuses DTDs wherever they appear in
//! the prolog, enforces depth and attribute limits exactly, and verification of arbitrary
//! corruptions of a signed document never reports them intact unless only unsigned bytes moved.

use kyso::xml::{self, Error, Limits, VerifyOptions, parse};
use proptest::prelude::*;

fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    parse::with_document(bytes, limits, |_, _| ())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_bytes(&bytes, &Limits::default());
    }

    #[test]
    fn markup_soup_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<a>"), Just("</a>"), Just("<b x='1'>"), Just("</b>"), Just("<c/>"),
            Just("<!--"), Just("-->"), Just("<![CDATA["), Just("]]>"), Just("<?p "), Just("?>"),
            Just("<!DOCTYPE a>"), Just("&amp;"), Just("&x;"), Just("Việt"), Just("\r\n"),
            Just("xmlns:p='u'"), Just("<p:d>"), Just("</p:d>"), Just("="), Just("\""),
        ],
        0..40,
    )) {
        let text: String = parts.concat();
        let _ = parse_bytes(text.as_bytes(), &Limits::default());
    }

    /// Depth n parses exactly when n <= max_depth, whatever mix of self-closing and open tags.
    #[test]
    fn depth_limit_is_exact(depth in 1usize..40, limit in 1usize..40, self_closing_leaf in any::<bool>()) {
        let mut doc = String::new();
        let open = if self_closing_leaf { depth - 1 } else { depth };
        for _ in 0..open { doc.push_str("<e>"); }
        if self_closing_leaf { doc.push_str("<e/>"); }
        for _ in 0..open { doc.push_str("</e>"); }
        let limits = Limits { max_depth: limit, ..Limits::default() };
        let result = parse::parse(&doc, &limits);
        prop_assert_eq!(result.is_ok(), depth <= limit, "depth {} limit {}: {:?}", depth, limit, result.err());
    }

    /// A DOCTYPE anywhere in the prolog is refused as a DTD, never as something else.
    #[test]
    fn doctype_in_prolog_is_always_a_dtd_error(
        comments in 0usize..3,
        declaration in any::<bool>(),
        internal_subset in any::<bool>(),
    ) {
        let mut doc = String::new();
        if declaration { doc.push_str("<?xml version='1.0'?>\n"); }
        for i in 0..comments { doc.push_str(&format!("<!-- c{i} -->\n")); }
        doc.push_str(if internal_subset { "<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>" } else { "<!DOCTYPE a SYSTEM 'http://127.0.0.1:9/x.dtd'>" });
        doc.push_str("<a>&x;</a>");
        let refused = matches!(parse_bytes(doc.as_bytes(), &Limits::default()), Err(Error::Dtd { .. }));
        prop_assert!(refused, "not refused as a DTD: {}", doc);
    }
}

/// Flipping any single byte of a signed document: either it no longer parses, or verification
/// no longer reports it intact, or the byte lies in what XMLDSig leaves unsigned by design: the
/// attributes of `SignatureValue`, and the certificates after the signer's in `X509Data` (chain hints,
/// judged by path validation, not by the signature).
#[test]
fn single_byte_corruptions_are_caught() {
    use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm};
    let pki = super::common::TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let doc = "<a xmlns='urn:x' t='1'><b>Hà Nội</b></a>";
    let signed = xml::sign(
        doc.as_bytes(),
        &pki.signer,
        &pki.chain,
        &super::dsig::options(xml::Packaging::Enveloped, xml::Level::XadesB),
    )
    .unwrap();
    let text = String::from_utf8(signed.clone()).unwrap();
    let region = |start: &str, end: &str, nth: usize| {
        let s = text.match_indices(start).nth(nth).unwrap().0 + start.len();
        s..s + text[s..].find(end).unwrap()
    };
    let unsigned = [
        region("<ds:SignatureValue ", ">", 0),
        region("<ds:X509Certificate>", "<", 1),
    ];
    let mut survived = Vec::new();
    for i in 0..signed.len() {
        let mut bytes = signed.clone();
        bytes[i] ^= 0x01;
        if let Ok(r) = xml::verify(&bytes, &VerifyOptions::default())
            && r.all_intact()
            && !unsigned.iter().any(|u| u.contains(&i))
        {
            survived.push((i, &text[i.saturating_sub(30)..(i + 10).min(text.len())]));
        }
    }
    assert!(
        survived.is_empty(),
        "flips in signed bytes that still verify: {survived:?}"
    );
}
