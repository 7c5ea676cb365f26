//! Backups, and recovery of a backup to a chosen SCN (point-in-time media
//! recovery), the way Oracle's RMAN `RESTORE` + `RECOVER … UNTIL SCN` +
//! `OPEN RESETLOGS` do it.
//!
//! ```text
//!  backup(db, B):   open db (crash recovery), checkpoint, close  ──copy every file──▶ B
//!                   + B/backup.manifest: db id, checkpoint LSN, SCN, file sizes and CRCs
//!
//!  recover_until(B, T, N, archives, online):
//!     B ──copy (checked against the manifest)──▶ T (staged in a hidden sibling)
//!     redo from B's checkpoint LSN up to SCN N, from
//!         archives (arch_<db>_<k>.log)  >  the online ring of `online`  >  B's own ring
//!     roll forward (every change whose block is older)  ──▶  roll back what had not
//!     committed by N  ──▶  new database id, fresh online logs (RESETLOGS)  ──▶ rename to T
//! ```
//!
//! The result is a database that opens normally and holds exactly the
//! transactions committed at or before SCN `N`: a transaction whose commit
//! record has an SCN above `N` is rolled back with its own undo, as crash
//! recovery does with one that had no commit record at all.
//!
//! Why these rules:
//! - The backup is *cold* (taken with the database closed, after a
//!   checkpoint), so its data file is consistent as of one SCN and recovery
//!   may start at its checkpoint. A hot backup would need the redo of the
//!   copy's whole duration; not done here.
//! - Any hole in the redo between the backup and `N` is an error
//!   ([`Error::RedoMissing`] names the LSN range): skipping redo would leave
//!   blocks that miss changes later changes build on.
//! - The recovered database is a new incarnation with a new id: its redo
//!   continues the original's LSNs after the last record applied, and its
//!   archives must never be mixed up with the original's, which go on.
//! - Everything happens in a staging directory renamed to the target at the
//!   end, so a failed or interrupted recovery leaves no half-recovered
//!   database behind.
//!
//! NOLOGGING direct-path loads after the backup are not in the redo: their
//! blocks cannot be rebuilt. Recovery goes on, skips the later changes to
//! them, and marks them corrupt (a read fails, as Oracle's ORA-26040 does)
//! instead of letting the table look emptier than it was; the report names
//! them (`RecoveryReport::nologging_blocks`).
//!
//! Simplifications: the backup is a full, cold copy (no incremental or hot
//! backups, no block change tracking); `N` is an SCN (no recovery until a
//! time or a named restore point).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::now_ms;
use crate::config::Config;
use crate::db::{recover_media, Media, RecoveryReport};
use crate::error::{Error, Result};
use crate::ids::{Lsn, Scn};
use crate::redo::log::archiver::read_archive_dest;
use crate::redo::{LogConfig, LogSet};
use crate::storage::{lock_dir, Backend, ControlData, ControlFile, OsBackend, LOCK_FILE};

/// The manifest's file name in a backup directory; written last, so a
/// directory without it is not a (complete) backup.
pub const MANIFEST: &str = "backup.manifest";

const MANIFEST_MAGIC: &str = "blocklab backup 1";

/// The file a recovered database keeps to say where its own redo begins:
/// the redo before it belongs to the database it was recovered from.
pub const INCARNATION_FILE: &str = "incarnation";

/// Where a database made by [`recover_until`] comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incarnation {
    /// Its redo stream starts here (the end of the last record applied).
    pub resetlogs_lsn: Lsn,
    /// The SCN it was recovered to (the last record applied).
    pub resetlogs_scn: Scn,
    /// The database it was recovered from, whose redo holds what came before.
    pub parent_db_id: u64,
}

/// The incarnation record of the database in `dir`, if it was made by
/// [`recover_until`].
pub fn read_incarnation(dir: &Path) -> Result<Option<Incarnation>> {
    let path = dir.join(INCARNATION_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut inc = Incarnation {
        resetlogs_lsn: Lsn(0),
        resetlogs_scn: Scn(0),
        parent_db_id: 0,
    };
    for line in text.lines() {
        let bad = || {
            Error::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, line.to_string()),
            )
        };
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["resetlogs_lsn", v] => inc.resetlogs_lsn = Lsn(v.parse().map_err(|_| bad())?),
            ["resetlogs_scn", v] => inc.resetlogs_scn = Scn(v.parse().map_err(|_| bad())?),
            ["parent_db_id", v] => {
                inc.parent_db_id = u64::from_str_radix(v, 16).map_err(|_| bad())?
            }
            [] => {}
            _ => return Err(bad()),
        }
    }
    Ok(Some(inc))
}

fn write_incarnation(dir: &Path, inc: &Incarnation) -> Result<()> {
    let path = dir.join(INCARNATION_FILE);
    let text = format!(
        "resetlogs_lsn {}\nresetlogs_scn {}\nparent_db_id {:016x}\n",
        inc.resetlogs_lsn.0, inc.resetlogs_scn.0, inc.parent_db_id
    );
    let mut file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(&path, e))
}

/// One file of a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFile {
    pub name: String,
    pub size: u64,
    pub crc32: u32,
}

/// What a backup holds (its manifest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub dir: PathBuf,
    pub db_id: u64,
    /// Where recovery from this backup starts reading redo.
    pub checkpoint_lsn: Lsn,
    /// The last SCN whose change the backup's data file holds: a backup can
    /// be recovered to this SCN or any later one.
    pub scn: Scn,
    /// Wall-clock time of the backup (ms since the Unix epoch).
    pub time_ms: u64,
    pub files: Vec<BackupFile>,
}

/// What [`recover_until`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoverReport {
    /// The SCN of the backup that was restored.
    pub backup_scn: Scn,
    /// The SCN asked for.
    pub until: Scn,
    /// The SCN of the last redo record applied (at most `until`; the
    /// backup's own SCN when no redo was needed).
    pub last_applied_scn: Scn,
    /// The redo applied: from the backup's checkpoint to here.
    pub from_lsn: Lsn,
    pub to_lsn: Lsn,
    /// Log segments the applied redo came from: archived copies, and files
    /// of an online ring (the live database's or the backup's own).
    pub segments_archived: usize,
    pub segments_online: usize,
    /// Roll forward and roll back, as for crash recovery.
    pub recovery: RecoveryReport,
    /// The recovered database's new id (its redo and archives carry it).
    pub new_db_id: u64,
    /// Things recovery could not do (NOLOGGING loads in the applied redo).
    pub warnings: Vec<String>,
}

/// Takes a cold backup of the database in `db_dir` into `to` (a new or
/// empty directory): opens the database (recovering it if it crashed),
/// closes it with a checkpoint, copies every file of the directory, and
/// writes the manifest. The database must not be open elsewhere: if it is,
/// this fails with `Error::Locked`, and while the files are copied it holds
/// the database's lock itself.
pub fn backup(db_dir: &Path, to: &Path) -> Result<BackupInfo> {
    require_database(db_dir)?;
    require_empty(to)?;
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    // Opening fails with `Error::Locked` while another process owns the
    // database: its files are changing and cannot be copied.
    crate::db::Database::open(db_dir, cfg)?.close()?;
    // Owned again for the copy, so that no writer starts in the middle of it.
    let _owner = lock_dir(db_dir)?;
    let control = read_control(db_dir)?;
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let mut files = Vec::new();
    for name in list_files(db_dir)? {
        let (size, crc32) = copy_file(&db_dir.join(&name), &to.join(&name))?;
        files.push(BackupFile { name, size, crc32 });
    }
    let info = BackupInfo {
        dir: to.to_path_buf(),
        db_id: control.db_id,
        checkpoint_lsn: Lsn(control.checkpoint_lsn),
        scn: Scn(control.next_scn_floor),
        time_ms: now_ms(),
        files,
    };
    write_manifest(&info)?;
    Ok(info)
}

/// Reads the manifest of the backup in `dir`.
pub fn read_manifest(dir: &Path) -> Result<BackupInfo> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let bad = |why: &str| {
        Error::io(
            &path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()),
        )
    };
    let mut lines = text.lines();
    if lines.next() != Some(MANIFEST_MAGIC) {
        return Err(bad("not a blocklab backup manifest"));
    }
    let mut info = BackupInfo {
        dir: dir.to_path_buf(),
        db_id: 0,
        checkpoint_lsn: Lsn(0),
        scn: Scn(0),
        time_ms: 0,
        files: Vec::new(),
    };
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |s: &str| s.parse::<u64>().map_err(|_| bad(line));
        match f.as_slice() {
            ["db_id", v] => info.db_id = u64::from_str_radix(v, 16).map_err(|_| bad(line))?,
            ["checkpoint_lsn", v] => info.checkpoint_lsn = Lsn(num(v)?),
            ["scn", v] => info.scn = Scn(num(v)?),
            ["time_ms", v] => info.time_ms = num(v)?,
            ["file", name, size, crc] => info.files.push(BackupFile {
                name: name.to_string(),
                size: num(size)?,
                crc32: u32::from_str_radix(crc, 16).map_err(|_| bad(line))?,
            }),
            [] => {}
            _ => return Err(bad(line)),
        }
    }
    if info.files.is_empty() {
        return Err(bad("the manifest lists no files"));
    }
    Ok(info)
}

fn write_manifest(info: &BackupInfo) -> Result<()> {
    let mut text = format!(
        "{MANIFEST_MAGIC}\ndb_id {:016x}\ncheckpoint_lsn {}\nscn {}\ntime_ms {}\n",
        info.db_id, info.checkpoint_lsn.0, info.scn.0, info.time_ms
    );
    for f in &info.files {
        text.push_str(&format!("file {} {} {:08x}\n", f.name, f.size, f.crc32));
    }
    let path = info.dir.join(MANIFEST);
    let mut file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(&path, e))?;
    sync_dir(&info.dir)
}

/// Restores the backup in `backup_dir` into `to` (a new or empty directory)
/// and recovers it to SCN `until`: see the module docs. `archive` lists the
/// archive directories to read (empty: the destination remembered by the
/// `online` database, else by the backup); `online` is the live database
/// whose online logs hold the newest redo.
pub fn recover_until(
    backup_dir: &Path,
    to: &Path,
    until: Scn,
    archive: &[PathBuf],
    online: Option<&Path>,
) -> Result<RecoverReport> {
    let info = read_manifest(backup_dir)?;
    if until < info.scn {
        return Err(Error::Config(format!(
            "cannot recover to SCN {}: the backup in {} already holds changes up to SCN {} \
             (recover an older backup)",
            until.0,
            backup_dir.display(),
            info.scn.0
        )));
    }
    require_empty(to)?;
    let staging = staging_dir(to)?;
    let result = restore_and_recover(&info, &staging, until, archive, online);
    match result {
        Ok(report) => {
            if to.exists() {
                std::fs::remove_dir(to).map_err(|e| Error::io(to, e))?;
            }
            std::fs::rename(&staging, to).map_err(|e| Error::io(&staging, e))?;
            sync_dir(
                to.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            )?;
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn restore_and_recover(
    info: &BackupInfo,
    staging: &Path,
    until: Scn,
    archive: &[PathBuf],
    online: Option<&Path>,
) -> Result<RecoverReport> {
    std::fs::create_dir_all(staging).map_err(|e| Error::io(staging, e))?;
    for f in &info.files {
        let (size, crc) = copy_file(&info.dir.join(&f.name), &staging.join(&f.name))?;
        if (size, crc) != (f.size, f.crc32) {
            return Err(Error::io(
                info.dir.join(&f.name),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "backup file is {size} bytes with CRC {crc:08x}, the manifest says \
                         {} bytes with CRC {:08x}",
                        f.size, f.crc32
                    ),
                ),
            ));
        }
    }
    let backend: Arc<dyn Backend> = Arc::new(OsBackend::new(staging)?);
    let (_, control) = ControlFile::open(backend.as_ref())?;
    let log_cfg = LogConfig {
        file_size: control.log_file_size,
        files: control.log_files,
    };

    // Every place the redo may be, the most trustworthy added last.
    let mut set = LogSet::new(log_cfg, info.db_id);
    set.add_ring(backend.as_ref())?;
    if let Some(dir) = online {
        require_database(dir)?;
        let live = OsBackend::new(dir)?;
        let (_, data) = ControlFile::open(&live)?;
        if data.db_id != info.db_id {
            return Err(Error::Config(format!(
                "{} is database {:016x}, the backup is of database {:016x}",
                dir.display(),
                data.db_id,
                info.db_id
            )));
        }
        set.add_ring(&live)?;
    }
    let dirs = archive_dirs(archive, online, &info.dir)?;
    for dir in &dirs {
        if dir.is_dir() {
            set.add_archive(Arc::new(OsBackend::new(dir)?))?;
        }
    }
    let from = info.checkpoint_lsn;
    let h = set.read(from, Some(until))?;
    let where_ = || {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        format!(
            "archives searched: {}; online logs: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            online.map_or("none given".to_string(), |d| d.display().to_string())
        )
    };
    if let Some(g) = h.gaps.first() {
        return Err(Error::RedoMissing {
            from: g.from.0,
            to: Some(g.to.0),
            reason: format!(
                "recovering from the backup's checkpoint (LSN {}) to SCN {} needs it ({})",
                from.0,
                until.0,
                where_()
            ),
        });
    }
    let last_scn = h.records.last().map_or(info.scn, |r| r.scn);
    if h.beyond.is_none() && last_scn < until {
        return Err(Error::RedoMissing {
            from: h.end.0,
            to: None,
            reason: format!(
                "the redo found ends at SCN {}, before SCN {} ({})",
                last_scn.0,
                until.0,
                where_()
            ),
        });
    }
    let resume = h.records.last().map_or(from, |r| r.end);
    let cap = log_cfg.segment_capacity();
    let (mut archived, mut ringed) = (0, 0);
    if resume > from {
        for k in from.0 / cap..=(resume.0 - 1) / cap {
            if set.is_archived(k) {
                archived += 1;
            } else {
                ringed += 1;
            }
        }
    }
    let mut warnings: Vec<String> = set.notes().to_vec();
    drop(set);
    let mut new_db_id = (info.db_id ^ now_ms().rotate_left(23) ^ 0x9e37_79b9_7f4a_7c15) | 1;
    if new_db_id == info.db_id {
        new_db_id = new_db_id.wrapping_add(2);
    }
    let media = Media {
        records: &h.records,
        resume,
        last_scn: last_scn.max(info.scn),
        new_db_id,
    };
    let recovery = recover_media(backend, Config::default(), &media)?;
    if !recovery.nologging_blocks.is_empty() {
        let blocks: Vec<String> = recovery
            .nologging_blocks
            .iter()
            .map(u32::to_string)
            .collect();
        warnings.push(format!(
            "blocks {} were loaded NOLOGGING after the backup: their rows are not in the redo \
             ({} later changes to them lost too); they are marked corrupt, so reading their \
             table fails until it is reloaded (back up again after NOLOGGING loads)",
            blocks.join(", "),
            recovery.changes_lost
        ));
    }
    write_incarnation(
        staging,
        &Incarnation {
            resetlogs_lsn: resume,
            resetlogs_scn: last_scn.max(info.scn),
            parent_db_id: info.db_id,
        },
    )?;
    sync_dir(staging)?;
    Ok(RecoverReport {
        backup_scn: info.scn,
        until,
        last_applied_scn: last_scn,
        from_lsn: from,
        to_lsn: resume,
        segments_archived: archived,
        segments_online: ringed,
        recovery,
        new_db_id,
        warnings,
    })
}

/// The archive directories to search: the ones given, else the ones the
/// live database and the backup remember.
fn archive_dirs(given: &[PathBuf], online: Option<&Path>, backup: &Path) -> Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let mut dirs = Vec::new();
    for dir in online.into_iter().chain([backup]) {
        if let Some(d) = read_archive_dest(&OsBackend::new(dir)?)? {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    Ok(dirs)
}

fn read_control(dir: &Path) -> Result<ControlData> {
    Ok(ControlFile::open(&OsBackend::new(dir)?)?.1)
}

/// Refuses a directory that holds no database (without creating it).
fn require_database(dir: &Path) -> Result<()> {
    if dir.join(ControlFile::NAME).is_file() {
        Ok(())
    } else {
        Err(Error::NoSuchObject {
            kind: "database",
            name: format!("{} (no control file)", dir.display()),
        })
    }
}

/// Refuses to write into a directory that holds anything.
fn require_empty(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_some() {
        return Err(Error::AlreadyExists {
            kind: "non-empty directory",
            name: dir.display().to_string(),
        });
    }
    Ok(())
}

/// A fresh hidden directory next to `to`, so the final rename stays on one
/// file system.
fn staging_dir(to: &Path) -> Result<PathBuf> {
    let name = to
        .file_name()
        .ok_or_else(|| Error::Config(format!("{} names no directory", to.display())))?;
    let staging = to.with_file_name(format!(
        ".{}.recovering-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    Ok(staging)
}

/// The regular files of a database directory, sorted, without its lock file.
fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // The lock file says who owns this directory, not what it holds.
        if entry.file_type().map_err(|e| Error::io(dir, e))?.is_file() && name != LOCK_FILE {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Copies `from` to `to`, synced; returns the size and CRC32 of the bytes.
fn copy_file(from: &Path, to: &Path) -> Result<(u64, u32)> {
    let mut src = std::fs::File::open(from).map_err(|e| Error::io(from, e))?;
    let mut dst = std::fs::File::create(to).map_err(|e| Error::io(to, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut crc = crc32fast::Hasher::new();
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf).map_err(|e| Error::io(from, e))?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(|e| Error::io(to, e))?;
        size += n as u64;
    }
    dst.sync_all().map_err(|e| Error::io(to, e))?;
    Ok((size, crc.finalize()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}
