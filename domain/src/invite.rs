//! Invite codes: short enough to read out over the phone, long enough not to
//! be guessed (60 bits), forgiving of how they are typed.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;

/// Formats 60 random bits (from `random`) as `XXXX-XXXX-XXXX` in Crockford's
/// base 32, which has no I, L, O or U.
pub fn format_code(random: u64) -> String {
    let mut code = String::with_capacity(GROUPS * (GROUP_LEN + 1));
    for i in 0..GROUPS * GROUP_LEN {
        if i > 0 && i % GROUP_LEN == 0 {
            code.push('-');
        }
        let index = (random >> (5 * i)) & 0x1f;
        code.push(char::from(ALPHABET[index as usize]));
    }
    code
}

/// The canonical form of a typed code: case, dashes and spaces ignored, and
/// the letters people confuse with digits read as those digits. `None` when
/// it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut code = String::with_capacity(GROUPS * GROUP_LEN);
    for c in typed.chars().filter(|c| !matches!(c, '-' | ' ')) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        code.push(c);
    }
    (code.len() == GROUPS * GROUP_LEN).then_some(code)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn codes_are_grouped() {
        let code = format_code(0x0fff_ffff_ffff_ffff);
        assert_eq!(code, "ZZZZ-ZZZZ-ZZZZ");
        assert_eq!(format_code(0), "0000-0000-0000");
    }

    #[test]
    fn typing_variations_are_forgiven() {
        assert_eq!(
            normalize_code("abcd efgh-jkm0").as_deref(),
            Some("ABCDEFGHJKM0")
        );
        assert_eq!(
            normalize_code("OIL0-0000-0000").as_deref(),
            Some("011000000000")
        );
        assert_eq!(normalize_code("ABCD-EFGH"), None);
        assert_eq!(normalize_code("ABCD-EFGH-JKMU"), None);
        assert_eq!(normalize_code("ÀBCD-EFGH-JKM0"), None);
    }

    proptest! {
        #[test]
        fn every_formatted_code_normalizes_to_itself_without_dashes(random in any::<u64>()) {
            let code = format_code(random);
            prop_assert_eq!(normalize_code(&code), Some(code.replace('-', "")));
        }
    }
}
