//! Pages of the address requests (R-FIL-7) and online-training requests (R-FIL-8): the
//! institution submits with its evidence (multipart, no JavaScript) and completes it while under
//! review; the centre approves (an online request only with complete evidence) or refuses with a
//! reason. Lists per institution (its own) and for the centre, paginated, with an .xlsx export.

use super::Registrar;
use super::api_filing_package::{request_download, upload};
use super::pages_filing_package::{
    MultipartResult, jv, local, page_err, read_multipart, with_status,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, no_errors, pager, render};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use peixun_domain::filing::OnlineReason;
use peixun_domain::workflow::request::RequestAction;
use peixun_store::requests::{
    self, ADDRESS_EVIDENCE, COMMISSION_LETTER, EVIDENCE_ITEMS, EvidenceUpload, OnlineDetails,
    RequestFilter, RequestInput,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub fn register(r: Registrar) -> Registrar {
    r.get("/requests", requests_list)
        .get("/requests/export.xlsx", requests_export)
        .get("/requests/new", request_new)
        .add("POST", "/requests/new", upload(request_create))
        .get("/requests/{id}", request_page)
        .add("POST", "/requests/{id}/evidence", upload(request_evidence))
        .get("/requests/{id}/evidence/{kind}", request_file)
        .post("/requests/{id}/approve", request_approve)
        .post("/requests/{id}/refuse", request_refuse)
}

#[derive(Debug, Deserialize)]
struct ListQ {
    kind: Option<String>,
    state: Option<String>,
    page: Option<u64>,
}

fn slots_for(kind: &str) -> Vec<(&'static str, &'static str)> {
    if kind == "address" {
        vec![(ADDRESS_EVIDENCE, "场地证明材料（租赁合同、产权证明等）")]
    } else {
        let mut v = vec![(COMMISSION_LETTER, "第三方委托函")];
        v.extend(EVIDENCE_ITEMS);
        v
    }
}

async fn requests_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQ>,
) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let filter = RequestFilter {
        kind: q.kind.clone().filter(|s| !s.is_empty()),
        state: q.state.clone().filter(|s| !s.is_empty()),
    };
    let p = requests::list_requests(
        &state.store,
        &user.actor(&ctx),
        &filter,
        &super::forms::page_request(Some(page), Some(20)),
    )
    .await?;
    let params = [
        ("kind", q.kind.clone().unwrap_or_default()),
        ("state", q.state.clone().unwrap_or_default()),
    ];
    let items: Vec<serde_json::Value> = p
        .items
        .iter()
        .map(|r| {
            json!({"id": r.id, "institution": r.institution_name, "kind": r.kind_label,
                   "state": r.state_label, "summary": if r.kind == "address" { r.address.clone() } else { r.platform_name.clone() },
                   "submitted_at": local(r.submitted_at), "missing": r.missing.len()})
        })
        .collect();
    render(
        &state,
        Some(&user),
        "/requests",
        "requests_list.html",
        "培训地址与线上培训申请",
        context! {
            items => jv(items),
            q => jv(json!({"kind": params[0].1, "state": params[1].1})),
            pager => pager("/requests", &params, page, 20, p.total),
            export_href => format!("/requests/export.xlsx?{}", crate::pages::query_string(&params)),
            is_institution => user.role.is_institution(),
        },
    )
}

async fn requests_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQ>,
) -> AppResult<Response> {
    let filter = RequestFilter {
        kind: q.kind.clone().filter(|s| !s.is_empty()),
        state: q.state.clone().filter(|s| !s.is_empty()),
    };
    let p = requests::list_requests(
        &state.store,
        &user.actor(&ctx),
        &filter,
        &super::forms::page_request(Some(1), Some(peixun_store::PageRequest::MAX_PER_PAGE)),
    )
    .await?;
    let rows: Vec<Vec<String>> = p
        .items
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.institution_name.clone(),
                r.kind_label.clone(),
                r.state_label.clone(),
                r.address.clone(),
                r.reason.clone(),
                r.platform_name.clone(),
                r.platform_url.clone(),
                r.missing
                    .iter()
                    .map(|m| m.message.clone())
                    .collect::<Vec<_>>()
                    .join("；"),
                local(r.submitted_at),
                r.decided_by.clone().unwrap_or_default(),
                r.decided_at.map(local).unwrap_or_default(),
                r.decision_reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = crate::export::workbook(
        "申请",
        &[
            "编号",
            "培训机构",
            "类型",
            "状态",
            "培训地址",
            "原因",
            "平台名称",
            "平台网址",
            "缺少材料",
            "提交时间",
            "审核人",
            "审核时间",
            "审核意见",
        ],
        &rows,
    )?;
    crate::export::audit_export(
        &state,
        &user,
        &ctx,
        "requests",
        "request",
        json!({ "rows": rows.len(), "kind": filter.kind, "state": filter.state }),
    )
    .await?;
    Ok(crate::export::xlsx_response(
        bytes,
        "requests.xlsx",
        "培训申请.xlsx",
    ))
}

#[derive(Debug, Deserialize)]
struct NewQ {
    kind: Option<String>,
    /// Online: a package to tick in advance (the link from a package page).
    package: Option<i64>,
}

async fn render_new(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    kind: &str,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let kind = if kind == "online_training" {
        "online_training"
    } else {
        "address"
    };
    // R-FIL-8: an online request names the classes it covers.
    let packages = if kind == "online_training" {
        requests::packages_for_request(&state.store, &user.actor(ctx)).await?
    } else {
        Vec::new()
    };
    let chosen: Vec<String> = form.all("packages");
    render(
        state,
        Some(user),
        "/requests",
        "request_new.html",
        if kind == "address" {
            "培训地址申请"
        } else {
            "线上培训申请"
        },
        context! {
            kind => kind,
            slots => jv(slots_for(kind).iter().map(|(c, l)| json!({"slot": c, "label": l})).collect::<Vec<_>>()),
            packages => jv(packages.iter().map(|p| json!({"id": p.id, "label": p.label, "checked": chosen.contains(&p.id.to_string())})).collect::<Vec<_>>()),
            f => jv(json!({
                "address": form.get("address"), "reason": form.get("reason"),
                "reason_kind": if form.get("reason_kind").is_empty() { "epidemic_control" } else { form.get("reason_kind") },
                "reason_text": form.get("reason_text"), "platform_name": form.get("platform_name"),
                "platform_url": form.get("platform_url"),
                "notes": EVIDENCE_ITEMS.iter().map(|(c, _)| (c.to_string(), form.get(&format!("note_{c}")).to_string())).collect::<BTreeMap<_, _>>(),
            })),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn request_new(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<NewQ>,
) -> AppResult<Response> {
    let preset = FormData(
        q.package
            .map(|p| ("packages".to_string(), p.to_string()))
            .into_iter()
            .collect(),
    );
    render_new(
        &state,
        &user,
        &ctx,
        q.kind.as_deref().unwrap_or("address"),
        &preset,
        no_errors(),
    )
    .await
}

fn notes_of(form: &FormData) -> BTreeMap<String, String> {
    EVIDENCE_ITEMS
        .iter()
        .map(|(c, _)| {
            (
                c.to_string(),
                form.get(&format!("note_{c}")).trim().to_string(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn uploads_of(files: Vec<(String, String, Vec<u8>)>) -> Vec<EvidenceUpload> {
    files
        .into_iter()
        .filter(|(_, _, b)| !b.is_empty())
        .filter_map(|(field, name, bytes)| {
            field.strip_prefix("file_").map(|slot| EvidenceUpload {
                slot: slot.to_string(),
                bytes,
                name,
            })
        })
        .collect()
}

async fn request_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    mp: MultipartResult,
) -> AppResult<Response> {
    let (form, files) = read_multipart(&user, mp).await?;
    let kind = form.get("kind").to_string();
    let input = if kind == "online_training" {
        let text = form.get("reason_text").trim().to_string();
        RequestInput::OnlineTraining {
            reason: match form.get("reason_kind") {
                "special_trainees" => OnlineReason::SpecialTrainees { description: text },
                "other" => OnlineReason::Other { description: text },
                _ => OnlineReason::EpidemicControl,
            },
            details: OnlineDetails {
                platform_name: form.get("platform_name").trim().to_string(),
                platform_url: form.get("platform_url").trim().to_string(),
                notes: notes_of(&form),
            },
            packages: match form
                .all("packages")
                .iter()
                .map(|p| p.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(ids) => ids,
                Err(_) => {
                    return Err(AppError::BadRequest("所选班次无效".into()));
                }
            },
        }
    } else {
        RequestInput::Address {
            address: form.get("address").to_string(),
            reason: form.get("reason").to_string(),
        }
    };
    match requests::submit_request(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        &input,
        &uploads_of(files),
        state.clock.now(),
    )
    .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/requests/{}?saved=created", v.id)).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f.is_empty() {
                    "main".into()
                } else {
                    f.to_string()
                }
            })?;
            with_status(
                render_new(&state, &user, &ctx, &kind, &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn render_request(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Option<String>,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let v = requests::get_request(&state.store, &actor, id).await?;
    let own = user.role.is_institution() && actor.institution_id == Some(v.institution_id);
    let pending = v.state == "submitted";
    let missing: Vec<serde_json::Value> = v
        .missing
        .iter()
        .map(|m| json!({"field": m.field, "message": m.message}))
        .collect();
    render(
        state,
        Some(user),
        "/requests",
        "request_detail.html",
        &format!("{} 第{}号", v.kind_label, v.id),
        context! {
            r => jv(&v),
            submitted_at => local(v.submitted_at),
            decided_at => v.decided_at.map(local).unwrap_or_default(),
            missing => jv(missing),
            may_add => own && pending,
            may_decide => user.role.is_centre() && pending,
            reason => form.get("reason").to_string(),
            flash => flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn request_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    let flash = saved.saved.as_deref().map(|s| {
        match s {
            "created" => "申请已提交，等待区培训中心审核。",
            "evidence" => "材料已补充。",
            "approved" => "已同意。",
            "refused" => "已不同意。",
            _ => "已保存。",
        }
        .to_string()
    });
    render_request(
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

async fn request_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    // S6 first: another institution's request is refused whatever the body.
    let v = requests::get_request(&state.store, &user.actor(&ctx), id).await?;
    if !(user.role.is_institution() && user.actor(&ctx).institution_id == Some(v.institution_id)) {
        return Err(crate::error::AppError::Forbidden(
            "只能补充本机构的申请".into(),
        ));
    }
    let (form, files) = read_multipart(&user, mp).await?;
    let notes: BTreeMap<String, String> = EVIDENCE_ITEMS
        .iter()
        .filter(|(c, _)| form.0.iter().any(|(k, _)| k == &format!("note_{c}")))
        .map(|(c, _)| {
            (
                c.to_string(),
                form.get(&format!("note_{c}")).trim().to_string(),
            )
        })
        .collect();
    let platform = (!form.get("platform_name").is_empty() || !form.get("platform_url").is_empty())
        .then(|| (form.get("platform_name"), form.get("platform_url")));
    match requests::add_evidence(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        &notes,
        platform,
        &uploads_of(files),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}?saved=evidence")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f.is_empty() {
                    "evidence".into()
                } else {
                    f.to_string()
                }
            })?;
            with_status(
                render_request(&state, &user, &ctx, id, None, &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn request_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    request_download(&state, &user, &ctx, id, &kind).await
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    approve: bool,
) -> AppResult<Response> {
    let action = if approve {
        RequestAction::Approve
    } else {
        RequestAction::Refuse {
            reason: form.get("reason").to_string(),
        }
    };
    match requests::decide_request(
        &state.store,
        &user.actor(&ctx),
        id,
        &action,
        state.clock.now(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/requests/{id}?saved={}",
            if approve { "approved" } else { "refused" }
        ))
        .into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if approve || f.is_empty() || f != "reason" {
                    if approve {
                        "decide".into()
                    } else {
                        "reason".into()
                    }
                } else {
                    "reason".into()
                }
            })?;
            with_status(
                render_request(&state, &user, &ctx, id, None, &form, pe.errors).await,
                Some(pe.status),
            )
        }
    }
}

async fn request_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    decide(state, user, ctx, id, form, true).await
}

async fn request_refuse(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    decide(state, user, ctx, id, form, false).await
}
