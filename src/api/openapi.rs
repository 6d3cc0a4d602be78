//! `GET /openapi.json`: the service's contract as an OpenAPI 3.1 document, written by hand next
//! to the routes. A unit test below and the HTTP tests check that it documents exactly
//! [`super::routes`], so a route cannot be added or removed without the document following.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use super::{AppState, Route};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/openapi.json",
}];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}

/// The problem responses `codes`, and those any request can get before it reaches an operation:
/// 414 (request target over 8 KiB) and 431 (request head over 64 KiB).
fn problems(codes: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for code in codes.iter().chain(&["414", "431"]) {
        out.insert(
            (*code).to_owned(),
            json!({
                "description": "RFC 9457 problem; `type` is stable (urn:kyso:problem:…)",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            }),
        );
    }
    Value::Object(out)
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

fn sign_operation(kind: &str, media: &[&str], level: &str, levels: &[&str]) -> Value {
    let mut body = serde_json::Map::new();
    for media in media.iter().chain(&["application/octet-stream"]) {
        body.insert(
            (*media).to_owned(),
            json!({"schema": {"type": "string", "format": "binary"}}),
        );
    }
    body.insert(
        "multipart/form-data".to_owned(),
        json!({"schema": {"type": "object", "required": ["document"], "properties": {
            "document": {"type": "string", "format": "binary"},
            "options": {"type": "string", "description": "JSON object with the query's fields"},
            "signature_image": {"type": "string", "format": "binary"},
            "seal_image": {"type": "string", "format": "binary"}
        }}, "description": "each part at most once (400 otherwise)"}),
    );
    let returned = media[0];
    json!({
        "summary": format!("Sign a {kind} document ({level})"),
        "description": "Role signer; the key must belong to one of the caller's units. The document is the body, or the `document` part of multipart/form-data with an optional JSON `options` part (fields as the query parameters). A full signing queue answers 503 with Retry-After. The signature is in the ledger and the audit log before the response is sent. field, reason, name, location, unit_label and number may hold no control characters (C0, DEL, C1) and no bidi embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069): 400 naming the parameter. A document_id the ledger holds for another unit: 403.",
        "security": [{"apiKey": []}],
        "parameters": [
            {"name": "key", "in": "query", "required": true, "schema": {"type": "string"}, "description": "A configured signing key ([[serve.keys]] name)"},
            {"name": "document_id", "in": "query", "schema": {"type": "string"}, "description": "The DMS's document id (default: sha256:<signed output>)"},
            {"name": "reason", "in": "query", "schema": {"type": "string"}},
            {"name": "location", "in": "query", "schema": {"type": "string"}},
            {"name": "name", "in": "query", "schema": {"type": "string"}},
            {"name": "unit_label", "in": "query", "schema": {"type": "string"}},
            {"name": "field", "in": "query", "schema": {"type": "string"}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "visible", "in": "query", "schema": {"type": "string"}, "description": "PAGE,X,Y,W,H in points"},
            {"name": "stamp", "in": "query", "schema": {"type": "string", "enum": ["person", "agency", "attachment", "copy"]}, "description": "A Decree 30/2020/NĐ-CP layout: person (signature_image centred in the `visible` space between title and name), agency (seal_image at real size over the left third of the latest visible signature), attachment (number; top right of page 1, no image), copy (copy_form and the unit; top right of page 1, no image)"},
            {"name": "seal_width", "in": "query", "schema": {"type": "number"}, "description": "The seal's real width in mm when its PNG carries no pHYs resolution (stamp agency)"},
            {"name": "number", "in": "query", "schema": {"type": "string"}, "description": "The main document's number and symbol (stamp attachment)"},
            {"name": "copy_form", "in": "query", "schema": {"type": "string", "enum": ["sao-y", "sao-luc", "trich-sao"]}, "description": "The form of copy (stamp copy; default sao-y)"},
            {"name": "packaging", "in": "query", "schema": {"type": "string", "enum": ["enveloped", "enveloping"]}},
            {"name": "parallel", "in": "query", "schema": {"type": "boolean"}},
            {"name": "level", "in": "query", "schema": {"type": "string", "enum": levels}, "description": "Baseline level (default B-B); B-T and B-LT need the service's [tsa] url, B-LT its [verify] trust anchors"}
        ],
        "requestBody": {"required": true, "description": "Any other content type is refused with 415 before the body is read.", "content": body},
        "responses": merge(json!({
            "200": {
                "description": "The signed document; X-Kyso-Document-Id, X-Kyso-Indication, X-Kyso-Level, X-Kyso-Audit-Seq headers",
                "content": {returned: {"schema": {"type": "string", "format": "binary"}}}
            },
            "202": {
                "description": "The key is confirmed on the holder's phone (a `phone:` key): a signing job was started. Location: /v1/jobs/{id}; Retry-After: the poll interval. B-B and B-T only (B-LT, B-LTA: 422). A refusal by the provider at once is the 403 problem urn:kyso:problem:signing-refused; a full job table, 503.",
                "headers": {"Location": {"schema": {"type": "string"}}, "Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobPending"}}}
            }
        }), problems(&["400", "401", "403", "404", "413", "415", "422", "500", "502", "503"]))
    })
}

/// The document.
pub fn document() -> Value {
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kyso",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ký số: sign PDF and XML with PKCS#11 keys, verify signatures, keep the signing-rate ledger. Authenticate with `Authorization: Bearer kyso_…` (kyso apikey create)."
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}, "instance": {"type": "string"}
                }},
                "DocumentReport": {"type": "object", "description": "Verdict per signature (ETSI EN 319 102-1 indications)"},
                "Unit": {"type": "object", "required": ["code", "name", "level"], "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"}, "level": {"type": "string"},
                    "parent": {"type": ["string", "null"]}
                }}
            }
        },
        "paths": {
            "/v1/sign/pdf": {"post": sign_operation("PDF", &["application/pdf"], "PAdES B-B, B-T, B-LT or B-LTA, incremental update", &["B-B", "B-T", "B-LT", "B-LTA"])},
            "/v1/sign/xml": {"post": sign_operation("XML", &["application/xml", "text/xml"], "XAdES B-B, B-T, B-LT (CertificateValues, RevocationValues) or B-LTA (plus an ArchiveTimeStamp)", &["B-B", "B-T", "B-LT", "B-LTA"])},
            "/v1/verify": {"post": {
                "summary": "Verify one PDF or XML document or edXML package",
                "description": "Roles signer, verifier, admin. An edXML package (QCVN 102:2016, recognised by its root and namespace) gets one verdict for the package, with `package` in the report: header, warnings, each attachment with its own report, header checks. With document_id, receiving_unit and sender, also records the document as incoming to that unit. A detached XML signature's documents come as `detached` parts, each under the file name its reference uses (relative names only; at most 64).",
                "security": [{"apiKey": []}],
                "parameters": [
                    {"name": "document_id", "in": "query", "schema": {"type": "string"}},
                    {"name": "receiving_unit", "in": "query", "schema": {"type": "string"}},
                    {"name": "sender", "in": "query", "schema": {"type": "string"}},
                    {"name": "check", "in": "query", "schema": {"type": "string", "enum": ["decree30"]}, "description": "decree30: add `decree30` to the report, the form checks of Decree 30/2020/NĐ-CP (the agency signs after the person, with an organisation's certificate; each attachment carries the agency's signature): passed, summary_vi, summary_en, missing. Never changes the indication. Default: [verify] decree30."}
                ],
                "requestBody": {"required": true, "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "document": {"type": "string", "format": "binary"},
                        "detached": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    }}}
                }},
                "responses": merge(json!({"200": {"description": "The report; with `Accept: text/html`, the printable verification record (biên bản kiểm tra: document SHA-256, signers and their identifiers, signing time and its source, integrity, chain and anchor, revocation, reasons in Vietnamese and English, the time of the check and kyso's version)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentReport"}}, "text/html": {"schema": {"type": "string"}}}}}),
                    problems(&["400", "401", "403", "413", "500", "503"]))
            }},
            "/v1/extend": {"post": {
                "summary": "Extend a signed PDF to B-T, B-LT or B-LTA so that it stays verifiable after its certificates expire",
                "description": "Roles signer, admin. Every signature is verified first; a document whose signatures do not verify now is refused (422 not-extendable). The steps it lacks are appended by incremental update, never changing an existing byte: a document time-stamp (B-T), the validation data in the DSS (B-LT), an archive document time-stamp and its own evidence (B-LTA). A B-LTA document whose newest document time-stamp's TSA certificate expires within [archive] renew_before_days is re-time-stamped. Needs [tsa] url.",
                "security": [{"apiKey": []}],
                "parameters": [
                    {"name": "to", "in": "query", "schema": {"type": "string", "enum": ["B-T", "B-LT", "B-LTA"], "default": "B-LTA"}}
                ],
                "requestBody": {"required": true, "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": merge(json!({
                    "200": {"description": "The extended PDF; headers X-Kyso-Extension: extended and X-Kyso-Level: the lowest level of its signatures now", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    "204": {"description": "Already at the level and no renewal due: nothing to store again (X-Kyso-Extension: unchanged, X-Kyso-Level)"}
                }), problems(&["400", "401", "403", "413", "422", "500", "502", "503"]))
            }},
            "/v1/verify/batch": {"post": {
                "summary": "Verify many documents; one JSON line per document, then a summary line",
                "security": [{"apiKey": []}],
                "requestBody": {"required": true, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "description": "One part per document"}},
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}
                }},
                "responses": merge(json!({"200": {"description": "JSON lines in completion order, as kyso verify --batch --json-lines writes them: {file, index, size, elapsed_ms, report} or {file, index, size, elapsed_ms, error}; last {summary: {documents, indications, unreadable}}", "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}}),
                    problems(&["400", "401", "403", "413", "415", "500", "503"]))
            }},
            "/v1/documents": {"post": {
                "summary": "Record issued documents (idempotent)",
                "description": "Roles signer (own units), admin. One issued event, an array, or JSON lines; at most 10,000 events and [serve] max_json_body_bytes (default 4 MiB; 413 beyond). A document id the ledger holds for another unit is refused (403); an admin's issued event may move it (a correction).",
                "security": [{"apiKey": []}],
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-ndjson": {"schema": {"type": "string"}}
                }},
                "responses": merge(json!({"200": {"description": "What each event did: inserted, unchanged, updated", "content": {"application/json": {"schema": {"type": "object"}}}}}),
                    problems(&["400", "401", "403", "413", "415", "500", "503"]))
            }},
            "/v1/units": {
                "get": {
                    "summary": "List units",
                    "security": [{"apiKey": []}],
                    "responses": merge(json!({"200": {"description": "Units by code", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}}}}}),
                        problems(&["401", "403", "500", "503"]))
                },
                "post": {
                    "summary": "Import units (admin): all rows or none",
                    "description": "CSV or JSON, at most [serve] max_json_body_bytes (default 4 MiB; 413 beyond).",
                    "security": [{"apiKey": []}],
                    "requestBody": {"required": true, "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}}
                    }},
                    "responses": merge(json!({"200": {"description": "Inserted, updated, unchanged counts", "content": {"application/json": {"schema": {"type": "object"}}}}}),
                        problems(&["400", "401", "403", "413", "415", "500", "503"]))
                }
            },
            "/v1/reports/signing-rate": {"get": {
                "summary": "Signing-rate report (auditor, admin)",
                "security": [{"apiKey": []}],
                "parameters": [
                    {"name": "period", "in": "query", "required": true, "schema": {"type": "string"}, "description": "2022-07-01, 2022-07, 2022-Q3, 2022-H1, 2022 or a..b"},
                    {"name": "unit", "in": "query", "schema": {"type": "string"}},
                    {"name": "level", "in": "query", "schema": {"type": "string"}},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "html"]}}
                ],
                "responses": merge(json!({"200": {"description": "The report", "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}}
                }}}), problems(&["400", "401", "403", "500", "503"]))
            }},
            "/healthz": {"get": {
                "summary": "The process answers",
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/readyz": {"get": {
                "summary": "Every signing key's token and the ledger answer",
                "description": "No key needed. Without one: {ready, store: {ok}, keys_available, keys_unavailable, shutting_down}, naming no key, unit or token error. With an admin key (Authorization: Bearer, permission read_diagnostics): each key with its unit and reason. Any other key: 401 or 403.",
                "responses": merge(json!({
                    "200": {"description": "ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "503": {"description": "not ready (the reasons with an admin key)", "content": {"application/json": {"schema": {"type": "object"}}}}
                }), problems(&["401", "403"]))
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics",
                "description": "No key needed: series without unit, key or token labels (summed over them). With an admin key (permission read_diagnostics): every label. Any other key: 401 or 403.",
                "responses": merge(json!({"200": {"description": "text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
                    problems(&["401", "403"]))
            }},
            "/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        }
    });
    // The dashboard's operations, in their own functions: one `json!` this size reaches the
    // macro recursion limit.
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(dashboard_paths().as_object().cloned().unwrap_or_default());
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(edxml_paths().as_object().cloned().unwrap_or_default());
        paths.extend(job_paths().as_object().cloned().unwrap_or_default());
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(csc_paths());
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        schemas.insert(
            "CscError".to_owned(),
            json!({"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string", "description": "invalid_request, invalid_token, access_denied, temporarily_unavailable, server_error"},
                "error_description": {"type": "string"}
            }}),
        );
        schemas.extend(dashboard_schemas().as_object().cloned().unwrap_or_default());
        schemas.extend(edxml_schemas().as_object().cloned().unwrap_or_default());
        schemas.extend(job_schemas().as_object().cloned().unwrap_or_default());
    }
    doc
}

/// The CSC API (`/csc/v1/…`, `/csc/v2/…`, [`super::csc`]): each method under both versions,
/// whose bodies differ in a few names (v1 `hash`/`hashAlgo`/`authMode`, v2
/// `hashes`/`hashAlgorithmOID`/`auth.mode`).
fn csc_paths() -> serde_json::Map<String, Value> {
    let methods = [
        (
            "info",
            "CSC: the service, its methods and algorithms",
            "No key needed. specs, name, region, lang, authType [\"external\"] (the API key is the bearer credential), methods; v2 also signAlgorithms.",
        ),
        (
            "credentials/list",
            "CSC: the credentials the caller may use",
            "Role signer. The keys with csc = true of the API key's units, by name (credentialIDs); userID must be null. v1: maxResults and pageToken; v2: credentialInfo (with certificates, certInfo) adds credentialInfos.",
        ),
        (
            "credentials/info",
            "CSC: one credential's key, certificates and authorisation rules",
            "Role signer. credentialID, certificates (none, single, chain: the signer's certificate first), certInfo. key {status, algo (OIDs), len, curve}, cert {status, certificates, issuerDN, subjectDN, serialNumber, validFrom, validTo}, SCAL \"2\", multisign, and v1 authMode \"explicit\" / v2 auth.mode \"explicit\". Another unit's credential: 400 Invalid parameter credentialID.",
        ),
        (
            "credentials/authorize",
            "CSC: a SAD for exact hash values",
            "Role signer. credentialID, numSignatures (1 to multisign) and exactly that many Base64 hashes (v1 hash, v2 hashes; v2 hashAlgorithmOID binds the digest). Returns SAD and expiresIn ([serve] csc_sad_lifetime_secs, default 300). The SAD is bound to the API key, the credential and the hashes, and is spent by the first signHash that presents it; it is kept by the node that issued it.",
        ),
        (
            "signatures/signHash",
            "CSC: the token signs authorised hashes",
            "Role signer. credentialID, SAD, hashes (v1 hash, v2 hashes), signAlgo (sha256/384/512WithRSA, rsaEncryption with hashAlgo / hashAlgorithmOID, ecdsa-with-SHA256/384/512). Returns signatures (Base64; RSA PKCS#1 v1.5, ECDSA as DER ECDSA-Sig-Value) in the order of the hashes. Each signature is a ledger signed event (document id csc:<digest>:<hex hash>) and an audit entry before the answer. Refused (400): another caller's SAD, a spent one (Invalid parameter SAD), an expired one (SAD expired), other hashes (Hash is not authorized by the SAD), operationMode A, signAlgoParams.",
        ),
    ];
    let mut out = serde_json::Map::new();
    for version in ["v1", "v2"] {
        for (method, summary, description) in methods {
            let mut operation = json!({
                "summary": summary,
                "description": description,
                "requestBody": {"required": method != "info", "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": {"description": "CSC answer", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": {"description": "CSC error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}},
                    "401": {"description": "CSC error invalid_token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}},
                    "403": {"description": "CSC error access_denied (a role that may not sign)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}},
                    "413": {"description": "CSC error: body over [serve] max_json_body_bytes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}},
                    "500": {"description": "CSC error server_error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}},
                    "503": {"description": "CSC error temporarily_unavailable (queue full, token or ledger down)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CscError"}}}}
                }
            });
            if method != "info" {
                operation["security"] = json!([{"apiKey": []}]);
            }
            out.insert(
                format!("/csc/{version}/{method}"),
                json!({ "post": operation }),
            );
        }
    }
    out
}

/// `/v1/edxml`: outgoing packages of the national document axis (QCVN 102:2016).
fn edxml_paths() -> Value {
    json!({
        "/v1/edxml": {"post": {
            "summary": "Build an outgoing edXML package (QCVN 102:2016) from a signed PDF, optionally signed by a unit's key",
            "description": "Role signer (the key must belong to one of the caller's units). multipart/form-data: `document` (the signed PDF; its file name is the attachment name), `header` (JSON, EdxmlHeader), `appendix` parts (each with a file name, at most 63); each of document and header once (400 otherwise). Required header fields: from.organ_id, from.organ_name, to[].organ_id, code.number, code.notation, promulgation.date (yyyy/MM/dd or yyyy-MM-dd), subject, signer.full_name; no control or bidi formatting characters (400 naming the field). A document that is not a signed PDF: 422. With `key`, the package carries an enveloped XMLDSig (Exclusive C14N, SHA-256) at the end of edXMLHeader, and the signature is in the ledger and the audit log before the response is sent; `kyso verify`, POST /v1/verify and xmlsec1 verify it.",
            "security": [{"apiKey": []}],
            "parameters": [
                {"name": "key", "in": "query", "schema": {"type": "string"}, "description": "A configured signing key ([[serve.keys]] name); without it the package is unsigned and nothing is recorded"},
                {"name": "document_id", "in": "query", "schema": {"type": "string"}, "description": "The ledger's id of the signed package (default: sha256:<package>); only with key"},
                {"name": "form", "in": "query", "schema": {"type": "string", "enum": ["xmldsig", "xades"]}, "description": "Plain XMLDSig (default) or XAdES B-B; only with key"}
            ],
            "requestBody": {"required": true, "description": "Any other content type is refused with 415 before the body is read.", "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["document", "header"], "properties": {
                    "document": {"type": "string", "format": "binary"},
                    "header": {"$ref": "#/components/schemas/EdxmlHeader"},
                    "appendix": {"type": "array", "items": {"type": "string", "format": "binary"}}
                }}}
            }},
            "responses": merge(json!({
                "200": {
                    "description": "The package. Signed: X-Kyso-Document-Id, X-Kyso-Indication, X-Kyso-Level, X-Kyso-Certificate-Sha256 headers; unsigned: X-Kyso-Signed: false",
                    "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}}
                }
            }), problems(&["400", "401", "403", "404", "413", "415", "422", "500", "502", "503"]))
        }}
    })
}

fn edxml_schemas() -> Value {
    let organ = json!({"type": "object", "properties": {
        "organ_id": {"type": "string"}, "organization_in_charge": {"type": "string"},
        "organ_name": {"type": "string"}, "organ_add": {"type": "string"}, "email": {"type": "string"},
        "telephone": {"type": "string"}, "fax": {"type": "string"}, "website": {"type": "string"}
    }});
    json!({
        "EdxmlHeader": {"type": "object", "description": "QCVN 102:2016 MessageHeader fields (unknown fields are refused)", "properties": {
            "from": organ,
            "to": {"type": "array", "items": organ},
            "document_id": {"type": "string", "description": "default: <from.organ_id>,<yyyy/MM/dd>,<number>/<notation>"},
            "code": {"type": "object", "properties": {"number": {"type": "string"}, "notation": {"type": "string"}}},
            "promulgation": {"type": "object", "properties": {"place": {"type": "string"}, "date": {"type": "string"}}},
            "document_type": {"type": "object", "properties": {"type": {"type": "string"}, "type_detail": {"type": "string"}, "type_name": {"type": "string"}}},
            "subject": {"type": "string"},
            "content": {"type": "string"},
            "signer": {"type": "object", "properties": {"competence": {"type": "string"}, "position": {"type": "string"}, "full_name": {"type": "string"}}},
            "due_date": {"type": "string"}
        }}
    })
}

/// `/v1/jobs/{id}`: signing jobs of keys confirmed on a phone (`docs/manual/signing-jobs.md`).
fn job_paths() -> Value {
    json!({
        "/v1/jobs/{id}": {"get": {
            "summary": "A signing job: pending, the signed document, or how it ended",
            "description": "Role signer, bound to the job's unit; a job of another unit answers 404, as one that does not exist. A finished job is handed out once: the answer deletes it (later: 404), and unfetched ones are deleted after [serve.jobs] retention_seconds.",
            "security": [{"apiKey": []}],
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
            ],
            "responses": merge(json!({
                "200": {"description": "Done: the signed document (X-Kyso-Job-Id)", "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "application/xml": {"schema": {"type": "string", "format": "binary"}}
                }},
                "202": {"description": "Still waiting for the holder; Retry-After", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/JobPending"}}
                }},
                "403": {"description": "Refused by the holder or the provider: urn:kyso:problem:signing-refused (detail in English, detail_vi in Vietnamese)", "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }},
                "410": {"description": "Expired: the holder did not confirm before the deadline (urn:kyso:problem:signing-expired)", "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }},
                "502": {"description": "Failed: the provider's signature did not verify, or the document did not sign again as it was (urn:kyso:problem:signing-failed); no document", "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }}
            }), problems(&["401", "404", "500", "503"]))
        }}
    })
}

fn job_schemas() -> Value {
    json!({
        "JobPending": {"type": "object", "required": ["id", "state", "location", "deadline", "message"], "properties": {
            "id": {"type": "string"},
            "state": {"type": "string", "enum": ["pending"]},
            "location": {"type": "string"},
            "deadline": {"type": "string", "format": "date-time"},
            "message": {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}
        }}
    })
}

/// `/v1/whoami` and the monthly trend, which the web pages use.
fn dashboard_paths() -> Value {
    json!({
            "/v1/reports/signing-rate/trend": {"get": {
                "summary": "Signing rate month by month (auditor, admin)",
                "description": "Each calendar month the period touches, cut to the period, with the overall and per-level figures of the signing-rate report for that month. Same scope rules as the report; at most 60 months.",
                "security": [{"apiKey": []}],
                "parameters": [
                    {"name": "period", "in": "query", "required": true, "schema": {"type": "string"}, "description": "as for the report"},
                    {"name": "unit", "in": "query", "schema": {"type": "string"}},
                    {"name": "level", "in": "query", "schema": {"type": "string"}}
                ],
                "responses": merge(json!({"200": {"description": "{period, first_day, last_day, scope, level, months: [{month, period, first_day, last_day, overall, levels}]}", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Trend"}}
                }}}), problems(&["400", "401", "403", "500", "503"]))
            }},
            "/v1/whoami": {"get": {
                "summary": "The caller's API key: id, role, units, permissions, signing keys",
                "description": "Every role. The web pages use it to show only what the key may do; the other endpoints enforce it. Never returns the key itself.",
                "security": [{"apiKey": []}],
                "responses": merge(json!({"200": {"description": "The identity", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Identity"}}
                }}}), problems(&["401", "500", "503"]))
            }}
    })
}

fn dashboard_schemas() -> Value {
    json!({
                "Identity": {"type": "object", "required": ["key_id", "role", "units", "unit_names", "permissions", "signing_keys"], "properties": {
                    "key_id": {"type": "string"},
                    "role": {"type": "string", "enum": ["signer", "verifier", "auditor", "admin"]},
                    "units": {"type": "array", "items": {"type": "string"}, "description": "unit codes, or * for every unit"},
                    "unit_names": {"type": "object", "additionalProperties": {"type": "string"}, "description": "code → name of the caller's units (empty for *)"},
                    "permissions": {"type": "array", "items": {"type": "string", "enum": ["sign", "verify", "record_documents", "read_units", "manage_units", "read_reports", "read_identity", "read_diagnostics"]}},
                    "signing_keys": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "unit": {"type": "string"}, "method": {"type": "string"}
                    }}}
                }},
                "Rates": {"type": "object", "description": "Counts and rates in percent; a rate is null when nothing was issued", "properties": {
                    "issued": {"type": "integer"}, "declared_signed": {"type": "integer"}, "verified_signed": {"type": "integer"},
                    "declared_unverified": {"type": "integer"},
                    "long_term_protected": {"type": "integer", "description": "verified documents whose latest passing archive audit found them protected for the long term (B-LT/B-LTA) past the report's renew_by"},
                    "needs_extending": {"type": "integer", "description": "verified documents whose latest passing archive audit found them not protected, or protected by a certificate expiring before renew_by: run kyso extend"},
                    "declared_rate": {"type": ["number", "null"]}, "verified_rate": {"type": ["number", "null"]},
                    "gap_points": {"type": ["number", "null"]}
                }},
                "Trend": {"type": "object", "required": ["period", "first_day", "last_day", "months"], "properties": {
                    "period": {"type": "string"}, "first_day": {"type": "string"}, "last_day": {"type": "string"},
                    "scope": {"oneOf": [{"$ref": "#/components/schemas/Unit"}, {"type": "null"}]},
                    "level": {"type": ["string", "null"]},
                    "months": {"type": "array", "items": {"type": "object", "properties": {
                        "month": {"type": "string", "description": "YYYY-MM"},
                        "period": {"type": "string"}, "first_day": {"type": "string"}, "last_day": {"type": "string"},
                        "overall": {"$ref": "#/components/schemas/Rates"},
                        "levels": {"type": "array", "items": {"type": "object", "properties": {
                            "level": {"type": "string"}, "label_vi": {"type": "string"}, "label_en": {"type": "string"},
                            "units": {"type": "integer"}, "rates": {"$ref": "#/components/schemas/Rates"}
                        }}}
                    }}}
                }}
    })
}

/// The (method, path) pairs the document describes, sorted.
pub fn documented_routes(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            if let Some(item) = item.as_object() {
                for method in item.keys() {
                    out.push((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_exactly_the_routes() {
        let documented = super::documented_routes(&super::document());
        let mut served: Vec<(String, String)> = super::super::routes()
            .into_iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        served.sort();
        assert_eq!(documented, served);
    }
}
