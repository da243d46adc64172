//! The API description: the info and security schemes here, the paths and
//! schemas collected from the routes as `routes` registers them.

use actix_web::get;
use actix_web::{HttpResponse, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::OpenApiFactory;

#[derive(OpenApi)]
#[openapi(
    info(title = "chatshop", description = "Sell inside WhatsApp chats and get paid by Pix."),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The document served at `/openapi.json`, built once per worker.
pub struct ApiDocument(utoipa::openapi::OpenApi);

impl ApiDocument {
    /// `ApiDoc` with the paths and schemas of `routes`; call it before the
    /// routes are registered (it takes what they collected).
    pub fn of(routes: &impl OpenApiFactory) -> ApiDocument {
        let mut doc = ApiDoc::openapi();
        doc.paths.merge(routes.paths());
        let mut schemas = Vec::new();
        routes.schemas(&mut schemas);
        let components = doc.components.get_or_insert_with(Default::default);
        components.schemas.extend(schemas);
        components.schemas.insert("Problem".into(), <Problem as utoipa::PartialSchema>::schema());
        components.schemas.extend(super::schemas::components());
        document_error_answers(&mut doc);
        ApiDocument(doc)
    }
}

/// An RFC 9457 problem, as every error answers (`application/problem+json`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Problem {
    /// `https://chatshop.dev/problems/{code}`
    r#type: String,
    title: String,
    status: u16,
    /// Stable, for programs: `not_found`, `invalid_field`, …
    code: String,
    detail: String,
    /// The request field at fault, when one is.
    field: Option<String>,
}

/// The error answers every operation can give, by what it takes: a bearer
/// token (401), a body (400, 413, 415, 422), a path id (404), a query (400),
/// and the server's own trouble (500, 503). Each error, documented here or by
/// the handler, is a problem.
fn document_error_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            let mut codes: Vec<(&str, &str)> = vec![
                ("500", "the server failed; nothing was changed"),
                ("503", "the database is unavailable; try again"),
            ];
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                codes.push(("401", "no valid bearer token"));
            }
            if operation.request_body.is_some() {
                codes.extend([
                    ("400", "the body is not valid JSON"),
                    ("413", "the body is too large"),
                    ("415", "the content type is not the one expected"),
                    ("422", "a field is invalid (`field` names it)"),
                ]);
            }
            if path.contains('{') {
                codes.push(("404", "no such resource"));
            }
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
            if has_query {
                codes.push(("400", "a query parameter is invalid"));
            }
            let responses = &mut operation.responses.responses;
            for (code, description) in codes {
                responses.entry(code.into()).or_insert_with(|| ResponseBuilder::new().description(description).into());
            }
            for (code, response) in responses.iter_mut() {
                if let (true, RefOr::T(response)) = (code.starts_with('4') || code.starts_with('5'), response) {
                    response.content.entry("application/problem+json".into()).or_insert_with(|| problem.clone().into());
                }
            }
        }
    }
}

impl ApiDocument {
    /// The methods documented for a concrete path (`/v1/products/0192…`
    /// matches `/v1/products/{id}`): what a 405's `Allow` lists.
    pub fn methods_for(&self, path: &str) -> Vec<&'static str> {
        let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut methods = Vec::new();
        for (template, item) in &self.0.paths.paths {
            let pattern: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            let matches = pattern.len() == wanted.len()
                && pattern.iter().zip(&wanted).all(|(p, w)| p == w || (p.starts_with('{') && !w.is_empty()));
            if !matches {
                continue;
            }
            let documented = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            methods.extend(documented.iter().filter(|(_, op)| op.is_some()).map(|(name, _)| *name));
        }
        methods.sort_unstable();
        methods.dedup();
        methods
    }
}

/// This description: every route, its parameters, bodies, answers and auth.
#[utoipa::path(tag = "service", responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}
