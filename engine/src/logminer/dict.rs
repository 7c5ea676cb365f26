//! The log miner's dictionary: which table a block belongs to, and that
//! table's columns and primary key, read from a database's files without
//! opening it (no recovery runs, nothing is written).
//!
//! ```text
//!  data file (as of the last checkpoint, or later)
//!     + the redo from the checkpoint on, applied in memory to the heap and
//!       segment-header blocks it touches (only to a block older than it)
//!     = the blocks as they are now
//!  block 2 (catalog segment header) ─extents─▶ catalog blocks ─▶ catalog rows
//!     live rows:    the current tables, columns, constraints (Catalog::from_rows)
//!     deleted rows: tables dropped since (their definitions stay in the slot)
//!  each table's segment header ─extents─▶ block ranges ─▶ block → table
//! ```
//!
//! Blocks never change segment (space is not reclaimed), so the current
//! extent maps place every block any redo record names. Columns come from
//! the *current* definition, as Oracle's log miner uses the current
//! dictionary by default: a column dropped since (kept hidden as
//! `<name>$unused<pos>`) is shown under its original name and marked.
//!
//! Blocks are read with positional reads, never through a memory map: the
//! database may be open, and a mapped page of a file another writer
//! truncates, or of a hole the file system has no room for, kills the
//! reader with SIGBUS, where a failed read is an error.
//!
//! Simplification: an uncommitted catalog change at the end of the redo is
//! taken as it stands; a block that fails its checksum (a write in progress
//! while the database is open) is left out, with a warning.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::block::{Block, Body, Op, SegHeader, SlotState};
use crate::catalog::{Catalog, TableDef};
use crate::constraint::ConstraintKind;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, Lsn, RowId};
use crate::kernel::CATALOG_SEG;
use crate::redo::record::decode_payload;
use crate::redo::LogRecord;
use crate::storage::check_crc;
use crate::storage::DATA_FILE;
use crate::value::{decode_row, Column, Value};

/// A table as the miner knows it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TableInfo {
    pub name: String,
    pub columns: Vec<Column>,
    /// Column positions of the primary key, if the table has one.
    pub pk: Option<Vec<usize>>,
    /// Dropped since (known from its deleted catalog row).
    pub dropped: bool,
}

impl TableInfo {
    /// The name a column is shown under: a dropped column's original name.
    pub fn display_name(&self, pos: usize) -> String {
        match self.columns.get(pos) {
            Some(c) if c.hidden => original_name(&c.name).to_string(),
            Some(c) => c.name.clone(),
            None => format!("col{}", pos + 1),
        }
    }

    /// Whether position `pos` is a dropped (hidden) column.
    pub fn is_dropped(&self, pos: usize) -> bool {
        self.columns.get(pos).is_some_and(|c| c.hidden)
    }
}

/// `note$unused2` → `note`.
fn original_name(hidden: &str) -> &str {
    match hidden.rfind("$unused") {
        Some(i) if hidden[i + 7..].bytes().all(|b| b.is_ascii_digit()) => &hidden[..i],
        _ => hidden,
    }
}

/// Who owns a block.
#[derive(Debug)]
pub(super) enum Owner<'a> {
    /// The catalog segment: DDL internals.
    Catalog,
    Table(&'a Arc<TableInfo>),
    /// A heap segment the catalog no longer knows: its object id.
    Unknown(u32),
    /// No heap segment (undo, index, or never formatted).
    None,
}

pub(super) struct Dictionary {
    file: Option<std::fs::File>,
    block_size: usize,
    /// Blocks changed by redo after the checkpoint, as they are now.
    overlay: HashMap<BlockNo, Block>,
    /// Extent start → (length, segment header).
    extents: BTreeMap<u32, (u32, BlockNo)>,
    tables: HashMap<BlockNo, Arc<TableInfo>>,
    /// Index name → table name, for DDL on indexes.
    pub index_tables: HashMap<String, String>,
    pub warnings: Vec<String>,
    /// Row changes found on blocks of no known heap segment.
    pub unplaced: usize,
}

impl Dictionary {
    /// Builds the dictionary of the database in `dir` from its data file
    /// and `records`, of which those from `checkpoint` on are applied.
    pub fn build(
        dir: &Path,
        block_size: usize,
        checkpoint: Lsn,
        records: &[LogRecord],
    ) -> Result<Dictionary> {
        let path = dir.join(DATA_FILE);
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut d = Dictionary {
            file: Some(file),
            block_size,
            overlay: HashMap::new(),
            extents: BTreeMap::new(),
            tables: HashMap::new(),
            index_tables: HashMap::new(),
            warnings: Vec::new(),
            unplaced: 0,
        };
        let mut unapplied = 0usize;
        for rec in records.iter().filter(|r| r.lsn >= checkpoint) {
            let Ok(p) = decode_payload(&rec.payload) else {
                continue; // the miner reports it
            };
            for (no, op) in &p.changes {
                let heap_op = matches!(
                    op,
                    Op::SetSegHeader(_)
                        | Op::FormatHeap { .. }
                        | Op::SetSlot { .. }
                        | Op::UpdateCols { .. }
                        | Op::InsertRows { .. }
                        | Op::ClearSlots { .. }
                        | Op::HeapImage { .. }
                        | Op::SegHwm { .. }
                );
                if !heap_op {
                    continue;
                }
                if !d.overlay.contains_key(no) {
                    let b = d.disk(*no).unwrap_or_else(|| Block::unformatted(*no));
                    d.overlay.insert(*no, b);
                }
                if let Some(b) = d.overlay.get_mut(no) {
                    if b.scn < rec.scn && b.apply(op, rec.scn).is_err() {
                        unapplied += 1;
                    }
                }
            }
        }
        if unapplied > 0 {
            d.warnings.push(format!(
                "{unapplied} redo changes did not apply to the blocks on disk; \
                 table names may be missing for some records"
            ));
        }
        d.load_catalog();
        Ok(d)
    }

    /// Block `no` as it is now: from the overlay, else from the data file.
    fn block(&mut self, no: BlockNo) -> Option<Block> {
        if let Some(b) = self.overlay.get(&no) {
            return Some(b.clone());
        }
        self.disk(no)
    }

    fn disk(&mut self, no: BlockNo) -> Option<Block> {
        let file = self.file.as_ref()?;
        let mut buf = vec![0u8; self.block_size];
        // Past the end of the file: never written, hence unformatted.
        file.read_exact_at(&mut buf, no.0 as u64 * self.block_size as u64)
            .ok()?;
        let decoded = check_crc(&buf).and_then(|_| Block::decode(no, &buf));
        match decoded {
            Ok(b) => Some(b),
            Err(why) => {
                self.warnings.push(format!(
                    "block {} of {DATA_FILE} is unreadable: {why}",
                    no.0
                ));
                None
            }
        }
    }

    fn seg_header(&mut self, seg: BlockNo) -> Option<SegHeader> {
        match self.block(seg)?.body {
            Body::SegHeader(h) => Some(h),
            _ => None,
        }
    }

    /// Reads the catalog rows and the extent maps of the tables they name.
    fn load_catalog(&mut self) {
        let Some(h) = self.seg_header(CATALOG_SEG) else {
            self.warnings
                .push("the catalog segment header is unreadable: no table names".into());
            return;
        };
        self.add_extents(CATALOG_SEG, &h);
        let mut live = Vec::new();
        let mut deleted = Vec::new();
        for no in segment_blocks(&h) {
            let Some(Block {
                body: Body::Heap(slots),
                ..
            }) = self.block(no)
            else {
                continue;
            };
            for (i, s) in slots.iter().enumerate() {
                let rowid = RowId {
                    block: no,
                    slot: i as u16,
                };
                let Ok(row) = decode_row(&s.data) else {
                    continue;
                };
                match s.state {
                    SlotState::Live => live.push((rowid, row)),
                    SlotState::Deleted => deleted.push((rowid, row)),
                    SlotState::Unused => {}
                }
            }
        }
        let cat = Catalog::from_rows(live).unwrap_or_else(|why| {
            self.warnings
                .push(format!("the catalog does not decode: {why}"));
            Catalog::default()
        });
        for def in cat.tables.values() {
            let pk = cat.constraints.values().find_map(|c| match &c.kind {
                ConstraintKind::PrimaryKey { columns, .. } if c.table == def.name => {
                    Some(columns.clone())
                }
                _ => None,
            });
            self.add_table(def, pk, false);
        }
        for ix in cat.indexes.values() {
            self.index_tables.insert(ix.name.clone(), ix.table.clone());
        }
        // Tables dropped since: their catalog rows are deleted, not erased.
        for (rowid, row) in deleted {
            let is_table = match row.get(4) {
                None => true,
                Some(Value::Text(k)) => k == "table",
                Some(_) => false,
            };
            if let (true, Ok(def)) = (is_table, TableDef::from_row(&row, rowid)) {
                if !self.tables.contains_key(&def.seg) {
                    self.add_table(&def, None, true);
                }
            }
        }
    }

    fn add_table(&mut self, def: &TableDef, pk: Option<Vec<usize>>, dropped: bool) {
        if let Some(h) = self.seg_header(def.seg) {
            self.add_extents(def.seg, &h);
        }
        self.tables.insert(
            def.seg,
            Arc::new(TableInfo {
                name: def.name.clone(),
                columns: def.columns.clone(),
                pk,
                dropped,
            }),
        );
    }

    fn add_extents(&mut self, seg: BlockNo, h: &SegHeader) {
        for &(start, len) in &h.extents {
            self.extents.insert(start, (len, seg));
        }
    }

    /// The segment header of the segment `no` lies in, by the extent maps.
    fn segment_of(&self, no: BlockNo) -> Option<BlockNo> {
        let (&start, &(len, seg)) = self.extents.range(..=no.0).next_back()?;
        (no.0 < start + len).then_some(seg)
    }

    /// Who owns block `no`.
    pub fn owner(&mut self, no: BlockNo) -> Owner<'_> {
        match self.segment_of(no) {
            Some(CATALOG_SEG) => Owner::Catalog,
            Some(seg) => match self.tables.get(&seg) {
                Some(t) => Owner::Table(t),
                None => Owner::None,
            },
            None => {
                // A segment the catalog has forgotten: the block names it.
                let seg = match self.block(no) {
                    Some(b) if matches!(b.body, Body::Heap(_)) => b.seg,
                    _ => return Owner::None,
                };
                match self.seg_header(seg) {
                    Some(h) => Owner::Unknown(h.object),
                    None => Owner::None,
                }
            }
        }
    }
}

/// Blocks of a segment below its HWM, header excluded.
fn segment_blocks(h: &SegHeader) -> Vec<BlockNo> {
    let mut out = Vec::new();
    let mut i = 0u32;
    for &(start, len) in &h.extents {
        for b in start..start + len {
            if i > 0 && i < h.hwm {
                out.push(BlockNo(b));
            }
            i += 1;
        }
    }
    out
}
