//! Mail: emails written to the outbox in the caller's transaction and
//! delivered by the worker, as `.eml` files without an SMTP server and by
//! SMTP to a real server started here (STARTTLS and implicit TLS, with a
//! test CA, AUTH checked). Once each; retried when the server is away;
//! nothing of the message or its recipient in the logs or left in the
//! outbox.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dorsal_service::clock::Clock;
use dorsal_service::mail::{RenderedMail, enqueue, password_reset};
use dorsal_tests::{SentMail, TestApp};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use uuid::Uuid;

/// A reset code the tests send; it must never reach the logs.
const RESET_CODE: &str = "QX7-LANTERN-42";
/// The SMTP login the test server accepts (characters a URL must encode).
const SMTP_USER: &str = "mailer@clinic";
const SMTP_PASSWORD: &str = "p@ss:w0rd/lantern";

/// A patient's address (check-phi-logs looks for this domain in the logs).
fn patient_address() -> String {
    format!("patient-{}@home.test", Uuid::new_v4().simple())
}

/// Writes a password-reset email to `to` into the app's outbox, as the
/// reset endpoint does in its transaction.
async fn enqueue_reset(app: &TestApp, to: &str, language: &str) -> Uuid {
    let mail = password_reset(language, RESET_CODE, 30).unwrap();
    enqueue_mail(app, to, &mail).await
}

async fn enqueue_mail(app: &TestApp, to: &str, mail: &RenderedMail) -> Uuid {
    let txn = app.core.db.begin().await.unwrap();
    let now = app.clock.now().as_millisecond();
    let id = enqueue(&txn, &app.core.data_keys, to, mail, now)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    id
}

/// One outbox row as stored: (status, attempt, body, recipient, subject,
/// last_error).
type Stored = (String, i64, Option<String>, String, String, Option<String>);

async fn stored(app: &TestApp, id: Uuid) -> Stored {
    let backend = app.core.db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT status, attempt, body, recipient, subject, last_error FROM mail_outbox WHERE id = $1"
        }
        _ => {
            "SELECT status, attempt, body, recipient, subject, last_error FROM mail_outbox WHERE id = ?"
        }
    };
    let row = app
        .core
        .db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "status").unwrap(),
        row.try_get("", "attempt").unwrap(),
        row.try_get("", "body").unwrap(),
        row.try_get("", "recipient").unwrap(),
        row.try_get("", "subject").unwrap(),
        row.try_get("", "last_error").unwrap(),
    )
}

#[tokio::test]
async fn without_smtp_an_email_is_written_once_as_an_eml_file_and_its_body_cleared() {
    let capture = dorsal_tests::capture_logs();
    let app = TestApp::spawn().await;
    let to = patient_address();
    let id = enqueue_reset(&app, &to, "en").await;

    let (status, _, body, recipient, subject, _) = stored(&app, id).await;
    assert_eq!(status, "pending");
    let sealed = [body.clone().unwrap(), recipient, subject];
    for value in &sealed {
        assert!(value.starts_with("v1."), "sealed: {value}");
        assert!(!value.contains(&to) && !value.contains(RESET_CODE) && !value.contains("reset"));
    }

    assert_eq!(app.deliver_mail().await, 1);
    let mailbox = app.mailbox();
    assert_eq!(mailbox.len(), 1);
    let sent = &mailbox[0];
    assert_eq!(sent.file_name, format!("{id}.eml"));
    assert_eq!(sent.to, to);
    assert_eq!(sent.subject, "Your dorsal password reset code");
    assert!(
        sent.body.contains(&format!("Your code is: {RESET_CODE}")),
        "{}",
        sent.body
    );
    assert!(sent.body.contains("valid for 30 minutes"), "{}", sent.body);
    let headers = sent.raw.split("\r\n\r\n").next().unwrap();
    for header in [
        "Date: ",
        "Message-ID: <",
        "From: dorsal <no-reply@localhost>",
        "To: ",
    ] {
        assert!(headers.contains(header), "{header} in {headers}");
    }
    assert!(
        headers.contains(&format!("Message-ID: <{id}@localhost>")),
        "{headers}"
    );
    assert!(
        headers.contains("Content-Type: text/plain; charset=utf-8"),
        "{headers}"
    );

    // Delivered, its body gone from the database, and never sent again.
    let (status, attempt, body, ..) = stored(&app, id).await;
    assert_eq!((status.as_str(), attempt, body), ("delivered", 1, None));
    app.clock.advance(Duration::from_secs(3_600));
    app.run_out_leases().await;
    assert_eq!(app.deliver_mail().await, 0);
    assert_eq!(app.mailbox().len(), 1);
    let dir = app.core.config.data_dir().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "no temporary file is left behind");

    // The file name is logged; the address and the code are not.
    let logs = capture.text();
    assert!(
        logs.contains(&format!("{id}.eml")),
        "the file name is logged"
    );
    assert!(!logs.contains(&to), "the recipient is in the logs");
    assert!(!logs.contains(RESET_CODE), "the code is in the logs");
}

#[tokio::test]
async fn an_email_enqueued_in_a_transaction_that_rolls_back_is_never_sent() {
    let app = TestApp::spawn().await;
    let mail = password_reset("en", RESET_CODE, 30).unwrap();
    let txn = app.core.db.begin().await.unwrap();
    let now = app.clock.now().as_millisecond();
    enqueue(&txn, &app.core.data_keys, &patient_address(), &mail, now)
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(app.count("mail_outbox").await, 0);
    assert_eq!(app.deliver_mail().await, 0);
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn a_spanish_email_is_encoded_and_reads_back_whole() {
    let app = TestApp::spawn().await;
    let to = patient_address();
    enqueue_reset(&app, &to, "es-ES").await;
    app.deliver_mail().await;
    let sent = app.mailbox().pop().unwrap();
    assert_eq!(
        sent.subject,
        "Su código para restablecer la contraseña de dorsal"
    );
    assert!(sent.body.contains(&format!("Su código es: {RESET_CODE}")));
    assert!(sent.body.contains("Es válido durante 30 minutos"));
    assert!(
        sent.raw.is_ascii(),
        "non-ASCII text is encoded for the wire"
    );
}

#[tokio::test]
async fn an_smtp_server_that_is_away_gets_the_email_on_a_later_attempt() {
    let capture = dorsal_tests::capture_logs();
    // A port nothing listens on: connection refused.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}?tls=none").into());
    })
    .await;
    let to = patient_address();
    let id = enqueue_reset(&app, &to, "en").await;

    assert_eq!(app.deliver_mail().await, 1);
    let (status, attempt, body, _, _, error) = stored(&app, id).await;
    assert_eq!((status.as_str(), attempt), ("pending", 1));
    assert!(body.is_some(), "the message is kept for the retry");
    assert_eq!(error.as_deref(), Some("smtp: connection failed"));
    assert_eq!(app.deliver_mail().await, 0, "not before the retry is due");

    // The relay is back (here: the worker writes files) when the retry is due.
    app.clock.advance(Duration::from_secs(10));
    let mut config = (*app.core.config).clone();
    config.mail.smtp_url = None;
    let mailer = dorsal_worker::mail::Mailer::from_config(&config).unwrap();
    let ctx = dorsal_worker::JobCtx::from(&app.core);
    let claimed = dorsal_worker::jobs::deliver_mail::run(&ctx, &mailer, app.clock.now())
        .await
        .unwrap();
    assert_eq!(claimed, 1);
    let mailbox = app.mailbox();
    assert_eq!(mailbox.len(), 1);
    assert_eq!(mailbox[0].to, to);
    let (status, attempt, body, ..) = stored(&app, id).await;
    assert_eq!((status.as_str(), attempt, body), ("delivered", 2, None));
    assert!(!capture.text().contains(&to));
}

/// How the test server secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// Offers STARTTLS and takes no mail before it.
    StartTls,
    /// TLS from the first byte.
    Implicit,
    /// Offers no STARTTLS at all (a downgraded or misconfigured relay).
    Plain,
}

/// What the server received in one mail transaction.
#[derive(Debug, Clone)]
struct Received {
    login: Option<(String, String)>,
    encrypted: bool,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// An SMTP server on a loopback port with a certificate for 127.0.0.1
/// from a test CA; it takes AUTH PLAIN or LOGIN only with [`SMTP_USER`]
/// and [`SMTP_PASSWORD`].
struct SmtpServer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    ca_file: String,
    _dir: tempfile::TempDir,
}

fn test_ca() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "dorsal test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![Ipv4Addr::LOCALHOST.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (ca_cert.pem(), Arc::new(config))
}

impl SmtpServer {
    async fn start(security: Security) -> SmtpServer {
        let (ca_pem, tls) = test_ca();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("test-ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let acceptor = TlsAcceptor::from(tls);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, acceptor) = (log.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let _ = session(stream, security, acceptor, log).await;
                });
            }
        });
        SmtpServer {
            addr,
            received,
            ca_file: ca_file.display().to_string(),
            _dir: dir,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    security: Security,
    acceptor: TlsAcceptor,
    log: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    match security {
        Security::Implicit => {
            let tls = acceptor.accept(stream).await?;
            converse(tls, true, true, log).await
        }
        Security::Plain => converse(stream, true, false, log).await,
        Security::StartTls => {
            let mut plain = BufReader::new(stream);
            plain.write_all(b"220 127.0.0.1 ESMTP test\r\n").await?;
            loop {
                let line = read_line(&mut plain).await?;
                let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                match verb.as_str() {
                    "EHLO" => {
                        plain
                            .write_all(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 STARTTLS\r\n")
                            .await?;
                    }
                    "STARTTLS" => {
                        plain.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                        break;
                    }
                    "QUIT" => {
                        plain.write_all(b"221 2.0.0 Bye\r\n").await?;
                        return Ok(());
                    }
                    _ => {
                        plain
                            .write_all(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
                            .await?;
                    }
                }
            }
            let tls = acceptor.accept(plain.into_inner()).await?;
            converse(tls, false, true, log).await
        }
    }
}

async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn decode(b64: &str) -> String {
    String::from_utf8(STANDARD.decode(b64.trim()).unwrap_or_default()).unwrap_or_default()
}

/// The SMTP conversation after any TLS handshake: EHLO, AUTH, one or more
/// mail transactions, QUIT.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    greet: bool,
    encrypted: bool,
    log: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let mut s = BufReader::new(stream);
    if greet {
        s.write_all(b"220 127.0.0.1 ESMTP test\r\n").await?;
    }
    let mut login: Option<(String, String)> = None;
    let mut current: Option<Received> = None;
    loop {
        let line = read_line(&mut s).await?;
        let mut words = line.splitn(3, ' ');
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => {
                s.write_all(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n")
                    .await?;
            }
            "AUTH" => {
                let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next().map(str::to_owned);
                let (user, password) = if mechanism == "PLAIN" {
                    let response = match initial {
                        Some(response) => response,
                        None => {
                            s.write_all(b"334 \r\n").await?;
                            read_line(&mut s).await?
                        }
                    };
                    let plain = decode(&response);
                    let mut parts = plain.split('\0').skip(1);
                    (
                        parts.next().unwrap_or("").to_owned(),
                        parts.next().unwrap_or("").to_owned(),
                    )
                } else {
                    let user = match initial {
                        Some(user) => decode(&user),
                        None => {
                            s.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                            decode(&read_line(&mut s).await?)
                        }
                    };
                    s.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                    (user, decode(&read_line(&mut s).await?))
                };
                if user == SMTP_USER && password == SMTP_PASSWORD {
                    login = Some((user, password));
                    s.write_all(b"235 2.7.0 Authentication successful\r\n")
                        .await?;
                } else {
                    s.write_all(b"535 5.7.8 Authentication credentials invalid\r\n")
                        .await?;
                }
            }
            "MAIL" => {
                if login.is_none() {
                    s.write_all(b"530 5.7.0 Authentication required\r\n")
                        .await?;
                    continue;
                }
                current = Some(Received {
                    login: login.clone(),
                    encrypted,
                    mail_from: angle(&line),
                    rcpt_to: Vec::new(),
                    data: String::new(),
                });
                s.write_all(b"250 2.1.0 Ok\r\n").await?;
            }
            "RCPT" => {
                if let Some(current) = current.as_mut() {
                    current.rcpt_to.push(angle(&line));
                    s.write_all(b"250 2.1.5 Ok\r\n").await?;
                } else {
                    s.write_all(b"503 5.5.1 MAIL first\r\n").await?;
                }
            }
            "DATA" => {
                s.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    let mut raw = String::new();
                    if s.read_line(&mut raw).await? == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    if raw == ".\r\n" {
                        break;
                    }
                    data.push_str(raw.strip_prefix('.').unwrap_or(&raw));
                }
                if let Some(mut done) = current.take() {
                    done.data = data;
                    log.lock().unwrap().push(done);
                }
                s.write_all(b"250 2.0.0 Ok: queued\r\n").await?;
            }
            "RSET" | "NOOP" => s.write_all(b"250 2.0.0 Ok\r\n").await?,
            "QUIT" => {
                s.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => s.write_all(b"502 5.5.2 Command not recognized\r\n").await?,
        }
    }
}

/// The address between angle brackets of `MAIL FROM:<…>` / `RCPT TO:<…>`.
fn angle(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// The login in URL form: percent-encoded user and password.
fn url_login() -> String {
    let encode = |s: &str| {
        s.replace('%', "%25")
            .replace('@', "%40")
            .replace(':', "%3A")
            .replace('/', "%2F")
    };
    format!("{}:{}", encode(SMTP_USER), encode(SMTP_PASSWORD))
}

async fn app_sending_to(server: &SmtpServer, url: String) -> TestApp {
    let ca_file = server.ca_file.clone();
    TestApp::spawn_with(move |c| {
        c.mail.smtp_url = Some(url.into());
        c.mail.ca_file = ca_file;
        c.mail.from = "Spine Clinic <no-reply@clinic.example>".to_owned();
    })
    .await
}

/// Sends one reset email through `server` and checks what it received.
async fn sends_through(server: &SmtpServer, url: String) {
    let capture = dorsal_tests::capture_logs();
    let app = app_sending_to(server, url).await;
    let to = patient_address();
    let id = enqueue_reset(&app, &to, "es").await;
    assert_eq!(app.deliver_mail().await, 1);

    let received = server.received();
    assert_eq!(received.len(), 1, "{:?}", stored(&app, id).await.5);
    let got = &received[0];
    assert!(got.encrypted);
    assert_eq!(
        got.login,
        Some((SMTP_USER.to_owned(), SMTP_PASSWORD.to_owned()))
    );
    assert_eq!(got.mail_from, "no-reply@clinic.example");
    assert_eq!(got.rcpt_to, std::slice::from_ref(&to));
    let sent = SentMail::parse("smtp", &got.data);
    assert_eq!(sent.to, to);
    assert_eq!(
        sent.subject,
        "Su código para restablecer la contraseña de dorsal"
    );
    assert!(sent.body.contains(&format!("Su código es: {RESET_CODE}")));
    assert!(
        sent.raw
            .contains(&format!("Message-ID: <{id}@clinic.example>"))
    );
    assert!(
        sent.raw
            .contains(r#"From: "Spine Clinic" <no-reply@clinic.example>"#),
        "{}",
        sent.raw
    );
    assert!(sent.raw.contains("Date: "));
    assert!(sent.raw.contains("Content-Type: text/plain; charset=utf-8"));

    let (status, _, body, ..) = stored(&app, id).await;
    assert_eq!((status.as_str(), body), ("delivered", None));
    assert_eq!(app.deliver_mail().await, 0);
    assert_eq!(server.received().len(), 1, "sent once");
    assert!(app.mailbox().is_empty(), "no file when SMTP is set");
    let logs = capture.text();
    assert!(!logs.contains(&to) && !logs.contains(RESET_CODE) && !logs.contains(SMTP_PASSWORD));
}

#[tokio::test]
async fn smtp_urls_send_with_starttls_and_log_in() {
    let server = SmtpServer::start(Security::StartTls).await;
    let url = format!("smtp://{}@{}", url_login(), server.addr);
    sends_through(&server, url).await;
}

#[tokio::test]
async fn smtps_urls_send_over_implicit_tls_and_log_in() {
    let server = SmtpServer::start(Security::Implicit).await;
    let url = format!("smtps://{}@{}", url_login(), server.addr);
    sends_through(&server, url).await;
}

#[tokio::test]
async fn a_server_without_starttls_gets_nothing_and_the_email_waits() {
    let server = SmtpServer::start(Security::Plain).await;
    let url = format!("smtp://{}@{}", url_login(), server.addr);
    let app = app_sending_to(&server, url).await;
    let id = enqueue_reset(&app, &patient_address(), "en").await;
    assert_eq!(app.deliver_mail().await, 1);
    assert!(server.received().is_empty(), "nothing in plain text");
    let (status, attempt, body, _, _, error) = stored(&app, id).await;
    assert_eq!((status.as_str(), attempt), ("pending", 1));
    assert!(body.is_some());
    assert!(error.unwrap().starts_with("smtp: "));
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_gets_nothing() {
    let server = SmtpServer::start(Security::Implicit).await;
    let url = format!("smtps://{}@{}", url_login(), server.addr);
    let app = TestApp::spawn_with(move |c| c.mail.smtp_url = Some(url.into())).await;
    let id = enqueue_reset(&app, &patient_address(), "en").await;
    assert_eq!(app.deliver_mail().await, 1);
    assert!(server.received().is_empty());
    let (status, .., error) = stored(&app, id).await;
    assert_eq!(status, "pending");
    assert!(error.unwrap().starts_with("smtp: "));
}

#[tokio::test]
async fn an_email_whose_worker_died_goes_once_after_its_lease_runs_out() {
    let app = TestApp::spawn().await;
    let id = enqueue_reset(&app, &patient_address(), "en").await;
    let now = app.clock.now().as_millisecond();
    let dead_worker = Uuid::now_v7();
    let claimed = dorsal_service::mail::claim(&app.core.db, dead_worker, now, 30_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.deliver_mail().await, 0, "the lease is held");

    app.run_out_leases().await;
    assert_eq!(app.deliver_mail().await, 1);
    // The worker that died wakes up: its outcome is fenced off.
    let late = dorsal_service::mail::finish(
        &app.core.db,
        &claimed[0],
        dead_worker,
        &dorsal_service::outbox::Attempt::Failed {
            status: None,
            error: "late".into(),
            retry_after: None,
        },
        now + 32_000,
        0.5,
    )
    .await
    .unwrap();
    assert!(!late);
    let (status, attempt, body, ..) = stored(&app, id).await;
    assert_eq!((status.as_str(), attempt, body), ("delivered", 2, None));
    let mailbox = app.mailbox();
    assert_eq!(mailbox.len(), 1);
    assert_eq!(mailbox[0].file_name, format!("{id}.eml"));
}
