//! Consistent read: a block as of a snapshot. The current buffer is used
//! as is when every ITL entry is visible to the reader; otherwise the block
//! is cloned and the undo of the entries it must not see is applied to the
//! clone, newest change first (see the `txn` module doc for who sees what),
//! and the clone is kept in the cache for the next reader of that snapshot.
//!
//! Before that, a read that meets ITL entries of committed transactions
//! whose commit SCN is not in the block yet (commit cleanout missed the
//! block: evicted, or beyond its limit) cleans the block out: it learns
//! each commit SCN from the transaction table, stamps it into the current
//! block, and logs the change (delayed block cleanout, see `txn::itl`). So
//! a query generates redo the first time it meets such a block, and no
//! later reader pays the lookups again. A transaction whose slot has been
//! reused is not stamped: only an upper bound of its commit is known, and
//! a reader with an older snapshot could mistake it for the commit SCN.
//!
//! Invariant: a clone never goes back to disk and is never changed by DML;
//! an undo record that was overwritten since (its undo block's wrap moved
//! on) fails the read with `SnapshotTooOld`, and only when the read needs
//! that record.

use crate::block::{Block, Itl, Op, UndoRec};
use crate::buffer::{BufRead, Mode};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Scn, Uba, Xid};
use crate::kernel::{Kernel, RecHead};
use crate::stats::{SessionStats, Stat};
use crate::undo;

use super::{tx_status, Snapshot, TxStatus};

/// A transaction-table answer already looked up during one get.
type Known = (Xid, TxStatus);

/// An ITL entry a cleanout stamps: (entry, its transaction, commit SCN).
type Stamp = (usize, Xid, Scn);

/// Whether the change recorded by `itl` must be rolled back for `snap`;
/// if so, how recent it is: an active transaction's change is the newest
/// (`u64::MAX`), a committed one's is its commit SCN.
fn rollback_order(
    core: &Kernel,
    stats: &SessionStats,
    no: BlockNo,
    itl: &Itl,
    snap: Snapshot,
    known: &[Known],
) -> Result<Option<u64>> {
    if itl.xid.is_none() || itl.xid == snap.xid {
        return Ok(None);
    }
    if itl.commit_scn.0 != 0 {
        return Ok((itl.commit_scn > snap.scn).then_some(itl.commit_scn.0));
    }
    let status = match known.iter().find(|(x, _)| *x == itl.xid) {
        Some(&(_, s)) => s,
        None => tx_status(core, stats, itl.xid)?,
    };
    Ok(match status {
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

/// The ITL entries whose changes must be taken back for `snap`; `known`
/// holds transaction-table answers already looked up for this get.
fn to_roll_back(
    core: &Kernel,
    stats: &SessionStats,
    b: &Block,
    snap: Snapshot,
    known: &[Known],
) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for (i, itl) in b.itl.iter().enumerate() {
        if rollback_order(core, stats, b.no, itl, snap, known)?.is_some() {
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

/// Looks up, in the transaction table, every ITL entry of `b` without a
/// commit SCN (other than the reader's own): each lookup is a consistent
/// get of the undo header, made once per get of the block. Returns the
/// answers, and the entries a cleanout can stamp (their transaction
/// committed and its slot still says when).
fn uncleaned(
    core: &Kernel,
    stats: &SessionStats,
    b: &Block,
    snap: Snapshot,
) -> Result<(Vec<Known>, Vec<Stamp>)> {
    let (mut known, mut stamps) = (Vec::new(), Vec::new());
    for (i, e) in b.itl.iter().enumerate() {
        if e.xid.is_none() || e.xid == snap.xid || e.commit_scn.0 != 0 {
            continue;
        }
        let status = tx_status(core, stats, e.xid)?;
        known.push((e.xid, status));
        if let TxStatus::Committed(c) = status {
            stamps.push((i, e.xid, c));
        }
    }
    Ok((known, stamps))
}

/// Delayed block cleanout of block `no`: stamps each `(entry, commit SCN)`
/// of `stamps` whose entry still names that transaction unstamped, one
/// logged change per entry (its redo counts for the reading statement, as
/// Oracle's does). Returns whether anything was stamped.
///
/// A cleanout is an optimisation, so it never waits: the caller may hold
/// latches on other blocks (a scan's pinned block), and waiting for a
/// latch, or for log space (which may need a checkpoint that writes those
/// very blocks), could deadlock. A block evicted or latched since it was
/// read, or a log without room, leaves the cleanout to the next reader.
fn clean_out(core: &Kernel, stats: &SessionStats, no: BlockNo, stamps: &[Stamp]) -> Result<bool> {
    if core.log.wait_for_space(std::time::Duration::ZERO).is_err() {
        return Ok(false);
    }
    let Some(mut b) = core.cache.try_get_mut_if_cached(no) else {
        return Ok(false);
    };
    let mut stamped = false;
    for &(i, xid, scn) in stamps {
        let Some(&e) = b.itl.get(i) else { continue };
        if e.xid != xid || e.commit_scn.0 != 0 {
            continue;
        }
        let itl = Itl {
            commit_scn: scn,
            ..e
        };
        core.change(stats, RecHead::space(), &mut [&mut b], |_| {
            vec![Op::SetItl {
                itl_idx: i as u8,
                itl,
            }]
        })?;
        stamped = true;
    }
    Ok(stamped)
}

/// A consistent get of block `no` as of `snap` (the book, chapter 4).
pub(crate) fn read_consistent<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    no: BlockNo,
    snap: Snapshot,
) -> Result<View<'a>> {
    let mut cur = core.cache.get(no, Mode::Consistent, stats)?;
    let (known, stamps) = uncleaned(core, stats, &cur, snap)?;
    let mut cleaned = false;
    if !stamps.is_empty() {
        drop(cur);
        cleaned = clean_out(core, stats, no, &stamps)?;
        if cleaned {
            stats.inc(Stat::CrCleanouts);
        }
        cur = core.cache.get_again(no, stats)?;
    }
    let mut pending = to_roll_back(core, stats, &cur, snap, &known)?;
    if pending.is_empty() {
        if cleaned {
            stats.inc(Stat::CleanoutsOnlyCrGets);
        }
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
        pending = to_roll_back(core, stats, &clone, snap, &[])?;
    }
    core.cache
        .put_cr(clone.clone(), snap.scn, snap.xid, base, stats)?;
    Ok(View::Clone(Box::new(clone)))
}
