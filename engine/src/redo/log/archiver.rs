//! The archiver: copies each filled segment of the ring to the archive
//! destination before its file may be reused (archive mode, see the parent
//! module's "Archive mode").
//!
//! ```text
//!  log writer: durable passes (k+1)*cap ──notify `done`──► archiver wakes
//!  archiver:   read redoNN.log (header must name k) ──► arch_<db>_<k>.log.part
//!              write, sync ──► rename to arch_<db>_<k>.log ──► sync the directory
//!              archived = k+1 ──notify `space`──► sessions waiting for log space
//! ```
//!
//! An archived file is a byte-for-byte copy of the online file while it held
//! segment `k` (header included), so the same reader code reads both. The
//! name carries the database id, so several databases (or a database and
//! the new incarnation made from it by `backup::recover_until`) can share
//! one destination.
//!
//! Why the copy is complete before the rename: a reader (the log miner, media
//! recovery) that finds `arch_…_k.log` may trust all of it; a crash during the
//! copy leaves only a `.part` file, and the segment, still in the ring
//! (nothing could reuse it), is copied again at the next start.
//!
//! Invariant: `archived` only grows, and only after the copy of every segment
//! below it is durable under its final name.
//! Invariant: the archiver never waits for the log writer's or a session's
//! locks, only for `durable` to advance, so the sessions and the checkpoint
//! that wait for it cannot deadlock with it.
//!
//! Simplification: a failed copy is retried every half second for ever (the
//! database then stalls on log space with "archiver stuck", like Oracle's
//! ORA-00257); there is no alternate destination.

use std::sync::Arc;
use std::time::Duration;

use super::{parse_file_header, RedoLog, Shared, FILE_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::storage::{Backend, FileHandle};

/// File name of the archived copy of segment `k` of database `db_id`.
pub fn archive_file_name(db_id: u64, k: u64) -> String {
    format!("arch_{db_id:016x}_{k:010}.log")
}

/// The (database id, segment) an archive file name stands for.
pub fn parse_archive_file_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("arch_")?.strip_suffix(".log")?;
    let (db, k) = rest.split_once('_')?;
    if db.len() != 16 || k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((u64::from_str_radix(db, 16).ok()?, k.parse().ok()?))
}

/// The file in the database directory that remembers the archive
/// destination (one line: the directory's path), so that archive mode stays
/// on across opens and the log miner and media recovery find the archives.
pub const ARCHIVE_DEST_FILE: &str = "archive_dest";

/// The remembered archive destination of the database in `backend`.
pub fn read_archive_dest(backend: &dyn Backend) -> Result<Option<std::path::PathBuf>> {
    if !backend.exists(ARCHIVE_DEST_FILE) {
        return Ok(None);
    }
    let f = backend.open(ARCHIVE_DEST_FILE, false)?;
    let mut bytes = vec![0u8; f.len()? as usize];
    f.read_at(&mut bytes, 0)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Config(format!(
            "{} is not UTF-8 text",
            backend.describe(ARCHIVE_DEST_FILE)
        ))
    })?;
    let line = text.trim();
    Ok((!line.is_empty()).then(|| std::path::PathBuf::from(line)))
}

/// Remembers (`Some`) or forgets (`None`) the archive destination, durably:
/// written to a temporary file, synced, renamed into place.
pub fn write_archive_dest(backend: &dyn Backend, dest: Option<&std::path::Path>) -> Result<()> {
    match dest {
        None if backend.exists(ARCHIVE_DEST_FILE) => backend.remove(ARCHIVE_DEST_FILE)?,
        None => return Ok(()),
        Some(dir) => {
            let text = format!("{}\n", dir.display());
            let tmp = format!("{ARCHIVE_DEST_FILE}.tmp");
            let f = backend.open(&tmp, true)?;
            f.set_len(0)?;
            f.write_at(text.as_bytes(), 0)?;
            f.sync()?;
            drop(f);
            backend.rename(&tmp, ARCHIVE_DEST_FILE)?;
        }
    }
    backend.sync_dir()
}

/// How long a failed copy waits before it is tried again.
const RETRY: Duration = Duration::from_millis(500);

impl RedoLog {
    /// Turns archive mode on, before anything is appended after start:
    /// from now on a segment's file is reused only after the segment has
    /// been copied to `dest` under [`archive_file_name`]`(db_id, k)`.
    ///
    /// Filled segments still in the ring that `dest` lacks (a crash before
    /// they were copied, or archive mode just turned on) are copied first;
    /// segments already reused before archive mode are gone for good.
    pub fn start_archiving(&self, dest: Arc<dyn Backend>, db_id: u64) -> Result<()> {
        let cfg = self.shared.cfg;
        let cap = cfg.segment_capacity();
        let files = cfg.open_files(self.backend.as_ref())?;
        let mut guard = self.archiver.lock();
        if guard.is_some() {
            return Err(Error::Internal("archive mode started twice".into()));
        }
        let current = self.shared.state.lock().end / cap;
        let oldest = current.saturating_sub(cfg.files as u64 - 1);
        let mut first = current;
        for k in (oldest..current).rev() {
            let mut hdr = vec![0u8; FILE_HEADER_SIZE as usize];
            files[cfg.file_of_segment(k)].read_at(&mut hdr, 0)?;
            let in_ring = parse_file_header(&hdr) == Some(k);
            if in_ring && !dest.exists(&archive_file_name(db_id, k)) {
                first = k;
            }
        }
        self.shared.state.lock().archived = Some(first);
        let io = ArchiverIo {
            files,
            dest,
            db_id,
            file_size: cfg.file_size,
        };
        let shared = Arc::clone(&self.shared);
        let handle = std::thread::Builder::new()
            .name("blocklab-archiver".into())
            .spawn(move || archiver(shared, io))
            .map_err(|e| Error::Internal(format!("cannot start the archiver thread: {e}")))?;
        *guard = Some(handle);
        Ok(())
    }

    /// In archive mode: the first segment not yet archived.
    pub fn archived_segments(&self) -> Option<u64> {
        self.shared.state.lock().archived
    }

    /// Waits until every filled, durable segment is archived, or the
    /// archiver reports a failure, or there is no archiver.
    pub(super) fn wait_for_archiver(&self) {
        if self.archiver.lock().is_none() {
            return;
        }
        let cap = self.shared.cfg.segment_capacity();
        let mut st = self.shared.state.lock();
        while let Some(a) = st.archived {
            if a >= st.durable / cap || st.archive_error.is_some() || st.shutdown {
                break;
            }
            self.shared.done.wait(&mut st);
        }
    }
}

/// The archiver's own handles: the ring (read) and the destination (write).
struct ArchiverIo {
    files: Vec<Arc<dyn FileHandle>>,
    dest: Arc<dyn Backend>,
    db_id: u64,
    file_size: u64,
}

impl ArchiverIo {
    /// Copies segment `k` if its file still holds it. Returns false if the
    /// file holds another segment (reused before archive mode began).
    fn archive(&self, k: u64, cfg_files: u32) -> Result<bool> {
        let file = &self.files[(k % cfg_files as u64) as usize];
        let mut bytes = vec![0u8; self.file_size as usize];
        file.read_at(&mut bytes, 0)?;
        if parse_file_header(&bytes[..FILE_HEADER_SIZE as usize]) != Some(k) {
            return Ok(false);
        }
        let name = archive_file_name(self.db_id, k);
        let part = format!("{name}.part");
        let out = self.dest.open(&part, true)?;
        out.write_at(&bytes, 0)?;
        if out.len()? != self.file_size {
            // A longer leftover of an earlier attempt.
            out.set_len(self.file_size)?;
        }
        out.sync()?;
        drop(out);
        // The rename publishes a complete, synced copy; the directory sync
        // makes the name itself survive a crash.
        self.dest.rename(&part, &name)?;
        self.dest.sync_dir()?;
        Ok(true)
    }
}

/// The archiver thread: one filled segment at a time, in order.
fn archiver(shared: Arc<Shared>, io: ArchiverIo) {
    let cap = shared.cfg.segment_capacity();
    loop {
        let k = {
            let mut st = shared.state.lock();
            loop {
                if st.shutdown {
                    return;
                }
                match st.archived {
                    Some(a) if st.durable >= (a + 1).saturating_mul(cap) => break a,
                    // Woken after every batch the log writer syncs.
                    _ => shared.done.wait(&mut st),
                }
            }
        };
        let result = io.archive(k, shared.cfg.files);
        let mut st = shared.state.lock();
        match result {
            Ok(copied) => {
                st.archived = Some(k + 1);
                st.archive_error = None;
                st.stats.archived += u64::from(copied);
                shared.space.notify_all();
                // Wakes `wait_for_archiver`.
                shared.done.notify_all();
            }
            Err(e) => {
                st.archive_error = Some(format!("archiving segment {k}: {e}"));
                shared.done.notify_all();
                if !st.shutdown {
                    shared.done.wait_for(&mut st, RETRY);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_round_trip_and_reject_strangers() {
        let name = archive_file_name(0xabc, 42);
        assert_eq!(name, "arch_0000000000000abc_0000000042.log");
        assert_eq!(parse_archive_file_name(&name), Some((0xabc, 42)));
        assert_eq!(parse_archive_file_name("redo01.log"), None);
        assert_eq!(parse_archive_file_name(&format!("{name}.part")), None);
        assert_eq!(parse_archive_file_name("arch_zz_1.log"), None);
    }
}
