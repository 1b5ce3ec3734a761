//! Sign-in attempt limits, per account and per client address. In memory: the counts live
//! in this process (restart clears them; several server processes count separately).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per account in [`WINDOW`].
pub const PER_ACCOUNT: usize = 10;
/// Failed attempts allowed per client address in [`WINDOW`].
pub const PER_ADDRESS: usize = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct RateLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    /// `Err(seconds to wait)` when `account` or `address` has too many recent failures.
    pub fn check(&self, account: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut wait = 0u64;
        for (key, max) in [
            (format!("account:{account}"), PER_ACCOUNT),
            (format!("address:{address}"), PER_ADDRESS),
        ] {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                if times.len() >= max {
                    let oldest = times.first().copied().unwrap_or(now);
                    let left = WINDOW.saturating_sub(now.duration_since(oldest));
                    wait = wait.max(left.as_secs().max(1));
                }
            }
        }
        if map.len() > 100_000 {
            map.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        for key in [format!("account:{account}"), format!("address:{address}")] {
            map.entry(key).or_default().push(now);
        }
    }

    /// A successful sign-in clears the account's count (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut map = match self.failures.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_too_many_failures_per_account() {
        let l = RateLimiter::default();
        for _ in 0..PER_ACCOUNT {
            assert!(l.check("a@x.io", "1.2.3.4").is_ok());
            l.record_failure("a@x.io", "1.2.3.4");
        }
        assert!(l.check("a@x.io", "5.6.7.8").is_err());
        assert!(l.check("b@x.io", "1.2.3.4").is_ok());
        l.record_success("a@x.io");
        assert!(l.check("a@x.io", "5.6.7.8").is_ok());
    }
}
