//! EXPLAIN's row estimate for a GROUP BY: the groups the gathered
//! statistics predict (the product of the grouped columns' distinct values,
//! one more for a column holding NULLs, at most the rows that reach the
//! grouping), as Oracle estimates a HASH GROUP BY; the input's rows when
//! there are no statistics or a group key is an expression.

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session};

/// `t`: 2,000 rows; `b` has 10 distinct values, `c` 7 and NULL on every
/// 5th row, `k` 2,000.
fn db() -> (Database, Session) {
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (k INTEGER, b INTEGER, c INTEGER)",
        "INSERT INTO t SELECT value, value % 10, CASE WHEN value % 5 = 0 THEN NULL ELSE value % 7 END \
         FROM generate_series(1, 2000)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

/// (operation, estimated rows) of each line of the plan of `sql`.
fn lines(s: &mut Session, sql: &str) -> Vec<(String, u64)> {
    let e = s
        .execute(&format!("EXPLAIN {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .explain
        .unwrap();
    e.lines
        .iter()
        .map(|l| (l.operation.clone(), l.rows))
        .collect()
}

fn group_rows(s: &mut Session, sql: &str) -> u64 {
    let l = lines(s, sql);
    l.iter()
        .find(|(op, _)| op == "HASH GROUP BY")
        .unwrap_or_else(|| panic!("{sql}: no HASH GROUP BY in {l:?}"))
        .1
}

#[test]
fn a_group_by_is_estimated_from_the_columns_distinct_values() {
    let (_db, mut s) = db();
    // Without statistics: the input's rows (the default estimate).
    let before = group_rows(&mut s, "SELECT b, COUNT(*) FROM t GROUP BY b");
    let input = lines(&mut s, "SELECT b FROM t")[0].1;
    assert_eq!(before, input);
    s.execute("ANALYZE TABLE t").unwrap();
    let sql = "SELECT b, COUNT(*) FROM t GROUP BY b";
    assert_eq!(group_rows(&mut s, sql), 10);
    assert_eq!(lines(&mut s, sql)[0], ("SELECT STATEMENT".to_string(), 10));
    // NULL is a group of its own: 7 values + NULL.
    assert_eq!(
        group_rows(&mut s, "SELECT c, COUNT(*) FROM t GROUP BY c"),
        8
    );
    // Two columns: the product (the columns are taken as independent).
    assert_eq!(group_rows(&mut s, "SELECT b, c FROM t GROUP BY b, c"), 80);
    // Never more than the rows that reach the grouping.
    let filtered = "SELECT k, b FROM t WHERE k <= 20 GROUP BY k, b";
    let reach = lines(&mut s, "SELECT k, b FROM t WHERE k <= 20")[0].1;
    assert!(reach < 2000 * 10, "{reach}");
    assert_eq!(group_rows(&mut s, filtered), reach);
    // An expression: its distinct values are unknown, so the input's rows.
    let all = lines(&mut s, "SELECT b FROM t")[0].1;
    assert_eq!(
        group_rows(&mut s, "SELECT b + 1 FROM t GROUP BY b + 1"),
        all
    );
    // And the answer itself is unchanged: 10 groups.
    assert_eq!(s.execute(sql).unwrap().rows.len(), 10);
}
