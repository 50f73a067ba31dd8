//! What the round's evaluation report (评估报告, R-EVA-2) shows, independent of how it is drawn:
//! one [`ReportRow`] per institution evaluated in the round, the score bands of R-CAP-3 from the
//! policy in force, and the summary the document opens with. The .docx, the .xlsx and the chart
//! page are renderers over [`ReportData`] (pure, tested on synthetic data).

use chrono::NaiveDate;
use peixun_domain::cap::Score;
use peixun_domain::policy::{EvaluationWeights, Policy};
use rust_decimal::{Decimal, RoundingStrategy};

/// The district the reports are made for.
pub const DISTRICT: &str = "海珠区";

/// The four components of R-EVA-1 in the report's order, with their Chinese names.
pub const COMPONENT_NAMES: [&str; 4] = ["任务完成情况", "教学督导", "教学档案整理", "学员满意度"];

/// One component of an evaluation: the value computed from the records and, when the centre
/// adjusted it, the adjusted value and the reason (R-EVA-1: the computed value stays beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub computed: Decimal,
    pub adjusted: Option<Decimal>,
    pub reason: Option<String>,
}

impl Component {
    pub fn computed(v: Decimal) -> Self {
        Component {
            computed: v,
            adjusted: None,
            reason: None,
        }
    }

    pub fn adjusted(computed: Decimal, adjusted: Decimal, reason: &str) -> Self {
        Component {
            computed,
            adjusted: Some(adjusted),
            reason: Some(reason.to_string()),
        }
    }

    /// The value that counts: the adjusted one when there is one.
    pub fn value(&self) -> Decimal {
        self.adjusted.unwrap_or(self.computed)
    }
}

/// Where an evaluation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    /// 已确认: the score is fixed and feeds R-CAP-3.
    Confirmed,
    /// 评估中: opened, not confirmed; listed without a score.
    Open,
}

impl RowState {
    pub fn label_zh(self) -> &'static str {
        match self {
            RowState::Confirmed => "已确认",
            RowState::Open => "评估中",
        }
    }
}

/// The effect of a score on the institution's next cap (R-CAP-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextCap {
    /// The next cap is `C × factor` (before the major-project and growth factors).
    Factor(Decimal),
    /// 暂停签约: cap 0, no agreement next round.
    Suspended,
}

impl NextCap {
    /// The score band's effect under `policy` (R-CAP-3: bands closed at their lower bound).
    pub fn for_score(policy: &Policy, score: Score) -> NextCap {
        match policy.score_factor(score) {
            Some(b) => NextCap::Factor(b.factor),
            None => NextCap::Suspended,
        }
    }

    pub fn label_zh(self) -> String {
        match self {
            NextCap::Factor(f) => factor(f),
            NextCap::Suspended => "暂停签约".to_string(),
        }
    }
}

/// One institution's line in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub institution: String,
    /// The agreement evaluated (for links); 0 in synthetic data.
    pub agreement_id: i64,
    pub state: RowState,
    /// In [`COMPONENT_NAMES`] order; `None` while nothing was computed yet.
    pub components: Option<[Component; 4]>,
    /// Confirmed evaluations only.
    pub score: Option<Score>,
    /// C: the agreement's classes completed on time (R-CAP-3).
    pub on_time_completed: Option<u32>,
    /// Confirmed evaluations only.
    pub next_cap: Option<NextCap>,
    /// The policy version the score was fixed with.
    pub policy_version: Option<String>,
}

impl ReportRow {
    /// A confirmed evaluation; the effect on the next cap follows from `policy`'s bands.
    pub fn confirmed(
        institution: &str,
        components: [Component; 4],
        score: Score,
        on_time_completed: u32,
        policy: &Policy,
    ) -> Self {
        ReportRow {
            institution: institution.to_string(),
            agreement_id: 0,
            state: RowState::Confirmed,
            components: Some(components),
            score: Some(score),
            on_time_completed: Some(on_time_completed),
            next_cap: Some(NextCap::for_score(policy, score)),
            policy_version: Some(policy.version.clone()),
        }
    }

    /// An evaluation still open: listed as 评估中 without a score.
    pub fn open(institution: &str, components: Option<[Component; 4]>) -> Self {
        ReportRow {
            institution: institution.to_string(),
            agreement_id: 0,
            state: RowState::Open,
            components,
            score: None,
            on_time_completed: None,
            next_cap: None,
            policy_version: None,
        }
    }

    /// `Some` only for a confirmed row with components.
    pub fn shown_components(&self) -> Option<&[Component; 4]> {
        match self.state {
            RowState::Confirmed => self.components.as_ref(),
            RowState::Open => None,
        }
    }
}

/// A score band of R-CAP-3 as the report names it (`<61`, `61–70.9`, …, `≥91`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub label: String,
    /// Inclusive lower bound; `None` for the suspension band below the lowest `min`.
    pub min: Option<Score>,
    pub effect: NextCap,
}

impl Band {
    /// The bands of `policy`, lowest first, the suspension band first of all.
    pub fn from_policy(policy: &Policy) -> Vec<Band> {
        let mut bands = policy.score_bands.clone();
        bands.sort_by_key(|b| b.min);
        let mut out = Vec::with_capacity(bands.len() + 1);
        if let Some(first) = bands.first() {
            out.push(Band {
                label: format!("<{}", first.min),
                min: None,
                effect: NextCap::Suspended,
            });
        }
        for (i, b) in bands.iter().enumerate() {
            let label = match bands.get(i + 1) {
                // Scores carry one decimal: the band ends 0.1 below the next band's lower bound.
                Some(next) => format!("{}–{}", b.min, num(next.min.value() - Decimal::new(1, 1))),
                None => format!("≥{}", b.min),
            };
            out.push(Band {
                label,
                min: Some(b.min),
                effect: NextCap::Factor(b.factor),
            });
        }
        out
    }

    /// The index in `bands` (as from [`Band::from_policy`]) of the band holding `score`.
    pub fn index_of(bands: &[Band], score: Score) -> usize {
        bands
            .iter()
            .rposition(|b| b.min.is_none_or(|m| score >= m))
            .unwrap_or(0)
    }
}

/// The report: a round's evaluations and the policy that reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportData {
    pub round_id: i64,
    /// e.g. "2026年下半年".
    pub round_label: String,
    pub district: String,
    pub generated_on: NaiveDate,
    /// The policy in force on `generated_on`, whose bands and weights the report uses.
    pub policy_version: String,
    pub weights: EvaluationWeights,
    pub bands: Vec<Band>,
    pub rows: Vec<ReportRow>,
}

impl ReportData {
    pub fn new(
        round_id: i64,
        round_label: &str,
        generated_on: NaiveDate,
        policy: &Policy,
        rows: Vec<ReportRow>,
    ) -> Self {
        ReportData {
            round_id,
            round_label: round_label.to_string(),
            district: DISTRICT.to_string(),
            generated_on,
            policy_version: policy.version.clone(),
            weights: policy.evaluation_weights,
            bands: Band::from_policy(policy),
            rows,
        }
    }

    /// Column headers of the components with their weights, e.g. "任务完成情况（40%）".
    pub fn component_headers(&self) -> [String; 4] {
        let w = [
            self.weights.task_completion,
            self.weights.supervision,
            self.weights.archives,
            self.weights.satisfaction,
        ];
        std::array::from_fn(|i| format!("{}（{}%）", COMPONENT_NAMES[i], w[i]))
    }

    /// The confirmed rows' scores.
    pub fn scores(&self) -> Vec<Score> {
        self.rows
            .iter()
            .filter(|r| r.state == RowState::Confirmed)
            .filter_map(|r| r.score)
            .collect()
    }

    pub fn summary(&self) -> Summary {
        let scores = self.scores();
        let mut per_band = vec![0usize; self.bands.len()];
        for s in &scores {
            per_band[Band::index_of(&self.bands, *s)] += 1;
        }
        let suspended = self
            .rows
            .iter()
            .filter(|r| r.next_cap == Some(NextCap::Suspended))
            .count();
        Summary {
            confirmed: scores.len(),
            open: self
                .rows
                .iter()
                .filter(|r| r.state == RowState::Open)
                .count(),
            mean: mean(scores.iter().map(|s| s.value())),
            per_band: self
                .bands
                .iter()
                .zip(per_band)
                .map(|(b, n)| (b.label.clone(), n))
                .collect(),
            suspended,
        }
    }

    /// Min, mean and max of each component over the confirmed rows (`None` without any).
    pub fn component_stats(&self) -> [Option<Stats>; 4] {
        std::array::from_fn(|i| {
            let values: Vec<Decimal> = self
                .rows
                .iter()
                .filter_map(|r| r.shown_components())
                .map(|c| c[i].value())
                .collect();
            Some(Stats {
                min: *values.iter().min()?,
                max: *values.iter().max()?,
                mean: mean(values.iter().copied())?,
            })
        })
    }

    /// Every adjusted component: (institution, component name, computed, adjusted, reason).
    pub fn adjustments(&self) -> Vec<Adjustment<'_>> {
        let mut out = Vec::new();
        for r in &self.rows {
            let Some(cs) = r.components.as_ref() else {
                continue;
            };
            for (i, c) in cs.iter().enumerate() {
                if let Some(adj) = c.adjusted {
                    out.push(Adjustment {
                        institution: &r.institution,
                        component: COMPONENT_NAMES[i],
                        computed: c.computed,
                        adjusted: adj,
                        reason: c.reason.as_deref().unwrap_or(""),
                        confirmed: r.state == RowState::Confirmed,
                    });
                }
            }
        }
        out
    }

    /// The date as the closing line writes it: "2026年12月3日".
    pub fn date_zh(&self) -> String {
        use chrono::Datelike;
        let d = self.generated_on;
        format!("{}年{}月{}日", d.year(), d.month(), d.day())
    }

    /// The report's title: 《海珠区职业技能培训合格证书培训绩效评估报告》.
    pub fn title(&self) -> String {
        format!("{}职业技能培训合格证书培训绩效评估报告", self.district)
    }

    /// The summary paragraph in Chinese.
    pub fn summary_text(&self) -> String {
        let s = self.summary();
        let mut t = format!(
            "{}共对 {} 家培训机构完成绩效评估（评分已确认）",
            self.round_label, s.confirmed
        );
        if s.open > 0 {
            t.push_str(&format!("，另有 {} 家评估中、尚未确认评分", s.open));
        }
        match s.mean {
            Some(m) => t.push_str(&format!("。已确认评分的平均分为 {} 分", num(m))),
            None => t.push_str("。本轮尚无已确认的评分"),
        }
        if s.confirmed > 0 {
            let parts: Vec<String> = s
                .per_band
                .iter()
                .map(|(l, n)| format!("{l}分 {n} 家"))
                .collect();
            t.push_str(&format!("；各分数段：{}", parts.join("，")));
        }
        t.push_str(&format!(
            "；其中 {} 家评分低于 {} 分，下一轮暂停签约分配指标。",
            s.suspended,
            self.bands
                .get(1)
                .and_then(|b| b.min)
                .map(|m| m.to_string())
                .unwrap_or_else(|| "—".into())
        ));
        t
    }
}

/// The report's opening numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub confirmed: usize,
    pub open: usize,
    /// Mean of the confirmed scores, half-up to two decimals.
    pub mean: Option<Decimal>,
    /// (band label, number of confirmed scores in it), lowest band first.
    pub per_band: Vec<(String, usize)>,
    pub suspended: usize,
}

/// Min, mean (half-up to two decimals) and max of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub min: Decimal,
    pub mean: Decimal,
    pub max: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment<'a> {
    pub institution: &'a str,
    pub component: &'static str,
    pub computed: Decimal,
    pub adjusted: Decimal,
    pub reason: &'a str,
    pub confirmed: bool,
}

/// Exact mean, rounded half-up to two decimals (display only; scores are never averaged into a
/// decision).
fn mean(values: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    let (sum, n) = values.fold((Decimal::ZERO, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| {
        (sum / Decimal::from(n))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    })
}

/// A cap factor as the guideline writes it, with at least one decimal ("1.0", "1.1").
pub fn factor(f: Decimal) -> String {
    let f = f.normalize();
    if f.scale() == 0 {
        format!("{f}.0")
    } else {
        f.to_string()
    }
}

/// A decimal as the report prints it: exact, without trailing zeros ("93.875", "85", "1.1").
pub fn num(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    pub(crate) fn policy() -> Policy {
        Policy::haizhu_default()
    }

    fn s(v: &str) -> Score {
        v.parse().unwrap()
    }

    pub(crate) fn comps(t: Decimal, sup: Decimal, a: Decimal, sat: Decimal) -> [Component; 4] {
        [
            Component::computed(t),
            Component::computed(sup),
            Component::computed(a),
            Component::computed(sat),
        ]
    }

    /// Synthetic data: SPEC §5's evaluation (86.2), an adjusted one, the band edges, an open one
    /// and a name that needs escaping everywhere.
    pub(crate) fn sample() -> ReportData {
        let p = policy();
        let mut adjusted = comps(dec!(100), dec!(85), dec!(90), dec!(60));
        adjusted[3] =
            Component::adjusted(dec!(60), dec!(80), "问卷回收率不足30%，按现场抽查结果调整");
        let rows = vec![
            ReportRow::confirmed(
                "广州市海珠区示范职业培训学校",
                comps(dec!(81), dec!(85), dec!(93.875), dec!(90)),
                s("86.2"),
                4,
                &p,
            ),
            ReportRow::confirmed("广州<珠江>&技能培训中心", adjusted, s("91"), 6, &p),
            ReportRow::confirmed(
                "海珠区南洲职业技能培训学校",
                comps(dec!(50), dec!(70), dec!(60), dec!(65)),
                s("60.5"),
                2,
                &p,
            ),
            ReportRow::confirmed(
                "广州市琶洲培训学校",
                comps(dec!(60), dec!(65), dec!(60), dec!(60)),
                s("61"),
                3,
                &p,
            ),
            ReportRow::confirmed(
                "广州市赤岗职业培训学校",
                comps(dec!(95), dec!(85), dec!(90), dec!(85)),
                s("90.5"),
                5,
                &p,
            ),
            ReportRow::open("海珠区新港培训学校", None),
        ];
        ReportData::new(
            7,
            "2026年下半年",
            NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            &p,
            rows,
        )
    }

    #[test]
    fn r_cap_3_band_edges_in_the_report() {
        let p = policy();
        assert_eq!(NextCap::for_score(&p, s("60")), NextCap::Suspended);
        assert_eq!(NextCap::for_score(&p, s("60.5")), NextCap::Suspended);
        assert_eq!(NextCap::for_score(&p, s("61")), NextCap::Factor(dec!(0.9)));
        assert_eq!(
            NextCap::for_score(&p, s("70.9")),
            NextCap::Factor(dec!(0.9))
        );
        assert_eq!(NextCap::for_score(&p, s("71")), NextCap::Factor(dec!(1.0)));
        assert_eq!(
            NextCap::for_score(&p, s("90.5")),
            NextCap::Factor(dec!(1.1))
        );
        assert_eq!(NextCap::for_score(&p, s("91")), NextCap::Factor(dec!(1.2)));
        assert_eq!(NextCap::Factor(dec!(1.0)).label_zh(), "1.0");
        assert_eq!(NextCap::Factor(dec!(1.20)).label_zh(), "1.2");
        assert_eq!(NextCap::Suspended.label_zh(), "暂停签约");
    }

    #[test]
    fn r_cap_3_band_labels_follow_the_policy() {
        let bands = Band::from_policy(&policy());
        let labels: Vec<&str> = bands.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["<61", "61–70.9", "71–80.9", "81–90.9", "≥91"]);
        assert_eq!(Band::index_of(&bands, s("60.5")), 0);
        assert_eq!(Band::index_of(&bands, s("61")), 1);
        assert_eq!(Band::index_of(&bands, s("80.9")), 2);
        assert_eq!(Band::index_of(&bands, s("90.5")), 3);
        assert_eq!(Band::index_of(&bands, s("91")), 4);
        assert_eq!(Band::index_of(&bands, s("100")), 4);
        assert_eq!(Band::index_of(&bands, s("0")), 0);
    }

    #[test]
    fn r_eva_2_summary_counts_confirmed_scores_only() {
        let d = sample();
        let sm = d.summary();
        assert_eq!((sm.confirmed, sm.open, sm.suspended), (5, 1, 1));
        // (86.2 + 91 + 60.5 + 61 + 90.5) / 5 = 77.84
        assert_eq!(sm.mean, Some(dec!(77.84)));
        let counts: Vec<usize> = sm.per_band.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [1, 1, 0, 2, 1]);
        let t = d.summary_text();
        assert!(t.contains("共对 5 家培训机构"), "{t}");
        assert!(t.contains("另有 1 家评估中"), "{t}");
        assert!(t.contains("平均分为 77.84 分"), "{t}");
        assert!(t.contains("<61分 1 家"), "{t}");
        assert!(t.contains("其中 1 家评分低于 61 分"), "{t}");
        assert_eq!(d.title(), "海珠区职业技能培训合格证书培训绩效评估报告");
        assert_eq!(d.date_zh(), "2026年12月3日");
    }

    #[test]
    fn r_eva_2_components_stats_and_adjustments() {
        let d = sample();
        let st = d.component_stats();
        let task = st[0].unwrap();
        assert_eq!((task.min, task.max), (dec!(50), dec!(100)));
        // satisfaction counts the adjusted 80, not the computed 60
        assert_eq!(st[3].unwrap().max, dec!(90));
        assert_eq!(st[3].unwrap().mean, dec!(76));
        let adj = d.adjustments();
        assert_eq!(adj.len(), 1);
        assert_eq!(adj[0].component, "学员满意度");
        assert_eq!((adj[0].computed, adj[0].adjusted), (dec!(60), dec!(80)));
        assert_eq!(d.component_headers()[0], "任务完成情况（40%）".to_string());
    }

    #[test]
    fn an_empty_round_has_no_mean_and_no_stats() {
        let d = ReportData::new(
            1,
            "2027年上半年",
            NaiveDate::from_ymd_opt(2027, 7, 1).unwrap(),
            &policy(),
            vec![ReportRow::open("甲", None)],
        );
        assert_eq!(d.summary().mean, None);
        assert!(d.component_stats().iter().all(Option::is_none));
        assert!(d.summary_text().contains("尚无已确认的评分"));
    }
}
