//! What the outbox deliveries (webhooks, device pushes, mail) share: how
//! long a claim lasts, how many messages a round claims, and the jitter
//! their retries are spread by.

/// How long a claim lasts before another worker may take the message.
pub const LEASE_MS: i64 = 30_000;
/// Webhook messages and device pushes claimed at once.
pub const BATCH: u64 = 50;
/// Emails claimed at once (each SMTP send is a connection of its own).
pub const MAIL_BATCH: u64 = 10;

/// A uniform random number in [0, 1) for retry jitter.
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}
