//! What chatshop asks of a PSP, in API Pix's terms: create, read and cancel a
//! charge (`cob`), read the Pix received, return money (`devolucao`) and
//! register where the PSP posts its callbacks. Two implementations: the
//! in-process `sandbox` (the embedded default) and `api_pix`, a client of
//! Banco Central's API Pix over mutual TLS.
//!
//! Calls are made by jobs and handlers outside any database transaction.

pub mod api_pix;
pub mod sandbox;
pub mod shop;

use crate::money::Money;
use crate::pix::brcode::PixKey;
use crate::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::{DateTime, Utc};
use std::future::Future;

/// A charge to create (`PUT /cob/{txid}`).
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub txid: ChargeTxid,
    pub amount: Money,
    pub key: PixKey,
    /// Seconds from creation (`calendario.expiracao`).
    pub expires_in: u32,
    /// `solicitacaoPagador`, shown to the payer (≤ 140 characters).
    pub description: String,
    /// For a BR Code built here (the sandbox): the shop's name and city.
    pub merchant_name: String,
    pub merchant_city: String,
}

/// A charge as the PSP holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct PspCharge {
    pub txid: ChargeTxid,
    pub status: ChargeState,
    /// `valor.original`.
    pub amount: Money,
    pub pix_copia_e_cola: String,
    pub location: Option<String>,
    /// The Pix that paid it (`pix[]`), when any.
    pub pix: Vec<PspPix>,
}

/// `ATIVA | CONCLUIDA | REMOVIDA_PELO_USUARIO_RECEBEDOR | REMOVIDA_PELO_PSP`.
/// There is no expired status: a charge past its expiry stays `Active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeState {
    Active,
    Completed,
    RemovedByReceiver,
    RemovedByPsp,
}

/// A Pix received (`GET /pix/{e2eid}`, a callback entry, `cob.pix[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PspPix {
    pub end_to_end_id: EndToEndId,
    pub txid: Option<ChargeTxid>,
    pub amount: Money,
    /// `chave`: the receiving key, when the PSP says.
    pub key: Option<String>,
    pub paid_at: DateTime<Utc>,
    pub payer_name: Option<String>,
    /// CPF or CNPJ as the PSP gave it (masked before it is stored).
    pub payer_document: Option<String>,
    pub payer_info: Option<String>,
    pub returns: Vec<PspReturn>,
}

/// A devolução (`PUT|GET /pix/{e2eid}/devolucao/{id}`), ours or the PSP's.
#[derive(Debug, Clone, PartialEq)]
pub struct PspReturn {
    pub id: RefundId,
    pub rtr_id: Option<String>,
    pub amount: Money,
    pub status: ReturnState,
    /// `natureza`: ORIGINAL, RETIRADA, MED_FRAUDE, MED_OPERACIONAL, ...
    pub nature: Option<String>,
    pub reason: Option<String>,
    pub requested_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// `EM_PROCESSAMENTO | DEVOLVIDO | NAO_REALIZADO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnState {
    Processing,
    Returned,
    NotDone,
}

#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub end_to_end_id: EndToEndId,
    pub id: RefundId,
    pub amount: Money,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PspError {
    /// Network errors, timeouts, 5xx, 429: worth trying again later.
    #[error("the PSP is unavailable: {0}")]
    Unavailable(String),
    /// The credentials or the client certificate were refused.
    #[error("the PSP refused our credentials: {0}")]
    Unauthorized(String),
    /// The PSP refused the request (its problem answer, in plain words).
    #[error("the PSP refused: {title}{}", detail_text(.detail, .violations))]
    Rejected { title: String, detail: Option<String>, violations: Vec<String> },
    #[error("the PSP does not know it")]
    NotFound,
    /// An answer we cannot read.
    #[error("the PSP answered something we cannot read: {0}")]
    Protocol(String),
    /// The shop's PSP settings cannot make a client (a bad certificate).
    #[error("the PSP settings cannot be used: {0}")]
    Settings(String),
}

fn detail_text(detail: &Option<String>, violations: &[String]) -> String {
    let mut text = String::new();
    if let Some(detail) = detail {
        text.push_str(": ");
        text.push_str(detail);
    }
    for violation in violations {
        text.push_str("; ");
        text.push_str(violation);
    }
    text
}

impl PspError {
    /// Whether the jobs queue should try again.
    pub fn is_transient(&self) -> bool {
        matches!(self, PspError::Unavailable(_))
    }
}

/// The operations chatshop uses. Every method is idempotent where API Pix
/// lets it be: the txid and the refund id are ours.
pub trait Psp: Send + Sync {
    fn create_charge(&self, request: &ChargeRequest) -> impl Future<Output = Result<PspCharge, PspError>> + Send;
    fn get_charge(&self, txid: &ChargeTxid) -> impl Future<Output = Result<PspCharge, PspError>> + Send;
    /// `PATCH /cob/{txid}` to `REMOVIDA_PELO_USUARIO_RECEBEDOR`.
    fn cancel_charge(&self, txid: &ChargeTxid) -> impl Future<Output = Result<(), PspError>> + Send;
    fn get_pix(&self, e2e: &EndToEndId) -> impl Future<Output = Result<PspPix, PspError>> + Send;
    /// Every Pix received between the two instants, all pages.
    fn list_pix(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<PspPix>, PspError>> + Send;
    fn refund(&self, request: &RefundRequest) -> impl Future<Output = Result<PspReturn, PspError>> + Send;
    fn get_refund(&self, e2e: &EndToEndId, id: &RefundId) -> impl Future<Output = Result<PspReturn, PspError>> + Send;
    /// `PUT /webhook/{chave}`.
    fn register_webhook(&self, key: &PixKey, url: &str) -> impl Future<Output = Result<(), PspError>> + Send;
}
