//! Monthly report follow-up (R-RUN-3).

use chrono::{DateTime, FixedOffset, NaiveDate};
use peixun_domain::policy::Policy;
use peixun_domain::workflow::report::{
    AgreementSpan, ReportStatus, institutions_owing_report, reminder_dates, report_statuses,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[test]
fn r_run_3_institutions_with_an_agreement_in_force_that_month_owe_a_report() {
    let spans = [
        AgreementSpan {
            institution: 1,
            signed_on: d("2026-01-10"),
            terminated_on: None,
        },
        AgreementSpan {
            institution: 2,
            signed_on: d("2026-03-31"),
            terminated_on: None,
        },
        AgreementSpan {
            institution: 3,
            signed_on: d("2026-04-01"),
            terminated_on: None,
        },
        AgreementSpan {
            institution: 4,
            signed_on: d("2026-01-10"),
            terminated_on: Some(d("2026-02-28")),
        },
        AgreementSpan {
            institution: 5,
            signed_on: d("2026-01-10"),
            terminated_on: Some(d("2026-03-01")),
        },
        AgreementSpan {
            institution: 1,
            signed_on: d("2026-02-10"),
            terminated_on: None,
        },
    ];
    assert_eq!(
        institutions_owing_report(2026, 3, &spans).unwrap(),
        [1, 2, 5]
    );
    assert_eq!(
        institutions_owing_report(2026, 13, &spans)
            .unwrap_err()
            .code(),
        "invalid_month"
    );
    assert_eq!(
        institutions_owing_report(2026, 12, &spans).unwrap(),
        [1, 2, 3]
    );
}

#[test]
fn r_run_3_missing_and_late_reports_are_listed() {
    let p = Policy::haizhu_default();
    let subs = [
        (1, at("2026-03-20T10:00:00+08:00")),
        (2, at("2026-03-25T16:30:00Z")), // 2026-03-26 00:30 in Shanghai
        (2, at("2026-03-27T09:00:00+08:00")),
    ];
    let on = |today: &str| report_statuses(2026, 3, &[1, 2, 3], &subs, d(today), &p).unwrap();
    assert_eq!(
        on("2026-03-26"),
        [
            (1, ReportStatus::OnTime),
            (2, ReportStatus::Late),
            (3, ReportStatus::Missing)
        ]
    );
    assert_eq!(on("2026-03-25")[2], (3, ReportStatus::NotYetDue));
    assert_eq!(ReportStatus::Missing.label_zh(), "逾期未提交");
}

#[test]
fn r_run_3_reminders_three_days_and_one_day_before_the_25th() {
    let p = Policy::haizhu_default();
    assert_eq!(
        reminder_dates(2026, 2, &[1, 3, 3], &p).unwrap(),
        [d("2026-02-22"), d("2026-02-24")]
    );
    let mut p20 = p.clone();
    p20.monthly_report_day = 20;
    assert_eq!(
        reminder_dates(2026, 2, &[3], &p20).unwrap(),
        [d("2026-02-17")]
    );
}
