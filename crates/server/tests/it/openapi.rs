//! The OpenAPI document is snapshot-tested, and every `/api/v1` route is in it.

use crate::harness::{TestApp, Who};
use peixun_store::Backend;
use utoipa::OpenApi;

#[test]
fn openapi_snapshot() {
    let doc = peixun_server::openapi::ApiDoc::openapi();
    let json = serde_json::to_value(&doc).unwrap();
    insta::assert_json_snapshot!("openapi", json);
}

#[test]
fn every_api_route_is_documented() {
    let doc = serde_json::to_value(peixun_server::openapi::ApiDoc::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in peixun_server::routes::registered_routes() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let op = paths
            .get(path)
            .and_then(|p| p.get(method.to_lowercase()))
            .unwrap_or_else(|| panic!("{method} {path} is not in the OpenAPI document"));
        assert!(op.get("responses").is_some());
    }
}

#[tokio::test]
async fn openapi_is_served() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = app.get_api("/api/openapi.json", Who::Anonymous).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["info"]["title"], "peixun API");
}
