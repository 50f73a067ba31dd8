//! Demo data for violations and the one termination path (R-VIO-1/2, R-AGR-1): a supplementary
//! special round of four slots in which
//! * institution V (申报资料作假) held two slots with pending filings; its violation was recorded
//!   by `centre_staff` and confirmed by `centre_admin`, so its agreement is terminated, both
//!   filings are cancelled and their slots went to institution W's two waiting filings;
//! * institution X holds two slots; a second violation against it (虚假培训) is recorded by
//!   `centre_staff` and waits for `centre_admin`: its page is the confirmation page, listing
//!   what confirming would do (X's agreement terminated, its filings cancelled, institution Z's
//!   waiting filing promoted).
//!
//! The institutions are taken from the end of the seeded list (no other demo uses them). Every
//! write goes through the services (audited as the demo accounts, or `demo-seed`).

use crate::agreements::{self, ApplicationInput, SignInput};
use crate::files::FileStore;
use crate::institutions::get_institution;
use crate::roster::RosterKey;
use crate::rounds::{self, RoundInput, TargetGroup};
use crate::violations::{self, EvidenceUpload, RecordInput};
use crate::{Actor, Result, Store, accounts};
use chrono::{DateTime, Datelike, Duration, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_domain::workflow::violation::ViolationKind;

const PDF: &[u8] =
    b"%PDF-1.4\n% peixun demo placeholder\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn seed_actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed".into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// The demo account `username` as an actor (the violation's recorder and decider are real
/// accounts, so the "another officer" rule is visible).
async fn account(store: &Store, username: &str) -> Result<Option<Actor>> {
    Ok(accounts::find_user_by_username(store, username)
        .await?
        .map(|u| Actor::from_user(&u, None, None)))
}

/// Seed the violations demo with institutions `ids[len-6 .. len-2]` (V, X, W, Z). `now` is the
/// demo's start time.
pub async fn seed_violations(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    if ids.len() < 8 {
        return Ok(());
    }
    let pick = &ids[ids.len() - 6..ids.len() - 2];
    let (v, x, w, z) = (pick[0], pick[1], pick[2], pick[3]);
    let (Some(staff), Some(admin)) = (
        account(store, "centre_staff").await?,
        account(store, "centre_admin").await?,
    ) else {
        return Ok(());
    };
    let seed_admin = seed_actor(Role::CentreAdmin, None);
    let today = crate::workflow_glue::today(now);
    let year = today.year();
    let r = rounds::create_round(
        store,
        &seed_admin,
        &RoundInput {
            year,
            half: Half::Other,
            label: format!("{year}年南粤家政专项培训（补充批次）"),
            base_planned: 4,
            window_start: today - Duration::days(6),
            window_end: today + Duration::days(20),
            target_groups: vec![TargetGroup {
                name: "农村转移劳动力".into(),
                required_share_percent: 20,
            }],
            call_text: "补充批次，名额4个，先到先得，满额后排队顺延。".into(),
        },
        now - Duration::days(7),
    )
    .await?;
    rounds::publish_round(store, &seed_admin, r.id, now - Duration::days(6)).await?;
    let mut agreement = std::collections::BTreeMap::new();
    let mut quals = std::collections::BTreeMap::new();
    for (k, &inst) in [v, x, w, z].iter().enumerate() {
        let view = get_institution(store, &Actor::system("demo-seed"), inst).await?;
        let Some(q) = view.qualifications.first().cloned() else {
            return Ok(());
        };
        let app = agreements::apply_to_round(
            store,
            &seed_actor(Role::InstitutionAdmin, Some(inst)),
            &ApplicationInput {
                round_id: r.id,
                occupations: vec![q.occupation.clone()],
                classes_requested: 2,
                note: String::new(),
            },
            now - Duration::days(5) + Duration::minutes(k as i64 * 30),
        )
        .await?;
        let ag = agreements::sign_agreement(
            store,
            &seed_admin,
            &SignInput {
                application_id: app.id,
                first_cap: Some(2),
                override_cap: None,
            },
            now - Duration::days(4) + Duration::minutes(k as i64 * 30),
        )
        .await?;
        agreement.insert(inst, ag.id);
        quals.insert(inst, q);
    }
    // Queue: V V X X (holding: the round is full) W W Z (waiting).
    let order = [v, v, x, x, w, w, z];
    let mut filed: Vec<(i64, i64)> = Vec::new();
    for (n, &inst) in order.iter().enumerate() {
        let nth = filed.iter().filter(|(i, _)| *i == inst).count();
        let f = crate::demo::demo_filing(
            store,
            files,
            key,
            inst,
            agreement[&inst],
            &quals[&inst],
            now - Duration::days(3) + Duration::minutes(41 * n as i64),
            today + Duration::days(30),
            nth,
            4300 + n as u64,
        )
        .await?;
        filed.push((inst, f.id));
    }
    let of = |inst: i64| -> Vec<i64> {
        filed
            .iter()
            .filter(|(i, _)| *i == inst)
            .map(|(_, f)| *f)
            .collect()
    };
    let evidence = |name: &str| EvidenceUpload {
        name: name.to_string(),
        bytes: PDF.to_vec(),
    };
    // V: falsified application materials, recorded by centre_staff, confirmed by centre_admin.
    let v_classes = of(v);
    let first = violations::record_violation(
        store,
        files,
        &staff,
        &RecordInput {
            institution_id: v,
            kind: ViolationKind::FalsifiedApplication,
            facts: format!(
                "经核查，该机构在{}申报及开班备案（备案#{}）中提交的授课教师《职业技能等级证书》2份，经广东省职业技能等级证书全国联网查询及发证机构书面核实，证书编号不存在，系伪造；该机构负责人在询问笔录中承认系委托他人制作。",
                r.label, v_classes[0]
            ),
            class_ids: vec![v_classes[0]],
            no_classes: false,
        },
        &[
            evidence("证书核验结果.pdf"),
            evidence("询问笔录（机构负责人）.pdf"),
        ],
        now - Duration::hours(30),
    )
    .await?;
    violations::confirm_violation(store, &admin, first.id, now - Duration::hours(26)).await?;
    // X: fake training, recorded and awaiting the decision of centre_admin.
    let x_classes = of(x);
    violations::record_violation(
        store,
        files,
        &staff,
        &RecordInput {
            institution_id: x,
            kind: ViolationKind::FakeTraining,
            facts: format!(
                "群众来电反映该机构备案#{}的部分学员未实际参加培训。区培训中心于开班前现场核查，发现其提交的花名册中6名学员表示从未报名，相关签名非本人所签。",
                x_classes[0]
            ),
            class_ids: vec![x_classes[0]],
            no_classes: false,
        },
        &[evidence("现场核查记录.pdf")],
        now - Duration::hours(3),
    )
    .await?;
    Ok(())
}
