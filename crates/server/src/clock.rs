//! The time source. Handlers never call `Utc::now()`: they ask the clock in [`crate::AppState`], so
//! that tests can move time (idle session expiry, lockouts).

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock moved by whole days, so that today (Beijing time) is a chosen date: demos and
/// training walk through the year without changing the machine's clock (`serve --demo --today`).
/// Time of day keeps running.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: Duration,
}

impl ShiftedClock {
    /// A clock whose Beijing-time date is `today` now, and moves on from there.
    pub fn today(today: chrono::NaiveDate) -> Self {
        Self::today_from(today, Utc::now())
    }

    fn today_from(today: chrono::NaiveDate, now: DateTime<Utc>) -> Self {
        let real = beijing_date(now);
        ShiftedClock {
            offset: Duration::days((today - real).num_days()),
        }
    }

    /// How far the clock is moved (whole days; negative into the past).
    pub fn offset_days(&self) -> i64 {
        self.offset.num_days()
    }
}

/// The Asia/Shanghai date of `t`.
pub fn beijing_date(t: DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .date_naive()
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// A clock that stands still until told to move (tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[test]
    fn shifted_clock_lands_on_the_chosen_beijing_date() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // 2026-12-03 20:00 UTC is already 12-04 in Beijing: the shift counts from the Beijing date.
        let real = Utc.with_ymd_and_hms(2026, 12, 3, 20, 0, 0).unwrap();
        let c = ShiftedClock::today_from(d(2027, 1, 18), real);
        assert_eq!(c.offset_days(), 45);
        let shifted = real + c.offset;
        assert_eq!(beijing_date(shifted), d(2027, 1, 18));
        // Into the past as well.
        let c = ShiftedClock::today_from(d(2026, 3, 2), real);
        assert_eq!(beijing_date(real + c.offset), d(2026, 3, 2));
        // And the live clock is on that date now.
        let live = ShiftedClock::today(d(2027, 1, 18));
        assert_eq!(beijing_date(live.now()), d(2027, 1, 18));
    }
}
