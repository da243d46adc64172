//! A shop's customers as WhatsApp knows them (`wa_id`), with what the chat
//! needs: the last inbound time (the 24-hour window) and their opt-out.

use crate::db::{AnyConnection, schema::customers};
use crate::shops::ShopId;
use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

pub use crate::ids::CustomerId;

/// Meta allows free-form messages only this long after the customer's last message.
pub const SERVICE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub shop_id: ShopId,
    pub wa_id: String,
    pub profile_name: Option<String>,
    pub last_inbound_at: Option<chrono::NaiveDateTime>,
    pub window_closed: bool,
    pub opted_out: bool,
}

impl Customer {
    /// Whether a free-form message may be sent now.
    pub fn window_open(&self, now: chrono::NaiveDateTime) -> bool {
        !self.window_closed && self.last_inbound_at.is_some_and(|last| now - last < SERVICE_WINDOW)
    }
}

type CustomerRow = (String, String, String, Option<String>, Option<chrono::NaiveDateTime>, bool, bool);

fn from_row(row: CustomerRow) -> Result<Customer, diesel::result::Error> {
    let (id, shop_id, wa_id, profile_name, last_inbound_at, window_closed, opted_out) = row;
    let corrupt = || diesel::result::Error::DeserializationError("stored customer has an invalid id".into());
    Ok(Customer {
        id: id.parse().map_err(|_| corrupt())?,
        shop_id: shop_id.parse().map_err(|_| corrupt())?,
        wa_id,
        profile_name,
        last_inbound_at,
        window_closed,
        opted_out,
    })
}

macro_rules! customer_columns {
    () => {
        (
            customers::id,
            customers::shop_id,
            customers::wa_id,
            customers::profile_name,
            customers::last_inbound_at,
            customers::window_closed,
            customers::opted_out,
        )
    };
}

/// Records that the customer wrote at `at`: creates them on their first
/// message, and reopens the 24-hour window.
pub fn record_inbound(
    conn: &mut AnyConnection,
    shop: ShopId,
    wa_id: &str,
    profile_name: Option<&str>,
    at: chrono::NaiveDateTime,
) -> Result<Customer, diesel::result::Error> {
    let now = crate::db::now();
    let row = (
        customers::id.eq(Uuid::now_v7().to_string()),
        customers::shop_id.eq(shop.to_string()),
        customers::wa_id.eq(wa_id),
        customers::profile_name.eq(profile_name),
        customers::last_inbound_at.eq(Some(at)),
        customers::window_closed.eq(false),
        customers::opted_out.eq(false),
        customers::created_at.eq(now),
        customers::updated_at.eq(now),
    );
    crate::on_backend!(conn, |c| {
        diesel::insert_into(customers::table)
        .values(row.clone())
        .on_conflict((customers::shop_id, customers::wa_id))
        .do_update()
        .set((
            customers::profile_name.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "COALESCE(excluded.profile_name, customers.profile_name)"
            )),
            // A late re-delivery (Meta retries for 36 hours) must not move the
            // window back, nor reopen one Meta has said is closed.
            customers::window_closed.eq(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "CASE WHEN customers.last_inbound_at IS NULL OR excluded.last_inbound_at >= customers.last_inbound_at \
                 THEN excluded.window_closed ELSE customers.window_closed END",
            )),
            customers::last_inbound_at.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>>(
                "CASE WHEN customers.last_inbound_at IS NULL OR excluded.last_inbound_at >= customers.last_inbound_at \
                 THEN excluded.last_inbound_at ELSE customers.last_inbound_at END",
            )),
            customers::updated_at.eq(excluded(customers::updated_at)),
        ))
        .execute(c)
    })?;
    find(conn, shop, wa_id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut AnyConnection, shop: ShopId, wa_id: &str) -> Result<Option<Customer>, diesel::result::Error> {
    customers::table
        .filter(customers::shop_id.eq(shop.to_string()))
        .filter(customers::wa_id.eq(wa_id))
        .select(customer_columns!())
        .first::<CustomerRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

pub fn set_opted_out(conn: &mut AnyConnection, shop: ShopId, id: CustomerId, opted_out: bool) -> QueryResult<()> {
    diesel::update(customers::table)
        .filter(customers::shop_id.eq(shop.to_string()))
        .filter(customers::id.eq(id.to_string()))
        .set((customers::opted_out.eq(opted_out), customers::updated_at.eq(crate::db::now())))
        .execute(conn)
        .map(drop)
}

/// Meta said the window is closed (error 131047), whatever our clock thinks.
pub fn mark_window_closed(conn: &mut AnyConnection, shop: ShopId, id: CustomerId) -> QueryResult<()> {
    diesel::update(customers::table)
        .filter(customers::shop_id.eq(shop.to_string()))
        .filter(customers::id.eq(id.to_string()))
        .set((customers::window_closed.eq(true), customers::updated_at.eq(crate::db::now())))
        .execute(conn)
        .map(drop)
}
