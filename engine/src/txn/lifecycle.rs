//! The transaction lifecycle: begin, commit, rollback (whole, to a
//! savepoint, and of every transaction a crash left active).
//!
//! A transaction begins at its first change: [`begin`] takes a
//! transaction-table slot in an undo segment header (its xid is
//! segment.slot.wrap). Its changes go through `undo::logged_change`, which
//! writes the undo record first and chains it to the previous one.
//! [`commit`] logs the slot's change to committed with the commit SCN,
//! publishes that SCN to new readers, cleans out the blocks the transaction
//! changed (`itl::commit_cleanout`) and — unless the commit mode says
//! otherwise — waits for the redo to be durable (fast commit: data blocks
//! are written later, by the writer or a checkpoint). Rolling back walks
//! the undo chain newest first, each step logged as a compensation change;
//! [`rollback_all`] (recovery) does it across every active transaction in
//! one pass, newest change first, so a split cut short by a crash is taken
//! back before the user changes that came before it.
//!
//! Invariant: a commit SCN becomes visible to new statements only after
//! the transaction-table change that records it (`Kernel::commit_lock`
//! orders "allocate SCN, publish, advance the visible SCN").

use crate::block::{Body, Op, SlotState, TxSlot, TxState, UndoOp, UndoRec};
use crate::buffer::Mode;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba, Xid};
use crate::kernel::{undo_header, Kernel, RecHead};
use crate::redo::record::RecKind;
use crate::space::set_free;
use crate::stats::{SessionStats, Stat};
use crate::undo::{header_parts, read_undo, tx_slot, TxnCtx};

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
    let idx = choose_slot(core, &u.slots, hint).ok_or_else(|| {
        Error::SpaceExhausted(format!("all {n} transaction-table slots are active"))
    })?;
    let start = core.visible_scn();
    let slot = TxSlot {
        wrap: u.slots[idx].wrap.wrapping_add(1).max(1),
        state: TxState::Active,
        scn: start,
        last_uba: Uba::NONE,
        time_ms: core.cfg.clock.now_ms(),
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

/// The transaction-table slot a new transaction takes, looking from `hint`
/// round the table: the first one whose transaction ended and which no
/// reader needs any more (free, rolled back, or committed longer ago than
/// `undo_retention`); failing that, the committed slot with the oldest
/// commit; `None` when every slot is active.
///
/// Taking a slot forgets its transaction's commit SCN (readers then get
/// only an upper bound, the header's control SCN). So a commit younger
/// than the retention keeps its slot while any other slot can go, and is
/// given up only when the table holds nothing else — the oldest first,
/// as Oracle reuses the slot with the lowest commit SCN (Lewis, *Oracle
/// Core*, ch. 3).
fn choose_slot(core: &Kernel, slots: &[TxSlot], hint: usize) -> Option<usize> {
    let n = slots.len();
    let order = (0..n).map(|k| (hint + k) % n);
    let now = core.cfg.clock.now_ms();
    let reusable = |s: &TxSlot| match s.state {
        TxState::Active => false,
        TxState::Committed => !crate::undo::within_retention_at(core, now, s.time_ms),
        TxState::RolledBack | TxState::Free => true,
    };
    order.clone().find(|&i| reusable(&slots[i])).or_else(|| {
        order
            .filter(|&i| slots[i].state == TxState::Committed)
            .min_by_key(|&i| slots[i].scn)
    })
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
        UndoOp::IdxDel { entry, level } => Some((entry.key().clone(), *level)),
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
    // Taking back an insert frees room in a table block: it goes back on
    // its segment's free list, as a delete's block does.
    let freed = match (&rec.op, &data.body) {
        (UndoOp::Slot { before, .. }, Body::Heap(_)) => before.state == SlotState::Unused,
        (UndoOp::NewRows { .. }, Body::Heap(_)) => true,
        _ => false,
    };
    let seg = data.seg;
    let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
    let txslot = tx_slot(core, txn, TxState::Active, txn.start_scn, rec.prev_txn);
    let head = RecHead::new(RecKind::Undo, txn.xid);
    core.change(stats, head, &mut [&mut data, &mut h], |_| vec![op, txslot])?;
    stats.inc(Stat::RollbackUndoApplied);
    txn.last_uba = rec.prev_txn;
    drop(h);
    drop(data);
    if freed {
        set_free(core, stats, seg, rec.block, true)?;
    }
    Ok(())
}

/// Marks the transaction rolled back in its slot (after `rollback_to(NONE)`).
pub(crate) fn end_rollback(core: &Kernel, stats: &SessionStats, txn: &TxnCtx) -> Result<()> {
    let mut h = core.cache.get_mut(undo_header(txn.xid.segment()), stats)?;
    let op = tx_slot(core, txn, TxState::RolledBack, txn.start_scn, Uba::NONE);
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
                    time_ms: core.cfg.clock.now_ms(),
                },
            }]
        })?;
        // Visible to new queries from here on, though not yet durable:
        // only the committing session waits for the disk (the book, chapter 3).
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
    crate::txn::itl::commit_cleanout(core, stats, &txn, scn);
    Ok(())
}
