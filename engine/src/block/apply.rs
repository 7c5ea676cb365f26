//! Changing a block: [`Block::apply`] carries out one redo [`Op`], and
//! [`Block::undo_op`] builds the op that takes an undo record back.
//!
//! ```text
//!  session:  Op ──► redo record ──► Block::apply (cached block)
//!  recovery:         redo record ──► Block::apply (block older than the record)
//!  rollback / consistent read:  UndoRec ──► Block::undo_op ──► Op ──► Block::apply
//! ```
//!
//! One function applies an op in all three cases, so roll-forward repeats
//! exactly what the session did, and an undo is just another op (logged
//! like any change when a rollback makes it).
//!
//! Invariant: `apply` either changes the block as the op says and raises
//! the block's SCN to the record's (never lowering it), or returns an error
//! naming why the op does not fit; it never panics on a bad op (a bug or a
//! corrupt log must not take the engine down).
//! Invariant: `undo_op(rec)` restores the ITL entry the record saved, and
//! the heap slot or the index entry too, unless a split has moved that entry
//! out of this block's fences (then a sibling holds it; see `undo_op`).

use super::{
    Block, Body, Itl, Op, Slot, SlotState, TxSlot, TxState, UndoBody, UndoHeader, UndoOp, UndoRec,
    MAX_ITL,
};
use crate::block::index::IndexBody;
use crate::ids::{Scn, Uba};
use crate::value::set_columns;

impl Block {
    /// Applies one change and stamps the block with `scn`.
    /// Errors describe an op that does not fit this block (a bug or a
    /// corrupt log), never panic.
    pub fn apply(&mut self, op: &Op, scn: Scn) -> Result<(), String> {
        match op {
            Op::FormatHeap { seg, itls } => {
                self.seg = *seg;
                self.itl = vec![Itl::default(); *itls as usize];
                self.body = Body::Heap(Vec::new());
            }
            Op::SetSlot {
                slot,
                value,
                itl_idx,
                itl,
            } => {
                if !matches!(self.body, Body::Heap(_)) {
                    return Err(format!("SetSlot on a {:?} block", self.kind()));
                }
                self.set_itl(*itl_idx, itl)?;
                let Body::Heap(slots) = &mut self.body else {
                    unreachable!("checked above")
                };
                let i = *slot as usize;
                if slots.len() <= i {
                    slots.resize(i + 1, Slot::UNUSED);
                }
                slots[i] = value.clone();
                // A rolled-back insert at the end of the directory gives its
                // slot back, so rollback leaves the block as it was.
                while slots.last().is_some_and(|s| s.state == SlotState::Unused) {
                    slots.pop();
                }
            }
            Op::UpdateCols {
                slot,
                lock,
                cols,
                itl_idx,
                itl,
            } => {
                let row = match &self.body {
                    Body::Heap(slots) => match slots.get(*slot as usize) {
                        Some(s) if s.state == SlotState::Live => &s.data,
                        _ => return Err(format!("UpdateCols on slot {slot}, not a live row")),
                    },
                    _ => return Err(format!("UpdateCols on a {:?} block", self.kind())),
                };
                let data = if cols.is_empty() {
                    row.clone()
                } else {
                    set_columns(row, cols)
                        .map_err(|e| format!("UpdateCols on slot {slot}: {e}"))?
                        .into()
                };
                self.set_itl(*itl_idx, itl)?;
                if let Body::Heap(slots) = &mut self.body {
                    slots[*slot as usize] = Slot {
                        state: SlotState::Live,
                        lock: *lock,
                        data,
                    };
                }
            }
            Op::InsertRows { rows, itl_idx, itl } => {
                self.set_itl(*itl_idx, itl)?;
                let Body::Heap(slots) = &mut self.body else {
                    return Err(format!("InsertRows on a {:?} block", self.kind()));
                };
                for (i, data) in rows {
                    let i = *i as usize;
                    if slots.len() <= i {
                        slots.resize(i + 1, Slot::UNUSED);
                    }
                    slots[i] = Slot {
                        state: SlotState::Live,
                        lock: itl_idx + 1,
                        data: data.clone(),
                    };
                }
            }
            Op::ClearSlots {
                slots: which,
                itl_idx,
                itl,
            } => {
                self.set_itl(*itl_idx, itl)?;
                let Body::Heap(slots) = &mut self.body else {
                    return Err(format!("ClearSlots on a {:?} block", self.kind()));
                };
                for &i in which {
                    if let Some(s) = slots.get_mut(i as usize) {
                        *s = Slot::UNUSED;
                    }
                }
                while slots.last().is_some_and(|s| s.state == SlotState::Unused) {
                    slots.pop();
                }
            }
            Op::SetItl { itl_idx, itl } => self.set_itl(*itl_idx, itl)?,
            Op::SegHwm { hwm, itl_idx, itl } => {
                self.set_itl(*itl_idx, itl)?;
                let Body::SegHeader(h) = &mut self.body else {
                    return Err(format!("SegHwm on a {:?} block", self.kind()));
                };
                h.hwm = *hwm;
            }
            Op::HeapImage { seg, itls, slots } => {
                self.seg = *seg;
                self.itl = vec![Itl::default(); *itls as usize];
                self.body = Body::Heap(slots.clone());
            }
            Op::IdxSet { seg, itl, body } => {
                self.seg = *seg;
                self.itl = itl.clone();
                self.body = body.clone().map_or(Body::Unformatted, Body::Index);
            }
            Op::IdxInsert {
                entry,
                itl_idx,
                itl,
            } => {
                self.set_itl(*itl_idx, itl)?;
                self.index_mut()?.put(entry.clone());
            }
            Op::IdxDelete { key, itl_idx, itl } => {
                self.set_itl(*itl_idx, itl)?;
                self.index_mut()?.take(key);
            }
            Op::IdxSplitFrom {
                sep,
                next,
                itl_idx,
                itl,
            } => {
                self.set_itl(*itl_idx, itl)?;
                let n = self.index_mut()?;
                let keep = n.entries().partition_point(|e| *e.key() < *sep);
                n.truncate(keep);
                n.high = Some(sep.clone());
                n.next = *next;
            }
            Op::IdxRoot {
                level,
                entries,
                itl_idx,
                itl,
            } => {
                self.set_itl(*itl_idx, itl)?;
                let n = self.index_mut()?;
                n.level = *level;
                n.set_entries(entries.clone());
                // The root covers the whole key space again.
                n.high = None;
            }
            Op::SetFileHeader(h) => {
                self.body = Body::FileHeader(h.clone());
            }
            Op::SetSegHeader(h) => {
                self.seg = self.no;
                self.body = Body::SegHeader(h.clone());
            }
            Op::FormatUndo { wrap, owner } => {
                self.body = Body::Undo(UndoBody {
                    wrap: *wrap,
                    owner: *owner,
                    records: Vec::new(),
                });
            }
            Op::UndoAppend(rec) => {
                let Body::Undo(u) = &mut self.body else {
                    return Err(format!("UndoAppend on a {:?} block", self.kind()));
                };
                u.records.push(rec.clone());
            }
            Op::TxSlot { idx, slot } => {
                let Body::UndoHeader(h) = &mut self.body else {
                    return Err(format!("TxSlot on a {:?} block", self.kind()));
                };
                let i = *idx as usize;
                if i >= h.slots.len() {
                    return Err(format!("transaction slot {i} out of range"));
                }
                // Reusing the slot of a committed transaction forgets its
                // commit SCN and time; remember upper bounds for readers that
                // still meet its xid in an ITL (the `txn` module doc: a reused
                // slot) and for undo retention (`undo::ring_state`).
                let old = h.slots[i];
                if old.state == TxState::Committed && old.wrap != slot.wrap {
                    h.control_scn = h.control_scn.max(old.scn);
                    h.control_time_ms = h.control_time_ms.max(old.time_ms);
                }
                h.slots[i] = *slot;
            }
            Op::UndoRing {
                extents,
                next,
                control_scn,
                slots,
            } => {
                if !matches!(self.body, Body::UndoHeader(_)) {
                    self.body = Body::UndoHeader(UndoHeader {
                        slots: vec![
                            TxSlot {
                                wrap: 0,
                                state: TxState::Free,
                                scn: Scn(0),
                                last_uba: Uba::NONE,
                                time_ms: 0
                            };
                            *slots as usize
                        ],
                        ..UndoHeader::default()
                    });
                }
                let Body::UndoHeader(h) = &mut self.body else {
                    unreachable!("set just above")
                };
                h.extents = extents.clone();
                h.next = *next;
                h.control_scn = *control_scn;
            }
        }
        self.scn = self.scn.max(scn);
        Ok(())
    }

    fn index_mut(&mut self) -> Result<&mut IndexBody, String> {
        let kind = self.kind();
        match &mut self.body {
            Body::Index(n) => Ok(n),
            _ => Err(format!("index op on a {kind:?} block")),
        }
    }

    /// Sets ITL entry `j` (appending when `j` is one past the end). A
    /// transaction taking over an entry from a committed one: lock bytes
    /// still pointing at the entry belong to the old owner and must not look
    /// locked by the new one, so they are cleared.
    fn set_itl(&mut self, j: u8, itl: &Itl) -> Result<(), String> {
        let j = j as usize;
        if j < self.itl.len() && self.itl[j].xid != itl.xid {
            let stale = (j + 1) as u8;
            match &mut self.body {
                Body::Heap(slots) => slots
                    .iter_mut()
                    .filter(|s| s.lock == stale)
                    .for_each(|s| s.lock = 0),
                Body::Index(n) => n
                    .entries_mut()
                    .iter_mut()
                    .filter(|e| e.lock == stale)
                    .for_each(|e| e.lock = 0),
                _ => {}
            }
        }
        if j == self.itl.len() && j < MAX_ITL {
            self.itl.push(*itl);
        } else if j < self.itl.len() {
            self.itl[j] = *itl;
        } else {
            return Err(format!("ITL index {j} out of range"));
        }
        Ok(())
    }

    /// The op that takes back `rec` on this block: used by consistent reads
    /// (applied to a clone) and by rollback (logged, then applied to the
    /// current block).
    ///
    /// Index undo is by key: a split may have moved the entry to a right
    /// sibling that inherited the ITL, so an entry is taken out or put back
    /// only if its key lies within this block's fences; otherwise only the
    /// ITL entry is restored.
    pub fn undo_op(&self, rec: &UndoRec) -> Result<Op, String> {
        let itl_idx = rec.itl_idx;
        let itl = rec.prev_itl;
        let with_itl = |mut v: Vec<Itl>| {
            let j = itl_idx as usize;
            if j < v.len() {
                v[j] = itl;
            }
            v
        };
        Ok(match (&rec.op, &self.body) {
            (UndoOp::Slot { slot, before }, Body::Heap(_)) => Op::SetSlot {
                slot: *slot,
                value: Slot {
                    lock: unlocked_unless_own(before.lock, itl_idx),
                    ..before.clone()
                },
                itl_idx,
                itl,
            },
            // The same rule for the lock byte as a whole before image.
            (UndoOp::Cols { slot, lock, cols }, Body::Heap(_)) => Op::UpdateCols {
                slot: *slot,
                lock: unlocked_unless_own(*lock, itl_idx),
                cols: cols.clone(),
                itl_idx,
                itl,
            },
            // Only at the level the change was made: a leaf root that has
            // since split is a branch now, and its entries are separators.
            (UndoOp::IdxIns { key, level }, Body::Index(n))
                if n.level == *level && n.covers(key) =>
            {
                Op::IdxDelete {
                    key: key.clone(),
                    itl_idx,
                    itl,
                }
            }
            (UndoOp::IdxDel { entry, level }, Body::Index(n))
                if n.level == *level && n.covers(entry.key()) =>
            {
                let mut entry = entry.clone();
                entry.lock = unlocked_unless_own(entry.lock, itl_idx);
                Op::IdxInsert {
                    entry,
                    itl_idx,
                    itl,
                }
            }
            (UndoOp::IdxIns { .. } | UndoOp::IdxDel { .. }, Body::Index(_)) => {
                Op::SetItl { itl_idx, itl }
            }
            (UndoOp::Unformat, Body::Index(_)) => Op::IdxSet {
                seg: self.seg,
                itl: Vec::new(),
                body: None,
            },
            (UndoOp::SplitFrom { moved, high, next }, Body::Index(n)) => {
                let mut body = n.clone();
                for e in moved {
                    body.put(e.clone());
                }
                body.high = high.clone();
                body.next = *next;
                Op::IdxSet {
                    seg: self.seg,
                    itl: with_itl(self.itl.clone()),
                    body: Some(body),
                }
            }
            (UndoOp::RootFrom { level, moved }, Body::Index(n)) => {
                let mut body = n.clone();
                body.level = *level;
                body.set_entries(moved.clone());
                Op::IdxSet {
                    seg: self.seg,
                    itl: with_itl(self.itl.clone()),
                    body: Some(body),
                }
            }
            (UndoOp::NewRows { slots }, Body::Heap(_)) => Op::ClearSlots {
                slots: slots.clone(),
                itl_idx,
                itl,
            },
            (UndoOp::SegHwm { hwm }, Body::SegHeader(_)) => Op::SegHwm {
                hwm: *hwm,
                itl_idx,
                itl,
            },
            (op, _) => {
                return Err(format!(
                    "undo {op:?} does not apply to a {:?} block",
                    self.kind()
                ))
            }
        })
    }
}

/// The lock byte to restore with a before image taken back by the undo of
/// ITL entry `itl_idx`. A lock byte naming that entry is this transaction's
/// own (an earlier change of the same row) and stays. Any other names the
/// entry of a transaction that had ended when this one took the row; that
/// entry may since have been taken over by a live transaction (which
/// cleared the lock bytes pointing at it then, not this one, which was not
/// in the block yet), so the restored row is unlocked rather than made to
/// look locked by a stranger.
fn unlocked_unless_own(lock: u8, itl_idx: u8) -> u8 {
    if lock == itl_idx + 1 {
        lock
    } else {
        0
    }
}
