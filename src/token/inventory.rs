//! What a module holds: slots, tokens and the objects on them (`kyso token list`).

use std::path::Path;

use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use serde::Serialize;

use super::Error;
use super::module;
use super::pool::{Token, TokenDefaults};
use super::uri::{ObjectType, Pkcs11Uri};
use super::{PinSource, spki};

/// One slot with a token, and the objects visible on it.
#[derive(Clone, Debug, Serialize)]
pub struct SlotInventory {
    pub slot_id: u64,
    pub slot_description: String,
    pub token_label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub login_required: bool,
    /// Whether private objects are listed (the token was logged in).
    pub logged_in: bool,
    pub objects: Vec<ObjectInfo>,
}

/// What kind of object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    PrivateKey,
    PublicKey,
    Certificate,
}

/// One key or certificate on a token.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectInfo {
    pub kind: ObjectKind,
    pub label: String,
    /// `CKA_ID`, hex.
    pub id: String,
    /// `RSA-2048`, `EC P-256`, … for keys.
    pub key: Option<String>,
    /// Subject and issuer of certificates.
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_after: Option<String>,
    /// A URI that names this object.
    pub uri: String,
}

/// Lists every initialised token of the module.
///
/// With `login`, one token is logged in so that its private keys are listed too: the token
/// labelled `login.0`, or, when that is `None`, the module's only token. A PIN is presented to no
/// other token: it belongs to one, and every wrong try counts towards another token's lockout. A
/// failed login is returned beside that token's public objects.
pub fn inventory(
    module_path: &Path,
    login: Option<(Option<&str>, &PinSource)>,
) -> Result<Vec<(SlotInventory, Option<Error>)>, Error> {
    let module = module::load(module_path)?;
    let slots = module
        .ctx
        .get_slots_with_initialized_token()
        .map_err(|e| Error::from_cryptoki("(listing)", "C_GetSlotList", e))?;
    let defaults = TokenDefaults {
        module: Some(module_path.to_owned()),
        ..TokenDefaults::default()
    };
    let only_one = slots.len() == 1;
    let mut out = Vec::new();
    for slot in slots {
        let info = module
            .ctx
            .get_token_info(slot)
            .map_err(|e| Error::from_cryptoki("(listing)", "C_GetTokenInfo", e))?;
        let slot_info = module
            .ctx
            .get_slot_info(slot)
            .map_err(|e| Error::from_cryptoki("(listing)", "C_GetSlotInfo", e))?;
        let uri = Pkcs11Uri {
            slot_id: Some(slot.id()),
            ..Default::default()
        };
        let token = Token::open(&uri, &defaults)?;
        let login_error = match login {
            Some((wanted, source))
                if info.login_required()
                    && wanted.map_or(only_one, |label| label == token.label()) =>
            {
                token.ensure_login(Some(source)).err()
            }
            _ => None,
        };
        let objects = list_objects(&token)?;
        out.push((
            SlotInventory {
                slot_id: slot.id(),
                slot_description: slot_info.slot_description().trim_end().to_owned(),
                token_label: token.label().to_owned(),
                manufacturer: info.manufacturer_id().trim_end().to_owned(),
                model: info.model().trim_end().to_owned(),
                serial: token.serial().to_owned(),
                login_required: info.login_required(),
                logged_in: token.is_logged_in(),
                objects,
            },
            login_error,
        ));
    }
    Ok(out)
}

fn list_objects(token: &Token) -> Result<Vec<ObjectInfo>, Error> {
    let raw = token.with_session("C_FindObjects", |s| {
        let mut found = Vec::new();
        for class in [
            ObjectClass::PRIVATE_KEY,
            ObjectClass::PUBLIC_KEY,
            ObjectClass::CERTIFICATE,
        ] {
            for handle in s.find_objects(&[Attribute::Class(class)])? {
                let attrs = s.get_attributes(
                    handle,
                    &[
                        AttributeType::Label,
                        AttributeType::Id,
                        AttributeType::KeyType,
                        AttributeType::ModulusBits,
                        AttributeType::Modulus,
                        AttributeType::EcParams,
                        AttributeType::Value,
                    ],
                )?;
                found.push((class, attrs));
            }
        }
        Ok(found)
    })?;
    let mut objects = Vec::new();
    for (class, attrs) in raw {
        let mut label = String::new();
        let mut id = Vec::new();
        let mut key_type = None;
        let mut bits = None;
        let mut curve = None;
        let mut value = None;
        for attr in attrs {
            match attr {
                Attribute::Label(l) => label = String::from_utf8_lossy(&l).into_owned(),
                Attribute::Id(i) => id = i,
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::ModulusBits(b) => bits = Some(u64::from(b)),
                Attribute::Modulus(m) if bits.is_none() => {
                    bits = Some(m.iter().skip_while(|&&b| b == 0).count() as u64 * 8)
                }
                Attribute::EcParams(p) => curve = spki::curve_from_params(&p),
                Attribute::Value(v) => value = Some(v),
                _ => {}
            }
        }
        let (kind, object_type) = if class == ObjectClass::PRIVATE_KEY {
            (ObjectKind::PrivateKey, ObjectType::Private)
        } else if class == ObjectClass::PUBLIC_KEY {
            (ObjectKind::PublicKey, ObjectType::Public)
        } else {
            (ObjectKind::Certificate, ObjectType::Cert)
        };
        let key = match key_type {
            Some(KeyType::RSA) => Some(format!("RSA-{}", bits.unwrap_or(0))),
            Some(KeyType::EC) => {
                Some(curve.map_or("EC (unknown curve)".to_owned(), |c| format!("EC {c}")))
            }
            Some(other) => Some(other.to_string()),
            None => None,
        };
        let (mut subject, mut issuer, mut not_after) = (None, None, None);
        if let Some(der) = value.as_deref()
            && let Ok((_, cert)) = x509_parser::parse_x509_certificate(der)
        {
            subject = Some(cert.tbs_certificate.subject.to_string());
            issuer = Some(cert.tbs_certificate.issuer.to_string());
            not_after = Some(cert.tbs_certificate.validity.not_after.to_string());
        }
        let uri = Pkcs11Uri {
            token: Some(token.label().to_owned()),
            object: Some(label.clone()),
            id: Some(id.clone()),
            object_type: Some(object_type),
            ..Default::default()
        }
        .to_string();
        objects.push(ObjectInfo {
            kind,
            label,
            id: hex::encode(&id),
            key,
            subject,
            issuer,
            not_after,
            uri,
        });
    }
    Ok(objects)
}
