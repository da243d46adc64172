//! Delivers the outbox: claims due entries, sends them, and records the
//! outcome; retries with backoff what may succeed later.

use super::outbox::{self, OutboxEntry};
use crate::channels::email::{CHANNEL_EMAIL, Email, Mailer};
use crate::channels::whatsapp::graph::{GraphClient, GraphError};
use crate::channels::whatsapp::message::OutboundMessage;
use crate::chat::conversation;
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
/// Recording an outcome is retried this often: a sent message whose outcome
/// is lost would be sent again after its lease.
const RECORD_TRIES: u32 = 4;

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

/// Runs the worker, and runs it again should it ever stop on a bug.
pub fn spawn(pool: Pool, channels: Channels, wake: Wake) -> tokio::task::JoinHandle<()> {
    let channels = Arc::new(channels);
    tokio::spawn(async move {
        loop {
            let run = tokio::spawn(run(pool.clone(), channels.clone(), wake.clone()));
            if let Err(error) = run.await {
                tracing::error!(%error, "the outbox worker stopped; restarting it");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

async fn run(pool: Pool, channels: Arc<Channels>, wake: Wake) {
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
    /// Meta refused a free-form message: the window is closed; the next try
    /// handles it as such.
    RetryInClosedWindow,
    /// Held until the customer writes again; `tell_shop` when nothing re-opens
    /// the conversation (no template).
    Waiting {
        reason: String,
        tell_shop: bool,
    },
    Failed {
        error: String,
    },
}

/// What a WhatsApp delivery needs to know besides the message.
struct Context {
    shop: ChatShop,
    customer: Option<Customer>,
    /// Other replies to this customer already wait for the window.
    already_waiting: bool,
}

async fn deliver(pool: &Pool, channels: &Channels, entry: OutboxEntry) {
    let loaded = {
        let (pool, entry) = (pool.clone(), entry.clone());
        tokio::task::spawn_blocking(move || -> Result<Option<Context>, String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            // Renewed just before sending, so the lease covers this send only.
            if !outbox::renew(&mut conn, &entry).map_err(|e| e.to_string())? {
                return Ok(None);
            }
            let shop = whatsapp::chat_shop(&mut conn, entry.shop_id).map_err(|e| e.to_string())?;
            let customer = customers::find(&mut conn, shop.id, &entry.recipient).map_err(|e| e.to_string())?;
            let already_waiting =
                outbox::waiting_count(&mut conn, shop.id, &entry.recipient).map_err(|e| e.to_string())? > 0;
            Ok(Some(Context { shop, customer, already_waiting }))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
    };
    let settle = match loaded {
        Ok(None) => {
            tracing::info!(entry = %entry.id, "another worker took this entry over; not sending it");
            return;
        }
        Ok(Some(_)) if entry.channel == CHANNEL_EMAIL => send_email(channels, &entry).await,
        Ok(Some(context)) => send_whatsapp(&channels.graph, &context, &entry).await,
        Err(error) => Settle::Retry { after: backoff(entry.attempts), error },
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
        Err(error) if error.is_retryable() => {
            Settle::Retry { after: backoff(entry.attempts), error: error.to_string() }
        }
        Err(error) => Settle::Failed { error: error.to_string() },
    }
}

async fn send_whatsapp(graph: &GraphClient, context: &Context, entry: &OutboxEntry) -> Settle {
    let shop = &context.shop;
    let message: OutboundMessage = match serde_json::from_str(&entry.payload) {
        Ok(m) => m,
        Err(e) => return Settle::Failed { error: format!("unreadable outbox payload: {e}") },
    };
    let (Some(phone_number_id), Some(token)) = (&shop.phone_number_id, &shop.access_token) else {
        // No WhatsApp connection: the local chat reads the stored message.
        return Settle::Sent { wa_message_id: None };
    };
    let window_open = context.customer.as_ref().is_some_and(|c| c.window_open(crate::db::now()));
    if !window_open {
        // Outside the window only a template may go: it asks the customer to
        // answer, and the reply itself waits for that answer.
        if context.already_waiting {
            return Settle::Waiting {
                reason: "24-hour window closed; held with the earlier replies".into(),
                tell_shop: false,
            };
        }
        let Some(template) = &shop.template else {
            return Settle::Waiting { reason: "24-hour window closed; no template configured".into(), tell_shop: true };
        };
        let template = OutboundMessage::Template {
            name: template.name.clone(),
            language: template.language.clone(),
            components: serde_json::json!([]),
        };
        return match template.to_graph_json(&entry.recipient) {
            Err(e) => Settle::Failed { error: format!("the shop's template is refused before sending: {e}") },
            Ok(body) => match graph.send(phone_number_id, token, &body).await {
                Ok(_) => Settle::Waiting {
                    reason: "24-hour window closed; template sent, the reply goes when the customer answers".into(),
                    tell_shop: false,
                },
                Err(error) => after_graph_error(error, entry),
            },
        };
    }
    let body = match message.to_graph_json(&entry.recipient) {
        Ok(body) => body,
        Err(e) => return Settle::Failed { error: format!("message refused before sending: {e}") },
    };
    match graph.send(phone_number_id, token, &body).await {
        Ok(sent) => Settle::Sent { wa_message_id: Some(sent.message_id) },
        // Our clock thought the window open; Meta knows better.
        Err(GraphError::WindowClosed) => Settle::RetryInClosedWindow,
        Err(error) => after_graph_error(error, entry),
    }
}

fn after_graph_error(error: GraphError, entry: &OutboxEntry) -> Settle {
    match error {
        GraphError::PairRateLimited => Settle::Retry { after: PAIR_PAUSE, error: error.to_string() },
        GraphError::RateLimited { retry_after: Some(after) } => Settle::Retry {
            after: chrono::TimeDelta::from_std(after).unwrap_or_else(|_| backoff(entry.attempts)),
            error: error.to_string(),
        },
        error if error.is_retryable() => Settle::Retry { after: backoff(entry.attempts), error: error.to_string() },
        error => Settle::Failed { error: error.to_string() },
    }
}

async fn record_outcome(pool: &Pool, entry: OutboxEntry, settle: Settle) {
    let pool = pool.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        let mut last_error = String::new();
        for attempt in 0..RECORD_TRIES {
            if attempt > 0 {
                std::thread::sleep(Duration::from_secs(1 << attempt));
            }
            match pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut c| record(&mut c, &entry, &settle).map_err(|e| e.to_string()))
            {
                Ok(()) => return Ok(()),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    })
    .await;
    if let Ok(Err(error)) | Err(error) = recorded.map_err(|e| e.to_string()) {
        tracing::error!(%error, "could not record a delivery outcome; the entry will be retried after its lease");
    }
}

fn record(conn: &mut AnyConnection, entry: &OutboxEntry, settle: &Settle) -> diesel::QueryResult<()> {
    let message = entry.chat_message_id;
    crate::db::write_transaction(conn, |conn| {
        let held = match settle {
            Settle::Sent { wa_message_id } => {
                let held = outbox::mark_sent(conn, entry)?;
                if let (true, Some(id)) = (held, message) {
                    let status = if wa_message_id.is_some() { "sent" } else { "local" };
                    conversation::set_outbound_state(conn, id, status, wa_message_id.as_deref(), None)?;
                }
                held
            }
            Settle::Retry { error, .. } if entry.attempts >= MAX_ATTEMPTS => fail(conn, entry, error)?,
            Settle::Retry { after, error } => outbox::retry_at(conn, entry, crate::db::now() + *after, error)?,
            Settle::RetryInClosedWindow => {
                close_window(conn, entry)?;
                outbox::retry_at(conn, entry, crate::db::now(), &GraphError::WindowClosed.to_string())?
            }
            Settle::Waiting { reason, tell_shop } => {
                let held = outbox::mark_waiting(conn, entry, reason)?;
                if held {
                    if let Some(id) = message {
                        conversation::set_outbound_state(conn, id, "waiting_window", None, Some(reason))?;
                    }
                    if *tell_shop {
                        tell_shop_a_reply_waits(conn, entry)?;
                    }
                    // The customer may have written while this was being sent:
                    // their message found nothing waiting yet, so release here.
                    let customer = customers::find(conn, entry.shop_id, &entry.recipient)?;
                    if customer.is_some_and(|c| c.window_open(crate::db::now())) {
                        outbox::release_waiting(conn, entry.shop_id, &entry.recipient)?;
                    }
                }
                held
            }
            Settle::Failed { error } => fail(conn, entry, error)?,
        };
        if !held {
            tracing::info!(entry = %entry.id, "the entry's lease ran out and another worker holds it; outcome dropped");
        }
        Ok(())
    })
}

fn fail(conn: &mut AnyConnection, entry: &OutboxEntry, error: &str) -> diesel::QueryResult<bool> {
    tracing::warn!(entry = %entry.id, %error, "outbox entry failed");
    let held = outbox::mark_failed(conn, entry, error)?;
    if let (true, Some(id)) = (held, entry.chat_message_id) {
        conversation::set_outbound_state(conn, id, "failed", None, Some(error))?;
    }
    Ok(held)
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
    // This entry is already marked waiting; any other means the shop was told.
    if outbox::waiting_count(conn, entry.shop_id, &entry.recipient)? > 1 {
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
