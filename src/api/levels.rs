//! The signature level a signing request asks for (`level=B-B|B-T|B-LT`) and what each level
//! needs from the service: B-T the `[tsa]` time-stamping authority; B-LT also the service's own
//! trust anchors, intermediates and revocation evidence (the `[verify]` section), so that the
//! signer's chain is checked before the token signs and the document carries what a verifier
//! needs years later.
//!
//! B-LT trusts only the service's `[verify] trust` anchors, not the root the key's chain ends
//! in: the service records every signature's verdict against those anchors, and a signature it
//! would itself call INDETERMINATE has no business claiming long-term validity.

use std::sync::Arc;

use super::AppState;
use super::problem::ApiError;
use crate::ledger::SignatureLevel;
use crate::pades::{self, LongTerm, Tsa};
use crate::pki::fetch::{OcspNonce, Online};
use crate::pki::{Certificate, Evidence, RevocationSource, Validator};
use crate::verify::Revocation;

/// Each CRL or OCSP request while gathering B-LT evidence: CAs' responders answer in well under
/// a second, and the request's own timeout bounds the whole.
const REVOCATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A level as a request names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requested {
    Basic,
    Timestamp,
    LongTerm,
}

impl Requested {
    /// `B-B` (the default), `B-T` or `B-LT`, in any case; XML signatures stop at B-T.
    pub(super) fn parse(level: Option<&str>, xml: bool) -> Result<Requested, ApiError> {
        let Some(level) = level else {
            return Ok(Requested::Basic);
        };
        let requested = match level.to_ascii_uppercase().as_str() {
            "B-B" => Requested::Basic,
            "B-T" => Requested::Timestamp,
            "B-LT" => Requested::LongTerm,
            _ => {
                return Err(ApiError::BadRequest {
                    reason: format!("level `{level}`: expected B-B, B-T or B-LT"),
                });
            }
        };
        if xml && requested == Requested::LongTerm {
            return Err(ApiError::BadRequest {
                reason: "level B-LT is for PDF; XML signatures are made at B-B or B-T".to_owned(),
            });
        }
        Ok(requested)
    }

    /// Whether the service is configured for this level: a TSA for B-T and B-LT, trust anchors
    /// for B-LT (which validates the signer before signing). Cheap: no network, no token.
    pub(super) fn check(self, state: &AppState) -> Result<(), ApiError> {
        self.tsa(state)?;
        if self == Requested::LongTerm && !state.verifier.has_trust() {
            return Err(ApiError::LevelUnavailable {
                reason: "level B-LT checks the signer's chain before signing, and this service has no trust anchors ([verify] trust)".to_owned(),
            });
        }
        Ok(())
    }

    /// The time-stamping authority this level needs, if any.
    pub(super) fn tsa(self, state: &AppState) -> Result<Option<Tsa>, ApiError> {
        if self == Requested::Basic {
            return Ok(None);
        }
        let tsa = state.tsa.clone().ok_or_else(|| ApiError::LevelUnavailable {
            reason: format!(
                "level {} needs a time-stamping authority, and this service has none ([tsa] url in kyso.toml, KYSO_TSA_URL)",
                self.name()
            ),
        })?;
        Ok(Some(tsa))
    }

    fn name(self) -> &'static str {
        match self {
            Requested::Basic => "B-B",
            Requested::Timestamp => "B-T",
            Requested::LongTerm => "B-LT",
        }
    }
}

/// What a PAdES level needs, owned here so that [`pades::Level`] can borrow it.
pub(super) struct PdfLevel {
    tsa: Option<Tsa>,
    long_term: Option<LongTermParts>,
}

/// The validator and evidence sources of a B-LT signature.
struct LongTermParts {
    validator: Validator,
    evidence: Evidence,
    online: Option<Arc<Online>>,
}

impl PdfLevel {
    /// Everything `requested` needs, or why the service cannot sign at it. `chain` is the
    /// key's configured chain, offered as intermediates.
    pub(super) fn new(
        state: &AppState,
        requested: Requested,
        chain: &[Vec<u8>],
    ) -> Result<PdfLevel, ApiError> {
        requested.check(state)?;
        let tsa = requested.tsa(state)?;
        let long_term = match requested {
            Requested::LongTerm => Some(long_term_parts(state, chain)?),
            Requested::Basic | Requested::Timestamp => None,
        };
        Ok(PdfLevel { tsa, long_term })
    }

    /// Runs `f` with the [`pades::Level`] these parts make.
    pub(super) fn with<T>(&self, f: impl FnOnce(&pades::Level<'_>) -> T) -> T {
        let Some(tsa) = &self.tsa else {
            return f(&pades::Level::BB);
        };
        let Some(parts) = &self.long_term else {
            return f(&pades::Level::BT { tsa: tsa.clone() });
        };
        // Evidence the service holds first, the network second.
        let mut sources: Vec<&dyn RevocationSource> = vec![&parts.evidence];
        if let Some(online) = &parts.online {
            sources.push(online.as_ref());
        }
        f(&pades::Level::BLT {
            tsa: tsa.clone(),
            validation: LongTerm {
                validator: &parts.validator,
                sources: &sources,
            },
        })
    }

    /// The level as the ledger records it.
    pub(super) fn ledger_level(&self) -> SignatureLevel {
        match (&self.tsa, &self.long_term) {
            (None, _) => SignatureLevel::PadesBB,
            (Some(_), None) => SignatureLevel::PadesBT,
            (Some(_), Some(_)) => SignatureLevel::PadesBLt,
        }
    }
}

fn long_term_parts(state: &AppState, chain: &[Vec<u8>]) -> Result<LongTermParts, ApiError> {
    let settings = state.verifier.long_term_settings();
    let mut pool = settings.certificates;
    for der in chain {
        let certificate = Certificate::from_der(der)
            .map_err(|e| ApiError::internal("reading a configured key's chain", &e))?;
        pool.add(certificate);
    }
    let online = (settings.revocation == Revocation::Online)
        .then(|| Arc::new(Online::new(REVOCATION_TIMEOUT, OcspNonce::Optional)));
    let mut validator = Validator::new(
        settings.trust,
        pool,
        crate::pki::ValidationPolicy::default(),
    );
    if let Some(online) = &online {
        validator = validator.with_issuer_source(online.clone());
    }
    Ok(LongTermParts {
        validator,
        evidence: settings.evidence,
        online,
    })
}

/// A PAdES failure beyond the document and the token, as the client should see it.
pub(super) fn pades_error(error: pades::Error) -> ApiError {
    match error {
        // A TSA whose own chain does not reach the service's anchors is a configuration to
        // fix, not an outage to retry.
        e @ pades::Error::TimestampNotValid(crate::pki::timestamp::Error::Path(_)) => {
            ApiError::LevelUnavailable {
                reason: e.to_string(),
            }
        }
        e @ (pades::Error::Timestamp(_)
        | pades::Error::TimestampRejected { .. }
        | pades::Error::TimestampNotValid(_)) => ApiError::Upstream {
            service: "time-stamping authority",
            reason: e.to_string(),
        },
        e @ pades::Error::SignerNotValid { .. } => ApiError::SignerNotValid {
            reason: e.to_string(),
        },
        e => ApiError::internal("signing the PDF", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_in_any_case_and_xml_stops_at_b_t() {
        assert_eq!(Requested::parse(None, false).unwrap(), Requested::Basic);
        assert_eq!(
            Requested::parse(Some("b-lt"), false).unwrap(),
            Requested::LongTerm
        );
        assert_eq!(
            Requested::parse(Some("B-T"), true).unwrap(),
            Requested::Timestamp
        );
        assert!(matches!(
            Requested::parse(Some("B-LT"), true),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            Requested::parse(Some("B-LTA"), false),
            Err(ApiError::BadRequest { .. })
        ));
    }
}
