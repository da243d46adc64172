//! `chatshop summary`: a day's summary printed, as JSON, or sent once.

use std::process::Command;

fn chatshop(database: &str, mail_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    command
        .env("DATABASE_URL", database)
        .env("CHATSHOP_DEMO", "false")
        .env("CHATSHOP_MAIL_DIR", mail_dir)
        .env("WHATSAPP_GRAPH_URL", "http://127.0.0.1:9")
        .env_remove("SMTP_URL")
        .env_remove("CI");
    command
}

/// A shop with a notification address and no WhatsApp number.
fn make_shop(database: &str) -> String {
    use chatshop::auth::{Role, users::NewUser};
    let config = chatshop::config::Config {
        database_url: database.into(),
        ..chatshop::config::Config::from_lookup(|_| None).unwrap()
    };
    let (pool, _) = chatshop::startup::prepare_database(&config).unwrap();
    let mut conn = pool.get().unwrap();
    let shop = chatshop::shops::NewShop::parse(&chatshop::shops::SignUpDetails {
        name: "Padaria São João",
        city: "São Paulo",
        pix_key: "dono@padaria.com.br",
        pix_key_type: "email",
        notify_email: Some("dono@padaria.com.br"),
        ..Default::default()
    })
    .unwrap();
    let owner = NewUser::prepare(
        chatshop::contact::Email::parse("dono@padaria.com.br").unwrap(),
        "a long password",
        Role::Owner,
    )
    .unwrap();
    let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).unwrap();
    shop.id.to_string()
}

fn mails(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok()).collect()
}

#[test]
fn a_summary_is_printed_as_text_or_json_and_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let shop = make_shop(&db);
    let run = |args: &[&str]| {
        let output = chatshop(&db, mail_dir.path()).args(["summary", "--shop", &shop]).args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };

    let (text, _) = run(&["--date", "2026-11-23"]);
    assert!(text.starts_with("Resumo de 23/11/2026: nenhum pedido pago\n"), "{text}");
    assert!(text.contains("Nenhum pedido pago em 23/11/2026."), "{text}");
    let (json, _) = run(&["--date", "2026-11-23", "--json"]);
    let figures: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(figures["date"], "2026-11-23");
    assert_eq!(figures["paid_orders"], 0);
    assert_eq!(figures["revenue"], "0.00");
    // No date: yesterday in the shop's zone.
    let (json, _) = run(&["--json"]);
    assert!(serde_json::from_str::<serde_json::Value>(&json).unwrap()["date"].is_string());

    assert!(mails(mail_dir.path()).is_empty());
    let (_, said) = run(&["--date", "2026-11-23", "--send"]);
    assert!(said.contains("was sent"), "{said}");
    let sent = mails(mail_dir.path());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Subject: Resumo de 23/11/2026"), "{}", sent[0]);
    let (_, said) = run(&["--date", "2026-11-23", "--send"]);
    assert!(said.contains("sent already"), "{said}");
    assert_eq!(mails(mail_dir.path()).len(), 1, "once per shop and day");

    let unknown = chatshop(&db, mail_dir.path())
        .args(["summary", "--shop", "01a23c3e-0000-7000-8000-000000000000"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}
