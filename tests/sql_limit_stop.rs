//! LIMIT stops its source (Oracle's COUNT STOPKEY) when nothing in between
//! needs every row: a generate_series is never built past the rows wanted,
//! a full scan reads no block after the last row it needs, an index scan
//! fetches no row it does not return. And a series too long to build
//! without a LIMIT is an error that names the bound.

use std::sync::Arc;

use blocklab::sql::MAX_SERIES_ROWS;
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, SqlResult, Stat, Value};

fn session() -> (Database, Session) {
    let cfg = Config {
        block_size: 8192,
        cache_frames: 512,
        log_file_size: 8 << 20,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    // 5,000 rows of about 100 bytes: dozens of blocks.
    for sql in [
        "CREATE TABLE t (a INTEGER, b INTEGER, pad TEXT)",
        "INSERT INTO t SELECT value, value, 'pad pad pad pad pad pad pad pad pad pad pad pad pad pad pad pad pad pad pad' || value FROM generate_series(1, 5000)",
        "CREATE INDEX t_a ON t (a)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

fn run(s: &mut Session, sql: &str) -> SqlResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn firsts(r: &SqlResult) -> Vec<i64> {
    r.rows
        .iter()
        .map(|row| row[0].as_int().expect("int"))
        .collect()
}

#[test]
fn a_limit_stops_generate_series_however_long_its_range() {
    let (_db, mut s) = session();
    let r = run(
        &mut s,
        "SELECT value FROM generate_series(1, 1000000000000) LIMIT 3",
    );
    assert_eq!(firsts(&r), vec![1, 2, 3]);
    let r = run(
        &mut s,
        "SELECT value FROM generate_series(1, 9223372036854775807) LIMIT 2 OFFSET 5",
    );
    assert_eq!(firsts(&r), vec![6, 7]);
    let r = run(
        &mut s,
        "SELECT value * 10 FROM generate_series(-9223372036854775807, 9223372036854775807) WHERE value % 2 = 0 LIMIT 3",
    );
    assert_eq!(r.rows.len(), 3);
    // An ORDER BY needs every row: no stop, and a short series is sorted.
    let r = run(
        &mut s,
        "SELECT value FROM generate_series(1, 100) ORDER BY value DESC LIMIT 3",
    );
    assert_eq!(firsts(&r), vec![100, 99, 98]);
    let r = run(
        &mut s,
        "SELECT DISTINCT value % 3 FROM generate_series(1, 100) LIMIT 5",
    );
    assert_eq!(r.rows.len(), 3);
    // INSERT … SELECT … LIMIT stops the series too.
    run(&mut s, "CREATE TABLE u (v INTEGER)");
    let r = run(
        &mut s,
        "INSERT INTO u SELECT value FROM generate_series(1, 1000000000000) LIMIT 4",
    );
    assert_eq!(r.affected, Some(4));
}

#[test]
fn a_series_too_long_to_build_is_an_error_naming_the_bound() {
    let (_db, mut s) = session();
    assert_eq!(MAX_SERIES_ROWS, 10_000_000);
    let want = format!("would produce more than {MAX_SERIES_ROWS} rows");
    for sql in [
        "SELECT value FROM generate_series(1, 1000000000000)",
        "SELECT COUNT(*) FROM generate_series(1, 10000001)",
        "SELECT value FROM generate_series(1, 1000000000000) ORDER BY value LIMIT 3",
        "INSERT INTO t (a) SELECT value FROM generate_series(1, 1000000000000)",
        // A LIMIT still waiting after 10,000,000 values: the filter rejects them all.
        "SELECT value FROM generate_series(1, 1000000000000) WHERE value < 0 LIMIT 1",
    ] {
        match s.execute(sql) {
            Err(e) => assert!(e.to_string().contains(&want), "{sql}: {e}"),
            Ok(r) => panic!("{sql}: {} rows", r.rows.len()),
        }
    }
    // At the bound itself it runs.
    let r = run(&mut s, "SELECT COUNT(*) FROM generate_series(1, 10000000)");
    assert_eq!(r.rows[0][0], Value::Int(10_000_000));
    s.execute("ROLLBACK").expect("rollback");
    let r = run(&mut s, "SELECT COUNT(*) FROM t");
    assert_eq!(
        r.rows[0][0],
        Value::Int(5000),
        "the refused INSERT added nothing"
    );
}

#[test]
fn a_full_scan_with_a_limit_reads_only_the_blocks_it_needs() {
    let (_db, mut s) = session();
    let all = run(&mut s, "SELECT /*+ FULL(t) */ a FROM t").stats;
    let blocks = all.get(Stat::TableScanBlocks);
    assert!(blocks > 20, "{blocks} blocks: the table spans many");
    let r = run(&mut s, "SELECT /*+ FULL(t) */ a FROM t LIMIT 3");
    assert_eq!(firsts(&r), vec![1, 2, 3]);
    // The first block holds the first three rows: one block, three rows.
    assert_eq!(r.stats.get(Stat::TableScanBlocks), 1);
    assert_eq!(r.stats.get(Stat::TableScanRows), 3);
    assert_eq!(r.stats.get(Stat::RowsProcessed), 3);
    // A WHERE clause is applied below the limit: rows 4000.. are at the end.
    let r = run(
        &mut s,
        "SELECT /*+ FULL(t) */ a FROM t WHERE b > 4000 LIMIT 2",
    );
    assert_eq!(firsts(&r), vec![4001, 4002]);
    assert!(r.stats.get(Stat::TableScanBlocks) < blocks);
    // LIMIT 0 reads nothing.
    let r = run(&mut s, "SELECT /*+ FULL(t) */ a FROM t LIMIT 0");
    assert!(r.rows.is_empty());
    assert_eq!(r.stats.get(Stat::TableScanRows), 0);
    // Without a limit, or with an aggregate, everything is read as before.
    let r = run(&mut s, "SELECT /*+ FULL(t) */ COUNT(*) FROM t LIMIT 1");
    assert_eq!(r.rows[0][0], Value::Int(5000));
    assert_eq!(r.stats.get(Stat::TableScanBlocks), blocks);
}

#[test]
fn an_index_scan_with_a_limit_fetches_only_the_rows_it_returns() {
    let (_db, mut s) = session();
    // The index delivers the ORDER BY: no sort, and three fetches.
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a, b FROM t WHERE a > 10 ORDER BY a LIMIT 3",
    );
    assert_eq!(firsts(&r), vec![11, 12, 13]);
    assert_eq!(r.stats.get(Stat::TableFetchByRowid), 3);
    assert_eq!(r.stats.get(Stat::SortsMemory), 0);
    // A table term (b is not in the index) rejects odd rows: the walk
    // takes 3 entries (11, 12, 13: one row kept), then 2 more (14, 15: one
    // kept), then 1 (16): six fetches for three rows.
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a FROM t WHERE a > 10 AND b % 2 = 0 LIMIT 3",
    );
    assert_eq!(firsts(&r), vec![12, 14, 16]);
    assert_eq!(r.stats.get(Stat::TableFetchByRowid), 6);
    // Index only: no table visit at all, three entries.
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a FROM t WHERE a >= 4990 LIMIT 3",
    );
    assert_eq!(firsts(&r), vec![4990, 4991, 4992]);
    assert_eq!(r.stats.get(Stat::TableFetchByRowid), 0);
    // IN-list probes stop too, in index order.
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a, b FROM t WHERE a IN (900, 5, 77, 3000) LIMIT 2",
    );
    assert_eq!(firsts(&r), vec![5, 77]);
    assert_eq!(r.stats.get(Stat::TableFetchByRowid), 2);
    // A sort the index cannot avoid needs every row: all are fetched.
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a, b FROM t WHERE a > 4990 ORDER BY b DESC LIMIT 2",
    );
    assert_eq!(firsts(&r), vec![5000, 4999]);
    assert_eq!(r.stats.get(Stat::TableFetchByRowid), 10);
    // Deleted rows are skipped and the walk goes on past them.
    run(&mut s, "DELETE FROM t WHERE a BETWEEN 21 AND 24");
    let r = run(
        &mut s,
        "SELECT /*+ INDEX(t t_a) */ a, b FROM t WHERE a > 20 LIMIT 2",
    );
    assert_eq!(firsts(&r), vec![25, 26]);
}
