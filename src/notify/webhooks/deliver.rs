//! Delivering one event to one endpoint: the `webhook.deliver` job.
//!
//! The body is built from the stored event, so it is the same bytes on every
//! attempt and in every process; `webhook-id` is the event's id, so a
//! receiver can drop a repeat. Each attempt gets a fresh timestamp and is
//! signed with every live secret. What the endpoint answers also moves the
//! endpoint: a success ends a spell of failures, 410 or 5 days of failures
//! disable it (and the owner is told by e-mail), 429/502/504 make every
//! delivery to it wait.

use super::endpoints::{self, EndpointRow, EndpointStatus};
use crate::channels::email::{self, Email};
use crate::channels::webhooks::sender::{self, Answer, Signed, WebhookSender};
use crate::channels::webhooks::signature_header;
use crate::crypto::Keyring;
use crate::db::{AnyConnection, schema::webhook_endpoints};
use crate::events::{self, Event, EventType};
use crate::ids::{EventId, ShopId, WebhookEndpointId};
use crate::jobs::{self, Job, JobKind, JobRun, Outcome, RetryPolicy, Schedule};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An endpoint that has failed this long without a success is disabled.
pub const FAILING_LIMIT: TimeDelta = TimeDelta::days(5);

/// What delivering webhooks needs from the running service.
pub trait WebhookDeps: Send + Sync + 'static {
    fn webhook_sender(&self) -> &WebhookSender;
    /// Opens the endpoints' sealed secrets.
    fn secrets(&self) -> &Keyring;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    /// Kept for listing deliveries without reading the event.
    pub event_type: EventType,
}

impl JobKind for DeliverWebhook {
    const KIND: &'static str = "webhook.deliver";
}

/// The dedupe keys of an endpoint's deliveries start with this.
pub fn key_prefix(endpoint: WebhookEndpointId) -> String {
    format!("webhook:{endpoint}:")
}

/// One delivery per event and endpoint, ever: a replayed fan-out adds none.
fn dedupe_key(endpoint: WebhookEndpointId, event: EventId) -> String {
    format!("{}{event}", key_prefix(endpoint))
}

/// Queues a delivery of the event to each enabled endpoint of its shop that
/// subscribed to its type, in the fan-out's transaction.
pub fn on_event(conn: &mut AnyConnection, event: &Event) -> Result<(), jobs::JobError> {
    if !event.event_type.is_public() {
        return Ok(());
    }
    let subscribed = endpoints::rows(conn, event.shop_id)?
        .into_iter()
        .filter(|e| e.status == EndpointStatus::Enabled && e.subscribes_to(event.event_type));
    for endpoint in subscribed {
        let job = DeliverWebhook { endpoint_id: endpoint.id, event_id: event.id, event_type: event.event_type };
        jobs::enqueue(conn, &job, Schedule::for_shop(event.shop_id).dedupe(dedupe_key(endpoint.id, event.id)))?;
    }
    Ok(())
}

/// The body: `{"id","type","created_at","data"}`, `data` the event's stored
/// JSON as it is (the order, payment or refund as the API shows it).
pub fn body(event: &Event) -> String {
    let text = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    format!(
        r#"{{"id":{},"type":{},"created_at":{},"data":{}}}"#,
        text(&event.id.to_string()),
        text(event.event_type.as_str()),
        text(&crate::clock::rfc3339::format(&event.created_at)),
        event.data
    )
}

/// What one run found before sending.
enum Loaded {
    /// The hold was lost: send nothing.
    Lost,
    /// The endpoint was deleted: nothing to deliver.
    NoEndpoint,
    NoEvent,
    Ready(Box<(EndpointRow, Event)>),
}

/// Renews the hold just before sending, so the lease covers this send, then
/// loads the endpoint and the event.
fn load(job: &DeliverWebhook, run: &JobRun) -> Result<Loaded, String> {
    let mut conn = run.pool().get().map_err(|e| e.to_string())?;
    let renewed = jobs::renew(&mut conn, run.id, &run.claim_token, run.now() + run.lease).map_err(|e| e.to_string())?;
    if !renewed {
        return Ok(Loaded::Lost);
    }
    let Some(endpoint) = endpoints::find(&mut conn, job.endpoint_id).map_err(|e| e.to_string())? else {
        return Ok(Loaded::NoEndpoint);
    };
    match events::find(&mut conn, job.event_id).map_err(|e| e.to_string())? {
        None => Ok(Loaded::NoEvent),
        Some(event) => Ok(Loaded::Ready(Box::new((endpoint, event)))),
    }
}

impl<C: WebhookDeps> Job<C> for DeliverWebhook {
    /// The runner's bound; the waits are the sender's schedule (about 3 days).
    const RETRY: RetryPolicy =
        RetryPolicy { max_attempts: sender::MAX_ATTEMPTS, base: TimeDelta::seconds(5), cap: TimeDelta::hours(24) };

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let loaded = {
            let (job, run) = (self.clone(), run.clone());
            tokio::task::spawn_blocking(move || load(&job, &run)).await.map_err(|e| e.to_string()).and_then(|r| r)
        };
        let (endpoint, event) = match loaded {
            Err(error) => return Outcome::retry_after(sender::retry_delay(run.attempt), error),
            Ok(Loaded::Lost) => return Outcome::lost(),
            Ok(Loaded::NoEndpoint) => return Outcome::done(),
            Ok(Loaded::NoEvent) => return Outcome::dead("the event is gone"),
            Ok(Loaded::Ready(found)) => *found,
        };
        let now = run.now();
        if endpoint.status == EndpointStatus::Disabled {
            let reason = endpoint.disabled_reason.as_deref().unwrap_or("disabled");
            return Outcome::dead(format!("the endpoint is disabled: {reason}"));
        }
        if let Some(until) = endpoint.throttled_until.filter(|until| *until > now) {
            return Outcome::postpone(until - now, "the endpoint asked to slow down");
        }
        let secrets = match endpoint.live_secrets(context.secrets(), now) {
            Ok(secrets) => secrets,
            // Sealed with a key this process lacks: no retry helps.
            Err(error) => return Outcome::dead(error.to_string()),
        };
        let body = body(&event);
        let id = event.id.to_string();
        let timestamp = now.and_utc().timestamp();
        let signature = signature_header(&secrets, &id, timestamp, body.as_bytes());
        let answer =
            context.webhook_sender().send(&endpoint.url, &Signed { id: &id, timestamp, signature, body: &body }).await;
        after(answer, endpoint.id, run.attempt, now)
    }
}

/// The job's outcome and what the answer does to the endpoint, committed
/// together.
fn after(answer: Answer, endpoint: WebhookEndpointId, attempt: i32, now: NaiveDateTime) -> Outcome {
    match answer {
        Answer::Delivered { .. } => Outcome::done().with(move |conn| succeeded(conn, endpoint)),
        Answer::Gone => Outcome::dead("the endpoint answered 410 Gone; it is disabled")
            .with(move |conn| disable(conn, endpoint, "the receiver answered 410 Gone", now, None)),
        Answer::SlowDown { status, rest } => {
            let wait = rest.max(sender::retry_delay(attempt));
            let until = now + rest;
            Outcome::retry_after(wait, format!("answered {status}: slowing down"))
                .with(move |conn| throttle(conn, endpoint, until))
                .with(move |conn| failed(conn, endpoint, now))
        }
        Answer::Failed { reason, retry_after } => {
            let wait = retry_after.unwrap_or_default().max(sender::retry_delay(attempt));
            Outcome::retry_after(wait, reason).with(move |conn| failed(conn, endpoint, now))
        }
        // Refused before connecting: trying again reaches the same address.
        Answer::Refused(refused) => {
            Outcome::dead(format!("refused, nothing sent: {refused}")).with(move |conn| failed(conn, endpoint, now))
        }
    }
}

/// A success ends the spell of failures (written only when there was one).
fn succeeded(conn: &mut AnyConnection, endpoint: WebhookEndpointId) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(endpoint))
        .filter(webhook_endpoints::failing_since.is_not_null())
        .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)
        .map(drop)
}

/// Slows every delivery to the endpoint until `until` (never shortening a
/// longer rest).
fn throttle(conn: &mut AnyConnection, endpoint: WebhookEndpointId, until: NaiveDateTime) -> QueryResult<()> {
    use webhook_endpoints::dsl as e;
    diesel::update(e::webhook_endpoints.find(endpoint))
        .filter(e::throttled_until.is_null().or(e::throttled_until.lt(until)))
        .set(e::throttled_until.eq(until))
        .execute(conn)
        .map(drop)
}

/// A failure starts a spell (if none is on); a spell of 5 days disables.
fn failed(conn: &mut AnyConnection, endpoint: WebhookEndpointId, now: NaiveDateTime) -> QueryResult<()> {
    use webhook_endpoints::dsl as e;
    diesel::update(e::webhook_endpoints.find(endpoint))
        .filter(e::failing_since.is_null())
        .set(e::failing_since.eq(now))
        .execute(conn)?;
    disable(conn, endpoint, "every delivery failed for 5 days", now, Some(now - FAILING_LIMIT))
}

/// Disables the endpoint if enabled (and, with `failing_before`, only if it
/// has been failing since then) and, when this call is the one that
/// disabled it, tells the owner: once per disabling, whichever process
/// gets there.
fn disable(
    conn: &mut AnyConnection,
    endpoint: WebhookEndpointId,
    reason: &str,
    now: NaiveDateTime,
    failing_before: Option<NaiveDateTime>,
) -> QueryResult<()> {
    use webhook_endpoints::dsl as e;
    let set = (
        e::status.eq(EndpointStatus::Disabled),
        e::disabled_reason.eq(reason),
        e::disabled_at.eq(now),
        e::updated_at.eq(now),
    );
    let enabled = e::webhook_endpoints.find(endpoint).filter(e::status.eq(EndpointStatus::Enabled));
    let disabled = match failing_before {
        None => diesel::update(enabled).set(set).execute(conn)?,
        Some(limit) => diesel::update(enabled.filter(e::failing_since.le(limit))).set(set).execute(conn)?,
    };
    if disabled == 1
        && let Some(row) = endpoints::find(conn, endpoint)?
    {
        tell_owner(conn, &row, reason)?;
    }
    Ok(())
}

/// The owner hears that an endpoint was disabled, at the shop's notification
/// address or else the owner's own.
fn tell_owner(conn: &mut AnyConnection, endpoint: &EndpointRow, reason: &str) -> QueryResult<()> {
    let Ok(shop) = crate::shops::get(conn, endpoint.shop_id) else { return Ok(()) };
    let to = match shop.notify.email {
        Some(to) => to.to_string(),
        None => match owner_email(conn, endpoint.shop_id)? {
            Some(to) => to,
            None => return Ok(()),
        },
    };
    let url = &endpoint.url;
    let email = if shop.language.starts_with("en") {
        Email::new(
            to,
            "A webhook endpoint was disabled",
            format!(
                "{} stopped sending webhooks to {url}: {reason}.\n\nDeliveries that could not be made are listed by GET /v1/deliveries?status=dead. Once the receiver works again, retry one with POST /v1/deliveries/{{id}}/retry: that enables the endpoint again.",
                shop.name
            ),
        )
    } else {
        let motivo = match reason {
            r if r.contains("410") => "o receptor respondeu 410 Gone".to_owned(),
            r if r.contains("5 days") => "todas as entregas falharam por 5 dias".to_owned(),
            other => other.to_owned(),
        };
        Email::new(
            to,
            "Um endpoint de webhook foi desativado",
            format!(
                "A {} parou de enviar webhooks para {url}: {motivo}.\n\nAs entregas que não puderam ser feitas estão em GET /v1/deliveries?status=dead. Quando o receptor voltar a funcionar, tente uma de novo com POST /v1/deliveries/{{id}}/retry: isso reativa o endpoint.",
                shop.name
            ),
        )
    };
    email::enqueue(conn, Some(endpoint.shop_id), &email.from_name(shop.name)).map_err(|e| match e {
        jobs::JobError::Db(e) => e,
        other => diesel::result::Error::SerializationError(Box::new(other)),
    })
}

fn owner_email(conn: &mut AnyConnection, shop: ShopId) -> QueryResult<Option<String>> {
    let users = crate::auth::users::list(conn, shop).map_err(|e| match e {
        crate::auth::AuthError::Db(crate::db::DbError::Query(e)) => e,
        other => diesel::result::Error::SerializationError(Box::new(std::io::Error::other(other.to_string()))),
    })?;
    Ok(users.into_iter().find(|u| u.role == crate::auth::Role::Owner).map(|u| u.email.to_string()))
}
