//! The HTTP service: a real client against `kyso serve` on an ephemeral 127.0.0.1 port, and
//! `app()` driven in-process with `oneshot` where that is simpler.

mod audit;
mod csc;
mod decree30;
mod endpoints;
pub(crate) mod fixture;
pub(crate) mod jobs;
pub(crate) mod nodes;
mod oneshot;
mod regression;
