//! Filings without a filing package (R-FIL-1…5, R-FIL-5: 备案通过方可实施).
//!
//! Before issue 8 a filing could enter the quota queue with only occupation, level and start
//! date (the "minimal filing"). That path is gone: the only way in is
//! [`crate::filing_package::submit_package`], after every check. Filings submitted the old way
//! may still be in a database. They are never treated as valid:
//!
//! * the centre's review queue shows them with the blocking problem [`NO_PACKAGE`]
//!   "未附备案材料，须补交备案材料" (not approvable);
//! * approving them ([`crate::filings::approve_filing`]) and starting them
//!   ([`crate::running::start_training`]) is refused with the code [`NO_PACKAGE`];
//! * a resubmission without a package is refused (`WF_PACKAGE_INCOMPLETE`);
//! * once the centre returns such a filing for correction, its institution attaches a package
//!   with [`supplement_package`]; the package's submission is the filing's resubmission, checked
//!   like any other (same slot, same place in the queue, R-FIL-6).
//!
//! "Without a package" is derived, not stored: no `filing_packages` row links to the filing
//! (`UNIQUE(filing_packages.filing_id)`, migration `m20261203_000045_filing_package_link`), so
//! the mark can never go stale.

use crate::entity::filing;
use crate::filing_package::{self, PackageView, package};
use crate::filings::parse_class_state;
use crate::workflow_glue::with_retry;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::filing::Location;
use peixun_domain::role::Role;
use peixun_domain::workflow::class::ClassState;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// The stable code of a filing without a checked package.
pub const NO_PACKAGE: &str = "FIL_NO_PACKAGE";
/// What the centre and the institution read.
pub const NO_PACKAGE_MESSAGE: &str = "未附备案材料，须补交备案材料";

/// Whether a package is linked to the filing.
pub async fn has_package<C: ConnectionTrait>(db: &C, filing_id: i64) -> Result<bool> {
    Ok(package::Entity::find()
        .filter(package::Column::FilingId.eq(filing_id))
        .one(db)
        .await?
        .is_some())
}

/// Refuse `what` (备案通过, 开班) for a filing without a package.
pub(crate) async fn require_package<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
    what: &str,
) -> Result<()> {
    if has_package(db, filing_id).await? {
        return Ok(());
    }
    Err(StoreError::validation(
        NO_PACKAGE,
        format!(
            "{NO_PACKAGE_MESSAGE}：该开班备案没有经系统检查的开班备案材料，不能{what}。\
             请退回修改，由培训机构补交备案材料后重新提交（R-FIL-1…5）"
        ),
        "package",
    ))
}

/// The institution starts a package for its own filing that has none and that the centre
/// returned for correction. The package's fields start from the filing's; submitting it
/// ([`filing_package::submit_package`]) runs every check and resubmits the filing.
pub async fn supplement_package(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<PackageView> {
    let is_inst = actor.role.is_some_and(Role::is_institution);
    let now = db_time(now);
    let id = with_retry!({
        let txn = store.begin_write().await?;
        let f = filing::Entity::find_by_id(filing_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "filing" })?;
        if !is_inst || actor.institution_id != Some(f.institution_id) {
            return Err(StoreError::forbidden("只能为本机构的开班备案补交备案材料"));
        }
        if has_package(&txn, f.id).await? {
            return Err(StoreError::conflict(
                "PACKAGE_EXISTS",
                "该开班备案已附备案材料，请在备案材料页面修改",
                "package",
            ));
        }
        let state = parse_class_state(&f.state);
        if !matches!(state, ClassState::Returned { .. }) {
            return Err(StoreError::conflict(
                "SUPPLEMENT_NOT_RETURNED",
                format!(
                    "开班备案当前状态为“{}”，须经区培训中心退回修改后方可补交备案材料",
                    state.label_zh()
                ),
                "package",
            ));
        }
        let m = package::ActiveModel {
            institution_id: Set(f.institution_id),
            agreement_id: Set(f.agreement_id),
            filing_id: Set(Some(f.id)),
            occupation: Set(f.occupation.clone()),
            level: Set(f.level.clone()),
            hours: Set("0".into()),
            start_date: Set(Some(f.start_date)),
            planned_end: Set(None),
            location: Set(serde_json::to_string(&Location::RegisteredAddress).unwrap_or_default()),
            mode: Set("offline".into()),
            teachers: Set("[]".into()),
            sessions: Set("[]".into()),
            exam_content: Set(String::new()),
            question_bank_file_id: Set(None),
            documents: Set("{}".into()),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| crate::map_unique(e, "PACKAGE_EXISTS", "该开班备案已附备案材料", "package"))?;
        audit::append(
            &txn,
            actor,
            "filing_package.supplement",
            "filing_package",
            Some(m.id.to_string()),
            None,
            Some(serde_json::json!({ "filing_id": f.id })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m.id)
    })?;
    filing_package::get_package(store, actor, id).await
}
