//! PKCS#11 tokens: the only module that talks to an HSM.
//!
//! What it owns: loading a PKCS#11 module and calling `C_Initialize` exactly once per process (with
//! OS locking, so every thread may use it), finding a token by its RFC 7512 URI, logging in with a
//! PIN that never leaves a zeroizing secret, a pool of sessions so that many threads sign at once,
//! key and certificate lookup, key generation inside the token, and [`TokenKey`], the
//! [`Signer`](crate::signer::Signer) every signing path uses.
//!
//! What it refuses to do: retry a wrong PIN (real tokens lock after a few tries, so after
//! `CKR_PIN_INCORRECT` the same PIN is never presented again in this process), take a PIN from a
//! URI's `pin-value` (it would end up in shell history and process lists), or export a private key.
//!
//! Governing texts: PKCS#11 v2.40 / v3.0 (OASIS), RFC 7512 (PKCS#11 URI).

mod error;
mod inventory;
mod key;
mod keygen;
mod module;
mod pin;
mod pool;
mod spki;
mod uri;

pub use error::Error;
pub use inventory::{ObjectInfo, ObjectKind, SlotInventory, inventory};
pub use key::{KeyOptions, TokenKey};
pub use keygen::{KeyAlgorithm, generate_key_pair, import_certificate};
pub use module::shutdown;
pub use pin::{Pin, PinSource};
pub use pool::{PoolStats, Token, TokenDefaults};
pub use uri::{ObjectType, Pkcs11Uri, UriError};

/// Parses a URI an operator gave (command line, config, request). A malformed one is reported
/// with the URI quoted, any `pin-value` blanked out first.
pub fn parse_uri(text: &str) -> Result<Pkcs11Uri, Error> {
    Pkcs11Uri::parse(text).map_err(|reason| Error::InvalidUri {
        uri: uri::redact(text),
        reason,
    })
}
