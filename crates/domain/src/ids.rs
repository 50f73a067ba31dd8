//! Identity document numbers of trainees and teachers (SPEC.md §4, R-PII-1, R-VAL-1).
//!
//! Parse, don't validate: a [`PersonId`] exists only if its number passed every check of its kind.
//!
//! | kind | form | checks |
//! |---|---|---|
//! | 居民身份证 (GB 11643-1999) | 18: 6 region, 8 birth date, 3 sequence, check | province-level region, not a bare province code (`xx0000`), real birth date 1900–2100, MOD 11-2 |
//! | 港澳台居民居住证 | 18: `810000` / `820000` / `830000`, then as above | prefix, birth date, MOD 11-2 |
//! | 外国人永久居留身份证 (2023) | 18: `9`, 2 province, 3 nationality, 8 birth date, 3 sequence, check | province, nationality ≠ `000`, birth date, MOD 11-2 |
//! | 港澳居民来往内地通行证 | `H`/`M` + 8 digits | form only: there is no check digit |
//! | 台湾居民来往大陆通行证 | 8 digits | form only: there is no check digit |
//!
//! The travel permits follow SPEC.md §4, checked against the documents themselves:
//! * 港澳居民来往内地通行证: the card of 1999 carried 11 characters, `H`/`M`, an 8-digit lifelong
//!   number (终身号) and a 2-digit reissue count (换证次数, 00 at first issue), as the Ministry of
//!   Public Security's exit-entry bureau published on 2010-03-10 (公安部出入境管理局《港澳居民来往
//!   内地通行证号码规则》, reported by 中国新闻网 that day). The card issued since 2013-01-02 prints
//!   the number as `H`/`M` + the 8-digit lifelong number and shows the reissue count in a field of
//!   its own. The old cards were valid 10 years at most, so none is still valid; the lifelong
//!   number is the same on every card a person ever holds. An 11-character number is therefore
//!   refused with [`IdError::LegacyHkMacaoPermit`], which tells the user to enter its first 9
//!   characters: one person keeps one number across reissues, which duplicate checks rely on.
//! * 台湾居民来往大陆通行证: the card issued since 2015-09-21 carries an 8-digit lifelong number;
//!   the older booklets (10 characters with a letter) have all expired. The guideline names this
//!   document "台湾同胞返乡证", its old colloquial name.
//!
//! Input is trimmed and ASCII letters are upper-cased (`x` → `X`, `h` → `H`). Nothing else is
//! repaired: full-width characters and inner spaces are errors that say so.
//!
//! Not accepted, by decision, each with its own error code so the pages can explain:
//! * the 15-digit first-generation citizen number (invalid since 2013-01-01) — `ID_LEGACY`;
//! * the 15-character foreigners' permanent-residence card of 2004/2017 (3 letters + 12 digits),
//!   still valid until it expires: its check scheme is not published in a standard we could
//!   confirm, so it is refused with `ID_LEGACY` rather than accepted unchecked;
//! * passports (not named in SPEC.md §4).
//!
//! Only the province of a region code is checked: an ID keeps the code of the county where it was
//! issued, and many of those counties no longer exist, so a table of today's codes would refuse
//! real people.
//!
//! [`PersonId`]'s `Display` and `Debug` print the masked number ([`mask_id`]); the full number
//! comes only from [`PersonId::as_str`] (or serde, for storage), so an accidental log line never
//! leaks it (R-PII-1, SECURITY.md S12).

mod age;
mod mask;
mod mod11;

pub use age::{AgeCheck, check_age};
pub use mask::mask_id;
pub use mod11::check_char;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The kind of identity document a [`PersonId`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 居民身份证 (mainland citizens).
    CitizenId,
    /// 港澳台居民居住证, Hong Kong residents (810000…).
    HongKongResidencePermit,
    /// 港澳台居民居住证, Macao residents (820000…).
    MacaoResidencePermit,
    /// 港澳台居民居住证, Taiwan residents (830000…).
    TaiwanResidencePermit,
    /// 外国人永久居留身份证, 2023 version (9…).
    ForeignPermanentResidentId,
    /// 港澳居民来往内地通行证 (H/M…).
    HkMacaoTravelPermit,
    /// 台湾居民来往大陆通行证 (8 digits).
    TaiwanTravelPermit,
}

impl IdKind {
    pub const ALL: [IdKind; 7] = [
        IdKind::CitizenId,
        IdKind::HongKongResidencePermit,
        IdKind::MacaoResidencePermit,
        IdKind::TaiwanResidencePermit,
        IdKind::ForeignPermanentResidentId,
        IdKind::HkMacaoTravelPermit,
        IdKind::TaiwanTravelPermit,
    ];

    /// The stable code used in the database, the API and the CLI (same as the serde name).
    pub fn code(self) -> &'static str {
        match self {
            IdKind::CitizenId => "citizen_id",
            IdKind::HongKongResidencePermit => "hong_kong_residence_permit",
            IdKind::MacaoResidencePermit => "macao_residence_permit",
            IdKind::TaiwanResidencePermit => "taiwan_residence_permit",
            IdKind::ForeignPermanentResidentId => "foreign_permanent_resident_id",
            IdKind::HkMacaoTravelPermit => "hk_macao_travel_permit",
            IdKind::TaiwanTravelPermit => "taiwan_travel_permit",
        }
    }

    /// The document's name as a user sees it.
    pub fn label_zh(self) -> &'static str {
        match self {
            IdKind::CitizenId => "居民身份证",
            IdKind::HongKongResidencePermit => "港澳台居民居住证（香港居民）",
            IdKind::MacaoResidencePermit => "港澳台居民居住证（澳门居民）",
            IdKind::TaiwanResidencePermit => "港澳台居民居住证（台湾居民）",
            IdKind::ForeignPermanentResidentId => "外国人永久居留身份证",
            IdKind::HkMacaoTravelPermit => "港澳居民来往内地通行证",
            IdKind::TaiwanTravelPermit => "台湾居民来往大陆通行证",
        }
    }

    /// Whether numbers of this kind carry a birth date (and a sex digit and a check character).
    pub fn has_birth_date(self) -> bool {
        !matches!(
            self,
            IdKind::HkMacaoTravelPermit | IdKind::TaiwanTravelPermit
        )
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// Sex as encoded in the 17th character of an 18-character number (odd: male, even: female).
/// Needed by whoever works out a person's statutory retirement age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label_zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// What a character of an ID number should have been (see [`IdError::InvalidChar`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// `0`–`9`.
    Digit,
    /// `0`–`9` or `X` (the check character).
    DigitOrX,
    /// `H` or `M`, the first letter of a travel permit for HK/Macao residents.
    HOrM,
    /// Any ASCII digit or letter: the character was neither.
    AsciiDigitOrLetter,
}

impl Expected {
    fn zh(self) -> &'static str {
        match self {
            Expected::Digit => "数字 0–9",
            Expected::DigitOrX => "数字 0–9 或 X",
            Expected::HOrM => "字母 H 或 M（港澳居民来往内地通行证为 H 或 M 加8位数字）",
            Expected::AsciiDigitOrLetter => "半角数字或字母",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Expected::Digit => "a digit 0-9",
            Expected::DigitOrX => "a digit 0-9 or X",
            Expected::HOrM => {
                "the letter H or M (a travel permit for HK/Macao residents is H or M + 8 digits)"
            }
            Expected::AsciiDigitOrLetter => "an ASCII digit or letter",
        }
    }
}

/// Which part of the region code is wrong (see [`IdError::Region`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegionProblem {
    /// The two digits are not a province-level code (11–15, 21–23, 31–37, 41–46, 50–54, 61–65).
    Province(String),
    /// The region is a bare province code (`xx0000`); a person's code names a county.
    BareProvince,
    /// A residence permit (81/82/83…) must start with exactly `810000`, `820000` or `830000`.
    ResidencePermitPrefix,
    /// The 2023 foreigners' ID's nationality code (characters 4–6) is `000`.
    Nationality,
}

/// Why an identity document number was refused. `code()` is stable (API, R-VAL-1); `Display` is
/// "中文 / English" and never contains the number itself (SECURITY.md S12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdError {
    /// Nothing but whitespace.
    Empty,
    /// A full-width character (e.g. `４`, `Ｘ`, the ideographic space) at this 1-based position.
    FullWidth { position: usize },
    /// A space inside the number at this 1-based position.
    Whitespace { position: usize },
    /// A character that does not belong at this 1-based position.
    InvalidChar { position: usize, expected: Expected },
    /// A length (in characters) that no accepted document has.
    Length { len: usize },
    /// A 15-character number of a document generation that is not accepted.
    Legacy { foreign: bool },
    /// `H`/`M` + 10 digits: the 1999 card's lifelong number followed by its reissue count. Every
    /// such card has expired; today's number is the first 9 characters.
    LegacyHkMacaoPermit,
    /// The region code (or the prefix of a residence permit) is wrong.
    Region(RegionProblem),
    /// Characters 7–14 are not a real date between 1900-01-01 and 2100-12-31.
    BirthDate,
    /// The MOD 11-2 check character does not match. The page does not show `expected`: a typo
    /// elsewhere "fixed" by changing the last character would give a valid but wrong number.
    Checksum { expected: char, found: char },
    /// A valid number of another kind where only one kind is allowed (e.g. [`CitizenId`]).
    WrongKind { expected: IdKind, found: IdKind },
}

impl IdError {
    /// The stable code for the API (R-VAL-1).
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Empty => "ID_EMPTY",
            IdError::FullWidth { .. } => "ID_FULL_WIDTH",
            IdError::Whitespace { .. } | IdError::InvalidChar { .. } => "ID_FORMAT",
            IdError::Length { .. } => "ID_LENGTH",
            IdError::Legacy { .. } | IdError::LegacyHkMacaoPermit => "ID_LEGACY",
            IdError::Region(_) => "ID_REGION",
            IdError::BirthDate => "ID_BIRTH_DATE",
            IdError::Checksum { .. } => "ID_CHECKSUM",
            IdError::WrongKind { .. } => "ID_KIND",
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("证件号码为空 / the ID number is empty"),
            IdError::FullWidth { position } => write!(
                f,
                "第{position}位是全角字符，请改用半角数字和字母 / character {position} is \
                 full-width; use half-width (ASCII) digits and letters"
            ),
            IdError::Whitespace { position } => write!(
                f,
                "第{position}位是空格，证件号码中间不能有空格 / character {position} is a space; \
                 remove spaces inside the number"
            ),
            IdError::InvalidChar { position, expected } => write!(
                f,
                "第{position}位应为{} / character {position} should be {}",
                expected.zh(),
                expected.en()
            ),
            IdError::Length { len } => write!(
                f,
                "证件号码为{len}位：居民身份证、港澳台居民居住证和外国人永久居留身份证应为18位，\
                 港澳居民来往内地通行证为9位（H或M加8位数字），台湾居民来往大陆通行证为8位 / the \
                 number has {len} characters: ID cards and residence permits have 18, travel \
                 permits for HK/Macao residents 9 (H or M + 8 digits), for Taiwan residents 8"
            ),
            IdError::Legacy { foreign: false } => f.write_str(
                "15位的第一代居民身份证号码已停止使用，请填写18位公民身份号码 / 15-digit \
                 first-generation ID numbers are no longer valid; enter the 18-digit number",
            ),
            IdError::Legacy { foreign: true } => f.write_str(
                "暂不支持15位的旧版外国人永久居留证，请联系区培训中心 / the 15-character \
                 foreigners' permanent residence card of the old version is not supported yet; \
                 contact the district training centre",
            ),
            IdError::LegacyHkMacaoPermit => f.write_str(
                "这是1999年版港澳居民来往内地通行证的11位号码（末2位为换证次数），该版证件均已过期：\
                 请填写现行证件上的号码，即H或M加8位终身号码（原号码的前9位） / this is the \
                 11-character number of the expired 1999 HK/Macao travel permit (the last 2 \
                 digits count reissues): enter the current card's number, H or M + the 8-digit \
                 lifelong number (the first 9 characters)",
            ),
            IdError::Region(RegionProblem::Province(code)) => write!(
                f,
                "地址码错误：“{code}”不是省级行政区划代码 / region code wrong: \"{code}\" is not a \
                 province-level code"
            ),
            IdError::Region(RegionProblem::BareProvince) => f.write_str(
                "地址码错误：前6位不能以0000结尾（应为县级行政区划代码） / region code wrong: the \
                 first 6 digits cannot end in 0000 (a county-level code is expected)",
            ),
            IdError::Region(RegionProblem::ResidencePermitPrefix) => f.write_str(
                "港澳台居民居住证号码应以810000、820000或830000开头 / a residence permit number \
                 for HK, Macao or Taiwan residents starts with 810000, 820000 or 830000",
            ),
            IdError::Region(RegionProblem::Nationality) => f.write_str(
                "国籍代码（第4–6位）不能为000 / the nationality code (characters 4-6) cannot be 000",
            ),
            IdError::BirthDate => f.write_str(
                "出生日期（第7–14位）无效，应为1900年至2100年间的真实日期 / the birth date \
                 (characters 7-14) is not a real date between 1900 and 2100",
            ),
            IdError::Checksum { .. } => f.write_str(
                "校验位（第18位）不符，请对照证件逐位核对号码 / the check character (18th) does \
                 not match; compare every character with the document",
            ),
            IdError::WrongKind { expected, found } => write!(
                f,
                "此处应填写{}号码，所填为{}号码 / a {} number is required here, this is a {} \
                 number",
                expected.label_zh(),
                found.label_zh(),
                expected.code(),
                found.code()
            ),
        }
    }
}

impl std::error::Error for IdError {}

/// A valid identity document number of any accepted kind (SPEC.md §4).
///
/// `Display` and `Debug` print the masked number; [`PersonId::as_str`] gives the full number.
/// Serde writes the full number (for storage and for the encrypted column, SECURITY.md S14);
/// API views must use [`PersonId::masked`] (S13).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId {
    value: String,
    kind: IdKind,
}

impl PersonId {
    /// Parses and classifies a number; see the module documentation for what is accepted.
    pub fn parse(input: &str) -> Result<PersonId, IdError> {
        let value = normalise(input)?;
        let kind = match value.len() {
            18 => classify_18(&value)?,
            9 => check_hk_macao_permit(&value)?,
            11 => {
                check_hk_macao_permit(&value)?;
                return Err(IdError::LegacyHkMacaoPermit);
            }
            8 => check_all_digits(&value, 0).map(|()| IdKind::TaiwanTravelPermit)?,
            15 => return Err(legacy_15(&value)),
            len => return Err(IdError::Length { len }),
        };
        Ok(PersonId { value, kind })
    }

    pub fn kind(&self) -> IdKind {
        self.kind
    }

    /// The full number. Handle with care (R-PII-1): show [`PersonId::masked`] instead.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The birth date encoded in an 18-character number; `None` for travel permits.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        if self.kind.has_birth_date() {
            birth_date_of(&self.value[6..14])
        } else {
            None
        }
    }

    /// The sex encoded in an 18-character number; `None` for travel permits.
    pub fn sex(&self) -> Option<Sex> {
        if !self.kind.has_birth_date() {
            return None;
        }
        let digit = self.value.as_bytes()[16] - b'0';
        Some(if digit % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        })
    }

    /// The number masked for lists and exports (R-PII-1): `4401**********123X`, `H******78`.
    pub fn masked(&self) -> String {
        mask_id(&self.value)
    }

    /// Full years (周岁) on `on`; `None` without a birth date or if `on` is before it. A
    /// 29 February birthday falls on 28 February in common years.
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        age::full_years(self.birth_date()?, on)
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonId")
            .field("masked", &self.masked())
            .field("kind", &self.kind)
            .finish()
    }
}

impl FromStr for PersonId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PersonId::parse(s)
    }
}

impl TryFrom<&str> for PersonId {
    type Error = IdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        PersonId::parse(s)
    }
}

impl Serialize for PersonId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for PersonId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        PersonId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A mainland citizen's 18-digit ID number (居民身份证) and nothing else.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(PersonId);

impl CitizenId {
    /// Parses like [`PersonId::parse`], then refuses any other kind with `ID_KIND`.
    pub fn parse(input: &str) -> Result<CitizenId, IdError> {
        CitizenId::try_from(PersonId::parse(input)?)
    }

    /// The full number. Handle with care (R-PII-1).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn birth_date(&self) -> NaiveDate {
        // A citizen ID always has one: the parser checked it.
        self.0.birth_date().unwrap_or(NaiveDate::MIN)
    }

    pub fn sex(&self) -> Sex {
        self.0.sex().unwrap_or(Sex::Female)
    }

    pub fn masked(&self) -> String {
        self.0.masked()
    }

    /// Full years on `on`, `None` if `on` is before the birth date.
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        self.0.age_on(on)
    }

    pub fn as_person_id(&self) -> &PersonId {
        &self.0
    }

    pub fn into_person_id(self) -> PersonId {
        self.0
    }
}

impl TryFrom<PersonId> for CitizenId {
    type Error = IdError;
    fn try_from(id: PersonId) -> Result<Self, Self::Error> {
        match id.kind {
            IdKind::CitizenId => Ok(CitizenId(id)),
            found => Err(IdError::WrongKind {
                expected: IdKind::CitizenId,
                found,
            }),
        }
    }
}

impl From<CitizenId> for PersonId {
    fn from(id: CitizenId) -> Self {
        id.0
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CitizenId").field(&self.masked()).finish()
    }
}

impl FromStr for CitizenId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CitizenId::parse(s)
    }
}

impl Serialize for CitizenId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CitizenId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Province-level codes of GB/T 2260 that appear in mainland ID numbers. Also used by
/// [`crate::credit_code`].
pub(crate) fn is_province_code(two_digits: &[u8]) -> bool {
    let [a, b] = two_digits else {
        return false;
    };
    if !a.is_ascii_digit() || !b.is_ascii_digit() {
        return false;
    }
    matches!(
        (a - b'0') * 10 + (b - b'0'),
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65
    )
}

/// A full-width form of an ASCII character (U+FF01–U+FF5E) or the ideographic space.
pub(crate) fn is_full_width(c: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}'
}

/// Trims, refuses what no document contains, upper-cases ASCII letters. The result is ASCII.
fn normalise(input: &str) -> Result<String, IdError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(IdError::Empty);
    }
    for (i, c) in trimmed.chars().enumerate() {
        let position = i + 1;
        if is_full_width(c) {
            return Err(IdError::FullWidth { position });
        }
        if c.is_whitespace() {
            return Err(IdError::Whitespace { position });
        }
        if !c.is_ascii_alphanumeric() {
            return Err(IdError::InvalidChar {
                position,
                expected: Expected::AsciiDigitOrLetter,
            });
        }
    }
    Ok(trimmed.to_ascii_uppercase())
}

/// `Ok` if every byte from `from` on is a digit, else the first offender.
fn check_all_digits(value: &str, from: usize) -> Result<(), IdError> {
    match value.bytes().skip(from).position(|c| !c.is_ascii_digit()) {
        None => Ok(()),
        Some(i) => Err(IdError::InvalidChar {
            position: from + i + 1,
            expected: Expected::Digit,
        }),
    }
}

fn check_hk_macao_permit(value: &str) -> Result<IdKind, IdError> {
    if !matches!(value.as_bytes()[0], b'H' | b'M') {
        return Err(IdError::InvalidChar {
            position: 1,
            expected: Expected::HOrM,
        });
    }
    check_all_digits(value, 1)?;
    Ok(IdKind::HkMacaoTravelPermit)
}

fn legacy_15(value: &str) -> IdError {
    let b = value.as_bytes();
    if b.iter().all(u8::is_ascii_digit) {
        IdError::Legacy { foreign: false }
    } else if b[..3].iter().all(u8::is_ascii_uppercase) && b[3..].iter().all(u8::is_ascii_digit) {
        IdError::Legacy { foreign: true }
    } else {
        IdError::Length { len: 15 }
    }
}

/// Checks an 18-character number (ASCII, upper-case) and says which kind it is.
fn classify_18(value: &str) -> Result<IdKind, IdError> {
    let b = value.as_bytes();
    check_all_digits(&value[..17], 0)?;
    if !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(IdError::InvalidChar {
            position: 18,
            expected: Expected::DigitOrX,
        });
    }
    let kind = match (b[0], b[1]) {
        (b'9', _) => {
            if !is_province_code(&b[1..3]) {
                return Err(IdError::Region(RegionProblem::Province(
                    value[1..3].to_owned(),
                )));
            }
            if &value[3..6] == "000" {
                return Err(IdError::Region(RegionProblem::Nationality));
            }
            IdKind::ForeignPermanentResidentId
        }
        (b'8', b'1'..=b'3') => {
            if &value[2..6] != "0000" {
                return Err(IdError::Region(RegionProblem::ResidencePermitPrefix));
            }
            match b[1] {
                b'1' => IdKind::HongKongResidencePermit,
                b'2' => IdKind::MacaoResidencePermit,
                _ => IdKind::TaiwanResidencePermit,
            }
        }
        _ => {
            if !is_province_code(&b[..2]) {
                return Err(IdError::Region(RegionProblem::Province(
                    value[..2].to_owned(),
                )));
            }
            if &value[2..6] == "0000" {
                return Err(IdError::Region(RegionProblem::BareProvince));
            }
            IdKind::CitizenId
        }
    };
    if birth_date_of(&value[6..14]).is_none() {
        return Err(IdError::BirthDate);
    }
    // `check_char` cannot fail on 17 digits; the fallback keeps this path free of panics.
    let expected = check_char(&value[..17]).unwrap_or('?');
    let found = char::from(b[17]);
    if expected != found {
        return Err(IdError::Checksum { expected, found });
    }
    Ok(kind)
}

/// `YYYYMMDD` → a real date in 1900–2100.
fn birth_date_of(yyyymmdd: &str) -> Option<NaiveDate> {
    let year: i32 = yyyymmdd.get(0..4)?.parse().ok()?;
    let month: u32 = yyyymmdd.get(4..6)?.parse().ok()?;
    let day: u32 = yyyymmdd.get(6..8)?.parse().ok()?;
    if !(1900..=2100).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests;
