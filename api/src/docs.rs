//! `/docs`: the OpenAPI document (`/openapi.json`) in Swagger UI, whose
//! files dorsal serves itself (vendored in `api/assets/swagger-ui/`), under
//! a Content-Security-Policy that allows nothing from another origin and no
//! inline script.

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, header};
use axum::middleware::{self, Next};
use axum::response::Html;
use axum::routing::get;
use maud::{DOCTYPE, html};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Swagger UI needs its script, its stylesheet and `docs.js` (which starts
/// it) from `'self'`, the document and "Try it out" requests to `'self'`,
/// and `data:` images for the icons in its stylesheet. Its styles are all in
/// the stylesheet, so no `'unsafe-inline'` anywhere.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; form-action 'none'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Asset paths carry a digest of their content, so they can be cached for a
/// year and an updated file is fetched at once.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A file the page loads.
#[derive(Debug)]
struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

static BUNDLE: Asset = Asset {
    stem: "swagger-ui-bundle",
    extension: "js",
    content_type: JAVASCRIPT,
    body: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
};
static STYLESHEET: Asset = Asset {
    stem: "swagger-ui",
    extension: "css",
    content_type: "text/css; charset=utf-8",
    body: include_bytes!("../assets/swagger-ui/swagger-ui.css"),
};
static START: Asset = Asset {
    stem: "docs",
    extension: "js",
    content_type: JAVASCRIPT,
    body: include_bytes!("../assets/docs.js"),
};

impl Asset {
    /// `/docs/assets/<stem>.<first 16 hex digits of its SHA-256>.<extension>`.
    fn path(&self) -> String {
        let digest: [u8; 32] = Sha256::digest(self.body).into();
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        format!(
            "/docs/assets/{}.{:016x}.{}",
            self.stem,
            u64::from_be_bytes(first),
            self.extension
        )
    }
}

/// The page and the path of each asset, worked out once.
struct Served {
    page: String,
    assets: [(String, &'static Asset); 3],
}

static SERVED: LazyLock<Served> = LazyLock::new(|| {
    let assets = [&BUNDLE, &STYLESHEET, &START].map(|asset| (asset.path(), asset));
    let [(bundle, _), (stylesheet, _), (start, _)] = &assets;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "dorsal API" }
                link rel="stylesheet" href=(stylesheet);
            }
            body {
                noscript {
                    "The reference needs JavaScript; the document itself is at "
                    a href="/openapi.json" { "/openapi.json" } "."
                }
                div #swagger-ui {}
                script src=(bundle) {}
                script src=(start) {}
            }
        }
    };
    Served {
        page: page.into_string(),
        assets,
    }
});

/// `GET /docs` and its assets.
pub fn router() -> Router<AppState> {
    let served = &*SERVED;
    let mut router = Router::new().route(
        "/docs",
        get(|| async {
            // Revalidated each time, so a new release's asset paths are seen.
            (
                [(header::CACHE_CONTROL, "no-cache")],
                Html(SERVED.page.as_str()),
            )
        }),
    );
    for (path, asset) in &served.assets {
        let asset = *asset;
        router = router.route(
            path,
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, asset.content_type),
                        (header::CACHE_CONTROL, IMMUTABLE),
                    ],
                    asset.body,
                )
            }),
        );
    }
    router.layer(middleware::from_fn(policy))
}

/// The policy and `nosniff` on the page and its assets.
async fn policy(request: Request, next: Next) -> Response<Body> {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
