//! Adapters from `peixun_domain`'s validators (GB 32100, GB 11643, masking) to store errors, and
//! the phone-number check the directory form needs.

use peixun_domain::credit_code::CreditCode;
use peixun_domain::ids::PersonId;

pub(crate) use peixun_domain::credit_code::check_char as credit_code_check_char;
pub(crate) use peixun_domain::ids::check_char as id_check_char;
pub(crate) use peixun_domain::ids::mask_id;

/// The Chinese half of the domain's "中文 / English" messages.
pub(crate) fn zh(message: &str) -> String {
    message
        .split_once(" / ")
        .map_or(message, |(zh, _)| zh)
        .trim()
        .to_string()
}

/// The outcome of a lenient credit-code check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CreditCodeCheck {
    Valid(String),
    /// Well formed, but the 18th character is not the GB 32100 check character.
    ChecksumWarning {
        code: String,
        message: String,
    },
}

/// Normalise and check a credit code. `Err((code, message))` for anything but a bad checksum.
pub(crate) fn credit_code_parse_lenient(
    input: &str,
) -> Result<CreditCodeCheck, (&'static str, String)> {
    match CreditCode::parse_lenient(input) {
        Ok((code, None)) => Ok(CreditCodeCheck::Valid(code.as_str().to_string())),
        Ok((code, Some(w))) => Ok(CreditCodeCheck::ChecksumWarning {
            code: code.as_str().to_string(),
            message: zh(&w.to_string()),
        }),
        Err(e) => Err((e.code(), zh(&e.to_string()))),
    }
}

/// Check an identity document number (citizen ID, HK/Macao/Taiwan residence permit, foreigner's
/// permanent-residence ID, travel permits). Returns the normalised number.
pub(crate) fn id_parse(input: &str) -> Result<String, (&'static str, String)> {
    PersonId::parse(input)
        .map(|p| p.as_str().to_string())
        .map_err(|e| (e.code(), zh(&e.to_string())))
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
    let parts = p.split('-').collect::<Vec<_>>();
    let ext_ok = |e: &str| digits(e) && e.len() <= 6;
    let is_area = |a: &str| digits(a) && a.starts_with('0') && (3..=4).contains(&a.len());
    let is_local = |l: &str| digits(l) && (7..=8).contains(&l.len()) && !l.starts_with('0');
    let ok = match parts.as_slice() {
        [s] => {
            is_local(s)
                || (digits(s)
                    && s.starts_with('0')
                    && (10..=12).contains(&s.len())
                    && (3..=4).any(|k| is_area(&s[..k]) && is_local(&s[k..])))
        }
        [a, b] => (is_area(a) && is_local(b)) || (is_local(a) && ext_ok(b)),
        [a, b, ext] => is_area(a) && is_local(b) && ext_ok(ext),
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
    fn credit_codes() {
        assert_eq!(
            credit_code_parse_lenient("91350100M000100Y43"),
            Ok(CreditCodeCheck::Valid("91350100M000100Y43".into()))
        );
        assert!(matches!(
            credit_code_parse_lenient("91350100m000100y44"),
            Ok(CreditCodeCheck::ChecksumWarning { .. })
        ));
        let (code, msg) = credit_code_parse_lenient("91350100M000100Y4").unwrap_err();
        assert_eq!(code, "CREDIT_CODE_LENGTH");
        assert!(!msg.contains(" / "), "{msg}");
    }

    #[test]
    fn id_numbers() {
        assert!(id_parse("11010519491231002X").is_ok());
        assert!(id_parse("110105194912310021").is_err());
        assert_eq!(mask_id("11010519491231002X"), "1101**********002X");
    }

    #[test]
    fn phones() {
        for ok in [
            "13800138000",
            "020-87654321",
            "02087654321",
            "87654321",
            "020-87654321-123",
            "138 0013 8000",
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
