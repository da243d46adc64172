//! The daily summary's figures: one day of a shop, in its time zone, as the
//! owner reads it each morning (`GET /v1/reports/daily`, the `summary.daily`
//! job, `chatshop summary`). Exact money: integer centavos throughout.

use super::{Period, ReportError};
use crate::db::AnyConnection;
use crate::db::schema::{order_lines, orders, payments, refunds};
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::orders::OrderStatus;
use crate::payments::PaymentOutcome;
use crate::payments::refund::RefundStatus;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// At most this many products in `top_products`.
pub const TOP_PRODUCTS: usize = 5;

/// One day's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DailyFigures {
    /// The day, in the shop's time zone.
    #[schema(value_type = String, format = Date, example = "2026-11-23")]
    pub date: NaiveDate,
    #[schema(example = "America/Sao_Paulo")]
    pub timezone: String,
    /// Orders paid within the day.
    pub paid_orders: i64,
    /// Their totals together.
    pub revenue: Money,
    /// `revenue / paid_orders`, rounded to the centavo (half up); zero without orders.
    pub average_ticket: Money,
    /// What sold most that day: by quantity, then revenue.
    pub top_products: Vec<TopProduct>,
    /// Orders placed by the day's end and still waiting to be paid.
    pub waiting_payment: i64,
    /// Orders placed by the day's end, paid and not yet fulfilled.
    pub waiting_fulfilment: i64,
    /// Refunds settled within the day.
    pub refunds: RefundFigures,
    /// Pix received within the day that paid no order as they should
    /// (wrong amount, late, duplicate, unknown).
    pub flagged_payments: FlaggedFigures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TopProduct {
    #[schema(example = "BOLO-CHOC")]
    pub retailer_id: String,
    pub name: String,
    pub quantity: i64,
    pub revenue: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefundFigures {
    pub count: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FlaggedFigures {
    pub count: i64,
    pub amount: Money,
}

impl DailyFigures {
    /// Nothing happened that day: no paid order, refund nor flagged Pix.
    pub fn is_quiet(&self) -> bool {
        self.paid_orders == 0 && self.refunds.count == 0 && self.flagged_payments.count == 0
    }
}

/// Yesterday in `zone`, seen at `now` (UTC).
pub fn yesterday(zone: &str, now: NaiveDateTime) -> NaiveDate {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
    let today = zone.from_utc_datetime(&now).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// The UTC instant of `time` on `day` in `zone` (a time skipped by a DST
/// change is taken an hour later).
pub fn local_instant(zone: &str, day: NaiveDate, time: NaiveTime) -> NaiveDateTime {
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
    let local = day.and_time(time);
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(local + chrono::TimeDelta::hours(1))).earliest())
        .map_or(local, |t| t.naive_utc())
}

fn money(cents: i64) -> Result<Money, ReportError> {
    Money::from_cents(cents).map_err(|e| ReportError::Write(format!("a sum out of range: {e}")))
}

/// The figures of `date` (in the shop's time zone) for one shop.
pub fn daily(conn: &mut AnyConnection, shop: ShopId, date: NaiveDate) -> Result<DailyFigures, ReportError> {
    let timezone = crate::shops::settings::get(conn, shop)?.timezone;
    let period = Period::new(date, date, &timezone)?;
    let (start, end) = (period.start_utc(), period.end_utc());

    let paid: Vec<(OrderId, i64)> = orders::table
        .filter(orders::shop_id.eq(shop))
        .filter(orders::paid_at.ge(start))
        .filter(orders::paid_at.lt(end))
        .select((orders::id, orders::total_cents))
        .load(conn)?;
    let paid_orders = paid.len() as i64;
    let revenue: i64 = paid.iter().map(|(_, total)| total).sum();
    let average = if paid_orders == 0 { 0 } else { (revenue * 2 + paid_orders) / (paid_orders * 2) };

    let ids: Vec<OrderId> = paid.iter().map(|(id, _)| *id).collect();
    let mut lines: Vec<(String, String, i64, i64)> = Vec::new();
    // Bounded parameter lists: a busy day's orders in chunks.
    for chunk in ids.chunks(500) {
        lines.extend(
            order_lines::table
                .filter(order_lines::shop_id.eq(shop))
                .filter(order_lines::order_id.eq_any(chunk))
                .select((order_lines::retailer_id, order_lines::name, order_lines::quantity, order_lines::amount_cents))
                .load::<(String, String, i64, i64)>(conn)?,
        );
    }
    let mut by_product: HashMap<String, (String, i64, i64)> = HashMap::new();
    for (sku, name, quantity, amount) in lines {
        let entry = by_product.entry(sku).or_insert_with(|| (name, 0, 0));
        entry.1 += quantity;
        entry.2 += amount;
    }
    let mut ranked: Vec<(String, (String, i64, i64))> = by_product.into_iter().collect();
    ranked.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(b.1.2.cmp(&a.1.2)).then(a.0.cmp(&b.0)));
    let top_products = ranked
        .into_iter()
        .take(TOP_PRODUCTS)
        .map(|(retailer_id, (name, quantity, cents))| {
            Ok(TopProduct { retailer_id, name, quantity, revenue: money(cents)? })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;

    let waiting = |conn: &mut AnyConnection, status: OrderStatus| -> Result<i64, ReportError> {
        Ok(orders::table
            .filter(orders::shop_id.eq(shop))
            .filter(orders::status.eq(status))
            .filter(orders::created_at.lt(end))
            .count()
            .get_result(conn)?)
    };
    let waiting_payment = waiting(conn, OrderStatus::PendingPayment)?;
    let waiting_fulfilment = waiting(conn, OrderStatus::Paid)?;

    let settled: Vec<i64> = refunds::table
        .filter(refunds::shop_id.eq(shop))
        .filter(refunds::status.eq(RefundStatus::Settled))
        .filter(refunds::settled_at.ge(start))
        .filter(refunds::settled_at.lt(end))
        .select(refunds::amount_cents)
        .load(conn)?;
    let flagged: Vec<i64> = payments::table
        .filter(payments::shop_id.eq(shop))
        .filter(payments::outcome.ne(PaymentOutcome::Matched))
        .filter(payments::paid_at.ge(start))
        .filter(payments::paid_at.lt(end))
        .select(payments::amount_cents)
        .load(conn)?;

    Ok(DailyFigures {
        date,
        timezone,
        paid_orders,
        revenue: money(revenue)?,
        average_ticket: money(average)?,
        top_products,
        waiting_payment,
        waiting_fulfilment,
        refunds: RefundFigures { count: settled.len() as i64, amount: money(settled.iter().sum())? },
        flagged_payments: FlaggedFigures { count: flagged.len() as i64, amount: money(flagged.iter().sum())? },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_and_times() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 02:30 UTC is still the evening before in São Paulo.
        assert_eq!(yesterday("America/Sao_Paulo", at("2026-11-24 02:30")), day("2026-11-22"));
        assert_eq!(yesterday("UTC", at("2026-11-24 02:30")), day("2026-11-23"));
        let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        assert_eq!(local_instant("America/Sao_Paulo", day("2026-11-24"), eight), at("2026-11-24 11:00"));
        assert_eq!(local_instant("Europe/Lisbon", day("2026-07-01"), eight), at("2026-07-01 07:00"));
    }
}
