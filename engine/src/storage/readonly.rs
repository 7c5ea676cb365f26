//! `ReadOnlyBackend`: a database directory opened only for reading, for the
//! offline tools (`verify`, the log miner) and anything else that must run on
//! a read-only file system, from a read-only mount of a backup, or as a user
//! without write permission.
//!
//! Every file is opened with `O_RDONLY` (`File::open`), so the kernel itself
//! refuses any write through a handle (`EBADF`, whoever the user is); the
//! backend never creates, renames or removes a file, and never creates the
//! directory (`OsBackend::new` does, which a tool pointed at a mistyped path
//! must not).
//!
//! Reads are positional (`pread`), never a memory map: a mapped page that
//! cannot be read (the file was truncated meanwhile, or a hole of a sparse
//! file on a full tmpfs cannot be given a page) kills the process with
//! SIGBUS, whereas a read that fails is an `Error` naming the file.
//!
//! Invariant: no operation of this backend changes anything on disk.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::backend::{check_name, list_files, Backend, FileHandle};
use super::owner::DirLock;
use crate::error::{Error, Result};

/// A database directory, read-only; see the module docs.
#[derive(Debug)]
pub struct ReadOnlyBackend {
    dir: PathBuf,
}

impl ReadOnlyBackend {
    /// Uses the existing directory `dir`; a missing one is an error.
    pub fn new(dir: &Path) -> Result<ReadOnlyBackend> {
        if !dir.is_dir() {
            return Err(Error::io(
                dir,
                io::Error::new(io::ErrorKind::NotFound, "no such directory"),
            ));
        }
        Ok(ReadOnlyBackend {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        let path = self.dir.join(name);
        check_name(name).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    fn refuse(&self, name: &str, what: &str) -> Error {
        Error::io(
            self.dir.join(name),
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("cannot {what}: the database is opened read-only"),
            ),
        )
    }
}

impl Backend for ReadOnlyBackend {
    fn open(&self, name: &str, create: bool) -> Result<Arc<dyn FileHandle>> {
        let path = self.path(name)?;
        if create && !path.exists() {
            return Err(self.refuse(name, "create a file"));
        }
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Arc::new(ReadOnlyFile {
            name: name.to_string(),
            path,
            file,
        }))
    }

    fn exists(&self, name: &str) -> bool {
        self.path(name).is_ok_and(|p| p.exists())
    }

    fn remove(&self, name: &str) -> Result<()> {
        Err(self.refuse(name, "remove a file"))
    }

    fn rename(&self, from: &str, _to: &str) -> Result<()> {
        Err(self.refuse(from, "rename a file"))
    }

    /// Nothing was changed, so there is nothing to make durable.
    fn sync_dir(&self) -> Result<()> {
        Ok(())
    }

    /// Owning a database means writing to it: a read-only directory
    /// cannot be owned (readers that must keep a writer out, such as the
    /// `verify` command, lock the directory through the OS backend).
    fn lock(&self) -> Result<DirLock> {
        Err(self.refuse(super::LOCK_FILE, "take the database lock"))
    }

    fn describe(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn list(&self) -> Result<Vec<String>> {
        list_files(&self.dir)
    }
}

/// A file opened `O_RDONLY`; errors carry its full path.
struct ReadOnlyFile {
    name: String,
    path: PathBuf,
    file: File,
}

impl FileHandle for ReadOnlyFile {
    fn name(&self) -> &str {
        &self.name
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| Error::io(&self.path, e))
    }
    /// Handed to the kernel, which refuses it on a read-only descriptor:
    /// the refusal then comes from the same place as it would for any other
    /// read-only file, and tests can rely on it.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| Error::io(&self.path, e))
    }
    /// Nothing was written through this handle.
    fn sync(&self) -> Result<()> {
        Ok(())
    }
    fn len(&self) -> Result<u64> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| Error::io(&self.path, e))?
            .len())
    }
    fn set_len(&self, len: u64) -> Result<()> {
        self.file.set_len(len).map_err(|e| Error::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_but_never_writes() {
        let tmp = tempfile::TempDir::new().unwrap();
        std::fs::write(tmp.path().join("f"), b"blocks").unwrap();
        let be = ReadOnlyBackend::new(tmp.path()).unwrap();
        assert_eq!(be.list().unwrap(), vec!["f".to_string()]);
        let f = be.open("f", false).unwrap();
        assert_eq!(f.len().unwrap(), 6);
        let mut b = [0u8; 3];
        f.read_at(&mut b, 3).unwrap();
        assert_eq!(&b, b"cks");
        // Past the end: an error naming the file, not a signal.
        let err = f.read_at(&mut b, 5).unwrap_err();
        assert!(err.to_string().contains("/f"), "{err}");
        assert!(f.write_at(b"x", 0).is_err());
        assert!(f.set_len(1).is_err());
        assert!(be.open("g", true).is_err());
        assert!(be.open("../f", false).is_err());
        assert!(be.remove("f").is_err());
        assert!(be.rename("f", "g").is_err());
        assert_eq!(std::fs::read(tmp.path().join("f")).unwrap(), b"blocks");
        assert_eq!(be.list().unwrap(), vec!["f".to_string()]);
    }
}
