//! Pages: users (sysadmin) and the audit log (auditor).

use super::Registrar;
use super::api_admin::new_user;
use super::credentials::pages::show_half;
use super::forms::{audit_filter, page_request};
use crate::AppState;
use crate::api_types::{AuditQuery, UserQuery};
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export::{self, MAX_EXPORT_ROWS};
use crate::pages::{
    CsrfForm, FormData, Saved, form_errors, is_form_error, no_errors, pager, query_string, render,
};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, FixedOffset, Utc};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::accounts::{self, UserView};
use peixun_store::audit::{self, AuditEntry};
use peixun_store::{PageRequest, credentials, institutions};

pub fn register(r: Registrar) -> Registrar {
    r.get("/users", users_list)
        .get("/users/export.xlsx", users_export)
        .get("/users/new", user_new_form)
        .post("/users/new", user_create)
        .post("/users/{id}/active", user_set_active)
        .get("/audit", audit_list)
        .get("/audit/export.xlsx", audit_export)
}

fn user_value(u: &UserView, states: &credentials::AccountStates) -> Value {
    let credential = if states.pending.contains(&u.id) {
        "凭据待确认"
    } else if states.no_password.contains(&u.id) {
        "尚无密码"
    } else {
        ""
    };
    context! {
        credential,
        id => u.id,
        username => u.username.clone(),
        display_name => u.display_name.clone(),
        role_label => u.role.label_zh(),
        institution_label => u.institution_name.clone().unwrap_or_else(|| "—".into()),
        active => u.active,
        must_change_password => u.must_change_password,
    }
}

async fn users_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Response> {
    let page = page_request(q.page, None);
    let params = q.params();
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|r| context! { code => r.code(), label => r.label_zh() })
        .collect();
    let (items, pager_v, errors) = match q.filter() {
        Ok(filter) => {
            let res = accounts::list_users(&state.store, &user.actor(&ctx), &filter, &page).await?;
            let states = credentials::account_states(&state.store, state.clock.now()).await?;
            (
                res.items
                    .iter()
                    .map(|u| user_value(u, &states))
                    .collect::<Vec<_>>(),
                pager(
                    "/users",
                    &params,
                    page.page.unwrap_or(1),
                    res.per_page,
                    res.total,
                ),
                no_errors(),
            )
        }
        Err(e) => (
            Vec::new(),
            pager("/users", &params, 1, 1, 0),
            form_errors(&e, |f| f.to_string()),
        ),
    };
    let export_href = match query_string(&params) {
        s if s.is_empty() => "/users/export.xlsx".to_string(),
        s => format!("/users/export.xlsx?{s}"),
    };
    render(
        &state,
        Some(&user),
        "/users",
        "users_list.html",
        "用户管理",
        context! {
            items, roles, export_href,
            filter => context! { q => q.q.clone().unwrap_or_default(), role => q.role.clone().unwrap_or_default() },
            pager => pager_v,
            errors => errors.0,
            field_errors => errors.1,
            flash => Saved { saved: q.saved.clone() }.flash(),
        },
    )
}

async fn users_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Response> {
    let filter = q.filter()?;
    let mut rows = Vec::new();
    let mut page_no = 1;
    loop {
        let page = PageRequest {
            after_id: None,
            page: Some(page_no),
            per_page: PageRequest::MAX_PER_PAGE,
        };
        let res = accounts::list_users(&state.store, &user.actor(&ctx), &filter, &page).await?;
        let n = res.items.len();
        for u in res.items {
            rows.push(vec![
                u.id.to_string(),
                u.username,
                u.display_name,
                u.role.label_zh().to_string(),
                u.institution_name.unwrap_or_default(),
                if u.active { "启用" } else { "停用" }.to_string(),
                u.last_login_at.map(beijing).unwrap_or_default(),
            ]);
        }
        if n < PageRequest::MAX_PER_PAGE as usize || rows.len() >= MAX_EXPORT_ROWS {
            break;
        }
        page_no += 1;
    }
    let bytes = export::workbook(
        "用户",
        &[
            "编号",
            "用户名",
            "姓名",
            "角色",
            "所属机构",
            "状态",
            "最近登录",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "users",
        "user",
        serde_json::json!({ "rows": rows.len() }),
    )
    .await?;
    Ok(export::xlsx_response(bytes, "users.xlsx", "用户.xlsx"))
}

async fn render_user_form(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let names = institutions::institution_names(&state.store, &user.actor(ctx)).await?;
    let institutions: Vec<Value> = names
        .into_iter()
        .map(|(id, name)| context! { id, name })
        .collect();
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|r| context! { code => r.code(), label => r.label_zh() })
        .collect();
    render(
        state,
        Some(user),
        "/users",
        "user_form.html",
        "新增用户",
        context! {
            roles, institutions,
            form => context! {
                username => form.get("username"),
                display_name => form.get("display_name"),
                role => form.get("role"),
                institution_id => form.get("institution_id"),
                reason => form.get("reason"),
            },
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn user_new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    render_user_form(&state, &user, &ctx, &FormData::default(), no_errors()).await
}

async fn user_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let institution_id = match form.get("institution_id").trim() {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| {
            AppError::validation(
                "INSTITUTION_INVALID",
                "请选择所属培训机构",
                Some("institution_id"),
            )
        }),
    };
    let result = match institution_id {
        Ok(iid) => {
            new_user(
                &state,
                &user,
                &ctx,
                form.get("username"),
                form.get("display_name"),
                form.get("role"),
                iid,
                form.get("reason"),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(issued) => show_half(&state, &user, &issued, 1, "/users"),
        Err(e) if is_form_error(&e) => {
            let errors = form_errors(&e, |f| f.to_string());
            let mut resp = render_user_form(&state, &user, &ctx, &form, errors).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn user_set_active(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let active = form.get("active") == "1";
    accounts::set_user_active(
        &state.store,
        &user.actor(&ctx),
        id,
        active,
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to("/users?saved=user").into_response())
}

// ---- audit ----------------------------------------------------------------------------------

fn beijing(t: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.with_timezone(&cst)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn change_text(e: &AuditEntry) -> String {
    let j = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let (old, new) = (j(&e.old_value), j(&e.new_value));
    let s = match (old.is_empty(), new.is_empty()) {
        (true, true) => String::new(),
        (true, false) => new,
        (false, true) => format!("{old} →"),
        (false, false) => format!("{old} → {new}"),
    };
    if s.chars().count() > 400 {
        format!("{}…", s.chars().take(400).collect::<String>())
    } else {
        s
    }
}

fn audit_params(q: &AuditQuery) -> Vec<(&'static str, String)> {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        ("username", v(&q.username)),
        ("action", v(&q.action)),
        ("target_type", v(&q.target_type)),
        ("target_id", v(&q.target_id)),
        ("from", v(&q.from)),
        ("to", v(&q.to)),
    ]
}

async fn audit_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Response> {
    let params = audit_params(&q);
    let filter_ctx = context! {
        username => q.username.clone().unwrap_or_default(),
        action => q.action.clone().unwrap_or_default(),
        target_type => q.target_type.clone().unwrap_or_default(),
        target_id => q.target_id.clone().unwrap_or_default(),
        from => q.from.clone().unwrap_or_default(),
        to => q.to.clone().unwrap_or_default(),
    };
    let page = page_request(q.page, None);
    let (items, pager_v, errors) = match audit_filter(&q) {
        Ok(filter) => {
            let res = audit::search(&state.store, &user.actor(&ctx), &filter, &page).await?;
            let items: Vec<Value> = res
                .items
                .iter()
                .map(|e| {
                    context! {
                        id => e.id,
                        at => beijing(e.at),
                        username => e.username.clone(),
                        role => e.role.as_deref().and_then(|r| r.parse::<Role>().ok()).map(|r| r.label_zh()).unwrap_or("—"),
                        ip => e.ip.clone().unwrap_or_default(),
                        action => e.action.clone(),
                        target => match &e.target_id {
                            Some(id) => format!("{} #{id}", e.target_type),
                            None => e.target_type.clone(),
                        },
                        change => change_text(e),
                    }
                })
                .collect();
            (
                items,
                pager(
                    "/audit",
                    &params,
                    page.page.unwrap_or(1),
                    res.per_page,
                    res.total,
                ),
                no_errors(),
            )
        }
        Err(e) => (
            Vec::new(),
            pager("/audit", &params, 1, 1, 0),
            form_errors(&e, |f| f.to_string()),
        ),
    };
    let export_href = match query_string(&params) {
        s if s.is_empty() => "/audit/export.xlsx".to_string(),
        s => format!("/audit/export.xlsx?{s}"),
    };
    render(
        &state,
        Some(&user),
        "/audit",
        "audit_list.html",
        "审计日志",
        context! {
            items, export_href,
            filter => filter_ctx,
            pager => pager_v,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

const AUDIT_HEADERS: &[&str] = &[
    "编号",
    "时间（北京时间）",
    "用户",
    "角色",
    "来源地址",
    "请求编号",
    "操作",
    "对象类型",
    "对象编号",
    "原值",
    "新值",
    "哈希",
];

fn audit_row(e: AuditEntry) -> Vec<String> {
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    vec![
        e.id.to_string(),
        beijing(e.at),
        e.username.clone(),
        e.role.clone().unwrap_or_default(),
        e.ip.clone().unwrap_or_default(),
        e.request_id.clone().unwrap_or_default(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone().unwrap_or_default(),
        json(&e.old_value),
        json(&e.new_value),
        e.hash.clone(),
    ]
}

/// The whole filtered log, newest first, streamed (`crate::export_stream`): read in keyset
/// pages, never held in memory, no row limit but Excel's own.
async fn audit_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Response> {
    const PAGE: u64 = 2_000;
    let filter = audit_filter(&q)?;
    let actor = user.actor(&ctx);
    // Only what existed when the export began: the export's own audit row and anything later
    // stay out of the file.
    let newest = audit::older_than(&state.store, &actor, &filter, None, 1)
        .await?
        .first()
        .map(|e| e.id);
    let total = audit::count_matching(&state.store, &actor, &filter).await?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "audit",
        "audit_log",
        serde_json::json!({ "filter": filter, "rows": total }),
    )
    .await?;
    let (sink, response) =
        crate::export_stream::xlsx("审计日志", AUDIT_HEADERS, "audit.xlsx", "审计日志.xlsx");
    let store = state.store.clone();
    tokio::spawn(async move {
        let Some(newest) = newest else {
            return sink.finish().await;
        };
        let mut before = newest + 1;
        loop {
            let page = match audit::older_than(&store, &actor, &filter, Some(before), PAGE).await {
                Ok(p) => p,
                Err(e) => return sink.fail(e),
            };
            let Some(last) = page.last() else {
                return sink.finish().await;
            };
            before = last.id;
            let full = page.len() as u64 == PAGE;
            if !sink.send(page.into_iter().map(audit_row).collect()).await {
                return;
            }
            if !full {
                return sink.finish().await;
            }
        }
    });
    Ok(response)
}
