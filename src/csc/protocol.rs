//! The CSC API's methods as kyso calls them, one function each: `info`, `credentials/info`,
//! `credentials/authorize`, `signatures/signHash` (Cloud Signature Consortium, API v2.0 §11, and
//! v1.0.4 §11, whose field names differ: `hash`/`hashAlgo` there, `hashes`/`hashAlgorithmOID`
//! and `authData` here). Every call is a JSON POST through [`crate::http`]: one deadline, no
//! redirects (the token stays with the origin it was configured for), answers over
//! [`super::MAX_RESPONSE`] refused, statuses read here.
//!
//! Owns: the wire. Refuses: an answer that is not the JSON the method defines, a base64 value
//! that does not decode. Decides nothing about keys or algorithms beyond naming them.
//!
//! `signatures/signHash` answers with [`SignHashOutcome`]: `Signed`, or — in v2's asynchronous
//! mode (`operationMode: "A"` with `validity_period`, v2.0.0.2 §11.10) — `Pending` with the
//! `responseID`, whose outcome `signatures/signPolling` asks for later ([`PollOutcome`]). v1.0.4
//! has no asynchronous mode. `response_uri` (a callback) is never sent: the caller polls.

use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Error, MAX_RESPONSE};
use crate::http::{self, Failure, TlsRoots};
use crate::oid;
use crate::signer::{DigestAlgorithm, SignatureAlgorithm};

/// The CSC API versions kyso speaks; the service says which in `info`'s `specs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 1.0.4.0, still what many deployed services and clients speak (pyHanko's CSCSigner).
    V1,
    /// 2.0.x.
    V2,
}

/// One service: its base URL, version, agent and access token.
pub(crate) struct Service {
    base: String,
    version: Version,
    agent: ureq::Agent,
    bearer: Option<SecretString>,
    timeout: Duration,
}

/// What `credentials/info` says about a credential.
pub(crate) struct CredentialInfo {
    /// The signer's certificate first, then its issuers, DER.
    pub certificates: Vec<Vec<u8>>,
    /// The signature algorithms offered, as dotted OIDs.
    pub algorithms: Vec<String>,
    /// `key.status` is `disabled`.
    pub disabled: bool,
}

/// What `credentials/authorize` presents besides the hashes.
pub(crate) struct Activation<'a> {
    pub pin: Option<&'a SecretString>,
    pub otp: Option<&'a SecretString>,
}

/// Signature activation data: what `signHash` presents, bound by the service to the hashes.
pub(crate) struct Sad(SecretString);

/// How `signatures/signHash` is asked to answer (v2 `operationMode`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum OperationMode {
    /// "S": the signatures in the answer.
    Synchronous,
    /// "A": a `responseID` in the answer; the service keeps the outcome for `validity` (sent as
    /// `validity_period`, in milliseconds).
    Asynchronous { validity: Duration },
}

/// How `signatures/signHash` answered.
pub(crate) enum SignHashOutcome {
    /// The signatures, in the order of the hashes.
    Signed(Vec<Vec<u8>>),
    /// Asynchronous mode: the id `signatures/signPolling` takes.
    Pending { response_id: String },
}

/// What `signatures/signPolling` said of an asynchronous request.
pub(crate) enum PollOutcome {
    /// The signatures, in the order of the hashes.
    Signed(Vec<Vec<u8>>),
    /// Accepted, not completed yet (the holder has not confirmed).
    Pending,
    /// The holder (or the service) refused it; the service's reason, shortened.
    Refused { reason: String },
    /// Its `validity_period` passed, or the service no longer knows the id.
    Expired { reason: String },
}

/// The `signAlgo` (and, for PSS, `signAlgoParams`) of one signature algorithm, as the service
/// offers it.
#[derive(Clone, Debug)]
pub(crate) struct SignAlgo {
    oid: &'static str,
    /// DER `RSASSA-PSS-params`, base64, for RSA-PSS.
    params: Option<String>,
    /// Whether the OID leaves the hash unnamed (`rsaEncryption`), so `hashAlgo` must say it.
    needs_hash: bool,
}

impl SignAlgo {
    /// The OID for `algorithm` among those `offered` (dotted): the one that names its digest
    /// where offered (sha256WithRSAEncryption, ecdsa-with-SHA256), else `rsaEncryption` with
    /// the hash given separately. An empty list (the field is required, but not always sent)
    /// is taken to offer the first choice.
    pub(crate) fn for_algorithm(
        algorithm: SignatureAlgorithm,
        offered: &[String],
    ) -> Option<SignAlgo> {
        let is_offered = |oid: &str| offered.is_empty() || offered.iter().any(|o| o == oid);
        let named = |oid: oid::Oid| {
            is_offered(oid.dotted()).then(|| SignAlgo {
                oid: oid.dotted(),
                params: None,
                needs_hash: false,
            })
        };
        match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(d) => named(match d {
                DigestAlgorithm::Sha256 => oid::SHA256_WITH_RSA,
                DigestAlgorithm::Sha384 => oid::SHA384_WITH_RSA,
                DigestAlgorithm::Sha512 => oid::SHA512_WITH_RSA,
            })
            .or_else(|| {
                is_offered(oid::RSA_ENCRYPTION.dotted()).then(|| SignAlgo {
                    oid: oid::RSA_ENCRYPTION.dotted(),
                    params: None,
                    needs_hash: true,
                })
            }),
            SignatureAlgorithm::RsaPss(_) => {
                let params = pss_params(algorithm)?;
                is_offered(oid::RSASSA_PSS.dotted()).then(|| SignAlgo {
                    oid: oid::RSASSA_PSS.dotted(),
                    params: Some(base64::engine::general_purpose::STANDARD.encode(params)),
                    needs_hash: true,
                })
            }
            SignatureAlgorithm::Ecdsa(_, d) => named(match d {
                DigestAlgorithm::Sha256 => oid::ECDSA_WITH_SHA256,
                DigestAlgorithm::Sha384 => oid::ECDSA_WITH_SHA384,
                DigestAlgorithm::Sha512 => oid::ECDSA_WITH_SHA512,
            }),
        }
    }
}

/// The `RSASSA-PSS-params` kyso's CMS names for `algorithm` (RFC 4055 §3.1), read back out of
/// the AlgorithmIdentifier the CMS builder writes, so that the two cannot differ.
fn pss_params(algorithm: SignatureAlgorithm) -> Option<Vec<u8>> {
    use crate::ber::{self, tag};
    let identifier = crate::cms::signature_algorithm_identifier(algorithm);
    let element = ber::der(&identifier, "AlgorithmIdentifier").ok()?;
    let mut fields = element
        .expect(tag::SEQUENCE, "AlgorithmIdentifier")
        .ok()?
        .fields();
    fields.expect(tag::OID, "algorithm").ok()?;
    let params = fields.expect(tag::SEQUENCE, "RSASSA-PSS-params").ok()?;
    Some(params.raw.to_vec())
}

impl Service {
    /// A client for the service at `base`, its version read from `info` (`specs`).
    pub(crate) fn connect(
        base: &str,
        bearer: Option<SecretString>,
        roots: &TlsRoots,
        timeout: Duration,
    ) -> Result<Service, Error> {
        if bearer.is_some() && !secrets_may_go_to(base) {
            return Err(Error::CredentialsOverHttp {
                url: base.to_owned(),
            });
        }
        let agent: ureq::Agent = http::config(timeout, roots)
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut service = Service {
            base: base.to_owned(),
            // What `info` is asked with; its request is the same in both versions.
            version: Version::V2,
            agent,
            bearer,
            timeout,
        };
        #[derive(Deserialize)]
        struct Info {
            specs: String,
        }
        let info: Info = service.call("info", &json!({}))?;
        service.version = if info.specs.starts_with("1.") {
            Version::V1
        } else if info.specs.starts_with("2.") {
            Version::V2
        } else {
            return Err(Error::UnsupportedVersion {
                url: base.to_owned(),
                specs: shown(&info.specs),
            });
        };
        Ok(service)
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    pub(crate) fn bearer(&self) -> Option<&SecretString> {
        self.bearer.as_ref()
    }

    /// `credentials/info` with the whole chain. A 404, or a 400 that names the credential
    /// (v2 §11.5: `invalid_request`, "Invalid parameter credentialID"), is a credential that
    /// does not exist.
    pub(crate) fn credential_info(&self, credential: &str) -> Result<CredentialInfo, Error> {
        #[derive(Deserialize)]
        struct Answer {
            key: Key,
            cert: Option<Cert>,
        }
        #[derive(Deserialize)]
        struct Key {
            status: Option<String>,
            #[serde(default)]
            algo: Vec<String>,
        }
        #[derive(Deserialize)]
        struct Cert {
            #[serde(default)]
            certificates: Vec<String>,
        }
        const METHOD: &str = "credentials/info";
        let request = json!({ "credentialID": credential, "certificates": "chain" });
        let answer: Answer = self.call(METHOD, &request).map_err(|e| match e {
            Error::Refused { status: 404, .. } => self.not_found(credential),
            Error::Refused {
                status: 400,
                ref reason,
                ..
            } if reason.contains("credentialID") => self.not_found(credential),
            e => e,
        })?;
        let certificates = answer
            .cert
            .map(|c| c.certificates)
            .unwrap_or_default()
            .iter()
            .map(|b64| decode(METHOD, "a certificate", b64))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CredentialInfo {
            certificates,
            // OIDs, shown in errors: cleaned as any provider text is.
            algorithms: answer.key.algo.iter().map(|a| shown(a)).collect(),
            disabled: answer.key.status.as_deref() == Some("disabled"),
        })
    }

    /// `credentials/authorize` for exactly `hashes` (so the SAD is bound to them, SCAL 2), with
    /// the PIN and OTP if the credential wants them. Any 4xx but 401 is a refusal.
    pub(crate) fn authorize(
        &self,
        credential: &str,
        hashes: &[Vec<u8>],
        digest: DigestAlgorithm,
        activation: &Activation<'_>,
    ) -> Result<Sad, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "SAD")]
            sad: String,
        }
        let encoded: Vec<String> = hashes.iter().map(|h| b64(h)).collect();
        let mut request = json!({
            "credentialID": credential,
            "numSignatures": hashes.len(),
        });
        match self.version {
            Version::V1 => {
                request["hash"] = json!(encoded);
                if let Some(pin) = activation.pin {
                    request["PIN"] = json!(pin.expose_secret());
                }
                if let Some(otp) = activation.otp {
                    request["OTP"] = json!(otp.expose_secret());
                }
            }
            Version::V2 => {
                request["hashes"] = json!(encoded);
                request["hashAlgorithmOID"] = json!(digest.oid().dotted());
                let mut auth_data = Vec::new();
                if let Some(pin) = activation.pin {
                    auth_data.push(json!({ "id": "PIN", "value": pin.expose_secret() }));
                }
                if let Some(otp) = activation.otp {
                    auth_data.push(json!({ "id": "OTP", "value": otp.expose_secret() }));
                }
                if !auth_data.is_empty() {
                    request["authData"] = Value::Array(auth_data);
                }
            }
        }
        let result: Result<Answer, Error> = self.call("credentials/authorize", &request);
        // The request held secrets: wipe its strings now, whatever the answer.
        zeroize_json(&mut request);
        let answer = result.map_err(|e| match e {
            Error::Refused { reason, .. } => Error::AuthorizationRefused {
                url: self.base.clone(),
                credential: credential.to_owned(),
                reason,
            },
            e => e,
        })?;
        Ok(Sad(SecretString::from(answer.sad)))
    }

    /// `signatures/signHash`: the signatures in the order of `hashes`, or (asked with
    /// [`OperationMode::Asynchronous`], v2 only) the `responseID` to poll with.
    pub(crate) fn sign_hash(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        digest: DigestAlgorithm,
        algo: &SignAlgo,
        mode: OperationMode,
    ) -> Result<SignHashOutcome, Error> {
        #[derive(Deserialize)]
        struct Answer {
            signatures: Option<Vec<String>>,
            #[serde(rename = "responseID")]
            response_id: Option<String>,
        }
        const METHOD: &str = "signatures/signHash";
        if let (Version::V1, OperationMode::Asynchronous { .. }) = (self.version, mode) {
            return Err(Error::AsynchronousUnsupported {
                url: self.base.clone(),
            });
        }
        let encoded: Vec<String> = hashes.iter().map(|h| b64(h)).collect();
        let mut request = json!({
            "credentialID": credential,
            "SAD": sad.0.expose_secret(),
            "signAlgo": algo.oid,
        });
        match self.version {
            Version::V1 => {
                request["hash"] = json!(encoded);
                if algo.needs_hash {
                    request["hashAlgo"] = json!(digest.oid().dotted());
                }
            }
            Version::V2 => {
                request["hashes"] = json!(encoded);
                request["hashAlgorithmOID"] = json!(digest.oid().dotted());
                match mode {
                    OperationMode::Synchronous => request["operationMode"] = json!("S"),
                    OperationMode::Asynchronous { validity } => {
                        request["operationMode"] = json!("A");
                        // Milliseconds (v2.0.0.2 §11.10); the spec's type is an integer.
                        let millis = u64::try_from(validity.as_millis()).unwrap_or(u64::MAX);
                        request["validity_period"] = json!(millis.min(i32::MAX as u64));
                    }
                }
            }
        }
        if let Some(params) = &algo.params {
            request["signAlgoParams"] = json!(params);
        }
        let result: Result<Answer, Error> = self.call(METHOD, &request);
        zeroize_json(&mut request);
        let answer = result?;
        match (answer.signatures, answer.response_id, mode) {
            (Some(signatures), _, _) => {
                Ok(SignHashOutcome::Signed(decode_all(METHOD, &signatures)?))
            }
            (None, Some(id), OperationMode::Asynchronous { .. }) => {
                check_response_id(&id).map_err(|reason| Error::Malformed {
                    method: METHOD,
                    reason: reason.to_owned(),
                })?;
                Ok(SignHashOutcome::Pending { response_id: id })
            }
            (None, Some(_), OperationMode::Synchronous) => Err(Error::Asynchronous {
                url: self.base.clone(),
            }),
            (None, None, _) => Err(Error::Malformed {
                method: METHOD,
                reason: "neither signatures nor responseID".to_owned(),
            }),
        }
    }

    /// `signatures/signPolling` (CSC v2): the outcome of an asynchronous `signHash`.
    /// The id goes as `responseID`, the name `signHash` gave it, and as `requestID`, the name
    /// deployed services (SIGN8's, among others) read. A completed request answers with
    /// `signatures`; one not completed yet answers with none, or with HTTP 400 whose
    /// description says it "has not yet been completed" (the spec's wording); a refusal
    /// (`access_denied`, or a description that says refused, rejected, denied or cancelled) and
    /// an expiry (HTTP 404 or 410, or a description that says expired) are outcomes, not errors.
    /// Any other refusal is an [`Error::Refused`]: not understood, so nothing is decided.
    pub(crate) fn sign_polling(&self, response_id: &str) -> Result<PollOutcome, Error> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            signatures: Vec<String>,
        }
        const METHOD: &str = "signatures/signPolling";
        check_response_id(response_id).map_err(|reason| Error::Malformed {
            method: METHOD,
            reason: reason.to_owned(),
        })?;
        let request = json!({ "responseID": response_id, "requestID": response_id });
        match self.call::<Answer>(METHOD, &request) {
            Ok(answer) if answer.signatures.is_empty() => Ok(PollOutcome::Pending),
            Ok(answer) => Ok(PollOutcome::Signed(decode_all(METHOD, &answer.signatures)?)),
            Err(Error::Refused { status, reason, .. }) => {
                polling_refusal(status, reason).map_err(|(status, reason)| Error::Refused {
                    url: self.base.clone(),
                    method: METHOD,
                    status,
                    reason,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn not_found(&self, credential: &str) -> Error {
        Error::CredentialNotFound {
            url: self.base.clone(),
            credential: credential.to_owned(),
        }
    }

    /// POSTs `request` to `{base}/{method}` and reads the 200 answer as `T`. 401 is
    /// [`Error::Unauthorized`]; another 4xx is [`Error::Refused`] with the service's CSC error
    /// (`error`, `error_description`, shortened); anything else [`Error::HttpStatus`].
    fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        request: &Value,
    ) -> Result<T, Error> {
        let url = format!("{}/{method}", self.base);
        let body =
            zeroize::Zeroizing::new(serde_json::to_vec(request).map_err(|e| Error::Malformed {
                method,
                reason: format!("the request does not serialise: {e}"),
            })?);
        let mut call = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        if let Some(token) = &self.bearer {
            let header = zeroize::Zeroizing::new(format!("Bearer {}", token.expose_secret()));
            let mut value = ureq::http::HeaderValue::from_str(&header).map_err(|_| {
                Error::Secret(crate::secret::Error::BadSource {
                    reason: "the access token is not valid in an HTTP header",
                })
            })?;
            value.set_sensitive(true);
            call = call.header(ureq::http::header::AUTHORIZATION, value);
        }
        let sent = call.send(&body[..]);
        drop(body);
        let mut response = sent.map_err(|e| self.transport_error(&url, method, e))?;
        let status = response.status().as_u16();
        // An answer may carry a SAD: wiped once read.
        let answer = zeroize::Zeroizing::new(
            http::read_body(&mut response, MAX_RESPONSE)
                .map_err(|e| self.transport_error(&url, method, e))?,
        );
        match status {
            200 => serde_json::from_slice(&answer).map_err(|e| Error::Malformed {
                method,
                reason: format!("not the JSON {method} answers with: {e}"),
            }),
            401 => Err(Error::Unauthorized {
                url,
                credentials_sent: self.bearer.is_some(),
            }),
            400..=499 => Err(Error::Refused {
                url: self.base.clone(),
                method,
                status,
                reason: csc_error(&answer),
            }),
            status => Err(Error::HttpStatus {
                url: self.base.clone(),
                method,
                status,
            }),
        }
    }

    fn transport_error(&self, url: &str, method: &'static str, error: ureq::Error) -> Error {
        let url = url.to_owned();
        match http::failure(error) {
            Failure::Timeout => Error::Timeout {
                url,
                deadline: self.timeout,
            },
            Failure::TooLarge(limit) => Error::TooLarge { method, limit },
            Failure::Tls(reason) => Error::Tls { url, reason },
            Failure::Unreachable(reason) => Error::Unreachable { url, reason },
        }
    }
}

/// Whether secrets may be sent to `base`: over `https://`, or `http://` to a loopback host.
fn secrets_may_go_to(base: &str) -> bool {
    http::url_parts(base).is_some_and(|p| p.https || http::is_loopback_host(p.host))
}

/// The reason a CSC error body gives (`error`: `error_description`, §10.1), or what it is.
fn csc_error(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct CscError {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<CscError>(body) {
        Ok(CscError {
            error: Some(error),
            error_description,
        }) => match error_description {
            Some(description) => format!("{}: {}", shown(&error), shown(&description)),
            None => shown(&error),
        },
        _ => "no CSC error in the answer".to_owned(),
    }
}

/// A provider's text as kyso shows it: at most 200 characters, no control characters (it goes
/// into log lines and problem documents).
fn shown(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What a 4xx answer to `signatures/signPolling` says (`reason`: the CSC error and its
/// description, as [`csc_error`] shows them): pending, expired, refused, or — given back —
/// not understood.
fn polling_refusal(status: u16, reason: String) -> Result<PollOutcome, (u16, String)> {
    let said = reason.to_lowercase();
    if said.contains("not yet been completed") || said.contains("pending") {
        Ok(PollOutcome::Pending)
    } else if status == 404 || status == 410 || said.contains("expired") {
        Ok(PollOutcome::Expired { reason })
    } else if ["access_denied", "refused", "rejected", "denied", "cancel"]
        .iter()
        .any(|word| said.contains(word))
    {
        Ok(PollOutcome::Refused { reason })
    } else {
        Err((status, reason))
    }
}

fn decode_all(method: &'static str, values: &[String]) -> Result<Vec<Vec<u8>>, Error> {
    values
        .iter()
        .map(|b64| decode(method, "a signature", b64))
        .collect()
}

/// A `responseID` is kept in the job table and sent back in JSON: printable, and bounded.
fn check_response_id(id: &str) -> Result<(), &'static str> {
    if !id.is_empty() && id.len() <= 512 && id.chars().all(|c| !c.is_control()) {
        Ok(())
    } else {
        Err("responseID: 1 to 512 bytes without control characters")
    }
}

fn decode(method: &'static str, what: &str, text: &str) -> Result<Vec<u8>, Error> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::Malformed {
            method,
            reason: format!("{what} is not base64: {e}"),
        })
}

/// Overwrites every string in `value` (a request that carried a PIN, OTP or SAD) with zeros.
fn zeroize_json(value: &mut Value) {
    match value {
        Value::String(s) => zeroize::Zeroize::zeroize(s),
        Value::Array(items) => items.iter_mut().for_each(zeroize_json),
        Value::Object(map) => map.values_mut().for_each(zeroize_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::Curve;

    #[test]
    fn sign_algo_prefers_the_oid_naming_the_digest() {
        let rsa = SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256);
        let both = vec![
            "1.2.840.113549.1.1.1".to_owned(),
            "1.2.840.113549.1.1.11".to_owned(),
        ];
        let a = SignAlgo::for_algorithm(rsa, &both).unwrap();
        assert_eq!((a.oid, a.needs_hash), ("1.2.840.113549.1.1.11", false));
        let plain = vec!["1.2.840.113549.1.1.1".to_owned()];
        let a = SignAlgo::for_algorithm(rsa, &plain).unwrap();
        assert_eq!((a.oid, a.needs_hash), ("1.2.840.113549.1.1.1", true));
        let ec = SignatureAlgorithm::Ecdsa(Curve::P384, DigestAlgorithm::Sha384);
        assert_eq!(
            SignAlgo::for_algorithm(ec, &[]).unwrap().oid,
            "1.2.840.10045.4.3.3"
        );
        assert!(SignAlgo::for_algorithm(ec, &plain).is_none());
        let pss = SignAlgo::for_algorithm(
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
            &["1.2.840.113549.1.1.10".to_owned()],
        )
        .unwrap();
        assert!(pss.params.is_some());
    }

    #[test]
    fn secrets_go_over_tls_or_to_this_machine_only() {
        for ok in [
            "https://sign.example.vn/csc/v2",
            "http://127.0.0.1:8080/csc/v1",
            "http://localhost/csc/v2",
            "http://[::1]:9/csc/v2",
        ] {
            assert!(secrets_may_go_to(ok), "{ok}");
        }
        for refused in [
            "http://sign.example.vn/csc/v2",
            "http://10.0.0.1/csc",
            "ftp://x",
        ] {
            assert!(!secrets_may_go_to(refused), "{refused}");
        }
    }

    #[test]
    fn polling_answers_are_read_leniently_and_the_unknown_decides_nothing() {
        let read = |status, body: &[u8]| polling_refusal(status, csc_error(body));
        let not_completed = br#"{"error":"invalid_request","error_description":"The previous asynchronous signature request has been accepted for processing, but the processing has not yet been completed."}"#;
        assert!(matches!(read(400, not_completed), Ok(PollOutcome::Pending)));
        assert!(matches!(
            read(400, br#"{"error":"access_denied","error_description":"x"}"#),
            Ok(PollOutcome::Refused { .. })
        ));
        assert!(matches!(
            read(400, br#"{"error":"invalid_request","error_description":"The user rejected the request"}"#),
            Ok(PollOutcome::Refused { .. })
        ));
        assert!(matches!(
            read(
                400,
                br#"{"error":"invalid_request","error_description":"responseID expired"}"#
            ),
            Ok(PollOutcome::Expired { .. })
        ));
        assert!(matches!(
            read(404, b"<html>"),
            Ok(PollOutcome::Expired { .. })
        ));
        // Not understood: an error, so the job stays pending until its deadline.
        assert!(matches!(
            read(
                400,
                br#"{"error":"invalid_request","error_description":"Missing parameter"}"#
            ),
            Err((400, _))
        ));
        assert!(read(429, b"{}").is_err());
    }

    #[test]
    fn provider_errors_are_shortened_and_cleaned() {
        let body = br#"{"error":"invalid_request","error_description":"Invalid parameter credentialID\n"}"#;
        assert_eq!(
            csc_error(body),
            "invalid_request: Invalid parameter credentialID"
        );
        assert_eq!(csc_error(b"<html>"), "no CSC error in the answer");
        assert_eq!(shown(&"x".repeat(1000)).len(), 200);
    }
}
