//! `rows processed` means what AUTOTRACE means by it: for a query, the rows
//! returned to the client (one for `SELECT COUNT(*)`, however many rows
//! were read); for DML, the rows affected; for the typed API, the rows a
//! call returns or changes.

use std::sync::Arc;

use blocklab::access::{CmpOp, Pred};
use blocklab::operators::Access;
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Stat, Value};

fn session() -> (Database, Session) {
    let cfg = Config {
        block_size: 8192,
        cache_frames: 256,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (a INTEGER, b INTEGER)",
        "INSERT INTO t SELECT value, value % 10 FROM generate_series(1, 1000)",
        "CREATE INDEX t_a ON t (a)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

fn rows_processed(s: &mut Session, sql: &str) -> u64 {
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    r.stats.get(Stat::RowsProcessed)
}

#[test]
fn a_query_counts_the_rows_it_returns() {
    let (_db, mut s) = session();
    assert_eq!(rows_processed(&mut s, "SELECT COUNT(*) FROM t"), 1);
    assert_eq!(
        rows_processed(&mut s, "SELECT COUNT(*) FROM t WHERE b = 3"),
        1
    );
    assert_eq!(
        rows_processed(&mut s, "SELECT b, COUNT(*) FROM t GROUP BY b"),
        10
    );
    assert_eq!(rows_processed(&mut s, "SELECT DISTINCT b FROM t"), 10);
    assert_eq!(rows_processed(&mut s, "SELECT a FROM t WHERE a <= 25"), 25);
    assert_eq!(
        rows_processed(&mut s, "SELECT a FROM t ORDER BY a DESC LIMIT 7"),
        7
    );
    assert_eq!(rows_processed(&mut s, "SELECT a FROM t WHERE a > 5000"), 0);
    assert_eq!(rows_processed(&mut s, "SELECT 1"), 1);
}

#[test]
fn dml_counts_the_rows_it_changes() {
    let (_db, mut s) = session();
    assert_eq!(
        rows_processed(&mut s, "UPDATE t SET b = 0 WHERE a <= 40"),
        40
    );
    assert_eq!(rows_processed(&mut s, "DELETE FROM t WHERE a > 990"), 10);
    assert_eq!(
        rows_processed(
            &mut s,
            "INSERT INTO t SELECT a + 5000, b FROM t WHERE a <= 12"
        ),
        12
    );
    assert_eq!(
        rows_processed(&mut s, "INSERT INTO t VALUES (1, 1), (2, 2)"),
        2
    );
}

#[test]
fn a_typed_query_counts_the_rows_it_returns() {
    let (_db, mut s) = session();
    let before = s.stats();
    let pred = Pred::Cmp {
        col: 1,
        op: CmpOp::Eq,
        value: Value::Int(3),
    };
    let r = s.query("t", &pred, Access::Full).unwrap();
    assert_eq!(r.rows.len(), 100);
    assert_eq!(s.stats().diff(&before).get(Stat::RowsProcessed), 100);
}
