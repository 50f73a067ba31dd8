//! Reading an exam-results sheet (考试成绩表, R-CRT-1) from .xlsx or .csv bytes: the same
//! reader, limits and header search as the roster ([`crate::roster`]), with its own columns
//! ([`RESULT_HEADERS`]). Checking the rows is the store's work (it knows the class's roster).

use crate::roster::{ImportError, MAX_ROWS, Table, is_blank, read_csv, read_xlsx, too_many_rows};
use crate::sniff::{FileType, is_legacy_office, sniff};
use peixun_domain::roster::RawRow;

/// The columns of a results sheet, in [`RawRow::cells`] order.
pub const RESULT_HEADERS: [&str; 5] = ["姓名", "证件号码", "考试结果", "成绩", "考试日期"];
pub const COL_NAME: usize = 0;
pub const COL_ID: usize = 1;
pub const COL_RESULT: usize = 2;
pub const COL_SCORE: usize = 3;
pub const COL_DATE: usize = 4;

/// How many leading non-blank rows may be the header.
const HEADER_SEARCH_ROWS: usize = 10;

/// Read a results sheet. Rows keep their spreadsheet numbers; blank rows are dropped.
pub fn read_results(bytes: &[u8], declared: Option<FileType>) -> Result<Vec<RawRow>, ImportError> {
    if bytes.len() > crate::roster::MAX_FILE_BYTES {
        return Err(ImportError::new(
            "IMPORT_TOO_LARGE",
            format!(
                "成绩表文件不能超过{} MB",
                crate::roster::MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(ImportError::new(
            "IMPORT_EMPTY",
            "文件为空，请重新选择成绩表文件",
        ));
    }
    let table = match sniff(bytes) {
        Some(FileType::Xlsx) => read_xlsx(bytes)?.0,
        Some(FileType::Csv) => read_csv(bytes)?,
        Some(FileType::Dangerous) => {
            return Err(ImportError::new(
                "IMPORT_DANGEROUS",
                "文件内容是网页或脚本，不是成绩表，已拒收",
            ));
        }
        None if is_legacy_office(bytes) => {
            return Err(ImportError::new(
                "IMPORT_LEGACY_XLS",
                "不支持旧版Excel（.xls）文件，请另存为Excel工作簿（.xlsx）后上传",
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
                format!("文件内容为{what}，成绩表须为Excel表格（.xlsx）或CSV文件"),
            ));
        }
    };
    rows(table)
}

fn header_index(header: &[String]) -> Result<Vec<usize>, Vec<&'static str>> {
    let mut idx = Vec::new();
    let mut missing = Vec::new();
    for h in RESULT_HEADERS {
        match header.iter().position(|c| c.trim() == h) {
            Some(i) => idx.push(i),
            None => missing.push(h),
        }
    }
    if missing.is_empty() {
        Ok(idx)
    } else {
        Err(missing)
    }
}

fn rows(table: Table) -> Result<Vec<RawRow>, ImportError> {
    let candidates: Vec<u32> = table
        .rows
        .iter()
        .filter(|(_, c)| !is_blank(c))
        .map(|(&n, _)| n)
        .take(HEADER_SEARCH_ROWS)
        .collect();
    let mut first_missing: Option<Vec<&str>> = None;
    for header_row in candidates {
        match header_index(&table.rows[&header_row]) {
            Ok(idx) => {
                let out: Vec<RawRow> = table
                    .rows
                    .range(header_row + 1..)
                    .filter(|(_, c)| !is_blank(c))
                    .map(|(&n, rec)| RawRow {
                        row_number: n,
                        cells: idx
                            .iter()
                            .map(|&i| rec.get(i).map(|s| s.trim().to_string()).unwrap_or_default())
                            .collect(),
                    })
                    .collect();
                if out.len() > MAX_ROWS {
                    return Err(too_many_rows());
                }
                return Ok(out);
            }
            Err(m) => {
                first_missing.get_or_insert(m);
            }
        }
    }
    let missing = first_missing.unwrap_or_else(|| RESULT_HEADERS.to_vec());
    Err(ImportError::new(
        "IMPORT_NO_HEADER",
        format!(
            "未找到成绩表表头：缺少“{}”列（须有：{}）",
            missing.join("”“"),
            RESULT_HEADERS.join("、")
        ),
    ))
}

/// The results template as CSV (UTF-8 with BOM): the header row.
pub fn results_template_csv() -> Vec<u8> {
    let mut v = b"\xEF\xBB\xBF".to_vec();
    v.extend_from_slice(RESULT_HEADERS.join(",").as_bytes());
    v.extend_from_slice(b"\n");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_crt_1_results_csv_read_with_header_anywhere_in_order() {
        let csv = "成绩表\n考试日期,姓名,证件号码,考试结果,成绩\n2026-12-01,张三,110101199001011234,合格,88\n\n2026-12-01,李四,110101199001015678,缺考,\n";
        let rows = read_results(csv.as_bytes(), None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row_number, 3);
        assert_eq!(
            rows[0].cells,
            vec!["张三", "110101199001011234", "合格", "88", "2026-12-01"]
        );
        assert_eq!(rows[1].row_number, 5);
    }

    #[test]
    fn r_crt_1_results_missing_header_named() {
        let e = read_results("姓名,证件号码\n张三,1\n".as_bytes(), None).unwrap_err();
        assert_eq!(e.code, "IMPORT_NO_HEADER");
        assert!(e.message.contains("考试结果"));
    }
}
