//! Reading a roster (花名册) from .xlsx or .csv bytes into [`RawRow`]s (R-FIL-2, SECURITY.md S22).
//!
//! * The type comes from the content ([`sniff`]); the declared type only picks the error message.
//! * .xlsx: the first worksheet, streamed cell by cell (calamine). Cells become the text the clerk
//!   sees: integers as integer text (`12345678`, never `1.2345678e7`), text as text, dates as
//!   `YYYY-MM-DD`. An 18-digit ID typed into a *number* cell has already lost its last digits
//!   inside Excel (15 significant digits); it is read as the digits Excel kept, fails the check
//!   digit, and [`read_roster_detailed`] adds a note saying to format the column as text.
//! * .csv: UTF-8 with or without BOM, else GB18030/GBK (what Excel in China saves).
//! * The header row is the first of the first [`HEADER_SEARCH_ROWS`] non-blank rows that
//!   [`rows_from_table`] accepts; row numbers are the spreadsheet's (header = row 1 when it is on
//!   the first line). Wholly blank rows are dropped.
//! * Limits: [`MAX_FILE_BYTES`], [`MAX_ROWS`], [`MAX_COLUMNS`], [`MAX_CELL_CHARS`], and for .xlsx
//!   [`MAX_UNPACKED_BYTES`] (a zip bomb is refused before it is unpacked).
//!
//! No input panics: every failure is an [`ImportError`] with a stable code and a Chinese message.

use crate::sniff::{FileType, decode_gb18030, is_legacy_office, sniff};
use calamine::{DataRef, Reader, Xlsx};
use peixun_domain::roster::{COL_ID_NUMBER, RawRow, RowProblem, rows_from_table};
use std::collections::BTreeMap;
use std::io::Cursor;

/// Largest roster file accepted (10 MiB; a 20,000-row .xlsx is about 1 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest total unpacked size of an .xlsx's entries.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Most data rows (non-blank, after the header).
pub const MAX_ROWS: usize = 20_000;
/// Most columns a row may use.
pub const MAX_COLUMNS: usize = 100;
/// Longest cell, in characters.
pub const MAX_CELL_CHARS: usize = 1_000;
/// How many leading non-blank rows may be the header (a title row above it is allowed).
pub const HEADER_SEARCH_ROWS: usize = 10;

/// Why a file could not be read as a roster. `problems` lists the missing headers for
/// `IMPORT_NO_HEADER`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ImportError {
    /// `IMPORT_TOO_LARGE`, `IMPORT_EMPTY`, `IMPORT_NOT_SPREADSHEET`, `IMPORT_LEGACY_XLS`,
    /// `IMPORT_DANGEROUS`, `IMPORT_ENCODING`, `IMPORT_CORRUPT`, `IMPORT_NO_SHEET`,
    /// `IMPORT_NO_HEADER`, `IMPORT_TOO_MANY_ROWS`, `IMPORT_TOO_MANY_COLUMNS`,
    /// `IMPORT_CELL_TOO_LONG`, `IMPORT_TEMPLATE`.
    pub code: &'static str,
    /// Chinese, safe to show.
    pub message: String,
    pub problems: Vec<RowProblem>,
}

impl ImportError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> ImportError {
        ImportError {
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

/// What [`read_roster_detailed`] found: the rows and notes about how cells were read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RosterRead {
    pub rows: Vec<RawRow>,
    /// E.g. `IMPORT_ID_AS_NUMBER`: an ID number stored as a number in Excel (digits lost).
    pub notes: Vec<RowProblem>,
    /// What the content turned out to be (`Xlsx` or `Csv`).
    pub file_type: Option<FileType>,
}

/// Read a roster from the file's bytes. `declared` is the type the upload claimed (from its name
/// or Content-Type); only the content decides, `declared` only makes errors clearer.
pub fn read_roster(bytes: &[u8], declared: Option<FileType>) -> Result<Vec<RawRow>, ImportError> {
    read_roster_detailed(bytes, declared).map(|r| r.rows)
}

/// [`read_roster`] with notes about cells (numeric ID numbers).
pub fn read_roster_detailed(
    bytes: &[u8],
    declared: Option<FileType>,
) -> Result<RosterRead, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::new(
            "IMPORT_TOO_LARGE",
            format!(
                "文件过大（{:.1} MB），花名册文件不能超过{} MB",
                bytes.len() as f64 / 1024.0 / 1024.0,
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(ImportError::new(
            "IMPORT_EMPTY",
            "文件为空，请重新选择花名册文件",
        ));
    }
    let (table, notes, file_type) = match sniff(bytes) {
        Some(FileType::Xlsx) => {
            let (t, n) = read_xlsx(bytes)?;
            (t, n, FileType::Xlsx)
        }
        Some(FileType::Csv) => (read_csv(bytes)?, Vec::new(), FileType::Csv),
        Some(FileType::Dangerous) => {
            return Err(ImportError::new(
                "IMPORT_DANGEROUS",
                "文件内容是网页或脚本，不是花名册，已拒收",
            ));
        }
        None if is_legacy_office(bytes) => {
            return Err(ImportError::new(
                "IMPORT_LEGACY_XLS",
                "不支持旧版Excel（.xls）文件，请在Excel中“另存为”Excel工作簿（.xlsx）后上传",
            ));
        }
        None if declared == Some(FileType::Csv) => {
            return Err(ImportError::new(
                "IMPORT_ENCODING",
                "无法识别CSV文件的编码，请将CSV另存为UTF-8编码后上传",
            ));
        }
        other => {
            let what = other.map(|t| t.label_zh()).unwrap_or("无法识别的文件");
            return Err(ImportError::new(
                "IMPORT_NOT_SPREADSHEET",
                format!(
                    "文件内容为{what}，花名册须为Excel表格（.xlsx）或CSV文件，请使用系统提供的模板"
                ),
            ));
        }
    };
    let rows = rows_with_header(table)?;
    let mut notes = notes;
    notes.retain(|n| rows.iter().any(|r| Some(r.row_number) == n.row_number));
    Ok(RosterRead {
        rows,
        notes,
        file_type: Some(file_type),
    })
}

/// A table read from a file: sheet row number (1-based) → cells by column.
pub(crate) struct Table {
    pub(crate) rows: BTreeMap<u32, Vec<String>>,
    /// Column index of 证件号码 is not known until the header is; numeric cells are noted by
    /// (row, column) and filtered later.
    numeric_id_candidates: Vec<(u32, usize)>,
}

pub(crate) fn too_many_rows() -> ImportError {
    ImportError::new(
        "IMPORT_TOO_MANY_ROWS",
        format!("花名册行数过多，一次最多导入{MAX_ROWS}行"),
    )
}

fn too_many_columns(row: u32) -> ImportError {
    ImportError::new(
        "IMPORT_TOO_MANY_COLUMNS",
        format!("第{row}行使用的列超过{MAX_COLUMNS}列，请使用系统提供的花名册模板"),
    )
}

fn check_cell(row: u32, col: usize, s: &str) -> Result<(), ImportError> {
    if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
        return Err(ImportError::new(
            "IMPORT_CELL_TOO_LONG",
            format!(
                "第{row}行第{}列内容过长（超过{MAX_CELL_CHARS}个字符）",
                col + 1
            ),
        ));
    }
    Ok(())
}

pub(crate) fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// Find the header among the first non-blank rows, map the rest with [`rows_from_table`], keep
/// spreadsheet row numbers, drop blank rows.
fn rows_with_header(table: Table) -> Result<Vec<RawRow>, ImportError> {
    let candidates: Vec<u32> = table
        .rows
        .iter()
        .filter(|(_, cells)| !is_blank(cells))
        .map(|(&n, _)| n)
        .take(HEADER_SEARCH_ROWS)
        .collect();
    let Some(&first) = candidates.first() else {
        return Err(ImportError::new(
            "IMPORT_NO_HEADER",
            "文件中没有内容，请使用系统提供的花名册模板填写后上传",
        ));
    };
    let mut first_problems = None;
    for header_row in candidates {
        let header = &table.rows[&header_row];
        match rows_from_table(header, &[]) {
            Ok(_) => {
                // Records: every sheet row after the header, blank ones included so that
                // rows_from_table's numbering (header + 1, + 2, …) matches the sheet's.
                let last = table.rows.keys().next_back().copied().unwrap_or(header_row);
                let mut records: Vec<Vec<String>> =
                    Vec::with_capacity((last - header_row) as usize);
                for n in header_row + 1..=last {
                    records.push(table.rows.get(&n).cloned().unwrap_or_default());
                }
                let rows = rows_from_table(header, &records).map_err(no_header)?;
                let shift = header_row - 1;
                let rows: Vec<RawRow> = rows
                    .into_iter()
                    .filter(|r| !is_blank(&r.cells))
                    .map(|r| RawRow {
                        row_number: r.row_number + shift,
                        cells: r.cells,
                    })
                    .collect();
                if rows.len() > MAX_ROWS {
                    return Err(too_many_rows());
                }
                return Ok(rows);
            }
            Err(p) => {
                if header_row == first {
                    first_problems = Some(p);
                }
            }
        }
    }
    Err(no_header(first_problems.unwrap_or_default()))
}

fn no_header(problems: Vec<RowProblem>) -> ImportError {
    let missing: Vec<&str> = problems.iter().filter_map(|p| p.column).collect();
    ImportError {
        code: "IMPORT_NO_HEADER",
        message: if missing.is_empty() {
            "未找到花名册表头，请使用系统提供的花名册模板".into()
        } else {
            format!(
                "未找到花名册表头：缺少“{}”列，请使用系统提供的花名册模板",
                missing.join("”“")
            )
        },
        problems,
    }
}

// ---------------------------------------------------------------------------------------------
// xlsx

fn corrupt(detail: impl std::fmt::Display) -> ImportError {
    // The detail is calamine's (English, no personal data); kept short.
    let detail = detail.to_string();
    let detail: String = detail.chars().take(120).collect();
    ImportError::new(
        "IMPORT_CORRUPT",
        format!("Excel文件已损坏或格式不正确，请在Excel中重新保存后上传（{detail}）"),
    )
}

/// Refuse a zip whose entries unpack to more than [`MAX_UNPACKED_BYTES`] (a zip bomb). The
/// entries are really inflated (into nothing) rather than trusting the sizes the archive
/// declares, which an attacker writes.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), ImportError> {
    use std::io::Read;
    let too_large = || {
        ImportError::new(
            "IMPORT_TOO_LARGE",
            format!(
                "Excel文件解压后过大（超过{} MB），请只保留花名册工作表后重新上传",
                MAX_UNPACKED_BYTES / 1024 / 1024
            ),
        )
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(corrupt)?;
        declared = declared.saturating_add(f.size());
    }
    if declared > MAX_UNPACKED_BYTES {
        return Err(too_large());
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(corrupt)?;
        let budget = MAX_UNPACKED_BYTES - total;
        let n = std::io::copy(&mut f.take(budget + 1), &mut std::io::sink()).map_err(corrupt)?;
        total += n;
        if total > MAX_UNPACKED_BYTES {
            return Err(too_large());
        }
    }
    Ok(())
}

pub(crate) fn read_xlsx(bytes: &[u8]) -> Result<(Table, Vec<RowProblem>), ImportError> {
    check_unpacked_size(bytes)?;
    // calamine is not known to panic on bad input, but a roster upload must never take the
    // server down: a panic inside it becomes IMPORT_CORRUPT.
    let result = std::panic::catch_unwind(|| read_xlsx_inner(bytes));
    let table = match result {
        Ok(r) => r?,
        Err(_) => return Err(corrupt("parser panic")),
    };
    let notes = numeric_id_notes(&table);
    Ok((table, notes))
}

/// Notes for numeric cells in the 证件号码 column (found once the header is known).
fn numeric_id_notes(table: &Table) -> Vec<RowProblem> {
    if table.numeric_id_candidates.is_empty() {
        return Vec::new();
    }
    // Locate the 证件号码 column in the first row that has it.
    let id_col = table
        .rows
        .iter()
        .filter(|(_, c)| !is_blank(c))
        .take(HEADER_SEARCH_ROWS)
        .find_map(|(&n, cells)| {
            cells
                .iter()
                .position(|c| c.trim() == COL_ID_NUMBER)
                .map(|i| (n, i))
        });
    let Some((header_row, col)) = id_col else {
        return Vec::new();
    };
    table
        .numeric_id_candidates
        .iter()
        .filter(|&&(r, c)| c == col && r > header_row)
        .map(|&(r, _)| RowProblem {
            row_number: Some(r),
            column: Some(COL_ID_NUMBER),
            code: "IMPORT_ID_AS_NUMBER",
            message: "证件号码以“数字”格式保存，Excel只保留15位有效数字，末尾数字已丢失；\
                      请将该列设置为“文本”格式后重新填写"
                .into(),
        })
        .collect()
}

fn read_xlsx_inner(bytes: &[u8]) -> Result<Table, ImportError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(corrupt)?;
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(ImportError::new(
            "IMPORT_NO_SHEET",
            "Excel文件中没有工作表，请使用系统提供的花名册模板",
        ));
    };
    let mut reader = book.worksheet_cells_reader(&name).map_err(corrupt)?;
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut numeric_id_candidates = Vec::new();
    // Header search rows + data rows + as many blank rows again: more than this is refused
    // before anything large is built.
    let max_row_index = (MAX_ROWS + HEADER_SEARCH_ROWS) as u32 * 2;
    while let Some(cell) = reader.next_cell().map_err(corrupt)? {
        let (r, c) = cell.get_position();
        let (text, big_number) = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let row = r.saturating_add(1);
        let col = c as usize;
        if col >= MAX_COLUMNS {
            return Err(too_many_columns(row));
        }
        if r >= max_row_index {
            return Err(too_many_rows());
        }
        check_cell(row, col, &text)?;
        if big_number {
            numeric_id_candidates.push((row, col));
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= col {
            cells.resize(col + 1, String::new());
        }
        cells[col] = text;
    }
    Ok(Table {
        rows,
        numeric_id_candidates,
    })
}

/// The text a cell shows, and whether it is a number too large for Excel to hold exactly
/// (≥ 10^15: an ID number typed as a number).
fn cell_text(v: &DataRef<'_>) -> (String, bool) {
    match v {
        DataRef::Empty => (String::new(), false),
        DataRef::String(s) => (s.clone(), false),
        DataRef::SharedString(s) => ((*s).to_string(), false),
        DataRef::Int(i) => (i.to_string(), false),
        DataRef::Float(f) => (number_text(*f), f.is_finite() && f.abs() >= 1e15),
        DataRef::Bool(b) => ((if *b { "TRUE" } else { "FALSE" }).to_string(), false),
        DataRef::DateTime(dt) => {
            if dt.is_datetime()
                && let Some(d) = dt.as_datetime()
            {
                if d.time() == chrono::NaiveTime::MIN {
                    (d.format("%Y-%m-%d").to_string(), false)
                } else {
                    (d.format("%Y-%m-%d %H:%M:%S").to_string(), false)
                }
            } else {
                (number_text(dt.as_f64()), false)
            }
        }
        DataRef::DateTimeIso(s) => (s.strip_suffix("T00:00:00").unwrap_or(s).to_string(), false),
        DataRef::DurationIso(s) => (s.clone(), false),
        DataRef::Error(e) => (format!("{e}"), false),
    }
}

/// A number as a clerk sees it: integers without a decimal point or exponent.
pub(crate) fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    if f == 0.0 {
        return "0".into();
    }
    // Rust's Display for f64 never uses exponent notation and prints the shortest digits that
    // round-trip: 4.40105198506121e17 → "440105198506121000", 12345678.0 → "12345678".
    format!("{f}")
}

// ---------------------------------------------------------------------------------------------
// csv

pub(crate) fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text: String = match std::str::from_utf8(body) {
        Ok(s) => s.to_string(),
        Err(_) => decode_gb18030(body).ok_or_else(|| {
            ImportError::new(
                "IMPORT_ENCODING",
                "无法识别CSV文件的编码，请将CSV另存为UTF-8编码后上传",
            )
        })?,
    };
    // csv reports a CRLF record's start on the line before (it sees the '\n' late): normalise.
    let text = if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = BTreeMap::new();
    // The csv reader skips empty lines; a spreadsheet shows them as rows. The row a clerk sees
    // is the record's first line minus the newlines inside quoted cells before it.
    let mut inner_newlines: u64 = 0;
    let mut record = csv::StringRecord::new();
    let mut count = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(ImportError::new(
                    "IMPORT_CORRUPT",
                    format!(
                        "CSV文件第{line}行格式不正确（引号不成对或编码错误），请用Excel重新保存后上传"
                    ),
                ));
            }
        }
        // The record's position may be taken before the empty lines the reader skipped: start
        // after them, then count the lines before the record as a spreadsheet would.
        let bytes = text.as_bytes();
        let mut start = record
            .position()
            .map(|p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .unwrap_or(0)
            .min(bytes.len());
        while bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let line = 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64;
        let row = u32::try_from(line.saturating_sub(inner_newlines)).unwrap_or(u32::MAX);
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns(row));
        }
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        for (c, s) in cells.iter().enumerate() {
            check_cell(row, c, s)?;
            inner_newlines += s.matches('\n').count() as u64;
        }
        if !is_blank(&cells) {
            count += 1;
            if count > MAX_ROWS + HEADER_SEARCH_ROWS {
                return Err(too_many_rows());
            }
        }
        rows.insert(row, cells);
    }
    Ok(Table {
        rows,
        numeric_id_candidates: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::number_text;

    #[test]
    fn numbers_read_as_the_clerk_sees_them() {
        assert_eq!(number_text(12345678.0), "12345678");
        assert_eq!(number_text(4.40105198506121e17), "440105198506121000");
        assert_eq!(number_text(13800138000.0), "13800138000");
        assert_eq!(number_text(0.5), "0.5");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(f64::NAN), "");
    }
}
