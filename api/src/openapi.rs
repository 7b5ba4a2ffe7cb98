//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{FieldError, Problem};
use crate::routes;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "dorsal", description = "Backend for night-time back-pain care."),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every documented route.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::me::router())
        .merge(routes::staff::router())
        .merge(routes::invites::router())
        .merge(routes::care_team::router())
        .merge(routes::patients::router())
        .merge(routes::audit::router())
        .merge(routes::sync::router())
        .merge(routes::exercises::router())
        .merge(routes::plans::router())
        .merge(routes::fhir::router())
        .merge(routes::alerts::router())
        .merge(routes::webhooks::router())
        .merge(routes::devices::router())
        .merge(routes::push_gateway::router())
        .merge(routes::digest::router())
}
