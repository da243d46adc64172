//! The shop's messages, from template files (`templates/`, one per event,
//! language and part: `.txt` whose first line is the subject, `.html`,
//! `.wa.txt` for WhatsApp). Pure: event data and shop settings in, text out,
//! so the snapshot tests see exactly what a shop receives.

use crate::money::Money;
use chrono::{DateTime, NaiveDateTime};
use minijinja::Environment;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates![
    "order.paid.pt.txt",
    "order.paid.pt.html",
    "order.paid.pt.wa.txt",
    "order.paid.en.txt",
    "order.paid.en.html",
    "order.paid.en.wa.txt",
    "payment.flagged.pt.txt",
    "payment.flagged.pt.html",
    "payment.flagged.pt.wa.txt",
    "payment.flagged.en.txt",
    "payment.flagged.en.html",
    "payment.flagged.en.wa.txt",
    "order.expired.pt.txt",
    "order.expired.pt.html",
    "order.expired.pt.wa.txt",
    "order.expired.en.txt",
    "order.expired.en.html",
    "order.expired.en.wa.txt",
    "order.cancelled.pt.txt",
    "order.cancelled.pt.html",
    "order.cancelled.pt.wa.txt",
    "order.cancelled.en.txt",
    "order.cancelled.en.html",
    "order.cancelled.en.wa.txt",
    "refund.settled.pt.txt",
    "refund.settled.pt.html",
    "refund.settled.pt.wa.txt",
    "refund.settled.en.txt",
    "refund.settled.en.html",
    "refund.settled.en.wa.txt",
    "refund.failed.pt.txt",
    "refund.failed.pt.html",
    "refund.failed.pt.wa.txt",
    "refund.failed.en.txt",
    "refund.failed.en.html",
    "refund.failed.en.wa.txt",
    "summary.daily.pt.txt",
    "summary.daily.pt.html",
    "summary.daily.pt.wa.txt",
    "summary.daily.en.txt",
    "summary.daily.en.html",
    "summary.daily.en.wa.txt",
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        // `.html` names escape HTML (minijinja's default by extension).
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The files are compiled in; a broken one fails the tests below.
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "a notification template does not parse");
            }
        }
        env
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Pt,
    En,
}

impl Lang {
    pub fn of(language: &str) -> Lang {
        if language.starts_with("en") { Lang::En } else { Lang::Pt }
    }
    fn code(self) -> &'static str {
        match self {
            Lang::Pt => "pt",
            Lang::En => "en",
        }
    }
}

/// What a shop's settings decide about the wording.
pub struct ShopLocale {
    pub name: String,
    pub lang: Lang,
    pub timezone: chrono_tz::Tz,
}

impl ShopLocale {
    pub fn new(name: &str, language: &str, timezone: &str) -> ShopLocale {
        // Settings are checked when saved; an unknown zone reads as the default.
        let timezone = timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
        ShopLocale { name: name.to_owned(), lang: Lang::of(language), timezone }
    }

    /// `23/11/2026 às 14:05` or `2026-11-23 at 14:05`, in the shop's zone.
    pub fn datetime(&self, at: NaiveDateTime) -> String {
        let local = at.and_utc().with_timezone(&self.timezone);
        match self.lang {
            Lang::Pt => local.format("%d/%m/%Y às %H:%M").to_string(),
            Lang::En => local.format("%Y-%m-%d at %H:%M").to_string(),
        }
    }
}

/// One message in its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub whatsapp: String,
}

pub fn render(event: &str, locale: &ShopLocale, context: &impl Serialize) -> Result<Rendered, minijinja::Error> {
    let env = environment();
    let part = |suffix: &str| -> Result<String, minijinja::Error> {
        let name = format!("{event}.{}.{suffix}", locale.lang.code());
        env.get_template(&name)?
            .render(minijinja::context! { shop => &locale.name, ..minijinja::Value::from_serialize(context) })
    };
    let full_text = part("txt")?;
    let (subject, text) = full_text.split_once('\n').unwrap_or((full_text.as_str(), ""));
    Ok(Rendered {
        subject: subject.trim().to_owned(),
        text: text.trim_start().to_owned(),
        html: part("html")?,
        whatsapp: part("wa.txt")?.trim_end().to_owned(),
    })
}

/// The part of an order event's data the shop's messages use.
#[derive(Debug, Deserialize)]
pub struct OrderData {
    pub order: EventOrder,
}

#[derive(Debug, Deserialize)]
pub struct EventOrder {
    pub number: i64,
    pub customer: EventCustomer,
    pub items: Vec<EventItem>,
    pub total: Money,
    pub paid_at: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct EventCustomer {
    pub name: Option<String>,
    pub whatsapp: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EventItem {
    pub name: String,
    pub quantity: i64,
    pub amount: Money,
}

#[derive(Debug, Serialize)]
struct ItemContext {
    name: String,
    quantity: i64,
    amount: String,
}

/// The customer as the shop's messages name them: the first name only
/// (`Cliente` / `A customer` without one).
pub fn first_name(locale: &ShopLocale, name: Option<&str>) -> String {
    let first = name.and_then(|n| n.split_whitespace().next()).map(str::to_owned);
    first.unwrap_or_else(|| match locale.lang {
        Lang::Pt => "Cliente".into(),
        Lang::En => "A customer".into(),
    })
}

/// The order as the shop reads it: first name only, phone masked.
pub fn order_context(locale: &ShopLocale, order: &EventOrder) -> serde_json::Value {
    let customer = first_name(locale, order.customer.name.as_deref());
    let items: Vec<ItemContext> = order
        .items
        .iter()
        .map(|i| ItemContext { name: i.name.clone(), quantity: i.quantity, amount: i.amount.format_brl() })
        .collect();
    let at = order.paid_at.as_deref().unwrap_or(&order.created_at);
    serde_json::json!({ "order": {
        "number": order.number,
        "customer": customer,
        "phone": order.customer.whatsapp.as_deref().map(crate::contact::mask_phone),
        "items": items,
        "total": order.total.format_brl(),
        "paid_at": parse_time(at).map(|t| locale.datetime(t)).unwrap_or_else(|| at.to_owned()),
    }})
}

/// An order that closed unpaid (expired, cancelled): the order, when it
/// was placed, and when it closed (the event's time).
pub fn closed_order_context(locale: &ShopLocale, order: &EventOrder, closed_at: NaiveDateTime) -> serde_json::Value {
    let mut context = order_context(locale, order);
    let created = parse_time(&order.created_at).map(|t| locale.datetime(t)).unwrap_or_else(|| order.created_at.clone());
    context["order"]["created_at"] = created.into();
    context["order"]["closed_at"] = locale.datetime(closed_at).into();
    context["order"]["late_payment"] = order.flags.iter().any(|f| f == "late_payment").into();
    context
}

/// The part of a refund event's data the shop's messages use.
#[derive(Debug, Deserialize)]
pub struct RefundData {
    pub refund: EventRefund,
}

#[derive(Debug, Deserialize)]
pub struct EventRefund {
    pub id: String,
    pub end_to_end_id: String,
    pub order_id: Option<crate::ids::OrderId>,
    pub order_number: Option<i64>,
    pub amount: Money,
    pub reason: Option<String>,
    #[serde(default)]
    pub initiated_by: Option<String>,
    #[serde(default)]
    pub nature: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub settled_at: Option<String>,
}

/// Whom a refund's money went back to, as the shop may see them.
pub struct RefundCustomer<'a> {
    pub name: Option<&'a str>,
    pub whatsapp: Option<&'a str>,
}

pub fn refund_context(
    locale: &ShopLocale,
    refund: &EventRefund,
    customer: RefundCustomer<'_>,
    at: NaiveDateTime,
) -> serde_json::Value {
    let settled = refund.settled_at.as_deref().and_then(parse_time).unwrap_or(at);
    let by_psp = refund.initiated_by.as_deref() == Some("psp");
    serde_json::json!({ "refund": {
        "amount": refund.amount.format_brl(),
        "order_number": refund.order_number,
        "customer": refund.order_id.map(|_| first_name(locale, customer.name)),
        "phone": customer.whatsapp.map(crate::contact::mask_phone),
        "reason": refund.reason,
        "by_psp": by_psp,
        "nature": refund.nature.as_deref().filter(|_| by_psp),
        "error": refund.error,
        "at": locale.datetime(settled),
        "id": refund.id,
        "end_to_end_id": refund.end_to_end_id,
    }})
}

#[derive(Debug, Deserialize)]
pub struct PaymentData {
    pub payment: EventPayment,
}

#[derive(Debug, Deserialize)]
pub struct EventPayment {
    pub end_to_end_id: String,
    pub amount: Money,
    pub paid_at: String,
    pub outcome: String,
    pub order_number: Option<i64>,
}

pub fn payment_context(locale: &ShopLocale, payment: &EventPayment) -> serde_json::Value {
    let reason = match (locale.lang, payment.outcome.as_str()) {
        (Lang::Pt, "amount_mismatch") => "o valor não é o total do pedido",
        (Lang::Pt, "late") => "chegou depois que o pedido expirou ou foi cancelado",
        (Lang::Pt, "duplicate") => "o pedido já tinha sido pago",
        (Lang::Pt, _) => "não corresponde a nenhum pedido",
        (Lang::En, "amount_mismatch") => "the amount is not the order's total",
        (Lang::En, "late") => "it came after the order expired or was cancelled",
        (Lang::En, "duplicate") => "the order was already paid",
        (Lang::En, _) => "it matches no order",
    };
    serde_json::json!({ "payment": {
        "amount": payment.amount.format_brl(),
        "paid_at": parse_time(&payment.paid_at).map(|t| locale.datetime(t)).unwrap_or_else(|| payment.paid_at.clone()),
        "order_number": payment.order_number,
        "end_to_end_id": payment.end_to_end_id,
        "reason": reason,
    }})
}

fn parse_time(text: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.naive_utc())
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
