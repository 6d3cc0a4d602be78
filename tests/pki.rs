//! Path validation and revocation: conformance suites (NIST PKITS, x509-limbo), real revocation
//! servers (OpenSSL's OCSP responder, CRLs over loopback HTTP) and never-panic properties.

mod algorithms;
mod conformance;
mod limbo;
mod malformed;
mod pkits;
mod servers;
mod store;
mod timestamps;

/// Where the conformance material lives: `KYSO_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the crate. The files are read in place, never copied into the repository.
pub fn conformance_dir() -> std::path::PathBuf {
    match std::env::var_os("KYSO_CONFORMANCE_DIR") {
        Some(d) => d.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    }
}
