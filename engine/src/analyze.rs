//! Optimizer statistics: what `ANALYZE` (Oracle's `DBMS_STATS`, Db2's
//! `RUNSTATS`) gathers about a table and its indexes, and how.
//!
//! The cost formula of `access::cost` (the book, chapter 7) needs a handful of
//! numbers per index and per column. This module measures them exactly, by
//! reading everything once, as of one snapshot (one statement), and changes
//! nothing: it takes no locks, starts no transaction, writes no redo.
//!
//! ## Table (Oracle `USER_TABLES`, `USER_TAB_COL_STATISTICS`)
//!
//! | statistic | meaning | gathered by |
//! |---|---|---|
//! | `num_rows` | rows visible at the snapshot | a full scan (`heap::scan`) |
//! | `blocks` | blocks below the HWM, segment header excluded — what a full scan reads, empty blocks included | the segment header's HWM (`heap::segment_blocks`) |
//! | `avg_row_len` | Σ encoded row bytes / `num_rows`, rounded to nearest; the 4-byte slot entry is not included | the same scan |
//! | column `ndv` | number of distinct non-NULL values | each value goes into a set, keyed by its index-key encoding |
//! | column `low`, `high` | smallest and largest non-NULL value | the first and last element of that set |
//! | column `nulls` | rows where the column is NULL | the same scan |
//!
//! Values are compared by their ASC index-key encoding (`btree::key`), the
//! same order an index on the column would have: `-0.0` equals `0.0`, text
//! compares by code point. A row shorter than the table (written before an
//! `ADD COLUMN`) counts as NULL in the missing columns.
//!
//! ## Index (Oracle `USER_INDEXES`, Db2 `SYSINDEXES`)
//!
//! Gathered by one walk of the whole index in key order as of the snapshot:
//! the root, the leftmost branch on each level down to the leftmost leaf,
//! then the leaf chain (`next`) to its end.
//!
//! ```text
//!  blevel            = level of the root (leaves are level 0) = height − 1
//!  leaf_blocks       = leaf blocks holding at least one entry
//!  num_rows          = N = index entries
//!  distinct_keys     = entries whose key (rowid removed) differs from the
//!                      previous entry's key
//!  clustering_factor = CF = entries whose rowid's table block differs from
//!                      the previous entry's table block (the first counts)
//!  B                 = distinct table blocks the entries point into
//!  cluster_ratio     = (N − CF) / (N − B),  1.0 when N == B  (the book, chapter 7)
//!  avg_leaf_blocks_per_key = leaf_blocks / distinct_keys
//!  avg_data_blocks_per_key = CF / distinct_keys        (both 0 when no keys)
//! ```
//!
//! Since the rowids of one block are all counted at once when they are
//! consecutive, `B <= CF <= N`: CF is `B` when the table is stored in index
//! order (every block's rows form one run) and approaches `N` when
//! neighbouring keys live in different blocks. CF is also exactly the number
//! of table block gets a full index scan makes when the last table block
//! stays pinned (the book, chapter 2), which is why the cost formula uses it.
//! The cluster ratio rescales CF onto 0..1 between those two extremes
//! (1.0 = perfectly clustered, 0.0 = every entry a new block).
//!
//! `leaf_blocks` counts the leaf blocks the entries live in — how Oracle's
//! `DBMS_STATS` is recalled to count them (distinct `sys_op_lbid` of the
//! entries; \[UNVERIFIED\]). A leaf emptied by deletes stays in the chain
//! (nodes are never merged, see `btree::tree`) and a scan still reads it,
//! but it is not counted. An empty index has `leaf_blocks` 0 and
//! `blevel` 0; an index whose root is its only leaf has `leaf_blocks` 1 and
//! `blevel` 0.
//!
//! Invariant: `distinct_keys <= num_rows`, `B <= clustering_factor <=
//! num_rows`, and `0.0 <= cluster_ratio <= 1.0`.
//!
//! Simplifications compared with a production engine:
//! - Everything is computed exactly from every row and entry; there is no
//!   sampling (`ESTIMATE_PERCENT`), no histograms, no incremental statistics.
//! - NULL keys are indexed here (see `btree::key`), so `num_rows` of an index
//!   counts them; Oracle leaves all-NULL keys out of B-tree indexes.
//! - `gather` only returns the statistics; `ANALYZE TABLE` then stores
//!   them in the catalog (`Session::store_stats`, one `stats` row per
//!   table in the encoding below), from where they are loaded at open.
//! - The HWM is read from the current segment header, not as of the
//!   snapshot (as Oracle reads the extent map): a concurrent insert that
//!   grows the table during the walk may add an empty block to `blocks`.

use std::collections::{BTreeMap, HashSet};

use crate::access::ColumnStats;
use crate::block::index::IndexBody;
use crate::btree::key::{encode_key, split_rowid, KeyColumn};
pub use crate::catalog::table_stats::{
    cluster_ratio, IndexStatsRow, TableStats, STORED_TEXT_BYTES,
};
use crate::catalog::{IndexDef, TableDef};
use crate::error::{Error, Result};
use crate::heap;
use crate::ids::{BlockNo, RowId};
use crate::kernel::Kernel;
use crate::stats::{SessionStats, Stat};
use crate::txn::{read_consistent, Snapshot};
use crate::value::{decode_row, Value};

/// Gathers the statistics of `def` and `indexes` as of `snap`. Reads only.
pub(crate) fn gather(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    def: &TableDef,
    indexes: &[IndexDef],
) -> Result<TableStats> {
    let blocks = heap::segment_blocks(core, stats, def.seg, None)?.len() as u64;
    let mut cols: Vec<ColumnAcc> = def.columns.iter().map(|_| ColumnAcc::default()).collect();
    let keycols: Vec<KeyColumn> = def.columns.iter().map(|c| KeyColumn::asc(c.ty)).collect();
    let (mut num_rows, mut row_bytes) = (0u64, 0u64);
    heap::scan(core, stats, snap, def.seg, |rowid, bytes| {
        let row = decode_row(bytes)
            .map_err(|r| Error::corrupt(core.file.name(), rowid.block.0 as u64, r))?;
        num_rows += 1;
        row_bytes += bytes.len() as u64;
        for (i, acc) in cols.iter_mut().enumerate() {
            acc.add(&keycols[i], row.get(i).unwrap_or(&Value::Null));
        }
        Ok(())
    })?;
    // Rounded to nearest; no rows, no length.
    let avg_row_len = (row_bytes + num_rows / 2)
        .checked_div(num_rows)
        .unwrap_or(0);
    let mut out = TableStats {
        table: def.name.clone(),
        num_rows,
        blocks,
        avg_row_len,
        columns: def
            .columns
            .iter()
            .zip(cols)
            .map(|(c, acc)| (c.name.clone(), acc.finish()))
            .collect(),
        indexes: Vec::with_capacity(indexes.len()),
    };
    for ix in indexes {
        out.indexes.push(gather_index(core, stats, snap, ix)?);
    }
    Ok(out)
}

/// Distinct values (by key encoding), low, high and NULLs of one column.
#[derive(Default)]
struct ColumnAcc {
    values: BTreeMap<Vec<u8>, Value>,
    nulls: u64,
}

impl ColumnAcc {
    fn add(&mut self, col: &KeyColumn, v: &Value) {
        if v.is_null() {
            self.nulls += 1;
            return;
        }
        let mut k = Vec::new();
        encode_key(std::slice::from_ref(col), std::slice::from_ref(v), &mut k);
        self.values.entry(k).or_insert_with(|| v.clone());
    }

    fn finish(self) -> ColumnStats {
        ColumnStats {
            ndv: self.values.len() as u64,
            low: self.values.first_key_value().map(|(_, v)| v.clone()),
            high: self.values.last_key_value().map(|(_, v)| v.clone()),
            nulls: self.nulls,
        }
    }
}

/// The running counts of an index walk, fed one entry at a time in key
/// order (kept apart from the I/O so it can be tested on its own).
#[derive(Default)]
struct EntryAcc {
    entries: u64,
    distinct_keys: u64,
    clustering_factor: u64,
    last_key: Option<Vec<u8>>,
    last_block: Option<BlockNo>,
    table_blocks: HashSet<BlockNo>,
}

impl EntryAcc {
    /// One entry: its key without the rowid, and the rowid.
    fn add(&mut self, key: &[u8], rowid: RowId) {
        self.entries += 1;
        if self.last_key.as_deref() != Some(key) {
            self.distinct_keys += 1;
            self.last_key = Some(key.to_vec());
        }
        if self.last_block != Some(rowid.block) {
            self.clustering_factor += 1;
            self.last_block = Some(rowid.block);
        }
        self.table_blocks.insert(rowid.block);
    }
}

/// Deepest tree the walk accepts before calling the index corrupt (a
/// branch pointing back up would otherwise loop forever).
const MAX_HEIGHT: u32 = 32;

/// Walks one index in key order as of `snap`; see the module docs.
fn gather_index(
    core: &Kernel,
    stats: &SessionStats,
    snap: Snapshot,
    ix: &IndexDef,
) -> Result<IndexStatsRow> {
    let corrupt = |no: BlockNo, why: &str| Error::corrupt(core.file.name(), no.0 as u64, why);
    // Counted like a scan's visits (`tree::scan`), so ANALYZE shows in AUTOTRACE.
    let count = |no: BlockNo, n: &IndexBody| {
        stats.inc(if no == ix.tree.root {
            Stat::IndexRootGets
        } else if n.is_leaf() {
            Stat::IndexLeafGets
        } else {
            Stat::IndexBranchGets
        })
    };
    stats.inc(Stat::IndexDescents);
    // Down the left edge: the first entry of a branch is its lowest child,
    // and each level is one below its parent's.
    let mut no = ix.tree.root;
    let mut blevel = 0u32;
    let mut first_leaf = None;
    for depth in 0..=MAX_HEIGHT {
        let v = read_consistent(core, stats, no, snap)?;
        let n = crate::btree::tree::node(core, &v)?;
        count(no, n);
        if depth == 0 {
            blevel = u32::from(n.level);
        } else if u32::from(n.level) + depth != blevel {
            return Err(corrupt(no, "index block level does not match its depth"));
        }
        if n.is_leaf() {
            first_leaf = Some(n.clone());
            break;
        }
        let child = n
            .entries()
            .first()
            .ok_or_else(|| corrupt(no, "branch block without entries"))?;
        no = BlockNo(child.val as u32);
    }
    let mut leaf = first_leaf.ok_or_else(|| corrupt(ix.tree.root, "index descent does not end"))?;
    // Along the leaf chain. Keys must keep rising from leaf to leaf, and no
    // leaf may come twice (a chain that loops would never end).
    let mut acc = EntryAcc::default();
    let mut leaf_blocks = 0u64;
    let mut seen = HashSet::from([no]);
    let mut prev: Option<bytes::Bytes> = None;
    loop {
        if !leaf.is_leaf() {
            return Err(corrupt(no, "leaf chain reaches a branch block"));
        }
        if !leaf.entries().is_empty() {
            leaf_blocks += 1;
        }
        for e in leaf.entries() {
            if prev.as_ref().is_some_and(|p| *p >= e.key()) {
                return Err(corrupt(
                    no,
                    "index entries out of order along the leaf chain",
                ));
            }
            stats.inc(Stat::IndexEntriesExamined);
            let (key, _) =
                split_rowid(e.key()).ok_or_else(|| corrupt(no, "index entry without a rowid"))?;
            acc.add(key, RowId::from_u64(e.val));
            prev = Some(e.key().clone());
        }
        if leaf.next == 0 {
            break;
        }
        no = BlockNo(leaf.next);
        if !seen.insert(no) {
            return Err(corrupt(no, "index leaf chain loops"));
        }
        let v = read_consistent(core, stats, no, snap)?;
        leaf = crate::btree::tree::node(core, &v)?.clone();
        count(no, &leaf);
    }
    let per_key = |x: u64| {
        if acc.distinct_keys == 0 {
            0.0
        } else {
            x as f64 / acc.distinct_keys as f64
        }
    };
    Ok(IndexStatsRow {
        name: ix.name.clone(),
        blevel,
        leaf_blocks,
        distinct_keys: acc.distinct_keys,
        num_rows: acc.entries,
        clustering_factor: acc.clustering_factor,
        cluster_ratio: cluster_ratio(
            acc.entries,
            acc.clustering_factor,
            acc.table_blocks.len() as u64,
        ),
        avg_leaf_blocks_per_key: per_key(leaf_blocks),
        avg_data_blocks_per_key: per_key(acc.clustering_factor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ColType;

    fn rowid(block: u32, slot: u16) -> RowId {
        RowId {
            block: BlockNo(block),
            slot,
        }
    }

    #[test]
    fn clustering_factor_counts_block_changes_including_the_first_entry() {
        let mut acc = EntryAcc::default();
        // keys a a b c c c, blocks 7 7 8 7 7 9:
        // changes at entry 1 (first), 3 (7→8), 4 (8→7), 6 (7→9) = 4.
        for (k, b) in [
            (b"a", 7),
            (b"a", 7),
            (b"b", 8),
            (b"c", 7),
            (b"c", 7),
            (b"c", 9),
        ] {
            acc.add(k, rowid(b, 0));
        }
        assert_eq!(acc.entries, 6);
        assert_eq!(acc.distinct_keys, 3, "a, b, c");
        assert_eq!(acc.clustering_factor, 4);
        assert_eq!(acc.table_blocks.len(), 3, "blocks 7, 8, 9");
        // (N − CF) / (N − B) = (6 − 4) / (6 − 3)
        assert!((cluster_ratio(6, 4, 3) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn cluster_ratio_spans_zero_to_one_between_b_and_n() {
        assert_eq!(cluster_ratio(1000, 100, 100), 1.0, "CF = B: clustered");
        assert_eq!(cluster_ratio(1000, 1000, 100), 0.0, "CF = N: scattered");
        assert_eq!(cluster_ratio(0, 0, 0), 1.0, "no rows: defined as 1");
        assert_eq!(cluster_ratio(5, 5, 5), 1.0, "one row per block: N == B");
    }

    #[test]
    fn column_statistics_compare_values_in_index_order() {
        let mut acc = ColumnAcc::default();
        let col = KeyColumn::asc(ColType::Real);
        for v in [3.0, -1.5, 0.0, -0.0, 3.0] {
            acc.add(&col, &Value::Real(v));
        }
        acc.add(&col, &Value::Null);
        let s = acc.finish();
        assert_eq!(s.ndv, 3, "-1.5, 0 (= -0), 3");
        assert_eq!(s.low, Some(Value::Real(-1.5)));
        assert_eq!(s.high, Some(Value::Real(3.0)));
        assert_eq!(s.nulls, 1);
    }

    fn sample() -> TableStats {
        TableStats {
            table: "t".into(),
            num_rows: 1000,
            blocks: 100,
            avg_row_len: 773,
            columns: vec![
                (
                    "k".into(),
                    ColumnStats {
                        ndv: 1000,
                        low: Some(Value::Int(i64::MIN)),
                        high: Some(Value::Int(999)),
                        nulls: 0,
                    },
                ),
                (
                    "x".into(),
                    ColumnStats {
                        ndv: 3,
                        low: Some(Value::Real(0.1 + 0.2)),
                        high: Some(Value::Real(f64::INFINITY)),
                        nulls: 7,
                    },
                ),
                (
                    "e".into(),
                    ColumnStats {
                        ndv: 0,
                        low: None,
                        high: None,
                        nulls: 1000,
                    },
                ),
            ],
            indexes: vec![IndexStatsRow {
                name: "t_k".into(),
                blevel: 1,
                leaf_blocks: 3,
                distinct_keys: 1000,
                num_rows: 1000,
                clustering_factor: 517,
                cluster_ratio: cluster_ratio(1000, 517, 100),
                avg_leaf_blocks_per_key: 3.0 / 1000.0,
                avg_data_blocks_per_key: 0.517,
            }],
        }
    }

    #[test]
    fn the_stored_form_reads_back_bit_for_bit() {
        let st = sample();
        let back = TableStats::from_json(&st.to_json()).unwrap();
        // PartialEq on f64 compares values; 0.1 + 0.2 = 0.30000000000000004
        // survives only if no digit is lost on the way.
        assert_eq!(back, st);
        assert_eq!(
            back.indexes[0].cluster_ratio.to_bits(),
            st.indexes[0].cluster_ratio.to_bits()
        );
    }

    #[test]
    fn the_stored_form_keeps_32_bytes_of_a_text_value() {
        let mut st = sample();
        // 31 ASCII bytes then a 2-byte 'é': the cut falls inside it, so 31 stay.
        let long = format!("{}é{}", "a".repeat(31), "z".repeat(100));
        st.columns[2].1.low = Some(Value::Text(long));
        let back = TableStats::from_json(&st.to_json()).unwrap();
        assert_eq!(back.columns[2].1.low, Some(Value::Text("a".repeat(31))));
    }

    #[test]
    fn a_damaged_stored_form_is_an_error_not_a_panic() {
        let text = sample().to_json();
        for cut in [0, 1, text.len() / 2, text.len() - 1] {
            assert!(TableStats::from_json(&text[..cut]).is_err(), "cut at {cut}");
        }
        let other = text.replace("\"format\":1", "\"format\":2");
        assert!(TableStats::from_json(&other).is_err(), "unknown format");
    }

    #[test]
    fn an_empty_column_has_no_low_or_high() {
        let s = ColumnAcc::default().finish();
        assert_eq!((s.ndv, s.low, s.high, s.nulls), (0, None, None, 0));
    }
}
