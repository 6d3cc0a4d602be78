//! kyso's integration tests: one binary, one module per topic.

mod support;

mod cli;
mod testpki;
mod token;
mod xml;
