//! Trainees as JSON: the audited reveal of a full ID number (R-PII-1, S13).

use super::super::Registrar;
use crate::AppState;
use crate::api_types::{RevealRequest, RevealResponse};
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use peixun_store::roster;

pub fn register(r: Registrar) -> Registrar {
    r.post("/api/v1/trainees/{id}/reveal", reveal_trainee_id)
}

/// The full ID number of a trainee (a roster entry), on purpose and with a reason; audited as
/// `trainee.reveal_id_number` (R-PII-1, S13). The centre and the class's own institution only.
#[utoipa::path(post, path = "/api/v1/trainees/{id}/reveal", tag = "packages",
    params(("id" = i64, Path, description = "The roster entry (trainee) id, as in the roster list")),
    request_body = RevealRequest,
    responses((status = 200, body = RevealResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reveal_trainee_id(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RevealRequest>,
) -> AppResult<Json<RevealResponse>> {
    // The store checks permission (the class's writers only) before the reason.
    let id_number = roster::reveal_id_number(
        &state.store,
        &user.actor(&ctx),
        id,
        &input.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(RevealResponse { id_number }))
}
