//! The morning summary (issue #10): yesterday's figures (`reports::daily`)
//! sent to the shop by e-mail and WhatsApp at the shop's `summary_time`, in
//! its time zone.
//!
//! One `summary.daily` job per shop and day, with the dedupe key
//! `summary:{shop}:{date}`: however many processes queue it (each at its
//! start, the sign-up, the previous day's run), it exists once, and the
//! mail and message it queues commit with its outcome, so they exist once.
//! Each run queues the next day's.

use super::NotifyError;
use super::render::{self, Lang, ShopLocale};
use crate::channels::email::Email;
use crate::channels::whatsapp::OutboundMessage;
use crate::chat::delivery::{self, SendWhatsApp};
use crate::db::AnyConnection;
use crate::db::schema::shops;
use crate::ids::ShopId;
use crate::jobs::{self, Job, JobKind, JobRun, JobStatus, Outcome, Schedule};
use crate::reports::daily::{self, DailyFigures};
use crate::shops::settings::ShopSettings;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The summary of `date` (a day in the shop's zone) for one shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSummary {
    pub shop_id: ShopId,
    pub date: NaiveDate,
    /// Queues the next day's when done (false for one asked by hand).
    #[serde(default = "yes")]
    pub repeat: bool,
}

fn yes() -> bool {
    true
}

impl JobKind for SendSummary {
    const KIND: &'static str = "summary.daily";
}

pub fn dedupe_key(shop: ShopId, date: NaiveDate) -> String {
    format!("summary:{shop}:{date}")
}

/// When the summary of `date` goes: the next day at `summary_time`, in the
/// shop's zone (08:00 when the setting does not read).
pub fn send_time(settings: &ShopSettings, date: NaiveDate) -> NaiveDateTime {
    let time = NaiveTime::parse_from_str(&settings.summary_time, "%H:%M")
        .unwrap_or(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN));
    let next = date.succ_opt().unwrap_or(date);
    daily::local_instant(&settings.timezone, next, time)
}

/// The day whose summary goes next after `now`: yesterday's if its time
/// has not come yet today, else today's (sent tomorrow).
pub fn upcoming_date(settings: &ShopSettings, now: NaiveDateTime) -> NaiveDate {
    let yesterday = daily::yesterday(&settings.timezone, now);
    if send_time(settings, yesterday) > now { yesterday } else { yesterday.succ_opt().unwrap_or(yesterday) }
}

fn queue(conn: &mut AnyConnection, shop: ShopId, date: NaiveDate, at: NaiveDateTime) -> Result<bool, NotifyError> {
    let job = SendSummary { shop_id: shop, date, repeat: true };
    let schedule = Schedule::for_shop(shop).at(at).dedupe(dedupe_key(shop, date));
    Ok(jobs::enqueue(conn, &job, schedule)?.is_some())
}

/// Queues a shop's next summary (a no-op when it is queued already).
pub fn schedule(conn: &mut AnyConnection, shop: ShopId, now: NaiveDateTime) -> Result<bool, NotifyError> {
    let settings = crate::shops::settings::get(conn, shop)?;
    let date = upcoming_date(&settings, now);
    queue(conn, shop, date, send_time(&settings, date))
}

/// Queues every shop's next summary, as each process does at its start;
/// returns how many were new.
pub fn schedule_all(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, NotifyError> {
    let ids: Vec<ShopId> = shops::table.select(shops::id).load(conn)?;
    let mut queued = 0;
    for shop in ids {
        queued += usize::from(schedule(conn, shop, now)?);
    }
    Ok(queued)
}

/// After the shop's time zone or summary time changed: its queued
/// summaries move to the new time.
pub fn reschedule(conn: &mut AnyConnection, shop: ShopId) -> Result<usize, NotifyError> {
    let settings = crate::shops::settings::get(conn, shop)?;
    let queued = jobs::list_of_kinds(conn, shop, &[SendSummary::KIND], Some(&[JobStatus::Queued]), None, 10)?;
    let mut moved = 0;
    for job in queued {
        let Ok(summary) = serde_json::from_str::<SendSummary>(&job.payload) else { continue };
        if summary.repeat {
            moved += usize::from(jobs::set_run_at(conn, job.id, send_time(&settings, summary.date))?);
        }
    }
    Ok(moved)
}

/// What `send_now` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendNow {
    /// Queued to go at once.
    Queued,
    /// It was waiting for its time; it goes at once instead.
    BroughtForward,
    /// It went already (or is going): not sent twice.
    AlreadySent,
}

/// Queues a day's summary to go at once, still once per shop and day.
pub fn send_now(
    conn: &mut AnyConnection,
    shop: ShopId,
    date: NaiveDate,
    now: NaiveDateTime,
) -> Result<SendNow, NotifyError> {
    crate::shops::settings::get(conn, shop)?;
    let key = dedupe_key(shop, date);
    let job = SendSummary { shop_id: shop, date, repeat: false };
    if jobs::enqueue(conn, &job, Schedule::for_shop(shop).at(now).dedupe(key.clone()))?.is_some() {
        return Ok(SendNow::Queued);
    }
    match jobs::find_by_dedupe(conn, &key)? {
        Some(existing) if existing.status == JobStatus::Queued && jobs::set_run_at(conn, existing.id, now)? => {
            Ok(SendNow::BroughtForward)
        }
        _ => Ok(SendNow::AlreadySent),
    }
}

/// `23/11/2026` or `2026-11-23`.
fn day(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::Pt => date.format("%d/%m/%Y").to_string(),
        Lang::En => date.format("%Y-%m-%d").to_string(),
    }
}

/// The figures as the templates read them: amounts as `R$ 1.234,56`.
pub fn summary_context(locale: &ShopLocale, figures: &DailyFigures) -> serde_json::Value {
    let top: Vec<serde_json::Value> = figures
        .top_products
        .iter()
        .map(|p| serde_json::json!({"name": p.name, "quantity": p.quantity, "revenue": p.revenue.format_brl()}))
        .collect();
    serde_json::json!({ "s": {
        "day": day(locale.lang, figures.date),
        "quiet": figures.is_quiet(),
        "paid_orders": figures.paid_orders,
        "revenue": figures.revenue.format_brl(),
        "average_ticket": figures.average_ticket.format_brl(),
        "top_products": top,
        "waiting_payment": figures.waiting_payment,
        "waiting_fulfilment": figures.waiting_fulfilment,
        "refunds": {"count": figures.refunds.count, "amount": figures.refunds.amount.format_brl()},
        "flagged": {"count": figures.flagged_payments.count, "amount": figures.flagged_payments.amount.format_brl()},
    }})
}

/// The summary as the shop receives it.
pub fn render_summary(conn: &mut AnyConnection, shop: ShopId, date: NaiveDate) -> Result<Rendered, NotifyError> {
    let figures = daily::daily(conn, shop, date)?;
    let the_shop = crate::shops::get(conn, shop)?;
    let locale = ShopLocale::new(&the_shop.name, &the_shop.language, &figures.timezone);
    let message = render::render(SendSummary::KIND, &locale, &summary_context(&locale, &figures))?;
    Ok(Rendered { figures, message })
}

pub struct Rendered {
    pub figures: DailyFigures,
    pub message: render::Rendered,
}

/// What one run commits with its outcome.
#[derive(Clone)]
struct Sends {
    mail: Option<(Email, Schedule)>,
    whatsapp: Option<(SendWhatsApp, Schedule)>,
    next: Option<(SendSummary, Schedule)>,
}

fn prepare(conn: &mut AnyConnection, job: &SendSummary) -> Result<Sends, NotifyError> {
    let shop = crate::shops::get(conn, job.shop_id)?;
    let settings = crate::shops::settings::get(conn, job.shop_id)?;
    let next = job.repeat.then(|| {
        let date = job.date.succ_opt().unwrap_or(job.date);
        let next = SendSummary { shop_id: job.shop_id, date, repeat: true };
        let schedule =
            Schedule::for_shop(job.shop_id).at(send_time(&settings, date)).dedupe(dedupe_key(job.shop_id, date));
        (next, schedule)
    });
    if shop.notify.email.is_none() && shop.notify.whatsapp.is_none() {
        return Ok(Sends { mail: None, whatsapp: None, next });
    }
    let Rendered { message, .. } = render_summary(conn, job.shop_id, job.date)?;
    let key = dedupe_key(job.shop_id, job.date);
    let mail = shop.notify.email.as_ref().map(|to| {
        let mut mail = Email::new(to.to_string(), message.subject.clone(), message.text.clone())
            .html(message.html.clone())
            .from_name(shop.name.clone());
        // A fixed Message-ID: the same summary is the same message.
        mail.message_key = Some(format!("summary-{}-{}", job.shop_id, job.date));
        (mail, Schedule::for_shop(job.shop_id).dedupe(format!("{key}:mail")))
    });
    let whatsapp = shop.notify.whatsapp.as_ref().map(|number| {
        let send = SendWhatsApp {
            shop_id: job.shop_id,
            chat_message_id: None,
            to: number.to_string(),
            reply: false,
            message: OutboundMessage::Text { body: message.whatsapp.clone() },
        };
        // The send job applies the number's 24-hour window and template.
        let schedule = Schedule::for_shop(job.shop_id)
            .ordered_by(delivery::ordering_key(job.shop_id, number.as_str()))
            .dedupe(format!("{key}:whatsapp"));
        (send, schedule)
    });
    Ok(Sends { mail, whatsapp, next })
}

fn commit(conn: &mut AnyConnection, sends: &Sends) -> Result<(), NotifyError> {
    if let Some((mail, schedule)) = &sends.mail {
        jobs::enqueue(conn, mail, schedule.clone())?;
    }
    if let Some((send, schedule)) = &sends.whatsapp {
        jobs::enqueue(conn, send, schedule.clone())?;
    }
    if let Some((next, schedule)) = &sends.next {
        jobs::enqueue(conn, next, schedule.clone())?;
    }
    Ok(())
}

impl<C: super::NotifyDeps> Job<C> for SendSummary {
    async fn run(self, _context: Arc<C>, run: JobRun) -> Outcome {
        let job = self.clone();
        match run.with_conn(move |conn| prepare(conn, &job)).await {
            Err(error) => Outcome::retry(error),
            // The shop is gone: nothing to send, ever.
            Ok(Err(error @ NotifyError::Shop(crate::shops::ShopError::NotFound))) => Outcome::dead(error.to_string()),
            Ok(Err(error)) => Outcome::retry(error.to_string()),
            Ok(Ok(sends)) => Outcome::done().with(move |conn| commit(conn, &sends).map_err(super::into_query_error)),
        }
    }
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
