//! kyso signs PDF and XML documents with keys held in PKCS#11 tokens and HSMs, verifies incoming
//! signatures down to the trust anchor and revocation status, and keeps the per-unit signing-rate
//! ledger that auditors report from.
//!
//! Read top-down: [`signer`] is the one signing interface; [`token`] implements it with PKCS#11.
#![forbid(unsafe_code)]

pub mod anchors;
pub mod api;
pub mod audit;
pub mod batch;
pub mod ber;
pub mod cms;
pub mod config;
pub mod csc;
mod der;
pub mod edxml;
pub mod extend;
pub mod html;
pub mod http;
pub mod ledger;
pub mod oid;
pub mod pades;
pub mod pdf;
pub mod phone;
pub mod pki;
pub mod secret;
pub mod signer;
pub mod signing;
#[cfg(feature = "test-support")]
pub mod testpki;
pub mod token;
pub mod tsp;
pub mod verify;
pub mod web;
pub mod xml;

/// Vietnam's time zone, UTC+7: Asia/Ho_Chi_Minh has kept this offset, without daylight saving,
/// since 1975, so a fixed offset is exact for every date kyso handles.
pub const VIETNAM: time::UtcOffset = match time::UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("BUG: +07:00 is a valid offset"),
};
