//! Deliveries as the owner sees them: every message the service sends on
//! the shop's behalf, by webhook, e-mail or WhatsApp, so that what could not
//! be delivered is in one list and can be sent again.
//!
//! A delivery is its send job, read through: the job already holds the
//! state (waiting, held, done, dead), the attempts, the last error and the
//! next run, and retrying is giving a dead job a new start. A table of its
//! own would repeat all of that and have to be kept in step with the job in
//! every transaction. The cost: delivered ones are shown as long as done jobs
//! are kept (30 days).

use super::EndpointError;
use super::deliver::DeliverWebhook;
use super::endpoints::{self, EndpointStatus};
use crate::channels::email::Email;
use crate::chat::delivery::SendWhatsApp;
use crate::db::{AnyConnection, schema::webhook_endpoints};
use crate::events::EventType;
use crate::ids::{EventId, JobId, ShopId, WebhookEndpointId};
use crate::jobs::{self, JobKind, JobRecord, JobStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

crate::text_enum! {
    /// How a message goes.
    pub enum Channel {
        Webhook => "webhook",
        Email => "email",
        Whatsapp => "whatsapp",
    }
}

crate::text_enum! {
    /// Where a delivery is.
    pub enum DeliveryStatus {
        /// Not yet delivered: waiting for its first attempt or a retry, or under way.
        Pending => "pending",
        /// Waiting on something outside (a WhatsApp window to open).
        Held => "held",
        Delivered => "delivered",
        /// Given up after its retries (or refused): `POST /v1/deliveries/{id}/retry` sends it again.
        Dead => "dead",
    }
}

impl DeliveryStatus {
    fn of(status: JobStatus) -> DeliveryStatus {
        match status {
            JobStatus::Queued | JobStatus::Running => DeliveryStatus::Pending,
            JobStatus::Held => DeliveryStatus::Held,
            JobStatus::Done => DeliveryStatus::Delivered,
            JobStatus::Dead => DeliveryStatus::Dead,
        }
    }

    fn job_statuses(self) -> &'static [JobStatus] {
        match self {
            DeliveryStatus::Pending => &[JobStatus::Queued, JobStatus::Running],
            DeliveryStatus::Held => &[JobStatus::Held],
            DeliveryStatus::Delivered => &[JobStatus::Done],
            DeliveryStatus::Dead => &[JobStatus::Dead],
        }
    }
}

fn channel_of(kind: &str) -> Option<Channel> {
    match kind {
        DeliverWebhook::KIND => Some(Channel::Webhook),
        Email::KIND => Some(Channel::Email),
        SendWhatsApp::KIND => Some(Channel::Whatsapp),
        _ => None,
    }
}

const KINDS: [&str; 3] = [DeliverWebhook::KIND, Email::KIND, SendWhatsApp::KIND];

/// One delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    #[schema(value_type = String, format = Uuid)]
    pub id: JobId,
    pub channel: Channel,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries waiting for a retry).
    #[serde(with = "crate::clock::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The endpoint's URL, the e-mail address or the WhatsApp number.
    pub to: Option<String>,
    /// Webhooks: the event and the endpoint.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub event_id: Option<EventId>,
    pub event_type: Option<EventType>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub endpoint_id: Option<WebhookEndpointId>,
    /// E-mails: the subject.
    pub subject: Option<String>,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl Delivery {
    /// None for jobs that are not deliveries.
    fn of(job: &JobRecord, urls: &HashMap<WebhookEndpointId, String>) -> Option<Delivery> {
        let channel = channel_of(&job.kind)?;
        let mut delivery = Delivery {
            id: job.id,
            channel,
            status: DeliveryStatus::of(job.status),
            attempts: job.attempts,
            last_error: job.last_error.clone(),
            next_attempt_at: job.run_at.filter(|_| job.status == JobStatus::Queued),
            to: None,
            event_id: None,
            event_type: None,
            endpoint_id: None,
            subject: None,
            created_at: job.created_at,
            updated_at: job.updated_at,
        };
        // An unreadable payload still shows as a delivery, without details.
        match channel {
            Channel::Webhook => {
                if let Ok(job) = serde_json::from_str::<DeliverWebhook>(&job.payload) {
                    delivery.to = urls.get(&job.endpoint_id).cloned();
                    delivery.event_id = Some(job.event_id);
                    delivery.event_type = Some(job.event_type);
                    delivery.endpoint_id = Some(job.endpoint_id);
                }
            }
            Channel::Email => {
                if let Ok(email) = serde_json::from_str::<Email>(&job.payload) {
                    delivery.to = Some(email.to);
                    delivery.subject = Some(email.subject);
                }
            }
            Channel::Whatsapp => {
                if let Ok(send) = serde_json::from_str::<SendWhatsApp>(&job.payload) {
                    delivery.to = Some(send.to);
                }
            }
        }
        Some(delivery)
    }
}

fn endpoint_urls(conn: &mut AnyConnection, shop: ShopId) -> QueryResult<HashMap<WebhookEndpointId, String>> {
    Ok(endpoints::rows(conn, shop)?.into_iter().map(|e| (e.id, e.url)).collect())
}

/// A page of the shop's deliveries, newest first, before the cursor.
pub fn list(
    conn: &mut AnyConnection,
    shop: ShopId,
    status: Option<DeliveryStatus>,
    before: Option<JobId>,
    limit: i64,
) -> Result<Vec<Delivery>, EndpointError> {
    let jobs = jobs::list_of_kinds(conn, shop, &KINDS, status.map(DeliveryStatus::job_statuses), before, limit)?;
    let urls = endpoint_urls(conn, shop)?;
    Ok(jobs.iter().filter_map(|job| Delivery::of(job, &urls)).collect())
}

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: JobId) -> Result<Delivery, EndpointError> {
    let job = jobs::get(conn, id)?.filter(|job| job.shop_id == Some(shop)).ok_or(EndpointError::NoSuchDelivery)?;
    let urls = endpoint_urls(conn, shop)?;
    Delivery::of(&job, &urls).ok_or(EndpointError::NoSuchDelivery)
}

/// Sends a dead delivery again, from its first attempt. For a webhook, the
/// owner retrying says the receiver is back: a disabled endpoint is enabled
/// again, its spell of failures and any rest forgotten.
pub fn retry(conn: &mut AnyConnection, shop: ShopId, id: JobId, now: NaiveDateTime) -> Result<Delivery, EndpointError> {
    crate::db::write_transaction(conn, |conn| {
        let job = jobs::get(conn, id)?.filter(|job| job.shop_id == Some(shop)).ok_or(EndpointError::NoSuchDelivery)?;
        let channel = channel_of(&job.kind).ok_or(EndpointError::NoSuchDelivery)?;
        if job.status != JobStatus::Dead {
            return Err(EndpointError::NotDead(DeliveryStatus::of(job.status)));
        }
        if channel == Channel::Webhook
            && let Ok(delivery) = serde_json::from_str::<DeliverWebhook>(&job.payload)
        {
            enable(conn, shop, delivery.endpoint_id, now)?;
        }
        // Conditional on still being dead: a concurrent retry queues it once.
        if !jobs::retry_dead(conn, Some(shop), id)? {
            return Err(EndpointError::NotDead(DeliveryStatus::Pending));
        }
        get(conn, shop, id)
    })
}

fn enable(conn: &mut AnyConnection, shop: ShopId, endpoint: WebhookEndpointId, now: NaiveDateTime) -> QueryResult<()> {
    use webhook_endpoints::dsl as e;
    diesel::update(e::webhook_endpoints.filter(e::id.eq(endpoint)).filter(e::shop_id.eq(shop)))
        .filter(e::status.eq(EndpointStatus::Disabled).or(e::failing_since.is_not_null()))
        .set((
            e::status.eq(EndpointStatus::Enabled),
            e::disabled_reason.eq(None::<String>),
            e::disabled_at.eq(None::<NaiveDateTime>),
            e::failing_since.eq(None::<NaiveDateTime>),
            e::throttled_until.eq(None::<NaiveDateTime>),
            e::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
