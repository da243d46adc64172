//! The rows of each export, read a page at a time by keyset (never OFFSET,
//! never the whole period in memory), always inside the caller's shop.

use super::{Cell, Column, ExportKind, Options, Period, ReportError, RowSink, col, first_name, invalid, mask_phone};
use crate::db::AnyConnection;
use crate::db::schema::{charges, order_lines, orders, payments, refunds};
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::orders::{Order, OrderLine, OrderStatus};
use crate::payments::refund::{Refund, RefundStatus};
use crate::payments::{Payment, PaymentOutcome, received::mask_document};
use diesel::prelude::*;
use std::collections::HashMap;

/// Rows read per query: small enough to keep memory flat, large enough
/// that a million rows are 2,000 round trips.
const PAGE: i64 = 500;

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
        ExportKind::Payments => payments_export(conn, shop, period, options, sink),
        ExportKind::Refunds => refunds_export(conn, shop, period, options, sink),
        ExportKind::Reconciliation => super::reconcile::reconciliation(conn, shop, period, sink),
    }
}

fn parse_status<T: std::str::FromStr>(status: &Option<String>) -> Result<Option<T>, ReportError> {
    status
        .as_deref()
        .map(|s| s.parse::<T>().map_err(|_| invalid("status", format!("`{s}` is not a status of this export"))))
        .transpose()
}

fn add(sum: &mut i64, money: Money) {
    *sum = sum.saturating_add(money.cents());
}

fn money(cents: i64) -> Cell {
    Cell::Cents(cents)
}

/// One page of the shop's orders created in the period, after `after`.
fn orders_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
) -> QueryResult<Vec<Order>> {
    let mut query = orders::table
        .filter(orders::shop_id.eq(shop))
        .filter(orders::created_at.ge(period.start_utc()))
        .filter(orders::created_at.lt(period.end_utc()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(orders::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(orders::id.gt(after));
    }
    query.order(orders::id).limit(PAGE).select(Order::as_select()).load(conn)
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
        after = Some(last.id);
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
        after = Some(last.id);
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

/// One page of the shop's Pix received in the period, after `after`
/// (keyset on endToEndId, the payments' primary key).
pub(super) fn payments_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    outcome: Option<PaymentOutcome>,
    after: Option<&str>,
) -> QueryResult<Vec<Payment>> {
    let mut query = payments::table
        .filter(payments::shop_id.eq(shop))
        .filter(payments::paid_at.ge(period.start_utc()))
        .filter(payments::paid_at.lt(period.end_utc()))
        .into_boxed();
    if let Some(outcome) = outcome {
        query = query.filter(payments::outcome.eq(outcome));
    }
    if let Some(after) = after {
        query = query.filter(payments::end_to_end_id.gt(after.to_owned()));
    }
    query.order(payments::end_to_end_id).limit(PAGE).select(Payment::as_select()).load(conn)
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

/// Documents are stored masked; one that is not is masked here.
fn masked_document(document: Option<&str>) -> Option<String> {
    document.map(|d| if d.contains('*') { d.to_owned() } else { mask_document(d) })
}

const PAYMENT_COLUMNS: [Column; 9] = [
    col("end_to_end_id", "endToEndId"),
    col("txid", "txid"),
    col("paid_at", "pago em"),
    col("amount", "valor"),
    col("payer", "pagador"),
    col("payer_document", "CPF/CNPJ do pagador"),
    col("order", "pedido"),
    col("outcome", "resultado"),
    col("source", "origem"),
];

fn payments_export(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let outcome = parse_status::<PaymentOutcome>(&options.status)?;
    sink.header(&PAYMENT_COLUMNS)?;
    let (mut rows, mut after, mut sum) = (0u64, None::<String>, 0i64);
    loop {
        let page = payments_page(conn, shop, period, outcome, after.as_deref())?;
        let Some(last) = page.last() else { break };
        after = Some(last.end_to_end_id.to_string());
        let numbers = numbers(conn, page.iter().filter_map(|p| p.order_id).collect())?;
        for payment in &page {
            let order = match payment.order_id.and_then(|id| numbers.get(&id)) {
                Some(number) => Cell::Int(*number),
                None => Cell::Text("orphan".into()),
            };
            add(&mut sum, payment.amount);
            sink.row(&[
                Cell::Text(payment.end_to_end_id.to_string()),
                Cell::opt_text(payment.txid.as_ref().map(ToString::to_string)),
                Cell::DateTime(period.local(payment.paid_at)),
                Cell::Cents(payment.amount.cents()),
                Cell::opt_text(payment.payer_name.clone()),
                Cell::opt_text(masked_document(payment.payer_document.as_deref())),
                order,
                Cell::Text(payment.outcome.as_str().to_owned()),
                Cell::Text(payment.source.as_str().to_owned()),
            ])?;
            rows += 1;
        }
    }
    let mut totals = vec![Cell::Text("TOTAL".into()), Cell::Empty, Cell::Empty, money(sum)];
    totals.extend(std::iter::repeat_n(Cell::Empty, 5));
    sink.totals(&totals)?;
    Ok(rows)
}

/// One page of the shop's refunds requested in the period, after `after`
/// (keyset on the primary key, endToEndId then id).
pub(super) fn refunds_page(
    conn: &mut AnyConnection,
    shop: ShopId,
    start: chrono::NaiveDateTime,
    end: chrono::NaiveDateTime,
    status: Option<RefundStatus>,
    after: Option<&(String, String)>,
) -> QueryResult<Vec<Refund>> {
    let mut query = refunds::table
        .filter(refunds::shop_id.eq(shop))
        .filter(refunds::requested_at.ge(start))
        .filter(refunds::requested_at.lt(end))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(refunds::status.eq(status));
    }
    if let Some((e2e, id)) = after {
        query = query.filter(
            refunds::end_to_end_id
                .gt(e2e.clone())
                .or(refunds::end_to_end_id.eq(e2e.clone()).and(refunds::id.gt(id.clone()))),
        );
    }
    query.order((refunds::end_to_end_id, refunds::id)).limit(PAGE).select(Refund::as_select()).load(conn)
}

const REFUND_COLUMNS: [Column; 9] = [
    col("id", "id"),
    col("rtr_id", "rtrId"),
    col("end_to_end_id", "endToEndId original"),
    col("requested", "solicitada em"),
    col("settled", "liquidada em"),
    col("amount", "valor"),
    col("status", "situação"),
    col("reason", "motivo"),
    col("initiated_by", "iniciada por"),
];

fn refunds_export(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let status = parse_status::<RefundStatus>(&options.status)?;
    sink.header(&REFUND_COLUMNS)?;
    let (mut rows, mut after, mut sum) = (0u64, None, 0i64);
    loop {
        let page = refunds_page(conn, shop, period.start_utc(), period.end_utc(), status, after.as_ref())?;
        let Some(last) = page.last() else { break };
        after = Some((last.end_to_end_id.to_string(), last.id.to_string()));
        for refund in &page {
            add(&mut sum, refund.amount);
            sink.row(&[
                Cell::Text(refund.id.to_string()),
                Cell::opt_text(refund.rtr_id.clone()),
                Cell::Text(refund.end_to_end_id.to_string()),
                Cell::DateTime(period.local(refund.requested_at)),
                refund.settled_at.map_or(Cell::Empty, |t| Cell::DateTime(period.local(t))),
                Cell::Cents(refund.amount.cents()),
                Cell::Text(refund.status.as_str().to_owned()),
                Cell::opt_text(refund.reason.clone()),
                Cell::Text(refund.initiated_by.as_str().to_owned()),
            ])?;
            rows += 1;
        }
    }
    let mut totals = vec![Cell::Text("TOTAL".into())];
    totals.extend(std::iter::repeat_n(Cell::Empty, 4));
    totals.push(money(sum));
    totals.extend(std::iter::repeat_n(Cell::Empty, 3));
    sink.totals(&totals)?;
    Ok(rows)
}
