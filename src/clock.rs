//! The time, as every piece of scheduling sees it. Production reads the
//! system clock; tests hold a manual clock and move it, so expiry, retries
//! and polling are tested without sleeping.

use chrono::{NaiveDateTime, TimeDelta};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds since the epoch when set by hand; `None` is the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `start` until moved.
    pub fn manual(start: NaiveDateTime) -> Clock {
        Clock { manual: Some(Arc::new(AtomicI64::new(start.and_utc().timestamp_micros()))) }
    }

    /// Now, to the microsecond (PostgreSQL keeps no finer, and a value must
    /// read back equal on both engines).
    pub fn now(&self) -> NaiveDateTime {
        let micros = match &self.manual {
            Some(at) => at.load(Ordering::SeqCst),
            None => chrono::Utc::now().timestamp_micros(),
        };
        chrono::DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc()).unwrap_or_default()
    }

    /// Moves a manual clock forward; a system clock cannot be moved.
    pub fn advance(&self, by: TimeDelta) {
        if let Some(at) = &self.manual {
            at.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }

    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).map(|t| t.naive_utc()).unwrap_or_default();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::minutes(30));
        assert_eq!(clock.now(), start + TimeDelta::minutes(30));
    }
}
