//! Orders over the API: a shop's own front end or a phone order places one
//! (`Idempotency-Key` honoured), lists and reads them, cancels, fulfils and
//! refunds; and the Pix received.

use super::{ApiError, Caller, Page, with_db};
use crate::auth::Permission;
use crate::catalog::Sku;
use crate::contact::PhoneNumber;
use crate::db::AnyConnection;
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::orders::idempotency::fingerprint;
use crate::orders::repo::OrderFilter;
use crate::orders::{Checkout, CheckoutItem, CustomerRef, OrderSource, OrderStatus};
use crate::payments::view::{RefundView, view_of};
use crate::payments::{self, CheckoutOutcome, OrderView, Payment};
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    #[serde(default)]
    pub customer: Option<CustomerInput>,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<ItemInput>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// The customer's WhatsApp number with country code (`5511988887777`).
    #[schema(max_length = 40, example = "5511988887777")]
    pub whatsapp: Option<String>,
    #[schema(max_length = 120)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[schema(min_length = 1, max_length = 100, pattern = r"^[A-Za-z0-9._/-]{1,100}$", example = "BOLO-CHOC")]
    pub retailer_id: String,
    #[schema(minimum = 1, maximum = 9999)]
    pub quantity: i64,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::from(crate::orders::OrderError::Invalid { field, reason: reason.into() })
}

impl OrderRequest {
    fn parse(self) -> Result<Checkout, ApiError> {
        let customer = match self.customer {
            None => CustomerRef::default(),
            Some(c) => {
                let whatsapp = c
                    .whatsapp
                    .as_deref()
                    .map(PhoneNumber::parse)
                    .transpose()
                    .map_err(|e| invalid("customer.whatsapp", e.to_string()))?;
                let name = c.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
                if name.as_ref().is_some_and(|n| n.chars().count() > 120) {
                    return Err(invalid("customer.name", "at most 120 characters"));
                }
                CustomerRef { id: None, name, whatsapp: whatsapp.map(|w| w.as_str().to_owned()) }
            }
        };
        if self.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(invalid("note", "at most 500 characters"));
        }
        let items = self
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let sku =
                    Sku::parse(&item.retailer_id).map_err(|e| invalid("items", format!("item {}: {e}", i + 1)))?;
                Ok(CheckoutItem { sku, quantity: item.quantity })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Checkout { source: OrderSource::Api, customer, items, note: self.note })
    }
}

/// Places an order: prices from the catalogue, stock reserved, the Pix
/// charge made right after. With `Idempotency-Key` (kept 24 hours), the same
/// key and body give back the same order.
#[utoipa::path(tag = "orders", security(("bearer" = [])), request_body = OrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: same key, same body, same order (kept 24 h)")),
    responses((status = 201, body = OrderView, description = "the order, `pending_payment`, stock reserved; its charge is being made"),
        (status = 409, description = "a request with this Idempotency-Key is still running (`idempotency_in_flight`)"),
        (status = 422, description = "an item cannot be ordered (`items_unavailable` lists which and why), or this Idempotency-Key was used with another body (`idempotency_mismatch`)")))]
#[post("/v1/orders")]
pub async fn create(
    caller: Caller,
    services: web::Data<Services>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let parsed: OrderRequest = super::parse_json(&request, &body)?;
    let checkout = parsed.parse()?;
    let key = match request.headers().get("Idempotency-Key") {
        None => None,
        Some(value) => {
            Some(value.to_str().map_err(|_| invalid("Idempotency-Key", "must be printable ASCII"))?.trim().to_owned())
        }
    };
    let print = fingerprint(&body);
    let services = services.into_inner();
    let svc = services.clone();
    let outcome = with_db(&services.pool, move |conn| {
        let now = svc.clock.now();
        let placed = svc.placed();
        Ok(match key {
            None => CheckoutOutcome::Created(payments::checkout(conn, caller.shop_id, &checkout, &placed, now)?.0),
            Some(key) => payments::checkout_idempotent(conn, caller.shop_id, &key, &print, &checkout, &placed, now)?,
        })
    })
    .await?;
    match outcome {
        CheckoutOutcome::Created(order) => Ok(HttpResponse::Created().json(order)),
        CheckoutOutcome::Replayed(order) => {
            Ok(HttpResponse::Created().insert_header(("Idempotent-Replayed", "true")).json(order))
        }
        CheckoutOutcome::InFlight => Err(ApiError::request(
            StatusCode::CONFLICT,
            "idempotency_in_flight",
            "a request with this Idempotency-Key is still running; try again in a moment",
        )),
        CheckoutOutcome::Mismatch => Err(ApiError::request(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_mismatch",
            "this Idempotency-Key was used with another request body",
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderListQuery {
    pub status: Option<OrderStatus>,
    /// First day (UTC), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=100).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", "limit must be between 1 and 100"))
    }
}

fn bad_cursor() -> ApiError {
    ApiError::request(StatusCode::BAD_REQUEST, "invalid_cursor", "the cursor is not one this server gave")
}

/// The shop's orders, newest first.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(OrderListQuery),
    responses((status = 200, body = Page<OrderView>, description = "a page of orders")))]
#[get("/v1/orders")]
pub async fn list(
    caller: Caller,
    services: web::Data<Services>,
    query: web::Query<OrderListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = query.cursor.map(|c| c.parse::<OrderId>()).transpose().map_err(|_| bad_cursor())?;
    let filter = OrderFilter {
        status: query.status,
        from: query.from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        to: query.to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)),
    };
    let services = services.into_inner();
    let svc = services.clone();
    let data = with_db(&services.pool, move |conn| {
        let orders = crate::orders::repo::list(conn, caller.shop_id, &filter, after, limit)?;
        Ok(orders.into_iter().map(|o| view_of(conn, o, &svc.links)).collect::<Result<Vec<_>, _>>()?)
    })
    .await?;
    let next_cursor = (data.len() as i64 == limit).then(|| data.last().map(|o| o.id.to_string())).flatten();
    Ok(HttpResponse::Ok().json(Page { data, next_cursor }))
}

/// One order.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = OrderView, description = "the order"), (status = 404, description = "no such order")))]
#[get("/v1/orders/{id}")]
pub async fn get(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<OrderId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let id = id.into_inner();
    let services = services.into_inner();
    let svc = services.clone();
    let order =
        with_db(&services.pool, move |conn| Ok(payments::order_view(conn, caller.shop_id, id, &svc.links)?)).await?;
    Ok(HttpResponse::Ok().json(order))
}

/// Cancels an order waiting for payment: stock back, the charge removed.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = OrderView, description = "the order, `cancelled`"), (status = 404, description = "no such order"),
        (status = 409, description = "the order is past payment (`wrong_state`)")))]
#[post("/v1/orders/{id}/cancel")]
pub async fn cancel(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<OrderId>,
) -> Result<HttpResponse, ApiError> {
    move_order(caller, services, id.into_inner(), |conn, shop, order, links, now| {
        payments::cancel(conn, shop, order, payments::CancelledBy::Shop, links, now)
    })
    .await
}

/// Marks a paid order as delivered or shipped.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = OrderView, description = "the order, `fulfilled`"), (status = 404, description = "no such order"),
        (status = 409, description = "the order is not paid (`wrong_state`)")))]
#[post("/v1/orders/{id}/fulfil")]
pub async fn fulfil(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<OrderId>,
) -> Result<HttpResponse, ApiError> {
    move_order(caller, services, id.into_inner(), payments::fulfil).await
}

/// A staff member moves an order on (cancel, fulfil): one transaction, the
/// order as it is afterwards.
type OrderMove = fn(
    &mut AnyConnection,
    ShopId,
    OrderId,
    &payments::Links,
    NaiveDateTime,
) -> Result<OrderView, payments::PaymentError>;

async fn move_order(
    caller: Caller,
    services: web::Data<Services>,
    id: OrderId,
    change: OrderMove,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let services = services.into_inner();
    let svc = services.clone();
    let order =
        with_db(&services.pool, move |conn| Ok(change(conn, caller.shop_id, id, &svc.links, svc.clock.now())?)).await?;
    Ok(HttpResponse::Ok().json(order))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// More than zero.
    #[schema(schema_with = super::schemas::positive_money)]
    pub amount: Money,
    #[schema(max_length = 140)]
    pub reason: Option<String>,
}

/// Gives money back through the PSP (owner only): full or partial, never
/// more than was paid less what was given back.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)), request_body = RefundRequest,
    responses((status = 201, body = RefundView, description = "the refund, `processing` until the PSP settles it"),
        (status = 404, description = "no such order"),
        (status = 422, description = "more than can be given back (`refund_too_large`), nothing paid (`nothing_to_refund`), or an invalid field")))]
#[post("/v1/orders/{id}/refunds")]
pub async fn refund(
    caller: Caller,
    services: web::Data<Services>,
    id: web::Path<OrderId>,
    body: super::Json<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let services = services.into_inner();
    let svc = services.clone();
    let refund = with_db(&services.pool, move |conn| {
        let now = svc.clock.now();
        Ok(payments::request_refund(conn, caller.shop_id, id, body.amount, body.reason.as_deref(), now)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(refund))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PaymentListQuery {
    /// First day (UTC), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the page before (`400 invalid_cursor` for anything else).
    #[param(pattern = r"^[0-9]{1,18}~[ED][A-Za-z0-9]{31}$")]
    pub cursor: Option<String>,
}

/// Every Pix received, orphans (no order of ours) included, newest first.
#[utoipa::path(tag = "orders", security(("bearer" = [])), params(PaymentListQuery),
    responses((status = 200, body = Page<PaymentRow>, description = "a page of Pix received")))]
#[get("/v1/payments")]
pub async fn payments_list(
    caller: Caller,
    services: web::Data<Services>,
    query: web::Query<PaymentListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let query = query.into_inner();
    let limit = page_limit(query.limit)?;
    let after = match query.cursor {
        None => None,
        Some(cursor) => Some(decode_payment_cursor(&cursor).ok_or_else(bad_cursor)?),
    };
    let from = query.from.and_then(|d| d.and_hms_opt(0, 0, 0));
    let to = query.to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0));
    let data: Vec<Payment> = with_db(&services.pool, move |conn| {
        Ok(payments::received::list(conn, caller.shop_id, from, to, after, limit)?)
    })
    .await?;
    let next_cursor = (data.len() as i64 == limit)
        .then(|| data.last().map(|p| format!("{}~{}", p.paid_at.and_utc().timestamp_micros(), p.end_to_end_id)))
        .flatten();
    Ok(HttpResponse::Ok().json(Page { data: data.into_iter().map(PaymentRow::from).collect(), next_cursor }))
}

fn decode_payment_cursor(cursor: &str) -> Option<(chrono::NaiveDateTime, crate::pix::EndToEndId)> {
    let (micros, e2e) = cursor.split_once('~')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, e2e.parse().ok()?))
}

/// A Pix received, as listed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentRow {
    pub end_to_end_id: crate::pix::EndToEndId,
    pub txid: Option<crate::pix::ChargeTxid>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub order_id: Option<OrderId>,
    pub amount: Money,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: chrono::NaiveDateTime,
    pub payer_name: Option<String>,
    /// Masked CPF or CNPJ.
    pub payer_document: Option<String>,
    pub outcome: payments::PaymentOutcome,
}

impl From<Payment> for PaymentRow {
    fn from(p: Payment) -> PaymentRow {
        PaymentRow {
            end_to_end_id: p.end_to_end_id,
            txid: p.txid,
            order_id: p.order_id,
            amount: p.amount,
            paid_at: p.paid_at,
            payer_name: p.payer_name,
            payer_document: p.payer_document,
            outcome: p.outcome,
        }
    }
}
