//! The log writer thread: takes the log buffer a batch at a time, stamps
//! each record's `batch` field and CRC, writes the batch into the ring
//! file(s) its bytes belong to, syncs them, then leaves a sync mark just
//! past it (see "Torn tail versus corruption" and "Writing: group commit"
//! in the parent module's doc).
//!
//! ```text
//!  State.buf ──swap──► batch ──stamp_batch──► write_at (file of segment k,
//!  (appenders go on         (batch, crc)       header first on entering k)
//!   in the spare buffer)                        ──► sync each file touched
//!                                               ──► write the sync mark
//!                                               ──► durable = batch end,
//!                                                   notify the flushers
//! ```
//!
//! A batch is written either by this thread (a buffer past the write
//! trigger that nobody flushes, the last batch at shutdown) or by a flusher
//! that finds no batch in flight and leads (`RedoLog::flush`): both go
//! through [`write_next_batch`], one batch at a time (`State::writing`).
//!
//! Invariant: a batch is written only after the previous one is synced, so
//! any record of a later batch on disk proves every earlier batch durable.
//! Invariant: the writer never waits for log space (the checkpoint that
//! frees it may be waiting for this very writer), and after a failed write
//! or sync it poisons the log and stops: a failed fsync is never retried.

use std::sync::Arc;

use parking_lot::MutexGuard;

use super::{
    file_header, LogConfig, Shared, State, FILE_HEADER_SIZE, RECORD_HEADER_SIZE, REC_BATCH,
    REC_CRC, REC_LEN, REC_LSN, REC_SCN,
};
use crate::error::{Error, Result};
use crate::storage::FileHandle;

/// The buffer is written without a waiting flusher once it holds this much
/// (or a third of a segment, whichever is smaller).
const WRITE_TRIGGER: usize = 1 << 20;

pub(super) fn write_trigger(cfg: &LogConfig) -> usize {
    WRITE_TRIGGER
        .min((cfg.segment_capacity() / 3) as usize)
        .max(1)
}

/// The log writer thread: writes the buffer when it outgrows the write
/// trigger with nobody flushing, and what is left at shutdown; flushers
/// write their own batches (`write_next_batch`).
pub(super) fn log_writer(shared: Arc<Shared>) {
    let trigger = write_trigger(&shared.cfg);
    let mut st = shared.state.lock();
    loop {
        if st.poisoned.is_some() {
            return;
        }
        if !st.writing {
            let wanted = st.requested > st.durable || st.buf.len() >= trigger || st.shutdown;
            if !st.buf.is_empty() && wanted {
                write_next_batch(&shared, &mut st);
                continue;
            }
            if st.shutdown {
                return;
            }
        }
        shared.work.wait(&mut st);
    }
}

/// Writes the whole buffer as one batch and publishes it: called with the
/// state locked and no batch in flight (`!st.writing`), by the log writer
/// thread or a leading flusher. The lock is released while the batch is
/// written and synced, so appenders go on filling the spare buffer; on
/// return it is held again, `durable` covers the batch (or the log is
/// poisoned), and every waiter has been woken.
pub(super) fn write_next_batch(shared: &Shared, st: &mut MutexGuard<'_, State>) {
    st.writing = true;
    let spare = std::mem::take(&mut st.spare);
    let mut batch = std::mem::replace(&mut st.buf, spare);
    let start = st.buf_start;
    st.buf_start = st.end;
    let result = MutexGuard::unlocked(st, || {
        // Uncontended: only the holder of `writing` takes it.
        let mut io = shared.io.lock();
        let result = io.write_batch(&mut batch, start);
        if result.is_ok() {
            io.write_mark(start + batch.len() as u64);
        }
        result
    });
    match result {
        Ok(syncs) => {
            st.durable = start + batch.len() as u64;
            st.stats.redo_writes += 1;
            st.stats.log_syncs += syncs;
            st.stats.bytes_written += batch.len() as u64;
        }
        Err(e) => st.poisoned = Some(format!("redo write failed: {e}")),
    }
    batch.clear();
    st.spare = batch;
    st.writing = false;
    shared.done.notify_all();
    // The writer thread may have work it put off while this batch was in
    // flight: a full buffer, or the last batch before shutdown.
    if st.shutdown || st.buf.len() >= write_trigger(&shared.cfg) {
        shared.work.notify_one();
    }
}

/// The writer's private view of the files.
pub(super) struct WriterIo {
    pub(super) cfg: LogConfig,
    pub(super) files: Vec<Arc<dyn FileHandle>>,
    /// The segment whose header is known to be in its file already.
    pub(super) header_seg: Option<u64>,
}

impl WriterIo {
    /// Stamps, writes and syncs one batch starting at stream position `start`.
    /// Returns the number of file syncs.
    fn write_batch(&mut self, batch: &mut [u8], start: u64) -> Result<u64> {
        stamp_batch(batch, start)?;
        let cap = self.cfg.segment_capacity();
        let mut touched: Vec<usize> = Vec::with_capacity(2);
        let mut done = 0usize;
        while done < batch.len() {
            let pos = start + done as u64;
            let k = pos / cap;
            let in_seg = pos - k * cap;
            let n = ((cap - in_seg) as usize).min(batch.len() - done);
            let fi = self.cfg.file_of_segment(k);
            let file = &self.files[fi];
            if self.header_seg != Some(k) {
                // Same file, same sync as the data: a reader that sees this
                // header but stale bytes rejects them by their `lsn` field.
                file.write_at(&file_header(k), 0)?;
                self.header_seg = Some(k);
            }
            file.write_at(&batch[done..done + n], FILE_HEADER_SIZE + in_seg)?;
            if !touched.contains(&fi) {
                touched.push(fi);
            }
            done += n;
        }
        for &fi in &touched {
            self.files[fi].sync()?;
        }
        Ok(touched.len() as u64)
    }
}

impl WriterIo {
    /// Writes a sync mark at `end`, just after a batch that has been
    /// synced: a record header with no payload whose `batch` is `end`
    /// itself, telling a later reader that everything before `end` was
    /// synced. The next batch overwrites it. It is not synced itself (that
    /// would cost a second sync per commit): it survives a killed process,
    /// not necessarily a power cut. Skipped when it would not fit in the
    /// batch's last segment (it must never touch a file the ring may not
    /// yet reuse). A failed mark write is ignored: the mark only sharpens
    /// the tail rule, and a failing disk fails the next batch anyway.
    fn write_mark(&self, end: u64) {
        let cap = self.cfg.segment_capacity();
        let Some(last) = end.checked_sub(1) else {
            return;
        };
        let k = last / cap;
        if (end + RECORD_HEADER_SIZE as u64 - 1) / cap != k {
            return;
        }
        let mut mark = [0u8; RECORD_HEADER_SIZE];
        mark[REC_LSN..REC_BATCH].copy_from_slice(&end.to_le_bytes());
        mark[REC_BATCH..REC_SCN].copy_from_slice(&end.to_le_bytes());
        let crc = crc32fast::hash(&mark[REC_LEN..]);
        mark[REC_CRC..REC_LEN].copy_from_slice(&crc.to_le_bytes());
        let file = &self.files[self.cfg.file_of_segment(k)];
        let _ = file.write_at(&mark, FILE_HEADER_SIZE + (end - k * cap));
    }
}

/// Fills `batch` and the CRC of every record in a buffer built by `append`.
fn stamp_batch(batch: &mut [u8], start: u64) -> Result<()> {
    let mut off = 0;
    while off < batch.len() {
        let len_bytes = batch
            .get(off + REC_LEN..off + REC_LSN)
            .and_then(|b| b.try_into().ok());
        let rec_len = len_bytes.map(|b| RECORD_HEADER_SIZE + u32::from_le_bytes(b) as usize);
        let Some(rec_len) = rec_len.filter(|&l| off + l <= batch.len()) else {
            return Err(Error::Internal(format!(
                "log buffer framing broken at offset {off}"
            )));
        };
        let rec = &mut batch[off..off + rec_len];
        rec[REC_BATCH..REC_SCN].copy_from_slice(&start.to_le_bytes());
        let crc = crc32fast::hash(&rec[REC_LEN..]);
        rec[REC_CRC..REC_LEN].copy_from_slice(&crc.to_le_bytes());
        off += rec_len;
    }
    Ok(())
}
