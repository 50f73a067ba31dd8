//! 证书台账 — the certificate register (R-CRT-1, S6): every code issued, filtered by year,
//! institution, status, occupation, code or holder's name; in issue order, read a page at a time
//! from a code on (keyset). The page, its JSON twin and a streamed .xlsx export of the whole filtered register
//! (any length: `crate::export_stream`), audited before the first byte (S10).

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiQuery, AppResult, ErrorBody};
use crate::export;
use crate::export_stream;
use crate::pages::{form_errors, no_errors, query_string, render};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;
use peixun_store::certificate_register::{
    self as register, MAX_PAGE_ROWS, RegisterFilter, RegisterPage, RegisterQuery, RegisterRow,
};
use peixun_store::{Actor, institutions};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/certificates", page)
        .get("/certificates/export.xlsx", export_xlsx)
        .get("/api/v1/certificates", api_list)
}

/// Rows per page on the page; the API may ask for up to [`MAX_PAGE_ROWS`].
const PAGE_ROWS: u64 = 50;

/// The register's filter and position, as typed.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RegisterParams {
    /// 发放年度，如 2026
    pub year: Option<String>,
    /// 培训机构编号（区培训中心；培训机构只看到本机构）
    pub institution_id: Option<String>,
    /// valid / revoked
    pub status: Option<String>,
    /// 职业（工种）
    pub occupation: Option<String>,
    /// 证书编码（或其开头的数字）或持证人姓名
    pub q: Option<String>,
    /// 从此编码之后继续（上一页的 next_after）
    pub after: Option<String>,
    /// 每页条数（1–2000，默认50）
    pub limit: Option<u64>,
}

impl RegisterParams {
    fn query(&self) -> RegisterQuery {
        RegisterQuery {
            year: self.year.clone(),
            institution_id: self.institution_id.clone(),
            status: self.status.clone(),
            occupation: self.occupation.clone(),
            q: self.q.clone(),
        }
    }
    fn filter_params(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.as_deref().unwrap_or("").trim().to_string();
        vec![
            ("year", v(&self.year)),
            ("institution_id", v(&self.institution_id)),
            ("status", v(&self.status)),
            ("occupation", v(&self.occupation)),
            ("q", v(&self.q)),
        ]
    }
    fn after(&self) -> Option<&str> {
        self.after
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// A page of the certificate register.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RegisterPageDto(pub RegisterPage);

/// 证书台账（区培训中心：全部机构；培训机构：本机构）：按发放日期、证书编码排序，每次返回 limit 条及
/// next_after（下一页从该编码之后继续）；可按发放年度、机构、状态、职业（工种）、编码或姓名筛选
/// (R-CRT-1, S6)。
#[utoipa::path(get, path = "/api/v1/certificates", tag = "certificates",
    params(RegisterParams),
    responses((status = 200, body = RegisterPageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(p): ApiQuery<RegisterParams>,
) -> AppResult<Json<RegisterPageDto>> {
    let filter = p.query().check()?;
    let limit = p.limit.unwrap_or(PAGE_ROWS).clamp(1, MAX_PAGE_ROWS);
    Ok(Json(RegisterPageDto(
        register::page(&state.store, &user.actor(&ctx), &filter, p.after(), limit).await?,
    )))
}

fn row_ctx(r: &RegisterRow) -> minijinja::Value {
    context! {
        code => r.code.clone(),
        holder_name => r.holder_name.clone(),
        occupation => r.occupation.clone(),
        level => r.level.clone(),
        institution => r.institution_name.clone(),
        filing_id => r.filing_id,
        issued_on => r.issued_on.to_string(),
        status => r.status.clone(),
        status_label => r.status_label(),
        revoked_reason => r.revoked_reason.clone(),
    }
}

async fn institution_choices(state: &AppState, actor: &Actor) -> AppResult<serde_json::Value> {
    if !actor.role.is_some_and(|r| r.is_centre()) {
        return Ok(json!([]));
    }
    let names = institutions::institution_names(&state.store, actor).await?;
    Ok(json!(
        names
            .into_iter()
            .map(|(id, name)| json!({"id": id.to_string(), "name": name}))
            .collect::<Vec<_>>()
    ))
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(p): ApiQuery<RegisterParams>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let params = p.filter_params();
    let qs = query_string(&params);
    let with_qs = |path: &str, extra: Option<String>| {
        let mut parts: Vec<String> = Vec::new();
        if !qs.is_empty() {
            parts.push(qs.clone());
        }
        parts.extend(extra);
        if parts.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    };
    let (items, total, next_href, errors) = match p.query().check() {
        Ok(filter) => {
            let pg = register::page(&state.store, &actor, &filter, p.after(), PAGE_ROWS).await?;
            let next = pg.next_after.as_ref().map(|a| {
                with_qs(
                    "/certificates",
                    Some(format!("after={}", crate::auth::urlencode(a))),
                )
            });
            (
                pg.items.iter().map(row_ctx).collect::<Vec<_>>(),
                pg.total,
                next,
                no_errors(),
            )
        }
        Err(e) => {
            // Show the (empty) page with every problem named; still check access first.
            register::count(&state.store, &actor, &RegisterFilter::default()).await?;
            (
                Vec::new(),
                0,
                None,
                form_errors(&e.into(), |f| f.to_string()),
            )
        }
    };
    let occupations = register::occupations(&state.store, &actor).await?;
    let is_centre = actor.role.is_some_and(|r| r.is_centre());
    render(
        &state,
        Some(&user),
        "/certificates",
        "certificate_register.html",
        "证书台账",
        context! {
            items, total, next_href, occupations, is_centre,
            continued => p.after().is_some(),
            first_href => with_qs("/certificates", None),
            export_href => with_qs("/certificates/export.xlsx", None),
            institutions => minijinja::Value::from(minijinja::value::Serde(institution_choices(&state, &actor).await?)),
            filter => minijinja::Value::from(minijinja::value::Serde(
                params.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            )),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

const SHEET: &str = "证书台账";
const HEADERS: &[&str] = &[
    "证书编码",
    "持证人姓名",
    "职业（工种）",
    "等级",
    "培训机构",
    "班次（开班备案编号）",
    "发放日期",
    "状态",
    "撤销原因",
];

fn export_row(r: RegisterRow) -> Vec<String> {
    let status = r.status_label().to_string();
    vec![
        r.code,
        r.holder_name,
        r.occupation,
        r.level,
        r.institution_name,
        r.filing_id.to_string(),
        r.issued_on.to_string(),
        status,
        r.revoked_reason.unwrap_or_default(),
    ]
}

/// The whole filtered register as .xlsx, streamed (no row limit but Excel's own).
async fn export_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(p): ApiQuery<RegisterParams>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let filter = p.query().check()?;
    let total = register::count(&state.store, &actor, &filter).await?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "certificates_register",
        "certificate",
        json!({ "filter": filter, "rows": total }),
    )
    .await?;
    let (sink, response) =
        export_stream::xlsx(SHEET, HEADERS, "certificate-register.xlsx", "证书台账.xlsx");
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut after: Option<String> = None;
        loop {
            let page = match register::rows_after(
                &store,
                &actor,
                &filter,
                after.as_deref(),
                MAX_PAGE_ROWS,
            )
            .await
            {
                Ok(p) => p,
                Err(e) => return sink.fail(e),
            };
            let Some(last) = page.last() else {
                return sink.finish().await;
            };
            after = Some(last.code.clone());
            let full = page.len() as u64 == MAX_PAGE_ROWS;
            if !sink.send(page.into_iter().map(export_row).collect()).await {
                return;
            }
            if !full {
                return sink.finish().await;
            }
        }
    });
    Ok(response)
}
