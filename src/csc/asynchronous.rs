//! A CSC credential in the asynchronous mode (`[[serve.keys]] uri = "csc:…"`, `mode =
//! "async"`) as a [`Provider`] of the service's signing jobs: the job machinery of the `phone:`
//! keys (start → 202, the poller, completion at most once, `GET /v1/jobs/{id}`) signs with it
//! unchanged, only the wire differs.
//!
//! - the credential: [`CscKey::open`] (`info`, `credentials/info`), once, on the first job;
//! - submit: `credentials/authorize` for the one digest, then `signatures/signHash` with
//!   `operationMode: "A"` and `validity_period` (the key's deadline): the `responseID` is the
//!   job's transaction id;
//! - status: `signatures/signPolling` with that id.
//!
//! Refuses: a v1.0.4 service (no asynchronous mode), a service that signs at once although
//! asked to answer later, a credential whose algorithm is not the one a job signs with (RSA
//! PKCS#1 v1.5 with SHA-256, ECDSA with the curve's digest: the token keys' defaults). A refused
//! authorisation or `signHash` is a refusal at once (no job); what the service says later is read
//! by [`super::protocol`]'s `sign_polling`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Access, CredentialRef, CscKey, Error, Polled};
use crate::phone::{self, Credential, Provider, Status, Submitted};
use crate::signer::{DigestAlgorithm, SignatureAlgorithm};

/// A remote credential whose service signs in the asynchronous mode.
pub struct AsyncCscKey {
    reference: CredentialRef,
    access: Access,
    /// How long the service keeps the outcome: the job's deadline.
    validity: Duration,
    opened: Mutex<Option<Opened>>,
}

struct Opened {
    key: Arc<CscKey>,
    credential: Arc<Credential>,
}

impl AsyncCscKey {
    /// The credential `reference` names, reached with `access`; nothing is asked of the service
    /// until the first job.
    pub fn new(reference: CredentialRef, access: Access, validity: Duration) -> AsyncCscKey {
        AsyncCscKey {
            reference,
            access,
            validity,
            opened: Mutex::new(None),
        }
    }

    /// The key opened (once; a failure is asked again at the next job).
    fn opened(&self) -> Result<(Arc<CscKey>, Arc<Credential>), phone::Error> {
        let mut slot = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(opened) = slot.as_ref() {
            return Ok((Arc::clone(&opened.key), Arc::clone(&opened.credential)));
        }
        let key = CscKey::open(&self.reference, &self.access, None)?;
        let credential = Credential::new(key.certificate().to_vec(), key.chain().to_vec())?;
        // A job signs with the algorithm the certificate's key kind gives (what the capturing
        // and presigned signers name in the CMS); the CSC key chose the same defaults.
        if credential.algorithm != key.signature_algorithm() {
            return Err(phone::Error::Certificate {
                reason: format!(
                    "the CSC key signs with {}, a signing job with {}",
                    key.signature_algorithm(),
                    credential.algorithm
                ),
            });
        }
        let opened = Opened {
            key: Arc::new(key),
            credential: Arc::new(credential),
        };
        let out = (Arc::clone(&opened.key), Arc::clone(&opened.credential));
        *slot = Some(opened);
        Ok(out)
    }
}

impl Provider for AsyncCscKey {
    fn reference(&self) -> String {
        self.reference.to_string()
    }

    fn credential(&self) -> Result<Arc<Credential>, phone::Error> {
        self.opened().map(|(_, credential)| credential)
    }

    fn submit(
        &self,
        digest: &[u8],
        algorithm: DigestAlgorithm,
        description: &str,
    ) -> Result<Submitted, phone::Error> {
        let (key, _) = self.opened()?;
        if key.signature_algorithm().digest() != algorithm {
            return Err(phone::Error::Certificate {
                reason: format!(
                    "a {algorithm:?} digest for a key that signs with {}",
                    key.signature_algorithm()
                ),
            });
        }
        match key.start_asynchronous(digest, self.validity) {
            Ok(response_id) => Ok(Submitted::Pending {
                transaction_id: response_id,
            }),
            // The service (or its holder's credential) refuses now: no job, as a phone
            // provider's 403 at once.
            Err(
                e @ (Error::AuthorizationRefused { .. }
                | Error::AlreadyRefused { .. }
                | Error::Refused { .. }
                | Error::CredentialDisabled { .. }),
            ) => {
                tracing::info!(credential = %self.reference, document = description, error = %e, "the CSC service refused an asynchronous signing request");
                Ok(Submitted::Refused)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn status(
        &self,
        transaction_id: &str,
        algorithm: SignatureAlgorithm,
    ) -> Result<Status, phone::Error> {
        let (key, _) = self.opened()?;
        if key.signature_algorithm() != algorithm {
            return Err(phone::Error::Certificate {
                reason: format!(
                    "asked for {algorithm}, the key signs with {}",
                    key.signature_algorithm()
                ),
            });
        }
        Ok(match key.poll_asynchronous(transaction_id)? {
            Polled::Pending => Status::Pending,
            Polled::Signed(signature) => Status::Done { signature },
            Polled::Refused { reason } => {
                tracing::info!(credential = %self.reference, %reason, "the CSC service says the holder refused");
                Status::Refused
            }
            Polled::Expired { reason } => {
                tracing::info!(credential = %self.reference, %reason, "the CSC service says the request expired");
                Status::Expired
            }
        })
    }
}
