//! Paying a sandbox charge (`POST /sandbox/pix/{txid}/pay`, `chatshop pay`):
//! a Pix is made up as a PSP would report it and goes through the same
//! confirmation path a verified callback takes.

use super::PaymentError;
use super::charge::{self, ChargeStatus, PspKind};
use super::confirm::{Recorded, record_pix};
use super::psp::PspPix;
use super::received::PaymentSource;
use super::view::Links;
use crate::db::AnyConnection;
use crate::money::Money;
use crate::pix::{ChargeTxid, EndToEndId};
use chrono::NaiveDateTime;

/// The ISPB the sandbox's Pix claim to come from.
const SANDBOX_ISPB: &str = "99999999";

/// Pays the charge with `amount` (its own amount when None). A charge that
/// expired or was cancelled can still be paid, as at a real PSP: that is
/// how a late payment is tried.
pub fn pay(
    conn: &mut AnyConnection,
    txid: &ChargeTxid,
    amount: Option<Money>,
    links: &Links,
    now: NaiveDateTime,
) -> Result<(EndToEndId, Recorded), PaymentError> {
    let charge = charge::by_txid(conn, txid)?.ok_or(PaymentError::NoSuchCharge)?;
    if charge.psp != PspKind::Sandbox {
        return Err(PaymentError::NoSuchCharge);
    }
    if matches!(charge.status, ChargeStatus::Pending | ChargeStatus::Failed) {
        return Err(PaymentError::ChargeNotPayable(charge.status));
    }
    let e2e = end_to_end_id(now);
    let pix = PspPix {
        end_to_end_id: e2e.clone(),
        txid: Some(charge.txid.clone()),
        amount: amount.unwrap_or(charge.amount),
        key: None,
        paid_at: now.and_utc(),
        payer_name: Some("Pagador Sandbox".into()),
        payer_document: Some("12345678909".into()),
        payer_info: None,
        returns: Vec::new(),
    };
    let recorded = record_pix(conn, charge.shop_id, &pix, PaymentSource::Sandbox, links, now)?;
    Ok((e2e, recorded))
}

/// `E` + ISPB + `yyyyMMddHHmm` + 11 random letters and digits.
fn end_to_end_id(now: NaiveDateTime) -> EndToEndId {
    let random: String = uuid::Uuid::new_v4().simple().to_string().chars().take(11).collect();
    let text = format!("E{SANDBOX_ISPB}{}{random}", now.format("%Y%m%d%H%M"));
    EndToEndId::parse(&text).unwrap_or_else(|_| unreachable!("32 letters and digits by construction"))
}
