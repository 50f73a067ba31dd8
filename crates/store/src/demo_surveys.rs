//! Demo data for the satisfaction survey (R-EVA-3): every class of the demo that ran (completed,
//! archived or overdue) gets answers from about three quarters of its trainees — mostly 4 and 5,
//! a few 3s and lower, some comments in Chinese — given through [`surveys::respond`] exactly as
//! a trainee's phone would, on a day before the class's closing date. Deterministic (a small
//! generator seeded by the class id), so the demo shows the same numbers every time.

use crate::entity::filing;
use crate::filings::parse_class_state;
use crate::roster::entry;
use crate::{Actor, Result, Store, surveys};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::rules::shanghai;
use peixun_domain::survey::last4_of;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeMap;

const COMMENTS: [&str; 8] = [
    "老师讲解细致，实操环节很有收获。",
    "希望增加实操课时，理论课可以再精简一些。",
    "上课时间安排合理，方便在职学员参加。",
    "场地有点挤，夏天空调不够凉。",
    "教材和课件很实用，考前辅导很有帮助。",
    "建议提前发放课程表，便于安排工作。",
    "班主任很负责，通知及时。",
    "希望以后能开设更高等级的培训班。",
];

/// A tiny deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A rating with a realistic spread: 5 (≈55%), 4 (≈30%), 3 (≈10%), 2 (≈4%), 1 (≈1%).
    fn rating(&mut self) -> u8 {
        match self.below(100) {
            0 => 1,
            1..=4 => 2,
            5..=14 => 3,
            15..=44 => 4,
            _ => 5,
        }
    }
}

/// Seed answers for every demo class that ran. `now` is the demo's start time.
pub async fn seed_surveys(store: &Store, now: DateTime<Utc>) -> Result<()> {
    let system = Actor::system("demo-seed");
    let classes: Vec<filing::Model> = filing::Entity::find()
        .order_by_asc(filing::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .filter(|f| surveys::counts_for_evaluation(&parse_class_state(&f.state)))
        .collect();
    // A class another demo seeder already gave answers to (the evaluation's) keeps them.
    let ids: Vec<i64> = classes.iter().map(|f| f.id).collect();
    let answered = surveys::response_counts(store.db(), &ids).await?;
    for f in classes {
        if answered.get(&f.id).copied().unwrap_or(0) > 0 {
            continue;
        }
        let v = surveys::class_survey(store, &system, f.id, now).await?;
        // Answers arrive on the class's last days, before the survey closes.
        let day = (v.closes_on - Duration::days(5)).max(f.start_date);
        let at = at_ten(day).unwrap_or(now);
        let Some(pid) = crate::results::package_of(store.db(), f.id).await? else {
            continue;
        };
        let rows: Vec<entry::Model> = entry::Entity::find()
            .filter(entry::Column::PackageId.eq(pid))
            .filter(entry::Column::Pending.eq(false))
            .order_by_asc(entry::Column::RowNumber)
            .all(store.db())
            .await?;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (f.id as u64).wrapping_mul(7919));
        for e in rows {
            // About three in four answer.
            if rng.below(4) == 0 {
                continue;
            }
            let Some(last4) = last4_of(&e.id_masked).filter(|l| !l.contains('*')) else {
                continue;
            };
            let overall = rng.rating();
            let mut answers: BTreeMap<String, String> = BTreeMap::new();
            for k in ["teaching", "teacher", "organisation", "venue"] {
                // Close to the overall impression, now and then one point off.
                let r = match rng.below(6) {
                    0 => overall.saturating_sub(1).max(1),
                    1 if overall < 5 => overall + 1,
                    _ => overall,
                };
                answers.insert(k.into(), r.to_string());
            }
            answers.insert("overall".into(), overall.to_string());
            if rng.below(5) == 0 {
                let c = COMMENTS[rng.below(COMMENTS.len() as u64) as usize];
                answers.insert("comment".into(), c.into());
            }
            surveys::respond(store, &v.token, &e.name, &last4, &answers, at).await?;
        }
    }
    Ok(())
}

fn at_ten(d: NaiveDate) -> Option<DateTime<Utc>> {
    shanghai()
        .with_ymd_and_hms(d.year(), d.month(), d.day(), 10, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
}
