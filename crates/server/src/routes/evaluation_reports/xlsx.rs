//! The evaluation report as a spreadsheet (R-EVA-2): sheet 评估结果 with one row per
//! institution (the same columns as the Word table, plus the state and the policy version) and
//! sheet 分项调整 with every adjustment and its reason. Scores and components are number cells
//! (so the bureau can sort and sum); each is written from its exact decimal text, which an
//! IEEE double reproduces digit for digit at these magnitudes. Text goes through
//! [`crate::export::fit_cell`] and is never a formula.

use super::data::{ReportData, RowState, num};
use crate::export::fit_cell;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

pub const RESULTS_SHEET: &str = "评估结果";
pub const ADJUSTMENTS_SHEET: &str = "分项调整";

/// A cell: text or an exact decimal.
enum Cell {
    Text(String),
    Num(Decimal),
}

fn write(ws: &mut Worksheet, r: u32, c: u16, v: &Cell, num_fmt: &Format) -> Result<(), XlsxError> {
    match v {
        Cell::Text(t) => {
            ws.write_string(r, c, fit_cell(t).as_ref())?;
        }
        Cell::Num(d) => {
            // The shortest decimal text of the f64 equals `d`'s text (≤ 17 significant digits).
            let f: f64 = num(*d).parse().unwrap_or(0.0);
            ws.write_number_with_format(r, c, f, num_fmt)?;
        }
    }
    Ok(())
}

fn header(ws: &mut Worksheet, headers: &[String], widths: &[f64]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_text_wrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
        ws.set_column_width(c as u16, widths.get(c).copied().unwrap_or(14.0))?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The headers of the results sheet.
pub fn result_headers(d: &ReportData) -> Vec<String> {
    let comp = d.component_headers();
    let mut h = vec!["序号".to_string(), "培训机构".to_string()];
    h.extend(comp);
    h.extend(
        [
            "综合得分",
            "按时完成班次（C）",
            "下次签约班次上限系数",
            "状态",
            "政策版本",
        ]
        .map(str::to_string),
    );
    h
}

fn build(d: &ReportData) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let num_fmt = Format::new().set_num_format("0.0##");
    let int_fmt = Format::new().set_num_format("0");

    let ws = wb.add_worksheet();
    ws.set_name(RESULTS_SHEET)?;
    header(
        ws,
        &result_headers(d),
        &[
            6.0, 34.0, 14.0, 12.0, 14.0, 12.0, 10.0, 12.0, 14.0, 8.0, 18.0,
        ],
    )?;
    for (i, r) in d.rows.iter().enumerate() {
        let row = (i + 1) as u32;
        ws.write_number_with_format(row, 0, (i + 1) as f64, &int_fmt)?;
        write(ws, row, 1, &Cell::Text(r.institution.clone()), &num_fmt)?;
        if let Some(cs) = r.shown_components() {
            for (c, comp) in cs.iter().enumerate() {
                write(ws, row, 2 + c as u16, &Cell::Num(comp.value()), &num_fmt)?;
            }
        }
        match (r.state, r.score) {
            (RowState::Confirmed, Some(s)) => write(ws, row, 6, &Cell::Num(s.value()), &num_fmt)?,
            _ => write(
                ws,
                row,
                6,
                &Cell::Text(RowState::Open.label_zh().into()),
                &num_fmt,
            )?,
        }
        if let Some(c) = r.on_time_completed {
            ws.write_number_with_format(row, 7, f64::from(c), &int_fmt)?;
        }
        if let Some(n) = r.next_cap {
            match n {
                super::data::NextCap::Factor(f) => write(ws, row, 8, &Cell::Num(f), &num_fmt)?,
                super::data::NextCap::Suspended => {
                    write(ws, row, 8, &Cell::Text(n.label_zh()), &num_fmt)?
                }
            }
        }
        write(ws, row, 9, &Cell::Text(r.state.label_zh().into()), &num_fmt)?;
        write(
            ws,
            row,
            10,
            &Cell::Text(r.policy_version.clone().unwrap_or_default()),
            &num_fmt,
        )?;
    }
    let note_row = (d.rows.len() + 2) as u32;
    ws.write_string(
        note_row,
        0,
        format!("{} {}：{}", d.district, d.round_label, d.summary_text()),
    )?;
    ws.write_string(
        note_row + 1,
        0,
        format!(
            "生成日期 {}；现行政策版本 {}",
            d.generated_on, d.policy_version
        ),
    )?;

    let ws = wb.add_worksheet();
    ws.set_name(ADJUSTMENTS_SHEET)?;
    header(
        ws,
        &["培训机构", "分项", "计算值", "调整值", "理由", "状态"].map(str::to_string),
        &[34.0, 14.0, 10.0, 10.0, 60.0, 8.0],
    )?;
    for (i, a) in d.adjustments().iter().enumerate() {
        let row = (i + 1) as u32;
        write(ws, row, 0, &Cell::Text(a.institution.into()), &num_fmt)?;
        write(ws, row, 1, &Cell::Text(a.component.into()), &num_fmt)?;
        write(ws, row, 2, &Cell::Num(a.computed), &num_fmt)?;
        write(ws, row, 3, &Cell::Num(a.adjusted), &num_fmt)?;
        write(ws, row, 4, &Cell::Text(a.reason.into()), &num_fmt)?;
        let state = if a.confirmed {
            RowState::Confirmed
        } else {
            RowState::Open
        };
        write(ws, row, 5, &Cell::Text(state.label_zh().into()), &num_fmt)?;
    }
    wb.save_to_buffer()
}

/// The workbook's bytes.
pub fn render(d: &ReportData) -> Result<Vec<u8>, String> {
    build(d).map_err(|e| format!("xlsx: {e}"))
}

#[cfg(test)]
mod tests {
    use super::super::data::tests::sample;
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(name).unwrap();
        range.rows().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn r_eva_2_xlsx_rows_and_adjustments_read_back() {
        let d = sample();
        let bytes = render(&d).unwrap();
        let rows = sheet(&bytes, RESULTS_SHEET);
        assert_eq!(rows[0][2], Data::String("任务完成情况（40%）".into()));
        // SPEC §5's evaluation: task 81, supervision 85, archives 93.875, satisfaction 90 → 86.2
        let r1 = &rows[1];
        assert_eq!(r1[1], Data::String("广州市海珠区示范职业培训学校".into()));
        assert_eq!(r1[2], Data::Float(81.0));
        assert_eq!(r1[4], Data::Float(93.875));
        assert_eq!(r1[6], Data::Float(86.2));
        assert_eq!(r1[7], Data::Float(4.0));
        assert_eq!(r1[8], Data::Float(1.1));
        // The adjusted satisfaction counts (80), the name stays text.
        assert_eq!(rows[2][1], Data::String("广州<珠江>&技能培训中心".into()));
        assert_eq!(rows[2][5], Data::Float(80.0));
        assert_eq!(rows[2][8], Data::Float(1.2));
        assert_eq!(rows[3][8], Data::String("暂停签约".into()));
        assert_eq!(rows[4][8], Data::Float(0.9));
        assert_eq!(rows[5][8], Data::Float(1.1));
        assert_eq!(rows[6][6], Data::String("评估中".into()));
        assert_eq!(rows[6][2], Data::Empty);
        let adj = sheet(&bytes, ADJUSTMENTS_SHEET);
        assert_eq!(adj.len(), 2);
        assert_eq!(adj[1][1], Data::String("学员满意度".into()));
        assert_eq!(
            (adj[1][2].clone(), adj[1][3].clone()),
            (Data::Float(60.0), Data::Float(80.0))
        );
        if let Ok(dir) = std::env::var("PEIXUN_REPORT_OUT") {
            std::fs::write(format!("{dir}/evaluation-report.xlsx"), &bytes).unwrap();
        }
    }
}
