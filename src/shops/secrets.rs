//! The shop's secrets as stored: sealed with the service's key (see
//! `crypto`), bound to their column and shop, opened only where used.

use super::ShopError;
use crate::crypto::{Keyring, Secret};
use crate::db::{AnyConnection, schema::shops};
use crate::ids::ShopId;
use diesel::prelude::*;

/// Where a sealed WhatsApp token belongs: it opens nowhere else.
fn access_token_context(shop: ShopId) -> String {
    format!("shops.wa_access_token:{shop}")
}

pub fn seal_access_token(keyring: &Keyring, shop: ShopId, token: &str) -> String {
    keyring.seal(token, &access_token_context(shop))
}

pub fn open_access_token(keyring: &Keyring, shop: ShopId, sealed: &str) -> Result<Secret, ShopError> {
    keyring.open(sealed, &access_token_context(shop)).map_err(|e| ShopError::Secret(e.to_string()))
}

/// Seals what is stored in plaintext (from before sealing) and, with
/// `rotate`, re-seals what an older key sealed, so the old key can go.
/// Returns how many values were written.
pub fn reseal(conn: &mut AnyConnection, keyring: &Keyring, rotate: bool) -> Result<usize, ShopError> {
    let stored: Vec<(ShopId, String)> = shops::table
        .filter(shops::wa_access_token.is_not_null())
        .select((shops::id, shops::wa_access_token.assume_not_null()))
        .load(conn)?;
    let mut written = 0;
    for (shop, value) in stored {
        let plain = if !Keyring::is_sealed(&value) {
            Secret::new(value.clone())
        } else if rotate && !keyring.is_current(&value) {
            open_access_token(keyring, shop, &value)?
        } else {
            continue;
        };
        // Only if unchanged since read: a token saved meanwhile wins.
        written += diesel::update(shops::table.find(shop))
            .filter(shops::wa_access_token.eq(&value))
            .set(shops::wa_access_token.eq(seal_access_token(keyring, shop, plain.expose())))
            .execute(conn)?;
    }
    Ok(written)
}
