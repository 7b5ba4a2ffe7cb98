//! Sending one email: by SMTP (lettre over rustls) when `mail.smtp_url` is
//! set, else as an RFC 5322 `.eml` file in `<data dir>/mail/`. Either way
//! the message carries Date, Message-ID, From, To, Subject and a plain
//! UTF-8 text body. Nothing of the message or its recipient is logged or
//! recorded as an error: only ids, file names and SMTP reply codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use dorsal_domain::mail::{SmtpSecurity, parse_smtp_url};
use dorsal_service::config::Config;
use dorsal_service::mail::OpenMail;
use dorsal_service::outbox::Attempt;
use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::WorkerError;
use crate::delivery::install_crypto_provider;

/// The folder of the data directory `.eml` files are written to.
pub const MAIL_FOLDER: &str = "mail";

/// What starts each certificate of a PEM file.
const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Where emails go.
#[derive(Clone)]
enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this folder.
    Files(PathBuf),
}

/// The configured way of sending email, and the sender.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Files(dir) => dir.display().to_string(),
        };
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &transport)
            .finish()
    }
}

fn mail_error(what: &str) -> WorkerError {
    WorkerError::Mail(what.to_owned())
}

impl Mailer {
    /// The mailer `config` describes: SMTP when `mail.smtp_url` is set
    /// (each command given up after `worker.send_timeout_seconds`), else
    /// `.eml` files in `<data dir>/mail/`.
    pub fn from_config(config: &Config) -> Result<Mailer, WorkerError> {
        let from: Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|_| mail_error("mail.from is not a valid sender"))?;
        let Some(url) = config.mail.smtp_url() else {
            return Ok(Mailer {
                from,
                transport: Transport::Files(config.data_dir().join(MAIL_FOLDER)),
            });
        };
        let target = parse_smtp_url(url).map_err(WorkerError::Mail)?;
        let timeout = Duration::from_secs(config.worker.send_timeout_seconds);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&target.host)
            .port(target.port)
            .timeout(Some(timeout));
        if target.security != SmtpSecurity::None {
            install_crypto_provider();
            let mut tls = TlsParameters::builder(target.host.clone());
            if !config.mail.ca_file.is_empty() {
                let pem = std::fs::read(&config.mail.ca_file).map_err(|err| {
                    WorkerError::Mail(format!(
                        "cannot read mail.ca_file {}: {err}",
                        config.mail.ca_file
                    ))
                })?;
                if !pem
                    .windows(PEM_CERTIFICATE.len())
                    .any(|window| window == PEM_CERTIFICATE)
                {
                    return Err(mail_error("mail.ca_file holds no PEM certificate"));
                }
                let roots = Certificate::from_pem(&pem)
                    .map_err(|_| mail_error("mail.ca_file holds no valid PEM certificate"))?;
                tls = tls.add_root_certificate(roots);
            }
            let tls = tls
                .build_rustls()
                .map_err(|err| WorkerError::Mail(format!("TLS for mail: {err}")))?;
            builder = builder.tls(match target.security {
                SmtpSecurity::ImplicitTls => Tls::Wrapper(tls),
                _ => Tls::Required(tls),
            });
        }
        if let Some((user, password)) = target.login {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer {
            from,
            transport: Transport::Smtp(builder.build()),
        })
    }

    /// Sends outbox email `id` at `now` and says how it went.
    pub async fn send(&self, id: Uuid, mail: &OpenMail, now: Timestamp) -> Attempt {
        let message = match self.message(id, mail, now) {
            Ok(message) => message,
            Err(error) => return failed(None, error),
        };
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(response) => Attempt::Delivered {
                    status: u16::from(response.code()),
                },
                Err(err) => smtp_failure(&err),
            },
            Transport::Files(dir) => {
                let (dir, bytes) = (dir.clone(), message.formatted());
                let file_name = format!("{id}.eml");
                let name = file_name.clone();
                let written =
                    tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                        .await;
                match written {
                    Ok(Ok(())) => {
                        tracing::info!(mail_id = %id, file = %file_name, "email written to the mail folder");
                        Attempt::Delivered { status: 250 }
                    }
                    Ok(Err(err)) => {
                        failed(None, format!("cannot write the .eml file: {}", err.kind()))
                    }
                    Err(_) => failed(None, "writing the .eml file stopped".to_owned()),
                }
            }
        }
    }

    /// The RFC 5322 message: its Message-ID is the outbox id, the same on
    /// every attempt, so a receiver can tell a repeat.
    fn message(&self, id: Uuid, mail: &OpenMail, now: Timestamp) -> Result<Message, String> {
        let to: Mailbox = mail
            .to
            .expose_secret()
            .parse()
            .map_err(|_| "the recipient address is not valid".to_owned())?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.expose_secret())
            .date(system_time(now))
            .message_id(Some(format!("<{id}@{}>", self.from.email.domain())))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.expose_secret().to_owned())
            .map_err(|_| "the message could not be built".to_owned())
    }
}

/// `now` as the standard library's time, for the Date header.
fn system_time(now: Timestamp) -> SystemTime {
    let since_epoch = Duration::from_millis(u64::try_from(now.as_millisecond()).unwrap_or(0));
    SystemTime::UNIX_EPOCH
        .checked_add(since_epoch)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn failed(status: Option<u16>, error: String) -> Attempt {
    Attempt::Failed {
        status,
        error,
        retry_after: None,
    }
}

/// How an SMTP send failed, by kind and reply code only: a server's reply
/// text may repeat the recipient's address.
fn smtp_failure(err: &lettre::transport::smtp::Error) -> Attempt {
    let status = err.status().map(u16::from);
    let error = if err.is_timeout() {
        "smtp: timed out".to_owned()
    } else if err.is_tls() {
        "smtp: TLS failed (certificate or handshake)".to_owned()
    } else if let Some(code) = status {
        let kind = if err.is_permanent() {
            "permanent"
        } else {
            "transient"
        };
        format!("smtp: the server answered {code} ({kind})")
    } else if err.is_client() {
        "smtp: the server does not offer what is required (STARTTLS or AUTH)".to_owned()
    } else {
        "smtp: connection failed".to_owned()
    };
    failed(status, error)
}

/// Writes `bytes` to `dir/name` whole or not at all: into a hidden temporary
/// file readable by its owner only, synced, then renamed into place.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(name))
}
