//! The test harness: the real app on 127.0.0.1:0 with a fresh database per
//! test — a temporary SQLite file by default, a fresh PostgreSQL database
//! when `DATABASE_URL` names a server — and helpers that assert the status
//! of every call.

#![expect(
    clippy::expect_used,
    reason = "a harness that cannot set up must fail the test loudly"
)]

pub mod browser;
pub mod diary;
pub mod reminders;
pub mod sync;

use std::net::SocketAddr;
use std::sync::Arc;

use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::clock::Clock;
use dorsal_service::config::Config;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Everything the process logs at debug level, from the first call on: to
/// memory, and appended to the file `DORSAL_TEST_LOG` names, so CI can
/// search the logs of a whole test run for words patients wrote.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    memory: Arc<std::sync::Mutex<Vec<u8>>>,
    file: Option<Arc<std::sync::Mutex<std::fs::File>>>,
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut memory) = self.memory.lock() {
            memory.extend_from_slice(buf);
        }
        if let Some(file) = &self.file
            && let Ok(mut file) = file.lock()
        {
            file.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogCapture {
    /// What was logged so far.
    pub fn text(&self) -> String {
        let memory = self.memory.lock().map(|m| m.clone()).unwrap_or_default();
        String::from_utf8_lossy(&memory).into_owned()
    }
}

/// Installs the process-wide capture once and returns it. (A thread-local
/// subscriber would miss events whose call sites another test thread
/// reached first.)
pub fn capture_logs() -> &'static LogCapture {
    static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
    CAPTURE.get_or_init(|| {
        let file = std::env::var_os("DORSAL_TEST_LOG").map(|path| {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open DORSAL_TEST_LOG");
            Arc::new(std::sync::Mutex::new(file))
        });
        let capture = LogCapture {
            memory: Arc::default(),
            file,
        };
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other log subscriber");
        capture
    })
}

/// The app's clock in tests: the system's, moved on by what a test adds
/// with [`TestClock::advance`], so a test can skip a wait without sleeping.
#[derive(Debug, Clone, Default)]
pub struct TestClock {
    ahead_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl TestClock {
    /// Moves the clock on by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).expect("a test-sized duration");
        self.ahead_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> jiff::Timestamp {
        let ahead = self.ahead_ms.load(std::sync::atomic::Ordering::SeqCst);
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_millis(ahead))
            .expect("a test-sized clock")
    }
}

/// The signing secret every test app uses.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
/// The data key every test app seals stored secrets under.
pub const TEST_DATA_KEY: &str = "test-data-key-test-data-key-test-data-0123";
/// The password every fixture account has.
pub const PASSWORD: &str = "correct horse battery";

/// Asserts `body` is the problem document of `status` with `code`.
pub fn assert_problem(body: &Value, status: u16, code: &str) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("/problems/{code}"), "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

/// A fresh, empty database for one test, dropped with it, and a data
/// directory of its own (the SQLite file's folder, or a temporary folder
/// beside a PostgreSQL database).
#[derive(Debug)]
pub struct TestDatabase {
    /// URL the app connects to.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    data_dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// SQLite in a temporary folder, or a new database on the PostgreSQL
    /// server `DATABASE_URL` names.
    pub async fn create() -> TestDatabase {
        match std::env::var("DATABASE_URL") {
            Ok(server) if server.starts_with("postgres") => {
                let name = format!("dorsal_test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&server)
                    .await
                    .expect("connect to DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (base, query) = match server.split_once('?') {
                    Some((base, query)) => (base, format!("?{query}")),
                    None => (server.as_str(), String::new()),
                };
                let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
                let url = format!("{prefix}/{name}{query}");
                TestDatabase {
                    url,
                    _dir: None,
                    data_dir: Some(tempfile::tempdir().expect("temporary folder")),
                    postgres: Some((server, name)),
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}/dorsal.db?mode=rwc", dir.path().display());
                TestDatabase {
                    url,
                    _dir: Some(dir),
                    data_dir: None,
                    postgres: None,
                }
            }
        }
    }

    /// Whether this test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The built-in configuration pointed at this database, listening on
    /// any free loopback port.
    pub fn config(&self) -> Config {
        let mut config = Config::defaults_with_database(&self.url).expect("default configuration");
        config.jwt_secret = Some(TEST_JWT_SECRET.into());
        config.data_key = Some(TEST_DATA_KEY.into());
        config.bind = "127.0.0.1:0".to_owned();
        config.webhook_allow_private = true;
        if let Some(dir) = &self.data_dir {
            // Emails written as files land here, not in the working folder.
            config.data_dir = dir.path().display().to_string();
        }
        // Every test's patients register from 127.0.0.1.
        config.auth.register_per_address_per_hour = 1_000_000;
        config
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime we may block; use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = Database::connect(&server)
                    .await
                    .map_err(std::io::Error::other)?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .map_err(std::io::Error::other)?;
                admin.close().await.map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database; .ci/run removes leftovers");
        }
    }
}

/// A running app and a client for it.
#[derive(Debug)]
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Handles the app runs on, for asserting what is in the database.
    pub core: Core,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The clock the app reads; advance it to skip a wait.
    pub clock: TestClock,
    shutdown: CancellationToken,
    /// The database; dropped after the app stops.
    pub database: TestDatabase,
}

/// An account that has logged in.
#[derive(Debug, Clone)]
pub struct Login {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh: String,
}

/// An org with a therapist, a clinician, and a patient on its care team.
#[derive(Debug)]
pub struct Clinic {
    /// The app.
    pub app: TestApp,
    /// The org and its admin.
    pub org: Org,
    /// A therapist of the org (the patient joined with their invite).
    pub therapist: Login,
    /// A clinician of the org.
    pub clinician: Login,
    /// A patient on the org's care team.
    pub patient: Login,
}

impl Clinic {
    /// A fresh app with one clinic in it.
    pub async fn spawn() -> Clinic {
        let app = TestApp::spawn().await;
        let org = app.create_org("Clinic").await;
        let therapist = app.add_staff(&org, "therapist").await;
        let clinician = app.add_staff(&org, "clinician").await;
        let patient = app.patient_of(&therapist).await;
        Clinic {
            app,
            org,
            therapist,
            clinician,
            patient,
        }
    }
}

/// An org with its first admin.
#[derive(Debug, Clone)]
pub struct Org {
    /// Org id.
    pub id: Uuid,
    /// Its admin, logged in.
    pub admin: Login,
}

/// Serves the API on `core` at a free loopback port until the returned
/// token is cancelled: a second app on a database a test already set up.
pub async fn serve(core: &Core) -> (SocketAddr, CancellationToken) {
    let app = App::bind(AppState::from(core.clone()), "127.0.0.1:0")
        .await
        .expect("bind");
    let addr = app.local_addr().expect("local address");
    let shutdown = CancellationToken::new();
    tokio::spawn(app.serve(shutdown.clone()));
    (addr, shutdown)
}

impl TestApp {
    /// The app with the built-in configuration.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The app with the configuration adjusted by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(TestDatabase::create().await, tweak).await
    }

    /// The app on `database`, with the configuration adjusted by `tweak`.
    pub async fn spawn_on(database: TestDatabase, tweak: impl FnOnce(&mut Config)) -> TestApp {
        if std::env::var_os("DORSAL_TEST_LOG").is_some() {
            capture_logs();
        }
        let mut config = database.config();
        tweak(&mut config);
        let clock = TestClock::default();
        let core = Core::open(config, Arc::new(clock.clone()), true)
            .await
            .expect("open core");
        let (addr, shutdown) = serve(&core).await;
        dorsal_worker::delivery::install_crypto_provider();
        let client = reqwest::Client::builder().build().expect("client");
        TestApp {
            addr,
            core,
            client,
            clock,
            shutdown,
            database,
        }
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request and asserts its status; returns the JSON body (or
    /// `Value::Null` for an empty one).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        expect: u16,
    ) -> Value {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body read");
        assert_eq!(
            status,
            StatusCode::from_u16(expect).expect("status"),
            "{method} {path}: {text}"
        );
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        }
    }

    /// GET, asserting the status.
    pub async fn get(&self, path: &str, token: Option<&str>, expect: u16) -> Value {
        self.call(Method::GET, path, token, None, expect).await
    }

    /// POST a JSON body, asserting the status.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value, expect: u16) -> Value {
        self.call(Method::POST, path, token, Some(body), expect)
            .await
    }

    /// PUT a JSON body as `who`, asserting the status.
    pub async fn put(&self, path: &str, who: &Login, body: Value, expect: u16) -> Value {
        self.call(Method::PUT, path, Some(&who.token), Some(body), expect)
            .await
    }

    /// A new org and its admin, as `dorsal admin create-org` makes them.
    pub async fn create_org(&self, name: &str) -> Org {
        let domain: String = name
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let email = format!("admin-{}@{domain}.test", Uuid::new_v4().simple());
        let (id, _) = dorsal_service::users::create_org_with_admin(
            &self.core.db,
            &self.core.auth,
            name,
            dorsal_service::users::NewAccount {
                email: email.clone(),
                password: PASSWORD.to_owned(),
                display_name: "Admin".to_owned(),
            },
        )
        .await
        .expect("create org");
        Org {
            id,
            admin: self.login(&email).await,
        }
    }

    /// Logs in with the fixture password.
    pub async fn login(&self, email: &str) -> Login {
        let tokens = self
            .post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
                200,
            )
            .await;
        let token = tokens["access_token"]
            .as_str()
            .expect("access token")
            .to_owned();
        let me = self.get("/v1/me", Some(&token), 200).await;
        Login {
            id: me["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("user id"),
            email: email.to_owned(),
            token,
            refresh: tokens["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    /// An admin adds a staff member with `role`, who then logs in.
    pub async fn add_staff(&self, org: &Org, role: &str) -> Login {
        let email = format!("{role}-{}@clinic.test", Uuid::new_v4().simple());
        self.post(
            "/v1/staff",
            Some(&org.admin.token),
            json!({"email": email, "password": PASSWORD, "role": role, "display_name": role}),
            201,
        )
        .await;
        self.login(&email).await
    }

    /// A patient registers and logs in.
    pub async fn register_patient(&self) -> Login {
        self.register_named("Pat", "patient").await
    }

    /// A patient named `name`, whose email starts with `local`, registers
    /// and logs in.
    pub async fn register_named(&self, name: &str, local: &str) -> Login {
        let email = format!("{local}-{}@home.test", Uuid::new_v4().simple());
        self.post(
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": name}),
            201,
        )
        .await;
        self.login(&email).await
    }

    /// A patient who joined `org`'s care team with an invite from `staff`.
    pub async fn patient_of(&self, staff: &Login) -> Login {
        self.named_patient_of(staff, "Pat", "patient").await
    }

    /// [`TestApp::patient_of`], named `name` with an email starting with
    /// `local`.
    pub async fn named_patient_of(&self, staff: &Login, name: &str, local: &str) -> Login {
        let patient = self.register_named(name, local).await;
        self.join_care_team(&patient, staff).await;
        patient
    }

    /// `patient` joins the care team of `staff`'s org with an invite from
    /// `staff`.
    pub async fn join_care_team(&self, patient: &Login, staff: &Login) {
        let invite = self
            .post("/v1/invites", Some(&staff.token), json!({}), 201)
            .await;
        self.post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": invite["code"]}),
            200,
        )
        .await;
    }

    /// Every live lease runs out, as if its time had passed: outbox claims
    /// and job-slot claims. (On PostgreSQL leases are timed by the
    /// database's clock, which a test cannot move.)
    pub async fn run_out_leases(&self) {
        for statement in [
            "UPDATE deliveries SET lease_until = 0 WHERE lease_until IS NOT NULL",
            "UPDATE push_deliveries SET lease_until = 0 WHERE lease_until IS NOT NULL",
            "UPDATE mail_outbox SET lease_until = 0 WHERE lease_until IS NOT NULL",
            "UPDATE job_slots SET claimed_at = 0 WHERE done_at IS NULL",
        ] {
            self.core
                .db
                .execute_unprepared(statement)
                .await
                .expect("leases run out");
        }
    }

    /// The first column of every row `sql` (fixed text from the test)
    /// returns.
    pub async fn column<T: sea_orm::TryGetable>(&self, sql: &str) -> Vec<T> {
        let backend = self.core.db.get_database_backend();
        self.core
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("query")
            .iter()
            .map(|row| {
                row.try_get_by_index::<T>(0)
                    .expect("a value of the asked type")
            })
            .collect()
    }

    /// The one value `sql` (fixed text from the test) returns.
    pub async fn scalar<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        self.column(sql).await.into_iter().next().expect("a row")
    }

    /// Rows in `table` (a fixed name from the test, never input).
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.core.db.get_database_backend();
        let row = self
            .core
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("a count row");
        row.try_get::<i64>("", "n").expect("count value")
    }
}

/// One email the worker wrote as an `.eml` file (the app has no SMTP
/// server set), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// The file's name in `<data dir>/mail/`.
    pub file_name: String,
    /// The recipient's address.
    pub to: String,
    /// The decoded subject.
    pub subject: String,
    /// The decoded plain-text body.
    pub body: String,
    /// The message as written.
    pub raw: String,
}

impl SentMail {
    /// Parses an RFC 5322 message (headers and a plain-text body, decoded
    /// from quoted-printable or base64 as needed).
    pub fn parse(file_name: &str, raw: &str) -> SentMail {
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("an RFC 5322 message");
        SentMail {
            file_name: file_name.to_owned(),
            to: message
                .to()
                .and_then(|to| to.first())
                .and_then(|to| to.address())
                .expect("a To address")
                .to_owned(),
            subject: message.subject().expect("a Subject").to_owned(),
            body: message
                .body_text(0)
                .expect("a text body")
                .replace("\r\n", "\n"),
            raw: raw.to_owned(),
        }
    }
}

impl TestApp {
    /// Runs the worker's mail delivery once, as a worker of this app would
    /// at the app's clock; returns how many emails it claimed.
    pub async fn deliver_mail(&self) -> usize {
        let mailer = dorsal_worker::mail::Mailer::from_config(&self.core.config).expect("mailer");
        dorsal_worker::jobs::deliver_mail::run(
            &dorsal_worker::JobCtx::from(&self.core),
            &mailer,
            self.clock.now(),
        )
        .await
        .expect("mail delivery")
    }

    /// The emails written to the app's mail folder so far, oldest first.
    pub fn mailbox(&self) -> Vec<SentMail> {
        let dir = self
            .core
            .config
            .data_dir()
            .join(dorsal_worker::mail::MAIL_FOLDER);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|entry| entry.expect("a mail folder entry").file_name())
            .filter_map(|name| name.into_string().ok())
            .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
            .collect();
        names.sort();
        names
            .iter()
            .map(|name| {
                let raw = std::fs::read_to_string(dir.join(name)).expect("an .eml file");
                SentMail::parse(name, &raw)
            })
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
