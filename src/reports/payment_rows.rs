//! The rows of the money exports: each Pix received and each refund, read a
//! page at a time by keyset, always inside the caller's shop.

use super::rows::{PAGE, PaymentKey, add, money, numbers, parse_status, payments_page};
use super::{Cell, Column, Options, Period, ReportError, RowSink, col};
use crate::db::AnyConnection;
use crate::db::schema::refunds;
use crate::ids::ShopId;
use crate::payments::refund::{Refund, RefundStatus};
use crate::payments::{PaymentOutcome, received::mask_document};
use diesel::prelude::*;

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

pub(super) fn payments_export(
    conn: &mut AnyConnection,
    shop: ShopId,
    period: &Period,
    options: &Options,
    sink: &mut dyn RowSink,
) -> Result<u64, ReportError> {
    let outcome = parse_status::<PaymentOutcome>(&options.status)?;
    sink.header(&PAYMENT_COLUMNS)?;
    let (mut rows, mut after, mut sum) = (0u64, None::<PaymentKey>, 0i64);
    loop {
        let page = payments_page(conn, shop, period, outcome, after.as_ref())?;
        let Some(last) = page.last() else { break };
        after = Some((last.paid_at, last.end_to_end_id.to_string()));
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

pub(super) fn refunds_export(
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
