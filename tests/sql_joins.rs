//! Multi-table SELECT: joins (comma, INNER, CROSS, LEFT), aliases and
//! qualified names, `t.*`, derived tables, the three join methods forced
//! by hint (same rows, each method's own counters), EXPLAIN of a join, and
//! subqueries in expressions (scalar, EXISTS, IN; correlated or not).
//!
//! The counters asserted are those each method's shape fixes by hand:
//! nested loops descend the inner index once per outer row; a hash join
//! builds on every inner row with a non-NULL key; a merge join sorts both
//! inputs once.

use std::sync::Arc;

use blocklab::stats::Stat;
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error, Session, Value};

use Value::{Int, Null};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn db() -> (Database, Session) {
    let cfg = Config {
        log_file_size: 1 << 22,
        log_files: 3,
        undo_blocks: 256,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let s = db.session();
    (db, s)
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).rows
}

/// `dept` (4 rows) and `emp` (6 rows, one without a department):
///
/// | emp.id | name  | dept | sal |      | dept.id | dname |
/// |--------|-------|------|-----|      |---------|-------|
/// | 1      | alice | 10   | 100 |      | 10      | sales |
/// | 2      | bob   | 10   | 200 |      | 20      | ops   |
/// | 3      | carol | 20   | 300 |      | 30      | dev   |
/// | 4      | dave  | NULL | 400 |      | 40      | NULL  |
/// | 5      | erin  | 20   | 500 |
/// | 6      | frank | 30   | 600 |
fn small() -> (Database, Session) {
    let (db, mut s) = db();
    for sql in [
        "CREATE TABLE dept (id INTEGER PRIMARY KEY, dname TEXT)",
        "CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, dept INTEGER, sal INTEGER)",
        "INSERT INTO dept VALUES (10, 'sales'), (20, 'ops'), (30, 'dev'), (40, NULL)",
        "INSERT INTO emp VALUES (1, 'alice', 10, 100), (2, 'bob', 10, 200), (3, 'carol', 20, 300), \
         (4, 'dave', NULL, 400), (5, 'erin', 20, 500), (6, 'frank', 30, 600)",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    s.commit().unwrap();
    (db, s)
}

#[test]
fn the_join_forms_give_the_same_pairs() {
    let (_db, mut s) = small();
    let want = vec![
        vec![text("alice"), text("sales")],
        vec![text("bob"), text("sales")],
        vec![text("carol"), text("ops")],
        vec![text("erin"), text("ops")],
        vec![text("frank"), text("dev")],
    ];
    for sql in [
        "SELECT e.name, d.dname FROM emp e, dept d WHERE e.dept = d.id ORDER BY e.id",
        "SELECT e.name, d.dname FROM emp AS e JOIN dept AS d ON e.dept = d.id ORDER BY e.id",
        "SELECT e.name, d.dname FROM emp e INNER JOIN dept d ON d.id = e.dept ORDER BY e.id",
        "SELECT name, dname FROM emp CROSS JOIN dept WHERE emp.dept = dept.id ORDER BY emp.id",
        "SELECT e.name, d.dname FROM dept d JOIN emp e ON e.dept = d.id ORDER BY 1",
        "SELECT e.name, d.dname FROM (dept d JOIN emp e ON e.dept = d.id) ORDER BY 1",
    ] {
        assert_eq!(rows(&mut s, sql), want, "{sql}");
    }
}

#[test]
fn a_cross_join_pairs_every_row_and_star_lists_every_column() {
    let (_db, mut s) = small();
    let r = rows(&mut s, "SELECT COUNT(*) FROM emp, dept");
    assert_eq!(r, vec![vec![Int(24)]]);
    let q = s
        .execute("SELECT * FROM dept d, emp e WHERE d.id = 30 AND e.dept = d.id")
        .unwrap();
    assert_eq!(q.columns, ["id", "dname", "id", "name", "dept", "sal"]);
    assert_eq!(
        q.rows,
        vec![vec![
            Int(30),
            text("dev"),
            Int(6),
            text("frank"),
            Int(30),
            Int(600)
        ]]
    );
    let q = s
        .execute("SELECT e.*, d.dname FROM dept d, emp e WHERE d.id = 30 AND e.dept = d.id")
        .unwrap();
    assert_eq!(q.columns, ["id", "name", "dept", "sal", "dname"]);
}

#[test]
fn a_left_join_keeps_unmatched_rows_with_nulls() {
    let (_db, mut s) = small();
    // dave has no department: kept, with NULL for dept's columns.
    let r = rows(
        &mut s,
        "SELECT e.name, d.dname FROM emp e LEFT JOIN dept d ON d.id = e.dept ORDER BY e.id",
    );
    assert_eq!(r[3], vec![text("dave"), Null]);
    assert_eq!(r.len(), 6);
    // The ON condition decides the match; WHERE filters after: a WHERE
    // on the optional side's key finds the unmatched rows (an anti-join).
    let r = rows(
        &mut s,
        "SELECT d.id FROM dept d LEFT OUTER JOIN emp e ON e.dept = d.id WHERE e.id IS NULL",
    );
    assert_eq!(r, vec![vec![Int(40)]]);
    // A condition on the optional side inside ON only narrows the match.
    let r = rows(
        &mut s,
        "SELECT d.id, e.name FROM dept d LEFT JOIN emp e ON e.dept = d.id AND e.sal > 150 \
         ORDER BY d.id, e.name",
    );
    assert_eq!(
        r,
        vec![
            vec![Int(10), text("bob")],
            vec![Int(20), text("carol")],
            vec![Int(20), text("erin")],
            vec![Int(30), text("frank")],
            vec![Int(40), Null],
        ]
    );
}

#[test]
fn nulls_never_join() {
    let (_db, mut s) = small();
    // dept 40's dname is NULL and dave's dept is NULL: no method pairs them.
    for hint in ["USE_NL(d)", "USE_HASH(d)", "USE_MERGE(d)"] {
        let sql = format!(
            "SELECT /*+ LEADING(e d) {hint} */ COUNT(*) FROM emp e, dept d WHERE e.dept = d.id"
        );
        assert_eq!(rows(&mut s, &sql), vec![vec![Int(5)]], "{sql}");
    }
}

#[test]
fn derived_tables_and_grouping_over_a_join() {
    let (_db, mut s) = small();
    let r = rows(
        &mut s,
        "SELECT d.dname, x.n FROM (SELECT dept, COUNT(*) AS n FROM emp GROUP BY dept) x \
         JOIN dept d ON d.id = x.dept ORDER BY x.n DESC, d.dname",
    );
    assert_eq!(
        r,
        vec![
            vec![text("ops"), Int(2)],
            vec![text("sales"), Int(2)],
            vec![text("dev"), Int(1)],
        ]
    );
    let r = rows(
        &mut s,
        "SELECT d.dname, SUM(e.sal) FROM emp e JOIN dept d ON e.dept = d.id \
         GROUP BY d.dname HAVING SUM(e.sal) > 300 ORDER BY 2",
    );
    assert_eq!(
        r,
        vec![vec![text("dev"), Int(600)], vec![text("ops"), Int(800)]]
    );
}

#[test]
fn names_must_be_unambiguous_and_exist() {
    let (_db, mut s) = small();
    let e = s.execute("SELECT id FROM emp, dept").unwrap_err();
    assert!(matches!(e, Error::AmbiguousColumn { .. }), "{e}");
    assert_eq!(e.code(), "ORA-00918");
    // An alias hides the table's name.
    assert!(s.execute("SELECT emp.id FROM emp e, dept d").is_err());
    assert!(s.execute("SELECT x.* FROM emp e").is_err());
    assert!(s
        .execute("SELECT * FROM emp e RIGHT JOIN dept d ON 1 = 1")
        .is_err());
}

#[test]
fn subqueries_correlated_and_not() {
    let (_db, mut s) = small();
    // Scalar, correlated: each employee's department size.
    let r = rows(
        &mut s,
        "SELECT name, (SELECT COUNT(*) FROM emp x WHERE x.dept = emp.dept) FROM emp ORDER BY id",
    );
    let counts: Vec<Value> = r.into_iter().map(|mut r| r.remove(1)).collect();
    assert_eq!(counts, vec![Int(2), Int(2), Int(2), Int(0), Int(2), Int(1)]);
    // Scalar, uncorrelated.
    let r = rows(
        &mut s,
        "SELECT name FROM emp WHERE sal > (SELECT AVG(sal) FROM emp) ORDER BY id",
    );
    assert_eq!(
        r,
        vec![vec![text("dave")], vec![text("erin")], vec![text("frank")]]
    );
    // EXISTS / NOT EXISTS, correlated.
    let r = rows(
        &mut s,
        "SELECT id FROM dept d WHERE NOT EXISTS (SELECT 1 FROM emp WHERE emp.dept = d.id)",
    );
    assert_eq!(r, vec![vec![Int(40)]]);
    let r = rows(
        &mut s,
        "SELECT COUNT(*) FROM dept d WHERE EXISTS (SELECT 1 FROM emp WHERE emp.dept = d.id)",
    );
    assert_eq!(r, vec![vec![Int(3)]]);
    // IN, correlated: employees earning the top salary of their department.
    let r = rows(
        &mut s,
        "SELECT name FROM emp e WHERE sal IN (SELECT MAX(sal) FROM emp x WHERE x.dept = e.dept) \
         ORDER BY id",
    );
    assert_eq!(
        r,
        vec![vec![text("bob")], vec![text("erin")], vec![text("frank")]]
    );
    // NOT IN with a NULL in the list is never true (the standard's rule).
    let r = rows(
        &mut s,
        "SELECT COUNT(*) FROM dept WHERE id NOT IN (SELECT dept FROM emp)",
    );
    assert_eq!(r, vec![vec![Int(0)]]);
    let r = rows(
        &mut s,
        "SELECT id FROM dept WHERE id NOT IN (SELECT dept FROM emp WHERE dept IS NOT NULL)",
    );
    assert_eq!(r, vec![vec![Int(40)]]);
    // More than one row where one value is wanted: ORA-01427.
    let e = s
        .execute("SELECT (SELECT id FROM dept) FROM emp")
        .unwrap_err();
    assert_eq!(e.code(), "ORA-01427");
}

// ANCHOR: methods
/// `dept` of 20 rows and `emp` of 2,000 (ten without a department), an
/// index on `emp.dept`, statistics gathered.
fn big() -> (Database, Session) {
    let (db, mut s) = db();
    for sql in [
        "CREATE TABLE dept (id INTEGER PRIMARY KEY, dname TEXT)",
        "CREATE TABLE emp (id INTEGER PRIMARY KEY, dept INTEGER, sal INTEGER)",
        "CREATE INDEX emp_dept ON emp (dept)",
        "INSERT INTO dept SELECT value, 'd' || value FROM generate_series(1, 20)",
        "INSERT INTO emp SELECT value, CASE WHEN value <= 10 THEN NULL ELSE value % 20 + 1 END, \
         value FROM generate_series(1, 2000)",
        "ANALYZE TABLE dept",
        "ANALYZE TABLE emp",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    s.commit().unwrap();
    (db, s)
}

/// Every method returns the same 496 pairs (departments 1 to 5 hold 100,
/// 99, 99, 99 and 99 employees: `id % 20 + 1`, ids 1 to 10 without one);
/// each is counted by what it does.
#[test]
fn each_join_method_returns_the_same_rows_with_its_own_counters() {
    let (_db, mut s) = big();
    let q = |hint: &str| {
        format!(
            "SELECT /*+ LEADING(d e) FULL(d) {hint} */ d.id, e.id FROM dept d JOIN emp e \
             ON e.dept = d.id WHERE d.id <= 5 ORDER BY 1, 2"
        )
    };
    let nl = s.execute(&q("USE_NL(e) INDEX(e emp_dept)")).unwrap();
    let hash = s.execute(&q("USE_HASH(e) FULL(e)")).unwrap();
    let merge = s.execute(&q("USE_MERGE(e) FULL(e)")).unwrap();
    assert_eq!(nl.rows.len(), 496);
    assert_eq!(nl.rows, hash.rows);
    assert_eq!(nl.rows, merge.rows);

    // Nested loops: one descent of emp_dept per outer row (5 departments).
    assert_eq!(nl.stats.get(Stat::IndexDescents), 5);
    assert_eq!(nl.stats.get(Stat::TableFetchByRowid), 496);
    assert_eq!(nl.stats.get(Stat::HashJoinBuildRows), 0);
    // Hash join: built on the smaller input, the 5 departments; emp read
    // once and streamed through the hash table.
    assert_eq!(hash.stats.get(Stat::IndexDescents), 0);
    assert_eq!(hash.stats.get(Stat::HashJoinBuildRows), 5);
    assert_eq!(hash.stats.get(Stat::TableScanRows), 20 + 2000);
    // Merge join: both inputs sorted once (5 + 1990 rows), plus ORDER BY's.
    assert_eq!(merge.stats.get(Stat::SortsMemory), 3);
    assert_eq!(merge.stats.get(Stat::SortsRows), 5 + 1990 + 496);
}
// ANCHOR_END: methods

#[test]
fn explain_shows_the_order_the_methods_and_the_predicates() {
    let (_db, mut s) = big();
    let sql = "EXPLAIN PLAN FOR SELECT /*+ LEADING(d e x) USE_NL(e) USE_HASH(x) */ d.id \
               FROM dept d, emp e, emp x WHERE e.dept = d.id AND x.id = e.id AND d.id = 3";
    let ex = s.execute(sql).unwrap().explain.unwrap();
    let ops: Vec<String> = ex
        .lines
        .iter()
        .map(|l| format!("{}{}", " ".repeat(l.depth), l.operation))
        .collect();
    // The hash join builds on the smaller input, the nested loops' ~100
    // rows (listed first, as Oracle lists the build input), and x's full
    // scan probes it.
    assert_eq!(ops[1], " HASH JOIN");
    assert_eq!(ops[2], "  NESTED LOOPS");
    assert_eq!(
        ops.last().map(String::as_str),
        Some("  TABLE ACCESS FULL"),
        "{ops:?}"
    );
    assert!(
        ex.lines[1].access.as_deref() == Some("e.id = x.id"),
        "{:?}",
        ex.lines[1]
    );
    let tables: Vec<(u32, u32, String)> = ex
        .plan_table
        .iter()
        .map(|r| (r.planno, r.method, r.tname.to_lowercase()))
        .collect();
    assert_eq!(tables[0], (1, 0, "dept".into()));
    assert_eq!(tables[1], (2, 1, "emp".into()));
    assert_eq!(tables[2], (3, 5, "emp".into()));
    // A hash join needs an equality: the hint is ignored, and said so.
    let ex = s
        .execute("EXPLAIN PLAN FOR SELECT /*+ USE_HASH(e) */ COUNT(*) FROM dept d, emp e WHERE e.dept < d.id")
        .unwrap()
        .explain
        .unwrap();
    assert!(
        ex.notes
            .iter()
            .any(|n| n.starts_with("USE_HASH(e) ignored")),
        "{:?}",
        ex.notes
    );
}

/// A build input larger than the work area spills: both inputs are
/// written to temporary blocks in partitions and each block is read back
/// once (one pass), with the same rows as the in-memory join.
#[test]
fn a_hash_join_larger_than_its_work_area_spills_in_one_pass() {
    let (_db, mut s) = big();
    let sql = "SELECT /*+ LEADING(d e) USE_HASH(e) SWAP_JOIN_INPUTS(e) FULL(e) */ d.id, e.id \
               FROM dept d JOIN emp e ON e.dept = d.id ORDER BY 1, 2";
    let optimal = s.execute(sql).unwrap();
    assert_eq!(optimal.stats.get(Stat::HashJoinBuildRows), 1990);
    assert_eq!(optimal.stats.get(Stat::WorkareaOptimal), 1);
    assert_eq!(optimal.stats.get(Stat::TempWrites), 0);
    s.execute("ALTER SESSION SET HASH_AREA_SIZE = 4096")
        .unwrap();
    let spilled = s.execute(sql).unwrap();
    assert_eq!(spilled.rows, optimal.rows);
    assert_eq!(spilled.stats.get(Stat::WorkareaOnepass), 1);
    assert_eq!(spilled.stats.get(Stat::WorkareaOptimal), 0);
    let written = spilled.stats.get(Stat::TempWrites);
    assert!(written > 0);
    assert_eq!(spilled.stats.get(Stat::TempReads), written);
    // Both sides go through the same partitions, so a LEFT JOIN keeps its
    // unmatched rows when it spills too.
    s.execute("ALTER SESSION SET HASH_AREA_SIZE = 64").unwrap();
    let sql = "SELECT /*+ USE_HASH(d) */ COUNT(*), COUNT(d.id) FROM emp e \
               LEFT JOIN dept d ON d.id = e.dept";
    let r = s.execute(sql).unwrap();
    assert_eq!(r.stats.get(Stat::WorkareaOnepass), 1);
    assert_eq!(r.rows, vec![vec![Int(2000), Int(1990)]]);
}

/// Each SORT JOIN of a merge join shows its own input: the rows it sorts
/// and what reading and sorting them costs (the input's cost plus one
/// cost unit per 100 rows sorted), not the whole join's estimate again;
/// the MERGE JOIN adds the merge of both.
#[test]
fn sort_join_lines_show_their_own_input() {
    let (_db, mut s) = big();
    let ex = s
        .execute(
            "EXPLAIN PLAN FOR SELECT /*+ LEADING(d e) FULL(d) USE_MERGE(e) FULL(e) */ d.id, e.id \
             FROM dept d JOIN emp e ON e.dept = d.id WHERE d.dname = 'd3'",
        )
        .unwrap()
        .explain
        .unwrap();
    let ops: Vec<(&str, u64, u64)> = ex
        .lines
        .iter()
        .map(|l| (l.operation.as_str(), l.rows, l.cost))
        .collect();
    // 0 SELECT, 1 MERGE JOIN, 2 SORT JOIN, 3 dept, 4 SORT JOIN, 5 emp.
    assert_eq!(ops[2].0, "SORT JOIN");
    assert_eq!(ops[4].0, "SORT JOIN");
    // dept: 1 row estimated (20 distinct names); emp: 2,000 rows.
    assert_eq!((ops[2].1, ops[3].1), (1, 1));
    assert_eq!((ops[4].1, ops[5].1), (2000, 2000));
    // Sorting 1 row costs 1 unit on top of the scan; 2,000 rows 20.
    assert_eq!(ops[2].2, ops[3].2 + 1);
    assert_eq!(ops[4].2, ops[5].2 + 20);
    // The merge of 2,001 rows: 21 more.
    assert_eq!(ops[1].2, ops[2].2 + ops[4].2 + 21);
}

/// Found by the SQLite differential test: a spilled hash LEFT JOIN whose
/// matches all fail the WHERE clause must not NULL-extend the outer row
/// (it had matches; the WHERE then drops them all).
#[test]
fn a_spilled_left_join_does_not_null_extend_a_row_whose_matches_where_drops() {
    let (_db, mut s) = db();
    for sql in [
        "CREATE TABLE j0 (id INTEGER PRIMARY KEY, k INTEGER)",
        "CREATE TABLE j2 (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)",
        "INSERT INTO j0 VALUES (0, 0)",
        "INSERT INTO j2 VALUES (0, 0, 0), (1, 0, 0)",
        "ALTER SESSION SET HASH_AREA_SIZE = 64",
    ] {
        s.execute(sql).unwrap();
    }
    for hint in ["USE_HASH(j2)", "USE_NL(j2)"] {
        let sql = format!(
            "SELECT /*+ LEADING(j0 j2) {hint} */ j0.id FROM j0 LEFT JOIN j2 \
             ON j0.k = j2.k AND j2.v > -3 WHERE j2.v IS NULL"
        );
        assert_eq!(rows(&mut s, &sql), Vec::<Vec<Value>>::new(), "{sql}");
    }
}

/// Two outer columns of one type probe one index: each access predicate
/// names the outer column it is given, whatever order the join
/// predicates were written in (they once came out crossed).
#[test]
fn a_nested_loops_probe_names_each_outer_column_it_uses() {
    let (_db, mut s) = db();
    for sql in [
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v INTEGER)",
        "CREATE TABLE b (id INTEGER PRIMARY KEY, v INTEGER)",
        "CREATE TABLE c (id INTEGER PRIMARY KEY, x INTEGER, y INTEGER)",
        "CREATE INDEX c_xy ON c (x, y)",
    ] {
        s.execute(sql).unwrap();
    }
    let ex = s
        .execute(
            "EXPLAIN PLAN FOR SELECT /*+ LEADING(a b c) USE_NL(c) INDEX(c c_xy) */ c.id \
             FROM a, b, c WHERE c.y = b.v AND c.x = a.v",
        )
        .unwrap()
        .explain
        .unwrap();
    let access: Vec<&str> = ex
        .lines
        .iter()
        .filter_map(|l| l.access.as_deref())
        .collect();
    assert_eq!(access, ["x=a.v AND y=b.v"]);
}

/// A derived table is bound once per execution: its uncorrelated
/// subquery runs once (it was run once to plan the derived table and once
/// more to read it), so `u` is scanned once and `t` once.
#[test]
fn a_derived_tables_subquery_runs_once() {
    let (_db, mut s) = small();
    let r = s
        .execute("SELECT COUNT(*) FROM (SELECT id FROM emp WHERE dept IN (SELECT id FROM dept)) x")
        .unwrap();
    assert_eq!(r.rows, vec![vec![Int(5)]]);
    assert_eq!(r.stats.get(Stat::TableScanRows), 6 + 4);
}

/// A hash join builds on the smaller input by the estimates, whichever
/// side it is; `SWAP_JOIN_INPUTS(t)` builds on `t`, `NO_SWAP_JOIN_INPUTS(t)`
/// on the rows joined before it. EXPLAIN lists the build input first.
#[test]
fn a_hash_join_builds_on_the_smaller_input() {
    let (_db, mut s) = big();
    let run = |s: &mut Session, hint: &str| {
        let sql = format!(
            "SELECT /*+ LEADING(e d) FULL(e) USE_HASH(d) {hint} */ COUNT(*) FROM emp e \
             JOIN dept d ON d.id = e.dept"
        );
        let r = s.execute(&sql).unwrap();
        let ex = s
            .execute(&format!("EXPLAIN PLAN FOR {sql}"))
            .unwrap()
            .explain
            .unwrap();
        let first_child = ex.plan_table.len();
        let tables: Vec<String> = ex
            .lines
            .iter()
            .filter(|l| l.operation.starts_with("TABLE ACCESS"))
            .map(|l| l.object.clone().unwrap_or_default().to_lowercase())
            .collect();
        assert_eq!(first_child, 2);
        (r.rows, r.stats.get(Stat::HashJoinBuildRows), tables)
    };
    // dept (20 rows) is the smaller: built on, although joined second.
    let (rows, built, order) = run(&mut s, "");
    assert_eq!(rows, vec![vec![Int(1990)]]);
    assert_eq!(built, 20);
    assert_eq!(order, ["dept", "emp"]);
    // Told to build on the rows so far: emp's 1,990 with a department.
    let (rows2, built, order) = run(&mut s, "NO_SWAP_JOIN_INPUTS(d)");
    assert_eq!(rows2, rows);
    assert_eq!(built, 1990);
    assert_eq!(order, ["emp", "dept"]);
}

/// A LEFT JOIN hash-joined with its build on the preserved side (HASH
/// JOIN OUTER) keeps the build rows no probe row matched, in memory and
/// when it spills; built on the optional side it is HASH JOIN RIGHT OUTER.
/// Both give nested loops' rows.
#[test]
fn a_left_join_built_on_its_preserved_side_keeps_its_unmatched_rows() {
    let (_db, mut s) = big();
    let q = |hint: &str| {
        format!(
            "SELECT /*+ LEADING(d e) {hint} */ d.id, COUNT(e.id) FROM dept d LEFT JOIN emp e \
             ON e.dept = d.id AND e.sal < 600 GROUP BY d.id ORDER BY 1"
        )
    };
    let nl = rows(&mut s, &q("USE_NL(e)"));
    assert_eq!(nl.len(), 20);
    assert_eq!(nl[0], vec![Int(1), Int(29)]);
    for hint in [
        "USE_HASH(e) NO_SWAP_JOIN_INPUTS(e)",
        "USE_HASH(e) SWAP_JOIN_INPUTS(e)",
    ] {
        assert_eq!(rows(&mut s, &q(hint)), nl, "{hint}");
        s.execute("ALTER SESSION SET HASH_AREA_SIZE = 64").unwrap();
        let r = s.execute(&q(hint)).unwrap();
        assert_eq!(r.stats.get(Stat::WorkareaOnepass), 1, "{hint}");
        assert_eq!(r.rows, nl, "{hint} spilled");
        s.execute("ALTER SESSION SET HASH_AREA_SIZE = 1048576")
            .unwrap();
        let ex = s
            .execute(&format!("EXPLAIN PLAN FOR {}", q(hint)))
            .unwrap()
            .explain
            .unwrap();
        let want = if hint.contains("NO_SWAP") {
            "HASH JOIN OUTER"
        } else {
            "HASH JOIN RIGHT OUTER"
        };
        assert!(
            ex.lines.iter().any(|l| l.operation == want),
            "{hint}: {:?}",
            ex.lines
        );
    }
}

/// A merge join whose first input comes from an index on the join key
/// does not sort it (one SORT JOIN, for the second input only), and its
/// rows stream into the merge; the rows are those of a full sort.
#[test]
fn a_merge_join_skips_the_sort_of_an_input_in_key_order() {
    let (_db, mut s) = big();
    let q = |access: &str| {
        format!(
            "SELECT /*+ LEADING(e d) {access} USE_MERGE(d) FULL(d) */ e.id, d.id FROM emp e \
             JOIN dept d ON d.id = e.dept WHERE e.dept <= 3"
        )
    };
    let sorted = s.execute(&q("INDEX(e emp_dept)")).unwrap();
    let full = s.execute(&q("FULL(e)")).unwrap();
    let mut a = sorted.rows.clone();
    let mut b = full.rows.clone();
    a.sort_by_key(|r| format!("{r:?}"));
    b.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(a.len(), 298);
    assert_eq!(a, b);
    // dept sorted (20 rows); emp's 298 rows arrive sorted by emp_dept.
    assert_eq!(sorted.stats.get(Stat::SortsMemory), 1);
    assert_eq!(sorted.stats.get(Stat::SortsRows), 20);
    assert_eq!(full.stats.get(Stat::SortsMemory), 2);
    assert_eq!(full.stats.get(Stat::SortsRows), 20 + 298);
    let ex = s
        .execute(&format!("EXPLAIN PLAN FOR {}", q("INDEX(e emp_dept)")))
        .unwrap()
        .explain
        .unwrap();
    let sort_joins = ex
        .lines
        .iter()
        .filter(|l| l.operation == "SORT JOIN")
        .count();
    assert_eq!(sort_joins, 1, "{:?}", ex.lines);
    assert_eq!(ex.plan_table[1].sortc_join, "N");
    assert_eq!(ex.plan_table[1].sortn_join, "Y");
}

/// The join is a tree of operators pulling rows: a LIMIT that has its
/// rows stops the first table's full scan after the block that held them.
#[test]
fn a_limit_stops_the_scan_under_a_join() {
    let (_db, mut s) = big();
    let q = |limit: &str| {
        format!(
            "SELECT /*+ LEADING(e d) FULL(e) USE_NL(d) */ e.id FROM emp e \
             JOIN dept d ON d.id = e.dept {limit}"
        )
    };
    let all = s.execute(&q("")).unwrap();
    let three = s.execute(&q("LIMIT 3")).unwrap();
    assert_eq!(all.rows.len(), 1990);
    assert_eq!(three.rows, all.rows[..3].to_vec());
    // emp's first block holds ids 1 to 13: ten without a department, then
    // the three rows; each of the 3 probes dept (20 rows, one block, read
    // by a full scan), while a NULL department probes nothing (`d.id =
    // NULL` is never true, so the probe's scan reads no block). The whole
    // join reads every block of emp, and dept once per row with a
    // department.
    let emp_blocks = all.stats.get(Stat::TableScanBlocks) - 1990;
    assert!(emp_blocks > 1);
    assert_eq!(three.stats.get(Stat::TableScanBlocks), 1 + 3);
}

/// A derived table read as a join's leaf is its own query block's tree,
/// pulled row by row: a LIMIT met early stops its scan too.
#[test]
fn a_derived_table_streams_into_its_join() {
    let (_db, mut s) = big();
    let q = |limit: &str| {
        format!(
            "SELECT /*+ LEADING(x d) USE_NL(d) */ x.id, d.dname FROM \
             (SELECT id, dept FROM emp WHERE sal > 0) x JOIN dept d ON d.id = x.dept {limit}"
        )
    };
    let all = s.execute(&q("")).unwrap();
    let two = s.execute(&q("LIMIT 2")).unwrap();
    assert_eq!(all.rows.len(), 1990);
    assert_eq!(two.rows, all.rows[..2].to_vec());
    // Streamed: emp's rows 1 to 12 taken (ids 1 to 10 have no
    // department, and a NULL key probes nothing; 11 and 12 are the two
    // rows), each of those two probing dept's 20 rows by full scan. Read
    // whole, it would be emp's 2,000 rows first.
    assert_eq!(two.stats.get(Stat::TableScanRows), 12 + 2 * 20);
    assert_eq!(all.stats.get(Stat::TableScanRows), 2000 + 1990 * 20);
}

/// Hash and merge costs count their work areas: a build (or a sort) larger
/// than its area adds the temporary blocks it writes and reads back, one
/// cost unit each way. By hand: dept's 20 rows as joined rows take 23
/// bytes each (2 + its 2 columns × 9 + emp's 3 × 1), 460 bytes, 1 block;
/// emp's 2,000 take 31 each, 62,000 bytes, 8 blocks; so a spill adds
/// 2 × (1 + 8) = 18 to the hash join, and both sorts spilling add 2 × 1 +
/// 2 × 8 = 18 to the merge join.
#[test]
fn hash_and_merge_costs_count_their_work_areas() {
    let (_db, mut s) = big();
    let cost = |s: &mut Session, method: &str| {
        let sql = format!(
            "EXPLAIN PLAN FOR SELECT /*+ LEADING(d e) FULL(d) FULL(e) {method}(e) */ COUNT(*) \
             FROM dept d JOIN emp e ON e.dept = d.id"
        );
        let ex = s.execute(&sql).unwrap().explain.unwrap();
        ex.lines
            .iter()
            .find(|l| l.operation.contains("JOIN"))
            .map(|l| l.cost)
            .unwrap()
    };
    let (hash, merge) = (cost(&mut s, "USE_HASH"), cost(&mut s, "USE_MERGE"));
    s.execute("ALTER SESSION SET HASH_AREA_SIZE = 64").unwrap();
    s.execute("ALTER SESSION SET SORT_AREA_SIZE = 64").unwrap();
    assert_eq!(cost(&mut s, "USE_HASH"), hash + 18);
    assert_eq!(cost(&mut s, "USE_MERGE"), merge + 18);
}
