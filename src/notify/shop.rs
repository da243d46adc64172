//! The shop is told: WhatsApp to its notification number and e-mail to its
//! notification address (issue #10), for what an owner acts on: a paid order
//! (pack it) and a flagged payment (check it, maybe refund).

use super::NotifyError;
use super::render::{self, OrderData, PaymentData, ShopLocale};
use crate::channels::email::{self, Email};
use crate::channels::whatsapp::OutboundMessage;
use crate::chat::delivery::{self, SendWhatsApp};
use crate::db::AnyConnection;
use crate::events::{Event, EventType};
use crate::jobs::{self, Schedule};

pub fn on_event(conn: &mut AnyConnection, event: &Event) -> Result<(), NotifyError> {
    if !matches!(event.event_type, EventType::OrderPaid | EventType::PaymentFlagged) {
        return Ok(());
    }
    let shop = crate::shops::get(conn, event.shop_id)?;
    if shop.notify.email.is_none() && shop.notify.whatsapp.is_none() {
        return Ok(());
    }
    let settings = crate::shops::settings::get(conn, event.shop_id)?;
    let locale = ShopLocale::new(&shop.name, &shop.language, &settings.timezone);
    let context = match event.event_type {
        EventType::OrderPaid => {
            let data: OrderData = serde_json::from_str(&event.data)?;
            render::order_context(&locale, &data.order)
        }
        _ => {
            let data: PaymentData = serde_json::from_str(&event.data)?;
            render::payment_context(&locale, &data.payment)
        }
    };
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
