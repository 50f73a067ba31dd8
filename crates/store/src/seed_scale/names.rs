//! The fixed vocabulary of the synthetic province (names, roads, districts with their GB/T 2260
//! region codes, occupations) and a small deterministic generator (splitmix64): the same seed
//! gives the same data on every machine.

use crate::checks;
use chrono::{Datelike, Duration, NaiveDate};
use peixun_domain::ids::check_char;

/// splitmix64: small, fixed, identical on every platform and crate version.
#[derive(Debug, Clone)]
pub(super) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille as usize
    }
    /// A derived generator (for work done out of order, e.g. one class's roster).
    pub fn fork(&mut self, salt: u64) -> Rng {
        Rng(self.next() ^ salt.wrapping_mul(0xA24B_AED4_963E_E407))
    }
}

/// A district: its city, name and GB/T 2260 code (the ID numbers and credit codes of its
/// institutions and people).
#[derive(Debug, Clone, Copy)]
pub(super) struct District {
    pub city: &'static str,
    pub name: &'static str,
    pub code: &'static str,
}

const fn d(city: &'static str, name: &'static str, code: &'static str) -> District {
    District { city, name, code }
}

/// Haizhu alone (district scale).
pub(super) const HAIZHU: &[District] = &[d("广州市", "海珠区", "440105")];

/// Guangzhou's eleven districts (city scale).
pub(super) const GUANGZHOU: &[District] = &[
    d("广州市", "海珠区", "440105"),
    d("广州市", "荔湾区", "440103"),
    d("广州市", "越秀区", "440104"),
    d("广州市", "天河区", "440106"),
    d("广州市", "白云区", "440111"),
    d("广州市", "黄埔区", "440112"),
    d("广州市", "番禺区", "440113"),
    d("广州市", "花都区", "440114"),
    d("广州市", "南沙区", "440115"),
    d("广州市", "从化区", "440117"),
    d("广州市", "增城区", "440118"),
];

/// Guangdong: Guangzhou and one or more districts of every other prefecture (province scale).
pub(super) const GUANGDONG: &[District] = &[
    d("广州市", "海珠区", "440105"),
    d("广州市", "荔湾区", "440103"),
    d("广州市", "越秀区", "440104"),
    d("广州市", "天河区", "440106"),
    d("广州市", "白云区", "440111"),
    d("广州市", "黄埔区", "440112"),
    d("广州市", "番禺区", "440113"),
    d("广州市", "花都区", "440114"),
    d("广州市", "南沙区", "440115"),
    d("广州市", "从化区", "440117"),
    d("广州市", "增城区", "440118"),
    d("深圳市", "罗湖区", "440303"),
    d("深圳市", "福田区", "440304"),
    d("深圳市", "南山区", "440305"),
    d("深圳市", "宝安区", "440306"),
    d("深圳市", "龙岗区", "440307"),
    d("珠海市", "香洲区", "440402"),
    d("汕头市", "龙湖区", "440507"),
    d("佛山市", "禅城区", "440604"),
    d("佛山市", "南海区", "440605"),
    d("佛山市", "顺德区", "440606"),
    d("韶关市", "武江区", "440203"),
    d("河源市", "源城区", "441602"),
    d("梅州市", "梅江区", "441402"),
    d("惠州市", "惠城区", "441302"),
    d("汕尾市", "城区", "441502"),
    d("东莞市", "东城街道", "441900"),
    d("中山市", "石岐街道", "442000"),
    d("江门市", "蓬江区", "440703"),
    d("阳江市", "江城区", "441702"),
    d("湛江市", "赤坎区", "440802"),
    d("茂名市", "茂南区", "440902"),
    d("肇庆市", "端州区", "441202"),
    d("清远市", "清城区", "441802"),
    d("潮州市", "湘桥区", "445102"),
    d("揭阳市", "榕城区", "445202"),
    d("云浮市", "云城区", "445302"),
];

pub(super) const ROADS: &[&str] = &[
    "中山大道",
    "人民路",
    "解放路",
    "建设路",
    "新港西路",
    "江南大道中",
    "工业大道",
    "东风路",
    "滨江东路",
    "环城路",
    "文明路",
    "学府路",
    "创业路",
    "迎宾大道",
    "和平路",
    "南华路",
    "振兴路",
    "朝阳路",
    "世纪大道",
    "海滨路",
];

const BRANDS: &[&str] = &[
    "南粤", "粤厨", "康颐", "安康", "红棉", "江南", "新港", "宝岗", "滨江", "珠江", "穗南", "美誉",
    "育苗", "茗香", "麦香", "数智", "华洲", "瑞宝", "龙凤", "凤阳", "万松", "晓港", "岭南", "骏达",
    "恒信", "明德", "励志", "启航", "匠心", "华南", "锦绣", "惠民", "同心", "金穗", "丰泽", "嘉禾",
    "致远", "卓越", "弘毅", "博学", "长青", "乐业", "安居", "祥和",
];

const KINDS: &[&str] = &[
    "职业培训学校",
    "职业技能培训学校",
    "职业技能培训中心",
    "家政职业培训学校",
    "技工培训学校",
];

/// Occupations with the major project (重大工程) each belongs to, if any.
pub(super) const OCCUPATIONS: &[(&str, Option<&str>)] = &[
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
    ("保安员", None),
    ("健康管理师", None),
    ("电子商务师", None),
    ("汽车维修工", Some("广东技工")),
];

/// Levels used by the seed (all in [`crate::institutions::LEVELS`]).
pub(super) const LEVELS: &[&str] = &["初级", "中级", "高级", "专项职业能力"];

const SURNAMES: &[&str] = &[
    "陈", "李", "黄", "张", "梁", "林", "刘", "吴", "何", "罗", "郑", "谢", "冯", "邓", "曾", "彭",
    "苏", "卢", "蔡", "许", "叶", "杨", "周", "朱", "钟", "欧阳", "司徒",
];
const GIVEN: &[&str] = &[
    "志", "强", "伟", "芳", "娜", "敏", "静", "丽", "军", "杰", "磊", "婷", "雪", "华", "明", "建",
    "国", "秀", "英", "玲", "嘉", "欣", "俊", "峰", "慧", "文", "锦", "辉", "雅", "永",
];

pub(super) fn person_name(rng: &mut Rng) -> String {
    let mut s = rng.pick(SURNAMES).to_string();
    for _ in 0..1 + rng.below(2) {
        let g = GIVEN[rng.below(GIVEN.len())];
        s.push_str(g);
    }
    s
}

pub(super) fn mobile(rng: &mut Rng) -> String {
    let second = *rng.pick(&['3', '5', '7', '8', '9']);
    format!("1{second}{:09}", rng.next() % 1_000_000_000)
}

/// A valid 18-digit citizen ID (GB 11643) of `region`, born on `birth`.
pub(super) fn citizen_id(rng: &mut Rng, region: &str, birth: NaiveDate) -> String {
    loop {
        let first17 = format!(
            "{region}{:04}{:02}{:02}{:03}",
            birth.year(),
            birth.month(),
            birth.day(),
            rng.below(1000)
        );
        if let Some(c) = check_char(&first17) {
            return format!("{first17}{c}");
        }
    }
}

/// A birth date making someone `min_age..=max_age` full years old on `on`.
pub(super) fn birth_for_age(rng: &mut Rng, on: NaiveDate, min_age: i64, max_age: i64) -> NaiveDate {
    // Born between (on − (max+1) years + 1 day) and (on − min years).
    let latest = on - Duration::days(min_age * 366);
    let span = (max_age - min_age + 1) * 365 - 2;
    latest - Duration::days(rng.range(0, span.max(0)))
}

/// A valid GB 32100 code: `52` (民办非企业单位) or `91` (企业), `region`, 9 characters, check.
pub(super) fn credit_code(rng: &mut Rng, region: &str, enterprise: bool) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut s = String::from(if enterprise { "91" } else { "52" });
    s.push_str(region);
    for i in 0..9 {
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

/// An institution name in `district` (the caller makes it unique).
pub(super) fn institution_name(rng: &mut Rng, district: &District, n: usize) -> String {
    let brand = rng.pick(BRANDS);
    let kind = rng.pick(KINDS);
    if n == 0 {
        format!("{}{}{brand}{kind}", district.city, district.name)
    } else {
        // A second school of the same brand: numbered, as directories do.
        format!(
            "{}{}{brand}{kind}第{}分校",
            district.city,
            district.name,
            n + 1
        )
    }
}

pub(super) fn address(rng: &mut Rng, district: &District) -> String {
    format!(
        "{}{}{}{}号{}",
        district.city,
        district.name,
        rng.pick(ROADS),
        1 + rng.below(600),
        if rng.below(2) == 0 {
            format!("{}楼", 2 + rng.below(12))
        } else {
            format!("{}室", 201 + rng.below(1500))
        }
    )
}
