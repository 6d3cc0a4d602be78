//! CMS SignedData from BER: indefinite lengths, segmented strings, attributes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((element, _)) = kyso::ber::parse(data) {
        let _ = element.definite();
        let _ = element.octets();
    }
    if let Ok(signed) = kyso::cms::SignedData::parse(data) {
        for info in &signed.signer_infos {
            if let Some(attributes) = &info.signed_attributes {
                let _ = attributes.message_digest();
                let _ = attributes.content_type();
            }
        }
    }
});
