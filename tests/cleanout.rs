//! Block cleanout (the book, chapter 4; claim C34): what commit cleanout
//! stamps, what it leaves to the next reader, and what that reader pays —
//! transaction-table lookups, a current-mode cleanout, redo — once, and
//! never again, not even after the database is reopened. And the case
//! where the cleanout cannot be done: the transaction's slot has been
//! reused, its commit SCN is lost, and an old snapshot gets snapshot too
//! old (Kyte's delayed-cleanout ORA-01555).

use std::time::Duration;

use blocklab::{Config, Database, Error, Session, Stat, StatsSnapshot};

/// 2 KiB blocks (a transaction table of 31 slots), one undo segment, no
/// retention, no background writer: every write and every slot reuse is
/// the test's own doing.
fn cfg(cache_frames: usize) -> Config {
    Config {
        block_size: 2048,
        cache_frames,
        undo_segments: 1,
        undo_blocks: 64,
        undo_retention: Duration::ZERO,
        background_writer: false,
        ..Config::default()
    }
}

const SCAN: &str = "SELECT /*+ FULL(t) */ SUM(v) FROM t";

/// `t` with `rows` rows of about 120 bytes (about 14 to a 2 KiB block),
/// loaded, committed and cleaned out by one scan, so that only what the
/// test does next leaves blocks to clean.
fn load(s: &mut Session, rows: u64) -> u64 {
    s.execute("CREATE TABLE t (id INTEGER, v INTEGER, pad TEXT)")
        .unwrap();
    s.execute(&format!(
        "INSERT INTO t SELECT value, 0, '{}' FROM generate_series(1, {rows})",
        "x".repeat(100)
    ))
    .unwrap();
    s.execute("COMMIT").unwrap();
    s.execute(SCAN).unwrap();
    s.execute(SCAN).unwrap().stats.get(Stat::TableScanBlocks)
}

fn get(st: &StatsSnapshot, s: Stat) -> u64 {
    st.get(s)
}

// ANCHOR: big_update
#[test]
fn the_first_scan_after_a_big_update_cleans_out_what_commit_left_and_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    // 32 frames: commit cleans out at most 3 blocks (a tenth of the cache).
    let db = Database::open(dir.path(), cfg(32)).unwrap();
    let mut s = db.session();
    let blocks = load(&mut s, 600);
    assert!(
        blocks > 32,
        "the table ({blocks} blocks) does not fit the cache"
    );
    s.execute("UPDATE t SET v = v + 1").unwrap();
    let c = s.execute("COMMIT").unwrap().stats;
    // Every block changed, so commit tries its limit of 3 blocks (the
    // lowest-numbered), and stamps those still in the cache.
    assert_eq!(get(&c, Stat::CommitCleanouts), 3);
    let stamped = get(&c, Stat::CommitCleanoutsCompleted);
    assert!(stamped <= 3);

    let first = s.execute(SCAN).unwrap().stats;
    // Every other table block still names the update's transaction
    // without its commit SCN: one transaction-table lookup, one cleanout,
    // one redo record (one ITL entry stamped) each; no rollback needed.
    let left = blocks - stamped;
    assert_eq!(get(&first, Stat::CrCleanouts), left);
    assert_eq!(get(&first, Stat::CleanoutsOnlyCrGets), left);
    assert_eq!(get(&first, Stat::TxTableLookups), left);
    assert_eq!(get(&first, Stat::RedoEntries), left);
    assert!(
        get(&first, Stat::RedoSize) > 0,
        "a query that generates redo"
    );
    assert_eq!(get(&first, Stat::CrBlocksCreated), 0);

    // The second scan finds every block clean.
    let second = s.execute(SCAN).unwrap().stats;
    assert_eq!(get(&second, Stat::CrCleanouts), 0);
    assert_eq!(get(&second, Stat::CleanoutsOnlyCrGets), 0);
    assert_eq!(get(&second, Stat::TxTableLookups), 0);
    assert_eq!(get(&second, Stat::RedoEntries), 0);
    assert_eq!(get(&second, Stat::RedoSize), 0);
}
// ANCHOR_END: big_update

#[test]
fn a_small_update_is_cleaned_out_at_commit_and_the_reader_pays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(32)).unwrap();
    let mut s = db.session();
    let blocks = load(&mut s, 600);
    // Rows 1 and 2 are in the first block: one block changed, still cached.
    s.execute("UPDATE t SET v = 1 WHERE id <= 2").unwrap();
    let c = s.execute("COMMIT").unwrap().stats;
    assert_eq!(get(&c, Stat::CommitCleanouts), 1);
    assert_eq!(get(&c, Stat::CommitCleanoutsCompleted), 1);
    let scan = s.execute(SCAN).unwrap().stats;
    assert_eq!(get(&scan, Stat::TableScanBlocks), blocks);
    assert_eq!(get(&scan, Stat::CrCleanouts), 0);
    assert_eq!(get(&scan, Stat::TxTableLookups), 0);
    assert_eq!(get(&scan, Stat::RedoSize), 0);
}

#[test]
fn a_commit_cleanout_survives_eviction_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(32)).unwrap();
    let mut s = db.session();
    load(&mut s, 600);
    s.execute("UPDATE t SET v = 1 WHERE id <= 2").unwrap();
    s.execute("COMMIT").unwrap();
    drop(s);
    // The stamped block is dirty, so it is written, stamp and all.
    scans_clean_after_a_reopen(db, dir.path());
}

#[test]
fn a_delayed_cleanout_is_logged_so_a_reopen_does_not_undo_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(32)).unwrap();
    let mut s = db.session();
    let blocks = load(&mut s, 600);
    s.execute("UPDATE t SET v = v + 1").unwrap();
    let stamped = s.execute("COMMIT").unwrap().stats;
    let first = s.execute(SCAN).unwrap().stats;
    assert_eq!(
        get(&first, Stat::CrCleanouts),
        blocks - get(&stamped, Stat::CommitCleanoutsCompleted)
    );
    drop(s);
    // Before, the cleanout was not written (no redo, block not dirty):
    // after every reopen, every reader looked every block up again.
    scans_clean_after_a_reopen(db, dir.path());
}

/// Closes `db`, opens it again and scans: every block must be found
/// cleaned out — no transaction-table lookup, no cleanout, no redo.
fn scans_clean_after_a_reopen(db: Database, dir: &std::path::Path) {
    db.close().unwrap();
    let db = Database::open(dir, cfg(32)).unwrap();
    let mut s = db.session();
    let scan = s.execute(SCAN).unwrap().stats;
    assert_eq!(get(&scan, Stat::TxTableLookups), 0);
    assert_eq!(get(&scan, Stat::CrCleanouts), 0);
    assert_eq!(get(&scan, Stat::RedoSize), 0);
}

// ANCHOR: slot_overwritten
#[test]
fn an_uncleaned_block_whose_slot_was_reused_fails_an_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(32)).unwrap();
    let mut s = db.session();
    load(&mut s, 600);
    s.execute("CREATE TABLE u (id INTEGER, v INTEGER)").unwrap();
    s.execute("INSERT INTO u VALUES (1, 0)").unwrap();
    s.execute("COMMIT").unwrap();
    // The big update commits before the reader's snapshot, leaving its
    // blocks uncleaned (the cache is small).
    s.execute("UPDATE t SET v = v + 1").unwrap();
    s.execute("COMMIT").unwrap();
    let q = db.current_scn();
    // Then 40 small transactions on another table, each taking the next
    // of the 31 slots: the first 31 take every slot, the big update's
    // among them; the last 9 take slots of the first ones, which committed
    // after q, and so push the header's bound (control SCN) past q.
    let mut w = db.session();
    for _ in 0..40 {
        w.execute("UPDATE u SET v = v + 1").unwrap();
        w.execute("COMMIT").unwrap();
    }
    // The reader, as of q, meets the big update's ITL entries without a
    // commit SCN; the slot is gone and the only bound is after q. The
    // update committed before q, but nothing can prove it: ORA-01555.
    let mut reader = db.session();
    match reader.scan_as_of("t", q) {
        Err(Error::SnapshotTooOld { .. }) => {}
        other => panic!("expected snapshot too old, got {other:?}"),
    }
    // A new snapshot is after the bound: the same blocks read fine.
    assert!(reader.scan("t").is_ok());
}
// ANCHOR_END: slot_overwritten
