//! Undo: the transaction table and the ring of undo blocks.
//!
//! ```text
//!  undo header (block 1)                        undo ring (extents)
//!  ┌──────────────────────────────┐             ┌────┬────┬────┬────┬────┐
//!  │ tx table: slot wrap state    │   next ──▶  │ 17 │ 18 │ 19 │ 40 │ 41 │ ...
//!  │   0: 12 committed@118 uba    │             └────┴────┴────┴────┴────┘
//!  │   1: 13 active  start@120    │   each undo block: wrap, owner xid,
//!  │ extents, next, control SCN   │   records [UndoRec ...]
//!  └──────────────────────────────┘
//! ```
//!
//! A transaction takes a transaction-table slot at its first change (its
//! xid is segment.slot.wrap) and fills undo blocks it owns, taken from the
//! ring in order. Each undo record points back to the transaction's previous
//! record (the rollback chain) and holds the ITL entry it replaced (the
//! block's own chain, used by consistent reads).
//!
//! Taking the next ring block, in this order:
//! 1. a block whose owner is rolled back, or committed longer ago than
//!    `undo_retention` (expired), or never used: reuse it. When the owner's
//!    transaction-table slot has been taken by a later transaction, the
//!    owner's commit time is no longer in the table; it is bounded by the
//!    time stamp of the slot's present occupant, and the block counts as
//!    expired only when that stamp is older than the retention;
//! 2. otherwise, if `undo_autoextend` and below `undo_max_blocks`: add an
//!    extent right after the current position and use it (its size: below);
//! 3. otherwise, if the owner is committed (unexpired undo): steal it —
//!    readers that still need it will get snapshot too old;
//! 4. otherwise (the owner is active): the writer fails with
//!    `UndoExhausted`.
//!
//! **Extent sizes.** The ring's extents are listed in the undo segment
//! header, next to the transaction table, and the list has room for a
//! fixed number of them (127 with 2 KiB blocks, 511 with 8 KiB). Extents
//! of `extent_blocks` (at least 8) are added while the list has more than
//! 32 free entries; in the last 32, each new extent is as large as the ring
//! already is, so the ring doubles, and 32 doublings reach any
//! `undo_max_blocks`. So an autoextending undo grows until
//! `undo_max_blocks`, as the setting says, and small rings grow exactly as
//! they did. Oracle's answer is different: extent map blocks continue a
//! full segment header's list. That keeps every extent the same size, but
//! needs another block kind with its own redo, and a walk of the map for
//! every ring position; the doubling keeps the whole ring described by one
//! header block (as Oracle's AUTOALLOCATE also grows extent sizes with the
//! segment).
//!
//! Where the records are read: a consistent read rolls a block back with
//! them in `txn::read` (`read_consistent`, which clones the block and
//! applies the records of the ITL entries the reader must not see);
//! rollback and recovery walk a transaction's chain in `txn::lifecycle`.
//! This module writes the records (`logged_change`, the undo record first,
//! then the change, in one redo record) and keeps the per-transaction undo
//! state (`TxnCtx`).
//!
//! Invariant: undo of an active transaction is never overwritten.
//! Invariant: reusing an undo block bumps its wrap, so every undo address
//! (uba) into its earlier life stops resolving.

use std::collections::BTreeSet;

use crate::block::{Body, Itl, Op, TxSlot, TxState, UndoOp, UndoRec, HEADER_LEN};
use crate::buffer::{BufWrite, Mode};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba, Xid};
use crate::kernel::{undo_header, Kernel, RecHead};
use crate::redo::record::RecKind;
use crate::space::alloc_extent;
use crate::stats::{SessionStats, Stat};

/// Transaction-table slots in the undo header, for a given block size.
pub(crate) fn tx_slots_for(block_size: usize) -> u16 {
    // Half the header block for the table; the rest holds extents.
    (((block_size - HEADER_LEN) / 2) / crate::block::TX_SLOT_LEN).min(256) as u16
}

pub(crate) fn header_parts(core: &Kernel, h: &BufWrite<'_>) -> Result<crate::block::UndoHeader> {
    match &h.body {
        Body::UndoHeader(u) => Ok(u.clone()),
        _ => Err(Error::corrupt(
            core.file.name(),
            h.no.0 as u64,
            "not an undo header",
        )),
    }
}

fn ring_len(extents: &[(u32, u32)]) -> u32 {
    extents.iter().map(|e| e.1).sum()
}

fn ring_block(extents: &[(u32, u32)], mut pos: u32) -> BlockNo {
    for &(start, len) in extents {
        if pos < len {
            return BlockNo(start + pos);
        }
        pos -= len;
    }
    // Callers reduce `pos` modulo the ring length, so this is not reached.
    BlockNo(extents.first().map_or(0, |e| e.0))
}

/// The undo size in blocks: every segment's ring (it grows when undo
/// autoextends; claim C40). Reads the segment headers with `stats`.
pub(crate) fn ring_blocks(core: &Kernel, stats: &SessionStats) -> Result<u32> {
    let mut total = 0;
    for seg in 0..core
        .undo_segments
        .load(std::sync::atomic::Ordering::Acquire) as u16
    {
        let h = core.cache.get(undo_header(seg), Mode::Current, stats)?;
        match &h.body {
            Body::UndoHeader(u) => total += ring_len(&u.extents),
            _ => {
                return Err(Error::corrupt(
                    core.file.name(),
                    h.no.0 as u64,
                    "not an undo header",
                ))
            }
        }
    }
    Ok(total)
}

/// The transaction-table slot of `txn` with a new chain head / state.
pub(crate) fn tx_slot(core: &Kernel, txn: &TxnCtx, state: TxState, scn: Scn, last_uba: Uba) -> Op {
    Op::TxSlot {
        idx: txn.slot,
        slot: TxSlot {
            wrap: txn.xid.wrap(),
            state,
            scn,
            last_uba,
            time_ms: core.cfg.clock.now_ms(),
        },
    }
}

/// Reads the undo record at `uba`; `None` if it has been overwritten.
pub(crate) fn read_undo(
    core: &Kernel,
    stats: &SessionStats,
    uba: Uba,
    mode: Mode,
) -> Result<Option<UndoRec>> {
    if uba.is_none() {
        return Ok(None);
    }
    let b = core.cache.get(uba.block(), mode, stats)?;
    match &b.body {
        Body::Undo(u) if u.wrap == uba.wrap() => Ok(u.records.get(uba.index() as usize).cloned()),
        _ => Ok(None),
    }
}

/// What the ring block at the next position holds.
enum RingState {
    Reusable,
    Unexpired,
    Active,
}

fn ring_state(
    core: &Kernel,
    stats: &SessionStats,
    u: &crate::block::UndoHeader,
    no: BlockNo,
) -> Result<(RingState, u16)> {
    let b = core.cache.get(no, Mode::Current, stats)?;
    let Body::Undo(body) = &b.body else {
        return Ok((RingState::Reusable, 0));
    };
    let owner = body.owner;
    let wrap = body.wrap;
    let Some(s) = u.slots.get(owner.slot() as usize) else {
        return Ok((RingState::Reusable, wrap));
    };
    let expired = |time_ms: u64| !within_retention(core, time_ms);
    if s.wrap != owner.wrap() {
        // The owner's slot has been taken again, so its commit time is
        // gone from the table. Two upper bounds remain: the header's
        // control time (the latest commit time of any slot taken again),
        // and the time stamp of the slot's present occupant (the owner
        // ended before its slot was taken, which was at or before every
        // stamp of the occupant). If either is older than the retention,
        // so is the owner's commit. Otherwise the owner may still be
        // unexpired, and its undo is kept as such: never overwritten early,
        // at the price of keeping it longer than needed when the bound is
        // loose (only after a slot had to be taken from an unexpired
        // commit, see `txn::lifecycle::choose_slot`).
        return Ok(if expired(u.control_time_ms.min(s.time_ms)) {
            (RingState::Reusable, wrap)
        } else {
            (RingState::Unexpired, wrap)
        });
    }
    Ok(match s.state {
        TxState::Active => (RingState::Active, wrap),
        TxState::Committed if !expired(s.time_ms) => (RingState::Unexpired, wrap),
        _ => (RingState::Reusable, wrap),
    })
}

/// Whether a commit at `time_ms` is younger than `undo_retention`, by the
/// instance's clock.
pub(crate) fn within_retention(core: &Kernel, time_ms: u64) -> bool {
    within_retention_at(core, core.cfg.clock.now_ms(), time_ms)
}

/// [`within_retention`] with the clock read by the caller: a scan over
/// many commit times reads the clock once (a system-clock read per
/// transaction-table slot was a visible part of every `begin`).
pub(crate) fn within_retention_at(core: &Kernel, now_ms: u64, time_ms: u64) -> bool {
    let retention = u64::try_from(core.cfg.undo_retention.as_millis()).unwrap_or(u64::MAX);
    now_ms.saturating_sub(time_ms) < retention
}

/// Gives `txn` a fresh undo block from the ring (see the module doc for
/// the order of choices) and returns it, formatted and still latched, so
/// the record that needed it is written in the same get. `h` is the
/// latched undo header.
fn alloc_undo_block<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    h: &mut BufWrite<'a>,
) -> Result<BufWrite<'a>> {
    let mut u = header_parts(core, h)?;
    let len = ring_len(&u.extents);
    if len == 0 {
        return Err(Error::corrupt(
            core.file.name(),
            h.no.0 as u64,
            "undo header has no undo extents",
        ));
    }
    let pos = u.next % len;
    let candidate = ring_block(&u.extents, pos);
    let (state, old_wrap) = ring_state(core, stats, &u, candidate)?;
    // Extents the header's list has room for (8 bytes each).
    let free_entries = (core.file.block_size().saturating_sub(h.encoded_len()) / 8) as u32;
    let room = core.cfg.undo_max_blocks.saturating_sub(len);
    let can_extend = core.cfg.undo_autoextend && room > 0 && free_entries > 0;
    let (block, wrap, next) = match state {
        RingState::Reusable => (candidate, old_wrap.wrapping_add(1).max(1), pos + 1),
        _ if can_extend => {
            let n = extent_size(core.cfg.extent_blocks, len, free_entries).min(room);
            let first = alloc_extent(core, stats, n)?;
            // Insert the new extent right after the current position, so the
            // ring continues into it and then on to the older blocks.
            let mut acc = 0;
            let mut at = u.extents.len();
            for (i, e) in u.extents.iter().enumerate() {
                acc += e.1;
                if pos < acc {
                    at = i + 1;
                    break;
                }
            }
            let before: u32 = u.extents[..at].iter().map(|e| e.1).sum();
            u.extents.insert(at, (first, n));
            stats.inc(Stat::UndoExtends);
            (BlockNo(first), 1, before + 1)
        }
        RingState::Unexpired => {
            stats.inc(Stat::UndoUnexpiredStolen);
            (candidate, old_wrap.wrapping_add(1).max(1), pos + 1)
        }
        RingState::Active => {
            stats.inc(Stat::UndoSpaceErrors);
            let cause = if !core.cfg.undo_autoextend {
                "commit more often, or enable undo_autoextend".to_string()
            } else if room == 0 {
                format!(
                    "the undo has grown to undo_max_blocks ({}): commit more often, \
                     or raise undo_max_blocks",
                    core.cfg.undo_max_blocks
                )
            } else {
                // Not reached while `extent_size` doubles the last extents.
                format!(
                    "undo segment header {} has no room to list another extent",
                    h.no.0
                )
            };
            return Err(Error::UndoExhausted { blocks: len, cause });
        }
    };
    let mut b = core.cache.get_new(block, stats)?;
    let ring = Op::UndoRing {
        extents: u.extents.clone(),
        next: next % ring_len(&u.extents),
        control_scn: u.control_scn,
        slots: u.slots.len() as u16,
    };
    let owner = txn.xid;
    core.change(stats, RecHead::space(), &mut [h, &mut b], |_| {
        vec![ring, Op::FormatUndo { wrap, owner }]
    })?;
    stats.inc(Stat::UndoBlocksAllocated);
    txn.undo_block = Some((block, wrap));
    Ok(b)
}

/// Entries at the end of the header's extent list kept for extents that
/// double the ring: 32 doublings take any ring past `u32::MAX` blocks, so
/// the list never fills before `undo_max_blocks` (a `u32`) is reached.
const DOUBLING_ENTRIES: u32 = 32;

/// The size of the next undo extent, for a ring of `len` blocks whose
/// header can list `free_entries` more extents: `extent_blocks` (at least
/// 8) while the list has room to spare, then as large as the ring so far.
fn extent_size(extent_blocks: u32, len: u32, free_entries: u32) -> u32 {
    let base = extent_blocks.max(8);
    if free_entries > DOUBLING_ENTRIES {
        base
    } else {
        base.max(len)
    }
}

/// Logs and applies one transactional change to a data block: the undo
/// record (`undo`, plus the block's ITL entry as it was), the data op
/// (`redo`, given the transaction's new ITL entry), and the transaction's
/// new chain head, all in one redo record.
///
/// `data` must be latched by the caller. Returns the undo address written.
pub(crate) fn logged_change<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    data: &mut BufWrite<'a>,
    itl_idx: u8,
    undo: UndoOp,
    redo: impl FnOnce(Itl) -> Op,
) -> Result<Uba> {
    let prev_itl = data.itl.get(itl_idx as usize).copied().unwrap_or_default();
    let mut rec = UndoRec {
        xid: txn.xid,
        prev_txn: txn.last_uba,
        block: data.no,
        itl_idx,
        prev_itl,
        scn: Scn(0),
        op: undo,
    };
    let rec_len = rec.encoded_len();
    // An empty undo block must be able to hold the record.
    if rec_len + HEADER_LEN + 64 > core.file.block_size() {
        return Err(Error::Internal(format!(
            "undo record of {rec_len} bytes does not fit an undo block"
        )));
    }
    // Latch order everywhere: data block, undo header, undo block.
    let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
    let fits =
        |core: &Kernel, b: &BufWrite<'_>| b.encoded_len() + rec_len <= core.file.block_size();
    // The transaction's undo block if the record fits there, else a new one
    // (which an empty block always has room for, checked above).
    let current = match txn.undo_block {
        Some((no, wrap)) => {
            let b = core.cache.get_mut(no, stats)?;
            match &b.body {
                Body::Undo(u) if u.wrap == wrap && u.owner == txn.xid => {
                    fits(core, &b).then_some(b)
                }
                _ => {
                    return Err(Error::Internal(format!(
                        "undo block {} of {} was taken",
                        no.0, txn.xid
                    )))
                }
            }
        }
        None => None,
    };
    let mut undo = match current {
        Some(b) => b,
        None => alloc_undo_block(core, stats, txn, &mut h)?,
    };
    if !fits(core, &undo) {
        return Err(Error::Internal(format!(
            "undo record of {rec_len} bytes does not fit a new undo block"
        )));
    }
    let (ublock, wrap) = txn.undo_block.unwrap_or_default();
    let index = match &undo.body {
        Body::Undo(u) => u.records.len() as u16,
        _ => 0,
    };
    let uba = Uba::new(ublock, wrap, index);
    let lock_count = if prev_itl.xid == txn.xid {
        prev_itl.lock_count.saturating_add(1)
    } else {
        1
    };
    let itl = Itl {
        xid: txn.xid,
        uba,
        commit_scn: Scn(0),
        lock_count,
    };
    let head = RecHead::new(RecKind::Change, txn.xid);
    let start = txn.start_scn;
    let txslot = tx_slot(core, txn, TxState::Active, start, uba);
    core.change(stats, head, &mut [data, &mut undo, &mut h], |scn| {
        rec.scn = scn;
        vec![redo(itl), Op::UndoAppend(rec), txslot]
    })?;
    stats.add(Stat::UndoChangeBytes, rec_len as u64);
    stats.inc(Stat::UndoRecordsWritten);
    txn.last_uba = uba;
    txn.blocks.insert(data.no);
    Ok(uba)
}

/// A transaction's state inside its session.
#[derive(Debug)]
pub(crate) struct TxnCtx {
    pub xid: Xid,
    pub slot: u16,
    pub start_scn: Scn,
    /// Head of the transaction's undo chain.
    pub last_uba: Uba,
    /// The undo block being filled: (block, wrap).
    pub undo_block: Option<(BlockNo, u16)>,
    /// Data blocks changed (for commit cleanout and `commit_mode = force`).
    pub blocks: BTreeSet<BlockNo>,
    /// The SCN the current statement reads as of.
    pub read_scn: Scn,
    /// Blocks written by direct path, to be synced before the commit record.
    pub direct_writes: bool,
    pub serializable: bool,
}
