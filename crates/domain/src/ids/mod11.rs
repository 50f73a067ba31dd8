//! The ISO 7064 MOD 11-2 check character of GB 11643-1999 (§6.2), shared by every 18-character
//! number that [`super::PersonId`] accepts (citizen IDs, residence permits of HK/Macao/Taiwan
//! residents, the 2023 foreigners' permanent-residence ID card).

/// Weight of position i (1-based, left to right) is 2^(18 − i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for the first 17 digits of an 18-character ID number: `'0'`–`'9'` or `'X'`.
///
/// Returns `None` unless `first17` is exactly 17 ASCII digits. Used by the parser and by the demo
/// data generator to make valid numbers.
///
/// ```
/// assert_eq!(peixun_domain::ids::check_char("11010519491231002"), Some('X'));
/// ```
pub fn check_char(first17: &str) -> Option<char> {
    let digits = first17.as_bytes();
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    // The full number, check value included with weight 1, must sum to 1 (mod 11).
    let value = (12 - sum % 11) % 11;
    Some(match value {
        10 => 'X',
        v => char::from(b'0' + v as u8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_powers_of_two_mod_11() {
        for (i, w) in WEIGHTS.iter().enumerate() {
            assert_eq!(*w, 2u32.pow(17 - i as u32) % 11, "position {}", i + 1);
        }
    }

    #[test]
    fn gb_11643_sample_check_character_is_x() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
    }

    #[test]
    fn check_char_refuses_anything_but_17_digits() {
        assert_eq!(check_char(""), None);
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("110105194912310021"), None);
        assert_eq!(check_char("1101051949123100X"), None);
        assert_eq!(check_char("１１０１０５１９４９１２３１００２"), None);
    }

    /// S17, the algebra behind the property tests: changing one digit d → d' at position i moves the
    /// weighted sum by w_i·(d' − d). Every weight is a unit mod 11 and |d' − d| ≤ 9 < 11, so the sum
    /// mod 11 always changes and the check character (a bijection of the sum mod 11) no longer fits.
    /// This enumerates every (position, d, d') once, which covers every ID number.
    #[test]
    fn s17_every_single_digit_substitution_changes_the_sum_mod_11() {
        for w in WEIGHTS {
            for d in 0..10u32 {
                for d2 in 0..10u32 {
                    if d != d2 {
                        assert_ne!((w * d) % 11, (w * d2) % 11);
                    }
                }
            }
        }
    }

    /// Adjacent transpositions within the 17 digits are caught too: neighbouring weights differ.
    #[test]
    fn adjacent_weights_differ_so_transpositions_are_caught() {
        for pair in WEIGHTS.windows(2) {
            assert_ne!(pair[0] % 11, pair[1] % 11);
        }
    }
}
