//! Meta commerce feeds in and out.

use super::Caller;
use super::{ApiError, BodyLimits, read_bounded, with_db};
use crate::auth::Permission;
use crate::catalog::{ImportOptions, ImportReport, feed, import_feed, repo};
use crate::db::Pool;
use actix_web::{HttpResponse, web};
use actix_web::{get, post};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Import the valid rows and report the invalid ones (default: import nothing if any row is invalid).
    #[serde(default)]
    pub skip_invalid: bool,
}

/// Imports a Meta commerce feed (CSV or TSV), upserting products by SKU.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "A Meta commerce feed: CSV or TSV with a header row"),
    responses((status = 200, body = ImportReport, description = "what was created and updated, and the rows skipped"), (status = 413, description = "feed too large"),
        (status = 422, description = "invalid rows; nothing imported (the problem lists `errors`)")))]
#[post("/v1/catalog/import")]
pub async fn import(
    caller: Caller,
    pool: web::Data<Pool>,
    limits: web::Data<BodyLimits>,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let body = read_bounded(payload, limits.feed).await?;
    let options = ImportOptions { skip_invalid: query.skip_invalid };
    let report =
        with_db(&pool, move |conn| Ok(import_feed(conn, caller.shop_id, &body, options, &mut |_, _| {})?)).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The catalogue as a Meta commerce feed (CSV), ready to import elsewhere or back.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String, description = "the live catalogue as a Meta commerce feed")))]
#[get("/v1/catalog/feed.csv")]
pub async fn feed_csv(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let csv = with_db(&pool, move |conn| Ok(feed::write_csv(&repo::all(conn, caller.shop_id)?)?)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"feed.csv\""))
        .body(csv))
}
