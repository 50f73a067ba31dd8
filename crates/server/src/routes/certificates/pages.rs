//! Pages: a class's exam results (entry table, import, the centre's confirmation), its
//! certificate codes (QR code per code, .xlsx export, revocation) and the public `/verify` page
//! (R-CRT-1, R-CRT-2). No JavaScript: every action is a form; an error shows the page again with
//! the summary at the top and each message beside its row.

use super::super::Registrar;
use super::super::pages_filing_package::{
    MultipartResult, jv, page_err, read_multipart, with_status,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export;
use crate::pages::{CsrfForm, FormData, Saved, no_errors, render};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::certificate::ExamOutcome;
use peixun_domain::roster::RowProblem;
use peixun_store::certificates;
use peixun_store::results::{self, ResultImportOutcome, ResultInput};
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/classes/{id}/results", results_page)
        .post("/classes/{id}/results", results_save)
        .add(
            "POST",
            "/classes/{id}/results/import",
            super::super::api_filing_package::upload(results_import),
        )
        .post("/classes/{id}/results/confirm", results_confirm)
        .get("/classes/{id}/certificates", certificates_page)
        .get(
            "/classes/{id}/certificates/export.xlsx",
            certificates_export,
        )
        .post("/certificates/revoke", certificate_revoke)
        .get("/results-template.csv", results_template)
        .get("/verify", verify_page)
}

fn flash(saved: &Saved) -> Value {
    match saved.saved.as_deref() {
        Some("results") => Value::from("考试结果已保存。"),
        Some("imported") => Value::from("考试结果已导入。"),
        Some("confirmed") => Value::from("考试结果已确认，合格证书编码已发放。"),
        Some("withheld") => {
            Value::from("考试结果已确认；该班次涉及已确认的违法违规行为，不予发放合格证书编码。")
        }
        Some("revoked") => Value::from("证书编码已撤销。"),
        Some(_) => Value::from("已保存。"),
        None => Value::from(()),
    }
}

fn options() -> serde_json::Value {
    json!(
        ExamOutcome::ALL
            .iter()
            .map(|o| json!({ "value": o.code(), "label": o.label_zh() }))
            .collect::<Vec<_>>()
    )
}

/// What the page shows again after an error: the submitted cells per entry id.
#[derive(Default)]
struct Extras {
    errors: Option<(Value, Value)>,
    form: Option<FormData>,
    import_problems: Vec<RowProblem>,
    status: Option<StatusCode>,
}

async fn render_results(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    extras: Extras,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let r = results::get_results(&state.store, &actor, id, state.clock.now()).await?;
    let form = extras.form.unwrap_or_default();
    let default_date = r
        .exam_completed_on
        .map(|d| d.to_string())
        .unwrap_or_default();
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|t| {
            let (result, score, date) = if form.0.is_empty() {
                (
                    t.result.clone().unwrap_or_default(),
                    t.score.clone().unwrap_or_default(),
                    t.exam_date
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| default_date.clone()),
                )
            } else {
                (
                    form.get(&format!("result_{}", t.entry_id)).to_string(),
                    form.get(&format!("score_{}", t.entry_id)).to_string(),
                    form.get(&format!("date_{}", t.entry_id)).to_string(),
                )
            };
            json!({
                "entry_id": t.entry_id, "row_number": t.row_number, "name": t.name,
                "id_number_masked": t.id_number_masked, "result": result, "result_label": t.result_label,
                "score": score, "exam_date": date,
                "certificate_code": t.certificate_code.clone().unwrap_or_default(),
            })
        })
        .collect();
    let errors = extras.errors.unwrap_or_else(no_errors);
    let import_problems: Vec<_> = extras
        .import_problems
        .iter()
        .map(|p| {
            json!({ "row": p.row_number.map(|n| n.to_string()).unwrap_or_default(),
                    "column": p.column.unwrap_or(""), "message": p.message })
        })
        .collect();
    let resp = render(
        state,
        Some(user),
        "/classes",
        "results_entry.html",
        &format!("班次#{} 考试结果", r.filing_id),
        context! {
            class => jv(json!({
                "id": r.filing_id, "institution_name": r.institution_name, "occupation": r.occupation,
                "level": r.level, "status_label": r.status_label,
                "exam_completed_on": default_date,
            })),
            summary => jv(json!({
                "total": r.rows.len(), "entered": r.entered, "passed": r.passed, "failed": r.failed,
                "absent": r.absent, "confirmed_by": r.confirmed_by.clone().unwrap_or_default(),
                "confirmed_at": r.confirmed_at.map(super::super::pages_filing_package::local).unwrap_or_default(),
                "codes_withheld": r.codes_withheld, "certificates_issued": r.certificates_issued,
            })),
            rows => jv(rows),
            options => jv(options()),
            may_edit => r.may_edit,
            may_confirm => r.may_confirm,
            note => r.note.clone().unwrap_or_default(),
            import_problems => jv(import_problems),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )?;
    with_status(Ok(resp), extras.status)
}

async fn results_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_results(&state, &user, &ctx, id, flash(&saved), Extras::default()).await
}

/// The table's rows as submitted: one `entry_id` per row, its cells named by the entry id.
fn inputs(form: &FormData) -> Vec<ResultInput> {
    form.all("entry_id")
        .iter()
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .map(|id| ResultInput {
            entry_id: id,
            result: form.get(&format!("result_{id}")).to_string(),
            score: form.get(&format!("score_{id}")).to_string(),
            exam_date: form.get(&format!("date_{id}")).to_string(),
        })
        .collect()
}

async fn results_save(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let rows = inputs(&form);
    let res = results::save_results(
        &state.store,
        &user.actor(&ctx),
        id,
        &rows,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/results?saved=results")).into_response()),
        Err(e) => {
            // `rows[3].score` → `r<entry id>-score`: the anchor beside that trainee's cell.
            let ids: Vec<i64> = rows.iter().map(|r| r.entry_id).collect();
            let pe = page_err(e.into(), |f| {
                let Some(rest) = f.strip_prefix("rows[") else {
                    return "results".to_string();
                };
                let (i, col) = rest.split_once("].").unwrap_or((rest, "result"));
                match i.parse::<usize>().ok().and_then(|i| ids.get(i)) {
                    Some(eid) => format!("r{eid}-{col}"),
                    None => "results".to_string(),
                }
            })?;
            render_results(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                Extras {
                    errors: Some(pe.errors),
                    form: Some(form),
                    status: Some(pe.status),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

async fn results_import(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    // S6 before the body is read: another institution's class answers 403 whatever it sends.
    let view = results::get_results(&state.store, &actor, id, state.clock.now()).await?;
    if !certificates::is_class_institution(&actor, view.institution_id) {
        return Err(AppError::Forbidden(
            "只有本班次的培训机构可以导入考试结果".into(),
        ));
    }
    let (_form, files) = read_multipart(&user, mp).await?;
    let bytes = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| f.2)
        .unwrap_or_default();
    let out = results::import_results(
        &state.store,
        &actor,
        &state.roster_key,
        id,
        &bytes,
        None,
        state.clock.now(),
    )
    .await;
    match out {
        Ok(ResultImportOutcome::Imported { .. }) => {
            Ok(Redirect::to(&format!("/classes/{id}/results?saved=imported")).into_response())
        }
        Ok(ResultImportOutcome::Refused { problems }) => {
            render_results(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                Extras {
                    import_problems: problems,
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => {
            let pe = page_err(e.into(), |_| "import".to_string())?;
            render_results(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                Extras {
                    errors: Some(pe.errors),
                    status: Some(pe.status),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

async fn results_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let res =
        certificates::confirm_results(&state.store, &user.actor(&ctx), id, state.clock.now()).await;
    match res {
        Ok(o) if o.withheld => {
            Ok(Redirect::to(&format!("/classes/{id}/results?saved=withheld")).into_response())
        }
        Ok(_) => Ok(
            Redirect::to(&format!("/classes/{id}/certificates?saved=confirmed")).into_response(),
        ),
        Err(e) => {
            let pe = page_err(e.into(), |_| "confirm".to_string())?;
            render_results(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                Extras {
                    errors: Some(pe.errors),
                    status: Some(pe.status),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_certificates(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    headers: &HeaderMap,
    id: i64,
    flash: Value,
    errors: (Value, Value),
    form: FormData,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let r = results::get_results(&state.store, &actor, id, state.clock.now()).await?;
    let list = certificates::list_certificates(&state.store, &actor, id).await?;
    let origin = super::origin(state, headers);
    // One QR code per code (CPU work: off the async workers).
    let items: Vec<serde_json::Value> = tokio::task::spawn_blocking(move || {
        list.iter()
            .map(|c| {
                let url = super::verify_url(&origin, &c.code);
                json!({
                    "code": c.code, "name": c.name, "status": c.status, "status_label": c.status_label,
                    "issued_on": c.issued_on.to_string(),
                    "revoked_reason": c.revoked_reason.clone().unwrap_or_default(),
                    "qr": super::qr_data_uri(&url).unwrap_or_default(),
                    "verify_url": url,
                })
            })
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("qr task: {e}")))?;
    render(
        state,
        Some(user),
        "/classes",
        "certificates_list.html",
        &format!("班次#{} 合格证书编码", id),
        context! {
            class => jv(json!({
                "id": r.filing_id, "institution_name": r.institution_name, "occupation": r.occupation,
                "level": r.level, "status_label": r.status_label,
            })),
            items => jv(items),
            codes_withheld => r.codes_withheld,
            can_revoke => certificates::may_revoke(&actor),
            form => jv(json!({ "code": form.get("code"), "reason": form.get("reason") })),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )
}

async fn certificates_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_certificates(
        &state,
        &user,
        &ctx,
        &headers,
        id,
        flash(&saved),
        no_errors(),
        FormData::default(),
    )
    .await
}

async fn certificates_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let r = results::get_results(&state.store, &actor, id, state.clock.now()).await?;
    let list = certificates::list_certificates(&state.store, &actor, id).await?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.code.clone(),
                c.name.clone(),
                r.occupation.clone(),
                r.level.clone(),
                c.status_label.clone(),
                c.issued_on.to_string(),
                c.revoked_reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || {
        export::workbook(
            "合格证书编码",
            &[
                "证书编码",
                "姓名",
                "职业（工种）",
                "等级",
                "状态",
                "发放日期",
                "撤销原因",
            ],
            &rows,
        )
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("export task: {e}")))??;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "certificates",
        "class",
        json!({ "filing_id": id, "rows": list.len() }),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        &format!("certificates-{id}.xlsx"),
        &format!("合格证书编码-班次{id}.xlsx"),
    ))
}

async fn certificate_revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let filing_id: i64 = form.get("filing_id").trim().parse().unwrap_or(0);
    let res = certificates::revoke(
        &state.store,
        &actor,
        form.get("code"),
        form.get("reason"),
        state.clock.now(),
    )
    .await;
    match res {
        Ok(_) => Ok(
            Redirect::to(&format!("/classes/{filing_id}/certificates?saved=revoked"))
                .into_response(),
        ),
        Err(e) => {
            let pe = page_err(e.into(), |f| f.to_string())?;
            if filing_id == 0 {
                return Err(AppError::Validation {
                    code: "REQUIRED".into(),
                    message: "缺少班次".into(),
                    field: Some("filing_id".into()),
                });
            }
            with_status(
                render_certificates(
                    &state,
                    &user,
                    &ctx,
                    &headers,
                    filing_id,
                    Value::from(()),
                    pe.errors,
                    form,
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn results_template(user: CurrentUser) -> AppResult<Response> {
    if !(user.role.is_centre() || user.role.is_institution()) {
        return Err(AppError::Forbidden("无权下载".into()));
    }
    let mut resp = results::template_csv().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"results-template.csv\"; filename*=UTF-8''{}",
        crate::auth::urlencode("考试成绩导入模板.csv")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    pub code: Option<String>,
    pub name: Option<String>,
}

/// `/verify` (no sign-in, R-CRT-2): the form; with a code and a name, the answer. A wrong name
/// and an unknown code show the same text. Rate-limited per client address (429, Retry-After).
async fn verify_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<VerifyForm>,
) -> AppResult<Response> {
    let code = q.code.unwrap_or_default();
    let name = q.name.unwrap_or_default();
    let asked = !code.trim().is_empty() || !name.trim().is_empty();
    let (result, not_found, limited) = if !asked {
        (None, false, None)
    } else if let Err(secs) = super::limit(&state, ctx.ip.as_deref()) {
        (None, false, Some(secs))
    } else {
        match certificates::verify(&state.store, &code, &name).await? {
            Some(v) => (Some(v), false, None),
            None => (None, true, None),
        }
    };
    let resp = render(
        &state,
        user.as_ref(),
        "/verify",
        "verify.html",
        "合格证书查验",
        context! {
            form => jv(json!({ "code": code.chars().take(40).collect::<String>(), "name": name.chars().take(40).collect::<String>() })),
            result => jv(result.map(|v| json!({
                "code": v.code, "masked_name": v.masked_name, "occupation": v.occupation, "level": v.level,
                "institution": v.institution, "issued_on": v.issued_on.to_string(),
                "status": v.status, "status_label": v.status_label,
            }))),
            not_found => not_found,
            not_found_message => super::NOT_FOUND_MESSAGE,
            limited => limited.is_some(),
        },
    )?;
    Ok(match limited {
        Some(secs) => super::with_retry_after(resp, secs),
        // A page answer stays 200 either way (the text is the same for an unknown code and a
        // wrong name); the API answers 404 for both.
        None => resp,
    })
}
