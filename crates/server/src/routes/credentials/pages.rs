//! The credential requests page (账号凭据确认, S7): confirmers see what waits for them and
//! confirm or withdraw; sysadmins see every request. Confirming shows the second half once.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::pages::{CsrfForm, FormData, form_errors, is_form_error, no_errors, render};
use crate::routes::rounds_forms::{local, local_opt};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::accounts;
use peixun_store::credentials::{self, CredentialRequest, Issued, RequestState};
use serde::Deserialize;

pub fn register(r: Registrar) -> Registrar {
    r.get("/users/{id}/reset-password", reset_page)
        .post("/users/{id}/reset-password", reset_form)
        .get("/credential-requests", list_page)
        .post("/credential-requests/{id}/confirm", confirm_form)
        .post("/credential-requests/{id}/cancel", cancel_form)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListPageQuery {
    /// `all`: every request, not only those waiting.
    pub show: Option<String>,
    pub saved: Option<String>,
}

fn request_value(r: &CredentialRequest, viewer: &CurrentUser) -> Value {
    let me = viewer.user.id;
    let waiting = r.state == RequestState::Pending;
    let own = r.user.id == me;
    let mine = r.requested_by == viewer.user.username;
    let confirmer = matches!(viewer.user.role, Role::CentreAdmin | Role::InstitutionAdmin);
    context! {
        id => r.id,
        username => r.user.username.clone(),
        display_name => r.user.display_name.clone(),
        role_label => r.user.role.label_zh(),
        institution => r.user.institution_name.clone().unwrap_or_else(|| "—".into()),
        kind_label => r.kind.label(),
        state => format!("{:?}", r.state).to_lowercase(),
        state_label => r.state.label(),
        reason => r.reason.clone(),
        requested_by => r.requested_by.clone(),
        requested_at => local(r.requested_at),
        expires_at => local(r.expires_at),
        decided_by => r.decided_by.clone().unwrap_or_default(),
        decided_at => local_opt(r.decided_at),
        can_confirm => waiting && confirmer && !own && !mine,
        can_cancel => matches!(r.state, RequestState::Pending | RequestState::Expired)
            && (viewer.user.role == Role::Sysadmin || (confirmer && !own && !mine)),
    }
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListPageQuery>,
) -> AppResult<Response> {
    let all = q.show.as_deref() == Some("all");
    let items =
        credentials::list_requests(&state.store, &user.actor(&ctx), !all, state.clock.now())
            .await?;
    let items: Vec<Value> = items.iter().map(|r| request_value(r, &user)).collect();
    let flash = match q.saved.as_deref() {
        Some("cancelled") => Value::from("申请已撤销，账号保持原状。"),
        _ => Value::from(()),
    };
    render(
        &state,
        Some(&user),
        "/credential-requests",
        "credential_requests.html",
        "账号凭据确认",
        context! { items, all, flash, is_sysadmin => user.user.role == Role::Sysadmin },
    )
}

/// The page that shows one half of a one-time password, once (`Cache-Control: no-store` comes
/// with every signed-in page).
pub(crate) fn show_half(
    state: &AppState,
    user: &CurrentUser,
    issued: &Issued,
    half_no: u8,
    back: &str,
) -> AppResult<Response> {
    let r = &issued.request;
    render(
        state,
        Some(user),
        back,
        "credential_half.html",
        if half_no == 1 {
            "已发起，待确认"
        } else {
            "已确认"
        },
        context! {
            half_no,
            half => issued.half.clone(),
            username => r.user.username.clone(),
            display_name => r.user.display_name.clone(),
            kind_label => r.kind.label(),
            expires_at => local(r.expires_at),
            back,
        },
    )
}

async fn confirm_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_): CsrfForm,
) -> AppResult<Response> {
    let issued =
        credentials::confirm(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    show_half(&state, &user, &issued, 2, "/credential-requests")
}

async fn cancel_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_): CsrfForm,
) -> AppResult<Response> {
    credentials::cancel(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Redirect::to("/credential-requests?saved=cancelled").into_response())
}

async fn render_reset(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    if user.user.role != Role::Sysadmin {
        return Err(crate::error::AppError::forbidden());
    }
    let target = accounts::get_user(&state.store, id).await?;
    render(
        state,
        Some(user),
        "/users",
        "credential_reset.html",
        "重置密码",
        context! {
            id,
            username => target.username,
            display_name => target.display_name,
            role_label => target.role.label_zh(),
            own => target.id == user.user.id,
            form => context! {
                reason => form.get("reason"),
                clear_authenticator => form.get("clear_authenticator") == "1",
            },
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn reset_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    render_reset(&state, &user, id, &FormData::default(), no_errors()).await
}

async fn reset_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    match credentials::request_reset_with(
        &state.store,
        &user.actor(&ctx),
        id,
        form.get("reason"),
        form.get("clear_authenticator") == "1",
        state.clock.now(),
    )
    .await
    {
        Ok(issued) => show_half(&state, &user, &issued, 1, "/users"),
        Err(e) => {
            let e = crate::error::AppError::from(e);
            if is_form_error(&e) {
                let errors = form_errors(&e, |f| f.to_string());
                let mut resp = render_reset(&state, &user, id, &form, errors).await?;
                *resp.status_mut() = e.status();
                Ok(resp)
            } else {
                Err(e)
            }
        }
    }
}
