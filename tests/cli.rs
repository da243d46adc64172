//! The command line as scripts use it: exit status, one-line reasons.

use std::process::Command;

fn chatshop(database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    command.env("DATABASE_URL", database).env("CHATSHOP_DEMO", "false").env_remove("CI");
    command
}

fn sample(name: &str) -> String {
    format!("{}/catalog-samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Makes a shop directly through the library, as the API would.
fn make_shop(database: &str) -> String {
    use chatshop::auth::{Role, users::NewUser};
    let (pool, _) = chatshop::startup::prepare_database(&chatshop::config::Config {
        database_url: database.into(),
        ..chatshop::config::Config::from_lookup(|_| None).unwrap()
    })
    .unwrap();
    let mut conn = pool.get().unwrap();
    let shop =
        chatshop::shops::NewShop::parse("Padaria", "São Paulo", "dono@padaria.com.br", "email", None, None).unwrap();
    let owner = NewUser::prepare(
        chatshop::contact::Email::parse("dono@padaria.com.br").unwrap(),
        "a long password",
        Role::Owner,
    )
    .unwrap();
    let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).unwrap();
    shop.id.to_string()
}

#[test]
fn migrate_reports_what_it_applied_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let first = chatshop(&db).arg("migrate").output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let applied = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(!applied.starts_with("0 ") && applied.contains("migration(s) applied"), "{applied}");
    let second = chatshop(&db).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("0 migration(s) applied"));
}

#[test]
fn catalog_import_loads_a_feed_and_refuses_a_broken_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let shop = make_shop(&db);

    let ok = chatshop(&db).args(["catalog", "import", "--shop", &shop, &sample("acai-da-praia.csv")]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "20 created, 0 updated, 0 invalid row(s) skipped");

    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "id,title,price\nA,Um,1.00 BRL\nB,Dois,-3.00 BRL\n").unwrap();
    let refused = chatshop(&db).args(["catalog", "import", "--shop", &shop]).arg(&broken).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("row 3, column price: amount must not be negative"), "{stderr}");
    assert!(stderr.lines().last().unwrap().starts_with("chatshop: 1 invalid row(s)"), "{stderr}");

    let skipped =
        chatshop(&db).args(["catalog", "import", "--skip-invalid", "--shop", &shop]).arg(&broken).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&skipped.stdout).trim(), "1 created, 0 updated, 1 invalid row(s) skipped");
}

#[test]
fn catalog_import_names_an_unknown_shop_or_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let unknown = uuid::Uuid::new_v4().to_string();
    let output =
        chatshop(&db).args(["catalog", "import", "--shop", &unknown, &sample("acai-da-praia.csv")]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim(), format!("chatshop: no shop with id {unknown}"));
    let missing = chatshop(&db).args(["catalog", "import", "--shop", &unknown, "/nonexistent.csv"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("chatshop: cannot read /nonexistent.csv"));
}

#[test]
fn a_wrong_postgres_url_fails_with_the_servers_own_reason() {
    let output = chatshop("postgres://nobody@127.0.0.1:1/none").arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("127.0.0.1") || stderr.to_lowercase().contains("connect"), "{stderr}");
}
