//! Who is calling: the bearer token checked once, here, for every route.

use super::{ApiError, with_db};
use crate::auth::{AuthError, JwtKeys, Permission, Role, users};
use crate::db::Pool;
use crate::ids::{ShopId, UserId};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;

/// The authenticated caller of a route: who, for which shop, in which role.
/// Every shop-scoped query takes its `ShopId` from here, never from the request.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: UserId,
    pub shop_id: ShopId,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.role.allows(permission) { Ok(()) } else { Err(AuthError::Forbidden(self.role)) }
    }
}

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let header = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A well-signed token is checked against its user as they are now (one
/// lookup by primary key): a removed user, a changed role or a revoked token
/// (logout, a new password) is refused at once, not when the token expires.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Caller, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = (|| {
            let token = bearer_token(req).ok_or(AuthError::MissingToken)?;
            let keys = req.app_data::<web::Data<JwtKeys>>().ok_or(AuthError::InvalidToken)?;
            let pool = req.app_data::<web::Data<Pool>>().ok_or(AuthError::InvalidToken)?;
            Ok::<_, AuthError>((keys.verify(token)?, pool.clone()))
        })();
        Box::pin(async move {
            let (claims, pool) = verified?;
            let user = with_db(&pool, move |conn| Ok(users::current(conn, claims.sub)?)).await?;
            match user {
                Some(user)
                    if user.shop_id == claims.shop && user.role == claims.role && user.token_version == claims.ver =>
                {
                    Ok(Caller { user_id: user.id, shop_id: user.shop_id, role: user.role })
                }
                _ => Err(AuthError::InvalidToken.into()),
            }
        })
    }
}
