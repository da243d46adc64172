//! A Pix charge: one per order, its txid ours, created at the PSP by a job
//! after the checkout commits (never inside it).

use crate::db::AnyConnection;
use crate::db::schema::{charges, shops};
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::pix::ChargeTxid;
use chrono::NaiveDateTime;
use diesel::prelude::*;

crate::text_enum! {
    pub enum ChargeStatus {
        /// Written with the order; the PSP has not made it yet.
        Pending => "pending",
        /// Payable.
        Active => "active",
        Paid => "paid",
        Cancelled => "cancelled",
        Expired => "expired",
        /// The PSP refused to create it.
        Failed => "failed",
    }
}

crate::text_enum! {
    /// Which PSP a shop uses.
    pub enum PspKind {
        Sandbox => "sandbox",
        ApiPix => "api_pix",
    }
}

impl PspKind {
    /// Our txids: 25 characters fit a static BR Code (the sandbox), API Pix
    /// wants 26 to 35.
    pub fn txid_len(self) -> usize {
        match self {
            PspKind::Sandbox => super::psp::sandbox::TXID_LEN,
            PspKind::ApiPix => 32,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = charges)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Charge {
    pub txid: ChargeTxid,
    pub shop_id: ShopId,
    pub order_id: OrderId,
    pub psp: PspKind,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
    pub status: ChargeStatus,
    pub pix_copia_e_cola: Option<String>,
    pub location: Option<String>,
    pub error: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The key the charge was issued for (as the shop wrote it).
    pub pix_key: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = charges)]
struct NewCharge {
    txid: ChargeTxid,
    shop_id: ShopId,
    order_id: OrderId,
    psp: PspKind,
    #[diesel(column_name = amount_cents)]
    amount: Money,
    status: ChargeStatus,
    expires_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    pix_key: Option<String>,
}

pub fn insert(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    psp: PspKind,
    amount: Money,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Charge> {
    // The shop's key at checkout is the one the charge is made for.
    let pix_key = shops::table.find(shop).select(shops::pix_key).first::<String>(conn)?;
    let txid = ChargeTxid::generate(psp.txid_len());
    diesel::insert_into(charges::table)
        .values(NewCharge {
            txid: txid.clone(),
            shop_id: shop,
            order_id: order,
            psp,
            amount,
            status: ChargeStatus::Pending,
            expires_at,
            created_at: now,
            updated_at: now,
            pix_key: Some(pix_key),
        })
        .execute(conn)?;
    charges::table.find(txid).select(Charge::as_select()).first(conn)
}

pub fn of_order(conn: &mut AnyConnection, order: OrderId) -> QueryResult<Option<Charge>> {
    charges::table.filter(charges::order_id.eq(order)).select(Charge::as_select()).first(conn).optional()
}

pub fn by_txid(conn: &mut AnyConnection, txid: &ChargeTxid) -> QueryResult<Option<Charge>> {
    charges::table.find(txid).select(Charge::as_select()).first(conn).optional()
}

/// The PSP made it: payable now (only from `pending`).
pub fn mark_active(
    conn: &mut AnyConnection,
    txid: &ChargeTxid,
    pix_copia_e_cola: &str,
    location: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let moved = diesel::update(charges::table.find(txid))
        .filter(charges::status.eq(ChargeStatus::Pending))
        .set((
            charges::status.eq(ChargeStatus::Active),
            charges::pix_copia_e_cola.eq(pix_copia_e_cola),
            charges::location.eq(location),
            charges::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(moved == 1)
}

/// Moves an open charge (`pending` or `active`) to `to`.
pub fn close(
    conn: &mut AnyConnection,
    txid: &ChargeTxid,
    to: ChargeStatus,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let moved = diesel::update(charges::table.find(txid))
        .filter(charges::status.eq_any([ChargeStatus::Pending, ChargeStatus::Active]))
        .set((charges::status.eq(to), charges::error.eq(error), charges::updated_at.eq(now)))
        .execute(conn)?;
    Ok(moved == 1)
}
