//! Argon2id password hashes in the PHC string format.

use super::AuthError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

pub const MIN_LENGTH: usize = 8;
const MAX_LENGTH: usize = 1024;

pub fn hash(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < MIN_LENGTH || password.len() > MAX_LENGTH {
        return Err(AuthError::WeakPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Constant work whether or not the stored hash exists, so login time does
/// not reveal which e-mails have accounts.
pub fn verify(password: &str, stored_hash: Option<&str>) -> bool {
    let dummy;
    let stored = match stored_hash {
        Some(s) => s,
        None => {
            dummy = dummy_hash();
            dummy.as_str()
        }
    };
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    matches && stored_hash.is_some()
}

fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password").unwrap_or_default()).clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn verifies_only_the_right_password() {
        let stored = super::hash("correct horse").unwrap();
        assert!(super::verify("correct horse", Some(&stored)));
        assert!(!super::verify("wrong horse!", Some(&stored)));
        assert!(!super::verify("correct horse", None));
        assert!(super::hash("short").is_err());
    }
}
