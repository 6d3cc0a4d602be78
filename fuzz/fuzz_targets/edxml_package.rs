//! edXML packages as they arrive (QCVN 102:2016): recognition, the namespace repair of
//! undeclared prefixes, the header, manifest and attachments, and every attachment decoded
//! (base64, ZIP) under small limits; nothing may panic, and no decoder may exceed its bounds.
#![no_main]

use kyso::edxml::attachment::{Limits, decode};
use kyso::edxml::{Package, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    let Ok(package) = Package::read(data) else {
        return;
    };
    // The text the signatures are checked over must parse whenever the package did.
    let limits = kyso::xml::parse::Limits::default();
    assert!(
        kyso::xml::parse::parse(package.signed_text(), &limits).is_ok(),
        "the libxml2 reading of a readable package does not parse"
    );
    let limits = Limits {
        max_bytes: 1 << 20,
        max_total_bytes: 2 << 20,
        ..Limits::default()
    };
    let mut spent = 0;
    for attachment in &package.attachments {
        if let Some(text) = package.encoded(attachment)
            && let Ok(decoded) = decode(text, &limits, &mut spent)
        {
            assert!(decoded.bytes.len() as u64 <= limits.max_bytes);
        }
    }
});
