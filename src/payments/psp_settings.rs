//! The shop's PSP (`PUT /v1/shop/psp`): which one, and for `api_pix` its
//! address, credentials and client certificate, each secret sealed at rest
//! (see `crypto`) and bound to its column and shop. No row means the sandbox.

use super::PaymentError;
use super::charge::PspKind;
use super::psp::api_pix::pkcs12::{self, Pkcs12Error};
use super::psp::api_pix::{ApiPix, ApiPixSettings, ClientIdentity, Transport, check_url};
use super::psp::{Psp, PspError};
use crate::crypto::{Keyring, Secret};
use crate::db::schema::psp_settings;
use crate::db::{AnyConnection, write_transaction};
use crate::ids::ShopId;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

/// What an owner sends, checked.
#[derive(Clone)]
pub enum PspChoice {
    Sandbox,
    ApiPix(ApiPixSettings),
}

/// What the API shows: never a secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PspSettingsView {
    #[schema(example = "api_pix")]
    pub kind: String,
    pub api_base_url: Option<String>,
    /// Where the PSP posts its callbacks (`PUT {api}/webhook/{chave}`).
    pub webhook_url: Option<String>,
    pub webhook_registered: bool,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> PaymentError {
    PaymentError::Invalid { field, reason: reason.into() }
}

fn required(field: &'static str, value: Option<String>) -> Result<String, PaymentError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| invalid(field, "required for api_pix"))
}

/// The request's fields, as sent.
#[derive(Default)]
pub struct PspInput {
    pub kind: String,
    pub api_base_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub certificate_pem: Option<String>,
    pub private_key_pem: Option<String>,
    pub pkcs12_base64: Option<String>,
    pub pkcs12_password: Option<String>,
}

impl PspChoice {
    /// Checks the settings and that a client can be made of them (the
    /// certificate and key read), reached through `transport`.
    pub fn parse(input: PspInput, transport: &Transport) -> Result<PspChoice, PaymentError> {
        match input.kind.as_str() {
            "sandbox" => return Ok(PspChoice::Sandbox),
            "api_pix" => {}
            _ => return Err(invalid("kind", "sandbox or api_pix")),
        }
        let api_base_url = required("api_base_url", input.api_base_url)?;
        check_url("api_base_url", &api_base_url).map_err(|e| invalid("api_base_url", e.to_string()))?;
        let token_url = required("token_url", input.token_url)?;
        check_url("token_url", &token_url).map_err(|e| invalid("token_url", e.to_string()))?;
        let identity = match (input.certificate_pem, input.private_key_pem, input.pkcs12_base64) {
            (Some(certificate), Some(key), _) => {
                Some(ClientIdentity::Pem { certificate, private_key: Secret::new(key) })
            }
            (Some(_), None, _) => return Err(invalid("private_key_pem", "required with certificate_pem")),
            (None, Some(_), _) => return Err(invalid("certificate_pem", "required with private_key_pem")),
            (None, None, Some(p12)) => {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(p12.trim())
                    .map_err(|_| invalid("pkcs12_base64", "not base64"))?;
                let password = input.pkcs12_password.unwrap_or_default();
                // Opened now, so a wrong password is the shop's 422, not a
                // charge that fails later.
                pkcs12::read(&der, &password).map_err(|e| match e {
                    Pkcs12Error::WrongPassword => invalid("pkcs12_password", e.to_string()),
                    other => invalid("pkcs12_base64", other.to_string()),
                })?;
                Some(ClientIdentity::Pkcs12 { der, password: Secret::new(password) })
            }
            (None, None, None) => None,
        };
        let settings = ApiPixSettings {
            api_base_url,
            token_url,
            client_id: required("client_id", input.client_id)?,
            client_secret: Secret::new(required("client_secret", input.client_secret)?),
            identity,
            transport: transport.clone(),
        };
        ApiPix::new(&settings).map_err(|e| match e {
            PspError::Settings(reason) => invalid("certificate_pem", reason),
            other => PaymentError::Psp(other),
        })?;
        Ok(PspChoice::ApiPix(settings))
    }
}

fn context(column: &str, shop: ShopId) -> String {
    format!("psp_settings.{column}:{shop}")
}

fn seal(keyring: &Keyring, column: &str, shop: ShopId, value: &str) -> String {
    keyring.seal(value, &context(column, shop))
}

fn open(keyring: &Keyring, column: &str, shop: ShopId, sealed: &str) -> Result<Secret, PspError> {
    keyring.open(sealed, &context(column, shop)).map_err(|e| PspError::Settings(format!("{column}: {e}")))
}

/// Stores the choice (replacing any), its secrets sealed; `now` becomes the
/// settings' version, which renews cached clients.
pub fn save(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    shop: ShopId,
    choice: &PspChoice,
    webhook_registered: bool,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    use psp_settings::dsl as s;
    let mut row = (
        s::kind.eq(PspKind::Sandbox),
        s::api_base_url.eq(None::<String>),
        s::token_url.eq(None::<String>),
        s::client_id.eq(None::<String>),
        s::client_secret.eq(None::<String>),
        s::certificate_pem.eq(None::<String>),
        s::private_key_pem.eq(None::<String>),
        (s::pkcs12.eq(None::<String>), s::pkcs12_password.eq(None::<String>)),
    );
    if let PspChoice::ApiPix(settings) = choice {
        row.0 = s::kind.eq(PspKind::ApiPix);
        row.1 = s::api_base_url.eq(Some(settings.api_base_url.clone()));
        row.2 = s::token_url.eq(Some(settings.token_url.clone()));
        row.3 = s::client_id.eq(Some(settings.client_id.clone()));
        row.4 = s::client_secret.eq(Some(seal(keyring, "client_secret", shop, settings.client_secret.expose())));
        match &settings.identity {
            Some(ClientIdentity::Pem { certificate, private_key }) => {
                row.5 = s::certificate_pem.eq(Some(seal(keyring, "certificate_pem", shop, certificate)));
                row.6 = s::private_key_pem.eq(Some(seal(keyring, "private_key_pem", shop, private_key.expose())));
            }
            Some(ClientIdentity::Pkcs12 { der, password }) => {
                let p12 = base64::engine::general_purpose::STANDARD.encode(der);
                row.7 = (
                    s::pkcs12.eq(Some(seal(keyring, "pkcs12", shop, &p12))),
                    s::pkcs12_password.eq(Some(seal(keyring, "pkcs12_password", shop, password.expose()))),
                );
            }
            None => {}
        }
    }
    let flags = (s::webhook_registered.eq(webhook_registered), s::updated_at.eq(now));
    write_transaction(conn, |conn| {
        let updated = diesel::update(s::psp_settings.find(shop)).set((row.clone(), flags)).execute(conn)?;
        if updated == 0 {
            diesel::insert_into(s::psp_settings).values((s::shop_id.eq(shop), row, flags)).execute(conn)?;
        }
        if matches!(choice, PspChoice::ApiPix(_)) {
            super::SweepPix::start(conn, shop, now)?;
        }
        Ok(())
    })
}

/// Re-seals with the current key what an older key sealed (`chatshop
/// secrets rotate`), so the old key can go. Returns how many values moved.
pub fn reseal(conn: &mut AnyConnection, keyring: &Keyring) -> Result<usize, PaymentError> {
    use psp_settings::dsl as s;
    let mut written = 0;
    // One column at a time: each value is bound to its column and shop.
    macro_rules! reseal_column {
        ($column:ident) => {{
            let stored: Vec<(ShopId, String)> = s::psp_settings
                .filter(s::$column.is_not_null())
                .select((s::shop_id, s::$column.assume_not_null()))
                .load(conn)?;
            for (shop, sealed) in stored.into_iter().filter(|(_, v)| !keyring.is_current(v)) {
                let plain = open(keyring, stringify!($column), shop, &sealed)?;
                // Only if unchanged since read: settings saved meanwhile win.
                written += diesel::update(s::psp_settings.find(shop))
                    .filter(s::$column.eq(&sealed))
                    .set(s::$column.eq(seal(keyring, stringify!($column), shop, plain.expose())))
                    .execute(conn)?;
            }
        }};
    }
    reseal_column!(client_secret);
    reseal_column!(certificate_pem);
    reseal_column!(private_key_pem);
    reseal_column!(pkcs12);
    reseal_column!(pkcs12_password);
    Ok(written)
}

/// The settings' kind and version, without opening anything.
pub fn version(conn: &mut AnyConnection, shop: ShopId) -> Result<Option<(PspKind, NaiveDateTime)>, PspError> {
    psp_settings::table
        .find(shop)
        .select((psp_settings::kind, psp_settings::updated_at))
        .first(conn)
        .optional()
        .map_err(|e| PspError::Settings(format!("reading the settings: {e}")))
}

/// The shop's stored PSP settings, opened, with their version; `None` for
/// the sandbox.
pub fn load(
    conn: &mut AnyConnection,
    keyring: &Keyring,
    shop: ShopId,
    transport: &Transport,
) -> Result<Option<(NaiveDateTime, ApiPixSettings)>, PspError> {
    use psp_settings::dsl as s;
    type Row = (
        PspKind,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        NaiveDateTime,
    );
    let found: Option<Row> = s::psp_settings
        .find(shop)
        .select((
            s::kind,
            s::api_base_url,
            s::token_url,
            s::client_id,
            s::client_secret,
            s::certificate_pem,
            s::private_key_pem,
            s::pkcs12,
            s::pkcs12_password,
            s::updated_at,
        ))
        .first(conn)
        .optional()
        .map_err(|e| PspError::Settings(format!("reading the settings: {e}")))?;
    let Some((kind, base, token_url, client_id, secret, cert, key, p12, p12_password, version)) = found else {
        return Ok(None);
    };
    if kind == PspKind::Sandbox {
        return Ok(None);
    }
    let missing = |field: &str| PspError::Settings(format!("{field} is not set"));
    let identity = match (cert, key, p12) {
        (Some(cert), Some(key), _) => Some(ClientIdentity::Pem {
            certificate: open(keyring, "certificate_pem", shop, &cert)?.expose().to_owned(),
            private_key: open(keyring, "private_key_pem", shop, &key)?,
        }),
        (_, _, Some(p12)) => {
            let text = open(keyring, "pkcs12", shop, &p12)?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(text.expose())
                .map_err(|_| PspError::Settings("pkcs12 is not base64".into()))?;
            let password = match p12_password {
                Some(sealed) => open(keyring, "pkcs12_password", shop, &sealed)?,
                None => Secret::new(String::new()),
            };
            Some(ClientIdentity::Pkcs12 { der, password })
        }
        _ => None,
    };
    let secret = secret.ok_or_else(|| missing("client_secret"))?;
    Ok(Some((
        version,
        ApiPixSettings {
            api_base_url: base.ok_or_else(|| missing("api_base_url"))?,
            token_url: token_url.ok_or_else(|| missing("token_url"))?,
            client_id: client_id.ok_or_else(|| missing("client_id"))?,
            client_secret: open(keyring, "client_secret", shop, &secret)?,
            identity,
            transport: transport.clone(),
        },
    )))
}

/// Runs `work` on a pooled connection off the async threads.
async fn on_db<T: Send + 'static>(
    pool: &crate::db::Pool,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, PaymentError> + Send + 'static,
) -> Result<T, PaymentError> {
    let pool = pool.clone();
    let unavailable = |e: String| PaymentError::Psp(PspError::Unavailable(e));
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| unavailable(e.to_string()))?;
        work(&mut conn)
    })
    .await
    .map_err(|e| unavailable(e.to_string()))?
}

/// Configures the shop's PSP. For `api_pix` the callback URL is registered
/// with the PSP first (no transaction open), so settings the PSP refuses
/// are never stored; then the settings are saved with their secrets sealed.
pub async fn configure(
    pool: &crate::db::Pool,
    keyring: &Keyring,
    shop: ShopId,
    choice: PspChoice,
    webhook_url: String,
    now: NaiveDateTime,
) -> Result<PspSettingsView, PaymentError> {
    let mut view =
        PspSettingsView { kind: "sandbox".into(), api_base_url: None, webhook_url: None, webhook_registered: false };
    if let PspChoice::ApiPix(settings) = &choice {
        let key = on_db(pool, move |conn| Ok(crate::shops::get(conn, shop)?.pix.key)).await?;
        let key = crate::pix::brcode::PixKey::parse(&key).map_err(|e| invalid("pix.key", e.to_string()))?;
        ApiPix::new(settings)?.register_webhook(&key, &webhook_url).await?;
        view = PspSettingsView {
            kind: "api_pix".into(),
            api_base_url: Some(settings.api_base_url.clone()),
            webhook_url: Some(webhook_url),
            webhook_registered: true,
        };
    }
    let (keyring, registered) = (keyring.clone(), view.webhook_registered);
    on_db(pool, move |conn| save(conn, &keyring, shop, &choice, registered, now)).await?;
    Ok(view)
}
