//! Wall-clock time in milliseconds since the Unix epoch: the one place the
//! engine reads the system clock (commit times in redo and the transaction
//! table, undo retention, backup and alert-log stamps).
//!
//! A clock set before 1970 reads as 0 rather than failing: a time stamp is
//! informational everywhere except undo retention, where 0 only shortens
//! retention.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
