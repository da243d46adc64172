//! A shop's customers as WhatsApp knows them (`wa_id`), with what the chat
//! needs: the last inbound time (the 24-hour window) and their opt-out.

use crate::db::{AnyConnection, schema::customers};
pub use crate::ids::CustomerId;
use crate::ids::ShopId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

/// Meta allows free-form messages only this long after the customer's last message.
pub const SERVICE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = customers)]
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

#[derive(Insertable)]
#[diesel(table_name = customers)]
struct NewCustomer<'a> {
    id: CustomerId,
    shop_id: ShopId,
    wa_id: &'a str,
    profile_name: Option<&'a str>,
    last_inbound_at: Option<NaiveDateTime>,
    window_closed: bool,
    opted_out: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
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
    let row = NewCustomer {
        id: CustomerId::new(),
        shop_id: shop,
        wa_id,
        profile_name,
        last_inbound_at: Some(at),
        window_closed: false,
        opted_out: false,
        created_at: now,
        updated_at: now,
    };
    crate::on_backend!(conn, |c| {
        diesel::insert_into(customers::table)
        .values(&row)
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
        .filter(customers::shop_id.eq(shop))
        .filter(customers::wa_id.eq(wa_id))
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

pub fn set_opted_out(conn: &mut AnyConnection, shop: ShopId, id: CustomerId, opted_out: bool) -> QueryResult<()> {
    diesel::update(customers::table)
        .filter(customers::shop_id.eq(shop))
        .filter(customers::id.eq(id))
        .set((customers::opted_out.eq(opted_out), customers::updated_at.eq(crate::db::now())))
        .execute(conn)
        .map(drop)
}

/// Meta said the window is closed (error 131047), whatever our clock thinks.
pub fn mark_window_closed(conn: &mut AnyConnection, shop: ShopId, id: CustomerId) -> QueryResult<()> {
    diesel::update(customers::table)
        .filter(customers::shop_id.eq(shop))
        .filter(customers::id.eq(id))
        .set((customers::window_closed.eq(true), customers::updated_at.eq(crate::db::now())))
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: CustomerId) -> Result<Option<Customer>, diesel::result::Error> {
    customers::table
        .filter(customers::shop_id.eq(shop))
        .filter(customers::id.eq(id))
        .select(Customer::as_select())
        .first(conn)
        .optional()
}
