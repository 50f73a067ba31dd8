//! The trainee satisfaction survey (满意度调查, R-EVA-3): the public page behind `/s/{token}`
//! (no sign-in, no JavaScript, phone-first), the class page's survey section with its link and
//! QR code, the round's survey page (response rate and mean ratings per class; the centre edits
//! the round's questionnaire there) and the JSON API under `/api/v1/surveys/…`. Pages and API
//! call the same store services (`peixun_store::surveys`).
//!
//! Answers are rate-limited per client address and per survey link (429 with `Retry-After`),
//! like the certificate verification.

pub mod api;
pub mod pages;

use super::Registrar;
use crate::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// Take one answer for the client address and the survey link; `Err` is the wait in seconds.
pub(crate) fn limit(state: &AppState, ip: Option<&str>, token: &str) -> Result<(), u64> {
    state
        .survey_ip_limiter
        .check(ip.unwrap_or("unknown"))
        .map_err(crate::rate_limit::retry_after_secs)?;
    // Bound the key: a token is 32 characters.
    let key: String = token.chars().take(40).collect();
    state
        .survey_token_limiter
        .check(&key)
        .map_err(crate::rate_limit::retry_after_secs)
}

pub(crate) fn too_many(secs: u64) -> Response {
    let mut resp = crate::error::AppError::TooManyRequests.into_response();
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The survey's public address.
pub(crate) fn survey_url(origin: &str, token: &str) -> String {
    format!("{origin}/s/{token}")
}

pub(crate) fn origin(state: &AppState, headers: &HeaderMap) -> String {
    super::certificates::origin(state, headers)
}

/// The QR code of `url` as an SVG document (`qrcode` crate).
pub(crate) fn qr_svg(url: &str) -> Option<String> {
    use qrcode::QrCode;
    use qrcode::render::svg;
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}
