//! The `kyso` binary as an operator uses it: token commands end to end, exit codes, and errors
//! that name what went wrong without repeating a PIN.

use std::path::Path;
use std::process::{Command, Output};

use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};

use crate::support::{CLI_TOKEN, run, tokens, unique};

pub fn kyso() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyso"));
    // Isolated from any kyso.toml or KYSO_* settings of the developer's shell.
    cmd.env_remove("KYSO_CONFIG")
        .env("KYSO_TOKEN_MODULE", &tokens().module)
        .env("KYSO_LOG_FORMAT", "text")
        .current_dir(env!("CARGO_TARGET_TMPDIR"));
    cmd
}

fn key_uri(object: &str) -> String {
    let t = tokens();
    format!(
        "pkcs11:token={CLI_TOKEN};object={object}?pin-source=file:{}",
        t.pin_file(CLI_TOKEN).display()
    )
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn keygen_import_list_and_sign_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let label = unique("cli-signer");
    let public_pem = dir.path().join("pub.pem");
    let out = run(kyso()
        .args(["token", "keygen", "--algo", "p256", "--uri"])
        .arg(key_uri(&label))
        .arg("--public-key-out")
        .arg(&public_pem));
    assert!(out.contains("generated p256 key"), "{out}");

    // The certificate is issued for the public key the token exported.
    let spki = pem::parse(std::fs::read(&public_pem).unwrap()).unwrap();
    let pki = TestPki::new(PkiOptions::default()).unwrap();
    let name = SignerName::new(
        "Lê Văn Cường",
        "UBND tỉnh Thử Nghiệm",
        "UBND huyện Đông Sơn",
    );
    let cert = pki
        .issue(spki.contents(), &name, SignerProfile::Valid)
        .unwrap();
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    let out = run(kyso()
        .args(["token", "import-cert", "--uri"])
        .arg(key_uri(&label))
        .arg(&cert_path));
    assert!(out.contains("certificate stored"), "{out}");

    let listing = run(kyso()
        .args([
            "token",
            "list",
            "--json",
            "--token",
            CLI_TOKEN,
            "--pin-source",
        ])
        .arg(format!("file:{}", tokens().pin_file(CLI_TOKEN).display())));
    let slots: serde_json::Value = serde_json::from_str(&listing).unwrap();
    let ours = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["token_label"] == CLI_TOKEN)
        .expect("the CLI token is listed");
    assert_eq!(ours["logged_in"], true);
    let kinds: Vec<&str> = ours["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["label"] == label.as_str())
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    for kind in ["private-key", "public-key", "certificate"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "Tờ trình số 45/TTr-UBND").unwrap();
    let sig = dir.path().join("doc.sig");
    run(kyso()
        .args(["token", "sign", "--scheme", "ecdsa-sha256", "--key"])
        .arg(key_uri(&label))
        .arg(&doc)
        .arg(&sig));
    let verified = run(Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public_pem)
        .arg("-signature")
        .arg(&sig)
        .arg(&doc));
    assert!(verified.contains("Verified OK"), "{verified}");
}

#[test]
fn errors_exit_2_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "x").unwrap();
    let sig = dir.path().join("doc.sig");
    let sign = |uri: &str| {
        kyso()
            .args(["token", "sign", "--key", uri])
            .arg(&doc)
            .arg(&sig)
            .output()
            .unwrap()
    };

    let out = sign("pkcs11:token=kyso-cli;objcet=x");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown attribute `objcet`"),
        "{}",
        text(&out)
    );

    let out = sign(&key_uri("no-such-key"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("no private key object=\"no-such-key\""),
        "{}",
        text(&out)
    );

    let out = sign("pkcs11:token=no-such-token;object=x");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("no token matching token=\"no-such-token\""),
        "{}",
        text(&out)
    );

    let out = kyso()
        .env("KYSO_TOKEN_MODULE", "/nonexistent/module.so")
        .args(["token", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("/nonexistent/module.so does not exist"),
        "{}",
        text(&out)
    );
    assert!(!sig.exists(), "nothing is written when signing fails");
}

#[test]
fn a_wrong_pin_is_named_once_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let pin_file = dir.path().join("wrong.pin");
    let wrong = "PIN-CLI-CANARY-4471";
    std::fs::write(&pin_file, format!("{wrong}\n")).unwrap();
    let uri = format!(
        "pkcs11:token={CLI_TOKEN};object=whatever?pin-source=file:{}",
        pin_file.display()
    );
    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "x").unwrap();
    let out = kyso()
        .env("KYSO_LOG_LEVEL", "trace")
        .args(["token", "sign", "--key", &uri])
        .arg(&doc)
        .arg(dir.path().join("sig"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    assert!(
        all.contains(&format!("wrong PIN for token `{CLI_TOKEN}`")),
        "{all}"
    );
    assert!(all.contains("not retried"), "{all}");
    assert!(!all.contains(wrong), "the PIN leaked: {all}");
    assert!(
        !all.contains(&tokens().pin(CLI_TOKEN)),
        "the right PIN leaked: {all}"
    );
}

#[test]
fn there_is_no_way_to_pass_a_pin_on_the_command_line() {
    let out = kyso()
        .args(["token", "list", "--pin", "1234"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kyso()
        .args([
            "token",
            "sign",
            "--key",
            "pkcs11:token=a;object=b?pin-value=1234",
            "x",
            "y",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("pin-value is refused"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("1234"), "{}", text(&out));
}

#[test]
fn configuration_file_and_environment_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kyso.toml");
    std::fs::write(
        &config,
        format!(
            "[token]\nmodule = \"{}\"\npin_source = \"file:{}\"\n",
            tokens().module.display(),
            tokens().pin_file(CLI_TOKEN).display()
        ),
    )
    .unwrap();
    // With the PIN source from kyso.toml, the listing shows private keys.
    let listing = run(kyso()
        .env_remove("KYSO_TOKEN_MODULE")
        .arg("--config")
        .arg(&config)
        .args(["token", "list", "--json", "--token", CLI_TOKEN]));
    assert!(listing.contains("\"logged_in\": true"), "{listing}");
    // Without --token, a module with several tokens gets no PIN at all.
    let listing = run(kyso()
        .env_remove("KYSO_TOKEN_MODULE")
        .arg("--config")
        .arg(&config)
        .args(["token", "list", "--json"]));
    assert!(!listing.contains("\"logged_in\": true"), "{listing}");

    std::fs::write(&config, "[token]\nmodul = 'typo'\n").unwrap();
    let out = kyso()
        .arg("--config")
        .arg(&config)
        .args(["token", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("modul"), "{}", text(&out));
    assert!(Path::new(&config).exists());
}

#[test]
fn sign_pdf_writes_a_signed_file_or_nothing() {
    let signing = crate::support::Signing::new(kyso::token::KeyAlgorithm::P256, "Bùi Thị Hoa");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(
        &input,
        kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default()),
    )
    .unwrap();
    let uri = signing.key.uri();
    let key = format!(
        "{}?pin-source=file:{}",
        uri,
        tokens().pin_file(crate::support::MAIN_TOKEN).display()
    );
    let out = dir.path().join("out.pdf");
    let chain = dir.path().join("intermediate.pem");
    std::fs::write(&chain, signing.pki.intermediate.pem()).unwrap();
    let printed = run(kyso()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(&out)
        .args(["--key", &key, "--reason", "Đồng ý", "--chain"])
        .arg(&chain));
    assert!(printed.contains("PAdES B-B"), "{printed}");
    assert!(crate::support::pdfsig(&out).contains("Signature is Valid."));

    // Not a PDF: exit 2, a reason, and no output file.
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, "GIF89a not a pdf").unwrap();
    let never = dir.path().join("never.pdf");
    let result = kyso()
        .args(["sign", "pdf"])
        .arg(&bad)
        .arg(&never)
        .args(["--key", &key])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result).contains("not a PDF"), "{}", text(&result));
    assert!(!never.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        4,
        "in, out, chain and bad: no temporary file is left behind"
    );
}

#[test]
fn unit_levels_come_from_the_configuration() {
    // A province on the two-tier model (province and communes, no districts).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kyso.toml");
    std::fs::write(
        &config,
        "[[ledger.levels]]\nkey = 'province'\nvi = 'Cấp tỉnh'\nen = 'Province'\n\
         [[ledger.levels]]\nkey = 'commune'\nvi = 'Cấp xã'\nen = 'Communes'\n",
    )
    .unwrap();
    let ledger = dir.path().join("ledger.sqlite");
    let with_config = || {
        let mut cmd = kyso();
        cmd.arg("--config").arg(&config);
        cmd
    };
    let units = dir.path().join("units.csv");
    std::fs::write(
        &units,
        "code,name,level,parent\nTINH,UBND tỉnh,province,\nHUYEN,UBND huyện,district,TINH\n",
    )
    .unwrap();
    let out = with_config()
        .args(["units", "import"])
        .arg(&units)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("district"), "{}", text(&out));

    std::fs::write(
        &units,
        "code,name,level,parent\nTINH,UBND tỉnh,province,\nXA1,UBND xã Một,commune,TINH\n",
    )
    .unwrap();
    run(with_config()
        .args(["units", "import"])
        .arg(&units)
        .arg("--ledger")
        .arg(&ledger));
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"event":"issued","document_id":"a","number":"1/CV","doc_type":"Công văn","unit":"XA1","issued_at":"2025-08-01T09:00:00+07:00","declared":"signed"}"#,
            "\n",
            r#"{"event":"issued","document_id":"b","number":"2/CV","doc_type":"Công văn","unit":"XA1","issued_at":"2025-08-02T09:00:00+07:00","declared":"unsigned"}"#,
            "\n"
        ),
    )
    .unwrap();
    run(with_config()
        .args(["ledger", "record"])
        .arg(&events)
        .arg("--ledger")
        .arg(&ledger));
    // Issue 15 item 6: a record of document `a` for another unit is refused, not a move.
    let moved = dir.path().join("moved.jsonl");
    std::fs::write(
        &moved,
        r#"{"event":"issued","document_id":"a","number":"1/CV","doc_type":"Công văn","unit":"TINH","issued_at":"2025-08-01T09:00:00+07:00","declared":"signed"}"#,
    )
    .unwrap();
    let out = with_config()
        .args(["ledger", "record"])
        .arg(&moved)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "document `a` is stored for unit `XA1`: an issued record for unit `TINH` is refused"
        ),
        "{}",
        text(&out)
    );
    let json = run(with_config()
        .args(["report", "--period", "2025", "--format", "json", "--ledger"])
        .arg(&ledger));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let levels: Vec<(&str, &str)> = report["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["level"].as_str().unwrap(),
                l["label_vi"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels, [("province", "Cấp tỉnh"), ("commune", "Cấp xã")]);
    assert_eq!(report["levels"][1]["rates"]["declared_rate"], 50.0);
    let out = with_config()
        .args([
            "report", "--period", "2025", "--level", "district", "--ledger",
        ])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("expected one of province, commune"),
        "{}",
        text(&out)
    );
}
