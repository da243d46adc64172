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
        doc.components.get_or_insert_with(Default::default).schemas.extend(schemas);
        ApiDocument(doc)
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
