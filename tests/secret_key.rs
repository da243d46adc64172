//! Where the key sealing shop secrets comes from: never the database.

use chatshop::config::Config;
use chatshop::startup::{KeySource, StartupError, keyring};

fn config(database_url: &str, key: Option<&str>) -> Config {
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.database_url = database_url.into();
    config.secret_key = key.map(Into::into);
    config
}

#[test]
fn the_embedded_default_keeps_its_key_in_a_file_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("chatshop.db");
    let (first, source) = keyring(&config(database.to_str().unwrap(), None)).unwrap();
    let path = dir.path().join("chatshop.key");
    assert_eq!(source, KeySource::File { path: path.clone(), created: true });
    let (again, source) = keyring(&config(database.to_str().unwrap(), None)).unwrap();
    assert_eq!(source, KeySource::File { path, created: false });
    assert_eq!(first.current_id(), again.current_id(), "the same key on every start");
}

#[test]
fn postgresql_needs_the_key_as_a_setting_and_a_bad_key_is_refused() {
    let error = keyring(&config("postgres://db/chatshop", None)).unwrap_err();
    assert!(matches!(error, StartupError::NoSecretKey));
    assert!(error.to_string().contains("CHATSHOP_SECRET_KEY"));
    let key = "Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";
    let (_, source) = keyring(&config("postgres://db/chatshop", Some(key))).unwrap();
    assert_eq!(source, KeySource::Setting);
    let bad = keyring(&config("postgres://db/chatshop", Some("short"))).unwrap_err();
    assert!(bad.to_string().contains("32 bytes"), "{bad}");
}
