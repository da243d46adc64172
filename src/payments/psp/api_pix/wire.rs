//! API Pix's JSON, as the PSP sends it, and its translation into the `Psp`
//! types. Everything here is untrusted: amounts are decimal strings read
//! exactly into `Money`, ids are parsed, and an answer that does not fit is a
//! `Protocol` error naming what was wrong.

use super::super::{ChargeState, PspCharge, PspError, PspPix, PspReturn, ReturnState};
use crate::money::Money;
use crate::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Valor {
    pub original: String,
}

#[derive(Debug, Deserialize)]
pub struct Loc {
    pub location: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Cob {
    pub txid: String,
    pub status: String,
    pub valor: Valor,
    pub chave: Option<String>,
    #[serde(rename = "pixCopiaECola")]
    pub pix_copia_e_cola: Option<String>,
    pub location: Option<String>,
    pub loc: Option<Loc>,
    #[serde(default)]
    pub pix: Vec<Pix>,
}

#[derive(Debug, Deserialize)]
pub struct Pagador {
    pub nome: Option<String>,
    pub cpf: Option<String>,
    pub cnpj: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Pix {
    #[serde(rename = "endToEndId")]
    pub end_to_end_id: String,
    pub txid: Option<String>,
    pub valor: String,
    pub chave: Option<String>,
    pub horario: DateTime<Utc>,
    pub pagador: Option<Pagador>,
    #[serde(rename = "infoPagador")]
    pub info_pagador: Option<String>,
    #[serde(default)]
    pub devolucoes: Vec<Devolucao>,
}

#[derive(Debug, Deserialize)]
pub struct Horario {
    pub solicitacao: Option<DateTime<Utc>>,
    pub liquidacao: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
pub struct Devolucao {
    pub id: String,
    #[serde(rename = "rtrId")]
    pub rtr_id: Option<String>,
    pub valor: String,
    pub status: String,
    pub natureza: Option<String>,
    pub motivo: Option<String>,
    pub descricao: Option<String>,
    pub horario: Option<Horario>,
}

#[derive(Debug, Deserialize)]
pub struct Paginacao {
    #[serde(rename = "paginaAtual")]
    pub pagina_atual: u32,
    #[serde(rename = "quantidadeDePaginas")]
    pub quantidade_de_paginas: u32,
}

#[derive(Debug, Deserialize)]
pub struct Parametros {
    pub paginacao: Option<Paginacao>,
}

#[derive(Debug, Deserialize)]
pub struct PixPage {
    pub parametros: Option<Parametros>,
    #[serde(default)]
    pub pix: Vec<Pix>,
}

#[derive(Debug, Deserialize)]
pub struct Token {
    pub access_token: String,
    pub expires_in: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Violacao {
    pub razao: Option<String>,
    pub propriedade: Option<String>,
}

/// RFC 7807 as API Pix shapes it.
#[derive(Debug, Default, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    #[serde(default)]
    pub violacoes: Vec<Violacao>,
}

impl Problem {
    /// The refusal in plain words: the title (or the status), the detail and
    /// each violation as "property: reason".
    pub fn into_error(self, status: u16) -> PspError {
        let violations = self
            .violacoes
            .into_iter()
            .map(|v| match (v.propriedade, v.razao) {
                (Some(p), Some(r)) => format!("{p}: {r}"),
                (p, r) => p.or(r).unwrap_or_default(),
            })
            .filter(|v| !v.is_empty())
            .collect();
        let title = self.title.unwrap_or_else(|| format!("HTTP {status}"));
        PspError::Rejected { title, detail: self.detail, violations }
    }

    /// The last segment of `type` (`…/error/CobOperacaoInvalida`), or the title.
    pub fn is_duplicate_txid(&self) -> bool {
        let hay = format!("{} {}", self.kind.as_deref().unwrap_or(""), self.title.as_deref().unwrap_or(""));
        hay.to_ascii_lowercase().contains("txid_duplicado") || hay.to_ascii_lowercase().contains("txidduplicado")
    }
}

fn bad(what: &str, value: &str) -> PspError {
    PspError::Protocol(format!("{what} {:?}", value.chars().take(60).collect::<String>()))
}

/// `"12.34"` exactly, never through a float.
pub fn money(text: &str) -> Result<Money, PspError> {
    text.parse::<Money>().map_err(|_| bad("an amount", text))
}

fn charge_state(text: &str) -> Result<ChargeState, PspError> {
    Ok(match text {
        "ATIVA" => ChargeState::Active,
        "CONCLUIDA" => ChargeState::Completed,
        "REMOVIDA_PELO_USUARIO_RECEBEDOR" => ChargeState::RemovedByReceiver,
        "REMOVIDA_PELO_PSP" => ChargeState::RemovedByPsp,
        other => return Err(bad("a charge status", other)),
    })
}

fn return_state(text: &str) -> Result<ReturnState, PspError> {
    Ok(match text {
        "EM_PROCESSAMENTO" => ReturnState::Processing,
        "DEVOLVIDO" => ReturnState::Returned,
        "NAO_REALIZADO" => ReturnState::NotDone,
        other => return Err(bad("a return status", other)),
    })
}

impl Cob {
    pub fn into_charge(self) -> Result<PspCharge, PspError> {
        let txid = ChargeTxid::parse(&self.txid).map_err(|_| bad("a txid", &self.txid))?;
        let location = self.location.or_else(|| self.loc.and_then(|l| l.location));
        Ok(PspCharge {
            txid,
            status: charge_state(&self.status)?,
            amount: money(&self.valor.original)?,
            pix_copia_e_cola: self.pix_copia_e_cola.unwrap_or_default(),
            location,
            pix: self.pix.into_iter().map(Pix::into_pix).collect::<Result<_, _>>()?,
        })
    }
}

impl Pix {
    pub fn into_pix(self) -> Result<PspPix, PspError> {
        let end_to_end_id =
            EndToEndId::parse(&self.end_to_end_id).map_err(|_| bad("an endToEndId", &self.end_to_end_id))?;
        // A txid we could not have issued is no charge of ours (an orphan).
        let txid = self.txid.as_deref().and_then(|t| ChargeTxid::parse(t).ok());
        let (payer_name, payer_document) = match self.pagador {
            Some(p) => (p.nome, p.cpf.or(p.cnpj)),
            None => (None, None),
        };
        Ok(PspPix {
            end_to_end_id,
            txid,
            amount: money(&self.valor)?,
            key: self.chave,
            paid_at: self.horario,
            payer_name,
            payer_document,
            payer_info: self.info_pagador,
            returns: self.devolucoes.into_iter().map(Devolucao::into_return).collect::<Result<_, _>>()?,
        })
    }
}

impl Devolucao {
    pub fn into_return(self) -> Result<PspReturn, PspError> {
        let (requested_at, settled_at) = match self.horario {
            Some(h) => (h.solicitacao, h.liquidacao),
            None => (None, None),
        };
        Ok(PspReturn {
            id: RefundId::parse(&self.id).map_err(|_| bad("a return id", &self.id))?,
            rtr_id: self.rtr_id,
            amount: money(&self.valor)?,
            status: return_state(&self.status)?,
            nature: self.natureza,
            reason: self.motivo.or(self.descricao),
            requested_at,
            settled_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_strict() {
        assert_eq!(money("12.34").unwrap().cents(), 1234);
        assert_eq!(money("0.10").unwrap().cents(), 10);
        assert!(money("12.345").is_err());
        assert!(money("1e3").is_err());
        assert!(money("-1.00").is_err());
    }

    #[test]
    fn problems_read_as_plain_words() {
        let problem: Problem = serde_json::from_str(
            r#"{"type":"https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida","title":"Cobrança inválida.","status":400,
               "detail":"A requisição não respeita o schema.","violacoes":[{"razao":"não respeita o schema","propriedade":"cob.valor.original"}]}"#,
        )
        .unwrap();
        let text = problem.into_error(400).to_string();
        assert_eq!(
            text,
            "the PSP refused: Cobrança inválida.: A requisição não respeita o schema.; cob.valor.original: não respeita o schema"
        );
    }
}
