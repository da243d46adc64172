//! A period of whole days in the shop's time zone, both ends inclusive, and
//! the UTC instants it spans (what the tables store).

use super::{ReportError, invalid};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// At most this many days in one export.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: Tz,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate, zone: &str) -> Result<Period, ReportError> {
        let zone: Tz = zone.parse().map_err(|_| invalid("timezone", format!("`{zone}` is not a known time zone")))?;
        if to < from {
            return Err(invalid("to", "must not be before `from`"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(invalid("to", format!("at most {MAX_DAYS} days in one export")));
        }
        Ok(Period { from, to, zone })
    }

    /// The first UTC instant of `from` in the shop's zone.
    pub fn start_utc(&self) -> NaiveDateTime {
        self.midnight_utc(self.from)
    }

    /// The first UTC instant after `to` (exclusive bound).
    pub fn end_utc(&self) -> NaiveDateTime {
        self.midnight_utc(self.to.succ_opt().unwrap_or(self.to))
    }

    fn midnight_utc(&self, day: NaiveDate) -> NaiveDateTime {
        let local = day.and_time(chrono::NaiveTime::MIN);
        // A midnight skipped by a DST change starts the day at the next valid instant.
        match self.zone.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
            chrono::LocalResult::None => {
                let later = local + chrono::TimeDelta::hours(1);
                self.zone.from_local_datetime(&later).earliest().map_or(later, |t| t.naive_utc())
            }
        }
    }

    /// A stored UTC instant as the shop reads it.
    pub fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        self.zone.from_utc_datetime(&utc).naive_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_shops() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = Period::new(d("2026-11-01"), d("2026-11-30"), "America/Sao_Paulo").unwrap();
        assert_eq!(p.start_utc().to_string(), "2026-11-01 03:00:00");
        assert_eq!(p.end_utc().to_string(), "2026-12-01 03:00:00");
        assert!(Period::new(d("2026-11-02"), d("2026-11-01"), "UTC").is_err());
        assert!(Period::new(d("2026-11-01"), d("2026-11-01"), "Mars/Base").is_err());
    }
}
