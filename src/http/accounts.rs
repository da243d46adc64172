//! A person's own account and the shop's people: log out, change one's
//! password, remove a user. Each takes effect on tokens at once.

use super::shops::{TokenResponse, hashed};
use super::{ApiError, Caller, with_db};
use crate::auth::{JwtKeys, Permission, login, users};
use crate::db::Pool;
use crate::ids::UserId;
use actix_web::{HttpResponse, delete, post, put, web};
use serde::Deserialize;

/// Revokes every token of the caller, this one included.
#[utoipa::path(tag = "shops", security(("bearer" = [])),
    responses((status = 204, description = "logged out: the caller's tokens no longer work")))]
#[post("/v1/auth/logout")]
pub async fn logout(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    with_db(&pool, move |conn| Ok(users::revoke_tokens(conn, caller.user_id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 256)]
    pub old_password: String,
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// Changes the caller's password, which needs the current one. A person
/// who belongs to several shops has one membership per shop: the new
/// password goes to every membership of the caller's e-mail that the current
/// password opens (the caller's included), and the tokens of each stop
/// working; memberships with another password keep it. A new token is given
/// for the caller's shop.
#[utoipa::path(tag = "shops", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 200, body = TokenResponse, description = "the password changed on every membership of the caller's e-mail it opened, whose tokens stop working; a new token for this shop"),
        (status = 403, description = "the current password is wrong"),
        (status = 429, description = "too many password checks at once (busy); Retry-After says when to try again")))]
#[put("/v1/auth/password")]
pub async fn change_password(
    caller: Caller,
    pool: web::Data<Pool>,
    keys: web::Data<JwtKeys>,
    gate: web::Data<super::HashingGate>,
    body: super::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange { old_password, new_password } = body.into_inner();
    let memberships = with_db(&pool, move |conn| Ok(users::memberships_like(conn, caller.user_id)?)).await?;
    let change = hashed(&gate, move |hasher| {
        login::change_password(hasher, caller.user_id, memberships, &old_password, &new_password)
    })
    .await?;
    let version =
        with_db(&pool, move |conn| Ok(users::set_password(conn, caller.user_id, &change.checked, &change.new_hash)?))
            .await?;
    let token = keys.issue(caller.user_id, caller.shop_id, caller.role, version)?;
    Ok(HttpResponse::Ok().json(TokenResponse { token }))
}

/// Removes a user from the owner's shop; their tokens stop working at once.
#[utoipa::path(tag = "shops", security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "removed"), (status = 403, description = "not the owner"),
        (status = 409, description = "an owner cannot remove themself")))]
#[delete("/v1/users/{id}")]
pub async fn remove_user(
    caller: Caller,
    pool: web::Data<Pool>,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let user = id.into_inner();
    with_db(&pool, move |conn| Ok(users::remove(conn, caller.shop_id, user, caller.user_id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
