//! Exam results, certificate codes and public verification (R-CRT-1, R-CRT-2): the class's
//! results page (entry table, import, the centre's confirmation), its certificate list with a QR
//! code per code and an .xlsx export, revocation, and `/verify` for anyone. Pages and the JSON
//! API call the same store services (`peixun_store::{results, certificates}`).

pub mod api;
pub mod pages;
pub mod register;

use super::Registrar;
use crate::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub fn register(r: Registrar) -> Registrar {
    register::register(pages::register(api::register(r)))
}

/// The verification answer for an unknown code and a wrong name alike (R-CRT-2): the same
/// status and the same body.
pub const NOT_FOUND_CODE: &str = "CERT_NOT_FOUND";
pub const NOT_FOUND_MESSAGE: &str = "未找到与该证书编码和姓名相符的合格证书，请核对后重试";

/// Take one verification for the client address; `Err` is the 429 answer with `Retry-After`.
pub(crate) fn limit(state: &AppState, ip: Option<&str>) -> Result<(), u64> {
    state
        .verify_limiter
        .check(ip.unwrap_or("unknown"))
        .map_err(crate::rate_limit::retry_after_secs)
}

pub(crate) fn with_retry_after(mut resp: Response, secs: u64) -> Response {
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The address the QR codes link to: the public origin when configured, else this request's
/// host.
pub(crate) fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(o) = &state.config.public_origin {
        return o.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// A QR code (SVG from the `qrcode` crate) for `url`, as a `data:` URI for an `<img>`.
pub(crate) fn qr_data_uri(url: &str) -> Option<String> {
    use qrcode::QrCode;
    use qrcode::render::svg;
    let code = QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(120, 120)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml,{}",
        crate::auth::urlencode(&svg)
    ))
}

/// The verification link of a code.
pub(crate) fn verify_url(origin: &str, code: &str) -> String {
    format!("{origin}/verify?code={}", crate::auth::urlencode(code))
}

pub(crate) fn not_found_response() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(crate::error::ErrorBody {
            code: NOT_FOUND_CODE.into(),
            message: NOT_FOUND_MESSAGE.into(),
            field: None,
            errors: Vec::new(),
        }),
    )
        .into_response()
}
