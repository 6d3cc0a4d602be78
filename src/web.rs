//! The web pages for clerks and auditors, served by [`crate::api`] as static assets under
//! `/web/` (`/` redirects there): a verify page (drop a PDF or XML, read each signature's
//! verdict), a signing-rate dashboard (period picker, rates by level and unit, the monthly trend,
//! a unit's unsigned documents, CSV export) and a small signing page for a unit's signer key.
//! Vietnamese first, English on a switch.
//!
//! What it owns: the page, its style sheet and its scripts (plain HTML, CSS and JavaScript
//! modules in `src/web/`, embedded with `include_str!`: nothing is built, fetched or generated
//! at run time, and no CDN or other host is ever asked for anything), the HTTP headers they are
//! served with, `verdict-words.json`, the indication and sub-indication words of
//! [`crate::verify::text`], so the page and `kyso verify` say exactly the same thing, and
//! `levels.json`, the names of the unit levels the reports use.
//!
//! What it refuses to do: hold any data or decide anything. Every figure the pages show comes
//! from the API's JSON (`/v1/verify`, `/v1/reports/signing-rate`, its `/trend`), the pages draw
//! it and compute no rate. Authentication is the API's: the clerk types an API key into the login
//! form, the page keeps it in a variable of `api.js` only (never `sessionStorage` or
//! `localStorage`, which browsers bring back with a reopened tab or a restored session, so the
//! next clerk at a shared PC could reopen the last one's tab; a reload asks to log in again) and
//! sends it as `Authorization: Bearer`, never in a URL. `GET /v1/whoami` tells the page the
//! key's role so it shows only what the API would permit; the API still refuses everything else
//! itself.
//!
//! Why a key and not a cookie session: a cookie is sent by the browser on its own, so it would
//! need CSRF defences and a second kind of credential that every node of a cluster must check
//! the same way; a bearer key read by the page's own script cannot be sent by another site, and
//! it passes through exactly the checks a DMS's requests pass. The cost is that script on the
//! page could read it, so no script but ours runs: the Content-Security-Policy allows scripts
//! from this origin only (no inline script, no `eval`), and the scripts put text from the
//! service into the page with `textContent` only, never as markup.
//!
//! Accessibility (WCAG 2.1 AA): `lang` on the document and on English-only text, landmarks and
//! labels for every control, a visible focus ring, a real button beside the drop zone, live
//! regions for results, and verdicts carried by words and icons as well as colour (contrast
//! checked in the browser tests).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::ledger::LevelScheme;
use crate::signer::DigestAlgorithm::Sha256;
use crate::verify::text::{self, Language};
use crate::verify::{Indication, SubIndication};

/// Where the pages live; `/` redirects here.
pub const BASE: &str = "/web/";

/// Only this origin's scripts, styles, images and connections; no frames, forms, plugins or
/// `<base>`. Images are `'self'` only: the one image file is `icon.svg`, the charts are inline
/// SVG built element by element, and the style sheet has no `url()`; the `blob:` URLs of saved
/// reports are downloads, which `img-src` does not govern. Trusted Types are required for every
/// script sink (`innerHTML`, `eval`, a script's `src`, …): the scripts use none (they build the
/// page with `textContent` and `setAttribute`), so a slip that did would throw instead of
/// parsing a unit's name as markup.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'";

/// The pages' routes: `/`, `/web`, `/web/` and `/web/{asset}`. `levels` are the unit levels
/// the service's reports group by (`[[ledger.levels]]`), served as `levels.json`.
pub fn router<S>(levels: &LevelScheme) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let levels = Arc::new(served("application/json", Bytes::from(levels_json(levels))));
    Router::new()
        .route("/", get(|| async { Redirect::to(BASE) }))
        .route("/web", get(|| async { Redirect::to(BASE) }))
        .route("/web/", get(index))
        .route(
            "/web/{asset}",
            get(move |Path(name): Path<String>, headers: HeaderMap| {
                let levels = Arc::clone(&levels);
                async move {
                    if name == LEVELS {
                        respond(&levels, &headers)
                    } else {
                        serve(&name, &headers)
                    }
                }
            }),
        )
}

/// One file the pages are made of.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    body: &'static [u8],
}

/// Every file, by the name the page asks for.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        media_type: "text/html; charset=utf-8",
        body: include_bytes!("web/index.html"),
    },
    Asset {
        name: "app.css",
        media_type: "text/css; charset=utf-8",
        body: include_bytes!("web/app.css"),
    },
    Asset {
        name: "icon.svg",
        media_type: "image/svg+xml",
        body: include_bytes!("web/icon.svg"),
    },
    Asset {
        name: "app.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/app.js"),
    },
    Asset {
        name: "api.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/api.js"),
    },
    Asset {
        name: "dom.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/dom.js"),
    },
    Asset {
        name: "i18n.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/i18n.js"),
    },
    Asset {
        name: "charts.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/charts.js"),
    },
    Asset {
        name: "errors.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/errors.js"),
    },
    Asset {
        name: "verify.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/verify.js"),
    },
    Asset {
        name: "dashboard.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/dashboard.js"),
    },
    Asset {
        name: "sign.js",
        media_type: "text/javascript; charset=utf-8",
        body: include_bytes!("web/sign.js"),
    },
];

/// The generated assets: verdict words in both languages, and the levels of the unit
/// hierarchy with their names (the reports' [`LevelScheme`]).
const VERDICT_WORDS: &str = "verdict-words.json";
const LEVELS: &str = "levels.json";

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// A served file: its bytes and the validator that lets the browser skip refetching them.
struct Served {
    media_type: &'static str,
    body: Bytes,
    etag: String,
}

/// The files with their ETags, computed once: they are in the binary and never change while
/// it runs, but a new release must not be hidden behind a cached copy, hence `no-cache` with
/// an ETag rather than a lifetime.
fn table() -> &'static BTreeMap<&'static str, Served> {
    static TABLE: OnceLock<BTreeMap<&'static str, Served>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: BTreeMap<&'static str, Served> = ASSETS
            .iter()
            .map(|a| (a.name, served(a.media_type, Bytes::from_static(a.body))))
            .collect();
        table.insert(
            VERDICT_WORDS,
            served("application/json", Bytes::from(verdict_words())),
        );
        table
    })
}

fn served(media_type: &'static str, body: Bytes) -> Served {
    Served {
        media_type,
        etag: format!("\"{}\"", hex::encode(&Sha256.digest(&body)[..12])),
        body,
    }
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(file) = table().get(name) else {
        return crate::api::ApiError::NotFound {
            what: "page".to_owned(),
        }
        .into_response();
    };
    respond(file, headers)
}

/// `file` with its validator and the pages' security headers; 304 when the browser has it.
fn respond(file: &Served, headers: &HeaderMap) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.media_type),
            )],
            file.body.clone(),
        )
            .into_response()
    };
    let out = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Every sub-indication, for the words file. The `match` makes adding a variant without adding
/// it here a compile error.
const SUB_INDICATIONS: [SubIndication; 16] = [
    SubIndication::FormatFailure,
    SubIndication::HashFailure,
    SubIndication::SigCryptoFailure,
    SubIndication::Revoked,
    SubIndication::SigConstraintsFailure,
    SubIndication::ChainConstraintsFailure,
    SubIndication::CryptoConstraintsFailure,
    SubIndication::CryptoConstraintsFailureNoPoe,
    SubIndication::Expired,
    SubIndication::NotYetValid,
    SubIndication::SignedDataNotFound,
    SubIndication::NoSigningCertificateFound,
    SubIndication::NoCertificateChainFound,
    SubIndication::RevokedNoPoe,
    SubIndication::OutOfBoundsNoPoe,
    SubIndication::TryLater,
];

const _: fn(SubIndication) = every_sub_indication_is_listed;

fn every_sub_indication_is_listed(sub: SubIndication) {
    use SubIndication::*;
    match sub {
        FormatFailure
        | HashFailure
        | SigCryptoFailure
        | Revoked
        | SigConstraintsFailure
        | ChainConstraintsFailure
        | CryptoConstraintsFailure
        | CryptoConstraintsFailureNoPoe
        | Expired
        | NotYetValid
        | SignedDataNotFound
        | NoSigningCertificateFound
        | NoCertificateChainFound
        | RevokedNoPoe
        | OutOfBoundsNoPoe
        | TryLater => {}
    }
}

/// `{"vi": {"indication": {…}, "sub_indication": {…}}, "en": {…}}` from [`crate::verify::text`].
fn verdict_words() -> String {
    let words = |language: Language| {
        let indication: serde_json::Map<String, serde_json::Value> = [
            Indication::TotalPassed,
            Indication::Indeterminate,
            Indication::TotalFailed,
        ]
        .into_iter()
        .map(|i| (i.as_str().to_owned(), text::indication(i, language).into()))
        .collect();
        let sub: serde_json::Map<String, serde_json::Value> = SUB_INDICATIONS
            .into_iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    text::sub_indication(s, language).into(),
                )
            })
            .collect();
        serde_json::json!({"indication": indication, "sub_indication": sub})
    };
    serde_json::json!({
        "vi": words(Language::Vietnamese),
        "en": words(Language::English),
    })
    .to_string()
}

/// `[{"key", "label_vi", "label_en"}]`, top level first.
fn levels_json(scheme: &LevelScheme) -> String {
    let levels: Vec<serde_json::Value> = scheme
        .levels()
        .iter()
        .map(|l| serde_json::json!({"key": l.key, "label_vi": l.label_vi, "label_en": l.label_en}))
        .collect();
    serde_json::Value::Array(levels).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_the_page_loads_is_served() {
        let index = std::str::from_utf8(include_bytes!("web/index.html")).unwrap();
        for asset in ASSETS {
            if asset.name.ends_with(".js") && asset.name != "app.js" {
                continue; // imported by app.js, checked below
            }
            if asset.name != "index.html" {
                assert!(index.contains(asset.name), "index.html uses {}", asset.name);
            }
        }
        // Each `import … from './x.js'` names an asset.
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let source = std::str::from_utf8(asset.body).unwrap();
            for rest in source.split("from './").skip(1) {
                let module = rest
                    .split_once('\'')
                    .map(|(name, _)| name)
                    .unwrap_or_else(|| panic!("{}: odd import", asset.name));
                assert!(
                    ASSETS.iter().any(|a| a.name == module),
                    "{} imports {module}",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn no_script_inserts_markup() {
        // Text from the service reaches the page through textContent only (see dom.js); a
        // script that assigns markup would be an injection waiting for a unit name.
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let source = std::str::from_utf8(asset.body).unwrap();
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!source.contains(banned), "{} uses {banned}", asset.name);
            }
        }
    }

    /// The keys of one language's table in i18n.js (`'key': 'text',` lines).
    fn string_keys(block: &str) -> std::collections::BTreeSet<&str> {
        block
            .lines()
            .filter_map(|l| l.trim().strip_prefix('\''))
            .filter_map(|l| l.split_once("': "))
            .map(|(key, _)| key)
            .collect()
    }

    #[test]
    fn every_string_is_in_both_languages_and_every_used_string_exists() {
        let source = std::str::from_utf8(include_bytes!("web/i18n.js")).unwrap();
        let (vi, rest) = source
            .split_once("\n  vi: {")
            .and_then(|(_, rest)| rest.split_once("\n  en: {"))
            .expect("i18n.js has a vi and an en table");
        let (en, _) = rest.split_once("\n};").expect("the tables end");
        let (vi, en) = (string_keys(vi), string_keys(en));
        assert!(vi.len() > 100, "{}", vi.len());
        assert_eq!(
            vi.symmetric_difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "strings in one language only"
        );
        // Literal keys in t('…') calls and data-i18n attributes.
        let mut used = Vec::new();
        for asset in ASSETS {
            let text = std::str::from_utf8(asset.body).unwrap();
            for marker in ["t('", "data-i18n=\"", "data-i18n-aria-label=\""] {
                for (at, _) in text.match_indices(marker) {
                    // `t(` itself, not the end of `split(` or `at(`.
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if before.is_alphanumeric() || before == '_' || before == '.' {
                        continue;
                    }
                    let rest = &text[at + marker.len()..];
                    let end = rest.find(['\'', '"']).unwrap_or(rest.len());
                    used.push((asset.name, &rest[..end]));
                }
            }
        }
        assert!(used.len() > 100, "{}", used.len());
        for (file, key) in used {
            assert!(vi.contains(key), "{file} uses `{key}`, which i18n.js lacks");
        }
    }

    #[test]
    fn the_dashboard_asks_for_no_longer_trend_than_the_api_draws() {
        // dashboard.js cuts a long period's trend to the API's limit; a different number would
        // either refuse long periods again (larger) or draw less than the API could (smaller).
        let source = std::str::from_utf8(include_bytes!("web/dashboard.js")).unwrap();
        let declared = source
            .split_once("const TREND_MAX_MONTHS = ")
            .and_then(|(_, rest)| rest.split_once(';'))
            .map(|(n, _)| n.trim().parse::<usize>().unwrap())
            .expect("dashboard.js declares TREND_MAX_MONTHS");
        assert_eq!(declared, crate::api::TREND_MAX_MONTHS);
    }

    #[test]
    fn verdict_words_are_those_of_the_cli() {
        let words: serde_json::Value = serde_json::from_str(&verdict_words()).unwrap();
        assert_eq!(
            words["vi"]["indication"]["TOTAL-PASSED"],
            text::indication(Indication::TotalPassed, Language::Vietnamese)
        );
        assert_eq!(
            words["en"]["sub_indication"]["HASH_FAILURE"],
            text::sub_indication(SubIndication::HashFailure, Language::English)
        );
        assert_eq!(
            words["vi"]["sub_indication"].as_object().unwrap().len(),
            SUB_INDICATIONS.len()
        );
    }

    #[test]
    fn unknown_files_are_not_found_and_known_ones_carry_the_policy() {
        let none = serve("../Cargo.toml", &HeaderMap::new());
        assert_eq!(none.status(), StatusCode::NOT_FOUND);
        // Every file, not only the page: a script or style sheet opened on its own is a
        // document too, and the browser test checks the headers of each file it loads.
        for name in table().keys() {
            let served = serve(name, &HeaderMap::new());
            assert_eq!(served.status(), StatusCode::OK, "{name}");
            let headers = served.headers();
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY,
                "{name}"
            );
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{name}");
        }
        let page = serve("index.html", &HeaderMap::new());
        assert_eq!(page.status(), StatusCode::OK);
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("require-trusted-types-for 'script'"), "{csp}");
        assert!(!csp.contains("data:") && !csp.contains("blob:"), "{csp}");
        let etag = page.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("index.html", &again).status(),
            StatusCode::NOT_MODIFIED
        );
    }

    #[test]
    fn levels_json_is_the_configured_scheme_with_the_pages_headers() {
        use tower::ServiceExt as _;
        let level = |key: &str, vi: &str, en: &str| crate::ledger::units::Level {
            key: key.into(),
            label_vi: vi.into(),
            label_en: en.into(),
        };
        let scheme = LevelScheme::new(vec![
            level("province", "Cấp tỉnh", "Province"),
            level("commune", "Cấp xã", "Communes"),
        ])
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime.block_on(async {
            router::<()>(&scheme)
                .oneshot(
                    axum::http::Request::get("/web/levels.json")
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap()
        });
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        let body = runtime
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
            .unwrap();
        let levels: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            levels,
            serde_json::json!([
                {"key": "province", "label_vi": "Cấp tỉnh", "label_en": "Province"},
                {"key": "commune", "label_vi": "Cấp xã", "label_en": "Communes"},
            ])
        );
    }
}
