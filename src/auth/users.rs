//! Users of a shop: creating them and checking their passwords.

use super::{AuthError, Role, password};
use crate::contact::Email;
use crate::db::{AnyConnection, schema::users};
use crate::shops::ShopId;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub shop_id: ShopId,
    #[schema(value_type = String)]
    pub email: Email,
    pub role: Role,
}

#[derive(Queryable)]
struct UserRow {
    id: String,
    shop_id: String,
    email: String,
    password_hash: String,
    role: String,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String), AuthError> {
        let corrupt = |what: &str| AuthError::Hashing(format!("stored user has an invalid {what}"));
        Ok((
            User {
                id: self.id.parse().map_err(|_| corrupt("id"))?,
                shop_id: self.shop_id.parse().map_err(|_| corrupt("shop id"))?,
                email: Email::parse(&self.email).map_err(|_| corrupt("e-mail"))?,
                role: self.role.parse()?,
            },
            self.password_hash,
        ))
    }
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
    let id = Uuid::now_v7();
    let inserted = diesel::insert_into(users::table)
        .values((
            users::id.eq(id.to_string()),
            users::shop_id.eq(shop.to_string()),
            users::email.eq(new.email.as_str()),
            users::password_hash.eq(&new.password_hash),
            users::role.eq(new.role.as_str()),
            users::created_at.eq(crate::db::now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(User { id, shop_id: shop, email: new.email.clone(), role: new.role }),
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
pub fn stored_credentials(conn: &mut AnyConnection, email: &Email) -> Result<Option<(User, String)>, AuthError> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select((users::id, users::shop_id, users::email, users::password_hash, users::role))
        .first::<UserRow>(conn)
        .optional()?
        .map(UserRow::into_user)
        .transpose()
}

/// Checks a password against what `stored_credentials` found; the same answer,
/// and the same work, for an unknown e-mail and a wrong password.
pub fn check_password(found: Option<(User, String)>, password_text: &str) -> Result<User, AuthError> {
    let stored_hash = found.as_ref().map(|(_, h)| h.as_str());
    if password::verify(password_text, stored_hash) {
        found.map(|(user, _)| user).ok_or(AuthError::InvalidCredentials)
    } else {
        Err(AuthError::InvalidCredentials)
    }
}

pub fn list(conn: &mut AnyConnection, shop: ShopId) -> Result<Vec<User>, AuthError> {
    users::table
        .filter(users::shop_id.eq(shop.to_string()))
        .order(users::id)
        .select((users::id, users::shop_id, users::email, users::password_hash, users::role))
        .load::<UserRow>(conn)?
        .into_iter()
        .map(|row| row.into_user().map(|(user, _)| user))
        .collect()
}
