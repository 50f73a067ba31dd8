//! Demo filing packages (with `--demo`, the end of [`crate::demo::seed_demo`]): institution A has a
//! complete package that the centre returned for correction (two items), and a draft with
//! problems (start too soon, end past the 30-day window, documents missing); institution B has a
//! complete package waiting in the review queue. Documents are small placeholder PDFs in the file
//! store; rosters are synthetic (valid IDs, fictitious people).

use crate::entity::teacher_qualification as tq;
use crate::entity::{agreement, institution, institution_qualification as iq, round, teacher};
use crate::files::FileStore;
use crate::filing_package::{self, PackageInput, SubmitOutcome};
use crate::roster::{self, ImportOutcome, RosterKey};
use crate::{Actor, Result, Store, review};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use peixun_domain::filing::{Location, Mode};
use peixun_domain::role::Role;
use peixun_domain::schedule::Session;
use peixun_domain::workflow::class::CorrectionItem;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

const PDF: &[u8] =
    b"%PDF-1.4\n% peixun demo placeholder\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn inst_actor(institution_id: i64) -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed".into(),
        role: Some(Role::InstitutionStaff),
        institution_id: Some(institution_id),
        ip: None,
        request_id: None,
    }
}

fn centre() -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed-centre".into(),
        role: Some(Role::CentreStaff),
        institution_id: None,
        ip: None,
        request_id: None,
    }
}

/// What one demo package needs from the directory: the institution's latest signed agreement in
/// a published round, an (occupation, level) of its scope and a teacher qualified for it.
async fn pick(store: &Store, institution_id: i64) -> Result<Option<(i64, String, String, i64)>> {
    let mut agreements = agreement::Entity::find()
        .filter(agreement::Column::InstitutionId.eq(institution_id))
        .order_by_desc(agreement::Column::Id)
        .all(store.db())
        .await?;
    let mut ag = None;
    for a in agreements.drain(..) {
        let r = round::Entity::find_by_id(a.round_id)
            .one(store.db())
            .await?;
        if a.status != "terminated" && r.is_some_and(|r| r.status == "published") {
            ag = Some(a.id);
            break;
        }
    }
    let Some(ag) = ag else { return Ok(None) };
    for t in teacher::Entity::find()
        .filter(teacher::Column::InstitutionId.eq(institution_id))
        .order_by_asc(teacher::Column::Id)
        .all(store.db())
        .await?
    {
        for q in tq::Entity::find()
            .filter(tq::Column::TeacherId.eq(t.id))
            .all(store.db())
            .await?
        {
            if let Some(s) = iq::Entity::find()
                .filter(iq::Column::InstitutionId.eq(institution_id))
                .filter(iq::Column::Occupation.eq(&q.occupation))
                .filter(iq::Column::Level.eq(&q.level))
                .one(store.db())
                .await?
            {
                return Ok(Some((ag, s.occupation, s.level, t.id)));
            }
        }
    }
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
async fn make(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    institution_id: i64,
    start_in_days: i64,
    days: i64,
    with_documents: bool,
    roster_seed: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let Some((ag, occupation, level, teacher)) = pick(store, institution_id).await? else {
        return Ok(None);
    };
    let actor = inst_actor(institution_id);
    let p = filing_package::create_package(store, &actor, ag, now).await?;
    let today = crate::workflow_glue::today(now);
    let mut start = today + Duration::days(start_in_days);
    if with_documents {
        // A complete package keeps R-FIL-3 and stays inside the loaded holiday tables.
        start = crate::ready_package::fit_start(
            &crate::calendar::load(store.db()).await?,
            &crate::policies::in_force(store.db(), today).await?,
            today,
            start,
            0,
            days,
        )
        .unwrap_or(start);
    }
    let t = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let sessions: Vec<Session> = (0..4)
        .map(|i| Session {
            date: start + Duration::days(i),
            start_time: t(9),
            end_time: t(12),
            topic: [
                "职业道德与法律法规",
                "基础知识",
                "操作技能训练",
                "综合实操与考核辅导",
            ][i as usize]
                .into(),
            teacher_id: teacher,
            hours: Decimal::from(3),
        })
        .collect();
    filing_package::update_package(
        store,
        &actor,
        p.id,
        &PackageInput {
            occupation,
            level,
            hours: Decimal::from(12),
            start_date: Some(start),
            planned_end: Some(start + Duration::days(days)),
            location: Some(Location::RegisteredAddress),
            mode: Mode::Offline,
            teachers: vec![teacher],
            sessions,
            exam_content: "理论知识考试（闭卷，60分钟）与操作技能考核（现场实操，按评分细则评分）"
                .into(),
        },
        now,
    )
    .await?;
    if with_documents {
        for slot in [
            "brochure",
            "training_plan",
            "syllabus",
            "textbook",
            "roster_document",
            "subsidy_standard",
            "question_bank",
        ] {
            filing_package::attach_file(
                store,
                files,
                &actor,
                p.id,
                slot,
                PDF,
                &format!("{slot}.pdf"),
                now,
            )
            .await?;
        }
    }
    if let Some(seed) = roster_seed {
        let rows = roster::synthetic_rows(24, seed);
        let mut csv = peixun_domain::roster::ROSTER_HEADERS.join(",");
        csv.push('\n');
        for r in rows {
            csv.push_str(&r.join(","));
            csv.push('\n');
        }
        if let ImportOutcome::Refused { problems } =
            roster::import_roster(store, &actor, key, p.id, csv.as_bytes(), None, now).await?
        {
            tracing::warn!(problems = problems.len(), "demo roster refused");
        }
    }
    Ok(Some(p.id))
}

/// Seed the demo packages (part of [`crate::demo::seed_demo`], which runs once on an empty
/// database). Returns whether it seeded.
pub(crate) async fn seed_packages(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    now: DateTime<Utc>,
) -> Result<bool> {
    let insts: Vec<i64> = institution::Entity::find()
        .order_by_asc(institution::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(|i| i.id)
        .take(2)
        .collect();
    let (Some(&a), Some(&b)) = (insts.first(), insts.get(1)) else {
        return Ok(false);
    };
    // A: complete, submitted, returned for correction with two items.
    if let Some(p) = make(store, files, key, a, 21, 9, true, Some(501), now).await?
        && let SubmitOutcome::Submitted { package, .. } =
            filing_package::submit_package(store, &inst_actor(a), p, now).await?
        && let Some(fid) = package.filing_id
    {
        review::return_for_correction(
            store,
            &centre(),
            fid,
            vec![
                CorrectionItem {
                    field: "documents.textbook".into(),
                    message: "培训教材须为现行版本（2024年及以后出版），请更换后重新上传".into(),
                },
                CorrectionItem {
                    field: "sessions".into(),
                    message: "课程表中操作技能训练课时偏少，请按培训大纲补足实操课时".into(),
                },
            ],
            now + Duration::minutes(30),
        )
        .await?;
    }
    // A: a draft with problems — starts in 5 days, ends after the 30-day window, no documents.
    make(store, files, key, a, 5, 40, false, Some(502), now).await?;
    // B: complete and waiting for review.
    if let Some(p) = make(store, files, key, b, 25, 9, true, Some(503), now).await? {
        filing_package::submit_package(store, &inst_actor(b), p, now + Duration::minutes(5))
            .await?;
    }
    Ok(true)
}
