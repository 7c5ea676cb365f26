//! The interested transaction list (ITL) of a data or index block, from a
//! transaction's side: taking an entry before changing a block, and the
//! commit cleanout that stamps a commit SCN into the entries of the blocks
//! a transaction changed.
//!
//! A block's ITL names the transactions that changed it; a row's lock byte
//! points at one entry. [`acquire_itl`] finds an entry for a transaction
//! (its own, a free one, one of a committed transaction it may take over,
//! or a new one while the block has room). An entry whose transaction
//! committed but whose commit SCN is not in the block yet is resolved
//! through the transaction table and stamped then (delayed block cleanout).
//! [`commit_cleanout`] stamps the committing transaction's entries in the
//! blocks still cached, without redo.
//!
//! ## Cleanout, as Oracle does it
//!
//! At commit, the session revisits the blocks it changed that are still in
//! the buffer cache — at most a tenth of the cache, Oracle's limit — and
//! writes the commit SCN into its ITL entry there (*commit cleanout*,
//! Oracle's "fast commit cleanout"; Jonathan Lewis, *Oracle Core*, ch. 3;
//! Tom Kyte, *Expert Oracle Database Architecture*, "Block Cleanout"). It
//! logs nothing: the stamp only saves later readers a transaction-table
//! lookup, and losing it in a crash loses nothing. It does mark the block
//! dirty, so the stamp is written with the block instead of vanishing when
//! the block is evicted (in Oracle the block is almost always still dirty
//! from the change itself; marking it makes that certain here). Blocks
//! already evicted, and blocks beyond the limit, are left as they are.
//!
//! A reader that later meets such a left-over entry (no commit SCN, its
//! transaction committed) looks the transaction up and cleans the block
//! out for everyone: in current mode, the commit SCN stamped, the change
//! logged (redo) and the block marked dirty, like any change (*delayed
//! block cleanout*, `txn::read`). So the first query after a big update
//! can generate redo, and the second one does not (claim C34).
//!
//! Counted as in Oracle: `commit cleanouts` (a block commit cleanout
//! tried), `commit cleanouts successfully completed` (found in the cache
//! and stamped), `immediate (CR) block cleanout applications` (a block a
//! consistent read cleaned out), `cleanouts only - consistent read gets`
//! (a consistent get that cleaned out and then needed no rollback).
//!
//! Invariant: an entry is taken over only when its transaction has ended,
//! and, while the block can still grow its ITL, only when that transaction
//! committed at or before the taker's read SCN (so the taker's own reads
//! never hide a change it should roll back).

use crate::block::{Block, ITL_LEN, MAX_ITL};
use crate::buffer::BufWrite;
use crate::error::{Error, Result};
use crate::ids::Scn;
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};

use super::{tx_status, TxStatus, TxnCtx};

/// Whether the transaction behind ITL entry `i` has ended (committed, or
/// rolled back); stamps a commit SCN learned from the transaction table
/// into the entry (delayed block cleanout, unlogged: it saves later lookups).
pub(crate) fn itl_committed(
    core: &Kernel,
    stats: &SessionStats,
    b: &mut BufWrite<'_>,
    i: usize,
) -> Result<bool> {
    let e = b.itl[i];
    if e.xid.is_none() || e.commit_scn.0 != 0 {
        return Ok(true);
    }
    match tx_status(core, stats, e.xid)? {
        TxStatus::Committed(c) => {
            b.block_mut().itl[i].commit_scn = c;
            Ok(true)
        }
        TxStatus::Gone(upper) => {
            b.block_mut().itl[i].commit_scn = upper;
            Ok(true)
        }
        TxStatus::RolledBack => Ok(true),
        TxStatus::Active => Ok(false),
    }
}

/// Finds an ITL entry for `txn` in the block: its own, a free one, one of a
/// committed transaction (taken over), or a new one if there is room.
pub(crate) fn acquire_itl(
    core: &Kernel,
    stats: &SessionStats,
    txn: &TxnCtx,
    b: &mut BufWrite<'_>,
    extra: usize,
) -> Result<Option<u8>> {
    if let Some(i) = b.itl.iter().position(|e| e.xid == txn.xid) {
        return Ok(Some(i as u8));
    }
    if let Some(i) = b.itl.iter().position(|e| e.xid.is_none()) {
        return Ok(Some(i as u8));
    }
    // Entries of committed transactions, oldest commit first.
    let mut committed = Vec::new();
    for i in 0..b.itl.len() {
        if itl_committed(core, stats, b, i)? {
            committed.push((b.itl[i].commit_scn, i));
        }
    }
    committed.sort_unstable();
    // Taking over an entry hides its transaction behind ours: a later read
    // by this transaction treats the entry as its own and would not roll
    // that transaction's changes back. So only entries committed at or
    // before this transaction's read SCN are taken over while the block
    // can still grow its ITL instead.
    if let Some(&(_, i)) = committed.first().filter(|(c, _)| *c <= txn.read_scn) {
        return Ok(Some(i as u8));
    }
    if b.itl.len() < MAX_ITL && b.encoded_len() + ITL_LEN + extra <= core.file.block_size() {
        return Ok(Some(b.itl.len() as u8));
    }
    if let Some(&(_, i)) = committed.first() {
        if txn.serializable {
            // The block changed after the snapshot and has no room to keep
            // that visible: Oracle raises ORA-08177 here too.
            stats.inc(Stat::SerializeFailures);
            return Err(Error::CannotSerialize {
                rowid: format!("{}.*", b.no.0),
            });
        }
        return Ok(Some(i as u8));
    }
    Ok(None)
}

/// Space an ITL entry at `idx` would add (a new entry at the end).
pub(crate) fn itl_growth(b: &Block, idx: u8) -> usize {
    if idx as usize == b.itl.len() {
        ITL_LEN
    } else {
        0
    }
}

/// The most blocks one commit cleans out: a tenth of the buffer cache
/// (Oracle's limit), at least one.
pub(crate) fn commit_cleanout_limit(core: &Kernel) -> usize {
    (core.cache.frames() / 10).max(1)
}

/// Commit cleanout: stamps the commit SCN into the ITL entries of `txn`
/// in the blocks it changed that are still cached, up to
/// [`commit_cleanout_limit`] blocks; no redo, but each block cleaned is
/// marked dirty (see the module doc).
pub(crate) fn commit_cleanout(core: &Kernel, stats: &SessionStats, txn: &TxnCtx, scn: Scn) {
    let inherited = core.inherited.lock().remove(&txn.xid).unwrap_or_default();
    let extra = inherited.iter().filter(|no| !txn.blocks.contains(no));
    let limit = commit_cleanout_limit(core);
    for &no in txn.blocks.iter().chain(extra).take(limit) {
        stats.inc(Stat::CommitCleanouts);
        let Some(mut b) = core.cache.get_mut_if_cached(no) else {
            continue;
        };
        let mut stamped = false;
        for e in b.block_mut().itl.iter_mut().filter(|e| e.xid == txn.xid) {
            e.commit_scn = scn;
            stamped = true;
        }
        if stamped {
            b.mark_dirty_unlogged(core.log.end_lsn());
            stats.inc(Stat::CommitCleanoutsCompleted);
        }
    }
}
