//! Typed configuration, layered once at startup and validated there:
//! built-in `config/default.toml` ← optional `config/local.toml` ← environment.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Shortest accepted configured secret (signing secrets, data keys), in
/// bytes.
pub const SECRET_MIN_BYTES: usize = 32;

/// Everything dorsal can be told, after layering.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: SecretString,
    /// Listen address of the HTTP API.
    pub bind: String,
    /// Access-token signing secret; see [`crate::auth::resolve_jwt_secret`].
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// The key stored secrets are encrypted under; see
    /// [`crate::sealed::resolve_data_key`].
    #[serde(default)]
    pub data_key: Option<SecretString>,
    /// A retired data key, accepted for decrypting only, while values sealed
    /// under it are sealed again under `data_key`.
    #[serde(default)]
    pub previous_data_key: Option<SecretString>,
    /// Folder for the embedded default's generated secrets; empty: the
    /// SQLite file's folder.
    #[serde(default)]
    pub data_dir: String,
    /// Allow webhook targets on loopback and private networks.
    pub webhook_allow_private: bool,
    /// tracing filter.
    pub log: String,
    /// `pretty` or `json`.
    pub log_format: LogFormat,
    /// Pool settings.
    pub database: DatabaseConfig,
    /// HTTP limits.
    pub http: HttpConfig,
    /// Tokens, passwords, login limits, invites.
    pub auth: AuthConfig,
    /// Background work.
    pub worker: WorkerConfig,
    /// Red-flag thresholds.
    #[serde(default)]
    pub red_flags: dorsal_domain::red_flags::Thresholds,
    /// Evening reminders and prompts.
    pub reminders: RemindersConfig,
    /// Push channels.
    pub push: DevicePushConfig,
    /// Device sync.
    pub sync: SyncConfig,
    /// Outgoing email.
    pub mail: MailConfig,
}

/// `[mail]`: how the worker delivers the mail outbox.
#[derive(Debug, Clone, Deserialize)]
pub struct MailConfig {
    /// `smtp://host:port` (STARTTLS required; `?tls=none` for a local
    /// relay) or `smtps://user:pass@host:port` (implicit TLS); see
    /// [`dorsal_domain::mail::parse_smtp_url`]. Unset or empty: each
    /// message is written as an `.eml` file into `<data dir>/mail/`.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// The sender, `Name <address>`.
    pub from: String,
    /// An extra PEM file of root certificates the SMTP server's
    /// certificate may chain to (a private relay's CA); empty: the
    /// system's roots only.
    #[serde(default)]
    pub ca_file: String,
}

impl MailConfig {
    /// The SMTP URL, when one is set and not empty.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url
            .as_ref()
            .map(|url| url.expose_secret().trim())
            .filter(|url| !url.is_empty())
    }
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize)]
pub struct SyncConfig {
    /// Days a push's stored answer is kept for a retry with the same
    /// `Idempotency-Key`.
    pub receipt_days: i64,
}

impl SyncConfig {
    /// `receipt_days` in milliseconds.
    pub fn receipt_ttl_ms(&self) -> i64 {
        self.receipt_days.saturating_mul(86_400_000)
    }
}

/// `[reminders]`.
#[derive(Debug, Clone, Deserialize)]
pub struct RemindersConfig {
    /// Minutes a reminder may still go out late after downtime.
    pub grace_minutes: i64,
    /// Schedules one worker takes per round.
    pub batch: u64,
    /// Age in years from which a mattress is due (7–10).
    pub mattress_years: i16,
    /// Local hour from which prompts may be sent.
    pub prompt_from_hour: i8,
    /// Local hour until which prompts may be sent.
    pub prompt_until_hour: i8,
}

/// `[push]`: the FCM HTTP v1 provider for device pushes (the org's push
/// gateway is set through the API). The key keeps its name.
#[derive(Debug, Clone, Deserialize)]
pub struct DevicePushConfig {
    /// Firebase project id; empty: FCM off.
    pub fcm_project_id: String,
    /// Service-account JSON key file (`client_email`, `private_key`,
    /// `token_uri`).
    pub fcm_credentials_file: String,
    /// Base URL of the FCM API.
    pub fcm_base_url: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Connection pool settings.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseConfig {
    /// Pool size.
    pub max_connections: u32,
    /// Seconds to wait for a connection.
    pub acquire_timeout_seconds: u64,
    /// SQLite busy timeout in milliseconds.
    pub sqlite_busy_timeout_ms: u64,
}

/// HTTP limits.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpConfig {
    /// Largest body in bytes.
    pub body_limit_bytes: usize,
    /// Per-request timeout in seconds.
    pub request_timeout_seconds: u64,
    /// Read the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

/// Authentication settings.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    /// Access-token lifetime in seconds.
    pub access_ttl_seconds: u64,
    /// Refresh-token lifetime in days.
    pub refresh_ttl_days: u64,
    /// A retired signing secret still accepted for verification.
    #[serde(default)]
    pub previous_jwt_secret: Option<SecretString>,
    /// Seconds after a refresh token is spent during which presenting it
    /// again returns the same successor instead of revoking the family
    /// (0 to 10).
    pub refresh_reuse_grace_seconds: u64,
    /// Login attempts per minute per account.
    pub login_per_account_per_minute: u32,
    /// Login attempts per minute per client address.
    pub login_per_address_per_minute: u32,
    /// Accounts one client address may register per hour.
    pub register_per_address_per_hour: u32,
    /// Password-reset requests per hour from one client address.
    pub reset_per_address_per_hour: u32,
    /// Password-reset requests per hour for one email address.
    pub reset_per_email_per_hour: u32,
    /// Minutes a password-reset code stays valid.
    pub reset_code_minutes: u32,
    /// Invite validity in hours.
    pub invite_ttl_hours: u64,
    /// Argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    pub argon2_parallelism: u32,
}

/// Worker settings.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerConfig {
    /// Whether `dorsal serve` runs the worker in-process.
    pub enabled_in_serve: bool,
    /// Seconds between ticks.
    pub tick_seconds: u64,
    /// Seconds one webhook request may take before it counts as failed
    /// and is retried on the schedule.
    pub send_timeout_seconds: u64,
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Configuration that could not be loaded or makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or parsed.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    /// A value is out of range or inconsistent.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layers from the current directory and the process
    /// environment. `extra_file` is an additional file on top of
    /// `config/local.toml` (the `--config` flag).
    pub fn load(extra_file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::with_name("config/local.toml").required(false));
        if let Some(path) = extra_file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("DORSAL")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database_url", url)?;
        }
        let config: Config = builder.build()?.try_deserialize()?;
        config.validate()?;
        Ok(config)
    }

    /// The built-in defaults alone, with `database_url` replaced; for tests
    /// and tools that must not read the environment.
    pub fn defaults_with_database(database_url: &str) -> Result<Config, ConfigError> {
        let config: Config = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .set_override("database_url", database_url)?
            .build()?
            .try_deserialize()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.backend()?;
        let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be at least 1");
        }
        if self.http.body_limit_bytes < 1024 {
            return invalid("http.body_limit_bytes must be at least 1024");
        }
        if self.auth.access_ttl_seconds == 0 || self.auth.refresh_ttl_days == 0 {
            return invalid("auth token lifetimes must be positive");
        }
        if self.auth.refresh_reuse_grace_seconds > 10 {
            return invalid("auth.refresh_reuse_grace_seconds must be 0 to 10");
        }
        if self.auth.login_per_account_per_minute == 0
            || self.auth.login_per_address_per_minute == 0
            || self.auth.register_per_address_per_hour == 0
            || self.auth.reset_per_address_per_hour == 0
            || self.auth.reset_per_email_per_hour == 0
        {
            return invalid("auth login, registration and reset limits must be at least 1");
        }
        if !(5..=60).contains(&self.auth.reset_code_minutes) {
            return invalid("auth.reset_code_minutes must be 5 to 60");
        }
        if !(7..=10).contains(&self.reminders.mattress_years) {
            return invalid("reminders.mattress_years must be 7 to 10");
        }
        if self.reminders.grace_minutes < 0 || self.reminders.batch == 0 {
            return invalid("reminders.grace_minutes must not be negative and batch at least 1");
        }
        let hours = 0..=24;
        if !hours.contains(&self.reminders.prompt_from_hour)
            || !hours.contains(&self.reminders.prompt_until_hour)
            || self.reminders.prompt_from_hour >= self.reminders.prompt_until_hour
        {
            return invalid(
                "reminders.prompt_from_hour must be before prompt_until_hour, both 0 to 24",
            );
        }
        if !self.push.fcm_project_id.is_empty() && self.push.fcm_credentials_file.is_empty() {
            return invalid(
                "push.fcm_credentials_file is required when push.fcm_project_id is set",
            );
        }
        if let Some(url) = self.mail.smtp_url() {
            dorsal_domain::mail::parse_smtp_url(url).map_err(ConfigError::Invalid)?;
        }
        dorsal_domain::mail::check_sender(&self.mail.from).map_err(ConfigError::Invalid)?;
        if !(1..=365).contains(&self.sync.receipt_days) {
            return invalid("sync.receipt_days must be 1 to 365");
        }
        if self.worker.tick_seconds == 0 || 60 % self.worker.tick_seconds != 0 {
            return invalid("worker.tick_seconds must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, ...)");
        }
        // A send must end well inside the 30 s lease it renews before sending.
        if !(1..=20).contains(&self.worker.send_timeout_seconds) {
            return invalid("worker.send_timeout_seconds must be between 1 and 20");
        }
        Ok(())
    }

    /// Which database `database_url` names.
    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let url = self.database_url.expose_secret();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(ConfigError::Invalid(
                "DATABASE_URL must start with sqlite: or postgres://".to_owned(),
            ))
        }
    }

    /// The folder the embedded default keeps its files in (generated
    /// secrets, and `mail/` when no SMTP server is set).
    pub fn data_dir(&self) -> PathBuf {
        if !self.data_dir.is_empty() {
            return PathBuf::from(&self.data_dir);
        }
        sqlite_file(self.database_url.expose_secret())
            .and_then(|file| file.parent().map(Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// The file a `sqlite:` URL points at, or `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_load() {
        let config = Config::defaults_with_database("sqlite://dorsal.db?mode=rwc").unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.auth.access_ttl_seconds, 900);
        assert_eq!(config.backend().unwrap(), Backend::Sqlite);
        assert_eq!(config.data_dir(), PathBuf::from("."));
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        let cases = [
            ("sqlite://dorsal.db?mode=rwc", Some("dorsal.db")),
            (
                "sqlite:///var/lib/dorsal/d.db",
                Some("/var/lib/dorsal/d.db"),
            ),
            ("sqlite::memory:", None),
            ("sqlite://:memory:", None),
        ];
        for (url, expected) in cases {
            assert_eq!(sqlite_file(url), expected.map(PathBuf::from), "{url}");
        }
    }

    #[test]
    fn mail_defaults_to_files_and_bad_mail_settings_are_refused() {
        let mut config = Config::defaults_with_database("sqlite://dorsal.db?mode=rwc").unwrap();
        assert_eq!(config.mail.smtp_url(), None);
        assert_eq!(config.mail.from, "dorsal <no-reply@localhost>");
        config.mail.smtp_url = Some(" ".into());
        assert_eq!(config.mail.smtp_url(), None, "empty means unset");
        config.validate().unwrap();
        config.mail.smtp_url = Some("smtps://u:secret-pw@smtp.example.org".into());
        config.validate().unwrap();
        config.mail.smtp_url = Some("smtp://u:secret-pw@smtp.example.org?tls=maybe".into());
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("tls") && !err.contains("secret-pw"), "{err}");
        config.mail.smtp_url = None;
        config.mail.from = "nobody".to_owned();
        assert!(config.validate().is_err());
    }

    #[test]
    fn unknown_database_schemes_are_refused() {
        assert!(Config::defaults_with_database("mysql://localhost/x").is_err());
    }
}
