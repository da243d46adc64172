//! Write transactions that mean the same on both engines: the outermost is a
//! real transaction, a nested one a savepoint that rolls back alone.

use super::AnyConnection;
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use std::cell::RefCell;

thread_local! {
    /// What to do once the outermost write transaction on this thread commits.
    static AFTER_COMMIT: RefCell<Vec<fn()>> = const { RefCell::new(Vec::new()) };
}

/// Runs `hook` once the transaction open on `conn` commits (at once when none
/// is open), and not at all if it rolls back: work queued in a transaction is
/// announced only when others can see it. Hooks are deduplicated.
pub fn after_commit(conn: &mut AnyConnection, hook: fn()) {
    if depth(conn).unwrap_or(0) == 0 {
        hook();
        return;
    }
    AFTER_COMMIT.with(|hooks| {
        let mut hooks = hooks.borrow_mut();
        if !hooks.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
            hooks.push(hook);
        }
    });
}

fn take_hooks() -> Vec<fn()> {
    AFTER_COMMIT.with(|hooks| std::mem::take(&mut *hooks.borrow_mut()))
}

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
    let outermost = depth(conn)? == 0;
    begin(conn)?;
    match f(conn) {
        Ok(value) => {
            let committed = Manager::commit_transaction(conn);
            if outermost {
                let hooks = take_hooks();
                if committed.is_ok() {
                    hooks.into_iter().for_each(|hook| hook());
                }
            }
            committed?;
            Ok(value)
        }
        Err(error) if outermost => {
            take_hooks();
            match Manager::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback) => Err(rollback.into()),
            }
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
