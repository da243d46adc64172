//! Inbound webhook parsing: one POST body (possibly many entries/changes/messages) into flat events.
//!
//! We walk a `serde_json::Value` by hand instead of deriving structs so that one odd message
//! (missing id, unknown type) can be skipped without losing the rest of Meta's batch.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Bodies larger than this are refused before parsing (Meta's batches are far smaller).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("malformed webhook body: {0}")]
    Malformed(String),
    #[error("webhook body exceeds {MAX_BODY_BYTES} bytes")]
    TooLarge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboundEvent {
    Message { phone_number_id: String, display_phone_number: Option<String>, contact: Contact, message: InboundMessage },
    Status { phone_number_id: String, status: DeliveryStatus },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub wa_id: String,
    pub profile_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub id: String,
    pub from: String,
    pub timestamp: i64,
    pub body: MessageBody,
    pub referred_product: Option<ReferredProduct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferredProduct {
    pub catalog_id: String,
    pub product_retailer_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageBody {
    Text(String),
    Order { catalog_id: String, note: Option<String>, items: Vec<OrderItem> },
    ButtonReply { id: String, title: String },
    ListReply { id: String, title: String, description: Option<String> },
    Unsupported { kind: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_retailer_id: String,
    pub quantity: i64,
    /// The customer's client's claim, in major units; never a price to charge.
    pub item_price: Option<Decimal>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub message_id: String,
    pub status: StatusKind,
    pub timestamp: i64,
    pub recipient_id: String,
    pub errors: Vec<GraphErrorInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphErrorInfo {
    pub code: i64,
    pub title: String,
}

/// Parses a webhook body. Individual malformed messages/statuses are skipped; a body that is not
/// a WhatsApp Business Account notification at all is an error.
pub fn parse(body: &[u8]) -> Result<Vec<InboundEvent>, WebhookError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WebhookError::TooLarge);
    }
    let root: Value = serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let root = root.as_object().ok_or_else(|| malformed("body is not a JSON object"))?;
    match root.get("object").and_then(Value::as_str) {
        Some("whatsapp_business_account") => {}
        Some(other) => return Err(malformed(&format!("unexpected object {other:?}"))),
        None => return Err(malformed("missing \"object\"")),
    }
    let entries = root.get("entry").and_then(Value::as_array).ok_or_else(|| malformed("missing \"entry\" array"))?;

    let mut events = Vec::new();
    for change in entries.iter().filter_map(|e| e.get("changes")?.as_array()).flatten() {
        if change.get("field").and_then(Value::as_str) != Some("messages") {
            continue;
        }
        if let Some(value) = change.get("value").and_then(Value::as_object) {
            parse_value(value, &mut events);
        }
    }
    Ok(events)
}

fn malformed(why: &str) -> WebhookError {
    WebhookError::Malformed(why.to_owned())
}

fn parse_value(value: &Map<String, Value>, events: &mut Vec<InboundEvent>) {
    let metadata = value.get("metadata");
    // Without the receiving number we cannot route a reply, so the whole change is unusable.
    let Some(phone_number_id) = metadata.and_then(|m| str_field(m, "phone_number_id")) else {
        return;
    };
    let display_phone_number = metadata.and_then(|m| str_field(m, "display_phone_number"));
    let contacts: &[Value] = value.get("contacts").and_then(Value::as_array).map_or(&[], Vec::as_slice);

    for raw in array(value, "messages") {
        if let Some(message) = parse_message(raw) {
            let contact = pick_contact(contacts, &message.from);
            events.push(InboundEvent::Message {
                phone_number_id: phone_number_id.clone(),
                display_phone_number: display_phone_number.clone(),
                contact,
                message,
            });
        }
    }
    for raw in array(value, "statuses") {
        if let Some(status) = parse_status(raw) {
            events.push(InboundEvent::Status { phone_number_id: phone_number_id.clone(), status });
        }
    }
}

fn array<'a>(value: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    value.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A string field; Meta sends ids as strings, but accept numbers too rather than drop the item.
fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
fn id_field(v: &Value, key: &str) -> Option<String> {
    str_field(v, key).filter(|s| !s.trim().is_empty())
}

/// Timestamps arrive as decimal strings ("1750096325"); tolerate numbers.
fn int_field(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Prefer the contact whose wa_id is the sender. A lone non-matching contact is still the sender
/// (Brazilian numbers may differ in the ninth digit); with several we cannot tell, so use `from`.
fn pick_contact(contacts: &[Value], from: &str) -> Contact {
    let matched = contacts.iter().find(|c| str_field(c, "wa_id").as_deref() == Some(from));
    let chosen = matched.or(if contacts.len() == 1 { contacts.first() } else { None });
    match chosen {
        Some(c) => Contact {
            wa_id: id_field(c, "wa_id").unwrap_or_else(|| from.to_owned()),
            profile_name: c.get("profile").and_then(|p| str_field(p, "name")),
        },
        None => Contact { wa_id: from.to_owned(), profile_name: None },
    }
}

fn parse_message(raw: &Value) -> Option<InboundMessage> {
    let id = id_field(raw, "id")?;
    let from = id_field(raw, "from")?;
    // Meta always sends a timestamp; if it is garbled, keep the message rather than lose an order.
    let timestamp = int_field(raw, "timestamp").unwrap_or(0);
    let kind = raw.get("type").and_then(Value::as_str).unwrap_or("unknown");
    let body = match kind {
        "text" => raw.get("text").and_then(|t| t.get("body")?.as_str()).map(|b| MessageBody::Text(b.to_owned())),
        "order" => raw.get("order").and_then(parse_order),
        "interactive" => raw.get("interactive").and_then(parse_interactive),
        // Quick-reply buttons on templates arrive as type "button" with payload/text.
        "button" => raw.get("button").and_then(|b| {
            Some(MessageBody::ButtonReply {
                id: id_field(b, "payload")?,
                title: str_field(b, "text").unwrap_or_default(),
            })
        }),
        _ => None,
    }
    .unwrap_or_else(|| MessageBody::Unsupported { kind: kind.to_owned() });
    let referred_product = raw.get("context").and_then(|c| c.get("referred_product")).and_then(|r| {
        Some(ReferredProduct {
            catalog_id: str_field(r, "catalog_id")?,
            product_retailer_id: str_field(r, "product_retailer_id")?,
        })
    });
    Some(InboundMessage { id, from, timestamp, body, referred_product })
}

/// An order with any unreadable item becomes Unsupported: a partial cart would be worse than none.
fn parse_order(order: &Value) -> Option<MessageBody> {
    let catalog_id = str_field(order, "catalog_id").unwrap_or_default();
    let note = str_field(order, "text").filter(|t| !t.trim().is_empty());
    let items = order
        .get("product_items")?
        .as_array()?
        .iter()
        .map(|item| {
            Some(OrderItem {
                product_retailer_id: id_field(item, "product_retailer_id")?,
                quantity: int_field(item, "quantity").filter(|q| *q > 0)?,
                item_price: item.get("item_price").and_then(decimal),
                currency: str_field(item, "currency"),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(MessageBody::Order { catalog_id, note, items })
}

fn parse_interactive(interactive: &Value) -> Option<MessageBody> {
    match interactive.get("type")?.as_str()? {
        "button_reply" => {
            let reply = interactive.get("button_reply")?;
            Some(MessageBody::ButtonReply {
                id: id_field(reply, "id")?,
                title: str_field(reply, "title").unwrap_or_default(),
            })
        }
        "list_reply" => {
            let reply = interactive.get("list_reply")?;
            Some(MessageBody::ListReply {
                id: id_field(reply, "id")?,
                title: str_field(reply, "title").unwrap_or_default(),
                description: str_field(reply, "description"),
            })
        }
        other => Some(MessageBody::Unsupported { kind: format!("interactive.{other}") }),
    }
}

/// Exact decimal from the JSON number's text (serde_json prints the shortest round-trip form),
/// never via f64 arithmetic. Strings are accepted too.
fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    if text.contains(['e', 'E']) { Decimal::from_scientific(&text).ok() } else { Decimal::from_str(&text).ok() }
}

fn parse_status(raw: &Value) -> Option<DeliveryStatus> {
    let message_id = id_field(raw, "id")?;
    let status = match raw.get("status")?.as_str()? {
        "sent" => StatusKind::Sent,
        "delivered" => StatusKind::Delivered,
        "read" => StatusKind::Read,
        "failed" => StatusKind::Failed,
        other => StatusKind::Other(other.to_owned()),
    };
    let errors = raw
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(GraphErrorInfo {
                code: int_field(e, "code")?,
                title: str_field(e, "title").or_else(|| str_field(e, "message")).unwrap_or_default(),
            })
        })
        .collect();
    Some(DeliveryStatus {
        message_id,
        status,
        timestamp: int_field(raw, "timestamp").unwrap_or(0),
        recipient_id: str_field(raw, "recipient_id").unwrap_or_default(),
        errors,
    })
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
