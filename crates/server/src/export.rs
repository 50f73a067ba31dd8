//! `.xlsx` exports of the lists. Cells are written as strings (never formulas), so a value such
//! as `=HYPERLINK(…)` stays text. Every export is audited (S10) before the file is sent.

use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{AppError, AppResult};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most rows one export may hold (a larger export will become a background job).
pub const MAX_EXPORT_ROWS: usize = 50_000;

/// When a list had more than [`MAX_EXPORT_ROWS`] rows (`rows` holds the first ones), adds a
/// last row saying so, so that a capped export is never mistaken for a complete one.
pub fn note_if_capped(rows: &mut Vec<Vec<String>>, total: usize) {
    if total > MAX_EXPORT_ROWS {
        rows.truncate(MAX_EXPORT_ROWS);
        rows.push(vec![format!(
            "（共 {total} 条，仅导出前 {MAX_EXPORT_ROWS} 条；请缩小范围后分批导出）"
        )]);
    }
}

/// The most characters Excel keeps in one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

/// A cell value that fits in a cell: one over [`MAX_CELL_CHARS`] is cut, with a visible marker
/// saying how long the original was (an export never fails on one long text).
pub fn fit_cell(v: &str) -> std::borrow::Cow<'_, str> {
    let n = v.chars().count();
    if n <= MAX_CELL_CHARS {
        return std::borrow::Cow::Borrowed(v);
    }
    let marker = format!("…[已截断，原文 {n} 字]");
    let keep = MAX_CELL_CHARS - marker.chars().count();
    let mut out: String = v.chars().take(keep).collect();
    out.push_str(&marker);
    std::borrow::Cow::Owned(out)
}

/// Builds the workbook bytes: one sheet, a bold header row, frozen.
pub fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    ws.set_name(sheet).map_err(err)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(err)?;
        ws.set_column_width(c as u16, 18).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string((r + 1) as u32, c as u16, fit_cell(v).as_ref())
                .map_err(err)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// An attachment response; `filename` is ASCII, `filename_zh` the Chinese name (RFC 5987).
pub fn xlsx_response(bytes: Vec<u8>, filename: &str, filename_zh: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"{filename}\"; filename*=UTF-8''{}",
        crate::auth::urlencode(filename_zh)
    );
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XLSX_CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Writes the export's audit row (action `export.<what>`, the filter and the row count).
pub async fn audit_export(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    what: &str,
    target_type: &str,
    detail: serde_json::Value,
) -> AppResult<()> {
    peixun_store::audit::record(
        &state.store,
        &user.actor(ctx),
        &format!("export.{what}"),
        target_type,
        None,
        detail,
        state.clock.now(),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cells_are_cut_with_a_marker() {
        assert_eq!(fit_cell("短"), "短");
        let exact = "字".repeat(MAX_CELL_CHARS);
        assert_eq!(fit_cell(&exact).chars().count(), MAX_CELL_CHARS);
        let long = "字".repeat(40_000);
        let cut = fit_cell(&long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(
            cut.ends_with("…[已截断，原文 40000 字]"),
            "{}",
            &cut[cut.len() - 60..]
        );
    }
}
