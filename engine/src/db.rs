//! The front door: `Database` (open, create, recover, checkpoint, close)
//! and `Session` (transactions and the typed table API).
//!
//! ## Opening a database
//!
//! ```text
//!  control file ──▶ checkpoint LSN ──▶ read redo from there to its end
//!       │                                  │
//!       ▼                                  ▼
//!  start the log writer at the end   roll forward: apply each change to
//!                                    any block older than it (block SCN)
//!                                          │
//!                                          ▼
//!                     roll back every transaction still active in the
//!                     transaction table, with undo (itself rebuilt by redo)
//!                                          │
//!                                          ▼
//!            load the catalog and the optimizer statistics stored in it,
//!                          checkpoint, open for sessions
//! ```
//!
//! Before anything else, the opener takes the directory lock
//! (`Backend::lock`): a database has one owner, and a second open fails
//! with `Error::Locked` instead of writing over the first one's blocks.
//!
//! Creating is explicit (the `create` submodule): only a directory
//! without database files, or with the leftovers of a creation cut short,
//! becomes a new database; data files or redo logs without a control file
//! are an error (`Error::IncompleteDatabase`), never overwritten.
//! A new directory is created and bootstrapped: block 0 file header, block 1
//! undo segment header (+ the undo ring), block 2 catalog segment header.
//!
//! In archive mode (`Config::archive_dir`, remembered in the directory) the
//! log's archiver starts right after the log writer, before recovery appends
//! anything, so no segment can be reused unarchived (`redo::log::archiver`).
//!
//! ## Media recovery
//!
//! [`recover_media`] is the other way in, used by `backup::recover_until`:
//! a restored copy of a backup is rolled forward through redo records the
//! caller collected (archived and online logs, up to a target SCN) instead
//! of its own ring's, then rolled back as above. Its old ring is replaced by
//! a fresh one continuing the stream after the last applied record, and the
//! database gets a new id (Oracle's OPEN RESETLOGS): it is a new incarnation,
//! whose redo and archives must never be mistaken for the original's, which
//! may well go on.
//!
//! ## Sessions
//!
//! A `Session` is used by one thread at a time (`Send`, not shared). Every
//! call is a statement: it reads as of its own SCN (READ COMMITTED) or the
//! transaction's (SERIALIZABLE), and if it fails, its changes are rolled
//! back to the statement's start (statement-level rollback) while the
//! transaction stays open. A transaction begins at its first change.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::block::{Body, FileHeader, Op, TxState};
use crate::buffer::{BufWrite, BufferCache, Mode};
use crate::catalog::{Catalog, TableDef};
use crate::config::Config;
use crate::core::{undo_header, Core, RecHead, CATALOG_SEG, FILE_HEADER, UNDO_HEADER};
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{BlockNo, Lsn, Scn, Xid};
use crate::redo::log::archiver::{read_archive_dest, write_archive_dest};
use crate::redo::record::{decode_payload, RecKind};
use crate::redo::{create_log_files, read_log, LogConfig, LogRecord, LogScan, RedoLog};
use crate::session::Session;
use crate::stats::{Counters, SessionStats, Stat, StatsSnapshot};
use crate::storage::{stamp_crc, Backend, ControlFile, DataFile, DirLock, OsBackend, CRC_LEN};
use crate::lock::Waits;
use crate::txn::{Snapshot, TxnCtx};
use crate::undo;

mod create;

use create::create_if_new;

const DATA_FILE: &str = "data01.dbf";
/// The data file's torn-write protection (`storage::doublewrite`).
pub(crate) const DOUBLEWRITE_FILE: &str = "doublewrite.dbf";

/// An open database.
pub struct Database {
    core: Arc<Core>,
    writer: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
    /// The directory lock: this `Database` is the directory's one owner.
    /// Declared last, so it is released only after `Drop` has shut the
    /// database down and the other fields are gone.
    _owner: DirLock,
}

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
    /// it repaired or rebuilt and what it worked around.
    fn alert_lines(&self) -> Vec<String> {
        let torn = self.torn_blocks_repaired.iter().map(|b| {
            format!(
                "block {b} of {DATA_FILE} failed its checksum (a torn write); \
                 repaired from its copy in the doublewrite area"
            )
        });
        let rebuilt = self.blocks_rebuilt_from_redo.iter().map(|b| {
            format!(
                "block {b} of {DATA_FILE} could not be read; rebuilt from its image in the redo"
            )
        });
        torn.chain(rebuilt)
            .chain(self.warnings.iter().cloned())
            .collect()
    }
}

impl Database {
    /// Opens (recovering if needed) or creates the database in `dir`: an
    /// absent or empty directory becomes a new database; one with data files
    /// but no control file is `Error::IncompleteDatabase`.
    ///
    /// A directory has one owner: while the returned `Database` lives,
    /// every other open of `dir`, in this process or another, fails at once
    /// with `Error::Locked` (see `storage::owner`).
    pub fn open(dir: impl AsRef<Path>, cfg: Config) -> Result<Database> {
        let backend: Arc<dyn Backend> = Arc::new(OsBackend::new(dir.as_ref())?);
        Self::open_with(backend, cfg)
    }

    /// Opens or creates a database on any storage backend (tests use
    /// `SimBackend` to cut power and inject faults).
    pub fn open_with(backend: Arc<dyn Backend>, cfg: Config) -> Result<Database> {
        Ok(Self::open_report(backend, cfg)?.0)
    }

    /// Like `open_with`, also returning what recovery did.
    pub fn open_report(
        backend: Arc<dyn Backend>,
        cfg: Config,
    ) -> Result<(Database, RecoveryReport)> {
        Self::open_inner(backend, cfg, None)
    }

    /// Opens after crash recovery from the database's own ring, or (with
    /// `media`) after media recovery from the records given.
    fn open_inner(
        backend: Arc<dyn Backend>,
        mut cfg: Config,
        media: Option<&Media<'_>>,
    ) -> Result<(Database, RecoveryReport)> {
        cfg.validate()?;
        // Before a new database's files are created (checked again below
        // with an existing database's own block size).
        cfg.check_cache_memory()?;
        // Before any file is read or written: a second owner would write
        // blocks and redo the first one believes are its own.
        let owner = backend.lock()?;
        let fresh = create_if_new(backend.as_ref(), &cfg)?;
        let (control, mut data) = ControlFile::open(backend.as_ref())?;
        // Open means "not cleanly shut down" until close says otherwise; the
        // first checkpoint below records it.
        data.clean_shutdown = false;
        // The files fix these: a configuration that asks for other values
        // is refused, one that does not ask takes the database's.
        cfg.check_fixed(
            data.block_size.into(),
            data.log_file_size,
            data.log_files.into(),
        )?;
        cfg.block_size = data.block_size as usize;
        cfg.log_file_size = data.log_file_size;
        cfg.log_files = data.log_files;
        // Again with the database's values (initrans and the log size are
        // bounded by the block size), and before the cache is allocated.
        cfg.validate()?;
        cfg.check_cache_memory()?;
        let log_cfg = LogConfig {
            file_size: data.log_file_size,
            files: data.log_files,
        };
        let lost_slot = match media {
            None => check_lost_slot(backend.as_ref(), &control, &log_cfg, data.checkpoint_lsn)?,
            Some(_) => None,
        };
        // Torn blocks are repaired before anything reads a block.
        let (file, repaired) = DataFile::open_protected(
            backend.as_ref(),
            DATA_FILE,
            DOUBLEWRITE_FILE,
            cfg.block_size,
        )?;
        let file = Arc::new(file);
        let (scan, checkpoint) = match media {
            None => (
                read_log(backend.as_ref(), &log_cfg, Lsn(data.checkpoint_lsn))?,
                Lsn(data.checkpoint_lsn),
            ),
            Some(m) => {
                // RESETLOGS: a fresh ring, the stream going on after the
                // last record applied.
                for name in backend.list()? {
                    if name.starts_with("redo") && name.ends_with(".log") {
                        backend.remove(&name)?;
                    }
                }
                backend.sync_dir()?;
                create_log_files(backend.as_ref(), &log_cfg)?;
                let scan = LogScan {
                    records: Vec::new(),
                    end: m.resume,
                    max_scn: m.last_scn,
                };
                (scan, m.resume)
            }
        };
        let records = media.map_or(&scan.records[..], |m| m.records);
        let last_scn = scan.max_scn.max(Scn(data.next_scn_floor));
        let log = RedoLog::start(backend.clone(), log_cfg, scan.end, checkpoint, last_scn)?;
        // Before anything is appended: recovery's own rollback may fill the
        // ring, and no segment may be reused unarchived.
        cfg.archive_dir = match media {
            None => archive_destination(backend.as_ref(), &cfg)?,
            Some(_) => None,
        };
        if let Some(dir) = &cfg.archive_dir {
            log.start_archiving(Arc::new(OsBackend::new(dir)?), data.db_id)?;
        }
        let system = Arc::new(Counters::default());
        let bg = SessionStats::background(system.clone());
        let cache = BufferCache::new(cfg.cache_frames, file.clone(), log.clone(), bg.clone());
        let core = Arc::new(Core {
            cfg: cfg.clone(),

            file,
            log,
            cache,
            control: Mutex::new((control, data)),
            system,
            bg,
            waits: Waits::default(),
            visible_scn: AtomicU64::new(last_scn.0),
            commit_lock: Mutex::new(()),
            space_lock: Mutex::new(()),
            ckpt_lock: Mutex::new(()),
            catalog: Default::default(),
            tx_hint: AtomicU64::new(0),
            undo_segments: std::sync::atomic::AtomicU32::new(0),
            poisoned: Mutex::new(None),
            writer_running: AtomicBool::new(false),
            sql: Default::default(),
            split_locks: Default::default(),
            inherited: Default::default(),
            table_locks: Default::default(),
            unique_locks: Default::default(),
        });
        let mut report = RecoveryReport {
            records_read: records.len(),
            torn_blocks_repaired: repaired.iter().map(|b| b.0).collect(),
            warnings: lost_slot.into_iter().collect(),
            ..Default::default()
        };
        let mut loads = media.map(|_| Nologging::default());
        roll_forward(&core, records, &mut report, loads.as_mut())?;
        if media.is_some() {
            grow_to_allocated(&core)?;
        }
        check_file_header(&core, fresh)?;
        core.visible_scn
            .store(core.log.current_scn().0, Ordering::Release);
        report.transactions_rolled_back = roll_back_active(&core)?;
        if let (Some(m), Some(loads)) = (media, loads) {
            reset_db_id(&core, m.new_db_id)?;
            report.changes_lost = loads.changes_lost;
            report.nologging_blocks = loads.unrecoverable(&core)?;
        }
        load_catalog(&core)?;
        core.checkpoint()?;
        crate::alert::append(
            backend.as_ref(),
            crate::clock::now_ms(),
            &report.alert_lines(),
        )?;
        let db = Database {
            core,
            writer: Mutex::new(None),
            _owner: owner,
        };
        if cfg.background_writer {
            db.start_writer();
        }
        Ok((db, report))
    }

    fn start_writer(&self) {
        let stop = Arc::new(AtomicBool::new(false));
        let weak: Weak<Core> = Arc::downgrade(&self.core);
        let stop2 = stop.clone();
        self.core.writer_running.store(true, Ordering::Release);
        let h = std::thread::Builder::new()
            .name("blocklab-dbwr".into())
            .spawn(move || writer_loop(weak, stop2))
            .expect("spawning the writer thread");
        *self.writer.lock() = Some((stop, h));
    }

    /// A new session.
    pub fn session(&self) -> Session {
        Session::new(self.core.clone())
    }

    /// Registers a user-defined SQL function (claim C24): `name(args…)` in
    /// any statement of any session calls `f`, and every call counts in
    /// `user function calls`. Registering a name again replaces it.
    pub fn register_function(
        &self,
        name: &str,
        f: impl Fn(&[crate::value::Value]) -> Result<crate::value::Value> + Send + Sync + 'static,
    ) {
        self.core.sql.register(name, Arc::new(f));
    }

    /// Writes every dirty block and advances the checkpoint.
    pub fn checkpoint(&self) -> Result<()> {
        self.core.checkpoint().map(|_| ())
    }

    /// System-wide statistics (every session plus background work), with
    /// the log writer's own counts (`redo writes`, `log syncs`).
    pub fn system_stats(&self) -> StatsSnapshot {
        let mut s = self.core.system.snapshot();
        let log = self.core.log.stats();
        s.set(Stat::RedoWrites, log.redo_writes);
        s.set(Stat::LogSyncs, log.log_syncs);
        s
    }

    /// Log writer counters (writes, syncs: group commit is syncs < commits).
    pub fn log_stats(&self) -> crate::redo::LogStats {
        self.core.log.stats()
    }

    /// The highest committed SCN (what a new query reads as of).
    pub fn current_scn(&self) -> Scn {
        self.core.visible_scn()
    }

    pub fn config(&self) -> &Config {
        &self.core.cfg
    }

    /// Table definitions.
    pub fn tables(&self) -> Vec<TableDef> {
        self.core.catalog.read().tables.values().cloned().collect()
    }

    /// Segment size in blocks and HWM of a table.
    pub fn segment_info(&self, table: &str) -> Result<(u32, u32)> {
        let seg = self.core.catalog.read().get(table)?.seg;
        let b = self.core.cache.get(seg, Mode::Current, &self.core.bg)?;
        match &b.body {
            Body::SegHeader(h) => Ok(heap::segment_size(h)),
            _ => Err(Error::corrupt(
                self.core.file.name(),
                seg.0 as u64,
                "not a segment header",
            )),
        }
    }

    /// The undo size in blocks, summed over the undo segments' rings: the
    /// initial `undo_blocks` plus every extent autoextend added (claim C40).
    /// Reading the segment headers counts on a private set of counters, so
    /// asking does not change any session's or the system's statistics.
    pub fn undo_blocks(&self) -> Result<u32> {
        let quiet = SessionStats::new(Arc::new(Counters::default()));
        undo::ring_blocks(&self.core, &quiet)
    }

    /// Closes cleanly: stops the writer, checkpoints, records a clean
    /// shutdown, stops the log writer. Dropping does the same, ignoring errors.
    pub fn close(self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&self) -> Result<()> {
        if let Some((stop, h)) = self.writer.lock().take() {
            stop.store(true, Ordering::Release);
            let _ = h.join();
            self.core.writer_running.store(false, Ordering::Release);
        }
        self.core.checkpoint()?;
        {
            let mut c = self.core.control.lock();
            let mut d = c.1.clone();
            d.clean_shutdown = true;
            c.0.write(&d)?;
            c.1 = d;
        }
        self.core.log.shutdown()
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

/// Media recovery of the restored database in `backend`: rolls it forward
/// through `media.records` (not its own ring, which is replaced by a fresh
/// one), rolls back what had not committed by the last of them, gives it a
/// new database id and closes it cleanly. The caller has checked that the
/// records continue from the control file's checkpoint without a hole.
pub(crate) fn recover_media(
    backend: Arc<dyn Backend>,
    mut cfg: Config,
    media: &Media<'_>,
) -> Result<RecoveryReport> {
    cfg.background_writer = false;
    cfg.archive_dir = None;
    let (db, report) = Database::open_inner(backend.clone(), cfg, Some(media))?;
    let block_size = db.config().block_size;
    db.close()?;
    // With the database closed nothing writes these blocks any more.
    if !report.nologging_blocks.is_empty() {
        let file = backend.open(DATA_FILE, false)?;
        let mut image = vec![0u8; block_size];
        let why = b"blocklab: loaded NOLOGGING after the backup; media recovery cannot rebuild it";
        image[CRC_LEN..CRC_LEN + why.len()].copy_from_slice(why);
        stamp_crc(&mut image);
        image[0] ^= 0xff; // a checksum that cannot match: every read fails
        for &no in &report.nologging_blocks {
            file.write_at(&image, no as u64 * block_size as u64)?;
        }
        file.sync()?;
    }
    Ok(report)
}

/// What media recovery learns about NOLOGGING direct-path loads: each
/// `Nologging` record names a block range of a load whose rows are not in
/// the redo; the loading transaction's HWM change then names the segment.
#[derive(Default)]
struct Nologging {
    /// (loading transaction, first block, last block, segment header).
    loads: Vec<(Xid, u32, u32, Option<BlockNo>)>,
    changes_lost: usize,
}

impl Nologging {
    fn note(&mut self, p: &crate::redo::record::RedoPayload) {
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
    fn unrecoverable(&self, core: &Core) -> Result<Vec<u32>> {
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

/// The archive destination this open uses: the configured one (remembered
/// from now on), none with `noarchivelog` (forgotten), else the remembered one.
fn archive_destination(backend: &dyn Backend, cfg: &Config) -> Result<Option<std::path::PathBuf>> {
    if cfg.noarchivelog {
        write_archive_dest(backend, None)?;
        return Ok(None);
    }
    let Some(dir) = &cfg.archive_dir else {
        return read_archive_dest(backend);
    };
    // Absolute, so that tools run from another directory find it.
    let dir = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    if read_archive_dest(backend)?.as_deref() != Some(dir.as_path()) {
        write_archive_dest(backend, Some(&dir))?;
    }
    Ok(Some(dir))
}

/// After media recovery the file header may count blocks that no applied
/// record names (an extent allocated but not yet used at the target SCN):
/// the restored file, older than that allocation, is grown to cover them,
/// as the original was grown before the allocation was logged.
fn grow_to_allocated(core: &Core) -> Result<()> {
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
fn reset_db_id(core: &Core, new_db_id: u64) -> Result<()> {
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

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn writer_loop(core: Weak<Core>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(20));
        let Some(core) = core.upgrade() else { return };
        let frames = core.cache.frames();
        let result = if core.log.wants_checkpoint() {
            core.checkpoint().map(|_| ())
        } else if core.cache.dirty_count() > frames / 2 {
            core.cache.write_dirty(frames / 8).map(|_| ())
        } else {
            Ok(())
        };
        if let Err(e) = result {
            // A write the writer cannot do is one no session can do either:
            // stop accepting changes now rather than let the log fill up
            // behind a checkpoint that will never finish.
            core.poisoned
                .lock()
                .get_or_insert_with(|| format!("background writer failed: {e}"));
            return;
        }
    }
}

/// Checks block 0 after roll-forward. A database whose control file exists
/// but was never checkpointed may have lost its bootstrap redo in a crash
/// (the control file is created before the bootstrap is logged): its file
/// header is still unformatted, and it is bootstrapped now.
fn check_file_header(core: &Core, fresh: bool) -> Result<()> {
    let (db_id, never_checkpointed) = {
        let c = core.control.lock();
        (c.1.db_id, c.1.checkpoint_lsn == 0)
    };
    let b = core.cache.get(FILE_HEADER, Mode::Current, &core.bg)?;
    let bad = |why: String| Err(Error::corrupt(core.file.name(), 0, why));
    match &b.body {
        Body::Unformatted if fresh || never_checkpointed => {
            drop(b);
            bootstrap(core)
        }
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
            Ok(())
        }
        _ => bad("block 0 is not a file header".into()),
    }
}

/// Formats the file header, the undo segment headers (each with its ring)
/// and the catalog segment header of a new database, in one redo record.
///
/// ```text
///  block 0  file header        block 1  undo segment 0 header
///  block 2  catalog header     blocks 3..   undo segment 1.. headers
///  then the undo rings, segment after segment; then free space
/// ```
fn bootstrap(core: &Core) -> Result<()> {
    let s = &core.bg;
    let segs = core.cfg.undo_segments;
    let per = core.cfg.undo_blocks / segs as u32;
    let rings = 2 + segs as u32;
    let header = FileHeader {
        db_id: core.control.lock().1.db_id,
        block_size: core.cfg.block_size as u32,
        allocated: rings + per * segs as u32,
        catalog_seg: CATALOG_SEG,
        undo_header: UNDO_HEADER,
        undo_segments: segs as u32,
    };
    let slots = undo::tx_slots_for(core.cfg.block_size);
    let mut guards = vec![
        core.cache.get_new(FILE_HEADER, s)?,
        core.cache.get_new(CATALOG_SEG, s)?,
    ];
    let mut ops = vec![
        Op::SetFileHeader(header),
        Op::SetSegHeader(crate::block::SegHeader {
            object: 0,
            extents: vec![(CATALOG_SEG.0, 1)],
            hwm: 1,
            free: Vec::new(),
        }),
    ];
    for seg in 0..segs {
        guards.push(core.cache.get_new(undo_header(seg), s)?);
        ops.push(Op::UndoRing {
            extents: vec![(rings + per * seg as u32, per)],
            next: 0,
            control_scn: Scn(0),
            slots,
        });
    }
    let mut refs: Vec<&mut BufWrite<'_>> = guards.iter_mut().collect();
    core.change(s, RecHead::space(), &mut refs, |_| ops)?;
    core.undo_segments.store(segs as u32, Ordering::Release);
    Ok(())
}

/// Roll forward: apply each logged change to any block older than it.
///
/// In media recovery (`nologging` given), a change that does not apply to an
/// unformatted block of a NOLOGGING load is lost with the load, not damage.
fn roll_forward(
    core: &Core,
    records: &[crate::redo::LogRecord],
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
fn roll_back_active(core: &Core) -> Result<usize> {
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
    undo::rollback_all(core, &core.bg, active)
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
fn check_lost_slot(
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
    let headers = crate::redo::Ring::open(backend, log_cfg)?.headers()?;
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

fn load_catalog(core: &Core) -> Result<()> {
    let snap = Snapshot {
        scn: core.visible_scn(),
        xid: Xid::NONE,
    };
    let rows = heap::scan_rows(core, &core.bg, snap, CATALOG_SEG, |_| true)?;
    let cat = Catalog::from_rows(rows)
        .map_err(|r| Error::corrupt(core.file.name(), CATALOG_SEG.0 as u64, r))?;
    core.sql
        .load_stats(&cat)
        .map_err(|r| Error::corrupt(core.file.name(), CATALOG_SEG.0 as u64, r))?;
    *core.catalog.write() = cat;
    Ok(())
}
