//! Sign-up, login, the shop, its users.

use super::Caller;
use super::{ApiError, HashingGate, LoginLimiter, with_db};
use crate::auth::password::Hasher;
use crate::auth::users::{self, NewUser, User};
use crate::auth::{AuthError, JwtKeys, Permission, Role};
use crate::contact::Email;
use crate::db::Pool;
use crate::ids::ShopId;
use crate::shops::{self, NewShop, Shop, SignUpDetails};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web::{get, post, put};
use serde::{Deserialize, Serialize};

/// Who may open a shop: anyone (the embedded default), or only holders of
/// the admin token when one is set.
#[derive(Clone)]
pub struct SignUpPolicy {
    pub admin_token: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(
        pattern = r"^\s*[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$",
        max_length = 254,
        example = "ana@padaria.com.br"
    )]
    pub email: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254, example = "ana@padaria.com.br")]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
    /// The shop to log into, for a person who belongs to several; without
    /// it, the one shop this e-mail and password open, or `409 choose_shop`.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub shop_id: Option<ShopId>,
}

/// `409 choose_shop`: the shops this e-mail and password open (only those).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChooseShopProblem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    /// `choose_shop`
    pub code: String,
    pub detail: String,
    pub shops: Vec<crate::auth::ShopChoice>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PixSettings {
    #[schema(min_length = 1, max_length = 77, example = "12345678909")]
    pub key: String,
    /// `cpf`, `cnpj`, `email`, `phone` or `evp`.
    #[schema(min_length = 1, max_length = 20, example = "cpf")]
    pub key_type: String,
    /// How the shop appears in Pix codes (at most 25 characters); absent: the shop's name.
    #[schema(max_length = 25, pattern = r"\S")]
    pub merchant_name: Option<String>,
    /// At most 15 characters; absent: the shop's city.
    #[schema(max_length = 15, pattern = r"\S")]
    pub merchant_city: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Empty or absent: no e-mail.
    #[schema(pattern = r"^\s*([!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)?\s*$", max_length = 254)]
    pub email: Option<String>,
    #[schema(example = "+55 11 98888-7777")]
    pub whatsapp: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    #[schema(max_length = 100, pattern = r"\S", example = "Padaria Doce Lar")]
    pub name: String,
    #[schema(max_length = 60, pattern = r"\S", example = "Recife")]
    pub city: String,
    pub owner: Credentials,
    pub pix: PixSettings,
    #[serde(default)]
    pub notify: NotifySettings,
    /// The bot's language: `pt-BR` (default) or `en`.
    pub language: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignUpResponse {
    pub shop: Shop,
    pub token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    #[schema(
        pattern = r"^\s*[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*$",
        max_length = 254,
        example = "contador@example.com"
    )]
    pub email: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// `staff` or `accountant`: a shop has one owner.
    #[schema(schema_with = super::schemas::addable_role)]
    pub role: Role,
}

/// Argon2 work (tens of milliseconds, ~19 MiB) runs off the async threads,
/// without holding a database connection, a bounded number at a time.
pub(super) async fn hashed<T: Send + 'static>(
    gate: &HashingGate,
    work: impl FnOnce(&mut Hasher) -> Result<T, AuthError> + Send + 'static,
) -> Result<T, ApiError> {
    gate.run(work).await
}

/// A new membership's hash, under the salt of the e-mail's other
/// memberships if it has any (read the same way when it has none).
async fn prepare_user(
    pool: &Pool,
    gate: &HashingGate,
    email: Email,
    password: String,
    role: Role,
) -> Result<NewUser, ApiError> {
    let lookup = email.clone();
    let salt = with_db(pool, move |conn| Ok(users::salt_for(conn, &lookup)?)).await?;
    hashed(gate, move |hasher| NewUser::prepare_with(hasher, email, &password, role, salt)).await
}

fn parse_email(text: &str) -> Result<Email, AuthError> {
    Email::parse(text).map_err(AuthError::InvalidEmail)
}

fn check_admin_token(req: &HttpRequest, policy: &SignUpPolicy) -> Result<(), ApiError> {
    let Some(expected) = &policy.admin_token else { return Ok(()) };
    let given = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if crate::auth::secrets_match(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::request(
            StatusCode::UNAUTHORIZED,
            "admin_token_required",
            "sign-up on this server needs the admin token",
        ))
    }
}

/// Opens a shop with its owner and returns the owner's token. The owner's
/// e-mail may already belong to other shops: this shop's membership has the
/// password given here.
#[utoipa::path(tag = "shops", request_body = SignUpRequest,
    responses((status = 201, body = SignUpResponse, description = "the new shop and its owner's token"), (status = 422, description = "invalid field"),
        (status = 429, description = "too many password checks at once (busy); Retry-After says when to try again")))]
#[post("/v1/shops")]
pub async fn sign_up(
    req: HttpRequest,
    pool: web::Data<Pool>,
    keys: web::Data<JwtKeys>,
    policy: web::Data<SignUpPolicy>,
    gate: web::Data<HashingGate>,
    body: super::Json<SignUpRequest>,
    services: web::Data<crate::services::Services>,
) -> Result<HttpResponse, ApiError> {
    check_admin_token(&req, &policy)?;
    let body = body.into_inner();
    let shop = NewShop::parse(&SignUpDetails {
        name: &body.name,
        city: &body.city,
        pix_key: &body.pix.key,
        pix_key_type: &body.pix.key_type,
        pix_merchant_name: body.pix.merchant_name.as_deref(),
        pix_merchant_city: body.pix.merchant_city.as_deref(),
        notify_email: body.notify.email.as_deref(),
        notify_whatsapp: body.notify.whatsapp.as_deref(),
        language: body.language.as_deref(),
    })?;
    let owner_email = parse_email(&body.owner.email)?;
    let owner = prepare_user(&pool, &gate, owner_email, body.owner.password, Role::Owner).await?;
    let (summary, now) = (services.daily_summary, services.clock.now());
    let (shop, owner) = with_db(&pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let (shop, owner) = shops::create_with_owner(conn, &shop, &owner)?;
            // Its first morning summary, committed with the shop.
            if summary {
                crate::notify::summary::schedule(conn, shop.id, now).map_err(super::notify_error)?;
            }
            Ok((shop, owner))
        })
    })
    .await?;
    let token = keys.issue(owner.id, shop.id, Role::Owner, owner.token_version)?;
    Ok(HttpResponse::Created().json(SignUpResponse { shop, token }))
}

/// Exchanges an e-mail and password for a token. One e-mail may belong to
/// several shops (each membership with its own password): `shop_id` names
/// one; without it, the one shop this password opens gives its token, and
/// several answer `409 choose_shop` listing them.
#[utoipa::path(tag = "shops", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse, description = "a bearer token for the shop"),
        (status = 401, description = "wrong e-mail or password, or no membership of the shop named (the same answer)"),
        (status = 409, body = ChooseShopProblem, content_type = "application/problem+json",
            description = "choose_shop: the e-mail and password open several shops, listed in `shops`; log in again with one's `shop_id`"),
        (status = 429, description = "too many failed logins for this e-mail or address, or too many password checks at once; Retry-After says when to try again")))]
#[post("/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    pool: web::Data<Pool>,
    keys: web::Data<JwtKeys>,
    gate: web::Data<HashingGate>,
    limiter: web::Data<LoginLimiter>,
    body: super::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email: given, password, shop_id } = body.into_inner();
    // The peer, not X-Forwarded-For: a header is the client's to forge.
    let address = req.peer_addr().map(|a| a.ip());
    limiter.check(&given, address)?;
    let Ok(email) = Email::parse(&given) else {
        limiter.failed(&given, address);
        return Err(AuthError::InvalidCredentials.into());
    };
    // The lookup runs on the hashing thread too, so a flood of logins waits
    // for a slot (or is told to retry) instead of tying up a thread each.
    let pool: Pool = (**pool).clone();
    let opened = hashed(&gate, move |hasher| {
        let found = {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            users::memberships_of(&mut conn, &email)?
        };
        Ok(crate::auth::login::open(hasher, found, shop_id, &password))
    })
    .await?;
    if opened.memberships.is_empty() {
        limiter.failed(&given, address);
    } else if opened.opens_all {
        limiter.succeeded(&given);
    }
    let user = opened.into_user()?;
    let token = keys.issue(user.id, user.shop_id, user.role, user.token_version)?;
    Ok(HttpResponse::Ok().json(TokenResponse { token }))
}

/// The caller's shop.
#[utoipa::path(tag = "shops", security(("bearer" = [])), responses((status = 200, body = Shop, description = "the caller's shop")))]
#[get("/v1/shop")]
pub async fn my_shop(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Read)?;
    let shop = with_db(&pool, move |conn| Ok(shops::get(conn, caller.shop_id)?)).await?;
    Ok(HttpResponse::Ok().json(shop))
}

/// Adds a `staff` or `accountant` user to the owner's shop, with the
/// password given. The answer is the same whether or not the e-mail belongs
/// to other shops; their memberships and passwords stay as they are.
#[utoipa::path(tag = "shops", security(("bearer" = [])), request_body = NewUserRequest,
    responses((status = 201, body = User, description = "the new user"), (status = 403, description = "not the owner"), (status = 409, description = "email_taken: the e-mail is already a user of this shop"),
        (status = 429, description = "too many password checks at once (busy); Retry-After says when to try again")))]
#[post("/v1/users")]
pub async fn add_user(
    caller: Caller,
    pool: web::Data<Pool>,
    gate: web::Data<HashingGate>,
    body: super::Json<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let NewUserRequest { email, password, role } = body.into_inner();
    let email = parse_email(&email)?;
    let new = prepare_user(&pool, &gate, email, password, role).await?;
    let user = with_db(&pool, move |conn| Ok(users::add_to_shop(conn, caller.shop_id, &new)?)).await?;
    Ok(HttpResponse::Created().json(user))
}

/// The shop's users.
#[utoipa::path(tag = "shops", security(("bearer" = [])), responses((status = 200, body = super::Page<User>, description = "the shop's users, one page")))]
#[get("/v1/users")]
pub async fn list_users(caller: Caller, pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let list = with_db(&pool, move |conn| Ok(users::list(conn, caller.shop_id)?)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "data": list, "next_cursor": null })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    #[schema(pattern = "^[a-z0-9_]{1,512}$", example = "pedido_atualizado")]
    pub name: String,
    #[schema(pattern = "^[A-Za-z_]{2,8}$", example = "pt_BR")]
    pub language: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppRequest {
    /// Meta's id of the number (digits).
    #[schema(pattern = r"^\s*[0-9]{1,32}\s*$", example = "106540352242922")]
    pub phone_number_id: String,
    #[schema(pattern = r"^\s*[!-~]{1,1024}\s*$", example = "EAAG-access-token")]
    pub access_token: String,
    #[schema(pattern = r"^\s*([0-9]{1,32})?\s*$", example = "1234567890123456")]
    pub catalog_id: Option<String>,
    /// Sent instead of a reply when the customer's 24-hour window is closed.
    pub template: Option<TemplateRequest>,
}

/// Connects the shop's WhatsApp number (the token is kept, never shown again).
#[utoipa::path(tag = "shops", security(("bearer" = [])), request_body = WhatsAppRequest,
    responses((status = 200, body = crate::shops::whatsapp::WhatsAppSettingsView, description = "the connection, without its token"), (status = 403, description = "not the owner"),
        (status = 409, description = "number connected to another shop")))]
#[put("/v1/shop/whatsapp")]
pub async fn put_whatsapp(
    caller: Caller,
    services: web::Data<crate::services::Services>,
    body: super::Json<WhatsAppRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let body = body.into_inner();
    let settings = crate::shops::whatsapp::WhatsAppSettings::parse(
        &body.phone_number_id,
        &body.access_token,
        body.catalog_id.as_deref(),
        body.template.as_ref().map(|t| (t.name.as_str(), t.language.as_str())),
    )?;
    crate::shops::whatsapp::verify_with_meta(&services.graph, &settings).await?;
    let keyring = services.keyring.clone();
    let view = with_db(&services.pool, move |conn| {
        Ok(crate::shops::whatsapp::save(conn, &keyring, caller.shop_id, &settings)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
