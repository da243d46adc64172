//! Upgrading a database whose e-mails were unique across shops: its users
//! keep their ids, passwords and token versions, the shop's foreign key
//! still holds, and an e-mail may then join a second shop.

use crate::helpers::Engine;
use crate::support::database::TestDatabase;
use chatshop::auth::users::{self, NewUser};
use chatshop::auth::{AuthError, Role, login, password};
use chatshop::contact::Email;
use chatshop::db::AnyConnection;
use chatshop::ids::{ShopId, UserId};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The last migration while an e-mail was unique across shops.
const BEFORE_EMAIL_PER_SHOP: &str = "20261123000009";

fn migrate_to_global_emails(conn: &mut AnyConnection) {
    loop {
        let version = match conn {
            AnyConnection::Sqlite(c) => c.run_next_migration(SQLITE),
            AnyConnection::Postgresql(c) => c.run_next_migration(POSTGRES),
        };
        if version.expect("a migration").to_string() == BEFORE_EMAIL_PER_SHOP {
            return;
        }
    }
}

fn insert_shop(conn: &mut AnyConnection, shop: ShopId, name: &str) {
    conn.batch_execute(&format!(
        "INSERT INTO shops (id, name, city, pix_key, pix_key_type, language, created_at, updated_at) \
           VALUES ('{shop}', '{name}', 'Recife', 'a@b.com', 'email', 'pt-BR', '2026-11-22 10:00:00', '2026-11-22 10:00:00')"
    ))
    .unwrap();
}

fn users_upgrade_to_an_email_per_shop(engine: Engine) {
    let Some(database) = TestDatabase::create_unmigrated(engine) else { return };
    let pool = chatshop::db::connect(database.url(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    migrate_to_global_emails(&mut conn);
    let (bakery, acai) = (ShopId::new(), ShopId::new());
    insert_shop(&mut conn, bakery, "Padaria");
    insert_shop(&mut conn, acai, "Açaí");
    let (owner, staff) = (UserId::new(), UserId::new());
    let hash = password::hash("the old password").unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO users (id, shop_id, email, password_hash, role, created_at, token_version) VALUES \
           ('{owner}', '{bakery}', 'ana@exemplo.com.br', '{hash}', 'owner', '2026-11-22 10:00:00', 3), \
           ('{staff}', '{acai}', 'bia@exemplo.com.br', '{hash}', 'staff', '2026-11-22 10:00:00', 0)"
    ))
    .unwrap();

    chatshop::db::migrate(&mut conn).unwrap();

    let ana = Email::parse("ana@exemplo.com.br").unwrap();
    let found = users::memberships_of(&mut conn, &ana).unwrap();
    assert_eq!(found.len(), 1);
    let user = &found[0].credentials.user;
    assert_eq!((user.id, user.shop_id, user.role, user.token_version), (owner, bakery, Role::Owner, 3));
    assert_eq!(found[0].shop_name, "Padaria");
    let mut hasher = password::Hasher::new();
    let opened = login::open(&mut hasher, found, None, "the old password").into_user().unwrap();
    assert_eq!(opened.id, owner, "the old password still opens it");

    // Ana may now join the açaí too, once.
    let salt = users::salt_for(&mut conn, &ana).unwrap();
    let joining = NewUser::prepare_with(&mut hasher, ana.clone(), "the old password", Role::Accountant, salt).unwrap();
    assert_eq!(joining.password_hash, hash, "a person's memberships share a salt");
    users::add_to_shop(&mut conn, acai, &joining).unwrap();
    assert!(matches!(users::add_to_shop(&mut conn, acai, &joining), Err(AuthError::EmailTaken)));
    let found = users::memberships_of(&mut conn, &ana).unwrap();
    assert!(
        matches!(login::open(&mut hasher, found, None, "the old password").into_user(), Err(AuthError::ChooseShop(shops)) if shops.len() == 2)
    );

    // The foreign key to shops survived the rebuild: removing a shop removes its users.
    conn.batch_execute(&format!("DELETE FROM shops WHERE id = '{acai}'")).unwrap();
    let left: Vec<UserId> =
        chatshop::db::schema::users::table.select(chatshop::db::schema::users::id).load(&mut conn).unwrap();
    assert_eq!(left, [owner]);
    let orphan = conn.batch_execute(&format!(
        "INSERT INTO users (id, shop_id, email, password_hash, role, created_at) \
           VALUES ('{}', '{acai}', 'x@exemplo.com.br', 'h', 'staff', '2026-11-22 10:00:00')",
        UserId::new()
    ));
    assert!(orphan.is_err(), "a user of no shop is refused");
}

mod users_upgrade_to_an_email_per_shop {
    use super::*;
    #[test]
    fn sqlite() {
        users_upgrade_to_an_email_per_shop(Engine::Sqlite)
    }
    #[test]
    fn postgres() {
        users_upgrade_to_an_email_per_shop(Engine::Postgres)
    }
}

/// The demo shop's owner e-mail no longer stops a second demo shop (e-mails
/// are per shop): two processes starting on one empty database still make
/// one, the one that claims it.
fn two_processes_seed_one_demo_shop(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else { return };
    let barrier = std::sync::Barrier::new(2);
    let connections = [database.connect(), database.connect()];
    let seeded: Vec<bool> = std::thread::scope(|scope| {
        let starts: Vec<_> = connections
            .into_iter()
            .map(|mut conn| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    chatshop::demo::seed_if_empty(&mut conn).unwrap().is_some()
                })
            })
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    assert_eq!(seeded.iter().filter(|s| **s).count(), 1, "{seeded:?}");
    let shops: i64 = chatshop::db::schema::shops::table.count().get_result(&mut database.connect()).unwrap();
    assert_eq!(shops, 1);
}

mod two_processes_seed_one_demo_shop {
    use super::*;
    #[test]
    fn sqlite() {
        two_processes_seed_one_demo_shop(Engine::Sqlite)
    }
    #[test]
    fn postgres() {
        two_processes_seed_one_demo_shop(Engine::Postgres)
    }
}
