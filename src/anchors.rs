//! The trust anchors a deployment uses and where each came from: the bundle of a trust profile
//! kyso carries (`[verify] profile`, [`crate::pki::profile`]), the files `[verify] trust`
//! names, and the user's own changes kept in `[verify] trust_dir` by `kyso trust add|remove`
//! (Decree 23/2025/NĐ-CP: verification software must let its user add and remove CA
//! certificates).
//!
//! Owns: reading those sources into one list ([`Anchors`]), each certificate with its source,
//! role and hierarchy; the user's folder ([`UserTrust`]: added anchors as `<sha256>.pem`,
//! removed ones as fingerprints in `removed.txt`); and the [`TrustStore`] and [`CertPool`] a
//! validator is built from. Refuses: a profile bundle that does not match its manifest (nothing
//! of it is trusted), a `removed.txt` line that is not a fingerprint, adding a certificate that
//! is not a CA, and removing a certificate nobody trusts or that is only an intermediate (a
//! path through it ends at its root, which is what to remove).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::VerifyConfig;
use crate::pki::profile::{self, Hierarchy, Role};
use crate::pki::{AnchorLabel, AnchorSource, CertPool, Certificate, TrustStore};

/// Why the anchors could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("trust profile: {0}")]
    Profile(#[from] profile::Error),
    #[error("[verify] trust {}: {source}", path.display())]
    Configured {
        path: PathBuf,
        #[source]
        source: crate::pki::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    UserCertificate {
        path: PathBuf,
        #[source]
        source: crate::pki::Error,
    },
    #[error("{} line {line}: not a SHA-256 fingerprint (64 hexadecimal digits)", path.display())]
    RemovedList { path: PathBuf, line: usize },
    #[error("`{given}` is not a SHA-256 fingerprint (64 hexadecimal digits, colons allowed)")]
    NotAFingerprint { given: String },
    #[error("no trusted certificate has the SHA-256 fingerprint {fingerprint}")]
    Unknown { fingerprint: String },
    #[error(
        "{subject} is an intermediate of {source_code}, not an anchor: remove the root it chains to"
    )]
    Intermediate {
        subject: String,
        source_code: String,
    },
    #[error(
        "{subject} is not a CA certificate (basicConstraints cA is not set): not a trust anchor"
    )]
    NotCa { subject: String },
}

/// One certificate a deployment knows as trusted (or as removed by its user).
#[derive(Clone, Debug)]
pub struct Entry {
    pub certificate: Certificate,
    pub source: AnchorSource,
    pub role: Role,
    /// The national hierarchy, for a profile's certificates.
    pub hierarchy: Option<Hierarchy>,
    /// The CA's name as a profile's manifest writes it.
    pub name: Option<String>,
    pub generation: Option<u8>,
    /// Listed in the user's `removed.txt`: shown by `kyso trust list`, trusted by nothing.
    pub removed: bool,
}

/// Every certificate the configuration trusts, in the order loaded: the profile's bundle,
/// `[verify] trust`, then the user's additions.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    entries: Vec<Entry>,
}

impl Anchors {
    /// Reads `[verify] profile`, `[verify] trust` and `[verify] trust_dir`.
    pub fn load(config: &VerifyConfig) -> Result<Anchors, Error> {
        let user = UserTrust::new(config.trust_dir());
        let removed = user.removed()?;
        let mut anchors = Anchors::default();
        if let Some(profile) = config.profile {
            anchors.add_bundle(profile, &profile.bundle()?);
        }
        for path in &config.trust {
            let mut store = TrustStore::new();
            store.load(path).map_err(|source| Error::Configured {
                path: path.clone(),
                source,
            })?;
            for certificate in store.anchors() {
                anchors.push(Entry {
                    certificate: certificate.clone(),
                    source: AnchorSource::Config,
                    role: Role::Anchor,
                    hierarchy: None,
                    name: None,
                    generation: None,
                    removed: false,
                });
            }
        }
        for certificate in user.added()? {
            anchors.push(Entry {
                certificate,
                source: AnchorSource::UserAdded,
                role: Role::Anchor,
                hierarchy: None,
                name: None,
                generation: None,
                removed: false,
            });
        }
        for entry in &mut anchors.entries {
            entry.removed = removed.contains(entry.certificate.fingerprint());
        }
        Ok(anchors)
    }

    /// Adds a profile's bundle (its certificates first-come: a certificate already listed keeps
    /// its first source).
    pub fn add_bundle(&mut self, profile: profile::Profile, bundle: &profile::Bundle) {
        for c in &bundle.certificates {
            self.push(Entry {
                certificate: c.certificate.clone(),
                source: AnchorSource::Profile(profile),
                role: c.role,
                hierarchy: Some(c.hierarchy),
                name: Some(c.name.clone()),
                generation: Some(c.generation),
                removed: false,
            });
        }
    }

    fn push(&mut self, entry: Entry) {
        let known = self
            .entries
            .iter()
            .any(|e| e.certificate.fingerprint() == entry.certificate.fingerprint());
        if !known {
            self.entries.push(entry);
        }
    }

    /// Everything listed, removed entries included.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The certificate with this fingerprint (full, or an unambiguous prefix of at least 8 hex
    /// digits).
    pub fn find(&self, fingerprint: &str) -> Result<&Entry, Error> {
        let wanted = normalise(fingerprint);
        let is_hex = wanted.chars().all(|c| c.is_ascii_hexdigit());
        if wanted.len() < 8 || wanted.len() > 64 || !is_hex {
            return Err(Error::NotAFingerprint {
                given: fingerprint.to_owned(),
            });
        }
        let mut found = self
            .entries
            .iter()
            .filter(|e| hex::encode_upper(e.certificate.fingerprint()).starts_with(&wanted));
        match (found.next(), found.next()) {
            (Some(e), None) => Ok(e),
            _ => Err(Error::Unknown {
                fingerprint: fingerprint.to_owned(),
            }),
        }
    }

    /// The anchors a validator trusts: every anchor not removed, labelled with its source.
    pub fn trust_store(&self) -> TrustStore {
        let mut store = TrustStore::new();
        for e in self.live().filter(|e| e.role == Role::Anchor) {
            store.add_labelled(
                e.certificate.clone(),
                AnchorLabel {
                    source: e.source,
                    hierarchy: e.hierarchy,
                },
            );
        }
        store
    }

    /// Adds the intermediates of the profile's bundle to `pool`.
    pub fn add_intermediates_to(&self, pool: &mut CertPool) {
        for e in self.live().filter(|e| e.role == Role::Intermediate) {
            pool.add(e.certificate.clone());
        }
    }

    fn live(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.removed)
    }
}

/// The user's changes to the trusted list, in one folder: `<sha256>.pem` per added anchor,
/// `removed.txt` with one fingerprint per line for anchors of the bundle or the configuration
/// the user no longer trusts. Plain files, so an operator can read and back them up, and the
/// service and the command line see the same list.
#[derive(Clone, Debug)]
pub struct UserTrust {
    dir: PathBuf,
}

/// What [`UserTrust::remove`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// A user-added anchor's file was deleted.
    Deleted,
    /// The fingerprint was added to `removed.txt`: the bundle or the configuration still
    /// carries the certificate, and it is no longer trusted.
    Distrusted,
}

impl UserTrust {
    pub fn new(dir: PathBuf) -> UserTrust {
        UserTrust { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn removed_path(&self) -> PathBuf {
        self.dir.join("removed.txt")
    }

    fn added_path(&self, cert: &Certificate) -> PathBuf {
        self.dir
            .join(format!("{}.pem", hex::encode(cert.fingerprint())))
    }

    /// The anchors the user added.
    pub fn added(&self) -> Result<Vec<Certificate>, Error> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => return Err(self.io(&self.dir, source)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| self.io(&self.dir, e))?.path();
            if path.extension().is_some_and(|e| e == "pem") {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|e| self.io(&path, e))?;
            let certs =
                Certificate::from_pem_or_der(&bytes).map_err(|source| Error::UserCertificate {
                    path: path.clone(),
                    source,
                })?;
            out.extend(certs);
        }
        Ok(out)
    }

    /// Fingerprints the user removed.
    pub fn removed(&self) -> Result<BTreeSet<[u8; 32]>, Error> {
        let path = self.removed_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(source) => return Err(self.io(&path, source)),
        };
        let mut out = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fingerprint = parse_fingerprint(line).ok_or_else(|| Error::RemovedList {
                path: path.clone(),
                line: i + 1,
            })?;
            out.insert(fingerprint);
        }
        Ok(out)
    }

    /// Trusts `cert` from now on (and forgets an earlier removal of it). Returns the file
    /// written.
    pub fn add(&self, cert: &Certificate) -> Result<PathBuf, Error> {
        if !cert.is_ca() {
            return Err(Error::NotCa {
                subject: cert.subject().to_string(),
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let path = self.added_path(cert);
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", cert.der().to_vec()));
        std::fs::write(&path, pem).map_err(|e| self.io(&path, e))?;
        let mut removed = self.removed()?;
        if removed.remove(cert.fingerprint()) {
            self.write_removed(&removed)?;
        }
        Ok(path)
    }

    /// Stops trusting the anchor `entry` names (as [`Anchors::find`] found it).
    pub fn remove(&self, entry: &Entry) -> Result<Removal, Error> {
        if entry.role == Role::Intermediate {
            return Err(Error::Intermediate {
                subject: entry.certificate.subject().to_string(),
                source_code: entry.source.code(),
            });
        }
        if entry.source == AnchorSource::UserAdded {
            let path = self.added_path(&entry.certificate);
            std::fs::remove_file(&path).map_err(|e| self.io(&path, e))?;
            return Ok(Removal::Deleted);
        }
        let mut removed = self.removed()?;
        removed.insert(*entry.certificate.fingerprint());
        self.write_removed(&removed)?;
        Ok(Removal::Distrusted)
    }

    fn write_removed(&self, removed: &BTreeSet<[u8; 32]>) -> Result<(), Error> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let mut text = String::from(
            "# SHA-256 fingerprints of anchors removed with `kyso trust remove`; one per line.\n",
        );
        for fingerprint in removed {
            text.push_str(&hex::encode_upper(fingerprint));
            text.push('\n');
        }
        let path = self.removed_path();
        std::fs::write(&path, text).map_err(|e| self.io(&path, e))
    }

    fn io(&self, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Upper-case hex without colons or spaces.
fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_uppercase()
}

/// A full SHA-256 fingerprint, colons allowed.
pub fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    hex::decode(normalise(text)).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> VerifyConfig {
        VerifyConfig {
            profile: Some(profile::Profile::Vn),
            trust_dir: Some(dir.to_owned()),
            ..VerifyConfig::default()
        }
    }

    #[test]
    fn the_profile_loads_and_the_user_adds_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let anchors = Anchors::load(&config(dir.path())).unwrap();
        assert_eq!(anchors.entries().len(), 10);
        assert_eq!(
            anchors.trust_store().len(),
            9,
            "the G2 CA is an intermediate"
        );
        let mut pool = CertPool::new();
        anchors.add_intermediates_to(&mut pool);
        assert_eq!(pool.len(), 1);

        // Remove the 2008 MIC root: listed as removed, trusted by nothing.
        let mic = "CA918D635BB130BEC97639E6AABF7EDBC4EB1310F8058B9419F467AE0230AD8C";
        let user = UserTrust::new(dir.path().to_owned());
        let entry = anchors.find("ca:91:8d:63").unwrap().clone();
        assert_eq!(user.remove(&entry).unwrap(), Removal::Distrusted);
        let anchors = Anchors::load(&config(dir.path())).unwrap();
        assert!(anchors.find(mic).unwrap().removed);
        assert_eq!(anchors.trust_store().len(), 8);
        assert!(
            !anchors
                .trust_store()
                .anchors()
                .iter()
                .any(|c| hex::encode_upper(c.fingerprint()) == mic)
        );

        // The G2 intermediate cannot be removed; its root can.
        let g2_ca = anchors.find("D8CAB7A4").unwrap().clone();
        assert!(matches!(
            user.remove(&g2_ca),
            Err(Error::Intermediate { .. })
        ));

        // Adding it back undoes the removal; a user's own root is added, then deleted.
        user.add(&entry.certificate).unwrap();
        let anchors = Anchors::load(&config(dir.path())).unwrap();
        assert!(!anchors.find(mic).unwrap().removed);
        assert_eq!(anchors.trust_store().len(), 9);
        assert_eq!(
            anchors.find(mic).unwrap().source,
            AnchorSource::Profile(profile::Profile::Vn),
            "the bundle's label stays"
        );

        let pki = crate::testpki::TestPki::new(crate::testpki::PkiOptions::default()).unwrap();
        let own = Certificate::from_der(pki.root.der()).unwrap();
        user.add(&own).unwrap();
        let anchors = Anchors::load(&config(dir.path())).unwrap();
        assert_eq!(anchors.trust_store().len(), 10);
        let fingerprint = hex::encode(own.fingerprint());
        let added = anchors.find(&fingerprint).unwrap().clone();
        assert_eq!(added.source, AnchorSource::UserAdded);
        assert_eq!(user.remove(&added).unwrap(), Removal::Deleted);
        assert!(matches!(
            Anchors::load(&config(dir.path()))
                .unwrap()
                .find(&fingerprint),
            Err(Error::Unknown { .. })
        ));

        // A signer's certificate is no anchor; a short or odd fingerprint is refused.
        let (leaf, _) = pki
            .issue_with_software_key(
                crate::token::KeyAlgorithm::P256,
                &crate::testpki::SignerName::new("A", "B", "C"),
                crate::testpki::SignerProfile::Valid,
            )
            .unwrap();
        let leaf = Certificate::from_der(&leaf.der).unwrap();
        assert!(matches!(user.add(&leaf), Err(Error::NotCa { .. })));
        assert!(matches!(
            anchors.find("CA91"),
            Err(Error::NotAFingerprint { .. })
        ));

        // A damaged removed.txt is named, not ignored.
        std::fs::write(dir.path().join("removed.txt"), "not-a-fingerprint\n").unwrap();
        let err = Anchors::load(&config(dir.path())).unwrap_err();
        assert!(matches!(err, Error::RemovedList { line: 1, .. }), "{err}");
    }

    #[test]
    fn without_a_profile_only_the_configuration_counts() {
        let dir = tempfile::tempdir().unwrap();
        let config = VerifyConfig {
            trust_dir: Some(dir.path().to_owned()),
            ..VerifyConfig::default()
        };
        let anchors = Anchors::load(&config).unwrap();
        assert!(anchors.entries().is_empty());
        assert!(anchors.trust_store().is_empty());
    }
}
