//! `db::write_transaction` nests: a nested call is a savepoint that rolls
//! back alone, on both engines.

use crate::on_both_engines;
use crate::support::database::TestDatabase;
use chatshop::db::{AnyConnection, schema::instance_settings::dsl::*, transaction_depth, write_transaction};
use diesel::prelude::*;
use diesel::result::Error;

fn put(conn: &mut AnyConnection, name: &str) -> QueryResult<usize> {
    diesel::insert_into(instance_settings).values((key.eq(name), value.eq("v"))).execute(conn)
}

fn keys(conn: &mut AnyConnection) -> Vec<String> {
    instance_settings.select(key).order(key).load(conn).expect("keys")
}

fn depth(conn: &mut AnyConnection) -> u32 {
    transaction_depth(conn).expect("depth")
}

fn an_inner_error_rolls_back_only_the_inner_writes(db: TestDatabase) {
    let mut conn = db.connect();
    write_transaction(&mut conn, |c| {
        put(c, "a")?;
        let inner: Result<(), Error> = write_transaction(c, |c| {
            assert_eq!(depth(c), 2);
            put(c, "b")?;
            Err(Error::RollbackTransaction)
        });
        assert!(inner.is_err());
        // A failed statement too: without a savepoint PostgreSQL would
        // refuse every later statement of the outer transaction.
        let duplicate = write_transaction(c, |c| put(c, "a"));
        assert!(
            matches!(duplicate, Err(Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))),
            "{duplicate:?}"
        );
        assert_eq!(depth(c), 1);
        put(c, "c")?;
        Ok::<_, Error>(())
    })
    .expect("outer commits");
    assert_eq!(keys(&mut conn), ["a", "c"]);
    assert_eq!(depth(&mut conn), 0);
}
on_both_engines!(an_inner_error_rolls_back_only_the_inner_writes);

fn an_outer_error_rolls_back_everything(db: TestDatabase) {
    let mut conn = db.connect();
    let outcome: Result<(), Error> = write_transaction(&mut conn, |c| {
        put(c, "a")?;
        write_transaction(c, |c| put(c, "b"))?;
        Err(Error::RollbackTransaction)
    });
    assert!(outcome.is_err());
    assert!(keys(&mut conn).is_empty());
    assert_eq!(depth(&mut conn), 0);
}
on_both_engines!(an_outer_error_rolls_back_everything);

fn three_levels_deep(db: TestDatabase) {
    let mut conn = db.connect();
    write_transaction(&mut conn, |c| {
        put(c, "1")?;
        // Level 2 commits its own write and the part of level 3 that did.
        write_transaction(c, |c| {
            put(c, "2")?;
            let third: Result<(), Error> = write_transaction(c, |c| {
                assert_eq!(depth(c), 3);
                put(c, "3")?;
                Err(Error::RollbackTransaction)
            });
            assert!(third.is_err());
            write_transaction(c, |c| put(c, "3b"))?;
            Ok::<_, Error>(())
        })?;
        // Level 2 fails: its level 3, committed inside it, goes with it.
        let second: Result<(), Error> = write_transaction(c, |c| {
            put(c, "4")?;
            write_transaction(c, |c| put(c, "5"))?;
            Err(Error::RollbackTransaction)
        });
        assert!(second.is_err());
        Ok::<_, Error>(())
    })
    .expect("outer commits");
    assert_eq!(keys(&mut conn), ["1", "2", "3b"]);
    assert_eq!(depth(&mut conn), 0);
}
on_both_engines!(three_levels_deep);

/// The outermost level takes SQLite's write lock at BEGIN, before any write:
/// a second writer is turned away at once instead of deadlocking later on
/// a lock upgrade.
#[test]
fn on_sqlite_the_outermost_level_takes_the_write_lock_up_front() {
    let db = TestDatabase::create(crate::support::database::Engine::Sqlite).expect("sqlite");
    let mut first = db.connect();
    let mut second = db.connect();
    diesel::connection::SimpleConnection::batch_execute(&mut second, "PRAGMA busy_timeout = 0").expect("pragma");
    write_transaction(&mut first, |_| {
        let refused = put(&mut second, "x");
        assert!(refused.as_ref().is_err_and(|e| e.to_string().contains("locked")), "{refused:?}");
        Ok::<_, Error>(())
    })
    .expect("commits");
    put(&mut second, "x").expect("free once the first commits");
}

thread_local! {
    static FIRED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn fire() {
    FIRED.with(|f| f.set(f.get() + 1));
}

fn fired() -> usize {
    FIRED.with(|f| f.get())
}

/// What is announced after a commit (queued jobs waking the workers) is
/// announced once, after the outermost commit, and never after a rollback.
fn after_commit_hooks_run_once_after_the_outermost_commit(db: TestDatabase) {
    let mut conn = db.connect();
    let start = fired();
    write_transaction(&mut conn, |c| {
        chatshop::db::after_commit(c, fire);
        write_transaction(c, |c| {
            chatshop::db::after_commit(c, fire);
            Ok::<_, Error>(())
        })?;
        assert_eq!(fired(), start, "not before the outermost commit");
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(fired(), start + 1, "once, however often asked");
    let rolled_back: Result<(), Error> = write_transaction(&mut conn, |c| {
        chatshop::db::after_commit(c, fire);
        Err(Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    assert_eq!(fired(), start + 1, "not after a rollback");
    write_transaction(&mut conn, |_| Ok::<_, Error>(())).unwrap();
    assert_eq!(fired(), start + 1, "a rolled-back hook does not leak into the next transaction");
    chatshop::db::after_commit(&mut conn, fire);
    assert_eq!(fired(), start + 2, "outside a transaction: at once");
}
on_both_engines!(after_commit_hooks_run_once_after_the_outermost_commit);
