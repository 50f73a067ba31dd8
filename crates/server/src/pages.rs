//! Helpers for the server-rendered pages: the layout context (header, nav per role, demo banner),
//! rendering, the HTML form of errors, and the CSRF-checked form extractor.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::security;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use peixun_domain::role::Role;
use serde::Serialize;

pub const SYSTEM_NAME: &str = "海珠区职业技能培训合格证书培训管理系统";

#[derive(Debug, Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    active: bool,
}

/// The navigation a role sees (only places it may go).
pub fn nav_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![("/", "首页")];
    match role {
        Role::CentreAdmin | Role::CentreStaff | Role::Bureau | Role::City => {
            items.push(("/institutions", "培训机构目录"));
            items.push(("/plans", "年度计划"));
            items.push(("/rounds", "培训批次"));
            if role.is_centre() {
                items.push(("/review", "备案审核"));
            }
            items.push(("/requests", "地址/线上申请"));
            if role.is_centre() {
                items.push(("/tools/cap", "上限试算"));
            }
            items.push(("/classes", "班次"));
            items.push(("/reports", "月度反馈"));
            items.push(("/inspections", "检查抽查"));
            if role.is_centre() {
                items.push(("/teacher-changes", "师资调整"));
            }
            items.push(("/sanctions", "超期处理"));
            if role.is_centre() {
                items.push(("/certificates", "证书台账"));
            }
            items.push(("/violations", "违法违规"));
            items.push(("/evaluations", "绩效评估"));
            items.push(("/policies", "政策参数"));
            if role == Role::CentreAdmin {
                items.push(("/credential-requests", "账号凭据确认"));
            }
            items.push(("/bulletin", "公示"));
        }
        Role::InstitutionAdmin | Role::InstitutionStaff => {
            items.push(("/institutions", "本机构信息"));
            items.push(("/rounds", "培训批次"));
            items.push(("/packages", "开班备案"));
            items.push(("/requests", "地址/线上申请"));
            items.push(("/classes", "本机构班次"));
            items.push(("/reports", "月度反馈"));
            items.push(("/inspections", "检查整改"));
            items.push(("/certificates", "证书台账"));
            items.push(("/evaluations", "绩效评估"));
            items.push(("/inbox", "消息"));
            if role == Role::InstitutionAdmin {
                items.push(("/credential-requests", "账号凭据确认"));
            }
            items.push(("/bulletin", "公示"));
        }
        Role::Sysadmin => {
            items.push(("/users", "用户管理"));
            items.push(("/credential-requests", "账号凭据申请"));
            items.push(("/calendar", "节假日安排"));
            items.push(("/policies", "政策参数"));
            items.push(("/admin/jobs", "后台任务"));
        }
        Role::Auditor => items.push(("/audit", "审计日志")),
    }
    items.push(("/account/password", "修改密码"));
    items
}

#[derive(Debug, Serialize)]
struct CurrentView<'a> {
    id: i64,
    username: &'a str,
    display_name: &'a str,
    role: &'static str,
    role_label: &'static str,
}

/// Renders a page with the layout context merged under `ctx`.
pub fn render(
    state: &AppState,
    user: Option<&CurrentUser>,
    path: &str,
    template: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    let html = render_string(state, user, path, template, title, ctx)?;
    Ok(Html(html).into_response())
}

pub fn render_string(
    state: &AppState,
    user: Option<&CurrentUser>,
    path: &str,
    template: &str,
    title: &str,
    ctx: Value,
) -> Result<String, AppError> {
    let (current, nav, csrf) = match user {
        Some(u) => {
            let nav: Vec<NavItem> = nav_for(u.role)
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: if href == "/" {
                        path == "/"
                    } else {
                        path.starts_with(href)
                    },
                })
                .collect();
            (
                Value::from(Serde(CurrentView {
                    id: u.user.id,
                    username: &u.user.username,
                    display_name: &u.user.display_name,
                    role: u.role.code(),
                    role_label: u.role.label_zh(),
                })),
                Value::from(Serde(nav)),
                u.csrf_token.clone(),
            )
        }
        None => (
            Value::from(()),
            Value::from(Serde(Vec::<NavItem>::new())),
            String::new(),
        ),
    };
    let base = context! {
        system_name => SYSTEM_NAME,
        demo => state.demo,
        demo_today => state.demo_today.map(|d| d.to_string()),
        current => current,
        nav => nav,
        csrf_token => csrf,
        title => title,
        flash => Value::from(()),
    };
    let full = context! { ..ctx, ..base };
    state
        .templates
        .render(template, full)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template {template}: {e:#}")))
}

/// Turns error responses of page routes (not `/api/…`) into HTML pages: 401 goes to the login
/// page, others render `error.html` with the Chinese message and the same status.
pub async fn page_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let user = req.extensions().get::<CurrentUser>().cloned();
    let request_id = req
        .extensions()
        .get::<crate::auth::RequestCtx>()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let resp = next.run(req).await;
    if path.starts_with("/api/")
        || path.starts_with("/static/")
        || path == "/healthz"
        || path == "/metrics"
    {
        return resp;
    }
    let Some(body) = resp.extensions().get::<ErrorBody>().cloned() else {
        if resp.status() == StatusCode::NOT_FOUND || resp.status() == StatusCode::METHOD_NOT_ALLOWED
        {
            let status = resp.status();
            return error_page(
                &state,
                user.as_ref(),
                &path,
                status,
                "页面不存在",
                "您访问的页面不存在。",
            );
        }
        return resp;
    };
    let status = resp.status();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/login").into_response();
    }
    let title = match status {
        StatusCode::FORBIDDEN => "无权访问",
        StatusCode::NOT_FOUND => "页面不存在",
        StatusCode::METHOD_NOT_ALLOWED => "无法完成操作",
        StatusCode::INTERNAL_SERVER_ERROR => "系统错误",
        _ => "无法完成操作",
    };
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        format!("{}（请求编号：{request_id}）", body.message)
    } else {
        body.message
    };
    error_page(&state, user.as_ref(), &path, status, title, &message)
}

fn error_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    path: &str,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    match render_string(
        state,
        user,
        path,
        "error.html",
        title,
        context! { message => message },
    ) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            message.to_string(),
        )
            .into_response(),
    }
}

/// A submitted form (`application/x-www-form-urlencoded`) whose `csrf_token` field matched the
/// session's token (S19). Fields are kept as ordered pairs so repeated fields (checkboxes) and
/// numbered rows work without JavaScript.
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "1" | "on" | "true")
    }
}

/// The signed-in user's CSRF-checked form.
pub struct CsrfForm(pub FormData);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = req
            .extensions()
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthenticated)?;
        let form = read_form(req, state).await?;
        if !security::constant_time_eq(form.get("csrf_token"), &user.csrf_token) {
            return Err(AppError::Csrf("form token"));
        }
        Ok(CsrfForm(form))
    }
}

/// The login form, protected by a double-submit cookie (no session exists yet).
pub struct LoginForm(pub FormData);

impl FromRequest<AppState> for LoginForm {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let cookie =
            security::get_cookie(req.headers(), security::LOGIN_CSRF_COOKIE).unwrap_or_default();
        let form = read_form(req, state).await?;
        if cookie.is_empty() || !security::constant_time_eq(form.get("csrf_token"), &cookie) {
            return Err(AppError::Csrf("login form token"));
        }
        Ok(LoginForm(form))
    }
}

async fn read_form(req: Request, state: &AppState) -> Result<FormData, AppError> {
    let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::BadRequest(e.body_text())
            }
        })?;
    Ok(FormData(pairs))
}

/// `errors` (for the summary) and `field_errors` (beside each field) from one error: the
/// summary lists every problem in order, each linking to its field; the map field → message
/// holds what is shown beside each field, two problems on one field joined (R-VAL-1).
pub fn form_errors(e: &AppError, anchor: impl Fn(&str) -> String) -> (Value, Value) {
    let body = e.body();
    let items: Vec<(Option<String>, String)> = if body.errors.is_empty() {
        vec![(body.field, body.message)]
    } else {
        body.errors
            .into_iter()
            .map(|i| (i.field, i.message))
            .collect()
    };
    let mut errors = Vec::with_capacity(items.len());
    let mut map = std::collections::BTreeMap::<String, String>::new();
    for (field, message) in items {
        let field = field
            .as_deref()
            .map(&anchor)
            .unwrap_or_else(|| "main".into());
        errors.push(context! { field => field.clone(), message => message.clone() });
        map.entry(field)
            .and_modify(|m| {
                m.push('；');
                m.push_str(&message);
            })
            .or_insert(message);
    }
    (Value::from(errors), Value::from(map))
}

pub fn no_errors() -> (Value, Value) {
    (
        Value::from(Vec::<Value>::new()),
        Value::from(std::collections::BTreeMap::<String, String>::new()),
    )
}

/// Is this error something the user can fix in the form (show the form again)?
pub fn is_form_error(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation { .. } | AppError::Invalid { .. } | AppError::Conflict { .. }
    )
}

/// Pagination links that keep the current filters.
pub fn pager(path: &str, params: &[(&str, String)], page: u64, per_page: u64, total: u64) -> Value {
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let href = |p: u64| {
        let mut q: Vec<String> = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::auth::urlencode(v)))
            .collect();
        q.push(format!("page={p}"));
        format!("{path}?{}", q.join("&"))
    };
    context! {
        page => page,
        pages => pages,
        total => total,
        prev_href => if page > 1 { Value::from(href(page - 1)) } else { Value::from(()) },
        next_href => if page < pages { Value::from(href(page + 1)) } else { Value::from(()) },
    }
}

/// A query string from filter params (for export links).
pub fn query_string(params: &[(&str, String)]) -> String {
    params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::auth::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `?saved=…` after a successful form (post/redirect/get): the confirmation shown at the top.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Saved {
    pub saved: Option<String>,
}

impl Saved {
    pub fn flash(&self) -> Value {
        match self.saved.as_deref() {
            Some("created") => Value::from("已创建。"),
            Some("password") => Value::from("密码已修改。"),
            Some("user") => Value::from("账号状态已更新。"),
            Some(_) => Value::from("已保存。"),
            None => Value::from(()),
        }
    }
}
