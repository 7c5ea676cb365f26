//! Creating a database, and deciding whether an open creates one.
//!
//! Creating is explicit: only a directory without database files, or one
//! holding the leftovers of a creation cut short, becomes a new database.
//! Data files or redo logs without a control file are a database that lost
//! its control file, an error (`Error::IncompleteDatabase`): recreating it
//! would destroy what is left of it.
//!
//! What tells the two apart is a marker file, `creating`:
//!
//! ```text
//!   create "creating", sync dir ─▶ remove leftovers, sync dir ─▶ redo logs,
//!   data file ─▶ control file (synced, dir synced) ─▶ remove "creating", sync dir
//! ```
//!
//! Invariant: whenever the directory holds database files but no valid
//! control file after a crash during creation, the marker is durable, so
//! the next open starts the creation over.
//! Invariant: the marker is never durable while a complete database's
//! control file is missing, so losing a control file is never mistaken for
//! a creation cut short.
//!
//! The bootstrap (file header, undo and catalog segments) is not done here:
//! it is redo, and `check_file_header` redoes it if a crash lost it.

use crate::clock::now_ms;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::redo::{create_log_files, LogConfig};
use crate::storage::{Backend, ControlData, ControlFile, DataFile};

use super::{DATA_FILE, DOUBLEWRITE_FILE};

/// The marker of a creation in progress: its directory entry is durable
/// before any other file of a new database exists, and it is removed once
/// the control file is. So a directory with data files and no valid control
/// file is a cut creation (to start over) exactly when the marker is there,
/// and otherwise a database that lost its control file (an error).
const CREATING: &str = "creating";

/// The files that make a directory a database, whatever state it is in.
fn is_database_file(name: &str) -> bool {
    name == DATA_FILE
        || name == DOUBLEWRITE_FILE
        || (name.starts_with("redo") && name.ends_with(".log"))
}

/// Creates the database if this directory is new (empty of database files)
/// or holds a creation cut short; returns whether it did.
///
/// ```text
///   control file  marker   database files   →
///   present       no       any                open it (unreadable: Error::CorruptControl)
///   valid         yes      any                open it; drop the marker (creation had finished)
///   missing/torn  yes      any                leftovers of a cut creation: create again
///   missing       no       none               new directory: create
///   missing       no       some               Error::IncompleteDatabase, nothing touched
/// ```
pub(super) fn create_if_new(backend: &dyn Backend, cfg: &Config) -> Result<bool> {
    let marker = backend.exists(CREATING);
    if backend.exists(ControlFile::NAME) {
        if !marker {
            return Ok(false);
        }
        // The control file is created synced, so a valid one means the
        // creation got past it and only the marker's removal was lost.
        if ControlFile::open(backend).is_ok() {
            backend.remove(CREATING)?;
            backend.sync_dir()?;
            return Ok(false);
        }
    } else if !marker {
        let present: Vec<String> = backend
            .list()?
            .into_iter()
            .filter(|n| is_database_file(n))
            .collect();
        if !present.is_empty() {
            return Err(Error::IncompleteDatabase {
                dir: backend.describe("").trim_end_matches('/').to_string(),
                present,
            });
        }
    }
    create_files(backend, cfg)?;
    Ok(true)
}

/// Creates a new database's files: the marker first, then the redo logs and
/// the data file, the control file last (its existence means "created"),
/// then the marker goes.
fn create_files(backend: &dyn Backend, cfg: &Config) -> Result<()> {
    let log_cfg = LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    };
    // Durable before anything else is created or removed: from now until
    // the control file is durable, a crash leaves a directory that the next
    // open knows it may clear.
    backend.open(CREATING, true)?;
    backend.sync_dir()?;
    // Leftovers of an earlier creation cut short, started over.
    for name in backend.list()? {
        if is_database_file(&name) || name == ControlFile::NAME {
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
    // ControlFile::create synced the control file and its directory entry.
    backend.remove(CREATING)?;
    backend.sync_dir()
}
