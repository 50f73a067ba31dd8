//! Pages: a trainee's full ID number (R-PII-1, S13). `/trainees/{id}/reveal` asks for the
//! reason, then shows the number once; linked from the roster on the package page.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, AppError, AppResult};
use crate::pages::{CsrfForm, form_errors, is_form_error, no_errors, render};
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use minijinja::value::{Serde, Value};
use peixun_store::roster::{self, TraineeRef};

pub fn register(r: Registrar) -> Registrar {
    r.get("/trainees/{id}/reveal", reveal_form)
        .post("/trainees/{id}/reveal", reveal)
}

fn render_reveal(
    state: &AppState,
    user: &CurrentUser,
    t: &TraineeRef,
    id_number: Option<String>,
    reason: &str,
    errors: (Value, Value),
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/packages",
        "trainee_reveal.html",
        "查看学员完整证件号码",
        context! {
            t => Value::from(Serde(t)),
            id_number => id_number.map(Value::from).unwrap_or(Value::from(())),
            reason,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn reveal_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let t = roster::get_trainee(&state.store, &user.actor(&ctx), id).await?;
    render_reveal(&state, &user, &t, None, "", no_errors())
}

async fn reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let t = roster::get_trainee(&state.store, &actor, id).await?;
    let reason = form.get("reason");
    match roster::reveal_id_number(&state.store, &actor, id, reason, state.clock.now()).await {
        Ok(full) => render_reveal(&state, &user, &t, Some(full), reason, no_errors()),
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let errors = form_errors(&e, |f| f.to_string());
            let mut resp = render_reveal(&state, &user, &t, None, reason, errors)?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
    }
}
