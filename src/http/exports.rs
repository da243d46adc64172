//! The accountant's exports, streamed: the rows are written on a blocking
//! thread into a bounded channel that the response body drains, so memory
//! stays flat and the first bytes leave before the last row is read.
//! Each export is recorded before it starts; the owner lists them.

use super::{ApiError, Caller, Page, with_db};
use crate::auth::Permission;
use crate::db::Pool;
use crate::reports::audit::{self, AuditEntry};
use crate::reports::csv::CsvSink;
use crate::reports::xlsx::XlsxSink;
use crate::reports::{ExportKind, Format, Locale, Options, Period, ReportError};
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Deserialize;
use std::io::Write;
use tokio::sync::mpsc;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// First day, in the shop's time zone, inclusive.
    pub from: NaiveDate,
    /// Last day, in the shop's time zone, inclusive (at most 366 days).
    pub to: NaiveDate,
    /// `csv` (default), `xlsx` (real numbers formatted `"R$" #,##0.00`, real
    /// dates, header frozen with an autofilter, a totals row of `SUM` formulas;
    /// at most 1,048,574 rows) or `ofx` (payments and refunds: an OFX 1.0.2
    /// statement of the shop's Pix account, FITID = endToEndId / rtrId).
    #[param(example = "csv")]
    pub format: Option<String>,
    /// `en` (default: RFC 4180, dot decimals, ISO dates) or `pt-BR` (`;`,
    /// comma decimals, dd/mm/aaaa, UTF-8 BOM).
    #[param(example = "pt-BR")]
    pub locale: Option<String>,
    /// Only this status: an order's status, a payment's outcome, a refund's status.
    pub status: Option<String>,
    /// Orders: one row per item.
    pub lines: Option<bool>,
}

fn bad(detail: String) -> ApiError {
    ApiError::request(StatusCode::BAD_REQUEST, "invalid_query", detail)
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Bytes written are sent in chunks of this size (at most `CHUNKS_IN_FLIGHT` queued).
const CHUNK: usize = 64 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;

/// A blocking writer into the response: blocks while the client is slow,
/// fails once the client went away (which ends the export).
struct ChannelWriter(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_export(
    pool: &Pool,
    caller: Caller,
    kind: ExportKind,
    period: &Period,
    (format, locale, now): (Format, Locale, chrono::NaiveDateTime),
    options: &Options,
    out: ChannelWriter,
) -> Result<(), ReportError> {
    let mut conn = pool.get().map_err(|e| ReportError::Write(e.to_string()))?;
    if format == Format::Ofx {
        let mut out = std::io::BufWriter::with_capacity(CHUNK, out);
        crate::reports::ofx::write(&mut conn, caller.shop_id, kind, period, now, &mut out)?;
        return out.flush().map_err(|e| ReportError::Write(e.to_string()));
    }
    if format == Format::Xlsx {
        // Rows go to temporary files; the finished workbook is zipped into the body.
        let mut sink = XlsxSink::new(locale, kind.as_str())?;
        crate::reports::export(&mut conn, caller.shop_id, kind, period, options, &mut sink)?;
        let out = sink.finish(std::io::BufWriter::with_capacity(CHUNK, out))?;
        return out.into_inner().map(drop).map_err(|e| ReportError::Write(e.error().to_string()));
    }
    let mut sink = CsvSink::new(std::io::BufWriter::with_capacity(CHUNK, out), locale)?;
    crate::reports::export(&mut conn, caller.shop_id, kind, period, options, &mut sink)?;
    sink.finish()?.flush().map_err(|e| ReportError::Write(e.to_string()))
}

/// A period's orders, payments, refunds or reconciliation as a file, with a
/// totals row. Dates are the shop's (its time zone); amounts in reais.
#[utoipa::path(tag = "exports", security(("bearer" = [])),
    params(("kind" = String, Path, description = "`orders`, `payments`, `refunds` or `reconciliation`"), ExportQuery),
    responses((status = 200, content((String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "application/x-ofx")), description = "the export, streamed"),
        (status = 400, description = "invalid period, format, locale or status"),
        (status = 403, description = "staff may not export"), (status = 404, description = "no such export")))]
#[get("/v1/exports/{kind}")]
pub async fn export(
    caller: Caller,
    services: web::Data<Services>,
    kind: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Export)?;
    let kind: ExportKind = kind
        .parse()
        .map_err(|_| ApiError::request(StatusCode::NOT_FOUND, "not_found", format!("no export `{kind}`")))?;
    let query = query.into_inner();
    let format: Format = query.format.as_deref().unwrap_or("csv").parse().map_err(bad)?;
    if format == Format::Ofx && !matches!(kind, ExportKind::Payments | ExportKind::Refunds) {
        return Err(bad("format `ofx` is for payments and refunds".into()));
    }
    let locale: Locale = query.locale.as_deref().unwrap_or("en").parse().map_err(bad)?;
    let options = Options { status: query.status, lines: query.lines.unwrap_or(false) };
    let now = services.clock.now();
    let period = with_db(&services.pool, move |conn| {
        let zone = crate::shops::settings::get(conn, caller.shop_id)?.timezone;
        let period = Period::new(query.from, query.to, &zone)?;
        audit::record(conn, caller.shop_id, caller.user_id, kind, format, &period, now)?;
        Ok(period)
    })
    .await?;
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let pool = services.pool.clone();
    tokio::task::spawn_blocking(move || {
        let failed = tx.clone();
        if let Err(e) = write_export(&pool, caller, kind, &period, (format, locale, now), &options, ChannelWriter(tx)) {
            // Cut the body short: a truncated file must not look complete.
            tracing::error!(error = %e, "export failed");
            let _ = failed.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    let name = format!("{kind}-{}-{}.{format}", period.from, period.to);
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => XLSX_TYPE,
        Format::Ofx => "application/x-ofx",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .streaming(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The exports made in the shop, newest first (owner only).
#[utoipa::path(tag = "exports", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>, description = "a page of exports made"),
        (status = 403, description = "only the owner")))]
#[get("/v1/audit")]
pub async fn audit_list(
    caller: Caller,
    services: web::Data<Services>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Permission::Administer)?;
    let AuditQuery { limit, cursor } = query.into_inner();
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit must be 1 to 100".into()));
    }
    let data =
        with_db(&services.pool, move |conn| Ok(audit::list(conn, caller.shop_id, cursor.as_deref(), limit)?)).await?;
    let next_cursor = (data.len() as i64 == limit).then(|| data.last().map(|e| e.id.clone())).flatten();
    Ok(HttpResponse::Ok().json(Page { data, next_cursor }))
}
