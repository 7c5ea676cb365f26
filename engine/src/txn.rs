//! Transactions: snapshots, row-lock waits, deadlocks and consistent reads.
//!
//! ## Who sees what
//!
//! A statement reads as of a *query SCN* `Q` (statement start under READ
//! COMMITTED, transaction start under SERIALIZABLE). For each block it
//! visits, it looks at the block's ITL:
//!
//! ```text
//!   ITL entry                          reader with Q = 120, xid = T9
//!   ─────────────────────────────────  ───────────────────────────────
//!   T9, any state                      own change: visible
//!   T4, commit SCN 100 (stamped)       100 <= 120: visible
//!   T5, commit SCN 130 (stamped)       130 > 120: roll back
//!   T6, no SCN here -> tx table says   active: roll back
//!       active / committed at 110      110 <= 120: visible
//!   T7, slot reused (wrap differs)     committed at or before the undo
//!                                      header's control SCN: if that is
//!                                      <= 120 visible, else snapshot too old
//! ```
//!
//! If nothing must be rolled back the current buffer is used as is (no
//! clone). Otherwise the block is cloned and the offending entries' undo
//! records are applied to the clone, newest change first (by the SCN each
//! record carries): the slot gets its before-image back and the ITL entry
//! gets its previous contents (which may name an older transaction that
//! must be rolled back too). This repeats until every entry is visible.
//! Newest-first by change, not by transaction, matters for index blocks,
//! where an index split (its own transaction) can fall between two changes
//! of one user transaction. Each undo block visited is a consistent get;
//! each record applied counts `data blocks consistent reads - undo records
//! applied`. An undo record whose undo block has been reused since (its wrap
//! moved on) is gone: the read fails with `SnapshotTooOld` — only when such a
//! block is actually visited (the book, chapter on read consistency).
//!
//! ## Locks
//!
//! A row is locked by the transaction of the ITL entry its lock byte points
//! at, while that transaction is active. A writer meeting such a row waits
//! for the holder to end ([`crate::lock::Waits`]), with a timeout; before waiting it walks
//! the wait-for chain from the holder, and if the chain leads back to itself
//! the waiter is the deadlock victim.
//!
//! Simplifications: one undo segment; Halloween protection (a statement not
//! seeing its own changes) is not modelled.

use std::collections::BTreeSet;


use crate::block::{Block, Body, Itl, TxState, UndoRec};
use crate::buffer::{BufRead, Mode};
use crate::kernel::{undo_header, Kernel};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba, Xid};
use crate::stats::{SessionStats, Stat};
use crate::undo;

/// Isolation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Each statement reads as of its own start.
    #[default]
    ReadCommitted,
    /// Every statement of the transaction reads as of the transaction's
    /// first statement; writing a row changed since fails.
    Serializable,
}

/// The point in time a read is made as of, and by whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub scn: Scn,
    pub xid: Xid,
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

/// What the transaction table says about a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStatus {
    Active,
    Committed(Scn),
    RolledBack,
    /// The slot was reused: the transaction committed at or before this SCN.
    Gone(Scn),
}

/// Looks a transaction up in the transaction table (one consistent get of
/// the undo segment header).
pub(crate) fn tx_status(core: &Kernel, stats: &SessionStats, xid: Xid) -> Result<TxStatus> {
    stats.inc(Stat::TxTableLookups);
    let no = undo_header(xid.segment());
    if xid.segment() as u32
        >= core
            .undo_segments
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(Error::Internal(format!(
            "transaction {xid} names a missing undo segment"
        )));
    }
    let h = core.cache.get(no, Mode::Consistent, stats)?;
    let Body::UndoHeader(u) = &h.body else {
        return Err(Error::corrupt(
            core.file.name(),
            no.0 as u64,
            "not an undo header",
        ));
    };
    let Some(slot) = u.slots.get(xid.slot() as usize) else {
        return Err(Error::Internal(format!(
            "transaction {xid} names a missing slot"
        )));
    };
    Ok(if slot.wrap != xid.wrap() {
        TxStatus::Gone(u.control_scn)
    } else {
        match slot.state {
            TxState::Active => TxStatus::Active,
            TxState::Committed => TxStatus::Committed(slot.scn),
            TxState::RolledBack | TxState::Free => TxStatus::RolledBack,
        }
    })
}

/// Whether the change recorded by `itl` must be rolled back for `snap`.
/// Whether the change recorded by `itl` must be rolled back for `snap`;
/// if so, how recent it is: an active transaction's change is the newest
/// (`u64::MAX`), a committed one's is its commit SCN.
fn rollback_order(
    core: &Kernel,
    stats: &SessionStats,
    no: BlockNo,
    itl: &Itl,
    snap: Snapshot,
) -> Result<Option<u64>> {
    if itl.xid.is_none() || itl.xid == snap.xid {
        return Ok(None);
    }
    if itl.commit_scn.0 != 0 {
        return Ok((itl.commit_scn > snap.scn).then_some(itl.commit_scn.0));
    }
    Ok(match tx_status(core, stats, itl.xid)? {
        TxStatus::Active => Some(u64::MAX),
        // A rolled-back transaction's changes are already gone from every
        // current block; an ITL entry of it left behind changes nothing.
        TxStatus::RolledBack => None,
        TxStatus::Committed(c) => (c > snap.scn).then_some(c.0),
        TxStatus::Gone(upper) if upper <= snap.scn => None,
        TxStatus::Gone(_) => {
            stats.inc(Stat::SnapshotTooOld);
            return Err(Error::SnapshotTooOld {
                block: no.0,
                uba: format!("transaction table slot of {}", itl.xid),
                query_scn: snap.scn.0,
            });
        }
    })
}

/// The ITL entries whose changes must be taken back for `snap`.
fn to_roll_back(
    core: &Kernel,
    stats: &SessionStats,
    b: &Block,
    snap: Snapshot,
) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for (i, itl) in b.itl.iter().enumerate() {
        if rollback_order(core, stats, b.no, itl, snap)?.is_some() {
            out.push(i);
        }
    }
    Ok(out)
}

/// The undo record ITL entry `i` of `clone` points at, or snapshot too old.
fn record_for(
    core: &Kernel,
    stats: &SessionStats,
    clone: &Block,
    i: usize,
    snap: Snapshot,
) -> Result<UndoRec> {
    let uba = clone.itl[i].uba;
    match undo::read_undo(core, stats, uba, Mode::Consistent)? {
        // Index undo may come from the chain of the block a split moved
        // the entry from (the ITL entry was copied along with it).
        Some(mut r)
            if r.xid == clone.itl[i].xid && (r.block == clone.no || r.op.is_index_entry()) =>
        {
            r.itl_idx = i as u8;
            Ok(r)
        }
        Some(_) | None => {
            stats.inc(Stat::SnapshotTooOld);
            Err(Error::SnapshotTooOld {
                block: clone.no.0,
                uba: uba.to_string(),
                query_scn: snap.scn.0,
            })
        }
    }
}

/// A block as seen by a consistent read: the current buffer, or a clone.
pub enum View<'a> {
    Current(BufRead<'a>),
    Clone(Box<Block>),
}

impl std::ops::Deref for View<'_> {
    type Target = Block;
    fn deref(&self) -> &Block {
        match self {
            View::Current(b) => b,
            View::Clone(b) => b,
        }
    }
}

/// A consistent get of block `no` as of `snap` (MECHANISMS §3.2).
pub(crate) fn read_consistent<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    no: BlockNo,
    snap: Snapshot,
) -> Result<View<'a>> {
    let cur = core.cache.get(no, Mode::Consistent, stats)?;
    let mut pending = to_roll_back(core, stats, &cur, snap)?;
    if pending.is_empty() {
        return Ok(View::Current(cur));
    }
    let base = cur.scn;
    if let Some(c) = core.cache.get_cr(no, snap.scn, snap.xid, base, stats) {
        return Ok(View::Clone(Box::new((*c).clone())));
    }
    let mut clone: Block = (*cur).clone();
    drop(cur);
    stats.inc(Stat::CrBlocksCreated);
    // Take the block's changes back newest first, by the SCN of each change
    // (not of each transaction's commit): an index split made by a system
    // transaction can fall between two changes of one user transaction.
    let mut applied = 0u64;
    // Records peeked at but not applied yet are kept, so each undo record is
    // read (one consistent get of its undo block) once.
    let mut peeked: std::collections::HashMap<Uba, UndoRec> = std::collections::HashMap::new();
    while !pending.is_empty() {
        let mut newest: Option<UndoRec> = None;
        for &i in &pending {
            let uba = clone.itl[i].uba;
            let r = match peeked.get(&uba) {
                Some(r) if r.xid == clone.itl[i].xid => UndoRec {
                    itl_idx: i as u8,
                    ..r.clone()
                },
                _ => record_for(core, stats, &clone, i, snap)?,
            };
            peeked.insert(uba, r.clone());
            if newest.as_ref().is_none_or(|n| r.scn > n.scn) {
                newest = Some(r);
            }
        }
        let rec = newest.ok_or_else(|| Error::Internal("no undo to apply".into()))?;
        let uba = clone.itl[rec.itl_idx as usize].uba;
        let op = clone.undo_op(&rec).map_err(|r| {
            Error::corrupt(core.file.name(), no.0 as u64, format!("undo {uba}: {r}"))
        })?;
        clone.apply(&op, Scn(0)).map_err(|r| {
            Error::corrupt(
                core.file.name(),
                no.0 as u64,
                format!("applying undo {uba}: {r}"),
            )
        })?;
        stats.inc(Stat::UndoRecordsAppliedCr);
        applied += 1;
        if applied > 1_000_000 {
            return Err(Error::Internal(format!(
                "undo chain of block {} does not end",
                no.0
            )));
        }
        pending = to_roll_back(core, stats, &clone, snap)?;
    }
    core.cache
        .put_cr(clone.clone(), snap.scn, snap.xid, base, stats)?;
    Ok(View::Clone(Box::new(clone)))
}
