//! Policy version pages (R-POL-1): list, propose (sysadmin), detail with confirm / reject
//! (centre_admin) and withdraw (sysadmin), compare.

use super::api::CompareQuery;
use super::{echo_form, form_anchor, form_values, proposal_from_form, today};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, form_errors, is_form_error, no_errors, render};
use crate::routes::Registrar;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::policies::{self, PolicyStatus, StoredPolicy};

pub fn register(r: Registrar) -> Registrar {
    r.get("/policies", list)
        .get("/policies/new", new_form)
        .post("/policies/new", create)
        .get("/policies/compare", compare)
        .get("/policies/{id}", detail)
        .post("/policies/{id}/confirm", confirm)
        .post("/policies/{id}/reject", reject)
        .post("/policies/{id}/withdraw", withdraw)
}

fn beijing(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn summary(p: &StoredPolicy, in_force_id: Option<i64>) -> Value {
    context! {
        id => p.id,
        version => p.version.clone(),
        effective_from => p.effective_from.to_string(),
        document_title => p.document_title.clone(),
        document_number => p.document_number.clone(),
        status => p.status.code(),
        status_label => p.status_label.clone(),
        in_force => Some(p.id) == in_force_id,
        proposed_by => p.proposed_by.clone(),
        proposed_at => beijing(p.proposed_at),
        decided_by => p.decided_by.clone().unwrap_or_default(),
        decided_at => p.decided_at.map(beijing).unwrap_or_default(),
        decision_reason => p.decision_reason.clone().unwrap_or_default(),
        note => p.note.clone().unwrap_or_default(),
        label => p.label(),
    }
}

async fn in_force_id(state: &AppState) -> Option<i64> {
    policies::in_force_stored(&state.store, today(state))
        .await
        .ok()
        .map(|p| p.id)
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<Saved>,
) -> AppResult<Response> {
    let all = policies::list(&state.store, &user.actor(&ctx)).await?;
    let current = in_force_id(&state).await;
    let items: Vec<Value> = all.iter().map(|p| summary(p, current)).collect();
    render(
        &state,
        Some(&user),
        "/policies",
        "policies_list.html",
        "政策参数版本",
        context! {
            items,
            may_propose => user.role == Role::Sysadmin,
            in_force_id => current,
            flash => q.flash(),
        },
    )
}

async fn render_form(
    state: &AppState,
    user: &CurrentUser,
    form: serde_json::Value,
    errors: (Value, Value),
) -> AppResult<Response> {
    let base = policies::in_force_stored(&state.store, today(state)).await?;
    render(
        state,
        Some(user),
        "/policies",
        "policies_form.html",
        "提出政策参数新版本",
        context! {
            form => crate::routes::rounds_forms::jv(form),
            base => base.label(),
            today => today(state).to_string(),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn new_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    // Prefilled from the version in force today; the sysadmin changes what the new document
    // changes.
    let base = policies::in_force(state.store.db(), today(&state)).await?;
    render_form(&state, &user, form_values(&base), no_errors()).await
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let result = match proposal_from_form(&form) {
        Ok(p) => policies::propose(&state.store, &user.actor(&ctx), &p, state.clock.now())
            .await
            .map_err(Into::into),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(v) => Ok(Redirect::to(&format!("/policies/{}?saved=created", v.id)).into_response()),
        Err(e) if is_form_error(&e) => {
            let errors = form_errors(&e, form_anchor);
            let mut resp = render_form(&state, &user, echo_form(&form), errors).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn render_detail(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let p = policies::get(&state.store, &user.actor(ctx), id).await?;
    let current = policies::in_force_stored(&state.store, today(state))
        .await
        .ok();
    let rows: Vec<Value> = p
        .policy
        .rows()
        .into_iter()
        .map(|r| context! { key => r.key, label => r.label, value => r.value })
        .collect();
    let waiting = p.status == PolicyStatus::Proposed;
    render(
        state,
        Some(user),
        "/policies",
        "policies_detail.html",
        &format!("政策参数版本 {}", p.version),
        context! {
            p => summary(&p, current.as_ref().map(|c| c.id)),
            rows,
            may_decide => waiting && user.role == Role::CentreAdmin,
            may_withdraw => waiting && user.role == Role::Sysadmin,
            compare_with => current.filter(|c| c.id != p.id).map(|c| c.id),
            reason => form.get("reason"),
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<Saved>,
) -> AppResult<Response> {
    let flash = match q.saved.as_deref() {
        Some("created") => Value::from("已提出，待区培训中心负责人确认。"),
        Some("confirmed") => Value::from("已确认，自生效日期起适用于新的事项。"),
        Some("rejected") => Value::from("已退回。"),
        Some("withdrawn") => Value::from("已撤回。"),
        _ => q.flash(),
    };
    render_detail(
        &state,
        &user,
        &ctx,
        id,
        flash,
        &FormData::default(),
        no_errors(),
    )
    .await
}

/// After a decision: back to the page, or the page with the error beside the form.
async fn after(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    form: &FormData,
    result: AppResult<StoredPolicy>,
    saved: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{id}?saved={saved}")).into_response()),
        Err(e) if is_form_error(&e) => {
            let errors = form_errors(&e, str::to_string);
            let mut resp =
                render_detail(state, user, ctx, id, Value::from(()), form, errors).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let r = policies::confirm(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await
        .map_err(Into::into);
    after(&state, &user, &ctx, id, &form, r, "confirmed").await
}

async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let r = policies::reject(
        &state.store,
        &user.actor(&ctx),
        id,
        form.get("reason"),
        state.clock.now(),
    )
    .await
    .map_err(Into::into);
    after(&state, &user, &ctx, id, &form, r, "rejected").await
}

async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let r = policies::withdraw(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await
        .map_err(Into::into);
    after(&state, &user, &ctx, id, &form, r, "withdrawn").await
}

async fn compare(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let a = policies::get(&state.store, &actor, q.a).await?;
    let b = policies::get(&state.store, &actor, q.b).await?;
    let rows: Vec<Value> = policies::compare(&a, &b)
        .into_iter()
        .map(|r| context! { key => r.key, label => r.label, a => r.a, b => r.b, differs => r.differs })
        .collect();
    let differing = rows
        .iter()
        .filter(|r| r.get_attr("differs").is_ok_and(|v| v.is_true()))
        .count();
    let current = in_force_id(&state).await;
    render(
        &state,
        Some(&user),
        "/policies",
        "policies_compare.html",
        "政策参数版本对比",
        context! {
            a => summary(&a, current),
            b => summary(&b, current),
            rows,
            differing,
        },
    )
}
