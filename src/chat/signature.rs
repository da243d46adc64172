//! `X-Hub-Signature-256` signing and verification (HMAC-SHA256 of the raw body with the app secret).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    #[error("signature does not match the body")]
    Mismatch,
}

fn mac(app_secret: &[u8], raw_body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key defensively.
    let mut mac = match HmacSha256::new_from_slice(app_secret) {
        Ok(mac) => mac,
        Err(_) => HmacSha256::new(&Default::default()),
    };
    mac.update(raw_body);
    mac
}

/// The header value Meta would send for `raw_body`: `sha256=<lower hex>`.
pub fn sign(app_secret: &[u8], raw_body: &[u8]) -> String {
    format!("{PREFIX}{}", hex::encode(mac(app_secret, raw_body).finalize().into_bytes()))
}

/// Checks the header against the raw bytes (before any parsing), in constant time.
pub fn verify(app_secret: &[u8], raw_body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    // Meta writes lower-case "sha256="; accept any case of the prefix and the hex digits.
    let hex_part = match header.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) => &header[PREFIX.len()..],
        _ => return Err(SignatureError::Malformed),
    };
    if hex_part.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    mac(app_secret, raw_body).verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn round_trip() {
        let sig = sign(SECRET, BODY);
        assert!(sig.starts_with("sha256=") && sig.len() == 71);
        assert_eq!(verify(SECRET, BODY, Some(&sig)), Ok(()));
        assert_eq!(verify(SECRET, BODY, Some(&sig.to_uppercase())), Ok(()));
    }

    #[test]
    fn missing() {
        assert_eq!(verify(SECRET, BODY, None), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, BODY, Some("  ")), Err(SignatureError::Missing));
    }

    #[test]
    fn malformed() {
        for h in ["sha1=abcd", "sha256=", "sha256=zz", "sha256=abcd", "5bdcc146", "sha256=é"] {
            assert_eq!(verify(SECRET, BODY, Some(h)), Err(SignatureError::Malformed), "{h}");
        }
        let bad_hex = format!("sha256={}", "g".repeat(64));
        assert_eq!(verify(SECRET, BODY, Some(&bad_hex)), Err(SignatureError::Malformed));
    }

    #[test]
    fn mismatch() {
        let sig = sign(SECRET, BODY);
        assert_eq!(verify(b"other", BODY, Some(&sig)), Err(SignatureError::Mismatch));
        let mut body = BODY.to_vec();
        body.push(b' ');
        assert_eq!(verify(SECRET, &body, Some(&sig)), Err(SignatureError::Mismatch));
    }
}
