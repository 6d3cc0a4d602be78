//! RFC 7512 URIs: parse, print, parse again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = kyso::token::Pkcs11Uri::parse(text) {
        let again = kyso::token::Pkcs11Uri::parse(&uri.to_string()).expect("printed URIs parse");
        assert_eq!(again, uri);
    }
});
