//! Users of a shop: creating them and checking their passwords.

use super::{AuthError, Role, password};
use crate::contact::Email;
use crate::db::{AnyConnection, schema::users};
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
    password_hash: String,
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
    pub fn prepare(email: Email, password_text: &str, role: Role) -> Result<NewUser, AuthError> {
        Ok(NewUser { email, password_hash: password::hash(password_text)?, role })
    }
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

/// Adds a staff or accountant user to the caller's shop.
pub fn add_to_shop(conn: &mut AnyConnection, shop: ShopId, new: &NewUser) -> Result<User, AuthError> {
    if new.role == Role::Owner {
        return Err(AuthError::SecondOwner);
    }
    insert(conn, shop, new)
}

/// The user with this e-mail and their stored hash, if any.
pub fn stored_credentials(conn: &mut AnyConnection, email: &Email) -> Result<Option<StoredCredentials>, AuthError> {
    Ok(users::table.filter(users::email.eq(email)).select(StoredCredentials::as_select()).first(conn).optional()?)
}

/// Checks a password against what `stored_credentials` found; the same answer,
/// and the same work, for an unknown e-mail and a wrong password.
pub fn check_password(found: Option<StoredCredentials>, password_text: &str) -> Result<User, AuthError> {
    let stored_hash = found.as_ref().map(|f| f.password_hash.as_str());
    if password::verify(password_text, stored_hash) {
        found.map(|f| f.user).ok_or(AuthError::InvalidCredentials)
    } else {
        Err(AuthError::InvalidCredentials)
    }
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

/// The user and the hash their current password is checked against.
pub fn credentials_of(conn: &mut AnyConnection, user: UserId) -> Result<Option<StoredCredentials>, AuthError> {
    Ok(users::table.find(user).select(StoredCredentials::as_select()).first(conn).optional()?)
}

/// Sets a new password (already checked against the old one and hashed) and
/// revokes the user's other tokens; returns the new token version.
pub fn set_password(conn: &mut AnyConnection, user: UserId, password_hash: &str) -> Result<i32, AuthError> {
    crate::db::write_transaction(conn, |conn| {
        let updated =
            diesel::update(users::table.find(user)).set(users::password_hash.eq(password_hash)).execute(conn)?;
        if updated == 0 {
            return Err(AuthError::NoSuchUser);
        }
        revoke_tokens(conn, user)
    })
}
