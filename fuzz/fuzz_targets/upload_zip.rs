//! Upload handling: a zip batch as `POST /v1/verify/batch` receives it, read in memory through
//! `kyso::batch` under its limits (entries bounded once inflated, zip bombs), nothing may panic.
#![no_main]

use std::num::NonZeroUsize;
use std::sync::OnceLock;

use kyso::batch::{Batch, Limits, Source};
use kyso::pki::TrustStore;
use kyso::verify::{Verifier, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::new(VerifyOptions::new(
            TrustStore::new(),
            time::OffsetDateTime::UNIX_EPOCH,
        ))
    })
}

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the bounds are what is tested, not their size.
    let limits = Limits {
        max_document_bytes: 1 << 20,
        max_zip_entries: 1_000,
        max_zip_total_bytes: 4 << 20,
        ..Limits::default()
    };
    let source = Source::Zip {
        name: "upload.zip".into(),
        bytes: data.into(),
    };
    let batch = Batch::new(verifier(), NonZeroUsize::MIN).with_limits(limits);
    let _ = batch.run(&source, |_| {});
});
