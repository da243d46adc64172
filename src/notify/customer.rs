//! The customer is told in the chat: the Pix code when the charge is made
//! (`order_details` with `pix_dynamic_code`, or the code and the pay link as
//! text where interactive messages cannot go), then paid, shipped, refunded
//! or expired. A customer who opted out gets none of these: the WhatsApp
//! send job checks at send time (they are not replies).

use super::NotifyError;
use crate::channels::whatsapp::message::{
    Expiration, OrderDetails, OrderLine as DetailsLine, OutboundMessage, PixKeyType, PixSettings,
};
use crate::chat::delivery;
use crate::customers::{self, Customer};
use crate::db::AnyConnection;
use crate::events::{Event, EventType};
use crate::ids::OrderId;
use crate::money::Money;
use crate::shops::whatsapp::ChatShop;
use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;

/// The part of an order event's data the customer's messages use.
#[derive(Debug, Deserialize)]
struct OrderData {
    order: EventOrder,
    /// `order.cancelled`: `customer` when they cancelled it in the chat.
    #[serde(default)]
    cancelled_by: Option<String>,
    /// `order.refunded`: the refund that settled (its amount, not the sum).
    #[serde(default)]
    refund: Option<EventRefund>,
}

#[derive(Debug, Deserialize)]
struct EventRefund {
    amount: Money,
}

#[derive(Debug, Deserialize)]
struct EventOrder {
    id: OrderId,
    number: i64,
    items: Vec<EventItem>,
    shipping: Money,
    discount: Money,
    total: Money,
    refunded_amount: Money,
    charge: Option<EventCharge>,
    paid_at: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct EventItem {
    retailer_id: String,
    name: String,
    unit_price: Money,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
struct EventCharge {
    pix_copia_e_cola: Option<String>,
    expires_at: String,
    pay_url: String,
}

struct Portuguese(bool);

impl Portuguese {
    fn pick(&self, pt: String, en: String) -> String {
        if self.0 { pt } else { en }
    }
}

pub fn on_event(conn: &mut AnyConnection, event: &Event) -> Result<(), NotifyError> {
    if event.event_type == EventType::PaymentFlagged {
        return late_pix(conn, event);
    }
    let for_customer = matches!(
        event.event_type,
        EventType::ChargeIssued
            | EventType::OrderPaid
            | EventType::OrderFulfilled
            | EventType::OrderExpired
            | EventType::OrderCancelled
            | EventType::OrderRefunded
    );
    if !for_customer {
        return Ok(());
    }
    let data: OrderData = serde_json::from_str(&event.data)?;
    if data.cancelled_by.as_deref() == Some("customer") {
        // They said `cancelar`; the chat's answer told them already.
        return Ok(());
    }
    let refunded = data.refund.map(|r| r.amount);
    let order = data.order;
    let row = crate::orders::repo::get(conn, event.shop_id, order.id).map_err(|_| diesel::result::Error::NotFound)?;
    let Some(customer_id) = row.customer_id else { return Ok(()) };
    let Some(customer) = customers::get(conn, event.shop_id, customer_id)? else { return Ok(()) };
    let shop = crate::shops::whatsapp::chat_shop(conn, event.shop_id).map_err(crate::chat::ChatError::from)?;
    let say = Portuguese(!shop.language.starts_with("en"));
    let message = match event.event_type {
        EventType::ChargeIssued => pix_code(conn, &shop, &say, &order, event.created_at)?,
        EventType::OrderPaid => status(&order, &say, "processing", paid_at(&order), |n| {
            say.pick(format!("Pagamento do pedido #{n} recebido. Obrigado!"), format!("Payment for order #{n} received. Thank you!"))
        }),
        EventType::OrderFulfilled => status(&order, &say, "shipped", None, |n| {
            say.pick(format!("Seu pedido #{n} saiu para entrega."), format!("Your order #{n} is on its way."))
        }),
        EventType::OrderCancelled => status(&order, &say, "canceled", None, |n| {
            say.pick(format!("O pedido #{n} foi cancelado."), format!("Order #{n} was cancelled."))
        }),
        // A Pix that came after the time to pay expired the order itself:
        // `payment.flagged` tells the customer of their money instead.
        EventType::OrderExpired if order.flags.iter().any(|f| f == "late_payment") => return Ok(()),
        EventType::OrderExpired => OutboundMessage::Text {
            body: say.pick(
                format!("O prazo para pagar o pedido #{} acabou e ele foi cancelado. Se ainda quiser, é só montar o carrinho de novo.", order.number),
                format!("The time to pay order #{} is up and it was cancelled. If you still want it, just build your cart again.", order.number),
            ),
        },
        EventType::OrderRefunded => {
            let amount = refunded.unwrap_or(order.refunded_amount).format_brl();
            OutboundMessage::Text {
                body: say.pick(
                    format!("Devolvemos {amount} do pedido #{} para a sua conta.", order.number),
                    format!("We returned {amount} of order #{} to your account.", order.number),
                ),
            }
        }
        _ => return Ok(()),
    };
    send(conn, &customer, &shop, message)
}

/// Interactive messages need a WhatsApp connection; the local chat shows text.
fn send(
    conn: &mut AnyConnection,
    customer: &Customer,
    shop: &ChatShop,
    message: OutboundMessage,
) -> Result<(), NotifyError> {
    let message = match (&shop.phone_number_id, message) {
        (None, OutboundMessage::OrderStatus { body, .. }) => OutboundMessage::Text { body },
        (_, message) => message,
    };
    delivery::enqueue(conn, customer, &message, false)?;
    Ok(())
}

fn paid_at(order: &EventOrder) -> Option<i64> {
    order.paid_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp())
}

/// `reference_id` ties the status to the order's `order_details`.
fn reference_id(order: &EventOrder) -> String {
    format!("order-{}", order.id.uuid().simple())
}

fn status(
    order: &EventOrder,
    _say: &Portuguese,
    status: &str,
    payment_captured_at: Option<i64>,
    body: impl Fn(i64) -> String,
) -> OutboundMessage {
    OutboundMessage::OrderStatus {
        body: body(order.number),
        reference_id: reference_id(order),
        status: status.to_owned(),
        description: None,
        payment_captured_at,
    }
}

fn pix_code(
    conn: &mut AnyConnection,
    shop: &ChatShop,
    say: &Portuguese,
    order: &EventOrder,
    issued_at: NaiveDateTime,
) -> Result<OutboundMessage, NotifyError> {
    let Some(charge) = &order.charge else { return Err(NotifyError::Data(serde::de::Error::custom("no charge"))) };
    let Some(code) = charge.pix_copia_e_cola.clone() else {
        return Err(NotifyError::Data(serde::de::Error::custom("the charge has no code")));
    };
    let expires_at = DateTime::parse_from_rfc3339(&charge.expires_at)
        .map(|t| t.naive_utc())
        .map_err(|e| NotifyError::Data(serde::de::Error::custom(e.to_string())))?;
    let n = order.number;
    let zone: String =
        crate::db::schema::shops::table.find(shop.id).select(crate::db::schema::shops::timezone).first(conn)?;
    let valid_until = super::render::ShopLocale::new("", &shop.language, &zone).datetime(expires_at);
    let text_body = say.pick(
        format!(
            "Pedido #{n}: {} via Pix.\n\nPix copia e cola:\n{code}\n\nOu pague pelo link (QR Code): {}\nVálido até {}.",
            order.total.format_brl(),
            charge.pay_url,
            valid_until
        ),
        format!(
            "Order #{n}: {} by Pix.\n\nPix copy and paste:\n{code}\n\nOr pay with the link (QR code): {}\nValid until {}.",
            order.total.format_brl(),
            charge.pay_url,
            valid_until
        ),
    );
    if shop.phone_number_id.is_none() {
        return Ok(OutboundMessage::Text { body: text_body });
    }
    let shop_row = crate::shops::get(conn, shop.id).map_err(crate::chat::ChatError::from)?;
    let key_type = match shop_row.pix.key_type.to_ascii_uppercase().as_str() {
        "CPF" => PixKeyType::Cpf,
        "CNPJ" => PixKeyType::Cnpj,
        "EMAIL" => PixKeyType::Email,
        "PHONE" => PixKeyType::Phone,
        _ => PixKeyType::Evp,
    };
    Ok(OutboundMessage::OrderDetails(OrderDetails {
        reference_id: reference_id(order),
        body: say.pick(format!("Pedido #{n} — pague com Pix."), format!("Order #{n} — pay with Pix.")),
        items: order
            .items
            .iter()
            .map(|i| DetailsLine {
                retailer_id: i.retailer_id.clone(),
                name: i.name.clone(),
                amount_cents: i.unit_price.cents(),
                quantity: i.quantity,
            })
            .collect(),
        tax_cents: 0,
        shipping_cents: order.shipping.cents(),
        discount_cents: order.discount.cents(),
        // Meta refuses an expiration less than 5 minutes ahead (a minute more
        // for the send itself); a shorter or late charge goes without it and
        // still expires on time.
        expiration: (expires_at - issued_at >= chrono::TimeDelta::seconds(360)).then(|| Expiration {
            timestamp: expires_at.and_utc().timestamp(),
            description: say.pick("O código Pix expira".into(), "The Pix code expires".into()),
        }),
        pix: PixSettings { code, merchant_name: shop_row.pix.merchant_name, key: shop_row.pix.key, key_type },
    }))
}

#[derive(Debug, Deserialize)]
struct PaymentData {
    payment: EventPayment,
}

#[derive(Debug, Deserialize)]
struct EventPayment {
    amount: Money,
    outcome: String,
    order_id: Option<OrderId>,
    order_number: Option<i64>,
}

/// A Pix that came after the order expired or was cancelled: the customer
/// paid and has no order, so they hear that the shop will give it back.
fn late_pix(conn: &mut AnyConnection, event: &Event) -> Result<(), NotifyError> {
    let data: PaymentData = serde_json::from_str(&event.data)?;
    let payment = data.payment;
    let (Some(order_id), Some(n), "late") = (payment.order_id, payment.order_number, payment.outcome.as_str()) else {
        return Ok(());
    };
    let row = crate::orders::repo::get(conn, event.shop_id, order_id).map_err(|_| diesel::result::Error::NotFound)?;
    let Some(customer_id) = row.customer_id else { return Ok(()) };
    let Some(customer) = customers::get(conn, event.shop_id, customer_id)? else { return Ok(()) };
    let shop = crate::shops::whatsapp::chat_shop(conn, event.shop_id).map_err(crate::chat::ChatError::from)?;
    let say = Portuguese(!shop.language.starts_with("en"));
    let amount = payment.amount.format_brl();
    let body = say.pick(
        format!("Recebemos o seu Pix de {amount} para o pedido #{n} depois do prazo para pagar, e o pedido já não está aberto. A loja foi avisada para devolver o valor."),
        format!("Your Pix of {amount} for order #{n} arrived after the time to pay, and the order is no longer open. The shop has been told to give the money back."),
    );
    send(conn, &customer, &shop, OutboundMessage::Text { body })
}
