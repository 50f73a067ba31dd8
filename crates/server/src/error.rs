//! One application error, mapped once to HTTP (STYLE.md).
//!
//! API responses carry `{"code", "message", "field"?}` with a stable `code` and a Chinese
//! `message`; a 422 also lists every problem with the input in `errors` (R-VAL-1), the first of
//! which is the `code`/`message`/`field` above. Page routes get the same error rendered as HTML by [`crate::pages::page_errors`],
//! which reads the [`ErrorBody`] this module leaves in the response extensions. Internal errors are
//! logged with the request id and never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use peixun_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every API response (R-VAL-1).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `AUTH_FAILED`, `VALIDATION`, `INST_CREDIT_CODE`.
    pub code: String,
    /// 中文说明.
    pub message: String,
    /// The input field the error is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Bad input (422): every problem found, in input order, each naming its field (R-VAL-1).
    /// The first is also given as `code`, `message` and `field`. Absent on other errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
}

/// One problem with the input, in [`ErrorBody::errors`].
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ErrorItem {
    /// Stable code of the rule, e.g. `REQUIRED`, `PHONE_INVALID`, `PASSWORD_WEAK`.
    pub code: String,
    /// 中文说明，指明字段与规则.
    pub message: String,
    /// The input field, e.g. `contact_phone` or `qualifications[1]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No (valid) session or token.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Bad username or password, or a locked account; the same answer for all three (S2).
    #[error("authentication failed")]
    AuthFailed,
    /// Too many requests (a login flood, S2): 429 with `Retry-After`.
    #[error("too many requests")]
    TooManyRequests,
    /// The role may not use this route, or the record is not the actor's (S5, S6).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A state-changing request failed the CSRF checks (S19).
    #[error("csrf rejected: {0}")]
    Csrf(&'static str),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Bad input (R-VAL-1).
    #[error("validation {code}: {message}")]
    Validation {
        code: String,
        message: String,
        field: Option<String>,
    },
    /// Several problems with one input, all reported at once (R-VAL-1); never empty.
    #[error("validation: {} problems", problems.len())]
    Invalid { problems: Vec<ErrorItem> },
    #[error("conflict {code}: {message}")]
    Conflict {
        code: String,
        message: String,
        field: Option<String>,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is larger than [`crate::BODY_LIMIT`].
    #[error("payload too large")]
    TooLarge,
    /// Anything else: logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The one answer to a failed login (S2): the same for an unknown user, a wrong password and a
/// locked account, so that it tells nobody which accounts exist or are locked.
pub const AUTH_FAILED_ZH: &str = "用户名或密码错误；连续失败 5 次，账户将锁定 15 分钟";

/// Seconds a client is asked to wait after a 429 (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 2;

impl AppError {
    pub fn validation(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        AppError::Validation {
            code: code.to_string(),
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden("role".into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::AuthFailed => StatusCode::UNAUTHORIZED,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden(_) | AppError::Csrf(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Validation { .. } | AppError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, message, field) = match self {
            AppError::Unauthenticated => ("AUTH_REQUIRED", "请先登录".to_string(), None),
            AppError::AuthFailed => ("AUTH_FAILED", AUTH_FAILED_ZH.to_string(), None),
            AppError::TooManyRequests => (
                "TOO_MANY_REQUESTS",
                "请求过于频繁，请稍后重试".to_string(),
                None,
            ),
            AppError::Forbidden(_) => ("FORBIDDEN", "您无权访问该页面或数据".to_string(), None),
            AppError::Csrf(_) => (
                "CSRF_REJECTED",
                "请求来源校验失败，请返回上一页刷新后重试".to_string(),
                None,
            ),
            AppError::NotFound(entity) => ("NOT_FOUND", format!("未找到{entity}"), None),
            AppError::MethodNotAllowed => (
                "METHOD_NOT_ALLOWED",
                "该地址不支持此请求方法".to_string(),
                None,
            ),
            AppError::Validation {
                code,
                message,
                field,
            } => {
                let item = ErrorItem {
                    code: code.clone(),
                    message: message.clone(),
                    field: field.clone(),
                };
                return ErrorBody {
                    code: item.code.clone(),
                    message: item.message.clone(),
                    field: item.field.clone(),
                    errors: vec![item],
                };
            }
            AppError::Invalid { problems } => {
                let first = problems.first().cloned().unwrap_or_else(|| ErrorItem {
                    code: "VALIDATION".into(),
                    message: "提交内容有误".into(),
                    field: None,
                });
                return ErrorBody {
                    code: first.code,
                    message: first.message,
                    field: first.field,
                    errors: problems.clone(),
                };
            }
            AppError::Conflict {
                code,
                message,
                field,
            } => {
                return ErrorBody {
                    code: code.clone(),
                    message: message.clone(),
                    field: field.clone(),
                    errors: Vec::new(),
                };
            }
            AppError::BadRequest(_) => ("BAD_REQUEST", "请求格式不正确".to_string(), None),
            AppError::TooLarge => ("PAYLOAD_TOO_LARGE", "提交的内容过大".to_string(), None),
            AppError::Internal(_) => ("INTERNAL", "系统内部错误，请稍后重试".to_string(), None),
        };
        ErrorBody {
            code: code.to_string(),
            message,
            field: field.map(str::to_string),
            errors: Vec::new(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        crate::store_map::map_store_error(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Forbidden(why) => tracing::info!(why = %why, "forbidden"),
            AppError::Csrf(why) => tracing::warn!(why = %why, "csrf rejected"),
            _ => tracing::debug!(error = %self, "request error"),
        }
        let body = self.body();
        let mut resp = (status, Json(body.clone())).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"peixun\""),
            );
        }
        resp.extensions_mut().insert(body);
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::TooLarge;
        }
        AppError::Validation {
            code: "BAD_JSON".into(),
            message: format!("请求内容不是有效的 JSON 或缺少字段：{}", e.body_text()),
            field: None,
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        let text = e.body_text();
        AppError::Validation {
            code: "BAD_QUERY".into(),
            message: format!("查询参数不正确：{text}"),
            field: query_error_field(&text),
        }
    }
}

/// The parameter a query rejection is about: axum reports `…query string: page: invalid digit…`.
fn query_error_field(text: &str) -> Option<String> {
    let rest = text.split_once("query string: ")?.1;
    let (field, _) = rest.split_once(": ")?;
    (!field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']'))
    .then(|| field.to_string())
}

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        AppError::NotFound("该记录".into())
    }
}

/// `axum::Json` whose rejection is an [`AppError`] (the API's error body).
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejection is an [`AppError`] naming the field, and which first
/// range-checks the numbers every list takes (hostile input never reaches the SQL binder):
/// `page` 1…[`PageRequest::MAX_PAGE`], `per_page` 1…[`PageRequest::MAX_PER_PAGE`], and any
/// integer `id`, `ids`, `after_id` or `…_id` 1…2⁶³−1. Out of range: 422 with the field.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        check_query_numbers(parts.uri.query().unwrap_or(""))?;
        let axum::extract::Query(v) = axum::extract::Query::<T>::try_from_uri(&parts.uri)?;
        Ok(ApiQuery(v))
    }
}

/// The range checks of [`ApiQuery`] on the raw query string.
pub fn check_query_numbers(query: &str) -> Result<(), AppError> {
    use peixun_store::PageRequest;
    let pairs: Vec<(String, String)> = match axum::extract::Query::try_from_uri(
        &format!("/?{query}")
            .parse::<axum::http::Uri>()
            .map_err(|_| AppError::validation("BAD_QUERY", "查询参数不正确", None))?,
    ) {
        Ok(axum::extract::Query(p)) => p,
        Err(e) => return Err(e.into()),
    };
    for (key, value) in &pairs {
        let v = value.trim();
        let out_of_range = |what: &str, lo: u64, hi: u64| {
            AppError::validation(
                "QUERY_OUT_OF_RANGE",
                format!("查询参数 {key}（{what}）须为 {lo}–{hi} 之间的整数"),
                Some(key),
            )
        };
        let in_range = |lo: u64, hi: u64| v.parse::<u64>().is_ok_and(|n| (lo..=hi).contains(&n));
        match key.as_str() {
            "page" if !v.is_empty() && !in_range(1, PageRequest::MAX_PAGE) => {
                return Err(out_of_range("页码", 1, PageRequest::MAX_PAGE));
            }
            "per_page" if !v.is_empty() && !in_range(1, PageRequest::MAX_PER_PAGE) => {
                return Err(out_of_range("每页条数", 1, PageRequest::MAX_PER_PAGE));
            }
            k if (k == "id" || k == "ids" || k.ends_with("_id") || k.ends_with("_ids")) => {
                // A list of ids may come comma-separated; only integers are range-checked (some
                // `…_id` parameters are file names or codes).
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let looks_numeric = part
                        .strip_prefix(['-', '+'])
                        .unwrap_or(part)
                        .chars()
                        .all(|c| c.is_ascii_digit());
                    if looks_numeric && !in_range_str(part, 1, i64::MAX as u64) {
                        return Err(out_of_range("编号", 1, i64::MAX as u64));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn in_range_str(s: &str, lo: u64, hi: u64) -> bool {
    s.parse::<u64>().is_ok_and(|n| (lo..=hi).contains(&n))
}

/// `axum::extract::Path` whose rejection is an [`AppError`] (a malformed id is "not found").
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
