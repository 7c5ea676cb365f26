//! Compound SELECT: `UNION`, `UNION ALL`, `INTERSECT`, `EXCEPT` (and
//! Oracle's `MINUS`), left-associative, with ORDER BY / LIMIT / OFFSET on
//! the whole; at top level, after INSERT and inside `IN (…)`. Exact rows,
//! exact sort counters, and Oracle's plan shapes.

use blocklab::{Config, Database, Session, Stat, Value};

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    (dir, db)
}

fn run(s: &mut Session, sql: &str) -> blocklab::SqlResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A fresh database with `t` and `u` loaded (see `load`), and a session.
fn loaded() -> (tempfile::TempDir, Database, Session) {
    let (dir, db) = db();
    let mut s = db.session();
    load(&mut s);
    (dir, db, s)
}

/// t: (1,'x') (2,'y') (2,'y') (3,NULL) (NULL,NULL) (NULL,NULL)
/// u: (2,'y') (3,NULL) (4,'z') (NULL,NULL)
fn load(s: &mut Session) {
    for sql in [
        "CREATE TABLE t (a INTEGER, b TEXT)",
        "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (2, 'y'), (3, NULL), (NULL, NULL), (NULL, NULL)",
        "CREATE TABLE u (c INTEGER, d TEXT)",
        "INSERT INTO u VALUES (2, 'y'), (3, NULL), (4, 'z'), (NULL, NULL)",
        "COMMIT",
    ] {
        run(s, sql);
    }
}

/// Rows as text, NULL as "-", so a whole answer fits one assertion.
fn rows(s: &mut Session, sql: &str) -> Vec<String> {
    run(s, sql)
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Null => "-".to_string(),
                    Value::Text(t) => t.clone(),
                    v => v.to_string(),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[test]
fn union_removes_duplicates_and_union_all_keeps_them() {
    let (_d, _db, mut s) = loaded();
    // UNION ALL: every row of each arm, arm by arm.
    assert_eq!(
        rows(&mut s, "SELECT a, b FROM t UNION ALL SELECT c, d FROM u"),
        vec!["1,x", "2,y", "2,y", "3,-", "-,-", "-,-", "2,y", "3,-", "4,z", "-,-"]
    );
    // UNION: one of each, out of the SORT UNIQUE in ascending order (NULLs
    // last, as Oracle sorts them); the four (NULL, NULL) rows are one.
    assert_eq!(
        rows(&mut s, "SELECT a, b FROM t UNION SELECT c, d FROM u"),
        vec!["1,x", "2,y", "3,-", "4,z", "-,-"]
    );
    // The heading is the first arm's.
    let r = run(&mut s, "SELECT a AS k, b FROM t UNION SELECT c, d FROM u");
    assert_eq!(r.columns, vec!["k".to_string(), "b".to_string()]);
    // A wildcard is as many columns as the table has.
    assert_eq!(
        rows(&mut s, "SELECT * FROM u UNION SELECT * FROM u").len(),
        4
    );
}

#[test]
fn nulls_are_equal_when_duplicates_are_removed() {
    let (_d, db) = db();
    let mut s = db.session();
    assert_eq!(rows(&mut s, "SELECT NULL UNION SELECT NULL"), vec!["-"]);
    assert_eq!(
        rows(&mut s, "SELECT NULL, 1 INTERSECT SELECT NULL, 1"),
        vec!["-,1"]
    );
    assert!(rows(&mut s, "SELECT NULL EXCEPT SELECT NULL").is_empty());
    // 1 and 1.0 are one number.
    assert_eq!(rows(&mut s, "SELECT 1 UNION SELECT 1.0").len(), 1);
}

#[test]
fn intersect_except_and_minus() {
    let (_d, _db, mut s) = loaded();
    assert_eq!(
        rows(&mut s, "SELECT a, b FROM t INTERSECT SELECT c, d FROM u"),
        vec!["2,y", "3,-", "-,-"]
    );
    assert_eq!(
        rows(&mut s, "SELECT a, b FROM t EXCEPT SELECT c, d FROM u"),
        vec!["1,x"]
    );
    assert_eq!(
        rows(&mut s, "SELECT c, d FROM u MINUS SELECT a, b FROM t"),
        vec!["4,z"]
    );
}

#[test]
fn set_operators_apply_left_to_right() {
    let (_d, db) = db();
    let mut s = db.session();
    // (1 ∪all 1) ∪ 2: the UNION removes the duplicate the UNION ALL made.
    assert_eq!(
        rows(&mut s, "SELECT 1 UNION ALL SELECT 1 UNION SELECT 2"),
        vec!["1", "2"]
    );
    // (1 ∪ 1) ∪all 1: the last arm is appended after the UNION.
    assert_eq!(
        rows(&mut s, "SELECT 1 UNION SELECT 1 UNION ALL SELECT 1"),
        vec!["1", "1"]
    );
    // (1 ∪ 2) − 1 ∪ 3 = {2} ∪ {3}; INTERSECT has no higher precedence here.
    assert_eq!(
        rows(
            &mut s,
            "SELECT 1 UNION SELECT 2 EXCEPT SELECT 1 UNION SELECT 3"
        ),
        vec!["2", "3"]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT 1 UNION SELECT 2 INTERSECT SELECT 2 UNION SELECT 3"
        ),
        vec!["2", "3"]
    );
}

#[test]
fn arms_with_different_column_counts_are_ora_01789() {
    let (_d, _db, mut s) = loaded();
    for sql in [
        "SELECT a, b FROM t UNION SELECT c FROM u",
        "SELECT a FROM t UNION ALL SELECT c FROM u INTERSECT SELECT 1, 2",
        "SELECT a FROM t WHERE a IN (SELECT c FROM u UNION SELECT 1, 2)",
    ] {
        let e = s.execute(sql).expect_err(sql);
        assert_eq!(e.code(), "ORA-01789", "{sql}: {e}");
    }
}

#[test]
fn order_by_sorts_the_whole_by_position_or_first_arm_name() {
    let (_d, _db, mut s) = loaded();
    // By the first arm's alias, descending: NULL is the largest value.
    assert_eq!(
        rows(
            &mut s,
            "SELECT a AS k, b FROM t UNION SELECT c, d FROM u ORDER BY k DESC"
        ),
        vec!["-,-", "4,z", "3,-", "2,y", "1,x"]
    );
    // By position; rows equal on the key keep the SORT UNIQUE's order.
    assert_eq!(
        rows(
            &mut s,
            "SELECT a, b FROM t UNION SELECT c, d FROM u ORDER BY 2"
        ),
        vec!["1,x", "2,y", "4,z", "3,-", "-,-"]
    );
    // By a column name of the first arm, on a UNION ALL.
    assert_eq!(
        rows(
            &mut s,
            "SELECT a FROM t UNION ALL SELECT c FROM u ORDER BY a NULLS FIRST"
        ),
        vec!["-", "-", "-", "1", "2", "2", "2", "3", "3", "4"]
    );
    // A key that is no column of the result.
    let e = s
        .execute("SELECT a FROM t UNION SELECT c FROM u ORDER BY zz")
        .expect_err("no such result column");
    assert_eq!(e.code(), "ORA-01785", "{e}");
    let e = s
        .execute("SELECT a FROM t UNION SELECT c FROM u ORDER BY 2")
        .expect_err("position out of range");
    assert_eq!(e.code(), "ORA-01785", "{e}");
}

#[test]
fn limit_and_offset_cut_the_whole() {
    let (_d, _db, mut s) = loaded();
    // 1 2 2 2 3 3 4 - - -: skip one, keep three.
    assert_eq!(
        rows(
            &mut s,
            "SELECT a FROM t UNION ALL SELECT c FROM u ORDER BY 1 LIMIT 3 OFFSET 1"
        ),
        vec!["2", "2", "2"]
    );
    assert_eq!(
        rows(&mut s, "SELECT a FROM t UNION SELECT c FROM u LIMIT 2"),
        vec!["1", "2"]
    );
}

#[test]
fn compound_in_an_in_subquery_and_after_insert() {
    let (_d, _db, mut s) = loaded();
    assert_eq!(
        rows(
            &mut s,
            "SELECT a, b FROM t WHERE a IN (SELECT c FROM u WHERE c > 3 UNION SELECT 1) ORDER BY a"
        ),
        vec!["1,x"]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT c FROM u WHERE c NOT IN (SELECT a FROM t WHERE a IS NOT NULL EXCEPT SELECT 3)"
        ),
        vec!["3", "4"]
    );
    run(&mut s, "CREATE TABLE w (k INTEGER, v TEXT)");
    let r = run(
        &mut s,
        "INSERT INTO w SELECT a, b FROM t UNION SELECT c, d FROM u",
    );
    assert_eq!(r.affected, Some(5));
    assert_eq!(
        rows(&mut s, "SELECT k, v FROM w ORDER BY k"),
        vec!["1,x", "2,y", "3,-", "4,z", "-,-"]
    );
}

/// The duplicate removal is a sort, counted as Oracle counts a SORT UNIQUE:
/// one sort of every input row for a UNION, one sort per input for
/// INTERSECT and MINUS; UNION ALL sorts nothing.
#[test]
fn duplicate_removal_is_a_counted_sort() {
    let (_d, _db, mut s) = loaded();
    let sorts = |s: &mut Session, sql: &str| {
        let before = s.stats();
        run(s, sql);
        let d = s.stats().diff(&before);
        (d.get(Stat::SortsMemory), d.get(Stat::SortsRows))
    };
    assert_eq!(
        sorts(&mut s, "SELECT a FROM t UNION ALL SELECT c FROM u"),
        (0, 0)
    );
    // 6 + 4 rows in one SORT UNIQUE.
    assert_eq!(
        sorts(&mut s, "SELECT a FROM t UNION SELECT c FROM u"),
        (1, 10)
    );
    // The ORDER BY rides on the SORT UNIQUE: still one sort.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT a FROM t UNION SELECT c FROM u ORDER BY 1 DESC"
        ),
        (1, 10)
    );
    // A UNION ALL's ORDER BY is its own sort.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT a FROM t UNION ALL SELECT c FROM u ORDER BY 1"
        ),
        (1, 10)
    );
    // A SORT UNIQUE under each input: 6 rows, then 4.
    assert_eq!(
        sorts(&mut s, "SELECT a FROM t INTERSECT SELECT c FROM u"),
        (2, 10)
    );
    assert_eq!(
        sorts(&mut s, "SELECT a FROM t EXCEPT SELECT c FROM u"),
        (2, 10)
    );
    // Three UNION arms are one SORT UNIQUE over one UNION-ALL.
    assert_eq!(
        sorts(
            &mut s,
            "SELECT a FROM t UNION SELECT c FROM u UNION SELECT 7"
        ),
        (1, 11)
    );
}

/// (operation, depth) of every plan line.
fn shape(s: &mut Session, sql: &str) -> Vec<(String, usize)> {
    run(s, sql)
        .explain
        .unwrap()
        .lines
        .iter()
        .map(|l| (l.operation.clone(), l.depth))
        .collect()
}

fn lines(v: &[(&str, usize)]) -> Vec<(String, usize)> {
    v.iter().map(|(o, d)| (o.to_string(), *d)).collect()
}

#[test]
fn explain_shows_oracles_set_operation_shapes() {
    let (_d, _db, mut s) = loaded();
    assert_eq!(
        shape(&mut s, "EXPLAIN SELECT a FROM t UNION ALL SELECT c FROM u"),
        lines(&[
            ("SELECT STATEMENT", 0),
            ("UNION-ALL", 1),
            ("TABLE ACCESS FULL", 2),
            ("TABLE ACCESS FULL", 2),
        ])
    );
    assert_eq!(
        shape(
            &mut s,
            "EXPLAIN SELECT a FROM t UNION SELECT c FROM u UNION SELECT a FROM t"
        ),
        lines(&[
            ("SELECT STATEMENT", 0),
            ("SORT UNIQUE", 1),
            ("UNION-ALL", 2),
            ("TABLE ACCESS FULL", 3),
            ("TABLE ACCESS FULL", 3),
            ("TABLE ACCESS FULL", 3),
        ])
    );
    for (op, name) in [("INTERSECT", "INTERSECTION"), ("EXCEPT", "MINUS")] {
        assert_eq!(
            shape(
                &mut s,
                &format!("EXPLAIN SELECT a FROM t {op} SELECT DISTINCT c FROM u WHERE c > 1")
            ),
            lines(&[
                ("SELECT STATEMENT", 0),
                (name, 1),
                ("SORT UNIQUE", 2),
                ("TABLE ACCESS FULL", 3),
                ("SORT UNIQUE", 2),
                ("HASH UNIQUE", 3),
                ("TABLE ACCESS FULL", 4),
            ])
        );
    }
    // A UNION ALL's ORDER BY and LIMIT sit above it.
    assert_eq!(
        shape(
            &mut s,
            "EXPLAIN SELECT a FROM t UNION ALL SELECT c FROM u ORDER BY 1 LIMIT 2"
        ),
        lines(&[
            ("SELECT STATEMENT", 0),
            ("COUNT STOPKEY", 1),
            ("SORT ORDER BY", 2),
            ("UNION-ALL", 3),
            ("TABLE ACCESS FULL", 4),
            ("TABLE ACCESS FULL", 4),
        ])
    );
    // Ids are the lines' positions; the predicates stay on their arm.
    let e = run(
        &mut s,
        "EXPLAIN SELECT a FROM t WHERE a = 1 UNION SELECT c FROM u WHERE c = 2",
    )
    .explain
    .unwrap();
    let ids: Vec<usize> = e.lines.iter().map(|l| l.id).collect();
    assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    assert_eq!(e.lines[3].filter.as_deref(), Some("a=1"));
    assert_eq!(e.lines[4].filter.as_deref(), Some("c=2"));
    // plan_table: a row per arm, each in its own query block, and the
    // unique sort (METHOD 3, SORTC_UNIQ) after the last arm's.
    let pt: Vec<(u32, u32, u32, &str, &str)> = e
        .plan_table
        .iter()
        .map(|r| {
            (
                r.qblockno,
                r.planno,
                r.method,
                r.tname.as_str(),
                r.sortc_uniq.as_str(),
            )
        })
        .collect();
    assert_eq!(
        pt,
        vec![(1, 1, 0, "T", "N"), (2, 1, 0, "U", "N"), (2, 2, 3, "", "Y")]
    );
}

/// Each arm is its own query block with its own cached access path: the
/// second execution of the text is a soft parse that optimizes nothing and
/// gives the same rows.
#[test]
fn each_arm_keeps_its_access_path_in_the_cursor() {
    let (_d, _db, mut s) = loaded();
    run(&mut s, "CREATE INDEX u_c ON u (c)");
    let sql = "SELECT a FROM t WHERE a > 1 UNION SELECT d FROM u WHERE c = 4";
    let first = rows(&mut s, sql);
    // Numbers sort before text.
    assert_eq!(first, vec!["2", "3", "z"]);
    let before = s.stats();
    assert_eq!(rows(&mut s, sql), first);
    let d = s.stats().diff(&before);
    assert_eq!(d.get(Stat::ParseCountHard), 0);
    let e = run(&mut s, &format!("EXPLAIN {sql}")).explain.unwrap();
    let ops: Vec<&str> = e.lines.iter().map(|l| l.operation.as_str()).collect();
    assert_eq!(
        ops,
        vec![
            "SELECT STATEMENT",
            "SORT UNIQUE",
            "UNION-ALL",
            "TABLE ACCESS FULL",
            "TABLE ACCESS BY INDEX ROWID",
            "INDEX RANGE SCAN",
        ]
    );
    assert_eq!(e.lines[5].depth, 4, "the index line under its table line");
}

/// A compound's rows wait in memory until the client fetches them (a SORT
/// UNIQUE needs them all; a UNION ALL is built arm by arm): a fetch call
/// gets no block again, whatever the array size, unlike a full scan whose
/// rows stream to the client.
#[test]
fn a_compound_is_fetched_from_memory() {
    let (_d, _db, mut s) = loaded();
    let gets = |s: &mut Session, fetch: usize| {
        s.set_fetch_size(fetch);
        let before = s.stats();
        run(s, "SELECT a FROM t UNION ALL SELECT c FROM u");
        let d = s.stats().diff(&before);
        (d.get(Stat::ConsistentGets), d.get(Stat::FetchCalls))
    };
    let (one_by_one, calls) = gets(&mut s, 1);
    let (all_at_once, _) = gets(&mut s, 100);
    assert_eq!(calls, 11, "10 rows, one a call, and the empty last call");
    assert_eq!(one_by_one, all_at_once);
}

/// A compound is a tree of operators pulling rows: a LIMIT met by the
/// first arm of a UNION ALL never asks the second, whose table is not
/// read (one block of `t`, two of its rows, none of `u`); without the
/// LIMIT both are.
#[test]
fn a_limit_met_by_the_first_arm_does_not_read_the_second() {
    let (_d, _db, mut s) = loaded();
    let all = run(&mut s, "SELECT a FROM t UNION ALL SELECT c FROM u");
    assert_eq!(all.rows.len(), 10);
    assert_eq!(all.stats.get(Stat::TableScanBlocks), 2);
    let two = run(&mut s, "SELECT a FROM t UNION ALL SELECT c FROM u LIMIT 2");
    assert_eq!(
        rows(&mut s, "SELECT a FROM t UNION ALL SELECT c FROM u LIMIT 2"),
        ["1", "2"]
    );
    // The first arm's full scan streams too: it stops at its second row.
    assert_eq!(two.stats.get(Stat::TableScanBlocks), 1);
    assert_eq!(two.stats.get(Stat::TableScanRows), 2);
    // Past the first arm's six rows, the second is read.
    let eight = run(&mut s, "SELECT a FROM t UNION ALL SELECT c FROM u LIMIT 8");
    assert_eq!(eight.stats.get(Stat::TableScanBlocks), 2);
}
