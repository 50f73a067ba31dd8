use super::*;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn g(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn r_arc_2_citizen_in_province_needs_id_card_and_education() {
    let r = required_documents(IdKind::CitizenId, Residence::InProvince, &[], false);
    assert_eq!(r, vec![DocKind::IdCard, DocKind::EducationCertificate]);
}

#[test]
fn r_arc_2_out_of_province_citizen_needs_guangdong_residence_permit() {
    let r = required_documents(IdKind::CitizenId, Residence::OutOfProvince, &[], false);
    assert_eq!(
        r,
        vec![
            DocKind::IdCard,
            DocKind::GdResidencePermit,
            DocKind::EducationCertificate
        ]
    );
}

#[test]
fn r_arc_2_hong_kong_macao_and_taiwan_residents_need_their_permits() {
    for k in [
        IdKind::HongKongResidencePermit,
        IdKind::MacaoResidencePermit,
    ] {
        let r = required_documents(k, Residence::OutOfProvince, &[], false);
        assert_eq!(
            r,
            vec![
                DocKind::HmtResidencePermit,
                DocKind::HkMacaoPermit,
                DocKind::EducationCertificate
            ],
            "{k:?}"
        );
    }
    assert_eq!(
        required_documents(
            IdKind::TaiwanResidencePermit,
            Residence::InProvince,
            &[],
            false
        ),
        vec![
            DocKind::HmtResidencePermit,
            DocKind::TaiwanPermit,
            DocKind::EducationCertificate
        ]
    );
    assert_eq!(
        required_documents(
            IdKind::HkMacaoTravelPermit,
            Residence::InProvince,
            &[],
            false
        )[0],
        DocKind::HkMacaoPermit
    );
    assert_eq!(
        required_documents(
            IdKind::TaiwanTravelPermit,
            Residence::OutOfProvince,
            &[],
            false
        ),
        vec![DocKind::TaiwanPermit, DocKind::EducationCertificate]
    );
    assert_eq!(
        required_documents(
            IdKind::ForeignPermanentResidentId,
            Residence::InProvince,
            &[],
            false
        )[0],
        DocKind::ForeignPrId
    );
}

#[test]
fn r_arc_1_one_proof_per_key_target_group_and_skill_certificate_when_held() {
    let r = required_documents(
        IdKind::CitizenId,
        Residence::InProvince,
        &g(&["残疾人", "就业困难人员", "残疾人", " "]),
        true,
    );
    assert_eq!(
        r,
        vec![
            DocKind::IdCard,
            DocKind::EducationCertificate,
            DocKind::SkillCertificate,
            DocKind::GroupProof("残疾人".into()),
            DocKind::GroupProof("就业困难人员".into()),
        ]
    );
    assert!(accepts(&r[..2], &DocKind::SkillCertificate));
    assert!(!accepts(&r[..2], &DocKind::GdResidencePermit));
}

#[test]
fn codes_round_trip_and_labels_are_chinese() {
    let mut all: Vec<DocKind> = TRAINEE_KINDS.to_vec();
    all.extend(CLASS_ITEMS);
    all.push(DocKind::GroupProof("贫困劳动力".into()));
    let mut codes = BTreeSet::new();
    for k in &all {
        assert_eq!(DocKind::from_code(&k.code()).as_ref(), Some(k));
        assert!(codes.insert(k.code()), "duplicate code {}", k.code());
        assert!(!k.label_zh().is_ascii());
    }
    assert_eq!(DocKind::from_code("group:"), None);
    assert_eq!(DocKind::from_code("passport"), None);
    assert_eq!(id_kind_from_label("居民身份证"), Some(IdKind::CitizenId));
    assert_eq!(id_kind_from_label("护照"), None);
}

#[test]
fn r_arc_2_completeness_is_exact_and_rounded_half_up() {
    assert_eq!(completeness_percent(0, 0), dec!(100));
    assert_eq!(completeness_percent(0, 7), dec!(0));
    assert_eq!(completeness_percent(1, 3), dec!(33.3));
    assert_eq!(completeness_percent(2, 3), dec!(66.7));
    assert_eq!(completeness_percent(1, 8), dec!(12.5));
    // 1/16 = 6.25 → 6.3 (half-up), 3/16 = 18.75 → 18.8
    assert_eq!(completeness_percent(1, 16), dec!(6.3));
    assert_eq!(completeness_percent(3, 16), dec!(18.8));
    assert_eq!(completeness_percent(599, 600), dec!(99.8));
    assert_eq!(completeness_percent(5, 5), dec!(100));
    assert_eq!(completeness_percent(9, 5), dec!(100));
}

fn trainee(id: i64, row: u32, name: &str, masked: &str, required: Vec<DocKind>) -> TraineeKey {
    TraineeKey {
        entry_id: id,
        row_number: row,
        name: name.into(),
        id_number_masked: masked.into(),
        required,
    }
}

fn class() -> Vec<TraineeKey> {
    let base = required_documents(IdKind::CitizenId, Residence::InProvince, &[], false);
    let out = required_documents(
        IdKind::CitizenId,
        Residence::OutOfProvince,
        &g(&["就业困难人员"]),
        false,
    );
    vec![
        trainee(11, 2, "张三", "4401**********1234", base.clone()),
        trainee(12, 3, "李四", "4401**********002X", out),
        trainee(13, 4, "王五", "4401**********5678", base.clone()),
        trainee(14, 5, "王五", "4401**********9999", base),
        trainee(
            15,
            6,
            "陈大文",
            "H*******12",
            required_documents(
                IdKind::HkMacaoTravelPermit,
                Residence::InProvince,
                &[],
                false,
            ),
        ),
    ]
}

fn placed(id: i64, kind: DocKind) -> EntryMatch {
    EntryMatch::Placed {
        entry_id: Some(id),
        kind,
    }
}

#[test]
fn r_arc_2_zip_names_place_by_row_name_or_id_tail() {
    let t = class();
    let groups = g(&["就业困难人员"]);
    let m = |p: &str| match_entry(p, &t, &groups);
    assert_eq!(m("02_张三_身份证.pdf"), placed(11, DocKind::IdCard));
    assert_eq!(
        m("张三-学历证书.JPG"),
        placed(11, DocKind::EducationCertificate)
    );
    assert_eq!(m("1234_身份证.png"), placed(11, DocKind::IdCard));
    assert_eq!(
        m("第3行 李四 居住证.pdf"),
        placed(12, DocKind::GdResidencePermit)
    );
    assert_eq!(
        m("002x_广东省居住证.pdf"),
        placed(12, DocKind::GdResidencePermit)
    );
    assert_eq!(m("李四身份证.pdf"), placed(12, DocKind::IdCard));
    assert_eq!(
        m("03_李四/身份认定材料（就业困难人员）.pdf"),
        placed(12, DocKind::GroupProof("就业困难人员".into()))
    );
    assert_eq!(
        m("李四_就业困难人员.pdf"),
        placed(12, DocKind::GroupProof("就业困难人员".into()))
    );
    assert_eq!(
        m("04_王五/学历证书.pdf"),
        placed(13, DocKind::EducationCertificate)
    );
    assert_eq!(m("王五_5678_身份证.pdf"), placed(13, DocKind::IdCard));
    assert_eq!(
        m("6_陈大文_回乡证.jpeg"),
        placed(15, DocKind::HkMacaoPermit)
    );
    assert_eq!(
        m("张三_技能证书.pdf"),
        placed(11, DocKind::SkillCertificate)
    );
    assert_eq!(
        m("签到表.pdf"),
        EntryMatch::Placed {
            entry_id: None,
            kind: DocKind::SignInSheets
        }
    );
    assert_eq!(
        m("00_班级材料/考试资料.pdf"),
        EntryMatch::Placed {
            entry_id: None,
            kind: DocKind::ExamMaterials
        }
    );
}

#[test]
fn r_arc_2_zip_names_that_cannot_be_placed_say_why() {
    let t = class();
    let groups = g(&["就业困难人员"]);
    let m = |p: &str| match_entry(p, &t, &groups);
    assert_eq!(m("赵六_身份证.pdf"), EntryMatch::UnknownTrainee);
    assert_eq!(m("身份证.pdf"), EntryMatch::UnknownTrainee);
    assert_eq!(
        m("王五_身份证.pdf"),
        EntryMatch::AmbiguousTrainee {
            entry_ids: vec![13, 14]
        }
    );
    // Row 2 is 张三, the name says 李四: contradictory.
    assert_eq!(
        m("02_李四_身份证.pdf"),
        EntryMatch::AmbiguousTrainee {
            entry_ids: vec![11, 12]
        }
    );
    assert_eq!(m("张三.pdf"), EntryMatch::UnknownKind);
    assert_eq!(m("张三_身份证_学历证书.pdf"), EntryMatch::UnknownKind);
    assert_eq!(m("张三_身份证.docx"), EntryMatch::NotAllowedType);
    assert_eq!(m("张三_身份证"), EntryMatch::NotAllowedType);
    assert_eq!(
        m("张三_居住证.pdf"),
        EntryMatch::NotRequired {
            entry_id: 11,
            kind: DocKind::GdResidencePermit
        }
    );
    assert_eq!(
        m("张三_就业困难人员.pdf"),
        EntryMatch::NotRequired {
            entry_id: 11,
            kind: DocKind::GroupProof("就业困难人员".into())
        }
    );
    for r in [
        EntryMatch::UnknownTrainee,
        EntryMatch::UnknownKind,
        EntryMatch::NotAllowedType,
    ] {
        assert!(!r.reason_zh().is_empty());
    }
}

#[test]
fn id_tail_only_from_a_masked_number_with_four_visible_characters() {
    let t = class();
    assert_eq!(t[1].id_tail().as_deref(), Some("002X"));
    assert_eq!(t[4].id_tail(), None);
    let plain = trainee(1, 2, "x", "1234", vec![]);
    assert_eq!(plain.id_tail(), None);
}

#[test]
fn archive_paths_are_safe() {
    assert_eq!(
        archive_path(Some((3, "张三")), &DocKind::IdCard, "pdf"),
        "03_张三/身份证.pdf"
    );
    assert_eq!(
        archive_path(None, &DocKind::SignInSheets, "png"),
        "00_班级材料/签到表.pdf".replace("pdf", "png")
    );
    assert_eq!(trainee_folder(12, "../a/b\u{202E}"), "12__a_b");
    assert_eq!(safe_path_part(".."), "_");
}

const SURNAMES: &[&str] = &["张", "李", "王", "陈", "刘", "黄", "周", "吴"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];

fn arb_class() -> impl Strategy<Value = Vec<TraineeKey>> {
    prop::collection::vec(
        (
            0..SURNAMES.len(),
            prop::collection::vec(0..GIVEN.len(), 1..3),
            0..7usize,
            any::<bool>(),
            prop::collection::vec(0..3usize, 0..3),
            1000u32..9999,
        ),
        1..30,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (s, gv, k, out, gs, tail))| {
                let name = format!(
                    "{}{}",
                    SURNAMES[s],
                    gv.iter().map(|x| GIVEN[*x]).collect::<String>()
                );
                let groups: Vec<String> = gs
                    .iter()
                    .map(|x| ["贫困劳动力", "残疾人", "就业困难人员"][*x].to_string())
                    .collect();
                let kind = IdKind::ALL[k];
                let res = if out {
                    Residence::OutOfProvince
                } else {
                    Residence::InProvince
                };
                trainee(
                    100 + i as i64,
                    i as u32 + 2,
                    &name,
                    &format!("4401**********{tail}"),
                    required_documents(kind, res, &groups, i % 3 == 0),
                )
            })
            .collect()
    })
}

proptest! {
    /// Every path of the downloaded archive is placed back on the same trainee and kind
    /// (names may repeat: the row number in the folder decides).
    #[test]
    fn r_arc_2_download_paths_place_back(t in arb_class()) {
        let groups = g(&["贫困劳动力", "残疾人", "就业困难人员"]);
        for tr in &t {
            for k in &tr.required {
                let p = archive_path(Some((tr.row_number, &tr.name)), k, "pdf");
                prop_assert_eq!(
                    match_entry(&p, &t, &groups),
                    placed(tr.entry_id, k.clone()),
                    "{}", p
                );
            }
        }
        for k in CLASS_ITEMS {
            let p = archive_path(None, &k, "png");
            prop_assert_eq!(
                match_entry(&p, &t, &groups),
                EntryMatch::Placed { entry_id: None, kind: k }
            );
        }
    }

    /// Every trainee needs exactly one primary identity document and the education certificate;
    /// the residence permit only for mainland citizens from outside Guangdong.
    #[test]
    fn r_arc_2_required_documents_invariants(
        k in 0..7usize,
        out in any::<bool>(),
        gs in prop::collection::vec("[a-z]{1,4}", 0..4),
        held in any::<bool>(),
    ) {
        let kind = IdKind::ALL[k];
        let res = if out { Residence::OutOfProvince } else { Residence::InProvince };
        let r = required_documents(kind, res, &gs, held);
        prop_assert!(r.contains(&DocKind::EducationCertificate));
        prop_assert_eq!(r.contains(&DocKind::SkillCertificate), held);
        prop_assert_eq!(
            r.contains(&DocKind::GdResidencePermit),
            kind == IdKind::CitizenId && out
        );
        let distinct: BTreeSet<&String> = gs.iter().collect();
        let proofs = r.iter().filter(|d| matches!(d, DocKind::GroupProof(_))).count();
        prop_assert_eq!(proofs, distinct.len());
        prop_assert!(r.iter().all(|d| !d.is_class_item()));
    }

    /// Completeness stays in 0–100, never falls when a document is added, and is 100 only when
    /// everything is present.
    #[test]
    fn r_arc_2_completeness_bounds(required in 1u32..2000, present in 0u32..2000) {
        let p = present.min(required);
        let c = completeness_percent(p, required);
        prop_assert!(c >= Decimal::ZERO && c <= Decimal::ONE_HUNDRED);
        prop_assert!(completeness_percent((p + 1).min(required), required) >= c);
        prop_assert_eq!(c.scale() <= 1, true);
        if p < required {
            // Below 2,000 items one missing item stays under 99.95 (the archive action checks
            // the counts, not the rounded figure).
            prop_assert!(c < Decimal::ONE_HUNDRED);
        }
    }
}
