//! The class archive 一期一档 (R-ARC-1, R-ARC-2): the trainee × document matrix with its
//! completeness, uploads one by one or as one .zip, the whole archive as a .zip with an index,
//! and 归档 by the centre. Pages and the JSON API call the same store services
//! (`peixun_store::archive`); who may see or change which class is decided there (S6).

pub mod api;
pub mod pages;

use super::Registrar;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use peixun_store::archive::ArchiveDownload;
use peixun_store::files::content_disposition;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// Largest bulk .zip request (the store refuses above `MAX_ZIP_BYTES` with a clear message; the
/// margin covers the multipart framing).
pub const ZIP_UPLOAD_LIMIT: usize = peixun_store::archive::MAX_ZIP_BYTES + 1024 * 1024;

/// A POST route taking a bulk .zip.
pub(crate) fn zip_upload<H, T>(h: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(h).layer(DefaultBodyLimit::max(ZIP_UPLOAD_LIMIT))
}

/// The archive .zip as a download (attachment, nosniff, never cached).
pub(crate) fn zip_response(dl: ArchiveDownload) -> Response {
    let mut resp = dl.bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&dl.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
