//! JWTs (HS256) that carry the user, the shop and the role, and expire.

use super::{AuthError, Role};
use crate::ids::{ShopId, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: UserId,
    pub shop: ShopId,
    pub role: Role,
    /// The user's token version when issued; a newer one revokes this token.
    #[serde(default)]
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn issue(&self, user: UserId, shop: ShopId, role: Role, version: i32) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims { sub: user, shop, role, ver: version, iat: now, exp: now + self.ttl_seconds };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Hashing(e.to_string()))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AuthError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_a_tampered_one_fails() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let shop = ShopId::new();
        let token = keys.issue(UserId::new(), shop, Role::Staff, 0).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.shop, claims.role), (shop, Role::Staff));

        let other = JwtKeys::new(b"another secret, another signature", 60);
        assert!(other.verify(&token).is_err());
        let expired = JwtKeys::new(b"0123456789abcdef0123456789abcdef", -10);
        let old = expired.issue(UserId::new(), shop, Role::Owner, 0).unwrap();
        assert!(keys.verify(&old).is_err());
    }
}
