//! The hybrid logical clock that orders ops across devices whose clocks lie.
//!
//! A stamp is (wall milliseconds, counter, device id), compared in that order, so any two
//! stamps of different devices differ and the order is total. A device keeps its last
//! stamp and calls [`Hlc::tick`] for each op it makes and [`Hlc::recv`] for each stamp
//! it sees from elsewhere (pulled states, server answers), passing the current time in:
//! nothing here reads a clock.
//!
//! The server does not trust device clocks: before it accepts an op it calls
//! [`check_future`] (refuse a stamp hours ahead, with a message telling the user to fix
//! the clock) or [`clamp_future`] (pull a slightly-ahead stamp back to the allowed edge).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::DeviceId;

/// How far ahead of the server's clock a stamp may be before the server clamps it: 1 minute.
pub const MAX_AHEAD_CLAMP_MS: u64 = 60_000;
/// How far ahead a stamp may be at all: 1 hour. Beyond that the op is refused.
pub const MAX_AHEAD_REFUSE_MS: u64 = 3_600_000;

/// A hybrid logical clock stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (the largest physical time seen).
    pub wall_ms: u64,
    /// Events within the same `wall_ms`.
    pub counter: u32,
    /// The device that made the stamp (breaks ties).
    pub device_id: DeviceId,
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, self.device_id).cmp(&(
            other.wall_ms,
            other.counter,
            other.device_id,
        ))
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hlc {
    /// The start of a device's clock (before any op).
    pub fn zero(device_id: DeviceId) -> Hlc {
        Hlc {
            wall_ms: 0,
            counter: 0,
            device_id,
        }
    }

    /// A new stamp for a local event at physical time `now_ms`; stores it in `self` and
    /// returns it. Always greater than every stamp this clock issued or received before.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        if now_ms > self.wall_ms {
            self.wall_ms = now_ms;
            self.counter = 0;
        } else {
            self.bump();
        }
        *self
    }

    /// Merges a stamp seen from elsewhere at physical time `now_ms`; stores and returns the
    /// new stamp of this clock, greater than both `self` and `remote`. Clamp or check a
    /// remote stamp first when it may come from a lying clock.
    pub fn recv(&mut self, remote: &Hlc, now_ms: u64) -> Hlc {
        let wall = self.wall_ms.max(remote.wall_ms).max(now_ms);
        if wall == self.wall_ms && wall == remote.wall_ms {
            self.counter = self.counter.max(remote.counter);
            self.bump();
        } else if wall == self.wall_ms {
            self.bump();
        } else if wall == remote.wall_ms {
            self.wall_ms = wall;
            self.counter = remote.counter;
            self.bump();
        } else {
            self.wall_ms = wall;
            self.counter = 0;
        }
        *self
    }

    fn bump(&mut self) {
        match self.counter.checked_add(1) {
            Some(c) => self.counter = c,
            None => {
                self.wall_ms = self.wall_ms.saturating_add(1);
                self.counter = 0;
            }
        }
    }

    /// A fixed-width text form whose string order is the stamp order
    /// (`0000018f2a3b4c5d-00000000-<device uuid>`), for database columns and logs.
    pub fn to_sortable_string(&self) -> String {
        format!(
            "{:016x}-{:08x}-{}",
            self.wall_ms,
            self.counter,
            self.device_id.0.hyphenated()
        )
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sortable_string())
    }
}

/// A text that is not a [`Hlc::to_sortable_string`] form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a clock stamp (expected 16 hex digits, '-', 8 hex digits, '-', a UUID)")]
pub struct BadHlc(pub String);

impl FromStr for Hlc {
    type Err = BadHlc;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadHlc(s.to_owned());
        let (wall, rest) = s.split_at_checked(16).ok_or_else(bad)?;
        let rest = rest.strip_prefix('-').ok_or_else(bad)?;
        let (counter, rest) = rest.split_at_checked(8).ok_or_else(bad)?;
        let device = rest.strip_prefix('-').ok_or_else(bad)?;
        Ok(Hlc {
            wall_ms: u64::from_str_radix(wall, 16).map_err(|_| bad())?,
            counter: u32::from_str_radix(counter, 16).map_err(|_| bad())?,
            device_id: DeviceId(Uuid::parse_str(device).map_err(|_| bad())?),
        })
    }
}

/// A stamp too far ahead of the server's clock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this device's clock is {ahead_min} minutes ahead of the server; turn on automatic date and time in the device settings, then sync again"
)]
pub struct ClockAhead {
    /// How far ahead, in whole minutes.
    pub ahead_min: u64,
}

/// Refuses a stamp more than `max_ahead_ms` ahead of `now_ms` (the server's clock).
pub fn check_future(remote: &Hlc, now_ms: u64, max_ahead_ms: u64) -> Result<(), ClockAhead> {
    let ahead = remote.wall_ms.saturating_sub(now_ms);
    if ahead > max_ahead_ms {
        Err(ClockAhead {
            ahead_min: ahead / 60_000,
        })
    } else {
        Ok(())
    }
}

/// Pulls a stamp that is more than `max_ahead_ms` ahead of `now_ms` back to
/// `now_ms + max_ahead_ms`, keeping its counter and device. Returns the stamp to use and
/// whether it was changed. Ops whose stamps collapse onto the same clamped value stay
/// ordered by their `op_id` (every merge rule breaks ties on `(hlc, op_id)`).
pub fn clamp_future(remote: Hlc, now_ms: u64, max_ahead_ms: u64) -> (Hlc, bool) {
    let limit = now_ms.saturating_add(max_ahead_ms);
    if remote.wall_ms > limit {
        (
            Hlc {
                wall_ms: limit,
                ..remote
            },
            true,
        )
    } else {
        (remote, false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn dev(n: u128) -> DeviceId {
        DeviceId(Uuid::from_u128(n))
    }

    #[test]
    fn tick_is_monotonic_even_when_the_clock_goes_back() {
        let mut c = Hlc::zero(dev(1));
        let a = c.tick(1000);
        let b = c.tick(900);
        let d = c.tick(1000);
        assert!(a < b && b < d);
        assert_eq!(
            b,
            Hlc {
                wall_ms: 1000,
                counter: 1,
                device_id: dev(1)
            }
        );
        let e = c.tick(2000);
        assert_eq!((e.wall_ms, e.counter), (2000, 0));
    }

    #[test]
    fn recv_moves_past_remote() {
        let mut c = Hlc::zero(dev(1));
        c.tick(1000);
        let remote = Hlc {
            wall_ms: 5000,
            counter: 7,
            device_id: dev(2),
        };
        let r = c.recv(&remote, 1200);
        assert!(r > remote);
        assert_eq!((r.wall_ms, r.counter, r.device_id), (5000, 8, dev(1)));
        let next = c.tick(1300);
        assert!(next > r);
        let r2 = c.recv(
            &Hlc {
                wall_ms: 10,
                counter: 0,
                device_id: dev(3),
            },
            9000,
        );
        assert_eq!((r2.wall_ms, r2.counter), (9000, 0));
    }

    #[test]
    fn counter_overflow_carries_into_wall() {
        let mut c = Hlc {
            wall_ms: 5,
            counter: u32::MAX,
            device_id: dev(1),
        };
        let n = c.tick(1);
        assert_eq!((n.wall_ms, n.counter), (6, 0));
    }

    #[test]
    fn order_is_total_and_string_sorts_alike() {
        let a = Hlc {
            wall_ms: 1,
            counter: 2,
            device_id: dev(1),
        };
        let b = Hlc {
            wall_ms: 1,
            counter: 2,
            device_id: dev(2),
        };
        let c = Hlc {
            wall_ms: 1,
            counter: 10,
            device_id: dev(0),
        };
        assert!(a < b && b < c);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert_eq!(c.to_string().parse::<Hlc>().unwrap(), c);
        assert!("nope".parse::<Hlc>().is_err());
    }

    #[test]
    fn future_stamps() {
        let h = Hlc {
            wall_ms: 20_000_000,
            counter: 3,
            device_id: dev(1),
        };
        assert!(check_future(&h, 20_000_000 - MAX_AHEAD_REFUSE_MS, MAX_AHEAD_REFUSE_MS).is_ok());
        let err = check_future(
            &h,
            20_000_000 - 3 * MAX_AHEAD_REFUSE_MS,
            MAX_AHEAD_REFUSE_MS,
        )
        .unwrap_err();
        assert_eq!(err.ahead_min, 180);
        assert!(err.to_string().contains("automatic date and time"));
        let (c, changed) = clamp_future(h, 19_000_000, MAX_AHEAD_CLAMP_MS);
        assert!(changed);
        assert_eq!((c.wall_ms, c.counter), (19_060_000, 3));
        assert_eq!(clamp_future(h, 20_000_000, 0), (h, false));
    }
}
