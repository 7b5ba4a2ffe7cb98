//! Random tokens and their stored digests, and the secrets dorsal is
//! configured with or generates for the embedded default.

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{Backend, Config, ConfigError, SECRET_MIN_BYTES};
use crate::error::{OrInternal, ServiceResult};

/// A new time-ordered id for a server-created row.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> ServiceResult<[u8; N]> {
    let mut bytes = [0u8; N];
    // getrandom's error is a std error only with its `std` feature; the OS
    // error code it carries is the whole cause.
    getrandom::fill(&mut bytes)
        .map_err(|err| match err.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::other(err.to_string()),
        })
        .or_internal("random source")?;
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

/// A secret from the configuration, at least [`SECRET_MIN_BYTES`] long;
/// `setting` is the environment name errors tell the operator to set. Unset
/// on PostgreSQL it is an error; unset on SQLite one is generated once into
/// the data directory as `file` (readable by its owner only) and read back
/// on later starts.
pub(crate) fn configured_or_generated(
    config: &Config,
    configured: Option<&SecretString>,
    setting: &str,
    file: &str,
) -> Result<SecretString, ConfigError> {
    if let Some(secret) = configured {
        return check_secret_length(secret, setting);
    }
    if config.backend()? == Backend::Postgres {
        return Err(ConfigError::Invalid(format!(
            "{setting} must be set to at least {SECRET_MIN_BYTES} random bytes when running on \
             PostgreSQL, e.g. {setting}=$(openssl rand -base64 48)"
        )));
    }
    let path = config.data_dir().join(file);
    if path.exists() {
        let stored = fs::read_to_string(&path).map_err(|err| {
            ConfigError::Invalid(format!("cannot read {}: {err}", path.display()))
        })?;
        return check_secret_length(&SecretString::from(stored.trim()), &path.to_string_lossy());
    }
    generate_secret_file(&path, setting)
}

/// `secret` if it is at least [`SECRET_MIN_BYTES`] long; `source` names it
/// in the error.
pub(crate) fn check_secret_length(
    secret: &SecretString,
    source: &str,
) -> Result<SecretString, ConfigError> {
    if secret.expose_secret().len() < SECRET_MIN_BYTES {
        return Err(ConfigError::Invalid(format!(
            "{source} must be at least {SECRET_MIN_BYTES} bytes, e.g. $(openssl rand -base64 48)"
        )));
    }
    Ok(secret.clone())
}

fn generate_secret_file(path: &Path, setting: &str) -> Result<SecretString, ConfigError> {
    let bytes = random_bytes::<48>().map_err(|err| ConfigError::Invalid(err.to_string()))?;
    let secret = STANDARD.encode(bytes);
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        file.write_all(secret.as_bytes())?;
        file.sync_all()
    };
    write().map_err(|err| {
        ConfigError::Invalid(format!(
            "cannot write the generated secret {}: {err}",
            path.display()
        ))
    })?;
    tracing::info!(path = %path.display(), setting, "the setting is unset: generated a secret into the data directory");
    Ok(SecretString::from(secret))
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
