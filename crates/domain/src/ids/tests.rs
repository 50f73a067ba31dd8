//! Tests of the ID validators (SPEC.md §4): every kind, every error, masking, ages.

use super::*;
use proptest::prelude::*;

/// Valid sample numbers (verified here; the demo data generator may use them).
const HAIZHU_CITIZEN_IDS: [&str; 7] = [
    "440105199003071235", // 1990-03-07, male
    "440105198511110451", // 1985-11-11, male
    "440105200802290026", // 2008-02-29, female
    "440105201003050311", // 2010-03-05, male
    "440105196605200141", // 1966-05-20, female
    "440105197506062083", // 1975-06-06, female
    "44010520090601013X", // 2009-06-01, male, check character X
];
const GB_11643_SAMPLE: &str = "11010519491231002X";
const HK_PERMIT: &str = "810000199508150029";
const MACAO_PERMIT: &str = "820000198801010030";
const TAIWAN_PERMIT: &str = "830000199206300048";
const FOREIGN_ID: &str = "944840199001010016"; // Guangdong, nationality 840, 1990-01-01

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn with_check(first17: &str) -> String {
    format!("{first17}{}", check_char(first17).unwrap())
}

fn code_of(input: &str) -> &'static str {
    PersonId::parse(input).unwrap_err().code()
}

fn all_18_char_samples() -> Vec<&'static str> {
    let mut all = HAIZHU_CITIZEN_IDS.to_vec();
    all.extend([
        GB_11643_SAMPLE,
        HK_PERMIT,
        MACAO_PERMIT,
        TAIWAN_PERMIT,
        FOREIGN_ID,
    ]);
    all
}

#[test]
fn spec_4_gb_11643_sample_is_a_valid_citizen_id() {
    let id = PersonId::parse(GB_11643_SAMPLE).unwrap();
    assert_eq!(id.kind(), IdKind::CitizenId);
    assert_eq!(id.as_str(), GB_11643_SAMPLE);
    assert_eq!(id.birth_date(), Some(date(1949, 12, 31)));
    assert_eq!(id.sex(), Some(Sex::Female));
}

#[test]
fn spec_4_haizhu_sample_citizen_ids_are_valid() {
    for raw in HAIZHU_CITIZEN_IDS {
        let id = PersonId::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(id.kind(), IdKind::CitizenId);
        assert_eq!(with_check(&raw[..17]), raw);
        assert!(CitizenId::parse(raw).is_ok());
    }
    let id = PersonId::parse("440105199003071235").unwrap();
    assert_eq!(id.birth_date(), Some(date(1990, 3, 7)));
    assert_eq!(id.sex(), Some(Sex::Male));
}

#[test]
fn spec_4_residence_permits_and_foreign_id_are_classified() {
    let cases = [
        (
            HK_PERMIT,
            IdKind::HongKongResidencePermit,
            date(1995, 8, 15),
        ),
        (MACAO_PERMIT, IdKind::MacaoResidencePermit, date(1988, 1, 1)),
        (
            TAIWAN_PERMIT,
            IdKind::TaiwanResidencePermit,
            date(1992, 6, 30),
        ),
        (
            FOREIGN_ID,
            IdKind::ForeignPermanentResidentId,
            date(1990, 1, 1),
        ),
    ];
    for (raw, kind, birth) in cases {
        let id = PersonId::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(id.kind(), kind, "{raw}");
        assert_eq!(id.birth_date(), Some(birth), "{raw}");
        assert_eq!(
            CitizenId::parse(raw).unwrap_err(),
            IdError::WrongKind {
                expected: IdKind::CitizenId,
                found: kind
            }
        );
    }
}

#[test]
fn spec_4_residence_permit_prefix_must_be_exactly_x10000() {
    for first17 in [
        "81000119950815002",
        "81440519950815002",
        "84000019950815002",
    ] {
        let raw = with_check(first17);
        assert_eq!(code_of(&raw), "ID_REGION", "{raw}");
    }
}

#[test]
fn spec_4_foreign_id_needs_a_province_and_a_nationality() {
    assert_eq!(code_of(&with_check("99984019900101001")), "ID_REGION");
    assert_eq!(
        PersonId::parse(&with_check("94400019900101001")).unwrap_err(),
        IdError::Region(RegionProblem::Nationality)
    );
}

#[test]
fn spec_4_travel_permits() {
    for raw in ["H12345678", "M87654321", " h12345678 "] {
        let id = PersonId::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(id.kind(), IdKind::HkMacaoTravelPermit);
        assert_eq!(id.birth_date(), None);
        assert_eq!(id.sex(), None);
        assert_eq!(id.age_on(date(2026, 1, 1)), None);
    }
    assert_eq!(
        PersonId::parse(" h12345678 ").unwrap().as_str(),
        "H12345678"
    );
    let tw = PersonId::parse("12345678").unwrap();
    assert_eq!(tw.kind(), IdKind::TaiwanTravelPermit);
    assert_eq!(tw.masked(), "1*****78");

    assert_eq!(
        PersonId::parse("A12345678").unwrap_err(),
        IdError::InvalidChar {
            position: 1,
            expected: Expected::HOrM
        }
    );
    assert_eq!(code_of("H1234567A"), "ID_FORMAT");
    assert_eq!(code_of("1234567A"), "ID_FORMAT");
    assert_eq!(code_of("H123456789"), "ID_LENGTH"); // 10 characters
    assert_eq!(code_of("123456789"), "ID_FORMAT"); // 9 characters: H or M first
    assert_eq!(code_of("1234567"), "ID_LENGTH");
    assert_eq!(code_of("H1234567"), "ID_FORMAT"); // 8 characters: a Taiwan permit is all digits
}

#[test]
fn spec_4_hk_macao_permit_is_h_or_m_plus_8_digits_the_old_11_character_form_is_refused() {
    // The 1999 card's number: lifelong number + reissue count. Refused, with the way out.
    for raw in ["H1234567801", "M8765432100"] {
        let e = PersonId::parse(raw).unwrap_err();
        assert_eq!(e, IdError::LegacyHkMacaoPermit, "{raw}");
        assert_eq!(e.code(), "ID_LEGACY");
        let text = e.to_string();
        assert!(
            text.contains("前9位") && text.contains("H或M加8位"),
            "{text}"
        );
        assert!(
            !text.contains(raw),
            "S12: the message never repeats the number"
        );
    }
    // An 11-character number that is not even the old form says what is wrong with it.
    assert_eq!(
        PersonId::parse("A1234567801").unwrap_err(),
        IdError::InvalidChar {
            position: 1,
            expected: Expected::HOrM
        }
    );
    assert_eq!(code_of("H12345678A1"), "ID_FORMAT");
    // Its first 9 characters are the current number of the same person.
    assert_eq!(
        PersonId::parse("H12345678").unwrap().kind(),
        IdKind::HkMacaoTravelPermit
    );
    let len = PersonId::parse("H123").unwrap_err().to_string();
    assert!(len.contains("9位（H或M加8位数字）"), "{len}");
}

#[test]
fn spec_4_lowercase_x_and_surrounding_whitespace_are_accepted() {
    let id = PersonId::parse("  11010519491231002x\t").unwrap();
    assert_eq!(id.as_str(), GB_11643_SAMPLE);
    // The ideographic space is whitespace too, at the ends.
    assert_eq!(
        PersonId::parse("\u{3000}11010519491231002X\u{3000}")
            .unwrap()
            .as_str(),
        GB_11643_SAMPLE
    );
}

#[test]
fn r_val_1_wrong_lengths_are_named() {
    let e17 = PersonId::parse(&GB_11643_SAMPLE[..17]).unwrap_err();
    assert_eq!(e17, IdError::Length { len: 17 });
    assert!(e17.to_string().contains("17位"));
    let e19 = PersonId::parse(&format!("{GB_11643_SAMPLE}1")).unwrap_err();
    assert_eq!(e19, IdError::Length { len: 19 });
    assert_eq!(code_of(""), "ID_EMPTY");
    assert_eq!(code_of("   "), "ID_EMPTY");
    assert_eq!(code_of("1234567"), "ID_LENGTH");
}

#[test]
fn r_val_1_full_width_characters_are_refused_with_a_clear_message() {
    let err = PersonId::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap_err();
    assert_eq!(err, IdError::FullWidth { position: 1 });
    assert_eq!(err.code(), "ID_FULL_WIDTH");
    assert!(err.to_string().contains("全角"));
    assert!(err.to_string().contains("full-width"));
    // One full-width character in an otherwise good number, and a full-width X.
    assert_eq!(
        PersonId::parse("1101051949１231002X").unwrap_err(),
        IdError::FullWidth { position: 11 }
    );
    assert_eq!(
        PersonId::parse("11010519491231002Ｘ").unwrap_err(),
        IdError::FullWidth { position: 18 }
    );
    assert_eq!(
        PersonId::parse("110105\u{3000}19491231002X").unwrap_err(),
        IdError::FullWidth { position: 7 }
    );
}

#[test]
fn r_val_1_inner_spaces_and_other_characters_are_refused() {
    assert_eq!(
        PersonId::parse("110105 19491231002X").unwrap_err(),
        IdError::Whitespace { position: 7 }
    );
    assert_eq!(
        PersonId::parse("110105-19491231002X").unwrap_err(),
        IdError::InvalidChar {
            position: 7,
            expected: Expected::AsciiDigitOrLetter
        }
    );
    assert_eq!(code_of("身份证号码"), "ID_FORMAT");
    assert_eq!(
        PersonId::parse("1101051949123100XX").unwrap_err(),
        IdError::InvalidChar {
            position: 17,
            expected: Expected::Digit
        }
    );
    assert_eq!(
        PersonId::parse("11010519491231002A").unwrap_err(),
        IdError::InvalidChar {
            position: 18,
            expected: Expected::DigitOrX
        }
    );
}

#[test]
fn spec_4_region_must_be_a_province_and_not_a_bare_province() {
    for prefix in ["000000", "100105", "160105", "710105", "990105", "470105"] {
        let raw = with_check(&format!("{prefix}19900307123"));
        assert_eq!(code_of(&raw), "ID_REGION", "{raw}");
    }
    let bare = with_check("44000019900307123");
    assert_eq!(
        PersonId::parse(&bare).unwrap_err(),
        IdError::Region(RegionProblem::BareProvince)
    );
    for province in [
        "11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65",
    ] {
        let raw = with_check(&format!("{province}010519900307123"));
        assert!(PersonId::parse(&raw).is_ok(), "{raw}");
    }
}

#[test]
fn spec_4_birth_date_must_be_a_real_date_in_range() {
    for birth in [
        "19900230", "19901301", "19900001", "19900100", "18991231", "21010101",
    ] {
        let raw = with_check(&format!("440105{birth}123"));
        assert_eq!(code_of(&raw), "ID_BIRTH_DATE", "{raw}");
    }
    for birth in ["19000101", "21001231"] {
        assert!(PersonId::parse(&with_check(&format!("440105{birth}123"))).is_ok());
    }
}

#[test]
fn spec_4_feb_29_birth_date_only_in_leap_years() {
    assert!(PersonId::parse(&with_check("44010520000229123")).is_ok()); // 2000: leap
    assert!(PersonId::parse(&with_check("44010520240229123")).is_ok());
    assert_eq!(code_of(&with_check("44010519000229123")), "ID_BIRTH_DATE"); // 1900: not
    assert_eq!(code_of(&with_check("44010520230229123")), "ID_BIRTH_DATE");
    assert_eq!(code_of(&with_check("44010521000229123")), "ID_BIRTH_DATE"); // 2100: not
}

#[test]
fn spec_4_age_on_birthday_and_day_before() {
    let id = PersonId::parse("440105201003050311").unwrap();
    assert_eq!(id.age_on(date(2026, 3, 4)), Some(15));
    assert_eq!(id.age_on(date(2026, 3, 5)), Some(16));
    assert_eq!(id.age_on(date(2010, 3, 4)), None);
    let leap = CitizenId::parse("440105200802290026").unwrap();
    assert_eq!(leap.birth_date(), date(2008, 2, 29));
    assert_eq!(leap.sex(), Sex::Female);
    assert_eq!(leap.age_on(date(2025, 2, 27)), Some(16));
    assert_eq!(leap.age_on(date(2025, 2, 28)), Some(17));
    assert_eq!(leap.age_on(date(2028, 2, 28)), Some(19));
    assert_eq!(leap.age_on(date(2028, 2, 29)), Some(20));
}

#[test]
fn spec_4_legacy_15_character_numbers_get_their_own_message() {
    let e = PersonId::parse("440105900307123").unwrap_err();
    assert_eq!(e, IdError::Legacy { foreign: false });
    assert_eq!(e.code(), "ID_LEGACY");
    assert_eq!(
        PersonId::parse("USA440090030712").unwrap_err(),
        IdError::Legacy { foreign: true }
    );
    assert_eq!(code_of("US4440090030712"), "ID_LENGTH");
}

#[test]
fn s17_checksum_error_does_not_reveal_the_expected_character() {
    let err = PersonId::parse("110105194912310021").unwrap_err();
    assert_eq!(
        err,
        IdError::Checksum {
            expected: 'X',
            found: '1'
        }
    );
    assert_eq!(err.code(), "ID_CHECKSUM");
    assert!(!err.to_string().contains('X'));
}

/// S17: every single-character change of a valid 18-character number, at any position, to
/// any other character the position allows (digits; digits and X at the end), is refused.
#[test]
fn s17_single_char_change_of_citizen_id_rejected() {
    for raw in all_18_char_samples() {
        for pos in 0..18 {
            let alphabet: &[u8] = if pos == 17 {
                b"0123456789X"
            } else {
                b"0123456789"
            };
            for &c in alphabet {
                if c == raw.as_bytes()[pos] {
                    continue;
                }
                let mut changed = raw.as_bytes().to_vec();
                changed[pos] = c;
                let changed = String::from_utf8(changed).unwrap();
                assert!(
                    PersonId::parse(&changed).is_err(),
                    "{raw} → {changed} was accepted"
                );
            }
        }
    }
}

#[test]
fn r_pii_1_masks_citizen_id() {
    let id = PersonId::parse("440105199003071235").unwrap();
    assert_eq!(id.masked(), "4401**********1235");
    assert_eq!(
        PersonId::parse(GB_11643_SAMPLE).unwrap().masked(),
        "1101**********002X"
    );
    assert_eq!(PersonId::parse("H12345678").unwrap().masked(), "H******78");
    assert_eq!(mask_id(" 440105199003071235 "), "4401**********1235");
}

#[test]
fn r_pii_1_display_and_debug_never_print_the_full_number() {
    for raw in all_18_char_samples() {
        let id = PersonId::parse(raw).unwrap();
        let shown = [format!("{id}"), format!("{id:?}"), format!("{id:#?}")];
        for text in &shown {
            assert!(!text.contains(raw), "{text}");
            assert!(!text.contains(&raw[6..14]), "birth date in {text}");
        }
        assert_eq!(shown[0], id.masked());
        if let Ok(citizen) = CitizenId::parse(raw) {
            assert!(!format!("{citizen} {citizen:?}").contains(&raw[6..14]));
        }
    }
}

#[test]
fn r_val_1_every_error_has_a_code_and_a_bilingual_message() {
    let errors = [
        IdError::Empty,
        IdError::FullWidth { position: 3 },
        IdError::Whitespace { position: 3 },
        IdError::InvalidChar {
            position: 3,
            expected: Expected::Digit,
        },
        IdError::InvalidChar {
            position: 1,
            expected: Expected::HOrM,
        },
        IdError::Length { len: 17 },
        IdError::Legacy { foreign: false },
        IdError::Legacy { foreign: true },
        IdError::Region(RegionProblem::Province("99".into())),
        IdError::Region(RegionProblem::BareProvince),
        IdError::Region(RegionProblem::ResidencePermitPrefix),
        IdError::Region(RegionProblem::Nationality),
        IdError::BirthDate,
        IdError::Checksum {
            expected: 'X',
            found: '1',
        },
        IdError::WrongKind {
            expected: IdKind::CitizenId,
            found: IdKind::HkMacaoTravelPermit,
        },
    ];
    for e in errors {
        let text = e.to_string();
        let (zh, en) = text.split_once(" / ").unwrap_or_else(|| panic!("{text}"));
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{text}"
        );
        assert!(en.is_ascii(), "{text}");
        assert!(e.code().starts_with("ID_"));
    }
}

#[test]
fn id_kind_codes_match_serde_names() {
    for kind in IdKind::ALL {
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{}\"", kind.code())
        );
        assert!(!kind.label_zh().is_empty());
    }
}

#[test]
fn serde_round_trips_through_parse() {
    let id = PersonId::parse("11010519491231002x").unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(json, "\"11010519491231002X\"");
    let back: PersonId = serde_json::from_str(&json).unwrap();
    assert_eq!(back, id);
    let lower: PersonId = serde_json::from_str("\" 11010519491231002x \"").unwrap();
    assert_eq!(lower, id);
    let err = serde_json::from_str::<PersonId>("\"110105194912310021\"").unwrap_err();
    assert!(err.to_string().contains("校验位"));
    let citizen: CitizenId = serde_json::from_str("\"440105199003071235\"").unwrap();
    assert_eq!(citizen.as_person_id().kind(), IdKind::CitizenId);
    assert!(serde_json::from_str::<CitizenId>("\"H12345678\"").is_err());
    assert_eq!(
        "H12345678".parse::<PersonId>().unwrap().as_str(),
        "H12345678"
    );
    let person: PersonId = citizen.clone().into();
    assert_eq!(CitizenId::try_from(person).unwrap(), citizen);
}

/// A valid 18-character number of any kind with a birth date in 1900–2100.
fn valid_18() -> impl Strategy<Value = String> {
    let province = prop::sample::select(vec![
        11u8, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
        51, 52, 53, 54, 61, 62, 63, 64, 65,
    ]);
    let prefix = prop_oneof![
        (province.clone(), 0u32..10_000)
            .prop_filter("not a bare province", |(_, rest)| *rest != 0)
            .prop_map(|(p, rest)| format!("{p:02}{rest:04}")),
        prop::sample::select(vec!["810000", "820000", "830000"]).prop_map(str::to_owned),
        (province, 1u32..1000).prop_map(|(p, nat)| format!("9{p:02}{nat:03}")),
    ];
    let days = 0i64..=(date(2100, 12, 31) - date(1900, 1, 1)).num_days();
    (prefix, days, 0u32..1000).prop_map(|(prefix, days, seq)| {
        let birth = date(1900, 1, 1) + chrono::Duration::days(days);
        with_check(&format!("{prefix}{}{seq:03}", birth.format("%Y%m%d")))
    })
}

proptest! {
    #[test]
    fn s17_generated_valid_ids_always_parse(raw in valid_18()) {
        let id = PersonId::parse(&raw).unwrap();
        prop_assert_eq!(id.as_str(), raw.as_str());
        prop_assert!(id.birth_date().is_some());
        prop_assert!(id.sex().is_some());
        let lower = raw.to_ascii_lowercase();
        prop_assert_eq!(PersonId::parse(&format!(" {lower} ")).unwrap(), id);
    }

    #[test]
    fn s17_single_char_change_of_any_valid_id_rejected(
        raw in valid_18(),
        pos in 0usize..18,
        pick in 0usize..10,
    ) {
        let alphabet: &[u8] = if pos == 17 { b"0123456789X" } else { b"0123456789" };
        let others: Vec<u8> =
            alphabet.iter().copied().filter(|&c| c != raw.as_bytes()[pos]).collect();
        let mut changed = raw.clone().into_bytes();
        changed[pos] = others[pick % others.len()];
        let changed = String::from_utf8(changed).unwrap();
        prop_assert!(PersonId::parse(&changed).is_err(), "{} → {}", raw, changed);
    }

    /// S17: whatever comes in, parse answers and never panics.
    #[test]
    fn s17_parse_never_panics_on_arbitrary_text(raw in "\\PC{0,24}") {
        let _ = PersonId::parse(&raw);
        let _ = CitizenId::parse(&raw);
    }

    #[test]
    fn s17_parse_never_panics_on_id_like_text(raw in "[0-9Xx HhMm９１Ｘ　\\-]{0,20}") {
        if let Ok(id) = PersonId::parse(&raw) {
            prop_assert!(id.as_str().is_ascii());
            let _ = id.birth_date();
            let _ = id.age_on(date(2026, 3, 2));
        }
    }

    #[test]
    fn r_val_1_full_width_digits_are_always_refused(
        digits in "[０-９]{1,18}",
    ) {
        let err = PersonId::parse(&digits).unwrap_err();
        prop_assert_eq!(err.code(), "ID_FULL_WIDTH");
    }

    #[test]
    fn r_pii_1_masked_valid_id_reveals_at_most_8_characters(raw in valid_18()) {
        let id = PersonId::parse(&raw).unwrap();
        let masked = id.masked();
        prop_assert_eq!(masked.len(), 18);
        prop_assert_eq!(masked.chars().filter(|c| *c != '*').count(), 8);
        prop_assert_eq!(&masked[..4], &raw[..4]);
        prop_assert_eq!(&masked[14..], &raw[14..]);
        prop_assert_eq!(format!("{id}"), masked);
    }
}
