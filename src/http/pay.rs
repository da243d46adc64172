//! The customer's pay page and what it polls.

use super::{ApiError, with_db};
use crate::db::Pool;
use crate::web::pay;
use actix_web::{HttpResponse, get, web};

/// The pay page: shop, items, total, QR, copy-and-paste code, time left, live status.
#[utoipa::path(tag = "pay", params(("token" = String, Path)),
    responses((status = 200, content_type = "text/html", body = String, description = "the page"), (status = 404, description = "no such order")))]
#[get("/pay/{token}")]
pub async fn page(pool: web::Data<Pool>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let shown = token.clone();
    let page = with_db(&pool, move |conn| Ok(pay::load(conn, &token)?)).await?;
    let svg = match &page.code {
        Some(code) => crate::pix::qr::to_svg(code).ok(),
        None => None,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(pay::render(&page, &shown, svg.as_deref())))
}

/// The order's status, for the page to poll.
#[utoipa::path(tag = "pay", params(("token" = String, Path)),
    responses((status = 200, body = pay::PayStatus, description = "the order's status and when its charge expires"), (status = 404, description = "no such order")))]
#[get("/pay/{token}/status")]
pub async fn status(pool: web::Data<Pool>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let status = with_db(&pool, move |conn| Ok(pay::status(conn, &token)?)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(status))
}

/// The Pix code as a QR image (SVG).
#[utoipa::path(tag = "pay", params(("token" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the QR code"), (status = 404, description = "no payable order")))]
#[get("/pay/{token}/qr.svg")]
pub async fn qr_svg(pool: web::Data<Pool>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let code = with_db(&pool, move |conn| Ok(pay::code(conn, &token)?)).await?;
    let svg = crate::pix::qr::to_svg(&code).map_err(|e| {
        ApiError::request(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    })?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// The Pix code as a QR image (PNG).
#[utoipa::path(tag = "pay", params(("token" = String, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>, description = "the QR code"), (status = 404, description = "no payable order")))]
#[get("/pay/{token}/qr.png")]
pub async fn qr_png(pool: web::Data<Pool>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let code = with_db(&pool, move |conn| Ok(pay::code(conn, &token)?)).await?;
    let png = crate::pix::qr::to_png(&code).map_err(|e| {
        ApiError::request(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    })?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}
