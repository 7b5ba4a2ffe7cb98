//! Security sweeps over the whole API, driven by its own OpenAPI document
//! so a new route cannot be forgotten: every secured operation refuses a
//! missing, forged or `alg: none` token with 401 problem+json.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dorsal_tests::TestApp;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// Every (method, concrete path) the document marks as needing a token,
/// with path parameters filled by a random id.
fn secured_operations(document: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (template, item) in paths {
        for (verb, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = Method::from_bytes(verb.to_uppercase().as_bytes()) else {
                continue;
            };
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if !secured {
                continue;
            }
            let mut path = String::new();
            for segment in template.split('/') {
                if !path.is_empty() || !segment.is_empty() {
                    path.push('/');
                }
                if segment.starts_with('{') {
                    path.push_str(&Uuid::now_v7().to_string());
                } else {
                    path.push_str(segment);
                }
            }
            out.push((method, path));
        }
    }
    out
}

fn forged_tokens() -> Vec<(&'static str, String)> {
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = part(serde_json::json!({"sub": Uuid::now_v7(), "role": "admin",
        "exp": 4_102_444_800_i64, "iat": 1_700_000_000_i64, "jti": "x"}));
    vec![
        (
            "alg none",
            format!(
                "{}.{claims}.",
                part(serde_json::json!({"alg": "none", "typ": "JWT"}))
            ),
        ),
        (
            "RS256 header on an HS key",
            format!(
                "{}.{claims}.{}",
                part(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
                URL_SAFE_NO_PAD.encode([7u8; 256])
            ),
        ),
        (
            "HS256 signed with another key",
            format!(
                "{}.{claims}.{}",
                part(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
                URL_SAFE_NO_PAD.encode([1u8; 32])
            ),
        ),
        ("not a token", "garbage".to_owned()),
    ]
}

#[tokio::test]
async fn every_secured_operation_refuses_missing_and_forged_tokens() {
    let app = TestApp::spawn().await;
    let document = app.get("/openapi.json", None, 200).await;
    let operations = secured_operations(&document);
    assert!(operations.len() > 30, "the sweep found too few operations");
    let tokens = forged_tokens();
    for (method, path) in &operations {
        let mut attempts = vec![("no token", None)];
        attempts.extend(tokens.iter().map(|(name, t)| (*name, Some(t.as_str()))));
        for (what, token) in attempts {
            let mut request = app.client.request(method.clone(), app.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            // A body where one is expected, so no operation fails on it first.
            if matches!(
                *method,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                request = request.json(&serde_json::json!({}));
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                401,
                "{method} {path} with {what} was not refused"
            );
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                content_type.starts_with("application/problem+json"),
                "{method} {path}"
            );
        }
    }
}
