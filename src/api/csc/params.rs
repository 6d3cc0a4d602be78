//! A CSC request's parameters: one JSON object, read within the JSON body limit, and each
//! parameter taken out by name with the specification's words when it is missing or of the
//! wrong type (`Missing (or invalid type) string parameter credentialID`).
//!
//! Unknown parameters are ignored, as CSC clients send vendor fields (`clientData`,
//! `description`); a parameter kyso does act on is never guessed at. Hash values are decoded
//! here once, and refused unless they are as long as a SHA-2 digest kyso signs.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::super::{AppState, read_json_body};
use super::error::CscError;
use crate::signer::DigestAlgorithm;

/// The request's parameters.
pub struct Params(Map<String, Value>);

impl Params {
    /// Reads the body: an empty one is no parameters (`info` may be called so), anything else
    /// must be a JSON object.
    pub async fn read(
        state: &AppState,
        request: axum::extract::Request,
    ) -> Result<Params, CscError> {
        let body = read_json_body(state, request).await?;
        let parsed = body
            .parse(|bytes| {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Value::Object(Map::new()));
                }
                serde_json::from_slice::<Value>(bytes)
            })
            .await?;
        match parsed {
            Ok(Value::Object(map)) => Ok(Params(map)),
            Ok(_) | Err(_) => Err(CscError::invalid("The request body must be a JSON object")),
        }
    }

    /// A required string.
    pub fn string(&self, name: &str) -> Result<&str, CscError> {
        self.optional_string(name)?
            .ok_or_else(|| missing("string", name))
    }

    /// An optional string: absent or `null` is `None`, another type is refused.
    pub fn optional_string(&self, name: &str) -> Result<Option<&str>, CscError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(missing("string", name)),
        }
    }

    /// An optional boolean.
    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, CscError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(missing("boolean", name)),
        }
    }

    /// A required integer.
    pub fn integer(&self, name: &str) -> Result<i64, CscError> {
        self.optional_integer(name)?
            .ok_or_else(|| missing("integer", name))
    }

    /// An optional integer.
    pub fn optional_integer(&self, name: &str) -> Result<Option<i64>, CscError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| missing("integer", name)),
            Some(_) => Err(missing("integer", name)),
        }
    }

    /// Whether `name` is given (not absent, not `null`).
    pub fn has(&self, name: &str) -> bool {
        !matches!(self.0.get(name), None | Some(Value::Null))
    }

    /// A required, non-empty array of Base64 hash values, each as long as a SHA-256, SHA-384 or
    /// SHA-512 digest, at most `max` of them.
    pub fn hashes(&self, name: &str, max: usize) -> Result<Vec<Vec<u8>>, CscError> {
        let Some(Value::Array(items)) = self.0.get(name) else {
            return Err(missing("array", name));
        };
        if items.is_empty() {
            return Err(CscError::invalid("Empty hash array"));
        }
        if items.len() > max {
            return Err(CscError::invalid("Numbers of signatures is too high"));
        }
        items
            .iter()
            .map(|item| {
                let text = item
                    .as_str()
                    .ok_or_else(|| CscError::invalid("Invalid Base64 hash string parameter"))?;
                let hash = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| CscError::invalid("Invalid Base64 hash string parameter"))?;
                if digest_of_len(hash.len()).is_none() {
                    return Err(CscError::invalid("Invalid digest value length"));
                }
                Ok(hash)
            })
            .collect()
    }
}

/// The digest a hash of `len` bytes can be: kyso signs SHA-256, SHA-384 and SHA-512 only.
pub fn digest_of_len(len: usize) -> Option<DigestAlgorithm> {
    [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|d| d.output_len() == len)
}

fn missing(kind: &str, name: &str) -> CscError {
    CscError::invalid(format!("Missing (or invalid type) {kind} parameter {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: Value) -> Params {
        match json {
            Value::Object(map) => Params(map),
            _ => unreachable!("tests give objects"),
        }
    }

    fn description(error: CscError) -> String {
        match error {
            CscError::InvalidRequest { description } => description,
            other => panic!("not invalid_request: {other:?}"),
        }
    }

    #[test]
    fn missing_and_mistyped_parameters_use_the_specifications_words() {
        let p = params(serde_json::json!({"credentialID": 5, "numSignatures": "2", "SAD": null}));
        assert_eq!(
            description(p.string("credentialID").unwrap_err()),
            "Missing (or invalid type) string parameter credentialID"
        );
        assert_eq!(
            description(p.string("SAD").unwrap_err()),
            "Missing (or invalid type) string parameter SAD"
        );
        assert_eq!(
            description(p.integer("numSignatures").unwrap_err()),
            "Missing (or invalid type) integer parameter numSignatures"
        );
        assert!(!p.has("SAD"));
    }

    #[test]
    fn hashes_are_base64_sha2_digests() {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let good = params(serde_json::json!({"hash": [b64(&[1; 32]), b64(&[2; 64])]}));
        assert_eq!(good.hashes("hash", 10).unwrap().len(), 2);
        for (json, words) in [
            (serde_json::json!({"hash": []}), "Empty hash array"),
            (
                serde_json::json!({"hash": "abc"}),
                "Missing (or invalid type) array parameter hash",
            ),
            (
                serde_json::json!({"hash": ["!!"]}),
                "Invalid Base64 hash string parameter",
            ),
            (
                serde_json::json!({"hash": [b64(&[1; 20])]}),
                "Invalid digest value length",
            ),
            (
                serde_json::json!({"hash": [b64(&[1; 32]), b64(&[1; 32])]}),
                "Numbers of signatures is too high",
            ),
        ] {
            let max = 1;
            let p = params(json);
            assert_eq!(description(p.hashes("hash", max).unwrap_err()), words);
        }
    }
}
