//! HTTP: routes, body limits, JSON errors, request ids. Handlers only parse,
//! authorise, call the domain, and shape the answer.

mod accounts;
mod caller;
mod catalog;
mod error;
mod exports;
mod health;
mod json;
mod openapi;
mod orders;
mod pay;
mod pix;
mod products;
mod psp;
mod reports;
mod schemas;
mod shops;
mod throttle;
mod webhook_endpoints;
mod webhooks;

pub use caller::Caller;
pub use error::{ApiError, problem};
pub use json::{Json, parse_json};
pub use openapi::ApiDoc;
pub use shops::SignUpPolicy;
pub use throttle::{HashingGate, LoginLimiter};
pub use webhooks::WhatsAppApp;

use crate::db::{AnyConnection, Pool};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub json: usize,
    pub feed: usize,
}

/// Runs domain code on a pooled connection off the async threads.
pub async fn with_db<T, F>(pool: &Pool, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    let pool: Pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        work(&mut conn)
    })
    .await
    // The blocking task panicked (a bug) or the runtime is shutting down.
    .map_err(|_| {
        ApiError::request(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the request could not be completed")
    })?
}

/// Every route, registered with its `#[utoipa::path]` description: the
/// scope collects the OpenAPI paths as it registers the handlers, so a route
/// cannot be served without being described (nor described without being
/// served).
pub fn routes(cfg: &mut web::ServiceConfig, limits: BodyLimits) {
    let api = utoipa_actix_web::scope("")
        .service(health::healthz)
        .service(openapi::openapi_json)
        .service(shops::sign_up)
        .service(shops::my_shop)
        .service(shops::login)
        .service(shops::add_user)
        .service(shops::list_users)
        .service(accounts::logout)
        .service(accounts::change_password)
        .service(accounts::remove_user)
        .service(shops::put_whatsapp)
        .service(psp::put_psp)
        .service(products::list)
        .service(products::create)
        .service(products::get)
        .service(products::update)
        .service(products::delete)
        .service(catalog::import)
        .service(catalog::feed_csv)
        .service(webhooks::verify)
        .service(webhooks::receive)
        .service(pix::patch_shop)
        .service(orders::create)
        .service(orders::list)
        .service(orders::get)
        .service(orders::cancel)
        .service(orders::fulfil)
        .service(orders::refund)
        .service(orders::payments_list)
        .service(pix::pix_callback)
        .service(pix::pix_callback_suffixed)
        .service(pix::sandbox_pay)
        .service(pay::page)
        .service(pay::status)
        .service(pay::qr_svg)
        .service(pay::qr_png)
        .service(exports::export)
        .service(exports::audit_list)
        .service(reports::daily_report)
        .service(webhook_endpoints::create)
        .service(webhook_endpoints::list)
        .service(webhook_endpoints::remove)
        .service(webhook_endpoints::rotate_secret)
        .service(webhook_endpoints::deliveries_list)
        .service(webhook_endpoints::retry_delivery);
    let document = openapi::ApiDocument::of(&api);
    cfg.app_data(web::PathConfig::default().error_handler(|e, _| {
        ApiError::request(StatusCode::NOT_FOUND, "not_found", format!("no such resource: {e}")).into()
    }))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()).into()),
    )
    .app_data(web::Data::new(limits))
    .app_data(web::Data::new(document))
    // The interactive page over /openapi.json, its assets in the binary;
    // before the API's catch-all scope.
    .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
    .route(
        "/docs",
        web::get().to(|| async { HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
    )
    .service(api)
    .default_service(web::to(no_route));
}

/// Reads a raw body up to `limit` bytes; past it, a 413 before anything is parsed.
pub async fn read_bounded(
    mut payload: impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>> + Unpin,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::request(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {limit} bytes"),
        )
    };
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::request(StatusCode::BAD_REQUEST, "unreadable_body", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A path the API has, with a method it does not: 405 and `Allow`; else 404.
async fn no_route(req: HttpRequest) -> HttpResponse {
    let allowed = req.app_data::<web::Data<openapi::ApiDocument>>().map(|doc| doc.methods_for(req.path()));
    match allowed {
        Some(methods) if !methods.is_empty() => {
            let allow = methods.join(", ");
            let mut response = problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!("{} is not allowed on {}; use {allow}", req.method(), req.path()),
                Default::default(),
            );
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                response.headers_mut().insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        _ => problem(
            StatusCode::NOT_FOUND,
            "no_route",
            &format!("no route for {} {}", req.method(), req.path()),
            Default::default(),
        ),
    }
}

/// Notification work queued with a request failed: only the database can.
fn notify_error(error: crate::notify::NotifyError) -> ApiError {
    match error {
        crate::notify::NotifyError::Db(e) => e.into(),
        crate::notify::NotifyError::Shop(e) => e.into(),
        other => ApiError::request(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string()),
    }
}

/// A cursor-paginated list, as every list route answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T: utoipa::ToSchema> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
