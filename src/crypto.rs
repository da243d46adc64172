//! Shop secrets at rest (WhatsApp access tokens, PSP credentials): sealed
//! with XChaCha20-Poly1305 under a key that never enters the database.
//!
//! A sealed value is `v1.<key id>.<base64url(nonce ‖ ciphertext)>`. The key id
//! names the key that sealed it, so a keyring holding the current key and the
//! previous one reads both while a rotation re-seals everything. Each value is
//! bound to where it is stored (the associated data, e.g.
//! `shops.wa_access_token:<shop id>`), so a sealed token copied into another
//! shop's row does not open.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key must be 32 bytes, as base64 or 64 hex digits")]
    BadKey,
    #[error("a stored secret is not a sealed value")]
    Malformed,
    #[error("a stored secret was sealed with a key this service does not have (key {0})")]
    UnknownKey(String),
    #[error("a stored secret does not open with its key: tampered with, or moved from another row")]
    Tampered,
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

/// A 256-bit key. Its `Debug` shows only its id.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; 32],
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.id())
    }
}

impl SecretKey {
    pub fn generate() -> SecretKey {
        SecretKey { bytes: XChaCha20Poly1305::generate_key(&mut OsRng).into() }
    }

    /// Base64 (standard or URL-safe) or hex.
    pub fn parse(text: &str) -> Result<SecretKey, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| CryptoError::BadKey)?
        } else {
            STANDARD.decode(text).or_else(|_| URL_SAFE_NO_PAD.decode(text)).map_err(|_| CryptoError::BadKey)?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(SecretKey { bytes })
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// A short public name for the key: the start of its SHA-256.
    pub fn id(&self) -> String {
        hex::encode(&Sha256::digest(self.bytes)[..4])
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }
}

/// A secret in memory: shown as `***` by `Debug`, so it cannot reach a log
/// through a derived `Debug` of what holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The key that seals, and the previous one still accepted for opening.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SecretKey,
    previous: Option<SecretKey>,
}

impl Keyring {
    pub fn new(current: SecretKey, previous: Option<SecretKey>) -> Keyring {
        Keyring { current, previous }
    }

    pub fn current_id(&self) -> String {
        self.current.id()
    }

    /// Seals `plaintext` for the place named by `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption fails only past 2^38 bytes: not for a token.
        let sealed = self
            .current
            .cipher()
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", self.current.id(), URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a value sealed by `seal` for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Secret, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| k.id() == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        let plain = key
            .cipher()
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map(Secret).map_err(|_| CryptoError::Tampered)
    }

    /// Whether the value is sealed with the current key (a rotation skips it).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.current.id().as_str())
    }

    /// Whether a stored value is sealed at all (plaintext from before sealing).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with("v1.") && value.split('.').count() == 3
    }
}

/// The key kept in a file beside an embedded database: read if it exists,
/// else generated and written once, readable by the owner only.
pub fn key_from_file(path: &Path) -> Result<(SecretKey, bool), CryptoError> {
    let fail = |reason: String| CryptoError::KeyFile { path: path.display().to_string(), reason };
    match std::fs::read_to_string(path) {
        Ok(text) => return SecretKey::parse(&text).map(|k| (k, false)).map_err(|e| fail(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let key = SecretKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, format!("{}\n", key.to_base64()).as_bytes())
                .map_err(|e| fail(e.to_string()))?;
            Ok((key, true))
        }
        // Another process starting at the same moment wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_from_file(path),
        Err(e) => Err(fail(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_in_its_place_and_hides_its_text() {
        let ring = Keyring::new(SecretKey::generate(), None);
        let sealed = ring.seal("EAAG-shop-token", "shops.wa_access_token:shop-a");
        assert!(!sealed.contains("EAAG"));
        assert!(Keyring::is_sealed(&sealed));
        assert_eq!(ring.open(&sealed, "shops.wa_access_token:shop-a").unwrap().expose(), "EAAG-shop-token");
        assert!(matches!(ring.open(&sealed, "shops.wa_access_token:shop-b"), Err(CryptoError::Tampered)));
        assert_ne!(sealed, ring.seal("EAAG-shop-token", "shops.wa_access_token:shop-a"), "a fresh nonce each time");
    }

    #[test]
    fn a_tampered_value_is_refused() {
        let ring = Keyring::new(SecretKey::generate(), None);
        let sealed = ring.seal("secret", "ctx");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(matches!(ring.open(&tampered, "ctx"), Err(CryptoError::Tampered | CryptoError::Malformed)));
        assert!(matches!(ring.open("plaintext-token", "ctx"), Err(CryptoError::Malformed)));
    }

    #[test]
    fn the_previous_key_still_opens_during_a_rotation() {
        let (old, new) = (SecretKey::generate(), SecretKey::generate());
        let sealed = Keyring::new(old.clone(), None).seal("secret", "ctx");
        let rotating = Keyring::new(new.clone(), Some(old.clone()));
        assert!(!rotating.is_current(&sealed));
        assert_eq!(rotating.open(&sealed, "ctx").unwrap().expose(), "secret");
        assert!(rotating.is_current(&rotating.seal("secret", "ctx")));
        let Err(CryptoError::UnknownKey(id)) = Keyring::new(new, None).open(&sealed, "ctx") else {
            panic!("an unknown key is named")
        };
        assert_eq!(id, old.id());
    }

    #[test]
    fn keys_parse_from_base64_or_hex_and_never_show_in_debug() {
        let key = SecretKey::generate();
        let hex_text = hex::encode(key.bytes);
        assert_eq!(SecretKey::parse(&key.to_base64()).unwrap().id(), key.id());
        assert_eq!(SecretKey::parse(&hex_text).unwrap().id(), key.id());
        assert!(SecretKey::parse("too short").is_err());
        assert!(!format!("{key:?}").contains(&key.to_base64()));
        assert_eq!(format!("{:?}", Secret::new("token".into())), "***");
    }

    #[test]
    fn a_key_file_is_made_once_for_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chatshop.key");
        let (first, created) = key_from_file(&path).unwrap();
        assert!(created);
        let (second, created) = key_from_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first.id(), second.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
