//! The database: one connection type over SQLite (the embedded default) and
//! PostgreSQL (production), an r2d2 pool, embedded migrations per backend.

mod connection;
pub mod schema;
mod transaction;
pub mod types;

pub use connection::{AnyConnection, ConnectionManager, MultiBackend, init_tls};
pub use transaction::{after_commit, depth as transaction_depth, write_transaction};

use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A key every chatshop process agrees on, so that only one of several
/// processes starting together on one PostgreSQL runs the migrations.
const MIGRATION_LOCK_KEY: i64 = 0x6368_6174_7368_6f70; // "chatshop"

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("the database connection pool is exhausted: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Which engine a URL points at, decided by its scheme (the derived
/// `establish` of a MultiConnection hides PostgreSQL's real error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the pool and checks that one connection can be made, so a wrong
/// URL fails at start with the engine's own message.
pub fn connect(url: &str, max_size: u32) -> Result<Pool, DbError> {
    let manager = ConnectionManager::new(url);
    let backend = Backend::of_url(url);
    // One direct attempt first: r2d2 would retry until its timeout and then
    // report only that it timed out.
    r2d2::ManageConnection::connect(&manager).map_err(|e| DbError::Connect(e.to_string()))?;
    r2d2::Pool::builder()
        // SQLite has one writer; a few readers are plenty for one process.
        .max_size(match backend {
            Backend::Sqlite => max_size.min(8),
            Backend::Postgres => max_size,
        })
        .connection_timeout(Duration::from_secs(10))
        .build(manager)
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// Applies every pending migration of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut AnyConnection) -> Result<usize, DbError> {
    let migration_error = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        AnyConnection::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()).map_err(migration_error)
        }
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(c)?;
            let ran = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(c)?;
            ran.map_err(migration_error)
        }
    }
}

/// Runs the same body against the concrete connection of either backend, for
/// the queries the shared connection type cannot express (batch inserts,
/// `ON CONFLICT`, `SKIP LOCKED`). The body is compiled once per backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Timestamps are kept to the microsecond: PostgreSQL stores no finer, and the
/// same value must read back equal on both engines.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc()).unwrap_or(now)
}

/// A short-lived key/value table for what the instance generates once and
/// keeps with its data (the JWT secret on the embedded default).
pub mod instance_settings {
    use super::schema::instance_settings::dsl::*;
    use super::{AnyConnection, DbError};
    use diesel::prelude::*;

    pub fn get(conn: &mut AnyConnection, name: &str) -> Result<Option<String>, DbError> {
        Ok(instance_settings.filter(key.eq(name)).select(value).first::<String>(conn).optional()?)
    }

    /// Returns the stored value, or stores and returns `make()` if none is
    /// stored yet; a race between processes resolves to the first writer.
    pub fn get_or_insert(
        conn: &mut AnyConnection,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, DbError> {
        if let Some(existing) = get(conn, name)? {
            return Ok(existing);
        }
        let inserted = diesel::insert_into(instance_settings).values((key.eq(name), value.eq(make()))).execute(conn);
        match inserted {
            Ok(_) => {}
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
        get(conn, name)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}
