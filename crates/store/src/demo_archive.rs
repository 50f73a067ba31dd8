//! Demo data for the class archive 一期一档 (R-ARC-1, R-ARC-2): institution A's class of a
//! 粤菜师傅 special round, trained and examined about five weeks ago, whose archive is partly
//! complete — most identity and education copies uploaded, some residence permits and group
//! proofs missing, the exam materials not yet filed — so that the matrix shows real gaps and the
//! work lists show the percentage. Every write goes through the services (audited as
//! `demo-seed`); the documents are small generated PDFs and PNGs.

use crate::archive;
use crate::files::FileStore;
use crate::ready_package::{self, ReadyPackage};
use crate::roster::{self, ImportOutcome, RosterKey};
use crate::rounds::{self, RoundInput, TargetGroup};
use crate::{Actor, Result, Store, StoreError, agreements, filings, running};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::round::Half;

/// The archive class's roster seed (distinct from the other demo classes).
const ROSTER_SEED: u64 = 5107;
/// Its trainees.
const TRAINEES: usize = 22;

/// A 1×1 PNG (valid chunks and CRCs): the stand-in for a photographed certificate.
pub const DEMO_PNG: [u8; 68] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x04, 0x00, 0x00, 0x00, 0xb5, 0x1c, 0x0c,
    0x02, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x02, 0x30, 0x81, 0xd0, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// A one-page PDF saying `text` (ASCII), with a correct cross-reference table.
pub fn demo_pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 14 Tf 72 760 Td ({safe}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed".into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// The roster: synthetic citizens; every fourth from outside Guangdong, some in key groups.
fn roster_csv() -> Vec<u8> {
    let mut s = ROSTER_HEADERS.join(",");
    s.push('\n');
    for (i, mut r) in roster::synthetic_rows(TRAINEES, ROSTER_SEED)
        .into_iter()
        .enumerate()
    {
        r[4] = if i % 4 == 1 {
            "广东省外"
        } else {
            "广东省内"
        }
        .into();
        r[5] = match i % 7 {
            2 => "就业困难人员",
            5 => "就业困难人员、残疾人",
            _ => "",
        }
        .into();
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

/// Seed the archive demo for institution `a` (the demo's institution A). `now` is the demo's
/// start time.
pub async fn seed_archive(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    a: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let admin = actor(Role::CentreAdmin, None);
    let staff = actor(Role::CentreStaff, None);
    let a_admin = actor(Role::InstitutionAdmin, Some(a));
    let a_staff = actor(Role::InstitutionStaff, Some(a));
    let today = crate::workflow_glue::today(now);
    let start = today - Duration::days(50);
    let at = |d: chrono::NaiveDate, h: u32| {
        shanghai()
            .with_ymd_and_hms(d.year(), d.month(), d.day(), h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let inst = crate::institutions::get_institution(store, &Actor::system("demo-seed"), a).await?;
    let Some(q) = inst.qualifications.first().cloned() else {
        return Ok(());
    };
    let policy = crate::policies::in_force(store.db(), start).await?;
    let submit_on = crate::calendar::load(store.db())
        .await?
        .filing_deadline(start, &policy)
        .unwrap_or(start - Duration::days(16))
        .min(today - Duration::days(60));
    let submit_at = at(submit_on, 10);
    let r = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: start.year(),
            half: Half::Other,
            label: format!("{}年粤菜师傅专项培训（第二期）", start.year()),
            base_planned: 3,
            window_start: submit_on - Duration::days(3),
            window_end: submit_on + Duration::days(5),
            target_groups: vec![
                TargetGroup {
                    name: "就业困难人员".into(),
                    required_share_percent: 10,
                },
                TargetGroup {
                    name: "残疾人".into(),
                    required_share_percent: 0,
                },
            ],
            call_text: "面向餐饮从业人员的粤菜师傅专项培训。".into(),
        },
        submit_at - Duration::days(4),
    )
    .await?;
    rounds::publish_round(store, &admin, r.id, submit_at - Duration::days(3)).await?;
    let app = agreements::apply_to_round(
        store,
        &a_admin,
        &agreements::ApplicationInput {
            round_id: r.id,
            occupations: vec![q.occupation.clone()],
            classes_requested: 1,
            note: String::new(),
        },
        submit_at - Duration::days(2),
    )
    .await?;
    let ag = crate::demo_evaluations::sign_special(
        store,
        &admin,
        app.id,
        1,
        submit_at - Duration::days(1),
    )
    .await?;
    let teacher_id =
        ready_package::qualified_teacher(store.db(), a, &q.occupation, &q.level).await?;
    let mut spec = ReadyPackage::new(ag.id, &q.occupation, &q.level, start);
    spec.teacher_id = teacher_id;
    spec.session_hour = 14;
    spec.roster_seed = ROSTER_SEED;
    spec.trainees = TRAINEES;
    let pkg = ready_package::prepare(store, files, key, &a_staff, &spec, submit_at).await?;
    if let ImportOutcome::Refused { problems } =
        roster::import_roster(store, &a_staff, key, pkg, &roster_csv(), None, submit_at).await?
    {
        return Err(StoreError::Validation {
            code: "DEMO_ROSTER",
            message: problems
                .first()
                .map(|p| p.message.clone())
                .unwrap_or_default(),
            field: Some("roster".into()),
        });
    }
    let f = ready_package::submit(store, &a_staff, pkg, submit_at).await?;
    filings::approve_filing(store, &staff, f.id, submit_at + Duration::days(5)).await?;
    running::start_training(store, &a_staff, f.id, at(start, 9)).await?;
    running::complete_training(
        store,
        &a_staff,
        f.id,
        start + Duration::days(10),
        at(start + Duration::days(10), 17),
    )
    .await?;
    running::complete_exam(
        store,
        &a_staff,
        f.id,
        start + Duration::days(13),
        at(start + Duration::days(13), 17),
    )
    .await?;
    // The archive, partly filled: the institution uploaded over the following weeks.
    let upload_at = at(start + Duration::days(20), 15);
    let v = archive::get_archive(store, &a_staff, f.id).await?;
    for (i, t) in v.trainees.iter().enumerate() {
        for c in &t.cells {
            if c.status != "missing" {
                continue;
            }
            let skip = match c.code.as_str() {
                "id_card" => i == 17,
                "education_certificate" => i % 6 == 4,
                "gd_residence_permit" => i % 8 == 5,
                _ if c.code.starts_with(peixun_domain::archive::GROUP_PREFIX) => i % 7 == 5,
                _ => false,
            };
            if skip {
                continue;
            }
            let (bytes, name) = if i % 3 == 0 {
                (DEMO_PNG.to_vec(), format!("{}_{}.png", t.name, c.code))
            } else {
                (
                    demo_pdf(&format!(
                        "Demo copy: {} of trainee row {}",
                        c.code, t.row_number
                    )),
                    format!("{}_{}.pdf", t.name, c.code),
                )
            };
            archive::upload_document(
                store,
                files,
                &a_staff,
                f.id,
                Some(t.roster_entry_id),
                &c.code,
                &bytes,
                &name,
                upload_at,
            )
            .await?;
        }
    }
    // Two trainees hold a vocational skill certificate (optional item, counted once filed).
    for t in v.trainees.iter().take(6).skip(4) {
        archive::upload_document(
            store,
            files,
            &a_staff,
            f.id,
            Some(t.roster_entry_id),
            "skill_certificate",
            &demo_pdf(&format!(
                "Demo copy: skill certificate row {}",
                t.row_number
            )),
            "职业技能证书.pdf",
            upload_at,
        )
        .await?;
    }
    for (code, text) in [
        ("sign_in_sheets", "Demo sign-in sheets, all sessions"),
        ("roster", "Demo roster as approved"),
    ] {
        archive::upload_document(
            store,
            files,
            &a_staff,
            f.id,
            None,
            code,
            &demo_pdf(text),
            &format!("{code}.pdf"),
            upload_at,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_files_are_recognised_by_content() {
        let pdf = demo_pdf("Demo copy: id_card (row) 3");
        assert_eq!(
            peixun_import::sniff(&pdf),
            Some(peixun_import::FileType::Pdf)
        );
        assert!(String::from_utf8_lossy(&pdf).contains("startxref"));
        assert_eq!(
            peixun_import::sniff(&DEMO_PNG),
            Some(peixun_import::FileType::Png)
        );
    }
}
