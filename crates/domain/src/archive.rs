//! The class archive 一期一档 (R-ARC-1, R-ARC-2): which documents each trainee needs, the class's
//! own items, completeness, and where a file from a bulk .zip belongs.
//!
//! Decisions taken here (the guideline, 第四条第4款, lists the documents; SPEC.md R-ARC-1):
//! * **Identity document by ID kind.** 居民身份证 → [`DocKind::IdCard`]; 港澳台居民居住证 (Hong
//!   Kong/Macao) → the residence permit and the 港澳居民来往内地通行证; (Taiwan) → the residence
//!   permit and the 台湾居民来往大陆通行证 (the guideline's "台湾同胞返乡证" is its old name);
//!   the travel permits alone → that permit; 外国人永久居留身份证 → that card.
//! * **广东省居住证** is required of mainland citizens whose 户籍/居住地 is 广东省外 only: Hong
//!   Kong, Macao and Taiwan residents and foreigners hold the documents above instead.
//! * **学历证书** of everyone.
//! * **职业技能证书 "where held"**: the roster does not record whether a trainee holds one. It is
//!   an optional item: it counts (required and present) once it is uploaded — holding is shown
//!   by the copy itself — and never lowers completeness while absent (the matrix shows 可选).
//! * **One identity proof (身份认定材料) per key-target group** the trainee is counted in.
//! * **Class items** (every class): 签到表, 考试资料, 花名册.
//! * **Completeness** = present required items / all required items (trainees' and the
//!   class's), as a percentage rounded half-up to one decimal; 100 when nothing is required.

use crate::ids::IdKind;
use crate::roster::Residence;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One kind of archive document. Group proofs carry the group's name (groups are the round's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "group", rename_all = "snake_case")]
pub enum DocKind {
    /// 身份证 (居民身份证 copy)
    IdCard,
    /// 港澳台居民居住证
    HmtResidencePermit,
    /// 港澳居民来往内地通行证
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
    /// 外国人永久居留身份证
    ForeignPrId,
    /// 广东省居住证 (non-Guangdong mainland residents)
    GdResidencePermit,
    /// 学历证书
    EducationCertificate,
    /// 职业技能证书 (where held: optional, see the module notes)
    SkillCertificate,
    /// 身份认定材料 — the identity proof for one key-target group (重点对象).
    GroupProof(String),
    /// 签到表 (class item)
    SignInSheets,
    /// 考试资料 (class item)
    ExamMaterials,
    /// 花名册 (class item)
    Roster,
}

/// The class's own items, in display order.
pub const CLASS_ITEMS: [DocKind; 3] = [
    DocKind::SignInSheets,
    DocKind::ExamMaterials,
    DocKind::Roster,
];

/// Prefix of a group proof's code: `group:<name>`.
pub const GROUP_PREFIX: &str = "group:";

/// The fixed (non-group) trainee kinds, in display order.
pub const TRAINEE_KINDS: [DocKind; 8] = [
    DocKind::IdCard,
    DocKind::HmtResidencePermit,
    DocKind::HkMacaoPermit,
    DocKind::TaiwanPermit,
    DocKind::ForeignPrId,
    DocKind::GdResidencePermit,
    DocKind::EducationCertificate,
    DocKind::SkillCertificate,
];

impl DocKind {
    /// The stable code used in the database, the API and zip names.
    pub fn code(&self) -> String {
        match self {
            DocKind::IdCard => "id_card".into(),
            DocKind::HmtResidencePermit => "hmt_residence_permit".into(),
            DocKind::HkMacaoPermit => "hk_macao_permit".into(),
            DocKind::TaiwanPermit => "taiwan_permit".into(),
            DocKind::ForeignPrId => "foreign_pr_id".into(),
            DocKind::GdResidencePermit => "gd_residence_permit".into(),
            DocKind::EducationCertificate => "education_certificate".into(),
            DocKind::SkillCertificate => "skill_certificate".into(),
            DocKind::GroupProof(g) => format!("{GROUP_PREFIX}{g}"),
            DocKind::SignInSheets => "sign_in_sheets".into(),
            DocKind::ExamMaterials => "exam_materials".into(),
            DocKind::Roster => "roster".into(),
        }
    }

    /// The kind of `code` ([`DocKind::code`]); `None` when unknown or a group name is empty.
    pub fn from_code(code: &str) -> Option<DocKind> {
        if let Some(g) = code.strip_prefix(GROUP_PREFIX) {
            let g = g.trim();
            return (!g.is_empty() && g.chars().count() <= 100 && !g.chars().any(char::is_control))
                .then(|| DocKind::GroupProof(g.to_string()));
        }
        TRAINEE_KINDS
            .iter()
            .chain(CLASS_ITEMS.iter())
            .find(|k| k.code() == code)
            .cloned()
    }

    /// The name a user sees (also the file name in the downloaded archive).
    pub fn label_zh(&self) -> String {
        match self {
            DocKind::IdCard => "身份证".into(),
            DocKind::HmtResidencePermit => "港澳台居民居住证".into(),
            DocKind::HkMacaoPermit => "港澳居民来往内地通行证".into(),
            DocKind::TaiwanPermit => "台湾居民来往大陆通行证".into(),
            DocKind::ForeignPrId => "外国人永久居留身份证".into(),
            DocKind::GdResidencePermit => "广东省居住证".into(),
            DocKind::EducationCertificate => "学历证书".into(),
            DocKind::SkillCertificate => "职业技能证书".into(),
            DocKind::GroupProof(g) => format!("身份认定材料（{g}）"),
            DocKind::SignInSheets => "签到表".into(),
            DocKind::ExamMaterials => "考试资料".into(),
            DocKind::Roster => "花名册".into(),
        }
    }

    /// A class item (not a trainee's document).
    pub fn is_class_item(&self) -> bool {
        CLASS_ITEMS.contains(self)
    }

    /// Other names accepted in zip file names (besides the label and the code).
    fn aliases(&self) -> &'static [&'static str] {
        match self {
            DocKind::IdCard => &["居民身份证", "身份证复印件", "身份证正反面"],
            DocKind::HmtResidencePermit => &["港澳台居住证"],
            DocKind::HkMacaoPermit => &["港澳居民往来内地通行证", "港澳通行证", "回乡证"],
            DocKind::TaiwanPermit => &["台湾同胞返乡证", "台胞证"],
            DocKind::ForeignPrId => &["永居证", "外国人永久居留证"],
            DocKind::GdResidencePermit => &["居住证"],
            DocKind::EducationCertificate => &["学历", "学历证明", "毕业证", "毕业证书"],
            DocKind::SkillCertificate => &["技能证书", "职业资格证书"],
            DocKind::GroupProof(_) => &[],
            DocKind::SignInSheets => &["签到", "签到记录"],
            DocKind::ExamMaterials => &["考试材料", "试卷", "考试"],
            DocKind::Roster => &["名册", "培训人员名册"],
        }
    }
}

/// The ID kind of a stored label ([`IdKind::label_zh`]) or code.
pub fn id_kind_from_label(s: &str) -> Option<IdKind> {
    IdKind::ALL
        .into_iter()
        .find(|k| k.label_zh() == s.trim() || k.code() == s.trim())
}

/// R-ARC-1/R-ARC-2: the documents one trainee needs, in display order. `holds_skill_certificate`:
/// a 职业技能证书 is on file (then it is counted; see the module notes).
pub fn required_documents(
    id_kind: IdKind,
    residence: Residence,
    groups: &[String],
    holds_skill_certificate: bool,
) -> Vec<DocKind> {
    let mut out = match id_kind {
        IdKind::CitizenId => vec![DocKind::IdCard],
        IdKind::HongKongResidencePermit | IdKind::MacaoResidencePermit => {
            vec![DocKind::HmtResidencePermit, DocKind::HkMacaoPermit]
        }
        IdKind::TaiwanResidencePermit => vec![DocKind::HmtResidencePermit, DocKind::TaiwanPermit],
        IdKind::HkMacaoTravelPermit => vec![DocKind::HkMacaoPermit],
        IdKind::TaiwanTravelPermit => vec![DocKind::TaiwanPermit],
        IdKind::ForeignPermanentResidentId => vec![DocKind::ForeignPrId],
    };
    if id_kind == IdKind::CitizenId && residence == Residence::OutOfProvince {
        out.push(DocKind::GdResidencePermit);
    }
    out.push(DocKind::EducationCertificate);
    if holds_skill_certificate {
        out.push(DocKind::SkillCertificate);
    }
    let mut seen = BTreeSet::new();
    for g in groups {
        let g = g.trim();
        if !g.is_empty() && seen.insert(g.to_string()) {
            out.push(DocKind::GroupProof(g.to_string()));
        }
    }
    out
}

/// Whether a file of `kind` may be filed for a trainee who needs `required`: the required
/// ones, and always the optional 职业技能证书.
pub fn accepts(required: &[DocKind], kind: &DocKind) -> bool {
    *kind == DocKind::SkillCertificate || required.contains(kind)
}

/// `present / required` as a percentage, rounded half-up to one decimal; 100 when nothing is
/// required. `present` above `required` counts as `required`.
pub fn completeness_percent(present: u32, required: u32) -> Decimal {
    if required == 0 {
        return Decimal::ONE_HUNDRED;
    }
    let p = present.min(required);
    (Decimal::from(p) * Decimal::ONE_HUNDRED / Decimal::from(required))
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

/// The file types an archive document may have (checked again on the content, S16).
pub const ALLOWED_EXTENSIONS: [&str; 4] = ["pdf", "jpg", "jpeg", "png"];

/// A trainee as the zip matcher knows them (nothing beyond what lists show, S13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraineeKey {
    pub entry_id: i64,
    pub row_number: u32,
    pub name: String,
    /// The masked ID number ([`crate::ids::mask_id`]); its visible tail (4+ characters) may
    /// name the trainee.
    pub id_number_masked: String,
    /// What the trainee needs ([`required_documents`]).
    pub required: Vec<DocKind>,
}

impl TraineeKey {
    /// The trailing characters the mask shows, upper-cased, when there are at least four.
    pub fn id_tail(&self) -> Option<String> {
        let tail: String = self
            .id_number_masked
            .chars()
            .rev()
            .take_while(|c| *c != '*')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let n = tail.chars().count();
        (n >= 4 && n < self.id_number_masked.chars().count())
            .then(|| tail.chars().skip(n - 4).collect::<String>().to_uppercase())
    }
}

/// Where a zip entry goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EntryMatch {
    /// Filed as `kind` for trainee `entry_id` (`None`: a class item).
    Placed {
        entry_id: Option<i64>,
        kind: DocKind,
    },
    /// No trainee is named (row number, name or the last 4 characters of the ID number).
    UnknownTrainee,
    /// The name fits several trainees, or its parts name different trainees.
    AmbiguousTrainee { entry_ids: Vec<i64> },
    /// No document kind (or more than one) is named.
    UnknownKind,
    /// Not a PDF, JPEG or PNG.
    NotAllowedType,
    /// The trainee does not need this document (e.g. 广东省居住证 of a Guangdong resident).
    NotRequired { entry_id: i64, kind: DocKind },
}

impl EntryMatch {
    /// Why a file was not placed, in Chinese (empty for [`EntryMatch::Placed`]).
    pub fn reason_zh(&self) -> String {
        match self {
            EntryMatch::Placed { .. } => String::new(),
            EntryMatch::UnknownTrainee => {
                "文件名未能对应到学员（请写明名册行号、姓名或证件号码后4位）".into()
            }
            EntryMatch::AmbiguousTrainee { .. } => {
                "文件名对应到多名学员或相互矛盾（请同时写明行号和姓名）".into()
            }
            EntryMatch::UnknownKind => {
                "文件名未能识别材料类型（如“身份证”“学历证书”“签到表”）".into()
            }
            EntryMatch::NotAllowedType => "只接受PDF、JPG、PNG文件".into(),
            EntryMatch::NotRequired { kind, .. } => {
                format!("该学员不需要“{}”", kind.label_zh())
            }
        }
    }
}

const SEPARATORS: &[char] = &[
    '_', '-', '－', '—', '、', ',', '，', ' ', '　', '(', ')', '（', '）', '[', ']', '【', '】',
    '.', '/', '+',
];
/// Words in file names that carry no meaning here.
const NOISE: &[&str] = &[
    "班级材料",
    "复印件",
    "身份认定材料",
    "身份认定",
    "证明",
    "材料",
];

/// Every (alias, kind) pair for `groups`, longest alias first.
fn kind_words(groups: &[String]) -> Vec<(String, DocKind)> {
    let mut v: Vec<(String, DocKind)> = Vec::new();
    for k in TRAINEE_KINDS.iter().chain(CLASS_ITEMS.iter()) {
        v.push((k.label_zh(), k.clone()));
        v.push((k.code(), k.clone()));
        for a in k.aliases() {
            v.push(((*a).to_string(), k.clone()));
        }
    }
    for g in groups {
        let k = DocKind::GroupProof(g.clone());
        v.push((g.clone(), k.clone()));
        v.push((k.label_zh(), k));
    }
    v.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
    v
}

/// The word in `token` that names a kind: the whole token, or a prefix/suffix (the rest
/// returned as another token), e.g. "张三身份证" → ("张三", IdCard).
fn split_kind(token: &str, words: &[(String, DocKind)]) -> Option<(DocKind, Option<String>)> {
    let lower = token.to_lowercase();
    if let Some((_, k)) = words.iter().find(|(w, _)| *w == lower) {
        return Some((k.clone(), None));
    }
    for (w, k) in words {
        if w.chars().count() < 2 {
            continue;
        }
        if let Some(rest) = lower
            .strip_suffix(w.as_str())
            .or_else(|| lower.strip_prefix(w.as_str()))
            && !rest.is_empty()
        {
            return Some((k.clone(), Some(rest.to_string())));
        }
    }
    None
}

fn row_of(token: &str) -> Option<u32> {
    let t = token
        .strip_prefix('第')
        .and_then(|t| t.strip_suffix('行'))
        .unwrap_or(token);
    let t = t.strip_prefix("row").unwrap_or(t);
    (!t.is_empty() && t.len() <= 6 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// R-ARC-2: where the zip entry `path` belongs among `trainees` (`groups`: every group name of
/// the class's round). The path's folders and file name are split into words at `_ - . 、` and
/// spaces (and a kind glued to a name, "张三身份证"); one word must name the document kind
/// (its label, code or a common other name); for a trainee's document, the other words name the
/// trainee by roster row number ("3", "03", "第3行"), name, or the last 4 characters of the ID
/// number — every word that names someone must name the same one person.
pub fn match_entry(path: &str, trainees: &[TraineeKey], groups: &[String]) -> EntryMatch {
    let last = path.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem_last, ext) = match last.rsplit_once('.') {
        Some((s, e)) => (s, e.to_lowercase()),
        None => (last, String::new()),
    };
    if !ALLOWED_EXTENSIONS.contains(&ext.as_str()) {
        return EntryMatch::NotAllowedType;
    }
    let folders = &path[..path.len() - last.len()];
    let text = format!("{folders}{stem_last}");
    let words = kind_words(groups);
    let mut kinds: BTreeSet<DocKind> = BTreeSet::new();
    let mut people: Vec<String> = Vec::new();
    for raw in text.split(|c: char| SEPARATORS.contains(&c) || c == '\\') {
        let t = raw.trim();
        if t.is_empty() || NOISE.contains(&t) {
            continue;
        }
        match split_kind(t, &words) {
            Some((k, rest)) => {
                kinds.insert(k);
                if let Some(r) = rest
                    && !NOISE.contains(&r.as_str())
                {
                    people.push(r);
                }
            }
            None => people.push(t.to_string()),
        }
    }
    let kind = match kinds.len() {
        1 => kinds.into_iter().next().unwrap_or(DocKind::IdCard),
        _ => return EntryMatch::UnknownKind,
    };
    if kind.is_class_item() {
        return EntryMatch::Placed {
            entry_id: None,
            kind,
        };
    }
    let mut candidates: Option<BTreeSet<i64>> = None;
    let mut union: BTreeSet<i64> = BTreeSet::new();
    for w in &people {
        let upper = w.to_uppercase();
        let row = row_of(&w.to_lowercase());
        let hits: BTreeSet<i64> = trainees
            .iter()
            .filter(|t| {
                Some(t.row_number) == row
                    || t.name == *w
                    || t.id_tail().is_some_and(|tail| tail == upper)
            })
            .map(|t| t.entry_id)
            .collect();
        if hits.is_empty() {
            continue;
        }
        union.extend(hits.iter().copied());
        candidates = Some(match candidates {
            None => hits,
            Some(c) => c.intersection(&hits).copied().collect(),
        });
    }
    let Some(c) = candidates else {
        return EntryMatch::UnknownTrainee;
    };
    if c.len() != 1 {
        let ids = if c.is_empty() { union } else { c };
        return EntryMatch::AmbiguousTrainee {
            entry_ids: ids.into_iter().collect(),
        };
    }
    let id = c.into_iter().next().unwrap_or_default();
    let t = trainees.iter().find(|t| t.entry_id == id);
    match t {
        Some(t) if accepts(&t.required, &kind) => EntryMatch::Placed {
            entry_id: Some(id),
            kind,
        },
        _ => EntryMatch::NotRequired { entry_id: id, kind },
    }
}

/// A name made safe as a folder or file name in the downloaded archive (no separators, no
/// control or bidi characters).
pub fn safe_path_part(s: &str) -> String {
    let out: String = s
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let t = out.trim().trim_start_matches('.').to_string();
    if t.is_empty() { "_".into() } else { t }
}

/// The folder of a trainee in the downloaded archive: `03_张三`.
pub fn trainee_folder(row_number: u32, name: &str) -> String {
    format!("{row_number:02}_{}", safe_path_part(name))
}

/// The folder of the class items in the downloaded archive.
pub const CLASS_FOLDER: &str = "00_班级材料";

/// The path of a document in the downloaded archive: `03_张三/身份证.pdf`,
/// `00_班级材料/签到表.pdf`. [`match_entry`] places it back where it came from.
pub fn archive_path(trainee: Option<(u32, &str)>, kind: &DocKind, ext: &str) -> String {
    let folder = match trainee {
        Some((row, name)) => trainee_folder(row, name),
        None => CLASS_FOLDER.to_string(),
    };
    format!("{folder}/{}.{ext}", safe_path_part(&kind.label_zh()))
}

#[cfg(test)]
mod tests;
