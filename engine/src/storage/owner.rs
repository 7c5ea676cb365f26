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
//! kernel's lock does. A pid read back may be stale or missing. (The one
//! use of it: a lock that names this very process but that no `DirLock` of
//! this process holds is a descriptor a child inherited between `fork` and
//! `exec`, and is waited for, briefly; see `FORK_WINDOW`. An owner clears
//! the pid when it lets go, so a lock held under an empty file is such a
//! copy in some other process's child, and is waited for the same way: a
//! test process that closes a database and starts `blocklab` on it while
//! another of its threads is starting a child would otherwise see the
//! directory "open in another process".)
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

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

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

/// How this process holds a directory (canonical path): its exclusive
/// lock, or a number of shared ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exclusive,
    Shared(usize),
}

fn held_here() -> &'static Mutex<HashMap<PathBuf, Mode>> {
    static HELD: OnceLock<Mutex<HashMap<PathBuf, Mode>>> = OnceLock::new();
    HELD.get_or_init(Default::default)
}

/// An OS lock held on a directory's lock file; dropping it closes the
/// file (releasing this descriptor's lock) and forgets the directory.
struct Held {
    file: File,
    dir: PathBuf,
    exclusive: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.exclusive {
            // The owner is gone: a copy of this descriptor still held by a
            // child between fork and exec is not an owner (`try_lock`).
            let _ = self.file.set_len(0);
        }
        let mut held = held_here().lock();
        match held.get(&self.dir).copied() {
            Some(Mode::Shared(n)) if n > 1 => {
                held.insert(self.dir.clone(), Mode::Shared(n - 1));
            }
            _ => {
                held.remove(&self.dir);
            }
        }
    }
}

/// How long a lock that this process's own pid holds, but that no
/// `DirLock` of this process has — or that no pid holds, its owner having
/// let go — is waited for: a child a process is starting holds a copy of
/// the lock file's descriptor between `fork` and `exec` (where
/// close-on-exec drops it), so a database just closed can look locked for
/// that instant.
const FORK_WINDOW: Duration = Duration::from_secs(2);

/// Tries `lock` on `file` for `dir`, waiting out the fork window (see
/// `FORK_WINDOW`); `Error::Locked` if someone else holds it.
fn try_lock(dir: &Path, canonical: &Path, file: &File, exclusive: bool) -> Result<()> {
    let path = dir.join(LOCK_FILE);
    let start = Instant::now();
    loop {
        let conflict = match held_here().lock().get(canonical) {
            None => false,
            Some(Mode::Exclusive) => true,
            Some(Mode::Shared(_)) => exclusive,
        };
        if conflict {
            return Err(Error::Locked {
                dir: dir.display().to_string(),
                pid: Some(std::process::id()),
            });
        }
        let r = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match r {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => {
                let pid = read_pid(file);
                let copy = pid.is_none() || pid == Some(std::process::id());
                if !copy || start.elapsed() > FORK_WINDOW {
                    return Err(Error::Locked {
                        dir: dir.display().to_string(),
                        pid,
                    });
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
}

/// Registers `file`'s lock on `canonical` as held by this process.
fn hold(file: File, canonical: PathBuf, exclusive: bool) -> DirLock {
    let mut held = held_here().lock();
    let mode = match (exclusive, held.get(&canonical)) {
        (false, Some(Mode::Shared(n))) => Mode::Shared(n + 1),
        (false, _) => Mode::Shared(1),
        (true, _) => Mode::Exclusive,
    };
    held.insert(canonical.clone(), mode);
    drop(held);
    DirLock::new(Held {
        file,
        dir: canonical,
        exclusive,
    })
}

/// Takes the lock on the existing directory `dir`, or fails at once with
/// `Error::Locked` naming the directory and (if it could be read) the
/// holder's pid.
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let canonical = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    try_lock(dir, &canonical, &file, true)?;
    // Written over the old pid and then cut to length (rather than
    // truncated first), so a reader never sees an empty file in between.
    let pid = format!("{}\n", std::process::id());
    file.write_all_at(pid.as_bytes(), 0)
        .and_then(|_| file.set_len(pid.len() as u64))
        .map_err(|e| Error::io(&path, e))?;
    Ok(hold(file, canonical, true))
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
    let canonical = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    try_lock(dir, &canonical, &file, false)?;
    Ok(hold(file, canonical, false))
}

/// The pid in a lock file, if it holds one (read from its start, so it
/// can be asked again).
fn read_pid(file: &File) -> Option<u32> {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
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
    fn a_copy_of_our_own_descriptor_is_waited_for_not_reported() {
        // Between fork and exec a child holds a copy of the lock file's
        // descriptor: the lock names this process, yet no DirLock of it
        // holds the directory. Played here by a second descriptor.
        let tmp = tempfile::TempDir::new().unwrap();
        let child = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(tmp.path().join(LOCK_FILE))
            .unwrap();
        child.try_lock().unwrap();
        child
            .write_all_at(format!("{}\n", std::process::id()).as_bytes(), 0)
            .unwrap();
        let exec = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(child); // close-on-exec
        });
        lock_dir(tmp.path()).expect("waited out the fork window");
        exec.join().unwrap();
    }

    #[test]
    fn a_released_lock_still_held_by_a_copy_elsewhere_is_waited_for() {
        // A closed owner clears its pid; a copy of its descriptor in a child
        // of the owner's process (another process than this one) keeps the
        // flock until that child execs. Played by a second descriptor over
        // an empty file; a live owner with its pid is refused at once.
        let tmp = tempfile::TempDir::new().unwrap();
        drop(lock_dir(tmp.path()).unwrap());
        let text = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text, "", "the owner cleared its pid when it let go");
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(tmp.path().join(LOCK_FILE))
                .unwrap()
        };
        let copy = open();
        copy.try_lock().unwrap();
        let exec = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(copy);
        });
        lock_dir(tmp.path()).expect("waited for the copy");
        exec.join().unwrap();

        let other = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(other, "", "released again");
        let owner = open();
        owner.try_lock().unwrap();
        owner.write_all_at(b"1\n", 0).unwrap();
        let err = lock_dir(tmp.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { pid: Some(1), .. }), "{err}");
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
