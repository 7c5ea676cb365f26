//! Crash recovery, and the recovery half of media recovery: what happens
//! to a database between reading its redo and opening it for sessions.
//!
//! ```text
//!  Database::open ─ check_lost_slot (control file fell back to a slot
//!       │            whose redo may be gone: refuse or warn)
//!       │          ─ torn blocks put back from the doublewrite area
//!       │            (storage, before anything reads a block)
//!       ▼
//!  roll_forward:  every change in the redo from the checkpoint applied to
//!       │         any block older than it (block SCN < record SCN);
//!       │         a block it cannot read but whose change replaces it whole
//!       │         is rebuilt from the redo
//!       ▼
//!  check_file_header: block 0 against the control file and the data file
//!       │             (or "bootstrap me": a creation cut short)
//!       ▼
//!  roll_back:     every transaction still active in the transaction
//!                 tables had no commit record: undo (itself rebuilt by the
//!                 roll-forward) takes its changes back
//!       │
//!       ▼         media recovery only: new database id (RESETLOGS),
//!                 NOLOGGING blocks counted as lost, then marked corrupt
//!                 on disk once the database is closed
//!  RecoveryReport ──► the caller, and its alert lines ──► the alert log
//! ```
//!
//! Invariant: roll-forward applies a change only to a block whose SCN is
//! older than the change's record, so applying the same redo twice (a crash
//! during recovery) changes nothing the second time.
//! Invariant: roll-back starts only once every change in the redo is
//! applied: the undo it follows, and the transaction tables that say who was
//! active, are blocks roll-forward rebuilt.
//! Invariant: a change that cannot be applied is an error
//! (`Error::CorruptLog`), never skipped, except in media recovery for a
//! block a NOLOGGING load wrote after the backup: that block is lost with
//! the load, counted, and made to fail every read rather than look empty.
//!
//! ## Where media recovery lives
//!
//! Media recovery (`backup::recover_until`) restores a backup, collects the
//! archived and online redo up to a target SCN, and hands it here as
//! `Media`. The steps that differ from crash recovery are here: the fresh
//! ring continuing the stream (`reset_logs`), the new database id
//! (`roll_back`), the NOLOGGING bookkeeping (`Nologging`,
//! `mark_unrecoverable`). The driver that runs them, `db::recover_media`,
//! stays in `db`: it opens the restored copy through `Database`'s own open
//! path (the same steps as a crash recovery, with another redo source) and
//! closes it cleanly, and this module sits below `Database`.
//!
//! This module sits in the transactions layer: it uses the storage, block,
//! redo, buffer, undo and transaction layers through `Kernel`, never the
//! catalog, SQL or sessions (loading the catalog after recovery is the
//! opener's step).

use std::sync::atomic::Ordering;

use crate::block::{Body, FileHeader, Op, TxState};
use crate::buffer::Mode;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Lsn, Scn, Xid};
use crate::kernel::{undo_header, Kernel, RecHead, FILE_HEADER};
use crate::redo::record::{decode_payload, RecKind, RedoPayload};
use crate::redo::{create_log_files, LogConfig, LogRecord, Ring};
use crate::storage::{stamp_crc, Backend, ControlFile, CRC_LEN};
use crate::txn::TxnCtx;

/// What recovery did when the database was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub records_read: usize,
    pub changes_applied: usize,
    pub changes_skipped: usize,
    pub transactions_rolled_back: usize,
    /// Media recovery only: blocks a NOLOGGING direct-path load wrote after
    /// the backup. The redo cannot rebuild them, so they are marked corrupt
    /// (every read of them fails, as Oracle's ORA-01578/ORA-26040) rather
    /// than left looking empty.
    pub nologging_blocks: Vec<u32>,
    /// Media recovery only: later changes to those blocks, which could not
    /// be applied.
    pub changes_lost: usize,
    /// Data blocks a crash left torn (half written), put back from their
    /// intact copy in the doublewrite area before roll-forward.
    pub torn_blocks_repaired: Vec<u32>,
    /// Blocks roll-forward could not read but whose redo held their whole
    /// image (a torn direct-path block): rebuilt from the redo.
    pub blocks_rebuilt_from_redo: Vec<u32>,
    /// What recovery worked around, one sentence each (a damaged
    /// control-file slot).
    pub warnings: Vec<String>,
}

impl RecoveryReport {
    /// What of this recovery goes into the alert log (`alert`): the blocks
    /// of the data file it repaired or rebuilt and what it worked around.
    pub(crate) fn alert_lines(&self) -> Vec<String> {
        let data_file = crate::storage::DATA_FILE;
        let torn = self.torn_blocks_repaired.iter().map(|b| {
            format!(
                "block {b} of {data_file} failed its checksum (a torn write); \
                 repaired from its copy in the doublewrite area"
            )
        });
        let rebuilt = self.blocks_rebuilt_from_redo.iter().map(|b| {
            format!(
                "block {b} of {data_file} could not be read; rebuilt from its image in the redo"
            )
        });
        torn.chain(rebuilt)
            .chain(self.warnings.iter().cloned())
            .collect()
    }
}

/// Redo collected for media recovery, and where the new incarnation's
/// stream starts.
pub(crate) struct Media<'a> {
    /// The records to apply, in order, each starting where the last ended.
    pub records: &'a [LogRecord],
    /// Where the next record goes: the end of the last record applied.
    pub resume: Lsn,
    /// The SCN of the last record applied (later SCNs are larger).
    pub last_scn: Scn,
    /// The new incarnation's database id.
    pub new_db_id: u64,
}

/// Roll forward through `records` (the redo from the checkpoint, or in
/// media recovery the collected redo, `media` set). Media recovery also
/// grows the restored file to what its header counts, and returns what it
/// learnt of NOLOGGING loads for `roll_back`.
pub(crate) fn roll_forward(
    core: &Kernel,
    records: &[LogRecord],
    media: bool,
    report: &mut RecoveryReport,
) -> Result<Option<Nologging>> {
    let mut loads = media.then(Nologging::default);
    apply_redo(core, records, report, loads.as_mut())?;
    if media {
        grow_to_allocated(core)?;
    }
    Ok(loads)
}

/// Roll back what had not committed, once block 0 is checked: from here
/// on new reads see everything the redo committed. In media recovery
/// (`new_db_id` given) the database then becomes a new incarnation, and the
/// blocks NOLOGGING loads left unformatted below their HWM are reported.
pub(crate) fn roll_back(
    core: &Kernel,
    new_db_id: Option<u64>,
    loads: Option<Nologging>,
    report: &mut RecoveryReport,
) -> Result<()> {
    core.visible_scn
        .store(core.log.current_scn().0, Ordering::Release);
    report.transactions_rolled_back = roll_back_active(core)?;
    if let (Some(new_db_id), Some(loads)) = (new_db_id, loads) {
        reset_db_id(core, new_db_id)?;
        report.changes_lost = loads.changes_lost;
        report.nologging_blocks = loads.unrecoverable(core)?;
    }
    Ok(())
}

/// RESETLOGS, the ring half: media recovery replaces the restored copy's
/// old ring (whose redo is not the one applied) with fresh files; the log
/// then continues the stream after the last record applied.
pub(crate) fn reset_logs(backend: &dyn Backend, log_cfg: &LogConfig) -> Result<()> {
    for name in backend.list()? {
        if name.starts_with("redo") && name.ends_with(".log") {
            backend.remove(&name)?;
        }
    }
    backend.sync_dir()?;
    create_log_files(backend, log_cfg)
}

/// Marks the blocks media recovery could not rebuild (`nologging_blocks`)
/// as corrupt in `data_file`: each gets a reason in place of its contents
/// and a checksum that cannot match, so every read of it fails instead of
/// finding an empty block. Called once the database is closed, when
/// nothing writes these blocks any more.
pub(crate) fn mark_unrecoverable(
    backend: &dyn Backend,
    data_file: &str,
    block_size: usize,
    blocks: &[u32],
) -> Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let file = backend.open(data_file, false)?;
    let mut image = vec![0u8; block_size];
    let why = b"blocklab: loaded NOLOGGING after the backup; media recovery cannot rebuild it";
    image[CRC_LEN..CRC_LEN + why.len()].copy_from_slice(why);
    stamp_crc(&mut image);
    image[0] ^= 0xff; // a checksum that cannot match: every read fails
    for &no in blocks {
        file.write_at(&image, no as u64 * block_size as u64)?;
    }
    file.sync()
}

/// Applies each logged change to any block older than it.
///
/// In media recovery (`nologging` given), a change that does not apply to an
/// unformatted block of a NOLOGGING load is lost with the load, not damage.
fn apply_redo(
    core: &Kernel,
    records: &[LogRecord],
    report: &mut RecoveryReport,
    mut nologging: Option<&mut Nologging>,
) -> Result<()> {
    for rec in records {
        let p = decode_payload(&rec.payload).map_err(|r| Error::CorruptLog {
            lsn: rec.lsn.0,
            reason: format!("undecodable redo payload: {r}"),
        })?;
        if let Some(n) = nologging.as_deref_mut() {
            n.note(&p);
        }
        for (no, op) in &p.changes {
            if no.0 >= core.file.block_count() {
                core.file.extend_to(no.0 + 1)?;
            }
            let mut b = match core.cache.get_mut(*no, &core.bg) {
                // A block that cannot be read is fine if this change
                // replaces it whole (see `Op::replaces_block`).
                Err(Error::Corrupt { .. }) if op.replaces_block() => {
                    report.blocks_rebuilt_from_redo.push(no.0);
                    core.cache.get_new(*no, &core.bg)?
                }
                r => r?,
            };
            if b.scn < rec.scn {
                let unformatted = matches!(b.body, Body::Unformatted);
                if let Err(r) = b.block_mut().apply(op, rec.scn) {
                    match nologging.as_deref_mut() {
                        Some(n) if unformatted && n.covers(*no) => {
                            n.changes_lost += 1;
                            continue;
                        }
                        _ => {
                            return Err(Error::CorruptLog {
                                lsn: rec.lsn.0,
                                reason: format!("cannot apply to block {}: {r}", no.0),
                            })
                        }
                    }
                }
                b.mark_changed(rec.lsn, rec.end);
                report.changes_applied += 1;
            } else {
                report.changes_skipped += 1;
            }
        }
    }
    Ok(())
}

/// Roll back: every transaction still active after roll-forward had no
/// commit record; undo takes their changes back, all together, newest
/// first (`undo::rollback_all` says why not one after the other).
fn roll_back_active(core: &Kernel) -> Result<usize> {
    let mut active = Vec::new();
    for seg in 0..core.undo_segments.load(Ordering::Acquire) as u16 {
        let no = undo_header(seg);
        let slots = {
            let h = core.cache.get(no, Mode::Current, &core.bg)?;
            match &h.body {
                Body::UndoHeader(u) => u.slots.clone(),
                _ => {
                    return Err(Error::corrupt(
                        core.file.name(),
                        no.0 as u64,
                        "not an undo header",
                    ))
                }
            }
        };
        for (i, s) in slots.iter().enumerate() {
            if s.state != TxState::Active {
                continue;
            }
            active.push(TxnCtx {
                xid: Xid::new(seg, i as u16, s.wrap),
                slot: i as u16,
                start_scn: s.scn,
                last_uba: s.last_uba,
                undo_block: None,
                blocks: Default::default(),
                read_scn: s.scn,
                serializable: false,
                direct_writes: false,
            });
        }
    }
    crate::txn::rollback_all(core, &core.bg, active)
}

/// Recovery may start from the copy of the control file that `open` fell
/// back to (`ControlFile::lost_slot`), maybe the older one, only while the
/// redo from its checkpoint is still online: the segment holding the
/// checkpoint must still be in its ring file (a file that names no segment
/// yet is the stream not having got there). If a later lap of the ring has
/// overwritten it, the redo reader would take the gap for a torn tail (and
/// silently open without the committed work after it) or for damage in the
/// log (and blame a redo file): refuse, naming the control file. Returns
/// the warning to report when the fallback is safe.
pub(crate) fn check_lost_slot(
    backend: &dyn Backend,
    control: &ControlFile,
    log_cfg: &LogConfig,
    checkpoint_lsn: u64,
) -> Result<Option<String>> {
    let Some(lost) = control.lost_slot() else {
        return Ok(None);
    };
    let path = backend.describe(ControlFile::NAME);
    let k = checkpoint_lsn / log_cfg.segment_capacity();
    let index = (k % u64::from(log_cfg.files)) as u32;
    let headers = Ring::open(backend, log_cfg)?.headers()?;
    match headers.get(index as usize).copied().flatten() {
        Some(held) if held != k => Err(Error::CorruptControl {
            path: path.into(),
            reason: format!(
                "{lost}; the redo from that checkpoint is no longer online (segment {k} \
                 was overwritten: {} holds segment {held}), so recovery from it would lose \
                 committed work: restore the database from a backup",
                LogConfig::file_name(index)
            ),
        }),
        _ => Ok(Some(format!(
            "control file {path}: {lost}; its redo is still online, so recovery started there"
        ))),
    }
}

/// What roll-forward left in block 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileHeaderCheck {
    /// A file header that matches the control file and the data file (the
    /// number of undo segments is now known).
    Valid,
    /// Still unformatted, in a new database or one never checkpointed: its
    /// bootstrap redo is not there, and the opener must bootstrap it now.
    NeedsBootstrap,
}

/// Checks block 0 after roll-forward. A database whose control file exists
/// but was never checkpointed may have lost its bootstrap redo in a crash
/// (the control file is created before the bootstrap is logged): its file
/// header is still unformatted, and it must be bootstrapped now. Creating
/// blocks is the opener's business, not recovery's, so this only says so.
pub(crate) fn check_file_header(core: &Kernel, fresh: bool) -> Result<FileHeaderCheck> {
    let (db_id, never_checkpointed) = {
        let c = core.control.lock();
        (c.1.db_id, c.1.checkpoint_lsn == 0)
    };
    let b = core.cache.get(FILE_HEADER, Mode::Current, &core.bg)?;
    let bad = |why: String| Err(Error::corrupt(core.file.name(), 0, why));
    match &b.body {
        Body::Unformatted if fresh || never_checkpointed => Ok(FileHeaderCheck::NeedsBootstrap),
        Body::FileHeader(h) if h.db_id != db_id => bad(format!(
            "file header belongs to database {:#x}, the control file to {db_id:#x}",
            h.db_id
        )),
        Body::FileHeader(h) if h.block_size as usize != core.cfg.block_size => bad(format!(
            "file header says block size {}, the control file {}",
            h.block_size, core.cfg.block_size
        )),
        Body::FileHeader(h) if h.allocated > core.file.block_count() => bad(format!(
            "file header has {} blocks allocated but the file holds {}",
            h.allocated,
            core.file.block_count()
        )),
        Body::FileHeader(h) if h.undo_segments == 0 || h.undo_segments > 64 => bad(format!(
            "file header names {} undo segments",
            h.undo_segments
        )),
        Body::FileHeader(h) => {
            core.cfg.check_fixed_undo_segments(h.undo_segments.into())?;
            core.undo_segments.store(h.undo_segments, Ordering::Release);
            // Read only when asked, so a default open reads no extra block.
            if core.cfg.asks_for_undo_blocks() {
                let u = core.cache.get(undo_header(0), Mode::Current, &core.bg)?;
                let Body::UndoHeader(u) = &u.body else {
                    return bad("block 1 is not an undo segment header".into());
                };
                // The creation extent stays first: autoextend inserts
                // after the ring's current position, never before extent 0.
                let per = u.extents.first().map_or(0, |e| e.1);
                core.cfg
                    .check_fixed_undo_blocks(h.undo_segments.into(), per.into())?;
            }
            Ok(FileHeaderCheck::Valid)
        }
        _ => bad("block 0 is not a file header".into()),
    }
}

/// After media recovery the file header may count blocks that no applied
/// record names (an extent allocated but not yet used at the target SCN):
/// the restored file, older than that allocation, is grown to cover them,
/// as the original was grown before the allocation was logged.
fn grow_to_allocated(core: &Kernel) -> Result<()> {
    let allocated = match &core.cache.get(FILE_HEADER, Mode::Current, &core.bg)?.body {
        Body::FileHeader(h) => h.allocated,
        _ => return Ok(()), // check_file_header reports it
    };
    if allocated > core.file.block_count() {
        core.file.extend_to(allocated)?;
    }
    Ok(())
}

/// OPEN RESETLOGS: the recovered database becomes a new incarnation with its
/// own id, in block 0 (logged) and in the control file (written by the next
/// checkpoint).
fn reset_db_id(core: &Kernel, new_db_id: u64) -> Result<()> {
    let mut fh = core.cache.get_mut(FILE_HEADER, &core.bg)?;
    let Body::FileHeader(h) = &fh.body else {
        return Err(Error::corrupt(
            core.file.name(),
            0,
            "block 0 is not a file header",
        ));
    };
    let h = FileHeader {
        db_id: new_db_id,
        ..h.clone()
    };
    core.change(&core.bg, RecHead::space(), &mut [&mut fh], |_| {
        vec![Op::SetFileHeader(h)]
    })?;
    core.control.lock().1.db_id = new_db_id;
    Ok(())
}

/// What media recovery learns about NOLOGGING direct-path loads: each
/// `Nologging` record names a block range of a load whose rows are not in
/// the redo; the loading transaction's HWM change then names the segment.
#[derive(Default)]
pub(crate) struct Nologging {
    /// (loading transaction, first block, last block, segment header).
    loads: Vec<(Xid, u32, u32, Option<BlockNo>)>,
    changes_lost: usize,
}

impl Nologging {
    fn note(&mut self, p: &RedoPayload) {
        match p.kind {
            RecKind::Nologging => {
                // "NOLOGGING direct load: blocks 40..=47 are not in the redo"
                let range = p.text.split("blocks ").nth(1).and_then(|r| {
                    let (a, b) = r.split_once("..=")?;
                    let b: String = b.chars().take_while(char::is_ascii_digit).collect();
                    Some((a.parse().ok()?, b.parse().ok()?))
                });
                if let Some((first, last)) = range {
                    self.loads.push((p.xid, first, last, None));
                }
            }
            RecKind::Change => {
                for (no, op) in &p.changes {
                    if matches!(op, Op::SegHwm { .. }) {
                        for load in self.loads.iter_mut().filter(|l| l.0 == p.xid) {
                            load.3.get_or_insert(*no);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether a change that does not apply to block `no` is one to a
    /// block of a NOLOGGING load (so lost, not a sign of corruption).
    fn covers(&self, no: BlockNo) -> bool {
        self.loads.iter().any(|l| (l.1..=l.2).contains(&no.0))
    }

    /// The blocks of the loads that recovery left below their segment's
    /// HWM yet unformatted: the load committed, its rows are not here.
    fn unrecoverable(&self, core: &Kernel) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for &(_, first, last, seg) in &self.loads {
            let Some(seg) = seg else { continue };
            let h = match &core.cache.get(seg, Mode::Current, &core.bg)?.body {
                Body::SegHeader(h) => h.clone(),
                _ => continue,
            };
            let below_hwm: Vec<u32> = h
                .extents
                .iter()
                .flat_map(|&(start, len)| start..start + len)
                .take(h.hwm as usize)
                .collect();
            for no in first..=last {
                if below_hwm.contains(&no) && !out.contains(&no) {
                    let b = core.cache.get(BlockNo(no), Mode::Current, &core.bg)?;
                    if matches!(b.body, Body::Unformatted) {
                        out.push(no);
                    }
                }
            }
        }
        Ok(out)
    }
}
