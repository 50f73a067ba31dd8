//! The TOTP second factor (SECURITY.md S4) in pages and in the API: the second step of a login
//! (`/login/totp`, `POST /api/v1/auth/totp/verify`), and the account's own enrolment, status and
//! turning off (`/account/totp…`, `/api/v1/auth/totp/…`). Both call `peixun_store::totp`; an
//! account whose role requires TOTP reaches only these routes until it has enrolled
//! ([`crate::auth::authorize`]).

pub mod api;
pub mod pages;

use super::Registrar;

/// The cookie that carries a login's second-step challenge (five minutes, only under `/login`).
pub const CHALLENGE_COOKIE: &str = "peixun_login_2fa";

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// The QR code of an `otpauth://` URL as an SVG document (`qrcode` crate).
pub(crate) fn qr_svg(url: &str) -> Option<String> {
    super::surveys::qr_svg(url)
}
