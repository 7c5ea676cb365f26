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
//! **Splits** (`btree/split.rs`) run in a system transaction of their own
//! that commits at once, and the new right node inherits the split node's
//! ITL. Splits of one index are serialised by a mutex; plain
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

use super::split::split_for;

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
pub(super) fn room_needed(block_size: usize) -> usize {
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
/// the key's range), the leaf last. The same walk as [`descend`], which it
/// runs; the leaf's pin is let go.
pub(super) fn path_to(
    core: &Kernel,
    stats: &SessionStats,
    tree: Tree,
    key: &[u8],
) -> Result<Vec<BlockNo>> {
    let mut path = Vec::new();
    walk(core, stats, tree, key, |no| path.push(no))?;
    Ok(path)
}

/// Current-mode descent to the leaf whose range holds `key`, moving right
/// where a split moved the key's range; returns that leaf, pinned and
/// latched shared. Every block is got once: the caller goes on with the
/// leaf it was handed, so the leaf is not got again (one get per level).
fn descend<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    tree: Tree,
    key: &[u8],
) -> Result<crate::buffer::BufRead<'a>> {
    walk(core, stats, tree, key, |_| {})
}

/// [`descend`], telling `on_path` each block of the path from the root
/// down (a block left by moving right is not on the path).
fn walk<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    tree: Tree,
    key: &[u8],
    mut on_path: impl FnMut(BlockNo),
) -> Result<crate::buffer::BufRead<'a>> {
    let mut no = tree.root;
    for _ in 0..10_000 {
        let b = core.cache.get(no, Mode::Current, stats)?;
        let n = node(core, &b)?;
        count_level(stats, tree, no, n);
        if n.beyond(key) && n.next != 0 {
            no = BlockNo(n.next);
            continue;
        }
        on_path(no);
        if n.is_leaf() {
            return Ok(b);
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

/// Latches the leaf holding `key` exclusively: the descent's leaf, its
/// shared latch traded for an exclusive one under the same pin (one get,
/// one `db block gets`, not two).
fn leaf_for<'a>(
    core: &'a Kernel,
    stats: &SessionStats,
    tree: Tree,
    key: &[u8],
) -> Result<BufWrite<'a>> {
    stats.inc(Stat::IndexDescents);
    let mut b = descend(core, stats, tree, key)?.latch_exclusive();
    loop {
        // Between the two latches a split may have moved the key's range
        // to the right, or (a root leaf) pushed the entries down a level.
        let n = node(core, &b)?;
        let next = if n.beyond(key) && n.next != 0 {
            n.next
        } else if !n.is_leaf() {
            n.child_for(key).ok_or_else(|| {
                Error::corrupt(
                    core.file.name(),
                    b.no.0 as u64,
                    "branch block without entries",
                )
            })?
        } else {
            return Ok(b);
        };
        drop(b);
        b = core.cache.get_mut(BlockNo(next), stats)?;
        count_level(stats, tree, BlockNo(next), node(core, &b)?);
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
                let entry = IdxEntry::new(key.clone(), rowid.to_u64(), itl_idx + 1);
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
        let entry = n.entries()[pos].clone();
        if let Some(itl_idx) = acquire_itl(core, stats, txn, &mut b, SPLIT_RESERVE)? {
            let key = entry.key().clone();
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
    let start_prefix = crate::block::index::prefix_of(start);
    for _ in 0..u32::MAX {
        let leaf = node(core, &view)?;
        let from = leaf
            .entries()
            .partition_point(|e| e.cmp_key(start, start_prefix).is_lt());
        for e in &leaf.entries()[from..] {
            if stop.is_some_and(|s| e.key().as_ref() >= s) {
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
    // The descent's leaf is read as it is handed over, not got again.
    let mut b = descend(core, stats, tree, prefix)?;
    let mut active_other = None;
    loop {
        let n = node(core, &b)?.clone();
        let itl = b.itl.clone();
        drop(b);
        // The first entry at or after the prefix decides, if it has the prefix.
        let first = n
            .entries()
            .iter()
            .find(|e| e.key().as_ref() >= prefix)
            .filter(|e| {
                stop.as_ref()
                    .is_none_or(|s| e.key().as_ref() < s.as_slice())
            });
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
        b = core.cache.get(BlockNo(n.next), Mode::Current, stats)?;
        count_level(stats, tree, b.no, node(core, &b)?);
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
        .map(|(k, r)| IdxEntry::new(Bytes::from(k), r.to_u64(), 0))
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
            .map(|n| n.first().map(|e| e.key().clone()))
            .collect();
        let mut parents = Vec::with_capacity(nodes.len());
        for (i, entries) in nodes.into_iter().enumerate() {
            let low = if i == 0 { None } else { firsts[i].clone() };
            let high = firsts.get(i + 1).cloned().flatten();
            let next = if level == 0 {
                blocks.get(i + 1).map_or(0, |b| b.0)
            } else {
                0
            };
            let body = IndexBody::new(level, next, low.clone(), high, entries);
            let mut b = core.cache.get_new(blocks[i], stats)?;
            let (seg, itl) = (tree.seg, itl.clone());
            core.change(stats, RecHead::space(), &mut [&mut b], |_| {
                vec![Op::IdxSet {
                    seg,
                    itl,
                    body: Some(body),
                }]
            })?;
            parents.push(IdxEntry::new(
                low.unwrap_or_default(),
                blocks[i].0 as u64,
                0,
            ));
        }
        if top {
            return Ok(tree);
        }
        level_entries = parents;
        level += 1;
    }
}
