//! Direct-path append (the book, chapter 9): whole blocks formatted in private
//! memory above the high-water mark and written past the buffer cache.
//!
//! A load makes up to three passes over the caller's rows, none of which
//! keeps a copy of them:
//!
//! 1. **plan** ([`BlockPlan`]) — from each row's encoded length alone,
//!    decide how many rows go in each block (blocks are packed full, in row
//!    order), so the extents can be allocated and the NOLOGGING marker can
//!    name the blocks before anything is written. The session feeds the
//!    plan while it checks the rows, so this pass costs no extra walk over
//!    them (a million rows do not fit in any CPU cache);
//! 2. **log** — LOGGING only: each block's rows as an `Op::HeapImage` redo
//!    record, made durable before any block is written (write-ahead);
//! 3. **write** — each block is encoded straight into one reusable buffer
//!    in the heap block format of `block` (header, free ITL entries, slot
//!    directory of live rows); runs of consecutive blocks (up to
//!    `WRITE_RUN`, never across an extent boundary) go to the data file in
//!    one write, as Oracle's direct path writes multiblock.
//!
//! The streamed image is byte for byte what `Block::encode` produces for
//! the same rows (a unit test below holds the two together), so readers,
//! recovery and `verify` see ordinary heap blocks. The statistics count
//! blocks, not write calls: each block is one `physical writes direct`.
//!
//! Invariant: after a load, no cached copy of its blocks differs from what
//! it wrote (a copy left by recovery is replaced).
//!
//! Simplification: the writes go through the kernel's page cache (Oracle
//! writes direct-path blocks with direct or asynchronous I/O); a NOLOGGING
//! load's blocks are synced once, at commit.

use super::*;
use crate::block::BlockKind;
use crate::encoding::Enc;
use crate::space::reserve_above_hwm;
use crate::txn::itl::acquire_itl;
use crate::value::{encode_row_into, encoded_row_len, Row, Value};

/// What a direct-path load did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectLoad {
    pub rows: u64,
    pub blocks: u32,
    pub hwm_before: u32,
    pub hwm_after: u32,
}

/// Direct-path insert (the book, chapter 9): formats whole blocks of `rows` in
/// private memory above the HWM of `table`'s segment and writes them
/// straight to the data file, bypassing the buffer cache and the free list,
/// with no undo for the rows. If the table is LOGGING, each block image is
/// logged (and the redo
/// made durable before the block is written: write-ahead still holds);
/// without it nothing about the rows reaches the redo, and the blocks are
/// synced at commit instead. The rows become visible when the HWM moves:
/// that change is made here, with undo, in the loading transaction, so a
/// reader older than the commit still sees the old HWM and a rollback puts
/// it back (the blocks stay allocated, as garbage above the HWM). The
/// caller holds the table's exclusive lock, and has put every row of
/// `rows`, in order, through `plan` (made with [`BlockPlan::new`] for this
/// database). Returns where the rows went, from which index maintenance
/// gets their rowids.
pub(crate) fn direct_insert(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    seg: BlockNo,
    logging: bool,
    rows: &[Row],
    plan: BlockPlan,
) -> Result<(DirectLoad, Placed)> {
    let bs = core.file.block_size();
    let itls = core.cfg.initrans;
    let per_block = plan.finish(rows.len(), bs, itls)?;
    core.reserve_redo()?;
    let n_blocks = per_block.len() as u32;
    let (hwm_before, blocks) = reserve_above_hwm(core, stats, seg, n_blocks)?;
    // Log the images (LOGGING) and make that redo durable, then write the
    // blocks; or (NOLOGGING) a marker saying which blocks the redo cannot
    // rebuild.
    let mut scns = Vec::with_capacity(blocks.len());
    let mut last = crate::ids::Lsn(0);
    if logging {
        for (no, part) in blocks.iter().zip(ranges(&per_block)) {
            let part = &rows[part];
            let op = Op::HeapImage {
                seg,
                itls,
                slots: image_slots(part),
            };
            let mut size = 0;
            let (scn, end) = core.log.append(|_, buf| {
                crate::redo::record::encode_payload(
                    buf,
                    RecKind::Space,
                    txn.xid,
                    0,
                    "",
                    &[(*no, op)],
                );
                size = buf.len();
            })?;
            stats.inc(Stat::RedoEntries);
            stats.add(Stat::RedoSize, (size + 32) as u64);
            scns.push(scn);
            last = end;
        }
        core.log.flush(last)?;
    } else if let (Some(first), Some(n)) = (blocks.first(), blocks.last()) {
        let text = format!(
            "NOLOGGING direct load: blocks {}..={} are not in the redo",
            first.0, n.0
        );
        let mut size = 0;
        let (scn, _) = core.log.append(|_, buf| {
            crate::redo::record::encode_payload(buf, RecKind::Nologging, txn.xid, 0, &text, &[]);
            size = buf.len();
        })?;
        stats.inc(Stat::RedoEntries);
        stats.add(Stat::RedoSize, (size + 32) as u64);
        scns = vec![scn; blocks.len()];
    }
    // One buffer, reused for the whole load: runs of up to WRITE_RUN
    // consecutive blocks are encoded into it and written with one write
    // (a run ends early where an extent does). Nothing is allocated per
    // row or per block.
    let mut buf = Vec::with_capacity(WRITE_RUN * bs);
    let write_run = |first: BlockNo, buf: &mut Vec<u8>| -> Result<()> {
        core.file.write_blocks(first, buf)?;
        let n = (buf.len() / bs) as u64;
        stats.add(Stat::PhysicalWritesDirect, n);
        stats.add(Stat::DirectBlocksFormatted, n);
        buf.clear();
        Ok(())
    };
    let mut run: Option<BlockNo> = None;
    for ((no, part), scn) in blocks.iter().zip(ranges(&per_block)).zip(&scns) {
        if let Some(first) = run {
            if no.0 != first.0 + (buf.len() / bs) as u32 || buf.len() == WRITE_RUN * bs {
                write_run(first, &mut buf)?;
                run = None;
            }
        }
        run.get_or_insert(*no);
        encode_heap_image(&mut buf, bs, *no, seg, *scn, itls, &rows[part])
            .map_err(|r| Error::corrupt(core.file.name(), no.0 as u64, r))?;
        // A block above the HWM can still be in the cache: recovery rebuilds
        // a logged load's blocks there from their images even when it then
        // rolls the load back. This write goes past the cache, so that copy
        // must become the new image, or readers would see the rolled-back
        // rows (and writing the frame out would put them back on disk).
        if let Some(mut cached) = core.cache.get_mut_if_cached(*no) {
            *cached.block_mut() = Block::decode(*no, &buf[buf.len() - bs..])
                .map_err(|r| Error::corrupt(core.file.name(), no.0 as u64, r))?;
        }
    }
    if let Some(first) = run {
        write_run(first, &mut buf)?;
    }
    let hwm_after = hwm_before + n_blocks;
    if !blocks.is_empty() {
        // Publish the blocks to this transaction's commit: the HWM moves
        // with undo.
        let mut sb = core.cache.get_mut(seg, stats)?;
        let itl_idx = acquire_itl(core, stats, txn, &mut sb, 0)?
            .ok_or_else(|| Error::SpaceExhausted("no ITL entry in the segment header".into()))?;
        logged_change(
            core,
            stats,
            txn,
            &mut sb,
            itl_idx,
            UndoOp::SegHwm { hwm: hwm_before },
            |itl| Op::SegHwm {
                hwm: hwm_after,
                itl_idx,
                itl,
            },
        )?;
        txn.direct_writes = true;
    }
    Ok((
        DirectLoad {
            rows: rows.len() as u64,
            blocks: n_blocks,
            hwm_before,
            hwm_after,
        },
        Placed { blocks, per_block },
    ))
}

/// Where a direct load put its rows: the blocks, in row order, and how
/// many rows each holds (slots 0..n).
#[derive(Debug)]
pub(crate) struct Placed {
    blocks: Vec<BlockNo>,
    per_block: Vec<u16>,
}

impl Placed {
    /// The rows' rowids, in row order. Built only on demand: a table with
    /// no index never needs one per row.
    pub(crate) fn rowids(&self) -> Vec<RowId> {
        let n = self.per_block.iter().map(|&n| n as usize).sum();
        let mut ids = Vec::with_capacity(n);
        for (no, &n) in self.blocks.iter().zip(&self.per_block) {
            ids.extend((0..n).map(|slot| RowId { block: *no, slot }));
        }
        ids
    }
}

/// How a load's rows will be packed, in order, into fresh heap blocks: a
/// block takes rows while they fit (each costs its slot header and its
/// bytes) and is never left empty. Built one row at a time from encoded
/// lengths, so nothing is encoded here.
#[derive(Debug)]
pub(crate) struct BlockPlan {
    block_size: usize,
    itls: u8,
    /// Bytes used in the last block of `per_block`.
    used: usize,
    /// Rows in each block, in block order.
    per_block: Vec<u16>,
    rows: usize,
    /// The first row too long for any block (its length), if any: reported
    /// by `finish`, so that errors found while checking the rows come first.
    too_large: Option<usize>,
}

impl BlockPlan {
    /// A plan for a database's block size and INITRANS.
    pub(crate) fn new(block_size: usize, itls: u8) -> BlockPlan {
        BlockPlan {
            block_size,
            itls,
            used: 0,
            per_block: Vec::new(),
            rows: 0,
            too_large: None,
        }
    }

    /// Places the next row.
    pub(crate) fn add(&mut self, row: &[Value]) {
        let len = encoded_row_len(row);
        self.rows += 1;
        if len > max_row_len(self.block_size, self.itls) {
            self.too_large.get_or_insert(len);
            return;
        }
        let n = SLOT_HEADER_LEN + len;
        match self.per_block.last_mut() {
            Some(count) if self.used + n <= self.block_size => *count += 1,
            _ => {
                self.per_block.push(1);
                self.used = HEADER_LEN + self.itls as usize * ITL_LEN + 2;
            }
        }
        self.used += n;
    }

    /// Rows per block, once every one of the `rows` rows was added; or the
    /// error for a row too large for a block.
    fn finish(self, rows: usize, block_size: usize, itls: u8) -> Result<Vec<u16>> {
        if let Some(size) = self.too_large {
            let max = max_row_len(self.block_size, self.itls);
            return Err(Error::RowTooLarge { size, max });
        }
        if (self.rows, self.block_size, self.itls) != (rows, block_size, itls) {
            return Err(Error::Internal(format!(
                "direct-path plan for {} rows ({} bytes, {} ITLs) used for {rows} rows \
                 ({block_size} bytes, {itls} ITLs)",
                self.rows, self.block_size, self.itls
            )));
        }
        Ok(self.per_block)
    }
}

/// The index ranges of `rows` that go in each block, in block order.
fn ranges(per_block: &[u16]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    per_block.iter().map(move |&n| {
        let part = at..at + n as usize;
        at = part.end;
        part
    })
}

/// Most blocks one write of a load carries (512 KB of 8 KB blocks).
const WRITE_RUN: usize = 64;

/// Bytes before a row's own bytes in a heap slot: state u8, lock u8,
/// length u16 (the slot format of `block`).
const SLOT_HEADER_LEN: usize = 4;

/// Appends the `bs`-byte image of a freshly formatted heap block holding
/// `rows` as live, unlocked slots 0.. — the bytes `Block::encode` writes
/// for that block, with the CRC left zero for `DataFile::write_block` to
/// stamp. Errors if the rows do not fit (a planning bug, never expected).
fn encode_heap_image(
    v: &mut Vec<u8>,
    bs: usize,
    no: BlockNo,
    seg: BlockNo,
    scn: Scn,
    itls: u8,
    rows: &[Row],
) -> std::result::Result<(), String> {
    let start = v.len();
    v.put_u32(0); // CRC
    v.put_u8(BlockKind::Heap as u8);
    v.put_u8(0);
    v.put_u8(itls);
    v.put_u8(0);
    v.put_u32(no.0);
    v.put_u32(seg.0);
    v.put_u64(scn.0);
    // Unused ITL entries (`Itl::default()`) encode as all zeros.
    v.resize(v.len() + itls as usize * ITL_LEN, 0);
    v.put_u16(rows.len() as u16);
    for r in rows {
        v.put_u8(SlotState::Live as u8);
        v.put_u8(0); // lock byte: no row lock, the load's undo is the HWM
        let len_at = v.len();
        v.put_u16(0);
        encode_row_into(v, r);
        let len = (v.len() - len_at - 2) as u16;
        v[len_at..len_at + 2].copy_from_slice(&len.to_le_bytes());
    }
    if v.len() - start > bs {
        return Err(format!(
            "direct-path block {} encodes to {} bytes, more than the block size {bs}",
            no.0,
            v.len() - start
        ));
    }
    v.resize(start + bs, 0);
    Ok(())
}

/// The slots of an `Op::HeapImage` for `rows`: their encodings share one
/// buffer (one allocation per block), each slot a view of its row.
fn image_slots(rows: &[Row]) -> Vec<Slot> {
    let mut bytes = Vec::new();
    let mut ends = Vec::with_capacity(rows.len());
    for r in rows {
        encode_row_into(&mut bytes, r);
        ends.push(bytes.len());
    }
    let bytes = Bytes::from(bytes);
    let mut from = 0;
    ends.into_iter()
        .map(|to| {
            let data = bytes.slice(from..to);
            from = to;
            Slot {
                state: SlotState::Live,
                lock: 0,
                data,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::encode_row;

    fn plan_blocks(rows: &[Row], bs: usize, itls: u8) -> Result<Vec<u16>> {
        let mut plan = BlockPlan::new(bs, itls);
        for r in rows {
            plan.add(r);
        }
        plan.finish(rows.len(), bs, itls)
    }

    fn rows(n: usize) -> Vec<Row> {
        (0..n as i64)
            .map(|i| {
                vec![
                    Value::Int(i),
                    if i % 3 == 0 {
                        Value::Null
                    } else {
                        Value::Real(i as f64 / 2.0)
                    },
                    Value::Text("x".repeat((i as usize * 37) % 200)),
                ]
            })
            .collect()
    }

    /// The block `encode_heap_image` streams, built the ordinary way.
    fn reference(no: BlockNo, seg: BlockNo, scn: Scn, itls: u8, rows: &[Row]) -> Block {
        Block {
            no,
            seg,
            scn,
            itl: vec![Itl::default(); itls as usize],
            body: Body::Heap(
                rows.iter()
                    .map(|r| Slot {
                        state: SlotState::Live,
                        lock: 0,
                        data: Bytes::from(encode_row(r)),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn a_streamed_image_is_what_block_encode_writes_for_the_same_rows() {
        let (bs, itls) = (8192, 2);
        let all = rows(2000);
        let per_block = plan_blocks(&all, bs, itls).unwrap();
        assert!(per_block.len() > 3, "the sample spans several blocks");
        let mut buf = Vec::new();
        for (k, part) in ranges(&per_block).map(|p| &all[p]).enumerate() {
            let no = BlockNo(100 + k as u32);
            let (seg, scn) = (BlockNo(9), Scn(1234 + k as u64));
            buf.clear();
            // Something already in the buffer must not leak into the image.
            buf.extend_from_slice(&[0xAA; 3]);
            encode_heap_image(&mut buf, bs, no, seg, scn, itls, part).unwrap();
            let block = reference(no, seg, scn, itls, part);
            let mut want = vec![0u8; bs];
            block.encode(&mut want).unwrap();
            assert_eq!(&buf[3..], &want[..], "block {k}");
            assert_eq!(Block::decode(no, &buf[3..]).unwrap(), block);
        }
    }

    #[test]
    fn the_plan_packs_blocks_full_in_row_order() {
        let (bs, itls) = (2048, 1);
        let all = rows(500);
        let per_block = plan_blocks(&all, bs, itls).unwrap();
        assert_eq!(per_block.iter().map(|&n| n as usize).sum::<usize>(), 500);
        let empty = HEADER_LEN + ITL_LEN + 2;
        let cost = |r: &Row| SLOT_HEADER_LEN + encoded_row_len(r);
        let parts: Vec<&[Row]> = ranges(&per_block).map(|p| &all[p]).collect();
        for (k, part) in parts.iter().enumerate() {
            let used = empty + part.iter().map(cost).sum::<usize>();
            assert!(used <= bs, "block {k} fits");
            if let Some(next) = parts.get(k + 1) {
                assert!(used + cost(&next[0]) > bs, "block {k} is full");
            }
        }
    }

    #[test]
    fn a_row_too_large_for_any_block_fails_the_plan() {
        let mut some = rows(3);
        some.insert(1, vec![Value::Text("y".repeat(3000))]);
        assert!(matches!(
            plan_blocks(&some, 2048, 1),
            // 2 count + 1 tag + 2 length + 3000 bytes
            Err(Error::RowTooLarge { size: 3005, max }) if max == max_row_len(2048, 1)
        ));
        assert!(plan_blocks(&[], 2048, 1).unwrap().is_empty());
    }

    #[test]
    fn a_plan_made_for_other_rows_is_refused() {
        let all = rows(10);
        let mut plan = BlockPlan::new(2048, 1);
        for r in &all[..9] {
            plan.add(r);
        }
        assert!(matches!(plan.finish(10, 2048, 1), Err(Error::Internal(_))));
    }

    #[test]
    fn image_slots_hold_each_row_encoding() {
        let part = rows(10);
        let slots = image_slots(&part);
        assert_eq!(slots.len(), 10);
        for (s, r) in slots.iter().zip(&part) {
            assert_eq!(s.data, Bytes::from(encode_row(r)));
            assert_eq!((s.state, s.lock), (SlotState::Live, 0));
        }
    }
}
