//! The rows of each export, read a page at a time by keyset (never OFFSET,
//! never the whole period in memory), always inside the caller's shop.

use super::{Cell, Column, ExportKind, Options, Period, ReportError, RowSink, col, first_name, invalid, mask_phone};
use crate::db::AnyConnection;
use crate::db::schema::{charges, order_lines, orders, payments};
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::orders::{Order, OrderLine, OrderStatus};
use crate::payments::{Payment, PaymentOutcome};
use diesel::prelude::*;
use std::collections::HashMap;

/// Rows read per query: small enough to keep memory flat, large enough
/// that a million rows are 2,000 round trips.
pub(super) const PAGE: i64 = 500;

/// Writes the export `kind` of `shop` for `period` into `sink`; returns the
/// number of rows written (the totals row not counted).
pub fn export(
    conn: &mut AnyConnection,
    shop: ShopId,
    kind: ExportKind,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    match kind {
        ExportKind::Orders if options.lines => order_lines_export(conn, shop, period, options, sink),
        ExportKind::Orders => orders_export(conn, shop, period, options, sink),
        ExportKind::Payments => super::payment_rows::payments_export(conn, shop, period, options, sink),
        ExportKind::Refunds => super::payment_rows::refunds_export(conn, shop, period, options, sink),
        ExportKind::Reconciliation => super::reconcile::reconciliation(conn, shop, period, sink),
    }
}

pub(super) fn parse_status<T: std::str::FromStr>(status: &Option<String>) -> Result<Option<T>, ReportError> {
    status
        .as_deref()
        .map(|s| s.parse::<T>().map_err(|_| invalid("status", format!("`{s}` is not a status of this export"))))
        .transpose()
}

pub(super) fn add(sum: &mut i64, money: Money) {
    *sum = sum.saturating_add(money.cents());
}

pub(super) fn money(cents: i64) -> Cell {
    Cell::Cents(cents)
}

/// Where a page of orders ends: its last row's creation time and id.
pub(super) type OrderKey = (chrono::NaiveDateTime, OrderId);

/// One page of the shop's orders created in the period, after `after`, in
/// the order they were created: keyset on (created_at, id), which walks the
/// (shop_id, created_at) index from where the last page ended (ordering by
/// id alone made every page scan and sort the whole period).
fn orders_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    status: Option<OrderStatus>,
    after: Option<OrderKey>,
) -> QueryResult<Vec<Order>> {
    let mut query =
        orders::table.filter(orders::shop_id.eq(shop)).filter(orders::created_at.lt(period.end_utc())).into_boxed();
    query = match after {
        Some((at, id)) => {
            query.filter(orders::created_at.ge(at)).filter(orders::created_at.gt(at).or(orders::id.gt(id)))
        }
        None => query.filter(orders::created_at.ge(period.start_utc())),
    };
    if let Some(status) = status {
        query = query.filter(orders::status.eq(status));
    }
    query.order((orders::created_at, orders::id)).limit(PAGE).select(Order::as_select()).load(conn)
}

/// What a page of orders needs beside itself: lines, txids, endToEndIds.
struct OrderExtras {
    lines: HashMap<OrderId, Vec<OrderLine>>,
    txids: HashMap<OrderId, String>,
    e2e: HashMap<OrderId, Vec<String>>,
}

fn extras(conn: &mut AnyConnection, page: &[Order]) -> QueryResult<OrderExtras> {
    let ids: Vec<OrderId> = page.iter().map(|o| o.id).collect();
    let mut lines: HashMap<OrderId, Vec<OrderLine>> = HashMap::new();
    let rows: Vec<(OrderId, OrderLine)> = order_lines::table
        .filter(order_lines::order_id.eq_any(&ids))
        .order((order_lines::order_id, order_lines::line_no))
        .select((order_lines::order_id, OrderLine::as_select()))
        .load(conn)?;
    for (order, line) in rows {
        lines.entry(order).or_default().push(line);
    }
    let txids = charges::table
        .filter(charges::order_id.eq_any(&ids))
        .select((charges::order_id, charges::txid))
        .load::<(OrderId, String)>(conn)?
        .into_iter()
        .collect();
    let mut e2e: HashMap<OrderId, Vec<String>> = HashMap::new();
    let paid: Vec<(Option<OrderId>, String)> = payments::table
        .filter(payments::order_id.eq_any(&ids))
        .filter(payments::outcome.eq(PaymentOutcome::Matched))
        .order(payments::paid_at)
        .select((payments::order_id, payments::end_to_end_id))
        .load(conn)?;
    for (order, id) in paid {
        if let Some(order) = order {
            e2e.entry(order).or_default().push(id);
        }
    }
    Ok(OrderExtras { lines, txids, e2e })
}

const ORDER_COLUMNS: [Column; 16] = [
    col("number", "número"),
    col("created", "criado em"),
    col("paid", "pago em"),
    col("status", "situação"),
    col("customer", "cliente"),
    col("phone", "telefone"),
    col("items", "itens"),
    col("item_count", "qtd. itens"),
    col("subtotal", "subtotal"),
    col("shipping", "frete"),
    col("discount", "desconto"),
    col("total", "total"),
    col("refunded", "devolvido"),
    col("net", "líquido"),
    col("txid", "txid"),
    col("end_to_end_id", "endToEndId"),
];

/// The columns every order row starts with.
fn order_head(order: &Order, period: &Period) -> Vec<Cell> {
    vec![
        Cell::Int(order.number),
        Cell::DateTime(period.local(order.created_at)),
        order.paid_at.map_or(Cell::Empty, |t| Cell::DateTime(period.local(t))),
        Cell::Text(order.status.as_str().to_owned()),
        Cell::opt_text(first_name(order.customer_name.as_deref())),
        Cell::opt_text(mask_phone(order.customer_whatsapp.as_deref())),
    ]
}

fn orders_export(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let status = parse_status::<OrderStatus>(&options.status)?;
    sink.header(&ORDER_COLUMNS)?;
    let (mut rows, mut after) = (0u64, None);
    // subtotal, shipping, discount, total, refunded, net; item count.
    let mut sums = [0i64; 6];
    let mut items_total = 0i64;
    loop {
        let page = orders_page(conn, shop, period, status, after)?;
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        let extras = extras(conn, &page)?;
        for order in &page {
            let lines = extras.lines.get(&order.id).map(Vec::as_slice).unwrap_or_default();
            let text = lines.iter().map(|l| format!("{}x {}", l.quantity, l.name)).collect::<Vec<_>>().join("; ");
            let count: i64 = lines.iter().map(|l| l.quantity).sum();
            // Net: what the shop kept of what it received.
            let net = order.paid.cents() - order.refunded.cents();
            let amounts = [order.subtotal, order.shipping, order.discount, order.total, order.refunded];
            for (sum, amount) in sums.iter_mut().zip(amounts) {
                add(sum, amount);
            }
            sums[5] = sums[5].saturating_add(net);
            items_total += count;
            let mut cells = order_head(order, period);
            cells.extend([Cell::Text(text), Cell::Int(count)]);
            cells.extend(amounts.map(|m| Cell::Cents(m.cents())));
            cells.push(money(net));
            cells.push(Cell::opt_text(extras.txids.get(&order.id).cloned()));
            cells.push(Cell::opt_text(extras.e2e.get(&order.id).map(|ids| ids.join(" "))));
            sink.row(&cells)?;
            rows += 1;
        }
    }
    let mut totals = vec![Cell::Text("TOTAL".into())];
    totals.extend(std::iter::repeat_n(Cell::Empty, 6));
    totals.push(Cell::Int(items_total));
    totals.extend(sums.map(money));
    totals.extend([Cell::Empty, Cell::Empty]);
    sink.totals(&totals)?;
    Ok(rows)
}

const LINE_COLUMNS: [Column; 14] = [
    col("number", "número"),
    col("created", "criado em"),
    col("paid", "pago em"),
    col("status", "situação"),
    col("customer", "cliente"),
    col("phone", "telefone"),
    col("line", "linha"),
    col("sku", "sku"),
    col("item", "item"),
    col("unit_price", "preço unitário"),
    col("quantity", "quantidade"),
    col("amount", "valor"),
    col("txid", "txid"),
    col("end_to_end_id", "endToEndId"),
];

fn order_lines_export(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let status = parse_status::<OrderStatus>(&options.status)?;
    sink.header(&LINE_COLUMNS)?;
    let (mut rows, mut after, mut quantity, mut amount) = (0u64, None, 0i64, 0i64);
    loop {
        let page = orders_page(conn, shop, period, status, after)?;
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        let extras = extras(conn, &page)?;
        for order in &page {
            for line in extras.lines.get(&order.id).map(Vec::as_slice).unwrap_or_default() {
                let mut cells = order_head(order, period);
                cells.extend([
                    Cell::Int(i64::from(line.line_no)),
                    Cell::Text(line.retailer_id.clone()),
                    Cell::Text(line.name.clone()),
                    Cell::Cents(line.unit_price.cents()),
                    Cell::Int(line.quantity),
                    Cell::Cents(line.amount.cents()),
                    Cell::opt_text(extras.txids.get(&order.id).cloned()),
                    Cell::opt_text(extras.e2e.get(&order.id).map(|ids| ids.join(" "))),
                ]);
                quantity += line.quantity;
                add(&mut amount, line.amount);
                sink.row(&cells)?;
                rows += 1;
            }
        }
    }
    let mut totals = vec![Cell::Text("TOTAL".into())];
    totals.extend(std::iter::repeat_n(Cell::Empty, 9));
    totals.extend([Cell::Int(quantity), money(amount), Cell::Empty, Cell::Empty]);
    sink.totals(&totals)?;
    Ok(rows)
}

/// Where a page of payments ends: its last row's paid_at and endToEndId.
pub(super) type PaymentKey = (chrono::NaiveDateTime, String);

/// One page of the shop's Pix received in the period, after `after`, in the
/// order they arrived: keyset on (paid_at, endToEndId) along the
/// (shop_id, paid_at) index.
pub(super) fn payments_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    outcome: Option<PaymentOutcome>,
    after: Option<&PaymentKey>,
) -> QueryResult<Vec<Payment>> {
    let mut query =
        payments::table.filter(payments::shop_id.eq(shop)).filter(payments::paid_at.lt(period.end_utc())).into_boxed();
    query = match after {
        Some((at, e2e)) => query
            .filter(payments::paid_at.ge(*at))
            .filter(payments::paid_at.gt(*at).or(payments::end_to_end_id.gt(e2e.clone()))),
        None => query.filter(payments::paid_at.ge(period.start_utc())),
    };
    if let Some(outcome) = outcome {
        query = query.filter(payments::outcome.eq(outcome));
    }
    query.order((payments::paid_at, payments::end_to_end_id)).limit(PAGE).select(Payment::as_select()).load(conn)
}

/// Order numbers of the orders a page refers to.
pub(super) fn numbers(conn: &mut AnyConnection, ids: Vec<OrderId>) -> QueryResult<HashMap<OrderId, i64>> {
    Ok(orders::table
        .filter(orders::id.eq_any(ids))
        .select((orders::id, orders::number))
        .load::<(OrderId, i64)>(conn)?
        .into_iter()
        .collect())
}
