//! kyso's integration tests: one binary, one module per topic.

mod pki;
mod support;

mod cli;
mod cms;
mod pdf_sign;
mod testpki;
mod token;
mod xml;
