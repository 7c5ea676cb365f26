//! The alert log: `alert.log` in the database directory, one line per
//! event an operator should know about after the fact, as Oracle's alert
//! log has them. Today that is what recovery repaired or worked around at
//! open: a block a crash left torn, put back from the doublewrite area; a
//! torn direct-path block rebuilt from its redo; a damaged control-file
//! slot.
//!
//! ```text
//!   2026-12-07T05:41:12.345Z block 57 of data01.dbf was torn; repaired from the doublewrite area
//! ```
//!
//! `blocklab verify` prints these lines ("repaired at open"), so a repair
//! that made a database open is never silent.
//!
//! Invariant: lines are only ever appended, each ending in `\n`, and a
//! line is synced before open goes on (a repair that is not recorded
//! could be repeated unknowingly, never lost: the data it fixed is synced
//! first by the repair itself).
//!
//! Simplification: the file grows without bound (Oracle's does too, until
//! someone rotates it).

use crate::clock::iso_time;
use crate::error::Result;
use crate::storage::Backend;

/// The file name in the database directory.
pub const ALERT_LOG: &str = "alert.log";

/// Appends `events` (one line each) with the current time, and syncs.
pub(crate) fn append(backend: &dyn Backend, now_ms: u64, events: &[String]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let created = !backend.exists(ALERT_LOG);
    let file = backend.open(ALERT_LOG, true)?;
    let stamp = iso_time(now_ms);
    let text: String = events
        .iter()
        .map(|e| format!("{stamp} {}\n", e.replace('\n', " ")))
        .collect();
    file.write_at(text.as_bytes(), file.len()?)?;
    file.sync()?;
    if created {
        backend.sync_dir()?;
    }
    Ok(())
}

/// Every line of the alert log of `backend` (none if there is no log).
pub fn read(backend: &dyn Backend) -> Result<Vec<String>> {
    if !backend.exists(ALERT_LOG) {
        return Ok(Vec::new());
    }
    let file = backend.open(ALERT_LOG, false)?;
    let mut bytes = vec![0u8; file.len()? as usize];
    file.read_at(&mut bytes, 0)?;
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SimBackend;

    #[test]
    fn events_are_appended_with_their_time() {
        let sim = SimBackend::new();
        assert!(read(&sim).unwrap().is_empty());
        append(&sim, 0, &["first".into()]).unwrap();
        append(&sim, 1000, &["second\nline".into(), "third".into()]).unwrap();
        assert_eq!(
            read(&sim).unwrap(),
            vec![
                "1970-01-01T00:00:00.000Z first",
                "1970-01-01T00:00:01.000Z second line",
                "1970-01-01T00:00:01.000Z third",
            ]
        );
        assert_eq!(
            read(&sim.crash()).unwrap().len(),
            3,
            "synced, name included"
        );
    }
}
