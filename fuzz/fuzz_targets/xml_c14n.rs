//! Safe XML parsing and every canonicalization algorithm over the parsed document.
#![no_main]

use kyso::xml::c14n::{Algorithm, canonicalize_document};
use kyso::xml::parse::{Limits, decode, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(decoded) = decode(data, &limits) else {
        return;
    };
    let Ok(doc) = parse(&decoded.text, &limits) else {
        return;
    };
    for uri in [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2006/12/xml-c14n11",
    ] {
        if let Some(algorithm) = Algorithm::from_uri(uri) {
            let _ = canonicalize_document(&doc, &algorithm);
        }
    }
});
