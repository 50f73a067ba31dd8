//! Pages: year plans with the bureau's co-approval (R-PLAN-1, R-PLAN-4), rounds with publish,
//! close and rollover (R-PLAN-2, R-PLAN-3), applications, caps with their trail, agreements
//! (R-CAP-*, R-AGR-1) and filings in the quota queue (R-FIL-6). No JavaScript: every action is a
//! form; an error shows the page again with the summary at the top and the message beside the
//! field, values kept.

use super::Registrar;
use super::rounds_forms::jv;
use super::rounds_forms::{
    default_target_rows, local, local_opt, plan_input, queue_standing, round_anchor, round_input,
    round_summary, target_rows,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export;
use crate::pages::{CsrfForm, FormData, Saved, form_errors, is_form_error, no_errors, render};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_domain::workflow::round::{self as wf_round, Half, RoundAction, RoundState};
use peixun_store::Actor;
use peixun_store::agreements::{self, AgreementView};
use peixun_store::bulletin::{self, Bulletin};
use peixun_store::filings::FilingView;
use peixun_store::plans::{self, PlanChangeView, PlanDecision, PlanStatus};
use peixun_store::rounds::{self, RoundView};
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/plans", plans_list)
        .get("/plans/new", plan_new_form)
        .post("/plans/new", plan_create)
        .get("/plans/{id}", plan_detail)
        .get("/plans/{id}/edit", plan_edit_form)
        .post("/plans/{id}/edit", plan_update)
        .post("/plans/{id}/submit", plan_submit)
        .post("/plans/{id}/decide", plan_decide)
        .get("/rounds", rounds_list)
        .get("/rounds/export.xlsx", rounds_export)
        .get("/rounds/new", round_new_form)
        .post("/rounds/new", round_create)
        .get("/rounds/{id}", round_detail)
        .get("/rounds/{id}/edit", round_edit_form)
        .post("/rounds/{id}/edit", round_update)
        .post("/rounds/{id}/publish", round_publish)
        .post("/rounds/{id}/close", round_close)
}

// ---- helpers --------------------------------------------------------------------------------

/// An error the user can fix on the page (422/409) → (errors, field_errors, status); anything
/// else is returned as the error page.
pub(super) struct PageErr {
    pub(super) errors: (Value, Value),
    pub(super) status: axum::http::StatusCode,
}

pub(super) fn page_err(e: AppError, anchor: impl Fn(&str) -> String) -> AppResult<PageErr> {
    if !is_form_error(&e) {
        return Err(e);
    }
    Ok(PageErr {
        errors: form_errors(&e, anchor),
        status: e.status(),
    })
}

pub(super) fn with_status(
    resp: AppResult<Response>,
    status: Option<axum::http::StatusCode>,
) -> AppResult<Response> {
    let mut resp = resp?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// The form's values for these fields (blank when absent), for re-showing a form.
pub(super) fn form_value(f: &FormData, fields: &[&str]) -> Value {
    let map: std::collections::BTreeMap<String, String> = fields
        .iter()
        .map(|k| (k.to_string(), f.get(k).to_string()))
        .collect();
    Value::from(map)
}

fn field_label(field: &str) -> &str {
    match field {
        "total_classes" => "年度培训开班总数",
        "budget" => "预算（元）",
        "note" => "说明",
        "status" => "状态",
        "label" => "批次名称",
        "base_planned" => "计划班次数（基数）",
        "rolled_over" => "上半年结转班次数",
        "rollover_pending" => "待结转班次数",
        "window_start" => "申报开始日期",
        "window_end" => "申报截止日期",
        "target_groups" => "重点对象及完成比例",
        "call_text" => "征集公告正文",
        other => other,
    }
}

fn status_value_label(v: &str) -> String {
    match v {
        "draft" => "草稿".into(),
        "awaiting_bureau" => "待区人社局审核".into(),
        "approved" => "已审核通过".into(),
        "published" => "已发布".into(),
        "closed" => "已结束".into(),
        other => other.to_string(),
    }
}

/// A history value as people read it (target groups as "名称 比例%").
fn change_value(field: &str, v: &Option<String>) -> String {
    let Some(v) = v else { return String::new() };
    match field {
        "status" => status_value_label(v),
        "target_groups" => serde_json::from_str::<Vec<rounds::TargetGroup>>(v)
            .map(|gs| {
                gs.iter()
                    .map(|g| format!("{} {}%", g.name, g.required_share_percent))
                    .collect::<Vec<_>>()
                    .join("；")
            })
            .unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}

fn history_value(items: &[PlanChangeView]) -> Value {
    jv(items
        .iter()
        .map(|c| {
            json!({
                "field": field_label(&c.field),
                "old": change_value(&c.field, &c.old_value),
                "new": change_value(&c.field, &c.new_value),
                "reason": c.reason.clone().unwrap_or_default(),
                "by": c.changed_by,
                "at": local(c.changed_at),
            })
        })
        .collect::<Vec<_>>())
}

pub(super) fn flash_of(saved: &Saved) -> Value {
    match saved.saved.as_deref() {
        Some("published") => Value::from("批次已发布，已在公示中显示。"),
        Some("closed") => Value::from("批次已结束。"),
        Some("submitted") => Value::from("已报送区人社局审核。"),
        Some("decided") => Value::from("审核意见已保存。"),
        Some("applied") => Value::from("申报已提交。"),
        Some("signed") => Value::from("委托培训协议已签订。"),
        Some("recorded") => Value::from("前次签约完成情况已登记。"),
        Some("filed") => Value::from("开班备案已提交。"),
        Some("withdrawn") => Value::from("开班备案已撤回。"),
        Some("terminated") => Value::from("协议已中止。"),
        _ => saved.flash(),
    }
}

/// The round's bulletin (public facts, for names and waiting positions); drafts have none.
pub(super) async fn round_bulletin(state: &AppState, r: &RoundView) -> AppResult<Option<Bulletin>> {
    if r.status.is_public() {
        Ok(Some(bulletin::bulletin(&state.store, r.id).await?))
    } else {
        Ok(None)
    }
}

pub(super) fn name_of(b: Option<&Bulletin>, f: &FilingView) -> String {
    b.and_then(|b| b.entries.iter().find(|e| e.queue_seq == f.queue_seq))
        .map(|e| e.institution_name.clone())
        .unwrap_or_default()
}

pub(super) fn filing_value(f: &FilingView, b: Option<&Bulletin>) -> serde_json::Value {
    let mut j = serde_json::to_value(f).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("standing".into(), queue_standing(f, b).into());
        o.insert("institution_name".into(), name_of(b, f).into());
        o.insert("submitted_at_local".into(), local(f.submitted_at).into());
        o.insert("granted_at_local".into(), local_opt(f.granted_at).into());
        o.insert("decided_at_local".into(), local_opt(f.decided_at).into());
    }
    j
}

pub(super) fn agreement_value(a: &AgreementView) -> serde_json::Value {
    let mut j = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("signed_at_local".into(), local(a.signed_at).into());
        o.insert(
            "terminated_at_local".into(),
            local_opt(a.terminated_at).into(),
        );
    }
    j
}

// ---- plans ----------------------------------------------------------------------------------

fn plan_value(p: &plans::PlanView) -> serde_json::Value {
    let mut j = serde_json::to_value(p).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("budget".into(), p.budget.to_string().into());
        o.insert(
            "submitted_at_local".into(),
            local_opt(p.submitted_at).into(),
        );
        o.insert("decided_at_local".into(), local_opt(p.decided_at).into());
        o.insert("status_code".into(), p.status.code().into());
    }
    j
}

async fn plans_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let items = plans::list_plans(&state.store, &user.actor(&ctx)).await?;
    render(
        &state,
        Some(&user),
        "/plans",
        "plans_list.html",
        "年度培训任务计划",
        context! {
            items => jv(items.iter().map(plan_value).collect::<Vec<_>>()),
            can_create => user.role == Role::CentreAdmin,
        },
    )
}

#[allow(clippy::too_many_arguments)]
fn render_plan_form(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    action: &str,
    cancel_href: &str,
    form: Value,
    need_reason: bool,
    errors: (Value, Value),
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/plans",
        "plan_form.html",
        title,
        context! {
            action, cancel_href, form, need_reason,
            year_fixed => action != "/plans/new",
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

const PLAN_FIELDS: &[&str] = &["year", "total_classes", "budget", "note", "reason"];

async fn plan_new_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let year = state
        .clock
        .now()
        .with_timezone(&peixun_domain::rules::shanghai());
    let form = form_value(
        &FormData(vec![(
            "year".into(),
            chrono::Datelike::year(&year).to_string(),
        )]),
        PLAN_FIELDS,
    );
    render_plan_form(
        &state,
        &user,
        "新建年度培训任务计划",
        "/plans/new",
        "/plans",
        form,
        false,
        no_errors(),
    )
}

async fn plan_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let res = match plan_input(&form) {
        Ok(input) => plans::create_plan(&state.store, &user.actor(&ctx), &input, state.clock.now())
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(p) => Ok(Redirect::to(&format!("/plans/{}?saved=created", p.id)).into_response()),
        Err(e) => {
            let pe = page_err(e, str::to_string)?;
            with_status(
                render_plan_form(
                    &state,
                    &user,
                    "新建年度培训任务计划",
                    "/plans/new",
                    "/plans",
                    form_value(&form, PLAN_FIELDS),
                    false,
                    pe.errors,
                ),
                Some(pe.status),
            )
        }
    }
}

async fn render_plan_detail(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    flash: Value,
    form: Value,
    errors: (Value, Value),
) -> AppResult<Response> {
    let p = plans::get_plan(&state.store, actor, id).await?;
    let history = plans::plan_history(&state.store, actor, id).await?;
    render(
        state,
        Some(user),
        "/plans",
        "plan_detail.html",
        &format!("{}年度培训任务计划", p.year),
        context! {
            plan => jv(plan_value(&p)),
            history => history_value(&history),
            can_edit => user.role == Role::CentreAdmin,
            can_submit => user.role == Role::CentreAdmin && p.status == PlanStatus::Draft,
            can_decide => user.role == Role::Bureau && p.status == PlanStatus::AwaitingBureau,
            flash, form,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn plan_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_plan_detail(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        flash_of(&saved),
        form_value(&FormData::default(), &["comment", "decision"]),
        no_errors(),
    )
    .await
}

async fn plan_edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let p = plans::get_plan(&state.store, &user.actor(&ctx), id).await?;
    let form = form_value(
        &FormData(vec![
            ("year".into(), p.year.to_string()),
            ("total_classes".into(), p.total_classes.to_string()),
            ("budget".into(), p.budget.to_string()),
            ("note".into(), p.note.clone()),
        ]),
        PLAN_FIELDS,
    );
    render_plan_form(
        &state,
        &user,
        &format!("调整{}年度计划", p.year),
        &format!("/plans/{id}/edit"),
        &format!("/plans/{id}"),
        form,
        p.status != PlanStatus::Draft,
        no_errors(),
    )
}

async fn plan_update(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let p = plans::get_plan(&state.store, &actor, id).await?;
    let reason = form.get("reason");
    let res = match plan_input(&form) {
        Ok(input) => plans::update_plan(
            &state.store,
            &actor,
            id,
            &input,
            Some(reason),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?saved=1")).into_response()),
        Err(e) => {
            let pe = page_err(e, str::to_string)?;
            with_status(
                render_plan_form(
                    &state,
                    &user,
                    &format!("调整{}年度计划", p.year),
                    &format!("/plans/{id}/edit"),
                    &format!("/plans/{id}"),
                    form_value(&form, PLAN_FIELDS),
                    p.status != PlanStatus::Draft,
                    pe.errors,
                ),
                Some(pe.status),
            )
        }
    }
}

async fn plan_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    match plans::submit_plan(&state.store, &actor, id, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?saved=submitted")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |_| "main".into())?;
            with_status(
                render_plan_detail(
                    &state,
                    &user,
                    &actor,
                    id,
                    Value::from(()),
                    form_value(&FormData::default(), &["comment", "decision"]),
                    pe.errors,
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn plan_decide(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let decision = match form.get("decision") {
        "approve" => Ok(PlanDecision::Approve),
        "return" => Ok(PlanDecision::Return),
        _ => Err(AppError::validation(
            "REQUIRED",
            "请选择审核通过或退回",
            Some("decision"),
        )),
    };
    let res = match decision {
        Ok(d) => plans::decide_plan(
            &state.store,
            &actor,
            id,
            d,
            form.get("comment"),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?saved=decided")).into_response()),
        Err(e) => {
            let pe = page_err(e, str::to_string)?;
            with_status(
                render_plan_detail(
                    &state,
                    &user,
                    &actor,
                    id,
                    Value::from(()),
                    form_value(&form, &["comment", "decision"]),
                    pe.errors,
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

// ---- rounds ---------------------------------------------------------------------------------

async fn rounds_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let items = rounds::list_rounds(&state.store, &user.actor(&ctx)).await?;
    render(
        &state,
        Some(&user),
        "/rounds",
        "rounds_list.html",
        "培训批次（征集公告）",
        context! {
            items => jv(items.iter().map(round_summary).collect::<Vec<_>>()),
            can_create => user.role == Role::CentreAdmin,
        },
    )
}

async fn rounds_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let items = rounds::list_rounds(&state.store, &user.actor(&ctx)).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.year.to_string(),
                r.label.clone(),
                r.base_planned.to_string(),
                r.rolled_over.to_string(),
                r.planned_total.to_string(),
                format!("{} 至 {}", r.window_start, r.window_end),
                r.target_groups
                    .iter()
                    .map(|g| format!("{} {}%", g.name, g.required_share_percent))
                    .collect::<Vec<_>>()
                    .join("；"),
                r.status_label.clone(),
                local_opt(r.published_at),
                local_opt(r.closed_at),
            ]
        })
        .collect();
    let bytes = export::workbook(
        "培训批次",
        &[
            "编号",
            "年度",
            "批次",
            "计划班次数（基数）",
            "上半年结转",
            "计划班次数（合计）",
            "申报时间",
            "重点对象及完成比例",
            "状态",
            "发布时间",
            "结束时间",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "rounds",
        "round",
        json!({ "rows": rows.len() }),
    )
    .await?;
    Ok(export::xlsx_response(bytes, "rounds.xlsx", "培训批次.xlsx"))
}

const ROUND_FIELDS: &[&str] = &[
    "year",
    "half",
    "label",
    "base_planned",
    "window_start",
    "window_end",
    "call_text",
    "reason",
];

fn halves() -> Value {
    jv(json!([
        { "code": "h1", "label": "上半年" },
        { "code": "h2", "label": "下半年" },
        { "code": "other", "label": "其他批次（自定名称，不结转）" },
    ]))
}

fn rows_value(rows: Vec<(String, String)>) -> Value {
    jv(rows
        .into_iter()
        .map(|(name, share)| json!({ "name": name, "share": share }))
        .collect::<Vec<_>>())
}

/// The target-group rows exactly as submitted (blank ones too, up to the count shown).
fn submitted_rows(f: &FormData) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for i in 0..50 {
        let n = format!("tg_name_{i}");
        let s = format!("tg_share_{i}");
        if !f.0.iter().any(|(k, _)| *k == n || *k == s) {
            continue;
        }
        rows.push((f.get(&n).to_string(), f.get(&s).to_string()));
    }
    target_rows(&rows)
}

#[allow(clippy::too_many_arguments)]
fn render_round_form(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    action: &str,
    cancel_href: &str,
    form: Value,
    rows: Vec<(String, String)>,
    is_edit: bool,
    need_reason: bool,
    errors: (Value, Value),
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/rounds",
        "round_form.html",
        title,
        context! {
            action, cancel_href, form, is_edit, need_reason,
            target_rows => rows_value(rows),
            halves => halves(),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn round_new_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let now = state
        .clock
        .now()
        .with_timezone(&peixun_domain::rules::shanghai());
    let form = form_value(
        &FormData(vec![
            ("year".into(), chrono::Datelike::year(&now).to_string()),
            ("half".into(), "h1".into()),
        ]),
        ROUND_FIELDS,
    );
    render_round_form(
        &state,
        &user,
        "新建培训批次（征集公告）",
        "/rounds/new",
        "/rounds",
        form,
        default_target_rows(),
        false,
        false,
        no_errors(),
    )
}

async fn round_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let (res, row_of) = match round_input(&form) {
        Ok((input, row_of)) => (
            rounds::create_round(&state.store, &user.actor(&ctx), &input, state.clock.now())
                .await
                .map_err(AppError::from),
            row_of,
        ),
        Err(e) => (Err(e), Vec::new()),
    };
    match res {
        Ok(r) => Ok(Redirect::to(&format!("/rounds/{}?saved=created", r.id)).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| round_anchor(f, &row_of))?;
            with_status(
                render_round_form(
                    &state,
                    &user,
                    "新建培训批次（征集公告）",
                    "/rounds/new",
                    "/rounds",
                    form_value(&form, ROUND_FIELDS),
                    submitted_rows(&form),
                    false,
                    false,
                    pe.errors,
                ),
                Some(pe.status),
            )
        }
    }
}

async fn round_edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let r = rounds::get_round(&state.store, &user.actor(&ctx), id).await?;
    if r.status == RoundState::Closed {
        return Err(AppError::validation(
            "ROUND_CLOSED",
            "批次已结束，不能调整",
            None,
        ));
    }
    let form = form_value(
        &FormData(vec![
            ("year".into(), r.year.to_string()),
            (
                "half".into(),
                super::rounds_forms::half_code(r.half).to_string(),
            ),
            ("label".into(), r.label.clone()),
            ("base_planned".into(), r.base_planned.to_string()),
            ("window_start".into(), r.window_start.to_string()),
            ("window_end".into(), r.window_end.to_string()),
            ("call_text".into(), r.call_text.clone()),
        ]),
        ROUND_FIELDS,
    );
    let rows = target_rows(
        &r.target_groups
            .iter()
            .map(|g| (g.name.clone(), g.required_share_percent.to_string()))
            .collect::<Vec<_>>(),
    );
    render_round_form(
        &state,
        &user,
        &format!("调整批次：{}", r.label),
        &format!("/rounds/{id}/edit"),
        &format!("/rounds/{id}"),
        form,
        rows,
        true,
        r.status == RoundState::Published,
        no_errors(),
    )
}

async fn round_update(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let (res, row_of) = match round_input(&form) {
        Ok((input, row_of)) => (
            rounds::update_round(
                &state.store,
                &actor,
                id,
                &input,
                Some(form.get("reason")),
                state.clock.now(),
            )
            .await
            .map_err(AppError::from),
            row_of,
        ),
        Err(e) => (Err(e), Vec::new()),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/rounds/{id}?saved=1")).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| round_anchor(f, &row_of))?;
            with_status(
                render_round_form(
                    &state,
                    &user,
                    &format!("调整批次：{}", r.label),
                    &format!("/rounds/{id}/edit"),
                    &format!("/rounds/{id}"),
                    form_value(&form, ROUND_FIELDS),
                    submitted_rows(&form),
                    true,
                    r.status == RoundState::Published,
                    pe.errors,
                ),
                Some(pe.status),
            )
        }
    }
}

async fn render_round_detail(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    flash: Value,
    errors: (Value, Value),
) -> AppResult<Response> {
    let r = rounds::get_round(&state.store, actor, id).await?;
    let history = plans::round_history(&state.store, actor, id).await?;
    let actions = wf_round::allowed_actions(r.status, user.role);
    // R-PLAN-3: where the rollover went (the H2 round of the same year) and what was not granted.
    let all = rounds::list_rounds(&state.store, actor).await?;
    let next = if r.half == Half::H1 {
        all.iter()
            .find(|x| x.year == r.year && x.half == Half::H2)
            .map(|x| json!({ "id": x.id, "label": x.label }))
    } else {
        None
    };
    let prev = if r.half == Half::H2 && r.rolled_over > 0 {
        all.iter()
            .find(|x| x.year == r.year && x.half == Half::H1)
            .map(|x| json!({ "id": x.id, "label": x.label }))
    } else {
        None
    };
    let b = round_bulletin(state, &r).await?;
    let not_granted = b
        .as_ref()
        .map(|b| {
            b.entries
                .iter()
                .filter(|e| e.status_label == "未获名额")
                .count()
        })
        .unwrap_or(0);
    let (granted, remaining, waiting) = b
        .as_ref()
        .map(|b| (b.granted, b.remaining, b.waiting))
        .unwrap_or((0, r.planned_total, 0));
    let closed_unconsumed = match (r.half, r.consumed_at_close) {
        (Half::H1, Some(c)) => r.planned_total.saturating_sub(c),
        _ => 0,
    };
    // The institution's own application and agreement in this round.
    let (mine, can_apply) = if user.role.is_institution() {
        let apps = agreements::list_applications(&state.store, actor, id).await?;
        let today = state
            .clock
            .now()
            .with_timezone(&peixun_domain::rules::shanghai())
            .date_naive();
        let open =
            r.status == RoundState::Published && r.window_start <= today && today <= r.window_end;
        let mine = apps
            .first()
            .map(|a| json!({ "application_id": a.id, "agreement_id": a.agreement_id }));
        (mine, open && apps.is_empty())
    } else {
        (None, false)
    };
    render(
        state,
        Some(user),
        "/rounds",
        "round_detail.html",
        &r.label,
        context! {
            round => jv(round_summary(&r)),
            history => history_value(&history),
            can_edit => user.role == Role::CentreAdmin && r.status != RoundState::Closed,
            can_publish => actions.contains(&RoundAction::Publish),
            can_close => actions.contains(&RoundAction::Close),
            quota => jv(json!({ "granted": granted, "remaining": remaining, "waiting": waiting })),
            outcome => jv(json!({
                "not_granted": not_granted,
                "unconsumed": closed_unconsumed,
                "pending": r.rollover_pending,
                "next": next,
            })),
            prev => jv(prev),
            mine => jv(mine),
            can_apply,
            is_institution => user.role.is_institution(),
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn round_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_round_detail(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        flash_of(&saved),
        no_errors(),
    )
    .await
}

async fn round_publish(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_f): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    match rounds::publish_round(&state.store, &actor, id, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/rounds/{id}?saved=published")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |_| "main".into())?;
            with_status(
                render_round_detail(&state, &user, &actor, id, Value::from(()), pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn round_close(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let res = if form.checked("confirm") {
        rounds::close_round(&state.store, &actor, id, state.clock.now())
            .await
            .map_err(AppError::from)
    } else {
        Err(AppError::validation(
            "CONFIRM_REQUIRED",
            "请勾选确认后再结束批次",
            Some("confirm"),
        ))
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/rounds/{id}?saved=closed")).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| {
                if f == "confirm" {
                    f.into()
                } else {
                    "main".into()
                }
            })?;
            with_status(
                render_round_detail(&state, &user, &actor, id, Value::from(()), pe.errors).await,
                Some(pe.status),
            )
        }
    }
}
