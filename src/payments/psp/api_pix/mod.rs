//! A client of Banco Central's API Pix: OAuth2 client credentials (the
//! token kept until shortly before it expires, fetched again once on a 401),
//! mutual TLS with the shop's certificate, and the cob / pix / devolução /
//! webhook calls chatshop makes. One client per shop's settings; cloning it
//! shares the connection pool and the token.

pub mod pkcs12;
mod wire;

use super::{ChargeRequest, Psp, PspCharge, PspError, PspPix, PspReturn, RefundRequest};
use crate::crypto::Secret;
use crate::pix::brcode::PixKey;
use crate::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub use wire::money as parse_amount;

/// A connection to the PSP is given up after this long at most (less when
/// the whole call's timeout is shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole call (connect, send, answer), unless `CHATSHOP_PSP_TIMEOUT_SECONDS` says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// A token is dropped this long before the PSP says it expires (at most a
/// fifth of its life, for PSPs that give 300 s), so no call carries a token
/// that dies on the way.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Pages of `GET /pix` followed at most (a day of a busy shop).
const MAX_PAGES: u32 = 1_000;
const SCOPES: &str = "cob.write cob.read pix.read pix.write webhook.write";

/// The shop's client certificate for mutual TLS.
#[derive(Clone)]
pub enum ClientIdentity {
    Pem { certificate: String, private_key: Secret },
    Pkcs12 { der: Vec<u8>, password: Secret },
}

/// What a client is made of (the shop's settings, opened).
#[derive(Clone)]
pub struct ApiPixSettings {
    pub api_base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub identity: Option<ClientIdentity>,
    pub transport: Transport,
}

/// How this instance reaches every PSP (its configuration, not a shop's).
#[derive(Clone, Debug)]
pub struct Transport {
    /// CA certificates (PEM) trusted beside the system's: a PSP's private CA,
    /// or a test's (`CHATSHOP_PSP_CA_FILE`).
    pub extra_roots: Vec<String>,
    /// The longest one call may take, connecting included
    /// (`CHATSHOP_PSP_TIMEOUT_SECONDS`); a call that takes longer is an
    /// `Unavailable` error, retried by the jobs queue.
    pub timeout: Duration,
}

impl Default for Transport {
    fn default() -> Transport {
        Transport { extra_roots: Vec::new(), timeout: DEFAULT_TIMEOUT }
    }
}

struct CachedToken {
    value: String,
    good_until: Instant,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    token: Mutex<Option<CachedToken>>,
}

#[derive(Clone)]
pub struct ApiPix {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ApiPix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiPix").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

/// `https://`, or `http(s)://` on loopback (local fakes and tests).
pub fn check_url(field: &str, text: &str) -> Result<Url, PspError> {
    let url = Url::parse(text).map_err(|e| PspError::Settings(format!("{field}: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        _ => Err(PspError::Settings(format!("{field} must be an https:// address"))),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn identity(identity: &ClientIdentity) -> Result<reqwest::Identity, PspError> {
    match identity {
        ClientIdentity::Pem { certificate, private_key } => {
            let pem = format!("{}\n{}\n", certificate.trim(), private_key.expose().trim());
            reqwest::Identity::from_pem(pem.as_bytes())
                .map_err(|e| PspError::Settings(format!("the client certificate or its key cannot be read: {e}")))
        }
        // reqwest reads PKCS#12 only with native-tls; chatshop links rustls,
        // so the file is opened here into the PEM pair rustls takes.
        ClientIdentity::Pkcs12 { der, password } => {
            let opened = pkcs12::read(der, password.expose()).map_err(|e| PspError::Settings(e.to_string()))?;
            let pem = format!("{}{}", opened.certificates, opened.private_key);
            reqwest::Identity::from_pem(pem.as_bytes())
                .map_err(|e| PspError::Settings(format!("the PKCS#12 certificate or its key cannot be used: {e}")))
        }
    }
}

impl ApiPix {
    pub fn new(settings: &ApiPixSettings) -> Result<ApiPix, PspError> {
        let mut base = check_url("api_base_url", &settings.api_base_url)?;
        let token_url = check_url("token_url", &settings.token_url)?;
        // Paths are joined under the base, whatever its own path (`…/v2`).
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let remote = !is_loopback(&base) || !is_loopback(&token_url);
        if remote && settings.identity.is_none() {
            return Err(PspError::Settings("a PSP on the network needs the shop's client certificate".into()));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.transport.timeout))
            .timeout(settings.transport.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(id) = &settings.identity {
            builder = builder.identity(identity(id)?);
        }
        for root in &settings.transport.extra_roots {
            let cert = reqwest::Certificate::from_pem(root.as_bytes())
                .map_err(|e| PspError::Settings(format!("a CA certificate cannot be read: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| PspError::Settings(e.to_string()))?;
        Ok(ApiPix {
            inner: Arc::new(Inner {
                http,
                base,
                token_url,
                client_id: settings.client_id.clone(),
                client_secret: settings.client_secret.clone(),
                token: Mutex::new(None),
            }),
        })
    }

    fn url(&self, path: &str) -> Result<Url, PspError> {
        self.inner.base.join(path).map_err(|e| PspError::Protocol(e.to_string()))
    }

    /// The cached token, or a new one.
    async fn token(&self) -> Result<String, PspError> {
        let mut cached = self.inner.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.good_until) {
            return Ok(token.value.clone());
        }
        let fetched_at = Instant::now();
        let answer = self
            .inner
            .http
            .post(self.inner.token_url.clone())
            .basic_auth(&self.inner.client_id, Some(self.inner.client_secret.expose()))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("grant_type=client_credentials&scope={}", SCOPES.replace(' ', "+")))
            .send()
            .await
            .map_err(unavailable)?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(unavailable)?;
        if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(PspError::Unauthorized(format!("the token endpoint answered {status}")));
        }
        let token: wire::Token = read(status, &body)?;
        let life = Duration::from_secs(token.expires_in.unwrap_or(300));
        let margin = TOKEN_MARGIN.min(life / 5);
        *cached = Some(CachedToken { value: token.access_token.clone(), good_until: fetched_at + life - margin });
        Ok(token.access_token)
    }

    /// Forgets `used` if it is still the cached token (another call may
    /// have replaced it already).
    async fn forget(&self, used: &str) {
        let mut cached = self.inner.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == used) {
            *cached = None;
        }
    }

    /// One call with the bearer token; on a 401 the token is fetched again
    /// and the call made once more.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, Vec<u8>), PspError> {
        let mut retried = false;
        loop {
            let token = self.token().await?;
            let mut request = self.inner.http.request(method.clone(), url.clone()).bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request.send().await.map_err(unavailable)?;
            let status = answer.status();
            if status == StatusCode::UNAUTHORIZED && !retried {
                self.forget(&token).await;
                retried = true;
                continue;
            }
            let bytes = answer.bytes().await.map_err(unavailable)?;
            return Ok((status, bytes.to_vec()));
        }
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<T, PspError> {
        let (status, bytes) = self.call(method, url, body).await?;
        read(status, &bytes)
    }

    async fn get_cob(&self, txid: &ChargeTxid) -> Result<wire::Cob, PspError> {
        self.call_json(Method::GET, self.url(&format!("cob/{}", txid.as_str()))?, None).await
    }
}

fn unavailable(error: reqwest::Error) -> PspError {
    // Timeouts, refused connections and TLS handshakes (a refused client
    // certificate included): the jobs queue tries again with backoff.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    PspError::Unavailable(text)
}

/// Maps an answer: 2xx read as `T`, the rest to the error it means.
fn read<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, PspError> {
    if status.is_success() {
        return serde_json::from_slice(body).map_err(|e| PspError::Protocol(e.to_string()));
    }
    Err(status_error(status, body))
}

fn status_error(status: StatusCode, body: &[u8]) -> PspError {
    match status.as_u16() {
        401 | 403 => PspError::Unauthorized(format!("HTTP {status}")),
        404 => PspError::NotFound,
        408 | 429 | 500..=599 => PspError::Unavailable(format!("HTTP {status}")),
        code => serde_json::from_slice::<wire::Problem>(body).unwrap_or_default().into_error(code),
    }
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Psp for ApiPix {
    async fn create_charge(&self, request: &ChargeRequest) -> Result<PspCharge, PspError> {
        let body = json!({
            "calendario": {"expiracao": request.expires_in},
            "valor": {"original": request.amount.to_string()},
            "chave": request.key.as_str(),
            "solicitacaoPagador": request.description,
        });
        let url = self.url(&format!("cob/{}", request.txid.as_str()))?;
        let (status, bytes) = self.call(Method::PUT, url, Some(&body)).await?;
        if status.is_success() {
            return read::<wire::Cob>(status, &bytes)?.into_charge();
        }
        let problem = serde_json::from_slice::<wire::Problem>(&bytes).unwrap_or_default();
        if status == StatusCode::CONFLICT || problem.is_duplicate_txid() {
            // A retried create (Efí answers 409 txid_duplicado): the charge
            // is ours if it is the one we asked for.
            let cob = self.get_cob(&request.txid).await?;
            let same_key = cob.chave.as_deref().is_none_or(|k| k.eq_ignore_ascii_case(request.key.as_str()));
            let existing = cob.into_charge()?;
            if existing.amount == request.amount && same_key {
                return Ok(existing);
            }
            return Err(PspError::Rejected {
                title: "the txid is taken by another charge".into(),
                detail: Some(format!("it is for {}, not {}", existing.amount, request.amount)),
                violations: Vec::new(),
            });
        }
        Err(status_error(status, &bytes))
    }

    async fn get_charge(&self, txid: &ChargeTxid) -> Result<PspCharge, PspError> {
        self.get_cob(txid).await?.into_charge()
    }

    async fn cancel_charge(&self, txid: &ChargeTxid) -> Result<(), PspError> {
        let body = json!({"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"});
        let url = self.url(&format!("cob/{}", txid.as_str()))?;
        let _: serde_json::Value = self.call_json(Method::PATCH, url, Some(&body)).await?;
        Ok(())
    }

    async fn get_pix(&self, e2e: &EndToEndId) -> Result<PspPix, PspError> {
        let url = self.url(&format!("pix/{}", e2e.as_str()))?;
        self.call_json::<wire::Pix>(Method::GET, url, None).await?.into_pix()
    }

    async fn list_pix(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PspPix>, PspError> {
        let mut found = Vec::new();
        let mut page = 0u32;
        loop {
            let mut url = self.url("pix")?;
            url.query_pairs_mut()
                .append_pair("inicio", &instant(from))
                .append_pair("fim", &instant(to))
                .append_pair("paginacao.paginaAtual", &page.to_string())
                .append_pair("paginacao.itensPorPagina", "1000");
            let answer: wire::PixPage = self.call_json(Method::GET, url, None).await?;
            for pix in answer.pix {
                found.push(pix.into_pix()?);
            }
            let pages = answer.parametros.and_then(|p| p.paginacao).map(|p| (p.pagina_atual, p.quantidade_de_paginas));
            match pages {
                Some((current, count)) if current + 1 < count && page + 1 < MAX_PAGES => page = current + 1,
                _ => return Ok(found),
            }
        }
    }

    async fn refund(&self, request: &RefundRequest) -> Result<PspReturn, PspError> {
        let mut body = json!({"valor": request.amount.to_string()});
        if let Some(description) = &request.description {
            body["descricao"] = json!(description.chars().take(140).collect::<String>());
        }
        let url = self.url(&format!("pix/{}/devolucao/{}", request.end_to_end_id.as_str(), request.id.as_str()))?;
        self.call_json::<wire::Devolucao>(Method::PUT, url, Some(&body)).await?.into_return()
    }

    async fn get_refund(&self, e2e: &EndToEndId, id: &RefundId) -> Result<PspReturn, PspError> {
        let url = self.url(&format!("pix/{}/devolucao/{}", e2e.as_str(), id.as_str()))?;
        self.call_json::<wire::Devolucao>(Method::GET, url, None).await?.into_return()
    }

    async fn register_webhook(&self, key: &PixKey, url: &str) -> Result<(), PspError> {
        let mut target = self.url("webhook/")?;
        target
            .path_segments_mut()
            .map_err(|_| PspError::Protocol("base URL".into()))?
            .pop_if_empty()
            .push(key.as_str());
        let (status, bytes) = self.call(Method::PUT, target, Some(&json!({"webhookUrl": url}))).await?;
        if status.is_success() { Ok(()) } else { Err(status_error(status, &bytes)) }
    }
}
