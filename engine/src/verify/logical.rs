//! The logical level of `verify`: every usable index compared with its
//! table, as Oracle's `ANALYZE INDEX … VALIDATE STRUCTURE` (with `CASCADE`
//! on the table) or PostgreSQL's `bt_index_check(…, heapallindexed)` do.
//!
//! ```text
//!   catalog segment ─▶ tables, indexes (Catalog::from_rows)
//!   table segment   ─▶ live rows below the HWM: rowid → row
//!   index root ─children─▶ level below (== its next chain) ─▶ … ─▶ leaves
//!        each entry (key, rowid):  the rowid names a live row,
//!                                  the row's key (IndexDef::entry_key) is the entry's,
//!                                  no other entry names the same row
//!        each row:                 some entry names it
//!        entries == rows
//! ```
//!
//! The blocks are read from the file as they are, with no undo applied, so
//! they are the committed state only for a database that was shut down
//! cleanly with no transaction left active; otherwise the check is skipped
//! and says why (`IndexCheck::Skipped`). It is skipped too when the
//! physical level found a damaged block, since rows or entries in it could
//! not be trusted either way.
//!
//! Invariant: no byte pattern makes the check panic or loop: every block is
//! decoded with bounds checks, the descent and the leaf chain are bounded by
//! the blocks visited (a cycle is a problem, not a hang), and a key that
//! does not decode is shown in hex.
//!
//! The tree is walked a level at a time: the children the branches of one
//! level name, in order, must be the `next` chain of the level below, each
//! starting at its separator, so a branch entry naming the wrong block is
//! found as well as a broken leaf chain.
//!
//! Simplification: unique constraints are not re-checked (each row's entry
//! is found, which is what a missing or extra entry breaks), nor is every
//! key checked against its node's fences (the physical level does that,
//! block by block).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use super::Source;
use crate::block::{Block, Body, FileHeader, SlotState, TxState};
use crate::btree::key::{decode_key, split_rowid};
use crate::catalog::{Catalog, IndexDef, TableDef};
use crate::ids::{BlockNo, RowId};
use crate::storage::check_crc;
use crate::value::{decode_row, Row};

/// Problem lines kept per index; the rest are counted, as SQLite's
/// `integrity_check(N)` stops listing after N.
pub const MAX_LISTED: usize = 100;

/// One disagreement between an index and its table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexProblem {
    pub index: String,
    pub table: String,
    /// What is wrong, naming the rowid and key concerned.
    pub what: String,
}

/// What the logical level found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexCheck {
    /// Every usable index was compared with its table.
    Checked {
        /// Usable indexes checked.
        indexes: usize,
        /// Unusable indexes (not maintained, so not comparable).
        unusable: usize,
        /// Leaf entries read.
        entries: u64,
        /// Problems found, at most [`MAX_LISTED`] listed per index.
        problems: Vec<IndexProblem>,
        /// Problems found but not listed.
        unlisted: u64,
    },
    /// Not run, and why.
    Skipped(String),
}

impl IndexCheck {
    /// Problems found (listed or not).
    pub fn problem_count(&self) -> u64 {
        match self {
            IndexCheck::Checked {
                problems, unlisted, ..
            } => problems.len() as u64 + unlisted,
            IndexCheck::Skipped(_) => 0,
        }
    }
}

/// Reads and decodes block `no` (checksum and self-address checked).
fn read_block(src: &dyn Source, bs: usize, no: u32) -> Result<Block, String> {
    let mut buf = vec![0u8; bs];
    src.read(u64::from(no) * bs as u64, &mut buf)
        .map_err(|e| format!("block {no} is unreadable: {e}"))?;
    check_crc(&buf).map_err(|e| format!("block {no}: {e}"))?;
    Block::decode(BlockNo(no), &buf).map_err(|e| format!("block {no}: {e}"))
}

/// The live rows of a segment, and the blocks they were looked for in.
type SegmentRows = (Vec<(RowId, Result<Row, String>)>, HashSet<u32>);

/// The live rows below the HWM of the segment whose header is `seg`, and
/// the blocks below the HWM.
fn segment_rows(src: &dyn Source, bs: usize, seg: BlockNo) -> Result<SegmentRows, String> {
    let head = read_block(src, bs, seg.0)?;
    let Body::SegHeader(h) = &head.body else {
        return Err(format!("block {} is not a segment header", seg.0));
    };
    // Segment block 0 is the header; the rows are in blocks 1..HWM, counted
    // along the extents.
    let blocks = h
        .extents
        .iter()
        .flat_map(|&(start, len)| (0..len).map(move |k| start.checked_add(k)));
    let (mut out, mut below_hwm) = (Vec::new(), HashSet::new());
    for no in blocks.skip(1).take(h.hwm.saturating_sub(1) as usize) {
        let no = no.ok_or_else(|| format!("an extent of segment {} overflows", seg.0))?;
        below_hwm.insert(no);
        let b = read_block(src, bs, no)?;
        if let Body::Heap(slots) = &b.body {
            for (slot, s) in slots.iter().enumerate() {
                if s.state == SlotState::Live {
                    let rowid = RowId {
                        block: BlockNo(no),
                        slot: slot as u16,
                    };
                    out.push((rowid, decode_row(&s.data)));
                }
            }
        }
    }
    Ok((out, below_hwm))
}

/// Compares every usable index with its table; see the module docs.
/// `header` is the file header, `undo_headers` the undo segment headers'
/// blocks.
pub(super) fn check(
    src: &dyn Source,
    bs: usize,
    header: &FileHeader,
    undo_headers: &[u32],
) -> IndexCheck {
    match check_inner(src, bs, header, undo_headers) {
        Ok(c) => c,
        Err(why) => IndexCheck::Skipped(why),
    }
}

fn check_inner(
    src: &dyn Source,
    bs: usize,
    header: &FileHeader,
    undo_headers: &[u32],
) -> Result<IndexCheck, String> {
    for &no in undo_headers {
        if let Body::UndoHeader(u) = &read_block(src, bs, no)?.body {
            let active = u
                .slots
                .iter()
                .filter(|s| s.state == TxState::Active)
                .count();
            if active > 0 {
                return Err(format!(
                    "{active} transaction(s) active in undo segment header {no}: \
                     open the database (recovery rolls them back) and close it"
                ));
            }
        }
    }
    let (rows, _) = segment_rows(src, bs, header.catalog_seg)?;
    let rows = rows
        .into_iter()
        .map(|(rowid, r)| r.map(|r| (rowid, r)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| format!("a catalog row does not decode: {e}"))?;
    let cat = Catalog::from_rows(rows).map_err(|e| format!("the catalog does not decode: {e}"))?;
    let (mut indexes, mut unusable, mut entries, mut unlisted) = (0, 0, 0u64, 0u64);
    let mut problems = Vec::new();
    for def in cat.tables.values() {
        let ixs = cat.indexes_of(&def.name);
        if ixs.is_empty() {
            continue;
        }
        let (mut table_rows, mut blocks) = (HashMap::new(), HashSet::new());
        let mut bad_rows = Vec::new();
        match segment_rows(src, bs, def.seg) {
            Ok((rows, below_hwm)) => {
                blocks = below_hwm;
                for (rowid, r) in rows {
                    match r {
                        Ok(r) => {
                            table_rows.insert(rowid, r);
                        }
                        Err(e) => bad_rows.push(format!("row {rowid} does not decode: {e}")),
                    }
                }
            }
            Err(e) => bad_rows.push(format!("the table cannot be read: {e}")),
        }
        for ix in ixs {
            if !ix.usable {
                unusable += 1;
                continue;
            }
            indexes += 1;
            let mut found = bad_rows.clone();
            let table = Table {
                def,
                rows: &table_rows,
                blocks: &blocks,
            };
            entries += compare(src, bs, &table, &ix, &mut found);
            let listed = found.len().min(MAX_LISTED);
            unlisted += (found.len() - listed) as u64;
            problems.extend(found.into_iter().take(listed).map(|what| IndexProblem {
                index: ix.name.clone(),
                table: def.name.clone(),
                what,
            }));
        }
    }
    Ok(IndexCheck::Checked {
        indexes,
        unusable,
        entries,
        problems,
        unlisted,
    })
}

/// `key` shown as its column values and rowid, e.g. `('v17', 3) rowid 40.2`,
/// or in hex if it does not decode.
fn show_key(def: &TableDef, ix: &IndexDef, key: &[u8]) -> String {
    let cols = ix.key_columns(def);
    match split_rowid(key).map(|(k, rowid)| (decode_key(&cols, k), rowid)) {
        Some((Ok(vals), rowid)) => {
            let vals: Vec<String> = vals
                .iter()
                .map(|v| match v {
                    crate::value::Value::Text(s) => format!("'{s}'"),
                    v => v.to_string(),
                })
                .collect();
            format!("({}) rowid {rowid}", vals.join(", "))
        }
        _ => {
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}")
        }
    }
}

/// A table as read from its segment.
struct Table<'a> {
    def: &'a TableDef,
    /// Live rows below the HWM, by rowid.
    rows: &'a HashMap<RowId, Row>,
    /// The segment's blocks below the HWM.
    blocks: &'a HashSet<u32>,
}

impl Table<'_> {
    /// Why `rowid` names no row of the table.
    fn no_row(&self, rowid: RowId) -> String {
        if self.blocks.contains(&rowid.block.0) {
            format!(
                "slot {} of block {} holds no live row",
                rowid.slot, rowid.block.0
            )
        } else {
            format!(
                "block {} is not a block of {} below its HWM",
                rowid.block.0, self.def.name
            )
        }
    }
}

/// Walks `ix`'s leaves and compares them with the table's rows; pushes a
/// line per problem into `found` and returns the entries read.
fn compare(
    src: &dyn Source,
    bs: usize,
    table: &Table<'_>,
    ix: &IndexDef,
    found: &mut Vec<String>,
) -> u64 {
    let (def, rows) = (table.def, table.rows);
    let mut seen: HashSet<RowId> = HashSet::with_capacity(rows.len());
    let mut entries = 0u64;
    let walked = walk_leaves(src, bs, ix, |e_key, e_val| {
        entries += 1;
        let rowid = RowId::from_u64(e_val);
        let shown = show_key(def, ix, e_key);
        match rows.get(&rowid) {
            None => found.push(format!(
                "entry {shown} points at no row ({})",
                table.no_row(rowid)
            )),
            Some(row) => {
                let want = ix.entry_key(def, row, rowid);
                if want != e_key {
                    found.push(format!(
                        "entry {shown} points at rowid {rowid}, whose row's key is {}",
                        show_key(def, ix, &want)
                    ));
                } else if !seen.insert(rowid) {
                    found.push(format!("entry {shown}: a second entry for rowid {rowid}"));
                }
            }
        }
    });
    match walked {
        Ok(structure) => found.extend(structure),
        Err(e) => {
            found.push(e);
            return entries;
        }
    }
    let mut missing: Vec<(&RowId, &Row)> = rows.iter().filter(|(r, _)| !seen.contains(r)).collect();
    missing.sort_by_key(|(r, _)| **r);
    for (rowid, row) in missing {
        found.push(format!(
            "row {rowid} has no entry (its key is {})",
            show_key(def, ix, &ix.entry_key(def, row, *rowid))
        ));
    }
    if entries != rows.len() as u64 {
        found.push(format!(
            "{entries} entries for {} rows of {}",
            rows.len(),
            def.name
        ));
    }
    entries
}

/// Calls `f(key, val)` for each entry of `ix`'s leaves, in key order,
/// walking the tree a level at a time from the root. At each level the
/// nodes named by the level above, in order, must be exactly the chain of
/// `next` pointers (the last one's is 0), each one level down, and each
/// child after a branch's first must start (low fence) at its separator.
/// Such disagreements are returned as problems and the walk goes on; a
/// block that is not a node of this index, or a cycle, ends it (`Err`).
fn walk_leaves(
    src: &dyn Source,
    bs: usize,
    ix: &IndexDef,
    mut f: impl FnMut(&[u8], u64),
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let mut visited = HashSet::new();
    // This level's nodes, in order, each with the separator its parent
    // gives it (`None`: the first child of its parent, or the root).
    let mut level: Vec<(u32, Option<Bytes>)> = vec![(ix.tree.root.0, None)];
    let mut depth = None;
    while !level.is_empty() {
        let mut below = Vec::new();
        for (i, (no, sep)) in level.iter().enumerate() {
            if !visited.insert(*no) {
                return Err(format!("index block {no} is reached twice (a cycle)"));
            }
            let b = read_block(src, bs, *no)?;
            let n = match b.body {
                Body::Index(n) if b.seg == ix.tree.seg => n,
                Body::Index(_) => {
                    return Err(format!(
                        "index block {no} belongs to segment {}, not {}",
                        b.seg.0, ix.tree.seg.0
                    ))
                }
                _ => return Err(format!("block {no} in the index is not an index block")),
            };
            let want_level = *depth.get_or_insert(n.level);
            if n.level != want_level {
                return Err(format!(
                    "index block {no} is at level {}, its siblings at level {want_level}",
                    n.level
                ));
            }
            let want_next = level.get(i + 1).map_or(0, |(next, _)| *next);
            if n.next != want_next {
                problems.push(format!(
                    "index block {no} (level {}) has next {}, but the level above says {want_next}",
                    n.level, n.next
                ));
            }
            if let Some(sep) = sep {
                if n.low.as_ref() != Some(sep) {
                    problems.push(format!(
                        "index block {no} starts at {:?}, but its parent's separator is {sep:?}",
                        n.low
                    ));
                }
            }
            if n.is_leaf() {
                for e in n.entries() {
                    f(e.key(), e.val);
                }
            } else {
                for (k, e) in n.entries().iter().enumerate() {
                    below.push((e.val as u32, (k > 0).then(|| e.key().clone())));
                }
                if n.entries().is_empty() {
                    problems.push(format!("branch block {no} has no entries"));
                }
            }
        }
        match depth {
            Some(0) | None => break,
            Some(d) => depth = Some(d - 1),
        }
        level = below;
    }
    Ok(problems)
}
