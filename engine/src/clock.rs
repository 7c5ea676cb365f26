//! Wall-clock time in milliseconds since the Unix epoch: the one place the
//! engine reads the system clock (commit times in redo and the transaction
//! table, undo retention, backup and alert-log stamps).
//!
//! A clock set before 1970 reads as 0 rather than failing: a time stamp is
//! informational everywhere except undo retention, where 0 only shortens
//! retention.
//!
//! [`Clock`] is the instance's clock, carried in its `Config`: the system
//! clock, or a manual one that a test sets and advances. Everything whose
//! outcome depends on elapsed time (undo retention: which undo blocks and
//! transaction-table slots may be reused) reads the instance's clock, so a
//! test can show "kept for N ms, reusable after" without sleeping.
//! Stamps that are only informational (backups, the alert log, a new
//! database's id) read the system clock through [`now_ms`].
//!
//! [`iso_time`] formats such a time stamp for people (alert log, log
//! miner, backup listings).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// An instance's clock: the system clock (the default), or a manual clock
/// shared by every clone of it, which reads what it was last set to.
///
/// ```
/// use blocklab::clock::Clock;
/// let clock = Clock::manual(1_000);
/// let seen_by_engine = clock.clone();
/// clock.advance(500);
/// assert_eq!(seen_by_engine.now_ms(), 1_500);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: milliseconds set by hand.
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A manual clock reading `start_ms` until set or advanced.
    pub fn manual(start_ms: u64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicU64::new(start_ms))),
        }
    }

    /// Milliseconds since the Unix epoch, by this clock.
    pub fn now_ms(&self) -> u64 {
        match &self.manual {
            Some(t) => t.load(Ordering::Acquire),
            None => now_ms(),
        }
    }

    /// Moves a manual clock forward by `ms` (the system clock moves by
    /// itself: no effect there).
    pub fn advance(&self, ms: u64) {
        if let Some(t) = &self.manual {
            t.fetch_add(ms, Ordering::AcqRel);
        }
    }

    /// Sets a manual clock to `ms` (no effect on the system clock).
    pub fn set(&self, ms: u64) {
        if let Some(t) = &self.manual {
            t.store(ms, Ordering::Release);
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch as UTC ISO 8601, millisecond
/// precision: `1970-01-01T00:00:00.000Z`.
pub fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Days to a civil date (H. Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_is_shared_by_its_clones() {
        let c = Clock::manual(10);
        let other = c.clone();
        assert_eq!(other.now_ms(), 10);
        c.advance(5);
        assert_eq!(other.now_ms(), 15);
        other.set(100);
        assert_eq!(c.now_ms(), 100);
        // The system clock ignores both.
        let s = Clock::system();
        s.set(0);
        assert!(s.now_ms() > 1_000_000_000_000);
    }

    #[test]
    fn iso_time_is_utc_with_milliseconds() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day) 12:34:56.789 UTC
        assert_eq!(iso_time(951_827_696_789), "2000-02-29T12:34:56.789Z");
        assert_eq!(iso_time(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }
}
