//! XML signatures: the integrity checks of [`crate::xml::verify`] mapped onto the common verdict,
//! completed with the signer's certificate path, revocation and the XAdES timestamp.

use time::OffsetDateTime;

use super::verdict::{Coverage, Facet, SignatureReport, SubIndication, TimeSource};
use super::{Verifier, document_sha256, empty_report, signer_of, validate_chain};
use crate::pki::timestamp::{self, TimestampToken};
use crate::pki::{Certificate, Evidence};
use crate::verify::DocumentReport;
use crate::xml::verify::SignerKey;
use crate::xml::{self, Expect, Status, VerifyOptions};

pub(super) fn verify(verifier: &Verifier, bytes: &[u8]) -> DocumentReport {
    let mut report = empty_report("xml", document_sha256(bytes), verifier.at);
    let options = VerifyOptions {
        expect: Expect::WholeDocument,
        ..VerifyOptions::default()
    };
    let result = match xml::verify(bytes, &options) {
        Ok(r) => r,
        Err(e) => {
            report.indication = super::Indication::TotalFailed;
            report.sub_indication = Some(SubIndication::FormatFailure);
            report
                .reasons
                .push(format!("the XML document is not accepted: {e}"));
            return report;
        }
    };
    let embedded = Evidence::new();
    for (n, signature) in result.signatures.iter().enumerate() {
        let name = signature
            .id
            .clone()
            .unwrap_or_else(|| format!("signature {} (line {})", n + 1, signature.line));
        let format = match &signature.xades {
            Some(p) if p.level() == xml::xades::Level::BaselineT => "XAdES-B-T",
            Some(_) => "XAdES-B-B",
            None => "XMLDSig",
        };
        let mut out = SignatureReport::new(name, format);
        match &signature.status {
            Status::Intact => {
                out.intact = Facet::Passed;
                out.signature_valid = Facet::Passed;
            }
            Status::Failed {
                sub_indication,
                detail,
            } => {
                out.fail(map_sub(*sub_indication), detail.clone());
                report.signatures.push(out);
                continue;
            }
            Status::Unsupported { feature } => {
                out.fail(
                    SubIndication::FormatFailure,
                    format!("the signature uses {feature}, which kyso does not support"),
                );
                report.signatures.push(out);
                continue;
            }
        }
        out.coverage = Coverage::SignedContent;
        if signature.signer != Some(SignerKey::Certificate) {
            out.fail(
                SubIndication::NoSigningCertificateFound,
                "the signature was verified with a bare key, not a certificate: nothing to trust",
            );
            report.signatures.push(out);
            continue;
        }
        let certificates: Vec<Certificate> = signature
            .certificates
            .iter()
            .filter_map(|der| verifier.certificate(der))
            .collect();
        let Some(leaf) = certificates.first().cloned() else {
            out.fail(
                SubIndication::NoSigningCertificateFound,
                "the signer's certificate cannot be read",
            );
            report.signatures.push(out);
            continue;
        };
        out.signer = Some(signer_of(verifier, &leaf));
        let claimed = signature.signing_time().and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        out.signing_time = claimed;
        out.signing_time_source = claimed.map(|_| TimeSource::Claimed);
        let mut proven = None;
        for stamp in signature.xades.iter().flat_map(|p| &p.timestamps) {
            match check_timestamp(
                verifier,
                &stamp.token,
                &stamp.message,
                &certificates,
                &embedded,
            ) {
                Ok(at) => {
                    proven = Some(at);
                    out.timestamp_time = Some(at);
                    out.signing_time = Some(at);
                    out.signing_time_source = Some(TimeSource::Timestamp);
                    break;
                }
                Err(reason) => out.reasons.push(format!(
                    "a signature timestamp is not valid and was ignored: {reason}"
                )),
            }
        }
        validate_chain(
            verifier,
            &mut out,
            &leaf,
            &certificates[1..],
            proven.unwrap_or(verifier.at),
            proven.is_some(),
            &embedded,
        );
        out.bottom_line();
        report.signatures.push(out);
    }
    report
}

fn map_sub(sub: xml::SubIndication) -> SubIndication {
    match sub {
        xml::SubIndication::FormatFailure => SubIndication::FormatFailure,
        xml::SubIndication::HashFailure => SubIndication::HashFailure,
        xml::SubIndication::SigCryptoFailure => SubIndication::SigCryptoFailure,
        xml::SubIndication::SignedDataNotFound => SubIndication::SignedDataNotFound,
        xml::SubIndication::NoSigningCertificateFound => SubIndication::NoSigningCertificateFound,
        xml::SubIndication::CryptoConstraintsFailure => SubIndication::CryptoConstraintsFailure,
    }
}

fn check_timestamp(
    verifier: &Verifier,
    token: &[u8],
    message: &[u8],
    certificates: &[Certificate],
    embedded: &Evidence,
) -> Result<OffsetDateTime, String> {
    let token = TimestampToken::from_der(token).map_err(|e| e.to_string())?;
    let mut intermediates = token.certificates().to_vec();
    intermediates.extend(certificates.iter().cloned());
    let sources = verifier.sources(embedded);
    timestamp::verify(
        &token,
        message,
        None,
        &verifier.signers,
        &intermediates,
        &sources,
    )
    .map(|v| v.gen_time())
    .map_err(|e| e.to_string())
}
