//! `app()` driven in-process with `tower::ServiceExt::oneshot`: no listener involved.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;

use super::fixture::Service;

async fn send(service: &Service, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = kyso::api::app(service.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[test]
fn in_process_routes_answer_with_problems() {
    let service = Service::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (status, body) = send(
            &service,
            Request::get("/healthz").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");

        let (status, body) = send(
            &service,
            Request::get("/v1/units")
                .header("authorization", format!("Bearer {}", service.keys.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_array().unwrap().len(), 3);

        let (status, body) = send(
            &service,
            Request::put("/v1/verify").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["type"], "urn:kyso:problem:method-not-allowed");

        let (status, body) = send(
            &service,
            Request::post("/v1/sign/pdf?key=stp-01")
                .header("authorization", "Bearer kyso_zz")
                .body(Body::from("x"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["type"], "urn:kyso:problem:unauthorized");
    });
}
