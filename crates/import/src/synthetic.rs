//! Deterministic synthetic rosters for benchmarks (`peixun bench import`) and tests: every row
//! valid for a class starting 2026-12-01 (citizen IDs of region 440105 with a correct check
//! character, ages 18–55 on that day, mainland mobile numbers, no key target group claimed).

use crate::roster::ImportError;
use chrono::{Days, NaiveDate};
use peixun_domain::ids::{IdKind, check_char};
use peixun_domain::roster::{RESIDENCE_OPTIONS, ROSTER_HEADERS};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::HashSet;

/// The class start the synthetic ages are taken at.
pub const SYNTHETIC_START: NaiveDate = match NaiveDate::from_ymd_opt(2026, 12, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "林", "刘", "吴", "罗", "何", "郑", "谢", "冯", "邓", "曾",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "志", "强", "伟", "芳", "娜", "敏", "静", "丽", "军", "杰", "磊", "婷", "雪", "华", "明", "建",
    "国", "秀", "英", "玲",
];

/// A small, fixed PRNG (splitmix64): the same seed gives the same roster on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One synthetic trainee: the cells in [`ROSTER_HEADERS`] order.
pub fn synthetic_rows(rows: usize, seed: u64) -> Vec<[String; 6]> {
    let mut rng = Rng(seed);
    // Born 1971-12-02 ..= 2008-12-01: 18 to 55 full years on 2026-12-01.
    let earliest = NaiveDate::from_ymd_opt(1971, 12, 2).unwrap_or(SYNTHETIC_START);
    let latest = NaiveDate::from_ymd_opt(2008, 12, 1).unwrap_or(SYNTHETIC_START);
    let span = (latest - earliest).num_days().max(0) as u64 + 1;
    let mut seen = HashSet::with_capacity(rows);
    let mut out = Vec::with_capacity(rows);
    while out.len() < rows {
        let birth = earliest
            .checked_add_days(Days::new(rng.below(span)))
            .unwrap_or(earliest);
        let seq = rng.below(1000);
        let first17 = format!("440105{}{seq:03}", birth.format("%Y%m%d"));
        let Some(check) = check_char(&first17) else {
            continue;
        };
        let id = format!("{first17}{check}");
        if !seen.insert(id.clone()) {
            continue;
        }
        let mut name = SURNAMES[rng.below(SURNAMES.len() as u64) as usize].to_string();
        for _ in 0..1 + rng.below(2) {
            name.push_str(GIVEN[rng.below(GIVEN.len() as u64) as usize]);
        }
        let phone = format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000));
        let residence = RESIDENCE_OPTIONS[rng.below(2) as usize].to_string();
        out.push([
            name,
            IdKind::CitizenId.label_zh().to_string(),
            id,
            phone,
            residence,
            String::new(),
        ]);
    }
    out
}

/// An .xlsx roster of `rows` valid trainees (header + rows; IDs written as text cells).
pub fn synthetic_roster_xlsx(rows: usize, seed: u64) -> Result<Vec<u8>, ImportError> {
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(crate::template::TEMPLATE_SHEET)?;
        let bold = Format::new().set_bold();
        for (c, h) in ROSTER_HEADERS.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in synthetic_rows(rows, seed).iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
        }
        book.save_to_buffer()
    };
    build().map_err(|e| ImportError::new("IMPORT_TEMPLATE", format!("生成花名册失败：{e}")))
}
