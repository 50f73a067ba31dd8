//! The charts of the evaluation page (R-EVA-2), as SVG drawn on the server: no JavaScript, works
//! offline and prints. A small writer of our own rather than a plotting crate: two charts, a few
//! dozen elements each, and every piece of text (institution names included) goes through
//! [`esc`]. Coordinates are computed in exact decimals and printed with one decimal.
//!
//! - [`score_histogram`]: confirmed scores counted per R-CAP-3 band (`<61`, `61–70.9`, …, `≥91`),
//!   each bar labelled with its count and its effect on the next cap.
//! - [`component_strips`]: one strip per component on a 0–100 axis: a dot per institution (its
//!   name and value in the dot's `<title>`), the min–max range and the mean.

use super::data::{COMPONENT_NAMES, NextCap, ReportData, num};
use rust_decimal::{Decimal, RoundingStrategy};
use std::fmt::Write;

/// Escapes text for SVG/XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate: `d` with one decimal.
fn c(d: Decimal) -> String {
    d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

const FONT: &str = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif\"";
const BLUE: &str = "#1d70b8";
const RED: &str = "#b3261e";
const GREY: &str = "#505a5f";
const LIGHT: &str = "#d8dde0";

/// The histogram of confirmed scores by band.
pub fn score_histogram(d: &ReportData) -> String {
    let (w, h) = (640i64, 330i64);
    let (left, right, top, bottom) = (50i64, 20i64, 40i64, 70i64);
    let plot_w = dec(w - left - right);
    let plot_h = dec(h - top - bottom);
    let summary = d.summary();
    let counts: Vec<usize> = summary.per_band.iter().map(|(_, n)| *n).collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as i64;
    let step = if max <= 10 { 1 } else { (max + 4) / 5 };
    let y_max = (max + step - 1) / step * step;
    let y = |v: i64| dec(top) + plot_h - plot_h * dec(v) / dec(y_max);
    let n = dec(counts.len().max(1) as i64);
    let slot = plot_w / n;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-labelledby=\"hist-title hist-desc\" class=\"chart\" {FONT} font-size=\"13\">"
    );
    let _ = write!(
        s,
        "<title id=\"hist-title\">{}</title><desc id=\"hist-desc\">{}</desc>",
        esc(&format!("{} 综合得分分布", d.round_label)),
        esc(&summary
            .per_band
            .iter()
            .map(|(l, n)| format!("{l}分 {n} 家"))
            .collect::<Vec<_>>()
            .join("，"))
    );
    let _ = write!(
        s,
        "<text x=\"{left}\" y=\"22\" font-size=\"15\" font-weight=\"bold\" fill=\"#0b0c0c\">综合得分分布（机构数）</text>"
    );
    // Horizontal grid and the count axis.
    let mut v = 0;
    while v <= y_max {
        let yy = c(y(v));
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{LIGHT}\"/><text x=\"{}\" y=\"{yy}\" dy=\"4\" text-anchor=\"end\" fill=\"{GREY}\">{v}</text>",
            w - right,
            left - 8
        );
        v += step;
    }
    for (i, ((label, count), band)) in summary.per_band.iter().zip(&d.bands).enumerate() {
        let x0 = dec(left) + slot * dec(i as i64);
        let bw = slot * Decimal::new(6, 1);
        let bx = x0 + (slot - bw) / dec(2);
        let by = y(*count as i64);
        let colour = if band.effect == NextCap::Suspended {
            RED
        } else {
            BLUE
        };
        let cx = c(x0 + slot / dec(2));
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"><title>{}</title></rect>",
            c(bx),
            c(by),
            c(bw),
            c(dec(top) + plot_h - by),
            esc(&format!("{label}分：{count} 家"))
        );
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#0b0c0c\">{count}</text>",
            c(by - dec(6))
        );
        let effect = match band.effect {
            NextCap::Factor(f) => format!("系数 ×{}", super::data::factor(f)),
            NextCap::Suspended => "暂停签约".to_string(),
        };
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"#0b0c0c\">{}</text><text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
            h - bottom + 20,
            esc(&format!("{label}分")),
            h - bottom + 40,
            if band.effect == NextCap::Suspended {
                RED
            } else {
                GREY
            },
            esc(&effect)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#0b0c0c\"/>",
        h - bottom,
        w - right,
        h - bottom
    );
    s.push_str("</svg>");
    s
}

/// One strip per component: each institution's value, the range and the mean.
pub fn component_strips(d: &ReportData) -> String {
    let headers = d.component_headers();
    let stats = d.component_stats();
    let (left, right, top, row_h) = (180i64, 30i64, 40i64, 64i64);
    let w = 640i64;
    let h = top + row_h * 4 + 40;
    let axis_w = dec(w - left - right);
    let x =
        |v: Decimal| dec(left) + axis_w * v.clamp(Decimal::ZERO, Decimal::ONE_HUNDRED) / dec(100);

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-labelledby=\"comp-title comp-desc\" class=\"chart\" {FONT} font-size=\"13\">"
    );
    let desc: Vec<String> = COMPONENT_NAMES
        .iter()
        .zip(&stats)
        .map(|(n, st)| match st {
            Some(st) => format!(
                "{n}：最低 {}，平均 {}，最高 {}",
                num(st.min),
                num(st.mean),
                num(st.max)
            ),
            None => format!("{n}：无数据"),
        })
        .collect();
    let _ = write!(
        s,
        "<title id=\"comp-title\">{}</title><desc id=\"comp-desc\">{}</desc>",
        esc(&format!("{} 各分项得分分布", d.round_label)),
        esc(&desc.join("；"))
    );
    let _ = write!(
        s,
        "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\" fill=\"#0b0c0c\">各分项得分（每点一家机构，竖线为平均值）</text>"
    );
    // Vertical grid with the 0–100 scale at the bottom.
    let axis_y = top + row_h * 4;
    for t in (0..=100).step_by(20) {
        let xx = c(x(dec(t)));
        let _ = write!(
            s,
            "<line x1=\"{xx}\" y1=\"{top}\" x2=\"{xx}\" y2=\"{axis_y}\" stroke=\"{LIGHT}\"/><text x=\"{xx}\" y=\"{}\" text-anchor=\"middle\" fill=\"{GREY}\">{t}</text>",
            axis_y + 18
        );
    }
    for (i, header) in headers.iter().enumerate() {
        let cy = dec(top + row_h * i as i64 + row_h / 2);
        let _ = write!(
            s,
            "<text x=\"10\" y=\"{}\" dy=\"4\" fill=\"#0b0c0c\">{}</text>",
            c(cy),
            esc(header)
        );
        let Some(st) = stats[i] else {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" dy=\"4\" fill=\"{GREY}\">无已确认的评估</text>",
                left + 8,
                c(cy)
            );
            continue;
        };
        let _ = write!(
            s,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{GREY}\" stroke-width=\"2\"/>",
            c(x(st.min)),
            c(cy),
            c(x(st.max)),
            c(cy)
        );
        for r in &d.rows {
            let Some(cs) = r.shown_components() else {
                continue;
            };
            let comp = &cs[i];
            let adjusted = if comp.adjusted.is_some() {
                "（调整后）"
            } else {
                ""
            };
            let _ = write!(
                s,
                "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{BLUE}\" fill-opacity=\"0.55\" stroke=\"{BLUE}\"><title>{}</title></circle>",
                c(x(comp.value())),
                c(cy),
                esc(&format!(
                    "{}：{}{}",
                    r.institution,
                    num(comp.value()),
                    adjusted
                ))
            );
        }
        let mx = c(x(st.mean));
        let _ = write!(
            s,
            "<line x1=\"{mx}\" y1=\"{}\" x2=\"{mx}\" y2=\"{}\" stroke=\"#0b0c0c\" stroke-width=\"3\"/><text x=\"{mx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#0b0c0c\">{}</text>",
            c(cy - dec(14)),
            c(cy + dec(14)),
            c(cy - dec(18)),
            esc(&format!("平均 {}", num(st.mean)))
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::data::tests::sample;
    use super::*;

    /// Parses `svg` as XML to the end; returns the texts of all `<title>` elements.
    pub(crate) fn well_formed(svg: &str) -> Vec<String> {
        use quick_xml::Reader;
        use quick_xml::events::Event;
        let mut r = Reader::from_str(svg);
        let mut depth = 0i32;
        let mut titles = Vec::new();
        let mut in_title = false;
        loop {
            match r
                .read_event()
                .unwrap_or_else(|e| panic!("bad XML: {e}\n{svg}"))
            {
                Event::Start(e) => {
                    depth += 1;
                    in_title = e.name().as_ref() == b"title";
                    if in_title {
                        titles.push(String::new());
                    }
                }
                Event::End(_) => {
                    depth -= 1;
                    in_title = false;
                }
                Event::Text(t) if in_title => {
                    if let Some(last) = titles.last_mut() {
                        last.push_str(&t.xml11_content().unwrap());
                    }
                }
                Event::GeneralRef(g) if in_title => {
                    let name = String::from_utf8_lossy(&g).into_owned();
                    let ch = match name.as_str() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "#39" => "'",
                        other => panic!("unexpected entity {other}"),
                    };
                    if let Some(last) = titles.last_mut() {
                        last.push_str(ch);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unbalanced elements");
        titles
    }

    #[test]
    fn r_eva_2_histogram_counts_by_band_and_is_well_formed() {
        let d = sample();
        let svg = score_histogram(&d);
        let titles = well_formed(&svg);
        for t in [
            "<61分：1 家",
            "61–70.9分：1 家",
            "71–80.9分：0 家",
            "81–90.9分：2 家",
            "≥91分：1 家",
        ] {
            assert!(titles.iter().any(|x| x == t), "{t} in {titles:?}");
        }
        assert!(svg.contains("&lt;61分"));
        assert!(svg.contains("暂停签约") && svg.contains("系数 ×1.2"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn r_eva_2_component_strips_escape_names() {
        let d = sample();
        let svg = component_strips(&d);
        let titles = well_formed(&svg);
        assert!(svg.contains("广州&lt;珠江&gt;&amp;技能培训中心"));
        assert!(!svg.contains("<珠江>"));
        assert!(
            titles.iter().any(|t| t.starts_with("广州")
                && t.contains("珠江")
                && t.ends_with("80（调整后）")),
            "{titles:?}"
        );
        // 5 confirmed institutions × 4 components
        assert_eq!(svg.matches("<circle").count(), 20);
        assert!(svg.contains("平均 76"));
    }

    #[test]
    fn charts_of_an_empty_round_are_well_formed() {
        let mut d = sample();
        d.rows.clear();
        well_formed(&score_histogram(&d));
        let svg = component_strips(&d);
        well_formed(&svg);
        assert!(svg.contains("无已确认的评估"));
    }

    #[test]
    fn esc_escapes_markup_and_drops_control_characters() {
        assert_eq!(esc("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn write_charts_for_a_look() {
        if let Ok(dir) = std::env::var("PEIXUN_REPORT_OUT") {
            let d = sample();
            let html = format!(
                "<!doctype html><meta charset=utf-8><body style=\"width:960px\">{}{}</body>",
                score_histogram(&d),
                component_strips(&d)
            );
            std::fs::write(format!("{dir}/evaluation-charts.html"), html).unwrap();
        }
    }
}
