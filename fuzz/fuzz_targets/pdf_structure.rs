//! PDF structure: cross-reference chains, object streams, page trees, form fields, the bytes a
//! signature leaves out, FieldMDP locks, and change analysis between revisions.
#![no_main]

use kyso::pdf::diff::FieldLocks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = kyso::pdf::Document::parse(data) else {
        return;
    };
    let _ = doc.pages();
    let mut locks = vec![FieldLocks::none()];
    if let Ok(signatures) = kyso::pdf::find_signatures(&doc) {
        for signature in signatures.iter().take(8) {
            let _ = kyso::pdf::contents_span(&doc, signature.id);
            locks.push(FieldLocks::of_signature(
                &doc,
                &signature.dictionary,
                &signature.fields,
            ));
        }
    }
    for (id, _) in doc.locations().take(1000) {
        let _ = doc.object(id);
    }
    // One analysis per revision, each with one of the lock sets in turn: every lock reader
    // and every revision is exercised without multiplying the work per input.
    for (i, end) in kyso::pdf::revision_ends(data).into_iter().take(8).enumerate() {
        let _ = kyso::pdf::diff::analyse(data, end, &locks[i % locks.len()]);
    }
});
