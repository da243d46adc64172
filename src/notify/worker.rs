//! Delivers the outbox: claims due entries, sends them, and records the
//! outcome; retries with backoff what may succeed later.

use super::email::{CHANNEL_EMAIL, Email, Mailer};
use super::outbox::{self, OutboxEntry};
use crate::chat::conversation;
use crate::chat::graph::{GraphClient, GraphError};
use crate::chat::message::OutboundMessage;
use crate::customers::{self, Customer};
use crate::db::{AnyConnection, Pool};
use crate::shops::whatsapp::{self, ChatShop};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// After this many attempts a message is given up on and marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
const BATCH: i64 = 20;
/// How often the worker looks for due entries when nobody wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Meta allows about one message every 6 s to the same user (131056).
const PAIR_PAUSE: chrono::TimeDelta = chrono::TimeDelta::seconds(6);

/// Wakes the worker as soon as a transaction has queued something.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

/// What the worker delivers with.
pub struct Channels {
    pub graph: GraphClient,
    pub mailer: Mailer,
    pub mail_from: String,
}

pub fn spawn(pool: Pool, channels: Channels, wake: Wake) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let claim_pool = pool.clone();
            let claimed = tokio::task::spawn_blocking(move || {
                let mut conn = claim_pool.get().map_err(|e| e.to_string())?;
                outbox::claim_due(&mut conn, BATCH).map_err(|e| e.to_string())
            })
            .await;
            match claimed {
                Ok(Ok(entries)) if !entries.is_empty() => {
                    for entry in entries {
                        deliver(&pool, &channels, entry).await;
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "outbox claim failed; retrying");
                    tokio::time::sleep(IDLE_POLL).await;
                }
                _ => {
                    tokio::select! {
                        _ = wake.0.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                    }
                }
            }
        }
    })
}

/// Exponential backoff: 2 s, 4 s, 8 s … capped at 15 minutes.
pub fn backoff(attempts: i32) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(2i64.saturating_pow(attempts.clamp(1, 20) as u32).min(900))
}

/// What to do with an entry after one try.
enum Settle {
    Sent {
        wa_message_id: Option<String>,
    },
    Retry {
        after: chrono::TimeDelta,
        error: String,
    },
    /// Meta refused a free-form message: the window is closed; try again as the template.
    RetryAsTemplate,
    Waiting {
        reason: String,
    },
    Failed {
        error: String,
    },
}

async fn deliver(pool: &Pool, channels: &Channels, entry: OutboxEntry) {
    if entry.channel == CHANNEL_EMAIL {
        let settle = send_email(channels, &entry).await;
        return record_outcome(pool, entry, settle).await;
    }
    let context = {
        let pool = pool.clone();
        let (shop, recipient) = (entry.shop_id, entry.recipient.clone());
        tokio::task::spawn_blocking(move || -> Result<(ChatShop, Option<Customer>), String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let shop = whatsapp::chat_shop(&mut conn, shop).map_err(|e| e.to_string())?;
            let customer = customers::find(&mut conn, shop.id, &recipient).map_err(|e| e.to_string())?;
            Ok((shop, customer))
        })
        .await
    };
    let settle = match context {
        Ok(Ok((shop, customer))) => attempt(&channels.graph, &shop, customer.as_ref(), &entry).await,
        Ok(Err(error)) => Settle::Retry { after: backoff(entry.attempts), error },
        Err(join) => Settle::Retry { after: backoff(entry.attempts), error: join.to_string() },
    };
    record_outcome(pool, entry, settle).await;
}

async fn send_email(channels: &Channels, entry: &OutboxEntry) -> Settle {
    let email: Email = match serde_json::from_str(&entry.payload) {
        Ok(email) => email,
        Err(e) => return Settle::Failed { error: format!("unreadable outbox payload: {e}") },
    };
    match channels.mailer.send(&channels.mail_from, &email).await {
        Ok(()) => Settle::Sent { wa_message_id: None },
        Err(error) if error.is_retryable() && entry.attempts < MAX_ATTEMPTS => {
            Settle::Retry { after: backoff(entry.attempts), error: error.to_string() }
        }
        Err(error) => Settle::Failed { error: error.to_string() },
    }
}

async fn record_outcome(pool: &Pool, entry: OutboxEntry, settle: Settle) {
    let pool = pool.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        record(&mut conn, &entry, settle).map_err(|e| e.to_string())
    })
    .await;
    if let Ok(Err(error)) | Err(error) = recorded.map_err(|e| e.to_string()) {
        tracing::error!(%error, "could not record a delivery outcome; the entry will be retried after its lease");
    }
}

async fn attempt(graph: &GraphClient, shop: &ChatShop, customer: Option<&Customer>, entry: &OutboxEntry) -> Settle {
    let message: OutboundMessage = match serde_json::from_str(&entry.payload) {
        Ok(m) => m,
        Err(e) => return Settle::Failed { error: format!("unreadable outbox payload: {e}") },
    };
    let (Some(phone_number_id), Some(token)) = (&shop.phone_number_id, &shop.access_token) else {
        // No WhatsApp connection: the local chat reads the stored message.
        return Settle::Sent { wa_message_id: None };
    };
    let window_open = customer.is_some_and(|c| c.window_open(crate::db::now()));
    let message = match (window_open, &shop.template) {
        (true, _) => message,
        (false, Some(template)) => OutboundMessage::Template {
            name: template.name.clone(),
            language: template.language.clone(),
            components: serde_json::json!([]),
        },
        (false, None) => {
            tracing::warn!(shop = %shop.id, "message held: the customer's 24-hour window is closed and the shop has no template");
            return Settle::Waiting { reason: "24-hour window closed; no template configured".into() };
        }
    };
    let body = match message.to_graph_json(&entry.recipient) {
        Ok(body) => body,
        Err(e) => return Settle::Failed { error: format!("message refused before sending: {e}") },
    };
    match graph.send(phone_number_id, token, &body).await {
        Ok(sent) => Settle::Sent { wa_message_id: Some(sent.message_id) },
        Err(GraphError::WindowClosed)
            if shop.template.is_some() && !matches!(message, OutboundMessage::Template { .. }) =>
        {
            // Our clock thought the window open; Meta knows better. The next
            // attempt sees it closed and sends the template.
            Settle::RetryAsTemplate
        }
        Err(GraphError::WindowClosed) => Settle::Waiting { reason: GraphError::WindowClosed.to_string() },
        Err(error @ GraphError::PairRateLimited) if entry.attempts < MAX_ATTEMPTS => {
            Settle::Retry { after: PAIR_PAUSE, error: error.to_string() }
        }
        Err(GraphError::RateLimited { retry_after: Some(after) }) if entry.attempts < MAX_ATTEMPTS => Settle::Retry {
            after: chrono::TimeDelta::from_std(after).unwrap_or_else(|_| backoff(entry.attempts)),
            error: "rate limited by Meta".into(),
        },
        Err(error) if error.is_retryable() && entry.attempts < MAX_ATTEMPTS => {
            Settle::Retry { after: backoff(entry.attempts), error: error.to_string() }
        }
        Err(error) => Settle::Failed { error: error.to_string() },
    }
}

fn record(conn: &mut AnyConnection, entry: &OutboxEntry, settle: Settle) -> diesel::QueryResult<()> {
    let message = entry.chat_message_id;
    crate::db::write_transaction(conn, |conn| {
        match settle {
            Settle::Sent { wa_message_id } => {
                outbox::mark_sent(conn, entry.id)?;
                if let Some(id) = message {
                    let status = if wa_message_id.is_some() { "sent" } else { "local" };
                    conversation::set_outbound_state(conn, id, status, wa_message_id.as_deref(), None)?;
                }
            }
            Settle::Retry { after, error } => {
                outbox::retry_at(conn, entry.id, crate::db::now() + after, &error)?;
            }
            Settle::RetryAsTemplate => {
                close_window(conn, entry)?;
                outbox::retry_at(conn, entry.id, crate::db::now(), &GraphError::WindowClosed.to_string())?;
            }
            Settle::Waiting { reason } => {
                tell_shop_a_reply_waits(conn, entry)?;
                outbox::mark_waiting(conn, entry.id, &reason)?;
                if let Some(id) = message {
                    conversation::set_outbound_state(conn, id, "waiting_window", None, Some(&reason))?;
                }
                close_window(conn, entry)?;
            }
            Settle::Failed { error } => {
                tracing::warn!(entry = %entry.id, %error, "outbox entry failed");
                outbox::mark_failed(conn, entry.id, &error)?;
                if let Some(id) = message {
                    conversation::set_outbound_state(conn, id, "failed", None, Some(&error))?;
                }
            }
        }
        Ok(())
    })
}

fn close_window(conn: &mut AnyConnection, entry: &OutboxEntry) -> diesel::QueryResult<()> {
    match customers::find(conn, entry.shop_id, &entry.recipient)? {
        Some(customer) => customers::mark_window_closed(conn, entry.shop_id, customer.id),
        None => Ok(()),
    }
}

/// The first reply held for a customer tells the shop by e-mail, once per
/// spell of waiting, so it can configure a template or reach out itself.
fn tell_shop_a_reply_waits(conn: &mut AnyConnection, entry: &OutboxEntry) -> diesel::QueryResult<()> {
    if outbox::waiting_count(conn, entry.shop_id, &entry.recipient)? > 0 {
        return Ok(());
    }
    let Ok(shop) = crate::shops::get(conn, entry.shop_id) else { return Ok(()) };
    let Some(to) = shop.notify.email else { return Ok(()) };
    let customer = customers::find(conn, entry.shop_id, &entry.recipient)?;
    let who = match customer.and_then(|c| c.profile_name) {
        Some(name) => format!("{name} (+{})", entry.recipient),
        None => format!("+{}", entry.recipient),
    };
    let english = shop.language.starts_with("en");
    let email = if english {
        Email {
            to: to.to_string(),
            subject: format!("A reply to {who} is waiting"),
            text: format!(
                "Your WhatsApp reply to {who} could not be sent: more than 24 hours have passed since the customer's last message, and {} has no approved WhatsApp template set.\n\nIt will go out when the customer writes again. To reach customers outside the 24-hour window, set a template with PUT /v1/shop/whatsapp.",
                shop.name
            ),
        }
    } else {
        Email {
            to: to.to_string(),
            subject: format!("Resposta para {who} está esperando"),
            text: format!(
                "A resposta no WhatsApp para {who} não pôde ser enviada: passaram-se mais de 24 horas desde a última mensagem do cliente, e a {} não tem um template aprovado do WhatsApp configurado.\n\nEla será enviada quando o cliente escrever de novo. Para falar com clientes fora da janela de 24 horas, configure um template em PUT /v1/shop/whatsapp.",
                shop.name
            ),
        }
    };
    let payload = serde_json::to_string(&email).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    outbox::enqueue(conn, entry.shop_id, CHANNEL_EMAIL, None, &email.to, &payload).map(drop)
}
