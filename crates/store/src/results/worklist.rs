//! The exam-results items of the home page's work list (R-CRT-1).
//!
//! For an institution: its classes whose results are still to enter (training complete or
//! completed, not confirmed, fewer results than trainees — or no roster). For the centre: the
//! completed classes whose results are all entered and wait for confirmation. One query counts
//! roster rows and results for the whole set (it used to be three queries per class).

use super::results_open;
use crate::filings::parse_class_state;
use crate::{Actor, Result};
use chrono::NaiveDate;
use peixun_domain::workflow::class::ClassState;
use sea_orm::{ConnectionTrait, Statement};

/// `(count, first class id)` of the classes the item counts.
pub(crate) async fn worklist_counts<C: ConnectionTrait>(
    db: &C,
    institution: Option<i64>,
) -> Result<(u64, Option<i64>)> {
    // Only integer literals are spliced into the text.
    let sql = format!(
        "SELECT f.id, f.state, \
           (SELECT COUNT(*) FROM filing_packages p JOIN roster_entries e ON e.package_id = p.id \
             WHERE p.filing_id = f.id AND e.pending = FALSE) AS roster, \
           (SELECT COUNT(*) FROM exam_results r WHERE r.filing_id = f.id) AS entered \
         FROM filings f \
         WHERE f.status IN ('training_complete', 'completed'){} \
           AND NOT EXISTS (SELECT 1 FROM result_confirmations c WHERE c.filing_id = f.id) \
         ORDER BY f.id",
        institution
            .map(|i| format!(" AND f.institution_id = {i}"))
            .unwrap_or_default()
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut n = 0;
    let mut first = None;
    for r in rows {
        let id: i64 = r.try_get_by_index(0)?;
        let state = parse_class_state(&r.try_get_by_index::<String>(1)?);
        let roster: i64 = r.try_get_by_index(2)?;
        let entered: i64 = r.try_get_by_index(3)?;
        if !results_open(&state) {
            continue;
        }
        let counts = match institution {
            Some(_) => entered < roster || roster == 0,
            None => {
                matches!(state, ClassState::Completed { .. }) && roster > 0 && entered >= roster
            }
        };
        if counts {
            n += 1;
            first.get_or_insert(id);
        }
    }
    Ok((n, first))
}

/// The home page's work items for exam results (R-CRT-1): the institution's "results to enter",
/// the centre's "results to confirm".
pub(crate) async fn work_items<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    day: NaiveDate,
    items: &mut Vec<crate::worklist::WorkItem>,
) -> Result<()> {
    let (kind, title, detail, inst) = match viewer.role {
        Some(r) if r.is_institution() => match viewer.institution_id {
            Some(i) => (
                "results_to_enter",
                "待录入考试结果的班次",
                "培训完成后录入每名学员的考试结果",
                Some(i),
            ),
            None => return Ok(()),
        },
        Some(r) if r.is_centre() => (
            "results_to_confirm",
            "待确认考试结果的班次",
            "确认后为合格学员发放合格证书编码",
            None,
        ),
        _ => return Ok(()),
    };
    let _ = day;
    let (n, first) = worklist_counts(db, inst).await?;
    if n > 0 {
        items.push(crate::worklist::WorkItem {
            kind: kind.to_string(),
            title: title.to_string(),
            count: n,
            detail: detail.to_string(),
            deadline: None,
            target_id: first,
            urgent: false,
        });
    }
    Ok(())
}
