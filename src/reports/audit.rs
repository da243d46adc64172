//! Who pulled which books: every export is recorded before its first byte
//! leaves, and the owner can list them (`GET /v1/audit`).

use super::{ExportKind, Format, Period};
use crate::db::AnyConnection;
use crate::db::schema::{export_audit, users};
use crate::ids::{ShopId, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub user_id: String,
    /// The user's e-mail; null once the user was removed.
    pub user_email: Option<String>,
    #[schema(example = "payments")]
    pub export: String,
    #[schema(example = "csv")]
    pub format: String,
    /// First day of the period, in the shop's time zone.
    #[schema(example = "2026-11-01")]
    pub from: String,
    /// Last day of the period (inclusive).
    #[schema(example = "2026-11-30")]
    pub to: String,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

pub fn record(
    conn: &mut AnyConnection,
    shop: ShopId,
    user: UserId,
    kind: ExportKind,
    format: Format,
    period: &Period,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(export_audit::table)
        .values((
            // Time-ordered: the keyset of the listing.
            export_audit::id.eq(uuid::Uuid::now_v7().to_string()),
            export_audit::shop_id.eq(shop),
            export_audit::user_id.eq(user),
            export_audit::export.eq(kind.as_str()),
            export_audit::format.eq(format.as_str()),
            export_audit::period_from.eq(period.from.to_string()),
            export_audit::period_to.eq(period.to.to_string()),
            export_audit::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

type Row = (String, String, String, String, String, String, NaiveDateTime);

/// Newest first, `limit` after the cursor `before` (an entry's id).
pub fn list(conn: &mut AnyConnection, shop: ShopId, before: Option<&str>, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    let mut query = export_audit::table.filter(export_audit::shop_id.eq(shop)).into_boxed();
    if let Some(before) = before {
        query = query.filter(export_audit::id.lt(before.to_owned()));
    }
    let rows: Vec<Row> = query
        .order(export_audit::id.desc())
        .limit(limit)
        .select((
            export_audit::id,
            export_audit::user_id,
            export_audit::export,
            export_audit::format,
            export_audit::period_from,
            export_audit::period_to,
            export_audit::created_at,
        ))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.1).collect();
    let emails: HashMap<String, String> =
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::email)).load(conn)?.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|(id, user_id, export, format, from, to, created_at)| AuditEntry {
            user_email: emails.get(&user_id).cloned(),
            id,
            user_id,
            export,
            format,
            from,
            to,
            created_at,
        })
        .collect())
}
