//! kyso signs PDF and XML documents with keys held in PKCS#11 tokens and HSMs, verifies incoming
//! signatures down to the trust anchor and revocation status, and keeps the per-unit signing-rate
//! ledger that auditors report from.
//!
//! Read top-down: [`signer`] is the one signing interface; [`token`] implements it with PKCS#11.
#![forbid(unsafe_code)]

pub mod ledger;
pub mod signer;
pub mod token;
