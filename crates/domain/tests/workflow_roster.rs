//! Roster import (R-FIL-2, R-VAL-1, SECURITY.md S22, SPEC.md §4).

use chrono::NaiveDate;
use peixun_domain::ids::check_char;
use peixun_domain::policy::Policy;
use peixun_domain::roster::{
    EnrollmentElsewhere, ROSTER_HEADERS, RawRow, Residence, RosterContext, RowProblem,
    id_type_options, overlapping_enrollments, rows_from_table, validate_roster,
};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A valid Haizhu citizen ID: birth date `yyyymmdd`, sequence `seq` (odd last digit: male).
fn cid(birth: &str, seq: u32) -> String {
    let first17 = format!("440105{birth}{seq:03}");
    format!("{first17}{}", check_char(&first17).unwrap())
}

fn groups() -> Vec<String> {
    [
        "贫困劳动力",
        "就业困难人员",
        "零就业家庭成员",
        "残疾人",
        "毕业2年内“两后生”中的农村学员",
        "城市低保家庭学员",
    ]
    .map(String::from)
    .to_vec()
}

fn row(n: u32, cells: [&str; 6]) -> RawRow {
    RawRow {
        row_number: n,
        cells: cells.iter().map(|s| s.to_string()).collect(),
    }
}

/// `n` good rows numbered from 2 (the header is row 1).
fn good_rows(n: u32) -> Vec<RawRow> {
    (0..n)
        .map(|i| {
            let id = cid("19900501", 100 + i);
            RawRow {
                row_number: i + 2,
                cells: vec![
                    format!("学员{}", ["甲", "乙", "丙", "丁", "戊"][i as usize % 5]),
                    "居民身份证".into(),
                    id,
                    format!("138{:08}", i),
                    "广东省内".into(),
                    if i % 3 == 0 {
                        "就业困难人员、残疾人".into()
                    } else {
                        String::new()
                    },
                ],
            }
        })
        .collect()
}

struct Ctx {
    policy: Policy,
    groups: Vec<String>,
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            policy: Policy::haizhu_default(),
            groups: groups(),
        }
    }
    fn get(&self) -> RosterContext<'_> {
        RosterContext {
            start_date: d("2026-03-02"),
            policy: &self.policy,
            known_groups: &self.groups,
            min_age: 16,
        }
    }
}

fn problem_rows(p: &[RowProblem]) -> Vec<(Option<u32>, Option<&str>, &str)> {
    p.iter().map(|x| (x.row_number, x.column, x.code)).collect()
}

#[test]
fn r_fil_2_good_roster_imports_every_trainee() {
    let c = Ctx::new();
    let out = validate_roster(&good_rows(25), &c.get()).unwrap();
    assert_eq!(out.trainees.len(), 25);
    assert!(out.warnings.is_empty());
    let first = &out.trainees[0];
    assert_eq!(first.row_number, 2);
    assert_eq!(first.age, Some(35));
    assert_eq!(first.residence, Residence::InProvince);
    assert_eq!(first.groups, ["就业困难人员", "残疾人"]);
}

#[test]
fn r_fil_2_roster_with_five_bad_rows_reports_all() {
    let c = Ctx::new();
    let mut rows = good_rows(25);
    // Row 3: bad check character. Row 7: name with a digit. Row 12: landline phone.
    // Row 18: residence not in the list. Row 26: unknown key-target group.
    let mut bad_id = cid("19900501", 200);
    let last = bad_id.pop().unwrap();
    bad_id.push(if last == '0' { '1' } else { '0' });
    rows[1].cells[2] = bad_id;
    rows[5].cells[0] = "张3".into();
    rows[10].cells[3] = "020-84001234".into();
    rows[16].cells[4] = "海外".into();
    rows[24].cells[5] = "退役军人,残疾人".into();
    let problems = validate_roster(&rows, &c.get()).unwrap_err();
    assert_eq!(
        problem_rows(&problems),
        [
            (Some(3), Some("证件号码"), "ID_CHECKSUM"),
            (Some(7), Some("姓名"), "ROSTER_NAME"),
            (Some(12), Some("手机号码"), "ROSTER_PHONE"),
            (Some(18), Some("户籍/居住地"), "ROSTER_RESIDENCE"),
            (Some(26), Some("重点对象类别"), "ROSTER_GROUP_UNKNOWN"),
        ]
    );
    // Messages are Chinese only and say what is wrong.
    assert!(
        problems[0].message.starts_with("校验位"),
        "{}",
        problems[0].message
    );
    assert!(!problems[0].message.contains(" / "));
    assert!(
        problems[1].message.contains("“3”不允许"),
        "{}",
        problems[1].message
    );
    assert!(problems[4].message.contains("“退役军人”"));
}

#[test]
fn r_fil_2_class_below_twenty_is_a_roster_level_problem() {
    let c = Ctx::new();
    let problems = validate_roster(&good_rows(19), &c.get()).unwrap_err();
    assert_eq!(problem_rows(&problems), [(None, None, "ROSTER_CLASS_SIZE")]);
    assert_eq!(
        problems[0].message,
        "每班培训人数不低于20人，花名册现有19人"
    );
    // Blank trailing rows neither count nor fail.
    let mut rows = good_rows(20);
    rows.push(row(22, ["", " ", "", "", "", ""]));
    assert_eq!(validate_roster(&rows, &c.get()).unwrap().trainees.len(), 20);
}

#[test]
fn r_val_1_stated_id_type_must_match_the_number() {
    let c = Ctx::new();
    let mut rows = good_rows(20);
    rows[0].cells[1] = "港澳居民来往内地通行证".into();
    rows[1].cells[1] = "护照".into();
    rows[2].cells[1] = "身份证".into(); // short form accepted
    let problems = validate_roster(&rows, &c.get()).unwrap_err();
    assert_eq!(
        problem_rows(&problems),
        [
            (Some(2), Some("证件号码"), "ROSTER_ID_KIND_MISMATCH"),
            (Some(3), Some("证件类型"), "ROSTER_ID_TYPE"),
        ]
    );
    assert!(problems[0].message.contains("所填号码为居民身份证号码"));
    assert!(problems[1].message.contains(&id_type_options().join("、")));
}

#[test]
fn spec_4_same_person_twice_in_one_roster_is_flagged() {
    let c = Ctx::new();
    let mut rows = good_rows(21);
    rows[20].cells[2] = rows[4].cells[2].to_lowercase();
    let problems = validate_roster(&rows, &c.get()).unwrap_err();
    assert_eq!(
        problem_rows(&problems),
        [(Some(22), Some("证件号码"), "ROSTER_DUPLICATE_PERSON")]
    );
    assert!(problems[0].message.starts_with("与第6行为同一人"));
    assert!(
        problems[0].message.contains("**********"),
        "masked: {}",
        problems[0].message
    );
}

#[test]
fn spec_4_under_16_refused_over_retirement_warned() {
    let c = Ctx::new();
    let mut rows = good_rows(20);
    // Turns 16 on 2026-03-03, the day after the start: refused.
    rows[0].cells[2] = cid("20100303", 101);
    // Turns 16 on the start date: fine.
    rows[1].cells[2] = cid("20100302", 103);
    let problems = validate_roster(&rows, &c.get()).unwrap_err();
    assert_eq!(
        problem_rows(&problems),
        [(Some(2), Some("证件号码"), "ROSTER_AGE_TOO_YOUNG")]
    );
    assert_eq!(
        problems[0].message,
        "开班日期2026-03-02时年满15周岁，未满16周岁不能参训"
    );

    let mut rows = good_rows(20);
    rows[0].cells[2] = cid("19650101", 111); // man, 61: retired at 60y1m on 2025-02-01
    rows[1].cells[2] = cid("19740101", 112); // woman, 52: retired at 50 on 2024-01-01
    rows[2].cells[1] = "港澳居民来往内地通行证".into();
    rows[2].cells[2] = "H12345678".into();
    // A man of 60 born 1966-01-01 retires at 60y4m on 2026-05-01: not yet on 2026-03-02.
    rows[3].cells[2] = cid("19660101", 113);
    let out = validate_roster(&rows, &c.get()).unwrap();
    assert_eq!(out.trainees.len(), 20);
    assert_eq!(
        problem_rows(&out.warnings),
        [
            (Some(2), Some("证件号码"), "ROSTER_AGE_OVER_RETIREMENT"),
            (Some(3), Some("证件号码"), "ROSTER_AGE_OVER_RETIREMENT"),
            (Some(4), Some("证件号码"), "ROSTER_AGE_UNKNOWN"),
        ]
    );
    assert!(out.trainees[0].over_retirement_age);
    assert!(!out.trainees[3].over_retirement_age);
    assert_eq!(out.trainees[3].age, Some(60));
    assert_eq!(
        out.warnings[0].message,
        "开班日期2026-03-02时年满61周岁，已于2025-02-01达到法定退休年龄（按男职工计为60周岁1个月，\
         渐进式延迟法定退休年龄），不享受培训补贴"
    );
    assert!(
        out.warnings[1]
            .message
            .contains("原法定退休年龄为55周岁的女性退休较晚，请人工核对"),
        "{}",
        out.warnings[1].message
    );
}

#[test]
fn r_val_1_headers_in_any_order_and_missing_headers_named() {
    let header: Vec<String> = [
        "备注",
        "手机号码",
        "姓名",
        "证件号码",
        "证件类型",
        "重点对象类别",
        "户籍/居住地",
    ]
    .map(String::from)
    .to_vec();
    let id = cid("19900501", 100);
    let rec = vec![
        "".into(),
        "13800000000".into(),
        "欧阳·娜娜".into(),
        id.clone(),
        "居民身份证".into(),
        "残疾人，贫困劳动力".into(),
        "省外".into(),
    ];
    let rows = rows_from_table(&header, &[rec]).unwrap();
    assert_eq!(rows[0].row_number, 2);
    assert_eq!(
        rows[0].cells,
        [
            "欧阳·娜娜",
            "居民身份证",
            id.as_str(),
            "13800000000",
            "省外",
            "残疾人，贫困劳动力"
        ]
    );
    let missing = rows_from_table(&header[..3], &[]).unwrap_err();
    assert_eq!(
        missing
            .iter()
            .map(|p| p.column.unwrap())
            .collect::<Vec<_>>(),
        ["证件类型", "证件号码", "户籍/居住地", "重点对象类别"]
    );
    assert_eq!(ROSTER_HEADERS.len(), 6);
}

#[test]
fn spec_4_names_phones_and_groups() {
    let c = Ctx::new();
    let mut rows = good_rows(20);
    rows[0].cells[0] = "John Smith".into();
    rows[1].cells[0] = "阿卜杜·热合曼".into();
    rows[2].cells[0] = "李".into();
    rows[3].cells[0] = "王 五".into();
    rows[4].cells[3] = "12800000000".into();
    rows[5].cells[3] = "1380000000".into();
    rows[6].cells[5] = "残疾人,残疾人、 贫困劳动力 ".into();
    let problems = validate_roster(&rows, &c.get()).unwrap_err();
    assert_eq!(
        problem_rows(&problems),
        [
            (Some(4), Some("姓名"), "ROSTER_NAME"),
            (Some(5), Some("姓名"), "ROSTER_NAME"),
            (Some(6), Some("手机号码"), "ROSTER_PHONE"),
            (Some(7), Some("手机号码"), "ROSTER_PHONE"),
        ]
    );
    rows[2].cells[0] = "李四".into();
    rows[3].cells[0] = "王五".into();
    rows[4].cells[3] = "19900000000".into();
    rows[5].cells[3] = "13800000000".into();
    let out = validate_roster(&rows, &c.get()).unwrap();
    assert_eq!(out.trainees[6].groups, ["残疾人", "贫困劳动力"]);
}

#[test]
fn spec_4_person_in_two_classes_with_overlapping_dates_is_flagged() {
    let others = [
        EnrollmentElsewhere {
            person_key: "a",
            class_id: 1,
            start: d("2026-02-01"),
            end: d("2026-03-02"),
        },
        EnrollmentElsewhere {
            person_key: "a",
            class_id: 2,
            start: d("2026-02-01"),
            end: d("2026-03-01"),
        },
        EnrollmentElsewhere {
            person_key: "b",
            class_id: 3,
            start: d("2026-03-20"),
            end: d("2026-04-10"),
        },
        EnrollmentElsewhere {
            person_key: "c",
            class_id: 4,
            start: d("2026-03-10"),
            end: d("2026-03-12"),
        },
    ];
    let hits = overlapping_enrollments(d("2026-03-02"), d("2026-03-20"), &["a", "b"], &others);
    assert_eq!(
        hits.iter()
            .map(|h| (h.person_key.as_str(), h.other_class_id))
            .collect::<Vec<_>>(),
        [("a", 1), ("b", 3)]
    );
}
