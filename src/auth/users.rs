//! Users of a shop. A user row is one person's membership of one shop: the
//! same e-mail may have a row in several shops (an accountant serving many),
//! each with its own password hash, role and token version.

use super::password::{Hasher, PasswordSalt};
use super::{AuthError, Role};
use crate::contact::Email;
use crate::db::{
    AnyConnection,
    schema::{shops, users},
};
use crate::ids::{ShopId, UserId};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub shop_id: ShopId,
    #[schema(value_type = String)]
    pub email: Email,
    pub role: Role,
    /// What the user's tokens must carry to be accepted.
    #[serde(skip)]
    pub token_version: i32,
}

/// A user with the hash their password is checked against.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StoredCredentials {
    #[diesel(embed)]
    pub user: User,
    pub(super) password_hash: String,
}

/// A membership with its credentials and its shop's name (a login that
/// opens several names them).
#[derive(Queryable, Selectable)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Membership {
    #[diesel(embed)]
    pub credentials: StoredCredentials,
    #[diesel(select_expression = shops::name)]
    pub shop_name: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: UserId,
    shop_id: ShopId,
    email: &'a Email,
    password_hash: &'a str,
    role: Role,
    created_at: chrono::NaiveDateTime,
}

/// A user whose password has been hashed, ready to store; hashing is slow by
/// design, so it happens before any transaction is opened.
pub struct NewUser {
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
}

impl NewUser {
    /// Hashed with a buffer of its own under a fresh salt (the demo shop,
    /// commands, tests); the server uses `prepare_with`.
    pub fn prepare(email: Email, password_text: &str, role: Role) -> Result<NewUser, AuthError> {
        NewUser::prepare_with(&mut Hasher::new(), email, password_text, role, None)
    }

    /// `salt` is `salt_for(email)`: a person's memberships share one salt.
    pub fn prepare_with(
        hasher: &mut Hasher,
        email: Email,
        password_text: &str,
        role: Role,
        salt: Option<PasswordSalt>,
    ) -> Result<NewUser, AuthError> {
        Ok(NewUser { email, password_hash: hasher.hash(password_text, salt)?, role })
    }
}

/// The salt a new membership of `email` is hashed under: that of its oldest
/// membership, if it has one. Read for a new e-mail as for a known one, and
/// never shown: adding a user answers the same either way.
pub fn salt_for(conn: &mut AnyConnection, email: &Email) -> Result<Option<PasswordSalt>, AuthError> {
    let oldest: Option<String> = users::table
        .filter(users::email.eq(email))
        .order(users::id)
        .select(users::password_hash)
        .first(conn)
        .optional()?;
    Ok(oldest.as_deref().and_then(PasswordSalt::of))
}

pub fn insert(conn: &mut AnyConnection, shop: ShopId, new: &NewUser) -> Result<User, AuthError> {
    let id = UserId::new();
    let inserted = diesel::insert_into(users::table)
        .values(NewUserRow {
            id,
            shop_id: shop,
            email: &new.email,
            password_hash: &new.password_hash,
            role: new.role,
            created_at: crate::db::now(),
        })
        .execute(conn);
    match inserted {
        Ok(_) => Ok(User { id, shop_id: shop, email: new.email.clone(), role: new.role, token_version: 0 }),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(AuthError::EmailTaken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds a staff or accountant user to the caller's shop. The e-mail may
/// belong to other shops: that changes nothing here (their memberships keep
/// their own passwords); only the same e-mail twice in this shop is refused.
pub fn add_to_shop(conn: &mut AnyConnection, shop: ShopId, new: &NewUser) -> Result<User, AuthError> {
    if new.role == Role::Owner {
        return Err(AuthError::SecondOwner);
    }
    insert(conn, shop, new)
}

/// Every membership of the e-mail with its shop's name, oldest first.
pub fn memberships_of(conn: &mut AnyConnection, email: &Email) -> Result<Vec<Membership>, AuthError> {
    Ok(users::table
        .inner_join(shops::table)
        .filter(users::email.eq(email))
        .order(users::id)
        .select(Membership::as_select())
        .load(conn)?)
}

pub fn list(conn: &mut AnyConnection, shop: ShopId) -> Result<Vec<User>, AuthError> {
    Ok(users::table.filter(users::shop_id.eq(shop)).order(users::id).select(User::as_select()).load(conn)?)
}

/// The user a token names, as it is now: checked on every request, so a
/// removed user, a changed role or a revoked token is refused at once.
pub fn current(conn: &mut AnyConnection, user: UserId) -> Result<Option<User>, AuthError> {
    Ok(users::table.find(user).select(User::as_select()).first(conn).optional()?)
}

/// Revokes every token of the user (logout); returns the new version.
pub fn revoke_tokens(conn: &mut AnyConnection, user: UserId) -> Result<i32, AuthError> {
    let version = diesel::update(users::table.find(user))
        .set(users::token_version.eq(users::token_version + 1))
        .returning(users::token_version);
    crate::on_backend!(conn, |c| version.clone().get_result::<i32>(c).optional())?.ok_or(AuthError::NoSuchUser)
}

/// Removes a user of the shop; their tokens stop working with their row.
pub fn remove(conn: &mut AnyConnection, shop: ShopId, user: UserId, by: UserId) -> Result<(), AuthError> {
    if user == by {
        return Err(AuthError::CannotRemoveSelf);
    }
    let removed =
        diesel::delete(users::table.filter(users::id.eq(user)).filter(users::shop_id.eq(shop))).execute(conn)?;
    if removed == 0 { Err(AuthError::NoSuchUser) } else { Ok(()) }
}

/// Every membership of the caller's e-mail (the caller's among them).
pub fn memberships_like(conn: &mut AnyConnection, user: UserId) -> Result<Vec<StoredCredentials>, AuthError> {
    let Some(email) = users::table.find(user).select(users::email).first::<Email>(conn).optional()? else {
        return Ok(Vec::new());
    };
    Ok(users::table
        .filter(users::email.eq(email))
        .order(users::id)
        .select(StoredCredentials::as_select())
        .load(conn)?)
}

/// Sets a new password on the memberships the old one opened (checked and
/// hashed already) and revokes their tokens, in one transaction. Each row
/// changes only if its hash is still the one checked, so a concurrent change
/// wins or loses whole; `WrongPassword` when the caller's own row did not
/// change (another change came first).
/// Returns the caller's new token version.
pub fn set_password(
    conn: &mut AnyConnection,
    caller: UserId,
    checked: &[(UserId, String)],
    new_hash: &str,
) -> Result<i32, AuthError> {
    crate::db::write_transaction(conn, |conn| {
        let mut caller_version = None;
        for (user, old_hash) in checked {
            let updated = diesel::update(users::table.find(*user).filter(users::password_hash.eq(old_hash)))
                .set(users::password_hash.eq(new_hash))
                .execute(conn)?;
            if updated == 1 {
                let version = revoke_tokens(conn, *user)?;
                if *user == caller {
                    caller_version = Some(version);
                }
            }
        }
        caller_version.ok_or(AuthError::WrongPassword)
    })
}
