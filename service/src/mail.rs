//! The mail outbox: an email is a row written in the same transaction as
//! what causes it, claimed by the worker under a lease and finished with
//! fencing, like webhook messages ([`crate::outbox`]).
//!
//! Recipient, subject and body are sealed under the data key
//! ([`crate::sealed`]), bound to their row; the body (which may carry a
//! reset code) is cleared in the same transaction that records the message
//! delivered or dead. Only ids reach the logs, never an address or a word
//! of the message.

use dorsal_domain::messages::{self, FluentValue};
use dorsal_entity::{mail_outbox, outbox};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::outbox::Attempt;
use crate::sealed::{DataKeys, Row, SealError};
use crate::secret::new_id;

/// The mail outbox, for [`crate::outbox`]'s renewal.
pub type Outbox = mail_outbox::Entity;

/// An email ready to send: plain text, rendered from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// A claimed outbox row (its `attempt` is this attempt's number); its
/// content opens with [`open`].
pub use dorsal_entity::mail_outbox::Model as Claimed;

/// The content of a claimed email, decrypted to send it.
#[derive(Debug)]
pub struct OpenMail {
    /// The recipient's address.
    pub to: SecretString,
    /// The subject line.
    pub subject: SecretString,
    /// The plain-text body.
    pub text: SecretString,
}

/// The password-reset email in `language` (a language tag; English when
/// the catalog lacks it): the single-use `code`, valid for `valid_minutes`.
pub fn password_reset(
    language: &str,
    code: &str,
    valid_minutes: u32,
) -> ServiceResult<RenderedMail> {
    let args = [
        ("code", FluentValue::from(code)),
        ("minutes", FluentValue::from(valid_minutes)),
    ];
    Ok(RenderedMail {
        subject: catalog_text(language, "password-reset-subject", &args)?,
        text: catalog_text(language, "password-reset-body", &args)?,
    })
}

fn catalog_text(
    language: &str,
    id: &'static str,
    args: &[(&str, FluentValue<'_>)],
) -> ServiceResult<String> {
    messages::render(language, id, args).or_internal("rendering a catalog message")
}

/// Writes `mail` to `to` into the outbox with the caller's connection or
/// transaction (the same transaction as what causes it), sealed under the
/// data key; due at once. Returns its id.
///
/// On PostgreSQL every listening worker is woken at commit (`NOTIFY`);
/// elsewhere the caller wakes this process's worker after commit with
/// [`crate::sync::Nudges::wake_deliveries`], or the worker's 1 s poll
/// finds it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    keys: &DataKeys,
    to: &str,
    mail: &RenderedMail,
    now_ms: i64,
) -> ServiceResult<Uuid> {
    if to.trim().is_empty() || to.contains(['\r', '\n']) || mail.subject.contains(['\r', '\n']) {
        return Err(ServiceError::internal(
            "an email needs one recipient and a one-line subject",
        ));
    }
    let id = new_id();
    let row = Row::of(mail_outbox::Entity, id);
    let seal = |plain: &str| keys.seal(row, &SecretString::from(plain));
    mail_outbox::ActiveModel {
        id: Set(id),
        recipient: Set(seal(to.trim())?),
        subject: Set(seal(&mail.subject)?),
        body: Set(Some(seal(&mail.text)?)),
        status: Set(outbox::Status::Pending),
        attempt: Set(0),
        next_attempt_at: Set(now_ms),
        claimed_by: Set(None),
        lease_until: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        created_at: Set(now_ms),
        delivered_at: Set(None),
    }
    .insert(db)
    .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Delivered at commit to every worker process listening.
        db.execute_unprepared(&format!("NOTIFY {}", crate::webhooks::DELIVERIES_CHANNEL))
            .await?;
    }
    Ok(id)
}

/// Claims up to `limit` due emails for `worker` until `now + lease_ms`
/// (see [`crate::outbox::claim`]).
pub async fn claim(
    db: &DatabaseConnection,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> ServiceResult<Vec<Claimed>> {
    crate::outbox::claim::<Outbox>(db, worker, now, lease_ms, limit).await
}

/// The claimed email's recipient, subject and body, decrypted.
pub fn open(keys: &DataKeys, claimed: &Claimed) -> Result<OpenMail, SealError> {
    let row = Row::of(mail_outbox::Entity, claimed.id);
    let body = claimed.body.as_deref().ok_or(SealError::Malformed)?;
    Ok(OpenMail {
        to: keys.open(row, &claimed.recipient)?,
        subject: keys.open(row, &claimed.subject)?,
        text: keys.open(row, body)?,
    })
}

/// Records how the attempt of `claimed` ended, and clears the body once
/// the email is delivered or dead, in one transaction. Fenced: if another
/// worker took the email over, nothing is written and `false` is returned.
pub async fn finish(
    db: &DatabaseConnection,
    claimed: &Claimed,
    worker: Uuid,
    attempt: &Attempt,
    now: i64,
    jitter: f64,
) -> ServiceResult<bool> {
    let txn = db.begin().await?;
    let recorded = crate::outbox::finish::<Outbox>(
        &txn,
        claimed.id,
        worker,
        claimed.attempt,
        attempt,
        now,
        jitter,
    )
    .await?;
    if recorded {
        mail_outbox::Entity::update_many()
            .col_expr(
                mail_outbox::Column::Body,
                Expr::value(Option::<String>::None),
            )
            .filter(mail_outbox::Column::Id.eq(claimed.id))
            .filter(mail_outbox::Column::Status.ne(outbox::Status::Pending))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(recorded)
}
