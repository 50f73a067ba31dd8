//! `/healthz`, `/metrics`, the stylesheet and the OpenAPI document.

use super::Registrar;
use crate::AppState;
use crate::api_types::Health;
use crate::error::{AppError, AppResult};
use crate::templates::APP_CSS;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

pub fn register(r: Registrar) -> Registrar {
    r.get("/healthz", healthz)
        .get("/metrics", metrics)
        .get("/static/app.css", css)
        .get("/api/openapi.json", openapi)
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 500, body = crate::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> AppResult<Json<Health>> {
    state
        .store
        .db()
        .ping()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("database ping: {e}")))?;
    Ok(Json(Health {
        status: "ok".into(),
    }))
}

async fn metrics() -> impl IntoResponse {
    let body = crate::metrics::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS)
}

async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::ApiDoc::openapi())
}
