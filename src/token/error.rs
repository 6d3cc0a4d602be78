//! The token layer's errors. Each names what was looked for; none carries a PIN.

use std::path::PathBuf;

use cryptoki::error::RvError;

use super::uri::UriError;

/// Everything that can go wrong between kyso and a PKCS#11 module.
///
/// Messages name the module, token and object involved so that an operator can act on them, and
/// never include a PIN: the PIN type has no `Display`, and no variant holds one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("malformed PKCS#11 URI `{uri}`: {reason}")]
    InvalidUri { uri: String, reason: UriError },

    #[error(
        "no PKCS#11 module given: the URI `{uri}` has no module-path and no default module is configured"
    )]
    NoModule { uri: String },

    #[error("PKCS#11 module {} does not exist (is the package that provides it installed?)", path.display())]
    ModuleNotFound { path: PathBuf },

    #[error("cannot load PKCS#11 module {}: {source}", path.display())]
    ModuleLoad {
        path: PathBuf,
        #[source]
        source: cryptoki::error::Error,
    },

    #[error("cannot initialise PKCS#11 module {}: {source}", path.display())]
    ModuleInit {
        path: PathBuf,
        #[source]
        source: cryptoki::error::Error,
    },

    #[error("no token matching {wanted} in module {}; present: {}", module.display(), present_list(present))]
    TokenNotFound {
        module: PathBuf,
        wanted: String,
        present: Vec<String>,
    },

    #[error("{count} tokens match {wanted} in module {}: add serial= or slot-id= to the URI", module.display())]
    AmbiguousToken {
        module: PathBuf,
        wanted: String,
        count: usize,
    },

    #[error(
        "wrong PIN for token `{token}`: not retried, since tokens lock after a few wrong PINs; fix the PIN source and try again"
    )]
    PinIncorrect { token: String },

    #[error(
        "this PIN was already refused by token `{token}`; kyso will not present it again (a token locks after a few wrong PINs)"
    )]
    PinAlreadyRefused { token: String },

    #[error("the user PIN of token `{token}` is locked; it must be unlocked with the SO PIN")]
    PinLocked { token: String },

    #[error(
        "token `{token}` needs a PIN and none was given: set pin-source in the key URI, token.pin_source in kyso.toml, or KYSO_TOKEN_PIN_SOURCE"
    )]
    PinRequired { token: String },

    #[error("cannot read the PIN from {source_name}: {reason}")]
    PinSource { source_name: String, reason: String },

    #[error("no {kind} {wanted} on token `{token}`")]
    ObjectNotFound {
        token: String,
        kind: &'static str,
        wanted: String,
    },

    #[error("{count} {kind}s match {wanted} on token `{token}`: add id= to the URI")]
    AmbiguousObject {
        token: String,
        kind: &'static str,
        wanted: String,
        count: usize,
    },

    #[error("key {key} on token `{token}` cannot be used: {reason}")]
    UnsupportedKey {
        token: String,
        key: String,
        reason: String,
    },

    #[error("{key} on token `{token}` already exists; choose another object label or id")]
    KeyExists { token: String, key: String },

    #[error("certificate cannot be imported: {reason}")]
    BadCertificate { reason: String },

    #[error("{operation} on token `{token}` failed: {rv}")]
    Pkcs11 {
        token: String,
        operation: &'static str,
        rv: RvError,
    },

    #[error("{operation} on token `{token}` failed: {source}")]
    Cryptoki {
        token: String,
        operation: &'static str,
        #[source]
        source: cryptoki::error::Error,
    },

    #[error(
        "this token was closed (shutdown, or its module re-initialised after a failure): open the key again"
    )]
    ShutDown,
}

fn present_list(present: &[String]) -> String {
    if present.is_empty() {
        "none".to_owned()
    } else {
        present.join(", ")
    }
}

impl Error {
    /// Maps a cryptoki failure to the variant an operator can act on.
    pub(crate) fn from_cryptoki(
        token: &str,
        operation: &'static str,
        err: cryptoki::error::Error,
    ) -> Self {
        match err {
            cryptoki::error::Error::Pkcs11(rv, _) => match rv {
                RvError::PinIncorrect => Error::PinIncorrect {
                    token: token.to_owned(),
                },
                RvError::PinLocked => Error::PinLocked {
                    token: token.to_owned(),
                },
                rv => Error::Pkcs11 {
                    token: token.to_owned(),
                    operation,
                    rv,
                },
            },
            source => Error::Cryptoki {
                token: token.to_owned(),
                operation,
                source,
            },
        }
    }

    /// The PKCS#11 return value behind this error, when there is one.
    pub fn return_value(&self) -> Option<RvError> {
        match self {
            Error::Pkcs11 { rv, .. } => Some(*rv),
            Error::PinIncorrect { .. } => Some(RvError::PinIncorrect),
            Error::PinLocked { .. } => Some(RvError::PinLocked),
            _ => None,
        }
    }
}
