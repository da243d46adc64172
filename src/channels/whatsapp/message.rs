//! Outbound message bodies, rendered as the Graph API's JSON with Meta's limits enforced here
//! (a rejected send costs a round trip and, for orders, a confusing customer experience).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const MAX_TEXT_CHARS: usize = 4096;
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;
pub const MAX_HEADER_CHARS: usize = 60;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
pub const MAX_BUTTON_ID_CHARS: usize = 256;
pub const MAX_PRODUCTS: usize = 30;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_SECTION_TITLE_CHARS: usize = 24;
pub const MAX_REFERENCE_ID_CHARS: usize = 60;
/// BRL amounts are sent as integer centavos with this offset.
pub const BRL_OFFSET: i64 = 100;
pub const ORDER_STATUSES: &[&str] = &["pending", "processing", "partially_shipped", "shipped", "completed", "canceled"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is {len} characters, the limit is {max}")]
    TooLong { field: &'static str, len: usize, max: usize },
    #[error("{field} has {len} entries, the limit is {max}")]
    TooMany { field: &'static str, len: usize, max: usize },
    #[error("duplicate button id {0:?}")]
    DuplicateButtonId(String),
    #[error("reference_id must be 1..=60 characters of [A-Za-z0-9_.-]")]
    InvalidReferenceId,
    #[error("invalid amount: {0}")]
    InvalidAmount(&'static str),
    #[error("unknown order status {0:?}")]
    InvalidOrderStatus(String),
    #[error("template components must be a JSON array")]
    InvalidComponents,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboundMessage {
    Text {
        body: String,
    },
    Buttons {
        body: String,
        buttons: Vec<ReplyButton>,
    },
    ProductList {
        header: String,
        body: String,
        catalog_id: String,
        sections: Vec<ProductSection>,
    },
    OrderDetails(OrderDetails),
    OrderStatus {
        body: String,
        reference_id: String,
        status: String,
        description: Option<String>,
        payment_captured_at: Option<i64>,
    },
    Template {
        name: String,
        language: String,
        components: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSection {
    pub title: String,
    pub skus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetails {
    pub reference_id: String,
    pub body: String,
    pub items: Vec<OrderLine>,
    pub tax_cents: i64,
    pub shipping_cents: i64,
    pub discount_cents: i64,
    pub expiration: Option<Expiration>,
    pub pix: PixSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub retailer_id: String,
    pub name: String,
    /// Unit price in centavos.
    pub amount_cents: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    /// Unix seconds.
    pub timestamp: i64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixSettings {
    /// The BR Code ("Pix copia e cola").
    pub code: String,
    pub merchant_name: String,
    pub key: String,
    pub key_type: PixKeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PixKeyType {
    Cpf,
    Cnpj,
    Email,
    Phone,
    Evp,
}

impl PixKeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PixKeyType::Cpf => "CPF",
            PixKeyType::Cnpj => "CNPJ",
            PixKeyType::Email => "EMAIL",
            PixKeyType::Phone => "PHONE",
            PixKeyType::Evp => "EVP",
        }
    }
}

/// Subtotal and total in centavos, computed from the lines (never trusted from a caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTotals {
    pub subtotal_cents: i64,
    pub total_cents: i64,
}

impl OrderDetails {
    /// subtotal = Σ amount × quantity; total = subtotal + tax + shipping − discount.
    pub fn totals(&self) -> Result<OrderTotals, MessageError> {
        let overflow = MessageError::InvalidAmount("overflow");
        let mut subtotal: i64 = 0;
        for line in &self.items {
            if line.amount_cents < 0 {
                return Err(MessageError::InvalidAmount("negative item amount"));
            }
            if line.quantity < 1 {
                return Err(MessageError::InvalidAmount("item quantity must be at least 1"));
            }
            let line_total = line.amount_cents.checked_mul(line.quantity).ok_or(overflow.clone())?;
            subtotal = subtotal.checked_add(line_total).ok_or(overflow.clone())?;
        }
        if self.tax_cents < 0 || self.shipping_cents < 0 || self.discount_cents < 0 {
            return Err(MessageError::InvalidAmount("negative tax, shipping or discount"));
        }
        let total = subtotal
            .checked_add(self.tax_cents)
            .and_then(|t| t.checked_add(self.shipping_cents))
            .and_then(|t| t.checked_sub(self.discount_cents))
            .ok_or(overflow)?;
        // A Pix charge of zero or less cannot be paid.
        if total <= 0 {
            return Err(MessageError::InvalidAmount("total must be positive"));
        }
        Ok(OrderTotals { subtotal_cents: subtotal, total_cents: total })
    }
}

fn non_empty(field: &'static str, s: &str) -> Result<(), MessageError> {
    if s.trim().is_empty() { Err(MessageError::Empty { field }) } else { Ok(()) }
}

/// Non-empty and at most `max` characters (Meta counts characters, not bytes).
fn bounded(field: &'static str, s: &str, max: usize) -> Result<(), MessageError> {
    non_empty(field, s)?;
    let len = s.chars().count();
    if len > max { Err(MessageError::TooLong { field, len, max }) } else { Ok(()) }
}

fn at_most(field: &'static str, len: usize, max: usize) -> Result<(), MessageError> {
    if len == 0 {
        return Err(MessageError::Empty { field });
    }
    if len > max { Err(MessageError::TooMany { field, len, max }) } else { Ok(()) }
}

pub fn valid_reference_id(id: &str) -> bool {
    (1..=MAX_REFERENCE_ID_CHARS).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn money(cents: i64) -> Value {
    json!({"value": cents, "offset": BRL_OFFSET})
}

impl OutboundMessage {
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundMessage::Text { .. } => "text",
            OutboundMessage::Buttons { .. } => "buttons",
            OutboundMessage::ProductList { .. } => "product_list",
            OutboundMessage::OrderDetails(_) => "order_details",
            OutboundMessage::OrderStatus { .. } => "order_status",
            OutboundMessage::Template { .. } => "template",
        }
    }

    /// The full request body for `POST /{phone_number_id}/messages`.
    pub fn to_graph_json(&self, to: &str) -> Result<Value, MessageError> {
        non_empty("to", to)?;
        let (kind, content) = match self {
            OutboundMessage::Text { body } => {
                bounded("text body", body, MAX_TEXT_CHARS)?;
                ("text", json!({"preview_url": false, "body": body}))
            }
            OutboundMessage::Template { name, language, components } => {
                ("template", template(name, language, components)?)
            }
            other => ("interactive", other.interactive()?),
        };
        let mut message =
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind});
        message[kind] = content;
        Ok(message)
    }

    fn interactive(&self) -> Result<Value, MessageError> {
        match self {
            OutboundMessage::Buttons { body, buttons } => {
                bounded("body", body, MAX_INTERACTIVE_BODY_CHARS)?;
                at_most("buttons", buttons.len(), MAX_BUTTONS)?;
                for (i, button) in buttons.iter().enumerate() {
                    bounded("button id", &button.id, MAX_BUTTON_ID_CHARS)?;
                    bounded("button title", &button.title, MAX_BUTTON_TITLE_CHARS)?;
                    if buttons[..i].iter().any(|b| b.id == button.id) {
                        return Err(MessageError::DuplicateButtonId(button.id.clone()));
                    }
                }
                let buttons: Vec<Value> =
                    buttons.iter().map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}})).collect();
                Ok(json!({"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}))
            }
            OutboundMessage::ProductList { header, body, catalog_id, sections } => {
                bounded("header", header, MAX_HEADER_CHARS)?;
                bounded("body", body, MAX_INTERACTIVE_BODY_CHARS)?;
                non_empty("catalog_id", catalog_id)?;
                at_most("sections", sections.len(), MAX_SECTIONS)?;
                let total: usize = sections.iter().map(|s| s.skus.len()).sum();
                at_most("product items", total, MAX_PRODUCTS)?;
                let mut rendered = Vec::with_capacity(sections.len());
                for section in sections {
                    bounded("section title", &section.title, MAX_SECTION_TITLE_CHARS)?;
                    if section.skus.is_empty() {
                        return Err(MessageError::Empty { field: "section product items" });
                    }
                    let items: Vec<Value> = section
                        .skus
                        .iter()
                        .map(|sku| non_empty("product_retailer_id", sku).map(|()| json!({"product_retailer_id": sku})))
                        .collect::<Result<_, _>>()?;
                    rendered.push(json!({"title": section.title, "product_items": items}));
                }
                Ok(json!({
                    "type": "product_list",
                    "header": {"type": "text", "text": header},
                    "body": {"text": body},
                    "action": {"catalog_id": catalog_id, "sections": rendered}
                }))
            }
            OutboundMessage::OrderDetails(order) => order_details(order),
            OutboundMessage::OrderStatus { body, reference_id, status, description, payment_captured_at } => {
                bounded("body", body, MAX_INTERACTIVE_BODY_CHARS)?;
                if !valid_reference_id(reference_id) {
                    return Err(MessageError::InvalidReferenceId);
                }
                if !ORDER_STATUSES.contains(&status.as_str()) {
                    return Err(MessageError::InvalidOrderStatus(status.clone()));
                }
                let mut order = json!({"status": status});
                if let Some(description) = description.as_deref().filter(|d| !d.trim().is_empty()) {
                    order["description"] = json!(description);
                }
                let mut parameters = json!({"reference_id": reference_id, "order": order});
                if let Some(ts) = payment_captured_at {
                    parameters["payment"] = json!({"status": "captured", "timestamp": ts});
                }
                Ok(json!({
                    "type": "order_status",
                    "body": {"text": body},
                    "action": {"name": "review_order", "parameters": parameters}
                }))
            }
            // Text and Template are rendered by `to_graph_json`; reaching here is a programming slip.
            OutboundMessage::Text { .. } | OutboundMessage::Template { .. } => {
                Err(MessageError::Empty { field: "interactive" })
            }
        }
    }
}

fn template(name: &str, language: &str, components: &Value) -> Result<Value, MessageError> {
    non_empty("template name", name)?;
    non_empty("template language", language)?;
    let mut template = json!({"name": name, "language": {"code": language}});
    match components {
        Value::Null => {}
        Value::Array(list) if list.is_empty() => {}
        Value::Array(_) => template["components"] = components.clone(),
        _ => return Err(MessageError::InvalidComponents),
    }
    Ok(template)
}

fn order_details(order: &OrderDetails) -> Result<Value, MessageError> {
    bounded("body", &order.body, MAX_INTERACTIVE_BODY_CHARS)?;
    if !valid_reference_id(&order.reference_id) {
        return Err(MessageError::InvalidReferenceId);
    }
    if order.items.is_empty() {
        return Err(MessageError::Empty { field: "order items" });
    }
    for line in &order.items {
        non_empty("item retailer_id", &line.retailer_id)?;
        non_empty("item name", &line.name)?;
    }
    let pix = &order.pix;
    non_empty("pix code", &pix.code)?;
    non_empty("pix merchant_name", &pix.merchant_name)?;
    non_empty("pix key", &pix.key)?;
    let totals = order.totals()?;

    let items: Vec<Value> = order
        .items
        .iter()
        .map(|l| json!({"retailer_id": l.retailer_id, "name": l.name, "amount": money(l.amount_cents), "quantity": l.quantity}))
        .collect();
    let mut details = json!({
        "status": "pending",
        "items": items,
        "subtotal": money(totals.subtotal_cents),
        "tax": money(order.tax_cents),
        "shipping": money(order.shipping_cents),
        "discount": money(order.discount_cents),
    });
    if let Some(exp) = &order.expiration {
        non_empty("expiration description", &exp.description)?;
        // Meta wants the expiration timestamp as a string.
        details["expiration"] = json!({"timestamp": exp.timestamp.to_string(), "description": exp.description});
    }
    Ok(json!({
        "type": "order_details",
        "body": {"text": order.body},
        "action": {
            "name": "review_and_pay",
            "parameters": {
                "reference_id": order.reference_id,
                "type": "physical-goods",
                "payment_type": "br",
                "payment_settings": [{
                    "type": "pix_dynamic_code",
                    "pix_dynamic_code": {
                        "code": pix.code,
                        "merchant_name": pix.merchant_name,
                        "key": pix.key,
                        "key_type": pix.key_type.as_str(),
                    }
                }],
                "currency": "BRL",
                "total_amount": money(totals.total_cents),
                "order": details,
            }
        }
    }))
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
