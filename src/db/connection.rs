use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// Call before the first PostgreSQL connection of a process (the pool's
/// manager does; so must code that connects by other means).
///
/// libpq encrypts with the system OpenSSL, which by default frees its global
/// state in an `atexit` handler. Threads still alive at exit (pool threads,
/// runtime threads, a thread whose OpenSSL per-thread state is being freed
/// as it ends) then race that cleanup and can abort the process with a double
/// free (openssl/openssl#6214). Initialising OpenSSL first with
/// `OPENSSL_INIT_NO_ATEXIT`, as rust-openssl does, leaves it to the OS.
pub fn init_tls() {
    openssl_sys::init();
}

/// One connection type over both engines; domain code is written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl AnyConnection {
    pub fn backend(&self) -> super::Backend {
        match self {
            AnyConnection::Postgresql(_) => super::Backend::Postgres,
            AnyConnection::Sqlite(_) => super::Backend::Sqlite,
        }
    }
}

/// An r2d2 manager that picks the engine by URL scheme and keeps the engine's
/// own error, and sets SQLite's per-connection pragmas.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned() }
    }
}

/// WAL lets readers run beside the one writer; busy_timeout makes a second
/// writer wait instead of failing (SQLite's busy handler is not fair: under
/// a loaded machine one of eight writers waited past 5 s and a Pix failed to
/// record, so the wait is 30 s); SQLite leaves foreign keys off by default.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        match super::Backend::of_url(&self.url) {
            super::Backend::Postgres => {
                init_tls();
                diesel::PgConnection::establish(&self.url).map(AnyConnection::Postgresql)
            }
            super::Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = diesel::SqliteConnection::establish(path)?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1").map_err(ConnectionError::CouldntSetupConfiguration)
    }

    /// A connection left inside a transaction (a panic mid-transaction, a
    /// failed rollback) would hold SQLite's write lock forever: drop it.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::TransactionManager;
        let status = <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
        std::thread::panicking() || !matches!(status.transaction_depth(), Ok(None))
    }
}
