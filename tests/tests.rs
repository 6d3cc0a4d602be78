//! kyso's integration tests: one binary, one module per topic.

mod support;

mod cli;
mod pdf_appearance;
mod pdf_sign;
mod testpki;
mod token;
