//! The expression forms of a single-table SELECT beyond comparisons and
//! arithmetic: CASE (simple and searched), CAST, NULLIF, COALESCE and
//! IFNULL, unary `+` and `-`, `SELECT ALL`, aggregates over ALL or
//! DISTINCT values, GROUP BY and ORDER BY on expressions, HAVING on
//! aggregates the select list does not show, and the grouping rule
//! (ORA-00937 / ORA-00979) that stops a query from answering with an
//! arbitrary row's value.
//!
//! Each test states the exact rows, NULL cases included. CAST converts as
//! SQLite does (sql/func.rs says why); the rest follows the SQL standard,
//! on which Oracle and SQLite agree.

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error, Session, Value};

use Value::{Int, Null, Real};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// A fresh in-memory database with `emp`:
///
/// | name  | dept | sal  |
/// |-------|------|------|
/// | alice | 10   | 100  |
/// | bob   | 10   | 200  |
/// | carol | 20   | 300  |
/// | dave  | NULL | NULL |
/// | erin  | 20   | 300  |
fn emp() -> (Database, Session) {
    let cfg = Config {
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 32,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    s.execute("CREATE TABLE emp (name TEXT, dept INTEGER, sal INTEGER)")
        .unwrap();
    s.execute(
        "INSERT INTO emp VALUES ('alice', 10, 100), ('bob', 10, 200), ('carol', 20, 300), \
         ('dave', NULL, NULL), ('erin', 20, 300)",
    )
    .unwrap();
    s.commit().unwrap();
    (db, s)
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).rows
}

/// The single value of a one-row, one-column query.
fn one(s: &mut Session, sql: &str) -> Value {
    let r = rows(s, sql);
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    assert_eq!(r[0].len(), 1, "{sql}: {r:?}");
    r[0][0].clone()
}

fn error(s: &mut Session, sql: &str) -> Error {
    match s.execute(sql) {
        Ok(r) => panic!("{sql} should fail, answered {:?}", r.rows),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// CASE
// ---------------------------------------------------------------------------

#[test]
fn searched_case_takes_the_first_true_branch() {
    let (_db, mut s) = emp();
    let got = rows(
        &mut s,
        "SELECT name, CASE WHEN sal >= 300 THEN 'high' WHEN sal >= 200 THEN 'mid' \
         ELSE 'low' END FROM emp ORDER BY name",
    );
    // dave's sal is NULL: both WHENs are UNKNOWN, so the ELSE.
    assert_eq!(
        got,
        vec![
            vec![text("alice"), text("low")],
            vec![text("bob"), text("mid")],
            vec![text("carol"), text("high")],
            vec![text("dave"), text("low")],
            vec![text("erin"), text("high")],
        ]
    );
}

#[test]
fn case_without_else_is_null_when_no_branch_is_taken() {
    let (_db, mut s) = emp();
    assert_eq!(one(&mut s, "SELECT CASE WHEN 1 = 2 THEN 'x' END"), Null);
    assert_eq!(one(&mut s, "SELECT CASE WHEN NULL THEN 'x' END"), Null);
}

#[test]
fn simple_case_compares_with_equals_so_null_never_matches() {
    let (_db, mut s) = emp();
    let got = rows(
        &mut s,
        "SELECT name, CASE dept WHEN 10 THEN 'ten' WHEN 20 THEN 'twenty' ELSE 'other' END \
         FROM emp ORDER BY name",
    );
    let labels: Vec<Value> = got.into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(
        labels,
        vec![
            text("ten"),
            text("ten"),
            text("twenty"),
            text("other"), // dave: NULL = 10 is UNKNOWN, not TRUE
            text("twenty"),
        ]
    );
    // `CASE NULL WHEN NULL`: NULL = NULL is UNKNOWN, so the ELSE.
    assert_eq!(
        one(&mut s, "SELECT CASE NULL WHEN NULL THEN 1 ELSE 0 END"),
        Int(0)
    );
    // A simple CASE compares numbers by value: 1 = 1.0.
    assert_eq!(
        one(&mut s, "SELECT CASE 1 WHEN 1.0 THEN 'y' END"),
        text("y")
    );
}

#[test]
fn case_evaluates_only_the_branch_it_takes() {
    let (_db, mut s) = emp();
    // The ELSE would be arithmetic on text, an error if it were evaluated.
    assert_eq!(
        one(&mut s, "SELECT CASE WHEN 1 = 1 THEN 7 ELSE 'x' + 1 END"),
        Int(7)
    );
}

#[test]
fn case_filters_and_nests() {
    let (_db, mut s) = emp();
    let got = rows(
        &mut s,
        "SELECT name FROM emp WHERE CASE WHEN dept = 10 THEN sal > 150 ELSE sal > 0 END \
         ORDER BY 1",
    );
    assert_eq!(
        got,
        vec![vec![text("bob")], vec![text("carol")], vec![text("erin")]]
    );
    assert_eq!(
        one(
            &mut s,
            "SELECT CASE WHEN 1 = 1 THEN CASE 2 WHEN 2 THEN 'in' END ELSE 'out' END"
        ),
        text("in")
    );
}

#[test]
fn case_without_when_is_a_syntax_error() {
    let (_db, mut s) = emp();
    let e = error(&mut s, "SELECT CASE 1 ELSE 2 END");
    // Oracle's ORA-00905 "missing keyword": the WHEN.
    assert_eq!(e.code(), "ORA-00905", "{e}");
}

// ---------------------------------------------------------------------------
// CAST
// ---------------------------------------------------------------------------

#[test]
fn cast_to_integer_truncates_and_reads_a_text_prefix() {
    let (_db, mut s) = emp();
    assert_eq!(one(&mut s, "SELECT CAST(7.9 AS INTEGER)"), Int(7));
    assert_eq!(one(&mut s, "SELECT CAST(-7.9 AS INT)"), Int(-7));
    assert_eq!(one(&mut s, "SELECT CAST('12abc' AS INTEGER)"), Int(12));
    assert_eq!(one(&mut s, "SELECT CAST('  -3.5' AS INTEGER)"), Int(-3));
    assert_eq!(one(&mut s, "SELECT CAST('abc' AS INTEGER)"), Int(0));
    assert_eq!(one(&mut s, "SELECT CAST(NULL AS INTEGER)"), Null);
    // Saturates at the INTEGER range, as SQLite does.
    assert_eq!(
        one(&mut s, "SELECT CAST('99999999999999999999' AS BIGINT)"),
        Int(i64::MAX)
    );
    assert_eq!(one(&mut s, "SELECT CAST(1e30 AS INTEGER)"), Int(i64::MAX));
}

#[test]
fn cast_to_real_text_and_numeric() {
    let (_db, mut s) = emp();
    assert_eq!(one(&mut s, "SELECT CAST(3 AS REAL)"), Real(3.0));
    assert_eq!(one(&mut s, "SELECT CAST('2.5e1x' AS REAL)"), Real(25.0));
    assert_eq!(one(&mut s, "SELECT CAST('x' AS FLOAT)"), Real(0.0));
    assert_eq!(one(&mut s, "SELECT CAST(42 AS TEXT)"), text("42"));
    assert_eq!(one(&mut s, "SELECT CAST(42 AS VARCHAR(10))"), text("42"));
    assert_eq!(one(&mut s, "SELECT CAST(NULL AS TEXT)"), Null);
    assert_eq!(one(&mut s, "SELECT CAST('17' AS NUMERIC)"), Int(17));
    assert_eq!(
        one(&mut s, "SELECT CAST('1.5' AS DECIMAL(10, 2))"),
        Real(1.5)
    );
    assert_eq!(one(&mut s, "SELECT CAST(4.0 AS NUMERIC)"), Int(4));
    assert_eq!(
        one(
            &mut s,
            "SELECT CAST(sal AS REAL) / 8 FROM emp WHERE name = 'alice'"
        ),
        Real(12.5)
    );
}

#[test]
fn cast_to_a_name_that_is_no_type_is_ora_00902() {
    let (_db, mut s) = emp();
    let e = error(&mut s, "SELECT CAST(1 AS banana)");
    assert!(
        matches!(&e, Error::InvalidDatatype { name } if name == "banana"),
        "{e:?}"
    );
    assert_eq!(e.code(), "ORA-00902");
}

// ---------------------------------------------------------------------------
// NULLIF, COALESCE, IFNULL
// ---------------------------------------------------------------------------

#[test]
fn nullif_is_null_only_when_its_arguments_are_equal() {
    let (_db, mut s) = emp();
    assert_eq!(one(&mut s, "SELECT NULLIF(1, 1)"), Null);
    assert_eq!(one(&mut s, "SELECT NULLIF(1, 2)"), Int(1));
    assert_eq!(one(&mut s, "SELECT NULLIF(1, NULL)"), Int(1));
    assert_eq!(one(&mut s, "SELECT NULLIF(NULL, 1)"), Null);
    assert_eq!(one(&mut s, "SELECT NULLIF(2, 2.0)"), Null);
    // The classic use: no division by zero.
    assert_eq!(one(&mut s, "SELECT 10 / NULLIF(0, 0)"), Null);
}

#[test]
fn coalesce_takes_any_number_of_arguments_ifnull_two() {
    let (_db, mut s) = emp();
    assert_eq!(
        one(&mut s, "SELECT COALESCE(NULL, NULL, NULL, 4, 5)"),
        Int(4)
    );
    assert_eq!(one(&mut s, "SELECT COALESCE(NULL, NULL)"), Null);
    assert_eq!(one(&mut s, "SELECT IFNULL(NULL, 'x')"), text("x"));
    assert_eq!(
        one(
            &mut s,
            "SELECT COALESCE(sal, dept, -1) FROM emp WHERE name = 'dave'"
        ),
        Int(-1)
    );
    let e = error(&mut s, "SELECT COALESCE(1)");
    assert!(e.to_string().contains("COALESCE"), "{e}");
    let e = error(&mut s, "SELECT IFNULL(1, 2, 3)");
    assert!(e.to_string().contains("NVL"), "{e}");
}

// ---------------------------------------------------------------------------
// Unary operators, SELECT ALL, aggregates over ALL / DISTINCT
// ---------------------------------------------------------------------------

#[test]
fn unary_plus_is_the_value_and_minus_negates_any_expression() {
    let (_db, mut s) = emp();
    assert_eq!(
        one(&mut s, "SELECT + sal FROM emp WHERE name = 'bob'"),
        Int(200)
    );
    assert_eq!(
        one(&mut s, "SELECT - (sal + + 1) FROM emp WHERE name = 'bob'"),
        Int(-201)
    );
    assert_eq!(one(&mut s, "SELECT - - 3"), Int(3));
    assert_eq!(
        one(&mut s, "SELECT - CASE WHEN 1 = 1 THEN 2.5 END"),
        Real(-2.5)
    );
    assert_eq!(one(&mut s, "SELECT - NULL"), Null);
}

#[test]
fn select_all_keeps_duplicates_and_aggregates_take_all_or_distinct() {
    let (_db, mut s) = emp();
    assert_eq!(rows(&mut s, "SELECT ALL dept FROM emp").len(), 5);
    assert_eq!(rows(&mut s, "SELECT DISTINCT dept FROM emp").len(), 3); // 10, 20, NULL
    let got = rows(
        &mut s,
        "SELECT COUNT(ALL sal), COUNT(DISTINCT sal), SUM(ALL sal), SUM(DISTINCT sal), \
         AVG(DISTINCT sal), COUNT(*) FROM emp",
    );
    // sal: 100, 200, 300, NULL, 300. NULL is skipped by all but COUNT(*).
    assert_eq!(
        got,
        vec![vec![
            Int(4),
            Int(3),
            Int(900),
            Int(600),
            Real(200.0),
            Int(5)
        ]]
    );
}

// ---------------------------------------------------------------------------
// GROUP BY, ORDER BY and HAVING on expressions
// ---------------------------------------------------------------------------

#[test]
fn group_by_an_expression_and_select_it() {
    let (_db, mut s) = emp();
    let got = rows(
        &mut s,
        "SELECT sal / 200, COUNT(*) FROM emp GROUP BY sal / 200 ORDER BY 1",
    );
    // 100/200 = 0; 200/200 = 1; 300/200 = 1 twice; NULL. NULLs sort last.
    assert_eq!(
        got,
        vec![
            vec![Int(0), Int(1)],
            vec![Int(1), Int(3)],
            vec![Null, Int(1)],
        ]
    );
    // An expression over a grouped expression is one value per group.
    let got = rows(
        &mut s,
        "SELECT CASE WHEN dept IS NULL THEN 'none' ELSE 'd' || dept END, SUM(sal) \
         FROM emp GROUP BY dept ORDER BY 2",
    );
    assert_eq!(
        got,
        vec![
            vec![text("d10"), Int(300)],
            vec![text("d20"), Int(600)],
            vec![text("none"), Null],
        ]
    );
}

#[test]
fn order_by_an_expression_position_or_alias() {
    let (_db, mut s) = emp();
    let names = |r: Vec<Vec<Value>>| r.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let by_expr = rows(
        &mut s,
        "SELECT name FROM emp WHERE sal IS NOT NULL ORDER BY - sal, name",
    );
    assert_eq!(
        names(by_expr),
        vec![text("carol"), text("erin"), text("bob"), text("alice")]
    );
    let by_alias = rows(
        &mut s,
        "SELECT name, CASE WHEN name = 'bob' THEN 0 ELSE 1 END AS k FROM emp ORDER BY k, 1",
    );
    assert_eq!(
        names(by_alias),
        vec![
            text("bob"),
            text("alice"),
            text("carol"),
            text("dave"),
            text("erin")
        ]
    );
}

#[test]
fn having_filters_on_an_aggregate_the_select_list_does_not_show() {
    let (_db, mut s) = emp();
    let got = rows(
        &mut s,
        "SELECT dept FROM emp GROUP BY dept HAVING MAX(sal) - MIN(sal) > 50 \
         AND COUNT(DISTINCT name) = 2",
    );
    // dept 10: 200 - 100 = 100; dept 20: 0; NULL: NULL (not TRUE).
    assert_eq!(got, vec![vec![Int(10)]]);
}

// ---------------------------------------------------------------------------
// The grouping rule
// ---------------------------------------------------------------------------

#[test]
fn a_bare_column_beside_an_aggregate_is_ora_00937() {
    let (_db, mut s) = emp();
    // Without the rule this answered with the name of some row: no one's
    // salary in particular.
    let e = error(&mut s, "SELECT MAX(sal), name FROM emp");
    assert!(
        matches!(&e, Error::NotSingleGroup { column } if column == "name"),
        "{e:?}"
    );
    assert_eq!(e.code(), "ORA-00937");
    assert_eq!(
        error(&mut s, "SELECT sal + COUNT(*) FROM emp").code(),
        "ORA-00937"
    );
    assert_eq!(
        error(&mut s, "SELECT COUNT(*) FROM emp HAVING sal > 1").code(),
        "ORA-00937"
    );
    assert_eq!(
        error(&mut s, "SELECT COUNT(*) FROM emp ORDER BY name").code(),
        "ORA-00937"
    );
    // Inside the aggregate, or no column at all: fine.
    assert_eq!(
        rows(&mut s, "SELECT MAX(sal) + 1, 'x', COUNT(name) FROM emp"),
        vec![vec![Int(301), text("x"), Int(5)]]
    );
}

#[test]
fn an_ungrouped_column_in_a_grouped_query_is_ora_00979() {
    let (_db, mut s) = emp();
    let e = error(&mut s, "SELECT dept, name, COUNT(*) FROM emp GROUP BY dept");
    assert!(
        matches!(&e, Error::NotGroupByExpression { column } if column == "name"),
        "{e:?}"
    );
    assert_eq!(e.code(), "ORA-00979");
    assert_eq!(
        error(&mut s, "SELECT * FROM emp GROUP BY dept").code(),
        "ORA-00979"
    );
    // Grouped by `sal / 200`, `sal` alone is not one value per group.
    assert_eq!(
        error(&mut s, "SELECT sal FROM emp GROUP BY sal / 200").code(),
        "ORA-00979"
    );
    assert_eq!(
        error(&mut s, "SELECT dept FROM emp GROUP BY dept ORDER BY sal").code(),
        "ORA-00979"
    );
    // A grouped column, an expression over one, and a GROUP BY position
    // are one value per group.
    assert_eq!(
        rows(
            &mut s,
            "SELECT dept * 2, COUNT(*) FROM emp WHERE dept IS NOT NULL GROUP BY dept ORDER BY dept"
        ),
        vec![vec![Int(20), Int(2)], vec![Int(40), Int(2)]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT sal / 200 FROM emp WHERE sal IS NOT NULL GROUP BY 1 ORDER BY 1"
        ),
        vec![vec![Int(0)], vec![Int(1)]]
    );
}

#[test]
fn a_column_coalesce_never_reaches_is_not_read_by_the_grouping_rule() {
    let (_db, mut s) = emp();
    // COALESCE returns its first non-NULL argument: after a non-NULL
    // constant no argument is ever evaluated, so `name` there reads no
    // row. (Oracle refuses this one with ORA-00979; the binder's module
    // doc says why blocklab does not.)
    assert_eq!(
        rows(
            &mut s,
            "SELECT dept, COALESCE(7, name) FROM emp WHERE dept IS NOT NULL \
             GROUP BY dept ORDER BY dept"
        ),
        vec![vec![Int(10), Int(7)], vec![Int(20), Int(7)]]
    );
    // A grouped column first, then the constant: `sal` is still never
    // reached (NVL is COALESCE of two).
    assert_eq!(
        rows(
            &mut s,
            "SELECT COALESCE(emp.dept, -1, sal) FROM emp GROUP BY dept ORDER BY 1"
        ),
        vec![vec![Int(-1)], vec![Int(10)], vec![Int(20)]]
    );
    assert_eq!(
        rows(&mut s, "SELECT NVL(0, name) FROM emp GROUP BY dept"),
        vec![vec![Int(0)]; 3]
    );
    // A column before the constant is reached; so is any argument when
    // no constant comes first, and a NULL constant stops nothing.
    for sql in [
        "SELECT COALESCE(sal, 7) FROM emp GROUP BY dept",
        "SELECT COALESCE(dept, sal, 7) FROM emp GROUP BY dept",
        "SELECT COALESCE(NULL, sal) FROM emp GROUP BY dept",
        "SELECT NVL(name, 'x') FROM emp GROUP BY dept",
    ] {
        assert_eq!(error(&mut s, sql).code(), "ORA-00979", "{sql}");
    }
}

#[test]
fn an_operand_beside_a_null_constant_is_not_read_by_the_grouping_rule() {
    let (_db, mut s) = emp();
    // `NULL BETWEEN sal AND NULL` is NULL AND NULL whatever `sal` is, and
    // `NULL + sal`, `sal = NULL` are NULL: no row's `sal` decides them.
    assert_eq!(
        rows(
            &mut s,
            "SELECT dept FROM emp GROUP BY dept HAVING NULL NOT BETWEEN sal AND NULL"
        ),
        Vec::<Vec<Value>>::new()
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT NULL + sal, sal = NULL, sal * 2 * NULL, sal BETWEEN NULL AND NULL \
             FROM emp GROUP BY dept"
        ),
        vec![vec![Null, Null, Null, Null]; 3]
    );
    // One NULL bound alone does not decide BETWEEN (`1 BETWEEN NULL AND
    // sal` is FALSE when sal < 1), nor does NULL decide AND, OR or IS NULL.
    for sql in [
        "SELECT 1 BETWEEN NULL AND sal FROM emp GROUP BY dept",
        "SELECT NULL AND sal > 1 FROM emp GROUP BY dept",
        "SELECT NULL OR sal > 1 FROM emp GROUP BY dept",
        "SELECT sal IS NULL FROM emp GROUP BY dept",
    ] {
        let e = error(&mut s, sql);
        assert_eq!(e.code(), "ORA-00979", "{sql}: {e}");
    }
}
