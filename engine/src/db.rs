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
//! A new directory is created and bootstrapped: block 0 file header, block 1
//! undo segment header (+ the undo ring), block 2 catalog segment header.
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
use crate::core::{now_ms, undo_header, Core, RecHead, CATALOG_SEG, FILE_HEADER, UNDO_HEADER};
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{Lsn, Scn, Uba, Xid};
use crate::redo::record::decode_payload;
use crate::redo::{create_log_files, read_log, LogConfig, RedoLog};
use crate::session::Session;
use crate::stats::{Counters, SessionStats, Stat, StatsSnapshot};
use crate::storage::{Backend, ControlData, ControlFile, DataFile, OsBackend};
use crate::txn::{Snapshot, TxnCtx, Waits};
use crate::undo;

const DATA_FILE: &str = "data01.dbf";

/// An open database.
pub struct Database {
    core: Arc<Core>,
    writer: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

/// What recovery did when the database was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub records_read: usize,
    pub changes_applied: usize,
    pub changes_skipped: usize,
    pub transactions_rolled_back: usize,
}

impl Database {
    /// Opens (recovering if needed) or creates the database in `dir`.
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
        mut cfg: Config,
    ) -> Result<(Database, RecoveryReport)> {
        cfg.validate()?;
        let fresh = !backend.exists(ControlFile::NAME);
        if fresh {
            create_files(backend.as_ref(), &cfg)?;
        }
        let (control, mut data) = ControlFile::open(backend.as_ref())?;
        // Open means "not cleanly shut down" until close says otherwise; the
        // first checkpoint below records it.
        data.clean_shutdown = false;
        // The files fix these; the configuration cannot change them.
        cfg.block_size = data.block_size as usize;
        cfg.log_file_size = data.log_file_size;
        cfg.log_files = data.log_files;
        let log_cfg = LogConfig {
            file_size: data.log_file_size,
            files: data.log_files,
        };
        let file = Arc::new(DataFile::open(backend.as_ref(), DATA_FILE, cfg.block_size)?);
        let scan = read_log(backend.as_ref(), &log_cfg, Lsn(data.checkpoint_lsn))?;
        let last_scn = scan.max_scn.max(Scn(data.next_scn_floor));
        let log = RedoLog::start(
            backend.clone(),
            log_cfg,
            scan.end,
            Lsn(data.checkpoint_lsn),
            last_scn,
        )?;
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
            table_locks: Default::default(),
            unique_locks: Default::default(),
        });
        let mut report = RecoveryReport {
            records_read: scan.records.len(),
            ..Default::default()
        };
        roll_forward(&core, &scan.records, &mut report)?;
        check_file_header(&core, fresh)?;
        core.visible_scn
            .store(core.log.current_scn().0, Ordering::Release);
        report.transactions_rolled_back = roll_back_active(&core)?;
        load_catalog(&core)?;
        core.checkpoint()?;
        let db = Database {
            core,
            writer: Mutex::new(None),
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

fn create_files(backend: &dyn Backend, cfg: &Config) -> Result<()> {
    let log_cfg = LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    };
    // No control file means the database was never created: anything else
    // here is a leftover of a creation cut short, and is started over.
    for name in backend.list()? {
        if name == DATA_FILE || (name.starts_with("redo") && name.ends_with(".log")) {
            backend.remove(&name)?;
        }
    }
    backend.sync_dir()?;
    create_log_files(backend, &log_cfg)?;
    let file = DataFile::create(backend, DATA_FILE, cfg.block_size)?;
    file.extend_to(2 + cfg.undo_segments as u32 + cfg.undo_blocks)?;
    // The control file is created last: its existence means "created".
    ControlFile::create(
        backend,
        &ControlData {
            db_id: now_ms() ^ 0x5eed_b10c,
            block_size: cfg.block_size as u32,
            log_file_size: cfg.log_file_size,
            log_files: cfg.log_files,
            created_ms: now_ms(),
            checkpoint_lsn: 0,
            checkpoint_scn: 0,
            next_scn_floor: 0,
            clean_shutdown: false,
        },
    )?;
    backend.sync_dir()
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
fn roll_forward(
    core: &Core,
    records: &[crate::redo::LogRecord],
    report: &mut RecoveryReport,
) -> Result<()> {
    for rec in records {
        let p = decode_payload(&rec.payload).map_err(|r| Error::CorruptLog {
            lsn: rec.lsn.0,
            reason: format!("undecodable redo payload: {r}"),
        })?;
        for (no, op) in &p.changes {
            if no.0 >= core.file.block_count() {
                core.file.extend_to(no.0 + 1)?;
            }
            let mut b = core.cache.get_mut(*no, &core.bg)?;
            if b.scn < rec.scn {
                b.block_mut()
                    .apply(op, rec.scn)
                    .map_err(|r| Error::CorruptLog {
                        lsn: rec.lsn.0,
                        reason: format!("cannot apply to block {}: {r}", no.0),
                    })?;
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
/// commit record; undo takes its changes back.
fn roll_back_active(core: &Core) -> Result<usize> {
    let mut n = 0;
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
            let mut txn = TxnCtx {
                xid: Xid::new(seg, i as u16, s.wrap),
                slot: i as u16,
                start_scn: s.scn,
                last_uba: s.last_uba,
                undo_block: None,
                blocks: Default::default(),
                read_scn: s.scn,
                serializable: false,
                direct_writes: false,
            };
            undo::rollback_to(core, &core.bg, &mut txn, Uba::NONE)?;
            undo::end_rollback(core, &core.bg, &txn)?;
            n += 1;
        }
    }
    Ok(n)
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
