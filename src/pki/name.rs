//! Distinguished names and general names as path validation compares them.
//!
//! Owns: the RFC 5280 §7.1 comparison of distinguished names (string attributes compared after
//! RFC 4518-style preparation: case folded, insignificant spaces removed, PrintableString and
//! UTF8String interchangeable), owned copies of the general names kyso checks, and the name
//! constraint matching rules of RFC 5280 §4.2.1.10 for directoryName, rfc822Name, dNSName, URI
//! and iPAddress. Refuses: constraints on name forms it cannot evaluate (otherName, x400Address,
//! ediPartyName, registeredID) when a certificate carries such a name; the caller treats that as a
//! violation rather than guessing.

use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::{GeneralName as ParsedGeneralName, X509Name};

/// A distinguished name: its DER, and a comparison key in which equal names (by RFC 5280 §7.1)
/// have equal keys, so names can be hashed for issuer lookup.
#[derive(Clone, Debug)]
pub struct Name {
    der: Vec<u8>,
    /// One entry per RDN; each RDN's attributes sorted (an RDN is a SET).
    rdns: Vec<Vec<String>>,
    key: String,
    /// Values of emailAddress attributes (PKCS #9), which RFC 5280 §4.2.1.10 subjects to
    /// rfc822Name constraints.
    emails: Vec<String>,
}

impl Name {
    pub(crate) fn from_parsed(name: &X509Name<'_>) -> Name {
        let mut rdns = Vec::new();
        let mut emails = Vec::new();
        for rdn in name.iter() {
            let mut attrs: Vec<String> = Vec::new();
            for atv in rdn.iter() {
                let oid = atv.attr_type().to_id_string();
                let value = atv.attr_value();
                let text = decode_string(value.tag(), value.data);
                if oid == crate::oid::EMAIL_ADDRESS
                    && let Some(t) = &text
                {
                    emails.push(t.clone());
                }
                let rendered = match text {
                    Some(t) => format!("{oid}=s:{}", prepare(&t)),
                    None => format!("{oid}=b:{}:{}", value.tag().0, hex::encode(value.data)),
                };
                attrs.push(rendered);
            }
            attrs.sort();
            rdns.push(attrs);
        }
        let key = rdns
            .iter()
            .map(|r| r.join("+"))
            .collect::<Vec<_>>()
            .join(",");
        Name {
            der: name.as_raw().to_vec(),
            rdns,
            key,
            emails,
        }
    }

    /// The name as it was encoded.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// True for the empty sequence of RDNs.
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// Comparison key: equal for names that RFC 5280 §7.1 says match.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn emails(&self) -> &[String] {
        &self.emails
    }

    /// RFC 5280 §4.2.1.10: a directoryName constraint matches every name that has it as a
    /// prefix of RDNs.
    pub(crate) fn is_within(&self, base: &Name) -> bool {
        base.rdns.len() <= self.rdns.len() && base.rdns.iter().zip(&self.rdns).all(|(a, b)| a == b)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Name {}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Readable enough for logs: attribute OIDs with prepared values.
        if self.rdns.is_empty() {
            return f.write_str("<empty name>");
        }
        let parts: Vec<String> = self
            .rdns
            .iter()
            .map(|rdn| {
                rdn.iter()
                    .map(|a| short_attr(a))
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

fn short_attr(a: &str) -> String {
    let (oid, rest) = a.split_once('=').unwrap_or((a, ""));
    use crate::oid::*;
    let labels = [
        (COMMON_NAME, "CN"),
        (COUNTRY_NAME, "C"),
        (LOCALITY_NAME, "L"),
        (STATE_OR_PROVINCE_NAME, "ST"),
        (ORGANIZATION_NAME, "O"),
        (ORGANIZATIONAL_UNIT_NAME, "OU"),
        (EMAIL_ADDRESS, "E"),
    ];
    let label = labels
        .iter()
        .find(|(attribute, _)| *oid == *attribute)
        .map_or(oid, |(_, label)| label);
    format!("{label}={}", rest.strip_prefix("s:").unwrap_or(rest))
}

/// Decodes the directory string types to text; None for anything else (compared as bytes).
fn decode_string(tag: Tag, data: &[u8]) -> Option<String> {
    match tag {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_owned),
        // TeletexString in practice carries Latin-1.
        Tag::TeletexString => Some(data.iter().map(|b| *b as char).collect()),
        Tag::BmpString => {
            if !data.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        Tag::UniversalString => {
            if !data.len().is_multiple_of(4) {
                return None;
            }
            data.chunks(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// RFC 4518 string preparation, reduced to what matters for matching: case folding and
/// insignificant space handling (leading/trailing removed, internal runs collapsed).
fn prepare(s: &str) -> String {
    let folded = s.to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An owned general name (RFC 5280 §4.2.1.6), in the forms kyso evaluates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GeneralName {
    Rfc822(String),
    Dns(String),
    Uri(String),
    Directory(NameKey),
    Ip(Vec<u8>),
    /// otherName, x400Address, ediPartyName, registeredID: kept as (form, raw bytes).
    Other(OtherForm, Vec<u8>),
    /// An entry that did not decode (for example a dNSName that is not IA5).
    Invalid,
}

/// A directory name inside a general name, compared by its RFC 5280 §7.1 key.
#[derive(Clone, Debug)]
pub struct NameKey(pub Name);
impl PartialEq for NameKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for NameKey {}

/// General name forms kyso cannot evaluate against constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtherForm {
    OtherName,
    X400,
    EdiParty,
    RegisteredId,
}

impl GeneralName {
    pub(crate) fn from_parsed(g: &ParsedGeneralName<'_>) -> GeneralName {
        match g {
            ParsedGeneralName::RFC822Name(s) => GeneralName::Rfc822((*s).to_owned()),
            ParsedGeneralName::DNSName(s) => GeneralName::Dns((*s).to_owned()),
            ParsedGeneralName::URI(s) => GeneralName::Uri((*s).to_owned()),
            ParsedGeneralName::DirectoryName(n) => {
                GeneralName::Directory(NameKey(Name::from_parsed(n)))
            }
            ParsedGeneralName::IPAddress(b) => GeneralName::Ip(b.to_vec()),
            ParsedGeneralName::OtherName(oid, v) => {
                let mut raw = oid.as_bytes().to_vec();
                raw.extend_from_slice(v);
                GeneralName::Other(OtherForm::OtherName, raw)
            }
            ParsedGeneralName::X400Address(a) => {
                GeneralName::Other(OtherForm::X400, a.data.to_vec())
            }
            ParsedGeneralName::EDIPartyName(a) => {
                GeneralName::Other(OtherForm::EdiParty, a.data.to_vec())
            }
            ParsedGeneralName::RegisteredID(oid) => {
                GeneralName::Other(OtherForm::RegisteredId, oid.as_bytes().to_vec())
            }
            ParsedGeneralName::Invalid(..) => GeneralName::Invalid,
        }
    }

    /// The URI of a general name, if it is one (distribution points, AIA).
    pub fn as_uri(&self) -> Option<&str> {
        match self {
            GeneralName::Uri(u) => Some(u),
            _ => None,
        }
    }
}

/// Whether a constraint base is well-formed for its form (RFC 5280 §4.2.1.10). Malformed bases
/// make the whole extension unusable: a verifier that silently skipped them would widen a
/// permitted set.
pub(crate) fn constraint_is_well_formed(base: &GeneralName) -> bool {
    match base {
        GeneralName::Dns(d) => {
            // A DNS constraint is a domain name; "*" wildcards and leading dots are not part
            // of the dNSName constraint syntax (leading dots belong to URI and rfc822Name).
            d.is_empty() || is_dns_name(d)
        }
        GeneralName::Ip(b) => {
            (b.len() == 8 || b.len() == 32) && {
                let mask = &b[b.len() / 2..];
                is_contiguous_mask(mask)
            }
        }
        GeneralName::Rfc822(e) => {
            if let Some((local, host)) = e.split_once('@') {
                !local.is_empty() && !host.contains('@') && is_dns_name(host)
            } else {
                let host = e.strip_prefix('.').unwrap_or(e);
                !host.is_empty() && is_dns_name(host)
            }
        }
        GeneralName::Uri(u) => {
            let host = u.strip_prefix('.').unwrap_or(u);
            !host.is_empty() && is_dns_name(host)
        }
        GeneralName::Directory(_) => true,
        GeneralName::Other(..) => true,
        GeneralName::Invalid => false,
    }
}

fn is_contiguous_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for byte in mask {
        for bit in (0..8).rev() {
            let set = byte & (1 << bit) != 0;
            if set && seen_zero {
                return false;
            }
            if !set {
                seen_zero = true;
            }
        }
    }
    true
}

/// Preferred name syntax (RFC 1034 §3.5 as relaxed by RFC 1123 §2.1): LDH labels of 1..=63
/// octets; a final all-numeric label would make the name read as an IPv4 address.
pub(crate) fn is_dns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let ok = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    ok && !labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `name` falls within the subtree `base` of the same form. `None` when the forms
/// differ (the constraint does not speak about this name).
pub(crate) fn within_subtree(name: &GeneralName, base: &GeneralName) -> Option<bool> {
    match (name, base) {
        (GeneralName::Dns(n), GeneralName::Dns(b)) => Some(dns_within(n, b)),
        (GeneralName::Rfc822(n), GeneralName::Rfc822(b)) => Some(email_within(n, b)),
        (GeneralName::Uri(n), GeneralName::Uri(b)) => Some(match uri_host(n) {
            Some(host) => host_within_uri_constraint(&host, b),
            None => false,
        }),
        (GeneralName::Ip(n), GeneralName::Ip(b)) => Some(ip_within(n, b)),
        (GeneralName::Directory(n), GeneralName::Directory(b)) => Some(n.0.is_within(&b.0)),
        (GeneralName::Other(nf, nraw), GeneralName::Other(bf, braw)) if nf == bf => {
            // Forms kyso cannot interpret: only an identical encoding counts as a match.
            Some(nraw == braw)
        }
        _ => None,
    }
}

/// Whether a constraint base and a name are of the same form.
pub(crate) fn same_form(name: &GeneralName, base: &GeneralName) -> bool {
    std::mem::discriminant(name) == std::mem::discriminant(base)
        && match (name, base) {
            (GeneralName::Other(a, _), GeneralName::Other(b, _)) => a == b,
            _ => true,
        }
}

/// Whether a wildcard dNSName `*.X` could stand for a name inside `base`'s subtree: true when
/// `base` is exactly one label below X (CVE-2025-61727: `*.example.com` would answer for the
/// excluded `bar.example.com`).
pub(crate) fn wildcard_overlaps(name: &GeneralName, base: &GeneralName) -> bool {
    let (GeneralName::Dns(n), GeneralName::Dns(b)) = (name, base) else {
        return false;
    };
    let Some(rest) = n.strip_prefix("*.") else {
        return false;
    };
    let b = b.to_ascii_lowercase();
    b.split_once('.')
        .is_some_and(|(label, tail)| !label.is_empty() && tail == rest.to_ascii_lowercase())
}

fn dns_within(name: &str, base: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    let base = base.strip_suffix('.').unwrap_or(&base);
    if base.is_empty() {
        return true;
    }
    name == base
        || (name.len() > base.len()
            && name.ends_with(base)
            && name.as_bytes()[name.len() - base.len() - 1] == b'.')
}

fn email_within(name: &str, base: &str) -> bool {
    let Some((local, host)) = name.rsplit_once('@') else {
        return false;
    };
    if base.contains('@') {
        // A whole mailbox: local part exact, host case-insensitive.
        let Some((blocal, bhost)) = base.rsplit_once('@') else {
            return false;
        };
        return local == blocal && host.eq_ignore_ascii_case(bhost);
    }
    if let Some(domain) = base.strip_prefix('.') {
        let host = host.to_ascii_lowercase();
        let domain = domain.to_ascii_lowercase();
        host.len() > domain.len()
            && host.ends_with(&domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
    } else {
        host.eq_ignore_ascii_case(base)
    }
}

fn uri_host(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if hostport.starts_with('[') {
        return None; // IP literals are not matched by URI domain constraints
    } else {
        hostport.split(':').next()?
    };
    if host.is_empty() {
        None
    } else {
        Some(host.to_ascii_lowercase())
    }
}

fn host_within_uri_constraint(host: &str, base: &str) -> bool {
    let base = base.to_ascii_lowercase();
    if let Some(domain) = base.strip_prefix('.') {
        host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
    } else {
        host == base
    }
}

fn ip_within(name: &[u8], base: &[u8]) -> bool {
    if base.len() != name.len() * 2 {
        return false;
    }
    let (addr, mask) = base.split_at(name.len());
    name.iter()
        .zip(addr)
        .zip(mask)
        .all(|((n, a), m)| n & m == a & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees() {
        assert!(dns_within("a.example.com", "example.com"));
        assert!(dns_within("example.com", "example.com"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(dns_within("anything", ""));
    }

    #[test]
    fn email_subtrees() {
        assert!(email_within("x@example.com", "example.com"));
        assert!(!email_within("x@a.example.com", "example.com"));
        assert!(email_within("x@a.example.com", ".example.com"));
        assert!(email_within("x@example.com", "x@EXAMPLE.com"));
        assert!(!email_within("X@example.com", "x@example.com"));
    }

    #[test]
    fn ip_subtrees() {
        assert!(ip_within(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_within(&[10, 1, 2, 3], &[0; 32]));
    }

    #[test]
    fn dns_syntax() {
        assert!(is_dns_name("example.com"));
        assert!(!is_dns_name("_x.example.com"));
        assert!(!is_dns_name("*.example.com"));
        assert!(!is_dns_name("127.0.0.1"));
        assert!(!is_dns_name(".example.com"));
    }
}
