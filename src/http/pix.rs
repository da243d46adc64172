//! What a PSP posts (`/webhooks/pix/{shop_id}`, with or without `/pix`
//! appended), the sandbox's pay endpoint, and the shop's checkout settings.

use super::{ApiError, Caller, read_bounded, with_db};
use crate::auth::Permission;
use crate::ids::ShopId;
use crate::money::Money;
use crate::payments::callback::{self, CallbackError};
use crate::payments::{PaymentError, sandbox};
use crate::pix::ChargeTxid;
use crate::services::Services;
use crate::shops::settings::{self, SettingsPatch, ShopSettings};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, patch, post, web};
use serde::{Deserialize, Serialize};

/// The biggest callback a PSP may send (thousands of Pix).
const CALLBACK_LIMIT: usize = 4 * 1024 * 1024;

fn malformed(e: CallbackError) -> ApiError {
    ApiError::request(StatusCode::BAD_REQUEST, "malformed_callback", e.to_string())
}

async fn receive(shop: ShopId, services: web::Data<Services>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let body = read_bounded(payload, CALLBACK_LIMIT).await?;
    let entries = callback::parse(&body).map_err(malformed)?;
    let text = String::from_utf8(body).map_err(|_| malformed(CallbackError::NotJson("not UTF-8".into())))?;
    let services = services.into_inner();
    let svc = services.clone();
    let queued =
        with_db(&services.pool, move |conn| Ok(callback::accept(conn, shop, &text, &entries, svc.clock.now())?))
            .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "received": queued })))
}

/// A PSP's callback (API Pix): `{"pix":[...]}` or a bare array. Kept as
/// received and answered 200; each Pix is confirmed with the PSP before
/// anything changes.
#[utoipa::path(tag = "webhooks", params(("shop_id" = uuid::Uuid, Path)),
    request_body(content = inline(super::schemas::PixCallback), description = "API Pix callback: {\"pix\":[{\"endToEndId\",\"txid\",\"valor\",\"horario\",...}]} or the bare array"),
    responses((status = 200, description = "stored; each Pix will be confirmed with the PSP"), (status = 400, description = "not a callback (nothing stored)"),
        (status = 404, description = "no such shop"), (status = 413, description = "too large")))]
#[post("/webhooks/pix/{shop_id}")]
pub async fn pix_callback(
    shop: web::Path<ShopId>,
    services: web::Data<Services>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive(shop.into_inner(), services, payload).await
}

/// The same callback where the PSP appends `/pix` to the registered URL.
#[utoipa::path(tag = "webhooks", params(("shop_id" = uuid::Uuid, Path)),
    request_body(content = inline(super::schemas::PixCallback), description = "API Pix callback, as above"),
    responses((status = 200, description = "stored; each Pix will be confirmed with the PSP"), (status = 400, description = "not a callback (nothing stored)"),
        (status = 404, description = "no such shop"), (status = 413, description = "too large")))]
#[post("/webhooks/pix/{shop_id}/pix")]
pub async fn pix_callback_suffixed(
    shop: web::Path<ShopId>,
    services: web::Data<Services>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive(shop.into_inner(), services, payload).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPayment {
    /// What the payer sends; the charge's amount when absent (try another to test a mismatch).
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$", example = "91.80")]
    pub amount: Option<Money>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxPaid {
    pub end_to_end_id: crate::pix::EndToEndId,
}

/// Pays a sandbox charge, through the same confirmation a PSP's callback
/// takes (off when `CHATSHOP_SANDBOX=false`).
#[utoipa::path(tag = "sandbox", params(("txid" = String, Path)), request_body(content = Option<SandboxPayment>),
    responses((status = 200, body = SandboxPaid, description = "paid: the Pix's endToEndId"),
        (status = 404, description = "no such sandbox charge, or the sandbox is off"),
        (status = 409, description = "the charge is not made yet (`charge_not_payable`)")))]
#[post("/sandbox/pix/{txid}/pay")]
pub async fn sandbox_pay(
    txid: web::Path<String>,
    services: web::Data<Services>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if !services.sandbox {
        return Err(PaymentError::SandboxOff.into());
    }
    let txid = ChargeTxid::parse(&txid).map_err(|_| ApiError::from(PaymentError::NoSuchCharge))?;
    // No body, or `null`: the charge's own amount.
    let payment: SandboxPayment = if body.iter().all(u8::is_ascii_whitespace) {
        SandboxPayment::default()
    } else {
        super::parse_json::<Option<SandboxPayment>>(&request, &body)?.unwrap_or_default()
    };
    let services = services.into_inner();
    let svc = services.clone();
    let (e2e, _) = with_db(&services.pool, move |conn| {
        Ok(sandbox::pay(conn, &txid, payment.amount, &svc.links, svc.clock.now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SandboxPaid { end_to_end_id: e2e }))
}

/// Changes the shop's checkout settings, time zone or summary time (owner).
#[utoipa::path(tag = "shops", security(("bearer" = [])), request_body = SettingsPatch,
    responses((status = 200, body = ShopSettings, description = "the shop's settings now"), (status = 422, description = "invalid setting")))]
#[patch("/v1/shop")]
pub async fn patch_shop(
    caller: Caller,
    services: web::Data<Services>,
    body: super::Json<SettingsPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let patch = body.into_inner();
    let services = services.into_inner();
    let svc = services.clone();
    let settings = with_db(&services.pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let moved = patch.timezone.is_some() || patch.summary_time.is_some();
            let settings = settings::update(conn, caller.shop_id, &patch, svc.clock.now())?;
            // Queued summaries follow the new time.
            if moved {
                crate::notify::summary::reschedule(conn, caller.shop_id).map_err(super::notify_error)?;
            }
            Ok(settings)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(settings))
}
