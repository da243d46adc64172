use actix_web::HttpResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "chatshop", description = "Sell inside WhatsApp chats and get paid by Pix."),
    paths(
        super::health::healthz,
        super::shops::sign_up,
        super::shops::login,
        super::shops::my_shop,
        super::shops::add_user,
        super::shops::list_users,
        super::products::list,
        super::products::create,
        super::products::get,
        super::products::update,
        super::products::delete,
        super::catalog::import,
        super::catalog::feed_csv,
        super::shops::put_whatsapp,
        super::webhooks::verify,
        super::webhooks::receive,
    ),
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

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
