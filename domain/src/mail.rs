//! What the mail settings mean: the SMTP URL (where, how secured, whose
//! login) and the sender. One parser, used when the configuration is
//! validated and when the worker connects.

use crate::account::normalize_email;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: plain connection upgraded with STARTTLS, which the server
    /// must offer (no silent fallback to plain text).
    StartTls,
    /// `smtps://`: TLS from the first byte (RFC 8314).
    ImplicitTls,
    /// `smtp://…?tls=none`: no encryption, for a relay on the same host or
    /// private network.
    None,
}

/// Where mail goes, from `smtp_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    /// Server name (also the name its certificate must carry).
    pub host: String,
    /// Port; 587 for `smtp://`, 465 for `smtps://` when the URL gives none.
    pub port: u16,
    /// How the connection is secured.
    pub security: SmtpSecurity,
    /// User name and password (percent-decoded) for AUTH, when the URL
    /// carries them.
    pub login: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("login", &self.login.as_ref().map(|(user, _)| user))
            .finish()
    }
}

/// Parses an SMTP URL: `smtp://[user:pass@]host[:port][?tls=required|none]`
/// or `smtps://[user:pass@]host[:port]`. Errors never repeat the URL, which
/// may hold a password.
pub fn parse_smtp_url(raw: &str) -> Result<SmtpTarget, String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| "mail.smtp_url is not a URL (smtp://host:port or smtps://user:pass@host)")?;
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), tls) {
            ("tls", None) => tls = Some(value.into_owned()),
            _ => return Err("mail.smtp_url takes one query parameter, tls".into()),
        }
    }
    let (security, default_port) = match (url.scheme(), tls.as_deref()) {
        ("smtp", None | Some("required")) => (SmtpSecurity::StartTls, 587),
        ("smtp", Some("none")) => (SmtpSecurity::None, 587),
        ("smtp", Some(_)) => return Err("mail.smtp_url: tls must be required or none".into()),
        ("smtps", None) => (SmtpSecurity::ImplicitTls, 465),
        ("smtps", Some(_)) => {
            return Err("mail.smtp_url: smtps:// is always TLS; drop the tls parameter".into());
        }
        _ => return Err("mail.smtp_url must start with smtp:// or smtps://".into()),
    };
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or("mail.smtp_url names no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if url.path().len() > 1 {
        return Err("mail.smtp_url takes no path".into());
    }
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| "mail.smtp_url: the user or password is not UTF-8 once decoded")
    };
    let login = match (url.username(), url.password()) {
        ("", None) => None,
        (user, Some(password)) if !user.is_empty() => Some((decode(user)?, decode(password)?)),
        _ => return Err("mail.smtp_url: give both a user and a password, or neither".into()),
    };
    Ok(SmtpTarget {
        host,
        port: url.port().unwrap_or(default_port),
        security,
        login,
    })
}

/// Checks the sender, `Name <address>` or a bare address.
pub fn check_sender(from: &str) -> Result<(), String> {
    let from = from.trim();
    let address = match (from.rfind('<'), from.strip_suffix('>')) {
        (Some(open), Some(rest)) => &rest[open + 1..],
        (None, None) => from,
        _ => return Err("mail.from must be `Name <address>` or an address".into()),
    };
    normalize_email(address)
        .map(drop)
        .map_err(|_| "mail.from must be `Name <address>` or an address".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_means_starttls_required_unless_the_url_says_none() {
        let target = parse_smtp_url("smtp://relay.example.org").unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.security),
            ("relay.example.org", 587, SmtpSecurity::StartTls)
        );
        assert_eq!(target.login, None);
        let required = parse_smtp_url("smtp://relay.example.org:2525?tls=required").unwrap();
        assert_eq!(
            (required.port, required.security),
            (2525, SmtpSecurity::StartTls)
        );
        let plain = parse_smtp_url("smtp://127.0.0.1:25?tls=none").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.security),
            ("127.0.0.1", 25, SmtpSecurity::None)
        );
    }

    #[test]
    fn smtps_is_implicit_tls_with_a_percent_decoded_login() {
        let target =
            parse_smtp_url("smtps://mailer%40clinic:p%40ss%3Aw0rd@smtp.example.org").unwrap();
        assert_eq!(target.port, 465);
        assert_eq!(target.security, SmtpSecurity::ImplicitTls);
        assert_eq!(
            target.login,
            Some(("mailer@clinic".to_owned(), "p@ss:w0rd".to_owned()))
        );
        let debug = format!("{target:?}");
        assert!(!debug.contains("p@ss"), "{debug}");
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_the_password() {
        for url in [
            "http://x.example.org",
            "smtp://",
            "smtp://x.example.org?tls=opportunistic",
            "smtps://x.example.org?tls=none",
            "smtp://user@x.example.org",
            "smtp://x.example.org/ehlo",
            "smtp://x.example.org?tls=none&tls=none",
            "not a url hunter2",
        ] {
            let err = parse_smtp_url(url).unwrap_err();
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }

    #[test]
    fn senders_are_an_address_with_or_without_a_name() {
        assert!(check_sender("dorsal <no-reply@localhost>").is_ok());
        assert!(check_sender("no-reply@clinic.example").is_ok());
        for bad in ["dorsal", "dorsal <no-reply@localhost", "<>", ""] {
            assert!(check_sender(bad).is_err(), "{bad}");
        }
    }
}
