//! Certificates, CRLs, OCSP responses and timestamp tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = kyso::pki::Certificate::from_der(data) {
        let _ = cert.describe();
    }
    let _ = kyso::pki::crl::Crl::from_der(data);
    let _ = kyso::pki::ocsp::OcspResponse::from_der(data);
    let _ = kyso::pki::timestamp::TimestampToken::from_der(data);
});
