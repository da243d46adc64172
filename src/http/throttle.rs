//! Login and sign-up cannot exhaust the machine: password hashing (argon2,
//! tens of milliseconds and ~19 MiB each) runs a bounded number at a time,
//! and failed logins are limited per e-mail and per client address.
//! In memory, per process: several processes each apply their own limits.

use super::ApiError;
use crate::auth::AuthError;
use crate::auth::password::Hasher;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long a request waits for a hashing slot before it is told to retry.
const SLOT_WAIT: Duration = Duration::from_millis(250);

type HashJob = Box<dyn FnOnce(&mut Hasher) + Send>;

/// Password hashing, a bounded number at a time, on threads of its own, each
/// with a `Hasher` that keeps argon2's 19 MiB buffer: the process holds at
/// most slots × 19 MiB for hashing, however many logins arrive (a buffer
/// per hash grew it by ~19 MiB a hash: 320 MiB in a 200-login flood).
#[derive(Clone)]
pub struct HashingGate {
    slots: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<HashJob>,
}

impl HashingGate {
    /// `slots` hashes at once, on as many threads (at least one thread).
    pub fn new(slots: usize) -> HashingGate {
        let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..slots.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("password-{n}")).spawn(move || {
                let mut hasher = Hasher::new();
                loop {
                    // Ends when the gate (every sender) is gone.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&mut hasher),
                        Err(_) => return,
                    }
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password-hashing thread");
            }
        }
        HashingGate { slots: Arc::new(Semaphore::new(slots)), jobs }
    }

    /// About two per core: enough to keep the cores busy, no more.
    pub fn for_this_machine() -> HashingGate {
        HashingGate::new(2 * std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `work` (hashing or checking a password) on the hashing threads,
    /// or answers 429 when every slot stays busy.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Hasher) -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let busy = || ApiError::TooMany {
            code: "busy",
            detail: "too many password checks at once; try again in a second".into(),
            retry_after: 1,
        };
        let permit = match tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(busy()),
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move |hasher| {
            let _ = done.send(work(hasher));
        });
        if self.jobs.send(job).is_err() {
            return Err(busy());
        }
        let result = result.await;
        drop(permit);
        match result {
            Ok(result) => result.map_err(ApiError::from),
            // The hashing thread panicked (a bug).
            Err(_) => Err(ApiError::request(
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request could not be completed",
            )),
        }
    }
}

/// Failed logins per e-mail and per client address within a window.
pub struct LoginLimiter {
    per_email: usize,
    per_address: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Beyond this many tracked keys, expired ones are swept before adding more.
const MAX_KEYS: usize = 100_000;

impl LoginLimiter {
    pub fn new(per_email: usize, per_address: usize, window: Duration) -> LoginLimiter {
        LoginLimiter { per_email, per_address, window, failures: Mutex::new(HashMap::new()) }
    }

    /// 10 failures per e-mail and 30 per address in 15 minutes.
    pub fn standard() -> LoginLimiter {
        LoginLimiter::new(10, 30, Duration::from_secs(15 * 60))
    }

    fn keys(email: &str, address: Option<IpAddr>) -> [(String, bool); 2] {
        let address = address.map_or_else(|| "address:unknown".to_owned(), |a| format!("address:{a}"));
        [(format!("email:{}", email.trim().to_lowercase()), true), (address, false)]
    }

    /// Refuses a login attempt while its e-mail or address has failed too
    /// often; the answer says when to try again (at most the window).
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, is_email) in LoginLimiter::keys(email, address) {
            let limit = if is_email { self.per_email } else { self.per_address };
            let Some(times) = failures.get_mut(&key) else { continue };
            while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                times.pop_front();
            }
            if times.len() >= limit {
                let oldest = times.front().copied().unwrap_or(now);
                let wait = self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
                return Err(ApiError::TooMany {
                    code: "too_many_attempts",
                    detail: format!("too many failed logins; try again in {wait} seconds"),
                    retry_after: wait,
                });
            }
        }
        Ok(())
    }

    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_KEYS {
            let window = self.window;
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        for (key, _) in LoginLimiter::keys(email, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A success forgets the e-mail's failures (not the address's).
    pub fn succeeded(&self, email: &str) {
        let [(key, _), _] = LoginLimiter::keys(email, None);
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_held_after_its_failures_and_freed_by_a_success() {
        let limiter = LoginLimiter::new(3, 100, Duration::from_secs(900));
        let ip: Option<IpAddr> = "127.0.0.1".parse().ok();
        for _ in 0..3 {
            assert!(limiter.check("Ana@x.com", ip).is_ok());
            limiter.failed("Ana@x.com", ip);
        }
        let Err(ApiError::TooMany { retry_after, .. }) = limiter.check("ana@x.com", ip) else { panic!("held") };
        assert!((1..=900).contains(&retry_after));
        assert!(limiter.check("bia@x.com", ip).is_ok(), "another e-mail is not held");
        limiter.succeeded("ana@x.com");
        assert!(limiter.check("ana@x.com", ip).is_ok());
    }

    #[test]
    fn an_address_is_held_after_failures_across_emails_and_the_window_frees_it() {
        let limiter = LoginLimiter::new(100, 3, Duration::from_millis(50));
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        for n in 0..3 {
            limiter.failed(&format!("user{n}@x.com"), ip);
        }
        assert!(limiter.check("new@x.com", ip).is_err());
        assert!(limiter.check("new@x.com", "10.0.0.2".parse().ok()).is_ok(), "another address is not held");
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.check("new@x.com", ip).is_ok(), "the window passed");
    }
}
