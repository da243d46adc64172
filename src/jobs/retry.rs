use chrono::TimeDelta;

/// How a kind retries: exponential backoff from `base`, doubled each attempt
/// up to `cap`, with jitter so that jobs failing together do not retry
/// together; dead after `max_attempts` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    pub base: TimeDelta,
    pub cap: TimeDelta,
}

impl RetryPolicy {
    pub const DEFAULT: RetryPolicy =
        RetryPolicy { max_attempts: 8, base: TimeDelta::seconds(2), cap: TimeDelta::minutes(15) };

    /// The delay before the run after `attempt` (1-based): between half and
    /// all of `base * 2^(attempt-1)`, capped ("equal jitter").
    pub fn backoff(&self, attempt: i32) -> TimeDelta {
        let exponent = attempt.clamp(1, 30) as u32 - 1;
        let full =
            self.base.num_milliseconds().saturating_mul(1i64 << exponent).min(self.cap.num_milliseconds()).max(1);
        let half = full / 2;
        let jitter = (uuid::Uuid::new_v4().as_u128() % (full - half + 1) as u128) as i64;
        TimeDelta::milliseconds(half + jitter)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_up_to_the_cap() {
        let policy = RetryPolicy { max_attempts: 10, base: TimeDelta::seconds(2), cap: TimeDelta::seconds(60) };
        for attempt in 1..=10 {
            let full = (2_000i64 << (attempt - 1)).min(60_000);
            for _ in 0..50 {
                let delay = policy.backoff(attempt).num_milliseconds();
                assert!(
                    delay >= full / 2 && delay <= full,
                    "attempt {attempt}: {delay} ms outside [{}, {full}]",
                    full / 2
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        let delays: std::collections::HashSet<i64> =
            (0..50).map(|_| RetryPolicy::DEFAULT.backoff(4).num_milliseconds()).collect();
        assert!(delays.len() > 10, "only {} distinct delays", delays.len());
    }
}
