//! The PSP a shop chose, as one type the jobs and handlers hold: the
//! sandbox or an API Pix client. Clients are kept per shop and settings
//! version, so their connections and OAuth2 token are reused across calls
//! and a change of settings takes effect at the next call.

use super::api_pix::{ApiPix, Transport};
use super::sandbox::Sandbox;
use super::{ChargeRequest, Psp, PspCharge, PspError, PspPix, PspReturn, RefundRequest};
use crate::crypto::Keyring;
use crate::db::AnyConnection;
use crate::ids::ShopId;
use crate::payments::charge::PspKind;
use crate::payments::psp_settings;
use crate::pix::brcode::PixKey;
use crate::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
pub enum ShopPsp {
    Sandbox(Sandbox),
    ApiPix(ApiPix),
}

/// The API Pix clients made so far, by shop, with their settings' version.
#[derive(Default)]
pub struct PspClients {
    transport: Transport,
    cached: Mutex<HashMap<ShopId, (NaiveDateTime, ApiPix)>>,
}

impl PspClients {
    /// `transport`: the CA certificates trusted for PSPs and the timeout.
    pub fn new(transport: Transport) -> PspClients {
        PspClients { transport, cached: Mutex::new(HashMap::new()) }
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The shop's PSP: the cached client while its settings are unchanged,
    /// else one made from them (secrets opened only then).
    pub fn for_shop(&self, conn: &mut AnyConnection, keyring: &Keyring, shop: ShopId) -> Result<ShopPsp, PspError> {
        let version = match psp_settings::version(conn, shop)? {
            None | Some((PspKind::Sandbox, _)) => return Ok(ShopPsp::Sandbox(Sandbox)),
            Some((PspKind::ApiPix, version)) => version,
        };
        if let Some((_, client)) = self.lock().get(&shop).filter(|(v, _)| *v == version) {
            return Ok(ShopPsp::ApiPix(client.clone()));
        }
        let Some((version, settings)) = psp_settings::load(conn, keyring, shop, &self.transport)? else {
            return Ok(ShopPsp::Sandbox(Sandbox));
        };
        let client = ApiPix::new(&settings)?;
        self.lock().insert(shop, (version, client.clone()));
        Ok(ShopPsp::ApiPix(client))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ShopId, (NaiveDateTime, ApiPix)>> {
        // A panic while holding it left a map, still usable.
        self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

macro_rules! dispatch {
    ($self:ident, $psp:ident => $call:expr) => {
        match $self {
            ShopPsp::Sandbox($psp) => $call.await,
            ShopPsp::ApiPix($psp) => $call.await,
        }
    };
}

impl Psp for ShopPsp {
    async fn create_charge(&self, request: &ChargeRequest) -> Result<PspCharge, PspError> {
        dispatch!(self, psp => psp.create_charge(request))
    }
    async fn get_charge(&self, txid: &ChargeTxid) -> Result<PspCharge, PspError> {
        dispatch!(self, psp => psp.get_charge(txid))
    }
    async fn cancel_charge(&self, txid: &ChargeTxid) -> Result<(), PspError> {
        dispatch!(self, psp => psp.cancel_charge(txid))
    }
    async fn get_pix(&self, e2e: &EndToEndId) -> Result<PspPix, PspError> {
        dispatch!(self, psp => psp.get_pix(e2e))
    }
    async fn list_pix(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PspPix>, PspError> {
        dispatch!(self, psp => psp.list_pix(from, to))
    }
    async fn refund(&self, request: &RefundRequest) -> Result<PspReturn, PspError> {
        dispatch!(self, psp => psp.refund(request))
    }
    async fn get_refund(&self, e2e: &EndToEndId, id: &RefundId) -> Result<PspReturn, PspError> {
        dispatch!(self, psp => psp.get_refund(e2e, id))
    }
    async fn register_webhook(&self, key: &PixKey, url: &str) -> Result<(), PspError> {
        dispatch!(self, psp => psp.register_webhook(key, url))
    }
}
