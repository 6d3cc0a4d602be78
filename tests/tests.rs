//! kyso's integration tests: one binary, one module per topic.

mod support;

mod batch;
mod cli;
mod cms;
mod ledger;
mod pdf_appearance;
mod pdf_sign;
mod pki;
mod testpki;
mod token;
mod verify;
mod xml;
