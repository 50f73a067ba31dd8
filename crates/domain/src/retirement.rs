//! The statutory retirement age (法定退休年龄) under the 2025 gradual reform (SPEC.md §4).
//!
//! Source: 全国人民代表大会常务委员会《关于实施渐进式延迟法定退休年龄的决定》(2024-09-13), and
//! its 《国务院关于渐进式延迟法定退休年龄的办法》, in force from 2025-01-01:
//!
//! | group | before | born from | delay | up to |
//! |---|---|---|---|---|
//! | men (男职工) | 60 | 1965-01 | 1 month per 4 months of birth | 63 (born 1976-09 on) |
//! | women whose age was 55 (原法定退休年龄五十五周岁的女职工, cadres) | 55 | 1970-01 | 1 month per 4 months | 58 (born 1981-09 on) |
//! | women whose age was 50 (原法定退休年龄五十周岁的女职工, workers) | 50 | 1975-01 | 1 month per 2 months | 55 (born 1984-11 on) |
//!
//! So the first birth month of a group retires 1 month late (a man born in 1965-01 … 1965-04 at
//! 60 years 1 month, i.e. in 2025-02 … 2025-05, as the decision's table says), and people born
//! before it keep the old age. A person reaches the age on the day `birth + years + months`;
//! a day that month lacks becomes its last day (民法典 第二百零二条, chrono's month arithmetic).
//!
//! **Which schedule for a woman.** An ID number gives the sex, not whether the woman was a
//! worker (50) or a cadre (55). The roster's check is a *warning* that the subsidy is not payable
//! (SPEC.md §4), read by a person who can ask; paying a subsidy the rules exclude is the costly
//! mistake, a warning to check by hand is cheap. So the warning uses the earlier schedule, that of
//! women workers (50 → 55), and its text says that women whose age was 55 (cadres, and, in many
//! places, flexible employment) retire later and must be checked by hand:
//! [`RetirementGroup::for_sex`].

use crate::ids::Sex;
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The three schedules of the reform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetirementGroup {
    /// 男职工: 60 → 63.
    Male,
    /// 原法定退休年龄为五十五周岁的女职工 (cadres): 55 → 58.
    Female55,
    /// 原法定退休年龄为五十周岁的女职工 (workers): 50 → 55.
    Female50,
}

impl RetirementGroup {
    /// The schedule the roster warning applies for a sex known from an ID number: women get
    /// the earlier schedule of women workers (see the module documentation).
    pub fn for_sex(sex: Sex) -> RetirementGroup {
        match sex {
            Sex::Male => RetirementGroup::Male,
            Sex::Female => RetirementGroup::Female50,
        }
    }

    /// The age before the reform, in years.
    pub fn base_years(self) -> u32 {
        match self {
            RetirementGroup::Male => 60,
            RetirementGroup::Female55 => 55,
            RetirementGroup::Female50 => 50,
        }
    }

    /// The first birth month the reform delays, as (year, month).
    fn first_delayed_birth_month(self) -> (i32, u32) {
        match self {
            RetirementGroup::Male => (1965, 1),
            RetirementGroup::Female55 => (1970, 1),
            RetirementGroup::Female50 => (1975, 1),
        }
    }

    /// Months of birth per month of delay.
    fn step_months(self) -> u32 {
        match self {
            RetirementGroup::Male | RetirementGroup::Female55 => 4,
            RetirementGroup::Female50 => 2,
        }
    }

    /// The largest delay, in months (to 63, 58 and 55).
    fn max_delay_months(self) -> u32 {
        match self {
            RetirementGroup::Male | RetirementGroup::Female55 => 36,
            RetirementGroup::Female50 => 60,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            RetirementGroup::Male => "男职工",
            RetirementGroup::Female55 => "原法定退休年龄为55周岁的女职工",
            RetirementGroup::Female50 => "原法定退休年龄为50周岁的女职工",
        }
    }
}

/// An age in full years and months, e.g. 60 years 1 month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RetirementAge {
    pub years: u32,
    /// 0 to 11.
    pub months: u32,
}

impl RetirementAge {
    pub fn total_months(self) -> u32 {
        self.years * 12 + self.months
    }
}

impl fmt::Display for RetirementAge {
    /// "60周岁1个月", or "63周岁" when there are no months.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.months == 0 {
            write!(f, "{}周岁", self.years)
        } else {
            write!(f, "{}周岁{}个月", self.years, self.months)
        }
    }
}

/// The statutory retirement age of someone born on `birth` in `group`.
pub fn retirement_age(birth: NaiveDate, group: RetirementGroup) -> RetirementAge {
    let (y0, m0) = group.first_delayed_birth_month();
    let since = (birth.year() - y0) * 12 + (birth.month() as i32 - m0 as i32);
    let delay = if since < 0 {
        0
    } else {
        (since as u32 / group.step_months() + 1).min(group.max_delay_months())
    };
    let total = group.base_years() * 12 + delay;
    RetirementAge {
        years: total / 12,
        months: total % 12,
    }
}

/// The day someone born on `birth` in `group` reaches the statutory retirement age; `None`
/// only beyond chrono's calendar.
pub fn retirement_date(birth: NaiveDate, group: RetirementGroup) -> Option<NaiveDate> {
    birth.checked_add_months(Months::new(retirement_age(birth, group).total_months()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RetirementGroup::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn age(y: i32, m: u32, group: RetirementGroup) -> (u32, u32) {
        let a = retirement_age(d(y, m, 15), group);
        (a.years, a.months)
    }

    /// The decision's table (对照表) for men, at the start, the middle and the end.
    #[test]
    fn spec_4_retirement_men_60_to_63_one_month_per_four() {
        assert_eq!(age(1964, 12, Male), (60, 0));
        for m in 1..=4 {
            assert_eq!(age(1965, m, Male), (60, 1), "1965-{m}");
        }
        assert_eq!(age(1965, 5, Male), (60, 2));
        assert_eq!(age(1965, 9, Male), (60, 3));
        assert_eq!(age(1966, 1, Male), (60, 4));
        // Born 1966-09 … 1966-12: 60 years 6 months (not 61), retiring 2027-03 … 2027-06.
        assert_eq!(age(1966, 9, Male), (60, 6));
        assert_eq!(age(1966, 12, Male), (60, 6));
        assert_eq!(retirement_date(d(1966, 9, 1), Male), Some(d(2027, 3, 1)));
        assert_eq!(age(1970, 1, Male), (61, 4));
        assert_eq!(age(1976, 8, Male), (62, 11));
        assert_eq!(age(1976, 9, Male), (63, 0));
        assert_eq!(age(1990, 6, Male), (63, 0));
        // The table's "退休时间": born 1965-01 … 04 → 2025-02 … 05.
        assert_eq!(retirement_date(d(1965, 1, 10), Male), Some(d(2025, 2, 10)));
        assert_eq!(retirement_date(d(1965, 4, 30), Male), Some(d(2025, 5, 30)));
        assert_eq!(
            retirement_date(d(1964, 12, 31), Male),
            Some(d(2024, 12, 31))
        );
    }

    #[test]
    fn spec_4_retirement_women_workers_50_to_55_one_month_per_two() {
        assert_eq!(age(1974, 12, Female50), (50, 0));
        assert_eq!(age(1975, 1, Female50), (50, 1));
        assert_eq!(age(1975, 2, Female50), (50, 1));
        assert_eq!(age(1975, 3, Female50), (50, 2));
        assert_eq!(age(1976, 1, Female50), (50, 7));
        assert_eq!(age(1980, 1, Female50), (52, 7));
        assert_eq!(age(1984, 10, Female50), (54, 11));
        assert_eq!(age(1984, 11, Female50), (55, 0));
        assert_eq!(age(2000, 1, Female50), (55, 0));
        assert_eq!(
            retirement_date(d(1975, 1, 20), Female50),
            Some(d(2025, 2, 20))
        );
    }

    #[test]
    fn spec_4_retirement_women_cadres_55_to_58_one_month_per_four() {
        assert_eq!(age(1969, 12, Female55), (55, 0));
        assert_eq!(age(1970, 1, Female55), (55, 1));
        assert_eq!(age(1970, 5, Female55), (55, 2));
        assert_eq!(age(1981, 8, Female55), (57, 11));
        assert_eq!(age(1981, 9, Female55), (58, 0));
        assert_eq!(
            retirement_date(d(1970, 1, 1), Female55),
            Some(d(2025, 2, 1))
        );
    }

    #[test]
    fn spec_4_retirement_date_of_a_day_the_month_lacks_is_its_last_day() {
        // 1965-01-31 + 60 years 1 month: 2025-02 has no 31st.
        assert_eq!(retirement_date(d(1965, 1, 31), Male), Some(d(2025, 2, 28)));
        // 1976-02-29 + 50 years 7 months → 2026-09-29 (September has a 29th).
        assert_eq!(
            retirement_date(d(1976, 2, 29), Female50),
            Some(d(2026, 9, 29))
        );
    }

    #[test]
    fn spec_4_retirement_women_use_the_workers_schedule_for_the_warning() {
        assert_eq!(RetirementGroup::for_sex(Sex::Male), Male);
        assert_eq!(RetirementGroup::for_sex(Sex::Female), Female50);
        assert_eq!(
            RetirementAge {
                years: 60,
                months: 1
            }
            .to_string(),
            "60周岁1个月"
        );
        assert_eq!(
            RetirementAge {
                years: 63,
                months: 0
            }
            .to_string(),
            "63周岁"
        );
    }

    fn group() -> impl Strategy<Value = RetirementGroup> {
        prop_oneof![Just(Male), Just(Female55), Just(Female50)]
    }

    proptest! {
        /// Never below the old age, never above the new one, never more than the step allows.
        #[test]
        fn spec_4_retirement_age_between_old_and_new(days in 0i64..40_000, g in group()) {
            let birth = d(1930, 1, 1) + chrono::Duration::days(days);
            let a = retirement_age(birth, g).total_months();
            prop_assert!(a >= g.base_years() * 12);
            prop_assert!(a <= g.base_years() * 12 + g.max_delay_months());
            let months_born_since_1930 = (birth.year() - 1930) as u32 * 12 + birth.month0();
            prop_assert!(a <= g.base_years() * 12 + 1 + months_born_since_1930);
        }

        /// Born later never retires earlier, and each month of birth adds at most one month
        /// of age; the day does not matter within a month.
        #[test]
        fn spec_4_retirement_monotone_in_birth(days in 0i64..40_000, step in 0i64..400, g in group()) {
            let b1 = d(1930, 1, 1) + chrono::Duration::days(days);
            let b2 = b1 + chrono::Duration::days(step);
            let (a1, a2) = (retirement_age(b1, g), retirement_age(b2, g));
            prop_assert!(a1 <= a2);
            prop_assert!(retirement_date(b1, g).unwrap() <= retirement_date(b2, g).unwrap());
            let months_apart = (b2.year() - b1.year()) * 12 + b2.month() as i32 - b1.month() as i32;
            prop_assert!((a2.total_months() - a1.total_months()) as i32 <= months_apart.max(0) / g.step_months() as i32 + 1);
            let first_of_month = b1.with_day(1).unwrap();
            prop_assert_eq!(retirement_age(first_of_month, g), a1);
        }

        /// The schedule counts exactly: the delay is 1 + the whole steps since the first
        /// delayed birth month, capped.
        #[test]
        fn spec_4_retirement_delay_counts_whole_steps(k in 0u32..200, g in group()) {
            let (y0, m0) = g.first_delayed_birth_month();
            let birth = d(y0, m0, 1).checked_add_months(Months::new(k)).unwrap();
            let a = retirement_age(birth, g).total_months() - g.base_years() * 12;
            prop_assert_eq!(a, (k / g.step_months() + 1).min(g.max_delay_months()));
        }
    }
}
