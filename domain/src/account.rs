//! What a valid account looks like: email, password and display name rules.

use std::str::FromStr;

use email_address::EmailAddress;

/// Longest password accepted. Argon2 cost grows with input length, so an
/// unbounded password is a denial-of-service lever.
pub const PASSWORD_MAX_BYTES: usize = 1024;
/// Shortest password accepted (NIST SP 800-63B asks for at least 8).
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Longest display name accepted.
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;

/// Normalises an email address for storage and lookup: trimmed, lowercased,
/// and syntactically valid.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 {
        return Err("must be at most 254 characters".into());
    }
    match EmailAddress::from_str(&email) {
        Ok(_) if email.contains('@') && !email.ends_with('@') => Ok(email),
        _ => Err("must be an email address".into()),
    }
}

/// Checks a new password's length; the content is never echoed back.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(format!("must be at most {PASSWORD_MAX_BYTES} bytes"));
    }
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(format!("must be at least {PASSWORD_MIN_CHARS} characters"));
    }
    Ok(())
}

/// Normalises a display name: trimmed, non-empty, bounded, no control
/// characters.
pub fn normalize_display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return Err(format!(
            "must be at most {DISPLAY_NAME_MAX_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let cases = [
            ("  Ana@Example.ORG ", Some("ana@example.org")),
            ("ana@example", Some("ana@example")),
            ("ana", None),
            ("@example.org", None),
            ("ana@", None),
            ("", None),
            ("a b@example.org", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_email(raw).ok().as_deref(), expected, "{raw:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(PASSWORD_MAX_BYTES + 1)).is_err());
        // Length counts characters, not bytes, at the lower bound.
        assert!(check_password("ééééééééé").is_err());
        assert!(check_password("éééééééééé").is_ok());
    }

    #[test]
    fn display_names() {
        assert_eq!(normalize_display_name("  Ana ").as_deref(), Ok("Ana"));
        assert!(normalize_display_name("   ").is_err());
        assert!(normalize_display_name("a\u{7}b").is_err());
        assert!(normalize_display_name(&"a".repeat(101)).is_err());
    }
}
