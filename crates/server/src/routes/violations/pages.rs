//! Pages: the violations list (filter by state and institution) and its .xlsx export, the form
//! to record one (institution first, then its classes as checkboxes, evidence uploads), and a
//! violation's page: details, evidence links and — for a centre_admin other than the recorder —
//! the confirmation page listing exactly what confirming does (R-VIO-2), with 确认违规 and
//! 不予认定 each behind an explicit confirmation checkbox. No JavaScript.

use super::super::Registrar;
use super::super::pages_filing_package::{
    MultipartResult, jv, page_err, read_multipart, with_status,
};
use super::api::{parse_kind, parse_state, require_ack};
use super::{local, violation_value};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::export;
use crate::pages::{CsrfForm, FormData, no_errors, pager, render};
use crate::routes::forms::page_request;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::workflow::violation::ViolationKind;
use peixun_store::institutions::{self, InstitutionFilter};
use peixun_store::violations::{self, EvidenceUpload, RecordInput, ViolationFilter, ViolationView};
use peixun_store::{Actor, PageRequest, filings, violations_confirm};
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/violations", list_page)
        .get("/violations/export.xlsx", export_xlsx)
        .get("/violations/new", new_page)
        .add(
            "POST",
            "/violations",
            crate::routes::api_filing_package::upload(record),
        )
        .get("/violations/{id}", detail)
        .post("/violations/{id}/confirm", confirm)
        .post("/violations/{id}/dismiss", dismiss)
        .get("/violations/{id}/evidence/{file_id}", evidence_download)
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub state: Option<String>,
    pub institution_id: Option<String>,
    pub page: Option<u64>,
    pub saved: Option<String>,
}

fn kinds() -> serde_json::Value {
    json!(
        ViolationKind::ALL
            .iter()
            .map(|k| json!({"code": k.code(), "label": k.label_zh()}))
            .collect::<Vec<_>>()
    )
}

fn states() -> serde_json::Value {
    json!([
        {"code": "recorded", "label": "已登记（待确认）"},
        {"code": "confirmed", "label": "已确认"},
        {"code": "dismissed", "label": "不予认定"},
    ])
}

fn flash(saved: Option<&str>) -> Value {
    match saved {
        Some("recorded") => {
            Value::from("违法违规行为已登记，须由另一名区培训中心负责人确认或不予认定。")
        }
        Some("confirmed") => Value::from(
            "已确认违法违规行为：协议已中止，未开班备案已取消，名额已顺延，所涉班次证书编码已处理。",
        ),
        Some("dismissed") => Value::from("已决定不予认定。"),
        _ => Value::from(()),
    }
}

fn parse_id(s: Option<&str>) -> Option<i64> {
    s.and_then(|s| s.trim().parse().ok())
}

async fn institution_options(state: &AppState, actor: &Actor) -> AppResult<serde_json::Value> {
    let p = institutions::list_institutions(
        &state.store,
        actor,
        &InstitutionFilter::default(),
        &PageRequest::first(PageRequest::MAX_PER_PAGE),
    )
    .await?;
    Ok(json!(
        p.items
            .iter()
            .map(|i| json!({"id": i.id, "name": i.name}))
            .collect::<Vec<_>>()
    ))
}

async fn list_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let st = parse_state(q.state.as_deref())?;
    let inst = parse_id(q.institution_id.as_deref());
    let page = page_request(q.page, None);
    let p = violations::list_violations(
        &state.store,
        &actor,
        &ViolationFilter {
            state: st,
            institution_id: inst,
        },
        &page,
    )
    .await?;
    let items: Vec<_> = p.items.iter().map(violation_value).collect();
    let params = [
        ("state", q.state.clone().unwrap_or_default()),
        (
            "institution_id",
            inst.map(|i| i.to_string()).unwrap_or_default(),
        ),
    ];
    let is_centre = user.role.is_centre();
    let options = if user.role.is_institution() {
        json!([])
    } else {
        institution_options(&state, &actor).await?
    };
    render(
        &state,
        Some(&user),
        "/violations",
        "violations_list.html",
        "违法违规行为",
        context! {
            items => jv(items),
            states => jv(states()),
            institutions => jv(options),
            filter => jv(json!({"state": q.state.clone().unwrap_or_default(), "institution_id": inst})),
            can_record => is_centre,
            show_filters => !user.role.is_institution(),
            flash => flash(q.saved.as_deref()),
            pager => pager("/violations", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn export_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let p = violations::list_violations(
        &state.store,
        &user.actor(&ctx),
        &ViolationFilter::default(),
        &PageRequest::first(PageRequest::MAX_PER_PAGE),
    )
    .await?;
    let rows: Vec<Vec<String>> = p
        .items
        .iter()
        .map(|v| {
            let e = v.effects.clone().unwrap_or_default();
            vec![
                v.id.to_string(),
                v.institution_name.clone(),
                v.kind_label.clone(),
                v.facts.clone(),
                if v.no_classes {
                    "不涉及培训班次".to_string()
                } else {
                    v.classes
                        .iter()
                        .map(|c| format!("#{}", c.filing_id))
                        .collect::<Vec<_>>()
                        .join("、")
                },
                v.state_label.clone(),
                format!("{}（{}）", v.recorded_by, local(v.recorded_at)),
                match (&v.decided_by, v.decided_at) {
                    (Some(b), Some(t)) => format!("{b}（{}）", local(t)),
                    _ => String::new(),
                },
                v.decision_reason.clone().unwrap_or_default(),
                e.termination.agreements_terminated.len().to_string(),
                e.termination.filings_cancelled.len().to_string(),
                e.codes_revoked
                    .iter()
                    .map(|c| c.count)
                    .sum::<usize>()
                    .to_string(),
            ]
        })
        .collect();
    let n = rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        export::workbook(
            "违法违规行为",
            &[
                "编号",
                "培训机构",
                "类别",
                "事实",
                "所涉班次",
                "状态",
                "登记",
                "确认/不予认定",
                "不予认定理由",
                "中止协议数",
                "取消备案数",
                "撤销证书编码数",
            ],
            &rows,
        )
    })
    .await
    .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("export: {e}")))??;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "violations",
        "violation",
        json!({"rows": n}),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "violations.xlsx",
        "违法违规行为.xlsx",
    ))
}

const FIELDS: &[&str] = &["institution_id", "kind", "facts", "no_classes"];

#[allow(clippy::too_many_arguments)]
async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    institution_id: Option<i64>,
    form: &FormData,
    checked: &[i64],
    errors: (Value, Value),
) -> AppResult<Response> {
    let classes = match institution_id {
        Some(i) => violations::classes_of(&state.store, actor, i)
            .await?
            .into_iter()
            .map(|c| {
                json!({
                    "filing_id": c.filing_id,
                    "label": format!("#{} {}{}（开班{}，{}）", c.filing_id, c.occupation, c.level, c.start_date, c.status),
                    "checked": checked.contains(&c.filing_id),
                })
            })
            .collect::<Vec<_>>(),
        None => Vec::new(),
    };
    let map: std::collections::BTreeMap<String, String> = FIELDS
        .iter()
        .map(|k| (k.to_string(), form.get(k).to_string()))
        .collect();
    render(
        state,
        Some(user),
        "/violations",
        "violation_new.html",
        "登记违法违规行为",
        context! {
            institutions => jv(institution_options(state, actor).await?),
            institution_id => institution_id,
            classes => jv(classes),
            kinds => jv(kinds()),
            form => Value::from(map),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    pub institution_id: Option<String>,
}

async fn new_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let inst = parse_id(q.institution_id.as_deref());
    let mut form = FormData::default();
    if let Some(i) = inst {
        form.0.push(("institution_id".into(), i.to_string()));
    }
    render_new(&state, &user, &actor, inst, &form, &[], no_errors()).await
}

/// R-VIO-1: record (multipart: the fields, `class_ids` checkboxes, `evidence` files).
async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    mp: MultipartResult,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let (form, files) = read_multipart(&user, mp).await?;
    let inst = parse_id(Some(form.get("institution_id")));
    let class_ids: Vec<i64> = form
        .0
        .iter()
        .filter(|(k, _)| k == "class_ids")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    let evidence: Vec<EvidenceUpload> = files
        .into_iter()
        .filter(|f| f.0 == "evidence" && !f.2.is_empty())
        .map(|(_, name, bytes)| EvidenceUpload { name, bytes })
        .collect();
    let res = async {
        let kind = parse_kind(form.get("kind"))?;
        let institution_id = inst.ok_or_else(|| {
            crate::error::AppError::validation(
                "VIO_INSTITUTION",
                "请选择培训机构",
                Some("institution_id"),
            )
        })?;
        violations::record_violation(
            &state.store,
            &state.files,
            &actor,
            &RecordInput {
                institution_id,
                kind,
                facts: form.get("facts").to_string(),
                class_ids: class_ids.clone(),
                no_classes: !form.get("no_classes").is_empty(),
            },
            &evidence,
            state.clock.now(),
        )
        .await
        .map_err(crate::error::AppError::from)
    }
    .await;
    match res {
        Ok(v) => Ok(Redirect::to(&format!("/violations/{}?saved=recorded", v.id)).into_response()),
        Err(e) => {
            let pe = page_err(e, |f| {
                if f.starts_with("evidence") {
                    "evidence".into()
                } else {
                    f.to_string()
                }
            })?;
            with_status(
                render_new(&state, &user, &actor, inst, &form, &class_ids, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn filing_labels(state: &AppState, actor: &Actor, ids: &[i64]) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for id in ids {
        let label = match filings::get_filing(&state.store, actor, *id).await {
            Ok(f) => format!(
                "{}{}，开班{}（{}）",
                f.occupation, f.level, f.start_date, f.status_label
            ),
            Err(_) => String::new(),
        };
        out.push(json!({"id": id, "label": label}));
    }
    out
}

async fn render_detail(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    v: &ViolationView,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let may_decide = violations_confirm::may_decide(actor, v);
    let recorded = v.state == peixun_domain::workflow::violation::ViolationState::Recorded;
    // What confirming does (for the centre while it is undecided) or did.
    let effects = if recorded && user.role.is_centre() {
        Some(
            violations::violation_effects_preview(&state.store, actor, v.id, state.clock.now())
                .await?,
        )
    } else {
        v.effects.clone()
    };
    let effects_value = match &effects {
        Some(e) => json!({
            "agreements": e.termination.agreements_terminated,
            "cancelled": filing_labels(state, actor, &e.termination.filings_cancelled).await,
            "flagged": filing_labels(state, actor, &e.termination.classes_flagged).await,
            "promoted": filing_labels(state, actor, &e.termination.promoted).await,
            "no_codes": e.classes_without_codes,
            "codes": e.codes_revoked.iter().map(|c| json!({"filing_id": c.filing_id, "count": c.count})).collect::<Vec<_>>(),
            "codes_total": e.codes_revoked.iter().map(|c| c.count).sum::<usize>(),
        }),
        None => json!(null),
    };
    let self_recorded = recorded
        && user.role.is_centre()
        && actor.user_id.is_some()
        && actor.user_id == v.recorded_by_user_id;
    let map: std::collections::BTreeMap<String, String> = ["reason", "acknowledge"]
        .iter()
        .map(|k| (k.to_string(), form.get(k).to_string()))
        .collect();
    render(
        state,
        Some(user),
        "/violations",
        "violation_detail.html",
        &format!("违法违规记录#{}", v.id),
        context! {
            v => jv(violation_value(v)),
            effects => jv(effects_value),
            preview => recorded,
            may_decide,
            self_recorded,
            is_centre => user.role.is_centre(),
            form => Value::from(map),
            errors => errors.0,
            field_errors => errors.1,
            flash,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    pub saved: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SavedQuery>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let v = violations::get_violation(&state.store, &actor, id).await?;
    render_detail(
        &state,
        &user,
        &actor,
        &v,
        flash(q.saved.as_deref()),
        &FormData::default(),
        no_errors(),
    )
    .await
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    confirm: bool,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let v = violations::get_violation(&state.store, &actor, id).await?;
    let res = async {
        require_ack(!form.get("acknowledge").is_empty())?;
        let now = state.clock.now();
        if confirm {
            violations::confirm_violation(&state.store, &actor, id, now).await?;
        } else {
            violations::dismiss_violation(&state.store, &actor, id, form.get("reason"), now)
                .await?;
        }
        Ok::<_, crate::error::AppError>(())
    }
    .await;
    match res {
        Ok(()) => Ok(Redirect::to(&format!(
            "/violations/{id}?saved={}",
            if confirm { "confirmed" } else { "dismissed" }
        ))
        .into_response()),
        Err(e) => {
            let pe = page_err(e, |f| match f {
                "" | "id" => "decision".into(),
                other => other.to_string(),
            })?;
            with_status(
                render_detail(&state, &user, &actor, &v, Value::from(()), &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    decide(state, user, ctx, id, form, true).await
}

async fn dismiss(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    decide(state, user, ctx, id, form, false).await
}

/// An evidence file as a download (S16: attachment, nosniff, sandbox CSP); 404 for anyone who
/// may not read it (institutions never read evidence, S6).
async fn evidence_download(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, file_id)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let rec = violations::evidence_file(&state.store, &actor, id, &file_id).await?;
    let bytes = state.files.open(&rec.id).await?;
    peixun_store::filing_package::record_download(&state.store, &actor, &rec, state.clock.now())
        .await?;
    Ok(crate::routes::api_filing_package::file_response(
        bytes, &rec,
    ))
}
