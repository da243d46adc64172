//! The shop's PSP settings (`PUT /v1/shop/psp`).

use super::{ApiError, Caller};
use crate::auth::Permission;
use crate::payments::psp_settings::{self, PspChoice, PspInput, PspSettingsView};
use crate::services::Services;
use actix_web::{HttpResponse, put, web};
use serde::Deserialize;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PspRequest {
    /// `sandbox` or `api_pix`.
    #[schema(example = "api_pix")]
    pub kind: String,
    /// `https://` (any scheme on loopback), e.g. `https://pix.example.com/api/v2`.
    pub api_base_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The shop's client certificate for mutual TLS (with `private_key_pem`).
    pub certificate_pem: Option<String>,
    pub private_key_pem: Option<String>,
    /// Or the certificate and key as PKCS#12.
    pub pkcs12_base64: Option<String>,
    pub pkcs12_password: Option<String>,
}

/// Chooses the shop's PSP. For `api_pix` the shop's callback URL is
/// registered with the PSP before anything is stored; secrets are kept
/// sealed and never shown again.
#[utoipa::path(tag = "shops", security(("bearer" = [])), request_body = PspRequest,
    responses((status = 200, body = PspSettingsView, description = "the settings, without their secrets"),
        (status = 403, description = "not the owner"),
        (status = 422, description = "a field is missing or wrong (URL, certificate)"),
        (status = 502, description = "the PSP refused or could not be reached, in its own words")))]
#[put("/v1/shop/psp")]
pub async fn put_psp(
    caller: Caller,
    services: web::Data<Services>,
    body: super::Json<PspRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let b = body.into_inner();
    let input = PspInput {
        kind: b.kind,
        api_base_url: b.api_base_url,
        token_url: b.token_url,
        client_id: b.client_id,
        client_secret: b.client_secret,
        certificate_pem: b.certificate_pem,
        private_key_pem: b.private_key_pem,
        pkcs12_base64: b.pkcs12_base64,
        pkcs12_password: b.pkcs12_password,
    };
    let choice = PspChoice::parse(input, services.psp_clients.transport())?;
    let webhook_url = services.pix_webhook_url(caller.shop_id);
    let now = services.clock.now();
    let view =
        psp_settings::configure(&services.pool, &services.keyring, caller.shop_id, choice, webhook_url, now).await?;
    Ok(HttpResponse::Ok().json(view))
}
