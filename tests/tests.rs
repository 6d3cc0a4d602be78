//! kyso's integration tests: one binary, one module per topic.

mod support;

mod api;
mod cli;
mod cms;
mod ledger;
mod pdf_appearance;
mod pdf_levels;
mod pdf_sign;
mod pki;
mod testpki;
mod token;
mod token_faults;
mod verify;
mod xml;
