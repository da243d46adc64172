//! Who is calling: the bearer token checked once, here, for every route.

use super::ApiError;
use crate::auth::{AuthError, JwtKeys, Permission, Role};
use crate::ids::{ShopId, UserId};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use std::future::{Ready, ready};

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

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = (|| {
            let token = bearer_token(req).ok_or(AuthError::MissingToken)?;
            let keys = req.app_data::<web::Data<JwtKeys>>().ok_or(AuthError::InvalidToken)?;
            let claims = keys.verify(token)?;
            Ok(Caller { user_id: claims.sub, shop_id: claims.shop, role: claims.role })
        })();
        ready(result.map_err(|e: AuthError| e.into()))
    }
}
