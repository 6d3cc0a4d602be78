//! The RFC 3161 structures in and around a time-stamp token: the `TSTInfo` the token signs
//! (its eContent, RFC 3161 §2.4.2) and the `TimeStampResp` a TSA answers with (§2.4.2). Read
//! here once, for the TSA client ([`crate::tsp`]), time-stamp verification
//! ([`crate::pki::timestamp`]) and XAdES; what they mean is for those to judge.
//!
//! ```text
//! TimeStampResp ::= SEQUENCE {
//!    status                  PKIStatusInfo,
//!    timeStampToken          TimeStampToken     OPTIONAL  }
//! PKIStatusInfo ::= SEQUENCE {
//!    status        PKIStatus,
//!    statusString  PKIFreeText     OPTIONAL,
//!    failInfo      PKIFailureInfo  OPTIONAL  }
//! TSTInfo ::= SEQUENCE  {
//!    version                      INTEGER  { v1(1) },
//!    policy                       TSAPolicyId,
//!    messageImprint               MessageImprint,
//!    serialNumber                 INTEGER,
//!    genTime                      GeneralizedTime,
//!    accuracy                     Accuracy                 OPTIONAL,
//!    ordering                     BOOLEAN             DEFAULT FALSE,
//!    nonce                        INTEGER                  OPTIONAL,
//!    tsa                          [0] GeneralName          OPTIONAL,
//!    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
//! MessageImprint ::= SEQUENCE  {
//!    hashAlgorithm                AlgorithmIdentifier,
//!    hashedMessage                OCTET STRING  }
//! ```
//!
//! Both are DER as RFC 3161 has TSAs send them ([`crate::ber::Rules::Der`]).

use time::OffsetDateTime;

use crate::ber::{self, ObjectIdentifier, tag};
use crate::oid;

use super::{ParseError, SignedData};

/// The fields of a `TSTInfo` kyso reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// The TSA's policy, dotted.
    pub policy: String,
    /// Content octets of the imprint's hash algorithm identifier ([`TstInfo::hash_algorithm`]).
    hash_algorithm: Vec<u8>,
    pub hashed_message: Vec<u8>,
    /// The serial number's INTEGER content octets.
    pub serial: Vec<u8>,
    /// When the TSA says the data existed, to the second.
    pub gen_time: OffsetDateTime,
    /// The nonce's INTEGER content octets, if the request had one.
    pub nonce: Option<Vec<u8>>,
}

/// A TSA's answer: its status and, when granted, the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStampResp<'a> {
    /// `PKIStatus`: granted (0), grantedWithMods (1), rejection (2), waiting (3), … (RFC 3161
    /// §2.4.2).
    pub status: u64,
    /// The `TimeStampToken` (a `ContentInfo`), as it arrived.
    pub token: Option<&'a [u8]>,
}

impl TstInfo {
    /// Reads the `TSTInfo` that `token` (a DER `ContentInfo` holding a SignedData) carries.
    pub fn of_token(token: &[u8]) -> Result<TstInfo, ParseError> {
        TstInfo::of_signed_data(&SignedData::parse_der(token)?)
    }

    /// Reads the `TSTInfo` a parsed token carries: its eContent, of type id-ct-TSTInfo.
    pub fn of_signed_data(signed: &SignedData<'_>) -> Result<TstInfo, ParseError> {
        if !signed.content_type.is(oid::TST_INFO) {
            return Err(ParseError::NotTstInfo(signed.content_type.to_string()));
        }
        let content = signed
            .content
            .as_deref()
            .ok_or(ParseError::NotTstInfo("no eContent".to_owned()))?;
        TstInfo::parse(content)
    }

    /// Reads a DER `TSTInfo`.
    pub fn parse(der: &[u8]) -> Result<TstInfo, ParseError> {
        let info = ber::der(der, "TSTInfo")?.expect(tag::SEQUENCE, "a TSTInfo SEQUENCE")?;
        let mut fields = info.fields();
        let version = fields.expect(tag::INTEGER, "TSTInfo version")?;
        if version.small_unsigned()? != 1 {
            return Err(structure(version, "TSTInfo version is not 1"));
        }
        let policy = fields.field("policy")?.oid()?.to_string();
        let imprint = fields.expect(tag::SEQUENCE, "a MessageImprint SEQUENCE")?;
        let mut imprint_fields = imprint.fields();
        let algorithm = imprint_fields.expect(tag::SEQUENCE, "an AlgorithmIdentifier SEQUENCE")?;
        let mut algorithm_fields = algorithm.fields();
        let hash_algorithm = algorithm_fields.field("hashAlgorithm")?.oid()?;
        // RFC 5754 §2 (and RFC 3370 §2.1 for SHA-1): parameters absent, or NULL.
        if let Some(parameters) = algorithm_fields.optional(tag::NULL)?
            && !parameters.content.is_empty()
        {
            return Err(structure(
                parameters,
                "hash algorithm parameters are not NULL",
            ));
        }
        algorithm_fields.finish("the hash algorithm")?;
        let hashed_message = imprint_fields
            .expect(tag::OCTET_STRING, "hashedMessage OCTET STRING")?
            .content
            .to_vec();
        imprint_fields.finish("MessageImprint")?;
        let serial = fields
            .expect(tag::INTEGER, "serialNumber")?
            .integer()?
            .to_vec();
        let gen_time = fields
            .expect(tag::GENERALIZED_TIME, "genTime")?
            .generalized_time()?;
        fields.optional(tag::SEQUENCE)?; // accuracy
        fields.optional(tag::BOOLEAN)?; // ordering
        let nonce = match fields.optional(tag::INTEGER)? {
            Some(n) => Some(n.integer()?.to_vec()),
            None => None,
        };
        fields.optional(tag::context_constructed(0))?; // tsa
        fields.optional(tag::context_constructed(1))?; // extensions
        fields.finish("TSTInfo")?;
        Ok(TstInfo {
            policy,
            hash_algorithm: hash_algorithm.content().to_vec(),
            hashed_message,
            serial,
            gen_time,
            nonce,
        })
    }

    /// The imprint's hash algorithm.
    pub fn hash_algorithm(&self) -> ObjectIdentifier<'_> {
        ObjectIdentifier::from_checked(&self.hash_algorithm)
    }
}

impl<'a> TimeStampResp<'a> {
    /// Reads a DER `TimeStampResp`.
    pub fn parse(der: &'a [u8]) -> Result<TimeStampResp<'a>, ParseError> {
        let response =
            ber::der(der, "TimeStampResp")?.expect(tag::SEQUENCE, "a TimeStampResp SEQUENCE")?;
        let mut fields = response.fields();
        let status_info = fields.expect(tag::SEQUENCE, "a PKIStatusInfo SEQUENCE")?;
        let status = status_info
            .fields()
            .expect(tag::INTEGER, "PKIStatus")?
            .small_unsigned()?;
        let token = fields.optional(tag::SEQUENCE)?.map(|t| t.raw);
        fields.finish("TimeStampResp")?;
        Ok(TimeStampResp { status, token })
    }

    /// Whether the TSA granted the request, as asked or with modifications (RFC 3161 §2.4.2).
    pub fn granted(&self) -> bool {
        self.status <= 1
    }
}

fn structure(element: ber::Element<'_>, reason: &'static str) -> ParseError {
    ParseError::Structure {
        offset: element.offset,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der;

    fn tst_info(hash_parameters: Option<&[u8]>, tail: &[&[u8]]) -> Vec<u8> {
        let imprint = der::sequence(&[
            &der::algorithm_identifier(oid::SHA256, hash_parameters),
            &der::octet_string(&[0xab; 32]),
        ]);
        let time = der::tlv(tag::GENERALIZED_TIME, b"20260301100005.5Z");
        let mut fields: Vec<&[u8]> = Vec::new();
        let version = der::unsigned_integer(&[1]);
        let policy = der::oid(oid::ANY_POLICY);
        let serial = der::unsigned_integer(&[0x80, 1]);
        fields.extend([&version[..], &policy, &imprint, &serial, &time]);
        fields.extend(tail);
        der::sequence(&fields)
    }

    #[test]
    fn tst_info_fields_are_read() {
        let accuracy = der::sequence(&[&der::unsigned_integer(&[1])]);
        let nonce = der::unsigned_integer(&[0x80, 0x01]);
        let info = TstInfo::parse(&tst_info(None, &[&accuracy, &nonce])).unwrap();
        assert_eq!(info.policy, "2.5.29.32.0");
        assert!(info.hash_algorithm().is(oid::SHA256));
        assert_eq!(info.hashed_message, [0xab; 32]);
        assert_eq!(info.serial, [0x00, 0x80, 0x01]);
        assert_eq!(
            info.gen_time,
            time::macros::datetime!(2026-03-01 10:00:05 UTC)
        );
        assert_eq!(info.nonce.as_deref(), Some(&[0x00, 0x80, 0x01][..]));
        assert!(TstInfo::parse(&tst_info(Some(&der::null()), &[])).is_ok());
    }

    #[test]
    fn tst_info_out_of_shape_is_refused() {
        let boolean = der::boolean(false);
        // ordering after the nonce, parameters that are not NULL, trailing bytes.
        let nonce = der::unsigned_integer(&[7]);
        assert!(TstInfo::parse(&tst_info(None, &[&nonce, &boolean])).is_err());
        assert!(TstInfo::parse(&tst_info(Some(&der::octet_string(b"x")), &[])).is_err());
        let mut padded = tst_info(None, &[]);
        padded.push(0);
        assert!(TstInfo::parse(&padded).is_err());
    }

    #[test]
    fn responses_give_their_status_and_token() {
        // TimeStampResp { status PKIStatusInfo { status 2 (rejection) } }
        let rejected = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        let response = TimeStampResp::parse(&rejected).unwrap();
        assert_eq!((response.status, response.token), (2, None));
        assert!(!response.granted());
        let token = der::sequence(&[&der::oid(oid::SIGNED_DATA)]);
        let granted = der::sequence(&[&der::sequence(&[&der::unsigned_integer(&[0])]), &token]);
        let response = TimeStampResp::parse(&granted).unwrap();
        assert!(response.granted());
        assert_eq!(response.token, Some(&token[..]));
    }
}
