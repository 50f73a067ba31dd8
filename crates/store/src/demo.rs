//! Deterministic demo data (`peixun serve --demo`): about 30 institutions of Haizhu district with
//! valid credit codes, addresses on real Haizhu roads, approved occupations, teachers with valid
//! ID numbers (region 440105), and one account per role sharing [`DEMO_PASSWORD`]. A fixed seed
//! makes every run identical, so screenshots and tests are stable. All writes go through the
//! services and are audited under the actor `demo-seed`.

use crate::accounts::{self, NewUser};
use crate::checks;
use crate::entity::institution;
use crate::files::FileStore;
use crate::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use crate::roster::RosterKey;
use crate::teachers::{self, TeacherInput, TeacherQualification};
use crate::{Actor, Result, Store};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Serialize;

/// What the demo seed created: one account per role, all with the same password.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInfo {
    /// (username, role), in a stable order.
    pub accounts: Vec<(String, Role)>,
    pub password: String,
    /// False when the database already had institutions and nothing was written.
    pub seeded: bool,
}

/// The shared demo password (passes S1).
pub const DEMO_PASSWORD: &str = "Peixun#Demo2026";

/// The demo accounts: username, display name, role, institution (index into the seeded list).
pub(crate) const ACCOUNTS: &[(&str, &str, Role, Option<usize>)] = &[
    (
        "centre_admin",
        "陈志明（区培训中心负责人）",
        Role::CentreAdmin,
        None,
    ),
    (
        "centre_staff",
        "林晓燕（区培训中心经办人）",
        Role::CentreStaff,
        None,
    ),
    ("bureau", "黄建国（区人社局）", Role::Bureau, None),
    ("city", "何丽华（市职培中心）", Role::City, None),
    (
        "inst_a_admin",
        "梁嘉敏（机构A管理员）",
        Role::InstitutionAdmin,
        Some(0),
    ),
    (
        "inst_a_staff",
        "周俊杰（机构A经办人）",
        Role::InstitutionStaff,
        Some(0),
    ),
    (
        "inst_b_admin",
        "吴淑仪（机构B管理员）",
        Role::InstitutionAdmin,
        Some(1),
    ),
    (
        "inst_b_staff",
        "郑伟强（机构B经办人）",
        Role::InstitutionStaff,
        Some(1),
    ),
    ("auditor", "罗美玲（审计管理员）", Role::Auditor, None),
    ("sysadmin", "谢国栋（系统管理员）", Role::Sysadmin, None),
];

const NAMES: &[&str] = &[
    "广州市海珠区南粤家政职业培训学校",
    "广州市海珠区粤厨职业培训学校",
    "广州市海珠区康颐养老护理职业培训学校",
    "广州市海珠区琶洲职业技能培训学校",
    "广州市海珠区江南职业培训学校",
    "广州市海珠区新港职业培训学校",
    "广州市海珠区昌岗职业培训学校",
    "广州市海珠区宝岗职业技能培训学校",
    "广州市海珠区南洲职业培训学校",
    "广州市海珠区工业大道职业培训学校",
    "广州市海珠区珠江电工职业培训学校",
    "广州市海珠区穗南焊接职业培训学校",
    "广州市海珠区美誉美容职业培训学校",
    "广州市海珠区育苗保育职业培训学校",
    "广州市海珠区茗香茶艺职业培训学校",
    "广州市海珠区麦香西点职业培训学校",
    "广州市海珠区数智电商职业培训学校",
    "广州市海珠区安康育婴职业培训学校",
    "广州市海珠区红棉职业培训学校",
    "广州市海珠区赤岗职业技能培训学校",
    "广州市海珠区瑞宝职业培训学校",
    "广州市海珠区华洲职业培训学校",
    "广州市海珠区素社职业培训学校",
    "广州市海珠区滨江职业技能培训学校",
    "广州市海珠区龙凤职业培训学校",
    "广州市海珠区沙园职业培训学校",
    "广州市海珠区凤阳职业培训学校",
    "广州市海珠区官洲职业技能培训学校",
    "广州市海珠区万松园职业培训学校",
    "广州市海珠区晓港职业培训学校",
];

const ROADS: &[&str] = &[
    "江南大道中",
    "新港西路",
    "昌岗路",
    "工业大道",
    "宝岗大道",
    "南洲路",
    "琶洲大道",
    "江南大道南",
    "新港中路",
    "东晓路",
    "南田路",
    "革新路",
    "赤岗路",
    "艺洲路",
    "滨江东路",
];

const OCCUPATIONS: &[(&str, Option<&str>)] = &[
    ("家政服务员", Some("南粤家政")),
    ("养老护理员", Some("南粤家政")),
    ("育婴员", Some("南粤家政")),
    ("保育师", Some("南粤家政")),
    ("中式烹调师", Some("粤菜师傅")),
    ("中式面点师", Some("粤菜师傅")),
    ("西式面点师", None),
    ("电工", Some("广东技工")),
    ("焊工", Some("广东技工")),
    ("美容师", None),
    ("茶艺师", None),
    ("互联网营销师", None),
];

const LEVELS: &[&str] = &["初级", "中级", "高级", "专项职业能力"];

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "林", "刘", "吴", "何", "罗", "郑", "谢", "冯", "邓", "曾", "彭",
    "苏", "卢", "蔡", "许",
];
const GIVEN: &[&str] = &[
    "志强", "丽娟", "伟明", "秀英", "嘉欣", "家豪", "慧敏", "国华", "少芬", "锦辉", "雅婷", "永康",
    "玉珍", "文杰", "碧霞", "子轩", "海燕", "俊峰", "美华", "振宇",
];

/// splitmix64: small, fixed, and identical on every platform and crate version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// A valid GB 32100 code: `52` (民办非企业单位) or `91` (企业), region 440105, 9 characters, check.
fn credit_code(rng: &mut Rng, enterprise: bool) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut s = String::from(if enterprise { "91440105" } else { "52440105" });
    for i in 0..9 {
        // Organisation codes are mostly digits, with a letter now and then.
        let c = if i < 8 || rng.below(3) > 0 {
            ALPHABET[rng.below(10)]
        } else {
            ALPHABET[10 + rng.below(ALPHABET.len() - 10)]
        };
        s.push(c as char);
    }
    let check = checks::credit_code_check_char(&s).unwrap_or('0');
    s.push(check);
    s
}

/// A valid 18-digit citizen ID registered in Haizhu (440105).
fn id_number(rng: &mut Rng) -> String {
    let year = 1970 + rng.below(26);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let seq = rng.below(1000);
    let first17 = format!("440105{year:04}{month:02}{day:02}{seq:03}");
    let check = checks::id_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn mobile(rng: &mut Rng) -> String {
    let second = *rng.pick(&['3', '5', '7', '8', '9']);
    let mut s = format!("1{second}");
    for _ in 0..9 {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    s
}

fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

/// Seed the demo data if the database has no institutions; otherwise write nothing. Either way
/// the demo accounts are returned, so the server can print them. Every demo filing is a
/// complete filing package (documents in `files`, rosters hashed with `key`) submitted through
/// the package's checks ([`crate::ready_package`]); there is no other way into the queue.
pub async fn seed_demo(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    now: DateTime<Utc>,
) -> Result<DemoInfo> {
    let accounts_list: Vec<(String, Role)> = ACCOUNTS
        .iter()
        .map(|(u, _, r, _)| (u.to_string(), *r))
        .collect();
    let info = |seeded| DemoInfo {
        accounts: accounts_list.clone(),
        password: DEMO_PASSWORD.to_string(),
        seeded,
    };
    if institution::Entity::find().count(store.db()).await? > 0 {
        return Ok(info(false));
    }
    let actor = Actor::system("demo-seed");
    let mut rng = Rng(0x7065_6978_756e_2026);
    let mut ids = Vec::with_capacity(NAMES.len());
    for (i, name) in NAMES.iter().enumerate() {
        let mut quals: Vec<Qualification> = Vec::new();
        let n = 2 + rng.below(3);
        // The first institutions are specialised the way their names say.
        let lead = match i {
            0 => Some(0),
            1 => Some(4),
            2 => Some(1),
            10 => Some(7),
            11 => Some(8),
            12 => Some(9),
            13 => Some(3),
            14 => Some(10),
            15 => Some(6),
            16 => Some(11),
            17 => Some(2),
            _ => None,
        };
        let mut occ_idx: Vec<usize> = lead.into_iter().collect();
        while occ_idx.len() < n {
            let k = rng.below(OCCUPATIONS.len());
            if !occ_idx.contains(&k) {
                occ_idx.push(k);
            }
        }
        for &k in &occ_idx {
            let level = if rng.below(4) == 0 {
                "专项职业能力"
            } else {
                LEVELS[rng.below(3)]
            };
            quals.push(Qualification {
                occupation: OCCUPATIONS[k].0.to_string(),
                level: level.to_string(),
            });
        }
        let mut major_projects: Vec<String> = Vec::new();
        if i % 3 == 0 || i < 2 {
            for &k in &occ_idx {
                if let Some(p) = OCCUPATIONS[k].1
                    && !major_projects.iter().any(|x| x == p)
                {
                    major_projects.push(p.to_string());
                }
            }
        }
        let road = rng.pick(ROADS);
        let input = InstitutionInput {
            name: name.to_string(),
            credit_code: credit_code(&mut rng, i % 4 == 3),
            confirm_checksum_warning: false,
            registered_address: format!(
                "广州市海珠区{road}{}号{}",
                1 + rng.below(400),
                if rng.below(2) == 0 {
                    format!("{}楼", 2 + rng.below(8))
                } else {
                    format!("{}室", 201 + rng.below(600))
                }
            ),
            district: None,
            contact_person: person(&mut rng),
            contact_phone: if rng.below(4) == 0 {
                format!("020-{}", 8400_0000 + rng.below(99_9999))
            } else {
                mobile(&mut rng)
            },
            qualifications: quals.clone(),
            major_project_capable: !major_projects.is_empty(),
            major_projects,
            status: if i == NAMES.len() - 1 {
                InstitutionStatus::Suspended
            } else {
                InstitutionStatus::Active
            },
        };
        let inst = institutions::create_institution(store, &actor, &input, now).await?;
        ids.push(inst.id);

        let teachers_n = 2 + rng.below(2);
        for t in 0..teachers_n {
            let q = &quals[t % quals.len()];
            let input = TeacherInput {
                name: person(&mut rng),
                id_number: id_number(&mut rng),
                phone: mobile(&mut rng),
                qualifications: vec![TeacherQualification {
                    occupation: q.occupation.clone(),
                    // R-RUN-1: a teacher teaches the occupation and level held.
                    level: q.level.clone(),
                    certificate_no: format!(
                        "{}{:010}",
                        2015 + rng.below(10),
                        rng.next() % 10_000_000_000
                    ),
                }],
                active: true,
            };
            teachers::create_teacher(store, &actor, inst.id, &input, now).await?;
        }
    }
    for (username, display, role, inst) in ACCOUNTS {
        if accounts::find_user_by_username(store, username)
            .await?
            .is_some()
        {
            continue;
        }
        let u = accounts::create_user(
            store,
            &actor,
            NewUser {
                username: username.to_string(),
                display_name: display.to_string(),
                role: *role,
                institution_id: inst.map(|k| ids[k]),
                password: DEMO_PASSWORD.to_string(),
                must_change_password: false,
            },
            now,
        )
        .await?;
        // S4: the demo stays usable with the shared password alone; only demo accounts are
        // exempt, and only this seeder marks them (the account page says so).
        crate::totp::set_exempt(store, &actor, u.id, true, now).await?;
    }
    let sink = DemoSink { files, key };
    seed_rounds(store, &sink, &ids, now).await?;
    crate::demo_running::seed_running(store, files, key, &ids, now).await?;
    crate::demo_certificates::seed_certificates(store, files, key, &ids, now).await?;
    if let Some(&a) = ids.first() {
        crate::demo_archive::seed_archive(store, files, key, a, now).await?;
    }
    crate::demo_evaluations::seed_evaluations(store, files, key, &ids, now).await?;
    crate::demo_packages::seed_packages(store, files, key, now).await?;
    crate::demo_violations::seed_violations(store, files, key, &ids, now).await?;
    // Last: answers for the classes that ran (R-EVA-3).
    crate::demo_surveys::seed_surveys(store, now).await?;
    // A password reset waiting for its second person (S7).
    crate::credentials::seed_demo_request(store, now).await?;
    Ok(info(true))
}

/// Where demo packages keep their documents and roster keys.
struct DemoSink<'a> {
    files: &'a FileStore,
    key: &'a RosterKey,
}

/// One demo filing: a complete package of `institution_id` under `agreement_id` for (occupation,
/// level), submitted at `submit_at` through every check (R-FIL-1…8) into the queue (R-FIL-6).
/// The start is `preferred_start` (moved so that R-FIL-3 holds and the class stays inside the
/// loaded holiday tables); the institution's `nth` class in the round is spread by half-days
/// and days so that its teacher is never booked twice.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn demo_filing(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    institution_id: i64,
    agreement_id: i64,
    q: &Qualification,
    submit_at: DateTime<Utc>,
    preferred_start: chrono::NaiveDate,
    nth: usize,
    roster_seed: u64,
) -> Result<crate::filings::FilingView> {
    use crate::ready_package::{self, ReadyPackage};
    const DAYS: i64 = 9;
    let calendar = crate::calendar::load(store.db()).await?;
    let policy = peixun_domain::policy::Policy::haizhu_default();
    let submit_on = crate::workflow_glue::today(submit_at);
    let start = ready_package::fit_start(
        &calendar,
        &policy,
        submit_on,
        preferred_start,
        3 * (nth as i64 / 2),
        DAYS,
    )
    .ok_or_else(|| {
        crate::StoreError::validation(
            "CAL_YEAR_NOT_LOADED",
            format!("演示数据：{submit_on} 提交的开班备案找不到满足提前10个工作日且在已载入节假日表年度内的开班日期"),
            "start_date",
        )
    })?;
    let teacher_id =
        ready_package::qualified_teacher(store.db(), institution_id, &q.occupation, &q.level)
            .await?;
    let mut spec = ReadyPackage::new(agreement_id, &q.occupation, &q.level, start);
    spec.days = DAYS;
    spec.teacher_id = teacher_id;
    spec.session_hour = if nth.is_multiple_of(2) { 9 } else { 14 };
    spec.roster_seed = roster_seed;
    ready_package::file(
        store,
        files,
        key,
        &demo_actor(Role::InstitutionStaff, Some(institution_id)),
        &spec,
        submit_at,
    )
    .await
}

/// A demo actor in `role` (audited as `demo-seed`, like the rest of the seed).
fn demo_actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed".into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// The year plan, a closed H1 round whose unconsumed quota rolled into a published H2 round,
/// agreements with their cap trails, and filings in every queue state, so that the bulletin,
/// the round pages and the agreement pages look real (R-PLAN-*, R-CAP-*, R-FIL-6).
async fn seed_rounds(
    store: &Store,
    sink: &DemoSink<'_>,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    use crate::agreements::{self, ApplicationInput, CapOverrideInput, SignInput};
    use crate::filings;
    use crate::plans::{self, PlanDecision, PlanInput};
    use crate::rounds::{self, KEY_TARGET_GROUPS, RoundInput, TargetGroup};
    use chrono::{Datelike, Duration};
    use peixun_domain::workflow::class::CorrectionItem;
    use peixun_domain::workflow::round::Half;

    let admin = demo_actor(Role::CentreAdmin, None);
    let staff = demo_actor(Role::CentreStaff, None);
    let today = crate::workflow_glue::today(now);
    let year = today.year();
    let plan = plans::create_plan(
        store,
        &admin,
        &PlanInput {
            year,
            total_classes: 60,
            budget: rust_decimal::Decimal::from(1_800_000),
            note: "按穗人社函〔2020〕143号及年度工作重点确定".into(),
        },
        now,
    )
    .await?;
    plans::submit_plan(store, &admin, plan.id, now).await?;
    plans::decide_plan(
        store,
        &demo_actor(Role::Bureau, None),
        plan.id,
        PlanDecision::Approve,
        "同意",
        now,
    )
    .await?;

    let groups = |shares: &[u32]| -> Vec<TargetGroup> {
        KEY_TARGET_GROUPS
            .iter()
            .zip(shares)
            .map(|(n, s)| TargetGroup {
                name: n.to_string(),
                required_share_percent: *s,
            })
            .collect()
    };
    let call = |half: &str| {
        format!(
            "根据《海珠区职业技能培训合格证书培训工作指引（试行）》，现征集{year}年{half}职业技能培训合格证书培训任务承接机构。\
             符合条件的培训机构可按自身培训资质申报培训需求。区培训中心按签约培训机构申请先后次序批复培训班，当次全区计划班次数额满为止。"
        )
    };
    // Institutions with accounts (A, B) and six more; the last one in the directory is suspended.
    let active: Vec<i64> = ids.iter().copied().take(8).collect();
    let mut scope = Vec::new();
    for &id in &active {
        let v =
            crate::institutions::get_institution(store, &Actor::system("demo-seed"), id).await?;
        scope.push(v.qualifications[0].clone());
    }
    // How many classes each institution filed in the round so far (spreads its classes).
    let mut nth: std::collections::HashMap<(i64, usize), usize> = Default::default();

    // H1: published, filed, closed.
    let h1 = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year,
            half: Half::H1,
            label: String::new(),
            base_planned: 20,
            window_start: today - Duration::days(150),
            window_end: today + Duration::days(10),
            target_groups: groups(&[10, 20, 5, 5, 10, 5]),
            call_text: call("上半年"),
        },
        now - Duration::days(160),
    )
    .await?;
    rounds::publish_round(store, &admin, h1.id, now - Duration::days(155)).await?;
    let mut h1_agreements = Vec::new();
    for (k, &id) in active.iter().enumerate() {
        let inst = demo_actor(Role::InstitutionAdmin, Some(id));
        let app = agreements::apply_to_round(
            store,
            &inst,
            &ApplicationInput {
                round_id: h1.id,
                occupations: vec![scope[k].occupation.clone()],
                classes_requested: 3 + (k as u32 % 4),
                note: String::new(),
            },
            now,
        )
        .await?;
        let a = agreements::sign_agreement(
            store,
            &admin,
            &SignInput {
                application_id: app.id,
                first_cap: Some(2 + (k as u32 % 3)),
                override_cap: None,
            },
            now,
        )
        .await?;
        h1_agreements.push(a.id);
    }
    let mut h1_filings = Vec::new();
    for (n, k) in [0usize, 1, 2, 0, 3, 4, 1, 5, 6, 0, 7, 2, 0]
        .iter()
        .enumerate()
    {
        let at = now - Duration::days(140) + Duration::minutes(37 * n as i64);
        let i = nth.entry((h1.id, *k)).or_default();
        let f = demo_filing(
            store,
            sink.files,
            sink.key,
            active[*k],
            h1_agreements[*k],
            &scope[*k],
            at,
            crate::workflow_glue::today(at) + Duration::days(20),
            *i,
            1000 + n as u64,
        )
        .await?;
        *i += 1;
        h1_filings.push(f.id);
    }
    for &f in &h1_filings[..6] {
        filings::approve_filing(store, &staff, f, now - Duration::days(130)).await?;
    }
    filings::reject_filing(
        store,
        &staff,
        h1_filings[6],
        "培训计划与课程表课时不一致",
        now - Duration::days(129),
    )
    .await?;
    filings::withdraw_filing(
        store,
        &demo_actor(Role::InstitutionAdmin, Some(active[5])),
        h1_filings[7],
        now - Duration::days(128),
    )
    .await?;
    rounds::close_round(store, &admin, h1.id, now - Duration::days(20)).await?;

    // H2: created after the close, so the pending rollover is added (R-PLAN-3).
    let h2 = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year,
            half: Half::H2,
            label: String::new(),
            base_planned: 24,
            window_start: today - Duration::days(15),
            window_end: today + Duration::days(30),
            target_groups: groups(&[10, 20, 5, 5, 10, 5]),
            call_text: call("下半年"),
        },
        now - Duration::days(18),
    )
    .await?;
    rounds::publish_round(store, &admin, h2.id, now - Duration::days(15)).await?;
    let scores = ["95", "88.5", "76", "65", "58", "91", "82", "72"];
    let mut h2_agreements = Vec::new();
    for (k, &id) in active.iter().enumerate() {
        // R-CAP-3: H2's caps come from each H1 agreement's confirmed evaluation (entered as
        // the H1 evaluation report's results; `demo_evaluations` shows one computed from the
        // records).
        crate::evaluations::record_confirmed_summary(
            store,
            h1_agreements[k],
            2 + (k as u32 % 3),
            scores[k].parse().unwrap_or(peixun_domain::cap::Score::ZERO),
            now - Duration::days(14),
        )
        .await?;
        let app = agreements::apply_to_round(
            store,
            &demo_actor(Role::InstitutionAdmin, Some(id)),
            &ApplicationInput {
                round_id: h2.id,
                occupations: vec![scope[k].occupation.clone()],
                classes_requested: 4,
                note: String::new(),
            },
            now,
        )
        .await?;
        // Score 58 is suspended (R-CAP-3): not signed.
        if scores[k] == "58" {
            continue;
        }
        let override_cap = (k == 3).then(|| CapOverrideInput {
            cap: 3,
            reason: "新增养老护理定向培训需求，经中心研究上调".into(),
        });
        let a = agreements::sign_agreement(
            store,
            &admin,
            &SignInput {
                application_id: app.id,
                first_cap: None,
                override_cap,
            },
            now,
        )
        .await?;
        h2_agreements.push((k, a.id));
    }
    let mut h2_filings = Vec::new();
    let order = [
        0usize, 1, 2, 0, 5, 3, 6, 1, 7, 0, 2, 5, 0, 1, 3, 6, 0, 7, 1, 0,
    ];
    for (n, j) in order.iter().enumerate() {
        let (k, ag) = h2_agreements[*j % h2_agreements.len()];
        let at = now - Duration::days(10)
            + Duration::minutes(23 * n as i64)
            + Duration::seconds(n as i64 * 7);
        let i = nth.entry((h2.id, k)).or_default();
        let f = demo_filing(
            store,
            sink.files,
            sink.key,
            active[k],
            ag,
            &scope[k],
            at,
            today + Duration::days(40),
            *i,
            2000 + n as u64,
        )
        .await?;
        *i += 1;
        h2_filings.push(f.id);
    }
    for &f in &h2_filings[..5] {
        filings::approve_filing(store, &staff, f, now - Duration::days(5)).await?;
    }
    filings::return_filing(
        store,
        &staff,
        h2_filings[5],
        vec![CorrectionItem {
            field: "roster".into(),
            message: "花名册中2名学员身份证号码校验位错误".into(),
        }],
        now - Duration::days(4),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_and_ids_are_valid() {
        let mut rng = Rng(1);
        for _ in 0..200 {
            let c = credit_code(&mut rng, false);
            assert!(matches!(
                checks::credit_code_parse_lenient(&c),
                Ok(checks::CreditCodeCheck::Valid(_))
            ));
            assert!(checks::id_parse(&id_number(&mut rng)).is_ok());
            assert!(peixun_domain::credit_code::CreditCode::parse(&c).is_ok());
            assert!(checks::phone_parse(&mobile(&mut rng)).is_ok());
        }
        accounts::check_password_rules("centre_admin", DEMO_PASSWORD).unwrap();
    }
}
