//! The evaluation report as an editable Word document (R-EVA-2), made with `docx-rs`: A4
//! portrait, 宋体 (SimSun, set for eastAsia too so Word and LibreOffice pick a CJK face), the
//! title, a summary, the table of institutions with the four components, the score and its
//! effect on the next cap, the adjustments with their reasons, the bands, and a closing line for
//! the centre's stamp. The office edits, prints and stamps it.

use super::data::{NextCap, ReportData, RowState, num};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, Table, TableCell,
    TableRow, VAlignType, WidthType,
};

/// Body text font (宋体).
const BODY_FONT: &str = "SimSun";
const BODY_FONT_ZH: &str = "宋体";
/// Title font (黑体).
const TITLE_FONT: &str = "SimHei";
const TITLE_FONT_ZH: &str = "黑体";

/// Sizes in half-points: 小二 18 pt, 三号 16 pt, 小四 12 pt, 小五 9 pt.
const TITLE_SIZE: usize = 36;
const SUBTITLE_SIZE: usize = 32;
const BODY_SIZE: usize = 24;
const TABLE_SIZE: usize = 18;

/// Column widths in twentieths of a point; they add up to the A4 text width with the margins
/// below (11906 − 2 × 1247).
const GRID: [usize; 9] = [480, 2600, 950, 950, 950, 950, 800, 800, 932];

fn fonts(latin: &str, zh: &str) -> RunFonts {
    RunFonts::new()
        .ascii(latin)
        .hi_ansi(latin)
        .cs(latin)
        .east_asia(zh)
}

fn body_run(text: &str) -> Run {
    Run::new().add_text(text).size(BODY_SIZE)
}

fn heading(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(
            Run::new()
                .add_text(text)
                .size(BODY_SIZE)
                .bold()
                .fonts(fonts(TITLE_FONT, TITLE_FONT_ZH)),
        )
        .line_spacing(LineSpacing::new().before(240).after(120))
        .keep_next(true)
}

fn para(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(body_run(text))
        .first_line_chars(200)
        .line_spacing(LineSpacing::new().after(120).line(360))
}

/// A table cell; a `\n` in `text` is a line break.
fn cell(text: &str, width: usize, bold: bool, align: AlignmentType) -> TableCell {
    let mut run = Run::new().size(TABLE_SIZE);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(docx_rs::BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    if bold {
        run = run.bold();
    }
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(run).align(align))
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center)
}

fn results_table(d: &ReportData) -> Table {
    let comp = d.component_headers();
    let headers: Vec<String> = [
        "序号".to_string(),
        "培训机构".to_string(),
        // "任务完成情况\n(40%)": the weight on its own line, half-width brackets to fit.
        comp[0].replacen('（', "\n(", 1).replacen('）', ")", 1),
        comp[1].replacen('（', "\n(", 1).replacen('）', ")", 1),
        comp[2].replacen('（', "\n(", 1).replacen('）', ")", 1),
        comp[3].replacen('（', "\n(", 1).replacen('）', ")", 1),
        "综合得分".to_string(),
        "按时完成班次（C）".to_string(),
        "下次签约班次上限系数".to_string(),
    ]
    .into();
    let mut rows = vec![TableRow::new(
        headers
            .iter()
            .zip(GRID)
            .map(|(h, w)| cell(h, w, true, AlignmentType::Center))
            .collect(),
    )];
    for (i, r) in d.rows.iter().enumerate() {
        let mut cells = vec![(i + 1).to_string(), r.institution.clone()];
        match (r.state, r.shown_components()) {
            (RowState::Confirmed, Some(cs)) => {
                for c in cs {
                    let mut v = num(c.value());
                    if c.adjusted.is_some() {
                        v.push('*');
                    }
                    cells.push(v);
                }
            }
            _ => cells.extend(std::iter::repeat_n("—".to_string(), 4)),
        }
        cells.push(match (r.state, r.score) {
            (RowState::Confirmed, Some(s)) => s.to_string(),
            _ => RowState::Open.label_zh().to_string(),
        });
        cells.push(
            r.on_time_completed
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".into()),
        );
        cells.push(
            r.next_cap
                .map(|n| n.label_zh())
                .unwrap_or_else(|| "—".into()),
        );
        rows.push(
            TableRow::new(
                cells
                    .iter()
                    .zip(GRID)
                    .enumerate()
                    .map(|(c, (v, w))| {
                        let align = if c == 1 {
                            AlignmentType::Left
                        } else {
                            AlignmentType::Center
                        };
                        cell(v, w, false, align)
                    })
                    .collect(),
            )
            .cant_split(),
        );
    }
    Table::new(rows).set_grid(GRID.to_vec())
}

fn bands_table(d: &ReportData) -> Table {
    let w = [3000usize, 3000];
    let mut rows = vec![TableRow::new(vec![
        cell("综合得分", w[0], true, AlignmentType::Center),
        cell("下次签约班次上限", w[1], true, AlignmentType::Center),
    ])];
    for b in d.bands.iter().rev() {
        let effect = match b.effect {
            NextCap::Factor(f) => format!("C × {}", super::data::factor(f)),
            NextCap::Suspended => "暂停签约分配指标".to_string(),
        };
        rows.push(TableRow::new(vec![
            cell(
                &format!("{}分", b.label),
                w[0],
                false,
                AlignmentType::Center,
            ),
            cell(&effect, w[1], false, AlignmentType::Center),
        ]));
    }
    Table::new(rows)
        .set_grid(w.to_vec())
        .align(docx_rs::TableAlignmentType::Center)
}

/// The document's bytes.
pub fn render(d: &ReportData) -> Result<Vec<u8>, String> {
    let mut doc = Docx::new()
        .page_size(11906, 16838)
        .page_margin(
            PageMargin::new()
                .top(1440)
                .bottom(1440)
                .left(1247)
                .right(1247)
                .header(851)
                .footer(992),
        )
        .default_fonts(fonts(BODY_FONT, BODY_FONT_ZH))
        .default_size(BODY_SIZE)
        .created_at(&format!("{}T00:00:00Z", d.generated_on))
        .updated_at(&format!("{}T00:00:00Z", d.generated_on));

    doc = doc
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    Run::new()
                        .add_text(d.title())
                        .size(TITLE_SIZE)
                        .bold()
                        .fonts(fonts(TITLE_FONT, TITLE_FONT_ZH)),
                )
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(120)),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(Run::new().add_text(&d.round_label).size(SUBTITLE_SIZE))
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(360)),
        );

    doc = doc
        .add_paragraph(heading("一、总体情况"))
        .add_paragraph(para(&d.summary_text()))
        .add_paragraph(para(&format!(
            "评估依据《{}职业技能培训合格证书培训工作指引（试行）》，按任务完成情况、教学督导、教学档案整理、学员满意度四项评分，权重分别为 {}%、{}%、{}%、{}%，综合得分四舍五入保留一位小数；现行政策版本 {}。",
            d.district,
            d.weights.task_completion,
            d.weights.supervision,
            d.weights.archives,
            d.weights.satisfaction,
            d.policy_version
        )));

    doc = doc
        .add_paragraph(heading("二、各培训机构评估结果"))
        .add_table(results_table(d))
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    Run::new()
                        .add_text(
                            "注：带“*”的分项经区培训中心调整，计算值与理由见第三部分；“评估中”的机构尚未确认评分，不计入统计；下次签约班次上限 = C × 系数（再按重大工程、计划增长系数及总量上限核定）。",
                        )
                        .size(TABLE_SIZE),
                )
                .line_spacing(LineSpacing::new().before(60).after(120)),
        );

    doc = doc.add_paragraph(heading("三、分项调整及理由"));
    let adjustments = d.adjustments();
    if adjustments.is_empty() {
        doc = doc.add_paragraph(para("本轮评估无分项调整。"));
    }
    for (i, a) in adjustments.iter().enumerate() {
        let state = if a.confirmed { "" } else { "（评估中）" };
        doc = doc.add_paragraph(para(&format!(
            "{}. {}{}：{} 计算值 {} → 调整值 {}，理由：{}",
            i + 1,
            a.institution,
            state,
            a.component,
            num(a.computed),
            num(a.adjusted),
            a.reason
        )));
    }

    doc = doc
        .add_paragraph(heading("四、评分档次与下次签约班次上限"))
        .add_table(bands_table(d));

    doc = doc
        .add_paragraph(
            Paragraph::new()
                .add_run(body_run("区培训中心（盖章）"))
                .align(AlignmentType::Right)
                .keep_next(true)
                .line_spacing(LineSpacing::new().before(480).after(120)),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(body_run(&d.date_zh()))
                .align(AlignmentType::Right),
        );

    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| format!("docx: {e}"))?;
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::super::data::tests::sample;
    use super::*;
    use std::io::Read;

    pub(crate) fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    }

    #[test]
    fn r_eva_2_docx_holds_title_table_adjustments_and_stamp_line() {
        let d = sample();
        let bytes = render(&d).unwrap();
        let xml = part(&bytes, "word/document.xml");
        // The body font is 宋体 for East Asian text (the document default, in styles.xml).
        let styles = part(&bytes, "word/styles.xml");
        assert!(styles.contains("w:eastAsia=\"宋体\""), "{styles}");
        for needle in [
            "海珠区职业技能培训合格证书培训绩效评估报告",
            "2026年下半年",
            "广州市海珠区示范职业培训学校",
            "86.2",
            "93.875",
            "任务完成情况",
            "(40%)",
            "下次签约班次上限系数",
            "暂停签约",
            "评估中",
            "学员满意度 计算值 60 → 调整值 80，理由：问卷回收率不足30%",
            "区培训中心（盖章）",
            "2026年12月3日",
        ] {
            assert!(xml.contains(needle), "missing {needle}");
        }
        // Names are XML-escaped, never raw markup.
        assert!(xml.contains("广州&lt;珠江&gt;&amp;技能培训中心"));
        assert!(!xml.contains("<珠江>"));
        // A4 portrait.
        assert!(xml.contains("w:w=\"11906\"") && xml.contains("w:h=\"16838\""));
        if let Ok(dir) = std::env::var("PEIXUN_REPORT_OUT") {
            std::fs::write(format!("{dir}/evaluation-report.docx"), &bytes).unwrap();
        }
    }
}
