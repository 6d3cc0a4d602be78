//! kyso's integration tests: one binary, one module per topic.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

mod support;

mod api;
mod audit_checkpoint;
mod batch;
mod cli;
mod cli_verify;
mod cms;
mod csc;
mod deploy_topology;
mod edxml;
mod ledger;
mod ledger_jobs;
mod pdf_appearance;
mod pdf_archive;
mod pdf_attacks;
mod pdf_decree30;
mod pdf_levels;
mod pdf_sign;
mod pki;
mod regression;
mod testpki;
mod token;
mod token_faults;
mod trust_vn;
mod tsa;
mod verify;
mod verify_conformance;
mod verify_decree30;
mod verify_pyhanko;
mod web;
mod xml;
mod xml_longterm;
