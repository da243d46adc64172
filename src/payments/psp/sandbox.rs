//! The sandbox PSP: in the process, no network. It issues a real BR Code
//! for the shop's own key (static format, with the amount and the txid), so
//! any bank app can read it, and it is paid by `POST /sandbox/pix/{txid}/pay`
//! (or `chatshop pay`), which feeds the same confirmation path a PSP's
//! callback takes. It keeps no state of its own: what it "received" is what
//! the pay endpoint confirmed, so it knows no Pix a callback could name.

use super::*;
use crate::pix::brcode::{Merchant, StaticCode, Txid, encode_static};

/// At most 25 characters: the txid rides in the BR Code's field 62-05.
pub const TXID_LEN: usize = 25;

#[derive(Debug, Clone, Default)]
pub struct Sandbox;

impl Sandbox {
    pub fn brcode(request: &ChargeRequest) -> Result<String, PspError> {
        let txid = Txid::parse(request.txid.as_str()).map_err(|e| PspError::Settings(e.to_string()))?;
        let description = request.description.chars().take(40).collect::<String>();
        encode_static(&StaticCode {
            key: &request.key,
            description: Some(description.as_str()).filter(|d| !d.is_empty()),
            amount: Some(request.amount.to_decimal()),
            txid: Some(&txid),
            merchant: Merchant { name: &request.merchant_name, city: &request.merchant_city, postal_code: None },
        })
        .map_err(|e| PspError::Settings(e.to_string()))
    }
}

impl Psp for Sandbox {
    async fn create_charge(&self, request: &ChargeRequest) -> Result<PspCharge, PspError> {
        Ok(PspCharge {
            txid: request.txid.clone(),
            status: ChargeState::Active,
            amount: request.amount,
            pix_copia_e_cola: Sandbox::brcode(request)?,
            location: None,
            pix: Vec::new(),
        })
    }

    async fn get_charge(&self, _txid: &ChargeTxid) -> Result<PspCharge, PspError> {
        // Payments reach the sandbox's charges through the pay endpoint only.
        Err(PspError::NotFound)
    }

    async fn cancel_charge(&self, _txid: &ChargeTxid) -> Result<(), PspError> {
        Ok(())
    }

    async fn get_pix(&self, _e2e: &EndToEndId) -> Result<PspPix, PspError> {
        Err(PspError::NotFound)
    }

    async fn list_pix(&self, _from: DateTime<Utc>, _to: DateTime<Utc>) -> Result<Vec<PspPix>, PspError> {
        Ok(Vec::new())
    }

    /// Returns settle at once.
    async fn refund(&self, request: &RefundRequest) -> Result<PspReturn, PspError> {
        let now = Utc::now();
        Ok(PspReturn {
            id: request.id.clone(),
            rtr_id: Some(format!("D{}", &uuid::Uuid::new_v4().simple().to_string()[..31])),
            amount: request.amount,
            status: ReturnState::Returned,
            nature: Some("ORIGINAL".into()),
            reason: request.description.clone(),
            requested_at: Some(now),
            settled_at: Some(now),
        })
    }

    async fn get_refund(&self, _e2e: &EndToEndId, _id: &RefundId) -> Result<PspReturn, PspError> {
        Err(PspError::NotFound)
    }

    async fn register_webhook(&self, _key: &PixKey, _url: &str) -> Result<(), PspError> {
        Ok(())
    }
}
