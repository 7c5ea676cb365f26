//! IN lists as index probes: duplicates and NULLs dropped, one probe per
//! distinct value, visited in index order, and a 100,000-value list planned
//! and run in O(n log n) (counted in `access::tests`; timed by hand with
//! `cargo run --release --example in_list`).

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Value};

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
    for sql in [
        "CREATE TABLE t (a INTEGER, b INTEGER)",
        "INSERT INTO t SELECT value, value FROM generate_series(1, 2000)",
        "CREATE INDEX t_a ON t (a)",
        "CREATE INDEX t_b ON t (b DESC)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

fn ints(s: &mut Session, sql: &str) -> Vec<i64> {
    s.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
        .iter()
        .map(|r| r[0].as_int().expect("an integer"))
        .collect()
}

#[test]
fn probes_are_distinct_and_follow_the_index_order() {
    let (_db, mut s) = session();
    // (3.0 is the integer 3; a non-integral value would make the whole IN
    // a filter, not probes.)
    let list = "7, 3, NULL, 7, 1999, 3.0, 5, 3";
    // No ORDER BY: the rows come in probe order, which is index order.
    assert_eq!(
        ints(
            &mut s,
            &format!("SELECT /*+ INDEX(t t_a) */ a FROM t WHERE a IN ({list})")
        ),
        vec![3, 5, 7, 1999]
    );
    assert_eq!(
        ints(
            &mut s,
            &format!("SELECT /*+ INDEX(t t_b) */ b FROM t WHERE b IN ({list})")
        ),
        vec![1999, 7, 5, 3]
    );
    // The plan shows the list as written, and one probe per distinct value.
    let r = s
        .execute(&format!(
            "EXPLAIN SELECT /*+ INDEX(t t_a) */ a FROM t WHERE a IN ({})",
            "4, 2, 4, 1"
        ))
        .expect("explain");
    let e = r.explain.expect("a plan");
    assert!(
        e.lines
            .iter()
            .any(|l| l.operation.contains("INLIST ITERATOR")),
        "{e:?}"
    );
    assert_eq!(e.plan_table[0].accesstype, "N");
}

#[test]
fn a_100000_value_list_finds_exactly_its_rows() {
    let (_db, mut s) = session();
    // 100,000 values, each twice, descending: 1,000 of them are in t.
    let list = (1..=100_000i64)
        .rev()
        .flat_map(|v| [v * 2, v * 2])
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let got = ints(
        &mut s,
        &format!("SELECT /*+ INDEX(t t_a) */ a FROM t WHERE a IN ({list})"),
    );
    assert_eq!(got, (1..=1000).map(|v| v * 2).collect::<Vec<_>>());
    let r = s
        .execute(&format!("SELECT COUNT(*) FROM t WHERE a IN ({list})"))
        .expect("count");
    assert_eq!(r.rows[0][0], Value::Int(1000));
}
