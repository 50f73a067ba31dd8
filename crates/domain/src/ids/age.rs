//! Age from an ID number at a class's start date (SPEC.md §4, 粤人社规〔2023〕13号).

use chrono::{Datelike, Months, NaiveDate};

use super::PersonId;
use crate::retirement::{RetirementAge, RetirementGroup, retirement_age, retirement_date};

/// Full years (周岁) from `birth` to `on`, or `None` if `on` is before `birth`.
///
/// A year is complete on its anniversary (the birthday itself). For someone born on 29 February,
/// the anniversary in a common year is 28 February: a period counted in years that has no
/// corresponding day ends on the last day of that month (民法典 第二百零二条), which is also what
/// chrono's month arithmetic does.
pub(crate) fn full_years(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if on < birth {
        return None;
    }
    let guess = u32::try_from(on.year() - birth.year()).ok()?;
    let anniversary = birth.checked_add_months(Months::new(guess.checked_mul(12)?))?;
    Some(if anniversary > on { guess - 1 } else { guess })
}

/// The outcome of the age rule of SPEC.md §4 for one person on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgeCheck {
    /// Between the minimum age and the retirement age: may enrol, subsidy payable.
    Ok(u32),
    /// Under the minimum age (16 by policy): the enrolment is refused.
    TooYoung { age: u32 },
    /// Has reached the statutory retirement age (2025 reform, [`crate::retirement`]): a warning,
    /// the enrolment stands but no subsidy is payable (the subsidy covers the working-age
    /// population). Carries the schedule applied, the age and the day it was reached.
    OverRetirement {
        age: u32,
        group: RetirementGroup,
        retirement_age: RetirementAge,
        retired_on: NaiveDate,
    },
    /// The document carries no birth date (travel permits): the age must be checked by hand.
    Unknown,
}

impl AgeCheck {
    /// A stable code for the API and the audit log.
    pub fn code(self) -> &'static str {
        match self {
            AgeCheck::Ok(_) => "AGE_OK",
            AgeCheck::TooYoung { .. } => "AGE_TOO_YOUNG",
            AgeCheck::OverRetirement { .. } => "AGE_OVER_RETIREMENT",
            AgeCheck::Unknown => "AGE_UNKNOWN",
        }
    }

    /// The age in full years, when the document has a birth date.
    pub fn age(self) -> Option<u32> {
        match self {
            AgeCheck::Ok(age)
            | AgeCheck::TooYoung { age }
            | AgeCheck::OverRetirement { age, .. } => Some(age),
            AgeCheck::Unknown => None,
        }
    }

    /// Only being too young refuses an enrolment; the other outcomes let it stand.
    pub fn is_refusal(self) -> bool {
        matches!(self, AgeCheck::TooYoung { .. })
    }
}

/// The age rule of SPEC.md §4 on date `on` (the class start date).
///
/// * age < `policy_min_age` → [`AgeCheck::TooYoung`] (refused). A date before the birth date
///   counts as age 0.
/// * on or after the day the statutory retirement age is reached → [`AgeCheck::OverRetirement`]
///   (warning). The age follows the 2025 gradual reform from the birth date and the sex in the
///   number, women on the workers' schedule ([`RetirementGroup::for_sex`]): a man born
///   1965-03-10 reaches 60 years 1 month on 2025-04-10.
/// * no birth date in the document → [`AgeCheck::Unknown`].
///
/// The minimum age comes from the caller (the policy, R-POL-1).
pub fn check_age(id: &PersonId, on: NaiveDate, policy_min_age: u32) -> AgeCheck {
    let (Some(birth), Some(sex)) = (id.birth_date(), id.sex()) else {
        return AgeCheck::Unknown;
    };
    let age = full_years(birth, on).unwrap_or(0);
    let group = RetirementGroup::for_sex(sex);
    if age < policy_min_age {
        return AgeCheck::TooYoung { age };
    }
    match retirement_date(birth, group) {
        Some(retired_on) if on >= retired_on => AgeCheck::OverRetirement {
            age,
            group,
            retirement_age: retirement_age(birth, group),
            retired_on,
        },
        _ => AgeCheck::Ok(age),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::check_char;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A valid Haizhu (440105) citizen ID for a birth date (a man: odd 17th digit).
    fn haizhu_id(birth: NaiveDate) -> PersonId {
        id_with_sequence(birth, "123")
    }

    /// The same for a woman (even 17th digit).
    fn haizhu_woman(birth: NaiveDate) -> PersonId {
        id_with_sequence(birth, "124")
    }

    fn id_with_sequence(birth: NaiveDate, seq: &str) -> PersonId {
        let first17 = format!("440105{}{seq}", birth.format("%Y%m%d"));
        let id = format!("{first17}{}", check_char(&first17).unwrap());
        PersonId::parse(&id).unwrap()
    }

    #[test]
    fn age_turns_on_the_birthday_not_the_day_before() {
        let birth = d(2010, 3, 5);
        assert_eq!(full_years(birth, d(2026, 3, 4)), Some(15));
        assert_eq!(full_years(birth, d(2026, 3, 5)), Some(16));
        assert_eq!(full_years(birth, d(2026, 3, 6)), Some(16));
        assert_eq!(full_years(birth, birth), Some(0));
        assert_eq!(full_years(birth, d(2010, 3, 4)), None);
    }

    #[test]
    fn feb_29_birthday_is_feb_28_in_common_years() {
        let birth = d(2008, 2, 29);
        // Leap year: the real birthday.
        assert_eq!(full_years(birth, d(2024, 2, 28)), Some(15));
        assert_eq!(full_years(birth, d(2024, 2, 29)), Some(16));
        // Common year: 28 February (民法典 第二百零二条).
        assert_eq!(full_years(birth, d(2025, 2, 27)), Some(16));
        assert_eq!(full_years(birth, d(2025, 2, 28)), Some(17));
        assert_eq!(full_years(birth, d(2025, 3, 1)), Some(17));
    }

    #[test]
    fn spec_4_under_16_on_the_start_date_is_refused() {
        let id = haizhu_id(d(2010, 3, 5));
        let day_before = check_age(&id, d(2026, 3, 4), 16);
        assert_eq!(day_before, AgeCheck::TooYoung { age: 15 });
        assert!(day_before.is_refusal());
        assert_eq!(day_before.code(), "AGE_TOO_YOUNG");
        assert_eq!(check_age(&id, d(2026, 3, 5), 16), AgeCheck::Ok(16));
    }

    #[test]
    fn spec_4_reaching_retirement_age_is_a_warning_not_a_refusal() {
        // A man born 1963-05-20 (before the reform): 60 on 2023-05-20.
        let id = haizhu_id(d(1963, 5, 20));
        assert_eq!(check_age(&id, d(2023, 5, 19), 16), AgeCheck::Ok(59));
        let on_birthday = check_age(&id, d(2023, 5, 20), 16);
        assert_eq!(
            on_birthday,
            AgeCheck::OverRetirement {
                age: 60,
                group: RetirementGroup::Male,
                retirement_age: RetirementAge {
                    years: 60,
                    months: 0
                },
                retired_on: d(2023, 5, 20),
            }
        );
        assert!(!on_birthday.is_refusal());
        assert_eq!(on_birthday.age(), Some(60));
        assert_eq!(on_birthday.code(), "AGE_OVER_RETIREMENT");
    }

    /// The fixed age of 60 would warn a man born 1966-05-20 on his 60th birthday; under the
    /// 2025 reform he retires at 60 years 5 months, on 2026-10-20.
    #[test]
    fn spec_4_retirement_warning_follows_the_2025_reform() {
        let man = haizhu_id(d(1966, 5, 20));
        assert_eq!(check_age(&man, d(2026, 5, 20), 16), AgeCheck::Ok(60));
        assert_eq!(check_age(&man, d(2026, 10, 19), 16), AgeCheck::Ok(60));
        assert!(matches!(
            check_age(&man, d(2026, 10, 20), 16),
            AgeCheck::OverRetirement {
                age: 60,
                retirement_age: RetirementAge {
                    years: 60,
                    months: 5
                },
                ..
            }
        ));
        // A woman born 1976-03-02: workers' schedule, 50 years 8 months → 2026-11-02.
        let woman = haizhu_woman(d(1976, 3, 2));
        assert_eq!(woman.sex(), Some(crate::ids::Sex::Female));
        assert_eq!(check_age(&woman, d(2026, 11, 1), 16), AgeCheck::Ok(50));
        assert!(matches!(
            check_age(&woman, d(2026, 11, 2), 16),
            AgeCheck::OverRetirement {
                group: RetirementGroup::Female50,
                retired_on,
                ..
            } if retired_on == d(2026, 11, 2)
        ));
        // A woman born 1970-01-01 is over it (55 on the old scale) long before 2026.
        assert!(matches!(
            check_age(&haizhu_woman(d(1970, 1, 1)), d(2026, 3, 2), 16),
            AgeCheck::OverRetirement { .. }
        ));
    }

    #[test]
    fn spec_4_no_birth_date_in_a_travel_permit_is_unknown() {
        let id = PersonId::parse("H12345678").unwrap();
        let result = check_age(&id, d(2026, 3, 2), 16);
        assert_eq!(result, AgeCheck::Unknown);
        assert_eq!(result.age(), None);
        assert!(!result.is_refusal());
    }

    #[test]
    fn spec_4_start_date_before_birth_is_refused_as_age_0() {
        let id = haizhu_id(d(2026, 6, 1));
        assert_eq!(
            check_age(&id, d(2026, 3, 2), 16),
            AgeCheck::TooYoung { age: 0 }
        );
    }

    proptest! {
        #[test]
        fn age_never_decreases_and_grows_by_one_a_year(
            birth_days in 0i64..73_000,
            offset in 0i64..40_000,
            step in 0i64..800,
        ) {
            let birth = d(1900, 1, 1) + chrono::Duration::days(birth_days);
            let on = birth + chrono::Duration::days(offset);
            let later = on + chrono::Duration::days(step);
            let a = full_years(birth, on).unwrap();
            let b = full_years(birth, later).unwrap();
            prop_assert!(a <= b && b <= a + 3);
            // Exactly n years after birth (same month and day) the age is n.
            if let Some(anniv) = birth.checked_add_months(Months::new(12 * a)) {
                prop_assert_eq!(full_years(birth, anniv), Some(a));
            }
        }
    }
}
