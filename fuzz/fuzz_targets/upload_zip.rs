//! Upload handling: a zip batch as `POST /v1/verify/batch` receives it, entries bounded once
//! inflated (zip bombs), nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A small inflation limit keeps each run fast; the bound is what is tested, not its size.
    let _ = kyso::api::unzip_batch(data, 1 << 20);
});
