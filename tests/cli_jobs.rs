//! `chatshop jobs`: dead jobs listed and queued again from the command line.

use chatshop::channels::email::Email;
use chatshop::db::schema::jobs;
use diesel::prelude::*;
use std::process::Command;

fn chatshop(database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    command.env("DATABASE_URL", database).env("CHATSHOP_DEMO", "false").env_remove("CI");
    command
}

#[test]
fn a_dead_job_is_listed_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let config = chatshop::config::Config {
        database_url: db.clone(),
        ..chatshop::config::Config::from_lookup(|_| None).unwrap()
    };
    let (pool, _) = chatshop::startup::prepare_database(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let email = Email::new("dono@padaria.com.br", "Oi", "Olá");
    let id = chatshop::jobs::enqueue(&mut conn, &email, Default::default()).unwrap().unwrap();
    diesel::update(jobs::table.find(id.to_string()))
        .set((jobs::status.eq("dead"), jobs::attempts.eq(8), jobs::last_error.eq("mail server refused")))
        .execute(&mut conn)
        .unwrap();

    let listed = chatshop(&db).args(["jobs", "list"]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&listed.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], id.to_string());
    assert_eq!(lines[0]["kind"], "email.send");
    assert_eq!(lines[0]["last_error"], "mail server refused");

    let retried = chatshop(&db).args(["jobs", "retry", &id.to_string()]).output().unwrap();
    assert!(retried.status.success());
    let (status, attempts): (String, i32) =
        jobs::table.find(id.to_string()).select((jobs::status, jobs::attempts)).first(&mut conn).unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 0));

    let again = chatshop(&db).args(["jobs", "retry", &id.to_string()]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&again.stderr);
    assert_eq!(reason.lines().count(), 1, "one line: {reason}");
    assert!(reason.contains("no dead job"), "{reason}");

    let bad = chatshop(&db).args(["jobs", "list", "--status", "lost"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown JobStatus `lost`"));
}
