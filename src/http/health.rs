use super::{ApiError, with_db};
use crate::db::Pool;
use actix_web::get;
use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// Healthy when the database answers.
#[utoipa::path(tag = "service", responses((status = 200, body = Health, description = "the service and its database answer"), (status = 503, description = "database unreachable")))]
#[get("/healthz")]
pub async fn healthz(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let database = with_db(&pool, |conn| {
        conn.batch_execute("SELECT 1").map_err(crate::db::DbError::from)?;
        Ok(conn.backend().name())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok", database }))
}
