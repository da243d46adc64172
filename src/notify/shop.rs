//! The shop is told: WhatsApp to its notification number and e-mail to its
//! notification address (issue #10), for what an owner acts on or must know:
//!
//! | event | to the shop? | why |
//! | --- | --- | --- |
//! | `order.paid` | yes | pack and ship it |
//! | `payment.flagged` | yes | money that did not settle an order: check it, maybe refund |
//! | `order.expired` | yes | stock is back; the shop may follow the customer up |
//! | `order.cancelled` by the customer | yes | the customer changed their mind in the chat |
//! | `order.cancelled` by the shop | no | staff did it themselves through the API |
//! | `refund.settled` | yes | the money left the account (or the PSP returned it on its own: MED) |
//! | `refund.failed` | yes | nothing went back: the owner must act, with the PSP's words |
//! | `order.created`, `order.fulfilled`, `payment.received`, `order.refunded` | no | the shop's own doing, or told already by the events above |

use super::NotifyError;
use super::render::{self, OrderData, PaymentData, RefundCustomer, RefundData, ShopLocale};
use crate::channels::email::{self, Email};
use crate::channels::whatsapp::OutboundMessage;
use crate::chat::delivery::{self, SendWhatsApp};
use crate::db::AnyConnection;
use crate::events::{Event, EventType};
use crate::jobs::{self, Schedule};
use serde::Deserialize;

/// `order.cancelled` says who did it; events written before it did were
/// the shop's (the chat's `cancelar` is newer than the API's cancel).
#[derive(Debug, Deserialize)]
struct CancelledData {
    #[serde(default)]
    cancelled_by: Option<String>,
}

/// Whether the shop hears of this event (the table above).
fn for_shop(event: &Event) -> Result<bool, NotifyError> {
    Ok(match event.event_type {
        EventType::OrderPaid
        | EventType::PaymentFlagged
        | EventType::OrderExpired
        | EventType::RefundSettled
        | EventType::RefundFailed => true,
        EventType::OrderCancelled => {
            let data: CancelledData = serde_json::from_str(&event.data)?;
            data.cancelled_by.as_deref() == Some("customer")
        }
        _ => false,
    })
}

pub fn on_event(conn: &mut AnyConnection, event: &Event) -> Result<(), NotifyError> {
    if !for_shop(event)? {
        return Ok(());
    }
    let shop = crate::shops::get(conn, event.shop_id)?;
    if shop.notify.email.is_none() && shop.notify.whatsapp.is_none() {
        return Ok(());
    }
    let settings = crate::shops::settings::get(conn, event.shop_id)?;
    let locale = ShopLocale::new(&shop.name, &shop.language, &settings.timezone);
    let context = context(conn, event, &locale)?;
    let message = render::render(event.event_type.as_str(), &locale, &context)?;
    if let Some(to) = &shop.notify.email {
        let mail = Email::new(to.to_string(), message.subject, message.text).html(message.html).from_name(shop.name);
        email::enqueue(conn, Some(event.shop_id), &mail)?;
    }
    if let Some(number) = &shop.notify.whatsapp {
        // The shop's number is a conversation like any other: the send job
        // applies its 24-hour window and template, in order with the rest.
        let job = SendWhatsApp {
            shop_id: event.shop_id,
            chat_message_id: None,
            to: number.to_string(),
            reply: false,
            message: OutboundMessage::Text { body: message.whatsapp },
        };
        let schedule =
            Schedule::for_shop(event.shop_id).ordered_by(delivery::ordering_key(event.shop_id, number.as_str()));
        jobs::enqueue(conn, &job, schedule)?;
    }
    Ok(())
}

/// What the event's template reads.
fn context(conn: &mut AnyConnection, event: &Event, locale: &ShopLocale) -> Result<serde_json::Value, NotifyError> {
    Ok(match event.event_type {
        EventType::OrderPaid => {
            let data: OrderData = serde_json::from_str(&event.data)?;
            render::order_context(locale, &data.order)
        }
        EventType::OrderExpired | EventType::OrderCancelled => {
            let data: OrderData = serde_json::from_str(&event.data)?;
            render::closed_order_context(locale, &data.order, event.created_at)
        }
        EventType::RefundSettled | EventType::RefundFailed => {
            let data: RefundData = serde_json::from_str(&event.data)?;
            // The refund names its order; whom it was for comes from there.
            let order = match data.refund.order_id {
                None => None,
                Some(id) => match crate::orders::repo::get(conn, event.shop_id, id) {
                    Ok(order) => Some(order),
                    Err(crate::orders::OrderError::Db(e)) => return Err(e.into()),
                    Err(_) => None,
                },
            };
            let customer = RefundCustomer {
                name: order.as_ref().and_then(|o| o.customer_name.as_deref()),
                whatsapp: order.as_ref().and_then(|o| o.customer_whatsapp.as_deref()),
            };
            render::refund_context(locale, &data.refund, customer, event.created_at)
        }
        _ => {
            let data: PaymentData = serde_json::from_str(&event.data)?;
            render::payment_context(locale, &data.payment)
        }
    })
}
