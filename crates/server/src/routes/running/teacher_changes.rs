//! Teacher-change reports (R-RUN-1): the list (pending for the centre) and the centre's 查阅.

use super::{PendingQuery, flash_of, jv};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::pages::{CsrfForm, Saved, pager, render};
use crate::routes::Registrar;
use crate::routes::forms::page_request;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use peixun_store::running;
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.get("/teacher-changes", teacher_changes_list)
        .post("/teacher-changes/{id}/acknowledge", teacher_change_ack)
}

async fn teacher_changes_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> AppResult<Response> {
    let all = q.all.as_deref() == Some("1");
    let page = page_request(q.page, None);
    let p = running::list_teacher_changes(&state.store, &user.actor(&ctx), !all, &page).await?;
    let items: Vec<_> = p
        .items
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "filing_id": t.filing_id,
                "new_teacher_name": t.new_teacher_name,
                "effective_on": t.effective_on.to_string(),
                "reported_on": t.reported_on.to_string(),
                "reported_by": t.reported_by,
                "note": t.note,
                "acknowledged": t.acknowledged_at.is_some(),
                "acknowledged_by": t.acknowledged_by.clone().unwrap_or_default(),
            })
        })
        .collect();
    let params = [("all", if all { "1".to_string() } else { String::new() })];
    render(
        &state,
        Some(&user),
        "/teacher-changes",
        "teacher_changes.html",
        "授课师资调整报备",
        context! {
            items => jv(items),
            all => all,
            can_ack => user.role.is_centre(),
            flash => flash_of(&Saved { saved: q.saved }),
            pager => pager("/teacher-changes", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn teacher_change_ack(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    running::acknowledge_teacher_change(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await?;
    Ok(Redirect::to("/teacher-changes?saved=acknowledged").into_response())
}
