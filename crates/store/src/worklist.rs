//! Each role's work list for the home page (issue 5, item 7): what needs doing next and the
//! deadlines coming, each item naming the page where it is done (`kind` → a link in the server)
//! and the date it is due. Counted straight from the tables (filings by state, teacher changes,
//! monthly reports, inspections, sanctions, inbox), so it works before and after the filing
//! review pages exist.

use crate::entity::{
    application, class_flag, filing, inbox_message, inspection, monthly_report, overdue_sanction,
    teacher_change,
};
use crate::inspections::NEAR_LAST_DAY_DAYS;
use crate::running::{class_scope, views};
use crate::workflow_glue::today;
use crate::{Actor, Result, Store};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::rules::monthly_report_due;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Stable key; the server maps it to the page where the work is done.
    pub kind: String,
    pub title: String,
    pub count: u64,
    /// A line of detail (the oldest, the next one …).
    pub detail: String,
    /// The date it is due, when there is one.
    pub deadline: Option<NaiveDate>,
    /// The record concerned when the item is about one (e.g. the month's report).
    pub target_id: Option<i64>,
    /// Past due or due within two days.
    pub urgent: bool,
}

/// The work list of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkList {
    pub today: NaiveDate,
    pub items: Vec<WorkItem>,
    /// District figures for bureau and city (and the centre), label → value.
    pub summary: Vec<(String, u64)>,
}

fn item(
    kind: &str,
    title: impl Into<String>,
    count: u64,
    detail: impl Into<String>,
    deadline: Option<NaiveDate>,
    today: NaiveDate,
) -> WorkItem {
    WorkItem {
        kind: kind.to_string(),
        title: title.into(),
        count,
        detail: detail.into(),
        deadline,
        target_id: None,
        urgent: deadline.is_some_and(|d| (d - today).num_days() <= 2),
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The work list of `viewer` on `now` (Asia/Shanghai date).
pub async fn work_list(store: &Store, viewer: &Actor, now: DateTime<Utc>) -> Result<WorkList> {
    let day = today(now);
    let mut out = WorkList {
        today: day,
        items: Vec::new(),
        summary: Vec::new(),
    };
    match viewer.role {
        Some(Role::CentreStaff) => centre_items(store, day, &mut out).await?,
        Some(Role::CentreAdmin) => {
            admin_items(store, day, &mut out).await?;
            centre_items(store, day, &mut out).await?;
        }
        Some(r) if r.is_institution() => {
            if let Some(inst) = viewer.institution_id {
                institution_items(store, inst, day, &mut out).await?;
            }
        }
        Some(Role::Bureau) | Some(Role::City) => {
            district_summary(store, viewer, day, &mut out).await?;
        }
        _ => {}
    }
    // Exam results (R-CRT-1): to enter (institution), to confirm (centre).
    crate::results::work_items(store.db(), viewer, day, &mut out.items).await?;
    Ok(out)
}

async fn centre_items(store: &Store, day: NaiveDate, out: &mut WorkList) -> Result<()> {
    let db = store.db();
    // Filings to review (R-FIL-5).
    let q = filing::Entity::find().filter(filing::Column::Status.eq("submitted"));
    let n = q.clone().count(db).await?;
    if n > 0 {
        let oldest = q.order_by_asc(filing::Column::SubmittedAt).one(db).await?;
        let mut it = item(
            "filings_to_review",
            "待审核的开班备案",
            n,
            oldest
                .as_ref()
                .map(|f| format!("最早提交于{}（备案#{}）", local(f.submitted_at), f.id))
                .unwrap_or_default(),
            None,
            day,
        );
        it.target_id = oldest.map(|f| f.round_id);
        out.items.push(it);
    }
    // Roster changes after approval (R-RUN-2).
    let n = filing::Entity::find()
        .filter(filing::Column::Status.eq("roster_review"))
        .count(db)
        .await?;
    if n > 0 {
        out.items.push(item(
            "roster_changes",
            "待审核的花名册变更",
            n,
            "批复后变更花名册须重新审核",
            None,
            day,
        ));
    }
    // Teacher-change reports (R-RUN-1).
    let q = teacher_change::Entity::find().filter(teacher_change::Column::AcknowledgedAt.is_null());
    let n = q.clone().count(db).await?;
    if n > 0 {
        let next = q
            .order_by_asc(teacher_change::Column::EffectiveOn)
            .one(db)
            .await?;
        out.items.push(item(
            "teacher_changes",
            "待查阅的授课师资调整报备",
            n,
            next.as_ref()
                .map(|t| format!("最早{}生效（班次#{}）", t.effective_on, t.filing_id))
                .unwrap_or_default(),
            next.map(|t| t.effective_on),
            day,
        ));
    }
    // Monthly reports (R-RUN-3): this month, and last month's missing ones.
    let policy = crate::policies::for_month(db, day.year(), day.month()).await?;
    let (y, m) = (day.year(), day.month());
    let due = monthly_report_due(y, m, &policy).ok();
    let owing = crate::reports::owing(db, y, m).await?;
    if !owing.is_empty() {
        let submitted: BTreeSet<i64> = monthly_report::Entity::find()
            .select_only()
            .column(monthly_report::Column::InstitutionId)
            .filter(monthly_report::Column::Year.eq(y))
            .filter(monthly_report::Column::Month.eq(m as i32))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let late = monthly_report::Entity::find()
            .filter(monthly_report::Column::Year.eq(y))
            .filter(monthly_report::Column::Month.eq(m as i32))
            .filter(monthly_report::Column::Late.eq(true))
            .count(db)
            .await?;
        let missing = owing.iter().filter(|i| !submitted.contains(i)).count() as u64;
        if missing > 0 || late > 0 {
            let past = due.is_some_and(|d| day > d);
            let mut it = item(
                "monthly_reports",
                format!("{y}年{m}月开展情况反馈"),
                missing + late,
                if past {
                    format!("逾期未提交{missing}家，逾期提交{late}家")
                } else {
                    format!("应提交{}家，尚未提交{missing}家", owing.len())
                },
                due,
                day,
            );
            it.target_id = Some(i64::from(y) * 100 + i64::from(m));
            out.items.push(it);
        }
    }
    // Inspections awaiting rectification or review (R-RUN-4).
    let q = inspection::Entity::find()
        .filter(inspection::Column::Status.is_in(["rectifying", "rectified"]));
    let n = q.clone().count(db).await?;
    if n > 0 {
        let next = q
            .order_by_asc(inspection::Column::RectificationDue)
            .one(db)
            .await?;
        out.items.push(item(
            "inspections_open",
            "整改未闭环的检查抽查",
            n,
            next.as_ref()
                .map(|i| {
                    format!(
                        "班次#{}，整改期限{}",
                        i.filing_id,
                        i.rectification_due
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default(),
            next.and_then(|i| i.rectification_due),
            day,
        ));
    }
    near_last_day(store, &Actor::system("worklist"), day, out).await?;
    archives_incomplete(store, None, day, out).await?;
    Ok(())
}

/// R-ARC-2: classes after training whose archive (一期一档) is not complete, the lowest
/// completeness first; `target_id` is that class.
async fn archives_incomplete(
    store: &Store,
    institution: Option<i64>,
    day: NaiveDate,
    out: &mut WorkList,
) -> Result<()> {
    let (n, first) = crate::archive::incomplete_archives_head(store, institution).await?;
    if let Some(first) = first {
        let mut it = item(
            "archives_incomplete",
            "培训档案（一期一档）未齐全",
            n,
            format!(
                "班次#{}（{}{}）档案完整度{}%，尚缺{}项{}",
                first.class_id,
                first.occupation,
                first.level,
                first.completeness_percent,
                first.required - first.present,
                if institution.is_none() {
                    "；齐全后方可归档"
                } else {
                    "，请补齐后提交区培训中心归档"
                }
            ),
            None,
            day,
        );
        it.target_id = Some(first.class_id);
        out.items.push(it);
    }
    Ok(())
}

async fn near_last_day(
    store: &Store,
    viewer: &Actor,
    day: NaiveDate,
    out: &mut WorkList,
) -> Result<()> {
    let Some(cond) = class_scope(viewer).condition(filing::Column::InstitutionId) else {
        return Ok(());
    };
    // The window in force today (R-POL-1); classes filed under another version are close enough
    // for a reminder list.
    let policy = crate::policies::in_force(store.db(), day).await?;
    // last_day = start + 30 ∈ [day, day + N]  ⇔  start ∈ [day − 30, day − 30 + N].
    let w = i64::from(policy.class_window_days);
    let from = day - chrono::Duration::days(w);
    let to = from + chrono::Duration::days(NEAR_LAST_DAY_DAYS);
    let rows = filing::Entity::find()
        .filter(cond)
        .filter(filing::Column::Status.is_in([
            "approved",
            "roster_review",
            "in_training",
            "training_complete",
        ]))
        .filter(filing::Column::StartDate.gte(from))
        .filter(filing::Column::StartDate.lte(to))
        .order_by_asc(filing::Column::StartDate)
        .all(store.db())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let classes = views(store.db(), rows, day).await?;
    let first = &classes[0];
    let mut it = item(
        "classes_near_last_day",
        "临近最迟完成日期（开班第30天）的班次",
        classes.len() as u64,
        format!(
            "最近：班次#{}（{}{}），{}前须完成培训及考试",
            first.id, first.occupation, first.level, first.last_day
        ),
        Some(first.last_day),
        day,
    );
    it.target_id = Some(first.id);
    out.items.push(it);
    Ok(())
}

async fn admin_items(store: &Store, day: NaiveDate, out: &mut WorkList) -> Result<()> {
    let db = store.db();
    let q = overdue_sanction::Entity::find().filter(overdue_sanction::Column::State.eq("raised"));
    let n = q.clone().count(db).await?;
    if n > 0 {
        let first = q.order_by_asc(overdue_sanction::Column::Id).one(db).await?;
        let mut it = item(
            "sanctions_to_confirm",
            "待确认的超期处理（取消当年培训资格）",
            n,
            first
                .as_ref()
                .map(|s| {
                    format!(
                        "{}年超期班次{}个，系统提出于{}",
                        s.year,
                        s.count,
                        local(s.raised_at)
                    )
                })
                .unwrap_or_default(),
            None,
            day,
        );
        it.urgent = true;
        it.target_id = first.map(|s| s.id);
        out.items.push(it);
    }
    let n = class_flag::Entity::find()
        .filter(class_flag::Column::DecidedAt.is_null())
        .count(db)
        .await?;
    if n > 0 {
        out.items.push(item(
            "flagged_classes",
            "被取消资格机构的在训班次，待逐一决定",
            n,
            "允许完成或取消",
            None,
            day,
        ));
    }
    // Applications without an agreement yet (agreements to sign, R-AGR-1): counted and the
    // oldest found by the database (an anti-join on the agreements' unique index).
    let backend = db.get_database_backend();
    let open = "FROM applications a WHERE NOT EXISTS (SELECT 1 FROM agreements g \
                WHERE g.round_id = a.round_id AND g.institution_id = a.institution_id)";
    let n: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) {open}"),
        ))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    if n > 0 {
        let first = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT a.id {open} ORDER BY a.id LIMIT 1"),
            ))
            .await?
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?;
        if let Some(first) = application::Entity::find_by_id(first.unwrap_or(0))
            .one(db)
            .await?
        {
            let mut it = item(
                "agreements_to_sign",
                "待签订委托培训协议的申报",
                n as u64,
                format!("最早申报于{}", local(first.created_at)),
                None,
                day,
            );
            it.target_id = Some(first.round_id);
            out.items.push(it);
        }
    }
    Ok(())
}

async fn institution_items(
    store: &Store,
    inst: i64,
    day: NaiveDate,
    out: &mut WorkList,
) -> Result<()> {
    let db = store.db();
    // Filings returned for correction (R-FIL-5).
    let q = filing::Entity::find()
        .filter(filing::Column::InstitutionId.eq(inst))
        .filter(filing::Column::Status.eq("returned"));
    let n = q.clone().count(db).await?;
    if n > 0 {
        let first = q.order_by_asc(filing::Column::Id).one(db).await?;
        let mut it = item(
            "filings_returned",
            "被退回修改的开班备案",
            n,
            first
                .as_ref()
                .map(|f| {
                    format!(
                        "备案#{}（{}{}，开班{}）",
                        f.id, f.occupation, f.level, f.start_date
                    )
                })
                .unwrap_or_default(),
            None,
            day,
        );
        it.urgent = true;
        it.target_id = first.map(|f| f.id);
        out.items.push(it);
    }
    // Drafts and their R-FIL-3 deadlines.
    let drafts = filing::Entity::find()
        .filter(filing::Column::InstitutionId.eq(inst))
        .filter(filing::Column::Status.eq("draft"))
        .order_by_asc(filing::Column::StartDate)
        .all(db)
        .await?;
    if let Some(first) = drafts.first() {
        let cal = crate::calendar::load(db).await?;
        // A draft submitted today follows the version in force today (R-POL-1).
        let policy = crate::policies::in_force(db, day).await?;
        let deadline = cal.filing_deadline(first.start_date, &policy).ok();
        let mut it = item(
            "filing_deadlines",
            "未提交的开班备案",
            drafts.len() as u64,
            format!(
                "{}{}（开班{}）须在开班前{}个工作日提交",
                first.occupation, first.level, first.start_date, policy.filing_lead_working_days
            ),
            deadline,
            day,
        );
        it.target_id = Some(first.id);
        out.items.push(it);
    }
    // The next monthly report (R-RUN-3).
    let policy = crate::policies::for_month(db, day.year(), day.month()).await?;
    let (y, m) = (day.year(), day.month());
    if crate::reports::owes(db, inst, y, m).await? {
        let done = monthly_report::Entity::find()
            .filter(monthly_report::Column::InstitutionId.eq(inst))
            .filter(monthly_report::Column::Year.eq(y))
            .filter(monthly_report::Column::Month.eq(m as i32))
            .one(db)
            .await?;
        if done.is_none() {
            let due = monthly_report_due(y, m, &policy).ok();
            let past = due.is_some_and(|d| day > d);
            let mut it = item(
                "monthly_report_due",
                format!("提交{y}年{m}月开展情况"),
                1,
                if past {
                    "已逾期，请尽快提交".to_string()
                } else {
                    "每月25日前向区培训中心反馈".to_string()
                },
                due,
                day,
            );
            it.target_id = Some(i64::from(y) * 100 + i64::from(m));
            out.items.push(it);
        }
    }
    // Inspections requiring rectification (R-RUN-4).
    let q = inspection::Entity::find()
        .filter(inspection::Column::InstitutionId.eq(inst))
        .filter(inspection::Column::Status.eq("rectifying"));
    let n = q.clone().count(db).await?;
    if n > 0 {
        let first = q
            .order_by_asc(inspection::Column::RectificationDue)
            .one(db)
            .await?;
        let mut it = item(
            "inspections_rectify",
            "检查抽查要求整改",
            n,
            first
                .as_ref()
                .map(|i| {
                    format!(
                        "班次#{}：{}",
                        i.filing_id,
                        i.findings.chars().take(40).collect::<String>()
                    )
                })
                .unwrap_or_default(),
            first.as_ref().and_then(|i| i.rectification_due),
            day,
        );
        it.target_id = first.map(|i| i.id);
        out.items.push(it);
    }
    // Approved classes whose start date has come: start training.
    let n = filing::Entity::find()
        .filter(filing::Column::InstitutionId.eq(inst))
        .filter(filing::Column::Status.eq("approved"))
        .filter(filing::Column::StartDate.lte(day))
        .count(db)
        .await?;
    if n > 0 {
        out.items.push(item(
            "classes_to_start",
            "已到开班日期、尚未开始培训的班次",
            n,
            "在班次页面点击“开始培训”",
            None,
            day,
        ));
    }
    near_last_day(
        store,
        &Actor {
            user_id: None,
            username: "worklist".into(),
            role: Some(Role::InstitutionStaff),
            institution_id: Some(inst),
            ip: None,
            request_id: None,
        },
        day,
        out,
    )
    .await?;
    archives_incomplete(store, Some(inst), day, out).await?;
    // Unread inbox messages.
    let n = inbox_message::Entity::find()
        .filter(inbox_message::Column::InstitutionId.eq(inst))
        .filter(inbox_message::Column::ReadAt.is_null())
        .count(db)
        .await?;
    if n > 0 {
        out.items
            .push(item("inbox_unread", "未读消息", n, "", None, day));
    }
    Ok(())
}

async fn district_summary(
    store: &Store,
    _viewer: &Actor,
    day: NaiveDate,
    out: &mut WorkList,
) -> Result<()> {
    let db = store.db();
    let count_status = |s: &'static str| {
        filing::Entity::find()
            .filter(filing::Column::Status.eq(s))
            .count(db)
    };
    out.summary
        .push(("审核中的开班备案".into(), count_status("submitted").await?));
    out.summary
        .push(("已批复待开班".into(), count_status("approved").await?));
    out.summary
        .push(("培训中的班次".into(), count_status("in_training").await?));
    out.summary
        .push(("已完成的班次".into(), count_status("completed").await?));
    out.summary
        .push(("超期未完成的班次".into(), count_status("overdue").await?));
    let year = day.year();
    let overdue_year: u64 =
        crate::overdue::overdue_counts(db, crate::institutions::Scope::All, year)
            .await?
            .values()
            .map(|v| u64::from(*v))
            .sum();
    out.summary
        .push((format!("{year}年累计超期班次"), overdue_year));
    let open_ins = inspection::Entity::find()
        .filter(inspection::Column::Status.is_in(["rectifying", "rectified"]))
        .count(db)
        .await?;
    out.summary.push(("整改未闭环的检查".into(), open_ins));
    Ok(())
}
