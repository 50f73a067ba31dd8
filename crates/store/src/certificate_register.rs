//! 证书台账 — the certificate register: every certificate code issued (R-CRT-1), across classes,
//! for the centre (all institutions) and for an institution (its own codes only, S6).
//!
//! The register is in issue order — by issue date, then code — and is read a page at a time
//! *from a code on* (keyset on `(issued_on, code)`), so the thousandth page costs what the first
//! does and an export reads the whole register in bounded pages without holding a connection
//! between them. Codes are never deleted and never change date, so a page boundary stays valid
//! while codes are issued or revoked. Each filter has an index that leads with it and continues
//! in that order (migration 000210), so a filtered page reads only the rows it shows.

use crate::certificates::{STATUS_REVOKED, STATUS_VALID, cert};
use crate::entity::institution_qualification as iq;
use crate::{Actor, FieldProblem, Problems, Result, Store, StoreError};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

/// The most rows one page may hold (an export reads pages of this size).
pub const MAX_PAGE_ROWS: u64 = 2_000;

/// What the register is filtered by, as typed (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterQuery {
    /// Year of issue (发放年度).
    pub year: Option<String>,
    /// The institution (centre only; an institution always sees its own).
    pub institution_id: Option<String>,
    /// valid / revoked
    pub status: Option<String>,
    /// 职业（工种）, exactly.
    pub occupation: Option<String>,
    /// A code or the beginning of one (digits), or a holder's full name.
    pub q: Option<String>,
}

/// The checked filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterFilter {
    pub year: Option<i32>,
    pub institution_id: Option<i64>,
    pub status: Option<String>,
    pub occupation: Option<String>,
    /// Codes starting with these digits.
    pub code_prefix: Option<String>,
    /// The holder's full name.
    pub holder_name: Option<String>,
}

fn forbidden_char(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || peixun_domain::text::is_bidi_control(c))
}

/// Where a page starts: a code (digits), else the request names the field.
fn check_after(after: Option<&str>) -> Result<Option<&str>> {
    match after {
        Some(a) if a.len() > 32 || !a.bytes().all(|b| b.is_ascii_digit()) => Err(
            StoreError::validation("AFTER_INVALID", "翻页位置应为证书编码（数字）", "after"),
        ),
        other => Ok(other),
    }
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RegisterQuery {
    /// Checks every field at once (R-VAL-1): each bad field is named.
    pub fn check(&self) -> Result<RegisterFilter> {
        let mut p = Problems::default();
        let year = blank(&self.year).and_then(|y| {
            p.take(
                y.parse::<i32>()
                    .ok()
                    .filter(|y| (2000..=2100).contains(y))
                    .ok_or_else(|| {
                        FieldProblem::new("YEAR_INVALID", "发放年度应为四位年份，如 2026", "year")
                    }),
            )
        });
        let institution_id = blank(&self.institution_id).and_then(|i| {
            p.take(i.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| {
                FieldProblem::new(
                    "INSTITUTION_INVALID",
                    "培训机构编号应为正整数",
                    "institution_id",
                )
            }))
        });
        let status = blank(&self.status).and_then(|s| {
            p.take(
                [STATUS_VALID, STATUS_REVOKED]
                    .into_iter()
                    .find(|v| *v == s)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        FieldProblem::new("STATUS_INVALID", "状态应为“有效”或“已撤销”", "status")
                    }),
            )
        });
        let occupation = blank(&self.occupation).and_then(|o| {
            p.take(if o.chars().count() > 100 {
                Err(FieldProblem::new(
                    "OCCUPATION_TOO_LONG",
                    "职业（工种）不超过100字",
                    "occupation",
                ))
            } else if forbidden_char(o) {
                Err(FieldProblem::new(
                    "TEXT_FORBIDDEN_CHAR",
                    "职业（工种）不能含控制字符或文字方向控制符",
                    "occupation",
                ))
            } else {
                Ok(o.to_string())
            })
        });
        let (mut code_prefix, mut holder_name) = (None, None);
        if let Some(q) = blank(&self.q) {
            if forbidden_char(q) {
                p.push(FieldProblem::new(
                    "TEXT_FORBIDDEN_CHAR",
                    "证书编码或姓名不能含控制字符或文字方向控制符",
                    "q",
                ));
            } else if q.chars().count() > 50 {
                p.push(FieldProblem::new(
                    "QUERY_TOO_LONG",
                    "证书编码或姓名不超过50字",
                    "q",
                ));
            } else if q.chars().all(|c| c.is_ascii_digit()) {
                code_prefix = Some(q.to_string());
            } else {
                holder_name = Some(q.to_string());
            }
        }
        p.finish()?;
        Ok(RegisterFilter {
            year,
            institution_id,
            status,
            occupation,
            code_prefix,
            holder_name,
        })
    }
}

/// One code in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRow {
    pub code: String,
    pub holder_name: String,
    pub occupation: String,
    pub level: String,
    pub institution_id: i64,
    pub institution_name: String,
    /// The class (开班备案) the code was issued for.
    pub filing_id: i64,
    pub issued_on: NaiveDate,
    /// valid / revoked
    pub status: String,
    pub revoked_reason: Option<String>,
}

impl RegisterRow {
    pub fn status_label(&self) -> &'static str {
        crate::certificates::status_label(&self.status)
    }
}

/// A page of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterPage {
    pub items: Vec<RegisterRow>,
    /// Codes matching the filter.
    pub total: u64,
    /// The code to continue after, when there are more.
    pub next_after: Option<String>,
}

/// The filter as `viewer` may apply it: the centre sees every institution, an institution only
/// its own (whatever it asked for); anyone else nothing (S6).
fn scoped(viewer: &Actor, filter: &RegisterFilter) -> Result<RegisterFilter> {
    let mut f = filter.clone();
    match viewer.role {
        Some(r) if r.is_centre() => {}
        Some(r) if r.is_institution() => {
            let own = viewer
                .institution_id
                .ok_or_else(|| StoreError::forbidden("无权查看证书台账"))?;
            f.institution_id = Some(own);
        }
        _ => return Err(StoreError::forbidden("无权查看证书台账")),
    }
    Ok(f)
}

fn condition(f: &RegisterFilter) -> Condition {
    let mut c = Condition::all();
    if let Some(y) = f.year {
        // Both ends exist: the year was checked to lie in 2000..=2100.
        if let (Some(from), Some(to)) = (
            NaiveDate::from_ymd_opt(y, 1, 1),
            NaiveDate::from_ymd_opt(y, 12, 31),
        ) {
            c = c.add(cert::Column::IssuedOn.between(from, to));
        }
    }
    if let Some(i) = f.institution_id {
        c = c.add(cert::Column::InstitutionId.eq(i));
    }
    if let Some(s) = &f.status {
        c = c.add(cert::Column::Status.eq(s.as_str()));
    }
    if let Some(o) = &f.occupation {
        c = c.add(cert::Column::Occupation.eq(o.as_str()));
    }
    if let Some(p) = &f.code_prefix {
        // Digits only: every code starting with `p` lies in [p, p + ':') (':' follows '9'),
        // a range the code index answers.
        c = c
            .add(cert::Column::Code.gte(p.as_str()))
            .add(cert::Column::Code.lt(format!("{p}:")));
    }
    if let Some(n) = &f.holder_name {
        c = c.add(cert::Column::HolderName.eq(n.as_str()));
    }
    c
}

fn row(m: cert::Model) -> RegisterRow {
    RegisterRow {
        code: m.code,
        holder_name: m.holder_name,
        occupation: m.occupation,
        level: m.level,
        institution_id: m.institution_id,
        institution_name: m.institution_name,
        filing_id: m.filing_id,
        issued_on: m.issued_on,
        status: m.status,
        revoked_reason: m.revoked_reason,
    }
}

/// Up to `limit` codes after the code `after` (in issue order) matching the filter, without a
/// count: what an export reads page by page. An `after` that is not a code starts at the top.
pub async fn rows_after(
    store: &Store,
    viewer: &Actor,
    filter: &RegisterFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<RegisterRow>> {
    let f = scoped(viewer, filter)?;
    let mut q = cert::Entity::find().filter(condition(&f));
    if let Some(a) = check_after(after)? {
        let from = cert::Entity::find()
            .select_only()
            .column(cert::Column::IssuedOn)
            .filter(cert::Column::Code.eq(a))
            .into_tuple::<NaiveDate>()
            .one(store.db())
            .await?;
        if let Some(on) = from {
            q = q.filter(
                Expr::tuple([
                    Expr::col(cert::Column::IssuedOn),
                    Expr::col(cert::Column::Code),
                ])
                .gt(Expr::tuple([Expr::value(on), Expr::value(a)])),
            );
        }
    }
    Ok(q.order_by_asc(cert::Column::IssuedOn)
        .order_by_asc(cert::Column::Code)
        .limit(limit.clamp(1, MAX_PAGE_ROWS))
        .all(store.db())
        .await?
        .into_iter()
        .map(row)
        .collect())
}

/// How many codes match the filter (as `viewer` may see them).
pub async fn count(store: &Store, viewer: &Actor, filter: &RegisterFilter) -> Result<u64> {
    let f = scoped(viewer, filter)?;
    Ok(cert::Entity::find()
        .filter(condition(&f))
        .count(store.db())
        .await?)
}

/// A page of the register: `limit` codes after `after`, the total and where the next page
/// starts.
pub async fn page(
    store: &Store,
    viewer: &Actor,
    filter: &RegisterFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<RegisterPage> {
    let limit = limit.clamp(1, MAX_PAGE_ROWS);
    let total = count(store, viewer, filter).await?;
    let mut items = rows_after(store, viewer, filter, after, limit + 1).await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let next_after = if more {
        items.last().map(|r| r.code.clone())
    } else {
        None
    };
    Ok(RegisterPage {
        items,
        total,
        next_after,
    })
}

/// The occupations to filter by (the filter's choices): those the viewer's institutions are
/// qualified for — the register's occupations come from there, and the qualification table is
/// small where the register is not.
pub async fn occupations(store: &Store, viewer: &Actor) -> Result<Vec<String>> {
    let f = scoped(viewer, &RegisterFilter::default())?;
    let mut q = iq::Entity::find()
        .select_only()
        .column(iq::Column::Occupation)
        .distinct()
        .order_by_asc(iq::Column::Occupation);
    if let Some(i) = f.institution_id {
        q = q.filter(iq::Column::InstitutionId.eq(i));
    }
    Ok(q.into_tuple::<String>().all(store.db()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(year: &str, inst: &str, status: &str, q: &str) -> RegisterQuery {
        RegisterQuery {
            year: Some(year.into()),
            institution_id: Some(inst.into()),
            status: Some(status.into()),
            occupation: None,
            q: Some(q.into()),
        }
    }

    #[test]
    fn r_val_1_every_bad_field_is_named_at_once() {
        let e = q("26", "x", "lost", "").check().unwrap_err();
        let fields: Vec<_> = e.problems().into_iter().filter_map(|p| p.field).collect();
        assert_eq!(fields, ["year", "institution_id", "status"]);
    }

    #[test]
    fn r_crt_1_digits_search_codes_and_text_searches_names() {
        let f = q("2026", "3", "valid", " 4401052026 ").check().unwrap();
        assert_eq!(f.year, Some(2026));
        assert_eq!(f.institution_id, Some(3));
        assert_eq!(f.code_prefix.as_deref(), Some("4401052026"));
        assert_eq!(f.holder_name, None);
        let f = q("", "", "", "张三").check().unwrap();
        assert_eq!(f.holder_name.as_deref(), Some("张三"));
        assert_eq!(
            f,
            RegisterFilter {
                holder_name: Some("张三".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn s18_control_characters_and_odd_positions_are_refused_by_field() {
        let e = q("", "", "", "张\u{0}三").check().unwrap_err();
        assert_eq!(e.problems()[0].field.as_deref(), Some("q"));
        let bad = RegisterQuery {
            occupation: Some("育婴员\u{202E}".into()),
            ..Default::default()
        };
        let e = bad.check().unwrap_err();
        assert_eq!(e.problems()[0].field.as_deref(), Some("occupation"));
        assert!(check_after(Some("4401\u{0}")).is_err());
        assert!(check_after(Some("x")).is_err());
        assert_eq!(
            check_after(Some("44010520260001001")).unwrap(),
            Some("44010520260001001")
        );
        assert_eq!(check_after(None).unwrap(), None);
    }
}
