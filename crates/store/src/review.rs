//! The centre's review of filings (R-FIL-5) and of roster changes after approval (R-RUN-2).
//!
//! [`review_queue`] lists what waits for the centre, oldest submission first, each with its
//! package's completeness and problems (re-checked as of the submission date). The decisions go
//! through the quota queue's services ([`crate::filings`]): approve (never by the submitter,
//! S7), return for correction item by item (keeps slot and place, R-FIL-6), reject with a reason
//! (slot released and promoted). Roster changes are approved or rejected in one transaction with
//! the roster swap ([`crate::roster::settle_pending`]).

use crate::entity::{filing, institution};
use crate::filing_package::{self, package};
use crate::filings::{self, FilingView};
use crate::package_checks::{CheckCache, problems_with};
use crate::workflow_glue::{is_centre, today, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::filing::FilingProblem;
use peixun_domain::workflow::class::{ClassAction, CorrectionItem};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::collections::HashMap;

/// One filing waiting for the centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    pub filing: FilingView,
    pub institution_name: String,
    /// `filing` (submitted / resubmitted) or `roster_change`.
    pub kind: &'static str,
    pub package_id: Option<i64>,
    pub trainees: usize,
    pub pending_trainees: usize,
    /// Blocking problems found now (should be 0 for a package that passed submission).
    pub blocking: usize,
    pub warnings: usize,
    /// Every problem and warning, as the machine sees the package.
    pub problems: Vec<FilingProblem>,
    /// The centre may approve it as it stands: a filing (not a roster change) with a package and
    /// no blocking problem. A filing without a package never is (`FIL_NO_PACKAGE`).
    pub approvable: bool,
}

fn may_review(actor: &Actor) -> bool {
    is_centre(actor)
}

/// R-FIL-5: the centre's review queue — filings submitted or resubmitted and roster changes,
/// oldest submission first; paginated (`page`/`per_page`).
pub async fn review_queue(
    store: &Store,
    viewer: &Actor,
    page: &PageRequest,
) -> Result<Page<ReviewItem>> {
    if !may_review(viewer) {
        return Err(StoreError::forbidden("只有区培训中心可以审核开班备案"));
    }
    let q = filing::Entity::find()
        .filter(filing::Column::Status.is_in(["submitted", "roster_review"]))
        .order_by_asc(filing::Column::SubmittedAt)
        .order_by_asc(filing::Column::Id);
    let total = q.clone().count(store.db()).await?;
    let rows = q
        .offset(page.offset())
        .limit(page.limit())
        .all(store.db())
        .await?;
    let db = store.db();
    let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
    let keys = store.keys()?;
    let pkgs: HashMap<i64, package::Model> = package::Entity::find()
        .filter(package::Column::FilingId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.filing_id.map(|f| (f, p)))
        .collect();
    let names: HashMap<i64, String> = institution::Entity::find()
        .filter(institution::Column::Id.is_in(rows.iter().map(|f| f.institution_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    // What the rows share (calendar, policies, institutions, the rosters) is read once for the
    // page; each package's check is the one it gets alone (crate::package_checks).
    let views = filings::views_of(db, &rows).await?;
    let mut cache = CheckCache::default().with_filings(&rows);
    let package_ids: Vec<i64> = rows
        .iter()
        .filter_map(|f| pkgs.get(&f.id).map(|p| p.id))
        .collect();
    cache.load_rosters(db, &package_ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (f, view) in rows.into_iter().zip(views) {
        let (problems, package_id, counts) = match pkgs.get(&f.id) {
            Some(p) => (
                problems_with(db, &keys.data, p, today(f.submitted_at), &mut cache).await?,
                Some(p.id),
                cache.roster_counts(db, p.id).await?,
            ),
            // A filing from the removed minimal path (issue 8): never approvable as it is.
            None => (
                vec![FilingProblem::error(
                    crate::package_gate::NO_PACKAGE,
                    "package",
                    format!(
                        "{}（早期简易备案，无花名册、课程表及六项材料）：请退回修改，由培训机构补交后重新提交",
                        crate::package_gate::NO_PACKAGE_MESSAGE
                    ),
                )],
                None,
                (0, 0),
            ),
        };
        let blocking = problems.iter().filter(|p| p.is_blocking()).count();
        let is_filing = f.status != "roster_review";
        items.push(ReviewItem {
            approvable: is_filing && package_id.is_some() && blocking == 0,
            institution_name: names.get(&f.institution_id).cloned().unwrap_or_default(),
            kind: if f.status == "roster_review" {
                "roster_change"
            } else {
                "filing"
            },
            package_id,
            trainees: counts.0,
            pending_trainees: counts.1,
            blocking,
            warnings: problems.iter().filter(|p| !p.is_blocking()).count(),
            problems,
            filing: view,
        });
    }
    Ok(Page {
        next_after_id: None,
        per_page: page.limit(),
        total,
        items,
    })
}

/// 备案通过 (R-FIL-5); the approver is never the submitter (S7).
pub async fn approve(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    filings::approve_filing(store, actor, filing_id, now).await
}

/// 退回修改 with a reason per item (R-FIL-5): every item names a field and what to correct.
pub async fn return_for_correction(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    items: Vec<CorrectionItem>,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let items: Vec<CorrectionItem> = items
        .into_iter()
        .map(|i| CorrectionItem {
            field: i.field.trim().to_string(),
            message: i.message.trim().to_string(),
        })
        .filter(|i| !(i.field.is_empty() && i.message.is_empty()))
        .collect();
    if items.is_empty() {
        return Err(StoreError::validation(
            "RETURN_ITEMS_MISSING",
            "请至少填写一项需修改的内容（项目及修改意见）",
            "items",
        ));
    }
    for (n, i) in items.iter().enumerate() {
        if i.message.is_empty() {
            return Err(StoreError::validation(
                "RETURN_ITEM_MESSAGE",
                format!("第{}项请填写修改意见", n + 1),
                &format!("items[{n}].message"),
            ));
        }
        if i.field.is_empty() {
            return Err(StoreError::validation(
                "RETURN_ITEM_FIELD",
                format!("第{}项请选择需修改的项目", n + 1),
                &format!("items[{n}].field"),
            ));
        }
        if i.message.chars().count() > 500 || i.field.chars().count() > 100 {
            return Err(StoreError::validation(
                "TOO_LONG",
                format!("第{}项过长（修改意见不超过500字）", n + 1),
                &format!("items[{n}].message"),
            ));
        }
    }
    filings::return_filing(store, actor, filing_id, items, now).await
}

/// 不予通过 with a reason (R-FIL-5): the slot is released and goes to the next waiting filing.
pub async fn reject(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    if reason.trim().is_empty() {
        return Err(StoreError::validation(
            "REASON_REQUIRED",
            "请填写不予通过的理由",
            "reason",
        ));
    }
    peixun_domain::text::check_text("reason", reason, peixun_domain::text::MAX_REASON_CHARS)?;
    filings::reject_filing(store, actor, filing_id, reason, now).await
}

/// The centre approves (`approve`) or rejects (with `reason`) a roster change after approval
/// (R-RUN-2): the class goes back to where it was; the pending roster replaces the old one or is
/// dropped, in the same transaction.
pub async fn decide_roster_change(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    approve: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    if !approve && reason.trim().is_empty() {
        return Err(StoreError::validation(
            "REASON_REQUIRED",
            "请填写不同意名册变更的理由",
            "reason",
        ));
    }
    peixun_domain::text::check_text("reason", reason, peixun_domain::text::MAX_REASON_CHARS)?;
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let action = if approve {
            ClassAction::ApproveRosterChange
        } else {
            ClassAction::RejectRosterChange {
                reason: reason.trim().to_string(),
            }
        };
        let v = filings::act_in_txn(
            store,
            &txn,
            actor,
            filing_id,
            &action,
            if approve {
                "filing.approve_roster_change"
            } else {
                "filing.reject_roster_change"
            },
            (!approve).then_some(reason),
            None,
            now,
        )
        .await?;
        if let Some(p) = package::Entity::find()
            .filter(package::Column::FilingId.eq(filing_id))
            .one(&txn)
            .await?
        {
            crate::roster::settle_pending(&txn, p.id, approve).await?;
        }
        txn.commit().await?;
        Ok(v)
    })
}

/// What the institution must fix on a returned filing (its page shows these).
pub async fn correction_items(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
) -> Result<Vec<CorrectionItem>> {
    let f = filings::get_filing(store, viewer, filing_id).await?;
    Ok(match f.state {
        peixun_domain::workflow::class::ClassState::Returned { items, .. } => items,
        _ => Vec::new(),
    })
}

/// Re-exported for pages: may this actor see the review queue?
pub fn may_see_queue(actor: &Actor) -> bool {
    may_review(actor)
}

/// The package's institution may act on it (pages decide which buttons to show).
pub fn is_own(actor: &Actor, institution_id: i64) -> bool {
    actor.role.is_some_and(|r| r.is_institution()) && actor.institution_id == Some(institution_id)
}

#[doc(hidden)]
pub use filing_package::may_view;
