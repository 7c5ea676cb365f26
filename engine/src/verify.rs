//! Offline verification of a closed database's data file (`blocklab verify`).
//!
//! Verify reads every block of `data01.dbf` straight from the file, without
//! opening the database: no recovery runs, no block goes through the buffer
//! cache, nothing is written. It answers two questions. The physical one —
//! "is every block on disk readable and self-consistent?" — in three
//! layers, cheapest first:
//!
//! ```text
//!   bytes ──CRC32──▶ checksum ok ──Block::decode──▶ header + body parse,
//!                                                   block number matches
//!         ──structure──▶ kind-specific rules (below), each naming the block
//! ```
//!
//! Structural rules checked per block:
//!
//! - every block: at most `MAX_ITL` ITL entries; the bytes after the
//!   encoded contents are zero (the engine zero-fills the tail, so anything
//!   else is damage the CRC happened to cover, or a foreign writer);
//! - block 0 is the file header; its block size matches the control file,
//!   its `allocated` count fits in the file, it names 1 to 64 undo
//!   segments, and the catalog segment header and undo segment headers it
//!   implies (`core::undo_header`) lie inside the allocated blocks;
//! - each undo segment header is where the file header says, and no undo
//!   header is anywhere else; its extents lie inside the file and its ring
//!   position is inside the ring;
//! - a segment header's extents lie inside the file, start at itself, and
//!   its HWM does not exceed its extents;
//! - a heap block's owning segment is inside the file, and each slot's lock
//!   byte is 0 or names one of the block's ITL entries;
//! - an undo block's records belong to its owner and name blocks inside the
//!   file.
//!
//! Then the logical one — "does every index hold exactly its table's
//! rows?" — in `logical`: each usable index's leaf entries against the live
//! rows below the table's HWM (entry count; each entry's rowid names a live
//! row whose key is the entry's; each row has an entry), as
//! `ANALYZE … VALIDATE STRUCTURE CASCADE` does. It needs the committed
//! state on disk, so it runs only on a cleanly shut down database whose
//! blocks are all sound ([`IndexCheck::Skipped`] says why not otherwise).
//!
//! Invariant: no byte pattern makes verify panic. Every read goes through
//! bounds-checked decoding, arithmetic on values from disk is checked, and a
//! bad block becomes one [`Corruption`] in the report.
//!
//! Files are opened read-only (`storage::ReadOnlyBackend`), so verify runs on
//! a read-only file system or a read-only copy, and the data file is read
//! with positional reads, a run of blocks at a time, never memory-mapped: a
//! mapped page the kernel cannot supply (the file shrank meanwhile, or a
//! hole of a sparse file on a full file system) would kill the process with
//! SIGBUS, where a failed read is reported as an unreadable block.
//!
//! Simplification: beyond the index check, verify does not follow
//! references between blocks (it does not walk undo chains, check that
//! every block has exactly one owner, or that free-list blocks have room). The database
//! must be closed: nothing stops a running engine from writing while verify
//! reads, and a block caught half-written fails its checksum.

mod logical;

use std::path::Path;

pub use logical::{IndexCheck, IndexProblem, MAX_LISTED};

use crate::block::{Block, Body, FileHeader, SlotState, MAX_ITL};
use crate::error::{Error, Result};
use crate::ids::BlockNo;
use crate::kernel::undo_header;
use crate::storage::DOUBLEWRITE_FILE;
use crate::storage::{
    check_crc, Backend, ControlData, ControlFile, DataFile, FileHandle, ReadOnlyBackend,
};

pub use crate::storage::DATA_FILE;

/// One damaged block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    pub block: u64,
    pub reason: String,
}

/// What verify found.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    /// The data file's name, as printed in `corrupt block <file> <block>`.
    pub file: String,
    /// Blocks examined (a trailing partial block counts as one).
    pub blocks: u64,
    pub corrupt: Vec<Corruption>,
    /// The control file's contents (block size, checkpoint, shutdown flag).
    pub control: ControlData,
    /// The logical level: every index against its table.
    pub indexes: IndexCheck,
    /// A damaged control-file slot (`ControlFile::lost_slot`): the other
    /// copy was read, and may be the older one.
    pub control_lost_slot: Option<String>,
    /// Damaged blocks (among `corrupt`) whose copy in the doublewrite area
    /// is intact: a torn write the next open repairs.
    pub repairable: Vec<u32>,
    /// The alert log: what earlier opens repaired or worked around
    /// (`alert`), oldest first.
    pub alert: Vec<String>,
}

impl VerifyReport {
    /// Whether verify found nothing wrong (no damaged block, no index
    /// disagreeing with its table).
    pub fn is_clean(&self) -> bool {
        self.corrupt.is_empty()
            && self.indexes.problem_count() == 0
            && self.control_lost_slot.is_none()
    }
}

/// What the rules for one block need to know about the whole file.
#[derive(Clone, Debug)]
pub struct FileContext {
    /// Whole blocks in the file.
    pub block_count: u32,
    /// Block size from the control file.
    pub block_size: u32,
    /// The undo segment headers' blocks, from the file header; `None` when
    /// block 0 is unreadable (their places are then not checked, so one bad
    /// block does not make every undo header look misplaced).
    pub undo_headers: Option<Vec<u32>>,
    /// Where the catalog segment header is.
    pub catalog_seg: u32,
}

/// Where bootstrap puts the catalog segment header, assumed when block 0
/// itself is unreadable.
const DEFAULT_CATALOG_SEG: u32 = 2;

impl FileContext {
    /// The layout described by the file header `h`, or the default one
    /// without it.
    pub fn new(block_count: u32, block_size: u32, h: Option<&FileHeader>) -> FileContext {
        FileContext {
            block_count,
            block_size,
            undo_headers: h.map(undo_header_blocks),
            catalog_seg: h.map_or(DEFAULT_CATALOG_SEG, |h| h.catalog_seg.0),
        }
    }
}

/// Blocks of the undo segment headers a file header implies: segment 0 is
/// the one it names, the others are placed by `core::undo_header`.
fn undo_header_blocks(h: &FileHeader) -> Vec<u32> {
    (0..h.undo_segments.min(MAX_UNDO_SEGMENTS))
        .map(|seg| match seg {
            0 => h.undo_header.0,
            _ => undo_header(seg as u16).0,
        })
        .collect()
}

/// The most undo segments a file header may name (as `Config` allows).
const MAX_UNDO_SEGMENTS: u32 = 64;

/// Verifies the data file of the closed database in `dir`.
///
/// Errors are about the database as a whole (no such directory, unreadable
/// control file, data file missing); damaged or unreadable blocks are not
/// errors but entries of the report.
pub fn verify_dir(dir: &Path) -> Result<VerifyReport> {
    // A directory without a control file is no database (and a read-only
    // backend creates nothing, a missing directory included).
    if !dir.join(ControlFile::NAME).is_file() {
        return Err(Error::NoSuchObject {
            kind: "database",
            name: format!("{} (no control file)", dir.display()),
        });
    }
    let backend = ReadOnlyBackend::new(dir)?;
    let (cf, control) = ControlFile::open(&backend)?;
    let file = backend.open(DATA_FILE, false)?;
    let len = file.len()?;
    let bs = control.block_size as usize;
    let mut report = verify_source(&FileSource { file, len }, control);
    if !report.corrupt.is_empty() {
        // (A file of a partial block does not open: no copies to look at.)
        if let Ok(df) = DataFile::open(&backend, DATA_FILE, bs) {
            report.repairable = df
                .repairable(&backend, DOUBLEWRITE_FILE)?
                .into_iter()
                .map(|b| b.0)
                .collect();
        }
        for c in &mut report.corrupt {
            if report.repairable.iter().any(|&b| u64::from(b) == c.block) {
                c.reason.push_str(
                    "; its copy in the doublewrite area is intact: the next open repairs it",
                );
            }
        }
    }
    report.alert = crate::alert::read(&backend)?;
    if let Some(lost) = cf.lost_slot() {
        report.control_lost_slot = Some(lost.to_string());
        if matches!(report.indexes, IndexCheck::Checked { .. }) {
            report.indexes = IndexCheck::Skipped(
                "a control-file slot is damaged, so its record of a clean shutdown \
                 may be stale"
                    .into(),
            );
        }
    }
    Ok(report)
}

/// Verifies a data file image against its control file contents.
pub fn verify_bytes(bytes: &[u8], control: ControlData) -> VerifyReport {
    verify_source(&bytes, control)
}

/// Where verify reads the data file from: its length, and `buf.len()`
/// bytes at an offset (`Err` says why they cannot be read).
trait Source {
    fn len(&self) -> u64;
    fn read(&self, offset: u64, buf: &mut [u8]) -> std::result::Result<(), String>;
}

impl Source for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read(&self, offset: u64, buf: &mut [u8]) -> std::result::Result<(), String> {
        let bytes = usize::try_from(offset)
            .ok()
            .and_then(|at| self.get(at..at.checked_add(buf.len())?))
            .ok_or_else(|| format!("bytes {offset}.. are beyond the image"))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// The data file, read with positional reads; its length as verify began.
struct FileSource {
    file: std::sync::Arc<dyn FileHandle>,
    len: u64,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read(&self, offset: u64, buf: &mut [u8]) -> std::result::Result<(), String> {
        self.file.read_at(buf, offset).map_err(|e| e.to_string())
    }
}

/// Blocks read with one read call (1 MiB of 8 KiB blocks): large enough
/// that the reads cost little, small enough not to hold the file in memory.
const READ_RUN: usize = 128;

/// Verifies the data file in `src` against the control file's contents.
fn verify_source(src: &dyn Source, control: ControlData) -> VerifyReport {
    let file = DATA_FILE.to_string();
    let mut corrupt = Vec::new();
    let bs = control.block_size as usize;
    // The control file's block size is itself data from disk: a value the
    // engine would refuse means no block boundary can be trusted.
    if !bs.is_power_of_two() || !(2048..=32768).contains(&bs) {
        corrupt.push(Corruption {
            block: 0,
            reason: format!("control file block size {bs} is not a valid block size"),
        });
        return VerifyReport {
            file,
            blocks: 0,
            corrupt,
            control,
            indexes: IndexCheck::Skipped("the control file's block size is invalid".into()),
            control_lost_slot: None,
            repairable: Vec::new(),
            alert: Vec::new(),
        };
    }
    let len = src.len();
    let whole = len / bs as u64;
    let block_count = u32::try_from(whole).unwrap_or(u32::MAX);
    // Block 0 tells where the undo headers and the catalog live; read it
    // first so the rules for those blocks use the file's own layout.
    let mut b0 = vec![0u8; bs];
    let header = (whole > 0 && src.read(0, &mut b0).is_ok())
        .then_some(&b0)
        .filter(|b0| check_crc(b0).is_ok())
        .and_then(|b0| match Block::decode(BlockNo(0), b0) {
            Ok(Block {
                body: Body::FileHeader(h),
                ..
            }) => Some(h),
            _ => None,
        });
    let ctx = FileContext::new(block_count, control.block_size, header.as_ref());
    let mut buf = vec![0u8; READ_RUN * bs];
    let mut first = 0u64;
    while first < u64::from(block_count) {
        let n = (u64::from(block_count) - first).min(READ_RUN as u64) as usize;
        let run = &mut buf[..n * bs];
        // One read for the run; if it fails, block by block, so that only
        // the blocks that cannot be read are reported.
        let whole_run = src.read(first * bs as u64, run).is_ok();
        for (i, chunk) in run.chunks_exact_mut(bs).enumerate() {
            let no = first + i as u64;
            let r = match whole_run {
                true => Ok(()),
                false => src.read(no * bs as u64, chunk),
            };
            let r = r
                .map_err(|e| format!("unreadable: {e}"))
                .and_then(|()| check_block(no as u32, chunk, &ctx));
            if let Err(reason) = r {
                corrupt.push(Corruption { block: no, reason });
            }
        }
        first += n as u64;
    }
    let tail = len % bs as u64;
    let mut blocks = whole;
    if tail != 0 {
        corrupt.push(Corruption {
            block: whole,
            reason: format!("partial block: the file ends {tail} bytes into it"),
        });
        blocks += 1;
    }
    if len == 0 {
        corrupt.push(Corruption {
            block: 0,
            reason: "the data file has no blocks (no file header)".into(),
        });
    }
    let indexes = match &header {
        _ if !corrupt.is_empty() => {
            IndexCheck::Skipped("damaged blocks (listed above) come first".into())
        }
        _ if !control.clean_shutdown => IndexCheck::Skipped(
            "the database was not shut down cleanly, so its blocks may lack committed \
             changes or hold uncommitted ones: open it (recovery) and close it first"
                .into(),
        ),
        None => IndexCheck::Skipped("no file header".into()),
        Some(h) => logical::check(src, bs, h, ctx.undo_headers.as_deref().unwrap_or(&[])),
    };
    VerifyReport {
        file,
        blocks,
        corrupt,
        control,
        indexes,
        control_lost_slot: None,
        repairable: Vec::new(),
        alert: Vec::new(),
    }
}

/// Checks one block: checksum, decoding (including the self-address), then
/// the structural rules of the module doc. `Err` says what is wrong.
pub fn check_block(no: u32, bytes: &[u8], ctx: &FileContext) -> std::result::Result<(), String> {
    check_crc(bytes)?;
    let block = Block::decode(BlockNo(no), bytes)?;
    if block.itl.len() > MAX_ITL {
        return Err(format!(
            "{} ITL entries, more than the maximum {MAX_ITL}",
            block.itl.len()
        ));
    }
    let used = block.encoded_len();
    match bytes.get(used..) {
        Some(rest) if rest.iter().all(|&b| b == 0) => {}
        Some(_) => return Err(format!("non-zero bytes after the contents end at {used}")),
        None => {
            return Err(format!(
                "contents of {used} bytes exceed the block size {}",
                bytes.len()
            ))
        }
    }
    let in_file = |b: u32| b < ctx.block_count;
    let extents_in_file = |extents: &[(u32, u32)]| -> std::result::Result<u64, String> {
        let mut total = 0u64;
        for &(start, len) in extents {
            match start.checked_add(len) {
                Some(end) if len > 0 && end <= ctx.block_count => total += len as u64,
                _ => {
                    return Err(format!(
                    "extent ({start}, {len}) is empty or beyond the end of the file ({} blocks)",
                    ctx.block_count
                ))
                }
            }
        }
        Ok(total)
    };
    let is_undo_header = ctx.undo_headers.as_ref().map(|u| u.contains(&no));
    let expected = if no == 0 {
        Some("file header")
    } else if is_undo_header == Some(true) {
        Some("undo header")
    } else if no == ctx.catalog_seg {
        Some("segment header")
    } else {
        None
    };
    match &block.body {
        Body::FileHeader(h) => {
            if no != 0 {
                return Err("a file header outside block 0".into());
            }
            if h.block_size != ctx.block_size {
                return Err(format!(
                    "file header block size {} differs from the control file's {}",
                    h.block_size, ctx.block_size
                ));
            }
            if h.allocated > ctx.block_count {
                return Err(format!(
                    "file header says {} blocks are allocated, the file has {}",
                    h.allocated, ctx.block_count
                ));
            }
            if !(1..=MAX_UNDO_SEGMENTS).contains(&h.undo_segments) {
                return Err(format!(
                    "file header names {} undo segments, not 1 to {MAX_UNDO_SEGMENTS}",
                    h.undo_segments
                ));
            }
            let undo = undo_header_blocks(h)
                .into_iter()
                .map(|b| ("undo header", b));
            for (what, b) in std::iter::once(("catalog", h.catalog_seg.0)).chain(undo) {
                if b == 0 || b >= h.allocated {
                    return Err(format!("{what} block {b} is outside the allocated blocks"));
                }
            }
        }
        Body::UndoHeader(h) => {
            if is_undo_header == Some(false) {
                return Err(format!(
                    "an undo header at block {no}, which the file header does not name"
                ));
            }
            if h.extents.is_empty() {
                return Err("undo header has no undo extents".into());
            }
            let ring = extents_in_file(&h.extents)?;
            if u64::from(h.next) >= ring {
                return Err(format!(
                    "undo ring position {} is outside the ring of {ring} blocks",
                    h.next
                ));
            }
        }
        Body::SegHeader(h) => {
            if block.seg.0 != no {
                return Err(format!(
                    "segment header names block {} as its segment",
                    block.seg.0
                ));
            }
            let total = extents_in_file(&h.extents)?;
            if h.extents.first().map(|e| e.0) != Some(no) {
                return Err("the first extent does not start at the segment header".into());
            }
            if h.hwm == 0 || u64::from(h.hwm) > total {
                return Err(format!(
                    "HWM {} is outside the segment's {total} blocks",
                    h.hwm
                ));
            }
            if let Some(f) = h.free.iter().find(|&&f| !in_file(f)) {
                return Err(format!("free-list block {f} is beyond the end of the file"));
            }
        }
        Body::Heap(slots) => {
            if !in_file(block.seg.0) || block.seg.0 == 0 {
                return Err(format!(
                    "owning segment {} is not a block of the file",
                    block.seg.0
                ));
            }
            for (i, s) in slots.iter().enumerate() {
                if s.lock as usize > block.itl.len() {
                    return Err(format!(
                        "slot {i} lock byte {} names no ITL entry ({} entries)",
                        s.lock,
                        block.itl.len()
                    ));
                }
                if s.state == SlotState::Unused && !s.data.is_empty() {
                    return Err(format!("unused slot {i} holds {} bytes", s.data.len()));
                }
            }
        }
        Body::Undo(u) => {
            for (i, r) in u.records.iter().enumerate() {
                if r.xid != u.owner {
                    return Err(format!(
                        "undo record {i} belongs to {}, the block's owner is {}",
                        r.xid, u.owner
                    ));
                }
                if !in_file(r.block.0) {
                    return Err(format!(
                        "undo record {i} names block {} beyond the end of the file",
                        r.block.0
                    ));
                }
                if r.itl_idx as usize >= MAX_ITL {
                    return Err(format!(
                        "undo record {i} names ITL entry {}, beyond the maximum",
                        r.itl_idx
                    ));
                }
            }
        }
        Body::Index(n) => {
            n.check()?;
            if n.next != 0 && !in_file(n.next) {
                return Err(format!(
                    "index next pointer {} beyond the end of the file",
                    n.next
                ));
            }
            for (i, e) in n.entries().iter().enumerate() {
                if e.lock as usize > block.itl.len() {
                    return Err(format!(
                        "index entry {i} lock byte {} names no ITL entry ({} entries)",
                        e.lock,
                        block.itl.len()
                    ));
                }
            }
        }
        Body::Unformatted => {}
    }
    if let Some(want) = expected {
        let got = kind_name(&block.body);
        if got != want {
            return Err(format!("expected a {want}, found {got}"));
        }
    }
    Ok(())
}

fn kind_name(body: &Body) -> &'static str {
    match body {
        Body::Unformatted => "unformatted block",
        Body::FileHeader(_) => "file header",
        Body::SegHeader(_) => "segment header",
        Body::Heap(_) => "table block",
        Body::UndoHeader(_) => "undo header",
        Body::Undo(_) => "undo block",
        Body::Index(_) => "index block",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An image whose reads fail where they touch block `bad`.
    struct Failing {
        bytes: Vec<u8>,
        bs: u64,
        bad: u64,
    }

    impl Source for Failing {
        fn len(&self) -> u64 {
            self.bytes.len() as u64
        }
        fn read(&self, offset: u64, buf: &mut [u8]) -> std::result::Result<(), String> {
            let end = offset + buf.len() as u64;
            if offset < (self.bad + 1) * self.bs && end > self.bad * self.bs {
                return Err("injected read error".into());
            }
            (&self.bytes[..]).read(offset, buf)
        }
    }

    fn control(block_size: u32) -> ControlData {
        ControlData {
            db_id: 1,
            block_size,
            log_file_size: 1 << 20,
            log_files: 3,
            created_ms: 0,
            checkpoint_lsn: 0,
            checkpoint_scn: 0,
            next_scn_floor: 0,
            clean_shutdown: true,
        }
    }

    #[test]
    fn a_block_that_cannot_be_read_is_reported_and_the_others_are_still_checked() {
        let bs = 2048u64;
        // Zero blocks are unformatted, which passes, except where the file
        // header (block 0) and the catalog segment header (block 2) belong;
        // 300 blocks span three read runs.
        let src = Failing {
            bytes: vec![0; 300 * bs as usize],
            bs,
            bad: 200,
        };
        let report = verify_source(&src, control(bs as u32));
        assert_eq!(report.blocks, 300);
        let blocks: Vec<u64> = report.corrupt.iter().map(|c| c.block).collect();
        assert_eq!(blocks, vec![0, 2, 200]);
        assert_eq!(report.corrupt[2].reason, "unreadable: injected read error");
    }
}
