//! SPEC.md §5, the whole table, through the public API as the store and the server call it.

use chrono::NaiveDate;
use peixun_domain::calendar::Calendar;
use peixun_domain::cap::{CapBasis, CapInput, apply_override, compute_cap, global_cap};
use peixun_domain::policy::Policy;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn spec_5_cap_examples() {
    let p = Policy::haizhu_default();
    assert_eq!(global_cap(25, &p).unwrap(), 13);

    // (name, C or first-requested, S (None: first agreement), major, P, P_prev, cap, suspended)
    type Case = (
        &'static str,
        u32,
        Option<&'static str>,
        bool,
        u32,
        Option<u32>,
        u32,
        bool,
    );
    let cases: &[Case] = &[
        ("first agreement", 15, None, false, 25, None, 13, false),
        ("top band", 10, Some("95"), false, 40, Some(40), 12, false),
        ("major", 10, Some("85"), true, 40, Some(40), 12, false),
        ("half-up", 5, Some("85"), false, 40, Some(40), 6, false),
        ("0.9 band", 10, Some("65"), false, 40, Some(40), 9, false),
        ("suspended 60", 10, Some("60"), false, 40, Some(40), 0, true),
        (
            "suspended 60.5",
            10,
            Some("60.5"),
            false,
            40,
            Some(40),
            0,
            true,
        ),
        ("61", 10, Some("61"), false, 40, Some(40), 9, false),
        (
            "decimal band",
            10,
            Some("90.5"),
            false,
            40,
            Some(40),
            11,
            false,
        ),
        ("growth", 9, Some("75"), false, 28, Some(24), 11, false),
        ("exactness", 6, Some("95"), false, 35, Some(24), 11, false),
    ];
    for &(name, n, score, major, planned, prev_planned, cap, suspended) in cases {
        let basis = match score {
            None => CapBasis::First { requested: n },
            Some(s) => CapBasis::Later {
                prev_completed: n,
                score: s.parse().unwrap(),
            },
        };
        let input = CapInput {
            planned,
            prev_planned,
            basis,
            major,
        };
        let decision = compute_cap(&input, &p).unwrap();
        assert_eq!(
            (decision.cap, decision.suspended),
            (cap, suspended),
            "{name}"
        );
        assert_eq!(decision.policy_version, p.version, "{name}");
    }
}

#[test]
fn spec_5_calendar_examples() {
    let p = Policy::haizhu_default();
    let cal = Calendar::builtin();
    for (start, deadline) in [
        ("2026-03-02", "2026-02-10"),
        ("2026-10-12", "2026-09-21"),
        ("2026-01-05", "2025-12-19"),
    ] {
        assert_eq!(
            cal.filing_deadline(d(start), &p).unwrap(),
            d(deadline),
            "{start}"
        );
    }
    for (effective, by) in [("2026-10-08", "2026-09-30"), ("2026-03-02", "2026-02-28")] {
        assert_eq!(
            cal.teacher_change_deadline(d(effective), &p).unwrap(),
            d(by),
            "{effective}"
        );
    }
    assert_eq!(
        cal.last_allowed_day(d("2026-03-02"), &p).unwrap(),
        d("2026-04-01")
    );
}

#[test]
fn r_cap_8_override_round_trip_as_stored() {
    let p = Policy::haizhu_default();
    let input = CapInput {
        planned: 40,
        prev_planned: Some(40),
        basis: CapBasis::Later {
            prev_completed: 10,
            score: "95".parse().unwrap(),
        },
        major: false,
    };
    let decision = apply_override(&compute_cap(&input, &p).unwrap(), 8, "整改期间").unwrap();
    let stored = serde_json::to_string(&decision).unwrap();
    let back: peixun_domain::cap::CapDecision = serde_json::from_str(&stored).unwrap();
    assert_eq!((back.cap, back.computed_cap), (8, 12));
    assert_eq!(back, decision);
}
