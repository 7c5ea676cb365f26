//! No SQL text overflows the stack: deep nesting is refused with an error
//! that names the limit, and long flat chains (`1 + 1 + …`, `… OR …`,
//! `… || …`) run, through every pass — parse, bind, plan, execute, render
//! and drop.
//!
//! Every case runs on a thread with a 2 MiB stack, the size of Rust's test
//! threads and of the `blocklab` binary's session threads, and the
//! statements at the limit also run on a thread of the platform's default
//! size for spawned threads (`std::thread::spawn`).

use std::sync::Arc;

use blocklab::sql::MAX_EXPR_DEPTH;
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error, Session, Value};

const TWO_MIB: usize = 2 << 20;

fn config() -> Config {
    Config {
        block_size: 8192,
        cache_frames: 256,
        log_file_size: 8 << 20,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    }
}

/// A small database: `t (a INTEGER PRIMARY KEY, b INTEGER, s TEXT)` with
/// 20 rows and an index on `b`, analyzed so that the optimizer costs paths.
fn database() -> Database {
    let db = Database::open_with(Arc::new(SimBackend::new()), config()).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, s TEXT)",
        "INSERT INTO t SELECT value, value % 5, 'x' || value FROM generate_series(1, 20)",
        "CREATE INDEX t_b ON t (b)",
        "COMMIT",
        "ANALYZE TABLE t",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db
}

/// Runs `f` on a fresh thread with `stack` bytes of stack (None: the
/// default for spawned threads) and returns its result.
fn on_stack<T: Send + 'static>(stack: Option<usize>, f: impl FnOnce() -> T + Send + 'static) -> T {
    let mut b = std::thread::Builder::new().name("sql-depth".into());
    if let Some(n) = stack {
        b = b.stack_size(n);
    }
    b.spawn(f)
        .expect("spawn")
        .join()
        .expect("the statement thread panicked")
}

/// Executes each statement on a 2 MiB stack, in a session of `db`, and
/// returns each result's error text or its first value.
fn run_all(
    db: &Arc<Database>,
    stack: Option<usize>,
    sqls: Vec<String>,
) -> Vec<Result<Value, String>> {
    let db = db.clone();
    on_stack(stack, move || {
        let mut s: Session = db.session();
        sqls.iter()
            .map(|sql| match s.execute(sql) {
                Ok(r) => Ok(r
                    .rows
                    .first()
                    .and_then(|row| row.first().cloned())
                    .unwrap_or(Value::Null)),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    })
}

fn too_deep(r: &Result<Value, String>) -> bool {
    matches!(r, Err(m) if m.contains(&format!("expression nested too deeply (limit {MAX_EXPR_DEPTH})")))
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// Each shape nested so deep that the statement is refused: the text of
/// the hostile inputs, and some more.
fn hostile() -> Vec<String> {
    vec![
        format!("SELECT {}", nested("(", "1", ")", 5_000)),
        format!("SELECT {}1", "NOT ".repeat(10_000)),
        format!("SELECT {}1", "- ".repeat(10_000)),
        format!("SELECT {}1", "+".repeat(100_000)),
        format!("SELECT {}", nested("abs(", "1", ")", 5_000)),
        format!("SELECT {}", nested("1 + (", "1", ")", 5_000)),
        format!("SELECT {}", nested("(1 IN (", "1", "))", 5_000)),
        format!(
            "SELECT 1 WHERE 1 IN {}",
            nested("(SELECT 1 WHERE 1 IN ", "(SELECT 1)", ")", 2_000)
        ),
        format!(
            "SELECT * FROM t WHERE {}",
            nested("NOT (", "b = 1", ")", 3_000)
        ),
        format!(
            "INSERT INTO t VALUES (100, {}, 'x')",
            nested("(", "1", ")", 3_000)
        ),
        format!(
            "UPDATE t SET b = {} WHERE a = 1",
            nested("-(", "1", ")", 3_000)
        ),
        format!("DELETE FROM t WHERE {}", nested("NOT ", "b = 1", "", 3_000)),
        format!(
            "CREATE TABLE u (a INT CHECK ({}))",
            nested("NOT ", "a > 1", "", 3_000)
        ),
        // Comparisons of comparisons: the tree is deeper than its parentheses.
        format!("SELECT {}", nested("1 = (", "1", ")", 600)),
    ]
}

#[test]
fn deeply_nested_statements_fail_with_the_limit_on_a_2_mib_stack() {
    let db = Arc::new(database());
    let sqls = hostile();
    let results = run_all(&db, Some(TWO_MIB), sqls.clone());
    for (sql, r) in sqls.iter().zip(&results) {
        assert!(too_deep(r), "{}…: {r:?}", &sql[..60.min(sql.len())]);
    }
    // Nothing was changed, and the session still works.
    let r = run_all(&db, Some(TWO_MIB), vec!["SELECT COUNT(*) FROM t".into()]);
    assert_eq!(r, vec![Ok(Value::Int(20))]);
}

/// Flat chains are one level however long: they run, and give the value
/// a left-to-right evaluation gives.
#[test]
fn long_flat_chains_run_on_a_2_mib_stack() {
    let db = Arc::new(database());
    let or_chain = (0..20_000)
        .map(|i| format!("b = {}", i + 100))
        .collect::<Vec<_>>()
        .join(" OR ");
    let and_chain = vec!["a > 0"; 20_000].join(" AND ");
    let sqls = vec![
        format!("SELECT {}", vec!["1"; 100_000].join(" + ")),
        format!("SELECT {}", vec!["2"; 100_000].join(" - ")),
        format!("SELECT {}", vec!["'a'"; 50_000].join(" || ")),
        format!("SELECT {}", vec!["1"; 10_000].join(" * ")),
        format!("SELECT COUNT(*) FROM t WHERE {or_chain} OR b = 1"),
        format!("SELECT COUNT(*) FROM t WHERE {and_chain} AND b = 1"),
        // An opaque term (a function of a column) renders the whole chain.
        format!("SELECT COUNT(*) FROM t WHERE abs(b) = 1 AND ({or_chain} OR b = 1)"),
        format!("SELECT 1 WHERE {}", vec!["1 = 1"; 20_000].join(" OR ")),
        format!(
            "UPDATE t SET b = {} WHERE a = 1",
            vec!["0"; 50_000].join(" + ")
        ),
        "SELECT b FROM t WHERE a = 1".to_string(),
        "ROLLBACK".to_string(),
    ];
    let r = run_all(&db, Some(TWO_MIB), sqls);
    assert_eq!(r[0], Ok(Value::Int(100_000)));
    assert_eq!(r[1], Ok(Value::Int(2 - 2 * 99_999)));
    assert_eq!(r[2], Ok(Value::Text("a".repeat(50_000))));
    assert_eq!(r[3], Ok(Value::Int(1)));
    assert_eq!(r[4], Ok(Value::Int(4)), "b = 1 for a = 1, 6, 11, 16");
    assert_eq!(r[5], Ok(Value::Int(4)));
    assert_eq!(r[6], Ok(Value::Int(4)));
    assert_eq!(r[7], Ok(Value::Int(1)));
    assert_eq!(r[9], Ok(Value::Int(0)), "the UPDATE set b to the sum 0");
}

/// Statements nested exactly to the limit, in every shape, run to the end
/// (parse, bind, plan, execute, drop) on a 2 MiB stack and on a default
/// spawned thread; one level more is refused.
#[test]
fn statements_at_the_limit_run_and_one_more_level_fails() {
    let db = Arc::new(database());
    let d = MAX_EXPR_DEPTH;
    // (statement at the limit, expected first value, the same one level deeper)
    let cases: Vec<(String, Value, String)> = vec![
        // d - 1 NOTs around a literal: d levels.
        (
            format!("SELECT {}1", "NOT ".repeat(d - 1)),
            Value::Int(i64::from((d - 1).is_multiple_of(2))),
            format!("SELECT {}1", "NOT ".repeat(d)),
        ),
        (
            format!("SELECT {}", nested("abs(", "1", ")", d - 1)),
            Value::Int(1),
            format!("SELECT {}", nested("abs(", "1", ")", d)),
        ),
        // Unary minus folds into the literal, but the parser counts it.
        (
            format!("SELECT {}1", "- ".repeat(d - 1)),
            Value::Int(if (d - 1).is_multiple_of(2) { 1 } else { -1 }),
            format!("SELECT {}1", "- ".repeat(d)),
        ),
        // Parentheses alone add no level to the tree, but the parser counts
        // them: d - 1 pairs around the whole expression are allowed.
        (
            format!("SELECT {}", nested("(", "1", ")", d - 1)),
            Value::Int(1),
            format!("SELECT {}", nested("(", "1", ")", d)),
        ),
        // `0 + (0 + (…))`: each level a chain of one `+`.
        (
            format!("SELECT {}", nested("1 + (", "1", ")", d - 1)),
            Value::Int(d as i64),
            format!("SELECT {}", nested("1 + (", "1", ")", d)),
        ),
        // A WHERE clause over a table: planned (to_pred), rendered as an
        // opaque filter (arithmetic on a column), evaluated on every row.
        // NOT^n (b + 0 = 1) is n + 3 levels.
        (
            format!(
                "SELECT COUNT(*) FROM t WHERE {}",
                nested("NOT ", "b + 0 = 1", "", d - 3)
            ),
            Value::Int(if (d - 3).is_multiple_of(2) { 4 } else { 16 }),
            format!(
                "SELECT COUNT(*) FROM t WHERE {}",
                nested("NOT ", "b + 0 = 1", "", d - 2)
            ),
        ),
        // NOT^n (b = 1) is n + 2 levels, a predicate the index layer reads.
        (
            format!(
                "SELECT COUNT(*) FROM t WHERE {}",
                nested("NOT ", "b = 1", "", d - 2)
            ),
            Value::Int(if (d - 2).is_multiple_of(2) { 4 } else { 16 }),
            format!(
                "SELECT COUNT(*) FROM t WHERE {}",
                nested("NOT ", "b = 1", "", d - 1)
            ),
        ),
        // Nested subqueries: k subqueries that each hold the next are
        // 2k + 3 levels (each IN, and the expressions of its subquery one
        // level below it).
        (
            format!(
                "SELECT 7 WHERE 1 IN {}",
                nested("(SELECT 1 WHERE 1 IN ", "(SELECT 1)", ")", (d - 3) / 2)
            ),
            Value::Int(7),
            format!(
                "SELECT 7 WHERE 1 IN {}",
                nested("(SELECT 1 WHERE 1 IN ", "(SELECT 1)", ")", (d - 3) / 2 + 1)
            ),
        ),
    ];
    let at: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
    let over: Vec<String> = cases.iter().map(|c| c.2.clone()).collect();
    for stack in [Some(TWO_MIB), None] {
        let r = run_all(&db, stack, at.clone());
        for ((sql, want, _), got) in cases.iter().zip(&r) {
            assert_eq!(got, &Ok(want.clone()), "{}…", &sql[..60]);
        }
        let r = run_all(&db, stack, over.clone());
        for (sql, got) in over.iter().zip(&r) {
            assert!(too_deep(got), "{}…: {got:?}", &sql[..60]);
        }
    }
}

/// A CHECK constraint at the limit is stored (its predicate encoded in the
/// catalog), enforced, and read back when the database opens again.
#[test]
fn a_check_constraint_at_the_limit_is_stored_and_enforced() {
    let backend = Arc::new(SimBackend::new());
    let d = MAX_EXPR_DEPTH;
    // NOT^(d-2) (a > 1): with an even number of NOTs, the check is a > 1.
    let n = if (d - 2).is_multiple_of(2) {
        d - 2
    } else {
        d - 3
    };
    let create = format!(
        "CREATE TABLE u (a INT CHECK ({}))",
        nested("NOT ", "a > 1", "", n)
    );
    let b = backend.clone();
    let r = on_stack(Some(TWO_MIB), move || {
        let db = Database::open_with(b, config()).expect("db");
        let mut s = db.session();
        s.execute(&create).map_err(|e| e.to_string())?;
        s.execute("INSERT INTO u VALUES (5)")
            .map_err(|e| e.to_string())?;
        s.execute("COMMIT").map_err(|e| e.to_string())?;
        let bad = s.execute("INSERT INTO u VALUES (0)");
        Ok::<_, String>(matches!(bad, Err(Error::CheckViolation { .. })))
    });
    assert_eq!(r, Ok(true));
    let r = on_stack(Some(TWO_MIB), move || {
        let db = Database::open_with(backend, config()).expect("reopen");
        let mut s = db.session();
        let bad = s.execute("INSERT INTO u VALUES (0)");
        matches!(bad, Err(Error::CheckViolation { .. }))
    });
    assert!(r, "the check still holds after a restart");
}
