//! Building the running service: database, secrets, demo data, HTTP server.

use crate::auth::JwtKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{Keyring, SecretKey};
use crate::db::{self, Backend, Pool};
use crate::demo::{self, DemoLogin};
use crate::http::{self, BodyLimits};
use crate::jobs::Runner;
use crate::services::Services;
use actix_web::dev::Server;
use actix_web::{App, HttpMessage, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use tracing_actix_web::{RequestId, TracingLogger};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
    #[error(transparent)]
    Mail(#[from] crate::channels::email::MailError),
    #[error("shop secrets: {0}")]
    Secrets(crate::shops::ShopError),
    #[error("CHATSHOP_SECRET_KEY: {0}")]
    SecretKey(crate::crypto::CryptoError),
    #[error(
        "set CHATSHOP_SECRET_KEY (32 random bytes as base64, e.g. `openssl rand -base64 32`): it seals shop secrets, and every process on this database needs the same one"
    )]
    NoSecretKey,
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

pub struct Application {
    server: Server,
    pub address: SocketAddr,
    pub backend: Backend,
    pub pool: Pool,
    /// Set when this start created the demo shop.
    pub demo: Option<DemoLogin>,
    pub services: Arc<Services>,
    /// Where the key that seals shop secrets comes from.
    pub secret_key: KeySource,
    /// The background work; tests drive it with `run_until_idle`.
    pub jobs: Runner<Services>,
}

/// Connects and migrates; shared by `serve` and `migrate`.
pub fn prepare_database(config: &Config) -> Result<(Pool, usize), StartupError> {
    let pool = db::connect(&config.database_url, config.database_pool_size)?;
    let mut conn = pool.get().map_err(db::DbError::from)?;
    let applied = db::migrate(&mut conn)?;
    Ok((pool, applied))
}

/// Where the key sealing shop secrets came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Setting,
    File { path: std::path::PathBuf, created: bool },
}

/// The key that seals shop secrets: `CHATSHOP_SECRET_KEY`, or on the embedded
/// SQLite default a key file beside the database, made on the first run. The
/// key never goes into the database it protects.
pub fn keyring(config: &Config) -> Result<(Keyring, KeySource), StartupError> {
    let old = config.secret_key_old.as_deref().map(SecretKey::parse).transpose().map_err(StartupError::SecretKey)?;
    if let Some(text) = &config.secret_key {
        let key = SecretKey::parse(text).map_err(StartupError::SecretKey)?;
        return Ok((Keyring::new(key, old), KeySource::Setting));
    }
    if Backend::of_url(&config.database_url) == Backend::Postgres {
        return Err(StartupError::NoSecretKey);
    }
    let database = std::path::Path::new(config.database_url.strip_prefix("sqlite://").unwrap_or(&config.database_url));
    let path = database.with_extension("key");
    let (key, created) = crate::crypto::key_from_file(&path).map_err(StartupError::SecretKey)?;
    Ok((Keyring::new(key, old), KeySource::File { path, created }))
}

/// The JWT secret: the configured one, else one generated once and kept with the data.
fn jwt_secret(config: &Config, pool: &Pool) -> Result<String, StartupError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let mut conn = pool.get().map_err(db::DbError::from)?;
    let generate = || format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    Ok(db::instance_settings::get_or_insert(&mut conn, "jwt_secret", generate)?)
}

/// Secrets stored before they were sealed are sealed now, before anything reads them.
fn seal_plaintext_secrets(services: &Services) -> Result<(), StartupError> {
    let mut conn = services.pool.get().map_err(db::DbError::from)?;
    let sealed = crate::shops::secrets::reseal(&mut conn, &services.keyring, false).map_err(StartupError::Secrets)?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed shop secrets that were stored in plaintext");
    }
    Ok(())
}

/// Every shop's next morning summary is queued (once: dedupe keys), so a
/// shop made before, or whose chain of summaries broke, gets it again.
fn schedule_summaries(services: &Services) {
    if !services.daily_summary {
        return;
    }
    let queued = services.pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
        crate::notify::summary::schedule_all(&mut conn, services.clock.now()).map_err(|e| e.to_string())
    });
    match queued {
        Ok(queued) => tracing::debug!(queued, "daily summaries scheduled"),
        // The service runs without: the next start tries again.
        Err(error) => tracing::error!(%error, "cannot schedule the daily summaries"),
    }
}

impl Application {
    pub fn build(config: &Config) -> Result<Application, StartupError> {
        Application::build_with_clock(config, Clock::system())
    }

    /// As `build`, with a clock the caller holds (tests move it by hand).
    pub fn build_with_clock(config: &Config, clock: Clock) -> Result<Application, StartupError> {
        let (keyring, secret_key) = keyring(config)?;
        let (pool, _) = prepare_database(config)?;
        let backend = db::Backend::of_url(&config.database_url);
        let keys = JwtKeys::new(jwt_secret(config, &pool)?.as_bytes(), config.token_ttl_seconds);
        let demo = if config.demo {
            let mut conn = pool.get().map_err(db::DbError::from)?;
            demo::seed_if_empty(&mut conn)?
        } else {
            None
        };
        let listener =
            TcpListener::bind(config.bind).map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        let limits = BodyLimits { json: config.json_body_limit, feed: config.feed_body_limit };
        let signup = http::SignUpPolicy { admin_token: config.admin_token.clone() };
        let app_pool = web::Data::new(pool.clone());
        let keys = web::Data::new(keys);
        let signup = web::Data::new(signup);
        // One of each for the process, shared by every HTTP worker.
        let hashing = web::Data::new(match config.hashing_slots {
            Some(slots) => http::HashingGate::new(slots),
            None => http::HashingGate::for_this_machine(),
        });
        let logins = web::Data::new(http::LoginLimiter::standard());
        let whatsapp = web::Data::new(http::WhatsAppApp {
            app_secret: config.whatsapp_app_secret.clone(),
            verify_token: config.whatsapp_verify_token.clone(),
        });
        let services =
            Arc::new(Services::new(config, pool.clone(), clock, keyring)?.with_public_url(config.public_url(address)));
        let jobs = services.runner();
        if config.run_worker {
            jobs.spawn();
        }
        seal_plaintext_secrets(&services)?;
        schedule_summaries(&services);
        let graph = web::Data::new(services.graph.clone());
        let services_data = web::Data::from(services.clone());
        let wake = web::Data::new(jobs.wake());
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap_fn(|req, srv| {
                    use actix_web::dev::Service;
                    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        if let Some(id) = request_id.and_then(|id| id.parse().ok()) {
                            response
                                .headers_mut()
                                .insert(actix_web::http::header::HeaderName::from_static("x-request-id"), id);
                        }
                        Ok(response)
                    }
                })
                .wrap(TracingLogger::default())
                .app_data(app_pool.clone())
                .app_data(keys.clone())
                .app_data(signup.clone())
                .app_data(hashing.clone())
                .app_data(logins.clone())
                .app_data(whatsapp.clone())
                .app_data(wake.clone())
                .app_data(graph.clone())
                .app_data(services_data.clone())
                .configure(|cfg| http::routes(cfg, limits))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(Application { server: server.run(), address, backend, pool, demo, services, secret_key, jobs })
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
