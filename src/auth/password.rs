//! Argon2id password hashes (the crate's defaults: 19 MiB, 2 passes) in the
//! PHC string format, computed by a `Hasher` that keeps its block buffer.
//!
//! Why a kept buffer: argon2's own `hash_password` allocates 19 MiB per hash.
//! Once glibc's mmap threshold has adapted to that size, freed buffers stay
//! in the allocator's arenas and get split by small allocations, so every
//! hash of a login flood grew the process by about 19 MiB (320 MiB after 15
//! hashes). A hashing thread that keeps one buffer holds 19 MiB, always.

use super::AuthError;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub const MIN_LENGTH: usize = 8;
/// In characters, as the API description says.
pub const MAX_LENGTH: usize = 256;
/// Argon2 runs one check may make (distinct salts among a person's
/// memberships, normally one); see `Hasher::opens`.
pub const MAX_RUNS_PER_CHECK: usize = 4;
/// A stored hash asking for more memory than this is not computed.
const MAX_BLOCKS: usize = 64 * 1024;

/// The salt of an existing hash: a new membership of the same e-mail is
/// hashed under it, so one argon2 run checks a password against them all.
#[derive(Clone, Copy, Debug)]
pub struct PasswordSalt(Salt);

impl PasswordSalt {
    pub fn of(stored_hash: &str) -> Option<PasswordSalt> {
        PasswordHash::new(stored_hash).ok()?.salt.map(PasswordSalt)
    }
}

/// Hashes sharing algorithm, parameters and salt (everything before the
/// last `$` of the PHC string) are checked by one argon2 run.
pub fn same_run(a: &str, b: &str) -> bool {
    matches!((a.rsplit_once('$'), b.rsplit_once('$')), (Some((a, _)), Some((b, _))) if a == b)
}

/// Argon2 with a block buffer kept from one hash to the next.
#[derive(Default)]
pub struct Hasher {
    blocks: Vec<Block>,
}

fn hashing_error(e: impl std::fmt::Display) -> AuthError {
    AuthError::Hashing(e.to_string())
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }

    fn compute(&mut self, argon: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), AuthError> {
        let needed = argon.params().block_count();
        if needed > MAX_BLOCKS {
            return Err(AuthError::Hashing(format!("a hash asks for {needed} KiB")));
        }
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut self.blocks[..]).map_err(hashing_error)
    }

    /// A new hash of `password`, under `salt` when the e-mail already has
    /// one (see `PasswordSalt`), else under a fresh random salt.
    pub fn hash(&mut self, password: &str, salt: Option<PasswordSalt>) -> Result<String, AuthError> {
        if !(MIN_LENGTH..=MAX_LENGTH).contains(&password.chars().count()) {
            return Err(AuthError::WeakPassword);
        }
        let salt = match salt {
            Some(PasswordSalt(salt)) => salt,
            None => {
                Salt::new(&argon2::password_hash::try_generate_salt().map_err(hashing_error)?).map_err(hashing_error)?
            }
        };
        let argon = Argon2::default();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(&argon, password.as_bytes(), &salt, &mut out)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.into(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon.params()).map_err(hashing_error)?,
            salt: Some(salt),
            hash: Some(Output::new(&out).map_err(hashing_error)?),
        };
        Ok(hash.to_string())
    }

    /// Which of the `stored` hashes `password` opens. Hashes that share a
    /// salt and parameters cost one argon2 run between them, and a check
    /// makes at most `MAX_RUNS_PER_CHECK`; with nothing to check it still
    /// makes one, so an unknown e-mail costs what a known one does.
    pub fn opens(&mut self, password: &str, stored: &[&str]) -> Vec<bool> {
        let mut opened = vec![false; stored.len()];
        let mut runs = 0;
        for (i, first) in stored.iter().enumerate() {
            if runs == MAX_RUNS_PER_CHECK {
                break;
            }
            if stored[..i].iter().any(|earlier| same_run(earlier, first)) {
                continue;
            }
            let Ok(parsed) = PasswordHash::new(first) else { continue };
            runs += 1;
            let Some(computed) = self.output_for(&parsed, password) else { continue };
            for (j, other) in stored.iter().enumerate().skip(i) {
                if same_run(first, other) {
                    opened[j] = PasswordHash::new(other).is_ok_and(|o| o.hash.as_ref() == Some(&computed));
                }
            }
        }
        if runs == 0 {
            self.dummy_run(password);
        }
        opened
    }

    /// The output `password` gives under a stored hash's algorithm, version,
    /// parameters and salt.
    fn output_for(&mut self, stored: &PasswordHash, password: &str) -> Option<Output> {
        let algorithm = Algorithm::try_from(stored.algorithm.as_str()).ok()?;
        let version = stored.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
        let params = Params::try_from(stored).ok()?;
        let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let salt = stored.salt?;
        let mut out = vec![0u8; length];
        self.compute(&Argon2::new(algorithm, version, params), password.as_bytes(), &salt, &mut out).ok()?;
        Output::new(&out).ok()
    }

    /// The work of one check, for nothing: no timing tells a missing account.
    fn dummy_run(&mut self, password: &str) {
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let _ = self.compute(&Argon2::default(), password.as_bytes(), b"chatshop-no-such-user", &mut out);
        std::hint::black_box(out);
    }
}

/// A hash made with a buffer of its own (the demo shop, commands, tests);
/// the server hashes on its hashing threads' `Hasher`s.
pub fn hash(password: &str) -> Result<String, AuthError> {
    Hasher::new().hash(password, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn verifies_only_the_right_password() {
        let mut hasher = Hasher::new();
        let stored = hasher.hash("correct horse", None).unwrap();
        assert_eq!(hasher.opens("correct horse", &[&stored]), [true]);
        assert_eq!(hasher.opens("wrong horse!", &[&stored]), [false]);
        assert!(hasher.opens("correct horse", &[]).is_empty());
        assert!(hasher.hash("short", None).is_err());
    }

    #[test]
    fn a_kept_buffer_gives_the_hashes_argon2_itself_verifies() {
        let mut hasher = Hasher::new();
        for password in ["first password", "second password"] {
            let stored = hasher.hash(password, None).unwrap();
            assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
            let parsed = PasswordHash::new(&stored).unwrap();
            assert!(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok());
        }
        // And a hash argon2 made alone is opened here.
        let theirs = argon2::PasswordHasher::hash_password(&Argon2::default(), b"made elsewhere").unwrap().to_string();
        assert_eq!(hasher.opens("made elsewhere", &[&theirs]), [true]);
    }

    #[test]
    fn one_salt_checks_many_hashes_in_one_run() {
        let mut hasher = Hasher::new();
        let first = hasher.hash("the same one", None).unwrap();
        let salt = PasswordSalt::of(&first).unwrap();
        let second = hasher.hash("the same one", Some(salt)).unwrap();
        let other = hasher.hash("another password", Some(salt)).unwrap();
        let unrelated = hasher.hash("the same one", None).unwrap();
        assert!(same_run(&first, &other) && !same_run(&first, &unrelated));
        assert_eq!(first, second, "same password and salt, same hash");
        assert_eq!(hasher.opens("the same one", &[&first, &other, &second, &unrelated]), [true, false, true, true]);
        assert_eq!(hasher.opens("another password", &[&first, &other]), [false, true]);
    }

    #[test]
    fn a_check_makes_a_bounded_number_of_runs() {
        let mut hasher = Hasher::new();
        let stored: Vec<String> =
            (0..MAX_RUNS_PER_CHECK + 1).map(|_| hasher.hash("many salts", None).unwrap()).collect();
        let refs: Vec<&str> = stored.iter().map(String::as_str).collect();
        let opened = hasher.opens("many salts", &refs);
        assert_eq!(opened.iter().filter(|o| **o).count(), MAX_RUNS_PER_CHECK);
        assert!(!opened[MAX_RUNS_PER_CHECK], "the last salt is past the bound");
    }
}
