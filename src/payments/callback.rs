//! A PSP's callback (`POST /webhooks/pix/{shop_id}` and `…/pix`): a hint,
//! never trusted as it stands. Its shapes differ between PSPs: the spec's
//! `{"pix":[...]}`, a bare array (Banco Inter). The delivery is kept as
//! received, and each entry becomes a job that asks the PSP for the Pix
//! before anything changes.

use super::PaymentError;
use super::jobs::VerifyPix;
use crate::db::schema::pix_webhook_deliveries;
use crate::db::{AnyConnection, write_transaction};
use crate::ids::{PixDeliveryId, ShopId};
use crate::jobs::{self, Schedule};
use crate::pix::{ChargeTxid, EndToEndId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::Value;

/// The most entries one callback may carry.
pub const MAX_ENTRIES: usize = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("expected {{\"pix\":[...]}} or an array of Pix")]
    Shape,
    #[error("entry {index}: {reason}")]
    Entry { index: usize, reason: String },
    #[error("more than {MAX_ENTRIES} entries")]
    TooMany,
}

/// What one entry says (each part re-read from the PSP before use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEntry {
    pub end_to_end_id: EndToEndId,
    pub txid: Option<ChargeTxid>,
    pub key: Option<String>,
    /// How many returns it lists: a callback that says a refund settled
    /// names a Pix seen before, and must be looked at again.
    pub returns: usize,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "endToEndId")]
    end_to_end_id: Option<String>,
    txid: Option<String>,
    chave: Option<String>,
    #[serde(default)]
    devolucoes: Vec<Value>,
}

pub fn parse(body: &[u8]) -> Result<Vec<CallbackEntry>, CallbackError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| CallbackError::NotJson(e.to_string()))?;
    let list = match value {
        Value::Object(mut object) => match object.remove("pix") {
            Some(Value::Array(list)) => list,
            _ => return Err(CallbackError::Shape),
        },
        Value::Array(list) => list,
        _ => return Err(CallbackError::Shape),
    };
    if list.len() > MAX_ENTRIES {
        return Err(CallbackError::TooMany);
    }
    list.into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let bad = |reason: String| CallbackError::Entry { index, reason };
            let raw: RawEntry = serde_json::from_value(raw).map_err(|e| bad(e.to_string()))?;
            let e2e = raw.end_to_end_id.ok_or_else(|| bad("no endToEndId".into()))?;
            let end_to_end_id = EndToEndId::parse(&e2e).map_err(|e| bad(e.to_string()))?;
            // A txid we could not have issued is no charge of ours; the Pix
            // may still be real (an orphan), which the PSP will say.
            let txid = raw.txid.as_deref().and_then(|t| ChargeTxid::parse(t).ok());
            Ok(CallbackEntry { end_to_end_id, txid, key: raw.chave, returns: raw.devolucoes.len() })
        })
        .collect()
}

/// Keeps the delivery and queues a check of each entry, in one transaction;
/// entries naming another key than the shop's are not followed.
pub fn accept(
    conn: &mut AnyConnection,
    shop: ShopId,
    body: &str,
    entries: &[CallbackEntry],
    now: NaiveDateTime,
) -> Result<usize, PaymentError> {
    write_transaction(conn, |conn| {
        let shop_row = crate::shops::get(conn, shop)?;
        diesel::insert_into(pix_webhook_deliveries::table)
            .values((
                pix_webhook_deliveries::id.eq(PixDeliveryId::new()),
                pix_webhook_deliveries::shop_id.eq(shop),
                pix_webhook_deliveries::body.eq(body),
                pix_webhook_deliveries::entries.eq(entries.len() as i32),
                pix_webhook_deliveries::received_at.eq(now),
            ))
            .execute(conn)?;
        let mut queued = 0;
        for entry in entries {
            let foreign = match entry.key.as_deref() {
                Some(key) => !is_shop_key(conn, shop, &shop_row.pix.key, entry, key)?,
                None => false,
            };
            if foreign {
                tracing::warn!(shop = %shop, e2e = %entry.end_to_end_id, "a callback entry for another Pix key: ignored");
                continue;
            }
            let job = VerifyPix { shop_id: shop, end_to_end_id: entry.end_to_end_id.clone() };
            let dedupe = format!("pix.verify:{shop}:{}:{}", entry.end_to_end_id, entry.returns);
            if jobs::enqueue(conn, &job, Schedule::for_shop(shop).dedupe(dedupe))?.is_some() {
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// Whether a callback's key is the shop's: its key of today, or the one the
/// entry's charge was issued for (a shop may have changed its key since).
fn is_shop_key(
    conn: &mut AnyConnection,
    shop: ShopId,
    today: &str,
    entry: &CallbackEntry,
    key: &str,
) -> QueryResult<bool> {
    if same_key(key, today) {
        return Ok(true);
    }
    let Some(txid) = &entry.txid else { return Ok(false) };
    Ok(super::charge::by_txid(conn, txid)?
        .is_some_and(|charge| charge.shop_id == shop && charge.pix_key.as_deref().is_some_and(|k| same_key(key, k))))
}

/// Whether two spellings name one Pix key (each read as a key first, so a
/// phone or a CPF written two ways still matches).
pub(super) fn same_key(a: &str, b: &str) -> bool {
    let normal = |k: &str| {
        crate::pix::brcode::PixKey::parse(k.trim()).map(|k| k.as_str().to_owned()).unwrap_or_else(|_| k.trim().into())
    };
    normal(a).eq_ignore_ascii_case(&normal(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const E2E: &str = "E12345678202611221200abcdefghijk";

    #[test]
    fn reads_the_spec_shape_and_a_bare_array() {
        let spec = format!(
            r#"{{"pix":[{{"endToEndId":"{E2E}","txid":"abc123","valor":"10.00","horario":"2026-11-22T12:00:00Z"}}]}}"#
        );
        let entries = parse(spec.as_bytes()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].txid.as_ref().map(|t| t.as_str()), Some("abc123"));
        let bare = format!(r#"[{{"endToEndId":"{E2E}"}}]"#);
        assert_eq!(parse(bare.as_bytes()).unwrap()[0].txid, None);
    }

    #[test]
    fn malformed_bodies_are_refused_whole() {
        assert!(matches!(parse(b"not json"), Err(CallbackError::NotJson(_))));
        assert_eq!(parse(br#"{"cob":[]}"#), Err(CallbackError::Shape));
        let one_bad = format!(r#"{{"pix":[{{"endToEndId":"{E2E}"}},{{"endToEndId":"short"}}]}}"#);
        assert!(matches!(parse(one_bad.as_bytes()), Err(CallbackError::Entry { index: 1, .. })));
    }
}
