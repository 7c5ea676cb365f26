//! The B+tree: descent, insert, delete, split and range scan.
//!
//! ```text
//!                    root (fixed block, level 2)
//!            ┌──────────────┴───────────────┐
//!       branch [−∞, k40)               branch [k40, +∞)          level 1
//!      ┌──────┴──────┐                ┌─────┴──────┐
//!   leaf [−∞,k20) → leaf [k20,k40) → leaf [k40,k70) → leaf [k70,+∞)   level 0
//! ```
//!
//! Index blocks are blocks like table blocks: every entry change by a user
//! transaction goes through `undo::logged_change` (undo by key, redo op,
//! ITL entry), so a consistent read of an index block is made exactly like
//! that of a table block, and snapshot too old can hit an index too.
//!
//! **Splits** run in a system transaction of their own that commits at once
//! (Oracle's recursive transaction): the user transaction that needed the
//! room may still roll back, but the split stays. Each node a split changes
//! gets an undo record of the structure (the entries it moved, the fences
//! and next pointer it had; "unformatted" for the new node), so a reader
//! rolling the tree back to an SCN before the split sees the tree as it was.
//! The new right node inherits the split node's ITL, so the undo of a user
//! transaction's entry that moved still finds it by key (see
//! `Block::undo_op`). Splits of one index are serialised by a mutex; plain
//! inserts and deletes latch only their leaf and, finding the key at or
//! beyond the leaf's high fence (a split happened since they read the
//! parent), move right along `next` (a B-link tree).
//!
//! The root never moves: a root split moves the root's entries down into
//! two new children and makes the root a branch one level higher.
//!
//! Invariant: every key of a node lies within its fences; a leaf's `next`
//! is the leaf holding the keys just above its high fence.
//! Simplification: nodes are never merged; a leaf emptied by deletes stays
//! in the chain.

use bytes::Bytes;

use crate::block::index::{IdxEntry, IndexBody};
use crate::block::{Body, Itl, Op, UndoOp, ITL_LEN};
use crate::buffer::{BufWrite, Mode};
use crate::error::{Error, Result};
use crate::ids::{BlockNo, RowId};
use crate::kernel::{Kernel, RecHead};
use crate::space::{allocate_block, create_segment};
use crate::stats::{SessionStats, Stat};
use crate::txn::itl::acquire_itl;
use crate::txn::{read_consistent, Snapshot, TxnCtx};
use crate::undo::logged_change;

/// Where an index lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tree {
    pub seg: BlockNo,
    /// The root block; it never moves.
    pub root: BlockNo,
}

/// Longest key accepted: a node must hold at least a few entries.
pub fn max_key_len(block_size: usize) -> usize {
    block_size / 8
}

/// Room a node needs for one more entry of the longest key, plus one more
/// ITL entry for the change, plus the ITL entry every node keeps in reserve
/// for the system transaction that may have to split it (see `insert`).
fn room_needed(block_size: usize) -> usize {
    2 + max_key_len(block_size) + 8 + 1 + 2 * ITL_LEN
}

/// Space a user change leaves free in an index node: one ITL entry. A node
/// is split when it is full, and the split's system transaction needs an
/// ITL entry of its own in it; if user changes could use the last bytes, a
/// node whose ITL entries all belong to active or recent transactions
/// could not be split at all ("no ITL entry for an index split").
const SPLIT_RESERVE: usize = ITL_LEN;

/// The index body of block `b`, or corruption if it is not an index block.
pub(crate) fn node<'b>(core: &Kernel, b: &'b crate::block::Block) -> Result<&'b IndexBody> {
    match &b.body {
        Body::Index(n) => Ok(n),
        _ => Err(Error::corrupt(
            core.file.name(),
            b.no.0 as u64,
            "not an index block",
        )),
    }
}

/// Creates an empty index for `object`: a segment whose first data block is
/// the root, an empty leaf.
pub(crate) fn create(core: &Kernel, stats: &SessionStats, object: u32) -> Result<Tree> {
    let seg = create_segment(core, stats, object)?;
    let root = allocate_block(core, stats, seg)?;
    let mut b = core.cache.get_new(root, stats)?;
    let itl = vec![Itl::default(); core.cfg.initrans as usize];
    core.change(stats, RecHead::space(), &mut [&mut b], |_| {
        vec![Op::IdxSet {
            seg,
            itl,
            body: Some(IndexBody::leaf()),
        }]
    })?;
    Ok(Tree { seg, root })
}

/// Counts one index block visit by its level.
fn count_level(stats: &SessionStats, tree: Tree, no: BlockNo, n: &IndexBody) {
    stats.inc(if no == tree.root {
        Stat::IndexRootGets
    } else if n.is_leaf() {
        Stat::IndexLeafGets
    } else {
        Stat::IndexBranchGets
    });
}

/// Current-mode descent to the leaf whose range holds `key`; returns the
/// path of block numbers from the root (moving right where a split moved
/// the key's range).
fn path_to(core: &Kernel, stats: &SessionStats, tree: Tree, key: &[u8]) -> Result<Vec<BlockNo>> {
    let mut path = Vec::new();
    let mut no = tree.root;
    for _ in 0..10_000 {
        let b = core.cache.get(no, Mode::Current, stats)?;
        let n = node(core, &b)?;
        count_level(stats, tree, no, n);
        if n.beyond(key) && n.next != 0 {
            no = BlockNo(n.next);
            continue;
        }
        path.push(no);
        if n.is_leaf() {
            return Ok(path);
        }
        no = BlockNo(n.child_for(key).ok_or_else(|| {
            Error::corrupt(
                core.file.name(),
                no.0 as u64,
                "branch block without entries",
            )
        })?);
    }
    Err(Error::corrupt(
        core.file.name(),
        tree.root.0 as u64,
        "index descent does not end",
    ))
}

/// Latches the leaf holding `key` exclusively.
fn leaf_for<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    tree: Tree,
    key: &[u8],
) -> Result<BufWrite<'a>> {
    stats.inc(Stat::IndexDescents);
    let path = path_to(core, stats, tree, key)?;
    let mut no = *path
        .last()
        .ok_or_else(|| Error::Internal("empty index path".into()))?;
    loop {
        let b = core.cache.get_mut(no, stats)?;
        let n = node(core, &b)?;
        if n.beyond(key) && n.next != 0 {
            no = BlockNo(n.next);
            continue;
        }
        return Ok(b);
    }
}

/// Inserts `key` (already holding the rowid for a non-unique index) → `rowid`.
pub(crate) fn insert(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    tree: Tree,
    key: &[u8],
    rowid: RowId,
) -> Result<()> {
    let bs = core.file.block_size();
    if key.len() > max_key_len(bs) {
        return Err(Error::InvalidRow {
            table: format!("index segment {}", tree.seg.0),
            reason: format!(
                "index key of {} bytes exceeds the limit of {}",
                key.len(),
                max_key_len(bs)
            ),
        });
    }
    let key = Bytes::copy_from_slice(key);
    core.reserve_redo()?;
    loop {
        let mut b = leaf_for(core, stats, tree, &key)?;
        let entry_len = 2 + key.len() + 8 + 1;
        if let Some(itl_idx) = acquire_itl(core, stats, txn, &mut b, entry_len + SPLIT_RESERVE)? {
            let grow = if itl_idx as usize == b.itl.len() {
                ITL_LEN
            } else {
                0
            };
            if b.encoded_len() + entry_len + grow + SPLIT_RESERVE <= bs {
                let entry = IdxEntry {
                    key: key.clone(),
                    val: rowid.to_u64(),
                    lock: itl_idx + 1,
                };
                let undo = UndoOp::IdxIns {
                    key: key.clone(),
                    level: 0,
                };
                logged_change(core, stats, txn, &mut b, itl_idx, undo, |itl| {
                    Op::IdxInsert {
                        entry,
                        itl_idx,
                        itl,
                    }
                })?;
                stats.inc(Stat::IndexKeysInserted);
                return Ok(());
            }
        }
        drop(b);
        split_for(core, stats, tree, &key)?;
    }
}

/// Deletes the entry with `key`.
pub(crate) fn delete(
    core: &Kernel,
    stats: &SessionStats,
    txn: &mut TxnCtx,
    tree: Tree,
    key: &[u8],
) -> Result<()> {
    core.reserve_redo()?;
    loop {
        let mut b = leaf_for(core, stats, tree, key)?;
        let n = node(core, &b)?;
        let Ok(pos) = n.search(key) else {
            return Err(Error::corrupt(
                core.file.name(),
                b.no.0 as u64,
                "index entry to delete is missing (index and table disagree)",
            ));
        };
        let entry = n.entries[pos].clone();
        if let Some(itl_idx) = acquire_itl(core, stats, txn, &mut b, SPLIT_RESERVE)? {
            let key = entry.key.clone();
            logged_change(
                core,
                stats,
                txn,
                &mut b,
                itl_idx,
                UndoOp::IdxDel { entry, level: 0 },
                |itl| Op::IdxDelete { key, itl_idx, itl },
            )?;
            stats.inc(Stat::IndexKeysDeleted);
            return Ok(());
        }
        // No ITL entry and no room for one: make room by splitting.
        drop(b);
        split_for(core, stats, tree, key)?;
    }
}

/// Splits nodes on the path to `key` until its leaf has room for one more
/// entry, in a system transaction that commits at once.
fn split_for(core: &Kernel, stats: &SessionStats, tree: Tree, key: &[u8]) -> Result<()> {
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
    let mid = c.entries.len() / 2;
    if mid == 0 {
        return Err(Error::Internal(
            "cannot split a node with fewer than two entries".into(),
        ));
    }
    let sep = split_key(&c, mid);
    let moved = c.entries[mid..].to_vec();
    stats.inc(if c.is_leaf() {
        Stat::LeafNodeSplits
    } else {
        Stat::BranchNodeSplits
    });
    // 1. The new right node, formatted with the upper half.
    let mut n_entries = moved.clone();
    let (itl_list, n_idx) = inherited_itl(core, stats, &cb.itl, &mut n_entries)?;
    note_inherited(core, &itl_list, new);
    let body = IndexBody {
        level: c.level,
        next: c.next,
        low: Some(sep.clone()),
        high: c.high.clone(),
        entries: n_entries,
    };
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
    let entry = IdxEntry {
        key: sep.clone(),
        val: new.0 as u64,
        lock: 0,
    };
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
    let right = &n.entries[mid].key;
    if !n.is_leaf() || mid == 0 {
        return right.clone();
    }
    let left = &n.entries[mid - 1].key;
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
    let mid = r.entries.len() / 2;
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
    let (lower, upper) = (r.entries[..mid].to_vec(), r.entries[mid..].to_vec());
    let seg = tree.seg;
    for (guard, body) in [
        (
            &mut ab,
            IndexBody {
                level: r.level,
                next: b.0,
                low: r.low.clone(),
                high: Some(sep.clone()),
                entries: lower.clone(),
            },
        ),
        (
            &mut bb,
            IndexBody {
                level: r.level,
                next: 0,
                low: Some(sep.clone()),
                high: r.high.clone(),
                entries: upper.clone(),
            },
        ),
    ] {
        let mut body = body;
        let (list, idx) = inherited_itl(core, stats, &rb.itl, &mut body.entries)?;
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
        IdxEntry {
            key: r.low.clone().unwrap_or_default(),
            val: a.0 as u64,
            lock: 0,
        },
        IdxEntry {
            key: sep,
            val: b.0 as u64,
            lock: 0,
        },
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

/// Consistent range scan: calls `f` for each entry with `start <= key <
/// stop` (stop `None` = to the end) as of `snap`, in key order, until `f`
/// returns false. One descent; then the leaf chain. `f` runs while the
/// leaf's read latch (or its consistent-read clone) is held, so it must not
/// take latches itself: the callers only collect rowids and screen keys.
pub(crate) fn scan(
    core: &Kernel,
    stats: &SessionStats,
    tree: Tree,
    snap: Snapshot,
    start: &[u8],
    stop: Option<&[u8]>,
    mut f: impl FnMut(&IdxEntry) -> Result<bool>,
) -> Result<()> {
    stats.inc(Stat::IndexDescents);
    let mut no = tree.root;
    // Descend (consistent gets, as of the snapshot).
    let mut view = loop {
        let v = read_consistent(core, stats, no, snap)?;
        let n = node(core, &v)?;
        count_level(stats, tree, no, n);
        if n.beyond(start) && n.next != 0 {
            no = BlockNo(n.next);
            continue;
        }
        if n.is_leaf() {
            break v;
        }
        no = BlockNo(n.child_for(start).ok_or_else(|| {
            Error::corrupt(
                core.file.name(),
                no.0 as u64,
                "branch block without entries",
            )
        })?);
    };
    for _ in 0..u32::MAX {
        let leaf = node(core, &view)?;
        let from = leaf.entries.partition_point(|e| e.key.as_ref() < start);
        for e in &leaf.entries[from..] {
            if stop.is_some_and(|s| e.key.as_ref() >= s) {
                return Ok(());
            }
            stats.inc(Stat::IndexEntriesExamined);
            if !f(e)? {
                return Ok(());
            }
        }
        if leaf.next == 0
            || stop.is_some_and(|s| leaf.high.as_ref().is_some_and(|h| h.as_ref() >= s))
        {
            return Ok(());
        }
        no = BlockNo(leaf.next);
        drop(view);
        view = read_consistent(core, stats, no, snap)?;
        count_level(stats, tree, no, node(core, &view)?);
    }
    Ok(())
}

/// What a uniqueness or parent-key probe found for a key prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// No entry with the prefix, committed or in flight.
    Free,
    /// An entry exists (committed, or this transaction's own).
    Taken(RowId),
    /// Another active transaction inserted or deleted such an entry: its
    /// outcome decides, so wait for it and probe again.
    WaitFor(crate::ids::Xid),
}

/// Looks for entries whose key starts with `prefix` (the constraint's
/// columns), for a unique check or a parent lookup. The caller holds the
/// index's unique lock so that no other probe-then-insert interleaves.
///
/// Two views are read: the current entries (with the transaction behind
/// each), and the committed-plus-own view (a consistent read as of "now"
/// that rolls back other active transactions). An entry missing from the
/// first but present in the second was deleted by a transaction still
/// active — which may yet roll back, so the probe must wait for it.
pub(crate) fn probe(
    core: &Kernel,
    stats: &SessionStats,
    txn: &TxnCtx,
    tree: Tree,
    prefix: &[u8],
) -> Result<Probe> {
    let stop = crate::btree::key::prefix_successor(prefix);
    stats.inc(Stat::IndexDescents);
    let path = path_to(core, stats, tree, prefix)?;
    let mut no = *path
        .last()
        .ok_or_else(|| Error::Internal("empty index path".into()))?;
    let mut active_other = None;
    loop {
        let b = core.cache.get(no, Mode::Current, stats)?;
        let n = node(core, &b)?.clone();
        let itl = b.itl.clone();
        drop(b);
        // The first entry at or after the prefix decides, if it has the prefix.
        let first = n
            .entries
            .iter()
            .find(|e| e.key.as_ref() >= prefix)
            .filter(|e| stop.as_ref().is_none_or(|s| e.key.as_ref() < s.as_slice()));
        if let Some(e) = first {
            stats.inc(Stat::IndexEntriesExamined);
            let owner = itl.get((e.lock as usize).wrapping_sub(1)).map(|i| i.xid);
            if let Some(x) = owner.filter(|x| !x.is_none() && *x != txn.xid) {
                if crate::txn::tx_status(core, stats, x)? == crate::txn::TxStatus::Active {
                    return Ok(Probe::WaitFor(x));
                }
            }
            return Ok(Probe::Taken(RowId::from_u64(e.val)));
        }
        for i in &itl {
            if !i.xid.is_none()
                && i.xid != txn.xid
                && i.commit_scn.0 == 0
                && active_other.is_none()
                && crate::txn::tx_status(core, stats, i.xid)? == crate::txn::TxStatus::Active
            {
                active_other = Some(i.xid);
            }
        }
        let done = n.next == 0
            || stop
                .as_ref()
                .is_some_and(|s| n.high.as_ref().is_some_and(|h| h.as_ref() >= s.as_slice()));
        if done {
            break;
        }
        no = BlockNo(n.next);
    }
    // Nothing current: was something deleted by a transaction still active?
    let Some(holder) = active_other else {
        return Ok(Probe::Free);
    };
    let all = Snapshot {
        scn: crate::ids::Scn(u64::MAX),
        xid: txn.xid,
    };
    let mut found = false;
    scan(core, stats, tree, all, prefix, stop.as_deref(), |_| {
        found = true;
        Ok(false)
    })?;
    Ok(if found {
        Probe::WaitFor(holder)
    } else {
        Probe::Free
    })
}

/// Builds a new index bottom-up from `entries` (key with rowid, and the
/// rowid), as a rebuild does (claim C12): sort once, fill each leaf to
/// about 90%, then each branch level above from the first keys of the
/// level below, until one node is left, which becomes the (fixed) root.
///
/// Every block is written whole, as one space record with its image (so
/// the build is in the redo and recovers), with no undo: the new segment is
/// reachable only once the catalog, changed transactionally, points at it.
pub(crate) fn build(
    core: &Kernel,
    stats: &SessionStats,
    object: u32,
    mut entries: Vec<(Vec<u8>, RowId)>,
) -> Result<Tree> {
    entries.sort_unstable();
    let tree = create(core, stats, object)?;
    let bs = core.file.block_size();
    let itl = vec![Itl::default(); core.cfg.initrans as usize];
    let budget = bs * 9 / 10 - crate::block::HEADER_LEN - itl.len() * ITL_LEN - 64;
    // Split a level's entries into nodes of at most `budget` bytes.
    let pack = |level: Vec<IdxEntry>| -> Vec<Vec<IdxEntry>> {
        let mut nodes: Vec<Vec<IdxEntry>> = vec![Vec::new()];
        let mut used = 0;
        for e in level {
            let n = e.encoded_len();
            if used + n > budget && nodes.last().is_some_and(|l| !l.is_empty()) {
                nodes.push(Vec::new());
                used = 0;
            }
            used += n;
            if let Some(l) = nodes.last_mut() {
                l.push(e);
            }
        }
        nodes
    };
    let mut level_entries: Vec<IdxEntry> = entries
        .into_iter()
        .map(|(k, r)| IdxEntry {
            key: Bytes::from(k),
            val: r.to_u64(),
            lock: 0,
        })
        .collect();
    let mut level = 0u8;
    loop {
        let nodes = pack(level_entries);
        let top = nodes.len() == 1;
        // The top node goes into the fixed root; the others get new blocks.
        let blocks: Vec<BlockNo> = if top {
            vec![tree.root]
        } else {
            (0..nodes.len())
                .map(|_| allocate_block(core, stats, tree.seg))
                .collect::<Result<_>>()?
        };
        let firsts: Vec<Option<Bytes>> = nodes
            .iter()
            .map(|n| n.first().map(|e| e.key.clone()))
            .collect();
        let mut parents = Vec::with_capacity(nodes.len());
        for (i, entries) in nodes.into_iter().enumerate() {
            let low = if i == 0 { None } else { firsts[i].clone() };
            let high = firsts.get(i + 1).cloned().flatten();
            let body = IndexBody {
                level,
                next: if level == 0 {
                    blocks.get(i + 1).map_or(0, |b| b.0)
                } else {
                    0
                },
                low: low.clone(),
                high,
                entries,
            };
            let mut b = core.cache.get_new(blocks[i], stats)?;
            let (seg, itl) = (tree.seg, itl.clone());
            core.change(stats, RecHead::space(), &mut [&mut b], |_| {
                vec![Op::IdxSet {
                    seg,
                    itl,
                    body: Some(body),
                }]
            })?;
            parents.push(IdxEntry {
                key: low.unwrap_or_default(),
                val: blocks[i].0 as u64,
                lock: 0,
            });
        }
        if top {
            return Ok(tree);
        }
        level_entries = parents;
        level += 1;
    }
}
