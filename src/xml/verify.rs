//! XMLDSig core validation (W3C XMLDSig 1.1 §3.2) with the structural checks that stop
//! signature wrapping, and the report the verdict layer builds on.
//!
//! Every `ds:Signature` in the document is checked: reference validation (dereference, transform,
//! digest, compare), then the signature value over the canonicalized `SignedInfo` with each key
//! that `KeyInfo` (or the caller) offers. A report names exactly what each reference covered and
//! keeps the octets that were digested: [`SignatureReport::signed_content`] hands back those and
//! nothing else.
//!
//! Wrapping defences, each tested against the DSS XSW fixtures:
//! - a document with two elements carrying the same `Id` is refused as a whole;
//! - a reference whose `Type` says Object, Manifest or XAdES SignedProperties must land on such an
//!   element in its place inside this very signature;
//! - [`Expect`] states what the caller is about to read (the whole document, one element, any
//!   content named in the report) and a signature that does not cover it fails with
//!   `SIGNED_DATA_NOT_FOUND`;
//! - a detached reference resolves only among the documents the caller supplied, by a relative
//!   name: never a scheme, an absolute path or `..`.
//!
//! Trust is not decided here: the report carries the certificates and the claimed signing time.

use std::collections::HashMap;

use base64::Engine as _;
use roxmltree::{Document, Node};

use super::c14n::{self, Algorithm, Comments, Subtree};
use super::dsig::{
    self, BASE64_TRANSFORM, CryptoFailure, DSIG_NS, DSIG11_NS, DigestMethod, ENVELOPED_SIGNATURE,
    EXC_C14N_NS, LegacyCrypto, PublicKey, SignatureMethod, TYPE_COUNTERSIGNED_SIGNATURE,
    TYPE_MANIFEST, TYPE_OBJECT, TYPE_SIGNED_PROPERTIES, XPATH_TRANSFORM,
};
use super::{Error, Limits, parse, xades};

/// What the caller is about to read from the document, and so what a signature must cover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Expect {
    /// The whole document: an enveloped signature must cover the document element (minus
    /// itself); an enveloping one every `ds:Object` it carries; a detached one every document
    /// the caller supplied.
    #[default]
    WholeDocument,
    /// The element with this `Id`.
    Element(String),
    /// Nothing in particular: the caller reads [`SignatureReport::signed_content`] only.
    SignedContentOnly,
    /// Some content of the document, which the report then names exactly
    /// ([`SignatureReport::not_covered`] lists the rest): e-invoices and edXML sign one element
    /// by its `Id` from a sibling signature. The wrapping defences hold: a content reference
    /// reaching into another signature is refused, so is a `ds:Object` of this signature that
    /// no reference reaches, and so is a signed element beside an unsigned one of the same
    /// name (an application that reads by position could read the unsigned twin).
    AnyContent,
}

/// Limits on the work one signature may cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// References per `SignedInfo`. Apache Santuario's secure-validation mode allows 30; XAdES
    /// signatures kyso makes carry two or three.
    pub references: usize,
    /// Transforms per reference: Santuario's secure-validation limit of 5 (an enveloped
    /// signature needs two).
    pub transforms: usize,
    /// Canonical octets produced for one signature's references together, as a multiple of the
    /// input size: each reference may at most canonicalize the whole document a few times over
    /// before we stop (the classic "reference the root 30 times" amplification).
    pub output_factor: usize,
    /// Signatures per document, counter-signatures included. A document carries one to a
    /// handful (officer, unit seal, counter-signatures); without a bound, N tiny signatures each
    /// referencing the whole document cost N canonicalizations of it.
    pub signatures: usize,
    /// Keys tried per signature (certificates and bare keys from KeyInfo, plus the caller's).
    /// KeyInfo carries the signer and its chain, rarely more than five certificates; each try is
    /// a public-key operation.
    pub keys: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            references: 30,
            transforms: 5,
            output_factor: 8,
            signatures: 64,
            keys: 32,
        }
    }
}

/// How to verify.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions<'a> {
    pub limits: Limits,
    pub budget: Budget,
    pub expect: Expect,
    pub legacy: LegacyCrypto,
    /// Documents that detached references name, by the exact `URI` written in the reference.
    pub detached: &'a [(&'a str, &'a [u8])],
    /// Keys to try after those `KeyInfo` carries (e.g. a key known out of band).
    pub keys: &'a [PublicKey],
    /// Which kinds of `KeyInfo` content may supply the verifying key.
    pub key_info: KeyInfoUse,
}

/// Whether one kind of `KeyInfo` content may supply the verifying key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeySource {
    #[default]
    Use,
    Ignore,
}

/// Which `KeyInfo` content verification draws keys from. Using a bare key is not trusting it:
/// the report says [`SignerKey::KeyValue`] and the verdict layer finds no certificate to trust.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyInfoUse {
    /// `X509Data/X509Certificate`.
    pub certificates: KeySource,
    /// `KeyValue` and `DEREncodedKeyValue`.
    pub bare_keys: KeySource,
}

/// ETSI EN 319 102-1 §5.1.3 sub-indications that signature-level checks can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubIndication {
    /// TOTAL-FAILED: the signature is not well-formed or breaks a structural rule.
    FormatFailure,
    /// TOTAL-FAILED: a reference's digest does not match.
    HashFailure,
    /// TOTAL-FAILED: the signature value does not verify with the signer's key.
    SigCryptoFailure,
    /// INDETERMINATE: a reference cannot be resolved, or what the caller reads is not signed.
    SignedDataNotFound,
    /// INDETERMINATE: no key or certificate verifies the signature, or the certificate does
    /// not match the signed signing-certificate reference.
    NoSigningCertificateFound,
    /// INDETERMINATE: an algorithm below kyso's policy (SHA-1, small RSA).
    CryptoConstraintsFailure,
}

impl SubIndication {
    /// The ETSI name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
        }
    }

    /// Whether the sub-indication belongs to TOTAL-FAILED (otherwise INDETERMINATE).
    pub fn is_total_failure(self) -> bool {
        matches!(
            self,
            SubIndication::FormatFailure
                | SubIndication::HashFailure
                | SubIndication::SigCryptoFailure
        )
    }
}

/// The outcome of the signature-level checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every reference digest matches and the signature value verifies.
    Intact,
    /// A check failed.
    Failed {
        sub_indication: SubIndication,
        detail: String,
    },
    /// The signature uses something kyso does not implement (XPath, XSLT, HMAC, DSA, …).
    Unsupported { feature: String },
}

/// What a reference covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The whole document (`URI=""` or `#xpointer(/)`), less what transforms removed.
    Document,
    /// One element and its subtree.
    Element {
        /// `{namespace}local` of the element.
        name: String,
        /// Its `Id`, when reached by one.
        id: Option<String>,
        /// A positional path such as `/Invoice[1]/Body[1]`.
        path: String,
        line: u32,
    },
    /// A detached document, by its URI.
    Detached { uri: String },
}

/// Why a reference is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Document content.
    Content,
    /// The XAdES `SignedProperties` of this signature.
    SignedProperties,
    /// A `ds:Manifest`: its own references are not checked by core validation, so what it lists
    /// is not counted as signed.
    Manifest,
    /// This signature's `KeyInfo` or a counter-signed signature value.
    SignatureMaterial,
}

/// One verified reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedReference {
    pub uri: Option<String>,
    pub reference_type: Option<String>,
    pub target: Target,
    pub role: Role,
    /// The transforms removed this signature from the target (enveloped-signature).
    pub enveloped: bool,
    /// Exactly the octets that were digested.
    pub octets: Vec<u8>,
    /// The reference's `DigestMethod`: the algorithm policy judges it with the signature's.
    pub digest_method: DigestMethod,
}

/// Which key verified the signature value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerKey {
    /// `certificates[0]`, taken from `X509Data`.
    Certificate,
    /// A bare key from `KeyValue`/`DEREncodedKeyValue`: no certificate, nothing to build trust on.
    KeyValue,
    /// The caller's key with this index in [`VerifyOptions::keys`].
    Supplied(usize),
}

/// A reference that reached its target among repeated local `Id`s: which one it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepeatedId {
    pub id: String,
    /// How many elements inside signatures carry it.
    pub count: usize,
    pub reference_line: u32,
    /// Whether the element reached is inside the referring signature itself.
    pub own: bool,
    pub target_line: u32,
}

/// One signature's report.
#[derive(Clone, Debug)]
pub struct SignatureReport {
    /// The signature's `Id` attribute.
    pub id: Option<String>,
    pub line: u32,
    /// `true` for a signature inside another one (a XAdES counter-signature).
    pub nested: bool,
    /// The signature element's positional path, e.g. `/HDon[1]/DSCKS[1]/NBan[1]/Signature[1]`.
    pub path: String,
    pub status: Status,
    pub method: Option<SignatureMethod>,
    pub references: Vec<SignedReference>,
    /// DER certificates from `X509Data`, the signer's first when a certificate verified.
    pub certificates: Vec<Vec<u8>>,
    pub signer: Option<SignerKey>,
    /// XAdES qualifying properties, when present.
    pub xades: Option<xades::Properties>,
    /// What put an otherwise intact signature below the algorithm policy (SHA-1, a small RSA
    /// key): set only when every digest matched and the value verified.
    pub below_policy: Option<String>,
    /// With [`Expect::AnyContent`], when the signature does not cover the whole document: the
    /// paths of the elements it leaves out (other signatures, and elements holding only
    /// signatures, are not listed), then any supplied detached document it does not reference.
    pub not_covered: Vec<String>,
    /// With [`Expect::AnyContent`]: the signature covers the whole document (less itself).
    pub whole_document: bool,
    /// Facts a reader should know that do not change the status: references resolved among
    /// repeated local `Id`s.
    pub notes: Vec<RepeatedId>,
    /// With [`Expect::AnyContent`]: the paths of the document's elements the signature covers
    /// (not its own or another signature's properties).
    pub document_elements: Option<Vec<String>>,
}

impl SignatureReport {
    pub fn is_intact(&self) -> bool {
        self.status == Status::Intact
    }

    /// The signed octets of every content reference, and nothing else; empty unless intact.
    pub fn signed_content(&self) -> Vec<&[u8]> {
        if !self.is_intact() {
            return Vec::new();
        }
        self.references
            .iter()
            .filter(|r| r.role == Role::Content)
            .map(|r| r.octets.as_slice())
            .collect()
    }

    /// Whether a content reference covers the whole document (less this signature).
    pub fn covers_whole_document(&self) -> bool {
        self.is_intact()
            && self
                .references
                .iter()
                .any(|r| r.role == Role::Content && r.target == Target::Document)
    }

    /// The claimed signing time (XAdES `SigningTime`), as written.
    pub fn signing_time(&self) -> Option<&str> {
        self.xades.as_ref()?.signing_time.as_deref()
    }
}

/// All signatures of a document.
#[derive(Clone, Debug)]
pub struct XmlVerification {
    pub signatures: Vec<SignatureReport>,
}

impl XmlVerification {
    /// At least one signature, and every one intact.
    pub fn all_intact(&self) -> bool {
        !self.signatures.is_empty() && self.signatures.iter().all(SignatureReport::is_intact)
    }
}

/// Verifies every signature in `bytes`. `Err` means the bytes are not a document we accept
/// (DTD, malformed, over a limit) or carry no signature at all.
pub fn verify(bytes: &[u8], options: &VerifyOptions<'_>) -> Result<XmlVerification, Error> {
    let decoded = parse::decode(bytes, &options.limits)?;
    let doc = parse::parse(&decoded.text, &options.limits)?;
    verify_document(&doc, options)
}

/// Like [`verify`], on a parsed document.
pub fn verify_document(
    doc: &Document<'_>,
    options: &VerifyOptions<'_>,
) -> Result<XmlVerification, Error> {
    let signatures: Vec<Node<'_, '_>> = doc
        .descendants()
        .filter(|n| is_dsig(*n, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(Error::NoSignature);
    }
    if signatures.len() > options.budget.signatures {
        return Err(Error::TooManySignatures {
            count: signatures.len(),
            limit: options.budget.signatures,
        });
    }
    let ids = IdIndex::new(doc);
    let reports = signatures
        .iter()
        .map(|&s| {
            let nested = s.ancestors().skip(1).any(|a| is_dsig(a, "Signature"));
            let mut report = SignatureReport {
                id: s.attribute("Id").map(str::to_owned),
                line: line_of(s),
                nested,
                path: path_of(s),
                status: Status::Intact,
                method: None,
                references: Vec::new(),
                certificates: Vec::new(),
                signer: None,
                xades: None,
                below_policy: None,
                not_covered: Vec::new(),
                whole_document: false,
                notes: Vec::new(),
                document_elements: None,
            };
            if let Err(status) = check_signature(doc, s, &ids, options, &mut report) {
                report.status = status;
            }
            report
        })
        .collect();
    Ok(XmlVerification {
        signatures: reports,
    })
}

fn fail(sub_indication: SubIndication, detail: impl Into<String>) -> Status {
    Status::Failed {
        sub_indication,
        detail: detail.into(),
    }
}

fn unsupported(feature: impl Into<String>) -> Status {
    Status::Unsupported {
        feature: feature.into(),
    }
}

/// Elements reachable by `Id`: the attributes `Id`, `ID`, `id` (unqualified; XMLDSig does not
/// say which attribute is an ID without a schema, so we take all three and refuse collisions
/// among them) and `xml:id`.
///
/// An `Id` on document content must be unique: a second element with the same `Id` is how a
/// wrapping attack makes a reference mean two things, so such a document is refused as a
/// whole. Inside signatures, local `Id`s repeat in practice (a provider's library names every
/// signature's signing-time object `SigningTime`, seller's and buyer's alike); there a
/// reference resolves to the element inside its own signature, the one its signer made with it,
/// and only when the signature has none to the first in document order; the report says so.
pub(crate) struct IdIndex<'a, 'input> {
    ids: HashMap<&'a str, Vec<Node<'a, 'input>>>,
    duplicate: Option<(String, u32, u32)>,
}

impl<'a, 'input> IdIndex<'a, 'input> {
    pub(crate) fn new(doc: &'a Document<'input>) -> Self {
        let mut ids: HashMap<&'a str, Vec<Node<'a, 'input>>> = HashMap::new();
        for node in doc.descendants().filter(Node::is_element) {
            for a in node.attributes() {
                if is_id_name(&a) {
                    ids.entry(a.value()).or_default().push(node);
                }
            }
        }
        // The first Id (in document order) carried twice by document content, or by document
        // content and a signature's element.
        let mut duplicate: Option<(String, u32, u32)> = None;
        for (id, nodes) in &ids {
            let [first, rest @ ..] = nodes.as_slice() else {
                continue;
            };
            let Some(second) = rest
                .iter()
                .find(|n| !inside_signature(**n) || !inside_signature(*first))
            else {
                continue;
            };
            if duplicate
                .as_ref()
                .is_none_or(|(_, line, _)| line_of(*first) < *line)
            {
                duplicate = Some(((*id).to_owned(), line_of(*first), line_of(*second)));
            }
        }
        IdIndex { ids, duplicate }
    }

    /// An `Id` that document content carries twice, with the lines of both elements.
    pub(crate) fn duplicate(&self) -> Option<&(String, u32, u32)> {
        self.duplicate.as_ref()
    }

    /// The first element in document order with `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Node<'a, 'input>> {
        self.ids.get(id).and_then(|nodes| nodes.first().copied())
    }

    /// The element a reference to `id` from `reference` reaches: the one inside the reference's
    /// own signature when its `Id` repeats, else the first in document order.
    pub(crate) fn resolve(&self, id: &str, reference: Node<'_, '_>) -> Option<Node<'a, 'input>> {
        let nodes = self.all(id);
        let own = reference.ancestors().find(|a| is_dsig(*a, "Signature"));
        own.and_then(|signature| {
            nodes
                .iter()
                .find(|n| n.ancestors().any(|a| a.id() == signature.id()))
                .copied()
        })
        .or_else(|| nodes.first().copied())
    }

    /// Every element carrying `id`, in document order.
    fn all(&self, id: &str) -> &[Node<'a, 'input>] {
        self.ids.get(id).map_or(&[], Vec::as_slice)
    }
}

/// Whether `node` lies inside a `ds:Signature` (the signature itself included).
fn inside_signature(node: Node<'_, '_>) -> bool {
    node.ancestors().any(|a| is_dsig(a, "Signature"))
}

fn is_id_name(a: &roxmltree::Attribute<'_, '_>) -> bool {
    match a.namespace() {
        None => matches!(a.name(), "Id" | "ID" | "id"),
        Some(ns) => ns == "http://www.w3.org/XML/1998/namespace" && a.name() == "id",
    }
}

/// A parsed `Reference`.
struct Reference<'a, 'input> {
    node: Node<'a, 'input>,
    uri: Option<&'a str>,
    reference_type: Option<&'a str>,
    transforms: Vec<Transform>,
    digest_method: DigestMethod,
    digest_value: Vec<u8>,
}

enum Transform {
    Enveloped,
    /// The XPath transform with exactly `not(ancestor-or-self::P:Signature)`, P bound to the
    /// XMLDSig namespace: the enveloped-signature idiom of XMLDSig 1.0 §6.6.3, which removes
    /// every signature in the document. No other XPath is evaluated.
    ExcludeAllSignatures,
    C14n(Algorithm),
    Base64,
}

/// Recognizes the one XPath expression we accept (see [`Transform::ExcludeAllSignatures`]).
fn is_exclude_signatures_xpath(transform: Node<'_, '_>) -> bool {
    let Some(xpath) = transform
        .children()
        .find(|n| is_dsig(*n, "XPath"))
        .filter(|_| transform.children().filter(Node::is_element).count() == 1)
    else {
        return false;
    };
    let text: String = xpath
        .text()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    text.strip_prefix("not(ancestor-or-self::")
        .and_then(|rest| rest.strip_suffix(":Signature)"))
        .is_some_and(|prefix| xpath.lookup_namespace_uri(Some(prefix)) == Some(DSIG_NS))
}

/// Data flowing through a transform chain.
enum Data {
    Nodes(Subtree),
    Octets(Vec<u8>),
}

/// XMLDSig core validation of one signature (W3C XMLDSig 1.1 §3.2) with the wrapping checks:
/// structure, references (dereference, transforms, digest), the value over the canonical
/// `SignedInfo` with each candidate key, XAdES, what the caller reads, then the algorithm
/// policy. `Err` is the status that ends the check.
fn check_signature<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    ids: &IdIndex<'a, 'input>,
    options: &VerifyOptions<'_>,
    report: &mut SignatureReport,
) -> Result<(), Status> {
    if let Some((id, first, second)) = &ids.duplicate {
        return Err(fail(
            SubIndication::FormatFailure,
            format!("duplicate Id {id:?} on lines {first} and {second}"),
        ));
    }
    let parts = signature_parts(signature)?;
    let signed_info = read_signed_info(parts.signed_info, options)?;
    report.method = Some(signed_info.method);

    // Key material first, so that even a failed report names the claimed signer.
    let material = parts
        .key_info
        .map(|k| key_material(k, ids))
        .transpose()?
        .unwrap_or_default();
    report.certificates = material.certificates.clone();

    // Reference validation.
    let mut output_budget = doc
        .input_text()
        .len()
        .max(4096)
        .saturating_mul(options.budget.output_factor);
    let mut targets = Vec::with_capacity(signed_info.references.len());
    for r in &signed_info.references {
        let (checked, target) =
            check_reference(doc, signature, ids, r, options, &mut output_budget)?;
        if let Some(id) = r.uri.and_then(|u| u.strip_prefix('#'))
            && let (Some(node), count @ 2..) = (target, ids.all(id).len())
        {
            report.notes.push(RepeatedId {
                id: id.to_owned(),
                count,
                reference_line: line_of(r.node),
                own: node.ancestors().any(|a| a == signature),
                target_line: line_of(node),
            });
        }
        report.references.push(checked);
        targets.push(target);
    }

    // The signature value over the canonical SignedInfo.
    let value = decode_base64(parts.value)?;
    let octets = c14n::canonicalize(
        doc,
        &Subtree::new(parts.signed_info, Comments::Keep),
        &signed_info.c14n,
    );
    let below_policy = check_value(
        signed_info.method,
        &octets,
        &value,
        material,
        options,
        report,
    )?;

    // XAdES.
    let properties = xades::inspect(doc, signature, parts.value, ids, report)?;
    if let Some(p) = &properties {
        let covered = report.references.iter().any(|r| {
            r.role == Role::SignedProperties
                && matches!(&r.target, Target::Element { line, .. } if *line == p.signed_properties_line)
        });
        if !covered {
            return Err(fail(
                SubIndication::SignedDataNotFound,
                "XAdES SignedProperties is not covered by a SignedProperties reference",
            ));
        }
    }
    report.xades = properties;

    if !report.nested {
        check_expectation(doc, signature, options, report, &targets)?;
    }
    // Intact, and what the caller reads is covered: now the algorithm policy.
    let weak_digest = signed_info
        .references
        .iter()
        .find(|r| !r.digest_method.allowed(options.legacy))
        .map(|r| r.digest_method.uri());
    if let Some(what) = below_policy
        .map(str::to_owned)
        .or_else(|| weak_digest.map(|uri| format!("digest method {uri}")))
    {
        report.below_policy = Some(what.clone());
        return Err(fail(
            SubIndication::CryptoConstraintsFailure,
            format!("the signature is intact, but uses {what}, which is below policy"),
        ));
    }
    Ok(())
}

/// A `ds:Signature`'s children: SignedInfo, SignatureValue, KeyInfo?, Object*.
struct SignatureParts<'a, 'input> {
    signed_info: Node<'a, 'input>,
    value: Node<'a, 'input>,
    key_info: Option<Node<'a, 'input>>,
}

fn signature_parts<'a, 'input>(
    signature: Node<'a, 'input>,
) -> Result<SignatureParts<'a, 'input>, Status> {
    let children = element_children(signature)?;
    let mut it = children.iter().copied();
    let signed_info = it
        .next()
        .filter(|n| is_dsig(*n, "SignedInfo"))
        .ok_or_else(|| format_error(signature, "Signature must start with SignedInfo"))?;
    let value = it
        .next()
        .filter(|n| is_dsig(*n, "SignatureValue"))
        .ok_or_else(|| format_error(signature, "SignedInfo must be followed by SignatureValue"))?;
    let mut key_info = None;
    for n in it {
        if is_dsig(n, "KeyInfo") && key_info.is_none() {
            key_info = Some(n);
        } else if !is_dsig(n, "Object") {
            return Err(format_error(n, "unexpected element in Signature"));
        }
    }
    Ok(SignatureParts {
        signed_info,
        value,
        key_info,
    })
}

/// A parsed `SignedInfo`: CanonicalizationMethod, SignatureMethod, Reference+.
struct SignedInfo<'a, 'input> {
    c14n: Algorithm,
    method: SignatureMethod,
    references: Vec<Reference<'a, 'input>>,
}

fn read_signed_info<'a, 'input>(
    signed_info: Node<'a, 'input>,
    options: &VerifyOptions<'_>,
) -> Result<SignedInfo<'a, 'input>, Status> {
    let si = element_children(signed_info)?;
    let (Some(cm), Some(sm)) = (si.first(), si.get(1)) else {
        return Err(format_error(signed_info, "SignedInfo is incomplete"));
    };
    if !is_dsig(*cm, "CanonicalizationMethod") || !is_dsig(*sm, "SignatureMethod") {
        return Err(format_error(
            signed_info,
            "SignedInfo must start with CanonicalizationMethod and SignatureMethod",
        ));
    }
    let c14n = canonicalization(*cm)?;
    let sm_uri = algorithm_attribute(*sm)?;
    let method = if sm_uri == dsig::RSA_PSS_WITH_PARAMETERS {
        SignatureMethod::rsa_pss_with_parameters(*sm).map_err(|e| format_error(*sm, e))?
    } else {
        SignatureMethod::from_uri(sm_uri)
            .ok_or_else(|| unsupported(format!("signature method {sm_uri}")))?
    };
    if element_children(*sm)?
        .iter()
        .any(|n| n.tag_name().name() == "HMACOutputLength")
    {
        return Err(format_error(*sm, "HMACOutputLength on a public-key method"));
    }
    let reference_nodes = &si[2..];
    if reference_nodes.is_empty() {
        return Err(format_error(signed_info, "SignedInfo has no Reference"));
    }
    if reference_nodes.len() > options.budget.references {
        return Err(fail(
            SubIndication::FormatFailure,
            format!(
                "{} references, budget {}",
                reference_nodes.len(),
                options.budget.references
            ),
        ));
    }
    let mut references = Vec::with_capacity(reference_nodes.len());
    for &r in reference_nodes {
        if !is_dsig(r, "Reference") {
            return Err(format_error(r, "unexpected element in SignedInfo"));
        }
        references.push(parse_reference(r, options)?);
    }
    Ok(SignedInfo {
        c14n,
        method,
        references,
    })
}

/// Tries every key the signature offers (and the caller's) on the value over `octets`;
/// records the signer and its certificate first. Returns what put a verified value below the
/// algorithm policy, if anything.
fn check_value(
    method: SignatureMethod,
    octets: &[u8],
    value: &[u8],
    material: KeyMaterial,
    options: &VerifyOptions<'_>,
    report: &mut SignatureReport,
) -> Result<Option<&'static str>, Status> {
    let mut certificates = material.certificates;
    let key_reference_unsupported = material.unsupported;
    let mut candidates: Vec<(SignerKey, Option<usize>, PublicKey)> = Vec::new();
    if options.key_info.certificates == KeySource::Use {
        for (i, der) in certificates.iter().enumerate() {
            if let Some(spki) = certificate_spki(der) {
                candidates.push((SignerKey::Certificate, Some(i), PublicKey::Spki(spki)));
            }
        }
    }
    if options.key_info.bare_keys == KeySource::Use {
        for k in material.keys {
            candidates.push((SignerKey::KeyValue, None, k));
        }
    }
    for (i, k) in options.keys.iter().enumerate() {
        candidates.push((SignerKey::Supplied(i), None, k.clone()));
    }
    if candidates.is_empty() {
        report.certificates = certificates;
        if let Some(feature) = key_reference_unsupported {
            return Err(unsupported(feature));
        }
        return Err(fail(
            SubIndication::NoSigningCertificateFound,
            "KeyInfo offers no certificate or key we can use",
        ));
    }
    if candidates.len() > options.budget.keys {
        return Err(fail(
            SubIndication::FormatFailure,
            format!(
                "{} candidate keys, budget {}",
                candidates.len(),
                options.budget.keys
            ),
        ));
    }
    let mut unsupported_only = true;
    let mut verified = None;
    let mut below_policy = None;
    for (kind, cert_index, key) in &candidates {
        match dsig::verify_signature(method, key, octets, value, options.legacy) {
            Ok(()) => {
                verified = Some((*kind, *cert_index));
                break;
            }
            Err(CryptoFailure::BelowPolicy(what)) => {
                verified = Some((*kind, *cert_index));
                below_policy = Some(what);
                break;
            }
            Err(CryptoFailure::Mismatch) => unsupported_only = false,
            Err(CryptoFailure::Unsupported) => {}
        }
    }
    let Some((kind, cert_index)) = verified else {
        report.certificates = certificates;
        if let Some(feature) = key_reference_unsupported {
            return Err(unsupported(feature));
        }
        if unsupported_only {
            return Err(unsupported(format!(
                "signature method {} with this key",
                method.uri()
            )));
        }
        return Err(fail(
            SubIndication::SigCryptoFailure,
            format!(
                "signature value does not verify with any of {} key(s)",
                candidates.len()
            ),
        ));
    };
    if let Some(i) = cert_index {
        let signer = certificates.remove(i);
        certificates.insert(0, signer);
    }
    report.certificates = certificates;
    report.signer = Some(kind);
    Ok(below_policy)
}

fn parse_reference<'a, 'input>(
    r: Node<'a, 'input>,
    options: &VerifyOptions<'_>,
) -> Result<Reference<'a, 'input>, Status> {
    let children = element_children(r)?;
    let mut i = 0;
    let mut transforms = Vec::new();
    if let Some(t) = children.first().filter(|n| is_dsig(**n, "Transforms")) {
        i = 1;
        let list = element_children(*t)?;
        if list.len() > options.budget.transforms {
            return Err(fail(
                SubIndication::FormatFailure,
                format!(
                    "{} transforms on the Reference at line {}, budget {}",
                    list.len(),
                    line_of(r),
                    options.budget.transforms
                ),
            ));
        }
        for t in list {
            if !is_dsig(t, "Transform") {
                return Err(format_error(t, "unexpected element in Transforms"));
            }
            let uri = algorithm_attribute(t)?;
            transforms.push(match uri {
                ENVELOPED_SIGNATURE => Transform::Enveloped,
                BASE64_TRANSFORM => Transform::Base64,
                XPATH_TRANSFORM if is_exclude_signatures_xpath(t) => {
                    Transform::ExcludeAllSignatures
                }
                _ => match Algorithm::from_uri(uri) {
                    Some(a) => Transform::C14n(with_prefix_list(a, t)?),
                    None => return Err(unsupported(format!("transform {uri}"))),
                },
            });
        }
    }
    let (Some(dm), Some(dv)) = (children.get(i), children.get(i + 1)) else {
        return Err(format_error(r, "Reference lacks DigestMethod/DigestValue"));
    };
    if !is_dsig(*dm, "DigestMethod") || !is_dsig(*dv, "DigestValue") || children.len() > i + 2 {
        return Err(format_error(
            r,
            "Reference must hold Transforms?, DigestMethod, DigestValue",
        ));
    }
    let dm_uri = algorithm_attribute(*dm)?;
    // A digest below policy is still computed and compared: the signature is judged intact or
    // not first, and the policy speaks after (see `check_signature`).
    let digest_method = DigestMethod::from_uri(dm_uri)
        .ok_or_else(|| unsupported(format!("digest method {dm_uri}")))?;
    Ok(Reference {
        node: r,
        uri: r.attribute("URI"),
        reference_type: r.attribute("Type"),
        transforms,
        digest_method,
        digest_value: decode_base64(*dv)?,
    })
}

/// The octets a `Reference` element digests, for signing: the same dereferencing and
/// transforms as verification, without the comparison.
pub(crate) fn reference_octets<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    ids: &IdIndex<'a, 'input>,
    reference: Node<'a, 'input>,
    options: &VerifyOptions<'_>,
) -> Result<Vec<u8>, Status> {
    let r = parse_reference(reference, options)?;
    let mut budget = usize::MAX;
    Ok(
        transform_reference(doc, signature, ids, &r, options, &mut budget)?
            .0
            .octets,
    )
}

fn check_reference<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    ids: &IdIndex<'a, 'input>,
    r: &Reference<'a, 'input>,
    options: &VerifyOptions<'_>,
    output_budget: &mut usize,
) -> Result<(SignedReference, Option<Node<'a, 'input>>), Status> {
    let (checked, element) = transform_reference(doc, signature, ids, r, options, output_budget)?;
    if r.digest_method.digest(&checked.octets) != r.digest_value {
        return Err(fail(
            SubIndication::HashFailure,
            format!(
                "digest of the Reference at line {} (URI {:?}) does not match",
                line_of(r.node),
                r.uri.unwrap_or("")
            ),
        ));
    }
    Ok((checked, element))
}

fn transform_reference<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    ids: &IdIndex<'a, 'input>,
    r: &Reference<'a, 'input>,
    options: &VerifyOptions<'_>,
    output_budget: &mut usize,
) -> Result<(SignedReference, Option<Node<'a, 'input>>), Status> {
    let (mut data, target, element) = dereference(doc, ids, r, options)?;
    let role = role_of(signature, r, element)?;
    let mut enveloped = false;
    for t in &r.transforms {
        data = match (t, data) {
            (Transform::Enveloped, Data::Nodes(mut set)) => {
                set.exclude(signature);
                enveloped = true;
                Data::Nodes(set)
            }
            (Transform::ExcludeAllSignatures, Data::Nodes(mut set)) => {
                for s in doc.descendants().filter(|n| is_dsig(*n, "Signature")) {
                    set.exclude(s);
                }
                enveloped = true;
                Data::Nodes(set)
            }
            (Transform::Enveloped | Transform::ExcludeAllSignatures, Data::Octets(_)) => {
                return Err(format_error(
                    r.node,
                    "enveloped-signature transform on octets",
                ));
            }
            (Transform::C14n(a), Data::Nodes(set)) => {
                Data::Octets(spend(c14n::canonicalize(doc, &set, a), output_budget)?)
            }
            (Transform::C14n(a), Data::Octets(bytes)) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    format_error(r.node, "canonicalizing octets that are not UTF-8")
                })?;
                let inner = parse::parse(&text, &options.limits)
                    .map_err(|e| fail(SubIndication::FormatFailure, e.to_string()))?;
                Data::Octets(spend(
                    c14n::canonicalize_document(&inner, a),
                    output_budget,
                )?)
            }
            (Transform::Base64, Data::Nodes(set)) => {
                let apex = doc
                    .get_node(set.apex_id())
                    .ok_or_else(|| format_error(r.node, "lost base64 input"))?;
                let text: String = apex
                    .descendants()
                    .filter(|n| n.is_text() && c14n::NodeSet::contains(&set, *n))
                    .filter_map(|n| n.text())
                    .collect();
                Data::Octets(decode_base64_text(&text, r.node)?)
            }
            (Transform::Base64, Data::Octets(bytes)) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                Data::Octets(decode_base64_text(&text, r.node)?)
            }
        };
    }
    let octets = match data {
        Data::Octets(o) => o,
        // XMLDSig §4.4.3.2: a node-set left at the end is converted with Canonical XML 1.0;
        // comments survive only if dereferencing kept them.
        Data::Nodes(set) => {
            let a = Algorithm::Inclusive(set.comments());
            spend(c14n::canonicalize(doc, &set, &a), output_budget)?
        }
    };
    Ok((
        SignedReference {
            uri: r.uri.map(str::to_owned),
            reference_type: r.reference_type.map(str::to_owned),
            target,
            role,
            enveloped,
            octets,
            digest_method: r.digest_method,
        },
        element,
    ))
}

fn spend(octets: Vec<u8>, budget: &mut usize) -> Result<Vec<u8>, Status> {
    *budget = budget.checked_sub(octets.len()).ok_or_else(|| {
        fail(
            SubIndication::FormatFailure,
            "references canonicalize to more than the output budget",
        )
    })?;
    Ok(octets)
}

/// Dereferences a Reference URI (XMLDSig §4.4.3.3): same-document `""`, `#id`,
/// `#xpointer(/)`, `#xpointer(id('…'))`, or a detached document the caller supplied.
fn dereference<'a, 'input>(
    doc: &'a Document<'input>,
    ids: &IdIndex<'a, 'input>,
    r: &Reference<'a, 'input>,
    options: &VerifyOptions<'_>,
) -> Result<(Data, Target, Option<Node<'a, 'input>>), Status> {
    let Some(uri) = r.uri else {
        return Err(fail(
            SubIndication::SignedDataNotFound,
            format!("Reference at line {} has no URI", line_of(r.node)),
        ));
    };
    let by_id = |id: &str, comments: Comments| -> Result<_, Status> {
        let node = ids.resolve(id, r.node).ok_or_else(|| {
            fail(
                SubIndication::SignedDataNotFound,
                format!("no element with Id {id:?}"),
            )
        })?;
        let target = element_target(node, Some(id));
        Ok((
            Data::Nodes(Subtree::new(node, comments)),
            target,
            Some(node),
        ))
    };
    if uri.is_empty() {
        return Ok((
            Data::Nodes(Subtree::new(doc.root(), Comments::Strip)),
            Target::Document,
            None,
        ));
    }
    if let Some(fragment) = uri.strip_prefix('#') {
        if fragment == "xpointer(/)" {
            return Ok((
                Data::Nodes(Subtree::new(doc.root(), Comments::Keep)),
                Target::Document,
                None,
            ));
        }
        if let Some(rest) = fragment.strip_prefix("xpointer(id(") {
            let id = rest
                .strip_suffix("))")
                .map(|s| s.trim_matches(|c| c == '\'' || c == '"'))
                .ok_or_else(|| unsupported(format!("XPointer {fragment}")))?;
            return by_id(id, Comments::Keep);
        }
        if fragment.starts_with("xpointer(") {
            return Err(unsupported(format!("XPointer {fragment}")));
        }
        return by_id(fragment, Comments::Strip);
    }
    // A document the caller supplied under exactly this URI is the one meant (the caller
    // fetched or found it: nothing is dereferenced here); otherwise the URI must name one of
    // the supplied documents by a relative path.
    let exact = options
        .detached
        .iter()
        .find(|(supplied, _)| *supplied == uri);
    let found = match exact {
        Some(found) => Some(found),
        None => {
            let name = detached_name(uri).map_err(|why| {
                fail(
                    SubIndication::SignedDataNotFound,
                    format!("detached document {uri:?} is not resolved: {why}"),
                )
            })?;
            options
                .detached
                .iter()
                .find(|(supplied, _)| detached_name(supplied).is_ok_and(|s| s == name))
        }
    };
    match found {
        Some((_, bytes)) => Ok((
            Data::Octets(bytes.to_vec()),
            Target::Detached {
                uri: uri.to_owned(),
            },
            None,
        )),
        None => Err(fail(
            SubIndication::SignedDataNotFound,
            format!("detached document {uri:?} was not supplied"),
        )),
    }
}

/// The name a detached reference's URI gives among the supplied documents: a relative path,
/// percent-decoded, `.` segments dropped. Refused: a scheme (`http:`, `file:`, a drive letter),
/// an absolute path, a `..` segment, a backslash or NUL — a reference resolves inside what the
/// caller supplied or not at all (XMLDSig §4.4.3.1 leaves dereferencing to the application).
pub fn detached_name(uri: &str) -> Result<String, &'static str> {
    let scheme = uri
        .split_once(':')
        .is_some_and(|(head, _)| !head.is_empty() && !head.contains('/'));
    if scheme {
        return Err("it names a scheme; only relative names of supplied documents resolve");
    }
    if uri.starts_with('/') {
        return Err("it is an absolute path");
    }
    let path = uri.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path).ok_or("it is not valid percent-encoded UTF-8")?;
    if decoded.contains(['\\', '\0']) {
        return Err("it holds a backslash or NUL");
    }
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err("it leaves the supplied documents (..)"),
            s => segments.push(s),
        }
    }
    if segments.is_empty() {
        return Err("it names no document");
    }
    Ok(segments.join("/"))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Classifies a reference, enforcing the placement its `Type` (or XAdES) promises.
fn role_of(
    signature: Node<'_, '_>,
    r: &Reference<'_, '_>,
    element: Option<Node<'_, '_>>,
) -> Result<Role, Status> {
    let own_object = |n: Node<'_, '_>| is_dsig(n, "Object") && n.parent() == Some(signature);
    let wrapped = |what: &str| {
        fail(
            SubIndication::FormatFailure,
            format!(
                "Reference at line {} claims a {what} but points elsewhere (signature wrapping)",
                line_of(r.node)
            ),
        )
    };
    match r.reference_type {
        Some(TYPE_OBJECT) => match element {
            Some(e) if own_object(e) => Ok(Role::Content),
            _ => Err(wrapped("ds:Object of this signature")),
        },
        Some(TYPE_MANIFEST) => match element {
            Some(e) if is_dsig(e, "Manifest") && e.parent().is_some_and(own_object) => {
                Ok(Role::Manifest)
            }
            _ => Err(wrapped("ds:Manifest of this signature")),
        },
        // XAdES §7.2.4.2: a counter-signature signs the SignatureValue of the signature that
        // holds it (the DSS "injected counter-signature" swaps in another signature's value).
        Some(TYPE_COUNTERSIGNED_SIGNATURE) => {
            let countersigned = signature
                .ancestors()
                .skip(1)
                .find(|a| is_dsig(*a, "Signature"))
                .and_then(|parent| parent.children().find(|c| is_dsig(*c, "SignatureValue")));
            match (element, countersigned) {
                (Some(e), Some(v)) if e == v => Ok(Role::SignatureMaterial),
                _ => Err(wrapped("SignatureValue of the counter-signed signature")),
            }
        }
        Some(TYPE_SIGNED_PROPERTIES) => match element {
            Some(e) if xades::is_own_signed_properties(signature, e) => Ok(Role::SignedProperties),
            _ => Err(wrapped("SignedProperties of this signature")),
        },
        _ => Ok(match element {
            Some(e) if xades::is_own_signed_properties(signature, e) => Role::SignedProperties,
            Some(e) if is_dsig(e, "KeyInfo") || is_dsig(e, "SignatureValue") => {
                Role::SignatureMaterial
            }
            Some(e) if is_dsig(e, "Manifest") => Role::Manifest,
            _ => Role::Content,
        }),
    }
}

/// [`Expect`]: the signature must cover what the caller reads.
fn check_expectation<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    options: &VerifyOptions<'_>,
    report: &mut SignatureReport,
    targets: &[Option<Node<'a, 'input>>],
) -> Result<(), Status> {
    let content = || report.references.iter().filter(|r| r.role == Role::Content);
    let not_found = |what: String| fail(SubIndication::SignedDataNotFound, what);
    match &options.expect {
        Expect::SignedContentOnly => Ok(()),
        Expect::AnyContent => {
            let (whole, not_covered, covered) =
                any_content(doc, signature, options, report, targets)?;
            report.whole_document = whole;
            report.not_covered = not_covered;
            report.document_elements = Some(covered);
            Ok(())
        }
        Expect::Element(id) => {
            // Covered when referenced by its Id, or when the whole document is signed and the
            // element is not inside this signature (which the enveloped transform removes).
            let outside_signature = doc
                .descendants()
                .find(|n| {
                    n.is_element() && n.attributes().any(|a| a.value() == id && is_id_name(&a))
                })
                .is_some_and(|e| !e.ancestors().any(|a| a == signature));
            let whole = outside_signature && content().any(|r| r.target == Target::Document);
            if whole
                || content()
                    .any(|r| matches!(&r.target, Target::Element { id: Some(i), .. } if i == id))
            {
                Ok(())
            } else {
                Err(not_found(format!(
                    "the element with Id {id:?} is not signed"
                )))
            }
        }
        Expect::WholeDocument => {
            let root = doc.root_element();
            if root == signature {
                // Enveloping or detached: every Object that is not a XAdES container, and every
                // detached document supplied, must be covered.
                for object in signature.children().filter(|n| is_dsig(*n, "Object")) {
                    if object
                        .children()
                        .any(|c| c.is_element() && c.tag_name().name() == "QualifyingProperties")
                    {
                        continue;
                    }
                    let covered = content().any(|r| {
                        matches!(&r.target, Target::Element { line, path, .. }
                            if *line == line_of(object) && *path == path_of(object))
                    });
                    if !covered {
                        return Err(not_found(format!(
                            "the ds:Object at line {} is not signed",
                            line_of(object)
                        )));
                    }
                }
                for (uri, _) in options.detached {
                    if !content()
                        .any(|r| matches!(&r.target, Target::Detached { uri: u } if u == uri))
                    {
                        return Err(not_found(format!(
                            "detached document {uri:?} is not signed"
                        )));
                    }
                }
                if content().next().is_none() {
                    return Err(not_found("the signature covers no content".into()));
                }
                Ok(())
            } else {
                let root_path = path_of(root);
                let whole = content().any(|r| match &r.target {
                    Target::Document => true,
                    Target::Element { path, .. } => *path == root_path,
                    Target::Detached { .. } => false,
                });
                // Nothing may ride along unsigned inside this signature either: an Object that
                // no reference reaches would be content a reader of the document sees.
                for object in signature.children().filter(|n| is_dsig(*n, "Object")) {
                    let path = path_of(object);
                    let reached = report.references.iter().any(|r| {
                        matches!(&r.target, Target::Element { path: p, .. } if p.starts_with(&path))
                    });
                    let xades = object
                        .children()
                        .any(|c| c.is_element() && c.tag_name().name() == "QualifyingProperties");
                    if !reached && !xades {
                        return Err(not_found(format!(
                            "the ds:Object at line {} inside the signature is not signed",
                            line_of(object)
                        )));
                    }
                }
                if whole {
                    Ok(())
                } else {
                    Err(not_found(
                        "the signature does not cover the whole document (partial signed scope)"
                            .into(),
                    ))
                }
            }
        }
    }
}

/// [`Expect::AnyContent`]: the signature must cover some content of the document, with the
/// wrapping defences; returns whether it covers all of it, and what of it it leaves out.
fn any_content<'a, 'input>(
    doc: &'a Document<'input>,
    signature: Node<'a, 'input>,
    options: &VerifyOptions<'_>,
    report: &SignatureReport,
    targets: &[Option<Node<'a, 'input>>],
) -> Result<(bool, Vec<String>, Vec<String>), Status> {
    let wrapping = |what: String| fail(SubIndication::FormatFailure, what);
    let content: Vec<(&SignedReference, Option<Node<'a, 'input>>)> = report
        .references
        .iter()
        .zip(targets.iter().copied())
        .filter(|(r, _)| r.role == Role::Content)
        .collect();
    let enveloping = doc.root_element() == signature;
    // Every ds:Object of this signature is reached by a reference, or is a XAdES container:
    // nothing rides along unsigned inside the signature.
    for object in signature.children().filter(|n| is_dsig(*n, "Object")) {
        let reached = targets
            .iter()
            .flatten()
            .any(|t| *t == object || t.ancestors().any(|a| a == object));
        let xades = object
            .children()
            .any(|c| c.is_element() && c.tag_name().name() == "QualifyingProperties");
        if !reached && !xades {
            return Err(fail(
                SubIndication::SignedDataNotFound,
                format!(
                    "the ds:Object at line {} inside the signature is not signed",
                    line_of(object)
                ),
            ));
        }
    }
    // Document content: whole-document references, detached documents, and elements outside
    // every signature. Content inside a signature's ds:Object (its own signing-time properties,
    // or another's reached through a repeated local Id) is signed but is not the document's;
    // anything else inside another signature is a wrapping attempt.
    let mut whole = false;
    let mut covered: Vec<Node<'a, 'input>> = Vec::new();
    let mut detached = 0;
    for (r, target) in &content {
        match (&r.target, target) {
            (Target::Document, _) => whole = true,
            (Target::Detached { .. }, _) => detached += 1,
            (Target::Element { .. }, Some(node)) => {
                let holder = node.ancestors().find(|a| is_dsig(*a, "Signature"));
                let in_object = node.ancestors().any(|a| is_dsig(a, "Object"));
                match holder {
                    // An enveloping signature's objects are the document.
                    Some(holder) if holder == signature && enveloping => covered.push(*node),
                    // A signature's own properties (signing time), or another signature's
                    // reached through a repeated local Id: signed, but not document content.
                    Some(_) if in_object => {}
                    Some(holder) if holder == signature => {}
                    Some(other) => {
                        return Err(wrapping(format!(
                            "the Reference to {} reaches inside another signature (line {}): signature wrapping",
                            path_of(*node),
                            line_of(other)
                        )));
                    }
                    None => covered.push(*node),
                }
            }
            (Target::Element { .. }, None) => {}
        }
    }
    if !whole && covered.is_empty() && detached == 0 {
        return Err(fail(
            SubIndication::SignedDataNotFound,
            "the signature covers none of the document's content (only its own properties)",
        ));
    }
    let is_covered = |n: Node<'_, '_>| {
        covered
            .iter()
            .any(|c| *c == n || n.ancestors().any(|a| a == *c))
    };
    // A signed element beside an unsigned element of the same name: which one an application
    // reads depends on how it finds it, and by position it may read the unsigned one (the
    // classic wrapping attack moves the signed original aside and puts a forgery first).
    if !enveloping {
        for node in &covered {
            let twin = node
                .parent()
                .into_iter()
                .flat_map(|p| p.children())
                .find(|s| {
                    s.is_element()
                        && s != node
                        && s.tag_name() == node.tag_name()
                        && !is_covered(*s)
                });
            if let Some(twin) = twin {
                return Err(wrapping(format!(
                    "{} is signed but {} beside it, of the same name, is not: an application reading by position may read the unsigned one (signature wrapping)",
                    path_of(*node),
                    path_of(twin)
                )));
            }
        }
    }
    let mut not_covered = Vec::new();
    if !whole && !enveloping {
        uncovered(doc.root_element(), &covered, &mut not_covered);
    }
    for (uri, _) in options.detached {
        let referenced = content.iter().any(|(r, _)| {
            matches!(&r.target, Target::Detached { uri: u }
                if u == uri || detached_name(u).is_ok_and(|u| detached_name(uri) == Ok(u)))
        });
        if !referenced {
            not_covered.push(format!("detached document {uri}"));
        }
    }
    // The document element signed by its Id is the whole document; an enveloping or detached
    // signature that leaves nothing out covers all there is.
    let whole =
        whole || covered.contains(&doc.root_element()) || enveloping && not_covered.is_empty();
    Ok((
        whole,
        not_covered,
        covered.iter().map(|n| path_of(*n)).collect(),
    ))
}

/// Paths reported as not covered, at most: enough to show a reader what is outside.
const MAX_NOT_COVERED: usize = 32;

/// The elements under `node` that no covered element holds or lies in, shallowest first.
fn uncovered(node: Node<'_, '_>, covered: &[Node<'_, '_>], out: &mut Vec<String>) {
    if covered.contains(&node) || is_dsig(node, "Signature") || holds_only_signatures(node) {
        return;
    }
    let holds_covered = covered
        .iter()
        .any(|c| c.ancestors().skip(1).any(|a| a == node));
    if !holds_covered {
        if out.len() < MAX_NOT_COVERED {
            out.push(path_of(node));
        }
        return;
    }
    for child in node.children().filter(Node::is_element) {
        uncovered(child, covered, out);
    }
}

/// An element with no attributes and no text whose element children are signatures or such
/// elements themselves: a container of signatures (`<DSCKS><NBan><ds:Signature/>…`), not content.
fn holds_only_signatures(node: Node<'_, '_>) -> bool {
    node.attributes().len() == 0
        && node.children().all(|c| {
            (c.is_text() && c.text().unwrap_or("").trim().is_empty())
                || c.is_comment()
                || c.is_pi()
                || (c.is_element() && (is_dsig(c, "Signature") || holds_only_signatures(c)))
        })
}

/// Certificates and bare keys from `KeyInfo`, following same-document `RetrievalMethod` and
/// `KeyInfoReference` once. `KeyName` and the issuer/serial/SKI hints name keys the caller may
/// supply ([`VerifyOptions::keys`]); they are not looked up here.
#[derive(Default)]
struct KeyMaterial {
    certificates: Vec<Vec<u8>>,
    keys: Vec<PublicKey>,
    /// A key reference we do not follow (external, or with transforms).
    unsupported: Option<String>,
}

fn key_material(key_info: Node<'_, '_>, ids: &IdIndex<'_, '_>) -> Result<KeyMaterial, Status> {
    let mut m = KeyMaterial::default();
    for child in key_info.children().filter(Node::is_element) {
        collect_key(child, ids, Follow::Once, &mut m)?;
    }
    Ok(m)
}

/// Whether same-document key references (`RetrievalMethod`, `dsig11:KeyInfoReference`) are
/// followed: once, never from a referenced element (no chains, no loops).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    Once,
    Never,
}

fn collect_key(
    node: Node<'_, '_>,
    ids: &IdIndex<'_, '_>,
    follow: Follow,
    m: &mut KeyMaterial,
) -> Result<(), Status> {
    let dsig11 = |local: &str| {
        node.tag_name().namespace() == Some(DSIG11_NS) && node.tag_name().name() == local
    };
    if is_dsig(node, "X509Data") {
        for c in node.children().filter(|n| is_dsig(*n, "X509Certificate")) {
            m.certificates.push(decode_base64(c)?);
        }
    } else if is_dsig(node, "KeyValue") {
        for kv in node.children().filter(Node::is_element) {
            collect_key(kv, ids, Follow::Never, m)?;
        }
    } else if is_dsig(node, "RSAKeyValue") {
        let part = |name: &str| -> Result<Vec<u8>, Status> {
            let n = node
                .children()
                .find(|n| is_dsig(*n, name))
                .ok_or_else(|| format_error(node, "RSAKeyValue incomplete"))?;
            decode_base64(n)
        };
        m.keys
            .push(PublicKey::RsaPkcs1(crate::signer::rsa_public_key(
                &part("Modulus")?,
                &part("Exponent")?,
            )));
    } else if dsig11("ECKeyValue") {
        let curve = node
            .children()
            .find(|n| n.tag_name().name() == "NamedCurve")
            .and_then(|n| n.attribute("URI"));
        let known = matches!(
            curve,
            Some("urn:oid:1.2.840.10045.3.1.7" | "urn:oid:1.3.132.0.34" | "urn:oid:1.3.132.0.35")
        );
        let point = node.children().find(|n| n.tag_name().name() == "PublicKey");
        if let (true, Some(point)) = (known, point) {
            m.keys.push(PublicKey::EcPoint(decode_base64(point)?));
        }
    } else if dsig11("DEREncodedKeyValue") {
        m.keys.push(PublicKey::Spki(decode_base64(node)?));
    } else if follow == Follow::Once
        && (is_dsig(node, "RetrievalMethod") || dsig11("KeyInfoReference"))
    {
        // Same-document targets only, and no transforms: a key reference must not become a
        // second reference-processing engine.
        let uri = node.attribute("URI").unwrap_or("");
        let target = uri
            .strip_prefix('#')
            .filter(|_| node.children().all(|c| !c.is_element()))
            .and_then(|id| ids.get(id));
        if target.is_none() {
            m.unsupported = Some(format!(
                "{} {uri:?} (only same-document references without transforms are followed)",
                node.tag_name().name()
            ));
        }
        if let Some(target) = target {
            if is_dsig(target, "KeyInfo") {
                for c in target.children().filter(Node::is_element) {
                    collect_key(c, ids, Follow::Never, m)?;
                }
            } else {
                collect_key(target, ids, Follow::Never, m)?;
            }
        }
    }
    Ok(())
}

/// The DER `SubjectPublicKeyInfo` of a certificate.
pub(crate) fn certificate_spki(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.tbs_certificate.subject_pki.raw.to_vec())
}

fn canonicalization(node: Node<'_, '_>) -> Result<Algorithm, Status> {
    let uri = algorithm_attribute(node)?;
    let a = Algorithm::from_uri(uri)
        .ok_or_else(|| unsupported(format!("canonicalization method {uri}")))?;
    with_prefix_list(a, node)
}

/// Reads `ec:InclusiveNamespaces/@PrefixList` under an Exclusive C14N method.
fn with_prefix_list(a: Algorithm, node: Node<'_, '_>) -> Result<Algorithm, Status> {
    let Algorithm::Exclusive { comments, .. } = a else {
        return Ok(a);
    };
    let list = node.children().find(|n| {
        n.tag_name().namespace() == Some(EXC_C14N_NS)
            && n.tag_name().name() == "InclusiveNamespaces"
    });
    let inclusive_prefixes = list
        .and_then(|l| l.attribute("PrefixList"))
        .map(|p| {
            p.split_ascii_whitespace()
                .map(|p| {
                    if p == "#default" {
                        String::new()
                    } else {
                        p.to_owned()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Algorithm::Exclusive {
        comments,
        inclusive_prefixes,
    })
}

fn algorithm_attribute<'a>(node: Node<'a, '_>) -> Result<&'a str, Status> {
    node.attribute("Algorithm")
        .ok_or_else(|| format_error(node, "missing Algorithm attribute"))
}

/// Child elements, refusing non-whitespace text between them.
fn element_children<'a, 'input>(node: Node<'a, 'input>) -> Result<Vec<Node<'a, 'input>>, Status> {
    let mut out = Vec::new();
    for c in node.children() {
        if c.is_element() {
            out.push(c);
        } else if c.is_text() && !c.text().unwrap_or("").trim().is_empty() {
            return Err(format_error(node, "unexpected text"));
        }
    }
    Ok(out)
}

pub(crate) fn is_dsig(node: Node<'_, '_>, local: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(DSIG_NS)
        && node.tag_name().name() == local
}

fn format_error(node: Node<'_, '_>, what: &str) -> Status {
    fail(
        SubIndication::FormatFailure,
        format!(
            "{what} (<{}> at line {})",
            node.tag_name().name(),
            line_of(node)
        ),
    )
}

pub(crate) fn line_of(node: Node<'_, '_>) -> u32 {
    // Counting newline bytes vectorizes; roxmltree's text_pos_at walks characters for the
    // column too, and showed up in profiles of small-document verification.
    let text = node.document().input_text().as_bytes();
    let end = node.range().start.min(text.len());
    let newlines = text[..end].iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// A positional path to an element, e.g. `/Invoice[1]/Body[2]`.
pub(crate) fn path_of(node: Node<'_, '_>) -> String {
    let mut parts = Vec::new();
    let mut n = Some(node);
    while let Some(e) = n.filter(Node::is_element) {
        let name = e.tag_name();
        // prev_siblings() starts with the node itself.
        let position = e
            .prev_siblings()
            .filter(|s| s.is_element() && s.tag_name() == name)
            .count();
        parts.push(format!("/{}[{}]", name.name(), position));
        n = e.parent();
    }
    parts.reverse();
    parts.concat()
}

fn element_target(node: Node<'_, '_>, id: Option<&str>) -> Target {
    let name = match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_owned(),
    };
    Target::Element {
        name,
        id: id.map(str::to_owned),
        path: path_of(node),
        line: line_of(node),
    }
}

/// Decodes an element's base64 text content (whitespace allowed anywhere, XMLDSig §4.3).
pub(crate) fn decode_base64(node: Node<'_, '_>) -> Result<Vec<u8>, Status> {
    let text: String = node
        .children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    decode_base64_text(&text, node)
}

fn decode_base64_text(text: &str, node: Node<'_, '_>) -> Result<Vec<u8>, Status> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| format_error(node, &format!("invalid base64: {e}")))
}
