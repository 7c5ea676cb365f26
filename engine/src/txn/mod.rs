//! Transactions: snapshots, the lifecycle, ITL handling and consistent reads.
//!
//! Files: `mod.rs` (isolation, snapshots, what the transaction table says
//! about a transaction), `lifecycle.rs` (begin, commit, rollback, recovery's
//! rollback of every active transaction), `itl.rs` (taking an ITL entry,
//! commit cleanout), `read.rs` (consistent read: rolling a block back with
//! undo).
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
//! for the holder to end (`crate::lock::Waits`), with a timeout; before
//! waiting it walks the wait-for chain from the holder, and if the chain
//! leads back to itself the waiter is the deadlock victim.
//!
//! Simplifications: one undo segment; Halloween protection (a statement not
//! seeing its own changes) is not modelled.

pub(crate) mod itl;
mod lifecycle;
mod read;

pub(crate) use crate::undo::TxnCtx;
pub(crate) use lifecycle::{begin, commit, commit_system, end_rollback, rollback_all, rollback_to};
pub(crate) use read::read_consistent;
pub use read::View;

use crate::block::{Body, TxState};
use crate::buffer::Mode;
use crate::error::{Error, Result};
use crate::ids::{Scn, Xid};
use crate::kernel::{undo_header, Kernel};
use crate::stats::{SessionStats, Stat};

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
