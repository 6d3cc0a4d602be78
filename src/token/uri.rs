//! PKCS#11 URIs (RFC 7512): how an operator names a token, a key or a certificate.
//!
//! `pkcs11:token=kyso;object=so-tttt-01;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/kyso/pin`
//!
//! Parsing is strict where a mistake would silently select the wrong key: an unknown standard
//! attribute (a typo such as `objcet=`) or a repeated attribute is an error, not ignored. Vendor
//! attributes (`x-…`) are accepted and ignored, as RFC 7512 §2.3 allows. `pin-value` is refused:
//! a PIN written into a URI ends up in shell history, process lists and logs.

use std::fmt;

/// A parsed PKCS#11 URI. Every path attribute is optional: absent means "any".
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub library_manufacturer: Option<String>,
    pub library_description: Option<String>,
    pub library_version: Option<String>,
    pub slot_description: Option<String>,
    pub slot_manufacturer: Option<String>,
    pub slot_id: Option<u64>,
    pub object: Option<String>,
    /// `CKA_ID` bytes.
    pub id: Option<Vec<u8>>,
    pub object_type: Option<ObjectType>,
    /// `module-path` query attribute: the PKCS#11 library to load.
    pub module_path: Option<String>,
    /// `module-name` query attribute (informational; kyso loads by path).
    pub module_name: Option<String>,
    /// `pin-source` query attribute: where the PIN comes from (`file:/path`, `env:NAME`).
    pub pin_source: Option<String>,
}

/// The `type` path attribute (RFC 7512 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    Public,
    Private,
    Cert,
    SecretKey,
    Data,
}

/// Why a URI was rejected. The offending text is quoted except for PIN material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("does not start with `pkcs11:`")]
    MissingScheme,
    #[error("attribute `{0}` has no `=`")]
    MissingEquals(String),
    #[error("unknown attribute `{0}`")]
    UnknownAttribute(String),
    #[error("attribute `{0}` appears more than once")]
    Repeated(String),
    #[error("bad percent-encoding in `{0}`")]
    BadPercentEncoding(String),
    #[error("attribute `{0}` is not valid UTF-8")]
    NotUtf8(String),
    #[error("slot-id `{0}` is not a decimal number")]
    BadSlotId(String),
    #[error("type `{0}` is not one of public, private, cert, secret-key, data")]
    BadType(String),
    #[error("pin-value is refused: give the PIN through pin-source=file:… or pin-source=env:…")]
    PinValueRefused,
    #[error(
        "pin-source must be file:/path, env:NAME or prompt (its value is not shown: it may be a PIN)"
    )]
    BadPinSource,
}

impl Pkcs11Uri {
    /// Parses `text`. On error the message quotes at most the attribute at fault, never a PIN.
    pub fn parse(text: &str) -> Result<Self, UriError> {
        let rest = strip_scheme(text).ok_or(UriError::MissingScheme)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, raw) = attr
                .split_once('=')
                .ok_or_else(|| UriError::MissingEquals(redact_attribute(attr)))?;
            if canonical_name(name) == "pin-value" {
                return Err(UriError::PinValueRefused);
            }
            uri.set_path_attribute(name, raw)?;
        }
        for attr in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|a| !a.is_empty())
        {
            let (name, raw) = attr.split_once('=').ok_or_else(|| {
                if canonical_name(attr) == "pin-value" {
                    UriError::PinValueRefused
                } else {
                    UriError::MissingEquals(attr.to_owned())
                }
            })?;
            if canonical_name(name) == "pin-value" {
                return Err(UriError::PinValueRefused);
            }
            if name == "pin-source" && !is_pin_source_form(raw) {
                return Err(UriError::BadPinSource);
            }
            uri.set_query_attribute(name, raw)?;
        }
        Ok(uri)
    }

    fn set_path_attribute(&mut self, name: &str, raw: &str) -> Result<(), UriError> {
        let text = || decode_text(name, raw);
        match name {
            "token" => put(name, &mut self.token, text()?),
            "manufacturer" => put(name, &mut self.manufacturer, text()?),
            "serial" => put(name, &mut self.serial, text()?),
            "model" => put(name, &mut self.model, text()?),
            "library-manufacturer" => put(name, &mut self.library_manufacturer, text()?),
            "library-description" => put(name, &mut self.library_description, text()?),
            "library-version" => put(name, &mut self.library_version, text()?),
            "slot-description" => put(name, &mut self.slot_description, text()?),
            "slot-manufacturer" => put(name, &mut self.slot_manufacturer, text()?),
            "object" => put(name, &mut self.object, text()?),
            "slot-id" => {
                let value = text()?;
                let id = value
                    .parse::<u64>()
                    .map_err(|_| UriError::BadSlotId(value.clone()))?;
                put(name, &mut self.slot_id, id)
            }
            "id" => {
                let bytes = percent_decode(raw)
                    .ok_or_else(|| UriError::BadPercentEncoding(name.to_owned()))?;
                put(name, &mut self.id, bytes)
            }
            "type" => {
                let value = text()?;
                let kind = match value.as_str() {
                    "public" => ObjectType::Public,
                    "private" => ObjectType::Private,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    _ => return Err(UriError::BadType(value)),
                };
                put(name, &mut self.object_type, kind)
            }
            vendor if vendor.starts_with("x-") => Ok(()),
            other => Err(UriError::UnknownAttribute(other.to_owned())),
        }
    }

    fn set_query_attribute(&mut self, name: &str, raw: &str) -> Result<(), UriError> {
        match name {
            "module-path" => put(name, &mut self.module_path, decode_text(name, raw)?),
            "module-name" => put(name, &mut self.module_name, decode_text(name, raw)?),
            "pin-source" => put(name, &mut self.pin_source, decode_text(name, raw)?),
            "pin-value" => Err(UriError::PinValueRefused),
            vendor if vendor.starts_with("x-") => Ok(()),
            other => Err(UriError::UnknownAttribute(other.to_owned())),
        }
    }

    /// A short human description of the token part, for error messages (`token "kyso"`).
    pub fn describe_token(&self) -> String {
        let mut parts = Vec::new();
        if let Some(t) = &self.token {
            parts.push(format!("token=\"{t}\""));
        }
        if let Some(s) = &self.serial {
            parts.push(format!("serial=\"{s}\""));
        }
        if let Some(m) = &self.manufacturer {
            parts.push(format!("manufacturer=\"{m}\""));
        }
        if let Some(m) = &self.model {
            parts.push(format!("model=\"{m}\""));
        }
        if let Some(id) = self.slot_id {
            parts.push(format!("slot-id={id}"));
        }
        if let Some(d) = &self.slot_description {
            parts.push(format!("slot-description=\"{d}\""));
        }
        if parts.is_empty() {
            "any token".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// A short human description of the object part, for error messages.
    pub fn describe_object(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = &self.object {
            parts.push(format!("object=\"{o}\""));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id={}", hex::encode(id)));
        }
        if parts.is_empty() {
            "(any object)".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

/// Quotes a URI for an error message with PIN material blanked out, so that a malformed URI
/// carrying a PIN never puts the PIN into a log line: every `pin-value`, in the path or the
/// query, in any case and percent-encoded or not (`PIN-VALUE=`, `pin%2Dvalue=`), and any
/// `pin-source` that is not `file:…`, `env:…` or `prompt` (`pin-source=1234` is a PIN given in
/// the wrong place).
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut attribute = String::new();
    for c in text.chars() {
        if matches!(c, ';' | '?' | '&') {
            out.push_str(&redact_attribute(&attribute));
            out.push(c);
            attribute.clear();
        } else {
            attribute.push(c);
        }
    }
    out.push_str(&redact_attribute(&attribute));
    out
}

/// One `name=value` with its value blanked when it is, or may be, a PIN.
fn redact_attribute(attribute: &str) -> String {
    let Some((name, value)) = attribute.split_once('=') else {
        return attribute.to_owned();
    };
    let name_decoded = canonical_name(name);
    // The part before `pkcs11:` is the scheme, not an attribute.
    let name_decoded = name_decoded
        .rsplit_once(':')
        .map_or(name_decoded.as_str(), |(_, n)| n)
        .to_owned();
    let hidden = match name_decoded.as_str() {
        "pin-value" => true,
        "pin-source" => !is_pin_source_form(value),
        _ => false,
    };
    if hidden {
        format!("{name}=<redacted>")
    } else {
        attribute.to_owned()
    }
}

/// An attribute name as RFC 7512 compares it: percent-decoded, lower-cased.
fn canonical_name(name: &str) -> String {
    percent_decode(name)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| name.to_owned())
        .to_ascii_lowercase()
}

/// Whether a `pin-source` value has one of the forms kyso reads (and so names a place, not a PIN).
fn is_pin_source_form(raw: &str) -> bool {
    let value = percent_decode(raw)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    value.starts_with("file:") || value.starts_with("env:") || value == "prompt"
}

fn strip_scheme(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once(':')?;
    scheme.eq_ignore_ascii_case("pkcs11").then_some(rest)
}

fn put<T>(name: &str, slot: &mut Option<T>, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Repeated(name.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

fn decode_text(name: &str, raw: &str) -> Result<String, UriError> {
    let bytes = percent_decode(raw).ok_or_else(|| UriError::BadPercentEncoding(name.to_owned()))?;
    String::from_utf8(bytes).map_err(|_| UriError::NotUtf8(name.to_owned()))
}

/// RFC 3986 §2.1 percent-decoding. `None` on a `%` not followed by two hex digits.
fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            // Two hex digits: at most 0xff.
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Percent-encodes everything outside the characters RFC 7512 lets both path and query carry
/// literally (`&`, `;` and `?` are separators somewhere, so they are always encoded).
fn percent_encode(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~:[]@!$'()*+,=/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The canonical text form; it round-trips through [`Pkcs11Uri::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = Vec::new();
        let mut text_attr = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                let mut s = format!("{name}=");
                percent_encode(v.as_bytes(), &mut s);
                path.push(s);
            }
        };
        text_attr("token", &self.token);
        text_attr("manufacturer", &self.manufacturer);
        text_attr("serial", &self.serial);
        text_attr("model", &self.model);
        text_attr("library-manufacturer", &self.library_manufacturer);
        text_attr("library-description", &self.library_description);
        text_attr("library-version", &self.library_version);
        text_attr("slot-description", &self.slot_description);
        text_attr("slot-manufacturer", &self.slot_manufacturer);
        text_attr("object", &self.object);
        if let Some(id) = self.slot_id {
            path.push(format!("slot-id={id}"));
        }
        if let Some(id) = &self.id {
            let mut s = "id=".to_owned();
            for b in id {
                s.push_str(&format!("%{b:02X}"));
            }
            path.push(s);
        }
        if let Some(t) = self.object_type {
            path.push(format!(
                "type={}",
                match t {
                    ObjectType::Public => "public",
                    ObjectType::Private => "private",
                    ObjectType::Cert => "cert",
                    ObjectType::SecretKey => "secret-key",
                    ObjectType::Data => "data",
                }
            ));
        }
        let mut query = Vec::new();
        for (name, value) in [
            ("module-name", &self.module_name),
            ("module-path", &self.module_path),
            ("pin-source", &self.pin_source),
        ] {
            if let Some(v) = value {
                let mut s = format!("{name}=");
                percent_encode(v.as_bytes(), &mut s);
                query.push(s);
            }
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({self})")
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pkcs11Uri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rfc7512_examples() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(uri.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(uri.object_type, Some(ObjectType::Cert));
        assert_eq!(
            uri.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        assert_eq!(uri.serial.as_deref(), Some(""));

        let uri = Pkcs11Uri::parse(
            "pkcs11:object=my-sign-key;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(
            uri.module_path.as_deref(),
            Some("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(uri.pin_source.as_deref(), Some("file:/etc/token_pin"));
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        assert_eq!(
            Pkcs11Uri::parse("PKCS11:slot-id=3").unwrap().slot_id,
            Some(3)
        );
    }

    #[test]
    fn rejects_what_would_select_the_wrong_key() {
        let cases = [
            ("pkcs:token=a", UriError::MissingScheme),
            (
                "pkcs11:objcet=a",
                UriError::UnknownAttribute("objcet".into()),
            ),
            ("pkcs11:token=a;token=b", UriError::Repeated("token".into())),
            ("pkcs11:token", UriError::MissingEquals("token".into())),
            ("pkcs11:id=%G1", UriError::BadPercentEncoding("id".into())),
            ("pkcs11:id=%1", UriError::BadPercentEncoding("id".into())),
            ("pkcs11:object=%FF", UriError::NotUtf8("object".into())),
            ("pkcs11:slot-id=x", UriError::BadSlotId("x".into())),
            ("pkcs11:type=key", UriError::BadType("key".into())),
            ("pkcs11:token=a?pin-value=1234", UriError::PinValueRefused),
            ("pkcs11:token=a?pin-value", UriError::PinValueRefused),
        ];
        for (text, want) in cases {
            assert_eq!(Pkcs11Uri::parse(text), Err(want), "{text}");
        }
    }

    #[test]
    fn vendor_attributes_are_ignored() {
        let uri = Pkcs11Uri::parse("pkcs11:token=a;x-foo=bar?x-baz=1").unwrap();
        assert_eq!(uri.token.as_deref(), Some("a"));
    }

    #[test]
    fn redaction_hides_pin_value() {
        let text = "pkcs11:token=a?module-path=/m.so&pin-value=314159";
        let shown = redact(text);
        assert!(!shown.contains("314159"));
        assert!(shown.contains("module-path=/m.so"));
    }

    /// Issue 15 (8): every spelling of a PIN in a URI is blanked before a message is built,
    /// and parsing refuses it without quoting it.
    #[test]
    fn every_spelling_of_a_pin_is_redacted_and_refused() {
        for text in [
            "pkcs11:token=a;pin-value=314159",
            "pkcs11:token=a?PIN-VALUE=314159",
            "pkcs11:token=a?Pin-Value=314159&module-path=/m.so",
            "pkcs11:token=a?pin%2Dvalue=314159",
            "pkcs11:token=a?pin%2dvalue=314159",
            "pkcs11:token=a;pin%2Dvalue=314159;object=k",
            "pkcs11:token=a?pin-source=314159",
            "pkcs11:token=a?pin-source=%33%31%34%31%35%39",
        ] {
            let shown = redact(text);
            assert!(!shown.contains("314159"), "{text} → {shown}");
            assert!(!shown.contains("%33%31"), "{text} → {shown}");
            assert!(shown.starts_with("pkcs11:token=a"), "{text} → {shown}");
            let refused = Pkcs11Uri::parse(text).unwrap_err();
            assert!(
                matches!(refused, UriError::PinValueRefused | UriError::BadPinSource),
                "{text}: {refused:?}"
            );
            assert!(!refused.to_string().contains("314159"), "{text}: {refused}");
            let error = crate::token::parse_uri(text).unwrap_err().to_string();
            assert!(!error.contains("314159"), "{text}: {error}");
        }
        for kept in [
            "pkcs11:token=a?pin-source=file:/etc/kyso/pin",
            "pkcs11:token=a?pin-source=env:KYSO_PIN",
            "pkcs11:token=a?pin-source=prompt",
        ] {
            assert_eq!(redact(kept), kept);
            Pkcs11Uri::parse(kept).unwrap();
        }
    }

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("\\PC{0,12}")
    }

    proptest! {
        #[test]
        fn display_round_trips(
            token in opt_text(), object in opt_text(), serial in opt_text(),
            id in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
            slot_id in proptest::option::of(any::<u64>()),
            module_path in opt_text(),
            pin_source in proptest::option::of(prop_oneof![
                "file:/[a-zé/ ]{1,12}", "env:[A-Z_]{1,8}", Just("prompt".to_owned())
            ]),
        ) {
            let uri = Pkcs11Uri { token, object, serial, id, slot_id, module_path, pin_source, ..Default::default() };
            let text = uri.to_string();
            prop_assert_eq!(Pkcs11Uri::parse(&text).unwrap(), uri);
        }

        #[test]
        fn parse_never_panics(text in "pkcs11:\\PC{0,64}") {
            let _ = Pkcs11Uri::parse(&text);
        }
    }
}
