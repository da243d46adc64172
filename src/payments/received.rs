//! Every Pix received, one row per endToEndId (the unique key that makes a
//! replayed or duplicated callback change nothing), whether or not it fits
//! an order.

use crate::db::AnyConnection;
use crate::db::schema::payments;
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::pix::{ChargeTxid, EndToEndId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

crate::text_enum! {
    /// What a Pix did to its order.
    pub enum PaymentOutcome {
        /// It paid its order.
        Matched => "matched",
        /// Not the order's total: recorded, the order flagged, not paid.
        AmountMismatch => "amount_mismatch",
        /// After the order expired or was cancelled: to be given back.
        Late => "late",
        /// The order was paid already by another Pix: to be given back.
        Duplicate => "duplicate",
        /// No order of ours.
        Orphan => "orphan",
    }
}

crate::text_enum! {
    /// How the Pix reached us.
    pub enum PaymentSource {
        Webhook => "webhook",
        Poll => "poll",
        Sweep => "sweep",
        Sandbox => "sandbox",
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = payments)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Payment {
    pub end_to_end_id: EndToEndId,
    #[serde(skip)]
    pub shop_id: ShopId,
    pub txid: Option<ChargeTxid>,
    pub order_id: Option<OrderId>,
    #[diesel(column_name = amount_cents)]
    #[serde(rename = "amount")]
    pub amount: Money,
    #[serde(with = "crate::clock::rfc3339")]
    pub paid_at: NaiveDateTime,
    pub payer_name: Option<String>,
    pub payer_document: Option<String>,
    #[serde(skip)]
    pub payer_info: Option<String>,
    pub outcome: PaymentOutcome,
    #[serde(skip)]
    pub source: PaymentSource,
    #[serde(with = "crate::clock::rfc3339")]
    pub received_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = payments)]
pub(super) struct NewPayment<'a> {
    pub end_to_end_id: &'a EndToEndId,
    pub shop_id: ShopId,
    pub txid: Option<&'a ChargeTxid>,
    pub order_id: Option<OrderId>,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
    pub paid_at: NaiveDateTime,
    pub payer_name: Option<&'a str>,
    pub payer_document: Option<String>,
    pub payer_info: Option<&'a str>,
    pub outcome: PaymentOutcome,
    pub source: PaymentSource,
    pub received_at: NaiveDateTime,
}

pub fn of_order(conn: &mut AnyConnection, order: OrderId) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::order_id.eq(order))
        .order(payments::paid_at)
        .select(Payment::as_select())
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, shop: ShopId, e2e: &EndToEndId) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::shop_id.eq(shop))
        .filter(payments::end_to_end_id.eq(e2e))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// `GET /v1/payments`: newest first, keyset-paged by (paid_at, endToEndId).
pub fn list(
    conn: &mut AnyConnection,
    shop: ShopId,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    after: Option<(NaiveDateTime, EndToEndId)>,
    limit: i64,
) -> QueryResult<Vec<Payment>> {
    let mut query = payments::table.filter(payments::shop_id.eq(shop)).into_boxed();
    if let Some(from) = from {
        query = query.filter(payments::paid_at.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(payments::paid_at.lt(to));
    }
    if let Some((at, e2e)) = after {
        query =
            query.filter(payments::paid_at.lt(at).or(payments::paid_at.eq(at).and(payments::end_to_end_id.lt(e2e))));
    }
    query
        .order((payments::paid_at.desc(), payments::end_to_end_id.desc()))
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// A CPF or CNPJ kept only masked: `***.456.789-**`, `12.***.***/0001-**`.
pub fn mask_document(document: &str) -> String {
    let digits: String = document.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    match digits.len() {
        11 => format!("***.{}.{}-**", &digits[3..6], &digits[6..9]),
        14 => format!("{}.***.***/{}-**", &digits[0..2], &digits[8..12]),
        _ => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_are_masked() {
        assert_eq!(super::mask_document("123.456.789-09"), "***.456.789-**");
        assert_eq!(super::mask_document("12345678000195"), "12.***.***/0001-**");
        assert_eq!(super::mask_document("abc"), "***");
    }
}
