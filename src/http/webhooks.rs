//! Meta's webhook: the verification handshake and signed deliveries.

use super::{ApiError, read_bounded, with_db};
use crate::chat::{inbound, webhook};
use crate::jobs::Wake;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web::{get, post};
use serde::Deserialize;

/// The app's WhatsApp secrets, from the settings.
#[derive(Clone, Default)]
pub struct WhatsAppApp {
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    pub mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

/// Meta's subscription check: echoes the challenge when the token matches.
#[utoipa::path(get, path = "/webhooks/whatsapp", tag = "whatsapp", params(Handshake),
    responses((status = 200, description = "the challenge, as text"), (status = 403, description = "wrong verify token")))]
#[get("/webhooks/whatsapp")]
pub async fn verify(app: web::Data<WhatsAppApp>, query: web::Query<Handshake>) -> Result<HttpResponse, ApiError> {
    let matches = match (&app.verify_token, &query.verify_token) {
        (Some(expected), Some(given)) => crate::auth::secrets_match(expected.as_bytes(), given.as_bytes()),
        _ => false,
    };
    if query.mode.as_deref() == Some("subscribe") && matches {
        Ok(HttpResponse::Ok().content_type("text/plain").body(query.challenge.clone().unwrap_or_default()))
    } else {
        Err(ApiError::request(StatusCode::FORBIDDEN, "verification_failed", "hub.verify_token does not match"))
    }
}

/// Messages and statuses from Meta, signed with the app secret; each message
/// handled once however often Meta delivers it.
#[utoipa::path(post, path = "/webhooks/whatsapp", tag = "whatsapp",
    request_body(content = String, content_type = "application/json", description = "Meta's webhook (object whatsapp_business_account)"),
    responses((status = 200, description = "acknowledged"), (status = 401, description = "unsigned or forged"),
        (status = 400, description = "not Meta's JSON"), (status = 413, description = "body too large")))]
#[post("/webhooks/whatsapp")]
pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    services: web::Data<crate::services::Services>,
    app: web::Data<WhatsAppApp>,
    wake: web::Data<Wake>,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = app.app_secret.clone() else {
        return Err(ApiError::request(
            StatusCode::SERVICE_UNAVAILABLE,
            "whatsapp_not_configured",
            "set WHATSAPP_APP_SECRET to receive WhatsApp webhooks",
        ));
    };
    let body = read_bounded(payload, webhook::MAX_BODY_BYTES).await?;
    let header = req.headers().get("x-hub-signature-256").and_then(|h| h.to_str().ok()).map(str::to_owned);
    // Checked and parsed before a database connection is taken: forged or
    // malformed posts cost no connection.
    let events = inbound::authenticate(secret.as_bytes(), &body, header.as_deref())?;
    let services = services.into_inner();
    let svc = services.clone();
    let receipt = with_db(&services.pool, move |conn| Ok(inbound::handle(conn, &events, &svc.placed())?)).await?;
    wake.now();
    if receipt.failed > 0 {
        return Err(ApiError::request(StatusCode::INTERNAL_SERVER_ERROR, "internal", "some events were not handled"));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ok"})))
}
