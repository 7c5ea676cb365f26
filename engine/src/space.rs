//! File-level space: handing out extents of blocks.
//!
//! The file header (block 0) counts the blocks handed out so far
//! (`allocated`). An extent is the next `n` blocks. Before the allocation is
//! logged, the data file is grown (and the growth synced, see
//! `DataFile::extend_to`), so no redo ever names a block beyond the durable
//! end of the file. Space changes are `Space` redo records: they belong to no
//! transaction and are never rolled back, as in Oracle (a rolled-back insert
//! leaves its table's new extents allocated).
//!
//! Invariant: `file header.allocated <= data file block count`.

use crate::block::{Body, Op};
use crate::kernel::{Kernel, RecHead, FILE_HEADER};
use crate::error::{Error, Result};
use crate::stats::SessionStats;

/// The data file grows at least this many blocks at a time, so that most
/// extent allocations need no file-size change.
const GROW_BLOCKS: u32 = 256;

/// Allocates `n` contiguous new blocks; returns the first.
pub(crate) fn alloc_extent(core: &Kernel, stats: &SessionStats, n: u32) -> Result<u32> {
    let _g = core.space_lock.lock();
    let mut fh = core.cache.get_mut(FILE_HEADER, stats)?;
    let Body::FileHeader(h) = &fh.body else {
        return Err(Error::corrupt(
            core.file.name(),
            0,
            "block 0 is not a file header",
        ));
    };
    let mut h = h.clone();
    let first = h.allocated;
    let end = first
        .checked_add(n)
        .ok_or_else(|| Error::SpaceExhausted("data file block numbers exhausted".into()))?;
    if end > core.file.block_count() {
        core.file
            .extend_to(end.max(core.file.block_count() + GROW_BLOCKS))?;
    }
    h.allocated = end;
    core.change(stats, RecHead::space(), &mut [&mut fh], |_| {
        vec![Op::SetFileHeader(h)]
    })?;
    Ok(first)
}
