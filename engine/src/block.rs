//! The block: the unit of storage, caching, redo and undo.
//!
//! A block lives in two forms. On disk (and in redo block images) it is
//! `block_size` bytes; in the buffer cache it is a decoded [`Block`] whose
//! encoded size never exceeds `block_size` (every change checks space first).
//! Keeping the cached form decoded makes the mechanisms readable — a change is
//! "set slot 3 to this row and ITL entry 1 to that", not byte surgery — while
//! the sizes, and therefore rows per block, free space and block counts, are
//! exactly those of the byte format below.
//!
//! ```text
//!  offset  size  field
//!  0       4     CRC32 of bytes 4..block_size (stamped by storage::DataFile)
//!  4       1     kind (0 unformatted, 1 file header, 2 segment header,
//!                      3 heap/table, 4 undo header, 5 undo)
//!  5       1     reserved
//!  6       1     ITL entries (n)
//!  7       1     reserved
//!  8       4     block number (self-address: catches misplaced writes)
//!  12      4     segment (block number of the owning segment header)
//!  16      8     SCN of the last change applied to this block
//!  24      32*n  ITL: xid u64 | uba u64 | commit SCN u64 | lock count u16 | pad 6
//!  24+32n  ...   body, by kind (see `Body`)
//! ```
//!
//! Every change to a block is an [`Op`] applied by [`Block::apply`]. Sessions
//! log the op in redo and then apply that same op to the cached block;
//! recovery applies it again from the redo. One function for both is what
//! makes roll-forward exact.
//!
//! Invariant: `encoded_len() <= block_size` after every applied op.
//! Invariant: a block's SCN only grows; recovery applies an op only when the
//! block's SCN is older than the redo record's.

use bytes::Bytes;

use crate::btree::node::{get_entry, put_entry, IdxEntry, IndexBody};
use crate::codec::{Dec, DecResult, Enc};
use crate::ids::{BlockNo, Scn, Uba, Xid};

pub const HEADER_LEN: usize = 24;
pub const ITL_LEN: usize = 32;
/// Largest number of ITL entries a block may grow to.
pub const MAX_ITL: usize = 64;

/// What a block holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Unformatted = 0,
    FileHeader = 1,
    SegHeader = 2,
    Heap = 3,
    UndoHeader = 4,
    Undo = 5,
    Index = 6,
}

impl BlockKind {
    fn from_u8(v: u8) -> DecResult<Self> {
        Ok(match v {
            0 => BlockKind::Unformatted,
            1 => BlockKind::FileHeader,
            2 => BlockKind::SegHeader,
            3 => BlockKind::Heap,
            4 => BlockKind::UndoHeader,
            5 => BlockKind::Undo,
            6 => BlockKind::Index,
            _ => return Err(format!("unknown block kind {v}")),
        })
    }
}

/// One interested-transaction-list entry: a transaction that changed this
/// block, where its undo for this block starts, and its commit SCN once known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Itl {
    pub xid: Xid,
    /// Undo of this transaction's latest change to this block. Each undo
    /// record holds the ITL entry as it was before that change, so following
    /// `uba` walks the block's change history backwards.
    pub uba: Uba,
    /// Commit SCN stamped by commit cleanout; `Scn(0)` = not known here
    /// (look the transaction up in its transaction table).
    pub commit_scn: Scn,
    /// Rows of this block locked by the transaction.
    pub lock_count: u16,
}

/// State of a row slot in a heap block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// Never used, or its insert was rolled back.
    Unused = 0,
    Live = 1,
    /// Deleted; the bytes stay until the slot is reused, so that a rollback
    /// of the delete always finds room.
    Deleted = 2,
}

/// A row slot: state, lock byte (ITL index + 1, 0 = unlocked) and row bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub state: SlotState,
    pub lock: u8,
    pub data: Bytes,
}

impl Slot {
    pub const UNUSED: Slot = Slot {
        state: SlotState::Unused,
        lock: 0,
        data: Bytes::new(),
    };
    pub fn encoded_len(&self) -> usize {
        4 + self.data.len()
    }
}

/// Block 0 of the data file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FileHeader {
    pub db_id: u64,
    pub block_size: u32,
    /// Blocks handed out so far (the file's own high-water mark).
    pub allocated: u32,
    pub catalog_seg: BlockNo,
    /// Header of undo segment 0 (the others follow, see `core::undo_header`).
    pub undo_header: BlockNo,
    pub undo_segments: u32,
}

/// A segment header: the extents of a table (or the catalog), its HWM and
/// the blocks below the HWM known to have free space.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SegHeader {
    pub object: u32,
    /// (first block, length) of each extent, in allocation order. The first
    /// extent starts with this header block.
    pub extents: Vec<(u32, u32)>,
    /// Blocks of the segment formatted so far, counted along the extents
    /// (the header itself is block 0 of the segment).
    pub hwm: u32,
    /// Blocks below the HWM that may have room for an insert.
    pub free: Vec<u32>,
}

/// Transaction state in a transaction-table slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxState {
    Free = 0,
    Active = 1,
    Committed = 2,
    RolledBack = 3,
}

/// One transaction-table slot of the undo segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxSlot {
    pub wrap: u32,
    pub state: TxState,
    /// Start SCN while active; commit SCN once committed.
    pub scn: Scn,
    /// Undo record of the transaction's latest change (the head of its chain).
    pub last_uba: Uba,
    /// Wall-clock milliseconds of the commit (for undo retention).
    pub time_ms: u64,
}

pub const TX_SLOT_LEN: usize = 32;

/// The undo segment header: the transaction table and the ring of undo blocks.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UndoHeader {
    pub slots: Vec<TxSlot>,
    /// Extents of the undo ring, in ring order.
    pub extents: Vec<(u32, u32)>,
    /// Ring position (index over all extent blocks) of the next block to use.
    pub next: u32,
    /// Highest commit SCN of a transaction slot that was reused: a transaction
    /// whose slot is gone committed at or before this SCN.
    pub control_scn: Scn,
}

/// What an undo record takes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UndoOp {
    /// A heap row slot, as it was before the change.
    Slot { slot: u16, before: Slot },
    /// An index entry was inserted: take the entry with this key out again.
    IdxIns { key: Bytes, level: u8 },
    /// An index entry was deleted: put it back.
    IdxDel { entry: IdxEntry, level: u8 },
    /// A split formatted this new block: it was unformatted before.
    Unformat,
    /// A split moved these entries to a new right sibling and set the
    /// high fence and next pointer: put them back.
    SplitFrom {
        moved: Vec<IdxEntry>,
        high: Option<Bytes>,
        next: u32,
    },
    /// A root split moved all of the root's entries down a level: restore
    /// the old level and entries.
    RootFrom { level: u8, moved: Vec<IdxEntry> },
    /// A direct-path load moved the segment's HWM: put it back.
    SegHwm { hwm: u32 },
}

impl UndoOp {
    /// Undo of a single index entry (logical, by key).
    pub fn is_index_entry(&self) -> bool {
        matches!(self, UndoOp::IdxIns { .. } | UndoOp::IdxDel { .. })
    }

    fn encoded_len(&self) -> usize {
        1 + match self {
            UndoOp::Slot { before, .. } => 2 + before.encoded_len(),
            UndoOp::IdxIns { key, .. } => 1 + 2 + key.len(),
            UndoOp::IdxDel { entry, .. } => 1 + entry.encoded_len(),
            UndoOp::Unformat => 0,
            UndoOp::SplitFrom { moved, high, .. } => {
                entries_len(moved) + 1 + high.as_ref().map_or(0, |h| 2 + h.len()) + 4
            }
            UndoOp::RootFrom { moved, .. } => 1 + entries_len(moved),
            UndoOp::SegHwm { .. } => 4,
        }
    }
}

fn entries_len(e: &[IdxEntry]) -> usize {
    2 + e.iter().map(IdxEntry::encoded_len).sum::<usize>()
}

/// One undo record: how to take back one change to one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndoRec {
    pub xid: Xid,
    /// The transaction's previous undo record (its rollback chain).
    pub prev_txn: Uba,
    pub block: BlockNo,
    pub itl_idx: u8,
    /// The ITL entry before the change (restores the block's own chain).
    pub prev_itl: Itl,
    /// SCN of the change this record takes back: consistent reads undo a
    /// block's changes newest first by it.
    pub scn: Scn,
    pub op: UndoOp,
}

impl UndoRec {
    pub fn encoded_len(&self) -> usize {
        8 + 8 + 4 + 1 + ITL_LEN + 8 + self.op.encoded_len()
    }
}

/// An undo block: records of one transaction at a time.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UndoBody {
    /// Reuse count of this block; part of every undo address pointing here.
    pub wrap: u16,
    pub owner: Xid,
    pub records: Vec<UndoRec>,
}

/// The kind-specific part of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Unformatted,
    FileHeader(FileHeader),
    SegHeader(SegHeader),
    Heap(Vec<Slot>),
    UndoHeader(UndoHeader),
    Undo(UndoBody),
    Index(IndexBody),
}

/// A decoded block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub no: BlockNo,
    pub seg: BlockNo,
    pub scn: Scn,
    pub itl: Vec<Itl>,
    pub body: Body,
}

/// One change to one block (a redo change vector's operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Format an empty heap block of segment `seg` with `itls` ITL entries.
    FormatHeap {
        seg: BlockNo,
        itls: u8,
    },
    /// Set one row slot and one ITL entry (insert, update, delete, rollback).
    /// `itl_idx == itl.len()` appends a new ITL entry.
    SetSlot {
        slot: u16,
        value: Slot,
        itl_idx: u8,
        itl: Itl,
    },
    SetFileHeader(FileHeader),
    SetSegHeader(SegHeader),
    /// (Re)format an undo block for a new owner; bumps nothing by itself —
    /// the new `wrap` is given.
    FormatUndo {
        wrap: u16,
        owner: Xid,
    },
    UndoAppend(UndoRec),
    /// Set one transaction-table slot.
    TxSlot {
        idx: u16,
        slot: TxSlot,
    },
    /// Set one ITL entry only (undo of an index change whose key moved on).
    SetItl {
        itl_idx: u8,
        itl: Itl,
    },
    /// Set a whole index block: its ITL and body (`None` = unformatted).
    IdxSet {
        seg: BlockNo,
        itl: Vec<Itl>,
        body: Option<IndexBody>,
    },
    /// Insert an index entry (in key order) and set one ITL entry.
    IdxInsert {
        entry: IdxEntry,
        itl_idx: u8,
        itl: Itl,
    },
    /// Remove the index entry with `key` and set one ITL entry.
    IdxDelete {
        key: Bytes,
        itl_idx: u8,
        itl: Itl,
    },
    /// Split: remove the entries at or above `sep` (they moved to block
    /// `next`), make `sep` the high fence, and set one ITL entry.
    IdxSplitFrom {
        sep: Bytes,
        next: u32,
        itl_idx: u8,
        itl: Itl,
    },
    /// Root split: the root becomes a branch of `level` with `entries`.
    IdxRoot {
        level: u8,
        entries: Vec<IdxEntry>,
        itl_idx: u8,
        itl: Itl,
    },
    /// A direct-path load publishes its blocks: set the segment's HWM and
    /// one ITL entry of the segment header.
    SegHwm {
        hwm: u32,
        itl_idx: u8,
        itl: Itl,
    },
    /// A whole table block written by a direct-path load (its redo when
    /// the table is LOGGING): the block image as slots.
    HeapImage {
        seg: BlockNo,
        itls: u8,
        slots: Vec<Slot>,
    },
    /// Set the undo ring (extents, next position, control SCN).
    UndoRing {
        extents: Vec<(u32, u32)>,
        next: u32,
        control_scn: Scn,
        slots: u16,
    },
}

impl Block {
    pub fn unformatted(no: BlockNo) -> Block {
        Block {
            no,
            seg: BlockNo(0),
            scn: Scn(0),
            itl: Vec::new(),
            body: Body::Unformatted,
        }
    }

    pub fn kind(&self) -> BlockKind {
        match &self.body {
            Body::Unformatted => BlockKind::Unformatted,
            Body::FileHeader(_) => BlockKind::FileHeader,
            Body::SegHeader(_) => BlockKind::SegHeader,
            Body::Heap(_) => BlockKind::Heap,
            Body::UndoHeader(_) => BlockKind::UndoHeader,
            Body::Undo(_) => BlockKind::Undo,
            Body::Index(_) => BlockKind::Index,
        }
    }

    /// Bytes this block occupies when encoded.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.itl.len() * ITL_LEN + body_len(&self.body)
    }

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
                let keep = n.entries.partition_point(|e| e.key < *sep);
                n.entries.truncate(keep);
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
                n.entries = entries.clone();
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
                // commit SCN; remember an upper bound for readers that still
                // meet its xid in an ITL (MECHANISMS §2.5, §3.3).
                let old = h.slots[i];
                if old.state == TxState::Committed && old.wrap != slot.wrap {
                    h.control_scn = h.control_scn.max(old.scn);
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
                    .entries
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
                value: before.clone(),
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
                if n.level == *level && n.covers(&entry.key) =>
            {
                Op::IdxInsert {
                    entry: entry.clone(),
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
                body.entries = moved.clone();
                Op::IdxSet {
                    seg: self.seg,
                    itl: with_itl(self.itl.clone()),
                    body: Some(body),
                }
            }
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

    /// Encodes into `buf` (len = block size). Bytes 0..4 are left for the CRC.
    pub fn encode(&self, buf: &mut [u8]) -> Result<(), String> {
        let mut v: Vec<u8> = Vec::with_capacity(buf.len());
        v.extend_from_slice(&[0; 4]);
        v.put_u8(self.kind() as u8);
        v.put_u8(0);
        v.put_u8(self.itl.len() as u8);
        v.put_u8(0);
        v.put_u32(self.no.0);
        v.put_u32(self.seg.0);
        v.put_u64(self.scn.0);
        for i in &self.itl {
            put_itl(&mut v, i);
        }
        encode_body(&mut v, &self.body);
        if v.len() > buf.len() {
            return Err(format!(
                "block {} encodes to {} bytes, more than the block size {}",
                self.no.0,
                v.len(),
                buf.len()
            ));
        }
        buf[..v.len()].copy_from_slice(&v);
        buf[v.len()..].fill(0);
        Ok(())
    }

    /// Decodes a block read from disk (CRC already checked). An all-zero
    /// buffer is an unformatted block.
    pub fn decode(no: BlockNo, buf: &[u8]) -> Result<Block, String> {
        if buf.iter().all(|&b| b == 0) {
            return Ok(Block::unformatted(no));
        }
        let mut d = Dec::new(buf);
        d.take(4)?;
        let kind = BlockKind::from_u8(d.u8()?)?;
        d.u8()?;
        let n_itl = d.u8()? as usize;
        d.u8()?;
        let self_no = d.u32()?;
        if self_no != no.0 {
            return Err(format!("block claims to be block {self_no}"));
        }
        let seg = BlockNo(d.u32()?);
        let scn = Scn(d.u64()?);
        let mut itl = Vec::with_capacity(n_itl);
        for _ in 0..n_itl {
            itl.push(get_itl(&mut d)?);
        }
        let body = decode_body(kind, &mut d)?;
        Ok(Block {
            no,
            seg,
            scn,
            itl,
            body,
        })
    }
}

fn put_itl(v: &mut Vec<u8>, i: &Itl) {
    v.put_u64(i.xid.0);
    v.put_u64(i.uba.0);
    v.put_u64(i.commit_scn.0);
    v.put_u16(i.lock_count);
    v.extend_from_slice(&[0; 6]);
}

fn get_itl(d: &mut Dec) -> DecResult<Itl> {
    let itl = Itl {
        xid: Xid(d.u64()?),
        uba: Uba(d.u64()?),
        commit_scn: Scn(d.u64()?),
        lock_count: d.u16()?,
    };
    d.take(6)?;
    Ok(itl)
}

pub(crate) fn put_slot(v: &mut Vec<u8>, s: &Slot) {
    v.put_u8(s.state as u8);
    v.put_u8(s.lock);
    v.put_u16(s.data.len() as u16);
    v.extend_from_slice(&s.data);
}

pub(crate) fn get_slot(d: &mut Dec) -> DecResult<Slot> {
    let state = match d.u8()? {
        0 => SlotState::Unused,
        1 => SlotState::Live,
        2 => SlotState::Deleted,
        s => return Err(format!("bad slot state {s}")),
    };
    let lock = d.u8()?;
    let n = d.u16()? as usize;
    let data = Bytes::copy_from_slice(d.take(n)?);
    Ok(Slot { state, lock, data })
}

fn put_extents(v: &mut Vec<u8>, e: &[(u32, u32)]) {
    v.put_u16(e.len() as u16);
    for (a, b) in e {
        v.put_u32(*a);
        v.put_u32(*b);
    }
}

fn get_extents(d: &mut Dec) -> DecResult<Vec<(u32, u32)>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| Ok((d.u32()?, d.u32()?))).collect()
}

pub(crate) fn put_tx_slot(v: &mut Vec<u8>, s: &TxSlot) {
    v.put_u32(s.wrap);
    v.put_u8(s.state as u8);
    v.extend_from_slice(&[0; 3]);
    v.put_u64(s.scn.0);
    v.put_u64(s.last_uba.0);
    v.put_u64(s.time_ms);
}

pub(crate) fn get_tx_slot(d: &mut Dec) -> DecResult<TxSlot> {
    let wrap = d.u32()?;
    let state = match d.u8()? {
        0 => TxState::Free,
        1 => TxState::Active,
        2 => TxState::Committed,
        3 => TxState::RolledBack,
        s => return Err(format!("bad transaction state {s}")),
    };
    d.take(3)?;
    Ok(TxSlot {
        wrap,
        state,
        scn: Scn(d.u64()?),
        last_uba: Uba(d.u64()?),
        time_ms: d.u64()?,
    })
}

pub(crate) fn put_undo_rec(v: &mut Vec<u8>, r: &UndoRec) {
    v.put_u64(r.xid.0);
    v.put_u64(r.prev_txn.0);
    v.put_u32(r.block.0);
    v.put_u8(r.itl_idx);
    put_itl(v, &r.prev_itl);
    v.put_u64(r.scn.0);
    match &r.op {
        UndoOp::Slot { slot, before } => {
            v.put_u8(1);
            v.put_u16(*slot);
            put_slot(v, before);
        }
        UndoOp::IdxIns { key, level } => {
            v.put_u8(2);
            v.put_u8(*level);
            put_key(v, key);
        }
        UndoOp::IdxDel { entry, level } => {
            v.put_u8(3);
            v.put_u8(*level);
            put_entry(v, entry);
        }
        UndoOp::Unformat => v.put_u8(4),
        UndoOp::SplitFrom { moved, high, next } => {
            v.put_u8(5);
            put_entries(v, moved);
            put_opt_key(v, high);
            v.put_u32(*next);
        }
        UndoOp::RootFrom { level, moved } => {
            v.put_u8(6);
            v.put_u8(*level);
            put_entries(v, moved);
        }
        UndoOp::SegHwm { hwm } => {
            v.put_u8(7);
            v.put_u32(*hwm);
        }
    }
}

fn put_key(v: &mut Vec<u8>, k: &[u8]) {
    v.put_u16(k.len() as u16);
    v.extend_from_slice(k);
}

fn get_key(d: &mut Dec) -> DecResult<Bytes> {
    let n = d.u16()? as usize;
    Ok(Bytes::copy_from_slice(d.take(n)?))
}

fn put_opt_key(v: &mut Vec<u8>, k: &Option<Bytes>) {
    match k {
        None => v.put_u8(0),
        Some(k) => {
            v.put_u8(1);
            put_key(v, k);
        }
    }
}

fn get_opt_key(d: &mut Dec) -> DecResult<Option<Bytes>> {
    Ok(match d.u8()? {
        0 => None,
        _ => Some(get_key(d)?),
    })
}

fn put_entries(v: &mut Vec<u8>, e: &[IdxEntry]) {
    v.put_u16(e.len() as u16);
    for x in e {
        put_entry(v, x);
    }
}

fn get_entries(d: &mut Dec) -> DecResult<Vec<IdxEntry>> {
    let n = d.u16()? as usize;
    (0..n).map(|_| get_entry(d)).collect()
}

fn put_itls(v: &mut Vec<u8>, itl: &[Itl]) {
    v.put_u8(itl.len() as u8);
    for i in itl {
        put_itl(v, i);
    }
}

fn get_itls(d: &mut Dec) -> DecResult<Vec<Itl>> {
    let n = d.u8()? as usize;
    (0..n).map(|_| get_itl(d)).collect()
}

pub(crate) fn get_undo_rec(d: &mut Dec) -> DecResult<UndoRec> {
    Ok(UndoRec {
        xid: Xid(d.u64()?),
        prev_txn: Uba(d.u64()?),
        block: BlockNo(d.u32()?),
        itl_idx: d.u8()?,
        prev_itl: get_itl(d)?,
        scn: Scn(d.u64()?),
        op: match d.u8()? {
            1 => UndoOp::Slot {
                slot: d.u16()?,
                before: get_slot(d)?,
            },
            2 => UndoOp::IdxIns {
                level: d.u8()?,
                key: get_key(d)?,
            },
            3 => UndoOp::IdxDel {
                level: d.u8()?,
                entry: get_entry(d)?,
            },
            4 => UndoOp::Unformat,
            5 => UndoOp::SplitFrom {
                moved: get_entries(d)?,
                high: get_opt_key(d)?,
                next: d.u32()?,
            },
            6 => UndoOp::RootFrom {
                level: d.u8()?,
                moved: get_entries(d)?,
            },
            7 => UndoOp::SegHwm { hwm: d.u32()? },
            t => return Err(format!("bad undo op {t}")),
        },
    })
}

fn body_len(body: &Body) -> usize {
    match body {
        Body::Unformatted => 0,
        Body::FileHeader(_) => 8 + 4 + 4 + 4 + 4 + 4,
        Body::SegHeader(h) => 4 + 2 + 8 * h.extents.len() + 4 + 2 + 4 * h.free.len(),
        Body::Heap(slots) => 2 + slots.iter().map(Slot::encoded_len).sum::<usize>(),
        Body::UndoHeader(h) => 2 + TX_SLOT_LEN * h.slots.len() + 2 + 8 * h.extents.len() + 4 + 8,
        Body::Undo(u) => 2 + 8 + 2 + u.records.iter().map(UndoRec::encoded_len).sum::<usize>(),
        Body::Index(n) => n.encoded_len(),
    }
}

fn encode_body(v: &mut Vec<u8>, body: &Body) {
    match body {
        Body::Unformatted => {}
        Body::FileHeader(h) => {
            v.put_u64(h.db_id);
            v.put_u32(h.block_size);
            v.put_u32(h.allocated);
            v.put_u32(h.catalog_seg.0);
            v.put_u32(h.undo_header.0);
            v.put_u32(h.undo_segments);
        }
        Body::SegHeader(h) => {
            v.put_u32(h.object);
            put_extents(v, &h.extents);
            v.put_u32(h.hwm);
            v.put_u16(h.free.len() as u16);
            for f in &h.free {
                v.put_u32(*f);
            }
        }
        Body::Heap(slots) => {
            v.put_u16(slots.len() as u16);
            for s in slots {
                put_slot(v, s);
            }
        }
        Body::UndoHeader(h) => {
            v.put_u16(h.slots.len() as u16);
            for s in &h.slots {
                put_tx_slot(v, s);
            }
            put_extents(v, &h.extents);
            v.put_u32(h.next);
            v.put_u64(h.control_scn.0);
        }
        Body::Undo(u) => {
            v.put_u16(u.wrap);
            v.put_u64(u.owner.0);
            v.put_u16(u.records.len() as u16);
            for r in &u.records {
                put_undo_rec(v, r);
            }
        }
        Body::Index(n) => n.encode(v),
    }
}

fn decode_body(kind: BlockKind, d: &mut Dec) -> DecResult<Body> {
    Ok(match kind {
        BlockKind::Unformatted => Body::Unformatted,
        BlockKind::FileHeader => Body::FileHeader(FileHeader {
            db_id: d.u64()?,
            block_size: d.u32()?,
            allocated: d.u32()?,
            catalog_seg: BlockNo(d.u32()?),
            undo_header: BlockNo(d.u32()?),
            undo_segments: d.u32()?,
        }),
        BlockKind::SegHeader => {
            let object = d.u32()?;
            let extents = get_extents(d)?;
            let hwm = d.u32()?;
            let n = d.u16()? as usize;
            let free = (0..n).map(|_| d.u32()).collect::<DecResult<_>>()?;
            Body::SegHeader(SegHeader {
                object,
                extents,
                hwm,
                free,
            })
        }
        BlockKind::Heap => {
            let n = d.u16()? as usize;
            Body::Heap((0..n).map(|_| get_slot(d)).collect::<DecResult<_>>()?)
        }
        BlockKind::UndoHeader => {
            let n = d.u16()? as usize;
            let slots = (0..n).map(|_| get_tx_slot(d)).collect::<DecResult<_>>()?;
            let extents = get_extents(d)?;
            Body::UndoHeader(UndoHeader {
                slots,
                extents,
                next: d.u32()?,
                control_scn: Scn(d.u64()?),
            })
        }
        BlockKind::Undo => {
            let wrap = d.u16()?;
            let owner = Xid(d.u64()?);
            let n = d.u16()? as usize;
            let records = (0..n).map(|_| get_undo_rec(d)).collect::<DecResult<_>>()?;
            Body::Undo(UndoBody {
                wrap,
                owner,
                records,
            })
        }
        BlockKind::Index => Body::Index(IndexBody::decode(d)?),
    })
}

/// Encodes an op for redo.
pub fn encode_op(v: &mut Vec<u8>, op: &Op) {
    match op {
        Op::FormatHeap { seg, itls } => {
            v.put_u8(1);
            v.put_u32(seg.0);
            v.put_u8(*itls);
        }
        Op::SetSlot {
            slot,
            value,
            itl_idx,
            itl,
        } => {
            v.put_u8(2);
            v.put_u16(*slot);
            put_slot(v, value);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::SetFileHeader(h) => {
            v.put_u8(3);
            encode_body(v, &Body::FileHeader(h.clone()));
        }
        Op::SetSegHeader(h) => {
            v.put_u8(4);
            encode_body(v, &Body::SegHeader(h.clone()));
        }
        Op::FormatUndo { wrap, owner } => {
            v.put_u8(5);
            v.put_u16(*wrap);
            v.put_u64(owner.0);
        }
        Op::UndoAppend(r) => {
            v.put_u8(6);
            put_undo_rec(v, r);
        }
        Op::TxSlot { idx, slot } => {
            v.put_u8(7);
            v.put_u16(*idx);
            put_tx_slot(v, slot);
        }
        Op::UndoRing {
            extents,
            next,
            control_scn,
            slots,
        } => {
            v.put_u8(8);
            put_extents(v, extents);
            v.put_u32(*next);
            v.put_u64(control_scn.0);
            v.put_u16(*slots);
        }
        Op::SetItl { itl_idx, itl } => {
            v.put_u8(9);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxSet { seg, itl, body } => {
            v.put_u8(10);
            v.put_u32(seg.0);
            put_itls(v, itl);
            match body {
                None => v.put_u8(0),
                Some(b) => {
                    v.put_u8(1);
                    b.encode(v);
                }
            }
        }
        Op::IdxInsert {
            entry,
            itl_idx,
            itl,
        } => {
            v.put_u8(11);
            put_entry(v, entry);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxDelete { key, itl_idx, itl } => {
            v.put_u8(12);
            put_key(v, key);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxSplitFrom {
            sep,
            next,
            itl_idx,
            itl,
        } => {
            v.put_u8(13);
            put_key(v, sep);
            v.put_u32(*next);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::IdxRoot {
            level,
            entries,
            itl_idx,
            itl,
        } => {
            v.put_u8(14);
            v.put_u8(*level);
            put_entries(v, entries);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::SegHwm { hwm, itl_idx, itl } => {
            v.put_u8(15);
            v.put_u32(*hwm);
            v.put_u8(*itl_idx);
            put_itl(v, itl);
        }
        Op::HeapImage { seg, itls, slots } => {
            v.put_u8(16);
            v.put_u32(seg.0);
            v.put_u8(*itls);
            v.put_u16(slots.len() as u16);
            for x in slots {
                put_slot(v, x);
            }
        }
    }
}

/// Decodes an op from redo.
pub fn decode_op(d: &mut Dec) -> DecResult<Op> {
    Ok(match d.u8()? {
        1 => Op::FormatHeap {
            seg: BlockNo(d.u32()?),
            itls: d.u8()?,
        },
        2 => Op::SetSlot {
            slot: d.u16()?,
            value: get_slot(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        3 => match decode_body(BlockKind::FileHeader, d)? {
            Body::FileHeader(h) => Op::SetFileHeader(h),
            _ => return Err("file header op".into()),
        },
        4 => match decode_body(BlockKind::SegHeader, d)? {
            Body::SegHeader(h) => Op::SetSegHeader(h),
            _ => return Err("segment header op".into()),
        },
        5 => Op::FormatUndo {
            wrap: d.u16()?,
            owner: Xid(d.u64()?),
        },
        6 => Op::UndoAppend(get_undo_rec(d)?),
        7 => Op::TxSlot {
            idx: d.u16()?,
            slot: get_tx_slot(d)?,
        },
        8 => Op::UndoRing {
            extents: get_extents(d)?,
            next: d.u32()?,
            control_scn: Scn(d.u64()?),
            slots: d.u16()?,
        },
        9 => Op::SetItl {
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        10 => Op::IdxSet {
            seg: BlockNo(d.u32()?),
            itl: get_itls(d)?,
            body: match d.u8()? {
                0 => None,
                _ => Some(IndexBody::decode(d)?),
            },
        },
        11 => Op::IdxInsert {
            entry: get_entry(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        12 => Op::IdxDelete {
            key: get_key(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        13 => Op::IdxSplitFrom {
            sep: get_key(d)?,
            next: d.u32()?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        14 => Op::IdxRoot {
            level: d.u8()?,
            entries: get_entries(d)?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        15 => Op::SegHwm {
            hwm: d.u32()?,
            itl_idx: d.u8()?,
            itl: get_itl(d)?,
        },
        16 => {
            let seg = BlockNo(d.u32()?);
            let itls = d.u8()?;
            let n = d.u16()? as usize;
            let slots = (0..n).map(|_| get_slot(d)).collect::<DecResult<_>>()?;
            Op::HeapImage { seg, itls, slots }
        }
        t => return Err(format!("unknown redo op {t}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_block_round_trips_and_its_length_is_exact() {
        let mut b = Block::unformatted(BlockNo(7));
        b.apply(
            &Op::FormatHeap {
                seg: BlockNo(3),
                itls: 2,
            },
            Scn(5),
        )
        .unwrap();
        let itl = Itl {
            xid: Xid::new(0, 1, 9),
            uba: Uba::new(BlockNo(2), 1, 0),
            commit_scn: Scn(0),
            lock_count: 1,
        };
        let value = Slot {
            state: SlotState::Live,
            lock: 1,
            data: Bytes::from_static(b"hello"),
        };
        b.apply(
            &Op::SetSlot {
                slot: 0,
                value,
                itl_idx: 0,
                itl,
            },
            Scn(6),
        )
        .unwrap();
        let mut buf = vec![0u8; 2048];
        b.encode(&mut buf).unwrap();
        let used = buf.iter().rposition(|&x| x != 0).unwrap() + 1;
        assert!(used <= b.encoded_len());
        assert_eq!(Block::decode(BlockNo(7), &buf).unwrap(), b);
        // 24 header + 2 ITL x 32 + 2 slot count + (4 + 5) slot
        assert_eq!(b.encoded_len(), 24 + 64 + 2 + 9);
    }

    #[test]
    fn a_block_in_the_wrong_place_is_detected() {
        let mut b = Block::unformatted(BlockNo(7));
        b.apply(
            &Op::FormatHeap {
                seg: BlockNo(3),
                itls: 1,
            },
            Scn(5),
        )
        .unwrap();
        let mut buf = vec![0u8; 2048];
        b.encode(&mut buf).unwrap();
        assert!(Block::decode(BlockNo(8), &buf).is_err());
    }
}
