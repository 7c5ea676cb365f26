//! One instance's state, and the one path every change takes.
//!
//! `Kernel` holds what all sessions of an instance share and what the
//! transactional layers need, and nothing above them (no catalog, no SQL
//! cache): its buffer cache, its redo log and log writer, the in-memory side
//! of its undo segments' transaction tables (waits, table and index locks),
//! the system statistics, and references to the shared storage (the data
//! file, by `Arc`, and the control file). A second instance over the same
//! files would be a second `Kernel` value holding the same `Arc<DataFile>`.
//!
//! [`Kernel::change`] is the write path of the book's chapter 3, used by every
//! layer above: with the blocks already latched exclusively, it appends one
//! redo record holding a change vector per block to the log buffer, then
//! applies those same ops to the cached blocks and marks them dirty with the
//! record's LSN range. Because the SCN is handed out inside the log
//! buffer's mutex while the block latches are held, SCN order equals redo
//! order for every block, which is what lets recovery apply a change "only
//! to a block older than it".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::block::Op;
use crate::buffer::{BufWrite, BufferCache};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Lsn, Scn, Xid};
use crate::lock::Waits;
use crate::redo::record::{encode_payload, RecKind};
use crate::redo::RedoLog;
use crate::stats::{Counters, SessionStats, Stat};
use crate::storage::{ControlData, ControlFile, DataFile};

/// Block 0: the file header.
pub const FILE_HEADER: BlockNo = BlockNo(0);
/// Block 1: the header of undo segment 0 (transaction table + undo ring).
pub const UNDO_HEADER: BlockNo = BlockNo(1);
/// Block 2: the catalog segment header.
pub const CATALOG_SEG: BlockNo = BlockNo(2);

/// The header block of undo segment `seg`: block 1 for segment 0, then
/// blocks 3, 4, ... for segments 1, 2, ... (their rings follow them).
pub fn undo_header(seg: u16) -> BlockNo {
    if seg == 0 {
        UNDO_HEADER
    } else {
        BlockNo(2 + seg as u32)
    }
}

/// One instance. The fields behind an `Arc` that name the database's files
/// (`file`, `control`, `space_lock`, `poisoned`) are what every instance of
/// the database shares; the rest (cache, log, transaction-table state,
/// locks, counters) is this instance's own.
pub(crate) struct Kernel {
    pub cfg: Config,
    /// Shared: the data file.
    pub file: Arc<DataFile>,
    /// Shared: the control file and its current contents.
    pub control: Arc<Mutex<(ControlFile, ControlData)>>,
    /// Shared: serializes file-level space allocation (the file header).
    pub space_lock: Arc<Mutex<()>>,
    /// Shared: set when a data-file sync failed. The kernel may have dropped
    /// the dirty pages, so a later successful sync proves nothing
    /// (fsyncgate): the database refuses changes until it is reopened and
    /// recovered.
    pub poisoned: Arc<Mutex<Option<String>>>,
    /// This instance's redo log (its log files and log writer).
    pub log: Arc<RedoLog>,
    /// This instance's buffer cache.
    pub cache: BufferCache,
    pub system: Arc<Counters>,
    /// Counters of background work (writer, checkpoints, recovery).
    pub bg: SessionStats,
    pub waits: Waits,
    /// Highest commit SCN whose transaction-table change is visible: the
    /// query SCN a new statement reads as of.
    pub visible_scn: AtomicU64,
    /// Serializes "allocate commit SCN → publish → advance visible_scn", so
    /// a reader never sees a commit SCN at or below its query SCN appear later.
    pub commit_lock: Mutex<()>,
    /// Serializes checkpoints.
    pub ckpt_lock: Mutex<()>,
    /// Round-robin hint for transaction-table slot allocation.
    pub tx_hint: AtomicU64,
    /// Number of undo segments (from the file header).
    pub undo_segments: std::sync::atomic::AtomicU32,
    /// Table locks (RX for DML, X for direct-path loads).
    pub table_locks: crate::lock::TableLocks,
    /// Serialises the splits of each index.
    pub split_locks: crate::lock::IndexLocks,
    /// Index blocks made by a split that inherited an ITL entry of a
    /// transaction still active, by transaction: that transaction never
    /// changed them itself, so its commit cleanout would not know them
    /// (and every later reader would look it up in the transaction table).
    pub inherited: Mutex<std::collections::HashMap<Xid, Vec<BlockNo>>>,
    /// Serialises probe-then-insert on indexes that enforce a constraint.
    pub unique_locks: crate::lock::IndexLocks,
    /// Whether the background writer is running (it checkpoints when the
    /// log fills; without it, the session that needs log space does).
    pub writer_running: std::sync::atomic::AtomicBool,
}

/// Who is making a change, for the redo record.
#[derive(Clone, Copy)]
pub(crate) struct RecHead<'a> {
    pub kind: RecKind,
    pub xid: Xid,
    pub text: &'a str,
}

impl<'a> RecHead<'a> {
    pub fn space() -> Self {
        RecHead {
            kind: RecKind::Space,
            xid: Xid::NONE,
            text: "",
        }
    }
    pub fn new(kind: RecKind, xid: Xid) -> Self {
        RecHead {
            kind,
            xid,
            text: "",
        }
    }
}

impl Kernel {
    pub fn visible_scn(&self) -> Scn {
        Scn(self.visible_scn.load(Ordering::Acquire))
    }

    /// Logs one redo record and applies its ops: `ops(scn)[i]` changes
    /// `blocks[i]`. Returns the record's SCN and end LSN.
    pub fn change(
        &self,
        stats: &SessionStats,
        head: RecHead<'_>,
        blocks: &mut [&mut BufWrite<'_>],
        ops: impl FnOnce(Scn) -> Vec<Op>,
    ) -> Result<(Scn, Lsn)> {
        // A lower bound of this record's start LSN, read while the blocks
        // are latched (see `BufferCache::checkpoint_lsn` for why that
        // ordering makes checkpoints safe).
        let start = self.log.end_lsn();
        let mut built: Option<Vec<Op>> = None;
        let time = if matches!(
            head.kind,
            RecKind::Commit | RecKind::Begin | RecKind::Ddl | RecKind::Rollback
        ) {
            self.cfg.clock.now_ms()
        } else {
            0
        };
        let mut size = 0usize;
        let (scn, end) = self.log.append(|scn, buf| {
            let ops = ops(scn);
            let changes: Vec<(BlockNo, Op)> = blocks
                .iter()
                .map(|b| b.no)
                .zip(ops.iter().cloned())
                .collect();
            encode_payload(buf, head.kind, head.xid, time, head.text, &changes);
            size = buf.len();
            built = Some(ops);
        })?;
        let ops = built.ok_or_else(|| Error::Internal("redo record was not built".into()))?;
        if ops.len() != blocks.len() {
            return Err(Error::Internal(format!(
                "{} ops for {} blocks",
                ops.len(),
                blocks.len()
            )));
        }
        for (b, op) in blocks.iter_mut().zip(&ops) {
            b.block_mut().apply(op, scn).map_err(|r| {
                Error::Internal(format!("applying {op:?} to block {}: {r}", b.no.0))
            })?;
            b.mark_changed(start, end);
        }
        stats.inc(Stat::RedoEntries);
        // 32 bytes of framing per record (see redo::log).
        stats.add(Stat::RedoSize, (size + 32) as u64);
        stats.add(Stat::DbBlockChanges, ops.len() as u64);
        Ok((scn, end))
    }

    /// Writes every dirty block, syncs the data file, and records the new
    /// checkpoint in the control file; then the redo before it can be reused.
    pub fn checkpoint(&self) -> Result<Lsn> {
        let _g = self.ckpt_lock.lock();
        // Read the log end before looking at any frame (see checkpoint_lsn).
        let end = self.log.end_lsn();
        self.check_poison()?;
        self.cache.write_dirty(usize::MAX)?;
        self.sync_data()?;
        let lsn = self.cache.checkpoint_lsn(end);
        {
            let mut c = self.control.lock();
            let mut data = c.1.clone();
            data.checkpoint_lsn = lsn.0;
            data.checkpoint_scn = self.visible_scn().0;
            data.next_scn_floor = self.log.current_scn().0;
            c.0.write(&data)?;
            c.1 = data;
        }
        self.log.set_checkpoint(lsn);
        self.bg.inc(Stat::Checkpoints);
        Ok(lsn)
    }

    /// Syncs the data file; a failure poisons the database.
    pub fn sync_data(&self) -> Result<()> {
        self.file.sync().inspect_err(|e| {
            *self.poisoned.lock() = Some(format!("data file sync failed: {e}"));
        })
    }

    /// Refuses work after a failed data-file sync.
    pub fn check_poison(&self) -> Result<()> {
        match &*self.poisoned.lock() {
            Some(why) => Err(Error::Poisoned(why.clone())),
            None => Ok(()),
        }
    }

    /// Called before a change takes any latch: makes sure the redo of one
    /// more change fits in the log ring, checkpointing if this database has
    /// no background writer to do it.
    pub fn reserve_redo(&self) -> Result<()> {
        let mut deadline = None;
        loop {
            self.check_poison()?;
            if self.log.wants_checkpoint() && !self.writer_running.load(Ordering::Acquire) {
                self.checkpoint()?;
            }
            // Wait in short steps so a writer failure is noticed promptly.
            match self
                .log
                .wait_for_space(std::time::Duration::from_millis(100))
            {
                Err(Error::SpaceExhausted(_)) => {
                    // Only a change that has to wait looks at the clock.
                    let now = std::time::Instant::now();
                    // At most a day: an indefinite lock timeout does not
                    // make a full redo log wait forever.
                    let limit = *deadline.get_or_insert(
                        now + self.cfg.lock_timeout.clamp(
                            std::time::Duration::from_secs(30),
                            std::time::Duration::from_secs(24 * 60 * 60),
                        ),
                    );
                    if now >= limit {
                        return Err(Error::SpaceExhausted(
                            "redo log full: checkpoint not complete".into(),
                        ));
                    }
                }
                r => return r,
            }
        }
    }
}
