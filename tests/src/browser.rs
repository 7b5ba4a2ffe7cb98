//! The clinic's pages over HTTP, as a browser without a cookie jar would
//! use them: one cookie kept by hand, no redirect followed.

#![expect(
    clippy::unwrap_used,
    reason = "a page that cannot be read must fail the test loudly"
)]

use reqwest::header::{self, HeaderMap};
use reqwest::{Client, StatusCode};

use crate::{PASSWORD, TestApp};

/// What a request answered.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    /// The `name=value` pair a `Set-Cookie` gives `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
    }
}

/// A form body, URL-encoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The first CSRF token a page's forms carry.
pub fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A client that keeps one cookie by hand and follows no redirect.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    base: String,
    /// The session cookie (`name=value`), once signed in.
    pub cookie: Option<String>,
}

impl Browser {
    /// A browser with no cookie.
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.url(""),
            cookie: None,
        }
    }

    /// Signs in through the form as `email`, asserting it works.
    pub async fn signed_in(app: &TestApp, email: &str) -> Browser {
        let mut browser = Browser::new(app);
        let answer = browser.sign_in(email, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.location(), Some("/clinic/alerts"));
        browser.cookie = answer.cookie("dorsal_clinic");
        assert!(browser.cookie.is_some());
        browser
    }

    /// Shows the form, then sends it with its token and login cookie.
    pub async fn sign_in(&self, email: &str, password: &str) -> Answer {
        let page = self.get("/clinic").await;
        assert_eq!(page.status, StatusCode::OK);
        let login_cookie = page.cookie("dorsal_clinic_login").unwrap();
        let csrf = csrf_of(&page.body);
        let fields = form(&[("csrf", &csrf), ("email", email), ("password", password)]);
        self.send_form("/clinic/login", &fields, Some(&login_cookie), &[])
            .await
    }

    /// [`Browser::sign_in`] with the authenticator code field filled in.
    pub async fn sign_in_with_code(&self, email: &str, password: &str, totp: &str) -> Answer {
        let page = self.get("/clinic").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(r#"name="totp""#));
        let login_cookie = page.cookie("dorsal_clinic_login").unwrap();
        let csrf = csrf_of(&page.body);
        let fields = form(&[
            ("csrf", &csrf),
            ("email", email),
            ("password", password),
            ("totp", totp),
        ]);
        self.send_form("/clinic/login", &fields, Some(&login_cookie), &[])
            .await
    }

    /// GETs `path` with the session cookie.
    pub async fn get(&self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }

    /// GETs `path` with the session cookie and `extra` headers.
    pub async fn get_with(&self, path: &str, extra: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        answer(request).await
    }

    /// POSTs `fields` with the session cookie and `extra` headers.
    pub async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Answer {
        self.send_form(path, &form(fields), self.cookie.as_deref(), extra)
            .await
    }

    /// POSTs a URL-encoded `body` with `cookie` and `extra` headers.
    pub async fn send_form(
        &self,
        path: &str,
        body: &str,
        cookie: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        answer(request).await
    }

    /// The CSRF token of the signed-in pages.
    pub async fn csrf(&self) -> String {
        let page = self.get("/clinic/patients").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        csrf_of(&page.body)
    }
}

/// Sends `request` and reads the whole answer.
pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// The section of the inbox with `id` (up to the next section).
pub fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find(r#"<section id=""#)
        .or_else(|| rest[1..].find(r#"<details id=""#))
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Whether the answer is an HTML page.
pub fn is_html(answer: &Answer) -> bool {
    answer
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap()]
}

/// Checks what every clinic page keeps to (SPEC §11): every visible form
/// control has an id and a visible `<label for>` it; nothing inline is
/// styled or scripted (the CSP forbids it), the styles coming from
/// dorsal's one stylesheet; and every table sits in a `.table-wrap`, so
/// it never widens a phone's page.
pub fn assert_well_formed(html: &str) {
    for tag in ["<input", "<select", "<textarea"] {
        for (at, _) in html.match_indices(tag) {
            let element = &html[at..at + html[at..].find('>').unwrap()];
            if element.contains(r#"type="hidden""#) {
                continue;
            }
            let id = between(element, r#"id=""#, "\"");
            assert!(
                html.contains(&format!(r#"<label for="{id}""#)),
                "no label for {id} in {html}"
            );
        }
    }
    assert!(!html.contains(" style="), "an inline style in {html}");
    assert!(!html.contains("<script"), "a script in {html}");
    assert!(!html.contains("<style"), "a style element in {html}");
    assert_eq!(
        html.matches(r#"<link rel="stylesheet" href="/clinic/assets/clinic.css">"#)
            .count(),
        1,
        "the stylesheet, once, in {html}"
    );
    assert_eq!(
        html.matches("<table").count(),
        html.matches(r#"class="table-wrap""#).count(),
        "a table outside a table-wrap in {html}"
    );
}

/// An HTML answer that keeps to [`assert_well_formed`].
pub fn assert_page(answer: &Answer) {
    assert!(is_html(answer), "{:?}", answer.headers);
    assert_well_formed(&answer.body);
}
