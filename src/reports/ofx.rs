//! OFX 1.0.2 (SGML, with closing tags, UTF-8 declared) of the shop's Pix
//! account at its PSP, as Brazilian ERPs and accounting systems import bank
//! statements: one `STMTTRN` per Pix received (`CREDIT`, FITID =
//! endToEndId) or per refund settled (`DEBIT`, FITID = rtrId), so a second
//! import is recognised as the same transactions.

use super::reconcile::settled_page;
use super::rows::{PaymentKey, payments_page};
use super::{ExportKind, Period, ReportError, invalid};
use crate::db::AnyConnection;
use crate::ids::ShopId;
use crate::reports::Locale;
use crate::reports::csv::amount;
use chrono::{NaiveDateTime, Offset, TimeZone};
use std::io::Write;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `20261123093000[-3:BRT]`: local time with its offset from UTC.
fn ofx_time(period: &Period, utc: NaiveDateTime) -> String {
    let offset = period.zone.offset_from_utc_datetime(&utc).fix().local_minus_utc();
    let hours = f64::from(offset) / 3600.0;
    format!("{}[{hours}:{}]", period.local(utc).format("%Y%m%d%H%M%S"), period.zone.offset_from_utc_datetime(&utc))
}

struct Trn<'a> {
    credit: bool,
    at: NaiveDateTime,
    cents: i64,
    fitid: &'a str,
    name: Option<&'a str>,
    memo: String,
}

fn write_trn(out: &mut dyn Write, period: &Period, t: &Trn) -> std::io::Result<()> {
    let name: String = t.name.unwrap_or("Pix").chars().take(32).collect();
    write!(
        out,
        "<STMTTRN>\r\n<TRNTYPE>{}</TRNTYPE>\r\n<DTPOSTED>{}</DTPOSTED>\r\n<TRNAMT>{}</TRNAMT>\r\n<FITID>{}</FITID>\r\n<NAME>{}</NAME>\r\n<MEMO>{}</MEMO>\r\n</STMTTRN>\r\n",
        if t.credit { "CREDIT" } else { "DEBIT" },
        ofx_time(period, t.at),
        amount(if t.credit { t.cents } else { -t.cents }, Locale::En),
        escape(t.fitid),
        escape(&name),
        escape(&t.memo),
    )
}

fn io(e: std::io::Error) -> ReportError {
    ReportError::Write(e.to_string())
}

/// Writes the statement; returns the number of transactions.
pub fn write(
    conn: &mut AnyConnection,
    shop: ShopId,
    kind: ExportKind,
    period: &Period,
    now: NaiveDateTime,
    out: &mut dyn Write,
) -> Result<u64, ReportError> {
    if !matches!(kind, ExportKind::Payments | ExportKind::Refunds) {
        return Err(invalid("format", "OFX is for payments and refunds"));
    }
    write!(
        out,
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:UTF-8\r\nCHARSET:NONE\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n\
<OFX>\r\n<SIGNONMSGSRSV1>\r\n<SONRS>\r\n<STATUS>\r\n<CODE>0</CODE>\r\n<SEVERITY>INFO</SEVERITY>\r\n</STATUS>\r\n<DTSERVER>{}</DTSERVER>\r\n<LANGUAGE>POR</LANGUAGE>\r\n</SONRS>\r\n</SIGNONMSGSRSV1>\r\n\
<BANKMSGSRSV1>\r\n<STMTTRNRS>\r\n<TRNUID>1</TRNUID>\r\n<STATUS>\r\n<CODE>0</CODE>\r\n<SEVERITY>INFO</SEVERITY>\r\n</STATUS>\r\n<STMTRS>\r\n<CURDEF>BRL</CURDEF>\r\n\
<BANKACCTFROM>\r\n<BANKID>PIX</BANKID>\r\n<ACCTID>{shop}</ACCTID>\r\n<ACCTTYPE>CHECKING</ACCTTYPE>\r\n</BANKACCTFROM>\r\n<BANKTRANLIST>\r\n<DTSTART>{}</DTSTART>\r\n<DTEND>{}</DTEND>\r\n",
        ofx_time(period, now),
        ofx_time(period, period.start_utc()),
        ofx_time(period, period.end_utc() - chrono::TimeDelta::seconds(1)),
    )
    .map_err(io)?;
    let (mut count, mut balance) = (0u64, 0i64);
    if kind == ExportKind::Payments {
        let mut after: Option<PaymentKey> = None;
        loop {
            let page = payments_page(conn, shop, period, None, after.as_ref())?;
            let Some(last) = page.last() else { break };
            after = Some((last.paid_at, last.end_to_end_id.to_string()));
            for p in &page {
                let fitid = p.end_to_end_id.to_string();
                let memo = format!("Pix {}", p.outcome);
                let trn = Trn {
                    credit: true,
                    at: p.paid_at,
                    cents: p.amount.cents(),
                    fitid: &fitid,
                    name: p.payer_name.as_deref(),
                    memo,
                };
                write_trn(out, period, &trn).map_err(io)?;
                balance += p.amount.cents();
                count += 1;
            }
        }
    } else {
        let mut after = None;
        loop {
            let page = settled_page(conn, shop, period, after.as_ref())?;
            let Some(last) = page.last() else { break };
            after = Some((last.end_to_end_id.to_string(), last.id.to_string()));
            for r in &page {
                // The rtrId is the bank's id of the return; a refund settled without one keeps ours.
                let fitid = r.rtr_id.clone().unwrap_or_else(|| r.id.to_string());
                let memo = format!("Devolução Pix {}", r.end_to_end_id);
                let at = r.settled_at.unwrap_or(r.requested_at);
                let trn = Trn { credit: false, at, cents: r.amount.cents(), fitid: &fitid, name: None, memo };
                write_trn(out, period, &trn).map_err(io)?;
                balance -= r.amount.cents();
                count += 1;
            }
        }
    }
    write!(
        out,
        "</BANKTRANLIST>\r\n<LEDGERBAL>\r\n<BALAMT>{}</BALAMT>\r\n<DTASOF>{}</DTASOF>\r\n</LEDGERBAL>\r\n</STMTRS>\r\n</STMTTRNRS>\r\n</BANKMSGSRSV1>\r\n</OFX>\r\n",
        amount(balance, Locale::En),
        ofx_time(period, period.end_utc() - chrono::TimeDelta::seconds(1)),
    )
    .map_err(io)?;
    Ok(count)
}
