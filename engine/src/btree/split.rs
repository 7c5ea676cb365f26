//! Index splits: making room in a full node.
//!
//! A split runs in a system transaction of its own that commits at once
//! (Oracle's recursive transaction): the user transaction that needed the
//! room may still roll back, but the split stays. A full child moves its
//! upper half to a new right sibling and lowers its high fence, and the
//! parent gets the separator key; a full root moves its entries down into
//! two new children and becomes a branch one level higher (the root block
//! never moves). Each node a split changes gets an undo record of the
//! structure, so a reader rolling the tree back to an SCN before the split
//! sees the tree as it was; the new right node inherits the split node's
//! ITL, so the undo of a user transaction's entry that moved still finds
//! it by key.
//!
//! Invariant: the splits of one index are serialised (`Kernel::split_locks`);
//! after a split, every key of each changed node lies within its fences.

use crate::block::index::{IdxEntry, IndexBody};
use crate::block::{Itl, Op, UndoOp};
use crate::buffer::Mode;
use crate::error::{Error, Result};
use crate::ids::BlockNo;
use crate::kernel::Kernel;
use crate::space::allocate_block;
use crate::stats::{SessionStats, Stat};
use crate::txn::itl::acquire_itl;
use crate::txn::TxnCtx;
use crate::undo::logged_change;
use bytes::Bytes;

use super::tree::{node, path_to, room_needed, Tree};

/// Splits nodes on the path to `key` until its leaf has room for one more
/// entry, in a system transaction that commits at once.
pub(super) fn split_for(core: &Kernel, stats: &SessionStats, tree: Tree, key: &[u8]) -> Result<()> {
    let lock = core.split_locks.get(tree.root);
    let _g = lock.lock();
    let bs = core.file.block_size();
    let mut sys = crate::txn::begin(core, stats, "SYS")?;
    let result = (|| {
        for _ in 0..64 {
            let path = path_to(core, stats, tree, key)?;
            // The lowest node on the path with room; everything below it is full.
            let mut with_room = None;
            for (d, &no) in path.iter().enumerate() {
                let b = core.cache.get(no, Mode::Current, stats)?;
                if b.encoded_len() + room_needed(bs) <= bs {
                    with_room = Some(d);
                }
            }
            match with_room {
                Some(d) if d + 1 == path.len() => return Ok(()),
                Some(d) => split_child(core, stats, &mut sys, tree, path[d], path[d + 1])?,
                None => split_root(core, stats, &mut sys, tree)?,
            }
        }
        Err(Error::Internal("index split did not make room".into()))
    })();
    match result {
        Ok(()) => crate::txn::commit_system(core, stats, sys),
        Err(e) => {
            let _ = crate::txn::rollback_to(core, stats, &mut sys, crate::ids::Uba::NONE);
            let _ = crate::txn::end_rollback(core, stats, &sys);
            Err(e)
        }
    }
}

/// The ITL of a new node made by a split from a node with ITL `from`, and
/// the slot the split transaction takes in it.
///
/// Entries of transactions still active are inherited at the same
/// positions, so the lock bytes of the moved entries stay right and a
/// reader (or a rollback) can still take those transactions' changes back
/// here by key. Entries of transactions that have ended are left out: their
/// changes are older than the split, and a reader older than the split never
/// looks inside the new node at all (to it, the split's own undo makes the
/// node unformatted). Without this, a tree fed ascending keys would copy a
/// growing ITL from each new rightmost node to the next.
fn inherited_itl(
    core: &Kernel,
    stats: &SessionStats,
    from: &[Itl],
    entries: &mut [IdxEntry],
) -> Result<(Vec<Itl>, u8)> {
    let mut list = Vec::with_capacity(from.len());
    for i in from {
        let active = !i.xid.is_none()
            && i.commit_scn.0 == 0
            && crate::txn::tx_status(core, stats, i.xid)? == crate::txn::TxStatus::Active;
        list.push(if active { *i } else { Itl::default() });
    }
    for e in entries.iter_mut() {
        let slot = (e.lock as usize).checked_sub(1).and_then(|j| list.get(j));
        if slot.is_none_or(|i| i.xid.is_none()) {
            e.lock = 0;
        }
    }
    while list.last().is_some_and(|i| i.xid.is_none()) {
        list.pop();
    }
    let idx = list
        .iter()
        .position(|i| i.xid.is_none())
        .unwrap_or(list.len());
    if idx >= crate::block::MAX_ITL {
        return Err(Error::SpaceExhausted("index node ITL is full".into()));
    }
    Ok((list, idx as u8))
}

/// Tells each active transaction whose ITL entry block `no` inherited
/// about the block, so its commit cleanout stamps it there too.
fn note_inherited(core: &Kernel, list: &[Itl], no: BlockNo) {
    let mut m = core.inherited.lock();
    for i in list.iter().filter(|i| !i.xid.is_none()) {
        m.entry(i.xid).or_default().push(no);
    }
}

/// The full ITL of a new node: the inherited list with the split
/// transaction's entry at its slot.
fn with_entry(mut list: Vec<Itl>, idx: u8, itl: Itl) -> Vec<Itl> {
    match list.get_mut(idx as usize) {
        Some(slot) => *slot = itl,
        None => list.push(itl),
    }
    list
}

/// Splits `child` (full) into itself and a new right sibling, and adds the
/// sibling's separator to `parent` (which has room).
fn split_child(
    core: &Kernel,
    stats: &SessionStats,
    sys: &mut TxnCtx,
    tree: Tree,
    parent: BlockNo,
    child: BlockNo,
) -> Result<()> {
    let new = allocate_block(core, stats, tree.seg)?;
    // Parent before child before the new node: the order every split takes.
    let mut pb = core.cache.get_mut(parent, stats)?;
    let mut cb = core.cache.get_mut(child, stats)?;
    let mut nb = core.cache.get_new(new, stats)?;
    let c = node(core, &cb)?.clone();
    let parent_level = c.level + 1;
    let mid = c.entries().len() / 2;
    if mid == 0 {
        return Err(Error::Internal(
            "cannot split a node with fewer than two entries".into(),
        ));
    }
    let sep = split_key(&c, mid);
    let moved = c.entries()[mid..].to_vec();
    stats.inc(if c.is_leaf() {
        Stat::LeafNodeSplits
    } else {
        Stat::BranchNodeSplits
    });
    // 1. The new right node, formatted with the upper half.
    let mut n_entries = moved.clone();
    let (itl_list, n_idx) = inherited_itl(core, stats, &cb.itl, &mut n_entries)?;
    note_inherited(core, &itl_list, new);
    let body = IndexBody::new(
        c.level,
        c.next,
        Some(sep.clone()),
        c.high.clone(),
        n_entries,
    );
    let seg = tree.seg;
    logged_change(core, stats, sys, &mut nb, n_idx, UndoOp::Unformat, |itl| {
        Op::IdxSet {
            seg,
            itl: with_entry(itl_list, n_idx, itl),
            body: Some(body),
        }
    })?;
    // 2. The split node keeps the lower half.
    let c_idx = acquire_itl(core, stats, sys, &mut cb, 0)?
        .ok_or_else(|| Error::SpaceExhausted("no ITL entry for an index split".into()))?;
    let undo = UndoOp::SplitFrom {
        moved,
        high: c.high.clone(),
        next: c.next,
    };
    let s2 = sep.clone();
    logged_change(core, stats, sys, &mut cb, c_idx, undo, |itl| {
        Op::IdxSplitFrom {
            sep: s2,
            next: new.0,
            itl_idx: c_idx,
            itl,
        }
    })?;
    // 3. The parent gets the separator.
    let p_idx = acquire_itl(core, stats, sys, &mut pb, 0)?
        .ok_or_else(|| Error::SpaceExhausted("no ITL entry for an index split".into()))?;
    let entry = IdxEntry::new(sep.clone(), new.0 as u64, 0);
    logged_change(
        core,
        stats,
        sys,
        &mut pb,
        p_idx,
        UndoOp::IdxIns {
            key: sep,
            level: parent_level,
        },
        |itl| Op::IdxInsert {
            entry,
            itl_idx: p_idx,
            itl,
        },
    )?;
    Ok(())
}

/// The separator for splitting node `n` before entry `mid`: any key `s`
/// with every lower entry `< s <= ` every upper one works. A branch passes
/// on the key it has. A leaf gets the shortest prefix of its first upper
/// key that still sorts after the last lower one (suffix truncation, as
/// Oracle's branch blocks keep only as much of a key as tells two leaves
/// apart). For a non-unique index, whose keys end in the rowid, the
/// separator between two different values then holds the value alone, and
/// a lookup by that value descends straight to the leaf it starts in, not
/// to the leaf before it (which would cost one more leaf get).
fn split_key(n: &IndexBody, mid: usize) -> Bytes {
    let right = n.entries()[mid].key();
    if !n.is_leaf() || mid == 0 {
        return right.clone();
    }
    let left = n.entries()[mid - 1].key();
    let common = left
        .iter()
        .zip(right.iter())
        .take_while(|(a, b)| a == b)
        .count();
    right.slice(..(common + 1).min(right.len()))
}

/// Splits the (full) root: its entries move into two new nodes, and the
/// root becomes a branch one level higher pointing at them.
fn split_root(core: &Kernel, stats: &SessionStats, sys: &mut TxnCtx, tree: Tree) -> Result<()> {
    let a = allocate_block(core, stats, tree.seg)?;
    let b = allocate_block(core, stats, tree.seg)?;
    let mut rb = core.cache.get_mut(tree.root, stats)?;
    let mut ab = core.cache.get_new(a, stats)?;
    let mut bb = core.cache.get_new(b, stats)?;
    let r = node(core, &rb)?.clone();
    let mid = r.entries().len() / 2;
    if mid == 0 {
        return Err(Error::Internal(
            "cannot split a root with fewer than two entries".into(),
        ));
    }
    stats.inc(if r.is_leaf() {
        Stat::LeafNodeSplits
    } else {
        Stat::BranchNodeSplits
    });
    let sep = split_key(&r, mid);
    let (lower, upper) = (r.entries()[..mid].to_vec(), r.entries()[mid..].to_vec());
    let seg = tree.seg;
    for (guard, body) in [
        (
            &mut ab,
            IndexBody::new(
                r.level,
                b.0,
                r.low.clone(),
                Some(sep.clone()),
                lower.clone(),
            ),
        ),
        (
            &mut bb,
            IndexBody::new(r.level, 0, Some(sep.clone()), r.high.clone(), upper.clone()),
        ),
    ] {
        let mut body = body;
        let (list, idx) = inherited_itl(core, stats, &rb.itl, body.entries_mut())?;
        note_inherited(core, &list, guard.no);
        logged_change(core, stats, sys, guard, idx, UndoOp::Unformat, |itl| {
            Op::IdxSet {
                seg,
                itl: with_entry(list, idx, itl),
                body: Some(body),
            }
        })?;
    }
    // Two undo records for the root, each small enough for one undo block:
    // first the upper half leaves, then the lower half and the level change.
    let r_idx = acquire_itl(core, stats, sys, &mut rb, 0)?
        .ok_or_else(|| Error::SpaceExhausted("no ITL entry for a root split".into()))?;
    let undo = UndoOp::SplitFrom {
        moved: upper,
        high: r.high.clone(),
        next: r.next,
    };
    let s2 = sep.clone();
    logged_change(core, stats, sys, &mut rb, r_idx, undo, |itl| {
        Op::IdxSplitFrom {
            sep: s2,
            next: r.next,
            itl_idx: r_idx,
            itl,
        }
    })?;
    let entries = vec![
        IdxEntry::new(r.low.clone().unwrap_or_default(), a.0 as u64, 0),
        IdxEntry::new(sep, b.0 as u64, 0),
    ];
    let undo = UndoOp::RootFrom {
        level: r.level,
        moved: lower,
    };
    let level = r.level + 1;
    logged_change(core, stats, sys, &mut rb, r_idx, undo, |itl| Op::IdxRoot {
        level,
        entries,
        itl_idx: r_idx,
        itl,
    })?;
    Ok(())
}
