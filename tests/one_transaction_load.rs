//! A bulk load with three indexes commits once, on the default
//! configuration, as SQLite's and redb's loads do in `benches/vs_sqlite.rs`.
//!
//! A million-row transaction with three indexes once stopped with
//! `UndoExhausted`: its undo (an undo record per index entry, about 0.5 GB
//! for a million rows) outgrew the extents the undo segment header could
//! list, although undo autoextends by default. Extents now grow in size
//! once the header's list nears its end (the `undo` module doc), so the
//! only limit is `undo_max_blocks`. These tests load the bench's rows in
//! one transaction and check that every row and index entry is there.
//!
//! The million rows themselves, by hand, in release (about a minute):
//! `cargo test --release --test one_transaction_load -- --ignored --nocapture`.

use std::time::Instant;

use blocklab::{Config, Database, Stat, Value};

// Public: the bench's data module is shared, and this test uses only
// part of it (the bench's `cfg` is not the default config it tests).
#[path = "../benches/common/vs_sqlite_data.rs"]
pub mod data;
use data::{rows, DDL, IX};

/// Loads `n` of the bench's rows into `t` with its three indexes, 1,000
/// rows an array execution, one commit at the end; then checks the rows,
/// the undo that grew, and the files.
fn load_in_one_transaction(n: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::open(tmp.path(), Config::default()).unwrap();
    let initial_undo = db.undo_blocks().unwrap();
    let mut s = db.session();
    s.execute(DDL).unwrap();
    for ix in IX {
        s.execute(ix).unwrap();
    }
    let p = s.prepare("INSERT INTO t VALUES (?, ?, ?, ?)").unwrap();
    let data = rows(n);
    let before = s.stats();
    let t = Instant::now();
    for chunk in data.chunks(1000) {
        s.execute_array(&p, chunk).unwrap();
    }
    s.commit().unwrap();
    let elapsed = t.elapsed();
    let d = s.stats().diff(&before);
    let undo = db.undo_blocks().unwrap();
    eprintln!(
        "{n} rows, 3 indexes, one transaction: {:.2} s, undo {initial_undo} -> {undo} blocks, \
         {} undo records, {} redo bytes",
        elapsed.as_secs_f64(),
        d.get(Stat::UndoRecordsWritten),
        d.get(Stat::RedoSize),
    );
    // One transaction: one commit, and its undo all at once, so the ring
    // had to grow (the default starts at 1,024 blocks over 4 segments).
    assert_eq!(d.get(Stat::UserCommits), 1);
    assert!(d.get(Stat::UndoExtends) > 0);
    assert!(undo > initial_undo, "{initial_undo} -> {undo}");
    // Every index entry of every row.
    assert_eq!(d.get(Stat::IndexKeysInserted), 3 * n as u64);
    for (sql, want) in [
        ("SELECT COUNT(*) FROM t", n),
        ("SELECT /*+ INDEX(t t_a) */ COUNT(*) FROM t WHERE a >= 0", n),
        ("SELECT /*+ INDEX(t t_b) */ COUNT(*) FROM t WHERE b >= 0", n),
        (
            "SELECT /*+ INDEX(t t_v) */ COUNT(*) FROM t WHERE v >= 'row'",
            n,
        ),
    ] {
        let r = s.execute(sql).unwrap();
        assert_eq!(r.rows[0][0], Value::Int(want as i64), "{sql}");
    }
    drop(s);
    db.close().unwrap();
    let report = blocklab::verify::verify_dir(tmp.path()).unwrap();
    assert!(
        report.is_clean(),
        "{:?} {:?}",
        report.corrupt,
        report.indexes
    );
}

#[test]
fn a_load_with_three_indexes_commits_once_on_the_default_config() {
    // Enough rows for the undo to grow well past its initial size.
    load_in_one_transaction(20_000);
}

/// What `benches/vs_sqlite.rs` does at full size; too long for every test
/// run, so run by hand (see the module doc).
#[test]
#[ignore]
fn a_million_rows_with_three_indexes_in_one_transaction() {
    load_in_one_transaction(1_000_000);
}
