//! Input checks the store needs before `peixun_domain` exposes them.
//!
//! TODO(switch): replace `credit_code_*` with `peixun_domain::credit_code::CreditCode::parse_lenient`
//! / `check_char`, and `id_*` with `peixun_domain::ids::{PersonId, mask_id}`, once those land. The
//! algorithms are GB 32100 and GB 11643 as SPEC.md §4 states them.

const CC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The outcome of a lenient credit-code check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreditCodeCheck {
    Valid(String),
    /// Well formed, but the 18th character is not the GB 32100 check character.
    ChecksumWarning {
        code: String,
        expected: char,
    },
}

/// GB 32100 check character for the first 17 characters; `None` if any is outside the alphabet.
pub(crate) fn credit_code_check_char(first17: &str) -> Option<char> {
    let chars: Vec<char> = first17.chars().collect();
    if chars.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in chars.iter().zip(CC_WEIGHTS) {
        let v = CC_ALPHABET.find(*c)? as u32;
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    CC_ALPHABET.chars().nth(check as usize)
}

/// Normalise (trim, upper-case) and check a credit code. `Err` carries a Chinese message.
pub(crate) fn credit_code_parse_lenient(input: &str) -> Result<CreditCodeCheck, String> {
    let code: String = input.trim().to_uppercase();
    let n = code.chars().count();
    if n != 18 {
        return Err(format!("统一社会信用代码应为18位，实际为{n}位"));
    }
    if let Some(bad) = code.chars().find(|c| !CC_ALPHABET.contains(*c)) {
        return Err(format!(
            "统一社会信用代码含有不允许的字符“{bad}”（不使用 I、O、S、V、Z）"
        ));
    }
    let first17: String = code.chars().take(17).collect();
    let expected = credit_code_check_char(&first17).ok_or("统一社会信用代码格式不正确")?;
    if code.ends_with(expected) {
        Ok(CreditCodeCheck::Valid(code))
    } else {
        Ok(CreditCodeCheck::ChecksumWarning { code, expected })
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// GB 11643 MOD 11-2 check character for the first 17 digits.
pub(crate) fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize])
}

/// Check an 18-character citizen ID (digits, valid birth date, check character). Returns it
/// upper-cased.
pub(crate) fn id_parse(input: &str) -> Result<String, String> {
    let id = input.trim().to_uppercase();
    if id.len() != 18 {
        return Err("身份证号码应为18位".into());
    }
    let first17 = &id[..17];
    let expected = id_check_char(first17).ok_or("身份证号码前17位应为数字")?;
    let birth = &id[6..14];
    if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return Err("身份证号码中的出生日期无效".into());
    }
    if !id.ends_with(expected) {
        return Err("身份证号码校验位不正确".into());
    }
    Ok(id)
}

/// Mask an ID number for lists: first 6 and last 4 kept (`440105********1235`).
pub(crate) fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// Mainland mobile (1[3-9] + 9 digits) or a landline (`020-12345678`, `02012345678`,
/// `12345678`, optional `-ext`). Returns the number with spaces removed.
pub(crate) fn phone_parse(input: &str) -> Result<String, String> {
    let p: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let b = p.as_bytes();
    if p.len() == 11 && digits(&p) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Ok(p);
    }
    // landline: [0AA(A)-]NNNNNNN(N)[-EXT]
    let mut parts = p.split('-').collect::<Vec<_>>();
    let ext_ok = |e: &str| digits(e) && e.len() <= 6;
    let is_area = |a: &str| digits(a) && a.starts_with('0') && (3..=4).contains(&a.len());
    let is_local = |l: &str| digits(l) && (7..=8).contains(&l.len()) && !l.starts_with('0');
    let ok = match parts.len() {
        1 => {
            let s = parts[0];
            is_local(s)
                || (digits(s) && s.starts_with('0') && (10..=12).contains(&s.len()) && {
                    (3..=4).any(|k| is_area(&s[..k]) && is_local(&s[k..]))
                })
        }
        2 => (is_area(parts[0]) && is_local(parts[1])) || (is_local(parts[0]) && ext_ok(parts[1])),
        3 => {
            let ext = parts.pop().unwrap_or_default();
            is_area(parts[0]) && is_local(parts[1]) && ext_ok(ext)
        }
        _ => false,
    };
    if ok {
        Ok(p)
    } else {
        Err("联系电话应为11位手机号（1开头）或固定电话（如 020-12345678）".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_code_known_good() {
        // A widely published example code.
        assert_eq!(
            credit_code_parse_lenient("91350100M000100Y43"),
            Ok(CreditCodeCheck::Valid("91350100M000100Y43".into()))
        );
        assert!(matches!(
            credit_code_parse_lenient("91350100M000100Y44"),
            Ok(CreditCodeCheck::ChecksumWarning { .. })
        ));
        assert!(credit_code_parse_lenient("91350100M000100Y4").is_err());
        assert!(credit_code_parse_lenient("91350100M000100YI3").is_err());
    }

    #[test]
    fn id_numbers() {
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        assert!(id_parse("11010519491231002X").is_ok());
        assert!(id_parse("110105194912310021").is_err());
        assert!(id_parse("110105194913310028").is_err());
        assert_eq!(mask_id("11010519491231002X"), "110105********002X");
    }

    #[test]
    fn phones() {
        for ok in [
            "13800138000",
            "020-87654321",
            "02087654321",
            "87654321",
            "020-87654321-123",
        ] {
            assert!(phone_parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "12800138000",
            "1380013800",
            "abc",
            "020-123",
            "",
            "0-87654321",
        ] {
            assert!(phone_parse(bad).is_err(), "{bad}");
        }
    }
}
