//! Requests per minute on the API, per signed-in user and per shop (issue 7). In memory, in
//! fixed one-minute windows: each server process counts on its own, so behind several
//! processes the effective limit is the setting times the number of processes.
//!
//! Checked once per request, where the access token is checked ([`super::authenticate`]),
//! before the handler runs, so a refused request has written nothing. Sign-in attempts have
//! their own, stricter limits ([`super::rate_limit`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

const WINDOW: Duration = Duration::from_secs(60);

/// The limits; `0` switches one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub per_user_per_minute: u32,
    pub per_shop_per_minute: u32,
}

/// Which limit a refused request hit, and how long until its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub scope: &'static str,
    pub limit: u32,
    pub retry_after_s: u64,
}

struct Window {
    started: Instant,
    count: u32,
}

pub struct RequestCounter {
    limits: RequestLimits,
    windows: Mutex<HashMap<(&'static str, Uuid), Window>>,
}

impl RequestCounter {
    pub fn new(limits: RequestLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `user` in `shop`; `Err` when either is over its limit (the
    /// refused request is counted too, so hammering does not shorten the wait).
    pub fn hit(&self, user: Uuid, shop: Uuid) -> Result<(), Exceeded> {
        self.hit_at(user, shop, Instant::now())
    }

    fn hit_at(&self, user: Uuid, shop: Uuid, now: Instant) -> Result<(), Exceeded> {
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > 100_000 {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let mut refused: Option<Exceeded> = None;
        for (scope, id, limit) in [
            ("user", user, self.limits.per_user_per_minute),
            ("shop", shop, self.limits.per_shop_per_minute),
        ] {
            if limit == 0 {
                continue;
            }
            let w = windows.entry((scope, id)).or_insert(Window {
                started: now,
                count: 0,
            });
            if now.duration_since(w.started) >= WINDOW {
                *w = Window {
                    started: now,
                    count: 0,
                };
            }
            w.count = w.count.saturating_add(1);
            if w.count > limit && refused.is_none() {
                let left = WINDOW.saturating_sub(now.duration_since(w.started));
                refused = Some(Exceeded {
                    scope,
                    limit,
                    retry_after_s: left.as_secs().max(1),
                });
            }
        }
        match refused {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_user_over_the_limit_waits_for_the_next_window() {
        let c = RequestCounter::new(RequestLimits {
            per_user_per_minute: 3,
            per_shop_per_minute: 0,
        });
        let (user, shop, t0) = (Uuid::from_u128(1), Uuid::from_u128(2), Instant::now());
        for _ in 0..3 {
            assert!(c.hit_at(user, shop, t0).is_ok());
        }
        let e = c
            .hit_at(user, shop, t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!((e.scope, e.limit, e.retry_after_s), ("user", 3, 40));
        // Another user is not affected; the next window starts afresh.
        assert!(c.hit_at(Uuid::from_u128(3), shop, t0).is_ok());
        assert!(c.hit_at(user, shop, t0 + WINDOW).is_ok());
    }

    #[test]
    fn the_shop_limit_counts_all_its_members() {
        let c = RequestCounter::new(RequestLimits {
            per_user_per_minute: 0,
            per_shop_per_minute: 2,
        });
        let (shop, t0) = (Uuid::from_u128(9), Instant::now());
        assert!(c.hit_at(Uuid::from_u128(1), shop, t0).is_ok());
        assert!(c.hit_at(Uuid::from_u128(2), shop, t0).is_ok());
        let e = c.hit_at(Uuid::from_u128(3), shop, t0).unwrap_err();
        assert_eq!((e.scope, e.limit), ("shop", 2));
        assert!(
            c.hit_at(Uuid::from_u128(4), Uuid::from_u128(10), t0)
                .is_ok()
        );
    }
}
