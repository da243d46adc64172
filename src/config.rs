//! Every setting, read once from the environment, with defaults that run on a
//! laptop: an SQLite file, the sandbox PSP, mail written to files.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
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
            mail_dir: lookup("CHATSHOP_MAIL_DIR").map_or_else(|| PathBuf::from("mail"), PathBuf::from),
            mail_from: lookup("CHATSHOP_MAIL_FROM").unwrap_or_else(|| "chatshop <no-reply@chatshop.local>".into()),
            admin_token: lookup("CHATSHOP_ADMIN_TOKEN"),
            demo,
            json_body_limit: parsed(&lookup, "CHATSHOP_JSON_LIMIT_BYTES", 64 * 1024)?,
            feed_body_limit: parsed(&lookup, "CHATSHOP_FEED_LIMIT_BYTES", 64 * 1024 * 1024)?,
            run_worker,
            workers: lookup("CHATSHOP_WORKERS").map(|w| w.parse()).transpose().map_err(
                |e: std::num::ParseIntError| ConfigError { name: "CHATSHOP_WORKERS", reason: e.to_string() },
            )?,
        })
    }

    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
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
    fn a_bad_setting_is_named() {
        let error = Config::from_lookup(|n| (n == "CHATSHOP_BIND").then(|| "nowhere".into())).unwrap_err();
        assert_eq!(error.name, "CHATSHOP_BIND");
    }
}
