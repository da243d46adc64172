//! Sending a stored chat message to the customer: the `whatsapp.send` job.
//!
//! One customer's messages share an ordering key, so they go one at a time in
//! the order they were written, while other customers' go beside them. Inside
//! Meta's 24-hour window a message goes as is; outside it the shop's approved
//! template goes first and the message is held until the customer answers
//! (which releases it), and a customer who opted out gets nothing the
//! business starts, template included: only answers to their own messages.

use super::conversation::{self, OutboundState};
use crate::channels::email::{self, Email};
use crate::channels::whatsapp::{GraphClient, GraphError, OutboundMessage};
use crate::customers::{self, Customer};
use crate::db::AnyConnection;
use crate::ids::{ChatMessageId, ShopId};
use crate::jobs::{self, Job, JobKind, JobRun, Outcome, Schedule};
use crate::shops::whatsapp::{self as shop_whatsapp, ChatShop};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Meta allows about one message every 6 s to the same user (131056).
const PAIR_PAUSE: chrono::TimeDelta = chrono::TimeDelta::seconds(6);

/// What sending WhatsApp messages needs from the running service.
pub trait WhatsAppDeps: Send + Sync + 'static {
    fn graph(&self) -> &GraphClient;
    /// Opens the shop's sealed access token.
    fn keyring(&self) -> &crate::crypto::Keyring;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendWhatsApp {
    pub shop_id: ShopId,
    /// The stored message whose state this send updates.
    pub chat_message_id: Option<ChatMessageId>,
    /// The customer's WhatsApp id.
    pub to: String,
    /// An answer to the customer's own message, which may go even to a
    /// customer who opted out; false for what the business starts.
    pub reply: bool,
    pub message: OutboundMessage,
}

impl JobKind for SendWhatsApp {
    const KIND: &'static str = "whatsapp.send";
}

/// One customer's messages go one at a time, in order.
pub fn ordering_key(shop: ShopId, wa_id: &str) -> String {
    format!("whatsapp:{shop}:{wa_id}")
}

/// Stores a message to the customer and queues its sending, in the caller's
/// transaction.
pub fn enqueue(
    conn: &mut AnyConnection,
    customer: &Customer,
    message: &OutboundMessage,
    reply: bool,
) -> Result<ChatMessageId, super::ChatError> {
    let payload = serde_json::to_string(message).map_err(|e| super::ChatError::Encoding(e.to_string()))?;
    let id = conversation::record_outbound(conn, customer, message, &payload)?;
    let job = SendWhatsApp {
        shop_id: customer.shop_id,
        chat_message_id: Some(id),
        to: customer.wa_id.clone(),
        reply,
        message: message.clone(),
    };
    let schedule = Schedule::for_shop(customer.shop_id).ordered_by(ordering_key(customer.shop_id, &customer.wa_id));
    jobs::enqueue(conn, &job, schedule).map_err(|e| match e {
        jobs::JobError::Db(e) => super::ChatError::from(e),
        other => super::ChatError::Encoding(other.to_string()),
    })?;
    Ok(id)
}

/// The customer wrote: what waited for the window goes out, in order.
pub fn release_held(conn: &mut AnyConnection, customer: &Customer) -> diesel::QueryResult<usize> {
    jobs::release_held(conn, &ordering_key(customer.shop_id, &customer.wa_id))
}

impl<C: WhatsAppDeps> Job<C> for SendWhatsApp {
    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let loaded = {
            let (job, run) = (self.clone(), run.clone());
            tokio::task::spawn_blocking(move || load(&job, &run)).await.map_err(|e| e.to_string()).and_then(|r| r)
        };
        match loaded {
            Err(error) => Outcome::retry(error),
            Ok(None) => Outcome::lost(),
            Ok(Some((shop, customer))) => match shop.access_token(context.keyring()) {
                Ok(token) => self.send(context.graph(), &run, &shop, token, customer.as_ref()).await,
                // The key that sealed it is not this process's: no retry helps.
                Err(error) => Outcome::dead(error.to_string()),
            },
        }
    }

    fn on_dead(&self, conn: &mut AnyConnection, error: &str) -> diesel::QueryResult<()> {
        match self.chat_message_id {
            Some(id) => conversation::set_outbound_state(conn, id, OutboundState::Failed(error)),
            None => Ok(()),
        }
    }
}

/// Renews the hold just before sending (so the lease covers this send
/// only), then loads the shop and the customer. None: the hold was lost.
fn load(job: &SendWhatsApp, run: &JobRun) -> Result<Option<(ChatShop, Option<Customer>)>, String> {
    let mut conn = run.pool().get().map_err(|e| e.to_string())?;
    let renewed = jobs::renew(&mut conn, run.id, &run.claim_token, run.now() + run.lease).map_err(|e| e.to_string())?;
    if !renewed {
        return Ok(None);
    }
    let shop = shop_whatsapp::chat_shop(&mut conn, job.shop_id).map_err(|e| e.to_string())?;
    let customer = customers::find(&mut conn, job.shop_id, &job.to).map_err(|e| e.to_string())?;
    Ok(Some((shop, customer)))
}

impl SendWhatsApp {
    async fn send(
        &self,
        graph: &GraphClient,
        run: &JobRun,
        shop: &ChatShop,
        token: Option<crate::crypto::Secret>,
        customer: Option<&Customer>,
    ) -> Outcome {
        let message_id = self.chat_message_id;
        let opted_out = customer.is_some_and(|c| c.opted_out);
        if opted_out && !self.reply {
            return Outcome::done().with(move |conn| set_state(conn, message_id, OutboundState::NotSentOptedOut));
        }
        let (Some(phone_number_id), Some(token)) = (&shop.phone_number_id, token.as_ref().map(|t| t.expose())) else {
            // No WhatsApp connection: the local chat reads the stored message.
            return Outcome::done().with(move |conn| set_state(conn, message_id, OutboundState::Local));
        };
        if !customer.is_some_and(|c| c.window_open(run.now())) {
            return self.outside_window(graph, shop, phone_number_id, token, opted_out, run.now()).await;
        }
        let body = match self.message.to_graph_json(&self.to) {
            Ok(body) => body,
            Err(e) => return Outcome::dead(format!("message refused before sending: {e}")),
        };
        match graph.send(phone_number_id, token, &body).await {
            Ok(sent) => Outcome::done()
                .with(move |conn| set_state(conn, message_id, OutboundState::Sent { wa_message_id: &sent.message_id })),
            // Our clock thought the window open; Meta knows better. The next
            // run handles it as closed.
            Err(GraphError::WindowClosed) => {
                let (shop_id, to) = (self.shop_id, self.to.clone());
                Outcome::retry_after(chrono::TimeDelta::zero(), GraphError::WindowClosed.to_string())
                    .with(move |conn| close_window(conn, shop_id, &to))
            }
            Err(error) => after_graph_error(error),
        }
    }

    /// Outside the window only a template may go: it asks the customer to
    /// answer, and the message itself waits for that answer.
    async fn outside_window(
        &self,
        graph: &GraphClient,
        shop: &ChatShop,
        phone_number_id: &str,
        token: &str,
        opted_out: bool,
        now: chrono::NaiveDateTime,
    ) -> Outcome {
        let template = match (&shop.template, opted_out) {
            // A template is the business starting a conversation.
            (_, true) => {
                return self.hold("24-hour window closed; the customer opted out of other messages", false, now);
            }
            (None, false) => return self.hold("24-hour window closed; no template configured", true, now),
            (Some(template), false) => template,
        };
        let template = OutboundMessage::Template {
            name: template.name.clone(),
            language: template.language.clone(),
            components: serde_json::json!([]),
        };
        let body = match template.to_graph_json(&self.to) {
            Ok(body) => body,
            Err(e) => return Outcome::dead(format!("the shop's template is refused before sending: {e}")),
        };
        match graph.send(phone_number_id, token, &body).await {
            Ok(_) => {
                self.hold("24-hour window closed; template sent, the reply goes when the customer answers", false, now)
            }
            Err(error) => after_graph_error(error),
        }
    }

    /// `now` is the run's clock, the one that found the window closed (the
    /// system's time could find it open and release this at once, forever).
    fn hold(&self, reason: &'static str, tell_shop: bool, now: chrono::NaiveDateTime) -> Outcome {
        let (message_id, shop_id, to) = (self.chat_message_id, self.shop_id, self.to.clone());
        Outcome::held(reason).with(move |conn| {
            set_state(conn, message_id, OutboundState::WaitingWindow(reason))?;
            if tell_shop {
                tell_shop_a_reply_waits(conn, shop_id, &to)?;
            }
            // The customer may have written while this was being sent: their
            // message found nothing held yet, so release here.
            if let Some(customer) = customers::find(conn, shop_id, &to)?
                && customer.window_open(now)
            {
                release_held(conn, &customer)?;
            }
            Ok(())
        })
    }
}

fn set_state(conn: &mut AnyConnection, id: Option<ChatMessageId>, state: OutboundState) -> diesel::QueryResult<()> {
    match id {
        Some(id) => conversation::set_outbound_state(conn, id, state),
        None => Ok(()),
    }
}

fn after_graph_error(error: GraphError) -> Outcome {
    match error {
        GraphError::PairRateLimited => Outcome::retry_after(PAIR_PAUSE, error.to_string()),
        GraphError::RateLimited { retry_after: Some(after) } => match chrono::TimeDelta::from_std(after) {
            Ok(after) => Outcome::retry_after(after, error.to_string()),
            Err(_) => Outcome::retry(error.to_string()),
        },
        error if error.is_retryable() => Outcome::retry(error.to_string()),
        error => Outcome::dead(error.to_string()),
    }
}

fn close_window(conn: &mut AnyConnection, shop: ShopId, wa_id: &str) -> diesel::QueryResult<()> {
    match customers::find(conn, shop, wa_id)? {
        Some(customer) => customers::mark_window_closed(conn, shop, customer.id),
        None => Ok(()),
    }
}

/// The first reply held without a template tells the shop by e-mail, so it
/// can set a template or reach out itself. Later replies queue behind the
/// held one and never get here while it waits: one mail per spell of waiting.
fn tell_shop_a_reply_waits(conn: &mut AnyConnection, shop_id: ShopId, wa_id: &str) -> diesel::QueryResult<()> {
    let Ok(shop) = crate::shops::get(conn, shop_id) else { return Ok(()) };
    let Some(to) = shop.notify.email else { return Ok(()) };
    let customer = customers::find(conn, shop_id, wa_id)?;
    // The mail may reach staff: the number is masked, the name is enough.
    let masked = crate::contact::mask_phone(wa_id);
    let who = match customer.and_then(|c| c.profile_name) {
        Some(name) => format!("{name} ({masked})"),
        None => masked,
    };
    let email = if shop.language.starts_with("en") {
        Email::new(
            to.to_string(),
            format!("A reply to {who} is waiting"),
            format!(
                "Your WhatsApp reply to {who} could not be sent: more than 24 hours have passed since the customer's last message, and {} has no approved WhatsApp template set.\n\nIt will go out when the customer writes again. To reach customers outside the 24-hour window, set a template with PUT /v1/shop/whatsapp.",
                shop.name
            ),
        )
    } else {
        Email::new(
            to.to_string(),
            format!("Resposta para {who} está esperando"),
            format!(
                "A resposta no WhatsApp para {who} não pôde ser enviada: passaram-se mais de 24 horas desde a última mensagem do cliente, e a {} não tem um template aprovado do WhatsApp configurado.\n\nEla será enviada quando o cliente escrever de novo. Para falar com clientes fora da janela de 24 horas, configure um template em PUT /v1/shop/whatsapp.",
                shop.name
            ),
        )
    };
    email::enqueue(conn, Some(shop_id), &email.from_name(shop.name.clone())).map_err(|e| match e {
        jobs::JobError::Db(e) => e,
        other => diesel::result::Error::SerializationError(Box::new(other)),
    })
}
