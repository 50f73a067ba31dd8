//! Free-text limits (DEVELOPERS.md "Bad input"; SECURITY.md S18): names ≤ 100 characters,
//! reasons and notes ≤ 2,000. Names refuse control characters and the bidi overrides
//! (U+202A–U+202E, U+2066–U+2069) that make a name display as something else; longer texts refuse
//! control characters other than line breaks and tabs.

/// 名称 — the most characters of a name (institution, teacher, display name, label).
pub const MAX_NAME_CHARS: usize = 100;
/// 理由、说明 — the most characters of a reason or note.
pub const MAX_REASON_CHARS: usize = 2_000;

/// A refused text: stable code, Chinese message naming the field and the rule, the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextProblem {
    pub code: &'static str,
    pub message: String,
    pub field: String,
}

impl std::fmt::Display for TextProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TextProblem {}

/// A bidi embedding/override/isolate control (U+202A–U+202E, U+2066–U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name (trimmed by the caller or not): at most [`MAX_NAME_CHARS`] characters, no control
/// characters (line breaks included), no bidi controls. An empty name passes (required-ness is
/// the caller's rule).
pub fn check_name(field: &str, s: &str) -> Result<(), TextProblem> {
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(TextProblem {
            code: "TEXT_TOO_LONG",
            message: format!("{field}：名称不能超过 {MAX_NAME_CHARS} 个字"),
            field: field.to_string(),
        });
    }
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(TextProblem {
            code: "TEXT_FORBIDDEN_CHAR",
            message: format!("{field}：名称不能含控制字符或文字方向控制符"),
            field: field.to_string(),
        });
    }
    Ok(())
}

/// A reason, note or other free text: at most `max` characters; control characters other than
/// line breaks and tabs are refused, and so are bidi controls.
pub fn check_text(field: &str, s: &str, max: usize) -> Result<(), TextProblem> {
    let n = s.chars().count();
    if n > max {
        return Err(TextProblem {
            code: "TEXT_TOO_LONG",
            message: format!("{field}：不能超过 {max} 个字（现有 {n} 个字）"),
            field: field.to_string(),
        });
    }
    if s.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c))
    {
        return Err(TextProblem {
            code: "TEXT_FORBIDDEN_CHAR",
            message: format!("{field}：不能含控制字符或文字方向控制符"),
            field: field.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_up_to_100_chars_pass() {
        assert!(check_name("name", &"广".repeat(100)).is_ok());
        assert!(check_name("name", "").is_ok());
        let e = check_name("name", &"广".repeat(101)).unwrap_err();
        assert_eq!(e.code, "TEXT_TOO_LONG");
        assert_eq!(e.field, "name");
    }

    #[test]
    fn names_refuse_controls_and_bidi_overrides() {
        for bad in [
            "a\u{202E}gpj.exe",
            "a\u{2066}b",
            "a\u{2069}",
            "a\u{202A}",
            "x\ny",
            "x\u{0}",
            "x\t",
        ] {
            let e = check_name("display_name", bad).unwrap_err();
            assert_eq!(e.code, "TEXT_FORBIDDEN_CHAR", "{bad:?}");
        }
        assert!(check_name("name", "广州市海珠区某某职业培训学校（分校）").is_ok());
    }

    #[test]
    fn texts_allow_line_breaks_but_not_other_controls() {
        assert!(check_text("reason", "第一行\r\n第二行\t缩进", MAX_REASON_CHARS).is_ok());
        assert!(check_text("reason", &"字".repeat(2000), MAX_REASON_CHARS).is_ok());
        let e = check_text("reason", &"字".repeat(2001), MAX_REASON_CHARS).unwrap_err();
        assert_eq!(e.code, "TEXT_TOO_LONG");
        assert!(e.message.contains("2000"), "{}", e.message);
        assert_eq!(
            check_text("reason", "a\u{7}b", 10).unwrap_err().code,
            "TEXT_FORBIDDEN_CHAR"
        );
        assert_eq!(
            check_text("reason", "a\u{202E}b", 10).unwrap_err().code,
            "TEXT_FORBIDDEN_CHAR"
        );
    }
}
