//! XML: canonicalization vectors, XMLDSig/XAdES signing and verification, interop with xmlsec1
//! and signxml, and the conformance runner.

mod c14n;
pub(crate) mod common;
mod conformance;
pub(crate) mod dsig;
pub(crate) mod interop;
mod parse;
mod softhsm;
pub(crate) mod tsa;

pub use crate::support::conformance_dir;
