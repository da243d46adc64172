//! Every setting, read once from the environment, with defaults that run on a
//! laptop: an SQLite file, the sandbox PSP, mail written to files.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone)]
pub struct Config {
    /// `postgres://…` or an SQLite file path.
    pub database_url: String,
    pub database_pool_size: u32,
    pub bind: SocketAddr,
    /// Where customers and PSPs reach this service; defaults to the bind address.
    pub public_url: Option<String>,
    /// HS256 secret; absent: generated once and kept in the database.
    pub jwt_secret: Option<String>,
    pub token_ttl_seconds: i64,
    pub whatsapp_app_secret: Option<String>,
    pub whatsapp_verify_token: Option<String>,
    pub whatsapp_graph_url: String,
    pub whatsapp_api_version: String,
    /// Absent: mail is written as .eml files to `mail_dir`.
    pub smtp_url: Option<String>,
    /// CA certificates (PEM) trusted beside the system's for the SMTP
    /// server's TLS, for a server behind a private CA (`CHATSHOP_SMTP_CA_FILE`).
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_dir: PathBuf,
    /// The sender of the shop's notifications.
    pub mail_from: String,
    /// When set, opening a shop needs `Authorization: Bearer <admin token>`.
    pub admin_token: Option<String>,
    /// Create a demo shop on an empty database (default: on SQLite only).
    pub demo: bool,
    pub json_body_limit: usize,
    pub feed_body_limit: usize,
    /// HTTP worker threads; absent: one per core.
    pub workers: Option<usize>,
    /// Run background jobs from this process (`CHATSHOP_WORKER`, default on).
    pub run_worker: bool,
    /// Seals shop secrets at rest (`CHATSHOP_SECRET_KEY`, 32 bytes as base64
    /// or hex); absent on the embedded default: a key file beside the database.
    pub secret_key: Option<String>,
    /// The key before a rotation, still accepted for reading (`CHATSHOP_SECRET_KEY_OLD`).
    pub secret_key_old: Option<String>,
    /// Password hashes computed at once (`CHATSHOP_HASHING_SLOTS`); absent: two per core.
    pub hashing_slots: Option<usize>,
    /// `POST /sandbox/pix/{txid}/pay` and `chatshop pay` (`CHATSHOP_SANDBOX`, default on).
    pub sandbox: bool,
    /// How often a pending charge is checked at its PSP (`CHATSHOP_RECONCILE_INTERVAL_SECONDS`).
    pub reconcile_interval_seconds: i64,
    /// How long a customer has to pay, unless the shop says (`CHATSHOP_CHARGE_TTL_SECONDS`).
    pub charge_ttl_seconds: i64,
    /// CA certificates (PEM) trusted for PSPs beside the system's, for a PSP
    /// behind a private CA or a local fake (`CHATSHOP_PSP_CA_FILE`).
    pub psp_ca_file: Option<PathBuf>,
    /// The longest one call to a PSP may take, connecting included
    /// (`CHATSHOP_PSP_TIMEOUT_SECONDS`, default 20); a call past it is
    /// retried by the jobs queue.
    pub psp_timeout_seconds: i64,
    /// How long a worker holds a claimed job before another may take it
    /// (`CHATSHOP_JOB_LEASE_SECONDS`, default 60); longer than any one
    /// outside call (a webhook waits at most 20 s).
    pub job_lease_seconds: i64,
    /// Every shop's morning summary is scheduled (at start, at sign-up, and
    /// each run the next day's) (`CHATSHOP_DAILY_SUMMARY`, default on).
    pub daily_summary: bool,
}

/// Secrets show as set or not, never their value.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |value: &Option<String>| if value.is_some() { "Some(***)" } else { "None" };
        // An SMTP URL may carry a password; a PostgreSQL URL too.
        let url = |value: &str| match (value.find("://"), value.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &value[..scheme + 3], &value[at..]),
            _ => value.to_owned(),
        };
        f.debug_struct("Config")
            .field("database_url", &url(&self.database_url))
            .field("database_pool_size", &self.database_pool_size)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("jwt_secret", &hidden(&self.jwt_secret))
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("whatsapp_app_secret", &hidden(&self.whatsapp_app_secret))
            .field("whatsapp_verify_token", &hidden(&self.whatsapp_verify_token))
            .field("whatsapp_graph_url", &self.whatsapp_graph_url)
            .field("whatsapp_api_version", &self.whatsapp_api_version)
            .field("smtp_url", &self.smtp_url.as_deref().map(url))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("admin_token", &hidden(&self.admin_token))
            .field("demo", &self.demo)
            .field("json_body_limit", &self.json_body_limit)
            .field("feed_body_limit", &self.feed_body_limit)
            .field("workers", &self.workers)
            .field("run_worker", &self.run_worker)
            .field("secret_key", &hidden(&self.secret_key))
            .field("secret_key_old", &hidden(&self.secret_key_old))
            .field("hashing_slots", &self.hashing_slots)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// A true/false setting, true when absent.
fn flag(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match lookup(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError { name, reason: format!("`{other}` is not true or false") }),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so tests can supply their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        fn parsed<T: std::str::FromStr>(
            lookup: &impl Fn(&str) -> Option<String>,
            name: &'static str,
            default: T,
        ) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            match lookup(name) {
                None => Ok(default),
                Some(text) => {
                    text.trim().parse().map_err(|e: T::Err| ConfigError { name, reason: format!("`{text}`: {e}") })
                }
            }
        }
        let bind: SocketAddr = parsed(&lookup, "CHATSHOP_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        let run_worker = flag(&lookup, "CHATSHOP_WORKER")?;
        let database_url = lookup("DATABASE_URL").unwrap_or_else(|| "chatshop.db".into());
        // A demo shop belongs on a laptop, not on a production PostgreSQL,
        // unless asked for.
        let demo = match lookup("CHATSHOP_DEMO") {
            None => crate::db::Backend::of_url(&database_url) == crate::db::Backend::Sqlite,
            Some(_) => flag(&lookup, "CHATSHOP_DEMO")?,
        };
        Ok(Config {
            database_url,
            database_pool_size: parsed(&lookup, "CHATSHOP_DB_POOL_SIZE", 10)?,
            bind,
            public_url: lookup("CHATSHOP_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            jwt_secret: lookup("CHATSHOP_JWT_SECRET"),
            token_ttl_seconds: parsed(&lookup, "CHATSHOP_TOKEN_TTL_SECONDS", 12 * 3600)?,
            whatsapp_app_secret: lookup("WHATSAPP_APP_SECRET"),
            whatsapp_verify_token: lookup("WHATSAPP_VERIFY_TOKEN"),
            whatsapp_graph_url: lookup("WHATSAPP_GRAPH_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into())
                .trim_end_matches('/')
                .to_owned(),
            whatsapp_api_version: lookup("WHATSAPP_API_VERSION").unwrap_or_else(|| "v24.0".into()),
            smtp_url: lookup("SMTP_URL"),
            smtp_ca_file: lookup("CHATSHOP_SMTP_CA_FILE").map(PathBuf::from),
            mail_dir: lookup("CHATSHOP_MAIL_DIR").map_or_else(|| PathBuf::from("mail"), PathBuf::from),
            mail_from: lookup("CHATSHOP_MAIL_FROM").unwrap_or_else(|| "chatshop <no-reply@chatshop.local>".into()),
            admin_token: lookup("CHATSHOP_ADMIN_TOKEN"),
            demo,
            json_body_limit: parsed(&lookup, "CHATSHOP_JSON_LIMIT_BYTES", 64 * 1024)?,
            feed_body_limit: parsed(&lookup, "CHATSHOP_FEED_LIMIT_BYTES", 64 * 1024 * 1024)?,
            run_worker,
            secret_key: lookup("CHATSHOP_SECRET_KEY"),
            secret_key_old: lookup("CHATSHOP_SECRET_KEY_OLD"),
            hashing_slots: lookup("CHATSHOP_HASHING_SLOTS").map(|n| n.trim().parse()).transpose().map_err(
                |e: std::num::ParseIntError| ConfigError { name: "CHATSHOP_HASHING_SLOTS", reason: e.to_string() },
            )?,
            sandbox: flag(&lookup, "CHATSHOP_SANDBOX")?,
            reconcile_interval_seconds: positive(
                parsed(&lookup, "CHATSHOP_RECONCILE_INTERVAL_SECONDS", 60)?,
                "CHATSHOP_RECONCILE_INTERVAL_SECONDS",
            )?,
            charge_ttl_seconds: positive(
                parsed(&lookup, "CHATSHOP_CHARGE_TTL_SECONDS", 1800)?,
                "CHATSHOP_CHARGE_TTL_SECONDS",
            )?,
            psp_ca_file: lookup("CHATSHOP_PSP_CA_FILE").map(PathBuf::from),
            psp_timeout_seconds: positive(
                parsed(&lookup, "CHATSHOP_PSP_TIMEOUT_SECONDS", 20)?,
                "CHATSHOP_PSP_TIMEOUT_SECONDS",
            )?,
            job_lease_seconds: positive(
                parsed(&lookup, "CHATSHOP_JOB_LEASE_SECONDS", 60)?,
                "CHATSHOP_JOB_LEASE_SECONDS",
            )?,
            daily_summary: flag(&lookup, "CHATSHOP_DAILY_SUMMARY")?,
            workers: lookup("CHATSHOP_WORKERS").map(|w| w.parse()).transpose().map_err(
                |e: std::num::ParseIntError| ConfigError { name: "CHATSHOP_WORKERS", reason: e.to_string() },
            )?,
        })
    }

    pub fn reconcile_interval(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.reconcile_interval_seconds)
    }

    pub fn psp_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.psp_timeout_seconds.unsigned_abs())
    }

    pub fn charge_ttl(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.charge_ttl_seconds)
    }

    pub fn job_lease(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.job_lease_seconds)
    }

    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

fn positive(value: i64, name: &'static str) -> Result<i64, ConfigError> {
    if value > 0 { Ok(value) } else { Err(ConfigError { name, reason: format!("`{value}` must be more than 0") }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_a_laptop() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, "chatshop.db");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(config.demo && config.smtp_url.is_none());
    }

    #[test]
    fn the_demo_shop_is_made_on_sqlite_only_unless_asked() {
        let on = |url: &'static str, demo: Option<&'static str>| {
            Config::from_lookup(move |n| match n {
                "DATABASE_URL" => Some(url.into()),
                "CHATSHOP_DEMO" => demo.map(Into::into),
                _ => None,
            })
            .unwrap()
            .demo
        };
        assert!(on("shop.db", None));
        assert!(!on("postgres://db/chatshop", None));
        assert!(on("postgres://db/chatshop", Some("true")));
        assert!(!on("shop.db", Some("off")));
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://chatshop:pg-password@db/chatshop".into()),
            "CHATSHOP_JWT_SECRET" => Some("jwt-secret-value".into()),
            "WHATSAPP_APP_SECRET" => Some("meta-app-secret-value".into()),
            "WHATSAPP_VERIFY_TOKEN" => Some("verify-token-value".into()),
            "SMTP_URL" => Some("smtps://mailer:smtp-password@mail.example.com".into()),
            "CHATSHOP_ADMIN_TOKEN" => Some("admin-token-value".into()),
            "CHATSHOP_SECRET_KEY" => Some("secret-key-value".into()),
            "CHATSHOP_SECRET_KEY_OLD" => Some("old-secret-key-value".into()),
            _ => None,
        })
        .unwrap();
        let shown = format!("{config:?}");
        for secret in [
            "pg-password",
            "jwt-secret-value",
            "meta-app-secret-value",
            "verify-token-value",
            "smtp-password",
            "admin-token-value",
            "secret-key-value",
        ] {
            assert!(!shown.contains(secret), "{secret} shows in {shown}");
        }
        assert!(shown.contains("mail.example.com") && shown.contains("jwt_secret: \"Some(***)\""), "{shown}");
    }

    #[test]
    fn a_bad_setting_is_named() {
        let error = Config::from_lookup(|n| (n == "CHATSHOP_BIND").then(|| "nowhere".into())).unwrap_err();
        assert_eq!(error.name, "CHATSHOP_BIND");
    }
}
