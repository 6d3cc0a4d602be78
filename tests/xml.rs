//! XML: canonicalization vectors, XMLDSig/XAdES signing and verification, interop with xmlsec1
//! and signxml, and the conformance runner.

mod c14n;
mod common;
mod conformance;
mod dsig;
mod interop;
mod parse;
mod softhsm;
pub(crate) mod tsa;

/// Where the shared conformance material lives: `KYSO_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the crate.
pub fn conformance_dir() -> std::path::PathBuf {
    match std::env::var_os("KYSO_CONFORMANCE_DIR") {
        Some(dir) => dir.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    }
}
