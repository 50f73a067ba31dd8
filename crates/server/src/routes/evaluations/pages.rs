//! Pages: the evaluations list and one evaluation (R-EVA-1): the four components — computed,
//! adjusted with the reason beside it, flags — the trail like the cap trail, the score and what
//! it does to the next cap (R-CAP-3). The centre opens (from the agreement page), recomputes,
//! adjusts or accepts a component, and centre_admin confirms. The institution reads its own.
//! No JavaScript: every action is a form; an error shows the page again with the summary.

use super::super::Registrar;
use super::super::pages_filing_package::{jv, local, page_err, with_status};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, no_errors, pager, render};
use crate::routes::forms::page_request;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::evaluations::{
    self, AdjustmentInput, EvaluationFilter, EvaluationState, EvaluationView,
};
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/evaluations", list_page)
        .get("/evaluations/{id}", detail_page)
        .post("/agreements/{id}/evaluation", open_form)
        .post("/evaluations/{id}/recompute", recompute_form)
        .post("/evaluations/{id}/adjust", adjust_form)
        .post("/evaluations/{id}/confirm", confirm_form)
}

fn flash(saved: &Saved) -> Value {
    match saved.saved.as_deref() {
        Some("opened") => Value::from("绩效评估已开展：四个分项已由记录计算。"),
        Some("recomputed") => Value::from("已按最新记录重新计算。"),
        Some("adjusted") => Value::from("分项已调整，理由已记录。"),
        Some("accepted") => Value::from("已确认该分项的计算值，理由已记录。"),
        Some("confirmed") => Value::from("评估结果已确认，得分与政策版本已固定。"),
        Some(_) => Value::from("已保存。"),
        None => Value::from(()),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    round_id: Option<String>,
    state: Option<String>,
    page: Option<u64>,
}

fn score_text(v: &EvaluationView) -> String {
    format!("{:.1}", v.score)
}

fn band_text(v: &EvaluationView) -> String {
    match v.next_cap_factor {
        Some(f) => format!("下次签约上限 × {}（{}）", f.normalize(), v.band_note),
        None => format!("暂停签约分配指标（{}）", v.band_note),
    }
}

fn row_value(v: &EvaluationView) -> serde_json::Value {
    json!({
        "id": v.id, "agreement_id": v.agreement_id, "round_label": v.round_label,
        "institution_name": v.institution_name, "state": v.state.code(), "state_label": v.state_label,
        "score": score_text(v), "c": v.on_time_completed, "band": band_text(v),
        "flags": v.components.iter().filter(|c| c.needs_decision).count(),
        "adjusted": v.components.iter().filter(|c| c.adjusted.is_some()).count(),
    })
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let round_id = q
        .round_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let st = q.state.as_deref().and_then(EvaluationState::parse);
    let page = page_request(q.page, None);
    let p = evaluations::list_evaluations(
        &state.store,
        &actor,
        &EvaluationFilter {
            round_id,
            state: st,
        },
        &page,
    )
    .await?;
    let rounds: Vec<_> = peixun_store::rounds::list_rounds(&state.store, &actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| json!({ "id": r.id, "label": r.label }))
        .collect();
    let params = [
        (
            "round_id",
            round_id.map(|r| r.to_string()).unwrap_or_default(),
        ),
        (
            "state",
            st.map(|s| s.code().to_string()).unwrap_or_default(),
        ),
    ];
    render(
        &state,
        Some(&user),
        "/evaluations",
        "evaluations_list.html",
        "绩效评估",
        context! {
            items => jv(p.items.iter().map(row_value).collect::<Vec<_>>()),
            rounds => jv(rounds),
            round_id => round_id.unwrap_or(0),
            state_filter => st.map(|s| s.code()).unwrap_or(""),
            pager => pager("/evaluations", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

#[derive(Default)]
struct Extras {
    errors: Option<(Value, Value)>,
    form: Option<FormData>,
    status: Option<StatusCode>,
}

async fn render_detail(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    extras: Extras,
) -> AppResult<Response> {
    let v = evaluations::get_evaluation(&state.store, &user.actor(ctx), id).await?;
    let open = v.state == EvaluationState::Open;
    let centre = matches!(user.role, Role::CentreAdmin | Role::CentreStaff);
    let components: Vec<_> = v
        .components
        .iter()
        .map(|c| {
            json!({
                "key": c.key.code(), "label": c.label, "weight": c.weight,
                "computed": c.computed_text,
                "adjusted": c.adjusted.map(|d| d.normalize().to_string()).unwrap_or_default(),
                "accepted": c.accepted,
                "reason": c.adjustment_reason.clone().unwrap_or_default(),
                "by": c.adjusted_by.clone().unwrap_or_default(),
                "at": c.adjusted_at.map(local).unwrap_or_default(),
                "flag": c.flag.clone().unwrap_or_default(),
                "needs_decision": c.needs_decision,
                "effective": c.adjusted.map_or_else(|| c.computed_text.clone(), |d| d.normalize().to_string()),
            })
        })
        .collect();
    // The trail grouped by component, then the score's own lines.
    let mut groups: Vec<serde_json::Value> = v
        .components
        .iter()
        .map(|c| {
            json!({
                "label": format!("{}（权重 {}%）", c.label, c.weight),
                "steps": v.trail.iter().filter(|s| s.component == Some(c.key)).collect::<Vec<_>>(),
            })
        })
        .collect();
    groups.push(json!({
        "label": "综合得分（R-EVA-1）",
        "steps": v.trail.iter().filter(|s| s.component.is_none()).collect::<Vec<_>>(),
    }));
    let errors = extras.errors.unwrap_or_else(no_errors);
    let resp = render(
        state,
        Some(user),
        "/evaluations",
        "evaluation_detail.html",
        &format!("绩效评估 — {}（{}）", v.institution_name, v.round_label),
        context! {
            e => jv(json!({
                "id": v.id, "agreement_id": v.agreement_id, "round_label": v.round_label,
                "institution_name": v.institution_name, "state": v.state.code(),
                "state_label": v.state_label, "score": score_text(&v), "unrounded": v.unrounded,
                "c": v.on_time_completed, "cap": v.cap, "band": band_text(&v),
                "suspended": v.suspended, "policy_version": v.policy_version,
                "opened": format!("{}，{}", v.opened_by, local(v.opened_at)),
                "computed_at": local(v.computed_at),
                "confirmed": v.confirmed_at.map(|t| format!("{}，{}", v.confirmed_by.clone().unwrap_or_default(), local(t))).unwrap_or_default(),
            })),
            components => jv(components),
            groups => jv(groups),
            undecided => v.components.iter().any(|c| c.needs_decision),
            may_edit => centre && open,
            may_confirm => user.role == Role::CentreAdmin && open,
            form => jv(extras.form.map(|f| json!({
                "component": f.get("component"), "value": f.get("value"), "reason": f.get("reason"),
            })).unwrap_or(json!({ "component": "", "value": "", "reason": "" }))),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )?;
    with_status(Ok(resp), extras.status)
}

async fn detail_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_detail(&state, &user, &ctx, id, flash(&saved), Extras::default()).await
}

/// After a failed action: the page again with the summary, or the error page for others.
async fn again(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    e: crate::error::AppError,
    form: Option<FormData>,
) -> AppResult<Response> {
    let pe = page_err(e, |f| f.to_string())?;
    render_detail(
        state,
        user,
        ctx,
        id,
        Value::from(()),
        Extras {
            errors: Some(pe.errors),
            form,
            status: Some(pe.status),
        },
    )
    .await
}

async fn open_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    match evaluations::open_evaluation(&state.store, &user.actor(&ctx), id, state.clock.now()).await
    {
        Ok(v) => Ok(Redirect::to(&format!("/evaluations/{}?saved=opened", v.id)).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| f.to_string())?;
            let resp = render(
                &state,
                Some(&user),
                "/evaluations",
                "evaluation_refused.html",
                "不能开展绩效评估",
                context! {
                    agreement_id => id,
                    errors => pe.errors.0,
                },
            )?;
            with_status(Ok(resp), Some(pe.status))
        }
    }
}

async fn recompute_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    match evaluations::recompute(&state.store, &user.actor(&ctx), id, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/evaluations/{id}?saved=recomputed")).into_response()),
        Err(e) => again(&state, &user, &ctx, id, e.into(), None).await,
    }
}

async fn adjust_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let parsed = (|| -> AppResult<AdjustmentInput> {
        Ok(AdjustmentInput {
            key: super::component(form.get("component"), "component")?,
            value: super::value(form.get("value"), "value")?,
            reason: form.get("reason").to_string(),
        })
    })();
    let res = match parsed {
        Ok(input) => evaluations::adjust_component(
            &state.store,
            &user.actor(&ctx),
            id,
            &input,
            state.clock.now(),
        )
        .await
        .map(|_| input.value.is_some())
        .map_err(Into::into),
        Err(e) => Err(e),
    };
    match res {
        Ok(true) => Ok(Redirect::to(&format!("/evaluations/{id}?saved=adjusted")).into_response()),
        Ok(false) => Ok(Redirect::to(&format!("/evaluations/{id}?saved=accepted")).into_response()),
        Err(e) => again(&state, &user, &ctx, id, e, Some(form)).await,
    }
}

async fn confirm_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    match evaluations::confirm_evaluation(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/evaluations/{id}?saved=confirmed")).into_response()),
        Err(e) => again(&state, &user, &ctx, id, e.into(), None).await,
    }
}
