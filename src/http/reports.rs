//! `GET /v1/reports/daily`: the morning summary's figures as JSON.

use super::{ApiError, Caller, with_db};
use crate::auth::Permission;
use crate::reports::daily::{self, DailyFigures};
use crate::services::Services;
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// The day, in the shop's time zone; default: yesterday there.
    #[param(value_type = Option<String>, format = Date, example = "2026-11-23")]
    pub date: Option<NaiveDate>,
}

/// One day's figures (owner, accountant): paid orders, revenue, average
/// ticket, best sellers, orders waiting for payment or fulfilment, refunds
/// settled and flagged Pix, the day taken in the shop's time zone.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(DailyQuery),
    responses((status = 200, body = DailyFigures, description = "the day's figures"),
        (status = 400, description = "invalid date"),
        (status = 403, description = "staff may not read the books")))]
#[get("/v1/reports/daily")]
pub async fn daily_report(
    caller: Caller,
    services: web::Data<Services>,
    query: web::Query<DailyQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Export)?;
    let now = services.clock.now();
    let asked = query.into_inner().date;
    let figures = with_db(&services.pool, move |conn| {
        let date = match asked {
            Some(date) => date,
            None => daily::yesterday(&crate::shops::settings::get(conn, caller.shop_id)?.timezone, now),
        };
        Ok(daily::daily(conn, caller.shop_id, date)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(figures))
}
