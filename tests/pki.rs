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

pub use crate::support::conformance_dir;
