//! Streamed `.xlsx` exports for lists that can be long (issue 12: 100,000 rows and more).
//!
//! The response (status and headers) leaves at once; the rows come from the database a page at
//! a time (keyset, so no connection is held between pages and a slow download never pins the
//! pool), are written by rust_xlsxwriter in its constant-memory mode (one row in memory, the
//! sheet in a temporary file), and the finished workbook is zipped straight into the response
//! in 64 KiB chunks. Both hand-offs are bounded channels, so a slow client slows the database
//! reads instead of filling memory: peak memory does not grow with the row count.
//!
//! A failure part-way (a database error, a client gone) aborts the response: the client gets
//! a broken download, never a well-formed file that silently lacks rows. A sheet that would
//! pass Excel's row limit ends with a row saying how many rows were left out.
//!
//! ```ignore
//! let (rows, response) = export_stream::xlsx(SHEET, HEADERS, "x.xlsx", "名称.xlsx");
//! tokio::spawn(async move {
//!     let mut after = None;
//!     loop {
//!         let page = match read_page(after).await { Ok(p) => p, Err(e) => return rows.fail(e) };
//!         if page.is_empty() { return rows.finish().await; }
//!         after = …;
//!         if !rows.send(page).await { return; } // the client went away
//!     }
//! });
//! Ok(response)
//! ```

use crate::export::{XLSX_CONTENT_TYPE, fit_cell};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::io::{self, Write};
use tokio::sync::mpsc;

/// The most rows one sheet holds (Excel's limit, the header row included).
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

enum RowMsg {
    Rows(Vec<Vec<String>>),
    Done,
    Failed(String),
}

/// Where the rows of a streamed export go. Dropping it without [`RowSink::finish`] aborts the
/// download (so a producer that panics or returns early never yields a truncated file).
pub struct RowSink {
    tx: mpsc::Sender<RowMsg>,
}

impl RowSink {
    /// Hands a page of rows to the writer; `false` when the download has ended (the client went
    /// away or the sheet is full): stop reading.
    pub async fn send(&self, rows: Vec<Vec<String>>) -> bool {
        self.tx.send(RowMsg::Rows(rows)).await.is_ok()
    }

    /// Every row was sent: the workbook is finished and its bytes follow.
    pub async fn finish(self) {
        let _ = self.tx.send(RowMsg::Done).await;
    }

    /// Reading failed: the download is aborted and the error logged.
    pub fn fail(self, error: impl std::fmt::Display) {
        let _ = self.tx.try_send(RowMsg::Failed(error.to_string()));
    }
}

/// The writer's end of the byte channel: buffers [`CHUNK`] bytes, then sends them.
struct ChunkWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "download closed"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send_buf()
    }
}

/// Builds the workbook from the rows as they arrive and zips it into `out` (blocking: runs on
/// a blocking thread). Returns the data rows written.
fn write_workbook(
    sheet: &str,
    headers: &[&str],
    mut rows: mpsc::Receiver<RowMsg>,
    out: &mut ChunkWriter,
) -> Result<u32, String> {
    let err = |e: XlsxError| format!("xlsx: {e}");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().map_err(err)?;
    ws.set_name(sheet).map_err(err)?;
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        ws.set_column_width(c as u16, 18).map_err(err)?;
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    let mut next: u32 = 1;
    let mut left_out: u64 = 0;
    loop {
        match rows.blocking_recv() {
            Some(RowMsg::Rows(page)) => {
                if out.tx.is_closed() {
                    return Err("the client closed the download".into());
                }
                for r in page {
                    // The last row of the sheet is kept for the note below.
                    if next >= EXCEL_MAX_ROWS - 1 {
                        left_out += 1;
                        continue;
                    }
                    for (c, v) in r.iter().enumerate() {
                        ws.write_string(next, c as u16, fit_cell(v).as_ref())
                            .map_err(err)?;
                    }
                    next += 1;
                }
            }
            Some(RowMsg::Done) => break,
            Some(RowMsg::Failed(e)) => return Err(e),
            None => return Err("the export's reader stopped before the end".into()),
        }
    }
    if left_out > 0 {
        ws.write_string(
            next,
            0,
            format!("（超出 Excel 单表行数上限，另有 {left_out} 条未导出；请缩小范围后分批导出）"),
        )
        .map_err(err)?;
    }
    drop(rows);
    wb.save_to_writer(&mut *out).map_err(err)?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(next - 1)
}

/// A streamed `.xlsx` attachment with one sheet: `sheet` named, `headers` in bold and frozen.
/// Returns the sink to send the rows to and the response to return at once. `filename` is
/// ASCII, `filename_zh` the Chinese name (RFC 5987).
pub fn xlsx(
    sheet: &'static str,
    headers: &'static [&'static str],
    filename: &str,
    filename_zh: &str,
) -> (RowSink, Response) {
    let (row_tx, row_rx) = mpsc::channel::<RowMsg>(2);
    let (byte_tx, mut byte_rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx: byte_tx,
            buf: Vec::with_capacity(CHUNK),
        };
        match write_workbook(sheet, headers, row_rx, &mut out) {
            Ok(n) => tracing::info!(rows = n, sheet, "streamed export finished"),
            Err(e) => {
                tracing::warn!(error = %e, sheet, "streamed export aborted");
                let _ = out
                    .tx
                    .blocking_send(Err(io::Error::other(format!("export aborted: {e}"))));
            }
        }
    });
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| {
        byte_rx.poll_recv(cx)
    }));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XLSX_CONTENT_TYPE),
    );
    let disposition = format!(
        "attachment; filename=\"{filename}\"; filename*=UTF-8''{}",
        crate::auth::urlencode(filename_zh)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    (RowSink { tx: row_tx }, resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn body_of(resp: Response) -> Result<Vec<u8>, axum::Error> {
        to_bytes(resp.into_body(), usize::MAX)
            .await
            .map(|b| b.to_vec())
    }

    #[tokio::test]
    async fn rows_sent_in_pages_make_one_sheet() {
        let (sink, resp) = xlsx("表", &["甲", "乙"], "t.xlsx", "表.xlsx");
        tokio::spawn(async move {
            for p in 0..3 {
                let page = (0..1000)
                    .map(|i| vec![format!("{p}-{i}"), "=1+1".to_string()])
                    .collect();
                assert!(sink.send(page).await);
            }
            sink.finish().await;
        });
        let bytes = body_of(resp).await.unwrap();
        assert_eq!(&bytes[..2], b"PK", "a zip file");
        assert!(bytes.len() > 1000);
    }

    #[tokio::test]
    async fn a_failed_read_aborts_the_download() {
        let (sink, resp) = xlsx("表", &["甲"], "t.xlsx", "表.xlsx");
        tokio::spawn(async move {
            assert!(sink.send(vec![vec!["1".into()]]).await);
            sink.fail("database gone");
        });
        assert!(body_of(resp).await.is_err());
    }

    #[tokio::test]
    async fn a_producer_that_stops_without_finishing_aborts_the_download() {
        let (sink, resp) = xlsx("表", &["甲"], "t.xlsx", "表.xlsx");
        tokio::spawn(async move {
            assert!(sink.send(vec![vec!["1".into()]]).await);
            drop(sink);
        });
        assert!(body_of(resp).await.is_err());
    }
}
