//! PDF structure: cross-reference chains, object streams, page trees, form fields, the bytes a
//! signature leaves out, and change analysis between revisions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = kyso::pdf::Document::parse(data) else {
        return;
    };
    let _ = doc.pages();
    if let Ok(signatures) = kyso::pdf::find_signatures(&doc) {
        for signature in &signatures {
            let _ = kyso::pdf::contents_span(&doc, signature.id);
        }
    }
    for (id, _) in doc.locations().take(1000) {
        let _ = doc.object(id);
    }
    for end in kyso::pdf::revision_ends(data).into_iter().take(8) {
        let _ = kyso::pdf::diff::analyse(data, end);
    }
});
