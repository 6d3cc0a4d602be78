//! PINs and where they come from.
//!
//! A [`Pin`] is a zeroizing secret (cryptoki's `AuthPin`, a `secrecy::SecretString`): its bytes are
//! wiped when it is dropped, and it has neither `Display` nor a revealing `Debug`, so it cannot be
//! formatted into a log line or an error by accident. PINs come from a file, an environment
//! variable or an interactive prompt, never from the command line (see [`PinSource`]).

use std::fmt;
use std::path::PathBuf;

use cryptoki::types::AuthPin;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::Error;

/// A token PIN. Wiped from memory on drop; never printed.
pub struct Pin(AuthPin);

impl Pin {
    /// Takes ownership of `text`; the string's buffer becomes the secret and is wiped on drop.
    pub fn new(text: String) -> Self {
        Pin(AuthPin::from(text))
    }

    pub(crate) fn auth_pin(&self) -> &AuthPin {
        &self.0
    }

    /// A keyed fingerprint of the PIN, used to remember PINs a token refused without keeping them.
    pub(crate) fn fingerprint(&self, key: &aws_lc_rs::hmac::Key) -> [u8; 32] {
        let tag = aws_lc_rs::hmac::sign(key, self.0.expose_secret().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag.as_ref()[..32]);
        out
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Where a PIN is read from: the value of a URI's `pin-source`, of `token.pin_source` in
/// `kyso.toml`, or of `KYSO_TOKEN_PIN_SOURCE`.
///
/// - `file:/path/to/pin` (RFC 7512's own example form): the file's first line;
/// - `env:NAME`: the value of environment variable `NAME`;
/// - `prompt`: ask on the terminal, without echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinSource {
    File(PathBuf),
    Env(String),
    Prompt,
}

impl PinSource {
    pub fn parse(text: &str) -> Result<Self, Error> {
        if let Some(path) = text.strip_prefix("file:") {
            // Accept file:/abs, file:///abs and file:relative.
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad_source("empty file path"));
            }
            Ok(PinSource::File(PathBuf::from(path)))
        } else if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() || name.contains('=') {
                return Err(bad_source("not an environment variable name"));
            }
            Ok(PinSource::Env(name.to_owned()))
        } else if text == "prompt" {
            Ok(PinSource::Prompt)
        } else {
            Err(bad_source("expected file:/path, env:NAME or prompt"))
        }
    }

    /// Reads the PIN. Error messages name the source, never its contents.
    pub fn read(&self, token: &str) -> Result<Pin, Error> {
        let text = match self {
            PinSource::File(path) => {
                let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::PinSource {
                    source_name: self.to_string(),
                    reason: e.kind().to_string(),
                })?);
                let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
                let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
                std::str::from_utf8(first_line)
                    .map_err(|_| Error::PinSource {
                        source_name: self.to_string(),
                        reason: "not UTF-8".to_owned(),
                    })?
                    .to_owned()
            }
            PinSource::Env(name) => std::env::var(name).map_err(|e| Error::PinSource {
                source_name: self.to_string(),
                reason: match e {
                    std::env::VarError::NotPresent => "not set".to_owned(),
                    std::env::VarError::NotUnicode(_) => "not UTF-8".to_owned(),
                },
            })?,
            PinSource::Prompt => {
                // rpassword asks on the controlling terminal; a service, a cron job or a pipe
                // has none, and the OS's "no such device" says nothing useful.
                if std::fs::File::open("/dev/tty").is_err() {
                    return Err(Error::PinSource {
                        source_name: self.to_string(),
                        reason: "there is no terminal to ask on: use pin-source=file:… or env:… where no one is at a keyboard".to_owned(),
                    });
                }
                rpassword::prompt_password(format!("PIN for token `{token}`: ")).map_err(|e| {
                    Error::PinSource {
                        source_name: self.to_string(),
                        reason: format!("cannot read from the terminal: {e}"),
                    }
                })?
            }
        };
        if text.is_empty() {
            return Err(Error::PinSource {
                source_name: self.to_string(),
                reason: "empty PIN".to_owned(),
            });
        }
        Ok(Pin::new(text))
    }
}

/// A malformed source is not quoted: `pin-source=1234` is a PIN given in the wrong place.
fn bad_source(reason: &str) -> Error {
    Error::PinSource {
        source_name: "a pin-source value (not shown: it may be a PIN)".to_owned(),
        reason: reason.to_owned(),
    }
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::File(p) => write!(f, "file:{}", p.display()),
            PinSource::Env(n) => write!(f, "env:{n}"),
            PinSource::Prompt => f.write_str("prompt"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_pin() {
        let pin = Pin::new("271828".to_owned());
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }

    #[test]
    fn sources_parse() {
        assert_eq!(
            PinSource::parse("file:/etc/pin").unwrap(),
            PinSource::File("/etc/pin".into())
        );
        assert_eq!(
            PinSource::parse("file:///etc/pin").unwrap(),
            PinSource::File("/etc/pin".into())
        );
        assert_eq!(
            PinSource::parse("env:KYSO_PIN").unwrap(),
            PinSource::Env("KYSO_PIN".into())
        );
        assert_eq!(PinSource::parse("prompt").unwrap(), PinSource::Prompt);
        assert!(PinSource::parse("1234").is_err());
        assert!(PinSource::parse("file:").is_err());
    }

    #[test]
    fn file_source_reads_first_line_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "98765\r\nignored\n").unwrap();
        let pin = PinSource::File(path.clone()).read("t").unwrap();
        assert_eq!(pin.auth_pin().expose_secret(), "98765");

        let missing = PinSource::File(dir.path().join("absent"))
            .read("t")
            .unwrap_err();
        assert!(missing.to_string().contains("absent"), "{missing}");

        std::fs::write(&path, "").unwrap();
        assert!(PinSource::File(path).read("t").is_err());
    }
}
