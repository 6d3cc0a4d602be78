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

use super::Error;
use crate::secret::{self, SecretSource};

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
        if text == "prompt" {
            return Ok(PinSource::Prompt);
        }
        if !(text.starts_with("file:") || text.starts_with("env:")) {
            return Err(bad_source("expected file:/path, env:NAME or prompt"));
        }
        let source = SecretSource::parse(text).map_err(|e| match e {
            secret::Error::BadSource { reason } => bad_source(reason),
            other => bad_source(&other.to_string()),
        })?;
        match source {
            SecretSource::File(path) => Ok(PinSource::File(path)),
            SecretSource::Env(name) => Ok(PinSource::Env(name)),
        }
    }

    /// Reads the PIN. Error messages name the source, never its contents.
    pub fn read(&self, token: &str) -> Result<Pin, Error> {
        let failed = |reason: String| Error::PinSource {
            source_name: self.to_string(),
            reason,
        };
        let mut text = match self {
            PinSource::File(path) => SecretSource::File(path.clone())
                .read_text()
                .map_err(failed)?,
            PinSource::Env(name) => SecretSource::Env(name.clone())
                .read_text()
                .map_err(failed)?,
            PinSource::Prompt => {
                // rpassword asks on the controlling terminal; a service, a cron job or a pipe
                // has none, and the OS's "no such device" says nothing useful.
                if std::fs::File::open("/dev/tty").is_err() {
                    return Err(failed("there is no terminal to ask on: use pin-source=file:… or env:… where no one is at a keyboard".to_owned()));
                }
                let typed = rpassword::prompt_password(format!("PIN for token `{token}`: "))
                    .map_err(|e| failed(format!("cannot read from the terminal: {e}")))?;
                if typed.is_empty() {
                    return Err(failed("empty PIN".to_owned()));
                }
                zeroize::Zeroizing::new(typed)
            }
        };
        // The string's buffer moves into the Pin, which wipes it on drop.
        Ok(Pin::new(std::mem::take(&mut *text)))
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
