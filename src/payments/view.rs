//! The order as the API (and the events) show it: lines, money, charge,
//! payments and refunds, each amount a decimal string, each time RFC 3339.

use super::charge::{self, ChargeStatus};
use super::received::{self, PaymentOutcome};
use super::refund::{self, RefundInitiator, RefundStatus};
use crate::db::AnyConnection;
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::orders::{self, Order, OrderStatus};
use crate::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::NaiveDateTime;
use serde::Serialize;

/// Where the customer's pages live (`CHATSHOP_PUBLIC_URL`).
#[derive(Debug, Clone)]
pub struct Links {
    pub public_url: String,
}

impl Links {
    pub fn pay_url(&self, token: &str) -> String {
        format!("{}/pay/{token}", self.public_url.trim_end_matches('/'))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[schema(value_type = String, format = Uuid)]
    pub id: OrderId,
    /// The shop's number for it (`#1042`).
    pub number: i64,
    pub status: OrderStatus,
    pub customer: CustomerView,
    pub items: Vec<ItemView>,
    pub subtotal: Money,
    pub shipping: Money,
    pub discount: Money,
    pub total: Money,
    pub paid_amount: Money,
    pub refunded_amount: Money,
    /// `amount_mismatch`, `late_payment`, `needs_refund`, `returned_by_psp`.
    pub flags: Vec<&'static str>,
    pub note: Option<String>,
    pub charge: Option<ChargeView>,
    pub payments: Vec<PaymentView>,
    pub refunds: Vec<RefundView>,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::clock::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    pub name: Option<String>,
    pub whatsapp: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub retailer_id: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: i64,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChargeView {
    pub txid: ChargeTxid,
    /// The copy-and-paste code; null until the PSP has made the charge.
    pub pix_copia_e_cola: Option<String>,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: NaiveDateTime,
    pub status: ChargeStatus,
    pub pay_url: String,
    /// Why the charge failed, in the PSP's words (its problem's title,
    /// detail and violations); null unless `failed`.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    pub end_to_end_id: EndToEndId,
    pub amount: Money,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: NaiveDateTime,
    pub outcome: PaymentOutcome,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: RefundId,
    pub end_to_end_id: EndToEndId,
    pub amount: Money,
    pub status: RefundStatus,
    pub reason: Option<String>,
    /// `shop` (asked for over the API), or `psp`: a return the PSP made on
    /// its own (a MED return), which also flags the order `returned_by_psp`.
    pub initiated_by: RefundInitiator,
    /// API Pix's `natureza`: `ORIGINAL`, `MED_FRAUDE`, `MED_OPERACIONAL`...
    pub nature: Option<String>,
    /// Why the refund was not made, in the PSP's words; null unless `failed`.
    pub error: Option<String>,
}

pub fn order_view(
    conn: &mut AnyConnection,
    shop: ShopId,
    id: OrderId,
    links: &Links,
) -> Result<OrderView, super::PaymentError> {
    let order = orders::repo::get(conn, shop, id)?;
    view_of(conn, order, links)
}

pub fn view_of(conn: &mut AnyConnection, order: Order, links: &Links) -> Result<OrderView, super::PaymentError> {
    let lines = orders::repo::lines(conn, order.id)?;
    let charge = charge::of_order(conn, order.id)?;
    let payments = received::of_order(conn, order.id)?;
    let refunds = refund::of_order(conn, order.id)?;
    Ok(OrderView {
        id: order.id,
        number: order.number,
        status: order.status,
        customer: CustomerView { name: order.customer_name, whatsapp: order.customer_whatsapp },
        items: lines
            .into_iter()
            .map(|l| ItemView {
                retailer_id: l.retailer_id,
                name: l.name,
                unit_price: l.unit_price,
                quantity: l.quantity,
                amount: l.amount,
            })
            .collect(),
        subtotal: order.subtotal,
        shipping: order.shipping,
        discount: order.discount,
        total: order.total,
        paid_amount: order.paid,
        refunded_amount: order.refunded,
        flags: order.flags.names(),
        note: order.note,
        charge: charge.map(|c| ChargeView {
            txid: c.txid,
            pix_copia_e_cola: c.pix_copia_e_cola,
            expires_at: c.expires_at,
            status: c.status,
            pay_url: links.pay_url(&order.pay_token),
            error: c.error,
        }),
        payments: payments
            .into_iter()
            .map(|p| PaymentView {
                end_to_end_id: p.end_to_end_id,
                amount: p.amount,
                paid_at: p.paid_at,
                outcome: p.outcome,
            })
            .collect(),
        refunds: refunds
            .into_iter()
            .map(|r| RefundView {
                id: r.id,
                end_to_end_id: r.end_to_end_id,
                amount: r.amount,
                status: r.status,
                reason: r.reason,
                initiated_by: r.initiated_by,
                nature: r.nature,
                error: r.error,
            })
            .collect(),
        created_at: order.created_at,
        paid_at: order.paid_at,
    })
}
