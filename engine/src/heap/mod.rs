//! Heap tables: segments of slotted blocks, rowids, and row changes.
//!
//! ```text
//!  segment header (first block of the first extent)
//!    extents [(first, len) ...] | HWM (blocks formatted) | free list
//!  heap block
//!    header | ITL[n] | slot count | slot* (state, lock byte, row bytes)
//! ```
//!
//! A rowid is `block.slot`; slots never move, so a rowid stays valid for the
//! life of its row. An insert takes the first block on the segment's free
//! list; a block that turns out full is taken off the list; with an empty
//! list the HWM advances one block (formatting it), and past the last extent
//! a new extent is allocated. A delete puts its block back on the list.
//! An update that fits in place logs only the columns it changes (redo:
//! their new values, undo: their old ones, `Op::UpdateCols`), as Oracle's
//! "update row piece" does, so its redo and undo grow with the number and
//! width of the changed columns, not with the row.
//! An update that no longer fits in its block moves the row (a delete here
//! and an insert elsewhere) and returns the new rowid — a simplification of
//! Oracle's row migration, which keeps the old rowid with a forwarding
//! pointer.
//!
//! Reads find rows in consistent mode (`txn::read_consistent`); changes
//! latch the current block, lock the row (waiting for an active holder) and
//! go through `undo::logged_change`, which writes undo and redo.
//!
//! Invariant: a slot's lock byte is 0 or names an ITL entry of its block.
//! Invariant: a deleted slot keeps its bytes until a later insert reuses
//! it after the delete committed, so rolling back a delete always fits.

use bytes::Bytes;

use crate::block::{Block, Body, Itl, Op, Slot, SlotState, UndoOp, HEADER_LEN, ITL_LEN};
use crate::buffer::{BufWrite, Mode};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, RowId, Scn};
use crate::kernel::Kernel;
use crate::redo::record::RecKind;
use crate::space::{find_block, nth_block, seg_header, set_free};
use crate::stats::{SessionStats, Stat};
use crate::txn::itl::{acquire_itl, itl_committed, itl_growth};
use crate::txn::{read_consistent, Isolation, Snapshot, TxnCtx};
use crate::undo::logged_change;
use crate::value::changed_columns;

mod direct;
pub use direct::DirectLoad;
pub(crate) use direct::{direct_insert, BlockPlan};

/// Largest row (encoded) a block of `block_size` can hold.
pub fn max_row_len(block_size: usize, initrans: u8) -> usize {
    block_size - HEADER_LEN - (initrans as usize + 1) * ITL_LEN - 2 - 4
}

/// Every block of the segment below the HWM, header excluded.
///
/// With a snapshot, the HWM is the one as of that snapshot (a direct-path
/// load publishes its blocks by moving the HWM at commit; the segment
/// header is read consistently so a reader older than that commit does not
/// see them); without one, the current HWM.
pub(crate) fn segment_blocks(
    core: &Kernel,
    stats: &SessionStats,
    seg: BlockNo,
    snap: Option<Snapshot>,
) -> Result<Vec<BlockNo>> {
    let h = match snap {
        Some(snap) => seg_header(core, &*read_consistent(core, stats, seg, snap)?)?,
        None => seg_header(core, &*core.cache.get(seg, Mode::Consistent, stats)?)?,
    };
    Ok((1..h.hwm).filter_map(|i| nth_block(&h, i)).collect())
}

/// Inserts a row; returns its rowid.
pub(crate) fn insert(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    seg: BlockNo,
    row: &[u8],
) -> Result<RowId> {
    let max = max_row_len(core.file.block_size(), core.cfg.initrans);
    if row.len() > max {
        return Err(Error::RowTooLarge {
            size: row.len(),
            max,
        });
    }
    let data = Bytes::copy_from_slice(row);
    core.reserve_redo()?;
    loop {
        let no = find_block(core, stats, seg)?;
        let mut b = core.cache.get_mut(no, stats)?;
        if let Some(slot) = try_insert(core, stats, txn, &mut b, &data)? {
            return Ok(RowId { block: no, slot });
        }
        drop(b);
        set_free(core, stats, seg, no, false)?;
    }
}

fn try_insert<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    b: &mut BufWrite<'a>,
    data: &Bytes,
) -> Result<Option<u16>> {
    if !matches!(b.body, Body::Heap(_)) {
        return Err(Error::corrupt(
            core.file.name(),
            b.no.0 as u64,
            "free list names a non-table block",
        ));
    }
    let Some(itl_idx) = acquire_itl(core, stats, txn, b, 4 + data.len())? else {
        return Ok(None);
    };
    // A slot to use: unused, or deleted by a transaction that committed.
    let mut reuse = None;
    let n_slots = match &b.body {
        Body::Heap(s) => s.len(),
        _ => 0,
    };
    for i in 0..n_slots {
        let (state, lock) = match &b.body {
            Body::Heap(s) => (s[i].state, s[i].lock),
            _ => break,
        };
        let free = match state {
            SlotState::Unused => true,
            SlotState::Deleted => lock == 0 || itl_committed(core, stats, b, lock as usize - 1)?,
            SlotState::Live => false,
        };
        if free {
            reuse = Some(i);
            break;
        }
    }
    let slot = reuse.unwrap_or(n_slots);
    let old_len = match (&b.body, reuse) {
        (Body::Heap(s), Some(i)) => s[i].encoded_len(),
        _ => 0,
    };
    let new_len = b.encoded_len() - old_len + 4 + data.len() + itl_growth(b, itl_idx);
    if new_len > core.file.block_size() {
        return Ok(None);
    }
    let value = Slot {
        state: SlotState::Live,
        lock: itl_idx + 1,
        data: data.clone(),
    };
    change_slot(core, stats, txn, b, slot as u16, value, itl_idx)?;
    Ok(Some(slot as u16))
}

/// Inserts many rows, filling each block with as many as fit in one
/// logged change (`Op::InsertRows`, undo `UndoOp::NewRows`): one redo
/// record, one undo record and four block gets per block instead of per
/// row. Free slots are reused as by a single-row insert. Returns the
/// rowids, in the order of `rows`.
pub(crate) fn insert_many(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    seg: BlockNo,
    rows: &[Bytes],
) -> Result<Vec<RowId>> {
    let max = max_row_len(core.file.block_size(), core.cfg.initrans);
    if let Some(r) = rows.iter().find(|r| r.len() > max) {
        return Err(Error::RowTooLarge { size: r.len(), max });
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut rest = rows;
    while !rest.is_empty() {
        core.reserve_redo()?;
        let no = find_block(core, stats, seg)?;
        let mut b = core.cache.get_mut(no, stats)?;
        let slots = try_insert_many(core, stats, txn, &mut b, rest)?;
        let n = slots.len();
        out.extend(slots.into_iter().map(|slot| RowId { block: no, slot }));
        drop(b);
        if n < rest.len() {
            // The next row did not fit: this block is full for it.
            set_free(core, stats, seg, no, false)?;
        }
        rest = &rest[n..];
    }
    Ok(out)
}

/// Puts as many of `rows` as fit into block `b` in one logged change:
/// first into free slots (unused, or holding a row whose delete has
/// committed), as a single-row insert would, then after the last slot.
/// Returns the slots used, in the order of `rows` (empty: none fit).
fn try_insert_many<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    b: &mut BufWrite<'a>,
    rows: &[Bytes],
) -> Result<Vec<u16>> {
    if !matches!(b.body, Body::Heap(_)) {
        return Err(Error::corrupt(
            core.file.name(),
            b.no.0 as u64,
            "free list names a non-table block",
        ));
    }
    let Some(itl_idx) = acquire_itl(core, stats, txn, b, 4 + rows[0].len())? else {
        return Ok(Vec::new());
    };
    let room = core.file.block_size();
    let mut used = b.encoded_len() + itl_growth(b, itl_idx);
    let n_slots = slot_count(b);
    let mut placed: Vec<(u16, Bytes)> = Vec::new();
    let mut rows_left = rows.iter();
    // Free slots in the middle first; whether an ITL entry's transaction
    // has ended is asked once per entry.
    let mut ended: Vec<Option<bool>> = vec![None; b.itl.len()];
    for i in 0..n_slots {
        let (state, lock, old_len) = match &b.body {
            Body::Heap(s) => (s[i].state, s[i].lock, s[i].encoded_len()),
            _ => break,
        };
        let free = match state {
            SlotState::Unused => true,
            SlotState::Deleted if lock == 0 => true,
            SlotState::Deleted => {
                let k = lock as usize - 1;
                match ended.get(k).copied().flatten() {
                    Some(e) => e,
                    None => {
                        let e = itl_committed(core, stats, b, k)?;
                        if let Some(slot) = ended.get_mut(k) {
                            *slot = Some(e);
                        }
                        e
                    }
                }
            }
            SlotState::Live => false,
        };
        if !free {
            continue;
        }
        let Some(r) = rows_left.as_slice().first() else {
            break;
        };
        if used - old_len + 4 + r.len() > room {
            break;
        }
        used = used - old_len + 4 + r.len();
        placed.push((i as u16, r.clone()));
        rows_left.next();
    }
    // Then after the last slot; rows keep their order (a row that did not
    // fit a free slot in the middle does not fit at the end either).
    for (next, r) in (n_slots..).zip(rows_left) {
        if next >= u16::MAX as usize || used + 4 + r.len() > room {
            break;
        }
        used += 4 + r.len();
        placed.push((next as u16, r.clone()));
    }
    if placed.is_empty() {
        return Ok(Vec::new());
    }
    let slots: Vec<u16> = placed.iter().map(|(s, _)| *s).collect();
    logged_change(
        core,
        stats,
        txn,
        b,
        itl_idx,
        UndoOp::NewRows {
            slots: slots.clone(),
        },
        |itl| Op::InsertRows {
            rows: placed,
            itl_idx,
            itl,
        },
    )?;
    Ok(slots)
}

fn slot_count(b: &Block) -> usize {
    match &b.body {
        Body::Heap(s) => s.len(),
        _ => 0,
    }
}

/// The read point of a DML statement: its snapshot and isolation level
/// (which decides whether a row changed since the snapshot is an error).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadPoint {
    pub snap: Snapshot,
    pub iso: Isolation,
}

/// Latches the block of `rowid` and locks the row for `txn`, waiting while
/// another active transaction holds it. Under SERIALIZABLE, fails if the
/// row changed after the transaction's snapshot.
fn lock_row<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &TxnCtx,
    at: ReadPoint,
    rowid: RowId,
) -> Result<(BufWrite<'a>, u8)> {
    let ReadPoint { snap, iso } = at;
    loop {
        // What the snapshot saw, for the serializable check (read before
        // latching: a consistent read takes the block's latch itself).
        let seen = if iso == Isolation::Serializable {
            let v = read_consistent(core, stats, rowid.block, snap)?;
            slot_of(&v, rowid.slot).map(|s| (s.state, s.data.clone()))
        } else {
            None
        };
        let mut b = core.cache.get_mut(rowid.block, stats)?;
        let Some(s) = slot_of(&b, rowid.slot).cloned() else {
            return Err(Error::NoSuchRow(rowid.to_string()));
        };
        if s.lock != 0 {
            let e: Itl = *b.itl.get(s.lock as usize - 1).ok_or_else(|| {
                Error::corrupt(
                    core.file.name(),
                    rowid.block.0 as u64,
                    "lock byte names no ITL entry",
                )
            })?;
            if e.xid != txn.xid && !itl_committed(core, stats, &mut b, s.lock as usize - 1)? {
                drop(b);
                core.waits
                    .wait_for(txn.xid, e.xid, core.cfg.lock_timeout, stats)?;
                continue;
            }
        }
        if s.state != SlotState::Live {
            return Err(Error::NoSuchRow(rowid.to_string()));
        }
        if iso == Isolation::Serializable && seen != Some((s.state, s.data.clone())) {
            stats.inc(Stat::SerializeFailures);
            return Err(Error::CannotSerialize {
                rowid: rowid.to_string(),
            });
        }
        let Some(itl_idx) = acquire_itl(core, stats, txn, &mut b, 0)? else {
            // Every ITL entry is held by an active transaction and the block
            // has no room for another: wait for the first of them.
            let holder = b.itl[0].xid;
            drop(b);
            core.waits
                .wait_for(txn.xid, holder, core.cfg.lock_timeout, stats)?;
            continue;
        };
        return Ok((b, itl_idx));
    }
}

fn slot_of(b: &Block, slot: u16) -> Option<&Slot> {
    match &b.body {
        Body::Heap(s) => s.get(slot as usize),
        _ => None,
    }
}

/// Replaces the row at `rowid` with `new(current row bytes)`, computed
/// after the row is locked, so it always sees the latest committed version
/// (`None` leaves the row alone). Returns the rowid (new if it had to move),
/// or `None` if `new` declined.
pub(crate) fn update(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    seg: BlockNo,
    rowid: RowId,
    new: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>>,
) -> Result<Option<RowId>> {
    core.reserve_redo()?;
    let (mut b, itl_idx) = lock_row(core, stats, txn, at, rowid)?;
    let old = slot_of(&b, rowid.slot).cloned().unwrap_or(Slot::UNUSED);
    let Some(row) = new(&old.data)? else {
        return Ok(None);
    };
    let max = max_row_len(core.file.block_size(), core.cfg.initrans);
    if row.len() > max {
        return Err(Error::RowTooLarge {
            size: row.len(),
            max,
        });
    }
    let new_len = b.encoded_len() - old.data.len() + row.len() + itl_growth(&b, itl_idx);
    if new_len <= core.file.block_size() {
        let lock = itl_idx + 1;
        match changed_columns(&old.data, &row) {
            // Redo carries the changed columns' new values, undo their old
            // ones: neither grows with the columns the UPDATE leaves alone.
            Some((redo, undo)) => {
                let slot = rowid.slot;
                logged_change(
                    core,
                    stats,
                    txn,
                    &mut b,
                    itl_idx,
                    UndoOp::Cols {
                        slot,
                        lock: old.lock,
                        cols: undo,
                    },
                    |itl| Op::UpdateCols {
                        slot,
                        lock,
                        cols: redo,
                        itl_idx,
                        itl,
                    },
                )?;
            }
            // Not two rows of the same columns (a table's column count
            // changed, or bytes that are not a row): the whole row.
            None => {
                let value = Slot {
                    state: SlotState::Live,
                    lock,
                    data: Bytes::from(row),
                };
                change_slot(core, stats, txn, &mut b, rowid.slot, value, itl_idx)?;
            }
        }
        return Ok(Some(rowid));
    }
    // It no longer fits: delete here, insert elsewhere.
    let gone = Slot {
        state: SlotState::Deleted,
        lock: itl_idx + 1,
        data: old.data,
    };
    change_slot(core, stats, txn, &mut b, rowid.slot, gone, itl_idx)?;
    drop(b);
    stats.inc(Stat::RowMigrations);
    insert(core, stats, txn, seg, &row).map(Some)
}

/// Deletes the row at `rowid`.
pub(crate) fn delete(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    seg: BlockNo,
    rowid: RowId,
) -> Result<Bytes> {
    delete_if(core, stats, txn, at, seg, rowid, |_| Ok(true))?
        .ok_or_else(|| Error::Internal("delete declined".into()))
}

/// Deletes the row at `rowid` if `keep_going(current image)` says so once
/// the row is locked (a searched DELETE re-checks its WHERE clause on the
/// current version); returns the deleted image, or `None` when declined.
pub(crate) fn delete_if(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    at: ReadPoint,
    seg: BlockNo,
    rowid: RowId,
    keep_going: impl FnOnce(&[u8]) -> Result<bool>,
) -> Result<Option<Bytes>> {
    core.reserve_redo()?;
    let (mut b, itl_idx) = lock_row(core, stats, txn, at, rowid)?;
    let old = slot_of(&b, rowid.slot).cloned().unwrap_or(Slot::UNUSED);
    if !keep_going(&old.data)? {
        return Ok(None);
    }
    let gone = Slot {
        state: SlotState::Deleted,
        lock: itl_idx + 1,
        data: old.data.clone(),
    };
    change_slot(core, stats, txn, &mut b, rowid.slot, gone, itl_idx)?;
    drop(b);
    set_free(core, stats, seg, rowid.block, true)?;
    Ok(Some(old.data))
}

/// Changes one row slot through `undo::logged_change` (its undo is the
/// slot as it was).
fn change_slot<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    b: &mut BufWrite<'a>,
    slot: u16,
    value: Slot,
    itl_idx: u8,
) -> Result<()> {
    let before = slot_of(b, slot).cloned().unwrap_or(Slot::UNUSED);
    logged_change(
        core,
        stats,
        txn,
        b,
        itl_idx,
        UndoOp::Slot { slot, before },
        |itl| Op::SetSlot {
            slot,
            value,
            itl_idx,
            itl,
        },
    )?;
    Ok(())
}

/// The row at `rowid` as of `snap`, if it exists there.
pub(crate) fn fetch(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    rowid: RowId,
) -> Result<Option<Bytes>> {
    stats.inc(Stat::TableFetchByRowid);
    let v = read_consistent(core, stats, rowid.block, snap)?;
    Ok(slot_of(&v, rowid.slot)
        .filter(|s| s.state == SlotState::Live)
        .map(|s| s.data.clone()))
}

/// Full scan as of `snap`: every live row below the HWM, in rowid order.
pub(crate) fn scan(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    seg: BlockNo,
    mut f: impl FnMut(RowId, &[u8]) -> Result<()>,
) -> Result<()> {
    scan_while(core, stats, snap, seg, |rowid, bytes| {
        f(rowid, bytes).map(|()| true)
    })
}

/// [`scan`] that stops as soon as `f` returns false (a LIMIT is reached):
/// the blocks after that row are not read.
pub(crate) fn scan_while(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    seg: BlockNo,
    mut f: impl FnMut(RowId, &[u8]) -> Result<bool>,
) -> Result<()> {
    for no in segment_blocks(core, stats, seg, Some(snap))? {
        for (slot, data) in scan_block(core, stats, no, snap)? {
            stats.inc(Stat::TableScanRows);
            if !f(RowId { block: no, slot }, &data)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// One block of a full scan: its live rows as of `snap` (one consistent
/// get, `table scan blocks gotten`). The rows are taken (each a shared
/// handle on its bytes, no copy) and the block's latch released before
/// anyone sees them: the caller evaluates the query's filters, and a
/// function among them may run a query of its own (recursive SQL) that
/// gets this very block; under the latch it could wait behind a writer
/// that waits for us. The caller counts `table scan rows gotten` as it
/// takes each row, so a scan that stops early counts only what it read.
pub(crate) fn scan_block(
    core: &Kernel,
    stats: &SessionStats,
    no: BlockNo,
    snap: Snapshot,
) -> Result<Vec<(u16, Bytes)>> {
    let v = read_consistent(core, stats, no, snap)?;
    stats.inc(Stat::TableScanBlocks);
    Ok(live_rows(&v.body))
}

/// A heap block's live rows by slot, each a shared handle on its bytes
/// (no copy), so that the block's latch can be let go before anyone looks
/// at them.
fn live_rows(body: &Body) -> Vec<(u16, Bytes)> {
    match body {
        Body::Heap(slots) => slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == SlotState::Live)
            .map(|(i, s)| (i as u16, s.data.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Decoded rows of a full scan as of `snap` that `keep` accepts.
pub(crate) fn scan_rows(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    seg: BlockNo,
    mut keep: impl FnMut(&crate::value::Row) -> bool,
) -> Result<Vec<(RowId, crate::value::Row)>> {
    let mut out = Vec::new();
    scan(core, stats, snap, seg, |rowid, bytes| {
        let row = crate::value::decode_row(bytes)
            .map_err(|r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r))?;
        if keep(&row) {
            out.push((rowid, row));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Every live row below the HWM in its current version, including other
/// transactions' uncommitted changes (db block gets; used by foreign-key
/// checks, which must see rows in flight).
pub(crate) fn scan_current(
    core: &Kernel,
    stats: &SessionStats,
    seg: BlockNo,
    mut f: impl FnMut(RowId, &[u8]) -> Result<()>,
) -> Result<()> {
    for no in segment_blocks(core, stats, seg, None)? {
        let rows: Vec<(u16, Bytes)> = {
            let b = core.cache.get(no, Mode::Current, stats)?;
            live_rows(&b.body)
        };
        for (slot, data) in rows {
            f(RowId { block: no, slot }, &data)?;
        }
    }
    Ok(())
}
