//! The SQL front door through the library API: statement forms, the
//! optimizer's choices, EXPLAIN, and the counters the claims rest on
//! (parse counts C11, function calls C24, sorts C26), all exact.

use blocklab::{Config, Database, Error, Stat, Value};

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    (dir, db)
}

fn run(s: &mut blocklab::Session, sql: &str) -> blocklab::SqlResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn ints(r: &blocklab::SqlResult) -> Vec<Vec<i64>> {
    r.rows
        .iter()
        .map(|row| row.iter().map(|v| v.as_int().unwrap_or(i64::MIN)).collect())
        .collect()
}

/// 2,000 rows: a = 1..2000, b = a % 10, c = a % 7, d = 'x' || a; index (b, c).
fn load(s: &mut blocklab::Session) {
    run(
        s,
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d TEXT)",
    );
    run(
        s,
        "INSERT INTO t SELECT value, value % 10, value % 7, 'x' || value FROM generate_series(1, 2000)",
    );
    run(s, "CREATE INDEX t_bc ON t (b, c)");
    run(s, "COMMIT");
    run(s, "ANALYZE TABLE t");
}

#[test]
fn statement_forms_and_null_logic() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE, score REAL CHECK (score >= 0))");
    run(
        &mut s,
        "CREATE TABLE c (id INT PRIMARY KEY, pid INT REFERENCES p(id))",
    );
    let r = run(
        &mut s,
        "INSERT INTO p VALUES (1, 'ann', 1.5), (2, 'bob', NULL), (3, 'cy', 7)",
    );
    assert_eq!(r.affected, Some(3));
    run(&mut s, "INSERT INTO c (id, pid) VALUES (10, 1), (11, NULL)");
    run(&mut s, "COMMIT");
    // Constraint errors carry Oracle's codes; the session goes on.
    for (sql, code) in [
        ("INSERT INTO p VALUES (1, 'dup', 0)", "ORA-00001"),
        ("INSERT INTO p VALUES (4, 'ann', 0)", "ORA-00001"),
        ("INSERT INTO p VALUES (4, 'neg', -1)", "ORA-02290"),
        ("INSERT INTO p VALUES (4, NULL, 1)", "ORA-01400"),
        ("INSERT INTO c VALUES (12, 99)", "ORA-02291"),
        ("SELECT nope FROM p", "ORA-00904"),
        ("SELECT * FROM nope", "ORA-00942"),
        ("SELEC 1", "ORA-00900"),
        // Before, every one of these was ORA-00904 or ORA-00900.
        ("SELECT id FROM p extra words", "ORA-00933"),
        ("SELECT id FROM p WHERE", "ORA-00936"),
        ("SELECT (id FROM p", "ORA-00907"),
        ("SELECT 'abc", "ORA-01756"),
        ("SELECT name + 1 FROM p", "ORA-01722"),
        ("SELECT ABS(name) FROM p", "ORA-01722"),
        ("SELECT frob(id) FROM p", "ORA-00904"),
        ("SELECT SUBSTR(name) FROM p", "ORA-00909"),
        ("SELECT id FROM p WHERE SUM(id) > 1", "ORA-00934"),
        ("SELECT id FROM p ORDER BY 5", "ORA-01785"),
        ("SELECT (SELECT id, name FROM p) FROM p", "ORA-00913"),
        ("DROP TABLE p", "ORA-02449"),
        (
            "SELECT p.id FROM p RIGHT JOIN c ON c.pid = p.id",
            "ORA-03001",
        ),
        ("SELECT id FROM p AS OF SCN -1", "ORA-08181"),
    ] {
        match s.execute(sql) {
            Err(e) => assert_eq!(e.code(), code, "{sql}: {e}"),
            Ok(_) => panic!("{sql} should fail"),
        }
    }
    // Three-valued logic: NULL score is neither > 1 nor NOT > 1.
    let r = run(&mut s, "SELECT id FROM p WHERE score > 1 ORDER BY id");
    assert_eq!(ints(&r), vec![vec![1], vec![3]]);
    let r = run(&mut s, "SELECT id FROM p WHERE NOT (score > 1) ORDER BY id");
    assert_eq!(ints(&r), Vec::<Vec<i64>>::new());
    let r = run(&mut s, "SELECT id FROM p WHERE score IS NULL OR id IN (SELECT pid FROM c WHERE pid IS NOT NULL) ORDER BY 1 DESC");
    assert_eq!(ints(&r), vec![vec![2], vec![1]]);
    let r = run(
        &mut s,
        "SELECT name || '!' AS n, id * 2 + 1 FROM p WHERE name LIKE '_o%'",
    );
    assert_eq!(r.columns, vec!["n".to_string(), "id * 2 + 1".to_string()]);
    assert_eq!(r.rows, vec![vec![Value::from("bob!"), Value::Int(5)]]);
    let r = run(
        &mut s,
        "SELECT COUNT(*), COUNT(score), SUM(id), MIN(name), MAX(score), AVG(id) FROM p",
    );
    assert_eq!(
        r.rows[0],
        vec![
            Value::Int(3),
            Value::Int(2),
            Value::Int(6),
            Value::from("ann"),
            Value::Real(7.0),
            Value::Real(2.0)
        ]
    );
    let r = run(
        &mut s,
        "UPDATE p SET score = score + 1 WHERE score BETWEEN 1 AND 2",
    );
    assert_eq!(r.affected, Some(1));
    run(&mut s, "ROLLBACK");
    let r = run(&mut s, "SELECT score FROM p WHERE id = 1");
    assert_eq!(r.rows, vec![vec![Value::Real(1.5)]]);
    let r = run(&mut s, "DELETE FROM c WHERE pid IS NULL");
    assert_eq!(r.affected, Some(1));
    run(&mut s, "ALTER TABLE c ADD COLUMN note TEXT");
    run(&mut s, "INSERT INTO c VALUES (13, 2, 'hi')");
    let r = run(&mut s, "SELECT * FROM c ORDER BY id");
    assert_eq!(r.columns, vec!["id", "pid", "note"]);
    assert_eq!(r.rows.len(), 2);
    run(&mut s, "ALTER TABLE c DROP COLUMN note");
    let r = run(&mut s, "SELECT * FROM c ORDER BY id LIMIT 1");
    assert_eq!(r.rows, vec![vec![Value::Int(10), Value::Int(1)]]);
    // Dropping a referenced parent is refused; the child first.
    assert!(s.execute("DROP TABLE p").is_err());
    run(&mut s, "DROP TABLE c");
    run(&mut s, "DROP TABLE p");
    run(&mut s, "DROP TABLE IF EXISTS p");
}

#[test]
fn group_by_having_distinct_limit() {
    let (_d, db) = db();
    let mut s = db.session();
    load(&mut s);
    let r = run(
        &mut s,
        "SELECT b, COUNT(*) AS n, SUM(a) FROM t WHERE a <= 100 GROUP BY b HAVING COUNT(*) >= 10 ORDER BY b DESC LIMIT 3",
    );
    assert_eq!(
        ints(&r),
        vec![vec![9, 10, 540], vec![8, 10, 530], vec![7, 10, 520]]
    );
    let r = run(
        &mut s,
        "SELECT DISTINCT c FROM t WHERE a < 20 ORDER BY c LIMIT 10 OFFSET 5",
    );
    assert_eq!(ints(&r), vec![vec![5], vec![6]]);
}

// ANCHOR: parse_counts
#[test]
fn parse_counts_and_array_execution() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE k (id INTEGER, v TEXT)");
    // Literals: every statement text is new, so every parse is hard.
    let before = s.stats();
    for i in 0..10 {
        run(&mut s, &format!("INSERT INTO k VALUES ({i}, 'v')"));
    }
    let d = s.stats().diff(&before);
    assert_eq!(d.get(Stat::ParseCountTotal), 10);
    assert_eq!(d.get(Stat::ParseCountHard), 10);
    // A parse call and an execute call each.
    assert_eq!(d.get(Stat::UserCalls), 20);
    // Binds: one hard parse, then soft ones.
    let before = s.stats();
    for i in 10..20 {
        s.execute_with(
            "INSERT INTO k VALUES (?, :v)",
            &[Value::Int(i), Value::from("w")],
        )
        .unwrap();
    }
    let d = s.stats().diff(&before);
    assert_eq!(d.get(Stat::ParseCountTotal), 10);
    assert_eq!(d.get(Stat::ParseCountHard), 1);
    // Prepared + array: no parse at execution, one call for 100 rows.
    let p = s.prepare("INSERT INTO k VALUES (?, ?)").unwrap();
    let rows: Vec<Vec<Value>> = (20..120)
        .map(|i| vec![Value::Int(i), Value::from("a")])
        .collect();
    let before = s.stats();
    let r = s.execute_array(&p, &rows).unwrap();
    let d = s.stats().diff(&before);
    assert_eq!(r.affected, Some(100));
    assert_eq!(d.get(Stat::ParseCountTotal), 0);
    assert_eq!(d.get(Stat::UserCalls), 1);
    assert_eq!(d.get(Stat::ExecuteCount), 1);
    let r = run(&mut s, "SELECT COUNT(*) FROM k");
    assert_eq!(ints(&r), vec![vec![120]]);
    assert!(matches!(
        s.execute_with("SELECT * FROM k WHERE id = ?", &[]),
        Err(Error::Sql(_))
    ));
}
// ANCHOR_END: parse_counts

// ANCHOR: c24_test
#[test]
fn user_function_calls_per_plan() {
    let (_d, db) = db();
    db.register_function("f", |v: &[Value]| Ok(v[0].clone()));
    let mut s = db.session();
    load(&mut s);
    let calls =
        |s: &mut blocklab::Session, sql: &str| run(s, sql).stats.get(Stat::UserFunctionCalls);
    // Full scan: once per table row.
    assert_eq!(
        calls(&mut s, "SELECT /*+ FULL(t) */ a FROM t WHERE f(a) = 5"),
        2000
    );
    // Other predicates filter first: once per row that survives b = 3.
    assert_eq!(
        calls(
            &mut s,
            "SELECT /*+ FULL(t) */ a FROM t WHERE b = 3 AND f(a) = 5"
        ),
        200
    );
    // Through the index on b: once per fetched row.
    assert_eq!(
        calls(
            &mut s,
            "SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = 3 AND f(a) = 5"
        ),
        200
    );
    // Supplying the value of a matching `=`: once per statement.
    assert_eq!(
        calls(
            &mut s,
            "SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = f(3)"
        ),
        1
    );
}
// ANCHOR_END: c24_test

// ANCHOR: c26_test
#[test]
fn sort_avoidance_and_in_list() {
    let (_d, db) = db();
    let mut s = db.session();
    load(&mut s);
    let sorts = |s: &mut blocklab::Session, sql: &str| {
        let r = run(s, sql);
        (
            r.stats.get(Stat::SortsMemory),
            r.stats.get(Stat::SortsRows),
            r.rows.len(),
        )
    };
    // = on b, ORDER BY c: the index delivers the order.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b = 3 ORDER BY c"
        ),
        (0, 0, 200)
    );
    // IN-list on b: one ordered run per value, so a sort is needed again.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b IN (3, 4) ORDER BY c"
        ),
        (1, 400, 400)
    );
    // Full scan: always a sort.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT /*+ FULL(t) */ a, c FROM t WHERE b = 3 ORDER BY c"
        ),
        (1, 200, 200)
    );
    // The sorted and unsorted plans return the same rows in the same order
    // of c (ties broken differently, so compare c only).
    let a = run(
        &mut s,
        "SELECT /*+ INDEX(t t_bc) */ c FROM t WHERE b = 3 ORDER BY c",
    );
    let b = run(
        &mut s,
        "SELECT /*+ FULL(t) */ c FROM t WHERE b = 3 ORDER BY c",
    );
    assert_eq!(a.rows, b.rows);
}
// ANCHOR_END: c26_test

// ANCHOR: explain_test
#[test]
fn explain_separates_matching_screening_and_filters() {
    let (_d, db) = db();
    let mut s = db.session();
    load(&mut s);
    let r = run(
        &mut s,
        "EXPLAIN SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = 3 AND c > 1 AND d LIKE 'x1%'",
    );
    let e = r.explain.unwrap();
    let ops: Vec<&str> = e.lines.iter().map(|l| l.operation.as_str()).collect();
    assert_eq!(
        ops,
        vec![
            "SELECT STATEMENT",
            "TABLE ACCESS BY INDEX ROWID",
            "INDEX RANGE SCAN"
        ]
    );
    let ix = &e.lines[2];
    assert_eq!(ix.matchcols, Some(2));
    assert_eq!(ix.access.as_deref(), Some("b=3 AND c>1"));
    assert_eq!(ix.screening, None);
    assert_eq!(e.lines[1].filter.as_deref(), Some("d LIKE 'x1%'"));
    let row = &e.plan_table[0];
    assert_eq!(
        (
            row.accesstype.as_str(),
            row.matchcols,
            row.accessname.as_str(),
            row.indexonly.as_str()
        ),
        ("I", 2, "T_BC", "N")
    );
    // Screening: c without b.
    let e = run(
        &mut s,
        "EXPLAIN SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE c = 2",
    )
    .explain
    .unwrap();
    let ix = e.lines.last().unwrap();
    assert_eq!(
        (ix.matchcols, ix.screening.as_deref()),
        (Some(0), Some("c=2"))
    );
    // Index-only and IN-list.
    let e = run(
        &mut s,
        "EXPLAIN SELECT b, c FROM t WHERE b IN (1, 2) AND c = 3",
    )
    .explain
    .unwrap();
    let ops: Vec<&str> = e.lines.iter().map(|l| l.operation.as_str()).collect();
    assert_eq!(
        ops,
        vec!["SELECT STATEMENT", "INLIST ITERATOR", "INDEX RANGE SCAN"]
    );
    assert_eq!(e.plan_table[0].accesstype, "N");
    assert_eq!(e.plan_table[0].indexonly, "Y");
    // The plan EXPLAIN shows is the plan that runs: same gets either way.
    let hinted = run(&mut s, "SELECT b, c FROM t WHERE b IN (1, 2) AND c = 3");
    assert_eq!(hinted.rows.len(), 57);
    assert_eq!(hinted.stats.get(Stat::TableFetchByRowid), 0);
}
// ANCHOR_END: explain_test

#[test]
fn cost_based_choice_follows_selectivity() {
    let (_d, db) = db();
    let mut s = db.session();
    load(&mut s);
    run(&mut s, "CREATE INDEX t_d ON t (d)");
    run(&mut s, "ANALYZE TABLE t");
    let plan = |s: &mut blocklab::Session, sql: &str| {
        let e = run(s, &format!("EXPLAIN {sql}")).explain.unwrap();
        e.lines.last().unwrap().operation.clone()
    };
    // One row by primary key: the index.
    assert_eq!(
        plan(&mut s, "SELECT d FROM t WHERE a = 7"),
        "INDEX RANGE SCAN"
    );
    // Every row: the full scan.
    assert_eq!(
        plan(&mut s, "SELECT d FROM t WHERE a > 0"),
        "TABLE ACCESS FULL"
    );
    // Hints win.
    assert_eq!(
        plan(&mut s, "SELECT /*+ FULL(t) */ d FROM t WHERE a = 7"),
        "TABLE ACCESS FULL"
    );
    assert_eq!(
        plan(
            &mut s,
            "SELECT /*+ NUM_INDEX_KEYS(t t_bc 1) */ a FROM t WHERE b = 1 AND c = 1"
        ),
        "INDEX RANGE SCAN"
    );
}

#[test]
fn flashback_query_as_of_scn() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE f (id INTEGER, v INTEGER)");
    run(&mut s, "INSERT INTO f VALUES (1, 10)");
    run(&mut s, "COMMIT");
    let scn = s.snapshot().scn.0;
    run(&mut s, "UPDATE f SET v = 20 WHERE id = 1");
    run(&mut s, "COMMIT");
    let now = run(&mut s, "SELECT v FROM f");
    assert_eq!(ints(&now), vec![vec![20]]);
    let then = run(&mut s, &format!("SELECT v FROM f AS OF SCN {scn}"));
    assert_eq!(ints(&then), vec![vec![10]]);
}

/// The two-session snapshot-too-old demonstration (tests/scripts), run
/// statement by statement through the library: the reporter's second read
/// fails with ORA-01555, and a new transaction reads again.
// ANCHOR: sto_api
#[test]
fn snapshot_too_old_script_through_the_api() {
    let script = std::fs::read_to_string("tests/scripts/snapshot_too_old.sql").unwrap();
    let mut cfg = Config::default();
    cfg.apply_script_header(&script).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg).unwrap();
    let mut main = db.session();
    let mut rep = db.session();
    run(
        &mut main,
        "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)",
    );
    run(
        &mut main,
        "INSERT INTO acct SELECT value, 100 FROM generate_series(1, 1000)",
    );
    run(&mut main, "COMMIT");
    run(&mut rep, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
    let first = run(&mut rep, "SELECT COUNT(*), SUM(balance) FROM acct");
    assert_eq!(ints(&first), vec![vec![1000, 100_000]]);
    for _ in 0..10 {
        run(&mut main, "UPDATE acct SET balance = balance + 1");
        run(&mut main, "COMMIT");
    }
    match rep.execute("SELECT COUNT(*), SUM(balance) FROM acct") {
        Err(e @ Error::SnapshotTooOld { .. }) => assert_eq!(e.code(), "ORA-01555"),
        other => panic!("expected snapshot too old, got {:?}", other.map(|r| r.rows)),
    }
    run(&mut rep, "ROLLBACK");
    let again = run(&mut rep, "SELECT COUNT(*), SUM(balance) FROM acct");
    assert_eq!(ints(&again), vec![vec![1000, 110_000]]);
}
// ANCHOR_END: sto_api

#[test]
fn session_user_is_settable_and_visible() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "SET SESSION USER partner");
    assert_eq!(s.user(), "partner");
    let r = run(&mut s, "SELECT USER(), CURRENT_USER() FROM dual");
    assert_eq!(
        r.rows,
        vec![vec![Value::from("partner"), Value::from("partner")]]
    );
}

#[test]
fn flashback_table_to_scn() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE f (id INTEGER PRIMARY KEY, v INTEGER)");
    run(
        &mut s,
        "INSERT INTO f SELECT value, value * 10 FROM generate_series(1, 5)",
    );
    run(&mut s, "COMMIT");
    let scn = ints(&run(&mut s, "SELECT CURRENT_SCN() FROM dual"))[0][0];
    run(&mut s, "UPDATE f SET v = 0 WHERE id <= 2");
    run(&mut s, "DELETE FROM f WHERE id = 5");
    run(&mut s, "INSERT INTO f VALUES (6, 60), (7, 70)");
    run(&mut s, "COMMIT");
    let r = run(&mut s, &format!("FLASHBACK TABLE f TO SCN {scn}"));
    assert_eq!(
        r.message.as_deref(),
        Some("Flashback complete: 1 rows inserted, 2 updated, 2 deleted.")
    );
    let rows = run(&mut s, "SELECT id, v FROM f ORDER BY id");
    assert_eq!(
        ints(&rows),
        vec![
            vec![1, 10],
            vec![2, 20],
            vec![3, 30],
            vec![4, 40],
            vec![5, 50]
        ]
    );
    // The primary key index followed: a lookup through it finds row 5 again.
    let r = run(&mut s, "SELECT /*+ INDEX(f f_pk) */ v FROM f WHERE id = 5");
    assert_eq!(ints(&r), vec![vec![50]]);
    // Across DDL it refuses.
    run(&mut s, "ALTER TABLE f ADD COLUMN w INTEGER");
    assert!(s
        .execute(&format!("FLASHBACK TABLE f TO SCN {scn}"))
        .is_err());
}

#[test]
fn batched_rowid_access_visits_each_table_block_once() {
    let (_d, db) = db();
    let mut s = db.session();
    load(&mut s);
    // b is scattered over the table: consecutive index entries point into
    // different blocks.
    let plain = run(&mut s, "SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = 3");
    let batched = run(
        &mut s,
        "SELECT /*+ INDEX(t t_bc) BATCH_TABLE_ACCESS_BY_ROWID(t) */ a FROM t WHERE b = 3",
    );
    let mut x = ints(&plain);
    let mut y = ints(&batched);
    x.sort();
    y.sort();
    assert_eq!(x, y);
    let visits = |r: &blocklab::SqlResult| r.stats.get(Stat::TableBlockGetsByRowid);
    let blocks = run(&mut s, "SELECT COUNT(*) FROM t")
        .stats
        .get(Stat::TableScanBlocks);
    assert!(
        visits(&batched) <= blocks,
        "{} > {blocks}",
        visits(&batched)
    );
    assert!(visits(&batched) < visits(&plain));
    let e = run(
        &mut s,
        "EXPLAIN SELECT /*+ INDEX(t t_bc) BATCH_TABLE_ACCESS_BY_ROWID(t) */ a FROM t WHERE b = 3",
    )
    .explain
    .unwrap();
    assert_eq!(e.lines[1].operation, "TABLE ACCESS BY INDEX ROWID BATCHED");
    assert_eq!(e.plan_table[0].prefetch, "L");
}

/// A row with the wrong number of values is Oracle's ORA-00947 (not
/// enough values) or ORA-00913 (too many), through SQL and through the
/// typed API alike; before, SQL answered ORA-00904 (invalid identifier)
/// and the typed API ORA-01400 (cannot insert NULL).
#[test]
fn a_wrong_value_count_is_not_enough_or_too_many_values() {
    let (_dir, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE v (a INTEGER, b INTEGER)");
    let code = |r: blocklab::Result<blocklab::SqlResult>| r.map(|_| ()).unwrap_err().code();
    assert_eq!(code(s.execute("INSERT INTO v VALUES (1)")), "ORA-00947");
    assert_eq!(
        code(s.execute("INSERT INTO v VALUES (1, 2, 3)")),
        "ORA-00913"
    );
    assert_eq!(
        code(s.execute("INSERT INTO v (a) VALUES (1, 2)")),
        "ORA-00913"
    );
    let typed = s.insert("v", vec![Value::Int(1)]).unwrap_err();
    assert_eq!(typed.code(), "ORA-00947");
    assert!(typed.to_string().contains("not enough values"), "{typed}");
}

/// Equalities on every column of a primary key find at most one row, and
/// EXPLAIN says so even for a table never analyzed (before: 500 rows, the
/// default selectivity of an equality, and a cost of 43).
#[test]
fn a_primary_key_equality_is_estimated_at_one_row_without_statistics() {
    let (_d, db) = db();
    let mut s = db.session();
    run(&mut s, "CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER)");
    run(
        &mut s,
        "INSERT INTO k SELECT value, value FROM generate_series(1, 100)",
    );
    let e = run(&mut s, "EXPLAIN SELECT v FROM k WHERE id = 5")
        .explain
        .unwrap();
    let rows: Vec<u64> = e.lines.iter().map(|l| l.rows).collect();
    assert_eq!(rows, vec![1, 1, 1]);
    // BLEVEL 1 (the default without statistics) + the leaf + one table block.
    assert_eq!(e.lines[0].cost, 3);
    // A non-key column keeps the default selectivity.
    let e = run(&mut s, "EXPLAIN SELECT v FROM k WHERE v = 5")
        .explain
        .unwrap();
    assert_eq!(e.lines[0].rows, 500);
}
