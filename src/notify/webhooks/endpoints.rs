//! A shop's webhook endpoints: where, which events, and the signing secret,
//! sealed at rest and shown once, when made or rotated. After a rotation the
//! old secret signs beside the new one for 24 hours, so a receiver can move
//! to the new one without losing a delivery.

use super::EndpointError;
use crate::channels::webhooks::{WebhookError, WebhookSecret, check_url};
use crate::crypto::Keyring;
use crate::db::{AnyConnection, schema::webhook_endpoints};
use crate::events::EventType;
use crate::ids::{ShopId, WebhookEndpointId};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

/// How long the secret before a rotation keeps signing.
pub const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);
/// Endpoints per shop, at most.
pub const MAX_PER_SHOP: i64 = 20;
const MAX_URL_LENGTH: usize = 2048;

crate::text_enum! {
    /// Whether deliveries go to an endpoint.
    pub enum EndpointStatus {
        Enabled => "enabled",
        /// The receiver answered 410, or failed for 5 days: nothing is sent
        /// until a dead delivery to it is retried.
        Disabled => "disabled",
    }
}

/// An endpoint as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub shop_id: ShopId,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub throttled_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    pub fn event_types(&self) -> Vec<EventType> {
        self.events.split(' ').filter_map(|e| e.parse().ok()).collect()
    }

    pub fn subscribes_to(&self, event: EventType) -> bool {
        self.events.split(' ').any(|e| e == event.as_str())
    }

    /// The secrets that sign now: the current one, and the one before a
    /// rotation while its 24 hours last.
    pub fn live_secrets(&self, keyring: &Keyring, now: NaiveDateTime) -> Result<Vec<WebhookSecret>, EndpointError> {
        let mut secrets = vec![open_secret(keyring, self.shop_id, self.id, &self.secret)?];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(open_secret(keyring, self.shop_id, self.id, previous)?);
        }
        Ok(secrets)
    }
}

/// What the API shows of an endpoint; the secret only when just made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    #[schema(value_type = String, format = Uuid)]
    pub id: WebhookEndpointId,
    #[schema(example = "https://erp.example.com/hooks/chatshop")]
    pub url: String,
    pub events: Vec<EventType>,
    pub status: EndpointStatus,
    /// Why it was disabled (a 410, or 5 days of failures).
    pub disabled_reason: Option<String>,
    #[serde(with = "crate::clock::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<NaiveDateTime>,
    /// Until when the secret before the last rotation still signs beside the new one.
    #[serde(with = "crate::clock::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// `whsec_…`: shown once, when the endpoint is made or its secret rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<String>,
}

impl EndpointView {
    fn of(row: &EndpointRow, now: NaiveDateTime, secret: Option<&WebhookSecret>) -> EndpointView {
        EndpointView {
            id: row.id,
            url: row.url.clone(),
            events: row.event_types(),
            status: row.status,
            disabled_reason: row.disabled_reason.clone(),
            disabled_at: row.disabled_at,
            previous_secret_expires_at: row.previous_secret_expires_at.filter(|until| *until > now),
            created_at: row.created_at,
            secret: secret.map(WebhookSecret::expose),
        }
    }
}

/// A new endpoint as sent, checked: an allowed URL and public event types.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    url: String,
    events: Vec<EventType>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> EndpointError {
    EndpointError::Invalid { field, reason: reason.into() }
}

impl EndpointInput {
    pub fn parse(url: &str, events: &[String]) -> Result<EndpointInput, EndpointError> {
        let url = url.trim();
        if url.len() > MAX_URL_LENGTH {
            return Err(invalid("url", format!("at most {MAX_URL_LENGTH} characters")));
        }
        let checked = check_url(url).map_err(|e| match e {
            WebhookError::BadUrl(reason) => invalid("url", format!("not a URL: {reason}")),
            other => invalid("url", other.to_string()),
        })?;
        if events.is_empty() {
            return Err(invalid("events", "name at least one event type"));
        }
        let mut parsed: Vec<EventType> = Vec::new();
        for name in events {
            let event =
                name.parse::<EventType>().ok().filter(|e| e.is_public()).ok_or_else(|| {
                    invalid("events", format!("`{name}` is not an event type; use {}", public_list()))
                })?;
            if !parsed.contains(&event) {
                parsed.push(event);
            }
        }
        Ok(EndpointInput { url: checked.to_string(), events: parsed })
    }
}

fn public_list() -> String {
    EventType::ALL.iter().filter(|e| e.is_public()).map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
}

/// Each secret opens only for its endpoint (of its shop).
fn secret_context(shop: ShopId, endpoint: WebhookEndpointId) -> String {
    format!("webhook_endpoints.secret:{shop}:{endpoint}")
}

fn open_secret(
    keyring: &Keyring,
    shop: ShopId,
    endpoint: WebhookEndpointId,
    sealed: &str,
) -> Result<WebhookSecret, EndpointError> {
    let opened =
        keyring.open(sealed, &secret_context(shop, endpoint)).map_err(|e| EndpointError::Secret(e.to_string()))?;
    WebhookSecret::parse(opened.expose()).map_err(|e| EndpointError::Secret(e.to_string()))
}

#[derive(Insertable)]
#[diesel(table_name = webhook_endpoints)]
struct NewEndpoint<'a> {
    id: WebhookEndpointId,
    shop_id: ShopId,
    url: &'a str,
    events: &'a str,
    secret: &'a str,
    status: EndpointStatus,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Registers an endpoint with a fresh secret; the view carries the secret,
/// this once.
pub fn create(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    shop: ShopId,
    input: &EndpointInput,
    now: NaiveDateTime,
) -> Result<EndpointView, EndpointError> {
    let count: i64 = webhook_endpoints::table.filter(webhook_endpoints::shop_id.eq(shop)).count().get_result(conn)?;
    if count >= MAX_PER_SHOP {
        return Err(EndpointError::TooMany(MAX_PER_SHOP));
    }
    let id = WebhookEndpointId::new();
    let secret = WebhookSecret::generate();
    let sealed = keyring.seal(&secret.expose(), &secret_context(shop, id));
    let events = input.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ");
    diesel::insert_into(webhook_endpoints::table)
        .values(NewEndpoint {
            id,
            shop_id: shop,
            url: &input.url,
            events: &events,
            secret: &sealed,
            status: EndpointStatus::Enabled,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    let row = get(conn, shop, id)?;
    Ok(EndpointView::of(&row, now, Some(&secret)))
}

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: WebhookEndpointId) -> Result<EndpointRow, EndpointError> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::shop_id.eq(shop))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(EndpointError::NotFound)
}

/// One endpoint by id alone (a delivery job knows its endpoint, not who asks).
pub fn find(conn: &mut AnyConnection, id: WebhookEndpointId) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table.find(id).select(EndpointRow::as_select()).first(conn).optional()
}

/// The shop's endpoints, oldest first.
pub fn rows(conn: &mut AnyConnection, shop: ShopId) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::shop_id.eq(shop))
        .order(webhook_endpoints::id)
        .select(EndpointRow::as_select())
        .load(conn)
}

pub fn list(conn: &mut AnyConnection, shop: ShopId, now: NaiveDateTime) -> Result<Vec<EndpointView>, EndpointError> {
    Ok(rows(conn, shop)?.iter().map(|row| EndpointView::of(row, now, None)).collect())
}

/// Removes an endpoint and the deliveries to it still waiting (queued, or
/// dead): they have nowhere to go. One under way finds the endpoint gone.
pub fn delete(conn: &mut AnyConnection, shop: ShopId, id: WebhookEndpointId) -> Result<(), EndpointError> {
    crate::db::write_transaction(conn, |conn| {
        let deleted = diesel::delete(
            webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)).filter(webhook_endpoints::shop_id.eq(shop)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(EndpointError::NotFound);
        }
        use crate::jobs::JobKind as _;
        crate::jobs::delete_waiting(conn, shop, super::DeliverWebhook::KIND, &super::deliver::key_prefix(id))?;
        Ok(())
    })
}

/// A new secret; the current one becomes the previous, signing beside it
/// for 24 hours (one statement: concurrent rotations each keep a secret that
/// was shown). A previous one from an earlier rotation is dropped.
pub fn rotate_secret(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    shop: ShopId,
    id: WebhookEndpointId,
    now: NaiveDateTime,
) -> Result<EndpointView, EndpointError> {
    use webhook_endpoints::dsl as e;
    let secret = WebhookSecret::generate();
    let sealed = keyring.seal(&secret.expose(), &secret_context(shop, id));
    let rotated = diesel::update(e::webhook_endpoints.filter(e::id.eq(id)).filter(e::shop_id.eq(shop)))
        .set((
            e::previous_secret.eq(e::secret.nullable()),
            e::previous_secret_expires_at.eq(now + ROTATION_OVERLAP),
            e::secret.eq(&sealed),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    if rotated == 0 {
        return Err(EndpointError::NotFound);
    }
    let row = get(conn, shop, id)?;
    Ok(EndpointView::of(&row, now, Some(&secret)))
}

/// Re-seals what an older key sealed (`chatshop secrets rotate`); returns
/// how many values were written.
pub fn reseal(conn: &mut AnyConnection, keyring: &Keyring) -> Result<usize, EndpointError> {
    use webhook_endpoints::dsl as e;
    let mut written = 0;
    let stored: Vec<(WebhookEndpointId, ShopId, String, Option<String>)> =
        e::webhook_endpoints.select((e::id, e::shop_id, e::secret, e::previous_secret)).load(conn)?;
    for (id, shop, current, previous) in stored {
        let context = secret_context(shop, id);
        if !keyring.is_current(&current) {
            let plain = keyring.open(&current, &context).map_err(|e| EndpointError::Secret(e.to_string()))?;
            // Only if unchanged since read: a rotation meanwhile wins.
            written += diesel::update(e::webhook_endpoints.find(id))
                .filter(e::secret.eq(&current))
                .set(e::secret.eq(keyring.seal(plain.expose(), &context)))
                .execute(conn)?;
        }
        if let Some(previous) = previous.filter(|p| !keyring.is_current(p)) {
            let plain = keyring.open(&previous, &context).map_err(|e| EndpointError::Secret(e.to_string()))?;
            written += diesel::update(e::webhook_endpoints.find(id))
                .filter(e::previous_secret.eq(&previous))
                .set(e::previous_secret.eq(keyring.seal(plain.expose(), &context)))
                .execute(conn)?;
        }
    }
    Ok(written)
}
