//! One owner per database directory: the directory lock.
//!
//! Two processes writing the same data file and redo ring each believe they
//! own every block, every SCN and every log position; whatever one writes,
//! the other overwrites, and commits one of them reported durable simply
//! vanish. So the first process to open a database takes an exclusive lock
//! on it, and every later open fails at once with [`Error::Locked`] until
//! that process closes the database or dies.
//!
//! ```text
//!   <dir>/lock      "4711\n"     the holder's pid (information only)
//!       ▲
//!       └── flock(LOCK_EX | LOCK_NB) on an open file description, held
//!           for as long as the `DirLock` lives
//! ```
//!
//! The lock is the operating system's advisory lock on the lock file
//! (`File::try_lock`, `flock(2)` on Linux), not the file's existence: the
//! kernel releases it when the holder's file is closed, which includes the
//! process being killed with SIGKILL, so a crash never leaves a stale lock
//! that someone would have to remove by hand. `flock` does not say who
//! holds a lock, so the holder writes its pid into the file; a refused
//! open reads it back to name the holder in its message.
//!
//! Invariant: while a `DirLock` for a directory lives, every other attempt to
//! lock it fails, from another process or from this one (`flock` locks
//! belong to the open file description, and each attempt opens the file
//! anew).
//! Invariant: the lock file's contents never decide anything; only the
//! kernel's lock does. A pid read back may be stale or missing.
//!
//! Who locks: `Database::open` (every writer, through [`Backend::lock`]);
//! `backup::backup`, which opens the database; `blocklab verify`, which
//! needs the files to hold still, with a *shared* lock ([`lock_dir_shared`]:
//! readers do not exclude each other, and it writes nothing, so verify runs
//! on a read-only file system; the library's `verify_dir` itself does not
//! lock); not the log miner, which only reads redo and is meant to follow a
//! live database.
//!
//! Simplification: `flock` is advisory and per host; a database directory on
//! a network file system shared by two hosts is not protected.
//!
//! [`Backend::lock`]: super::Backend::lock

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Error, Result};

/// The lock file's name inside a database directory.
pub const LOCK_FILE: &str = "lock";

/// Ownership of a database directory; dropping it gives the directory up.
pub struct DirLock {
    /// Whatever keeps the lock held (an open, locked file for the OS
    /// backend): released when dropped.
    _held: Box<dyn Send + Sync>,
}

impl DirLock {
    /// A lock that `held` keeps until it is dropped (backends build these).
    pub fn new(held: impl Send + Sync + 'static) -> DirLock {
        DirLock {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for DirLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirLock")
    }
}

/// Takes the lock on the existing directory `dir`, or fails at once with
/// `Error::Locked` naming the directory and (if it could be read) the
/// holder's pid.
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(Error::Locked {
                dir: dir.display().to_string(),
                pid: read_pid(&file),
            })
        }
        Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    // Written over the old pid and then cut to length (rather than
    // truncated first), so a reader never sees an empty file in between.
    let pid = format!("{}\n", std::process::id());
    file.write_all_at(pid.as_bytes(), 0)
        .and_then(|_| file.set_len(pid.len() as u64))
        .map_err(|e| Error::io(&path, e))?;
    Ok(DirLock::new(file))
}

/// Takes a *shared* lock on `dir`, for a reader that needs the files to
/// hold still (`blocklab verify`): it fails with `Error::Locked` while a
/// writer owns the directory, and keeps writers out while it lives, but
/// readers do not exclude each other. Nothing is written: the lock file is
/// opened read-only, so this works on a read-only file system too, where
/// a missing lock file means no writer can be there at all.
pub fn lock_dir_shared(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A writer creates the file before it locks it: create it
            // ourselves, unless nothing can be created here.
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
            {
                Ok(file) => file,
                Err(e) if e.raw_os_error() == Some(30) => return Ok(DirLock::new(())), // EROFS
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(DirLock::new(file)),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            dir: dir.display().to_string(),
            pid: read_pid(&file),
        }),
        Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// The pid in a lock file, if it holds one.
fn read_pid(mut file: &File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_the_same_process_is_refused_until_the_first_is_dropped() {
        let tmp = tempfile::TempDir::new().unwrap();
        let first = lock_dir(tmp.path()).unwrap();
        let err = lock_dir(tmp.path()).unwrap_err();
        match &err {
            Error::Locked { dir, pid } => {
                assert_eq!(dir, &tmp.path().display().to_string());
                assert_eq!(*pid, Some(std::process::id()), "the holder wrote its pid");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        lock_dir(tmp.path()).unwrap();
    }

    #[test]
    fn shared_locks_exclude_the_owner_but_not_each_other() {
        let tmp = tempfile::TempDir::new().unwrap();
        let r1 = lock_dir_shared(tmp.path()).unwrap();
        let r2 = lock_dir_shared(tmp.path()).unwrap();
        assert!(matches!(lock_dir(tmp.path()), Err(Error::Locked { .. })));
        drop((r1, r2));
        let owner = lock_dir(tmp.path()).unwrap();
        let err = lock_dir_shared(tmp.path()).unwrap_err();
        assert!(
            matches!(err, Error::Locked { pid: Some(p), .. } if p == std::process::id()),
            "{err}"
        );
        drop(owner);
    }

    #[test]
    fn a_stale_pid_in_the_file_does_not_lock_anything() {
        let tmp = tempfile::TempDir::new().unwrap();
        std::fs::write(tmp.path().join(LOCK_FILE), "99999999\n").unwrap();
        let _held = lock_dir(tmp.path()).unwrap();
        let text = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
    }
}
