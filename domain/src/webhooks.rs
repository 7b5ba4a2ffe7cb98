//! Webhooks: Standard Webhooks signatures (signing and verifying), the
//! guard against server-side request forgery, and the retry schedule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::red_flags::Severity;

/// The least severe alert an org's systems hear of, and an endpoint's
/// default: routine alerts stay in the inbox.
pub const LEAST_SENT: Severity = Severity::Urgent;

/// Whether alerts of `severity` go to webhooks at all (an endpoint may ask
/// for fewer, never for more).
pub fn is_sent(severity: Severity) -> bool {
    severity >= LEAST_SENT
}

/// The severities an endpoint may ask for as its least, least first.
pub fn sent_severities() -> impl Iterator<Item = Severity> {
    [Severity::Routine, Severity::Urgent, Severity::Emergency]
        .into_iter()
        .filter(|s| is_sent(*s))
}

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

/// One block of an IANA address registry, and whether the registry says
/// its addresses are globally reachable.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: u128,
    len: u8,
    global: bool,
}

const fn v4(start: Ipv4Addr, len: u8, global: bool) -> Block {
    Block {
        start: start.to_bits() as u128,
        len,
        global,
    }
}

const fn v6(start: Ipv6Addr, len: u8, global: bool) -> Block {
    Block {
        start: start.to_bits(),
        len,
        global,
    }
}

// The IANA IPv4 Special-Purpose Address Registry
// (iana.org/assignments/iana-ipv4-special-registry, updated 2025-10-09),
// row by row, with its "Globally Reachable" column. A deprecated row with
// that column blank counts as not reachable.
const V4_SPECIAL: [Block; 27] = [
    v4(Ipv4Addr::new(0, 0, 0, 0), 8, false), // "This network", RFC 791
    v4(Ipv4Addr::new(0, 0, 0, 0), 32, false), // "This host on this network", RFC 1122
    v4(Ipv4Addr::new(10, 0, 0, 0), 8, false), // Private-Use, RFC 1918
    v4(Ipv4Addr::new(100, 64, 0, 0), 10, false), // Shared Address Space, RFC 6598
    v4(Ipv4Addr::new(127, 0, 0, 0), 8, false), // Loopback, RFC 1122
    v4(Ipv4Addr::new(169, 254, 0, 0), 16, false), // Link Local, RFC 3927
    v4(Ipv4Addr::new(172, 16, 0, 0), 12, false), // Private-Use, RFC 1918
    v4(Ipv4Addr::new(192, 0, 0, 0), 24, false), // IETF Protocol Assignments, RFC 6890
    v4(Ipv4Addr::new(192, 0, 0, 0), 29, false), // IPv4 Service Continuity Prefix, RFC 7335
    v4(Ipv4Addr::new(192, 0, 0, 8), 32, false), // IPv4 dummy address, RFC 7600
    v4(Ipv4Addr::new(192, 0, 0, 9), 32, true), // Port Control Protocol Anycast, RFC 7723
    v4(Ipv4Addr::new(192, 0, 0, 10), 32, true), // TURN Anycast, RFC 8155
    v4(Ipv4Addr::new(192, 0, 0, 170), 32, false), // NAT64/DNS64 Discovery, RFC 8880
    v4(Ipv4Addr::new(192, 0, 0, 171), 32, false), // NAT64/DNS64 Discovery, RFC 8880
    v4(Ipv4Addr::new(192, 0, 2, 0), 24, false), // Documentation (TEST-NET-1), RFC 5737
    v4(Ipv4Addr::new(192, 31, 196, 0), 24, true), // AS112-v4, RFC 7535
    v4(Ipv4Addr::new(192, 52, 193, 0), 24, true), // AMT, RFC 7450
    v4(Ipv4Addr::new(192, 88, 99, 0), 24, false), // Deprecated (6to4 Relay Anycast), RFC 7526
    v4(Ipv4Addr::new(192, 88, 99, 2), 32, false), // 6a44-relay anycast address, RFC 6751
    v4(Ipv4Addr::new(192, 168, 0, 0), 16, false), // Private-Use, RFC 1918
    v4(Ipv4Addr::new(192, 175, 48, 0), 24, true), // Direct Delegation AS112 Service, RFC 7534
    v4(Ipv4Addr::new(198, 18, 0, 0), 15, false), // Benchmarking, RFC 2544
    v4(Ipv4Addr::new(198, 51, 100, 0), 24, false), // Documentation (TEST-NET-2), RFC 5737
    v4(Ipv4Addr::new(203, 0, 113, 0), 24, false), // Documentation (TEST-NET-3), RFC 5737
    v4(Ipv4Addr::new(240, 0, 0, 0), 4, false), // Reserved, RFC 1112
    v4(Ipv4Addr::new(255, 255, 255, 255), 32, false), // Limited Broadcast, RFC 919
    // Not in that registry but in the IPv4 Multicast Address Space registry
    // (RFC 5771): a group, never the one peer a request goes to.
    v4(Ipv4Addr::new(224, 0, 0, 0), 4, false),
];

// The IANA IPv6 Special-Purpose Address Registry
// (iana.org/assignments/iana-ipv6-special-registry, updated 2025-10-09),
// row by row as above, less the rows for addresses that carry an IPv4
// address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, TEREDO 2001::/32,
// 6to4 2002::/16): those are judged by the IPv4 addresses they carry.
const V6_SPECIAL: [Block; 22] = [
    v6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128, false), // Loopback, RFC 4291
    v6(Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, false), // Unspecified, RFC 4291
    // IPv4-IPv6 Translation, local use (RFC 8215): its format is the
    // network's own, so no IPv4 address can be read from it; refused whole.
    v6(Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, false),
    v6(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, false), // Discard-Only, RFC 6666
    v6(Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0), 64, false), // Dummy IPv6 Prefix, RFC 9780
    v6(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, false), // IETF Protocol Assign., RFC 2928
    v6(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128, true), // PCP Anycast, RFC 7723
    v6(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128, true), // TURN Anycast, RFC 8155
    v6(Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 3), 128, true), // DNS-SD SRP Anycast, RFC 9665
    v6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, false), // Benchmarking, RFC 5180
    v6(Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32, true), // AMT, RFC 7450
    v6(Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48, true), // AS112-v6, RFC 7535
    v6(Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28, false), // Deprecated (ORCHID), RFC 4843
    v6(Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28, true), // ORCHIDv2, RFC 7343
    v6(Ipv6Addr::new(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28, true), // Drone Remote ID DETs, RFC 9374
    v6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32, false), // Documentation, RFC 3849
    // Direct Delegation AS112 Service, RFC 7534
    v6(Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0), 48, true),
    v6(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20, false), // Documentation, RFC 9637
    v6(Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16, false), // SRv6 SIDs, RFC 9602
    v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, false),  // Unique-Local, RFC 4193
    v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, false), // Link-Local Unicast, RFC 4291
    // Not in that registry: site-local, deprecated by RFC 3879 but still
    // routed inside some networks.
    v6(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, false),
];

// The only block of the IANA IPv6 Address Space registry allocated as
// Global Unicast (RFC 4291); everything else is reserved by the IETF,
// multicast (ff00::/8) or one of the special blocks above.
const V6_GLOBAL_UNICAST: Block = v6(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3, true);

impl Block {
    fn contains(&self, bits: u128, width: u32) -> bool {
        let shift = width.saturating_sub(u32::from(self.len));
        bits.checked_shr(shift) == self.start.checked_shr(shift)
    }
}

/// Whether `bits` is reachable according to `registry`: the most specific
/// block that holds it decides, and an address in no block is.
fn reachable(registry: &[Block], bits: u128, width: u32) -> bool {
    registry
        .iter()
        .filter(|block| block.contains(bits, width))
        .max_by_key(|block| block.len)
        .is_none_or(|block| block.global)
}

/// The IPv4 addresses an IPv6 address stands for, if it is one of the
/// transition forms: IPv4-mapped and IPv4-compatible (RFC 4291), NAT64's
/// well-known prefix 64:ff9b::/96 (RFC 6052), 6to4 (RFC 3056), and Teredo
/// (RFC 4380: the server and the client, whose address is stored inverted).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| Ipv4Addr::from_bits((u32::from(high) << 16) | u32::from(low));
    match s {
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0, 0, high, low] => {
            Some(vec![v4(high, low)])
        }
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(vec![v4(high, low)]),
        [0x2002, high, low, ..] => Some(vec![v4(high, low)]),
        [
            0x2001,
            0,
            server_high,
            server_low,
            _,
            _,
            client_high,
            client_low,
        ] => Some(vec![
            v4(server_high, server_low),
            v4(!client_high, !client_low),
        ]),
        _ => None,
    }
}

/// Whether an address is one a webhook may reach: globally reachable by
/// the IANA IPv4 and IPv6 special-purpose address registries, not
/// multicast, IPv6 only from the global unicast block, and an IPv6 address
/// that carries an IPv4 one (IPv4-mapped or -compatible, NAT64, 6to4,
/// Teredo) only when the IPv4 address it carries may be reached.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => reachable(&V4_SPECIAL, u128::from(v4.to_bits()), 32),
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(carried) => carried.into_iter().all(|v4| is_public(IpAddr::V4(v4))),
            None => {
                let bits = v6.to_bits();
                V6_GLOBAL_UNICAST.contains(bits, 128) && reachable(&V6_SPECIAL, bits, 128)
            }
        },
    }
}

/// Checks a webhook URL when it is registered: http(s), a host, no
/// credentials, and unless `allow_private` no literal address that
/// [`is_public`] refuses and no `localhost`. Names are checked when the
/// worker resolves them.
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
        return Err("must not point at a loopback, private or other non-public address".into());
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
    fn routine_alerts_stay_in_the_inbox_and_urgent_and_above_are_sent() {
        assert!(!is_sent(Severity::Routine));
        assert!(is_sent(Severity::Urgent) && is_sent(Severity::Emergency));
        assert_eq!(
            sent_severities().collect::<Vec<_>>(),
            [Severity::Urgent, Severity::Emergency]
        );
    }

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

    /// Addresses no webhook may reach, with the block each stands for.
    const REFUSED: [(&str, &str); 51] = [
        ("0.0.0.0", "this host"),
        ("0.1.2.3", "this network 0/8"),
        ("10.1.2.3", "private 10/8"),
        ("100.64.0.1", "shared CGNAT 100.64/10"),
        ("100.127.255.254", "shared CGNAT 100.64/10"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback 127/8"),
        ("169.254.169.254", "link-local, cloud metadata"),
        ("172.16.0.1", "private 172.16/12"),
        ("172.31.255.254", "private 172.16/12"),
        ("192.0.0.1", "IETF protocol assignments 192.0.0/24"),
        ("192.0.0.8", "IPv4 dummy address"),
        ("192.0.0.170", "NAT64 discovery"),
        ("192.0.2.1", "documentation TEST-NET-1"),
        ("192.88.99.1", "deprecated 6to4 relay anycast"),
        ("192.168.1.1", "private 192.168/16"),
        ("198.18.0.1", "benchmarking 198.18/15"),
        ("198.19.255.254", "benchmarking 198.18/15"),
        ("198.51.100.1", "documentation TEST-NET-2"),
        ("203.0.113.1", "documentation TEST-NET-3"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast SSDP"),
        ("240.0.0.1", "reserved 240/4"),
        ("255.255.255.255", "limited broadcast"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::127.0.0.1", "IPv4-compatible loopback"),
        ("::10.0.0.1", "IPv4-compatible private"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
        ("64:ff9b::7f00:1", "NAT64 of loopback"),
        ("64:ff9b::a00:1", "NAT64 of private"),
        ("64:ff9b:1::808:808", "NAT64 local-use 64:ff9b:1::/48"),
        ("2002:7f00:1::", "6to4 of loopback"),
        ("2002:c0a8:101::1", "6to4 of private"),
        (
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "Teredo, client 127.0.0.1",
        ),
        (
            "2001:0:7f00:1:8000:63bf:f7f7:f7f7",
            "Teredo, server 127.0.0.1",
        ),
        ("100::1", "discard-only 100::/64"),
        ("2001:2::1", "benchmarking 2001:2::/48"),
        ("2001:10::1", "deprecated ORCHID"),
        ("2001:db8::1", "documentation 2001:db8::/32"),
        ("3fff::1", "documentation 3fff::/20"),
        ("5f00::1", "SRv6 SIDs"),
        ("fc00::1", "unique local fc00::/7"),
        ("fd12:3456::1", "unique local fc00::/7"),
        ("fe80::1", "link-local fe80::/10"),
        ("febf::1", "link-local fe80::/10"),
        ("fec0::1", "site-local fec0::/10"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "global multicast"),
        ("4000::1", "outside global unicast 2000::/3"),
    ];

    /// Addresses on the public internet, which stay allowed.
    const ALLOWED: [(&str, &str); 13] = [
        ("1.1.1.1", "Cloudflare"),
        ("8.8.8.8", "Google"),
        ("9.9.9.9", "Quad9"),
        ("192.0.0.9", "PCP anycast, globally reachable in 192.0.0/24"),
        ("192.31.196.1", "AS112, globally reachable"),
        ("223.255.255.254", "just below multicast"),
        ("2606:4700::1111", "Cloudflare"),
        ("2001:4860:4860::8888", "Google, beside 2001::/23"),
        ("2001:1::1", "PCP anycast, globally reachable in 2001::/23"),
        ("::ffff:1.1.1.1", "IPv4-mapped public"),
        ("64:ff9b::808:808", "NAT64 of public"),
        ("2002:808:808::1", "6to4 of public"),
        (
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            "Teredo, public server and client",
        ),
    ];

    #[test]
    fn addresses_outside_the_globally_reachable_space_are_refused() {
        for (ip, what) in REFUSED {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} ({what}) must be refused");
        }
        for (ip, what) in ALLOWED {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} ({what}) must be allowed");
        }
    }

    #[test]
    fn targets_on_private_networks_are_refused_unless_allowed() {
        let refused = [
            "http://127.0.0.1/hook",
            "http://127.1/hook",
            "http://0x7f000001/hook",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://metadata.internal/",
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
        for (ip, what) in REFUSED {
            let host = if ip.contains(':') {
                format!("[{ip}]")
            } else {
                ip.to_owned()
            };
            let url = format!("https://{host}/hook");
            assert!(check_target(&url, false).is_err(), "{url} ({what})");
            assert!(check_target(&url, true).is_ok(), "{url} ({what}) allowed");
        }
        assert!(check_target("https://hooks.example.org/dorsal", false).is_ok());
        assert!(check_target("https://8.8.8.8/", false).is_ok());
        assert!(check_target("https://[2606:4700::1111]/", false).is_ok());
        assert!(check_target("http://127.0.0.1:9000/hook", true).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn an_ipv4_address_is_allowed_iff_the_ipv6_forms_carrying_it_are(bits: u32) {
            let v4 = Ipv4Addr::from_bits(bits);
            let [high, low] = [(bits >> 16) as u16, bits as u16];
            let allowed = is_public(IpAddr::V4(v4));
            let forms = [
                v4.to_ipv6_mapped(),
                v4.to_ipv6_compatible(),
                Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, high, low),
                Ipv6Addr::new(0x2002, high, low, 0, 0, 0, 0, 1),
                // Teredo with a public server (65.54.227.120) and this client.
                Ipv6Addr::new(0x2001, 0, 0x4136, 0xe378, 0x8000, 0x63bf, !high, !low),
            ];
            for form in forms {
                let as_v6 = is_public(IpAddr::V6(form));
                proptest::prop_assert_eq!(as_v6, allowed, "{} as {}", v4, form);
            }
        }
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
