//! Read-only memory mapping of a closed file, for offline tools (`verify`,
//! log mining, direct reads of a shut-down database).
//!
//! This is the one module allowed to use `unsafe`: mapping a file is unsafe
//! because the bytes of a `&[u8]` must not change while it is borrowed, and
//! only the caller can promise that no one writes the file meanwhile.
//!
//! Invariant: a `MappedFile` is only made for a file that no process writes
//! while it is open (a closed database). The engine itself never maps its
//! files; it uses positional I/O through `Backend`, so that the write-ahead
//! order stays explicit.
//!
//! Simplification: nothing enforces the "closed" part (no lock file check);
//! the tools document it.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

/// A file mapped read-only; an empty file has no mapping and empty bytes.
pub struct MappedFile {
    path: PathBuf,
    map: Option<Mmap>,
}

impl MappedFile {
    pub fn open(path: &Path) -> Result<MappedFile> {
        let err = |e| Error::io(path, e);
        let file = File::open(path).map_err(err)?;
        // Mapping zero bytes fails on some platforms, and there is nothing to see.
        let map = if file.metadata().map_err(err)?.len() == 0 {
            None
        } else {
            // SAFETY: MappedFile is used only on closed databases by offline
            // tools such as `verify`, so no writer changes or truncates the
            // file underneath the mapping while `bytes()` is borrowed.
            Some(unsafe { Mmap::map(&file) }.map_err(err)?)
        };
        Ok(MappedFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_contents_and_empty_files() {
        let tmp = tempfile::TempDir::new().unwrap();
        let (full, empty) = (tmp.path().join("full"), tmp.path().join("empty"));
        std::fs::write(&full, b"blocks").unwrap();
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(MappedFile::open(&full).unwrap().bytes(), b"blocks");
        assert_eq!(MappedFile::open(&empty).unwrap().bytes(), b"");
        assert!(MappedFile::open(&tmp.path().join("missing")).is_err());
    }
}
