//! A province-sized demo ledger for 2022-H1 whose report reproduces the seed case: 98% of documents
//! declared signed overall, departments 99%, districts 97%, communes 97%.
//!
//! The province (`UBND tỉnh Mẫu`, a sample, not a real province) has 50 departments and agencies,
//! 9 districts and 130 communes, with the names such offices carry. Volumes are fixed per level
//! and the unsigned documents are counted out exactly, so the level rates are exact, not only
//! after rounding:
//!
//! | level | documents | unsigned | declared rate |
//! |---|---|---|---|
//! | province (UBND tỉnh) | 2,000 | 20 | 99% |
//! | departments and agencies | 20,000 | 200 | 99% |
//! | districts | 9,000 | 270 | 97% |
//! | communes | 13,000 | 390 | 97% |
//! | overall | 44,000 | 880 | 98% |
//!
//! Everything else (how volumes and unsigned documents spread over units and days, methods,
//! certificate providers, the verified gap, incoming outcomes) comes from a fixed-seed SplitMix64,
//! so every run, and both stores, hold the same events. Seeding twice records nothing new.

use time::{Date, Duration, Month, OffsetDateTime};

use crate::signer::DigestAlgorithm::Sha256;

use super::event::{
    Audited, Certificate, Declared, Event, Indication, Issued, LongTermStatus, Method, Recorded,
    SignatureLevel, Signed, Verified,
};
use super::period::local_midnight;
use super::units::{self, LevelScheme, Unit};
use super::{Error, Store};

/// The period the demo covers.
pub const PERIOD: &str = "2022-H1";

/// What seeding did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DemoSummary {
    pub units: usize,
    pub events: usize,
    /// Events that were new to the ledger (0 when seeding again).
    pub inserted: usize,
}

/// Seeds `store` with the demo province and its 2022-H1 events.
pub fn seed(store: &mut dyn Store) -> Result<DemoSummary, Error> {
    let units = province();
    let rows: Vec<(u64, Unit)> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (i as u64 + 2, u.clone()))
        .collect();
    units::import(store, &rows, &LevelScheme::default())?;
    let events = events(&units);
    let mut inserted = 0;
    // Chunks keep each transaction short, so that a report or another writer is not held up.
    for chunk in events.chunks(5_000) {
        inserted += store.record(chunk).map(|outcomes| {
            outcomes
                .iter()
                .filter(|o| **o == Recorded::Inserted)
                .count()
        })?;
    }
    Ok(DemoSummary {
        units: units.len(),
        events: events.len(),
        inserted,
    })
}

/// The demo province's units: the province, 50 departments and agencies, 9 districts, 130 communes.
pub fn province() -> Vec<Unit> {
    let unit = |code: &str, name: &str, level: &str, parent: Option<&str>| Unit {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(str::to_owned),
    };
    let mut units = vec![unit(PROVINCE, "UBND tỉnh Mẫu", "province", None)];
    for (code, name, parent) in DEPARTMENTS {
        units.push(unit(
            code,
            name,
            "department",
            Some(parent.unwrap_or(PROVINCE)),
        ));
    }
    for (i, (code, name)) in DISTRICTS.iter().enumerate() {
        units.push(unit(code, name, "district", Some(PROVINCE)));
        // 130 communes: 15 in each of the first four districts, 14 in the other five.
        let communes = if i < 4 { 15 } else { 14 };
        let before: usize = (0..i).map(|j| if j < 4 { 15 } else { 14 }).sum();
        for k in 0..communes {
            let n = before + k;
            let kind = match (i, k) {
                (0, _) | (1, _) => "phường",
                (_, 0) => "thị trấn",
                _ => "xã",
            };
            let name = format!("UBND {kind} {}", commune_name(n));
            units.push(unit(
                &format!("X{:03}", n + 1),
                &name,
                "commune",
                Some(code),
            ));
        }
    }
    units
}

const PROVINCE: &str = "TINH";

/// (code, name, parent when not the province). Agencies (chi cục) sit under their department at
/// the same level, as the level scheme allows.
const DEPARTMENTS: [(&str, &str, Option<&str>); 50] = [
    ("VP-UBND", "Văn phòng UBND tỉnh", None),
    ("SNV", "Sở Nội vụ", None),
    ("STP", "Sở Tư pháp", None),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", None),
    ("STC", "Sở Tài chính", None),
    ("SCT", "Sở Công Thương", None),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", None),
    ("SGTVT", "Sở Giao thông vận tải", None),
    ("SXD", "Sở Xây dựng", None),
    ("STNMT", "Sở Tài nguyên và Môi trường", None),
    ("STTTT", "Sở Thông tin và Truyền thông", None),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", None),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", None),
    ("SKHCN", "Sở Khoa học và Công nghệ", None),
    ("SGDDT", "Sở Giáo dục và Đào tạo", None),
    ("SYT", "Sở Y tế", None),
    ("SNGV", "Sở Ngoại vụ", None),
    ("TTRA", "Thanh tra tỉnh", None),
    ("BDT", "Ban Dân tộc", None),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp", None),
    (
        "BQLDA-DDCN",
        "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp",
        None,
    ),
    (
        "BQLDA-GT",
        "Ban Quản lý dự án đầu tư xây dựng các công trình giao thông",
        None,
    ),
    (
        "BQLDA-NN",
        "Ban Quản lý dự án đầu tư xây dựng các công trình nông nghiệp và phát triển nông thôn",
        None,
    ),
    ("DPTTH", "Đài Phát thanh và Truyền hình tỉnh", None),
    ("CDSP", "Trường Cao đẳng Sư phạm", None),
    ("CDYT", "Trường Cao đẳng Y tế", None),
    ("TCT", "Trường Chính trị tỉnh", None),
    ("QDTPT", "Quỹ Đầu tư phát triển tỉnh", None),
    (
        "TTXTDT",
        "Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch",
        None,
    ),
    ("TTHCC", "Trung tâm Phục vụ hành chính công tỉnh", None),
    ("CCKL", "Chi cục Kiểm lâm", Some("SNNPTNT")),
    ("CCTL", "Chi cục Thủy lợi", Some("SNNPTNT")),
    ("CCCNTY", "Chi cục Chăn nuôi và Thú y", Some("SNNPTNT")),
    (
        "CCTTBVTV",
        "Chi cục Trồng trọt và Bảo vệ thực vật",
        Some("SNNPTNT"),
    ),
    ("CCPTNT", "Chi cục Phát triển nông thôn", Some("SNNPTNT")),
    (
        "CCQLCL",
        "Chi cục Quản lý chất lượng nông lâm sản và thủy sản",
        Some("SNNPTNT"),
    ),
    ("CCVTLT", "Chi cục Văn thư - Lưu trữ", Some("SNV")),
    ("BTDKT", "Ban Thi đua - Khen thưởng", Some("SNV")),
    ("BTG", "Ban Tôn giáo", Some("SNV")),
    (
        "CCDS",
        "Chi cục Dân số - Kế hoạch hóa gia đình",
        Some("SYT"),
    ),
    ("CCATVSTP", "Chi cục An toàn vệ sinh thực phẩm", Some("SYT")),
    (
        "CCTDC",
        "Chi cục Tiêu chuẩn Đo lường Chất lượng",
        Some("SKHCN"),
    ),
    ("CCBVMT", "Chi cục Bảo vệ môi trường", Some("STNMT")),
    ("CCQLDD", "Chi cục Quản lý đất đai", Some("STNMT")),
    ("CCGDXD", "Chi cục Giám định xây dựng", Some("SXD")),
    ("CCQLTT", "Chi cục Quản lý thị trường", Some("SCT")),
    (
        "TTCNTT",
        "Trung tâm Công nghệ thông tin và Truyền thông",
        Some("STTTT"),
    ),
    ("CDC", "Trung tâm Kiểm soát bệnh tật tỉnh", Some("SYT")),
    ("BVDK", "Bệnh viện Đa khoa tỉnh", Some("SYT")),
    ("TTKN", "Trung tâm Khuyến nông", Some("SNNPTNT")),
];

const DISTRICTS: [(&str, &str); 9] = [
    ("H01", "UBND thành phố An Hòa"),
    ("H02", "UBND thị xã Bình Sơn"),
    ("H03", "UBND huyện Cẩm Giang"),
    ("H04", "UBND huyện Đông Lâm"),
    ("H05", "UBND huyện Hà Thanh"),
    ("H06", "UBND huyện Ngọc Lâm"),
    ("H07", "UBND huyện Quế Sơn"),
    ("H08", "UBND huyện Tân Lạc"),
    ("H09", "UBND huyện Yên Hưng"),
];

/// Distinct two-syllable place names: 22 × 10 combinations, walked with a stride coprime to 220.
fn commune_name(n: usize) -> String {
    const FIRST: [&str; 22] = [
        "An", "Bình", "Cát", "Đông", "Hòa", "Hưng", "Kim", "Lạc", "Minh", "Ngọc", "Phú", "Phước",
        "Quang", "Tân", "Thanh", "Thạch", "Thuận", "Tiến", "Trung", "Vĩnh", "Xuân", "Yên",
    ];
    const SECOND: [&str; 10] = [
        "Lợi", "Phong", "Thịnh", "Sơn", "Lộc", "Hải", "Thành", "Mỹ", "Tường", "Điền",
    ];
    let k = (n * 37) % (FIRST.len() * SECOND.len());
    format!("{} {}", FIRST[k % FIRST.len()], SECOND[k / FIRST.len()])
}

/// Per level: (documents, unsigned). See the table in the module documentation.
fn level_volume(level: &str) -> (u64, u64) {
    match level {
        "province" => (2_000, 20),
        "department" => (20_000, 200),
        "district" => (9_000, 270),
        _ => (13_000, 390),
    }
}

const CAS: [(&str, u64); 6] = [
    (
        "CN=CA phục vụ các cơ quan Nhà nước, O=Ban Cơ yếu Chính phủ, C=VN",
        880,
    ),
    (
        "CN=VNPT Certification Authority, OU=VNPT-CA Trust Network, O=VNPT Group, C=VN",
        50,
    ),
    ("CN=Viettel-CA, O=Viettel Group, C=VN", 30),
    ("CN=BKAV-CA, O=BKAV Corporation, C=VN", 20),
    ("CN=FPT-CA, O=FPT Information System, C=VN", 10),
    ("CN=MISA-CA, O=MISA JSC, C=VN", 10),
];

const SIGNERS: [&str; 6] = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Minh Châu",
    "Phạm Quốc Dũng",
    "Hoàng Thị Hạnh",
    "Vũ Đức Huy",
];

const DOC_TYPES: [(&str, Option<&str>); 6] = [
    ("Công văn", None),
    ("Quyết định", Some("QĐ")),
    ("Tờ trình", Some("TTr")),
    ("Báo cáo", Some("BC")),
    ("Kế hoạch", Some("KH")),
    ("Thông báo", Some("TB")),
];

const SENDERS: [&str; 6] = [
    "Văn phòng Chính phủ",
    "Bộ Nội vụ",
    "Bộ Tài chính",
    "Bộ Thông tin và Truyền thông",
    "Bộ Kế hoạch và Đầu tư",
    "UBND tỉnh lân cận",
];

/// Every event of the demo, in recording order.
fn events(units: &[Unit]) -> Vec<Event> {
    let mut rng = SplitMix64(0x6b79_736f_2022_0001);
    let first_day =
        Date::from_calendar_date(2022, Month::January, 1).expect("BUG: 1 January 2022 is a date");
    let mut events = Vec::new();
    for level in ["province", "department", "district", "commune"] {
        let members: Vec<&Unit> = units.iter().filter(|u| u.level == level).collect();
        let (total, unsigned_total) = level_volume(level);
        let volumes = spread(&mut rng, total, members.len(), 50);
        let unsigned = spread_unsigned(&mut rng, &volumes, unsigned_total);
        for ((unit, &volume), &unsigned_count) in members.iter().zip(&volumes).zip(&unsigned) {
            unit_events(
                &mut rng,
                unit,
                volume,
                unsigned_count,
                first_day,
                &mut events,
            );
        }
    }
    // Incoming documents, received by every unit.
    for n in 0..8_000u64 {
        let unit = &units[rng.index(units.len())];
        let roll = rng.below(1000);
        let (indication, sub) = match roll {
            0..950 => (Indication::TotalPassed, None),
            950..970 => (Indication::Indeterminate, Some("TRY_LATER")),
            970..985 => (
                Indication::Indeterminate,
                Some("NO_CERTIFICATE_CHAIN_FOUND"),
            ),
            985..995 => (Indication::TotalFailed, Some("HASH_FAILURE")),
            _ => (Indication::TotalFailed, Some("REVOKED")),
        };
        events.push(Event::Verified(Verified {
            document_id: format!("den-2022-{:05}", n + 1),
            receiving_unit: unit.code.clone(),
            sender: SENDERS[rng.index(SENDERS.len())].into(),
            verified_at: working_time(&mut rng, first_day),
            indication,
            sub_indication: sub.map(str::to_owned),
        }));
    }
    events
}

fn unit_events(
    rng: &mut SplitMix64,
    unit: &Unit,
    volume: u64,
    unsigned: u64,
    first_day: Date,
    events: &mut Vec<Event>,
) {
    let issuer =
        if unit.code.starts_with('H') || unit.code.starts_with('X') || unit.code == PROVINCE {
            "UBND".to_owned()
        } else {
            unit.code.clone()
        };
    // Choose which of the unit's documents are unsigned: exactly `unsigned` distinct positions.
    let slots = usize::try_from(volume).unwrap_or(usize::MAX);
    let mut is_unsigned = vec![false; slots];
    let mut marked = 0;
    while marked < unsigned {
        let i = rng.index(slots);
        if !is_unsigned[i] {
            is_unsigned[i] = true;
            marked += 1;
        }
    }
    let mut times: Vec<OffsetDateTime> =
        (0..volume).map(|_| working_time(rng, first_day)).collect();
    times.sort();
    for (seq, (issued_at, unsigned)) in times.into_iter().zip(is_unsigned).enumerate() {
        let document_id = format!("{}-2022-{:05}", unit.code, seq + 1);
        let (doc_type, abbreviation) = DOC_TYPES[rng.index(DOC_TYPES.len())];
        let number = match abbreviation {
            Some(a) => format!("{}/{a}-{issuer}", seq + 1),
            None => format!("{}/{issuer}-VP", seq + 1),
        };
        let declared = if unsigned {
            Declared::Unsigned
        } else {
            Declared::Signed
        };
        events.push(Event::Issued(Issued {
            document_id: document_id.clone(),
            number,
            doc_type: doc_type.into(),
            unit: unit.code.clone(),
            issued_at,
            declared,
        }));
        let roll = rng.below(1000);
        let content = hex::encode(Sha256.digest(document_id.as_bytes()));
        let audit = |indication, sub: Option<&str>| {
            Event::Audited(Audited {
                document_id: document_id.clone(),
                content_sha256: content.clone(),
                audited_at: local_midnight(
                    Date::from_calendar_date(2022, Month::July, 15)
                        .expect("BUG: 15 July 2022 is a date"),
                ),
                indication,
                sub_indication: sub.map(str::to_owned),
                long_term: (indication == Indication::TotalPassed).then(|| long_term(roll)),
            })
        };
        if unsigned {
            // A few documents the DMS called unsigned carry a valid signature after all.
            if roll < 20 {
                events.push(audit(Indication::TotalPassed, None));
            }
            continue;
        }
        match roll {
            // Signed through kyso, which verified its own output.
            0..970 => events.push(signature(rng, unit, &document_id, issued_at)),
            // Signed elsewhere; the archive audit found a valid signature.
            970..980 => events.push(audit(Indication::TotalPassed, None)),
            // Signed elsewhere; the audit could not confirm it.
            980..985 => events.push(audit(
                Indication::Indeterminate,
                Some("NO_CERTIFICATE_CHAIN_FOUND"),
            )),
            985..988 => events.push(audit(Indication::TotalFailed, Some("HASH_FAILURE"))),
            // Declared signed, no trace of a signature: the gap auditors look for.
            _ => {}
        }
    }
}

/// What the July 2022 audit found of a passing file signed elsewhere: every other one filed at
/// B-LTA (protected until its archive time-stamp's TSA certificate expires), the rest at B-B,
/// verifiable only until the signer's certificate expires in 2024 unless extended first.
fn long_term(roll: u64) -> LongTermStatus {
    let (protected, year, certificate) = if roll.is_multiple_of(2) {
        (true, 2031, "CN=VNPT-CA TSA 2021, O=VNPT Group, C=VN")
    } else {
        (false, 2024, "CN=Cán bộ văn thư, O=UBND tỉnh, C=VN")
    };
    LongTermStatus {
        protected,
        until: local_midnight(
            Date::from_calendar_date(year, Month::July, 15).expect("BUG: 15 July is a date"),
        ),
        certificate: certificate.to_owned(),
    }
}

fn signature(
    rng: &mut SplitMix64,
    unit: &Unit,
    document_id: &str,
    issued_at: OffsetDateTime,
) -> Event {
    let method = match rng.below(100) {
        0..52 => Method::Token,
        52..80 => Method::Hsm,
        80..88 => Method::Sim,
        _ => Method::Smart,
    };
    let mut pick = rng.below(CAS.iter().map(|(_, w)| w).sum());
    let issuer = CAS
        .iter()
        .find(|(_, weight)| {
            let hit = pick < *weight;
            pick = pick.saturating_sub(*weight);
            hit
        })
        .map_or(CAS[0].0, |(ca, _)| ca);
    // An HSM key is the unit's seal; the other methods are a person's key.
    let holder = if method == Method::Hsm {
        unit.name.clone()
    } else {
        SIGNERS[rng.index(SIGNERS.len())].to_owned()
    };
    let fingerprint =
        Sha256.digest(format!("{}|{holder}|{issuer}|{}", unit.code, method.as_str()).as_bytes());
    let level = if rng.below(100) < 15 {
        SignatureLevel::XadesBT
    } else {
        SignatureLevel::PadesBT
    };
    Event::Signed(Signed {
        document_id: document_id.to_owned(),
        unit: unit.code.clone(),
        key: format!(
            "pkcs11:token={};object={}",
            unit.code.to_lowercase(),
            method.as_str()
        ),
        certificate: Certificate {
            sha256: hex::encode(fingerprint),
            subject: format!("CN={holder}, O={}, C=VN", unit.name),
            issuer: issuer.to_owned(),
        },
        method,
        level,
        signed_at: issued_at - Duration::seconds(rng.below(600) as i64),
        indication: Indication::TotalPassed,
    })
}

/// A time during office hours (07:30 to 17:00 local) on one of the 181 days of 2022-H1.
fn working_time(rng: &mut SplitMix64, first_day: Date) -> OffsetDateTime {
    let day = first_day + Duration::days(rng.below(181) as i64);
    local_midnight(day)
        + Duration::minutes(7 * 60 + 30)
        + Duration::seconds(rng.below(9 * 3600 + 1800) as i64)
}

/// Splits `total` over `n` parts with weights from `min_weight` to `min_weight + 99`; the parts
/// add up to `total` exactly.
fn spread(rng: &mut SplitMix64, total: u64, n: usize, min_weight: u64) -> Vec<u64> {
    let weights: Vec<u64> = (0..n).map(|_| min_weight + rng.below(100)).collect();
    let sum: u64 = weights.iter().sum();
    let mut parts: Vec<u64> = weights.iter().map(|w| total * w / sum).collect();
    let short = total - parts.iter().sum::<u64>();
    // Fewer than `n` units of rounding are left over.
    for part in parts
        .iter_mut()
        .take(usize::try_from(short).unwrap_or(usize::MAX))
    {
        *part += 1;
    }
    parts
}

/// Places `unsigned` documents over units in proportion to their volumes, unevenly (some units
/// sign everything, some lag), never more than a quarter of a unit's documents.
fn spread_unsigned(rng: &mut SplitMix64, volumes: &[u64], unsigned: u64) -> Vec<u64> {
    let mut counts = vec![0u64; volumes.len()];
    let laggard: Vec<u64> = volumes.iter().map(|_| rng.below(4)).collect();
    let weights: Vec<u64> = volumes.iter().zip(&laggard).map(|(v, l)| v * l).collect();
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let mut placed = 0;
    while placed < unsigned {
        let mut pick = rng.below(sum);
        let i = weights
            .iter()
            .position(|w| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .unwrap_or(0);
        if counts[i] < volumes[i] / 4 {
            counts[i] += 1;
            placed += 1;
        }
    }
    counts
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator, enough for demo data, and
/// fixed here so that the demo does not change when a random-number crate does.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0); the modulo bias is negligible for demo bounds.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// An index into a slice of `len` items.
    fn index(&mut self, len: usize) -> usize {
        let drawn = self.below(u64::try_from(len).unwrap_or(u64::MAX));
        // Below `len`, itself a usize.
        usize::try_from(drawn).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn province_has_the_seed_shape_with_distinct_names() {
        let units = province();
        let count = |level: &str| units.iter().filter(|u| u.level == level).count();
        assert_eq!(
            (
                count("province"),
                count("department"),
                count("district"),
                count("commune")
            ),
            (1, 50, 9, 130)
        );
        let names: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names.len(), units.len());
        assert!(names.contains("Sở Tư pháp"));
        assert!(units.iter().any(|u| u.name.starts_with("UBND xã ")));
    }

    #[test]
    fn events_are_deterministic_and_exact_per_level() {
        let units = province();
        let a = events(&units);
        assert_eq!(a, events(&units));
        let unsigned = a
            .iter()
            .filter(|e| matches!(e, Event::Issued(i) if i.declared == Declared::Unsigned))
            .count();
        let issued = a.iter().filter(|e| matches!(e, Event::Issued(_))).count();
        assert_eq!((issued, unsigned), (44_000, 880));
        for event in &a {
            event.validate().unwrap();
        }
    }
}
