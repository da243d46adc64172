//! Which memberships an e-mail and password open. One person may belong to
//! several shops, each membership with its own password: a login names a
//! shop, or opens every membership the password matches.

use super::password::{self, Hasher};
use super::users::{Membership, StoredCredentials, User};
use super::{AuthError, ShopChoice};
use crate::ids::{ShopId, UserId};

/// What a password opened among an e-mail's memberships.
pub struct Opened {
    /// With a shop named, at most that shop's membership.
    pub memberships: Vec<(User, String)>,
    /// The password opens every membership of the e-mail: then a success may
    /// forget the e-mail's failed logins (a password that opens one shop
    /// must not clear the failures of guesses at another's).
    pub opens_all: bool,
}

impl Opened {
    /// The one membership opened, `ChooseShop` listing the several opened,
    /// or `InvalidCredentials` when none was.
    pub fn into_user(self) -> Result<User, AuthError> {
        let mut memberships = self.memberships;
        match memberships.len() {
            0 => Err(AuthError::InvalidCredentials),
            1 => Ok(memberships.remove(0).0),
            _ => Err(AuthError::ChooseShop(
                memberships.into_iter().map(|(user, name)| ShopChoice { id: user.shop_id, name }).collect(),
            )),
        }
    }
}

/// Checks `password` against the memberships found for an e-mail: with
/// `shop`, that shop's only; without, all of them. An unknown e-mail, an
/// unknown shop and a wrong password cost the same (one argon2 run), and
/// memberships sharing a salt (see `users::salt_for`) cost one run together.
pub fn open(hasher: &mut Hasher, found: Vec<Membership>, shop: Option<ShopId>, password: &str) -> Opened {
    let wanted = |m: &Membership| shop.is_none_or(|shop| m.credentials.user.shop_id == shop);
    // With a shop named, the others checked are only those that cost nothing
    // more (the same run), to learn whether the password opens them all.
    let target_hash = found.iter().find(|m| wanted(m)).map(|m| m.credentials.password_hash.clone());
    let checked: Vec<&Membership> = found
        .iter()
        .filter(|m| match (&target_hash, shop) {
            (_, None) => true,
            (Some(target), Some(_)) => password::same_run(target, &m.credentials.password_hash),
            (None, Some(_)) => false,
        })
        .collect();
    let hashes: Vec<&str> = checked.iter().map(|m| m.credentials.password_hash.as_str()).collect();
    let opened = hasher.opens(password, &hashes);
    let opened_ids: Vec<UserId> =
        checked.iter().zip(&opened).filter(|(_, ok)| **ok).map(|(m, _)| m.credentials.user.id).collect();
    let opens_all = !found.is_empty() && found.iter().all(|m| opened_ids.contains(&m.credentials.user.id));
    let memberships = found
        .into_iter()
        .filter(|m| wanted(m) && opened_ids.contains(&m.credentials.user.id))
        .map(|m| (m.credentials.user, m.shop_name))
        .collect();
    Opened { memberships, opens_all }
}

/// A password change: the memberships of the caller's e-mail that the old
/// password opens (the caller's must be one), each with the hash checked,
/// and the new password's hash under the person's salt.
pub struct PasswordChange {
    pub checked: Vec<(UserId, String)>,
    pub new_hash: String,
}

/// `memberships` are `users::memberships_like(caller)`, oldest first.
pub fn change_password(
    hasher: &mut Hasher,
    caller: UserId,
    mut memberships: Vec<StoredCredentials>,
    old_password: &str,
    new_password: &str,
) -> Result<PasswordChange, AuthError> {
    // The new hash takes the oldest membership's salt, so memberships with
    // different salts come together; the caller's is checked first, within
    // the bound on runs.
    let salt = memberships.first().and_then(|m| password::PasswordSalt::of(&m.password_hash));
    memberships.sort_by_key(|m| m.user.id != caller);
    let hashes: Vec<&str> = memberships.iter().map(|m| m.password_hash.as_str()).collect();
    let opened = hasher.opens(old_password, &hashes);
    let checked: Vec<(UserId, String)> = memberships
        .iter()
        .zip(&opened)
        .filter(|(_, ok)| **ok)
        .map(|(m, _)| (m.user.id, m.password_hash.clone()))
        .collect();
    if !checked.iter().any(|(id, _)| *id == caller) {
        return Err(AuthError::WrongPassword);
    }
    let new_hash = hasher.hash(new_password, salt)?;
    Ok(PasswordChange { checked, new_hash })
}
