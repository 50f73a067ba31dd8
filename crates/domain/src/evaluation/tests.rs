//! Tests of R-EVA-1: SPEC §5's worked example, the formulas, flags, adjustments and
//! properties (score within 0–100, monotone, one rounding).

use super::*;
use crate::cap::{CapBasis, CapInput, compute_cap};
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn pol() -> Policy {
    Policy::haizhu_default()
}

/// SPEC.md §5: approved 5, on time 4, cap 6; 1 general finding, 1 late rectification;
/// archives 96, 90, 100, 89.5 %; satisfaction mean 4.6.
fn spec_example() -> EvaluationInput {
    EvaluationInput {
        cap: 6,
        approved: 5,
        on_time: 4,
        inspections: Some(1),
        general_findings: 1,
        serious_findings: 0,
        late_rectifications: 1,
        archives: vec![dec!(96), dec!(90), dec!(100), dec!(89.5)],
        satisfaction: SatisfactionInput::Answers {
            responses: 20,
            overall_sum: 92,
            trainees: 24,
        },
    }
}

fn value(r: &EvaluationResult, k: ComponentKey) -> Decimal {
    r.component(k).effective
}

#[test]
fn r_eva_1_spec_example_86_2() {
    let r = evaluate(&spec_example(), &[], &pol()).unwrap();
    assert_eq!(value(&r, ComponentKey::TaskCompletion), dec!(81));
    assert_eq!(value(&r, ComponentKey::Supervision), dec!(85));
    assert_eq!(value(&r, ComponentKey::Archives), dec!(93.875));
    assert_eq!(value(&r, ComponentKey::Satisfaction), dec!(90));
    assert_eq!(r.unrounded, "86.175");
    assert_eq!(r.score.to_string(), "86.2");
    assert_eq!(r.band.factor, Some(dec!(1.1)));
    assert_eq!(r.band.note, "81 ≤ 86.2 < 91 → × 1.1");
    assert!(r.undecided().is_empty());
    // R-CAP-3: next cap with C = 4: 4 × 1.1 = 4.4 → 4, by the cap code.
    let cap = compute_cap(
        &CapInput {
            planned: 40,
            prev_planned: Some(40),
            basis: CapBasis::Later {
                prev_completed: r.input.on_time,
                score: r.score,
            },
            major: false,
        },
        &pol(),
    )
    .unwrap();
    assert_eq!(cap.unrounded, dec!(4.4));
    assert_eq!(cap.cap, 4);
}

#[test]
fn r_eva_1_spec_example_from_a_mean_gives_the_same() {
    let mut i = spec_example();
    i.satisfaction = SatisfactionInput::Mean {
        mean: dec!(4.6),
        responses: None,
        trainees: None,
    };
    let r = evaluate(&i, &[], &pol()).unwrap();
    assert_eq!(r.score.to_string(), "86.2");
}

#[test]
fn r_eva_1_trail_names_each_step() {
    let r = evaluate(&spec_example(), &[], &pol()).unwrap();
    let find = |c: Option<ComponentKey>, k: &str| {
        r.trail
            .iter()
            .find(|s| s.component == c && s.kind == k)
            .unwrap_or_else(|| panic!("{k}"))
            .clone()
    };
    let t = find(Some(ComponentKey::TaskCompletion), "value");
    assert_eq!(t.note, "100 × (0.7 × 0.8 + 0.3 × 5/6 ≈ 0.833333) = 81");
    let s = find(Some(ComponentKey::Supervision), "value");
    assert_eq!(s.note, "100 − 5 × 1 − 15 × 0 − 10 × 1 = 85");
    let a = find(Some(ComponentKey::Archives), "value");
    assert_eq!(a.note, "(96 + 90 + 100 + 89.5) / 4 = 93.875");
    assert_eq!(find(None, "unrounded").value, "86.175");
    assert_eq!(find(None, "rounding").note, "86.175 → 86.2");
    assert_eq!(
        find(Some(ComponentKey::Satisfaction), "response_rate").value,
        "5/6 ≈ 0.833333"
    );
}

#[test]
fn r_eva_1_no_approved_class_scores_0_no_inspection_100() {
    let mut i = spec_example();
    i.approved = 0;
    i.on_time = 0;
    i.inspections = Some(0);
    i.general_findings = 0;
    i.late_rectifications = 0;
    let r = evaluate(&i, &[], &pol()).unwrap();
    assert_eq!(value(&r, ComponentKey::TaskCompletion), dec!(0));
    assert_eq!(value(&r, ComponentKey::Supervision), dec!(100));
}

#[test]
fn r_eva_1_supervision_floored_at_0_and_volume_capped_at_1() {
    let mut i = spec_example();
    i.serious_findings = 7;
    i.approved = 8;
    i.on_time = 8;
    let r = evaluate(&i, &[], &pol()).unwrap();
    assert_eq!(value(&r, ComponentKey::Supervision), dec!(0));
    assert_eq!(value(&r, ComponentKey::TaskCompletion), dec!(100));
}

#[test]
fn r_eva_1_archives_without_completed_class_is_0_and_flagged() {
    let mut i = spec_example();
    i.archives.clear();
    let r = evaluate(&i, &[], &pol()).unwrap();
    let a = r.component(ComponentKey::Archives);
    assert_eq!(a.computed, dec!(0));
    assert!(a.needs_decision());
    assert_eq!(r.undecided(), vec![ComponentKey::Archives]);
}

#[test]
fn r_eva_1_low_response_rate_and_no_answer_are_flagged() {
    let mut i = spec_example();
    i.satisfaction = SatisfactionInput::Answers {
        responses: 7,
        overall_sum: 35,
        trainees: 24,
    };
    let r = evaluate(&i, &[], &pol()).unwrap();
    let s = r.component(ComponentKey::Satisfaction);
    assert_eq!(s.computed, dec!(100));
    assert!(
        s.flag.as_deref().unwrap().contains("低于 30%"),
        "{:?}",
        s.flag
    );
    // 30 % exactly is not below.
    i.satisfaction = SatisfactionInput::Answers {
        responses: 6,
        overall_sum: 30,
        trainees: 20,
    };
    assert!(evaluate(&i, &[], &pol()).unwrap().undecided().is_empty());
    i.satisfaction = SatisfactionInput::Answers {
        responses: 0,
        overall_sum: 0,
        trainees: 20,
    };
    let r = evaluate(&i, &[], &pol()).unwrap();
    assert_eq!(r.component(ComponentKey::Satisfaction).computed, dec!(0));
    assert_eq!(r.undecided(), vec![ComponentKey::Satisfaction]);
}

#[test]
fn r_eva_1_adjustment_replaces_value_and_keeps_computed() {
    let adj = [Adjustment {
        key: ComponentKey::Archives,
        value: Some(dec!(97)),
        reason: "补交材料已核实".into(),
    }];
    let r = evaluate(&spec_example(), &adj, &pol()).unwrap();
    let a = r.component(ComponentKey::Archives);
    assert_eq!(
        (a.computed, a.adjusted, a.effective),
        (dec!(93.875), Some(dec!(97)), dec!(97))
    );
    // 86.175 + 0.2 × (97 − 93.875) = 86.8
    assert_eq!(r.score.to_string(), "86.8");
    assert!(
        r.trail
            .iter()
            .any(|s| s.kind == "adjusted" && s.note.contains("补交材料已核实"))
    );
}

#[test]
fn r_eva_1_accepting_a_flag_clears_it_without_changing_the_value() {
    let mut i = spec_example();
    i.archives.clear();
    let acc = [Adjustment {
        key: ComponentKey::Archives,
        value: None,
        reason: "无已完成班次，按0分".into(),
    }];
    let r = evaluate(&i, &acc, &pol()).unwrap();
    assert!(r.undecided().is_empty());
    assert_eq!(r.component(ComponentKey::Archives).effective, dec!(0));
}

#[test]
fn r_eva_1_bad_inputs_refused() {
    let mut i = spec_example();
    i.on_time = 6;
    assert!(matches!(
        evaluate(&i, &[], &pol()),
        Err(EvaluationError::OnTimeAboveApproved { .. })
    ));
    let mut i = spec_example();
    i.archives.push(dec!(100.1));
    assert!(matches!(
        evaluate(&i, &[], &pol()),
        Err(EvaluationError::ArchiveOutOfRange(_))
    ));
    let mut i = spec_example();
    i.satisfaction = SatisfactionInput::Mean {
        mean: dec!(5.1),
        responses: None,
        trainees: None,
    };
    assert!(matches!(
        evaluate(&i, &[], &pol()),
        Err(EvaluationError::MeanOutOfRange { .. })
    ));
    let adj = [Adjustment {
        key: ComponentKey::Supervision,
        value: Some(dec!(101)),
        reason: "x".into(),
    }];
    assert!(matches!(
        evaluate(&spec_example(), &adj, &pol()),
        Err(EvaluationError::AdjustmentOutOfRange(_))
    ));
    let adj = [Adjustment {
        key: ComponentKey::Supervision,
        value: Some(dec!(90)),
        reason: " ".into(),
    }];
    assert_eq!(
        evaluate(&spec_example(), &adj, &pol()).unwrap_err(),
        EvaluationError::EmptyReason
    );
    let mut i = spec_example();
    i.cap = 0;
    assert_eq!(
        evaluate(&i, &[], &pol()).unwrap_err(),
        EvaluationError::CapZero
    );
}

#[test]
fn r_eva_1_formula_numbers_are_policy_values() {
    let mut p = pol();
    p.evaluation_formula.general_finding_deduction = dec!(8);
    let r = evaluate(&spec_example(), &[], &p).unwrap();
    assert_eq!(value(&r, ComponentKey::Supervision), dec!(82));
    p.evaluation_formula.on_time_share = dec!(0.8);
    assert!(
        evaluate(&spec_example(), &[], &p).is_err(),
        "shares must sum to 1"
    );
}

#[test]
fn r_eva_1_result_serialises_and_round_trips() {
    let r = evaluate(&spec_example(), &[], &pol()).unwrap();
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["score"], "86.2");
    assert_eq!(v["components"][2]["computed"], "93.875");
    let back: EvaluationResult = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

// ---- properties ----

fn pct() -> impl Strategy<Value = Decimal> {
    (0i64..=100_000).prop_map(|n| Decimal::new(n, 3))
}

fn with_values(v: [Decimal; 4]) -> EvaluationResult {
    let adj: Vec<Adjustment> = ComponentKey::ALL
        .iter()
        .zip(v)
        .map(|(k, value)| Adjustment {
            key: *k,
            value: Some(value),
            reason: "p".into(),
        })
        .collect();
    evaluate(&spec_example(), &adj, &pol()).unwrap()
}

proptest! {
    #[test]
    fn r_eva_1_score_within_0_100(
        approved in 0u32..40, on_time_frac in 0u32..=100, cap in 1u32..40,
        general in 0u32..10, serious in 0u32..10, late in 0u32..10,
        archives in proptest::collection::vec(pct(), 0..6),
        responses in 0u32..30, extra in 0u32..30, ratings in proptest::collection::vec(1u32..=5, 30),
    ) {
        let on_time = approved * on_time_frac / 100;
        let sum: u32 = ratings.iter().take(responses as usize).sum();
        let i = EvaluationInput {
            cap, approved, on_time, inspections: None,
            general_findings: general, serious_findings: serious, late_rectifications: late,
            archives,
            satisfaction: SatisfactionInput::Answers { responses, overall_sum: sum, trainees: responses + extra },
        };
        let r = evaluate(&i, &[], &pol()).unwrap();
        prop_assert!(r.score >= Score::ZERO && r.score <= Score::MAX);
        for c in &r.components {
            prop_assert!(c.computed >= Decimal::ZERO && c.computed <= Decimal::ONE_HUNDRED);
        }
    }

    #[test]
    fn r_eva_1_monotone_in_each_component(
        a in pct(), b in pct(), c in pct(), d in pct(), k in 0usize..4, x in pct(), y in pct(),
    ) {
        let (lo, hi) = (x.min(y), x.max(y));
        let mut v1 = [a, b, c, d];
        let mut v2 = v1;
        v1[k] = lo;
        v2[k] = hi;
        prop_assert!(with_values(v1).score <= with_values(v2).score);
    }

    #[test]
    fn r_eva_1_one_rounding_at_the_end(a in pct(), b in pct(), c in pct(), d in pct()) {
        let r = with_values([a, b, c, d]);
        // Independent: the exact weighted sum, rounded half-up to one decimal once.
        let exact = (dec!(40) * a + dec!(20) * b + dec!(20) * c + dec!(20) * d) / dec!(100);
        let expected = exact.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        prop_assert_eq!(r.score.value(), expected.normalize());
    }
}
