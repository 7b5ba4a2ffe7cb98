//! Exercise images: the worker fetches each exercise's image from a real
//! HTTP server on 127.0.0.1 into the database, refusing SVG, bodies over
//! 2 MiB (announced or not), the wrong content type and bytes that are not
//! what the type says, and records each refusal with a retry an hour on;
//! the clinic serves the stored copy to staff of an org that can see the
//! exercise, and the catalog and builder show it as an `<img>` from
//! dorsal's own origin.
//!
//! The catalog takes `https://` image URLs only, and a test server with a
//! certificate the worker's client trusts would need a test-only trust
//! store in the worker. The tests therefore write the row's `image_url`
//! directly (what the API stored is checked by the programs tests), and the
//! worker, like webhook delivery, allows plain `http` and loopback targets
//! only under `webhook_allow_private`, which the test configuration turns
//! on; one test turns it off to see the guard refuse a loopback target.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use dorsal_service::clock::Clock;
use dorsal_tests::browser::Browser;
use dorsal_tests::{Clinic, Login, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::delivery::HttpSender;
use dorsal_worker::jobs::fetch_images::{self, Report};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A real 2×2 RGB PNG.
const PNG: [u8; 75] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0x00, 0xc2, 0x0c, 0xff, 0x81, 0x00, 0x00, 0x1f, 0xee, 0x05, 0xfb, 0xf1, 0xab, 0xba, 0x77, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
const MIB: usize = 1024 * 1024;

/// The image server: its address and how often `/ok.png` was fetched.
struct Images {
    addr: SocketAddr,
    ok_hits: Arc<AtomicUsize>,
    /// A server that streams a PNG-looking body of 3 MiB in chunks with no
    /// length announced.
    chunked: SocketAddr,
}

async fn image_server() -> Images {
    let ok_hits = Arc::new(AtomicUsize::new(0));
    let hits = ok_hits.clone();
    let mut big = PNG.to_vec();
    big.resize(2 * MIB + 1, 0);
    let app = Router::new()
        .route(
            "/ok.png",
            get(move || {
                hits.fetch_add(1, Ordering::SeqCst);
                async { ([(header::CONTENT_TYPE, "image/png")], PNG.to_vec()) }
            }),
        )
        .route(
            "/drawing.svg",
            get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml")], SVG) }),
        )
        .route(
            "/big.png",
            get(move || {
                let big = big.clone();
                async move { ([(header::CONTENT_TYPE, "image/png")], big) }
            }),
        )
        .route(
            "/page.png",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], PNG.to_vec()) }),
        )
        .route(
            "/disguised.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], SVG) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let chunked = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\n\
                            transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut chunk = vec![0u8; 64 * 1024];
                chunk[..PNG.len()].copy_from_slice(&PNG);
                for _ in 0..48 {
                    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                    framed.extend_from_slice(&chunk);
                    framed.extend_from_slice(b"\r\n");
                    if socket.write_all(&framed).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    Images {
        addr,
        ok_hits,
        chunked,
    }
}

/// Adds an exercise with an image through the API; returns its id.
async fn exercise(app: &TestApp, therapist: &Login, slug: &str, alt: &str) -> String {
    let made = app
        .post(
            "/v1/exercises",
            Some(&therapist.token),
            json!({"slug": slug, "name": slug, "instructions": "Slowly.", "default_sets": 1,
                "default_reps": 5, "default_hold_seconds": 0,
                "image_url": format!("https://media.example.org/{slug}.png"), "image_alt": alt}),
            201,
        )
        .await;
    made["id"].as_str().unwrap().to_owned()
}

/// Points the exercise `slug`'s image at `url` (see the module's note).
async fn point_at(app: &TestApp, slug: &str, url: &str) {
    app.core
        .db
        .execute_unprepared(&format!(
            "UPDATE exercises SET image_url = '{url}' WHERE slug = '{slug}'"
        ))
        .await
        .unwrap();
}

async fn fetch(app: &TestApp, allow_private: bool) -> Report {
    fetch_images::run(
        &JobCtx::from(&app.core),
        &HttpSender::new(allow_private).unwrap(),
        app.clock.now(),
    )
    .await
    .unwrap()
}

/// GETs `path` with `cookie` (if any), keeping the body as bytes.
async fn get_bytes(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn images_are_fetched_checked_stored_and_served_to_staff_who_see_the_exercise() {
    // Other tests' logs may land in the capture too, which does no harm.
    let capture = dorsal_tests::capture_logs();
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let images = image_server().await;
    let base = format!("http://{}", images.addr);
    let ok = exercise(&app, &therapist, "img-ok", "A person on all fours").await;
    let mut refused = Vec::new();
    for (slug, url, why) in [
        (
            "img-svg",
            format!("{base}/drawing.svg"),
            "image/svg+xml is not an allowed",
        ),
        ("img-big", format!("{base}/big.png"), "larger than 2 MiB"),
        (
            "img-stream",
            format!("http://{}/x.png", images.chunked),
            "larger than 2 MiB",
        ),
        (
            "img-html",
            format!("{base}/page.png"),
            "text/html is not an allowed",
        ),
        (
            "img-disguised",
            format!("{base}/disguised.png"),
            "bytes are not",
        ),
        ("img-missing", format!("{base}/missing.png"), "HTTP 404"),
    ] {
        let id = exercise(&app, &therapist, slug, "Not shown").await;
        point_at(&app, slug, &url).await;
        refused.push((id, slug, why));
    }
    point_at(&app, "img-ok", &format!("{base}/ok.png")).await;

    // Two workers at once: each image is fetched by one of them.
    let ctx = JobCtx::from(&app.core);
    let other = JobCtx::from(&app.core);
    let sender = HttpSender::new(true).unwrap();
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        fetch_images::run(&ctx, &sender, now),
        fetch_images::run(&other, &sender, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.stored + b.stored, a.failed + b.failed),
        (1, refused.len())
    );
    assert_eq!(images.ok_hits.load(Ordering::SeqCst), 1);
    // The job's lines name the exercise, never the URL.
    let logs = capture.text();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("exercise image"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("exercise image stored") && l.contains(&ok)),
        "{logs}"
    );
    for (id, slug, _) in &refused {
        assert!(
            lines
                .iter()
                .any(|l| l.contains("not stored") && l.contains(id.as_str())),
            "{slug}"
        );
    }
    for line in &lines {
        for url in [
            images.addr.to_string(),
            images.chunked.to_string(),
            "drawing.svg".to_owned(),
        ] {
            assert!(!line.contains(&url), "{line}");
        }
    }
    // Nothing is due again at once: stored images stay, failures wait.
    assert_eq!(fetch(&app, true).await, Report::default());
    assert_eq!(images.ok_hits.load(Ordering::SeqCst), 1);

    // Served byte for byte to the clinic's staff.
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let cookie = browser.cookie.clone();
    let path = format!("/clinic/exercises/{ok}/image");
    let (status, headers, body) = get_bytes(&app, &path, cookie.as_deref()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PNG);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CACHE_CONTROL], "private, max-age=300");

    // Refused bodies are recorded, not stored, not served.
    for (id, slug, why) in &refused {
        let failure: String = app
            .scalar(&format!(
                "SELECT i.failure FROM exercise_images i JOIN exercises e ON e.id = i.exercise_id \
                 WHERE e.slug = '{slug}' AND i.bytes IS NULL"
            ))
            .await;
        assert!(failure.contains(why), "{slug}: {failure}");
        let (status, _, body) = get_bytes(
            &app,
            &format!("/clinic/exercises/{id}/image"),
            cookie.as_deref(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{slug}");
        assert!(!body.starts_with(b"<svg"), "{slug}");
    }

    // Another org's staff: not found; signed out: back to sign-in.
    let other_org = app.create_org("Elsewhere").await;
    let outsider = app.add_staff(&other_org, "therapist").await;
    let outside = Browser::signed_in(&app, &outsider.email).await;
    let (status, _, body) = get_bytes(&app, &path, outside.cookie.as_deref()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(body, PNG);
    let (status, headers, _) = get_bytes(&app, &path, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/clinic");

    // The catalog and the builder show the stored image with its alt text
    // and keep the link; exercises without one keep only the link.
    let img = format!(
        r#"<img class="exercise-image" src="/clinic/exercises/{ok}/image" alt="A person on all fours" loading="lazy">"#
    );
    for page in [
        "/clinic/exercises".to_owned(),
        format!("/clinic/patients/{}/plans/new", patient.id),
    ] {
        let page = browser.get(&page).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&img), "{}", page.body);
        assert_eq!(page.body.matches("<img").count(), 1);
        assert!(
            page.body
                .contains("Image: A person on all fours (opens 127.0.0.1)")
        );
        assert!(page.body.contains("Image: Not shown"));
    }

    // A new URL replaces the image; the old one is not served meanwhile.
    point_at(&app, "img-ok", &format!("{base}/drawing.svg")).await;
    let (status, _, _) = get_bytes(&app, &path, cookie.as_deref()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!browser.get("/clinic/exercises").await.body.contains("<img"));
    assert_eq!(
        fetch(&app, true).await,
        Report {
            stored: 0,
            failed: 1
        }
    );

    // Failures are tried again after an hour, then after two.
    let all = Report {
        stored: 0,
        failed: refused.len() + 1,
    };
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(fetch(&app, true).await, all);
    let attempts: i64 = app
        .scalar(
            "SELECT MAX(i.attempts) FROM exercise_images i JOIN exercises e \
             ON e.id = i.exercise_id WHERE e.slug = 'img-svg'",
        )
        .await;
    assert_eq!(attempts, 2);
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(fetch(&app, true).await, Report::default());
    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(fetch(&app, true).await, all);
}

#[tokio::test]
async fn built_in_exercises_images_are_served_to_every_org_and_the_guard_refuses_loopback() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let images = image_server().await;
    let base = format!("http://{}", images.addr);
    point_at(&app, "cat-cow", &format!("{base}/ok.png")).await;
    app.core
        .db
        .execute_unprepared("UPDATE exercises SET image_alt = 'Cat-cow' WHERE slug = 'cat-cow'")
        .await
        .unwrap();
    let guarded = exercise(&app, &therapist, "img-guarded", "Guarded").await;
    point_at(
        &app,
        "img-guarded",
        &format!("https://127.0.0.1:{}/ok.png", images.addr.port()),
    )
    .await;

    // Without the test allowance: plain http and loopback are refused.
    assert_eq!(
        fetch(&app, false).await,
        Report {
            stored: 0,
            failed: 2
        }
    );
    assert_eq!(images.ok_hits.load(Ordering::SeqCst), 0);
    let mut failures: Vec<String> = app.column("SELECT failure FROM exercise_images").await;
    failures.sort();
    assert_eq!(
        failures,
        ["the URL is not https", "the address is not public"]
    );

    app.clock.advance(Duration::from_secs(61 * 60));
    assert_eq!(fetch(&app, true).await.stored, 1);
    // An hour on, the therapist's access token has expired.
    let therapist = app.login(&therapist.email).await;
    let cat_cow: String = app.get("/v1/exercises", Some(&therapist.token), 200).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slug"] == "cat-cow")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/clinic/exercises/{cat_cow}/image");
    for org in ["One", "Two"] {
        let org = app.create_org(org).await;
        let staff = app.add_staff(&org, "clinician").await;
        let browser = Browser::signed_in(&app, &staff.email).await;
        let (status, _, body) = get_bytes(&app, &path, browser.cookie.as_deref()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, PNG);
    }
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let (status, _, _) = get_bytes(
        &app,
        &format!("/clinic/exercises/{guarded}/image"),
        browser.cookie.as_deref(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
