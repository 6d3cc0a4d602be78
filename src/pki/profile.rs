//! Trust profiles: the CA certificates kyso carries in its binary, so that a fresh install
//! verifies documents of a country's national hierarchies without hand set-up.
//!
//! Owns: the `vn` bundle (`trust/vn/`: Vietnam's Government CA of Ban Cơ yếu Chính phủ and the
//! Vietnam National Root CA of MIC/NEAC, embedded with `include_bytes!`), its manifest (name,
//! hierarchy, generation, role and SHA-256 fingerprint of each certificate), and the check that
//! every certificate is exactly the one its manifest pins. Refuses: a bundle with a file the
//! manifest does not list, a listed file that is missing, holds other than one certificate, or
//! whose fingerprint differs — the whole bundle, not just the odd certificate, since a bundle
//! that does not match its manifest was altered. Decides nothing about paths: the certificates
//! go to [`crate::pki::TrustStore`] (anchors) and [`crate::pki::CertPool`] (intermediates).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::pki::Certificate;

/// A trust profile kyso carries (`[verify] profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Profile {
    /// Vietnam: the Government CA (Ban Cơ yếu Chính phủ) and the Vietnam National Root CA (NEAC).
    #[serde(rename = "vn")]
    Vn,
}

impl Profile {
    /// The name written in `kyso.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Vn => "vn",
        }
    }

    /// The profile's bundle, checked against its manifest.
    pub fn bundle(self) -> Result<Bundle, Error> {
        match self {
            Profile::Vn => Bundle::parse(VN_MANIFEST, VN_FILES, "bundle vn"),
        }
    }
}

/// The national hierarchy a certificate of a bundle belongs to: what a report names when a
/// chain reaches it (an agency receives documents under both for years).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum Hierarchy {
    /// The Government CA of Ban Cơ yếu Chính phủ (chuyên dùng Chính phủ), generations 1 and 2.
    #[serde(rename = "vgca")]
    GovernmentCa,
    /// The Vietnam National Root CA of MIC/NEAC, over VNPT-CA, Viettel-CA, FPT-CA, BKAV-CA and
    /// the other licensed public CAs.
    #[serde(rename = "neac")]
    NationalRootCa,
}

impl Hierarchy {
    /// The short code of reports and manifests: `vgca` or `neac`.
    pub fn code(self) -> &'static str {
        match self {
            Hierarchy::GovernmentCa => "vgca",
            Hierarchy::NationalRootCa => "neac",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Hierarchy::GovernmentCa => "Government CA (Ban Cơ yếu Chính phủ)",
            Hierarchy::NationalRootCa => "Vietnam National Root CA (NEAC)",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Hierarchy::GovernmentCa => "CA chuyên dùng Chính phủ (Ban Cơ yếu Chính phủ)",
            Hierarchy::NationalRootCa => "CA gốc quốc gia (NEAC, Bộ Thông tin và Truyền thông)",
        }
    }
}

/// Whether a path may end at a certificate of the bundle or only pass through it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Role {
    #[serde(rename = "anchor")]
    Anchor,
    #[serde(rename = "intermediate")]
    Intermediate,
}

/// One certificate of a bundle with what its manifest says of it.
#[derive(Clone, Debug)]
pub struct BundleCertificate {
    pub certificate: Certificate,
    /// The CA's name as the manifest writes it (with diacritics, where the certificate may not).
    pub name: String,
    pub hierarchy: Hierarchy,
    pub generation: u8,
    pub role: Role,
    pub file: String,
}

/// A bundle: every certificate pinned by its manifest.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub certificates: Vec<BundleCertificate>,
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{origin}: manifest: {message}")]
    Manifest { origin: String, message: String },
    #[error("{origin}: {file} is listed in the manifest but missing")]
    Missing { origin: String, file: String },
    #[error("{origin}: {file} is not listed in the manifest, so nothing pins it")]
    Unlisted { origin: String, file: String },
    #[error("{origin}: {file} is listed twice in the manifest")]
    Duplicate { origin: String, file: String },
    #[error("{origin}: {file}: {reason}")]
    Certificate {
        origin: String,
        file: String,
        reason: String,
    },
    #[error(
        "{origin}: {file} does not match its pinned fingerprint: manifest SHA-256 {expected}, file SHA-256 {actual}; the bundle was altered and none of it is trusted"
    )]
    FingerprintMismatch {
        origin: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Bundle {
    /// Checks `files` (name, bytes) against `manifest` (the TOML of `trust/vn/manifest.toml`).
    /// `origin` names the bundle in errors.
    pub fn parse(manifest: &str, files: &[(&str, &[u8])], origin: &str) -> Result<Bundle, Error> {
        let manifest: Manifest = toml::from_str(manifest).map_err(|e| Error::Manifest {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        let listed: BTreeSet<&str> = manifest
            .certificate
            .iter()
            .map(|e| e.file.as_str())
            .collect();
        if listed.len() != manifest.certificate.len() {
            let mut seen = BTreeSet::new();
            let twice = manifest
                .certificate
                .iter()
                .find(|e| !seen.insert(e.file.as_str()))
                .map(|e| e.file.clone())
                .unwrap_or_default();
            return Err(Error::Duplicate {
                origin: origin.to_owned(),
                file: twice,
            });
        }
        if let Some((file, _)) = files.iter().find(|(name, _)| !listed.contains(name)) {
            return Err(Error::Unlisted {
                origin: origin.to_owned(),
                file: (*file).to_owned(),
            });
        }
        let mut certificates = Vec::with_capacity(manifest.certificate.len());
        for entry in manifest.certificate {
            let Some((_, bytes)) = files.iter().find(|(name, _)| *name == entry.file) else {
                return Err(Error::Missing {
                    origin: origin.to_owned(),
                    file: entry.file,
                });
            };
            let refuse = |reason: String| Error::Certificate {
                origin: origin.to_owned(),
                file: entry.file.clone(),
                reason,
            };
            let mut parsed =
                Certificate::from_pem_or_der(bytes).map_err(|e| refuse(e.to_string()))?;
            let certificate = match (parsed.pop(), parsed.is_empty()) {
                (Some(c), true) => c,
                _ => return Err(refuse("expected exactly one certificate".to_owned())),
            };
            let actual = hex::encode_upper(certificate.fingerprint());
            let expected = entry.sha256.replace(':', "").to_ascii_uppercase();
            if actual != expected {
                return Err(Error::FingerprintMismatch {
                    origin: origin.to_owned(),
                    file: entry.file,
                    expected,
                    actual,
                });
            }
            certificates.push(BundleCertificate {
                certificate,
                name: entry.name,
                hierarchy: entry.hierarchy,
                generation: entry.generation,
                role: entry.role,
                file: entry.file,
            });
        }
        Ok(Bundle { certificates })
    }

    /// A bundle laid out like `trust/vn/` in a folder: `manifest.toml` and the certificate files
    /// (`.pem`, `.crt`, `.cer`, `.der`) it lists. Test copies of a profile load this way, through
    /// the same checks as the embedded bundle.
    pub fn from_dir(dir: &Path) -> Result<Bundle, Error> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        let manifest_path = dir.join("manifest.toml");
        let manifest = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let certificate_file = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pem" | "crt" | "cer" | "der"));
            if certificate_file && let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                files.push((name.to_owned(), std::fs::read(&path).map_err(io(&path))?));
            }
        }
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        Bundle::parse(&manifest, &files, &dir.display().to_string())
    }

    /// The certificates a path may end at.
    pub fn anchors(&self) -> impl Iterator<Item = &BundleCertificate> {
        self.certificates.iter().filter(|c| c.role == Role::Anchor)
    }

    /// The certificates paths may pass through.
    pub fn intermediates(&self) -> impl Iterator<Item = &BundleCertificate> {
        self.certificates
            .iter()
            .filter(|c| c.role == Role::Intermediate)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    certificate: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    file: String,
    name: String,
    hierarchy: Hierarchy,
    generation: u8,
    role: Role,
    sha256: String,
}

const VN_MANIFEST: &str = include_str!("../../trust/vn/manifest.toml");

/// Every file of `trust/vn/`: a file added there must be added here and to the manifest (the
/// `every_file_of_the_folder_is_embedded` test says so).
const VN_FILES: &[(&str, &[u8])] = &[
    (
        "vgca-g2-rootcag2.pem",
        include_bytes!("../../trust/vn/vgca-g2-rootcag2.pem"),
    ),
    (
        "vgca-g2-cpcag2.pem",
        include_bytes!("../../trust/vn/vgca-g2-cpcag2.pem"),
    ),
    (
        "vgca-g1-rootca.pem",
        include_bytes!("../../trust/vn/vgca-g1-rootca.pem"),
    ),
    (
        "vgca-g1-cp-chinh-phu.pem",
        include_bytes!("../../trust/vn/vgca-g1-cp-chinh-phu.pem"),
    ),
    (
        "vgca-g1-btc-bo-tai-chinh.pem",
        include_bytes!("../../trust/vn/vgca-g1-btc-bo-tai-chinh.pem"),
    ),
    (
        "vgca-g1-bca-bo-cong-an.pem",
        include_bytes!("../../trust/vn/vgca-g1-bca-bo-cong-an.pem"),
    ),
    (
        "vgca-g1-bng-bo-ngoai-giao.pem",
        include_bytes!("../../trust/vn/vgca-g1-bng-bo-ngoai-giao.pem"),
    ),
    (
        "vgca-g1-dcs-dang-cong-san.pem",
        include_bytes!("../../trust/vn/vgca-g1-dcs-dang-cong-san.pem"),
    ),
    (
        "vn-national-root-ca-vnrca256.pem",
        include_bytes!("../../trust/vn/vn-national-root-ca-vnrca256.pem"),
    ),
    (
        "mic-national-root-ca-2008.pem",
        include_bytes!("../../trust/vn/mic-national-root-ca-2008.pem"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The fingerprints of `../shared/trust-vn/README.md`, typed here a second time: the
    /// manifest cannot drift from the published list without this test failing.
    const PUBLISHED: &[(&str, &str)] = &[
        (
            "mic-national-root-ca-2008.pem",
            "CA918D635BB130BEC97639E6AABF7EDBC4EB1310F8058B9419F467AE0230AD8C",
        ),
        (
            "vgca-g1-bca-bo-cong-an.pem",
            "ECBF8428266C549EB1BFDC2715270D5B9DFF3BBBE2D3F0C33E0FD91F70B2D943",
        ),
        (
            "vgca-g1-bng-bo-ngoai-giao.pem",
            "3C4281296F92D292CC952295FE41AD7D0B37438FF1D143B56C4642CC1B14BD93",
        ),
        (
            "vgca-g1-btc-bo-tai-chinh.pem",
            "A262CFA489DBBE666F8B89FAB832547809874D5A06FA9F7A38FC227EBDF40514",
        ),
        (
            "vgca-g1-cp-chinh-phu.pem",
            "75E969C07BA35C29C72BBC1BFB880F20F3891A619B00B77EB02CA6160736A1FE",
        ),
        (
            "vgca-g1-dcs-dang-cong-san.pem",
            "6E218B3EBC2F31B0D03205C64FD7E8920FB47187D37AFCDB4CB2BB4178BF4635",
        ),
        (
            "vgca-g1-rootca.pem",
            "F7BC89054CEC7F12730D7B8CD3EB7955B163835087E5EB873EDFB584763B3F90",
        ),
        (
            "vgca-g2-cpcag2.pem",
            "D8CAB7A4AEF92E6BB2509D7C61CEE7B44F3731B2D21074963530277B366FAE4B",
        ),
        (
            "vgca-g2-rootcag2.pem",
            "F04BA4B459A7C9A1B971AD9B1CB833E695A80C79AEA63B174B66A70EDFE2FDB8",
        ),
        (
            "vn-national-root-ca-vnrca256.pem",
            "BAC8BF609AB420A8EE1780D74F4DE5C7F7184959D2A7375B0A75E4C29F0908E7",
        ),
    ];

    #[test]
    fn the_vn_bundle_loads_with_the_published_fingerprints() {
        let bundle = Profile::Vn.bundle().unwrap();
        assert_eq!(bundle.certificates.len(), PUBLISHED.len());
        for (file, sha256) in PUBLISHED {
            let c = bundle
                .certificates
                .iter()
                .find(|c| c.file == *file)
                .unwrap_or_else(|| panic!("{file} is in the bundle"));
            assert_eq!(hex::encode_upper(c.certificate.fingerprint()), *sha256);
        }
        // Both hierarchies; G2 root and both national roots are anchors, the G2 CA passes.
        let anchor = |file: &str| {
            bundle
                .anchors()
                .find(|c| c.file == file)
                .map(|c| c.hierarchy)
        };
        assert_eq!(
            anchor("vgca-g2-rootcag2.pem"),
            Some(Hierarchy::GovernmentCa)
        );
        assert_eq!(
            anchor("vn-national-root-ca-vnrca256.pem"),
            Some(Hierarchy::NationalRootCa)
        );
        assert_eq!(
            anchor("mic-national-root-ca-2008.pem"),
            Some(Hierarchy::NationalRootCa)
        );
        assert_eq!(anchor("vgca-g2-cpcag2.pem"), None);
        let g2_ca: Vec<_> = bundle.intermediates().map(|c| c.file.as_str()).collect();
        assert_eq!(g2_ca, ["vgca-g2-cpcag2.pem"]);
        assert!(
            bundle
                .certificates
                .iter()
                .all(|c| c.certificate.is_ca() && matches!(c.generation, 1 | 2))
        );
    }

    #[test]
    fn every_file_of_the_folder_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("trust/vn");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "manifest.toml")
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = VN_FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        // And the folder itself loads, through the same checks.
        assert_eq!(
            Bundle::from_dir(&dir).unwrap().certificates.len(),
            VN_FILES.len()
        );
    }

    #[test]
    fn a_tampered_bundle_is_refused_whole() {
        // One certificate swapped for another: the fingerprint no longer matches.
        let mut files = VN_FILES.to_vec();
        files[0].1 = VN_FILES[2].1;
        let err = Bundle::parse(VN_MANIFEST, &files, "bundle vn").unwrap_err();
        assert!(
            matches!(&err, Error::FingerprintMismatch { file, .. } if file == "vgca-g2-rootcag2.pem"),
            "{err}"
        );
        assert!(err.to_string().contains("F04BA4B4"), "{err}");

        // One byte of a certificate's signature changed, re-armoured.
        let der = Certificate::from_pem_or_der(VN_FILES[8].1).unwrap()[0]
            .der()
            .to_vec();
        let mut altered = der.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", altered));
        let mut files = VN_FILES.to_vec();
        files[8].1 = pem.as_bytes();
        assert!(matches!(
            Bundle::parse(VN_MANIFEST, &files, "bundle vn"),
            Err(Error::FingerprintMismatch { .. })
        ));

        // A file the manifest does not pin, and a pinned file gone.
        let mut files = VN_FILES.to_vec();
        files.push(("extra.pem", VN_FILES[0].1));
        assert!(matches!(
            Bundle::parse(VN_MANIFEST, &files, "bundle vn"),
            Err(Error::Unlisted { .. })
        ));
        let files = &VN_FILES[1..];
        assert!(matches!(
            Bundle::parse(VN_MANIFEST, files, "bundle vn"),
            Err(Error::Missing { .. })
        ));
        // Two certificates in one file.
        let two = [VN_FILES[0].1, VN_FILES[1].1].concat();
        let mut files = VN_FILES.to_vec();
        files[0].1 = &two;
        assert!(matches!(
            Bundle::parse(VN_MANIFEST, &files, "bundle vn"),
            Err(Error::Certificate { .. })
        ));
    }
}
