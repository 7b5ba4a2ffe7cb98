//! Random tokens and their stored digests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// A new time-ordered id for a server-created row.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> ServiceResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|err| ServiceError::Internal(format!("random source: {err}")))?;
    Ok(bytes)
}

/// A URL-safe random token carrying 256 bits.
pub fn random_token() -> ServiceResult<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// The digest under which a bearer secret (refresh token, invite code) is
/// stored, so a leaked table does not leak usable secrets.
pub fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_url_safe() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(digest("abc"), digest("abc"));
        assert_ne!(digest("abc"), digest("abd"));
    }
}
