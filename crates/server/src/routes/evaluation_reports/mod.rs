//! The round's evaluation report (评估报告, R-EVA-2): the document the centre prints, stamps and
//! sends to the bureau (.docx), the same data as .xlsx, and a chart page (server-rendered SVG,
//! no JavaScript) with a table of the same numbers. The renderers are pure functions over
//! [`data::ReportData`]; the handlers here only load it, render (documents in
//! `spawn_blocking`), audit the download and answer.
//!
//! Who: the centre, the bureau and the city. An institution gets 404 (the round's report is not
//! its record; its own evaluation is on its agreement).

pub mod chart;
pub mod data;
pub mod docx;
pub mod xlsx;

use super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, AppError, AppResult, ErrorBody};
use crate::export;
use crate::pages::render;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use data::{COMPONENT_NAMES, Component, NextCap, ReportData, ReportRow, RowState, num};
use minijinja::value::{Serde, Value};
use peixun_domain::cap::Score;
use peixun_domain::evaluation::ComponentKey;
use peixun_domain::policy::Policy;
use peixun_store::evaluations::{self, EvaluationState, EvaluationView};
use peixun_store::rounds;
use rust_decimal::Decimal;
use serde_json::json;

pub const DOCX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn register(r: Registrar) -> Registrar {
    r.get("/rounds/{id}/evaluations/chart", chart_page)
        .get("/rounds/{id}/evaluations/report.docx", page_docx)
        .get("/rounds/{id}/evaluations/report.xlsx", page_xlsx)
        .get("/api/v1/rounds/{id}/evaluations/report.docx", api_docx)
        .get("/api/v1/rounds/{id}/evaluations/report.xlsx", api_xlsx)
}

/// The round's evaluations as report rows, by institution name (R-EVA-2).
async fn report_rows(
    state: &AppState,
    actor: &peixun_store::Actor,
    round_id: i64,
    policy: &Policy,
) -> AppResult<Vec<ReportRow>> {
    let views = evaluations::round_evaluations(&state.store, actor, round_id).await?;
    Ok(views.iter().map(|v| row_of(v, policy)).collect())
}

/// One evaluation as a report row. A confirmed one carries its fixed score and the band's effect
/// as recorded with it (its own policy version); an open one only its state.
pub fn row_of(v: &EvaluationView, policy: &Policy) -> ReportRow {
    let component = |key: ComponentKey| {
        v.components
            .iter()
            .find(|c| c.key == key)
            .map(|c| Component {
                computed: c.computed,
                adjusted: c.adjusted,
                reason: c.adjustment_reason.clone(),
            })
            .unwrap_or_else(|| Component::computed(Decimal::ZERO))
    };
    let components: [Component; 4] = ComponentKey::ALL.map(component);
    let score = match v.state {
        EvaluationState::Confirmed => Score::try_from(v.score).ok(),
        EvaluationState::Open => None,
    };
    let mut row = match score {
        Some(score) => {
            let mut r = ReportRow::confirmed(
                &v.institution_name,
                components,
                score,
                v.on_time_completed,
                policy,
            );
            r.next_cap = Some(match (v.suspended, v.next_cap_factor) {
                (true, _) => NextCap::Suspended,
                (false, Some(f)) => NextCap::Factor(f),
                (false, None) => NextCap::for_score(policy, score),
            });
            r.policy_version = Some(v.policy_version.clone());
            r
        }
        None => ReportRow::open(&v.institution_name, Some(components)),
    };
    row.agreement_id = v.agreement_id;
    row
}

/// Loads the report of round `id` for `user` (404 for an institution or an unknown round).
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
) -> AppResult<ReportData> {
    if user.role.is_institution() {
        return Err(AppError::NotFound("批次评估报告".into()));
    }
    let actor = user.actor(ctx);
    let round = rounds::get_round(&state.store, &actor, id).await?;
    let today = super::policies::today(state);
    let policy = super::policies::in_force_today(state).await?;
    let rows = report_rows(state, &actor, id, &policy).await?;
    Ok(ReportData::new(id, &round.label, today, &policy, rows))
}

fn attachment(bytes: Vec<u8>, content_type: &'static str, filename: &str, zh: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"{filename}\"; filename*=UTF-8''{}",
        crate::auth::urlencode(zh)
    );
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[derive(Clone, Copy)]
enum Kind {
    Docx,
    Xlsx,
}

async fn download(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    kind: Kind,
) -> AppResult<Response> {
    let d = load(&state, &user, &ctx, id).await?;
    let rows = d.rows.len();
    let zh_base = format!("{}{}", d.round_label, "绩效评估报告");
    let d = std::sync::Arc::new(d);
    let bytes = tokio::task::spawn_blocking({
        let d = d.clone();
        move || match kind {
            Kind::Docx => docx::render(&d),
            Kind::Xlsx => xlsx::render(&d),
        }
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("report task: {e}")))?
    .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let (what, ext, content_type) = match kind {
        Kind::Docx => ("evaluation_report_docx", "docx", DOCX_CONTENT_TYPE),
        Kind::Xlsx => ("evaluation_report_xlsx", "xlsx", export::XLSX_CONTENT_TYPE),
    };
    export::audit_export(
        &state,
        &user,
        &ctx,
        what,
        "round",
        json!({ "round_id": id, "rows": rows, "policy_version": d.policy_version }),
    )
    .await?;
    Ok(attachment(
        bytes,
        content_type,
        &format!("evaluation-report-round-{id}.{ext}"),
        &format!("{zh_base}.{ext}"),
    ))
}

async fn page_docx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(state, user, ctx, id, Kind::Docx).await
}

async fn page_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(state, user, ctx, id, Kind::Xlsx).await
}

/// 批次绩效评估报告（Word，供区培训中心打印盖章后报送区人社局）：标题、总体情况、各机构四项得分与综合得分、
/// 评分档次对下次签约班次上限的影响、分项调整及理由、盖章落款 (R-EVA-2)。区培训中心、区人社局、市级可下载；
/// 培训机构 404。已确认的评估计入统计，未确认的列为“评估中”。
#[utoipa::path(get, path = "/api/v1/rounds/{id}/evaluations/report.docx", tag = "evaluations",
    params(("id" = i64, Path, description = "批次 id")),
    responses(
        (status = 200, description = "评估报告 .docx", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_docx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(state, user, ctx, id, Kind::Docx).await
}

/// 批次绩效评估结果（Excel）：“评估结果”工作表每家机构一行（四项得分、综合得分、按时完成班次 C、下次签约班次上限系数、
/// 状态、政策版本），“分项调整”工作表列出计算值、调整值与理由 (R-EVA-2)。权限同 .docx。
#[utoipa::path(get, path = "/api/v1/rounds/{id}/evaluations/report.xlsx", tag = "evaluations",
    params(("id" = i64, Path, description = "批次 id")),
    responses(
        (status = 200, description = "评估结果 .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    download(state, user, ctx, id, Kind::Xlsx).await
}

/// The chart page's context (besides the layout's).
pub fn page_context(d: &ReportData) -> serde_json::Value {
    let s = d.summary();
    let bands: Vec<_> = d
        .bands
        .iter()
        .rev()
        .zip(s.per_band.iter().rev())
        .map(|(b, (_, n))| {
            json!({
                "label": b.label,
                "count": n,
                "effect": match b.effect {
                    NextCap::Factor(f) => format!("C × {}", data::factor(f)),
                    NextCap::Suspended => "暂停签约分配指标".to_string(),
                },
            })
        })
        .collect();
    let stats: Vec<_> = COMPONENT_NAMES
        .iter()
        .zip(d.component_stats())
        .map(|(n, st)| {
            let f = |v: Option<rust_decimal::Decimal>| v.map(num).unwrap_or_else(|| "—".into());
            json!({
                "name": n,
                "min": f(st.map(|x| x.min)),
                "mean": f(st.map(|x| x.mean)),
                "max": f(st.map(|x| x.max)),
            })
        })
        .collect();
    let rows: Vec<_> = d
        .rows
        .iter()
        .map(|r| {
            let components: Vec<_> = match r.shown_components() {
                Some(cs) => cs
                    .iter()
                    .map(|c| {
                        json!({
                            "value": num(c.value()),
                            "computed": num(c.computed),
                            "adjusted": c.adjusted.is_some(),
                        })
                    })
                    .collect(),
                None => (0..4)
                    .map(|_| json!({ "value": "—", "computed": "", "adjusted": false }))
                    .collect(),
            };
            json!({
                "institution": r.institution,
                "agreement_id": r.agreement_id,
                "components": components,
                "score": match (r.state, r.score) {
                    (RowState::Confirmed, Some(sc)) => sc.to_string(),
                    _ => RowState::Open.label_zh().to_string(),
                },
                "c": r.on_time_completed.map(|c| c.to_string()).unwrap_or_else(|| "—".into()),
                "effect": r.next_cap.map(|n| n.label_zh()).unwrap_or_else(|| "—".into()),
            })
        })
        .collect();
    let adjustments: Vec<_> = d
        .adjustments()
        .iter()
        .map(|a| {
            json!({
                "institution": a.institution,
                "component": a.component,
                "computed": num(a.computed),
                "adjusted": num(a.adjusted),
                "reason": a.reason,
                "confirmed": a.confirmed,
            })
        })
        .collect();
    json!({
        "round": { "id": d.round_id, "label": d.round_label },
        "report": {
            "district": d.district,
            "generated_on": d.generated_on.to_string(),
            "policy_version": d.policy_version,
        },
        "summary": {
            "confirmed": s.confirmed,
            "open": s.open,
            "mean": s.mean.map(num),
            "suspended": s.suspended,
        },
        "summary_text": d.summary_text(),
        "suspend_below": d.bands.get(1).and_then(|b| b.min).map(|m| m.to_string()).unwrap_or_default(),
        "svg_hist": chart::score_histogram(d),
        "svg_comp": chart::component_strips(d),
        "bands": bands,
        "stats": stats,
        "headers": d.component_headers(),
        "rows": rows,
        "adjustments": adjustments,
    })
}

async fn chart_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let d = load(&state, &user, &ctx, id).await?;
    let title = format!("{} 绩效评估结果", d.round_label);
    let page = page_context(&d);
    render(
        &state,
        Some(&user),
        "/rounds",
        "evaluation_chart.html",
        &title,
        Value::from(Serde(page)),
    )
}

#[cfg(test)]
mod tests {
    use super::data::tests::sample;
    use super::*;
    use crate::templates::Templates;

    #[test]
    fn r_eva_2_chart_page_renders_the_sample_and_escapes_names() {
        let d = sample();
        let mut ctx = page_context(&d);
        let base = json!({
            "system_name": "海珠区职业技能培训合格证书培训管理系统", "demo": false, "demo_today": null,
            "current": { "id": 1, "username": "u", "display_name": "u", "role": "centre_staff", "role_label": "区培训中心经办人" },
            "nav": [], "csrf_token": "t", "title": "2026年下半年 绩效评估结果", "flash": null,
        });
        for (k, v) in base.as_object().unwrap() {
            ctx[k] = v.clone();
        }
        let html = Templates::new()
            .unwrap()
            .render("evaluation_chart.html", Value::from(Serde(ctx)))
            .unwrap();
        assert!(html.contains("<svg"), "the SVG is inline, not escaped");
        assert!(html.contains("广州&lt;珠江&gt;&amp;技能培训中心"));
        assert!(!html.contains("<珠江>"));
        assert!(html.contains("/rounds/7/evaluations/report.docx"));
        assert!(html.contains("计算值 60"));
        if let Ok(dir) = std::env::var("PEIXUN_REPORT_OUT") {
            std::fs::write(format!("{dir}/evaluation-chart.html"), html).unwrap();
        }
    }
}
