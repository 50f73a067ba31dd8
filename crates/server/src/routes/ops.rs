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

/// Prometheus text, only to an allowed client address (`PEIXUN_METRICS_ALLOW`, default
/// loopback) or with the bearer token `PEIXUN_METRICS_TOKEN`; anyone else gets 403.
async fn metrics(
    State(state): State<AppState>,
    ctx: crate::auth::RequestCtx,
    headers: axum::http::HeaderMap,
) -> AppResult<impl IntoResponse> {
    let client = ctx.ip.as_deref().and_then(|ip| ip.parse().ok());
    if !crate::guard::metrics_allowed(
        &state.config.metrics_allow,
        state.config.metrics_token.as_deref(),
        client,
        &headers,
    ) {
        return Err(AppError::Forbidden(
            "metrics from a disallowed address".into(),
        ));
    }
    let body = crate::metrics::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}

async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS)
}

async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::ApiDoc::openapi())
}
