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
//! The types and the header live here; [`Block::apply`] and
//! [`Block::undo_op`] (how ops change a block) in `apply`, the byte format
//! of bodies, ITL entries and ops in `codec`.
//!
//! Invariant: `encoded_len() <= block_size` after every applied op.
//! Invariant: a block's SCN only grows; recovery applies an op only when the
//! block's SCN is older than the redo record's.

use bytes::Bytes;

use crate::block::index::{IdxEntry, IndexBody};
use crate::encoding::{Dec, DecResult, Enc};
use crate::value::ColumnImage;

mod apply;
mod codec;
pub mod index;
use crate::ids::{BlockNo, Scn, Uba, Xid};
use codec::{body_len, decode_body, encode_body, get_itl, put_itl};
pub use codec::{decode_op, encode_op};

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
    /// Latest commit time (by the instance's clock) of a transaction slot
    /// that was reused: a transaction whose slot is gone committed at or
    /// before this time (undo retention uses it).
    pub control_time_ms: u64,
}

/// What an undo record takes back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UndoOp {
    /// A heap row slot, as it was before the change.
    Slot { slot: u16, before: Slot },
    /// An in-place UPDATE of a live row: the changed columns' old values
    /// and the row's old lock byte (Oracle's undo of an "update row
    /// piece": the columns it changed, not the row).
    Cols {
        slot: u16,
        lock: u8,
        cols: Vec<ColumnImage>,
    },
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
    /// A multi-row insert filled these heap slots, which were unused or
    /// held rows deleted by committed transactions: make them unused.
    NewRows { slots: Vec<u16> },
}

impl UndoOp {
    /// Undo of a single index entry (logical, by key).
    pub fn is_index_entry(&self) -> bool {
        matches!(self, UndoOp::IdxIns { .. } | UndoOp::IdxDel { .. })
    }

    fn encoded_len(&self) -> usize {
        1 + match self {
            UndoOp::Slot { before, .. } => 2 + before.encoded_len(),
            UndoOp::Cols { cols, .. } => 2 + 1 + columns_len(cols),
            UndoOp::IdxIns { key, .. } => 1 + 2 + key.len(),
            UndoOp::IdxDel { entry, .. } => 1 + entry.encoded_len(),
            UndoOp::Unformat => 0,
            UndoOp::SplitFrom { moved, high, .. } => {
                entries_len(moved) + 1 + high.as_ref().map_or(0, |h| 2 + h.len()) + 4
            }
            UndoOp::RootFrom { moved, .. } => 1 + entries_len(moved),
            UndoOp::SegHwm { .. } => 4,
            UndoOp::NewRows { slots } => 2 + 2 * slots.len(),
        }
    }
}

/// Encoded length of a column list: count u16, then per column its number
/// u16, value length u16 and value.
fn columns_len(cols: &[ColumnImage]) -> usize {
    2 + cols.iter().map(|(_, v)| 4 + v.len()).sum::<usize>()
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
    /// Replace some columns of a live row and set its lock byte and one
    /// ITL entry: an in-place UPDATE carries the new values of the columns
    /// it changes, and taking it back carries their old values, so neither
    /// grows with the columns left alone. No columns: only the lock.
    UpdateCols {
        slot: u16,
        lock: u8,
        cols: Vec<ColumnImage>,
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
    /// A multi-row insert (array insert, INSERT … SELECT): live rows in
    /// the given slots, all locked by one ITL entry, which is set too. One
    /// redo record and one undo record (`UndoOp::NewRows`) for the lot,
    /// where a row at a time costs one of each per row (Oracle's array
    /// insert does the same).
    InsertRows {
        rows: Vec<(u16, Bytes)>,
        itl_idx: u8,
        itl: Itl,
    },
    /// Take back a multi-row insert: the slots become unused (and leave
    /// the directory if they are at its end), and one ITL entry is set.
    ClearSlots {
        slots: Vec<u16>,
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

impl Op {
    /// Whether applying this op leaves nothing of the block's old contents
    /// (segment, ITL and body all set), so roll-forward may apply it to a
    /// block it cannot read: a direct-path block torn by a crash, whose
    /// redo (a LOGGING load's) is its whole image.
    pub fn replaces_block(&self) -> bool {
        matches!(
            self,
            Op::FormatHeap { .. } | Op::HeapImage { .. } | Op::IdxSet { .. }
        )
    }
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
    fn an_update_of_some_columns_applies_undoes_and_round_trips() {
        use crate::value::{changed_columns, encode_row, Value};
        let old = encode_row(&[Value::Int(1), Value::from("abc"), Value::from("pad")]);
        let new = encode_row(&[Value::Int(1), Value::from("abcdef"), Value::from("pad")]);
        let (redo, undo) = changed_columns(&old, &new).unwrap();
        // Only column 1 changed: tag 3, length 2, the text.
        assert_eq!(redo, vec![(1, Bytes::from_static(b"\x03\x06\x00abcdef"))]);
        let mut b = Block::unformatted(BlockNo(7));
        b.apply(
            &Op::FormatHeap {
                seg: BlockNo(3),
                itls: 1,
            },
            Scn(5),
        )
        .unwrap();
        let live = |data: Vec<u8>, lock| Slot {
            state: SlotState::Live,
            lock,
            data: Bytes::from(data),
        };
        let itl = Itl::default();
        b.apply(
            &Op::SetSlot {
                slot: 0,
                value: live(old.clone(), 0),
                itl_idx: 0,
                itl,
            },
            Scn(6),
        )
        .unwrap();
        let op = Op::UpdateCols {
            slot: 0,
            lock: 1,
            cols: redo,
            itl_idx: 0,
            itl,
        };
        b.apply(&op, Scn(7)).unwrap();
        let Body::Heap(slots) = &b.body else { panic!() };
        assert_eq!(slots[0], live(new.clone(), 1));
        let rec = UndoRec {
            xid: Xid::new(0, 1, 9),
            prev_txn: Uba::NONE,
            block: BlockNo(7),
            itl_idx: 0,
            prev_itl: itl,
            scn: Scn(7),
            op: UndoOp::Cols {
                slot: 0,
                lock: 0,
                cols: undo,
            },
        };
        // Both vectors decode to what was encoded, at the length counted.
        let mut v = Vec::new();
        encode_op(&mut v, &Op::UndoAppend(rec.clone()));
        assert_eq!(v.len(), 1 + rec.encoded_len());
        assert_eq!(
            decode_op(&mut Dec::new(&v)).unwrap(),
            Op::UndoAppend(rec.clone())
        );
        let mut v = Vec::new();
        encode_op(&mut v, &op);
        assert_eq!(decode_op(&mut Dec::new(&v)).unwrap(), op);
        // Taking it back restores the old row and lock byte.
        let back = b.undo_op(&rec).unwrap();
        b.apply(&back, Scn(8)).unwrap();
        let Body::Heap(slots) = &b.body else { panic!() };
        assert_eq!(slots[0], live(old, 0));
        // A column past the row's end is an error, not a panic.
        let bad = Op::UpdateCols {
            slot: 0,
            lock: 1,
            cols: vec![(9, Bytes::from_static(b"\x00"))],
            itl_idx: 0,
            itl,
        };
        assert!(b.apply(&bad, Scn(9)).is_err());
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
