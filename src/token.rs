//! PKCS#11 tokens (skeleton: the full layer lands in the next commit).
mod error;
pub use error::Error;
mod uri;
pub use uri::{ObjectType, Pkcs11Uri, UriError};
