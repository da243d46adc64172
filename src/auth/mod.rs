//! Shops' users, roles, password hashing and JWTs. The HTTP extractor that
//! turns a token into a caller lives in `http` (http depends on auth).

pub mod login;
pub mod password;
pub mod token;
pub mod users;

pub use token::{Claims, JwtKeys};

use crate::ids::ShopId;

crate::text_enum! {
    /// What a user of a shop may do. Owners do everything; staff run the shop
    /// day to day but do not change its settings or users; accountants only read.
    pub enum Role {
        Owner => "owner",
        Staff => "staff",
        Accountant => "accountant",
    }
}

/// What a route needs of its caller; checked in one place (`Caller::require`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read orders, products, exports.
    Read,
    /// Change the catalogue and orders.
    Operate,
    /// Change the shop's settings and users.
    Administer,
    /// Pull the books (exports): the owner and the accountant, not staff.
    Export,
}

impl Role {
    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::Read => true,
            Permission::Operate => matches!(self, Role::Owner | Role::Staff),
            Permission::Administer => self == Role::Owner,
            Permission::Export => matches!(self, Role::Owner | Role::Accountant),
        }
    }
}

/// A shop a login could open, as `choose_shop` lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShopChoice {
    #[schema(value_type = String, format = Uuid)]
    pub id: ShopId,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this request needs a bearer token")]
    MissingToken,
    #[error("the token is invalid or has expired")]
    InvalidToken,
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("this e-mail and password open several shops; log in again naming one of them (shop_id)")]
    ChooseShop(Vec<ShopChoice>),
    #[error("the {0} role may not do this")]
    Forbidden(Role),
    #[error("a shop has exactly one owner; add staff or accountant users")]
    SecondOwner,
    #[error("a user with this e-mail already exists")]
    EmailTaken,
    #[error("no such user in this shop")]
    NoSuchUser,
    #[error("an owner cannot remove themself")]
    CannotRemoveSelf,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    InvalidEmail(crate::contact::ContactError),
    #[error("password must be at least {min} characters", min = password::MIN_LENGTH)]
    WeakPassword,
    #[error("cannot hash the password: {0}")]
    Hashing(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        AuthError::Db(e.into())
    }
}

/// Compares a presented secret with the expected one in time that does not
/// depend on where they differ (both are hashed first).
pub fn secrets_match(expected: &[u8], presented: &[u8]) -> bool {
    use sha2::Digest;
    sha2::Sha256::digest(expected) == sha2::Sha256::digest(presented)
}
