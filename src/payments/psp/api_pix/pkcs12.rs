//! A shop's client certificate as a PKCS#12 file (`.p12`/`.pfx`, what banks
//! hand out), read into the PEM pair rustls takes: the private key (PKCS#8)
//! and its certificate followed by the chain the file carries. Read by a pure
//! Rust parser: OpenSSL 3's default (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)
//! and the legacy files (3DES and 40-bit RC2, SHA-1 MAC) alike.

use base64::Engine;
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};

/// Why a PKCS#12 file cannot be used, in words for the shop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pkcs12Error {
    #[error("the PKCS#12 password is wrong")]
    WrongPassword,
    #[error("the PKCS#12 file cannot be read: {0}")]
    Unreadable(String),
    #[error("the PKCS#12 file holds no private key with its certificate")]
    NoIdentity,
}

/// The key (PEM `PRIVATE KEY`) and the certificates (PEM, the key's first).
pub struct PemIdentity {
    pub certificates: String,
    pub private_key: String,
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        // Base64 is ASCII: every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Opens the file with its password and takes its first key with the
/// certificates linked to it.
pub fn read(der: &[u8], password: &str) -> Result<PemIdentity, Pkcs12Error> {
    let store = KeyStore::from_pkcs12(der, password, Pkcs12ImportPolicy::Strict).map_err(|e| match e {
        p12_keystore::error::Error::MacError(_) => Pkcs12Error::WrongPassword,
        // A wrong password on a file without a MAC shows as bad padding.
        p12_keystore::error::Error::UnpadError => Pkcs12Error::WrongPassword,
        other => Pkcs12Error::Unreadable(other.to_string()),
    })?;
    let (_, chain) = store.private_key_chain().ok_or(Pkcs12Error::NoIdentity)?;
    if chain.certs().is_empty() {
        return Err(Pkcs12Error::NoIdentity);
    }
    let certificates = chain.certs().iter().map(|c| pem("CERTIFICATE", c.as_der())).collect();
    Ok(PemIdentity { certificates, private_key: pem("PRIVATE KEY", chain.key().as_der()) })
}
