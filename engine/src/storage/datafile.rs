//! A data file: an array of fixed-size blocks, each protecting itself with a
//! CRC32.
//!
//! ```text
//!   file:   | block 0 | block 1 | block 2 | ...        block n at n * block_size
//!   block:  +-----------+--------------------------------------------+
//!           | crc32 (4) | body: block_size - 4 bytes, owned by engine |
//!           +-----------+--------------------------------------------+
//!   crc32 = CRC-32 (IEEE, crc32fast) of body, little-endian
//! ```
//!
//! This module knows nothing about what a body contains: block headers, rows
//! and undo records all belong to the layers above.
//!
//! Invariant: the file length is a whole number of blocks.
//! Invariant: every block is either entirely zero ("never formatted": files
//! grow with `set_len`, which fills with zeros) or carries a CRC that matches
//! its body. Anything else is reported as `Error::Corrupt`.
//! Invariant: `block_count()` only counts blocks whose existence is durable,
//! because `extend_to` publishes the new count after syncing the new length.
//!
//! Simplification: a block zeroed entirely by a fault passes the check as
//! "never formatted"; the engine's own block header (which records the block
//! number) is what catches such a block once something expects it formatted.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::backend::{Backend, FileHandle};
use super::doublewrite::Doublewrite;
use crate::error::{Error, Result};
use crate::ids::BlockNo;

/// Bytes at the start of each block that hold its checksum.
pub const CRC_LEN: usize = 4;

fn crc_of(block: &[u8]) -> u32 {
    crc32fast::hash(&block[CRC_LEN..])
}

/// Writes the CRC of `block[CRC_LEN..]` into `block[..CRC_LEN]`. A buffer too
/// short to hold a CRC is left alone (and `check_crc` rejects it).
pub fn stamp_crc(block: &mut [u8]) {
    if block.len() >= CRC_LEN {
        let crc = crc_of(block);
        block[..CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Checks the CRC of a block read from disk; an all-zero block is valid.
pub fn check_crc(block: &[u8]) -> std::result::Result<(), String> {
    if block.len() < CRC_LEN {
        return Err(format!(
            "block of {} bytes has no room for a checksum",
            block.len()
        ));
    }
    if block.iter().all(|&b| b == 0) {
        return Ok(());
    }
    let stored = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
    let computed = crc_of(block);
    if stored == computed {
        Ok(())
    } else {
        Err(format!(
            "checksum mismatch: stored {stored:#010x} computed {computed:#010x}"
        ))
    }
}

/// A file of `block_size`-byte blocks, shared by every thread (`&self` methods).
pub struct DataFile {
    file: Arc<dyn FileHandle>,
    name: String,
    block_size: usize,
    blocks: AtomicU32,
    /// Serialises `extend_to`, so two growers cannot race a larger `set_len`
    /// with a smaller one and shrink the file.
    grow: Mutex<()>,
    /// The torn-write protection of `write_protected` (none for files
    /// opened by offline tools).
    dw: Option<Doublewrite>,
}

impl DataFile {
    /// Creates an empty data file; the file and its directory entry are synced
    /// so that the file exists after a crash.
    pub fn create(backend: &dyn Backend, name: &str, block_size: usize) -> Result<DataFile> {
        check_block_size(block_size)?;
        if backend.exists(name) {
            return Err(Error::AlreadyExists {
                kind: "data file",
                name: backend.describe(name),
            });
        }
        let file = backend.open(name, true)?;
        file.sync()?;
        backend.sync_dir()?;
        Ok(DataFile::new(file, name, block_size, 0))
    }

    /// Opens an existing data file, checking that its length is whole blocks.
    pub fn open(backend: &dyn Backend, name: &str, block_size: usize) -> Result<DataFile> {
        check_block_size(block_size)?;
        let file = backend.open(name, false)?;
        let len = file.len()?;
        let bs = block_size as u64;
        if len % bs != 0 {
            let reason = format!("file length {len} is not a multiple of the block size {bs}");
            return Err(Error::corrupt(name, len / bs, reason));
        }
        let blocks = u32::try_from(len / bs).map_err(|_| {
            Error::corrupt(
                name,
                len / bs,
                format!("file of {len} bytes has too many blocks"),
            )
        })?;
        Ok(DataFile::new(file, name, block_size, blocks))
    }

    /// Opens an existing data file for the engine, with its doublewrite
    /// area `dw_name` (created if missing), and first repairs every torn
    /// block the area holds an intact copy of. Returns the repaired blocks.
    pub fn open_protected(
        backend: &dyn Backend,
        name: &str,
        dw_name: &str,
        block_size: usize,
    ) -> Result<(DataFile, Vec<BlockNo>)> {
        let mut df = DataFile::open(backend, name, block_size)?;
        let dw = Doublewrite::open(backend, dw_name, block_size, true)?;
        let repaired = match &dw {
            Some(dw) => dw.repair(df.file.as_ref(), df.block_count())?,
            None => Vec::new(),
        };
        df.dw = dw;
        Ok((df, repaired))
    }

    /// The blocks a torn write left failing their CRC whose intact copy is
    /// in the doublewrite area `dw_name`: what the next open repairs.
    /// Reads only (for `verify`).
    pub fn repairable(&self, backend: &dyn Backend, dw_name: &str) -> Result<Vec<BlockNo>> {
        match Doublewrite::open(backend, dw_name, self.block_size, false)? {
            Some(dw) => dw.repairable(self.file.as_ref(), self.block_count()),
            None => Ok(Vec::new()),
        }
    }

    fn new(file: Arc<dyn FileHandle>, name: &str, block_size: usize, blocks: u32) -> DataFile {
        DataFile {
            file,
            name: name.to_string(),
            block_size,
            blocks: AtomicU32::new(blocks),
            grow: Mutex::new(()),
            dw: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn block_size(&self) -> usize {
        self.block_size
    }

    pub fn block_count(&self) -> u32 {
        self.blocks.load(Ordering::Acquire)
    }

    /// Validates a block number and buffer and returns the block's offset.
    fn locate(&self, no: BlockNo, buf_len: usize) -> Result<u64> {
        if buf_len != self.block_size {
            return Err(Error::Internal(format!(
                "block buffer of {buf_len} bytes for {} (block size {})",
                self.name, self.block_size
            )));
        }
        let count = self.block_count();
        if no.0 >= count {
            let reason = format!("block is beyond the end of the file ({count} blocks)");
            return Err(Error::corrupt(&self.name, no.0 as u64, reason));
        }
        Ok(no.0 as u64 * self.block_size as u64)
    }

    /// Reads block `no` into `buf` (`len == block_size`) and verifies its CRC.
    pub fn read_block(&self, no: BlockNo, buf: &mut [u8]) -> Result<()> {
        let offset = self.locate(no, buf.len())?;
        self.file.read_at(buf, offset)?;
        check_crc(buf).map_err(|reason| Error::corrupt(&self.name, no.0 as u64, reason))
    }

    /// Stamps the CRC into `buf` and writes it as block `no`. The block must
    /// already exist: growing the file is `extend_to`'s job, so that a new
    /// length is always synced before blocks are written into it.
    pub fn write_block(&self, no: BlockNo, buf: &mut [u8]) -> Result<()> {
        let offset = self.locate(no, buf.len())?;
        stamp_crc(buf);
        self.file.write_at(buf, offset)
    }

    /// Stamps the CRCs and writes `blocks` in place, each first through the
    /// doublewrite area when the file has one (see `doublewrite`), so that
    /// a write torn by a crash can be repaired at the next open. Returns
    /// the number of doublewrite writes (0 without an area).
    pub fn write_protected(&self, blocks: &mut [(BlockNo, &mut [u8])]) -> Result<u32> {
        for (no, buf) in blocks.iter_mut() {
            self.locate(*no, buf.len())?;
            stamp_crc(buf);
        }
        let images: Vec<(BlockNo, &[u8])> = blocks.iter().map(|(no, b)| (*no, &b[..])).collect();
        match &self.dw {
            Some(dw) => dw.write(self.file.as_ref(), &images),
            None => {
                for (no, image) in images {
                    self.file
                        .write_at(image, no.0 as u64 * self.block_size as u64)?;
                }
                Ok(0)
            }
        }
    }

    /// Writes consecutive blocks `first`, `first + 1`, … from `buf` (a
    /// whole number of blocks) in one write, stamping each block's CRC —
    /// `write_block` for a run of blocks, as the direct path writes them:
    /// not through the doublewrite area (whose stale copies of these
    /// blocks, if any, are cleared first).
    pub fn write_blocks(&self, first: BlockNo, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() / self.block_size;
        if n == 0 || !buf.len().is_multiple_of(self.block_size) {
            return Err(Error::Internal(format!(
                "a run of blocks of {} bytes for {} (block size {})",
                buf.len(),
                self.name,
                self.block_size
            )));
        }
        let offset = self.locate(first, self.block_size)?;
        self.locate(BlockNo(first.0 + (n as u32 - 1)), self.block_size)?;
        for block in buf.chunks_exact_mut(self.block_size) {
            stamp_crc(block);
        }
        if let Some(dw) = &self.dw {
            dw.forget(first, n as u32)?;
        }
        self.file.write_at(buf, offset)
    }

    /// Grows the file to `blocks` blocks (no-op if already that large).
    pub fn extend_to(&self, blocks: u32) -> Result<()> {
        let _grow = self.grow.lock();
        if blocks <= self.block_count() {
            return Ok(());
        }
        self.file.set_len(blocks as u64 * self.block_size as u64)?;
        // The new size is synced before anyone may write into it: otherwise a
        // crash could keep blocks written (and referenced from redo or other
        // blocks) past the durable end of the file.
        self.file.sync()?;
        self.blocks.store(blocks, Ordering::Release);
        Ok(())
    }

    /// Makes every block written so far durable (and frees the
    /// doublewrite slots that protected them).
    pub fn sync(&self) -> Result<()> {
        match &self.dw {
            Some(dw) => dw.synced(|| self.file.sync()),
            None => self.file.sync(),
        }
    }
}

fn check_block_size(block_size: usize) -> Result<()> {
    if block_size <= CRC_LEN {
        return Err(Error::Config(format!(
            "block size {block_size} leaves no room after the {CRC_LEN}-byte checksum"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{OsBackend, SimBackend};

    const BS: usize = 512;

    fn round_trip(backend: &dyn Backend) {
        let df = DataFile::create(backend, "data", BS).unwrap();
        df.extend_to(3).unwrap();
        let mut block = vec![7u8; BS];
        df.write_block(BlockNo(2), &mut block).unwrap();
        df.sync().unwrap();
        drop(df);

        let df = DataFile::open(backend, "data", BS).unwrap();
        assert_eq!(df.block_count(), 3);
        let mut buf = vec![0u8; BS];
        df.read_block(BlockNo(2), &mut buf).unwrap();
        assert_eq!(buf, block, "the stamped block comes back, CRC included");
        df.read_block(BlockNo(1), &mut buf).unwrap();
        assert!(
            buf.iter().all(|&b| b == 0),
            "a never-written block reads as zeros"
        );
    }

    #[test]
    fn blocks_round_trip_on_the_sim_backend() {
        round_trip(&SimBackend::new());
    }

    #[test]
    fn blocks_round_trip_on_the_os_backend() {
        let tmp = tempfile::TempDir::new().unwrap();
        round_trip(&OsBackend::new(tmp.path()).unwrap());
    }

    #[test]
    fn a_flipped_byte_is_reported_with_file_and_block() {
        let sim = SimBackend::new();
        let df = DataFile::create(&sim, "data", BS).unwrap();
        df.extend_to(2).unwrap();
        df.write_block(BlockNo(1), &mut vec![1u8; BS]).unwrap();
        sim.corrupt("data", (BS + 100) as u64, 0x10).unwrap();
        let err = df.read_block(BlockNo(1), &mut vec![0u8; BS]).unwrap_err();
        match err {
            Error::Corrupt {
                file,
                block,
                reason,
            } => {
                assert_eq!((file.as_str(), block), ("data", 1));
                assert!(reason.starts_with("checksum mismatch"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other}"),
        }
    }

    #[test]
    fn reading_or_writing_beyond_the_end_is_an_error() {
        let sim = SimBackend::new();
        let df = DataFile::create(&sim, "data", BS).unwrap();
        df.extend_to(2).unwrap();
        let err = df.read_block(BlockNo(2), &mut vec![0u8; BS]).unwrap_err();
        assert!(matches!(err, Error::Corrupt { block: 2, .. }), "{err}");
        assert!(df.write_block(BlockNo(2), &mut vec![0u8; BS]).is_err());
        assert_eq!(
            sim.current_bytes("data").unwrap().len(),
            2 * BS,
            "nothing was written"
        );
    }

    #[test]
    fn a_run_of_blocks_is_written_in_one_write_each_block_with_its_crc() {
        let sim = SimBackend::new();
        let df = DataFile::create(&sim, "data", BS).unwrap();
        df.extend_to(4).unwrap();
        let mut run: Vec<u8> = (1..=3u8).flat_map(|b| vec![b; BS]).collect();
        let writes = sim.writes();
        df.write_blocks(BlockNo(1), &mut run).unwrap();
        assert_eq!(sim.writes(), writes + 1, "one write for three blocks");
        let mut buf = vec![0u8; BS];
        for (k, want) in run.chunks(BS).enumerate() {
            df.read_block(BlockNo(1 + k as u32), &mut buf).unwrap();
            assert_eq!(&buf[..], want, "block {} and its CRC", 1 + k);
        }
        // A run reaching past the end, or not a whole number of blocks,
        // writes nothing.
        assert!(df.write_blocks(BlockNo(2), &mut run).is_err());
        assert!(df.write_blocks(BlockNo(0), &mut run[..BS + 1]).is_err());
        assert!(df.write_blocks(BlockNo(0), &mut []).is_err());
        assert_eq!(sim.writes(), writes + 1);
    }

    #[test]
    fn extend_makes_the_new_length_durable() {
        let sim = SimBackend::new();
        let df = DataFile::create(&sim, "data", BS).unwrap();
        df.extend_to(4).unwrap();
        df.extend_to(2).unwrap(); // smaller: no-op
        assert_eq!(df.block_count(), 4);
        assert_eq!(sim.crash().current_bytes("data").unwrap().len(), 4 * BS);
    }

    #[test]
    fn open_rejects_a_partial_block() {
        let sim = SimBackend::new();
        sim.set_bytes("data", &[0u8; BS + 1]);
        let err = DataFile::open(&sim, "data", BS).err().unwrap();
        assert!(matches!(err, Error::Corrupt { block: 1, .. }), "{err}");
    }
}
