//! Secrets stored before sealing are sealed at start; `chatshop secrets
//! rotate` moves them to a new key; a value sealed with an unknown key is a
//! one-line error.

use chatshop::config::Config;
use chatshop::crypto::{Keyring, Secret, SecretKey};
use chatshop::db::schema::shops;
use chatshop::notify::webhooks::endpoints;
use chatshop::payments::psp::api_pix::{ApiPixSettings, ClientIdentity, Transport};
use chatshop::payments::psp_settings::{self, PspChoice};
use diesel::prelude::*;
use std::process::Command;

const KEY_A: &str = "a2V5LUEta2V5LUEta2V5LUEta2V5LUEta2V5LUEtISE=";
const KEY_B: &str = "a2V5LUIta2V5LUIta2V5LUIta2V5LUIta2V5LUItISE=";
const KEY_C: &str = "a2V5LUMta2V5LUMta2V5LUMta2V5LUMta2V5LUMtISE=";

fn chatshop(database: &str, key: &str, old: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    command.env("DATABASE_URL", database).env("CHATSHOP_SECRET_KEY", key).env_remove("CHATSHOP_SECRET_KEY_OLD");
    if let Some(old) = old {
        command.env("CHATSHOP_SECRET_KEY_OLD", old);
    }
    command
}

fn stored_token(database: &str) -> (chatshop::ids::ShopId, String) {
    let pool = chatshop::db::connect(database, 1).unwrap();
    shops::table.select((shops::id, shops::wa_access_token.assume_not_null())).first(&mut pool.get().unwrap()).unwrap()
}

#[tokio::test]
async fn plaintext_is_sealed_at_start_and_rotation_moves_to_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("c.db").display().to_string();
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.database_url = database.clone();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.secret_key = Some(KEY_A.into());
    config.demo = true;
    config.run_worker = false;
    config.mail_dir = dir.path().join("mail");
    // The demo shop, with a token stored as before sealing existed.
    drop(chatshop::startup::Application::build(&config).unwrap());
    let pool = chatshop::db::connect(&database, 1).unwrap();
    diesel::update(shops::table)
        .set((shops::wa_phone_number_id.eq("106540352242922"), shops::wa_access_token.eq("EAAG-plain-old-token")))
        .execute(&mut pool.get().unwrap())
        .unwrap();
    drop(pool);

    drop(chatshop::startup::Application::build(&config).unwrap());
    let (shop, stored) = stored_token(&database);
    // The shop's PSP credentials and client certificate, sealed with key A.
    let psp = ApiPixSettings {
        api_base_url: "https://pix.example.com/api/v2".into(),
        token_url: "https://pix.example.com/oauth/token".into(),
        client_id: "client-id".into(),
        client_secret: Secret::new("psp-client-secret".into()),
        identity: Some(ClientIdentity::Pem {
            certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            private_key: Secret::new("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n".into()),
        }),
        transport: Transport::default(),
    };
    let ring_a = Keyring::new(SecretKey::parse(KEY_A).unwrap(), None);
    let pool = chatshop::db::connect(&database, 1).unwrap();
    psp_settings::save(&mut pool.get().unwrap(), &ring_a, shop, &PspChoice::ApiPix(psp), true, chatshop::db::now())
        .unwrap();
    // A webhook endpoint whose secret was rotated: the current and the previous one.
    let input = endpoints::EndpointInput::parse("https://erp.example.com/hook", &["order.paid".to_owned()]).unwrap();
    let now = chatshop::db::now();
    let made = endpoints::create(&mut pool.get().unwrap(), &ring_a, shop, &input, now).unwrap();
    let rotated = endpoints::rotate_secret(&mut pool.get().unwrap(), &ring_a, shop, made.id, now).unwrap();
    let webhook_secrets = [rotated.secret.clone().unwrap(), made.secret.clone().unwrap()];
    drop(pool);
    assert!(Keyring::is_sealed(&stored) && !stored.contains("EAAG"), "{stored}");
    let opened = chatshop::shops::secrets::open_access_token(&ring_a, shop, &stored).unwrap();
    assert_eq!(opened.expose(), "EAAG-plain-old-token");

    let rotated = chatshop(&database, KEY_B, Some(KEY_A)).args(["secrets", "rotate"]).output().unwrap();
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    assert!(String::from_utf8_lossy(&rotated.stdout).starts_with("6 secret(s) re-sealed"));
    let (_, stored) = stored_token(&database);
    let ring_b = Keyring::new(SecretKey::parse(KEY_B).unwrap(), None);
    assert_eq!(
        chatshop::shops::secrets::open_access_token(&ring_b, shop, &stored).unwrap().expose(),
        "EAAG-plain-old-token"
    );
    assert!(
        chatshop::shops::secrets::open_access_token(&ring_a, shop, &stored).is_err(),
        "the old key no longer opens it"
    );
    // The PSP's secret and key open with key B only.
    let pool = chatshop::db::connect(&database, 1).unwrap();
    let (_, opened) =
        psp_settings::load(&mut pool.get().unwrap(), &ring_b, shop, &Transport::default()).unwrap().expect("api_pix");
    assert_eq!(opened.client_secret.expose(), "psp-client-secret");
    assert!(
        matches!(opened.identity, Some(ClientIdentity::Pem { ref private_key, .. }) if private_key.expose().contains("MIIE"))
    );
    assert!(
        psp_settings::load(&mut pool.get().unwrap(), &ring_a, shop, &Transport::default()).is_err(),
        "not with the old key"
    );
    // The endpoint's two secrets too.
    let row = endpoints::get(&mut pool.get().unwrap(), shop, made.id).unwrap();
    let live: Vec<String> = row.live_secrets(&ring_b, now).unwrap().iter().map(|s| s.expose()).collect();
    assert_eq!(live, webhook_secrets);
    assert!(row.live_secrets(&ring_a, now).is_err(), "not with the old key");
    drop(pool);
    let again = chatshop(&database, KEY_B, Some(KEY_A)).args(["secrets", "rotate"]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 secret(s)"), "nothing left to move");

    let lost = chatshop(&database, KEY_C, None).args(["secrets", "rotate"]).output().unwrap();
    assert_eq!(lost.status.code(), Some(1));
    let reason = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(reason.trim().lines().count(), 1, "{reason}");
    assert!(reason.contains("key"), "{reason}");
}
