//! Webhooks: Standard Webhooks signatures (signing and verifying), the
//! guard against server-side request forgery, and the retry schedule.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Retry delays after each failed attempt, in seconds: front-loaded, then
/// dead after the last.
pub const RETRY_SCHEDULE_SECONDS: [i64; 6] = [5, 30, 120, 600, 3_600, 21_600];
/// Signatures older or newer than this are refused by [`verify`], seconds.
pub const TOLERANCE_SECONDS: i64 = 300;
/// What every Standard Webhooks secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// The key bytes of a `whsec_…` secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|_| "the secret is not base64".to_owned())
}

/// A new secret from random bytes.
pub fn format_secret(random: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

/// The `webhook-signature` header value for one attempt:
/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Receiver-side check: one of the space-separated signatures must match,
/// and the timestamp must be within [`TOLERANCE_SECONDS`] of `now`.
pub fn verify(
    key: &[u8],
    msg_id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), &'static str> {
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    if (now_seconds - ts).abs() > TOLERANCE_SECONDS {
        return Err("timestamp out of tolerance");
    }
    let expected = sign(key, msg_id, ts, body);
    let expected = expected.strip_prefix("v1,").unwrap_or_default();
    let matches = signatures
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|candidate| {
            // Compare without an early exit.
            candidate.len() == expected.len()
                && candidate
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
    if matches {
        Ok(())
    } else {
        Err("no matching signature")
    }
}

/// Whether an address is one a webhook may reach: not loopback, private,
/// link-local, unspecified, multicast, documentation or shared space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks a webhook URL when it is registered: http(s), a host, no
/// credentials, and unless `allow_private` no loopback or private literal
/// address and no `localhost`. Names are checked again when resolved.
pub fn check_target(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute URL".to_owned())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let private = match url.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal")
        }
    };
    if private && !allow_private {
        return Err("must not point at a loopback, private or link-local address".into());
    }
    Ok(url)
}

/// When to try again after failed attempt number `attempt` (1-based), or
/// `None` when the schedule is exhausted (the delivery is dead).
/// `jitter` in [0, 1) spreads retries by up to ±10%; a longer `Retry-After`
/// from the receiver wins.
pub fn next_attempt(
    attempt: u32,
    now_ms: i64,
    retry_after_seconds: Option<i64>,
    jitter: f64,
) -> Option<i64> {
    let index = usize::try_from(attempt).ok()?.checked_sub(1)?;
    let base = *RETRY_SCHEDULE_SECONDS.get(index)?;
    let spread = (base as f64 * 0.1 * (2.0 * jitter.clamp(0.0, 1.0) - 1.0)) as i64;
    let delay = Ord::max(
        base + spread,
        retry_after_seconds.unwrap_or(0).clamp(0, 86_400),
    );
    Some(now_ms + delay * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(
            verify(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &signature,
                body,
                1614265400
            )
            .is_ok()
        );
    }

    #[test]
    fn verification_refuses_tampering_old_timestamps_and_other_keys() {
        let key = secret_key(&format_secret(&[7u8; 24])).unwrap();
        let body = b"{\"type\":\"alert.raised\"}";
        let good = sign(&key, "msg_1", 1_000_000, body);
        let both = format!("v1,AAAA {good}");
        assert!(
            verify(&key, "msg_1", "1000000", &both, body, 1_000_010).is_ok(),
            "rotation lists several"
        );
        assert!(verify(&key, "msg_1", "1000000", &good, b"{}", 1_000_010).is_err());
        assert!(verify(&key, "msg_2", "1000000", &good, body, 1_000_010).is_err());
        assert!(verify(&key, "msg_1", "1000000", &good, body, 1_000_301).is_err());
        assert!(verify(&[1u8; 24], "msg_1", "1000000", &good, body, 1_000_010).is_err());
    }

    #[test]
    fn targets_on_private_networks_are_refused_unless_allowed() {
        let refused = [
            "http://127.0.0.1/hook",
            "http://localhost:8080/",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://100.64.0.1/",
            "ftp://example.org/",
            "https://user:pw@example.org/",
            "not a url",
        ];
        for url in refused {
            assert!(check_target(url, false).is_err(), "{url}");
        }
        assert!(check_target("https://hooks.example.org/dorsal", false).is_ok());
        assert!(check_target("https://8.8.8.8/", false).is_ok());
        assert!(check_target("http://127.0.0.1:9000/hook", true).is_ok());
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_retry_after() {
        assert_eq!(next_attempt(1, 0, None, 0.5), Some(5_000));
        assert_eq!(next_attempt(2, 0, None, 0.5), Some(30_000));
        assert_eq!(next_attempt(6, 0, None, 0.5), Some(21_600_000));
        assert_eq!(next_attempt(7, 0, None, 0.5), None);
        assert_eq!(next_attempt(2, 0, None, 0.0), Some(27_000));
        assert_eq!(next_attempt(2, 0, None, 0.999_999), Some(32_000));
        assert_eq!(next_attempt(1, 0, Some(60), 0.5), Some(60_000));
        assert_eq!(next_attempt(0, 0, None, 0.5), None);
    }
}
