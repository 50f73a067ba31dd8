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
use chrono::{DateTime, FixedOffset, Utc};
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
    /// Bad username or password; the same answer for both (S2).
    #[error("authentication failed")]
    AuthFailed,
    /// The account is locked after repeated failures (S2).
    #[error("account locked")]
    Locked { until: Option<DateTime<Utc>> },
    /// Too many requests.
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
            AppError::Locked { .. } => StatusCode::LOCKED,
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
            AppError::AuthFailed => ("AUTH_FAILED", "用户名或密码错误".to_string(), None),
            AppError::Locked { until } => {
                let msg = match until {
                    Some(t) => {
                        let cst = FixedOffset::east_opt(8 * 3600).expect("valid offset");
                        format!(
                            "登录失败次数过多，账户已临时锁定，请于 {} 后重试",
                            t.with_timezone(&cst).format("%H:%M")
                        )
                    }
                    None => "登录失败次数过多，账户已临时锁定，请稍后重试".to_string(),
                };
                ("ACCOUNT_LOCKED", msg, None)
            }
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
        AppError::Validation {
            code: "BAD_QUERY".into(),
            message: format!("查询参数不正确：{}", e.body_text()),
            field: None,
        }
    }
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

/// `axum::extract::Query` whose rejection is an [`AppError`].
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejection is an [`AppError`] (a malformed id is "not found").
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
