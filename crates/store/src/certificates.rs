//! Certificate codes (合格证书编码, R-CRT-1) and their public verification (R-CRT-2).
//!
//! * **Issue.** [`confirm_results`]: the centre confirms a class's results; in the same write
//!   transaction every trainee who passed gets a code
//!   `{district}{year}{class seq:04}{trainee seq:03}` ([`CertificateCode`]) — but only when the
//!   class is Completed (overdue included) and no confirmed violation covers it
//!   ([`crate::violations::class_under_confirmed_violation`]); the class then moves by
//!   [`ClassAction::IssueCertificates`]. Under a violation the results are confirmed and the
//!   codes withheld; a later confirmation issues them once the violation no longer stands.
//! * **No double allocation (S9).** The class sequence comes from the year's row in
//!   `certificate_counters`, bumped by `UPDATE … RETURNING` inside the transaction (PostgreSQL:
//!   the row lock serialises confirmations on every server; SQLite: the one write lock), is
//!   stored once per class (`certificate_classes`, primary key the class, UNIQUE(year, seq)),
//!   and every code is UNIQUE. Codes are never deleted or reused.
//! * **Revoke.** [`revoke`] (centre_admin, reason required) and [`revoke_class_codes`] (for the
//!   violation workflow): a revoked code stays, with its reason, and verifies as 已撤销.
//! * **Verify.** [`verify`]: code + holder's name → masked name, occupation, level, institution,
//!   issue date, status. A wrong name answers exactly as an unknown code: the same query runs
//!   either way and names are compared in constant time.

use crate::entity::filing;
use crate::filings::parse_class_state;
use crate::results::{self, confirmation, is_own_institution, load_class, results_of, roster_rows};
use crate::running::{class_ctx, load_for_action, save_state};
use crate::workflow_glue::{is_centre, today, wf_actor, wf_err, with_retry};
use crate::{Actor, Backend, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use peixun_domain::certificate::{
    CertificateCode, ExamOutcome, MAX_TRAINEE_SEQUENCE, mask_name, normalise_name, trainee_sequence,
};
use peixun_domain::role::Role;
use peixun_domain::workflow::class::{self as wf_class, ClassAction, ClassState};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `certificates.status` values.
pub const STATUS_VALID: &str = "valid";
pub const STATUS_REVOKED: &str = "revoked";

/// Longest revocation reason.
pub const MAX_REASON_CHARS: usize = 2_000;

/// The `certificates` table: one row per code, never deleted.
pub mod cert {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub code: String,
        pub filing_id: i64,
        pub roster_entry_id: i64,
        pub trainee_seq: i32,
        /// The holder's full name as on the roster at issue.
        pub holder_name: String,
        pub occupation: String,
        pub level: String,
        pub institution_id: i64,
        pub institution_name: String,
        pub issued_on: Date,
        pub issued_at: DateTimeUtc,
        /// valid / revoked
        pub status: String,
        pub revoked_reason: Option<String>,
        pub revoked_by: Option<String>,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `certificate_classes` table: a class's sequence in its year, allocated once.
pub mod cert_class {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_classes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub filing_id: i64,
        pub year: i32,
        pub class_seq: i32,
        pub issued_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// 有效 / 已撤销 for a `certificates.status` value.
pub(crate) fn status_label(s: &str) -> &'static str {
    if s == STATUS_REVOKED {
        "已撤销"
    } else {
        "有效"
    }
}

/// One code as the class's certificate page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    pub code: String,
    /// The holder's full name (the class's institution and the centre only).
    pub name: String,
    /// valid / revoked
    pub status: String,
    pub status_label: String,
    pub issued_on: NaiveDate,
    pub trainee_seq: u32,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn view(c: cert::Model) -> CertificateView {
    CertificateView {
        status_label: status_label(&c.status).to_string(),
        code: c.code,
        name: c.holder_name,
        status: c.status,
        issued_on: c.issued_on,
        trainee_seq: c.trainee_seq.max(0) as u32,
        revoked_reason: c.revoked_reason,
        revoked_at: c.revoked_at,
    }
}

/// R-CRT-1: the codes of a class in trainee order (S6: the centre and the class's institution).
pub async fn list_certificates(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
) -> Result<Vec<CertificateView>> {
    let f = load_class(store.db(), viewer, filing_id).await?;
    Ok(cert::Entity::find()
        .filter(cert::Column::FilingId.eq(f.id))
        .order_by_asc(cert::Column::TraineeSeq)
        .order_by_asc(cert::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// What a confirmation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmOutcome {
    pub filing_id: i64,
    /// Codes issued now (0 when withheld or nobody passed).
    pub issued: usize,
    /// A confirmed violation covers the class: results confirmed, codes withheld (R-VIO-2).
    pub withheld: bool,
    pub year: Option<i32>,
    pub class_seq: Option<u32>,
}

/// R-CRT-1: the centre confirms a class's results. The class must be Completed with every
/// roster trainee's result entered. In one transaction: the confirmation is recorded, and —
/// unless a confirmed violation covers the class — every passed trainee gets a code and the
/// class moves by `IssueCertificates`. Under a violation the codes are withheld; confirming
/// again after the violation is dismissed issues them.
pub async fn confirm_results(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<ConfirmOutcome> {
    let now = db_time(now);
    let day = today(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let out = confirm_in_txn(store, &txn, actor, filing_id, day, now).await?;
        txn.commit().await?;
        Ok(out)
    })
}

async fn confirm_in_txn(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    filing_id: i64,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ConfirmOutcome> {
    if !(actor.is_system() || is_centre(actor)) {
        return Err(StoreError::forbidden("只有区培训中心可以确认考试结果"));
    }
    // Locks the class row on PostgreSQL: one confirmation of a class at a time.
    let f = load_for_action(store, txn, actor, filing_id).await?;
    let state = parse_class_state(&f.state);
    if !matches!(state, ClassState::Completed { .. }) {
        return Err(StoreError::conflict(
            "RESULTS_CLASS_NOT_COMPLETED",
            format!(
                "班次状态为“{}”，考试完成（班次已完成）后才能确认考试结果",
                state.label_zh()
            ),
            "class",
        ));
    }
    let existing = results::confirmation_of(txn, f.id).await?;
    if matches!(
        state,
        ClassState::Completed {
            certificates_issued: true,
            ..
        }
    ) || existing.as_ref().is_some_and(|c| !c.codes_withheld)
    {
        return Err(StoreError::conflict(
            "RESULTS_ALREADY_CONFIRMED",
            "该班次的考试结果已确认，证书编码已发放",
            "class",
        ));
    }
    let roster = roster_rows(txn, f.id).await?;
    let res = results_of(txn, f.id).await?;
    let missing: Vec<&str> = roster
        .iter()
        .filter(|r| !res.contains_key(&r.entry_id))
        .map(|r| r.name.as_str())
        .collect();
    if roster.is_empty() || !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).copied().collect();
        return Err(StoreError::validation(
            "RESULTS_INCOMPLETE",
            if roster.is_empty() {
                "该班次没有花名册，不能确认考试结果".to_string()
            } else {
                format!(
                    "还有{}名学员未录入考试结果（{}{}），全部录入后才能确认",
                    missing.len(),
                    shown.join("、"),
                    if missing.len() > shown.len() {
                        "等"
                    } else {
                        ""
                    }
                )
            },
            "results",
        ));
    }
    let under_violation = crate::violations::class_under_confirmed_violation(txn, f.id).await?;
    let withheld = !wf_class::may_issue_certificates(&state, under_violation);
    match &existing {
        None => {
            confirmation::ActiveModel {
                filing_id: Set(f.id),
                confirmed_by: Set(actor.username.clone()),
                confirmed_at: Set(now),
                codes_withheld: Set(withheld),
            }
            .insert(txn)
            .await?;
        }
        Some(_) if withheld => {
            return Err(StoreError::conflict(
                "CERT_UNDER_VIOLATION",
                "该班次涉及已确认的违法违规行为，不予发放合格证书编码",
                "class",
            ));
        }
        Some(_) => {
            confirmation::ActiveModel {
                filing_id: Set(f.id),
                codes_withheld: Set(false),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
    }
    let mut out = ConfirmOutcome {
        filing_id: f.id,
        issued: 0,
        withheld,
        year: None,
        class_seq: None,
    };
    if !withheld {
        let policy = crate::policies::by_version(txn, &f.policy_version).await?;
        let mut ctx = class_ctx(txn, &f, day, &policy).await?;
        ctx.under_violation = under_violation;
        let new_state = wf_class::apply(
            &state,
            &ClassAction::IssueCertificates,
            &wf_actor(actor),
            &ctx,
        )
        .map_err(wf_err)?;
        let passed: Vec<Option<ExamOutcome>> = roster
            .iter()
            .map(|r| {
                res.get(&r.entry_id)
                    .and_then(|x| ExamOutcome::parse(&x.result))
            })
            .collect();
        let issued = issue_codes_in_txn(
            store,
            txn,
            &f,
            &roster,
            &passed,
            &policy.certificate_district_code,
            day,
            now,
        )
        .await?;
        out.issued = issued.codes.len();
        out.year = issued.year;
        out.class_seq = issued.class_seq;
        save_state(txn, &f, &new_state, now).await?;
        audit::append(
            txn,
            actor,
            "class.issue_certificates",
            "class",
            Some(f.id.to_string()),
            Some(serde_json::json!({ "state": state })),
            Some(serde_json::json!({
                "state": new_state,
                "codes": issued.codes,
                "year": issued.year,
                "class_seq": issued.class_seq,
            })),
            now,
        )
        .await?;
    }
    audit::append(
        txn,
        actor,
        "results.confirm",
        "class",
        Some(f.id.to_string()),
        None,
        Some(serde_json::json!({
            "trainees": roster.len(),
            "passed": out.issued,
            "codes_withheld": withheld,
            "under_violation": under_violation,
        })),
        now,
    )
    .await?;
    Ok(out)
}

struct Issued {
    codes: Vec<String>,
    year: Option<i32>,
    class_seq: Option<u32>,
}

/// Allocate the next class sequence of `year` inside `txn`: the counter row is created when
/// missing and bumped with `UPDATE … RETURNING` (PostgreSQL holds its row lock until commit;
/// SQLite's transaction already holds the write lock).
async fn next_class_seq(store: &Store, txn: &DatabaseTransaction, year: i32) -> Result<u32> {
    let backend = txn.get_database_backend();
    let (insert, update) = match store.backend() {
        Backend::Postgres => (
            "INSERT INTO certificate_counters (year, last_seq) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
            "UPDATE certificate_counters SET last_seq = last_seq + 1 WHERE year = $1 RETURNING last_seq",
        ),
        Backend::Sqlite => (
            "INSERT INTO certificate_counters (year, last_seq) VALUES (?, 0) ON CONFLICT (year) DO NOTHING",
            "UPDATE certificate_counters SET last_seq = last_seq + 1 WHERE year = ? RETURNING last_seq",
        ),
    };
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [year.into()],
    ))
    .await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            update,
            [year.into()],
        ))
        .await?
        .ok_or_else(|| {
            StoreError::Db(sea_orm::DbErr::Custom("certificate counter missing".into()))
        })?;
    let seq: i32 = row.try_get("", "last_seq")?;
    Ok(seq.max(0) as u32)
}

/// Give every passed trainee of `f` a code, inside `txn` (R-CRT-1): the class sequence is
/// allocated once (a class that already has one keeps it), the passed trainees are numbered in
/// roster order. `outcomes` is parallel to `roster`.
#[allow(clippy::too_many_arguments)]
async fn issue_codes_in_txn(
    store: &Store,
    txn: &DatabaseTransaction,
    f: &filing::Model,
    roster: &[results::RosterRow],
    outcomes: &[Option<ExamOutcome>],
    district: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let seqs = trainee_sequence(outcomes);
    let passed = seqs.iter().flatten().count();
    if passed == 0 {
        return Ok(Issued {
            codes: Vec::new(),
            year: None,
            class_seq: None,
        });
    }
    if passed > MAX_TRAINEE_SEQUENCE as usize {
        return Err(StoreError::validation(
            "CERT_TOO_MANY",
            format!("一个班次最多发放{MAX_TRAINEE_SEQUENCE}个证书编码"),
            "results",
        ));
    }
    let (year, class_seq) = match cert_class::Entity::find_by_id(f.id).one(txn).await? {
        Some(c) => (c.year, c.class_seq.max(0) as u32),
        None => {
            let year = day.year();
            let seq = next_class_seq(store, txn, year).await?;
            cert_class::ActiveModel {
                filing_id: Set(f.id),
                year: Set(year),
                class_seq: Set(seq as i32),
                issued_at: Set(now),
            }
            .insert(txn)
            .await
            .map_err(|e| crate::map_unique(e, "CERT_SEQ_TAKEN", "班次序号冲突，请重试", "class"))?;
            (year, seq)
        }
    };
    let inst_name = crate::rounds::institution_names(txn, [f.institution_id])
        .await?
        .remove(&f.institution_id)
        .unwrap_or_default();
    let mut codes = Vec::with_capacity(passed);
    let mut rows = Vec::with_capacity(passed);
    for (r, s) in roster.iter().zip(&seqs) {
        let Some(s) = s else { continue };
        let code = CertificateCode::new(district, year, class_seq, *s).map_err(|e| {
            StoreError::validation("CERT_CODE", format!("证书编码无法生成：{e}"), "class")
        })?;
        codes.push(code.to_string());
        rows.push(cert::ActiveModel {
            code: Set(code.to_string()),
            filing_id: Set(f.id),
            roster_entry_id: Set(r.entry_id),
            trainee_seq: Set(*s as i32),
            holder_name: Set(r.name.clone()),
            occupation: Set(f.occupation.clone()),
            level: Set(f.level.clone()),
            institution_id: Set(f.institution_id),
            institution_name: Set(inst_name.clone()),
            issued_on: Set(day),
            issued_at: Set(now),
            status: Set(STATUS_VALID.to_string()),
            revoked_reason: Set(None),
            revoked_by: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(200) {
        cert::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await
            .map_err(|e| crate::map_unique(e, "CERT_CODE_TAKEN", "证书编码已存在", "class"))?;
    }
    Ok(Issued {
        codes,
        year: Some(year),
        class_seq: Some(class_seq),
    })
}

fn check_reason(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(StoreError::validation(
            "CERT_REVOKE_REASON",
            "请填写撤销原因",
            "reason",
        ));
    }
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(StoreError::validation(
            "CERT_REVOKE_REASON",
            format!("撤销原因不能超过{MAX_REASON_CHARS}个字"),
            "reason",
        ));
    }
    if r.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\r' && c != '\t')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }) {
        return Err(StoreError::validation(
            "CERT_REVOKE_REASON",
            "撤销原因含有不允许的控制字符",
            "reason",
        ));
    }
    Ok(r.to_string())
}

/// R-CRT-1: the centre admin revokes one code with a reason (≤ 2,000 characters). The code stays
/// (never reused) and verifies as 已撤销. Audited.
pub async fn revoke(
    store: &Store,
    actor: &Actor,
    code: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<CertificateView> {
    if actor.role != Some(Role::CentreAdmin) {
        return Err(StoreError::forbidden(
            "只有区培训中心管理员可以撤销证书编码",
        ));
    }
    let reason = check_reason(reason)?;
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let c = cert::Entity::find()
            .filter(cert::Column::Code.eq(code.trim()))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "certificate",
            })?;
        if c.status == STATUS_REVOKED {
            return Err(StoreError::conflict(
                "CERT_ALREADY_REVOKED",
                "该证书编码已撤销",
                "code",
            ));
        }
        let m = cert::ActiveModel {
            id: Set(c.id),
            status: Set(STATUS_REVOKED.to_string()),
            revoked_reason: Set(Some(reason.clone())),
            revoked_by: Set(Some(actor.username.clone())),
            revoked_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "certificate.revoke",
            "certificate",
            Some(c.code.clone()),
            Some(serde_json::json!({ "status": c.status })),
            Some(serde_json::json!({ "status": STATUS_REVOKED, "reason": reason, "filing_id": c.filing_id })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(view(m))
    })
}

/// R-VIO-2 (for the violation workflow): revoke every valid code of class `filing_id` inside
/// the caller's transaction, with one audit row. Returns how many codes were revoked. The
/// caller checks who may do it; `reason` is checked here (required, ≤ 2,000 characters).
pub(crate) async fn revoke_class_codes(
    txn: &DatabaseTransaction,
    filing_id: i64,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize> {
    let reason = check_reason(reason)?;
    let now = db_time(now);
    let valid: Vec<String> = cert::Entity::find()
        .filter(cert::Column::FilingId.eq(filing_id))
        .filter(cert::Column::Status.eq(STATUS_VALID))
        .all(txn)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    if valid.is_empty() {
        return Ok(0);
    }
    cert::Entity::update_many()
        .col_expr(
            cert::Column::Status,
            sea_orm::sea_query::Expr::value(STATUS_REVOKED),
        )
        .col_expr(
            cert::Column::RevokedReason,
            sea_orm::sea_query::Expr::value(reason.clone()),
        )
        .col_expr(
            cert::Column::RevokedBy,
            sea_orm::sea_query::Expr::value(actor.username.clone()),
        )
        .col_expr(
            cert::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(cert::Column::FilingId.eq(filing_id))
        .filter(cert::Column::Status.eq(STATUS_VALID))
        .exec(txn)
        .await?;
    audit::append(
        txn,
        actor,
        "certificate.revoke_class",
        "class",
        Some(filing_id.to_string()),
        Some(serde_json::json!({ "valid": valid })),
        Some(serde_json::json!({ "status": STATUS_REVOKED, "reason": reason })),
        now,
    )
    .await?;
    Ok(valid.len())
}

/// [`revoke_class_codes`] in a transaction of its own, for tests (feature `testing`).
#[cfg(feature = "testing")]
pub async fn revoke_class_codes_for_test(
    store: &Store,
    filing_id: i64,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize> {
    let txn = store.begin_write().await?;
    let n = revoke_class_codes(&txn, filing_id, reason, actor, now).await?;
    txn.commit().await?;
    Ok(n)
}

/// What the public verification shows (R-CRT-2): never the full name, never an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyView {
    pub code: String,
    /// 张*三 / 李*
    pub masked_name: String,
    pub occupation: String,
    pub level: String,
    pub institution: String,
    pub issued_on: NaiveDate,
    /// valid / revoked
    pub status: String,
    pub status_label: String,
}

fn name_digest(name: &str) -> [u8; 32] {
    Sha256::digest(normalise_name(name).as_bytes()).into()
}

/// R-CRT-2: verify `code` with the holder's `name`. `None` for an unknown code and for a wrong
/// name alike: the same query runs either way (a malformed code is looked up as typed, and
/// finds nothing), and the names are compared in constant time over fixed-length digests.
pub async fn verify(store: &Store, code: &str, name: &str) -> Result<Option<VerifyView>> {
    let code = code.trim();
    // Bound what is sent to the database; a code is 17 digits.
    let lookup: String = code.chars().take(32).collect();
    let found = cert::Entity::find()
        .filter(cert::Column::Code.eq(lookup))
        .one(store.db())
        .await?;
    let stored = found
        .as_ref()
        .map(|c| c.holder_name.as_str())
        .unwrap_or("\u{0}");
    let same: bool = name_digest(stored).ct_eq(&name_digest(name)).into();
    let given_empty = normalise_name(name).is_empty();
    Ok(match found {
        Some(c) if same && !given_empty => Some(VerifyView {
            masked_name: mask_name(&c.holder_name),
            status_label: status_label(&c.status).to_string(),
            code: c.code,
            occupation: c.occupation,
            level: c.level,
            institution: c.institution_name,
            issued_on: c.issued_on,
            status: c.status,
        }),
        _ => None,
    })
}

/// Whether `viewer` may revoke codes of a class (for pages): the centre admin.
pub fn may_revoke(viewer: &Actor) -> bool {
    viewer.role == Some(Role::CentreAdmin)
}

/// Whether `viewer` is the class's institution (for pages).
pub fn is_class_institution(viewer: &Actor, institution_id: i64) -> bool {
    is_own_institution(viewer, institution_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_crt_1_revoke_reason_rules() {
        assert!(check_reason("  ").is_err());
        assert!(check_reason(&"理".repeat(2_001)).is_err());
        assert!(check_reason(&"理".repeat(2_000)).is_ok());
        assert!(check_reason("材料造假\u{202E}").is_err());
        assert_eq!(check_reason(" 材料造假 ").unwrap(), "材料造假");
    }
}
