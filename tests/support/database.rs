//! A database per test, on SQLite or PostgreSQL, dropped after it.
//!
//! On PostgreSQL each test database is a copy of a migrated template,
//! `chatshop_template_<hash of migrations/postgres>`, built once per set of
//! migrations (as crates.io's `crates_io_test_db`), so adding migrations does
//! not slow every test. The template is built under an advisory lock, so
//! test processes started together (two developers, two worktrees) build it
//! once, and it refuses connections afterwards, which is what lets many
//! `CREATE DATABASE … TEMPLATE` run at once.

use chatshop::db::{AnyConnection, ConnectionManager};
use diesel::{Connection, PgConnection, RunQueryDsl};
use r2d2::ManageConnection;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Any key distinct from the app's migration lock; advisory locks are per
/// database, and this one is taken on the admin database.
const TEMPLATE_LOCK_KEY: i64 = 0x6368_6174_7465_6d70; // "chattemp"

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CHATSHOP_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether PostgreSQL answers; under CI its absence fails the test instead
/// of skipping it.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match pg(&postgres_admin_url()) {
        Ok(_) => true,
        Err(e) if in_ci() => panic!("PostgreSQL is required under CI=true and is not reachable: {e}"),
        Err(e) => {
            eprintln!("skipping PostgreSQL tests: {e} (start it, or set CHATSHOP_TEST_POSTGRES_URL)");
            false
        }
    })
}

/// Every PostgreSQL connection of the tests goes through here, after
/// `init_tls` (see there: a test process must not abort at exit).
fn pg(url: &str) -> diesel::ConnectionResult<PgConnection> {
    chatshop::db::init_tls();
    PgConnection::establish(url)
}

fn admin() -> PgConnection {
    pg(&postgres_admin_url()).expect("connect to PostgreSQL")
}

fn database_url(name: &str) -> String {
    let admin_url = postgres_admin_url();
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

fn execute(conn: &mut PgConnection, sql: &str) -> diesel::QueryResult<usize> {
    diesel::sql_query(sql).execute(conn)
}

/// A hash of every file under `migrations/postgres`, names included, so a
/// changed or added migration gets a template of its own.
fn migrations_hash() -> String {
    fn walk(dir: &Path, root: &Path, files: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("read migrations").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, files);
            } else {
                let name = path.strip_prefix(root).expect("inside root").to_string_lossy().into_owned();
                files.push((name, std::fs::read(&path).expect("read a migration")));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for (name, content) in files {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update((content.len() as u64).to_le_bytes());
        hash.update(&content);
    }
    hex::encode(&hash.finalize()[..8])
}

/// The migrated template's name, built on first use in this process.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("chatshop_template_{}", migrations_hash());
        let mut admin = admin();
        // Session-level: released when this connection closes, even if we panic.
        execute(&mut admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})")).expect("template lock");
        let ready = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}' AND datistemplate)"
        )))
        .get_result::<bool>(&mut admin)
        .expect("look for the template");
        if !ready {
            // Left half-built by a process that died: it is marked a template last.
            execute(&mut admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .expect("drop a stale template");
            execute(&mut admin, &format!("CREATE DATABASE {name}")).expect("create the template");
            {
                let mut conn = AnyConnection::Postgresql(pg(&database_url(&name)).expect("connect to the template"));
                chatshop::db::migrate(&mut conn).expect("migrate the template");
            }
            // No connections from now on: CREATE DATABASE … TEMPLATE fails
            // while anyone is connected to the template.
            execute(&mut admin, &format!("ALTER DATABASE {name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"))
                .expect("mark the template");
        }
        execute(&mut admin, &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})")).expect("template unlock");
        name
    })
}

/// PostgreSQL 15 copies a template through the WAL by default, which took
/// here 340 ms for our small template against 200 ms by file copy (and
/// 300 ms for an empty database and the migrations); older servers have no
/// choice to make.
fn copy_strategy(admin: &mut PgConnection) -> &'static str {
    static STRATEGY: OnceLock<&'static str> = OnceLock::new();
    STRATEGY.get_or_init(|| {
        let version = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "current_setting('server_version_num')::integer",
        ))
        .get_result::<i32>(admin)
        .expect("server version");
        if version >= 150000 { " STRATEGY FILE_COPY" } else { "" }
    })
}

/// A database that exists for one test and is dropped after it.
pub enum TestDatabase {
    Sqlite { url: String, _dir: tempfile::TempDir },
    Postgres { url: String, name: String },
}

impl TestDatabase {
    /// A fresh database; on PostgreSQL already migrated. `None` when
    /// PostgreSQL is asked for, is not running, and this is not CI.
    pub fn create(engine: Engine) -> Option<TestDatabase> {
        TestDatabase::create_from(engine, true)
    }

    /// A fresh database with no migrations applied, for tests of upgrades.
    pub fn create_unmigrated(engine: Engine) -> Option<TestDatabase> {
        TestDatabase::create_from(engine, false)
    }

    fn create_from(engine: Engine, migrated: bool) -> Option<TestDatabase> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = dir.path().join("chatshop.db").to_string_lossy().into_owned();
                Some(TestDatabase::Sqlite { url, _dir: dir })
            }
            Engine::Postgres => {
                if !postgres_available() {
                    return None;
                }
                let template = if migrated { template() } else { "template0" };
                let name = format!("chatshop_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = admin();
                let create = format!("CREATE DATABASE {name} TEMPLATE {template}{}", copy_strategy(&mut admin));
                // The template takes no connections, so this should not
                // happen; a retry covers someone connecting as superuser.
                let mut tries = 0;
                while let Err(e) = execute(&mut admin, &create) {
                    tries += 1;
                    assert!(
                        tries < 20 && e.to_string().contains("being accessed by other users"),
                        "create {name}: {e}"
                    );
                    std::thread::sleep(Duration::from_millis(50 * tries));
                }
                Some(TestDatabase::Postgres { url: database_url(&name), name })
            }
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            TestDatabase::Sqlite { .. } => Engine::Sqlite,
            TestDatabase::Postgres { .. } => Engine::Postgres,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }

    /// One migrated connection, with the app's per-connection settings.
    pub fn connect(&self) -> AnyConnection {
        let mut conn = ConnectionManager::new(self.url()).connect().expect("connect to the test database");
        chatshop::db::migrate(&mut conn).expect("migrate the test database");
        conn
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { name, .. } = self
            && let Ok(mut admin) = pg(&postgres_admin_url())
        {
            let _ = execute(&mut admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Declares a plain (not async) test that runs `$name(TestDatabase)` once
/// on SQLite and once on PostgreSQL, each on a fresh database.
#[macro_export]
macro_rules! on_both_engines {
    ($name:ident) => {
        mod $name {
            use $crate::support::database::{Engine, TestDatabase};

            #[test]
            fn sqlite() {
                if let Some(db) = TestDatabase::create(Engine::Sqlite) {
                    super::$name(db);
                }
            }

            #[test]
            fn postgres() {
                if let Some(db) = TestDatabase::create(Engine::Postgres) {
                    super::$name(db);
                }
            }
        }
    };
}
