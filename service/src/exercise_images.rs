//! Exercise images served by dorsal itself: the worker fetches each
//! exercise's `image_url` (guarded, capped, raster formats only) into
//! `exercise_images`, and the clinic pages show the stored copy, so no page
//! loads anything from another origin.
//!
//! Work is claimed row by row: a worker inserts the exercise's row (only
//! one insert wins) or takes an existing row whose lease ran out with a
//! conditional update, and records the outcome fenced by its own claim.
//! Two workers may at worst both fetch the same image once; only the
//! claim's owner writes the outcome.

use std::collections::HashSet;

use dorsal_entity::{exercise, exercise_image};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
    Value,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::error::ServiceResult;
use crate::programs::visible_to;

/// The largest image stored, in bytes (2 MiB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// How long a claim holds before another worker may fetch the image.
pub const LEASE_MS: i64 = 2 * 60 * 1000;
/// The wait before a failed URL is tried again the first time; it doubles
/// with each failure up to [`RETRY_MAX_MS`].
pub const RETRY_BASE_MS: i64 = 60 * 60 * 1000;
/// The longest wait between two attempts at a failing URL.
pub const RETRY_MAX_MS: i64 = 24 * 60 * 60 * 1000;

/// The image formats stored and served: rasters a browser cannot run.
/// Never SVG (it can carry script) or anything a browser might render as a
/// document.
pub const ALLOWED: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/// The media type of a `Content-Type` header value, lower case, without
/// parameters: `Image/PNG; x=y` is `image/png`.
pub fn media_type(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The allowed type the bytes' signature says they are, if any.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Why a response of media type `declared` is refused. The type comes
/// from the remote server: at most 60 characters of it are kept.
pub fn type_refused(declared: &str) -> String {
    if declared.is_empty() {
        return "no content type".to_owned();
    }
    let shown: String = declared
        .chars()
        .take(60)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("content type {shown} is not an allowed image type")
}

/// Whether bytes claimed to be `content_type` (a header value) are an
/// image dorsal stores: an allowed type, and the bytes' signature agrees.
/// Returns the type to store, or why not.
pub fn check_image(content_type: Option<&str>, bytes: &[u8]) -> Result<&'static str, String> {
    let declared = content_type.map(media_type).unwrap_or_default();
    let Some(allowed) = ALLOWED.iter().find(|t| **t == declared) else {
        return Err(type_refused(&declared));
    };
    match sniff(bytes) {
        Some(found) if found == *allowed => Ok(allowed),
        Some(found) => Err(format!("declared {allowed} but the bytes are {found}")),
        None => Err(format!(
            "declared {allowed} but the bytes are not that image type"
        )),
    }
}

/// The wait after failure number `attempts` (1 for the first).
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    RETRY_BASE_MS
        .saturating_mul(1_i64 << doublings)
        .min(RETRY_MAX_MS)
}

/// An image to fetch, claimed by this worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The exercise.
    pub exercise_id: Uuid,
    /// Its `image_url` when claimed (never logged).
    pub url: String,
    /// Failed attempts at this same URL so far.
    pub attempts: i64,
}

/// What a fetch came to.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// An allowed image: its type and bytes.
    Image {
        /// One of [`ALLOWED`].
        content_type: &'static str,
        /// At most [`MAX_BYTES`].
        bytes: Vec<u8>,
    },
    /// Why no image was stored.
    Failed(String),
}

/// `sql` written with `$1`, `$2`… for `backend` (SQLite spells them `?1`).
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Claims up to `limit` exercises whose image needs fetching at `now`: an
/// `image_url` with no row, a row for another URL, or a failure whose
/// retry time has come; none under another worker's running lease.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: Uuid,
    now: i64,
    limit: u64,
) -> ServiceResult<Vec<Claimed>> {
    let backend = db.get_database_backend();
    let expired = now - LEASE_MS;
    let limit = i64::try_from(limit).unwrap_or(100);
    let candidates = db
        .query_all_raw(statement(
            backend,
            "SELECT e.id AS id, e.image_url AS url, i.exercise_id AS row_id, \
             i.source_url AS source_url, i.attempts AS attempts \
             FROM exercises e LEFT JOIN exercise_images i ON i.exercise_id = e.id \
             WHERE e.image_url IS NOT NULL AND (i.exercise_id IS NULL OR \
             ((i.source_url <> e.image_url OR (i.bytes IS NULL AND i.retry_at <= $1)) \
             AND (i.claimed_at IS NULL OR i.claimed_at <= $2))) \
             ORDER BY e.created_at LIMIT $3",
            vec![now.into(), expired.into(), limit.into()],
        ))
        .await?;
    let mut claimed = Vec::new();
    for row in candidates {
        let id: Uuid = row.try_get("", "id")?;
        let url: String = row.try_get("", "url")?;
        let row_id: Option<Uuid> = row.try_get("", "row_id")?;
        let won = if row_id.is_none() {
            // Only one insert of the row can win; a loser skips it.
            db.execute_raw(statement(
                backend,
                "INSERT INTO exercise_images (exercise_id, source_url, attempts, retry_at, \
                 claimed_by, claimed_at) VALUES ($1, $2, 0, $3, $4, $3) \
                 ON CONFLICT (exercise_id) DO NOTHING",
                vec![id.into(), url.clone().into(), now.into(), worker.into()],
            ))
            .await?
            .rows_affected()
        } else {
            // The same conditions as the scan, checked again on the row.
            db.execute_raw(statement(
                backend,
                "UPDATE exercise_images SET claimed_by = $1, claimed_at = $2 \
                 WHERE exercise_id = $3 AND (claimed_at IS NULL OR claimed_at <= $4) \
                 AND (source_url <> $5 OR (bytes IS NULL AND retry_at <= $2))",
                vec![
                    worker.into(),
                    now.into(),
                    id.into(),
                    expired.into(),
                    url.clone().into(),
                ],
            ))
            .await?
            .rows_affected()
        };
        if won == 1 {
            let source: Option<String> = row.try_get("", "source_url")?;
            let attempts: Option<i64> = row.try_get("", "attempts")?;
            let attempts = if source.as_deref() == Some(url.as_str()) {
                attempts.unwrap_or(0)
            } else {
                0
            };
            claimed.push(Claimed {
                exercise_id: id,
                url,
                attempts,
            });
        }
    }
    Ok(claimed)
}

/// Records what fetching `claimed` came to at `now`. Fenced: a worker whose
/// claim was taken over writes nothing and gets `false`.
pub async fn finish(
    db: &impl ConnectionTrait,
    claimed: &Claimed,
    worker: Uuid,
    fetched: Fetched,
    now: i64,
) -> ServiceResult<bool> {
    let backend = db.get_database_backend();
    let written = match fetched {
        Fetched::Image {
            content_type,
            bytes,
        } => {
            db.execute_raw(statement(
                backend,
                "UPDATE exercise_images SET source_url = $1, content_type = $2, bytes = $3, \
                 fetched_at = $4, attempted_at = $4, failure = NULL, attempts = 0, \
                 retry_at = NULL, claimed_by = NULL, claimed_at = NULL \
                 WHERE exercise_id = $5 AND claimed_by = $6",
                vec![
                    claimed.url.clone().into(),
                    content_type.into(),
                    bytes.into(),
                    now.into(),
                    claimed.exercise_id.into(),
                    worker.into(),
                ],
            ))
            .await?
        }
        Fetched::Failed(reason) => {
            let attempts = claimed.attempts + 1;
            db.execute_raw(statement(
                backend,
                "UPDATE exercise_images SET source_url = $1, content_type = NULL, \
                 bytes = NULL, fetched_at = NULL, failure = $2, attempted_at = $3, \
                 attempts = $4, retry_at = $5, claimed_by = NULL, claimed_at = NULL \
                 WHERE exercise_id = $6 AND claimed_by = $7",
                vec![
                    claimed.url.clone().into(),
                    reason.into(),
                    now.into(),
                    attempts.into(),
                    now.saturating_add(backoff_ms(attempts)).into(),
                    claimed.exercise_id.into(),
                    worker.into(),
                ],
            ))
            .await?
        }
    };
    Ok(written.rows_affected() == 1)
}

/// A stored image, as served.
#[derive(Debug, Clone)]
pub struct StoredImage {
    /// One of [`ALLOWED`].
    pub content_type: String,
    /// The image.
    pub bytes: Vec<u8>,
}

/// The image of exercise `id` for `actor`: `None` when the exercise is not
/// one the actor's org sees (built in, or its own), has no image URL, or
/// no image fetched from its current URL is stored.
pub async fn image(
    db: &impl ConnectionTrait,
    actor: Actor,
    id: Uuid,
) -> ServiceResult<Option<StoredImage>> {
    if !actor.role.is_staff() {
        return Ok(None);
    }
    let Some(found) = exercise::Entity::find_by_id(id)
        .filter(visible_to(actor.org_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(url) = found.image_url else {
        return Ok(None);
    };
    let Some(stored) = exercise_image::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(match (stored.content_type, stored.bytes) {
        (Some(content_type), Some(bytes))
            if stored.source_url == url && ALLOWED.contains(&content_type.as_str()) =>
        {
            Some(StoredImage {
                content_type,
                bytes,
            })
        }
        _ => None,
    })
}

/// Which of `exercises` (id and current `image_url`) have an image stored
/// for that URL, without reading the images.
pub async fn stored(
    db: &impl ConnectionTrait,
    exercises: impl IntoIterator<Item = (Uuid, Option<&str>)>,
) -> ServiceResult<HashSet<Uuid>> {
    let wanted: Vec<(Uuid, String)> = exercises
        .into_iter()
        .filter_map(|(id, url)| url.map(|url| (id, url.to_owned())))
        .collect();
    if wanted.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<(Uuid, String)> = exercise_image::Entity::find()
        .select_only()
        .column(exercise_image::Column::ExerciseId)
        .column(exercise_image::Column::SourceUrl)
        .filter(exercise_image::Column::ExerciseId.is_in(wanted.iter().map(|(id, _)| *id)))
        .filter(exercise_image::Column::Bytes.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(id, source)| wanted.iter().any(|(w, url)| w == id && url == source))
        .map(|(id, _)| id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_agrees_with_the_declared_type() {
        let png = b"\x89PNG\r\n\x1a\n....";
        assert_eq!(check_image(Some("image/png"), png), Ok("image/png"));
        assert_eq!(check_image(Some("Image/PNG; q=1"), png), Ok("image/png"));
        assert!(check_image(Some("image/jpeg"), png).is_err());
        assert!(check_image(Some("image/svg+xml"), b"<svg></svg>").is_err());
        assert!(check_image(Some("image/png"), b"<svg></svg>").is_err());
        assert!(check_image(Some("text/html"), png).is_err());
        assert!(check_image(None, png).is_err());
        assert_eq!(
            check_image(Some("image/webp"), b"RIFF\0\0\0\0WEBPVP8 "),
            Ok("image/webp")
        );
        assert_eq!(check_image(Some("image/gif"), b"GIF89a.."), Ok("image/gif"));
        assert_eq!(
            check_image(Some("image/jpeg"), &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok("image/jpeg")
        );
    }

    #[test]
    fn retries_back_off_to_a_day() {
        assert_eq!(backoff_ms(1), RETRY_BASE_MS);
        assert_eq!(backoff_ms(2), 2 * RETRY_BASE_MS);
        assert_eq!(backoff_ms(100), RETRY_MAX_MS);
    }
}
