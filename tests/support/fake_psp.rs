//! A PSP speaking Banco Central's API Pix over HTTPS with mutual TLS, for
//! tests: OAuth2 client credentials, cob, pix, devolução, webhook
//! registration, and `pay`, which settles a charge and posts
//! `{"pix":[...]}` to the registered URL + `/pix` as a real PSP does.
//! Fault switches: 500s for the next N calls, dropped callbacks, tokens that
//! expire at once. Certificates come from a test CA made here with rcgen.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, server::WebPkiClientVerifier};

pub const CLIENT_ID: &str = "chatshop-test";
pub const CLIENT_SECRET: &str = "s3cr3t-do-psp";

/// The test CA and what it signed: the server's and a client's certificate.
pub struct TestCa {
    pub ca_pem: String,
    ca_der: Vec<u8>,
    pub ca_file: tempfile::NamedTempFile,
    pub client_cert_pem: String,
    pub client_key_pem: String,
    client_cert_der: Vec<u8>,
    client_key_der: Vec<u8>,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

/// One CA per test process (the app trusts it through CHATSHOP_PSP_CA_FILE).
pub fn test_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "chatshop test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("key");
        let mut server = CertificateParams::new(Vec::<String>::new()).expect("params");
        server.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().expect("ip"))];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).expect("server certificate");
        let client_key = KeyPair::generate().expect("key");
        let client_cert = client_params().signed_by(&client_key, &issuer).expect("client certificate");
        let ca_file = tempfile::NamedTempFile::new().expect("CA file");
        std::fs::write(ca_file.path(), ca_cert.pem()).expect("write CA");
        TestCa {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            ca_file,
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
            client_cert_der: client_cert.der().to_vec(),
            client_key_der: client_key.serialize_der(),
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
        }
    })
}

/// A TLS server for 127.0.0.1 with the test CA's server certificate and no
/// client certificates asked for: other loopback servers in tests (the SMTP
/// sink) that the app trusts through the same CA file.
pub fn server_tls_config() -> Arc<rustls::ServerConfig> {
    let ca = test_ca();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![ca.server_cert_der.clone().into()],
            PrivateKeyDer::try_from(ca.server_key_der.clone()).expect("key"),
        )
        .expect("server config");
    Arc::new(config)
}

/// A client certificate signed by `issuer`, or self-signed (one the PSP
/// never issued).
pub fn client_certificate(issuer: Option<&Issuer<'_, KeyPair>>) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let params = client_params();
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, issuer),
        None => params.self_signed(&key),
    }
    .expect("client certificate");
    (cert.pem(), key.serialize_pem())
}

fn client_params() -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, "Padaria Doce Lar");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

/// The CA's client certificate and key (with the CA after it) as a PKCS#12
/// file sealed with `password` by `algorithm`, as a bank hands it out:
/// OpenSSL 3's default (AES-256-CBC, HMAC-SHA256) or the legacy ones (3DES,
/// 40-bit RC2, HMAC-SHA1).
pub fn client_pkcs12(password: &str, algorithm: p12_keystore::EncryptionAlgorithm) -> Vec<u8> {
    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };
    let ca = test_ca();
    let chain = PrivateKeyChain::new(
        b"padaria-key".to_vec(),
        PrivateKey::from_der(&ca.client_key_der).expect("PKCS#8 key"),
        [
            Certificate::from_der(&ca.client_cert_der).expect("certificate"),
            Certificate::from_der(&ca.ca_der).expect("CA"),
        ],
    );
    let mut store = KeyStore::new();
    store.add_entry("padaria", KeyStoreEntry::PrivateKeyChain(chain));
    let mac = if algorithm == EncryptionAlgorithm::PbeWithHmacSha256AndAes256 {
        MacAlgorithm::HmacSha256
    } else {
        MacAlgorithm::HmacSha1
    };
    store.writer(password).encryption_algorithm(algorithm).mac_algorithm(mac).write().expect("PKCS#12")
}

#[derive(Default)]
pub struct State {
    pub token_ttl: u64,
    tokens: HashMap<String, std::time::Instant>,
    pub tokens_issued: usize,
    pub cobs: HashMap<String, Value>,
    pub pix: HashMap<String, Value>,
    pub webhook_url: Option<String>,
    /// The next N API calls answer 500.
    pub fail_next: u32,
    pub drop_webhooks: bool,
    /// The next N API calls are done, but their answer comes only after
    /// `stall` (a PSP that made the charge and then hung).
    pub stall_next: u32,
    pub stall: std::time::Duration,
    /// `PUT /cob` and `PUT /webhook` answer this problem (status, body) instead.
    pub refuse_cob: Option<(u16, Value)>,
    pub refuse_webhook: Option<(u16, Value)>,
    /// How many `PUT /cob` arrived, answered or not.
    pub cob_puts: usize,
    /// When set, a devolução is answered `EM_PROCESSAMENTO` and later read
    /// back with this status (`NAO_REALIZADO`, `DEVOLVIDO`).
    pub refunds_settle_as: Option<&'static str>,
    pub handshakes_refused: usize,
    e2e_count: u64,
}

pub struct FakePsp {
    pub base_url: String,
    pub token_url: String,
    pub state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FakePsp {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

impl FakePsp {
    pub fn start() -> FakePsp {
        let ca = test_ca();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.ca_der.clone().into()).expect("root");
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().expect("verifier");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![ca.server_cert_der.clone().into()],
                PrivateKeyDer::try_from(ca.server_key_der.clone()).expect("key"),
            )
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State { token_ttl: 3600, ..State::default() }));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let (tcp, _) = tokio::select! {
                        _ = &mut stopped => return,
                        accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                    };
                    let (acceptor, state) = (acceptor.clone(), shared.clone());
                    tokio::spawn(async move {
                        let tls = match acceptor.accept(tcp).await {
                            Ok(tls) => tls,
                            Err(_) => {
                                state.lock().unwrap().handshakes_refused += 1;
                                return;
                            }
                        };
                        let service = hyper::service::service_fn(move |req| stalled(state.clone(), req));
                        let io = hyper_util::rt::TokioIo::new(tls);
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                    });
                }
            });
        });
        FakePsp {
            base_url: format!("https://127.0.0.1:{port}/api/v2"),
            token_url: format!("https://127.0.0.1:{port}/oauth/token"),
            state,
            shutdown: Some(stop),
        }
    }

    /// The `PUT /v1/shop/psp` body for this PSP with the CA's client certificate.
    pub fn settings(&self) -> Value {
        let ca = test_ca();
        json!({"kind": "api_pix", "api_base_url": self.base_url, "token_url": self.token_url,
               "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
               "certificate_pem": ca.client_cert_pem, "private_key_pem": ca.client_key_pem})
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Every token issued so far stops working (a 401 on its next use).
    pub fn expire_tokens(&self) {
        let past = std::time::Instant::now();
        self.state().tokens.values_mut().for_each(|until| *until = past);
    }

    /// A payer pays the charge in full: the PSP records the Pix and posts it
    /// to the registered URL + `/pix` (unless callbacks are dropped).
    /// Returns the endToEndId.
    pub async fn pay(&self, txid: &str) -> String {
        let (entry, url) = {
            let mut state = self.state();
            state.e2e_count += 1;
            let e2e = format!("E12345678202611231200{:011}", state.e2e_count);
            let cob = state.cobs.get_mut(txid).expect("a charge the PSP made");
            let entry = json!({"endToEndId": e2e, "txid": txid, "valor": cob["valor"]["original"],
                "chave": cob["chave"], "horario": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "infoPagador": "pedido"});
            cob["status"] = json!("CONCLUIDA");
            cob["pix"] = json!([entry]);
            state.pix.insert(e2e, entry.clone());
            let url = state.webhook_url.clone().filter(|_| !state.drop_webhooks);
            (entry, url)
        };
        if let Some(url) = url {
            let response = reqwest::Client::new()
                .post(format!("{url}/pix"))
                .json(&json!({"pix": [entry]}))
                .send()
                .await
                .expect("callback delivered");
            assert_eq!(response.status(), 200, "the shop accepts the callback");
        }
        entry["endToEndId"].as_str().unwrap().to_owned()
    }
}

impl FakePsp {
    /// The PSP returns part of a Pix on its own (`natureza` MED_FRAUDE or
    /// MED_OPERACIONAL, settled) and posts the Pix with its `devolucoes` to
    /// the registered URL + `/pix`. Returns the devolução's id.
    pub async fn med_return(&self, e2e: &str, amount: &str, nature: &str) -> String {
        let (entry, url, id) = {
            let mut state = self.state();
            state.e2e_count += 1;
            let id = format!("MED{:08}", state.e2e_count);
            let refund = json!({"id": id, "rtrId": format!("D12345678202611231200{:011}", state.e2e_count),
                "valor": amount, "status": "DEVOLVIDO", "natureza": nature, "motivo": "Devolução MED",
                "horario": {"solicitacao": "2026-11-23T13:00:00.000Z", "liquidacao": "2026-11-23T13:00:01.000Z"}});
            let pix = state.pix.get_mut(e2e).expect("a Pix the PSP received");
            push_return(pix, refund);
            let entry = pix.clone();
            (entry, state.webhook_url.clone(), id)
        };
        let url = url.expect("a registered webhook");
        let response =
            reqwest::Client::new().post(format!("{url}/pix")).json(&json!({"pix": [entry]})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        id
    }

    /// A Pix to the shop's key that names no charge (paid from a bank app
    /// by key), with no callback: only the daily sweep can find it.
    pub fn receive_unannounced(&self, amount: &str) -> String {
        let mut state = self.state();
        state.e2e_count += 1;
        let e2e = format!("E12345678202611231200{:011}", state.e2e_count);
        let entry = json!({"endToEndId": e2e, "valor": amount,
            "horario": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
        state.pix.insert(e2e.clone(), entry);
        e2e
    }
}

fn push_return(pix: &mut Value, refund: Value) {
    match pix["devolucoes"].as_array_mut() {
        Some(list) => list.push(refund),
        None => pix["devolucoes"] = json!([refund]),
    }
}

fn answer(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn not_found() -> Response<Full<Bytes>> {
    answer(StatusCode::NOT_FOUND, json!({"title": "Não encontrado", "status": 404}))
}

/// Answers, late when a stall is asked for.
async fn stalled(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let api = req.uri().path().starts_with("/api/v2/");
    let answer = handle(state.clone(), req).await?;
    let wait = {
        let mut state = state.lock().unwrap();
        let stall = api && state.stall_next > 0;
        if stall {
            state.stall_next -= 1;
        }
        stall.then_some(state.stall)
    };
    if let Some(wait) = wait {
        tokio::time::sleep(wait).await;
    }
    Ok(answer)
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut state = state.lock().unwrap();
    let path = parts.uri.path().to_owned();
    if path == "/oauth/token" {
        use base64::Engine;
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        if parts.method != Method::POST || header("authorization") != format!("Basic {expected}") {
            return Ok(answer(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"})));
        }
        state.tokens_issued += 1;
        let token = format!("token-{}", state.tokens_issued);
        let ttl = state.token_ttl;
        state.tokens.insert(token.clone(), std::time::Instant::now() + std::time::Duration::from_secs(ttl));
        return Ok(answer(StatusCode::OK, json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl})));
    }
    let Some(api) = path.strip_prefix("/api/v2/") else { return Ok(not_found()) };
    let bearer = header("authorization");
    let valid = bearer
        .strip_prefix("Bearer ")
        .and_then(|t| state.tokens.get(t))
        .is_some_and(|until| std::time::Instant::now() < *until);
    if !valid {
        return Ok(answer(StatusCode::UNAUTHORIZED, json!({"title": "Não autorizado", "status": 401})));
    }
    if state.fail_next > 0 {
        state.fail_next -= 1;
        return Ok(answer(StatusCode::INTERNAL_SERVER_ERROR, json!({"title": "Serviço indisponível", "status": 500})));
    }
    let segments: Vec<&str> = api.split('/').collect();
    let method = parts.method.clone();
    Ok(match (method, segments.as_slice()) {
        (Method::PUT, ["cob", txid]) => {
            state.cob_puts += 1;
            if let Some((status, problem)) = state.refuse_cob.clone() {
                return Ok(answer(StatusCode::from_u16(status).unwrap(), problem));
            }
            if state.cobs.contains_key(*txid) {
                return Ok(answer(StatusCode::CONFLICT, json!({"type": "txid_duplicado", "title": "txid_duplicado"})));
            }
            let cob = json!({"txid": txid, "revisao": 0, "status": "ATIVA",
                "calendario": {"criacao": "2026-11-23T12:00:00.000Z", "expiracao": body["calendario"]["expiracao"]},
                "valor": body["valor"], "chave": body["chave"],
                "location": format!("pix.example.com/qr/v2/{txid}"),
                "pixCopiaECola": format!("00020101021226830014br.gov.bcb.pix2561pix.example.com/qr/v2/{txid}5204000053039865802BR5913PADARIA6009SAO PAULO62070503***6304ABCD")});
            state.cobs.insert(txid.to_string(), cob.clone());
            answer(StatusCode::CREATED, cob)
        }
        (Method::GET, ["cob", txid]) => {
            state.cobs.get(*txid).map_or_else(not_found, |c| answer(StatusCode::OK, c.clone()))
        }
        (Method::PATCH, ["cob", txid]) => match state.cobs.get_mut(*txid) {
            Some(cob) => {
                cob["status"] = body["status"].clone();
                answer(StatusCode::OK, cob.clone())
            }
            None => not_found(),
        },
        (Method::GET, ["pix", e2e]) => {
            state.pix.get(*e2e).map_or_else(not_found, |p| answer(StatusCode::OK, p.clone()))
        }
        (Method::GET, ["pix"]) => {
            let all: Vec<Value> = state.pix.values().cloned().collect();
            answer(
                StatusCode::OK,
                json!({"parametros": {"paginacao": {"paginaAtual": 0, "quantidadeDePaginas": 1}}, "pix": all}),
            )
        }
        (Method::PUT, ["pix", e2e, "devolucao", id]) => {
            let later = state.refunds_settle_as;
            match state.pix.get_mut(*e2e) {
                Some(pix) => {
                    let mut refund = json!({"id": id, "rtrId": format!("D12345678202611231200{:011}", 1),
                        "valor": body["valor"], "status": later.unwrap_or("DEVOLVIDO"), "natureza": "ORIGINAL",
                        "horario": {"solicitacao": "2026-11-23T12:01:00.000Z", "liquidacao": "2026-11-23T12:01:01.000Z"}});
                    if later == Some("NAO_REALIZADO") {
                        refund["motivo"] = json!("Conta do pagador encerrada");
                    }
                    push_return(pix, refund.clone());
                    if later.is_some() {
                        refund["status"] = json!("EM_PROCESSAMENTO");
                    }
                    answer(StatusCode::CREATED, refund)
                }
                None => not_found(),
            }
        }
        (Method::GET, ["pix", e2e, "devolucao", id]) => state
            .pix
            .get(*e2e)
            .and_then(|p| p["devolucoes"].as_array()?.iter().find(|r| r["id"] == *id).cloned())
            .map_or_else(not_found, |r| answer(StatusCode::OK, r)),
        (Method::PUT, ["webhook", _key]) => {
            if let Some((status, problem)) = state.refuse_webhook.clone() {
                return Ok(answer(StatusCode::from_u16(status).unwrap(), problem));
            }
            state.webhook_url = body["webhookUrl"].as_str().map(str::to_owned);
            answer(StatusCode::OK, json!({}))
        }
        _ => not_found(),
    })
}
