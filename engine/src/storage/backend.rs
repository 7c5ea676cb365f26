//! The I/O seam: every byte the engine reads or writes goes through these two
//! traits, so that tests can swap the real file system for [`SimBackend`],
//! which can crash, fail the n-th operation, or flip bits on demand.
//!
//! A backend is a *directory*: files are named by plain file names
//! (`"data"`, `"control"`, `"redo01"`), never by paths. A [`FileHandle`] does
//! positional I/O only (`read_at` / `write_at` with an explicit offset), so
//! the order in which bytes reach a file is exactly the order of the calls,
//! with no hidden file cursor shared between threads.
//!
//! Durability is explicit and comes in two kinds, as on a POSIX file system:
//!
//! ```text
//!   write_at ──► file contents ──sync()──────► durable contents
//!   open(create) / rename / remove ──sync_dir()──► durable directory entry
//! ```
//!
//! Invariant: after `FileHandle::sync` returns Ok, every earlier `write_at`
//! and `set_len` on that file survives a crash.
//! Invariant: after `Backend::sync_dir` returns Ok, every earlier creation,
//! rename and removal in the directory survives a crash.
//!
//! A backend also answers for who owns the directory: [`Backend::lock`]
//! makes the caller its only writer until the returned guard is dropped
//! (the `lock` module explains why, and how the OS backend does it).
//!
//! Simplification: a failed sync is reported and nothing more; what a real
//! kernel does with the dirty pages afterwards is the caller's problem, which
//! is why the engine refuses further writes after one (`Error::Poisoned`).
//!
//! [`SimBackend`]: super::SimBackend

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::owner::{lock_dir, DirLock};
use crate::error::{Error, Result};

/// A directory of files; see the module docs.
pub trait Backend: Send + Sync + 'static {
    /// Opens `name` (a plain file name inside the database directory). With
    /// `create`, creates it if missing.
    fn open(&self, name: &str, create: bool) -> Result<Arc<dyn FileHandle>>;
    fn exists(&self, name: &str) -> bool;
    fn remove(&self, name: &str) -> Result<()>;
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Makes file creations/renames/removals in the directory durable (fsync
    /// of the directory).
    fn sync_dir(&self) -> Result<()>;
    /// Human-readable location for messages (the full path for the OS backend).
    fn describe(&self, name: &str) -> String;
    /// The file names in the directory, sorted.
    fn list(&self) -> Result<Vec<String>>;
    /// Makes the caller the directory's one owner until the guard is
    /// dropped, or fails at once with `Error::Locked` if someone else (in
    /// this process or another) owns it.
    fn lock(&self) -> Result<DirLock>;
}

/// One open file, shared by every thread that uses it (all methods take `&self`).
pub trait FileHandle: Send + Sync {
    fn name(&self) -> &str;
    /// Reads exactly `buf.len()` bytes at `offset`; reading past the end is an
    /// error (`UnexpectedEof` wrapped in `Error::Io`).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;
    /// Writes all of `buf` at `offset`, growing the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()>;
    /// Durably syncs data (fdatasync semantics).
    fn sync(&self) -> Result<()>;
    fn len(&self) -> Result<u64>;
    fn set_len(&self, len: u64) -> Result<()>;
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Rejects anything but a plain file name, so that no caller can escape the
/// database directory with `..` or a `/`.
pub(crate) fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(())
}

/// The real file system: one directory on disk.
#[derive(Debug)]
pub struct OsBackend {
    dir: PathBuf,
}

impl OsBackend {
    /// Uses `dir` as the database directory, creating it if missing. A new
    /// directory is itself an entry in its parent, so the parent is synced too.
    pub fn new(dir: &Path) -> Result<OsBackend> {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let parent = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            sync_directory(parent)?;
        }
        Ok(OsBackend {
            dir: dir.to_path_buf(),
        })
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        check_name(name).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }
}

/// The names of the plain files in `dir`, sorted (`Backend::list` of the
/// backends on real directories).
pub(crate) fn list_files(dir: &Path) -> Result<Vec<String>> {
    let io_err = |e| Error::io(dir, e);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if entry.file_type().map_err(io_err)?.is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn sync_directory(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

impl Backend for OsBackend {
    fn open(&self, name: &str, create: bool) -> Result<Arc<dyn FileHandle>> {
        let path = self.path(name)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(Arc::new(OsFile {
            name: name.to_string(),
            path,
            file,
        }))
    }

    fn exists(&self, name: &str) -> bool {
        self.path(name).is_ok_and(|p| p.exists())
    }

    fn remove(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|e| Error::io(path, e))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.path(from)?, self.path(to)?);
        std::fs::rename(&from, &to).map_err(|e| Error::io(from, e))
    }

    fn sync_dir(&self) -> Result<()> {
        sync_directory(&self.dir)
    }

    fn describe(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn list(&self) -> Result<Vec<String>> {
        list_files(&self.dir)
    }

    fn lock(&self) -> Result<DirLock> {
        lock_dir(&self.dir)
    }
}

/// An open OS file; errors carry its full path.
struct OsFile {
    name: String,
    path: PathBuf,
    file: File,
}

impl OsFile {
    fn err(&self, e: io::Error) -> Error {
        Error::io(&self.path, e)
    }
}

impl FileHandle for OsFile {
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| self.err(e))
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.file.write_all_at(buf, offset).map_err(|e| self.err(e))
    }
    fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| self.err(e))
    }
    fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| self.err(e))?.len())
    }
    fn set_len(&self, len: u64) -> Result<()> {
        self.file.set_len(len).map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_backend_round_trips_and_lists_files() {
        let tmp = tempfile::TempDir::new().unwrap();
        let b = OsBackend::new(&tmp.path().join("db")).unwrap();
        let f = b.open("a", true).unwrap();
        f.write_at(b"hello", 3).unwrap();
        f.sync().unwrap();
        assert_eq!(f.len().unwrap(), 8); // 3 zero bytes of hole + "hello"
        let mut buf = [0u8; 5];
        f.read_at(&mut buf, 3).unwrap();
        assert_eq!(&buf, b"hello");
        b.rename("a", "b").unwrap();
        b.sync_dir().unwrap();
        assert_eq!(b.list().unwrap(), vec!["b".to_string()]);
    }

    #[test]
    fn os_backend_errors_name_the_path() {
        let tmp = tempfile::TempDir::new().unwrap();
        let b = OsBackend::new(tmp.path()).unwrap();
        let f = b.open("a", true).unwrap();
        let err = f.read_at(&mut [0u8; 1], 0).unwrap_err();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == io::ErrorKind::UnexpectedEof)
        );
        assert!(err.to_string().contains(&b.describe("a")), "{err}");
        assert!(b.open("missing", false).is_err());
        assert!(b.open("../escape", true).is_err());
    }
}
