//! A get is a get: every `consistent gets` and `db block gets` of a
//! statement is one block visit the statement really made, so each counter
//! equals a sum written down by hand from the shape of the tree and the
//! path of the change (course book, chapter 2).
//!
//! The table `t(id, a, b, c, pad)` has `ROWS` rows with `a = b = c = id`,
//! and 0, 1, 2 or 3 indexes (on `a`, `b`, `c`, in that order). Every index
//! is two levels deep (BLEVEL 1: a root branch over several leaves), which
//! each test checks with ANALYZE before it counts. Rows are found by `id`,
//! which no index covers, so the search is a full scan whatever the
//! number of indexes; the indexed columns are the ones changed.
//!
//! Two cases for a change: the first change of a transaction, which also
//! takes a transaction-table slot and the transaction's first undo block,
//! and a change inside an open transaction, which has both already.
//!
//! Where blocklab differs from Oracle: each change rewrites the
//! transaction's undo chain head in its transaction-table slot, so the
//! undo segment header is a block every change visits and changes (it is
//! in the change's redo record); Oracle keeps the chain head in the undo
//! block and touches the header only for a new undo block.

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Stat, StatsSnapshot};

/// Rows in the table: with 2 KiB blocks, each index has a few dozen
/// leaves under one root, and the table a few dozen blocks.
const ROWS: i64 = 1_000;

/// Every index the tests may create, in order: `k` indexes are the first `k`.
const INDEXES: [(&str, &str); 3] = [("t_a", "a"), ("t_b", "b"), ("t_c", "c")];

fn config() -> Config {
    Config {
        block_size: 2048,
        // No background writer: a block written before a commit stamps it
        // would cost later readers transaction-table lookups, by timing.
        background_writer: false,
        // No retention: the next undo block of the ring is always free to
        // take, so a transaction's first undo block costs the same gets
        // whatever ran before it (no ring extension).
        undo_retention: std::time::Duration::ZERO,
        ..Config::default()
    }
}

fn run(s: &mut Session, sql: &str) -> StatsSnapshot {
    s.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .stats
}

/// A database with the loaded table and its first `k` indexes, all
/// committed; checks that every index has BLEVEL 1 and several leaves.
fn table_with(k: usize) -> (Database, Session, u64) {
    let db = Database::open_with(Arc::new(SimBackend::new()), config()).unwrap();
    let mut s = db.session();
    run(
        &mut s,
        "CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER, c INTEGER, pad TEXT)",
    );
    run(
        &mut s,
        &format!(
            "INSERT INTO t SELECT value, value, value, value, '{}' \
             FROM generate_series(1, {ROWS})",
            "x".repeat(80)
        ),
    );
    run(&mut s, "COMMIT");
    for (name, col) in &INDEXES[..k] {
        run(&mut s, &format!("CREATE INDEX {name} ON t ({col})"));
    }
    run(&mut s, "COMMIT");
    // One fetch call for the whole result: each further call would get
    // again the block it resumes in (chapter 8, C35), which is not a visit
    // of the scan these tests count.
    s.set_fetch_size(ROWS as usize + 1);
    let stats = s.analyze("t").unwrap();
    for (name, _) in &INDEXES[..k] {
        let ix = stats.index(name).unwrap();
        assert_eq!(ix.blevel, 1, "{name}: a root branch over the leaves");
        assert!(ix.leaf_blocks > 2, "{name}: several leaves");
    }
    let hwm = db.segment_info("t").unwrap().1 as u64;
    assert!(hwm > 10, "the table spans several blocks ({hwm})");
    (db, s, hwm)
}

fn gets(st: &StatsSnapshot) -> (u64, u64) {
    (st.get(Stat::ConsistentGets), st.get(Stat::DbBlockGets))
}

/// One index entry changed (inserted or deleted) by a user transaction:
/// the descent in current mode to the leaf, which is then changed through
/// the undo path.
const INDEX_ENTRY: u64 = 1 // root (a branch: BLEVEL 1)
    + 1 // leaf, got once, in current mode, and changed
    + 1 // undo segment header (the chain head in the slot)
    + 1; // undo block (the entry's undo record)

/// The extra current gets of a transaction's first change: what later
/// changes of the transaction find ready in its context. The new undo
/// block is formatted and written to in one get (the change's own
/// "undo block" term).
const TXN_START: u64 = 1 // undo segment header: take a transaction-table slot
    + 1; // the next undo block of the ring, looked at (is its owner done?)

/// A full scan: the segment header (to learn the HWM) and every block
/// below it, each once, in consistent mode; `hwm` counts the header.
fn full_scan(hwm: u64) -> u64 {
    hwm
}

#[test]
fn queries_get_each_block_they_visit_once() {
    for k in 0..=3 {
        let (_db, mut s, hwm) = table_with(k);
        let st = run(&mut s, "SELECT /*+ FULL(t) */ * FROM t");
        assert_eq!(gets(&st), (full_scan(hwm), 0), "{k} indexes: full scan");
        if k == 0 {
            continue;
        }
        // Unique value: the descent and the one table block.
        let st = run(&mut s, "SELECT /*+ INDEX(t t_a) */ pad FROM t WHERE a = 3");
        let expect = 1 // root
            + 1 // leaf
            + 1; // table block of the rowid
        assert_eq!(gets(&st), (expect, 0), "{k} indexes: equality");
        // A range inside the first leaf, whose rows share the first table
        // block (the table block stays pinned from one rowid to the next).
        let st = run(
            &mut s,
            "SELECT /*+ INDEX(t t_a) */ pad FROM t WHERE a BETWEEN 2 AND 6",
        );
        assert_eq!(st.get(Stat::TableFetchByRowid), 5);
        assert_eq!(gets(&st), (expect, 0), "{k} indexes: range");
    }
}

#[test]
fn a_one_row_insert_gets_its_blocks_once() {
    for k in 0..=3u64 {
        let (_db, mut s, _) = table_with(k as usize);
        let later = 1 // segment header (the free list names the block)
            + 1 // table block
            + 1 // undo segment header (the chain head in the slot)
            + 1 // undo block
            + k * INDEX_ENTRY;
        let sql = |id: i64| format!("INSERT INTO t VALUES ({id}, {id}, {id}, {id}, 'new')");
        let first = run(&mut s, &sql(ROWS + 1));
        let open = run(&mut s, &sql(ROWS + 2));
        assert_eq!(first.get(Stat::LeafNodeSplits), 0);
        assert_eq!(open.get(Stat::LeafNodeSplits), 0);
        // Nothing is read as of a snapshot: no unique key to probe.
        assert_eq!(gets(&open), (0, later), "{k} indexes: open transaction");
        assert_eq!(
            gets(&first),
            (0, later + TXN_START),
            "{k} indexes: first change"
        );
        let st = run(&mut s, "COMMIT");
        // The slot marked committed: one current get of the undo header.
        assert_eq!(gets(&st), (0, 1), "{k} indexes: commit");
    }
}

#[test]
fn an_update_of_the_indexed_columns_gets_its_blocks_once() {
    for k in 0..=3u64 {
        let (_db, mut s, hwm) = table_with(k as usize);
        let later = 1 // table block (lock the row, change it)
            + 1 // undo segment header
            + 1 // undo block
            + k * (INDEX_ENTRY // the old entry deleted
                + INDEX_ENTRY); // the new entry inserted
        let sql = |id: i64| {
            format!("UPDATE t SET a = a + 5000, b = b + 5000, c = c + 5000 WHERE id = {id}")
        };
        let first = run(&mut s, &sql(700));
        let open = run(&mut s, &sql(701));
        assert_eq!(open.get(Stat::RowsProcessed), 1);
        assert_eq!(
            gets(&open),
            (full_scan(hwm), later),
            "{k} indexes: open transaction"
        );
        assert_eq!(
            gets(&first),
            (full_scan(hwm), later + TXN_START),
            "{k} indexes: first change"
        );
        if k >= 1 {
            // Found through the index instead: the descent and the table
            // block, as a query; then the row changed as above, its entry
            // in `t_a` included. (In a new transaction: with three indexes
            // the first one's undo block is full by now.)
            run(&mut s, "COMMIT");
            let st = run(
                &mut s,
                "UPDATE /*+ INDEX(t t_a) */ t SET a = a + 5000, b = b + 5000, c = c + 5000 \
                 WHERE a = 702",
            );
            let found = 1 // root
                + 1 // leaf
                + 1; // table block of the rowid
            assert_eq!(
                gets(&st),
                (found, later + TXN_START),
                "{k} indexes: by index"
            );
        }
        run(&mut s, "COMMIT");
    }
}

#[test]
fn a_delete_gets_its_blocks_once() {
    for k in 0..=3u64 {
        let (_db, mut s, hwm) = table_with(k as usize);
        let later = 1 // table block (lock the row, mark it deleted)
            + 1 // undo segment header
            + 1 // undo block
            + 1 // segment header: is the block on the free list?
            + k * INDEX_ENTRY;
        let sql = |id: i64| format!("DELETE FROM t WHERE id = {id}");
        let first = run(&mut s, &sql(800));
        let open = run(&mut s, &sql(801));
        assert_eq!(
            gets(&open),
            (full_scan(hwm), later),
            "{k} indexes: open transaction"
        );
        assert_eq!(
            gets(&first),
            (full_scan(hwm), later + TXN_START),
            "{k} indexes: first change"
        );
        run(&mut s, "COMMIT");
    }
}

#[test]
fn a_rollback_gets_each_block_it_takes_back_once() {
    for k in 0..=3u64 {
        let (_db, mut s, _) = table_with(k as usize);
        run(&mut s, "INSERT INTO t VALUES (0, 0, 0, 0, 'new')");
        let st = run(&mut s, "ROLLBACK");
        // One undo record per changed block: the row and each entry.
        let records = 1 + k;
        let expect = records
            * (1 // undo block (read the record)
                + 1 // the block it takes back (table block or leaf)
                + 1) // undo segment header (the chain head moves back)
            + 1 // segment header: the row's block back on the free list
            + 1; // undo segment header: the slot marked rolled back
        assert_eq!(st.get(Stat::RollbackUndoApplied), records);
        assert_eq!(gets(&st), (0, expect), "{k} indexes: rollback");
    }
}
