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
mod tests {
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
            11u8, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
            50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
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
}
