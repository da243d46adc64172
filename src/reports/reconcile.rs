//! Reconciliation of a period: what the PSP account received and gave back,
//! against what the orders say, with every difference listed with its
//! reason so the accountant can tie it to the bank statement line by line.
//! Two passes over the same pages (sums, then differences): memory stays flat.

use super::payment_rows::refunds_page;
use super::rows::{PaymentKey, numbers, payments_page};
use super::{Cell, Column, Period, ReportError, RowSink, col};
use crate::db::AnyConnection;
use crate::db::schema::{orders, refunds};
use crate::ids::{OrderId, ShopId};
use crate::payments::PaymentOutcome;
use crate::payments::refund::{Refund, RefundStatus};
use diesel::prelude::*;

const PAGE: i64 = 500;

const COLUMNS: [Column; 7] = [
    col("section", "seção"),
    col("item", "item"),
    col("reference", "referência"),
    col("date", "data"),
    col("count", "quantidade"),
    col("amount", "valor"),
    col("order", "pedido"),
];

/// The period's sums, in centavos.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub received: i64,
    pub received_count: i64,
    pub refunds_settled: i64,
    pub refunds_settled_count: i64,
    pub orders_paid: i64,
    pub orders_paid_count: i64,
    pub matched: i64,
    pub matched_count: i64,
}

impl Summary {
    pub fn net(&self) -> i64 {
        self.received - self.refunds_settled
    }
}

fn money(cents: i64) -> Cell {
    Cell::Cents(cents)
}

/// Refunds settled within the period, a page at a time.
pub(super) fn settled_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    after: Option<&(String, String)>,
) -> QueryResult<Vec<Refund>> {
    let mut query = refunds::table
        .filter(refunds::shop_id.eq(shop))
        .filter(refunds::status.eq(RefundStatus::Settled))
        .filter(refunds::settled_at.ge(period.start_utc()))
        .filter(refunds::settled_at.lt(period.end_utc()))
        .into_boxed();
    if let Some((e2e, id)) = after {
        query = query.filter(
            refunds::end_to_end_id
                .gt(e2e.clone())
                .or(refunds::end_to_end_id.eq(e2e.clone()).and(refunds::id.gt(id.clone()))),
        );
    }
    query.order((refunds::end_to_end_id, refunds::id)).limit(PAGE).select(Refund::as_select()).load(conn)
}

pub fn summary(conn: &mut AnyConnection, shop: ShopId, period: &Period) -> Result<Summary, ReportError> {
    let mut s = Summary::default();
    let mut after: Option<PaymentKey> = None;
    loop {
        let page = payments_page(conn, shop, period, None, after.as_ref())?;
        let Some(last) = page.last() else { break };
        after = Some((last.paid_at, last.end_to_end_id.to_string()));
        for p in &page {
            s.received += p.amount.cents();
            s.received_count += 1;
            if p.outcome == PaymentOutcome::Matched {
                s.matched += p.amount.cents();
                s.matched_count += 1;
            }
        }
    }
    let mut after = None;
    loop {
        let page = settled_page(conn, shop, period, after.as_ref())?;
        let Some(last) = page.last() else { break };
        after = Some((last.end_to_end_id.to_string(), last.id.to_string()));
        for r in &page {
            s.refunds_settled += r.amount.cents();
            s.refunds_settled_count += 1;
        }
    }
    let mut after: Option<OrderId> = None;
    loop {
        let mut query = orders::table
            .filter(orders::shop_id.eq(shop))
            .filter(orders::paid_at.ge(period.start_utc()))
            .filter(orders::paid_at.lt(period.end_utc()))
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(orders::id.gt(after));
        }
        let page: Vec<(OrderId, i64)> =
            query.order(orders::id).limit(PAGE).select((orders::id, orders::total_cents)).load(conn)?;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        s.orders_paid += page.iter().map(|(_, total)| total).sum::<i64>();
        s.orders_paid_count += page.len() as i64;
    }
    Ok(s)
}

pub fn reconciliation(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let s = summary(conn, shop, period)?;
    sink.header(&COLUMNS)?;
    let line = |item: &str, count: i64, cents: i64| {
        [
            Cell::Text("summary".into()),
            Cell::Text(item.into()),
            Cell::Empty,
            Cell::Empty,
            Cell::Int(count),
            money(cents),
            Cell::Empty,
        ]
    };
    sink.row(&line("pix_received", s.received_count, s.received))?;
    sink.row(&line("refunds_settled", s.refunds_settled_count, -s.refunds_settled))?;
    sink.row(&line("orders_paid", s.orders_paid_count, s.orders_paid))?;
    sink.row(&line("payments_matched", s.matched_count, s.matched))?;
    let mut rows = 4u64;
    // Every Pix that did not simply pay its order.
    let mut after: Option<PaymentKey> = None;
    loop {
        let page = payments_page(conn, shop, period, None, after.as_ref())?;
        let Some(last) = page.last() else { break };
        after = Some((last.paid_at, last.end_to_end_id.to_string()));
        let numbers = numbers(conn, page.iter().filter_map(|p| p.order_id).collect())?;
        for p in page.iter().filter(|p| p.outcome != PaymentOutcome::Matched) {
            sink.row(&[
                Cell::Text("difference".into()),
                Cell::Text(p.outcome.as_str().into()),
                Cell::Text(p.end_to_end_id.to_string()),
                Cell::DateTime(period.local(p.paid_at)),
                Cell::Int(1),
                Cell::Cents(p.amount.cents()),
                p.order_id.and_then(|id| numbers.get(&id)).map_or(Cell::Empty, |n| Cell::Int(*n)),
            ])?;
            rows += 1;
        }
    }
    // Refunds asked for in the period and not settled yet.
    let mut after = None;
    loop {
        let page = refunds_page(
            conn,
            shop,
            period.start_utc(),
            period.end_utc(),
            Some(RefundStatus::Processing),
            after.as_ref(),
        )?;
        let Some(last) = page.last() else { break };
        after = Some((last.end_to_end_id.to_string(), last.id.to_string()));
        let numbers = numbers(conn, page.iter().filter_map(|r| r.order_id).collect())?;
        for r in &page {
            sink.row(&[
                Cell::Text("difference".into()),
                Cell::Text("refund_pending".into()),
                Cell::Text(r.end_to_end_id.to_string()),
                Cell::DateTime(period.local(r.requested_at)),
                Cell::Int(1),
                money(-r.amount.cents()),
                r.order_id.and_then(|id| numbers.get(&id)).map_or(Cell::Empty, |n| Cell::Int(*n)),
            ])?;
            rows += 1;
        }
    }
    sink.totals(&[
        Cell::Text("TOTAL".into()),
        Cell::Text("net".into()),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        // Σ Pix received plus Σ refunds settled (negative): the first two rows.
        Cell::CentsSum(s.net(), 0..2),
        Cell::Empty,
    ])?;
    Ok(rows)
}
