//! Upgrading a database that still has the old outbox: what it had to
//! deliver becomes jobs that deliver it, on both engines.

use crate::helpers::{Engine, TestDatabase, test_config};
use chatshop::db::AnyConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The last migration before the jobs queue replaced the outbox.
const BEFORE_JOBS: &str = "20261122000004";

fn migrate_to_outbox(conn: &mut AnyConnection) {
    let step = |conn: &mut AnyConnection| -> String {
        let version = match conn {
            AnyConnection::Sqlite(c) => c.run_next_migration(SQLITE),
            AnyConnection::Postgresql(c) => c.run_next_migration(POSTGRES),
        };
        version.expect("a migration").to_string()
    };
    while step(conn) != BEFORE_JOBS {}
}

async fn pending_outbox_entries_become_jobs(engine: Engine) {
    let Some(database) = TestDatabase::create_unmigrated(engine) else { return };
    let pool = chatshop::db::connect(database.url(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    migrate_to_outbox(&mut conn);
    let shop = chatshop::ids::ShopId::new();
    let customer = chatshop::ids::CustomerId::new();
    let message = chatshop::ids::ChatMessageId::new();
    let setup = format!(
        "INSERT INTO shops (id, name, city, pix_key, pix_key_type, language, created_at, updated_at) \
           VALUES ('{shop}', 'Padaria', 'Recife', 'a@b.com', 'email', 'pt-BR', '2026-11-22 10:00:00', '2026-11-22 10:00:00'); \
         INSERT INTO customers (id, shop_id, wa_id, last_inbound_at, window_closed, opted_out, created_at, updated_at) \
           VALUES ('{customer}', '{shop}', '5511988887777', '2026-11-22 10:00:00', FALSE, FALSE, '2026-11-22 10:00:00', '2026-11-22 10:00:00'); \
         INSERT INTO chat_messages (id, shop_id, customer_id, direction, kind, body, status, created_at, updated_at) \
           VALUES ('{message}', '{shop}', '{customer}', 'out', 'text', '{{}}', 'queued', '2026-11-22 10:00:00', '2026-11-22 10:00:00'); \
         INSERT INTO outbox (id, shop_id, channel, chat_message_id, recipient, payload, status, attempts, next_attempt_at, created_at, updated_at) VALUES \
           ('{}', '{shop}', 'whatsapp', '{message}', '5511988887777', '{{\"kind\":\"text\",\"body\":\"Olá\"}}', 'waiting', 1, '2026-11-22 10:00:00', '2026-11-22 10:00:00', '2026-11-22 10:00:00'), \
           ('{}', '{shop}', 'email', NULL, 'dono@padaria.com.br', '{{\"to\":\"dono@padaria.com.br\",\"subject\":\"Oi\",\"text\":\"Olá\"}}', 'pending', 0, '2026-11-22 10:00:00', '2026-11-22 10:00:00', '2026-11-22 10:00:00'), \
           ('{}', '{shop}', 'whatsapp', '{message}', '5511988887777', '{{\"kind\":\"text\",\"body\":\"velho\"}}', 'sent', 1, '2026-11-22 10:00:00', '2026-11-22 10:00:00', '2026-11-22 10:00:00');",
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7()
    );
    diesel::connection::SimpleConnection::batch_execute(&mut *conn, &setup).unwrap();
    chatshop::db::migrate(&mut conn).unwrap();

    let jobs = chatshop::jobs::list(&mut conn, Some(shop), chatshop::jobs::JobStatus::Held, None, 10).unwrap();
    assert_eq!(jobs.len(), 1, "the reply waiting for the window is held");
    let send: chatshop::chat::delivery::SendWhatsApp = serde_json::from_str(&jobs[0].payload).unwrap();
    assert_eq!(send.chat_message_id, Some(message));
    assert_eq!(send.message, chatshop::channels::whatsapp::OutboundMessage::Text { body: "Olá".into() });
    assert_eq!(jobs[0].ordering_key.as_deref(), Some(format!("whatsapp:{shop}:5511988887777").as_str()));
    let queued = chatshop::jobs::list(&mut conn, Some(shop), chatshop::jobs::JobStatus::Queued, None, 10).unwrap();
    assert_eq!(queued.len(), 1, "the e-mail still to send");
    let email: chatshop::channels::email::Email = serde_json::from_str(&queued[0].payload).unwrap();
    assert_eq!(email.subject, "Oi");

    // And they run: the e-mail goes to the mail folder.
    let mail_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(database.url());
    config.mail_dir = mail_dir.path().to_owned();
    let clock = chatshop::clock::Clock::system();
    let (keyring, _) = chatshop::startup::keyring(&config).unwrap();
    let services =
        std::sync::Arc::new(chatshop::services::Services::new(&config, pool.clone(), clock, keyring).unwrap());
    assert_eq!(services.runner().run_until_idle().await, 1);
    assert_eq!(std::fs::read_dir(mail_dir.path()).unwrap().count(), 1);
}

mod pending_outbox_entries_become_jobs {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        pending_outbox_entries_become_jobs(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        pending_outbox_entries_become_jobs(Engine::Postgres).await
    }
}
