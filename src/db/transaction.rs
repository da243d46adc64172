//! Write transactions that mean the same on both engines: the outermost is a
//! real transaction, a nested one a savepoint that rolls back alone.

use super::AnyConnection;
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};

type Manager = <AnyConnection as Connection>::TransactionManager;

/// Runs `f` in a transaction, or in a savepoint when one is already open.
///
/// The outermost level takes SQLite's write lock up front (`BEGIN IMMEDIATE`),
/// so two writers queue on `busy_timeout` instead of one failing with
/// SQLITE_BUSY when its read lock cannot be upgraded. A nested call's error
/// rolls back that call's writes only; the caller decides whether the outer
/// one goes on.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    begin(conn)?;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            // As diesel's own `transaction`: a broken manager already reports
            // itself on the next use, so the caller's error is the one to see.
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

fn begin(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    let depth = Manager::transaction_manager_status_mut(conn).transaction_depth()?;
    match (conn, depth) {
        // Already in a transaction: diesel's manager opens `SAVEPOINT diesel_savepoint_N`.
        (conn, Some(_)) => Manager::begin_transaction(conn),
        (AnyConnection::Sqlite(c), None) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        (AnyConnection::Postgresql(c), None) => AnsiTransactionManager::begin_transaction(c),
    }
}

/// How many transactions and savepoints are open on `conn` (0: none).
pub fn depth(conn: &mut AnyConnection) -> diesel::QueryResult<u32> {
    Ok(Manager::transaction_manager_status_mut(conn).transaction_depth()?.map_or(0, |d| d.get()))
}
