//! Secrets at rest: values dorsal must read back to use (the signing
//! secrets of webhooks and push gateways, staff TOTP secrets) are stored sealed with
//! XChaCha20-Poly1305 under the data key, bound to the row they belong to.
//!
//! A sealed value is `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The
//! key id names the key it was sealed under (derived from the key, not the
//! key), so a retired key still opens old values while new ones use the
//! current key. The associated data is the table and the row's id, so a
//! value copied into another row does not open.
//!
//! Values stored before sealing (plain `whsec_…`) and values under the
//! previous key are sealed under the current key where migrations are
//! applied ([`seal_stored_secrets`]): a migration cannot see the key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use dorsal_entity::{push_gateway, user, webhook};
use hkdf::Hkdf;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityName, EntityTrait, QueryFilter, QuerySelect};
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::{Config, ConfigError};
use crate::error::{OrInternal, ServiceResult};
use crate::secret::{check_secret_length, configured_or_generated, random_bytes};

/// The file the embedded default keeps its generated data key in.
pub const DATA_KEY_FILE: &str = "dorsal-data.key";
/// The format tag every sealed value starts with.
const FORMAT: &str = "v1";
const NONCE_BYTES: usize = 24;
/// What a value that was never sealed starts with: every secret dorsal
/// seals is a Standard Webhooks `whsec_…` secret.
const PLAIN_PREFIX: &str = dorsal_domain::webhooks::SECRET_PREFIX;

/// The data key to seal with: `data_key` when set (at least 32 bytes); on
/// PostgreSQL it must be set; on SQLite one is generated once into the data
/// directory ([`DATA_KEY_FILE`]) and read back on later starts.
pub fn resolve_data_key(config: &Config) -> Result<SecretString, ConfigError> {
    configured_or_generated(
        config,
        config.data_key.as_ref(),
        "DORSAL_DATA_KEY",
        DATA_KEY_FILE,
    )
}

/// The retired data key still accepted for opening, held to the same
/// length rule as the current one.
pub fn resolve_previous_data_key(config: &Config) -> Result<Option<SecretString>, ConfigError> {
    config
        .previous_data_key
        .as_ref()
        .map(|key| check_secret_length(key, "DORSAL_PREVIOUS_DATA_KEY"))
        .transpose()
}

/// Where a sealed value belongs: its table and its row's primary key,
/// authenticated with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    table: &'static str,
    id: Uuid,
}

impl Row {
    /// The row `id` of `entity`'s table.
    pub fn of(entity: impl EntityName, id: Uuid) -> Row {
        Row {
            table: entity.table_name(),
            id,
        }
    }

    fn associated_data(&self) -> Vec<u8> {
        format!("{FORMAT}\0{}\0{}", self.table, self.id).into_bytes()
    }
}

/// Why a stored value did not open. The messages name no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// A value from before secrets were sealed; `dorsal migrate` (or
    /// `serve`) seals it.
    #[error("it is stored in plain text, not yet encrypted (`dorsal migrate` encrypts it)")]
    Plain,
    /// Sealed under a key that is neither the data key nor the previous one.
    #[error(
        "it was encrypted under key {kid}, which is neither DORSAL_DATA_KEY nor \
         DORSAL_PREVIOUS_DATA_KEY"
    )]
    UnknownKey {
        /// The key id stored with the value.
        kid: String,
    },
    /// Not in the sealed format at all.
    #[error("it is not in the encrypted format")]
    Malformed,
    /// The key is known but the value does not authenticate: it was
    /// altered, or copied from another row.
    #[error("it does not authenticate: it was altered or belongs to another row")]
    Refused,
}

/// One derived key and its id.
struct DataKey {
    kid: String,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    /// Derives the 256-bit key and its id from a configured key of any
    /// length (HKDF-SHA256), so any string of 32 bytes or more will do.
    fn derive(secret: &SecretString) -> Result<DataKey, ConfigError> {
        let hkdf = Hkdf::<Sha256>::new(Some(b"dorsal data key"), secret.expose_secret().as_bytes());
        let failed = |_| ConfigError::Invalid("cannot derive the data key".to_owned());
        let mut key = [0u8; 32];
        hkdf.expand(
            b"dorsal secrets at rest v1: XChaCha20-Poly1305 key",
            &mut key,
        )
        .map_err(failed)?;
        let mut kid = [0u8; 9];
        hkdf.expand(b"dorsal secrets at rest v1: key id", &mut kid)
            .map_err(failed)?;
        let cipher = XChaCha20Poly1305::new(&key.into());
        key.zeroize();
        Ok(DataKey {
            kid: URL_SAFE_NO_PAD.encode(kid),
            cipher,
        })
    }
}

/// The data key that seals, and the retired one that still opens.
pub struct DataKeys {
    current: DataKey,
    previous: Option<DataKey>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys")
            .field("kid", &self.current.kid)
            .field("previous_kid", &self.previous.as_ref().map(|key| &key.kid))
            .finish()
    }
}

impl DataKeys {
    /// The keys `config` names (see [`resolve_data_key`] and
    /// [`resolve_previous_data_key`]).
    pub fn from_config(config: &Config) -> Result<DataKeys, ConfigError> {
        let current = resolve_data_key(config)?;
        let previous = resolve_previous_data_key(config)?;
        DataKeys::new(&current, previous.as_ref())
    }

    /// Sealing with `current`, opening with `current` or `previous`.
    pub fn new(
        current: &SecretString,
        previous: Option<&SecretString>,
    ) -> Result<DataKeys, ConfigError> {
        Ok(DataKeys {
            current: DataKey::derive(current)?,
            previous: previous.map(DataKey::derive).transpose()?,
        })
    }

    /// The id of the key new values are sealed under.
    pub fn kid(&self) -> &str {
        &self.current.kid
    }

    /// `plain` sealed for `row` under the current key, with a fresh random
    /// nonce.
    pub fn seal(&self, row: Row, plain: &SecretString) -> ServiceResult<String> {
        let nonce = random_bytes::<NONCE_BYTES>()?;
        let aad = row.associated_data();
        let payload = Payload {
            msg: plain.expose_secret().as_bytes(),
            aad: &aad,
        };
        let sealed = self
            .current
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .or_internal("sealing a secret failed")?;
        let mut body = Vec::with_capacity(NONCE_BYTES + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}.{}.{}",
            self.current.kid,
            URL_SAFE_NO_PAD.encode(body)
        ))
    }

    /// The plain value `stored` holds, if it was sealed for `row` under the
    /// current or the previous key.
    pub fn open(&self, row: Row, stored: &str) -> Result<SecretString, SealError> {
        let (kid, body) = parse(stored)?;
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| key.kid == kid)
            .ok_or_else(|| SealError::UnknownKey {
                kid: kid.to_owned(),
            })?;
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if body.len() < NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, sealed) = body.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Malformed)?;
        let aad = row.associated_data();
        let payload = Payload {
            msg: sealed,
            aad: &aad,
        };
        let plain = key
            .cipher
            .decrypt(&nonce, payload)
            .map_err(|_| SealError::Refused)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| SealError::Refused)
    }

    /// Whether `stored` is sealed under the current key (whether it opens
    /// is [`DataKeys::open`]'s question).
    pub fn is_current(&self, stored: &str) -> bool {
        parse(stored).is_ok_and(|(kid, _)| kid == self.current.kid)
    }
}

/// Seals every stored secret that is not yet under the current key: plain
/// values from before secrets were sealed, and values under the previous
/// key (after which the previous key may be dropped). Core::open runs it
/// after applying migrations. Repeating it changes nothing, and processes
/// running it at once do not overwrite each other: a row is rewritten only
/// while it still holds what was read. A value that opens under neither key
/// is left as it is and logged by id. Returns how many rows were rewritten.
pub async fn seal_stored_secrets(db: &DatabaseConnection, keys: &DataKeys) -> ServiceResult<u64> {
    let webhooks =
        seal_column::<webhook::Entity>(db, keys, webhook::Column::Id, webhook::Column::Secret)
            .await?;
    let gateways = seal_column::<push_gateway::Entity>(
        db,
        keys,
        push_gateway::Column::OrgId,
        push_gateway::Column::Secret,
    )
    .await?;
    let totp =
        seal_column::<user::Entity>(db, keys, user::Column::Id, user::Column::TotpSecret).await?;
    let sealed = webhooks + gateways + totp;
    if sealed > 0 {
        tracing::info!(
            webhooks,
            gateways,
            totp,
            kid = keys.kid(),
            "stored secrets encrypted under the data key"
        );
    }
    Ok(sealed)
}

/// [`seal_stored_secrets`] for one table: `id` is its primary key, `secret`
/// the sealed column.
async fn seal_column<E: EntityTrait>(
    db: &DatabaseConnection,
    keys: &DataKeys,
    id: E::Column,
    secret: E::Column,
) -> ServiceResult<u64> {
    let rows: Vec<(Uuid, String)> = E::find()
        .select_only()
        .column(id)
        .column(secret)
        .filter(secret.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for (row_id, stored) in rows {
        if keys.is_current(&stored) {
            continue;
        }
        let row = Row::of(E::default(), row_id);
        let plain = match keys.open(row, &stored) {
            Ok(plain) => plain,
            Err(SealError::Plain) => SecretString::from(stored.as_str()),
            Err(err) => {
                tracing::warn!(table = row.table, id = %row_id, error = %err,
                    "a stored secret opens under neither data key; left as it is");
                continue;
            }
        };
        let updated = E::update_many()
            .col_expr(secret, Expr::value(keys.seal(row, &plain)?))
            .filter(id.eq(row_id))
            .filter(secret.eq(stored.as_str()))
            .exec(db)
            .await?;
        sealed += updated.rows_affected;
    }
    Ok(sealed)
}

/// The key id and the encoded body of a sealed value.
fn parse(stored: &str) -> Result<(&str, &str), SealError> {
    if stored.starts_with(PLAIN_PREFIX) {
        return Err(SealError::Plain);
    }
    stored
        .strip_prefix(FORMAT)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.split_once('.'))
        .filter(|(kid, body)| !kid.is_empty() && !body.is_empty())
        .ok_or(SealError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a-data-key-that-is-long-enough-000000000";
    const B: &str = "b-data-key-that-is-long-enough-111111111";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn keys(current: &str, previous: Option<&str>) -> DataKeys {
        DataKeys::new(
            &SecretString::from(current),
            previous.map(SecretString::from).as_ref(),
        )
        .unwrap()
    }

    fn row(table: &'static str, id: u128) -> Row {
        Row {
            table,
            id: Uuid::from_u128(id),
        }
    }

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    #[test]
    fn a_sealed_value_opens_for_its_row_and_shows_nothing_of_the_secret() {
        let keys = keys(A, None);
        let sealed = keys.seal(row("webhooks", 1), &secret()).unwrap();
        assert!(
            sealed.starts_with(&format!("v1.{}.", keys.kid())),
            "{sealed}"
        );
        assert!(!sealed.contains(SECRET) && !sealed.contains(&SECRET[6..]));
        let opened = keys.open(row("webhooks", 1), &sealed).unwrap();
        assert_eq!(opened.expose_secret(), SECRET);
        assert!(keys.is_current(&sealed));
    }

    #[test]
    fn every_seal_takes_a_fresh_nonce() {
        let keys = keys(A, None);
        let first = keys.seal(row("webhooks", 1), &secret()).unwrap();
        let second = keys.seal(row("webhooks", 1), &secret()).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn a_value_copied_to_another_row_or_table_is_refused() {
        let keys = keys(A, None);
        let sealed = keys.seal(row("webhooks", 1), &secret()).unwrap();
        assert_eq!(
            keys.open(row("webhooks", 2), &sealed).unwrap_err(),
            SealError::Refused
        );
        assert_eq!(
            keys.open(row("push_gateways", 1), &sealed).unwrap_err(),
            SealError::Refused
        );
    }

    #[test]
    fn an_altered_value_is_refused() {
        let keys = keys(A, None);
        let sealed = keys.seal(row("webhooks", 1), &secret()).unwrap();
        let (head, body) = sealed.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(
            keys.open(row("webhooks", 1), &altered).unwrap_err(),
            SealError::Refused
        );
    }

    #[test]
    fn the_previous_key_still_opens_until_it_is_dropped() {
        let old = keys(A, None);
        let sealed = old.seal(row("webhooks", 1), &secret()).unwrap();
        let rotated = keys(B, Some(A));
        assert!(!rotated.is_current(&sealed));
        assert_eq!(
            rotated
                .open(row("webhooks", 1), &sealed)
                .unwrap()
                .expose_secret(),
            SECRET
        );
        let resealed = rotated.seal(row("webhooks", 1), &secret()).unwrap();
        assert!(rotated.is_current(&resealed));
        assert!(keys(B, None).open(row("webhooks", 1), &resealed).is_ok());
        assert_eq!(
            keys(B, None).open(row("webhooks", 1), &sealed).unwrap_err(),
            SealError::UnknownKey {
                kid: old.kid().to_owned()
            }
        );
    }

    #[test]
    fn plain_and_malformed_values_are_told_apart() {
        let keys = keys(A, None);
        assert_eq!(
            keys.open(row("webhooks", 1), SECRET).unwrap_err(),
            SealError::Plain
        );
        assert!(!keys.is_current(SECRET));
        for stored in ["", "v1.", "v1..x", "v2.abc.def", "v1.kid", "garbage"] {
            assert!(
                matches!(
                    keys.open(row("webhooks", 1), stored),
                    Err(SealError::Malformed | SealError::UnknownKey { .. })
                ),
                "{stored}"
            );
        }
        let kid = keys.kid().to_owned();
        for body in ["!!!", "AAAA"] {
            assert_eq!(
                keys.open(row("webhooks", 1), &format!("v1.{kid}.{body}"))
                    .unwrap_err(),
                SealError::Malformed,
                "{body}"
            );
        }
    }

    #[test]
    fn key_ids_are_stable_per_key_and_reveal_nothing() {
        assert_eq!(keys(A, None).kid(), keys(A, None).kid());
        assert_ne!(keys(A, None).kid(), keys(B, None).kid());
        assert_eq!(keys(A, None).kid().len(), 12);
        let debug = format!("{:?}", keys(A, Some(B)));
        assert!(!debug.contains(A) && !debug.contains(B), "{debug}");
    }
}
