//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{FieldError, PROBLEM_JSON, Problem};
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

/// A problem response for the document.
fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Documents the errors every operation of a kind can answer, which the
/// handlers' own annotations leave out because they come from the
/// extractors and middleware they share: a bad token, a role, a body that
/// is malformed, too large or not JSON, a path naming nothing, a query that
/// does not parse, and the database being out. A handler's own wording of
/// a status wins.
pub fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
            let mut common = Vec::new();
            // Liveness and readiness document their own answers.
            let probe = operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t == "operations"));
            if !probe {
                common.push((
                    "503",
                    "the database cannot serve now (`unavailable`, `storage_full`, \
                     `storage_read_only`); nothing was changed, retry after `Retry-After`",
                ));
            }
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                common.push(("401", "no token, or one that is invalid or expired"));
                common.push((
                    "403",
                    "the caller's role may not do this (`forbidden`), or their org requires \
                     two-factor sign-in they have not turned on (`totp_enrolment_required`; \
                     only `/v1/me*` answers until they do)",
                ));
            }
            if operation.request_body.is_some() {
                common.push(("400", "the body is not JSON (`malformed_body`)"));
                common.push(("413", "the body is larger than the server accepts"));
                common.push(("415", "the body is not `application/json`"));
                common.push((
                    "422",
                    "the body has the wrong shape (`invalid_body`) or breaks a rule \
                     (`validation_failed`); `errors` points at each field",
                ));
            }
            if has(ParameterIn::Path) {
                common.push(("404", "nothing the caller may see has this id"));
            }
            if has(ParameterIn::Query) {
                common.push(("400", "the query string does not parse (`invalid_query`)"));
            }
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description));
            }
        }
    }
}

/// Every documented route.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::me::router())
        .merge(routes::staff::router())
        .merge(routes::orgs::router())
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
