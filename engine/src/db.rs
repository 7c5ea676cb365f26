//! The front door: `Database` (open, create, recover, checkpoint, close),
//! which hands out sessions.
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
//! The roll-forward and roll-back steps, their checks and the report of
//! what they did are the `recovery` module's; this one builds the engine
//! around them (files, log, cache) and loads what sits above (the catalog).
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
//! `recover_media` is the other way in, used by `backup::recover_until`:
//! a restored copy of a backup is rolled forward through redo records the
//! caller collected (archived and online logs, up to a target SCN) instead
//! of its own ring's, then rolled back as above. Its old ring is replaced by
//! a fresh one continuing the stream after the last applied record, and the
//! database gets a new id (Oracle's OPEN RESETLOGS): it is a new incarnation,
//! whose redo and archives must never be mistaken for the original's, which
//! may well go on. The steps are `recovery`'s; the driver is here because it
//! opens and closes the restored copy as a `Database`.
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

use crate::block::{Body, FileHeader, Op};
use crate::buffer::{BufWrite, BufferCache, Mode};
use crate::catalog::{Catalog, Schema, TableDef};
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{Lsn, Scn, Xid};
use crate::kernel::{undo_header, Kernel, RecHead, CATALOG_SEG, FILE_HEADER, UNDO_HEADER};
use crate::lock::Waits;
use crate::redo::log::archiver::{read_archive_dest, write_archive_dest};
use crate::redo::{read_log, LogConfig, LogScan, RedoLog};
use crate::session::Session;
use crate::stats::{Counters, SessionStats, Stat, StatsSnapshot};
use crate::storage::{Backend, ControlFile, DataFile, DirLock, OsBackend};
use crate::txn::Snapshot;
use crate::undo;

mod create;

use create::create_if_new;

pub use crate::recovery::RecoveryReport;
// `backup` hands its collected redo to `recover_media` by this path.
pub(crate) use crate::recovery::Media;
use crate::recovery::{self, FileHeaderCheck};

pub(crate) use crate::storage::{DATA_FILE, DOUBLEWRITE_FILE};

/// An open database.
pub struct Database {
    core: Arc<Kernel>,
    /// The dictionary: catalog and optimizer statistics.
    schema: Arc<Schema>,
    /// The statement cache and the registered SQL functions.
    sql: Arc<crate::sql::Shared>,
    writer: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
    /// The directory lock: this `Database` is the directory's one owner.
    /// Declared last, so it is released only after `Drop` has shut the
    /// database down and the other fields are gone.
    _owner: DirLock,
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
            None => recovery::check_lost_slot(
                backend.as_ref(),
                &control,
                &log_cfg,
                data.checkpoint_lsn,
            )?,
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
                recovery::reset_logs(backend.as_ref(), &log_cfg)?;
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
        let core = Arc::new(Kernel {
            cfg: cfg.clone(),

            file,
            log,
            cache,
            control: Arc::new(Mutex::new((control, data))),
            system,
            bg,
            waits: Waits::default(),
            visible_scn: AtomicU64::new(last_scn.0),
            commit_lock: Mutex::new(()),
            space_lock: Arc::new(Mutex::new(())),
            ckpt_lock: Mutex::new(()),
            tx_hint: AtomicU64::new(0),
            undo_segments: std::sync::atomic::AtomicU32::new(0),
            poisoned: Arc::new(Mutex::new(None)),
            writer_running: AtomicBool::new(false),
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
        let loads = recovery::roll_forward(&core, records, media.is_some(), &mut report)?;
        if recovery::check_file_header(&core, fresh)? == FileHeaderCheck::NeedsBootstrap {
            bootstrap(&core)?;
        }
        recovery::roll_back(&core, media.map(|m| m.new_db_id), loads, &mut report)?;
        let schema = Arc::new(Schema::default());
        load_catalog(&core, &schema)?;
        core.checkpoint()?;
        crate::alert::append(
            backend.as_ref(),
            crate::clock::now_ms(),
            &report.alert_lines(),
        )?;
        let db = Database {
            core,
            schema,
            sql: crate::sql::Shared::new(),
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
        let weak: Weak<Kernel> = Arc::downgrade(&self.core);
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
        Session::new(
            Context::new(self.core.clone(), self.schema.clone()),
            self.sql.clone(),
        )
    }

    /// Registers a user-defined SQL function (claim C24): `name(args…)` in
    /// any statement of any session calls `f`, and every call counts in
    /// `user function calls`. Registering a name again replaces it.
    pub fn register_function(
        &self,
        name: &str,
        f: impl Fn(&[crate::value::Value]) -> Result<crate::value::Value> + Send + Sync + 'static,
    ) {
        self.sql.register(name, Arc::new(f));
    }

    /// Registers a function whose body is the query `sql` (claim C35, as a
    /// PL/SQL function doing `SELECT … INTO`): `name(args…)` in any
    /// statement of any session runs `sql` in the calling session with the
    /// arguments as its `?` binds, in order, and returns the first column
    /// of its one row (NULL when it finds none, `Error::TooManyRows` when
    /// it finds more). Each call is one `recursive calls` (see
    /// `sql::recursive` for every counter). `sql` must be one SELECT, else
    /// an error; a call with another number of arguments than its binds is
    /// an error when the calling statement is bound. Registering a name
    /// again replaces it.
    pub fn register_query_function(&self, name: &str, sql: &str) -> Result<()> {
        crate::sql::register_query_function(&self.sql, name, sql)
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
        self.schema
            .catalog
            .read()
            .tables
            .values()
            .cloned()
            .collect()
    }

    /// Runs `f` on the dictionary as it is now (every committed DDL and
    /// `ANALYZE`), under the catalog's read lock: the shell's `DESCRIBE`,
    /// `\dt` and `\di` read it, and `catalog::views` builds Oracle's
    /// `user_*` views from it. Keep `f` short: DDL waits for it.
    pub fn read_catalog<R>(&self, f: impl FnOnce(&Catalog) -> R) -> R {
        f(&self.schema.catalog.read())
    }

    /// Whether the lock wait of transaction `waiter` can end only when the
    /// transaction holding the lock ends (`lock::Waits::is_blocked`): a
    /// script driver's test for "this session needs another one to commit
    /// or roll back", independent of timing.
    pub fn lock_wait_blocked(&self, waiter: Xid) -> bool {
        self.core.waits.is_blocked(waiter)
    }

    /// The transaction that transaction `waiter` waits for, while it waits
    /// for a lock (`lock::Waits::holder_of`): with it a script driver
    /// tells a lock only one of its own sessions can release (waiting
    /// would never end) from one another client holds.
    pub fn lock_wait_holder(&self, waiter: Xid) -> Option<Xid> {
        self.core.waits.holder_of(waiter)
    }

    /// Segment size in blocks and HWM of a table.
    pub fn segment_info(&self, table: &str) -> Result<(u32, u32)> {
        let seg = self.schema.catalog.read().get(table)?.seg;
        let b = self.core.cache.get(seg, Mode::Current, &self.core.bg)?;
        match &b.body {
            Body::SegHeader(h) => Ok(crate::space::segment_size(h)),
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

    /// Slots in each undo segment's transaction table (a function of the
    /// block size): how many transactions of one segment can commit before
    /// the first slot is taken again.
    pub fn transaction_slots(&self) -> u16 {
        undo::tx_slots_for(self.core.cfg.block_size)
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
    recovery::mark_unrecoverable(
        backend.as_ref(),
        DATA_FILE,
        block_size,
        &report.nologging_blocks,
    )?;
    Ok(report)
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

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn writer_loop(core: Weak<Kernel>, stop: Arc<AtomicBool>) {
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

/// Formats the file header, the undo segment headers (each with its ring)
/// and the catalog segment header of a new database, in one redo record.
///
/// ```text
///  block 0  file header        block 1  undo segment 0 header
///  block 2  catalog header     blocks 3..   undo segment 1.. headers
///  then the undo rings, segment after segment; then free space
/// ```
fn bootstrap(core: &Kernel) -> Result<()> {
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

fn load_catalog(core: &Kernel, schema: &Schema) -> Result<()> {
    let snap = Snapshot {
        scn: core.visible_scn(),
        xid: Xid::NONE,
    };
    let rows = heap::scan_rows(core, &core.bg, snap, CATALOG_SEG, |_| true)?;
    let cat = Catalog::from_rows(rows)
        .map_err(|r| Error::corrupt(core.file.name(), CATALOG_SEG.0 as u64, r))?;
    schema
        .stats
        .load(&cat)
        .map_err(|r| Error::corrupt(core.file.name(), CATALOG_SEG.0 as u64, r))?;
    *schema.catalog.write() = cat;
    Ok(())
}
