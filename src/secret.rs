//! Secrets named by where they are kept, never written where they are configured: a token PIN
//! ([`crate::token::PinSource`] adds `prompt`) and a TSA's HTTP password or bearer token.
//!
//! - `file:/path/to/secret` (RFC 7512's own `pin-source` example form): the file's first line;
//! - `env:NAME`: the value of environment variable `NAME`.
//!
//! Owns: parsing those forms and reading them into zeroizing memory. Refuses: a value in any
//! other form, which is quoted nowhere (`password_source = "hunter2"` is a secret given in the
//! wrong place), and an empty secret. Error messages name the source, never its contents.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;
use zeroize::Zeroizing;

/// Where a secret is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

/// Why a secret source could not be used. Never holds the secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a secret source (not shown: it may be the secret itself): {reason}")]
    BadSource { reason: &'static str },
    #[error("cannot read the secret from {source_name}: {reason}")]
    Read { source_name: String, reason: String },
}

impl SecretSource {
    /// Parses `file:/path` (also `file:///path` and `file:relative`) or `env:NAME`.
    pub fn parse(text: &str) -> Result<SecretSource, Error> {
        if let Some(path) = text.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(Error::BadSource {
                    reason: "empty file path",
                });
            }
            Ok(SecretSource::File(PathBuf::from(path)))
        } else if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() || name.contains('=') {
                return Err(Error::BadSource {
                    reason: "not an environment variable name",
                });
            }
            Ok(SecretSource::Env(name.to_owned()))
        } else {
            Err(Error::BadSource {
                reason: "expected file:/path or env:NAME",
            })
        }
    }

    /// Reads the secret.
    pub fn read(&self) -> Result<SecretString, Error> {
        let text = self.read_text().map_err(|reason| Error::Read {
            source_name: self.to_string(),
            reason,
        })?;
        Ok(SecretString::from(text.as_str()))
    }

    /// The secret's text, wiped on drop; the error is a reason without the secret.
    pub(crate) fn read_text(&self) -> Result<Zeroizing<String>, String> {
        let text = match self {
            SecretSource::File(path) => {
                let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| e.kind().to_string())?);
                let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
                let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
                Zeroizing::new(
                    std::str::from_utf8(first_line)
                        .map_err(|_| "not UTF-8".to_owned())?
                        .to_owned(),
                )
            }
            SecretSource::Env(name) => {
                Zeroizing::new(std::env::var(name).map_err(|e| match e {
                    std::env::VarError::NotPresent => "not set".to_owned(),
                    std::env::VarError::NotUnicode(_) => "not UTF-8".to_owned(),
                })?)
            }
        };
        if text.is_empty() {
            return Err("empty".to_owned());
        }
        Ok(text)
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "file:{}", p.display()),
            SecretSource::Env(n) => write!(f, "env:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn sources_parse_and_never_quote_a_bad_value() {
        assert_eq!(
            SecretSource::parse("file:///etc/kyso/tsa").unwrap(),
            SecretSource::File("/etc/kyso/tsa".into())
        );
        assert_eq!(
            SecretSource::parse("env:TSA_TOKEN").unwrap(),
            SecretSource::Env("TSA_TOKEN".into())
        );
        let err = SecretSource::parse("hunter2").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(SecretSource::parse("env:").is_err());
        assert!(SecretSource::parse("file:").is_err());
    }

    #[test]
    fn files_give_their_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\r\nnext").unwrap();
        let secret = SecretSource::File(path.clone()).read().unwrap();
        assert_eq!(secret.expose_secret(), "s3cret");
        std::fs::write(&path, "\n").unwrap();
        let err = SecretSource::File(path).read().unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = SecretSource::File(dir.path().join("absent"))
            .read()
            .unwrap_err();
        assert!(err.to_string().contains("absent"), "{err}");
    }
}
