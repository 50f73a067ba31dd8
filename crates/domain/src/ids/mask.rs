//! Masking of identity document numbers for lists, exports and logs (R-PII-1, SECURITY.md S13).

/// Masks an identity document number, valid or not, so that it can be shown in a list.
///
/// The input is trimmed, then every character except a few at the ends becomes `*`; the length
/// is kept so that a reader can still tell the kind of document:
///
/// | characters | kept | example |
/// |---|---|---|
/// | 15 or more (ID cards, residence permits) | first 4, last 4 | `4401**********123X` (R-PII-1) |
/// | 8 to 14 (travel permits) | first 1, last 2 | `H******78`, `1*****78` |
/// | fewer than 8 | none | `*****` |
///
/// So at most 8 characters of any input are ever shown, and for 18-character numbers the birth
/// date (characters 7–14) is always hidden. Works on characters, not bytes: never panics on
/// non-ASCII input.
///
/// SECURITY.md S13 shows `440105**********1235` (first 6 kept, 20 characters): that example is
/// not an 18-character number; R-PII-1's `4401**********123X` is followed here.
pub fn mask_id(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        15.. => (4, 4),
        8..=14 => (1, 2),
        _ => (0, 0),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i + tail >= n { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn r_pii_1_masks_citizen_id_like_the_spec_example() {
        assert_eq!(mask_id("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id("  440105199003071234 "), "4401**********1234");
    }

    #[test]
    fn r_pii_1_masks_travel_permits() {
        assert_eq!(mask_id("H12345678"), "H******78");
        assert_eq!(mask_id("M1234567801"), "M********01");
        assert_eq!(mask_id("12345678"), "1*****78");
    }

    #[test]
    fn r_pii_1_short_or_empty_values_are_fully_masked() {
        assert_eq!(mask_id(""), "");
        assert_eq!(mask_id("1234567"), "*******");
        assert_eq!(mask_id("身份证"), "***");
    }

    #[test]
    fn r_pii_1_masking_is_by_character_not_byte() {
        assert_eq!(mask_id("４４０１０５１９９０"), "４*******９０");
    }

    proptest! {
        /// R-PII-1 / S13: whatever is stored, a masked value shows at most 8 original characters.
        #[test]
        fn r_pii_1_masking_never_reveals_more_than_8_characters(raw in "\\PC{0,40}") {
            let masked = mask_id(&raw);
            let original: Vec<char> = raw.trim().chars().collect();
            let shown: Vec<char> = masked.chars().collect();
            prop_assert_eq!(shown.len(), original.len());
            let revealed = shown.iter().zip(&original).filter(|(s, _)| **s != '*').count();
            prop_assert!(revealed <= 8, "revealed {revealed} of {raw:?}");
            // Every shown character is the original one, in place.
            for (s, o) in shown.iter().zip(&original) {
                prop_assert!(*s == '*' || s == o);
            }
        }

        #[test]
        fn r_pii_1_masked_18_digit_number_hides_the_birth_date(raw in "[0-9]{17}[0-9X]") {
            let masked = mask_id(&raw);
            prop_assert_eq!(&masked[4..14], "**********");
            prop_assert_eq!(&masked[..4], &raw[..4]);
            prop_assert_eq!(&masked[14..], &raw[14..]);
        }
    }
}
