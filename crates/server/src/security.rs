//! HTTP hardening (SECURITY.md S3, S19): security headers on every response, the session cookie,
//! and the Origin / Sec-Fetch-Site check that refuses cross-site state changes.

use crate::AppState;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const SESSION_COOKIE: &str = "peixun_session";
/// Double-submit cookie that protects the login form, where no session exists yet.
pub const LOGIN_CSRF_COOKIE: &str = "peixun_login_csrf";

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response, errors and static files included.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A download of an uploaded file keeps its stricter sandboxing CSP (S16).
    let sandboxed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("sandbox"));
    if !sandboxed {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if is_static {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("public, max-age=3600"));
    } else {
        // Pages and API responses may carry personal data (S19): never cache them, unless the
        // handler said otherwise (the public bulletin: `no-cache` with an ETag).
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    resp
}

/// Refuses unsafe requests that a browser marks as cross-site (S19). Requests without either
/// header (API clients, curl) pass: they cannot carry a victim's cookie by accident.
pub async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_unsafe(req.method())
        && let Err(e) = check_origin(req.headers(), state.config.public_origin.as_deref())
    {
        return e.into_response();
    }
    next.run(req).await
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

pub fn check_origin(headers: &HeaderMap, public_origin: Option<&str>) -> Result<(), AppError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        match site.to_str().unwrap_or("") {
            "same-origin" | "none" => {}
            _ => return Err(AppError::Csrf("sec-fetch-site")),
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if origin == "null" {
            return Err(AppError::Csrf("origin null"));
        }
        let ok = match public_origin {
            Some(p) => origin.eq_ignore_ascii_case(p.trim_end_matches('/')),
            None => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("");
                let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or("");
                !host.is_empty() && authority.eq_ignore_ascii_case(host)
            }
        };
        if !ok {
            return Err(AppError::Csrf("origin mismatch"));
        }
    }
    Ok(())
}

/// The value of one cookie from the `Cookie` headers.
pub fn get_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

pub fn cookie(
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    cookie(SESSION_COOKIE, token, "/", secure, None)
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    cookie(SESSION_COOKIE, "", "/", secure, Some(0))
}

/// A random URL-safe token (hex of 32 random bytes).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn s19_cross_site_origin_is_refused() {
        assert!(
            check_origin(
                &h(&[("host", "a.gov.cn"), ("origin", "https://evil.com")]),
                None
            )
            .is_err()
        );
        assert!(check_origin(&h(&[("host", "a.gov.cn"), ("origin", "null")]), None).is_err());
        assert!(check_origin(&h(&[("sec-fetch-site", "cross-site")]), None).is_err());
        assert!(check_origin(&h(&[("sec-fetch-site", "same-site")]), None).is_err());
    }

    #[test]
    fn s19_same_origin_and_non_browser_pass() {
        assert!(
            check_origin(
                &h(&[("host", "a.gov.cn"), ("origin", "https://a.gov.cn")]),
                None
            )
            .is_ok()
        );
        assert!(check_origin(&h(&[("sec-fetch-site", "same-origin")]), None).is_ok());
        assert!(check_origin(&h(&[]), None).is_ok());
        assert!(
            check_origin(
                &h(&[("host", "internal:8080"), ("origin", "https://px.gov.cn")]),
                Some("https://px.gov.cn/")
            )
            .is_ok()
        );
    }

    #[test]
    fn cookies_are_parsed() {
        let m = h(&[("cookie", "a=1; peixun_session=abc; b=2")]);
        assert_eq!(get_cookie(&m, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(get_cookie(&m, "c"), None);
    }
}
