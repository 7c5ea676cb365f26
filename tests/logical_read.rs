//! What one logical read is, pinned in exact counters (course book,
//! chapter 2): a full scan gets each block below the high-water mark once
//! plus the segment header; a unique lookup gets one block per index level
//! plus one table block; a logical read is counted whether or not the block
//! was cached, and a physical read only when it was not; a change gets its
//! blocks in current mode (`db block gets`), never as `consistent gets`.
//!
//! Every number is derived from the code path that produces it (see
//! `buffer`, `heap::scan`, `btree::tree::scan`, `undo::logged_change`);
//! none is a time.

use blocklab::{Config, Database, SqlResult, Stat};

/// Rows in the test table; with 2 KiB blocks they fill a few hundred table
/// blocks and the primary-key index has three levels.
const ROWS: i64 = 20_000;

fn config() -> Config {
    Config {
        // Small blocks: many blocks and a three-level index from few rows.
        block_size: 2048,
        // A cache of which a tenth (the most blocks one commit cleans out)
        // exceeds every block the load changes, table and index: so the
        // load's commit stamps them all, and no read below pays for a
        // delayed cleanout (chapter 4, C34).
        cache_frames: 16_384,
        // No background writer: which blocks it writes before a commit
        // stamps them would depend on its timing, and a block written
        // unstamped costs every later reader a transaction-table lookup.
        background_writer: false,
        ..Config::default()
    }
}

fn run(s: &mut blocklab::Session, sql: &str) -> SqlResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Creates `t (id PRIMARY KEY, name)` with `ROWS` committed rows.
fn load(db: &Database) {
    let mut s = db.session();
    run(&mut s, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
    run(
        &mut s,
        &format!("INSERT INTO t SELECT value, 'name ' || value FROM generate_series(1, {ROWS})"),
    );
    run(&mut s, "COMMIT");
}

/// Blocks below the table's HWM, the segment header included (the HWM
/// counts the header as block 0 of the segment).
fn hwm(db: &Database) -> u64 {
    db.segment_info("t").unwrap().1 as u64
}

// ANCHOR: full_scan
#[test]
fn a_full_scan_gets_every_block_below_the_hwm_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    load(&db);
    let hwm = hwm(&db);
    assert!(hwm > 100, "the table spans many blocks ({hwm})");
    let mut s = db.session();
    // One fetch call brings every row, so the gets are the scan's alone
    // (each further fetch call would get its block again: chapter 8).
    s.set_fetch_size(ROWS as usize + 1);
    for round in 0..2 {
        let r = run(&mut s, "SELECT /*+ FULL(t) */ * FROM t");
        assert_eq!(r.rows.len() as i64, ROWS);
        let st = &r.stats;
        // 1 segment header (to learn the HWM) + every data block below it.
        assert_eq!(st.get(Stat::ConsistentGets), hwm, "round {round}");
        assert_eq!(st.get(Stat::TableScanBlocks), hwm - 1);
        assert_eq!(st.get(Stat::TableScanRows), ROWS as u64);
        // A query changes nothing: no current-mode gets.
        assert_eq!(st.get(Stat::DbBlockGets), 0);
        // The blocks were cached by the INSERT that made them.
        assert_eq!(st.get(Stat::PhysicalReads), 0);
    }
}
// ANCHOR_END: full_scan

// ANCHOR: cold_then_warm
#[test]
fn a_cold_block_costs_one_physical_read_and_a_warm_one_none() {
    let dir = tempfile::tempdir().unwrap();
    let hwm = {
        let db = Database::open(dir.path(), config()).unwrap();
        load(&db);
        let h = hwm(&db);
        db.close().unwrap();
        h
    };
    // Reopened: the buffer cache starts empty.
    let db = Database::open(dir.path(), config()).unwrap();
    let mut s = db.session();
    s.set_fetch_size(ROWS as usize + 1);
    let cold = run(&mut s, "SELECT /*+ FULL(t) */ * FROM t").stats;
    let warm = run(&mut s, "SELECT /*+ FULL(t) */ * FROM t").stats;
    // The same logical reads either way: a get is a get, cached or not.
    assert_eq!(cold.get(Stat::ConsistentGets), hwm);
    assert_eq!(warm.get(Stat::ConsistentGets), hwm);
    // Cold: every one of those gets missed the cache once.
    assert_eq!(cold.get(Stat::PhysicalReads), hwm);
    // Warm: all of them found their block in the cache.
    assert_eq!(warm.get(Stat::PhysicalReads), 0);
}
// ANCHOR_END: cold_then_warm

// ANCHOR: unique_lookup
#[test]
fn a_unique_lookup_gets_one_block_per_level_and_one_table_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    load(&db);
    let mut s = db.session();
    let stats = s.analyze("t").unwrap();
    let blevel = stats.indexes[0].blevel as u64;
    assert_eq!(blevel, 2, "root, one branch level, leaves");
    for id in [1, 7_777, ROWS] {
        let r = run(&mut s, &format!("SELECT name FROM t WHERE id = {id}"));
        assert_eq!(r.rows.len(), 1);
        let st = &r.stats;
        // The descent: one get per level, BLEVEL + 1 in all.
        assert_eq!(st.get(Stat::IndexRootGets), 1);
        assert_eq!(st.get(Stat::IndexBranchGets), blevel - 1);
        assert_eq!(st.get(Stat::IndexLeafGets), 1);
        // Then the one table block the rowid names.
        assert_eq!(st.get(Stat::TableBlockGetsByRowid), 1);
        assert_eq!(st.get(Stat::TableFetchByRowid), 1);
        // Nothing else: the load's commit stamped its SCN into every block
        // it changed, and into the index blocks its splits made (they
        // inherited its ITL entry), so no reader asks the transaction table.
        assert_eq!(st.get(Stat::TxTableLookups), 0);
        assert_eq!(st.get(Stat::ConsistentGets), (blevel + 1) + 1);
    }
}
// ANCHOR_END: unique_lookup

// ANCHOR: range_pinned
#[test]
fn rows_in_a_pinned_table_block_cost_no_further_get() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    load(&db);
    let mut s = db.session();
    // Ten consecutive ids were inserted one after another: one table block.
    let r = run(
        &mut s,
        "SELECT name FROM t WHERE id BETWEEN 15000 AND 15009",
    );
    let st = &r.stats;
    assert_eq!(st.get(Stat::TableFetchByRowid), 10);
    assert_eq!(st.get(Stat::TableBlockGetsByRowid), 1);
    // The first row pays the get; the other nine find the block pinned.
    assert_eq!(st.get(Stat::BufferIsPinned), 9);
}
// ANCHOR_END: range_pinned

// ANCHOR: dml_current
#[test]
fn a_change_gets_its_blocks_in_current_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    load(&db);
    let mut s = db.session();
    let first = run(&mut s, "UPDATE t SET name = 'a' WHERE id = 15000").stats;
    let second = run(&mut s, "UPDATE t SET name = 'b' WHERE id = 15001").stats;
    run(&mut s, "COMMIT");
    // Finding the row is a query: consistent gets, as a SELECT would.
    for st in [&first, &second] {
        assert_eq!(st.get(Stat::IndexLeafGets), 1);
        assert_eq!(st.get(Stat::TableBlockGetsByRowid), 1);
        assert!(st.get(Stat::ConsistentGets) >= 4);
    }
    // The first change of a transaction: 1 undo header (take a
    // transaction-table slot) + 1 table block (lock and change the row)
    // + 1 undo header (record the new chain head) + 1 ring block looked at
    // + 1 undo block, formatted and written to in the same get.
    assert_eq!(first.get(Stat::DbBlockGets), 5);
    // Later changes reuse the slot and the undo block: table block, undo
    // header, undo block.
    assert_eq!(second.get(Stat::DbBlockGets), 3);
    // Each change is one redo record changing those same three blocks.
    assert_eq!(second.get(Stat::RedoEntries), 1);
    assert_eq!(second.get(Stat::DbBlockChanges), 3);
}
// ANCHOR_END: dml_current

// ANCHOR: insert_current
#[test]
fn an_insert_gets_the_index_path_in_current_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    load(&db);
    let mut s = db.session();
    run(&mut s, "INSERT INTO t VALUES (30001, 'first')");
    let st = run(&mut s, "INSERT INTO t VALUES (30002, 'second')").stats;
    run(&mut s, "COMMIT");
    // Two descents of the primary-key index, both in current mode: the
    // unique probe, then the insert itself.
    assert_eq!(st.get(Stat::IndexDescents), 2);
    assert_eq!(st.get(Stat::IndexRootGets), 2);
    assert_eq!(st.get(Stat::IndexBranchGets), 2);
    assert_eq!(st.get(Stat::IndexLeafGets), 2);
    assert_eq!(st.get(Stat::ConsistentGets), 0);
    // table: segment header (free list) + table block + undo header + undo block = 4
    // probe: root + branch + leaf (its entries read under the descent's pin) = 3
    // insert: root + branch + leaf (latched exclusively under the same pin)
    //         + undo header + undo block                                     = 5
    assert_eq!(st.get(Stat::DbBlockGets), 4 + 3 + 5);
    // Two redo records (table row, index entry), each changing its data
    // block, the undo block and the undo header.
    assert_eq!(st.get(Stat::RedoEntries), 2);
    assert_eq!(st.get(Stat::DbBlockChanges), 6);
    assert_eq!(st.get(Stat::IndexKeysInserted), 1);
}
// ANCHOR_END: insert_current
