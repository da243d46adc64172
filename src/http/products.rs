//! The catalogue's products.

use super::Caller;
use super::{ApiError, Page, with_db};
use crate::auth::Permission;
use crate::catalog::{Product, ProductChanges, ProductFields, ProductId, repo};
use crate::db::Pool;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use actix_web::{delete, get, patch, post};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
    /// Part of a name or SKU; accents and case do not matter.
    pub q: Option<String>,
}

/// Lists the catalogue, a page at a time.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Page<Product>, description = "a page of the catalogue")))]
#[get("/v1/products")]
pub async fn list(
    caller: Caller,
    pool: web::Data<Pool>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let ListQuery { limit, cursor, q } = query.into_inner();
    let after = cursor.map(|c| c.parse::<ProductId>()).transpose().map_err(|_| {
        ApiError::request(StatusCode::BAD_REQUEST, "invalid_cursor", "the cursor is not one this server gave")
    })?;
    let limit = limit.unwrap_or(50);
    if !(1..=repo::MAX_PAGE).contains(&limit) {
        return Err(ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", "limit must be between 1 and 200"));
    }
    let (data, next) =
        with_db(&pool, move |conn| Ok(repo::list(conn, caller.shop_id, q.as_deref(), after, limit)?)).await?;
    Ok(HttpResponse::Ok().json(Page { data, next_cursor: next.map(|id| id.to_string()) }))
}

/// Adds a product.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    request_body = crate::catalog::ProductInput,
    responses((status = 201, body = Product, description = "the new product (or the archived one with this SKU, back with these fields)"), (status = 409, description = "SKU taken"), (status = 422, description = "invalid field")))]
#[post("/v1/products")]
pub async fn create(
    caller: Caller,
    pool: web::Data<Pool>,
    body: super::Json<crate::catalog::ProductInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let fields = ProductFields::try_from(body.into_inner())?;
    let product = with_db(&pool, move |conn| Ok(repo::create(conn, caller.shop_id, fields)?)).await?;
    Ok(HttpResponse::Created().json(product))
}

/// One product.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Product, description = "the product"), (status = 404, description = "no such product (or it was deleted)")))]
#[get("/v1/products/{id}")]
pub async fn get(caller: Caller, pool: web::Data<Pool>, id: web::Path<ProductId>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let id = id.into_inner();
    let product = with_db(&pool, move |conn| Ok(repo::get(conn, caller.shop_id, id)?)).await?;
    Ok(HttpResponse::Ok().json(product))
}

/// Changes some fields of a product; `null` clears an optional one.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = ProductChanges,
    responses((status = 200, body = Product, description = "the product"), (status = 404, description = "no such product (or it was deleted)"),
        (status = 409, description = "duplicate_sku: another product has the new `retailer_id`"), (status = 422, description = "invalid field")))]
#[patch("/v1/products/{id}")]
pub async fn update(
    caller: Caller,
    pool: web::Data<Pool>,
    id: web::Path<ProductId>,
    body: super::Json<ProductChanges>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let id = id.into_inner();
    let changes = body.into_inner();
    let product = with_db(&pool, move |conn| Ok(repo::patch(conn, caller.shop_id, id, changes)?)).await?;
    Ok(HttpResponse::Ok().json(product))
}

/// Removes a product from the catalogue: it is archived, not erased, so past
/// orders keep it; creating or importing its SKU again brings it back.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204, description = "archived: gone from the catalogue, kept for past orders"), (status = 404, description = "no such product (or it was deleted)")))]
#[delete("/v1/products/{id}")]
pub async fn delete(caller: Caller, pool: web::Data<Pool>, id: web::Path<ProductId>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Operate)?;
    let id = id.into_inner();
    with_db(&pool, move |conn| Ok(repo::archive(conn, caller.shop_id, id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
