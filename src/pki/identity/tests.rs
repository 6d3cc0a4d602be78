use super::*;
use crate::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use crate::token::KeyAlgorithm;

fn identity_of(name: SignerName) -> Identity {
    let pki = TestPki::new(PkiOptions::default()).unwrap();
    let issued = pki
        .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
        .unwrap()
        .0;
    Identity::from_certificate_der(&issued.der).unwrap()
}

#[test]
fn a_citizen_identity_in_uid_names_a_person() {
    let identity = identity_of(
        SignerName::new("Nguyễn Văn An", "UBND tỉnh Hà Giang", "Sở Tài chính")
            .with_title("Giám đốc")
            .with_uid("CCCD:001234567890"),
    );
    assert_eq!(identity.holder(), Holder::Person);
    assert_eq!(identity.common_name.as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(identity.title.as_deref(), Some("Giám đốc"));
    assert_eq!(identity.organization.as_deref(), Some("UBND tỉnh Hà Giang"));
    assert_eq!(
        identity.identifiers,
        [Identifier {
            kind: IdentifierKind::CitizenIdentity,
            value: "001234567890".to_owned()
        }]
    );
    assert_eq!(identity.identifiers[0].masked(), "********7890");
}

#[test]
fn a_tax_code_without_personal_marks_names_an_organisation() {
    let identity = identity_of(
        SignerName::new(
            "Sở Tài chính tỉnh Hà Giang",
            "UBND tỉnh Hà Giang",
            "Văn thư",
        )
        .with_uid("MST:5100123456"),
    );
    assert_eq!(identity.holder(), Holder::Organisation);
    // A tax code is a public register's number: shown whole.
    assert_eq!(identity.identifiers[0].masked(), "5100123456");
}

#[test]
fn a_common_name_that_is_the_unit_names_an_organisation() {
    let identity = identity_of(SignerName::new(
        "Sở Tài chính",
        "UBND tỉnh Hà Giang",
        "SỞ TÀI CHÍNH",
    ));
    assert_eq!(identity.holder(), Holder::Organisation);
}

#[test]
fn a_plain_name_says_nothing() {
    let identity = identity_of(SignerName::new(
        "Văn thư",
        "UBND tỉnh Hà Giang",
        "Sở Nội vụ",
    ));
    assert_eq!(identity.holder(), Holder::Unknown);
    assert!(identity.identifiers.is_empty());
}

#[test]
fn an_employee_of_a_company_is_a_person() {
    let identity = identity_of(
        SignerName::new("Trần Thị Bình", "Công ty TNHH ABC", "Kế toán")
            .with_uid("MST:0101234567-001; CMND:012345678"),
    );
    assert_eq!(identity.holder(), Holder::Person);
    let kinds: Vec<_> = identity.identifiers.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [IdentifierKind::TaxCode, IdentifierKind::IdentityCard]
    );
    assert_eq!(identity.identifiers[0].value, "0101234567-001");
    assert_eq!(identity.identifiers[1].masked(), "*****5678");
}

#[test]
fn identifiers_are_read_as_cas_write_them() {
    let read = |text: &str| {
        parse_identifiers(text)
            .into_iter()
            .map(|i| (i.kind, i.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        read("cccd: 0012 3456 7890"),
        [(IdentifierKind::CitizenIdentity, "001234567890".to_owned())]
    );
    assert_eq!(
        read("HC:B1234567"),
        [(IdentifierKind::Passport, "B1234567".to_owned())]
    );
    assert_eq!(
        read("MNS:1034567, MST:0100109106"),
        [
            (IdentifierKind::BudgetCode, "1034567".to_owned()),
            (IdentifierKind::TaxCode, "0100109106".to_owned())
        ]
    );
    // No known prefix: kept, and treated as personal.
    assert_eq!(
        read("0101234567-001"),
        [(IdentifierKind::Other, "0101234567-001".to_owned())]
    );
    assert!(read(" ; , ").is_empty());
}

#[test]
fn short_personal_values_keep_at_least_half_hidden() {
    let id = Identifier {
        kind: IdentifierKind::Passport,
        value: "B123".to_owned(),
    };
    assert_eq!(id.masked(), "**23");
    assert_eq!(id.labelled(&id.masked()), "HC:**23");
}
