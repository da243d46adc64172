//! Outbound webhooks as the Standard Webhooks spec has them, so a shop can
//! verify them with the spec's libraries: `webhook-id`, `webhook-timestamp`
//! and `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`
//! keyed with the secret's base64-decoded bytes (`whsec_<base64>`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use std::net::IpAddr;

pub mod sender;

pub use sender::{Answer, Signed, WebhookSender};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const PREFIX: &str = "whsec_";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("a webhook secret is `whsec_` and 24 to 64 bytes in base64")]
    BadSecret,
    #[error("the URL is not valid: {0}")]
    BadUrl(String),
    #[error("the URL must be https:// (http:// only on loopback)")]
    NotHttps,
    #[error("the URL points at a private, link-local or otherwise internal address")]
    InternalAddress,
}

/// A signing secret; its bytes are what the HMAC is keyed with.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// 32 fresh random bytes (the spec asks for 24 to 64).
    pub fn generate() -> WebhookSecret {
        let key = crate::crypto::SecretKey::generate().to_base64();
        WebhookSecret::parse(&format!("{PREFIX}{key}")).unwrap_or_else(|_| unreachable!("32 bytes in base64"))
    }

    pub fn parse(text: &str) -> Result<WebhookSecret, WebhookError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(WebhookError::BadSecret)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| WebhookError::BadSecret)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(WebhookError::BadSecret);
        }
        Ok(WebhookSecret { bytes })
    }

    /// The form shown to the shop once, and kept sealed at rest.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.bytes))
    }

    /// One `v1,<base64>` signature of a message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.bytes).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Whether one of the header's space-separated signatures is this
    /// secret's (constant-time comparison of the MAC).
    pub fn verify(&self, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        header.split(' ').filter_map(|s| s.strip_prefix("v1,")).filter_map(|s| STANDARD.decode(s).ok()).any(|given| {
            let mut mac =
                HmacSha256::new_from_slice(&self.bytes).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
            mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
            mac.update(body);
            mac.verify_slice(&given).is_ok()
        })
    }
}

/// The `webhook-signature` header: one signature per live secret (during a
/// rotation the old and the new), space-separated as the spec allows.
pub fn signature_header(secrets: &[WebhookSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// A URL a shop may register: https, or http on loopback (local tools and
/// tests); never a literal private, link-local, or unspecified address.
/// Host names are checked again once resolved, at delivery time.
pub fn check_url(text: &str) -> Result<reqwest::Url, WebhookError> {
    let url = reqwest::Url::parse(text).map_err(|e| WebhookError::BadUrl(e.to_string()))?;
    let host = url.host().ok_or_else(|| WebhookError::BadUrl("no host".into()))?;
    let ip = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(name) if name.eq_ignore_ascii_case("localhost") => Some(IpAddr::from([127, 0, 0, 1])),
        url::Host::Domain(_) => None,
    };
    let loopback = ip.is_some_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(WebhookError::NotHttps),
    }
    match ip {
        Some(ip) if !loopback && is_internal(ip) => Err(WebhookError::InternalAddress),
        _ => Ok(url),
    }
}

/// Addresses a shop's webhook may not reach: its neighbours' networks, and
/// addresses that are no one's on the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // 0.0.0.0/8 "this network"; 240.0.0.0/4 reserved.
                || a == 0
                || a >= 240
                // 100.64.0.0/10, carrier-grade NAT.
                || (a == 100 && (64..128).contains(&b))
                // 192.0.0.0/24 protocol assignments; 198.18.0.0/15 benchmarking.
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (b == 18 || b == 19))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let first = segments[0];
            // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last 32 bits.
            let nat64 = (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| {
                std::net::Ipv4Addr::new(
                    (segments[6] >> 8) as u8,
                    segments[6] as u8,
                    (segments[7] >> 8) as u8,
                    segments[7] as u8,
                )
            });
            v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || is_internal(IpAddr::V4(v4)))
                || nat64.is_some_and(|v4| v4.is_loopback() || is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks spec's own test vector.
    #[test]
    fn the_specs_test_vector_signs_and_verifies() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("the spec's secret");
        let (id, timestamp, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(secret.sign(id, timestamp, body), expected);
        assert!(secret.verify(id, timestamp, body, &format!("v1,bm90IGl0 {expected}")));
        assert!(!secret.verify(id, timestamp + 1, body, expected));
    }

    #[test]
    fn a_generated_secret_round_trips() {
        let secret = WebhookSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&secret.expose()), Ok(secret));
        assert_eq!(WebhookSecret::parse("whsec_c2hvcnQ="), Err(WebhookError::BadSecret));
    }

    #[test]
    fn urls_are_https_and_public_except_loopback() {
        assert!(check_url("https://erp.example.com/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("http://localhost:9000/hook").is_ok());
        assert_eq!(check_url("http://erp.example.com/hooks"), Err(WebhookError::NotHttps));
        for internal in [
            "https://10.0.0.5/",
            "https://10.0.0.1/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://169.254.169.254/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[fe80::1]/",
            "https://[fd12::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
        ] {
            assert_eq!(check_url(internal), Err(WebhookError::InternalAddress), "{internal}");
        }
    }
}
