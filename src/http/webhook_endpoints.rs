//! The shop's webhook endpoints and its deliveries (owner only).

use super::{ApiError, Caller, Page, with_db};
use crate::auth::Permission;
use crate::ids::{JobId, WebhookEndpointId};
use crate::notify::webhooks::{Delivery, DeliveryStatus, EndpointInput, EndpointView, deliveries, endpoints};
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// `https://` (`http://` only on loopback); never a private, link-local
    /// or carrier-grade NAT address.
    #[schema(
        max_length = 2048,
        pattern = r"^\s*https?://[^\s/?#]+([/?#]\S*)?\s*$",
        example = "https://erp.example.com/hooks/chatshop"
    )]
    pub url: String,
    /// The event types to receive: `order.created`, `order.paid`,
    /// `order.expired`, `order.cancelled`, `order.fulfilled`,
    /// `payment.received`, `payment.flagged`, `refund.settled`, `refund.failed`.
    #[schema(min_items = 1, max_items = 20, example = json!(["order.paid", "payment.flagged"]))]
    pub events: Vec<String>,
}

/// Registers an endpoint; the answer carries its signing secret, this once.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), request_body = EndpointRequest,
    responses((status = 201, body = EndpointView, description = "the endpoint, with its `secret` (`whsec_…`), shown only now"),
        (status = 403, description = "only the owner"),
        (status = 422, description = "a bad URL or event type (`invalid_field`, with `field`), or the shop has 20 endpoints (`too_many_endpoints`)")))]
#[post("/v1/webhook-endpoints")]
pub async fn create(
    caller: Caller,
    services: web::Data<Services>,
    body: super::Json<EndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let body = body.into_inner();
    let input = EndpointInput::parse(&body.url, &body.events)?;
    let services = services.into_inner();
    let svc = services.clone();
    let view = with_db(&services.pool, move |conn| {
        Ok(endpoints::create(conn, &svc.keyring, caller.shop_id, &input, svc.clock.now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The shop's endpoints (at most 20, one page), without their secrets.
#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Page<EndpointView>, description = "every endpoint of the shop; `next_cursor` is null"),
        (status = 403, description = "only the owner")))]
#[get("/v1/webhook-endpoints")]
pub async fn list(caller: Caller, services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let now = services.clock.now();
    let data = with_db(&services.pool, move |conn| Ok(endpoints::list(conn, caller.shop_id, now)?)).await?;
    Ok(HttpResponse::Ok().json(Page { data, next_cursor: None }))
}

/// Removes an endpoint; deliveries to it still waiting are dropped.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "removed"), (status = 403, description = "only the owner"),
        (status = 404, description = "no such endpoint")))]
#[delete("/v1/webhook-endpoints/{id}")]
pub async fn remove(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let id = id.into_inner();
    with_db(&services.pool, move |conn| Ok(endpoints::delete(conn, caller.shop_id, id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret, shown this once; the old one keeps signing beside
/// it for 24 hours (`webhook-signature` then carries both).
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = EndpointView, description = "the endpoint with its new `secret` and `previous_secret_expires_at`"),
        (status = 403, description = "only the owner"), (status = 404, description = "no such endpoint")))]
#[post("/v1/webhook-endpoints/{id}/rotate-secret")]
pub async fn rotate_secret(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let id = id.into_inner();
    let services = services.into_inner();
    let svc = services.clone();
    let view = with_db(&services.pool, move |conn| {
        Ok(endpoints::rotate_secret(conn, &svc.keyring, caller.shop_id, id, svc.clock.now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state; absent: all.
    pub status: Option<DeliveryStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// Every message sent on the shop's behalf (webhooks, e-mail, WhatsApp),
/// newest first; `?status=dead` lists what could not be delivered.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(DeliveryQuery),
    responses((status = 200, body = Page<Delivery>, description = "a page of deliveries"),
        (status = 400, description = "a bad `limit` or `cursor`"), (status = 403, description = "only the owner")))]
#[get("/v1/deliveries")]
pub async fn deliveries_list(
    caller: Caller,
    services: web::Data<Services>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let DeliveryQuery { status, limit, cursor } = query.into_inner();
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", "limit must be between 1 and 100"));
    }
    let before = cursor.map(|c| c.parse::<JobId>()).transpose().map_err(|_| {
        ApiError::request(StatusCode::BAD_REQUEST, "invalid_cursor", "the cursor is not one this server gave")
    })?;
    let data =
        with_db(&services.pool, move |conn| Ok(deliveries::list(conn, caller.shop_id, status, before, limit)?)).await?;
    let next_cursor = (data.len() as i64 == limit).then(|| data.last().map(|d| d.id.to_string())).flatten();
    Ok(HttpResponse::Ok().json(Page { data, next_cursor }))
}

/// Sends a dead delivery again, from its first attempt; for a webhook to a
/// disabled endpoint, the endpoint is enabled again.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Delivery, description = "the delivery, `pending` again"),
        (status = 403, description = "only the owner"), (status = 404, description = "no such delivery"),
        (status = 409, description = "the delivery is not dead (`not_dead`)")))]
#[post("/v1/deliveries/{id}/retry")]
pub async fn retry_delivery(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<JobId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let id = id.into_inner();
    let now = services.clock.now();
    let delivery = with_db(&services.pool, move |conn| Ok(deliveries::retry(conn, caller.shop_id, id, now)?)).await?;
    Ok(HttpResponse::Ok().json(delivery))
}
