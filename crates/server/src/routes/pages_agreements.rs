//! Pages: applications to a round, prior performance, caps with their full trail in Chinese,
//! agreements with overrides and termination (R-CAP-1…8, R-AGR-1), and filings in the quota queue
//! (R-FIL-6): withdraw, resubmit, return, reject, approve. A class is filed only through its
//! filing package (`pages_filing_package.rs`, R-FIL-1…8); the agreement page links there.
//! No JavaScript: an error shows the page again, summary at the top, message beside the field.

use super::Registrar;
use super::pages_rounds::{
    agreement_value, filing_value, flash_of, form_value, name_of, page_err, round_bulletin,
    with_status,
};
use super::rounds_forms::{
    jv, local, local_opt, parse_opt_u32, parse_score, parse_u32, queue_standing, round_summary,
    termination_cause,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export::{self, MAX_EXPORT_ROWS};
use crate::pages::{CsrfForm, FormData, Saved, is_form_error, no_errors, pager, render};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_domain::workflow::agreement::AgreementState;
use peixun_domain::workflow::class::{self as wf_class, ClassActionKind, CorrectionItem};
use peixun_domain::workflow::round::RoundState;
use peixun_store::Actor;
use peixun_store::agreements::{
    self, CapOverrideInput, CapSource, PriorPerformanceInput, SignInput,
};
use peixun_store::institutions;
use peixun_store::rounds::{self, RoundView};
use peixun_store::{filings, package_gate};
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/rounds/{id}/apply", apply_form)
        .post("/rounds/{id}/apply", apply_submit)
        .get("/rounds/{id}/applications", applications_list)
        .get("/rounds/{id}/applications/export.xlsx", applications_export)
        .get("/rounds/{id}/filings", filings_list)
        .get("/rounds/{id}/filings/export.xlsx", filings_export)
        .get("/applications/{id}", application_detail)
        .post("/applications/{id}/sign", application_sign)
        .post("/applications/{id}/performance", application_performance)
        .get("/agreements/{id}", agreement_detail)
        .post("/agreements/{id}/override", agreement_override)
        .post("/agreements/{id}/terminate", agreement_terminate)
        .get("/filings/{id}", filing_detail)
        .post("/filings/{id}/withdraw", filing_withdraw)
        .post("/filings/{id}/resubmit", filing_resubmit)
        .post("/filings/{id}/return", filing_return)
        .post("/filings/{id}/reject", filing_reject)
        .post("/filings/{id}/approve", filing_approve)
        .post("/filings/{id}/supplement", filing_supplement)
}

// ---- applications ---------------------------------------------------------------------------

async fn render_apply_form(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    r: &RoundView,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let own = actor
        .institution_id
        .ok_or_else(|| AppError::Forbidden("no institution".into()))?;
    let inst = institutions::get_institution(&state.store, actor, own).await?;
    let chosen = form.all("occupations");
    let mut occs: Vec<String> = inst
        .qualifications
        .iter()
        .map(|q| q.occupation.clone())
        .collect();
    occs.dedup();
    let occupations: Vec<serde_json::Value> = occs
        .iter()
        .enumerate()
        .map(|(i, o)| json!({ "name": o, "id": format!("occupation_{i}"), "checked": chosen.contains(o) }))
        .collect();
    render(
        state,
        Some(user),
        "/rounds",
        "round_apply.html",
        &format!("申报：{}", r.label),
        context! {
            round => jv(round_summary(r)),
            occupations => jv(occupations),
            form => form_value(form, &["classes_requested", "note"]),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn apply_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    render_apply_form(&state, &user, &actor, &r, &FormData::default(), no_errors()).await
}

async fn apply_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let res = match parse_u32(
        form.get("classes_requested"),
        "classes_requested",
        "申报班次数",
    ) {
        Ok(n) => agreements::apply_to_round(
            &state.store,
            &actor,
            &agreements::ApplicationInput {
                round_id: id,
                occupations: form.all("occupations"),
                classes_requested: n,
                note: form.get("note").to_string(),
            },
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(a) => Ok(Redirect::to(&format!("/applications/{}?saved=applied", a.id)).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| {
                if f.starts_with("occupations") {
                    "occupations".into()
                } else {
                    f.to_string()
                }
            })?;
            with_status(
                render_apply_form(&state, &user, &actor, &r, &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

/// `?page=` of a round's paginated lists (applications, filings).
#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    page: Option<u64>,
}

async fn applications_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let page = super::forms::page_request(q.page, None);
    let p = agreements::list_applications_page(&state.store, &actor, id, &page).await?;
    let ags = agreements::list_agreements(&state.store, &actor, id).await?;
    let items: Vec<serde_json::Value> = p
        .items
        .iter()
        .map(|a| {
            let ag = ags.iter().find(|g| Some(g.id) == a.agreement_id);
            json!({
                "id": a.id,
                "institution_name": a.institution_name,
                "occupations": a.occupations.join("、"),
                "classes_requested": a.classes_requested,
                "created_at": local(a.created_at),
                "agreement_id": a.agreement_id,
                "cap": ag.map(|g| g.cap),
                "agreement_status": ag.map(|g| g.status_label.clone()).unwrap_or_default(),
            })
        })
        .collect();
    render(
        &state,
        Some(&user),
        "/rounds",
        "applications_list.html",
        &format!("{} — 申报与签约", r.label),
        context! {
            round => jv(round_summary(&r)),
            items => jv(items),
            export_href => format!("/rounds/{id}/applications/export.xlsx"),
            export_capped => p.total > MAX_EXPORT_ROWS as u64,
            max_export_rows => MAX_EXPORT_ROWS,
            pager => pager(&format!("/rounds/{id}/applications"), &[], page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn applications_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let apps = agreements::list_applications(&state.store, &actor, id).await?;
    let ags = agreements::list_agreements(&state.store, &actor, id).await?;
    let total = apps.len();
    let mut rows: Vec<Vec<String>> = apps
        .iter()
        .take(MAX_EXPORT_ROWS)
        .map(|a| {
            let ag = ags.iter().find(|g| Some(g.id) == a.agreement_id);
            vec![
                a.id.to_string(),
                a.institution_name.clone(),
                a.occupations.join("、"),
                a.classes_requested.to_string(),
                local(a.created_at),
                ag.map(|g| g.id.to_string()).unwrap_or_default(),
                ag.map(|g| g.cap.to_string()).unwrap_or_default(),
                ag.map(|g| g.decision.computed_cap.to_string())
                    .unwrap_or_default(),
                ag.map(|g| {
                    g.decision
                        .overrides
                        .iter()
                        .map(|o| format!("{}→{}：{}", o.from, o.to, o.reason))
                        .collect::<Vec<_>>()
                        .join("；")
                })
                .unwrap_or_default(),
                ag.map(|g| g.status_label.clone()).unwrap_or_default(),
                ag.map(|g| local(g.signed_at)).unwrap_or_default(),
            ]
        })
        .collect();
    export::note_if_capped(&mut rows, total);
    let bytes = export::workbook(
        "申报与签约",
        &[
            "申报编号",
            "培训机构",
            "拟培训职业（工种）",
            "申报班次数",
            "申报时间",
            "协议编号",
            "签约班次上限",
            "计算值",
            "调整（原值→新值：理由）",
            "协议状态",
            "签约时间",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "applications",
        "round",
        json!({ "round_id": r.id, "rows": total.min(MAX_EXPORT_ROWS) }),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "applications.xlsx",
        &format!("{}申报与签约.xlsx", r.label),
    ))
}

const APP_FIELDS: &[&str] = &[
    "first_cap",
    "override_cap",
    "override_reason",
    "round_label",
    "completed_on_time",
    "score",
    "evidence",
];

async fn render_application(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let app = agreements::get_application(&state.store, actor, id).await?;
    let r = rounds::get_round(&state.store, actor, app.round_id).await?;
    let reads_caps = matches!(
        user.role,
        Role::CentreAdmin | Role::CentreStaff | Role::Bureau | Role::City
    );
    let mut cap = json!(null);
    let mut perf = json!([]);
    if reads_caps {
        let first_cap = form.get("first_cap").trim().parse::<u32>().ok();
        let on = super::policies::today(state);
        cap = match agreements::cap_preview_on(&state.store, actor, id, first_cap, on).await {
            Ok(p) => json!({
                "first": matches!(p.source, CapSource::First),
                "source": match &p.source {
                    CapSource::First => "首次签约：由区培训中心结合培训需求确定上限（R-CAP-2）".to_string(),
                    CapSource::Evaluation { round_label, completed_on_time, score, .. } => format!(
                        "非首次签约：依据上次协议（{round_label}）按时完成{completed_on_time}个班次、其已确认的绩效评估得分{score}（R-CAP-3，系统记录）"
                    ),
                    CapSource::PriorPerformance { record } => format!(
                        "非首次签约（系统中无前次协议，使用手工登记）：依据{}按时完成{}个班次、综合评估得分{}（R-CAP-3）；依据：{}",
                        record.round_label, record.completed_on_time, record.score, record.evidence
                    ),
                },
                "links": match &p.source {
                    CapSource::Evaluation { agreement_id, evaluation_id, .. } => json!([
                        { "href": format!("/agreements/{agreement_id}"), "text": format!("上次协议 #{agreement_id}") },
                        { "href": format!("/evaluations/{evaluation_id}"), "text": format!("绩效评估 #{evaluation_id}") },
                    ]),
                    _ => json!([]),
                },
                "decision": p.decision,
                "problem": "",
            }),
            Err(e) => {
                let e = AppError::from(e);
                if !is_form_error(&e) {
                    return Err(e);
                }
                json!({ "first": false, "source": "", "links": [], "decision": null, "problem": e.body().message })
            }
        };
        perf = serde_json::to_value(
            agreements::list_prior_performance(&state.store, actor, app.institution_id).await?,
        )
        .unwrap_or_default();
        if let Some(rows) = perf.as_array_mut() {
            for p in rows {
                if let Some(at) = p.get("recorded_at").and_then(|v| v.as_str())
                    && let Ok(t) = chrono::DateTime::parse_from_rfc3339(at)
                {
                    p["recorded_at_local"] = local(t.with_timezone(&chrono::Utc)).into();
                }
            }
        }
    }
    let mut app_j = serde_json::to_value(&app).unwrap_or_default();
    app_j["created_at_local"] = local(app.created_at).into();
    app_j["occupations_text"] = app.occupations.join("、").into();
    render(
        state,
        Some(user),
        "/rounds",
        "application_detail.html",
        &format!("{} — {}", app.institution_name, r.label),
        context! {
            app => jv(app_j),
            round => jv(round_summary(&r)),
            reads_caps,
            cap => jv(cap),
            performance => jv(perf),
            can_sign => user.role == Role::CentreAdmin && app.agreement_id.is_none()
                && r.status == RoundState::Published,
            can_record => user.role == Role::CentreAdmin,
            form => form_value(form, APP_FIELDS),
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn application_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    let saved = Saved {
        saved: q.get("saved").cloned(),
    };
    let form = FormData(
        q.get("first_cap")
            .map(|v| vec![("first_cap".to_string(), v.clone())])
            .unwrap_or_default(),
    );
    render_application(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        flash_of(&saved),
        &form,
        no_errors(),
    )
    .await
}

async fn application_sign(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let parsed = (|| -> AppResult<SignInput> {
        let first_cap = parse_opt_u32(form.get("first_cap"), "first_cap", "首次签约班次上限")?;
        let override_cap = parse_opt_u32(form.get("override_cap"), "override_cap", "调整后的上限")?;
        let reason = form.get("override_reason").to_string();
        if override_cap.is_none() && !reason.trim().is_empty() {
            return Err(AppError::validation(
                "REQUIRED",
                "填写了调整理由，请同时填写调整后的上限",
                Some("override_cap"),
            ));
        }
        Ok(SignInput {
            application_id: id,
            first_cap,
            override_cap: override_cap.map(|cap| CapOverrideInput { cap, reason }),
        })
    })();
    let res = match parsed {
        Ok(input) => agreements::sign_agreement(&state.store, &actor, &input, state.clock.now())
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(a) => Ok(Redirect::to(&format!("/agreements/{}?saved=signed", a.id)).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| match f {
                "application_id" | "round_id" | "institution_id" => "sign".into(),
                other => other.to_string(),
            })?;
            with_status(
                render_application(&state, &user, &actor, id, Value::from(()), &form, pe.errors)
                    .await,
                Some(pe.status),
            )
        }
    }
}

async fn application_performance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let app = agreements::get_application(&state.store, &actor, id).await?;
    let parsed = (|| -> AppResult<PriorPerformanceInput> {
        Ok(PriorPerformanceInput {
            institution_id: app.institution_id,
            round_label: form.get("round_label").to_string(),
            completed_on_time: parse_u32(
                form.get("completed_on_time"),
                "completed_on_time",
                "按时完成班次数 C",
            )?,
            score: parse_score(form.get("score"), "score")?,
            evidence: form.get("evidence").to_string(),
        })
    })();
    let res = match parsed {
        Ok(input) => {
            agreements::record_prior_performance(&state.store, &actor, &input, state.clock.now())
                .await
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/applications/{id}?saved=recorded")).into_response()),
        Err(e) => {
            let pe = page_err(e, str::to_string)?;
            with_status(
                render_application(&state, &user, &actor, id, Value::from(()), &form, pe.errors)
                    .await,
                Some(pe.status),
            )
        }
    }
}

// ---- agreements -----------------------------------------------------------------------------

const AGREEMENT_FIELDS: &[&str] = &["cap", "reason", "cause", "termination_reason"];

async fn render_agreement(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let a = agreements::get_agreement(&state.store, actor, id).await?;
    let r = rounds::get_round(&state.store, actor, a.round_id).await?;
    let b = round_bulletin(state, &r).await?;
    let fs: Vec<serde_json::Value> = filings::list_round_filings(&state.store, actor, a.round_id)
        .await?
        .iter()
        .filter(|f| f.agreement_id == a.id)
        .map(|f| filing_value(f, b.as_ref()))
        .collect();
    let signed = a.state == AgreementState::Signed;
    let own = user.role.is_institution() && actor.institution_id == Some(a.institution_id);
    let can_file = own && signed && r.status == RoundState::Published;
    let held = fs.iter().filter(|f| f["slot_state"] == "holding").count();
    render(
        state,
        Some(user),
        "/rounds",
        "agreement_detail.html",
        &format!("委托培训协议：{}（{}）", a.institution_name, r.label),
        context! {
            agreement => jv(agreement_value(&a)),
            round => jv(round_summary(&r)),
            filings => jv(fs),
            held,
            can_override => user.role == Role::CentreAdmin && signed,
            can_terminate => user.role == Role::CentreAdmin && signed,
            can_file,
            causes => jv(json!([
                { "code": "violation", "label": "违法违规（R-VIO-2）" },
                { "code": "overdue_sanction", "label": "超期处理（R-OVD-2）" },
            ])),
            form => form_value(form, AGREEMENT_FIELDS),
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn agreement_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_agreement(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        flash_of(&saved),
        &FormData::default(),
        no_errors(),
    )
    .await
}

async fn agreement_override(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let res = match parse_u32(form.get("cap"), "cap", "调整后的上限") {
        Ok(cap) => agreements::override_cap(
            &state.store,
            &actor,
            id,
            cap,
            form.get("reason"),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/agreements/{id}?saved=1")).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| match f {
                "override_reason" => "reason".into(),
                "override_cap" | "agreement_id" => "cap".into(),
                other => other.to_string(),
            })?;
            with_status(
                render_agreement(&state, &user, &actor, id, Value::from(()), &form, pe.errors)
                    .await,
                Some(pe.status),
            )
        }
    }
}

async fn agreement_terminate(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let res = match termination_cause(form.get("cause")) {
        Ok(cause) => {
            let reason = form.get("termination_reason");
            if reason.trim().is_empty() {
                Err(AppError::validation(
                    "REASON_REQUIRED",
                    "中止协议须填写理由",
                    Some("termination_reason"),
                ))
            } else {
                agreements::terminate_agreement(
                    &state.store,
                    &actor,
                    id,
                    cause,
                    reason,
                    state.clock.now(),
                )
                .await
                .map_err(AppError::from)
            }
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/agreements/{id}?saved=terminated")).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| match f {
                "" | "reason" => "termination_reason".into(),
                other => other.to_string(),
            })?;
            with_status(
                render_agreement(&state, &user, &actor, id, Value::from(()), &form, pe.errors)
                    .await,
                Some(pe.status),
            )
        }
    }
}

// ---- filings --------------------------------------------------------------------------------

async fn render_filing(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let f = filings::get_filing(&state.store, actor, id).await?;
    let r = rounds::get_round(&state.store, actor, f.round_id).await?;
    let b = round_bulletin(state, &r).await?;
    let kinds = wf_class::allowed_actions(&f.state, user.role);
    let own = !user.role.is_institution() || actor.institution_id == Some(f.institution_id);
    let may = |k: ClassActionKind| own && kinds.contains(&k);
    // A filing from the removed minimal path (issue 8): flagged, never approved or resubmitted
    // without a package; once returned, its institution supplements one.
    let has_package = package_gate::has_package(state.store.db(), f.id).await?;
    let returned = matches!(f.state, wf_class::ClassState::Returned { .. });
    let mut fj = filing_value(&f, b.as_ref());
    fj["decision_reason"] = f.decision_reason.clone().unwrap_or_default().into();
    let corrections: Vec<serde_json::Value> = match &f.state {
        wf_class::ClassState::Returned { items, .. } => items
            .iter()
            .map(|i| json!({ "field": i.field, "message": i.message }))
            .collect(),
        _ => Vec::new(),
    };
    render(
        state,
        Some(user),
        "/rounds",
        "filing_detail.html",
        &format!("开班备案 第{}号", f.queue_seq),
        context! {
            filing => jv(fj),
            round => jv(round_summary(&r)),
            corrections => jv(corrections),
            has_package,
            can_supplement => !has_package && returned && user.role.is_institution()
                && actor.institution_id == Some(f.institution_id),
            can_withdraw => may(ClassActionKind::Withdraw),
            can_resubmit => has_package && may(ClassActionKind::Resubmit),
            can_approve => has_package && may(ClassActionKind::Approve),
            can_return => may(ClassActionKind::ReturnForCorrection),
            can_reject => may(ClassActionKind::Reject),
            form => form_value(form, &["reason", "items"]),
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn filing_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_filing(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        flash_of(&saved),
        &FormData::default(),
        no_errors(),
    )
    .await
}

/// One action on a filing from its page; an error shows the page again.
async fn filing_action(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    saved: &str,
    anchor: &'static str,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let now = state.clock.now();
    let res = match saved {
        "withdrawn" => filings::withdraw_filing(&state.store, &actor, id, now).await,
        "resubmitted" => filings::resubmit_filing(&state.store, &actor, id, now).await,
        "approved" => filings::approve_filing(&state.store, &actor, id, now).await,
        "rejected" => {
            filings::reject_filing(&state.store, &actor, id, form.get("reason"), now).await
        }
        _ => {
            let items: Vec<CorrectionItem> = form
                .get("items")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| match l.split_once(['：', ':']) {
                    Some((f, m)) => CorrectionItem {
                        field: f.trim().to_string(),
                        message: m.trim().to_string(),
                    },
                    None => CorrectionItem {
                        field: "备案材料".into(),
                        message: l.to_string(),
                    },
                })
                .collect();
            filings::return_filing(&state.store, &actor, id, items, now).await
        }
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}?saved={saved}")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f.is_empty() {
                    anchor.into()
                } else {
                    f.to_string()
                }
            })?;
            with_status(
                render_filing(&state, &user, &actor, id, Value::from(()), &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn filing_withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    filing_action(state, user, ctx, id, form, "withdrawn", "withdraw").await
}

async fn filing_resubmit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    filing_action(state, user, ctx, id, form, "resubmitted", "resubmit").await
}

/// Attach a filing package to a returned filing that has none (issue 8); its submission is
/// the filing's resubmission with every check.
async fn filing_supplement(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let p =
        package_gate::supplement_package(&state.store, &user.actor(&ctx), id, state.clock.now())
            .await?;
    Ok(Redirect::to(&format!("/packages/{}?saved=created", p.id)).into_response())
}

async fn filing_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    filing_action(state, user, ctx, id, form, "approved", "approve").await
}

async fn filing_reject(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    filing_action(state, user, ctx, id, form, "rejected", "reason").await
}

async fn filing_return(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    filing_action(state, user, ctx, id, form, "returned", "items").await
}

async fn filings_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let b = round_bulletin(&state, &r).await?;
    let page = super::forms::page_request(q.page, None);
    let p = filings::list_round_filings_page(&state.store, &actor, id, &page).await?;
    let items: Vec<serde_json::Value> = p
        .items
        .iter()
        .map(|f| filing_value(f, b.as_ref()))
        .collect();
    render(
        &state,
        Some(&user),
        "/rounds",
        "round_filings.html",
        &format!("{} — 开班备案（按提交先后）", r.label),
        context! {
            round => jv(round_summary(&r)),
            items => jv(items),
            export_href => format!("/rounds/{id}/filings/export.xlsx"),
            export_capped => p.total > MAX_EXPORT_ROWS as u64,
            max_export_rows => MAX_EXPORT_ROWS,
            pager => pager(&format!("/rounds/{id}/filings"), &[], page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn filings_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = rounds::get_round(&state.store, &actor, id).await?;
    let b = round_bulletin(&state, &r).await?;
    let all = filings::list_round_filings(&state.store, &actor, id).await?;
    let total = all.len();
    let mut rows: Vec<Vec<String>> = all
        .iter()
        .take(MAX_EXPORT_ROWS)
        .map(|f| {
            vec![
                f.queue_seq.to_string(),
                f.id.to_string(),
                name_of(b.as_ref(), f),
                format!("{}（{}）", f.occupation, f.level),
                f.start_date.to_string(),
                local(f.submitted_at),
                queue_standing(f, b.as_ref()),
                f.status_label.clone(),
                local_opt(f.granted_at),
                local_opt(f.decided_at),
                f.decision_reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    export::note_if_capped(&mut rows, total);
    let bytes = export::workbook(
        "开班备案",
        &[
            "排队序号",
            "备案编号",
            "培训机构",
            "职业（工种）",
            "开班日期",
            "提交时间",
            "名额",
            "状态",
            "获得名额时间",
            "审核时间",
            "审核意见",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "filings",
        "round",
        json!({ "round_id": r.id, "rows": total.min(MAX_EXPORT_ROWS) }),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "filings.xlsx",
        &format!("{}开班备案.xlsx", r.label),
    ))
}
