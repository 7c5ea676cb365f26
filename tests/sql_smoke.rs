use blocklab::{Config, Database, Value};

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c FLOAT)",
        "INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', NULL), (3, NULL, 3.0)",
        "CREATE INDEX t_b ON t (b)",
        "INSERT INTO t SELECT value + 10, 'r' || value, value * 1.5 FROM generate_series(1, 100)",
    ] {
        let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        println!("{sql}: {:?}", r.message);
    }
    for sql in [
        "SELECT * FROM t WHERE a < 5 ORDER BY a DESC",
        "SELECT COUNT(*), SUM(a), MIN(b), MAX(c), AVG(a) FROM t",
        "SELECT b, COUNT(*) FROM t WHERE a < 4 GROUP BY b ORDER BY 1",
        "SELECT a FROM t WHERE a IN (SELECT a FROM t WHERE a > 105) ORDER BY a",
        "EXPLAIN SELECT a, b FROM t WHERE b LIKE 'r1%' AND c > 2",
        "ANALYZE TABLE t",
        "EXPLAIN SELECT a, b FROM t WHERE a BETWEEN 10 AND 20",
        "EXPLAIN SELECT /*+ FULL(t) */ a, b FROM t WHERE a BETWEEN 10 AND 20",
        "UPDATE t SET c = c + 1 WHERE a = 1",
        "DELETE FROM t WHERE b IS NULL",
        "SELECT * FROM t WHERE a <= 3",
        "ALTER TABLE t ADD COLUMN d INTEGER",
        "SELECT * FROM t WHERE a <= 3",
        "ALTER TABLE t DROP COLUMN c",
        "SELECT * FROM t WHERE a <= 3",
        "SELECT 1 + 2 * 3, 'a' || 'b', 7 / 2, 7 / 0",
    ] {
        match s.execute(sql) {
            Ok(r) => {
                println!("{sql}\n  {:?}", r.columns);
                for row in &r.rows {
                    println!("  {row:?}");
                }
                if let Some(e) = &r.explain {
                    println!("{}", e.render());
                    println!("{:?}", e.plan_table);
                }
                println!("  {:?}", r.message);
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    let r = s.execute("SELECT a FROM t WHERE a = ?");
    assert!(r.is_err());
    let r = s
        .execute_with("SELECT a FROM t WHERE a = ?", &[Value::Int(2)])
        .unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(2)]]);
}
