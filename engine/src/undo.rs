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
//! Taking the next ring block (MECHANISMS §3.4), in this order:
//! 1. a block whose owner is rolled back, or committed longer ago than
//!    `undo_retention` (expired), or never used: reuse it;
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
//! Rolling back walks a transaction's chain newest first, each step logged
//! (compensation). Recovery rolls back every transaction the crash left
//! active in one pass, newest change first across all of them
//! (`rollback_all`), so a split cut short by the crash is taken back
//! before the user changes that came before it.
//!
//! Invariant: undo of an active transaction is never overwritten.
//! Invariant: reusing an undo block bumps its wrap, so every undo address
//! (uba) into its earlier life stops resolving.

use crate::block::{Body, Itl, Op, TxSlot, TxState, UndoOp, UndoRec, HEADER_LEN};
use crate::buffer::{BufWrite, Mode};
use crate::clock::now_ms;
use crate::kernel::{undo_header, Kernel, RecHead};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba, Xid};
use crate::redo::record::RecKind;
use crate::space::alloc_extent;
use crate::stats::{SessionStats, Stat};
use crate::txn::TxnCtx;

/// Transaction-table slots in the undo header, for a given block size.
pub(crate) fn tx_slots_for(block_size: usize) -> u16 {
    // Half the header block for the table; the rest holds extents.
    (((block_size - HEADER_LEN) / 2) / crate::block::TX_SLOT_LEN).min(256) as u16
}

fn header_parts(core: &Kernel, h: &BufWrite<'_>) -> Result<crate::block::UndoHeader> {
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

/// Starts a transaction: takes a free transaction-table slot.
pub(crate) fn begin(core: &Kernel, stats: &SessionStats, user: &str) -> Result<TxnCtx> {
    core.reserve_redo()?;
    // Transactions take the undo segments in turn.
    let hint = core
        .tx_hint
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed) as usize;
    let segments = core
        .undo_segments
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(1) as usize;
    let seg = (hint % segments) as u16;
    let mut h = core.cache.get_mut(undo_header(seg), stats)?;
    let u = header_parts(core, &h)?;
    let n = u.slots.len();
    let hint = hint / segments;
    let idx = (0..n)
        .map(|k| (hint + k) % n)
        .find(|&i| u.slots[i].state != TxState::Active)
        .ok_or_else(|| {
            Error::SpaceExhausted(format!("all {n} transaction-table slots are active"))
        })?;
    let start = core.visible_scn();
    let slot = TxSlot {
        wrap: u.slots[idx].wrap.wrapping_add(1).max(1),
        state: TxState::Active,
        scn: start,
        last_uba: Uba::NONE,
        time_ms: now_ms(),
    };
    let xid = Xid::new(seg, idx as u16, slot.wrap);
    let head = RecHead {
        kind: RecKind::Begin,
        xid,
        text: user,
    };
    core.change(stats, head, &mut [&mut h], |_| {
        vec![Op::TxSlot {
            idx: idx as u16,
            slot,
        }]
    })?;
    core.waits.register(xid);
    Ok(TxnCtx {
        xid,
        slot: idx as u16,
        start_scn: start,
        last_uba: Uba::NONE,
        undo_block: None,
        blocks: Default::default(),
        read_scn: start,
        serializable: false,
        direct_writes: false,
    })
}

/// The transaction-table slot of `txn` with a new chain head / state.
pub(crate) fn tx_slot(txn: &TxnCtx, state: TxState, scn: Scn, last_uba: Uba) -> Op {
    Op::TxSlot {
        idx: txn.slot,
        slot: TxSlot {
            wrap: txn.xid.wrap(),
            state,
            scn,
            last_uba,
            time_ms: now_ms(),
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
    if s.wrap != owner.wrap() {
        return Ok((RingState::Reusable, wrap));
    }
    Ok(match s.state {
        TxState::Active => (RingState::Active, wrap),
        TxState::Committed
            if now_ms().saturating_sub(s.time_ms) < core.cfg.undo_retention.as_millis() as u64 =>
        {
            (RingState::Unexpired, wrap)
        }
        _ => (RingState::Reusable, wrap),
    })
}

/// Gives `txn` a fresh undo block from the ring (see the module doc for
/// the order of choices). `h` is the latched undo header.
fn alloc_undo_block<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    h: &mut BufWrite<'a>,
) -> Result<()> {
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
    Ok(())
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
    let fits = |core: &Kernel, b: &BufWrite<'_>| b.encoded_len() + rec_len <= core.file.block_size();
    let mut undo = loop {
        if let Some((no, wrap)) = txn.undo_block {
            let b = core.cache.get_mut(no, stats)?;
            match &b.body {
                Body::Undo(u) if u.wrap == wrap && u.owner == txn.xid => {
                    if fits(core, &b) {
                        break b;
                    }
                }
                _ => {
                    return Err(Error::Internal(format!(
                        "undo block {} of {} was taken",
                        no.0, txn.xid
                    )))
                }
            }
        }
        alloc_undo_block(core, stats, txn, &mut h)?;
    };
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
    let txslot = tx_slot(txn, TxState::Active, start, uba);
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

/// Rolls `txn` back to `savepoint` (an earlier chain head; `Uba::NONE` for
/// the whole transaction), newest change first. Each step is itself logged
/// (compensation), so a crash in the middle of a rollback resumes from the
/// right place.
pub(crate) fn rollback_to(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    savepoint: Uba,
) -> Result<()> {
    while txn.last_uba != savepoint && !txn.last_uba.is_none() {
        undo_newest(core, stats, txn)?;
    }
    Ok(())
}

/// Rolls every transaction of `txns` back completely and ends each, as
/// recovery does with the transactions a crash left active: all of them in
/// one pass, newest change first across them all (by the SCN each undo
/// record carries), as the undo pass of ARIES (Mohan et al., 1992) walks
/// every loser's log records in one backward sweep. Returns how many.
///
/// One transaction after the other would not do. A split's system
/// transaction that was cut short by the crash moved entries of the user
/// transaction it ran for into a new node; taking the user transaction
/// back first removes those entries from the new node (its undo finds them
/// there by key), and taking the split back afterwards restores the split
/// node from the split's undo record, the user's entries included: they
/// would come back, pointing at rows that were never committed. In the
/// order the changes were made, backwards, each undo record meets the
/// block as it was just after its change, as in a session's own rollback.
pub(crate) fn rollback_all(
    core: &Kernel,
    stats: &SessionStats,
    mut txns: Vec<TxnCtx>,
) -> Result<usize> {
    let n = txns.len();
    // The SCN of each transaction's newest undo record (`None`: nothing left).
    let mut heads = Vec::with_capacity(n);
    for t in &txns {
        heads.push(head_scn(core, stats, t)?);
    }
    while let Some(i) = (0..n)
        .filter(|&i| heads[i].is_some())
        .max_by_key(|&i| heads[i])
    {
        undo_newest(core, stats, &mut txns[i])?;
        heads[i] = head_scn(core, stats, &txns[i])?;
    }
    for t in &txns {
        end_rollback(core, stats, t)?;
    }
    Ok(n)
}

/// The SCN of the change `txn`'s newest undo record takes back, if any.
fn head_scn(core: &Kernel, stats: &SessionStats, txn: &TxnCtx) -> Result<Option<Scn>> {
    if txn.last_uba.is_none() {
        return Ok(None);
    }
    Ok(Some(chain_head(core, stats, txn)?.scn))
}

/// The undo record at the head of `txn`'s chain, which must be there and
/// be `txn`'s.
fn chain_head(core: &Kernel, stats: &SessionStats, txn: &TxnCtx) -> Result<UndoRec> {
    let uba = txn.last_uba;
    let rec = read_undo(core, stats, uba, Mode::Current)?.ok_or_else(|| {
        Error::corrupt(
            core.file.name(),
            uba.block().0 as u64,
            format!("undo {uba} of active transaction {} is missing", txn.xid),
        )
    })?;
    if rec.xid != txn.xid {
        return Err(Error::corrupt(
            core.file.name(),
            uba.block().0 as u64,
            format!("undo {uba} belongs to {}, not {}", rec.xid, txn.xid),
        ));
    }
    Ok(rec)
}

/// Takes back `txn`'s newest change (the head of its undo chain), logged
/// with the chain head moved to the record before it.
fn undo_newest(core: &Kernel, stats: &SessionStats, txn: &mut TxnCtx) -> Result<()> {
    let uba = txn.last_uba;
    let rec = chain_head(core, stats, txn)?;
    core.reserve_redo()?;
    let mut data = core.cache.get_mut(rec.block, stats)?;
    // An index entry may have been moved by a split since: right along
    // the level, or down, when the node it was in was a leaf root that
    // has become a branch.
    let target = match &rec.op {
        UndoOp::IdxIns { key, level } => Some((key.clone(), *level)),
        UndoOp::IdxDel { entry, level } => Some((entry.key.clone(), *level)),
        _ => None,
    };
    if let Some((key, level)) = target {
        for _ in 0..1_000_000 {
            let next = match &data.body {
                Body::Index(n) if n.beyond(&key) && n.next != 0 => n.next,
                Body::Index(n) if n.level > level => match n.child_for(&key) {
                    Some(c) => c,
                    None => break,
                },
                _ => break,
            };
            drop(data);
            data = core.cache.get_mut(BlockNo(next), stats)?;
        }
    }
    let op = data.undo_op(&rec).map_err(|r| {
        Error::corrupt(
            core.file.name(),
            rec.block.0 as u64,
            format!("undo {uba}: {r}"),
        )
    })?;
    let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
    let txslot = tx_slot(txn, TxState::Active, txn.start_scn, rec.prev_txn);
    let head = RecHead::new(RecKind::Undo, txn.xid);
    core.change(stats, head, &mut [&mut data, &mut h], |_| vec![op, txslot])?;
    stats.inc(Stat::RollbackUndoApplied);
    txn.last_uba = rec.prev_txn;
    Ok(())
}

/// Marks the transaction rolled back in its slot (after `rollback_to(NONE)`).
pub(crate) fn end_rollback(core: &Kernel, stats: &SessionStats, txn: &TxnCtx) -> Result<()> {
    let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
    let op = tx_slot(txn, TxState::RolledBack, txn.start_scn, Uba::NONE);
    let (_, end) = core.change(
        stats,
        RecHead::new(RecKind::Rollback, txn.xid),
        &mut [&mut h],
        |_| vec![op],
    )?;
    drop(h);
    core.inherited.lock().remove(&txn.xid);
    core.table_locks.release(txn.xid);
    core.waits.finish(txn.xid);
    // A rollback need not wait for the disk: if it is lost in a crash,
    // recovery rolls the transaction back again.
    let _ = end;
    Ok(())
}

/// Logs the commit of `txn` (its transaction-table slot marked committed
/// with the record's SCN), makes it visible to new statements, and wakes
/// its lock waiters. Does not wait for the disk: the caller decides
/// (a user commit waits for the log writer; a system transaction such as
/// an index split does not, as its redo precedes any that depends on it).
pub(crate) fn commit(
    core: &Kernel,
    stats: &SessionStats,
    txn: &TxnCtx,
) -> Result<(Scn, crate::ids::Lsn)> {
    core.reserve_redo()?;
    let r = {
        let _c = core.commit_lock.lock();
        let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
        let head = RecHead::new(RecKind::Commit, txn.xid);
        let (last, slot, wrap) = (txn.last_uba, txn.slot, txn.xid.wrap());
        let r = core.change(stats, head, &mut [&mut h], |scn| {
            vec![Op::TxSlot {
                idx: slot,
                slot: TxSlot {
                    wrap,
                    state: TxState::Committed,
                    scn,
                    last_uba: last,
                    time_ms: now_ms(),
                },
            }]
        })?;
        // Visible to new queries from here on, though not yet durable:
        // only the committing session waits for the disk (MECHANISMS §2.2).
        core.visible_scn
            .fetch_max(r.0 .0, std::sync::atomic::Ordering::AcqRel);
        r
    };
    core.table_locks.release(txn.xid);
    core.waits.finish(txn.xid);
    Ok(r)
}

/// Commits a system transaction (an index split) without waiting for the
/// disk.
pub(crate) fn commit_system(core: &Kernel, stats: &SessionStats, txn: TxnCtx) -> Result<()> {
    let (scn, _) = commit(core, stats, &txn)?;
    // Stamp the commit into the split nodes now, or every later reader of
    // them would have to look the split transaction up again.
    crate::heap::commit_cleanout(core, stats, &txn, scn);
    Ok(())
}
