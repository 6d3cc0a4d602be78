//! The whole verification path on hostile bytes: format detection, PDF or XML parsing, signature
//! discovery, CMS, diff rules, the verdict. Offline, with no trust anchors: nothing may panic,
//! hang or pass.
#![no_main]

use std::sync::LazyLock;

use kyso::verify::{Indication, Revocation, Verifier, VerifyOptions};
use libfuzzer_sys::fuzz_target;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let mut options = VerifyOptions::new(
        kyso::pki::TrustStore::new(),
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
    );
    options.revocation = Revocation::Offline;
    Verifier::new(options)
});

fuzz_target!(|data: &[u8]| {
    let report = VERIFIER.verify(data);
    // Nothing is trusted, so nothing can be TOTAL-PASSED.
    assert_ne!(report.indication, Indication::TotalPassed);
});
