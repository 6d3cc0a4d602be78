//! Checkpoints of the audit log: the chain's head (sequence number and hash) signed by a token
//! key and time-stamped by an RFC 3161 TSA, stored as an entry of the log itself
//! ([`Action::Checkpoint`]) so that it is chained like every other entry.
//!
//! Owns: the signed statement's bytes ([`statement`]), the checkpoint entry's details
//! ([`Details`]), when the next one is due ([`Schedule`]), the export file kept elsewhere
//! ([`export`], [`read_export`]) and the checks `kyso audit verify` makes ([`verify`]): each
//! checkpoint's signature over its stated head with its stated certificate, that certificate's
//! path to the configured anchors, the time-stamp token over the signature (RFC 3161 Appendix A
//! style: the imprint is SHA-256 of the signature value) with the TSA's path, and that the
//! stated head is the chain's entry at that sequence number; then that every exported
//! checkpoint is still in the log ([`Finding::Rewound`]) and that the newest checkpoint is not
//! older than the schedule's period plus grace ([`Finding::Stale`]).
//!
//! The signed statement is 64 bytes, fixed layout, no encoding choices:
//!
//! ```text
//! "kyso-audit-checkpoint-v1"   24 ASCII bytes (domain separation: no other kyso signature
//!                              starts with them)
//! head sequence number         8 bytes, unsigned big-endian
//! head hash                    32 bytes, the raw SHA-256 the chain stores as hex
//! ```
//!
//! The key signs it with its own algorithm through [`crate::signer::Signer`] (the message is
//! hashed on the host); the signature is kept as CMS carries it (DER `ECDSA-Sig-Value` for
//! ECDSA). The empty log's head is sequence 0 with [`GENESIS`] as hash.
//!
//! What it refuses: to make a checkpoint without a TSA (an untimed signature proves no
//! "when"), and to count a checkpoint whose signature, certificate or time-stamp fails as
//! evidence of anything: such a checkpoint is reported as [`Finding::Forged`] and the staleness
//! rule looks past it. What it cannot prove: see [`crate::audit`].

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Action, Entry, GENESIS, Record, Verification};
use crate::ledger::{Error as LedgerError, Store};
use crate::pki::timestamp::TimestampToken;
use crate::pki::{
    CertPool, Certificate, Evidence, KeyPurpose, RevocationCheck, RevocationPolicy,
    RevocationSource, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};
use crate::signer::{Curve, DigestAlgorithm, SignatureAlgorithm, SignatureScheme, Signer};
use crate::signing::KeyMaterial;
use crate::tsp::Tsa;

/// The statement's leading bytes, and the `format` of a checkpoint's details.
pub const FORMAT: &str = "kyso-audit-checkpoint-v1";

/// Entries read per query while looking back for the newest checkpoint or exporting: bounds
/// memory whatever the log's length, as [`super::verify`]'s page does.
const PAGE: usize = 1000;

/// Why a checkpoint could not be made, exported or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("[audit] {setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    #[error("the head hash `{hash}` is not 64 hex digits")]
    HeadHash { hash: String },
    #[error("the checkpoint key did not sign: {0}")]
    Signer(#[from] crate::signer::SignError),
    #[error("time-stamping the checkpoint: {0}")]
    Timestamp(#[from] crate::tsp::Error),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("writing the export: {0}")]
    Write(#[source] std::io::Error),
    #[error("export line {line}: {reason}")]
    ExportLine { line: usize, reason: String },
    #[error("encoding {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// When checkpoints are due, and with which key: `[audit]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The `[[serve.keys]]` name of the key that signs.
    pub key: String,
    pub every_entries: u64,
    pub every: time::Duration,
    pub grace: time::Duration,
}

/// Defaults of `[audit]`: 1000 entries are a few minutes of a busy province's signing, so a cut
/// is pinned closely on busy days; an hour bounds what a quiet one can lose; 15 minutes of grace
/// cover a TSA outage that retries fix and a service restart.
const DEFAULT_EVERY_ENTRIES: u64 = 1000;
const DEFAULT_EVERY_MINUTES: u64 = 60;
const DEFAULT_GRACE_MINUTES: u64 = 15;

impl Schedule {
    /// The schedule `[audit]` describes; `None` when no `checkpoint_key` is set.
    pub fn from_config(config: &crate::config::AuditConfig) -> Result<Option<Schedule>, Error> {
        let Some(key) = config.checkpoint_key.clone() else {
            return Ok(None);
        };
        let positive = |setting: &'static str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(Error::Setting {
                setting,
                reason: "must be more than 0".to_owned(),
            }),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let every_entries = positive(
            "checkpoint_every_entries",
            config.checkpoint_every_entries,
            DEFAULT_EVERY_ENTRIES,
        )?;
        let minutes = positive(
            "checkpoint_every_minutes",
            config.checkpoint_every_minutes,
            DEFAULT_EVERY_MINUTES,
        )?;
        let grace = config
            .checkpoint_grace_minutes
            .unwrap_or(DEFAULT_GRACE_MINUTES);
        let minutes_of = |setting: &'static str, n: u64| {
            i64::try_from(n)
                .ok()
                .filter(|n| *n <= 525_600 * 100)
                .map(time::Duration::minutes)
                .ok_or(Error::Setting {
                    setting,
                    reason: format!("{n} minutes is more than a century"),
                })
        };
        Ok(Some(Schedule {
            key,
            every_entries,
            every: minutes_of("checkpoint_every_minutes", minutes)?,
            grace: minutes_of("checkpoint_grace_minutes", grace)?,
        }))
    }

    /// Whether a checkpoint is due at `now`, the log's head being `head_seq` and its newest
    /// checkpoint `newest` (`None`: there is none yet, so one is due).
    pub fn due(&self, newest: Option<&Newest>, head_seq: u64, now: OffsetDateTime) -> bool {
        match newest {
            None => true,
            Some(n) => {
                head_seq.saturating_sub(n.seq) >= self.every_entries || now - n.at >= self.every
            }
        }
    }
}

/// The newest checkpoint entry of a log, as the scheduler needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Newest {
    /// The checkpoint entry's own sequence number.
    pub seq: u64,
    /// When it was recorded.
    pub at: OffsetDateTime,
}

/// The 64-byte statement a checkpoint signs (layout in the module documentation).
pub fn statement(head_seq: u64, head_hash: &str) -> Result<Vec<u8>, Error> {
    let raw = hex::decode(head_hash)
        .ok()
        .filter(|h| h.len() == 32)
        .ok_or_else(|| Error::HeadHash {
            hash: head_hash.to_owned(),
        })?;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(FORMAT.as_bytes());
    out.extend_from_slice(&head_seq.to_be_bytes());
    out.extend_from_slice(&raw);
    Ok(out)
}

/// A checkpoint entry's details, stored as its JSON (binary values in standard base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// [`FORMAT`].
    pub format: String,
    /// The head signed: the last entry's sequence number when the checkpoint was made ...
    pub head_seq: u64,
    /// ... and its hash, hex.
    pub head_hash: String,
    /// The `[[serve.keys]]` name of the key that signed.
    pub key: String,
    /// The signature scheme (`ecdsa-sha256`, `rsa-pkcs1-sha256`, …; `kyso token sign`'s names).
    pub algorithm: String,
    /// The signature over [`statement`], as CMS carries it.
    pub signature: String,
    /// The signer's certificate, DER.
    pub certificate: String,
    /// Its issuers, nearest first, DER.
    pub chain: Vec<String>,
    /// The RFC 3161 TimeStampToken (DER ContentInfo) over SHA-256 of the signature value.
    pub timestamp: String,
}

/// Signs the head `(head_seq, head_hash)` with `key` (called `key_name` in `[[serve.keys]]`),
/// has the signature time-stamped by `tsa`, and returns the entry to append, by `actor`. Talks
/// to the token and the TSA, never to the store: a caller holds no transaction meanwhile.
pub fn make(
    head_seq: u64,
    head_hash: &str,
    key: &KeyMaterial,
    key_name: &str,
    tsa: &Tsa,
    actor: &str,
) -> Result<Record, Error> {
    let message = statement(head_seq, head_hash)?;
    let signature = key.key.sign(&message)?;
    let value = signature.to_der();
    let imprint = DigestAlgorithm::Sha256.digest(&value);
    let token = crate::tsp::timestamp(tsa, DigestAlgorithm::Sha256, &imprint)?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let details = Details {
        format: FORMAT.to_owned(),
        head_seq,
        head_hash: head_hash.to_owned(),
        key: key_name.to_owned(),
        algorithm: scheme_name(signature.algorithm()),
        signature: b64(&value),
        certificate: b64(&key.certificate),
        chain: key.chain.iter().map(|c| b64(c)).collect(),
        timestamp: b64(&token),
    };
    let json = serde_json::to_value(&details).map_err(|source| Error::Encode {
        what: "the checkpoint's details",
        source,
    })?;
    Ok(Record::new(
        actor,
        Action::Checkpoint,
        head_seq.to_string(),
        &json,
    ))
}

/// The newest checkpoint entry with a sequence number above `after`, looking back from the head
/// a page at a time (a scheduler passes the newest it knows, so this reads one or two pages).
pub fn newest(store: &mut dyn Store, after: u64) -> Result<Option<Newest>, LedgerError> {
    let (head, _) = store.audit_head()?;
    let mut upper = head;
    while upper > after {
        let from = upper.saturating_sub(PAGE as u64).max(after);
        let limit = usize::try_from(upper - from).unwrap_or(usize::MAX);
        let page = store.audit_entries(from, limit)?;
        if let Some(found) = page
            .iter()
            .rev()
            .find(|e| e.record.action == Action::Checkpoint.as_str())
        {
            return Ok(Some(Newest {
                seq: found.seq,
                at: found.record.at,
            }));
        }
        upper = from;
    }
    Ok(None)
}

/// Writes every checkpoint entry of the log to `out` as JSON lines, one [`Entry`] per line as
/// the log holds it (so each line can be re-hashed); returns how many.
pub fn export(store: &mut dyn Store, out: &mut dyn Write) -> Result<u64, Error> {
    let mut after = 0;
    let mut written = 0;
    loop {
        let page = store.audit_entries(after, PAGE)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for entry in page
            .iter()
            .filter(|e| e.record.action == Action::Checkpoint.as_str())
        {
            let line = serde_json::to_string(entry).map_err(|source| Error::Encode {
                what: "a checkpoint entry",
                source,
            })?;
            writeln!(out, "{line}").map_err(Error::Write)?;
            written += 1;
        }
    }
    out.flush().map_err(Error::Write)?;
    Ok(written)
}

/// Reads an export: one checkpoint [`Entry`] per non-empty line, each still hashing to its
/// stored hash (a damaged file is refused rather than compared).
pub fn read_export(text: &str) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = serde_json::from_str(line).map_err(|e| Error::ExportLine {
            line: line_no,
            reason: e.to_string(),
        })?;
        if super::entry_hash(entry.seq, &entry.prev_hash, &entry.record) != entry.hash {
            return Err(Error::ExportLine {
                line: line_no,
                reason: format!("entry {} does not hash to its stated hash", entry.seq),
            });
        }
        if entry.record.action != Action::Checkpoint.as_str() {
            return Err(Error::ExportLine {
                line: line_no,
                reason: format!("entry {} is not a checkpoint", entry.seq),
            });
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// What checkpoints are checked against.
pub struct Checks<'a> {
    /// "Now" for the staleness rule.
    pub at: OffsetDateTime,
    /// The schedule the log was kept under: `None` turns the staleness rule off.
    pub schedule: Option<&'a Schedule>,
    /// Checkpoints exported earlier ([`read_export`]): each must still be in the log.
    pub exported: &'a [Entry],
    /// Anchors the checkpoint key's and the TSA's certificates must chain to. Empty: the
    /// signatures are checked, the paths are not (and the report says so).
    pub anchors: TrustStore,
    pub intermediates: CertPool,
    /// Revocation evidence and sources, in order; `skip_revocation` is `[verify] revocation =
    /// "off"`.
    pub sources: Vec<&'a dyn RevocationSource>,
    pub skip_revocation: bool,
}

/// What [`verify`] found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The chain itself ([`super::verify`]).
    pub chain: Verification,
    /// Every checkpoint read, in order.
    pub checkpoints: Vec<Summary>,
    /// Whether certificate paths were checked (anchors configured).
    pub paths_checked: bool,
    /// Everything wrong beyond the chain; empty when all is well.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The chain is intact and nothing was found.
    pub fn is_clean(&self) -> bool {
        matches!(self.chain, Verification::Intact { .. }) && self.findings.is_empty()
    }
}

/// One checkpoint of the log.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The checkpoint entry's sequence number.
    pub seq: u64,
    /// The head it signs.
    pub head_seq: u64,
    /// The TSA's time, when the token could be read.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// The key named in it.
    pub key: String,
    /// Whether every check passed.
    pub valid: bool,
}

/// Something the checkpoints show to be wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A checkpoint that does not hold: forged, or written by something that is not kyso.
    Forged { seq: u64, problem: Problem },
    /// The log ends before a checkpoint the export names: it was cut back.
    Rewound {
        seq: u64,
        #[serde(with = "time::serde::rfc3339::option")]
        made_at: Option<OffsetDateTime>,
        log_ends_at: u64,
    },
    /// The log holds another entry where the export names a checkpoint: it was rewritten.
    Replaced { seq: u64 },
    /// No valid checkpoint for longer than the period plus grace.
    Stale {
        /// The newest valid checkpoint's time (`None`: the log has none, and `since` is its
        /// first entry's time).
        #[serde(with = "time::serde::rfc3339::option")]
        newest: Option<OffsetDateTime>,
        #[serde(with = "time::serde::rfc3339")]
        since: OffsetDateTime,
        /// Entries after the newest valid checkpoint (all of them when there is none).
        entries_after: u64,
        period_minutes: i64,
        grace_minutes: i64,
    },
}

/// Why a checkpoint does not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", content = "detail", rename_all = "snake_case")]
pub enum Problem {
    #[error("its details do not read as a checkpoint: {0}")]
    Unreadable(String),
    #[error("it signs entry {head_seq}, which is not before it")]
    NotBefore { head_seq: u64 },
    #[error("the head it signs, entry {head_seq}, is not in the chain with that hash")]
    HeadMismatch { head_seq: u64 },
    #[error("the signature does not verify with the stated certificate: {0}")]
    Signature(String),
    #[error("the signer's certificate does not chain to the trust anchors: {0}")]
    SignerPath(String),
    #[error("the time-stamp token does not hold: {0}")]
    Timestamp(String),
}

/// Walks the chain ([`super::verify_visiting`]) checking every checkpoint on the way, then
/// compares the log with `checks.exported` and the schedule.
pub fn verify(store: &mut dyn Store, checks: &Checks<'_>) -> Result<Report, LedgerError> {
    let validator = Validator::new(
        checks.anchors.clone(),
        checks.intermediates.clone(),
        ValidationPolicy {
            purpose: KeyPurpose::DocumentSigning,
            revocation: if checks.skip_revocation {
                RevocationPolicy {
                    check: RevocationCheck::DangerouslySkip,
                    unknown: UnknownRevocation::Allow,
                }
            } else {
                RevocationPolicy::default()
            },
            ..ValidationPolicy::default()
        },
    );
    let paths = !checks.anchors.is_empty();
    let mut summaries: Vec<Summary> = Vec::new();
    let mut hashes: BTreeMap<u64, String> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut first_at: Option<OffsetDateTime> = None;
    let mut newest_valid: Option<(u64, OffsetDateTime)> = None;
    let chain = super::verify_visiting(store, &mut |store, entry| {
        first_at.get_or_insert(entry.record.at);
        if entry.record.action != Action::Checkpoint.as_str() {
            return Ok(());
        }
        hashes.insert(entry.seq, entry.hash.clone());
        let (summary, problem) = check_one(store, entry, &validator, paths, &checks.sources)?;
        match problem {
            Some(problem) => findings.push(Finding::Forged {
                seq: entry.seq,
                problem,
            }),
            // The newest by the TSA's time, not by place in the log: a copy of an old
            // checkpoint appended later must not stand for a fresh one.
            None => {
                if let Some(time) = summary.time
                    && newest_valid.is_none_or(|(_, newest)| time >= newest)
                {
                    newest_valid = Some((entry.seq, time));
                }
            }
        }
        summaries.push(summary);
        Ok(())
    })?;
    let last_seq = match &chain {
        Verification::Intact { entries, .. } => *entries,
        Verification::Broken { .. } => store.audit_head()?.0,
    };
    for exported in checks.exported {
        match hashes.get(&exported.seq) {
            Some(hash) if *hash == exported.hash => {}
            Some(_) => findings.push(Finding::Replaced { seq: exported.seq }),
            None if exported.seq > last_seq => findings.push(Finding::Rewound {
                seq: exported.seq,
                made_at: exported_time(exported),
                log_ends_at: last_seq,
            }),
            None => findings.push(Finding::Replaced { seq: exported.seq }),
        }
    }
    if let (Some(schedule), Verification::Intact { entries, .. }) = (checks.schedule, &chain) {
        let (newest, since, entries_after) = match newest_valid {
            Some((seq, time)) => (Some(time), Some(time), entries.saturating_sub(seq)),
            None => (None, first_at, *entries),
        };
        if let Some(since) = since
            && checks.at - since > schedule.every + schedule.grace
        {
            findings.push(Finding::Stale {
                newest,
                since,
                entries_after,
                period_minutes: schedule.every.whole_minutes(),
                grace_minutes: schedule.grace.whole_minutes(),
            });
        }
    }
    Ok(Report {
        chain,
        checkpoints: summaries,
        paths_checked: paths,
        findings,
    })
}

/// Checks one checkpoint entry: what it is, and what is wrong with it, if anything.
fn check_one(
    store: &mut dyn Store,
    entry: &Entry,
    validator: &Validator,
    paths: bool,
    sources: &[&dyn RevocationSource],
) -> Result<(Summary, Option<Problem>), LedgerError> {
    let mut summary = Summary {
        seq: entry.seq,
        head_seq: 0,
        time: None,
        key: String::new(),
        valid: false,
    };
    let details: Details = match serde_json::from_str(&entry.record.details) {
        Ok(d) => d,
        Err(e) => return Ok((summary, Some(Problem::Unreadable(e.to_string())))),
    };
    summary.head_seq = details.head_seq;
    summary.key.clone_from(&details.key);
    let token = decode(&details.timestamp)
        .ok()
        .and_then(|der| TimestampToken::from_der(&der).ok());
    summary.time = token.as_ref().map(|t| t.info().gen_time);
    if details.format != FORMAT {
        let problem = Problem::Unreadable(format!("format `{}`", details.format));
        return Ok((summary, Some(problem)));
    }
    if details.head_seq >= entry.seq {
        let problem = Problem::NotBefore {
            head_seq: details.head_seq,
        };
        return Ok((summary, Some(problem)));
    }
    let in_chain = if details.head_seq == 0 {
        details.head_hash == GENESIS
    } else {
        store
            .audit_entries(details.head_seq - 1, 1)?
            .first()
            .is_some_and(|e| e.seq == details.head_seq && e.hash == details.head_hash)
    };
    if !in_chain {
        let problem = Problem::HeadMismatch {
            head_seq: details.head_seq,
        };
        return Ok((summary, Some(problem)));
    }
    let problem = check_signatures(&details, token.as_ref(), validator, paths, sources).err();
    summary.valid = problem.is_none();
    Ok((summary, problem))
}

/// The signature over the statement, the signer's path at the TSA's time, and the token.
fn check_signatures(
    details: &Details,
    token: Option<&TimestampToken>,
    validator: &Validator,
    paths: bool,
    sources: &[&dyn RevocationSource],
) -> Result<(), Problem> {
    let unreadable = |what: &str| Problem::Unreadable(format!("{what} is not base64 DER"));
    let signature = decode(&details.signature).map_err(|_| unreadable("the signature"))?;
    let certificate = decode(&details.certificate)
        .ok()
        .and_then(|der| Certificate::from_der(&der).ok())
        .ok_or_else(|| unreadable("the certificate"))?;
    let chain = details
        .chain
        .iter()
        .map(|c| {
            decode(c)
                .ok()
                .and_then(|der| Certificate::from_der(&der).ok())
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| unreadable("a chain certificate"))?;
    let algorithm = signature_algorithm(&details.algorithm, &certificate).ok_or_else(|| {
        Problem::Signature(format!(
            "algorithm `{}` with this key is not one kyso signs with",
            details.algorithm
        ))
    })?;
    let message = statement(details.head_seq, &details.head_hash)
        .map_err(|e| Problem::Unreadable(e.to_string()))?;
    crate::signer::verify(certificate.spki_der(), algorithm, &message, &signature)
        .map_err(|e| Problem::Signature(e.to_string()))?;
    let token = token.ok_or_else(|| {
        Problem::Timestamp("not a time-stamp token kyso reads (base64 DER)".to_owned())
    })?;
    let mut intermediates = chain.clone();
    intermediates.extend(token.certificates().iter().cloned());
    match crate::pki::timestamp::verify(token, &signature, None, validator, &intermediates, sources)
    {
        Ok(_) => {}
        // Without anchors, the TSA's path cannot be checked; the rest of the token was.
        Err(crate::pki::timestamp::Error::Path(_)) if !paths => {}
        Err(e) => return Err(Problem::Timestamp(e.to_string())),
    }
    if paths {
        validator
            .validate(&certificate, &chain, token.info().gen_time, sources)
            .map_err(|e| Problem::SignerPath(e.to_string()))?;
    }
    Ok(())
}

/// The time an exported checkpoint's token states, if it reads.
fn exported_time(entry: &Entry) -> Option<OffsetDateTime> {
    let details: Details = serde_json::from_str(&entry.record.details).ok()?;
    let der = decode(&details.timestamp).ok()?;
    Some(TimestampToken::from_der(&der).ok()?.info().gen_time)
}

fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text)
}

/// `kyso token sign`'s name of the scheme `algorithm` belongs to.
fn scheme_name(algorithm: SignatureAlgorithm) -> String {
    let scheme = match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => SignatureScheme::RsaPkcs1v15(d),
        SignatureAlgorithm::RsaPss(d) => SignatureScheme::RsaPss(d),
        SignatureAlgorithm::Ecdsa(_, d) => SignatureScheme::Ecdsa(d),
    };
    scheme.to_string()
}

/// The algorithm a scheme name means with `certificate`'s key (its curve, for ECDSA).
fn signature_algorithm(name: &str, certificate: &Certificate) -> Option<SignatureAlgorithm> {
    use crate::pki::signature::KeyKind;
    let scheme: SignatureScheme = name.parse().ok()?;
    Some(match (scheme, &certificate.public_key().kind) {
        (SignatureScheme::RsaPkcs1v15(d), KeyKind::Rsa { .. }) => {
            SignatureAlgorithm::RsaPkcs1v15(d)
        }
        (SignatureScheme::RsaPss(d), KeyKind::Rsa { .. }) => SignatureAlgorithm::RsaPss(d),
        (SignatureScheme::Ecdsa(d), KeyKind::EcP256) => SignatureAlgorithm::Ecdsa(Curve::P256, d),
        (SignatureScheme::Ecdsa(d), KeyKind::EcP384) => SignatureAlgorithm::Ecdsa(Curve::P384, d),
        _ => return None,
    })
}

/// Revocation sources of a `[verify]` trust for checkpoint checks: its evidence, and the
/// network when revocation is online.
pub fn sources<'a>(
    evidence: &'a Evidence,
    online: Option<&'a crate::pki::fetch::Online>,
) -> Vec<&'a dyn RevocationSource> {
    let mut out: Vec<&dyn RevocationSource> = vec![evidence];
    if let Some(online) = online {
        out.push(online);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minutes)
    }

    #[test]
    fn the_statement_is_64_bytes_in_a_fixed_layout() {
        let hash = "ab".repeat(32);
        let s = statement(0x0102, &hash).unwrap();
        assert_eq!(s.len(), 64);
        assert_eq!(&s[..24], FORMAT.as_bytes());
        assert_eq!(&s[24..32], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(&s[32..], &[0xab; 32]);
        assert!(statement(1, "ab").is_err());
        assert!(statement(1, &"zz".repeat(32)).is_err());
        assert_eq!(statement(0, GENESIS).unwrap()[32..], [0; 32]);
    }

    #[test]
    fn a_checkpoint_is_due_after_n_entries_or_the_period() {
        let config = crate::config::AuditConfig {
            checkpoint_key: Some("audit".into()),
            checkpoint_every_entries: Some(10),
            checkpoint_every_minutes: Some(60),
            ..Default::default()
        };
        let schedule = Schedule::from_config(&config).unwrap().unwrap();
        assert_eq!(schedule.grace, time::Duration::minutes(15));
        assert!(schedule.due(None, 0, at(0)));
        let newest = Newest { seq: 5, at: at(0) };
        assert!(!schedule.due(Some(&newest), 14, at(59)));
        assert!(schedule.due(Some(&newest), 15, at(1)));
        assert!(schedule.due(Some(&newest), 5, at(60)));
        assert_eq!(
            Schedule::from_config(&crate::config::AuditConfig::default()).unwrap(),
            None
        );
        let zero = crate::config::AuditConfig {
            checkpoint_every_minutes: Some(0),
            ..config
        };
        let err = Schedule::from_config(&zero).unwrap_err();
        assert!(
            err.to_string().contains("checkpoint_every_minutes"),
            "{err}"
        );
    }

    #[test]
    fn exports_refuse_damaged_lines_and_other_entries() {
        let record = Record::at(
            at(0),
            "service",
            Action::Checkpoint,
            "0",
            &serde_json::json!({}),
        );
        let entry = Entry::next(0, GENESIS, record);
        let line = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            read_export(&format!("{line}\n\n")).unwrap(),
            vec![entry.clone()]
        );
        let damaged = line.replace("\"service\"", "\"servicf\"");
        let err = read_export(&damaged).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let other = Entry::next(
            0,
            GENESIS,
            Record::at(
                at(0),
                "cli",
                Action::UnitsChanged,
                "x",
                &serde_json::json!({}),
            ),
        );
        let err = read_export(&serde_json::to_string(&other).unwrap()).unwrap_err();
        assert!(err.to_string().contains("not a checkpoint"), "{err}");
    }
}
