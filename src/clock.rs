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

/// Timestamps at the API's edge: RFC 3339 in UTC with milliseconds and an
/// offset (`2026-11-22T18:26:13.085Z`), as the OpenAPI description says; the
/// database keeps UTC without one. Use with `#[serde(with = "crate::clock::rfc3339")]`
/// and `#[schema(value_type = String, format = DateTime)]`.
pub mod rfc3339 {
    use chrono::{NaiveDateTime, SecondsFormat};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(at: &NaiveDateTime) -> String {
        at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.naive_utc())
            .map_err(|e| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}")))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn timestamps_carry_milliseconds_and_an_offset() {
            let at = chrono::DateTime::from_timestamp_micros(1_795_371_973_085_123).map(|t| t.naive_utc()).unwrap();
            assert_eq!(super::format(&at), "2026-11-22T18:26:13.085Z");
        }
    }
}

/// `rfc3339` for optional timestamps (`null` when absent).
pub mod rfc3339_option {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_str(&super::rfc3339::format(at)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.naive_utc()))
                .map_err(|e| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}"))),
        }
    }
}
