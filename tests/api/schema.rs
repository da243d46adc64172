//! `src/db/schema.rs` is kept by hand: it must say what the migrations
//! really build, on both engines, and the two migration folders must hold
//! the same migrations.
//!
//! schema.rs is read as text, so a new `table!` is checked without anyone
//! listing it here; a column type this test does not know fails loudly.

use crate::on_both_engines;
use crate::support::database::TestDatabase;
use chatshop::db::AnyConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
struct Column {
    /// The diesel SQL type without `Nullable<>`, e.g. `BigInt`.
    sql_type: String,
    nullable: bool,
}

#[derive(Debug, Default)]
struct Table {
    primary_key: Vec<String>,
    columns: BTreeMap<String, Column>,
}

/// Reads the `diesel::table!` blocks of schema.rs.
fn declared_tables(source: &str) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let mut current: Option<(String, Table)> = None;
    let mut in_macro = false;
    let mut sql_name: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if line.starts_with("//") || line.starts_with("use ") || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("#[sql_name = \"").and_then(|l| l.strip_suffix("\"]")) {
            sql_name = Some(name.to_owned());
            continue;
        }
        if line.starts_with("#[") {
            continue;
        }
        if line.ends_with("table! {") {
            in_macro = true;
            continue;
        }
        if !in_macro {
            continue;
        }
        match &mut current {
            None => {
                // `name (pk, ...) {`
                let (name, rest) = line.split_once('(').unwrap_or_else(|| panic!("table header: {line}"));
                let key = rest.split_once(')').unwrap_or_else(|| panic!("table header: {line}")).0;
                let primary_key = key.split(',').map(|k| k.trim().trim_start_matches("r#").to_owned()).collect();
                let name = sql_name.take().unwrap_or_else(|| name.trim().trim_start_matches("r#").to_owned());
                current = Some((name, Table { primary_key, columns: BTreeMap::new() }));
            }
            Some((_, table)) if line != "}" => {
                // `column -> Type,`
                let (name, ty) = line.split_once("->").unwrap_or_else(|| panic!("column line: {line}"));
                let name = sql_name.take().unwrap_or_else(|| name.trim().trim_start_matches("r#").to_owned());
                let ty = ty.trim().trim_end_matches(',');
                let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                    Some(inner) => (inner, true),
                    None => (ty, false),
                };
                let sql_type = ty.rsplit("::").next().unwrap_or(ty).to_owned();
                table.columns.insert(name, Column { sql_type, nullable });
            }
            Some(_) => {
                let (name, table) = current.take().expect("a table");
                tables.insert(name, table);
                in_macro = false;
            }
        }
    }
    let blocks = source.matches("table! {").count();
    assert_eq!(tables.len(), blocks, "schema.rs: read {} of {blocks} table! blocks", tables.len());
    tables
}

/// What a diesel SQL type may be stored as on each engine.
fn compatible(sql_type: &str, engine_type: &str, postgres: bool) -> bool {
    let accepted: &[&str] = match (sql_type, postgres) {
        ("Text", true) => &["text", "character varying"],
        ("Text", false) => &["TEXT"],
        ("BigInt", true) => &["bigint"],
        // SQLite keeps every integer in 64 bits.
        ("BigInt", false) => &["BIGINT", "INTEGER"],
        ("Integer", true) => &["integer"],
        ("Integer", false) => &["INTEGER", "INT"],
        ("SmallInt", true) => &["smallint"],
        ("SmallInt", false) => &["SMALLINT", "INTEGER"],
        ("Bool", true) => &["boolean"],
        ("Bool", false) => &["BOOLEAN", "BOOL"],
        ("Timestamp", true) => &["timestamp without time zone"],
        ("Timestamp", false) => &["TIMESTAMP", "DATETIME"],
        ("Date", true) => &["date"],
        ("Date", false) => &["DATE"],
        ("Double", true) => &["double precision"],
        ("Double", false) => &["DOUBLE", "REAL", "DOUBLE PRECISION"],
        ("Binary", true) => &["bytea"],
        ("Binary", false) => &["BLOB"],
        _ => panic!("schema.rs uses `{sql_type}`: say in tests/api/schema.rs how each engine stores it"),
    };
    accepted.contains(&engine_type)
}

#[derive(QueryableByName, Debug)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    /// Position in the primary key, 0 when not part of it.
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

fn actual_columns(conn: &mut AnyConnection) -> Vec<ColumnRow> {
    let rows = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
                    p.\"notnull\" <> 0 AS not_null, p.pk AS pk \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND m.name <> '{MIGRATIONS_TABLE}'"
        ))
        .load(c),
        AnyConnection::Postgresql(c) => diesel::sql_query(format!(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                    c.is_nullable = 'NO' AS not_null, COALESCE(k.ordinal_position, 0)::bigint AS pk \
             FROM information_schema.columns c \
             JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
             LEFT JOIN information_schema.table_constraints tc \
               ON tc.table_schema = c.table_schema AND tc.table_name = c.table_name \
              AND tc.constraint_type = 'PRIMARY KEY' \
             LEFT JOIN information_schema.key_column_usage k \
               ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name \
              AND k.column_name = c.column_name \
             WHERE c.table_schema = current_schema() AND c.table_name <> '{MIGRATIONS_TABLE}'"
        ))
        .load(c),
    };
    rows.expect("read the database's columns")
}

fn schema_rs_matches_the_migrated_database(db: TestDatabase) {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs")).expect("schema.rs");
    let declared = declared_tables(&source);
    let mut conn = db.connect();
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    let mut actual: BTreeMap<String, Table> = BTreeMap::new();
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for row in actual_columns(&mut conn) {
        // SQLite lets a TEXT primary key hold NULL unless it says NOT NULL;
        // an INTEGER PRIMARY KEY is the rowid and cannot.
        let rowid = !postgres && row.pk > 0 && row.data_type == "INTEGER";
        if row.pk > 0 {
            keys.entry(row.table_name.clone()).or_default().push((row.pk, row.column_name.clone()));
        }
        actual
            .entry(row.table_name)
            .or_default()
            .columns
            .insert(row.column_name, Column { sql_type: row.data_type, nullable: !row.not_null && !rowid });
    }
    for (table, mut key) in keys {
        key.sort();
        actual.entry(table).or_default().primary_key = key.into_iter().map(|(_, c)| c).collect();
    }

    let mut problems = Vec::new();
    for (name, table) in &declared {
        let Some(real) = actual.get(name) else {
            problems.push(format!("table `{name}` is in schema.rs but not in the database"));
            continue;
        };
        if table.primary_key != real.primary_key {
            problems.push(format!(
                "`{name}`: primary key {:?} in schema.rs, {:?} in the database",
                table.primary_key, real.primary_key
            ));
        }
        for (column, want) in &table.columns {
            match real.columns.get(column) {
                None => problems.push(format!("`{name}.{column}` is in schema.rs but not in the database")),
                Some(got) => {
                    if !compatible(&want.sql_type, &got.sql_type, postgres) {
                        problems.push(format!(
                            "`{name}.{column}`: {} in schema.rs, {} in the database",
                            want.sql_type, got.sql_type
                        ));
                    }
                    if want.nullable != got.nullable {
                        let null = |n: bool| if n { "nullable" } else { "NOT NULL" };
                        problems.push(format!(
                            "`{name}.{column}`: {} in schema.rs, {} in the database",
                            null(want.nullable),
                            null(got.nullable)
                        ));
                    }
                }
            }
        }
        for column in real.columns.keys().filter(|c| !table.columns.contains_key(*c)) {
            problems.push(format!("`{name}.{column}` is in the database but not in schema.rs"));
        }
    }
    for name in actual.keys().filter(|t| !declared.contains_key(*t)) {
        problems.push(format!("table `{name}` is in the database but not in schema.rs"));
    }
    assert!(
        problems.is_empty(),
        "schema.rs differs from the migrated {} database:\n{}",
        if postgres { "PostgreSQL" } else { "SQLite" },
        problems.join("\n")
    );
}
on_both_engines!(schema_rs_matches_the_migrated_database);

#[test]
fn both_engines_have_the_same_migrations() {
    let names = |engine: &str| -> Vec<String> {
        let dir = format!("{}/migrations/{engine}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|e| e.expect("entry"))
            .filter(|e| e.path().is_dir())
            .map(|e| {
                assert!(e.path().join("up.sql").is_file(), "{:?} has no up.sql", e.path());
                e.file_name().to_string_lossy().into_owned()
            })
            .collect();
        names.sort();
        names
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres differ");
}

/// The text reader against diesel's own metadata, on tables unlikely to go.
#[test]
fn the_schema_reader_reads_what_diesel_reads() {
    use chatshop::db::schema::{shops, users};
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs")).expect("schema.rs");
    let declared = declared_tables(&source);
    // diesel lists a table's columns in its `SELECT *`.
    let names = |sql: String| -> Vec<String> {
        let list = sql.trim_start_matches("SELECT ").split(" FROM ").next().expect("columns").to_owned();
        let mut names: Vec<String> =
            list.split(", ").map(|c| c.rsplit('.').next().expect("name").trim_matches('`').to_owned()).collect();
        names.sort();
        names
    };
    let (shops_query, users_query) = (shops::table.select(shops::all_columns), users::table.select(users::all_columns));
    let shops_sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&shops_query);
    let users_sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&users_query);
    assert_eq!(declared["shops"].columns.keys().cloned().collect::<Vec<_>>(), names(shops_sql.to_string()));
    assert_eq!(declared["users"].columns.keys().cloned().collect::<Vec<_>>(), names(users_sql.to_string()));
    assert_eq!(declared["users"].primary_key, ["id"]);
    assert!(declared["shops"].columns["notify_email"].nullable);
    assert_eq!(declared["shops"].columns["created_at"], Column { sql_type: "Timestamp".into(), nullable: false });
}
