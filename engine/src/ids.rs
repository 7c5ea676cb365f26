//! Identifier newtypes shared by every layer.
//!
//! Layouts are documented where they pack several fields into one integer
//! (`Xid`, `Uba`, `RowId`), so that a student can decode a value printed by
//! the shell or a test by hand.

use std::fmt;

/// A block number within the data file (block 0 is the file header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockNo(pub u32);

/// System change number: the engine's logical clock. Every redo record gets a
/// new, larger SCN; every block carries the SCN of its last change; a commit
/// SCN orders transactions for consistent reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Scn(pub u64);

/// Log sequence number: a byte position in the endless logical redo stream
/// (see `redo::log`). Record boundaries and the checkpoint are LSNs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Lsn(pub u64);

/// Transaction id: `undo segment (16 bits) | slot (16 bits) | wrap (32 bits)`.
/// The wrap counts reuses of the transaction-table slot, so an xid is unique
/// for the life of the database. `Xid(0)` means "no transaction".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Xid(pub u64);

impl Xid {
    pub const NONE: Xid = Xid(0);

    pub fn new(segment: u16, slot: u16, wrap: u32) -> Xid {
        Xid(((segment as u64) << 48) | ((slot as u64) << 32) | wrap as u64)
    }
    pub fn segment(self) -> u16 {
        (self.0 >> 48) as u16
    }
    pub fn slot(self) -> u16 {
        (self.0 >> 32) as u16
    }
    pub fn wrap(self) -> u32 {
        self.0 as u32
    }
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Xid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.segment(), self.slot(), self.wrap())
    }
}

/// Undo block address: `undo block number (32 bits) | block wrap (16 bits) |
/// record index (16 bits)`. The wrap is the undo block's reuse count when the
/// record was written; if the block has been reused since, the record is gone
/// (that is what makes a consistent read fail with snapshot too old).
/// `Uba(0)` means "no undo".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uba(pub u64);

impl Uba {
    pub const NONE: Uba = Uba(0);

    pub fn new(block: BlockNo, wrap: u16, index: u16) -> Uba {
        Uba(((block.0 as u64) << 32) | ((wrap as u64) << 16) | index as u64)
    }
    pub fn block(self) -> BlockNo {
        BlockNo((self.0 >> 32) as u32)
    }
    pub fn wrap(self) -> u16 {
        (self.0 >> 16) as u16
    }
    pub fn index(self) -> u16 {
        self.0 as u16
    }
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Uba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.block().0, self.wrap(), self.index())
    }
}

/// Row address: `block number (32 bits) | slot (16 bits)`, printed `block.slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowId {
    pub block: BlockNo,
    pub slot: u16,
}

impl RowId {
    pub fn to_u64(self) -> u64 {
        ((self.block.0 as u64) << 16) | self.slot as u64
    }
    pub fn from_u64(v: u64) -> RowId {
        RowId {
            block: BlockNo((v >> 16) as u32),
            slot: v as u16,
        }
    }
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.block.0, self.slot)
    }
}

/// Table (and segment) identifier in the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
