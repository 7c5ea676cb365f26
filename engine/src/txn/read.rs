//! Consistent read: a block as of a snapshot. The current buffer is used
//! as is when every ITL entry is visible to the reader; otherwise the block
//! is cloned and the undo of the entries it must not see is applied to the
//! clone, newest change first (see the `txn` module doc for who sees what),
//! and the clone is kept in the cache for the next reader of that snapshot.
//!
//! Invariant: a clone never goes back to disk and is never changed by DML;
//! an undo record that was overwritten since (its undo block's wrap moved
//! on) fails the read with `SnapshotTooOld`, and only when the read needs
//! that record.

use crate::block::{Block, Itl, UndoRec};
use crate::buffer::{BufRead, Mode};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba};
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};
use crate::undo;

use super::{tx_status, Snapshot, TxStatus};

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

/// A consistent get of block `no` as of `snap` (the book, chapter 4).
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
