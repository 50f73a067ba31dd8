//! Who is calling: the session cookie or a bearer token is looked up once per request
//! ([`authenticate`]); the route table ([`crate::routes::ROUTES`]) then decides whether the
//! caller's role may use the route ([`authorize`]). Record-level checks (S6) live in the store.

use crate::AppState;
use crate::error::AppError;
use crate::routes::{Access, access_for};
use crate::security::{self, SESSION_COOKIE};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use peixun_domain::role::Role;
use peixun_store::Actor;
use peixun_store::accounts::UserView;
use std::net::SocketAddr;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Cookie,
    Bearer,
}

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserView,
    pub role: Role,
    pub token: String,
    pub csrf_token: String,
    pub via: Via,
    /// The role requires TOTP (S4), the account is not exempt and has no enabled
    /// authenticator: it may reach only the enrolment routes until it enrols.
    pub totp_enrolment_required: bool,
}

impl CurrentUser {
    pub fn actor(&self, ctx: &RequestCtx) -> Actor {
        Actor::from_user(&self.user, ctx.ip.clone(), Some(ctx.request_id.clone()))
    }
}

/// Per-request facts the audit log needs: source address and request id.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub ip: Option<String>,
}

impl RequestCtx {
    /// An actor for work done before anyone signed in (login).
    pub fn anonymous_actor(&self) -> Actor {
        Actor {
            user_id: None,
            username: String::new(),
            role: None,
            institution_id: None,
            ip: self.ip.clone(),
            request_id: Some(self.request_id.clone()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CurrentUser>().cloned())
    }
}

/// Gives every request an id (echoed in `x-request-id`), notes the peer address, runs the request
/// in a span carrying the id, and logs one line per request: method, route pattern (never the
/// query string, which may hold personal data, S12), status and time.
/// The client address is the peer's, or behind a trusted proxy the one it forwarded
/// ([`crate::guard::client_ip`]). A 500 names the request id in its body, so that a user's report
/// finds the log line.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    use tracing::Instrument;
    let request_id = security::random_token()[..16].to_string();
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    let ip = crate::guard::client_ip(peer, req.headers(), &state.config.trusted_proxies)
        .map(|ip| ip.to_string());
    req.extensions_mut().insert(RequestCtx {
        request_id: request_id.clone(),
        ip,
    });
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "-".into());
    let span = tracing::info_span!("request", id = %request_id, %method, route = %route);
    let start = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            ms = start.elapsed().as_millis() as u64,
            "done"
        )
    });
    if resp.status() == axum::http::StatusCode::INTERNAL_SERVER_ERROR
        && let Some(body) = resp.extensions().get::<crate::ErrorBody>().cloned()
    {
        // JSON errors: the same body with the request id in the message.
        let mut body = body;
        body.message = format!("{}（请求编号：{request_id}）", body.message);
        let mut fresh = (resp.status(), axum::Json(body.clone())).into_response();
        for (k, v) in resp.headers() {
            if k != header::CONTENT_LENGTH && k != header::CONTENT_TYPE {
                fresh.headers_mut().insert(k.clone(), v.clone());
            }
        }
        fresh.extensions_mut().insert(body);
        resp = fresh;
    }
    if let Ok(v) = request_id.parse() {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Looks the session up (bearer token first, then the cookie) and puts a [`CurrentUser`] in the
/// request extensions. An unknown or expired token is simply "anonymous".
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let found = match bearer(&req) {
        Some(t) => Some((t, Via::Bearer)),
        None => security::get_cookie(req.headers(), SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .map(|t| (t, Via::Cookie)),
    };
    if let Some((token, via)) = found {
        let now = state.clock.now();
        let checked = match state.sessions.get(&token, now) {
            Some(c) => Some(c),
            None => match check_session(&state, &token, now).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            },
        };
        if let Some(c) = checked {
            req.extensions_mut().insert(CurrentUser {
                role: c.info.user.role,
                user: c.info.user,
                token,
                csrf_token: c.info.csrf_token,
                via,
                totp_enrolment_required: c.totp_enrolment_required,
            });
        }
    }
    // A write may have ended a session or changed an account: its transaction has committed
    // when the handler returns, so the session checks cached before it are dropped now
    // (crate::session_cache).
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let resp = next.run(req).await;
    if writes {
        state.sessions.invalidate();
    }
    resp
}

/// The session check from the database (the session, its account, and whether the account
/// must still enrol a second factor), remembered in [`AppState::sessions`].
async fn check_session(
    state: &AppState,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::session_cache::Checked>, AppError> {
    let generation = state.sessions.generation();
    let Some(info) = peixun_store::sessions::lookup_session(&state.store, token, now).await? else {
        state.sessions.remove(token);
        return Ok(None);
    };
    let totp_enrolment_required = info.user.role.requires_second_factor()
        && peixun_store::totp::enrolment_required(&state.store, info.user.id).await?;
    let checked = crate::session_cache::Checked {
        info,
        totp_enrolment_required,
    };
    state.sessions.put(token, generation, checked.clone());
    Ok(Some(checked))
}

/// Deny by default: the route must be in the table and the caller's role allowed by it (S5).
/// Also sends a user who must change their password to the password page, a user who must
/// enrol a TOTP authenticator to the enrolment page (S4; both gates let through only the
/// `Session` routes: sign out, password, TOTP enrolment, `me`), and checks the
/// `X-CSRF-Token` header on cookie-authenticated API writes.
pub async fn authorize(req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
    else {
        // No route matched: the fallback answers 404/405.
        return next.run(req).await;
    };
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let Some(access) = access_for(method.as_str(), &path) else {
        if crate::routes::ROUTES.iter().any(|d| d.path == path) {
            // A method the route does not have: no handler runs, the router answers 405.
            return next.run(req).await;
        }
        tracing::error!(%method, %path, "route missing from the access table");
        return AppError::forbidden().into_response();
    };
    let user = req.extensions().get::<CurrentUser>();
    let is_api = path.starts_with("/api/");
    match (access, user) {
        (Access::Public, _) => {}
        (_, None) => {
            if is_api {
                return AppError::Unauthenticated.into_response();
            }
            let next_url = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = if method == Method::GET {
                format!("/login?next={}", urlencode(next_url))
            } else {
                "/login".to_string()
            };
            return Redirect::to(&target).into_response();
        }
        (access, Some(u)) => {
            if !access.allows(u.role) {
                return AppError::forbidden().into_response();
            }
            if u.user.must_change_password && !access.allowed_before_password_change() {
                if is_api {
                    return AppError::Forbidden("password change required".into()).into_response();
                }
                return Redirect::to("/account/password").into_response();
            }
            if u.totp_enrolment_required && !access.allowed_before_password_change() {
                if is_api {
                    tracing::info!("second factor enrolment required");
                    let body = crate::ErrorBody {
                        code: "TOTP_ENROLMENT_REQUIRED".into(),
                        message: "您的角色须先设置动态验证码（S4）：POST /api/v1/auth/totp/enrol，再 POST /api/v1/auth/totp/confirm".into(),
                        field: None,
                        errors: Vec::new(),
                    };
                    let mut resp = (axum::http::StatusCode::FORBIDDEN, axum::Json(body.clone()))
                        .into_response();
                    resp.extensions_mut().insert(body);
                    return resp;
                }
                return Redirect::to("/account/totp").into_response();
            }
            if is_api
                && u.via == Via::Cookie
                && method != Method::GET
                && !req
                    .headers()
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| security::constant_time_eq(t, &u.csrf_token))
            {
                return AppError::Csrf("api cookie without x-csrf-token").into_response();
            }
        }
    }
    next.run(req).await
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only a same-site path may be a redirect target after login (no open redirect): it starts with
/// a single `/`, holds no `\\`, no control character and no whitespace (raw or percent-encoded
/// `%09`, `%0A`…: browsers strip tabs and newlines, so `/\t/evil.example` would become
/// `//evil.example`), is not `//…` once such characters are gone, and parses as a URI path.
/// Anything else gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_same_site_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_same_site_path(n: &str) -> bool {
    if n.len() > 2048 || !n.starts_with('/') {
        return false;
    }
    if n.chars().any(|c| {
        c == '\\' || c.is_control() || c.is_whitespace() || peixun_domain::text::is_bidi_control(c)
    }) {
        return false;
    }
    // Percent-encoded controls, spaces and backslashes are refused as well.
    let lower = n.to_ascii_lowercase();
    if lower.contains("%5c")
        || lower
            .match_indices('%')
            .any(|(i, _)| matches!(lower.get(i + 1..i + 3), Some(h) if h.starts_with('0') || h.starts_with('1') || h == "20" || h == "7f"))
    {
        return false;
    }
    let stripped: String = n.chars().filter(|c| !c.is_whitespace()).collect();
    if stripped.starts_with("//") || stripped.starts_with("/%2f") || stripped.starts_with("/%2F") {
        return false;
    }
    // Must be a path (and query) that a Location header can carry.
    matches!(
        n.parse::<axum::http::Uri>(),
        Ok(u) if u.scheme().is_none() && u.authority().is_none()
    ) && axum::http::HeaderValue::from_str(n).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/institutions?q=1")), "/institutions?q=1");
        assert_eq!(safe_next(Some("//evil.com")), "/");
        assert_eq!(safe_next(Some("https://evil.com")), "/");
        assert_eq!(safe_next(Some("/\\evil.com")), "/");
        assert_eq!(safe_next(None), "/");
    }

    /// The attack strings of the issue and their relatives: all end up at `/`.
    #[test]
    fn s19_next_attack_strings_go_home() {
        for bad in [
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\n/evil.example",
            "/%09/evil.example/",
            "/%0a/evil.example/",
            "/%0D%0ASet-Cookie:x=1",
            "/ /evil.example",
            "/\u{3000}/evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "/%5cevil.example",
            "/%2f/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/\u{202E}x",
            "/a\u{0}b",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        for good in [
            "/",
            "/classes/3",
            "/audit?action=auth.login&page=2",
            "/rounds/1/filings?page=2&q=%E5%B9%BF",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
    }
}
