//! Space: extents of the file, and the segments built from them.
//!
//! A segment (a table's or an index's) is a header block holding its extent
//! map, its high-water mark (HWM: blocks below it have been formatted) and a
//! free list of blocks with room for an insert. `create_segment`
//! makes one; `find_block` picks a block for an insert (free list first,
//! else the next block above the HWM, formatted); `allocate_block` takes the
//! next block above the HWM for a caller that formats it itself (index
//! blocks); `set_free` keeps the free list; `reserve_above_hwm` hands a
//! direct-path load a run of blocks it formats privately.
//!
//! The file header (block 0) counts the blocks handed out so far
//! (`allocated`). An extent is the next `n` blocks. Before the allocation is
//! logged, the data file is grown (and the growth synced, see
//! `DataFile::extend_to`), so no redo ever names a block beyond the durable
//! end of the file. Space changes are `Space` redo records: they belong to no
//! transaction and are never rolled back, as in Oracle (a rolled-back insert
//! leaves its table's new extents allocated).
//!
//! **Free space: a free list, not a bitmap.** blocklab keeps manual
//! segment space management's free list (Oracle's MSSM FREELISTS), not
//! ASSM's bitmap blocks. A block goes on the list when a delete, or the
//! rollback of an insert, frees room in it, and comes off when an insert
//! finds it full. The list lives in the segment header, so it is bounded
//! by the header's room, not by a fixed count: it may fill half the header
//! block (about 250 blocks with 2 KiB blocks, 1,000 with 8 KiB), the other
//! half is the extent map's. Oracle links its free list through the blocks
//! themselves, so its list has no such bound; a block freed when the list
//! is full here stays off it until a later free finds room.
//!
//! Invariant: `file header.allocated <= data file block count`.

use crate::block::{Block, Body, Op, SegHeader};
use crate::error::{Error, Result};
use crate::ids::BlockNo;
use crate::kernel::{Kernel, RecHead, FILE_HEADER};
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

/// Whether the free list of header block `sb` may grow by one entry: it
/// may use half the block, the rest is left to the extent map.
fn free_list_has_room(core: &Kernel, sb: &Block, h: &SegHeader) -> bool {
    let half = core.file.block_size() / 2;
    (h.free.len() + 1) * 4 <= half && sb.encoded_len() + 4 <= core.file.block_size()
}

pub(crate) fn seg_header(core: &Kernel, b: &Block) -> Result<SegHeader> {
    match &b.body {
        Body::SegHeader(h) => Ok(h.clone()),
        _ => Err(Error::corrupt(
            core.file.name(),
            b.no.0 as u64,
            "not a segment header",
        )),
    }
}

/// Block number of the segment's `i`-th block (0 = the header).
pub(crate) fn nth_block(h: &SegHeader, mut i: u32) -> Option<BlockNo> {
    for &(start, len) in &h.extents {
        if i < len {
            return Some(BlockNo(start + i));
        }
        i -= len;
    }
    None
}

/// Creates a segment for object `object`; returns its header block.
pub(crate) fn create_segment(core: &Kernel, stats: &SessionStats, object: u32) -> Result<BlockNo> {
    core.reserve_redo()?;
    let n = core.cfg.extent_blocks.max(2);
    let first = alloc_extent(core, stats, n)?;
    let no = BlockNo(first);
    let mut b = core.cache.get_new(no, stats)?;
    let h = SegHeader {
        object,
        extents: vec![(first, n)],
        hwm: 1,
        free: Vec::new(),
    };
    core.change(stats, RecHead::space(), &mut [&mut b], |_| {
        vec![Op::SetSegHeader(h)]
    })?;
    Ok(no)
}

/// Segment size and HWM, for statistics: (blocks allocated, HWM).
pub fn segment_size(h: &SegHeader) -> (u32, u32) {
    (h.extents.iter().map(|e| e.1).sum(), h.hwm)
}

/// Picks a block with (probably) room for an insert: the head of the free
/// list, or a newly formatted block above the HWM.
pub(crate) fn find_block(core: &Kernel, stats: &SessionStats, seg: BlockNo) -> Result<BlockNo> {
    let mut sb = core.cache.get_mut(seg, stats)?;
    let mut h = seg_header(core, &sb)?;
    if let Some(&f) = h.free.first() {
        return Ok(BlockNo(f));
    }
    let no = grow_hwm(core, stats, &sb, &mut h)?;
    h.free.insert(0, no.0);
    let mut nb = core.cache.get_new(no, stats)?;
    let itls = core.cfg.initrans;
    core.change(stats, RecHead::space(), &mut [&mut sb, &mut nb], |_| {
        vec![Op::SetSegHeader(h), Op::FormatHeap { seg, itls }]
    })?;
    Ok(no)
}

/// Moves the HWM of header `h` up one block (allocating an extent when the
/// segment is full) and returns that block; the caller logs the header.
fn grow_hwm(core: &Kernel, stats: &SessionStats, sb: &Block, h: &mut SegHeader) -> Result<BlockNo> {
    let total: u32 = h.extents.iter().map(|e| e.1).sum();
    if h.hwm >= total {
        // The extent map lives in the header block, so extents grow with the
        // segment (a quarter of its size, as Oracle's automatic allocation
        // grows them) to keep the map small: ~60 extents reach a million blocks.
        if sb.encoded_len() + 8 > core.file.block_size() {
            return Err(Error::SpaceExhausted(format!(
                "segment {} has reached its maximum of {} extents",
                sb.no.0,
                h.extents.len()
            )));
        }
        let (first, n) = grow_segment(core, stats, total, 0)?;
        h.extents.push((first, n));
    }
    let no = nth_block(h, h.hwm).ok_or_else(|| Error::Internal("HWM beyond extents".into()))?;
    h.hwm += 1;
    Ok(no)
}

/// Takes the next block above the segment's HWM for a caller that formats
/// it itself (index blocks); the HWM move is a space change.
pub(crate) fn allocate_block(core: &Kernel, stats: &SessionStats, seg: BlockNo) -> Result<BlockNo> {
    let mut sb = core.cache.get_mut(seg, stats)?;
    let mut h = seg_header(core, &sb)?;
    let no = grow_hwm(core, stats, &sb, &mut h)?;
    core.change(stats, RecHead::space(), &mut [&mut sb], |_| {
        vec![Op::SetSegHeader(h)]
    })?;
    Ok(no)
}

/// Takes `no` off (full = true) or puts it on the segment's free list.
pub(crate) fn set_free(
    core: &Kernel,
    stats: &SessionStats,
    seg: BlockNo,
    no: BlockNo,
    has_room: bool,
) -> Result<()> {
    let mut sb = core.cache.get_mut(seg, stats)?;
    let mut h = seg_header(core, &sb)?;
    let present = h.free.contains(&no.0);
    if has_room == present || (has_room && !free_list_has_room(core, &sb, &h)) {
        return Ok(());
    }
    if has_room {
        h.free.push(no.0);
    } else {
        h.free.retain(|&f| f != no.0);
    }
    core.change(stats, RecHead::space(), &mut [&mut sb], |_| {
        vec![Op::SetSegHeader(h)]
    })?;
    Ok(())
}

/// Makes room for `n_blocks` blocks above segment `seg`'s HWM for a
/// direct-path load, extending its extents as needed (space changes, never
/// rolled back), and returns the HWM and the blocks, in order. The HWM
/// itself does not move: the loading transaction moves it, with undo.
pub(crate) fn reserve_above_hwm(
    core: &Kernel,
    stats: &SessionStats,
    seg: BlockNo,
    n_blocks: u32,
) -> Result<(u32, Vec<BlockNo>)> {
    let mut sb = core.cache.get_mut(seg, stats)?;
    let mut h = seg_header(core, &sb)?;
    let hwm = h.hwm;
    let mut blocks = Vec::with_capacity(n_blocks as usize);
    let mut grown = false;
    for k in 0..n_blocks {
        let total: u32 = h.extents.iter().map(|e| e.1).sum();
        if hwm + k >= total {
            let (first, n) = grow_segment(core, stats, total, n_blocks - k)?;
            h.extents.push((first, n));
            grown = true;
        }
        blocks.push(
            nth_block(&h, hwm + k).ok_or_else(|| Error::Internal("HWM beyond extents".into()))?,
        );
    }
    if grown {
        if sb.encoded_len() + 8 * h.extents.len() > 2 * core.file.block_size() {
            return Err(Error::SpaceExhausted(format!(
                "segment {} has too many extents",
                seg.0
            )));
        }
        core.change(stats, RecHead::space(), &mut [&mut sb], |_| {
            vec![Op::SetSegHeader(h)]
        })?;
    }
    Ok((hwm, blocks))
}

/// Allocates the next extent of a segment of `total` blocks that needs at
/// least `need` more: a quarter of the segment's size (as Oracle's
/// automatic allocation grows extents with the segment, which keeps the
/// extent map in the header small), at least `extent_blocks`, at most 64 Ki
/// blocks. Returns (first block, length).
fn grow_segment(core: &Kernel, stats: &SessionStats, total: u32, need: u32) -> Result<(u32, u32)> {
    let n = core.cfg.extent_blocks.max(total / 4).max(need).min(1 << 16);
    Ok((alloc_extent(core, stats, n)?, n))
}
