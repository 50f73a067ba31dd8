//! Roster import from bytes (R-FIL-2, SECURITY.md S16/S17/S22): the template round-trips, IDs stay
//! exact, CSV in UTF-8 (BOM or not) and GBK, blank rows, row numbers as the clerk sees them,
//! limits, the sniffing table, and no panic on any input.

use peixun_domain::policy::Policy;
use peixun_domain::roster::{RawRow, RosterContext, validate_roster};
use peixun_import::{
    FileType, MAX_FILE_BYTES, MAX_ROWS, read_roster, read_roster_detailed, roster_template_csv,
    roster_template_xlsx, sniff, synthetic_roster_xlsx, synthetic_rows,
};
use proptest::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

const HEADER: [&str; 6] = [
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "户籍/居住地",
    "重点对象类别",
];

fn ctx_validate(rows: &[RawRow]) -> usize {
    let policy = Policy::haizhu_default();
    let groups: Vec<String> = vec![];
    let ctx = RosterContext {
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        policy: &policy,
        known_groups: &groups,
        min_age: 16,
    };
    match validate_roster(rows, &ctx) {
        Ok(v) => v.trainees.len(),
        Err(p) => panic!("roster should be valid: {p:#?}"),
    }
}

/// An xlsx like a clerk's: the template's headers, then `rows` written as text cells.
fn xlsx_with(rows: &[[String; 6]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn r_fil_2_template_round_trips_with_25_rows() {
    let template = roster_template_xlsx().unwrap();
    assert_eq!(sniff(&template), Some(FileType::Xlsx));
    // The empty template reads as a header and no rows.
    assert_eq!(
        read_roster(&template, Some(FileType::Xlsx)).unwrap(),
        vec![]
    );

    let data = synthetic_rows(25, 7);
    let rows = read_roster(&xlsx_with(&data), None).unwrap();
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[0].row_number, 2);
    assert_eq!(rows[24].row_number, 26);
    for (row, expected) in rows.iter().zip(&data) {
        assert_eq!(&row.cells[..], &expected[..]);
    }
    assert_eq!(ctx_validate(&rows), 25);
}

#[test]
fn synthetic_roster_is_valid_and_deterministic() {
    let a = synthetic_roster_xlsx(300, 42).unwrap();
    let rows = read_roster(&a, None).unwrap();
    assert_eq!(rows.len(), 300);
    assert_eq!(ctx_validate(&rows), 300);
    assert_eq!(synthetic_rows(50, 42), synthetic_rows(50, 42));
    assert_ne!(synthetic_rows(50, 42), synthetic_rows(50, 43));
}

#[test]
fn template_csv_has_bom_and_headers() {
    let csv = roster_template_csv();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(sniff(&csv), Some(FileType::Csv));
    assert_eq!(read_roster(&csv, Some(FileType::Csv)).unwrap(), vec![]);
}

#[test]
fn template_xlsx_has_instructions_sheet() {
    use calamine::{Reader, Xlsx};
    let bytes = roster_template_xlsx().unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["花名册".to_string(), "填写说明".to_string()]
    );
    let info = book.worksheet_range("填写说明").unwrap();
    let all: String = info
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|");
    for needle in [
        "居民身份证",
        "广东省内",
        "广东省外",
        "不低于20人",
        "年满16周岁",
    ] {
        assert!(all.contains(needle), "missing {needle} in {all}");
    }
}

#[test]
fn id_numbers_stay_exact_in_text_and_numeric_cells() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    // Row 2: text ID, numeric phone.
    s.write_string(1, 0, "陈志强").unwrap();
    s.write_string(1, 2, "44010519850612123X").unwrap();
    s.write_number(1, 3, 13800138000.0).unwrap();
    // Row 3: an 8-digit Taiwan travel permit typed as a number.
    s.write_string(2, 0, "林美玲").unwrap();
    s.write_number(2, 2, 12345678.0).unwrap();
    // Row 4: an 18-digit ID typed as a number (Excel keeps 15 digits).
    s.write_string(3, 0, "黄伟").unwrap();
    s.write_number(3, 2, 440105198506121235.0).unwrap();
    // Row 5: a date cell.
    s.write_string(4, 0, "何静").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    s.write_datetime_with_format(4, 5, ExcelDateTime::from_ymd(2026, 12, 1).unwrap(), &date)
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let read = read_roster_detailed(&bytes, Some(FileType::Xlsx)).unwrap();
    let rows = read.rows;
    assert_eq!(rows[0].cells[2], "44010519850612123X");
    assert_eq!(rows[0].cells[3], "13800138000");
    assert_eq!(rows[1].cells[2], "12345678");
    let big = &rows[2].cells[2];
    assert!(
        big.len() == 18 && big.bytes().all(|b| b.is_ascii_digit()),
        "numeric ID read as {big}"
    );
    assert_eq!(rows[3].cells[5], "2026-12-01");
    // Only the 18-digit numeric ID gets the note.
    assert_eq!(read.notes.len(), 1);
    assert_eq!(read.notes[0].row_number, Some(4));
    assert_eq!(read.notes[0].code, "IMPORT_ID_AS_NUMBER");
}

fn csv_text(rows: &[[String; 6]]) -> String {
    let mut s = HEADER.join(",");
    s.push_str("\r\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push_str("\r\n");
    }
    s
}

#[test]
fn csv_utf8_with_and_without_bom() {
    let data = synthetic_rows(22, 1);
    let text = csv_text(&data);
    let plain = read_roster(text.as_bytes(), Some(FileType::Csv)).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let with_bom = read_roster(&bom, Some(FileType::Csv)).unwrap();
    assert_eq!(plain, with_bom);
    assert_eq!(plain.len(), 22);
    assert_eq!(ctx_validate(&plain), 22);
}

#[test]
fn csv_gbk_as_excel_in_china_saves_it() {
    let data = synthetic_rows(21, 2);
    let text = csv_text(&data);
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GBK, not UTF-8");
    assert_eq!(sniff(&gbk), Some(FileType::Csv));
    let rows = read_roster(&gbk, Some(FileType::Csv)).unwrap();
    assert_eq!(rows.len(), 21);
    assert_eq!(rows[0].cells[0], data[0][0]);
    assert_eq!(ctx_validate(&rows), 21);
}

#[test]
fn csv_in_an_unknown_encoding_is_refused_in_chinese() {
    // Latin-1-ish bytes with 0x80 and 0xFF are neither UTF-8 nor GB18030.
    let bytes = b"\xFF\x80\xFF\x80,\x80\xFF\r\n".to_vec();
    let e = read_roster(&bytes, Some(FileType::Csv)).unwrap_err();
    assert_eq!(e.code, "IMPORT_ENCODING");
    assert!(e.message.contains("UTF-8"));
}

#[test]
fn blank_rows_skipped_and_row_numbers_as_the_clerk_sees_them() {
    let data = synthetic_rows(3, 3);
    // CSV: blank line, a line of commas, a quoted cell with a newline.
    let mut s = HEADER.join(",");
    s.push('\n');
    s.push_str(&data[0].join(","));
    s.push_str("\n\n,,,,,\n");
    let mut r1 = data[1].clone();
    r1[5] = "\"a\nb\"".into();
    s.push_str(&r1.join(","));
    s.push('\n');
    s.push_str(&data[2].join(","));
    s.push('\n');
    let rows = read_roster(s.as_bytes(), None).unwrap();
    let numbers: Vec<u32> = rows.iter().map(|r| r.row_number).collect();
    assert_eq!(numbers, vec![2, 5, 6]);
    assert_eq!(rows[1].cells[5], "a\nb");

    // xlsx: a title row above the header and a gap.
    let mut book = Workbook::new();
    let sh = book.add_worksheet();
    sh.write_string(0, 0, "海珠区职业技能培训花名册").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        sh.write_string(1, c as u16, *h).unwrap();
    }
    for (c, v) in data[0].iter().enumerate() {
        sh.write_string(2, c as u16, v).unwrap();
    }
    for (c, v) in data[1].iter().enumerate() {
        sh.write_string(6, c as u16, v).unwrap();
    }
    let rows = read_roster(&book.save_to_buffer().unwrap(), None).unwrap();
    let numbers: Vec<u32> = rows.iter().map(|r| r.row_number).collect();
    assert_eq!(numbers, vec![3, 7]);
}

#[test]
fn columns_in_any_order_and_extra_columns_ignored() {
    let s = "序号,手机号码,姓名,证件号码,证件类型,重点对象类别,户籍/居住地\n1,13800138000,陈志强,44010519850612123X,居民身份证,,广东省内\n";
    let rows = read_roster(s.as_bytes(), None).unwrap();
    assert_eq!(
        rows[0].cells,
        vec![
            "陈志强",
            "居民身份证",
            "44010519850612123X",
            "13800138000",
            "广东省内",
            ""
        ]
    );
}

#[test]
fn no_header_names_the_missing_columns() {
    let e = read_roster("姓名,电话\n张三,13800138000\n".as_bytes(), None).unwrap_err();
    assert_eq!(e.code, "IMPORT_NO_HEADER");
    assert!(e.message.contains("证件号码"), "{}", e.message);
    assert!(!e.problems.is_empty());
    let e = read_roster("\n\n,,\n".as_bytes(), None).unwrap_err();
    assert_eq!(e.code, "IMPORT_NO_HEADER");
}

#[test]
fn limits_are_refused_with_codes() {
    let too_big = vec![b'a'; MAX_FILE_BYTES + 1];
    assert_eq!(
        read_roster(&too_big, None).unwrap_err().code,
        "IMPORT_TOO_LARGE"
    );
    assert_eq!(read_roster(b"", None).unwrap_err().code, "IMPORT_EMPTY");

    let mut s = HEADER.join(",");
    s.push('\n');
    for _ in 0..=MAX_ROWS {
        s.push_str("张三,居民身份证,1,2,广东省内,\n");
    }
    assert_eq!(
        read_roster(s.as_bytes(), None).unwrap_err().code,
        "IMPORT_TOO_MANY_ROWS"
    );

    let wide = format!("{}\n{}\n", HEADER.join(","), ",".repeat(500));
    assert_eq!(
        read_roster(wide.as_bytes(), None).unwrap_err().code,
        "IMPORT_TOO_MANY_COLUMNS"
    );
    let long = format!("{}\n{}\n", HEADER.join(","), "长".repeat(2000));
    assert_eq!(
        read_roster(long.as_bytes(), None).unwrap_err().code,
        "IMPORT_CELL_TOO_LONG"
    );
}

#[test]
fn non_spreadsheets_are_refused() {
    let cases: [(&[u8], &str); 5] = [
        (b"%PDF-1.7\n...", "IMPORT_NOT_SPREADSHEET"),
        (b"\xFF\xD8\xFF\xE0\0\x10JFIF", "IMPORT_NOT_SPREADSHEET"),
        (b"<html><script>alert(1)</script>", "IMPORT_DANGEROUS"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0",
            "IMPORT_LEGACY_XLS",
        ),
        (b"PK\x03\x04 broken zip", "IMPORT_NOT_SPREADSHEET"),
    ];
    for (bytes, code) in cases {
        let e = read_roster(bytes, Some(FileType::Xlsx)).unwrap_err();
        assert_eq!(e.code, code, "{:?}", String::from_utf8_lossy(bytes));
        assert!(!e.message.is_ascii(), "message is Chinese");
    }
}

fn zip_with(names: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for n in names {
            w.start_file(
                *n,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
            w.write_all(b"x").unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn s16_sniffing_table() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let cases: Vec<(&str, Vec<u8>, Option<FileType>)> = vec![
        ("pdf", b"%PDF-1.4\n%\xE2\xE3".to_vec(), Some(FileType::Pdf)),
        (
            "jpeg",
            b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec(),
            Some(FileType::Jpeg),
        ),
        ("png", png, Some(FileType::Png)),
        (
            "xlsx",
            roster_template_xlsx().unwrap(),
            Some(FileType::Xlsx),
        ),
        (
            "docx",
            zip_with(&["[Content_Types].xml", "word/document.xml"]),
            Some(FileType::Docx),
        ),
        ("zip", zip_with(&["a.txt", "b/c.jpg"]), Some(FileType::Zip)),
        (
            "zip named like xlsx",
            zip_with(&["xl/workbook.xml"]),
            Some(FileType::Zip),
        ),
        (
            "csv",
            "姓名,证件号码\n".as_bytes().to_vec(),
            Some(FileType::Csv),
        ),
        (
            "html as .jpg",
            b"<!DOCTYPE html><html><body>hi".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "html upper",
            b"  \r\n<HTML>".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "html with BOM",
            b"\xEF\xBB\xBF<html>".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "svg with xml decl",
            b"<?xml version=\"1.0\"?>\n<svg></svg>".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "script inside text",
            b"name,id\nx,<script>alert(1)</script>\n".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "html in utf-16",
            {
                let mut v = b"\xFF\xFE".to_vec();
                for c in "<html><script>".encode_utf16() {
                    v.extend_from_slice(&c.to_le_bytes());
                }
                v
            },
            Some(FileType::Dangerous),
        ),
        (
            "shell script",
            b"#!/bin/sh\nrm -rf /".to_vec(),
            Some(FileType::Dangerous),
        ),
        (
            "windows exe",
            b"MZ\x90\0\x03\0".to_vec(),
            Some(FileType::Dangerous),
        ),
        ("binary", b"\0\x01\x02\x03\xFE".to_vec(), None),
        ("empty", vec![], None),
        (
            "old xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec(),
            None,
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(sniff(&bytes), expected, "{name}");
    }
    assert_eq!(FileType::Jpeg.extension(), "jpg");
    assert_eq!(FileType::Pdf.mime(), "application/pdf");
    assert_eq!(FileType::Xlsx.label_zh(), "Excel表格（.xlsx）");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn s17_sniff_and_read_roster_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = sniff(&bytes);
        let _ = read_roster(&bytes, None);
        let _ = read_roster(&bytes, Some(FileType::Csv));
    }

    #[test]
    fn s17_mutated_xlsx_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        thread_local! {
            static BASE: Vec<u8> = synthetic_roster_xlsx(3, 1).unwrap();
        }
        let mut bytes = BASE.with(|b| b.clone());
        for (at, v) in edits {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        let keep = bytes.len() - cut % (bytes.len() / 2);
        bytes.truncate(keep);
        let _ = sniff(&bytes);
        let _ = read_roster(&bytes, None);
    }

    #[test]
    fn s17_text_rows_never_panic(s in "[\\PC,\"\n\r]{0,400}") {
        let text = format!("{}\n{s}", HEADER.join(","));
        let _ = read_roster(text.as_bytes(), None);
    }
}

#[test]
fn s17_zip_bomb_is_refused_before_parsing() {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("[Content_Types].xml", opts).unwrap();
        w.write_all(b"<Types/>").unwrap();
        w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..(peixun_import::roster::MAX_UNPACKED_BYTES >> 20) + 1 {
            w.write_all(&chunk).unwrap();
        }
        w.finish().unwrap();
    }
    let bytes = buf.into_inner();
    assert!(bytes.len() < 1 << 20, "small on the wire: {}", bytes.len());
    assert_eq!(sniff(&bytes), Some(FileType::Xlsx));
    assert_eq!(
        read_roster(&bytes, None).unwrap_err().code,
        "IMPORT_TOO_LARGE"
    );
}
