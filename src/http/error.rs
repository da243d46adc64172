//! The one place where errors become HTTP answers: `application/problem+json`
//! (RFC 9457) with a stable `code` that clients may match on.

use crate::auth::AuthError;
use crate::catalog::CatalogError;
use crate::chat::ChatError;
use crate::chat::webhook::WebhookError;
use crate::db::DbError;
use crate::notify::webhooks::EndpointError;
use crate::orders::OrderError;
use crate::payments::PaymentError;
use crate::reports::ReportError;
use crate::shops::ShopError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Shop(#[from] ShopError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// Errors of the HTTP layer itself: bodies, queries, routes.
    #[error("{detail}")]
    Request { status: StatusCode, code: &'static str, detail: String },
    /// Too many requests: try again after `retry_after` seconds.
    #[error("{detail}")]
    TooMany { code: &'static str, detail: String, retry_after: u64 },
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::Db(e.into())
    }
}

impl ApiError {
    pub fn request(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Request { status, code, detail: detail.into() }
    }

    /// Status, code and any extra members of the problem document.
    fn describe(&self) -> Described {
        let none = Map::new;
        match self {
            ApiError::Auth(e) => auth(e),
            ApiError::Shop(e) => shop(e),
            ApiError::Catalog(e) => catalog(e),
            ApiError::Chat(e) => match e {
                ChatError::Signature(_) => (StatusCode::UNAUTHORIZED, "invalid_signature", none()),
                ChatError::Webhook(WebhookError::TooLarge) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", none()),
                ChatError::Webhook(_) => (StatusCode::BAD_REQUEST, "malformed_json", none()),
                ChatError::Db(e) => database(e),
                ChatError::Catalog(e) | ChatError::Cart(crate::cart::CartError::Catalog(e)) => catalog(e),
                ChatError::Shop(e) => shop(e),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
            },
            ApiError::Db(e) => database(e),
            ApiError::Order(e) => order(e),
            ApiError::Payment(e) => payment(e),
            ApiError::Report(e) => match e {
                ReportError::Invalid { field, .. } => (StatusCode::BAD_REQUEST, "invalid_query", field_member(field)),
                ReportError::Shop(e) => shop(e),
                ReportError::Db(_) | ReportError::Write(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
            },
            ApiError::Endpoint(e) => endpoint(e),
            ApiError::TooMany { code, .. } => (StatusCode::TOO_MANY_REQUESTS, code, none()),
            ApiError::Request { status, code, .. } => (*status, code, none()),
        }
    }
}

type Described = (StatusCode, &'static str, Map<String, Value>);

fn shop(e: &ShopError) -> Described {
    let none = Map::new;
    match e {
        ShopError::Empty { field }
        | ShopError::TooLong { field, .. }
        | ShopError::InvalidContact { field, .. }
        | ShopError::InvalidSetting { field, .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member(field))
        }
        ShopError::PixKeyMismatch { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_pix_key", field_member("pix.key"))
        }
        ShopError::PhoneNumberTaken => (StatusCode::CONFLICT, "phone_number_taken", none()),
        ShopError::WhatsAppNotVerified(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "whatsapp_not_verified", field_member("access_token"))
        }
        ShopError::WhatsAppUnreachable(_) => (StatusCode::BAD_GATEWAY, "whatsapp_unreachable", none()),
        ShopError::NotFound => (StatusCode::NOT_FOUND, "not_found", none()),
        ShopError::Secret(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
        ShopError::Auth(e) => auth(e),
        ShopError::Db(e) => database(e),
    }
}

fn catalog(e: &CatalogError) -> Described {
    let none = Map::new;
    match e {
        CatalogError::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member(field)),
        CatalogError::NotFound => (StatusCode::NOT_FOUND, "not_found", none()),
        CatalogError::DuplicateSku(_) => (StatusCode::CONFLICT, "duplicate_sku", field_member("retailer_id")),
        CatalogError::InvalidFeed(errors) => {
            let mut extra = Map::new();
            extra.insert("created".into(), json!(0));
            extra.insert("updated".into(), json!(0));
            extra.insert("errors".into(), json!(errors));
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_feed", extra)
        }
        CatalogError::UnreadableFeed(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unreadable_feed", none()),
        CatalogError::Db(e) => database(e),
        CatalogError::Corrupt(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
    }
}

fn order(e: &OrderError) -> Described {
    let none = Map::new;
    match e {
        OrderError::NoItems => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member("items")),
        OrderError::ItemsUnavailable(items) => {
            let mut extra = Map::new();
            extra.insert("items".into(), json!(items));
            (StatusCode::UNPROCESSABLE_ENTITY, "items_unavailable", extra)
        }
        OrderError::TotalTooLarge => (StatusCode::UNPROCESSABLE_ENTITY, "total_too_large", none()),
        OrderError::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member(field)),
        OrderError::NotFound => (StatusCode::NOT_FOUND, "not_found", none()),
        OrderError::WrongState(status) => {
            let mut extra = Map::new();
            extra.insert("current_status".into(), json!(status));
            (StatusCode::CONFLICT, "wrong_state", extra)
        }
        OrderError::Catalog(e) => catalog(e),
        OrderError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
    }
}

fn payment(e: &PaymentError) -> Described {
    let none = Map::new;
    match e {
        PaymentError::Order(e) => order(e),
        PaymentError::Shop(e) => shop(e),
        PaymentError::NoSuchCharge | PaymentError::SandboxOff => (StatusCode::NOT_FOUND, "not_found", none()),
        PaymentError::ChargeNotPayable(status) => {
            let mut extra = Map::new();
            extra.insert("current_status".into(), json!(status));
            (StatusCode::CONFLICT, "charge_not_payable", extra)
        }
        PaymentError::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member(field)),
        PaymentError::RefundTooLarge { left, .. } => {
            let mut extra = field_member("amount");
            extra.insert("refundable".into(), json!(left));
            (StatusCode::UNPROCESSABLE_ENTITY, "refund_too_large", extra)
        }
        PaymentError::NothingToRefund => (StatusCode::UNPROCESSABLE_ENTITY, "nothing_to_refund", none()),
        PaymentError::Psp(e) => (StatusCode::BAD_GATEWAY, "psp_error", psp_members(e)),
        PaymentError::Jobs(_) | PaymentError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", none()),
    }
}

/// What the PSP said when it refused (its problem answer's `title`,
/// `detail` and `violacoes`), for the shop to read beside our `detail`.
fn psp_members(e: &crate::payments::psp::PspError) -> Map<String, Value> {
    let mut extra = Map::new();
    if let crate::payments::psp::PspError::Rejected { title, detail, violations } = e {
        extra.insert("psp_title".into(), json!(title));
        extra.insert("psp_detail".into(), json!(detail));
        extra.insert("psp_violations".into(), json!(violations));
    }
    extra
}

fn endpoint(e: &EndpointError) -> Described {
    let none = Map::new;
    match e {
        EndpointError::Invalid { field, .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member(field))
        }
        EndpointError::TooMany(_) => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_endpoints", none()),
        EndpointError::NotFound | EndpointError::NoSuchDelivery => (StatusCode::NOT_FOUND, "not_found", none()),
        EndpointError::NotDead(status) => {
            let mut extra = Map::new();
            extra.insert("current_status".into(), json!(status));
            (StatusCode::CONFLICT, "not_dead", extra)
        }
        EndpointError::Secret(_) | EndpointError::Db(_) | EndpointError::Jobs(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal", none())
        }
    }
}

fn field_member(field: &str) -> Map<String, Value> {
    let mut extra = Map::new();
    extra.insert("field".into(), json!(field));
    extra
}

fn auth(e: &AuthError) -> Described {
    let (status, code) = match e {
        AuthError::MissingToken => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        AuthError::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        AuthError::ChooseShop(shops) => {
            let mut extra = Map::new();
            extra.insert("shops".into(), json!(shops));
            return (StatusCode::CONFLICT, "choose_shop", extra);
        }
        AuthError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AuthError::SecondOwner => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_role"),
        AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
        AuthError::NoSuchUser => (StatusCode::NOT_FOUND, "not_found"),
        AuthError::CannotRemoveSelf => (StatusCode::CONFLICT, "cannot_remove_self"),
        AuthError::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
        AuthError::WeakPassword => (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
        AuthError::InvalidEmail(_) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", field_member("email"));
        }
        AuthError::Hashing(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        AuthError::Db(e) => return database(e),
    };
    (status, code, Map::new())
}

fn database(e: &DbError) -> Described {
    match e {
        DbError::Pool(_) | DbError::Connect(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", Map::new()),
        DbError::Query(_) | DbError::Migration(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", Map::new()),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.describe().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code, extra) = self.describe();
        // Server faults are logged in full and shown to the client in brief,
        // so no internal detail (SQL, secrets) leaks out.
        // The PSP's own refusal is no internal detail: the shop needs its words.
        let from_psp = matches!(self, ApiError::Payment(PaymentError::Psp(_)));
        let detail = if status.is_server_error() && !from_psp {
            tracing::error!(error = %self, code, "request failed");
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            self.to_string()
        };
        let mut response = problem(status, code, &detail, extra);
        if let ApiError::TooMany { retry_after, .. } = self {
            response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, (*retry_after).into());
        }
        response
    }
}

pub fn problem(status: StatusCode, code: &str, detail: &str, extra: Map<String, Value>) -> HttpResponse {
    let mut body = Map::new();
    body.insert("type".into(), json!(format!("https://chatshop.dev/problems/{code}")));
    body.insert("title".into(), json!(status.canonical_reason().unwrap_or("Error")));
    body.insert("status".into(), json!(status.as_u16()));
    body.insert("code".into(), json!(code));
    body.insert("detail".into(), json!(detail));
    body.extend(extra);
    HttpResponse::build(status).content_type("application/problem+json").body(Value::Object(body).to_string())
}
