//! Unified social credit codes (统一社会信用代码, GB 32100-2015) of institutions (SPEC.md §4).
//!
//! | characters | meaning | checked |
//! |---|---|---|
//! | 1 | registration authority (登记管理部门) | one of [`AUTHORITIES`] |
//! | 2 | organisation category (机构类别) | one of that authority's categories |
//! | 3–8 | region of the registering office (GB/T 2260) | 6 digits, a province code or `100000` (national) |
//! | 9–17 | organisation identifier (主体标识码, GB 11714) | charset only |
//! | 18 | check character | weights 1 3 9 27 … 28, check = (31 − sum mod 31) mod 31 |
//!
//! The charset is `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z). Input is trimmed and
//! upper-cased; nothing else is repaired.
//!
//! Some genuine codes issued early fail the checksum. [`CreditCode::parse`] refuses them (the
//! `peixun check credit-code` command); [`CreditCode::parse_lenient`] returns them with a
//! [`ChecksumWarning`] that the centre may confirm in the directory form. Every other fault is an
//! error in both. Deserialising is lenient too, so that a confirmed code read back from storage
//! still loads: an API handler that takes a code from a user calls `parse`/`parse_lenient` itself.
//!
//! The GB 11714 check character inside characters 9–17 is not enforced: SPEC.md §4 does not ask
//! for it and the directory holds codes whose identifier was not assigned under GB 11714.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use crate::ids::{is_full_width, is_province_code};

/// The 31 characters of GB 32100, in value order (a character's value is its index).
pub const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A registration authority (character 1) with its organisation categories (character 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authority {
    pub code: char,
    pub label_zh: &'static str,
    /// (category code, label).
    pub categories: &'static [(char, &'static str)],
}

const fn authority(
    code: char,
    label_zh: &'static str,
    categories: &'static [(char, &'static str)],
) -> Authority {
    Authority {
        code,
        label_zh,
        categories,
    }
}

/// Registration authorities and their organisation categories: GB 32100-2015 Table 1 (1–9, A, N,
/// Y) and the later additions of the national code service (G, J, Q and extra categories). The
/// list leans to accepting: refusing a genuine institution costs more than letting an unusual
/// code through, and the checksum still guards against typos.
pub const AUTHORITIES: &[Authority] = &[
    authority(
        '1',
        "机构编制",
        &[
            ('1', "机关"),
            ('2', "事业单位"),
            ('3', "中央编办直接管理机构编制的群众团体"),
            ('9', "其他"),
        ],
    ),
    authority('2', "外交", &[('1', "外国常驻新闻机构"), ('9', "其他")]),
    authority(
        '3',
        "司法行政",
        &[
            ('1', "律师执业机构"),
            ('2', "公证处"),
            ('3', "基层法律服务所"),
            ('4', "司法鉴定机构"),
            ('5', "仲裁委员会"),
            ('6', "商事调解组织"),
            ('9', "其他"),
        ],
    ),
    authority('4', "文化", &[('1', "外国在华文化中心"), ('9', "其他")]),
    authority(
        '5',
        "民政",
        &[
            ('1', "社会团体"),
            ('2', "民办非企业单位"),
            ('3', "基金会"),
            ('4', "村民委员会"),
            ('5', "居民委员会"),
            ('9', "其他"),
        ],
    ),
    authority(
        '6',
        "旅游",
        &[
            ('1', "外国旅游部门常驻代表机构"),
            ('2', "港澳台地区旅游部门常驻内地（大陆）代表机构"),
            ('9', "其他"),
        ],
    ),
    authority(
        '7',
        "宗教",
        &[('1', "宗教活动场所"), ('2', "宗教院校"), ('9', "其他")],
    ),
    authority(
        '8',
        "工会",
        &[('1', "基层工会"), ('2', "非法人工会组织"), ('9', "其他")],
    ),
    authority(
        '9',
        "工商（市场监管）",
        &[
            ('1', "企业"),
            ('2', "个体工商户"),
            ('3', "农民专业合作社"),
            ('9', "其他"),
        ],
    ),
    authority(
        'A',
        "中央军委改革和编制办公室",
        &[('1', "军队事业单位"), ('9', "其他")],
    ),
    authority(
        'G',
        "公安（境外非政府组织）",
        &[('1', "境外非政府组织代表机构"), ('9', "其他")],
    ),
    authority('J', "住房城乡建设", &[('1', "业主大会"), ('9', "其他")]),
    authority(
        'N',
        "农业农村",
        &[
            ('1', "组级集体经济组织"),
            ('2', "村级集体经济组织"),
            ('3', "乡镇级集体经济组织"),
            ('9', "其他"),
        ],
    ),
    authority(
        'Q',
        "侨联",
        &[
            ('1', "区县级侨联组织"),
            ('2', "乡镇级侨联组织"),
            ('3', "村级侨联组织"),
            ('9', "其他"),
        ],
    ),
    authority('Y', "其他", &[('1', "其他")]),
];

fn value_of(c: u8) -> Option<u32> {
    CHARSET.bytes().position(|x| x == c).map(|v| v as u32)
}

/// The GB 32100 check character for the first 17 characters of a credit code.
///
/// Returns `None` unless `first17` is exactly 17 characters of [`CHARSET`] (upper case). Used by
/// the parser and by the demo data generator to make valid codes.
///
/// ```
/// assert_eq!(peixun_domain::credit_code::check_char("91350100M000100Y4"), Some('3'));
/// ```
pub fn check_char(first17: &str) -> Option<char> {
    let chars = first17.as_bytes();
    if chars.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&c, w) in chars.iter().zip(WEIGHTS) {
        sum += value_of(c)? * w;
    }
    let value = (31 - sum % 31) % 31;
    CHARSET.chars().nth(value as usize)
}

/// Why a credit code was refused. `code()` is stable (API, R-VAL-1); `Display` is "中文 / English".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CreditCodeError {
    /// Nothing but whitespace.
    Empty,
    /// A full-width character at this 1-based position.
    FullWidth { position: usize },
    /// A space inside the code at this 1-based position.
    Whitespace { position: usize },
    /// A character outside [`CHARSET`] at this 1-based position.
    Charset { position: usize, found: char },
    /// Not 18 characters.
    Length { len: usize },
    /// Character 1 is not a registration authority code.
    Authority { found: char },
    /// Character 2 is not a category of the authority in character 1.
    Category { authority: char, found: char },
    /// Characters 3–8 are not a region code.
    Region,
    /// The check character does not match (only [`CreditCode::parse`]; the lenient parse warns).
    Checksum { expected: char, found: char },
}

impl CreditCodeError {
    /// The stable code for the API (R-VAL-1).
    pub fn code(&self) -> &'static str {
        match self {
            CreditCodeError::Empty => "CREDIT_CODE_EMPTY",
            CreditCodeError::FullWidth { .. } => "CREDIT_CODE_FULL_WIDTH",
            CreditCodeError::Whitespace { .. } | CreditCodeError::Charset { .. } => {
                "CREDIT_CODE_CHARSET"
            }
            CreditCodeError::Length { .. } => "CREDIT_CODE_LENGTH",
            CreditCodeError::Authority { .. } => "CREDIT_CODE_AUTHORITY",
            CreditCodeError::Category { .. } => "CREDIT_CODE_CATEGORY",
            CreditCodeError::Region => "CREDIT_CODE_REGION",
            CreditCodeError::Checksum { .. } => "CREDIT_CODE_CHECKSUM",
        }
    }
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreditCodeError::Empty => {
                f.write_str("统一社会信用代码为空 / the unified social credit code is empty")
            }
            CreditCodeError::FullWidth { position } => write!(
                f,
                "第{position}位是全角字符，请改用半角数字和字母 / character {position} is \
                 full-width; use half-width (ASCII) digits and letters"
            ),
            CreditCodeError::Whitespace { position } => write!(
                f,
                "第{position}位是空格，代码中间不能有空格 / character {position} is a space; \
                 remove spaces inside the code"
            ),
            CreditCodeError::Charset { position, found } => write!(
                f,
                "第{position}位“{found}”不是统一社会信用代码的字符（只用数字和除 I、O、S、V、Z \
                 以外的大写字母） / character {position} \"{found}\" is not allowed (digits and \
                 capital letters except I, O, S, V, Z)"
            ),
            CreditCodeError::Length { len } => write!(
                f,
                "统一社会信用代码应为18位，所填为{len}位 / a unified social credit code has 18 \
                 characters, this has {len}"
            ),
            CreditCodeError::Authority { found } => write!(
                f,
                "第1位“{found}”不是登记管理部门代码 / character 1 \"{found}\" is not a \
                 registration authority code"
            ),
            CreditCodeError::Category { authority, found } => write!(
                f,
                "第2位“{found}”不是登记管理部门“{authority}”下的机构类别代码 / character 2 \
                 \"{found}\" is not an organisation category of authority \"{authority}\""
            ),
            CreditCodeError::Region => f.write_str(
                "第3–8位应为登记管理机关的行政区划代码（6位数字） / characters 3-8 should be the \
                 6-digit region code of the registering office",
            ),
            CreditCodeError::Checksum { expected, found } => write!(
                f,
                "校验位（第18位）错误：按 GB 32100 计算应为 {expected}，实为 {found} / check \
                 character (18th) wrong: GB 32100 gives {expected}, the code has {found}"
            ),
        }
    }
}

impl std::error::Error for CreditCodeError {}

/// A credit code whose only fault is its check character: the lenient parse lets the centre
/// confirm it (SPEC.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChecksumWarning {
    pub expected: char,
    pub found: char,
}

impl ChecksumWarning {
    /// Same code as the strict error, so the API names the rule once.
    pub fn code(&self) -> &'static str {
        "CREDIT_CODE_CHECKSUM"
    }
}

impl fmt::Display for ChecksumWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ChecksumWarning { expected, found } = self;
        write!(
            f,
            "校验位（第18位）与计算值不符（应为 {expected}，实为 {found}）；部分早期赋码的真实代码\
             如此，请与营业执照等登记证书核对后由区培训中心确认 / the check character (18th) does \
             not match (GB 32100 gives {expected}, the code has {found}); some genuine early codes \
             do this: compare with the registration certificate, then the centre may confirm it"
        )
    }
}

/// A unified social credit code that is structurally valid. Its checksum holds unless it came
/// from [`CreditCode::parse_lenient`] or deserialisation: see [`CreditCode::checksum_ok`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    /// Strict: every check of GB 32100, the checksum included.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        match CreditCode::parse_lenient(input)? {
            (code, None) => Ok(code),
            (_, Some(ChecksumWarning { expected, found })) => {
                Err(CreditCodeError::Checksum { expected, found })
            }
        }
    }

    /// Like [`CreditCode::parse`], but a wrong check character alone is a warning, not an error.
    pub fn parse_lenient(
        input: &str,
    ) -> Result<(CreditCode, Option<ChecksumWarning>), CreditCodeError> {
        let value = normalise(input)?;
        let b = value.as_bytes();
        let authority = char::from(b[0]);
        let Some(Authority { categories, .. }) = AUTHORITIES.iter().find(|a| a.code == authority)
        else {
            return Err(CreditCodeError::Authority { found: authority });
        };
        let category = char::from(b[1]);
        if !categories.iter().any(|(c, _)| *c == category) {
            return Err(CreditCodeError::Category {
                authority,
                found: category,
            });
        }
        let region = &value[2..8];
        if !region.bytes().all(|c| c.is_ascii_digit())
            || !(is_province_code(&b[2..4]) || region == "100000")
        {
            return Err(CreditCodeError::Region);
        }
        let expected = check_char(&value[..17]).unwrap_or('?');
        let found = char::from(b[17]);
        let warning = (expected != found).then_some(ChecksumWarning { expected, found });
        Ok((CreditCode(value), warning))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the check character matches (always, for a code from [`CreditCode::parse`]).
    pub fn checksum_ok(&self) -> bool {
        check_char(&self.0[..17]) == self.0.chars().nth(17)
    }

    /// The name of the registration authority (character 1), e.g. "工商（市场监管）".
    pub fn authority_label(&self) -> &'static str {
        self.labels().0
    }

    /// The name of the organisation category (character 2), e.g. "企业".
    pub fn category_label(&self) -> &'static str {
        self.labels().1
    }

    /// Characters 3–8: the region code of the registering office.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Characters 9–17: the organisation identifier (主体标识码).
    pub fn organisation_identifier(&self) -> &str {
        &self.0[8..17]
    }

    fn labels(&self) -> (&'static str, &'static str) {
        let b = self.0.as_bytes();
        AUTHORITIES
            .iter()
            .find(|a| a.code == char::from(b[0]))
            .and_then(|a| {
                a.categories
                    .iter()
                    .find(|(c, _)| *c == char::from(b[1]))
                    .map(|(_, category)| (a.label_zh, *category))
            })
            .unwrap_or(("", ""))
    }
}

/// Trims, upper-cases, checks characters and length. The result is 18 characters of [`CHARSET`].
fn normalise(input: &str) -> Result<String, CreditCodeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CreditCodeError::Empty);
    }
    let mut len = 0;
    for (i, c) in trimmed.chars().enumerate() {
        let position = i + 1;
        len = position;
        if is_full_width(c) {
            return Err(CreditCodeError::FullWidth { position });
        }
        if c.is_whitespace() {
            return Err(CreditCodeError::Whitespace { position });
        }
        let upper = c.to_ascii_uppercase();
        if !upper.is_ascii() || value_of(upper as u8).is_none() {
            return Err(CreditCodeError::Charset {
                position,
                found: upper,
            });
        }
    }
    if len != 18 {
        return Err(CreditCodeError::Length { len });
    }
    Ok(trimmed.to_ascii_uppercase())
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;
    /// Strict, like [`CreditCode::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl TryFrom<&str> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        CreditCode::parse(s)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    /// Lenient (see the module documentation): a stored, confirmed code must load again.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CreditCode::parse_lenient(&raw)
            .map(|(code, _)| code)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Valid sample codes (verified here; the demo data generator may use them).
    const VALID: [&str; 6] = [
        "91350100M000100Y43", // the commonly cited sample
        "91440105MA5ABCDE1F", // enterprise, Haizhu
        "91440105618412340R", // enterprise, Haizhu
        "52440105MJL1234563", // 民办非企业单位, Haizhu
        "12440105455123456E", // 事业单位, Haizhu
        "Y1440105000000001R", // other
    ];

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    fn code_of(input: &str) -> &'static str {
        CreditCode::parse(input).unwrap_err().code()
    }

    #[test]
    fn spec_4_sample_credit_codes_are_valid() {
        for raw in VALID {
            let code = CreditCode::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(code.as_str(), raw);
            assert!(code.checksum_ok());
            assert_eq!(with_check(&raw[..17]), raw);
            assert_eq!(CreditCode::parse_lenient(raw).unwrap(), (code, None));
        }
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.authority_label(), "工商（市场监管）");
        assert_eq!(code.category_label(), "企业");
        assert_eq!(code.region_code(), "350100");
        assert_eq!(code.organisation_identifier(), "M000100Y4");
        assert_eq!(
            CreditCode::parse("52440105MJL1234563")
                .unwrap()
                .category_label(),
            "民办非企业单位"
        );
    }

    #[test]
    fn spec_4_weights_are_powers_of_three_mod_31() {
        for (i, w) in WEIGHTS.iter().enumerate() {
            assert_eq!(*w, 3u32.pow(i as u32) % 31, "position {}", i + 1);
        }
        assert_eq!(CHARSET.len(), 31);
        for excluded in ['I', 'O', 'S', 'V', 'Z'] {
            assert!(!CHARSET.contains(excluded));
        }
    }

    #[test]
    fn spec_4_lowercase_and_surrounding_whitespace_are_accepted() {
        let code = CreditCode::parse("  91350100m000100y43\n").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn spec_4_bad_check_character_is_an_error_strictly_and_a_warning_leniently() {
        let raw = "91350100M000100Y44";
        let err = CreditCode::parse(raw).unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::Checksum {
                expected: '3',
                found: '4'
            }
        );
        assert_eq!(err.code(), "CREDIT_CODE_CHECKSUM");
        let (code, warning) = CreditCode::parse_lenient(raw).unwrap();
        assert_eq!(code.as_str(), raw);
        assert!(!code.checksum_ok());
        let warning = warning.unwrap();
        assert_eq!(warning.code(), "CREDIT_CODE_CHECKSUM");
        assert_eq!(
            warning,
            ChecksumWarning {
                expected: '3',
                found: '4'
            }
        );
        assert!(warning.to_string().contains("确认"));
    }

    #[test]
    fn spec_4_lenient_parse_still_refuses_every_other_fault() {
        let cases = [
            ("91350100M000100Y4", "CREDIT_CODE_LENGTH"),
            ("91350100M000100Y433", "CREDIT_CODE_LENGTH"),
            ("91350100M000100O43", "CREDIT_CODE_CHARSET"),
            ("B1350100M000100Y43", "CREDIT_CODE_AUTHORITY"),
            ("94350100M000100Y43", "CREDIT_CODE_CATEGORY"),
            ("Y2350100M000100Y43", "CREDIT_CODE_CATEGORY"),
            ("91990100M000100Y43", "CREDIT_CODE_REGION"),
            ("91A50100M000100Y43", "CREDIT_CODE_REGION"),
            ("９1350100M000100Y43", "CREDIT_CODE_FULL_WIDTH"),
            ("91350100 M000100Y43", "CREDIT_CODE_CHARSET"),
            ("", "CREDIT_CODE_EMPTY"),
        ];
        for (raw, code) in cases {
            assert_eq!(
                CreditCode::parse_lenient(raw).unwrap_err().code(),
                code,
                "{raw}"
            );
            assert_eq!(code_of(raw), code, "{raw}");
        }
    }

    #[test]
    fn spec_4_excluded_letters_are_named() {
        for (i, c) in ['I', 'O', 'S', 'V', 'Z'].into_iter().enumerate() {
            let mut raw = "91350100M000100Y43".to_owned();
            raw.replace_range(9 + i..10 + i, &c.to_string());
            let err = CreditCode::parse(&raw).unwrap_err();
            assert_eq!(
                err,
                CreditCodeError::Charset {
                    position: 10 + i,
                    found: c
                }
            );
            assert!(err.to_string().contains("I、O、S、V、Z"));
        }
    }

    #[test]
    fn spec_4_national_region_and_every_authority_category_pair_accepted() {
        assert!(CreditCode::parse(&with_check("11100000000013127")).is_ok());
        for a in AUTHORITIES {
            for (category, _) in a.categories {
                let raw = with_check(&format!("{}{category}440105MA5ABCDE1", a.code));
                let code = CreditCode::parse(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
                assert!(!code.authority_label().is_empty());
                assert!(!code.category_label().is_empty());
            }
        }
    }

    #[test]
    fn r_val_1_every_error_has_a_code_and_a_bilingual_message() {
        let errors = [
            CreditCodeError::Empty,
            CreditCodeError::FullWidth { position: 2 },
            CreditCodeError::Whitespace { position: 2 },
            CreditCodeError::Charset {
                position: 2,
                found: 'O',
            },
            CreditCodeError::Length { len: 17 },
            CreditCodeError::Authority { found: 'B' },
            CreditCodeError::Category {
                authority: '9',
                found: '4',
            },
            CreditCodeError::Region,
            CreditCodeError::Checksum {
                expected: '3',
                found: '4',
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
            assert!(e.code().starts_with("CREDIT_CODE_"));
        }
        let warning = ChecksumWarning {
            expected: '3',
            found: '4',
        }
        .to_string();
        assert!(warning.contains(" / "));
    }

    #[test]
    fn check_char_refuses_anything_but_17_charset_characters() {
        assert_eq!(check_char("91350100M000100Y"), None);
        assert_eq!(check_char("91350100M000100Y43"), None);
        assert_eq!(check_char("91350100M000100I4"), None);
        assert_eq!(check_char("91350100m000100Y4"), None);
    }

    /// S17, the algebra: changing the character of value v at position i to v' moves the sum by
    /// w_i·(v' − v) mod 31. 31 is prime, every weight is non-zero mod 31 and 0 < |v' − v| < 31, so
    /// the sum always changes and the check character (a bijection of the sum mod 31) no longer
    /// fits. The change depends only on (i, v, v'), so enumerating them all covers every code.
    #[test]
    fn s17_every_single_substitution_changes_the_sum_mod_31() {
        for w in WEIGHTS {
            for v in 0..31u32 {
                for v2 in 0..31u32 {
                    if v != v2 {
                        assert_ne!((w * v) % 31, (w * v2) % 31);
                    }
                }
            }
        }
        // Adjacent transpositions in the first 17 characters are caught too.
        for pair in WEIGHTS.windows(2) {
            assert_ne!(pair[0], pair[1]);
        }
    }

    /// S17: every single-character change of a valid code to another charset character, at any
    /// position, is refused by `parse`, and `parse_lenient` never accepts it silently.
    #[test]
    fn s17_single_char_change_of_credit_code_rejected() {
        for raw in VALID {
            for pos in 0..18 {
                for c in CHARSET.bytes() {
                    if c == raw.as_bytes()[pos] {
                        continue;
                    }
                    let mut changed = raw.as_bytes().to_vec();
                    changed[pos] = c;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(CreditCode::parse(&changed).is_err(), "{raw} → {changed}");
                    assert!(
                        !matches!(CreditCode::parse_lenient(&changed), Ok((_, None))),
                        "{raw} → {changed} accepted without warning"
                    );
                }
            }
        }
    }

    #[test]
    fn serde_round_trips_and_reads_back_confirmed_codes() {
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"91350100M000100Y43\"");
        assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), code);
        // A code the centre confirmed despite its checksum loads again.
        let confirmed: CreditCode = serde_json::from_str("\"91350100M000100Y44\"").unwrap();
        assert!(!confirmed.checksum_ok());
        // Anything else does not.
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100O43\"").is_err());
        assert_eq!("91350100M000100Y43".parse::<CreditCode>().unwrap(), code);
        assert!("91350100M000100Y44".parse::<CreditCode>().is_err());
    }

    /// A valid code: an authority/category pair from the table, a province region, any identifier.
    fn valid_code() -> impl Strategy<Value = String> {
        let pairs: Vec<String> = AUTHORITIES
            .iter()
            .flat_map(|a| {
                a.categories
                    .iter()
                    .map(move |(c, _)| format!("{}{c}", a.code))
            })
            .collect();
        let province = prop::sample::select(vec![11u8, 31, 44, 46, 50, 65]);
        let ident = prop::collection::vec(prop::sample::select(CHARSET.as_bytes().to_vec()), 9);
        (prop::sample::select(pairs), province, 0u32..10_000, ident).prop_map(
            |(pair, p, rest, ident)| {
                let ident = String::from_utf8(ident).unwrap();
                with_check(&format!("{pair}{p:02}{rest:04}{ident}"))
            },
        )
    }

    proptest! {
        #[test]
        fn s17_generated_valid_codes_always_parse(raw in valid_code()) {
            let code = CreditCode::parse(&raw).unwrap();
            prop_assert_eq!(code.as_str(), raw.as_str());
            prop_assert!(code.checksum_ok());
            let lower = raw.to_ascii_lowercase();
            prop_assert_eq!(CreditCode::parse(&lower).unwrap(), code);
        }

        #[test]
        fn s17_single_char_change_of_any_valid_code_rejected(
            raw in valid_code(),
            pos in 0usize..18,
            pick in 0usize..30,
        ) {
            let others: Vec<u8> =
                CHARSET.bytes().filter(|&c| c != raw.as_bytes()[pos]).collect();
            let mut changed = raw.clone().into_bytes();
            changed[pos] = others[pick];
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} → {}", raw, changed);
            prop_assert!(!matches!(CreditCode::parse_lenient(&changed), Ok((_, None))));
        }

        #[test]
        fn s17_parse_never_panics_on_arbitrary_text(raw in "\\PC{0,24}") {
            let _ = CreditCode::parse(&raw);
            if let Ok((code, _)) = CreditCode::parse_lenient(&raw) {
                let _ = (code.checksum_ok(), code.authority_label(), code.region_code());
            }
        }

        #[test]
        fn s17_parse_never_panics_on_code_like_text(
            raw in "[0-9A-Za-z９Ａ　 ]{0,20}",
        ) {
            if let Ok((code, _)) = CreditCode::parse_lenient(&raw) {
                prop_assert_eq!(code.as_str().len(), 18);
                let _ = (code.category_label(), code.organisation_identifier());
            }
        }
    }
}
