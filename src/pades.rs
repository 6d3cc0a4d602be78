//! PAdES signing (ETSI EN 319 142-1): a PDF, a signer and its certificates in; a signed PDF out.
//!
//! This is the path the DMS and `kyso sign pdf` take: [`crate::pdf`] prepares the incremental
//! update and hashes the byte ranges, [`crate::cms`] builds the CAdES-detached SignedData around
//! a signature from the [`Signer`](crate::signer::Signer) (the HSM), and the CMS is written into
//! the reserved `/Contents`. Baseline B-B today; B-T (signature timestamp) and B-LT (DSS) are
//! added around the same steps.

use crate::cms::{self, SignedCms, SignerIdentity};
use crate::pdf::{self, PreparedPdf, SignatureOptions, SignedPdf};

/// Why a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pdf(#[from] pdf::Error),
    #[error(transparent)]
    Cms(#[from] cms::Error),
}

/// Room for the CMS beyond the certificates it carries: the signer info, signed attributes and a
/// signature of up to 512 bytes (RSA-4096) come to about 1.5 KB; 8 KB leaves room for later
/// unsigned attributes without a second pass.
const CMS_OVERHEAD: usize = 8 * 1024;

/// The `/Contents` size for a signature by `identity`.
pub fn contents_size(identity: &SignerIdentity<'_>) -> usize {
    identity.certificate.len() + identity.chain.iter().map(Vec::len).sum::<usize>() + CMS_OVERHEAD
}

/// Signs `input` at PAdES baseline B-B.
pub fn sign<'a>(
    input: &'a [u8],
    identity: &SignerIdentity<'_>,
    options: &SignatureOptions,
) -> Result<SignedPdf<'a>, Error> {
    let prepared = PreparedPdf::prepare(input, options)?;
    let digested = prepared.digest(identity.signer.algorithm().digest());
    let cms = SignedCms::sign(identity, digested.message_digest())?;
    Ok(digested.embed(&cms.to_der())?)
}
