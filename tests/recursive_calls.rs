//! Recursive calls: a function whose body is a query
//! (`Database::register_query_function`) runs that query in the calling
//! session once per call, as a PL/SQL function doing `SELECT … INTO`
//! does in Oracle. Each execution of its query is one `recursive calls`
//! and one `execute count`; its parse is done once and held; its gets are
//! the session's gets; `user calls` and `rows processed` count only what
//! the client asked for. No row is NULL, two rows are an error
//! (ORA-01422), and a function whose query calls itself stops at 50
//! levels (ORA-00036). The function is never evaluated under a block
//! latch, so a writer waiting for the block cannot deadlock with it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error, Session, Stat, StatsSnapshot, Value};

/// Employees (100 rows, deptno 10, 20, 30, 40 in turn) and their four
/// departments, with a primary key on each.
fn database() -> Database {
    let cfg = Config {
        block_size: 8192,
        cache_frames: 256,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE dept (deptno INTEGER PRIMARY KEY, dname TEXT)",
        "INSERT INTO dept VALUES (10, 'ACCOUNTING'), (20, 'RESEARCH'), (30, 'SALES'), (40, 'OPERATIONS')",
        "CREATE TABLE emp (empno INTEGER PRIMARY KEY, deptno INTEGER, sal INTEGER, note TEXT)",
        "INSERT INTO emp SELECT value, 10 * (1 + value % 4), 1000 + value, NULL FROM generate_series(1, 100)",
        "COMMIT",
        "ANALYZE TABLE dept",
        "ANALYZE TABLE emp",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db.register_query_function("dept_name", "SELECT dname FROM dept WHERE deptno = ?")
        .expect("dept_name");
    db
}

fn run(s: &mut Session, sql: &str) -> (Vec<Vec<Value>>, StatsSnapshot) {
    let r = s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    (r.rows, r.stats)
}

// ANCHOR: per_row
#[test]
fn a_function_that_runs_sql_makes_one_recursive_call_per_row_examined() {
    let db = database();
    let mut s = db.session();
    // What one execution of the function's query costs on its own.
    let alone = run(&mut s, "SELECT dname FROM dept WHERE deptno = 30").1;
    // The same scan returning the same 25 rows (so the same fetch calls).
    let scan = run(
        &mut s,
        "SELECT /*+ FULL(emp) */ empno FROM emp WHERE deptno = 30",
    )
    .1;
    let sql = "SELECT /*+ FULL(emp) */ empno FROM emp WHERE dept_name(deptno) = 'SALES'";
    let (rows, first) = run(&mut s, sql);
    assert_eq!(rows.len(), 25); // deptno 30: every fourth employee
    for st in [first.clone(), run(&mut s, sql).1] {
        // One call and one recursive execution per row the scan examined.
        assert_eq!(st.get(Stat::UserFunctionCalls), 100);
        assert_eq!(st.get(Stat::RecursiveCalls), 100);
        // The statement's execution and the function's 100.
        assert_eq!(st.get(Stat::ExecuteCount), 1 + 100);
        // The recursive queries' gets are the session's gets.
        assert_eq!(
            st.get(Stat::ConsistentGets),
            scan.get(Stat::ConsistentGets) + 100 * alone.get(Stat::ConsistentGets)
        );
        // The client's calls only: parse, execute, 25 / 15 + 1 fetch calls;
        // and only the rows returned to it.
        assert_eq!(st.get(Stat::UserCalls), 1 + 1 + 2);
        assert_eq!(st.get(Stat::RowsProcessed), 25);
    }
    // The function's cursor was parsed once, at its first call, and is
    // held: the first execution parses the statement and the function's
    // query (both hard), the second only soft-parses the statement.
    assert_eq!(first.get(Stat::ParseCountTotal), 2);
    assert_eq!(first.get(Stat::ParseCountHard), 2);
    let again = run(&mut s, sql).1;
    assert_eq!(again.get(Stat::ParseCountTotal), 1);
    assert_eq!(again.get(Stat::ParseCountHard), 0);
}
// ANCHOR_END: per_row

#[test]
fn a_predicate_that_filters_first_leaves_fewer_recursive_calls() {
    let db = database();
    let mut s = db.session();
    let st = run(
        &mut s,
        "SELECT /*+ FULL(emp) */ empno FROM emp WHERE deptno = 20 AND dept_name(deptno) = 'RESEARCH'",
    )
    .1;
    // Only the 25 rows of deptno 20 reach the function.
    assert_eq!(st.get(Stat::RecursiveCalls), 25);
    assert_eq!(st.get(Stat::UserFunctionCalls), 25);
}

#[test]
fn a_function_that_supplies_a_matching_value_runs_its_query_once() {
    let db = database();
    db.register_query_function("dept_no", "SELECT deptno FROM dept WHERE dname = ?")
        .expect("dept_no");
    let mut s = db.session();
    s.execute("CREATE INDEX emp_deptno ON emp (deptno)")
        .expect("index");
    let (rows, st) = run(
        &mut s,
        "SELECT /*+ INDEX(emp emp_deptno) */ empno FROM emp WHERE deptno = dept_no('SALES')",
    );
    assert_eq!(rows.len(), 25);
    // Evaluated once, before the scan: its value is the start key.
    assert_eq!(st.get(Stat::RecursiveCalls), 1);
    assert_eq!(st.get(Stat::UserFunctionCalls), 1);
    assert_eq!(st.get(Stat::ExecuteCount), 1 + 1);
}

#[test]
fn no_row_is_null_and_two_rows_are_an_error() {
    let db = database();
    db.register_query_function("dept_above", "SELECT dname FROM dept WHERE deptno > ?")
        .expect("dept_above");
    let mut s = db.session();
    // NO_DATA_FOUND in a function called from SQL reads as NULL.
    let (rows, st) = run(&mut s, "SELECT dept_name(99) FROM dual");
    assert_eq!(rows, vec![vec![Value::Null]]);
    assert_eq!(st.get(Stat::RecursiveCalls), 1);
    // Exactly one row: its first column.
    let (rows, _) = run(&mut s, "SELECT dept_above(30) FROM dual");
    assert_eq!(rows, vec![vec![Value::Text("OPERATIONS".into())]]);
    // ORA-01422: exact fetch returns more than requested number of rows.
    let err = s.execute("SELECT dept_above(10) FROM dual").unwrap_err();
    assert!(
        matches!(&err, Error::TooManyRows { function } if function == "dept_above"),
        "{err}"
    );
    assert_eq!(err.code(), "ORA-01422");
    // Also when the call is an opaque filter on a scanned row: the error
    // ends the statement instead of reading as UNKNOWN.
    let err = s
        .execute("SELECT empno FROM emp WHERE dept_above(deptno) IS NULL")
        .unwrap_err();
    assert_eq!(err.code(), "ORA-01422", "{err}");
}

#[test]
fn a_wrong_number_of_arguments_or_a_statement_that_is_not_a_query_is_an_error() {
    let db = database();
    let mut s = db.session();
    let err = s.execute("SELECT dept_name(1, 2) FROM dual").unwrap_err();
    assert!(matches!(err, Error::Sql(_)), "{err}");
    assert!(db
        .register_query_function("bad", "DELETE FROM dept WHERE deptno = ?")
        .is_err());
    assert!(db.register_query_function("bad", "SELECT FROM").is_err());
}

#[test]
fn the_recursive_query_runs_in_the_callers_transaction() {
    let db = database();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("INSERT INTO dept VALUES (50, 'NEW')")
        .expect("insert");
    // Session a's function sees a's uncommitted row; b's does not.
    assert_eq!(
        run(&mut a, "SELECT dept_name(50) FROM dual").0,
        vec![vec![Value::Text("NEW".into())]]
    );
    assert_eq!(
        run(&mut b, "SELECT dept_name(50) FROM dual").0,
        vec![vec![Value::Null]]
    );
    a.execute("ROLLBACK").expect("rollback");
}

// ANCHOR: depth
#[test]
fn a_function_whose_query_calls_itself_stops_at_the_recursion_limit() {
    let db = database();
    db.register_query_function("forever", "SELECT forever(?) FROM dual")
        .expect("forever");
    let mut s = db.session();
    let err = s.execute("SELECT forever(1) FROM dual").unwrap_err();
    // ORA-00036: maximum number of recursive SQL levels (50) exceeded.
    assert!(matches!(err, Error::RecursionLimit { levels: 50 }), "{err}");
    assert_eq!(err.code(), "ORA-00036");
    // 50 levels ran their query; the 51st call was refused.
    let st = s.stats();
    assert_eq!(st.get(Stat::RecursiveCalls), 50);
    // The session is still usable.
    assert_eq!(run(&mut s, "SELECT dept_name(10) FROM dual").0.len(), 1);
}
// ANCHOR_END: depth

/// Runs `f` on its own thread and fails if it has not finished after a
/// minute: a deadlock shows as a failed test, not a hung suite.
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: deadlocked"))
}

// ANCHOR: deadlock
#[test]
fn a_writer_waiting_for_the_block_never_deadlocks_with_the_function() {
    let db = Arc::new(database());
    db.register_query_function("dept_size", "SELECT COUNT(*) FROM emp WHERE deptno = ?")
        .expect("dept_size");
    // At its first call, `writer` runs session b's UPDATE of a row in the
    // block session a's scan is reading, and waits for it to finish. If a
    // held the block's latch while evaluating its functions, b would wait
    // for a and a for b.
    let started = Arc::new(AtomicBool::new(false));
    let (db2, started2) = (db.clone(), started.clone());
    db.register_function("writer", move |args: &[Value]| {
        if !started2.swap(true, Ordering::SeqCst) {
            let db3 = db2.clone();
            std::thread::spawn(move || {
                let mut b = db3.session();
                b.execute("UPDATE emp SET sal = sal + 1 WHERE empno = 2")?;
                b.execute("COMMIT").map(|_| ())
            })
            .join()
            .map_err(|_| Error::Internal("writer panicked".into()))??;
        }
        Ok(args[0].clone())
    });
    let db4 = db.clone();
    let st = finishes("scan calling dept_size while b updates", move || {
        let mut a = db4.session();
        run(
            &mut a,
            "SELECT /*+ FULL(emp) */ empno FROM emp WHERE writer(empno) > 0 AND dept_size(deptno) = 25",
        )
        .1
    });
    assert_eq!(st.get(Stat::RecursiveCalls), 100);
    // The same in an UPDATE, whose rows are latched in current mode: the
    // function reads the very table (and block) being changed.
    let db5 = db.clone();
    let st = finishes("update calling dept_size", move || {
        let mut a = db5.session();
        let st = run(
            &mut a,
            "UPDATE emp SET note = dept_name(deptno) WHERE dept_size(deptno) = 25",
        )
        .1;
        a.execute("COMMIT").expect("commit");
        st
    });
    // dept_size once per row found (the recheck in current mode compares
    // the columns it read), dept_name once per row changed.
    assert_eq!(st.get(Stat::RecursiveCalls), 100 + 100);
    let mut c = db.session();
    assert_eq!(
        run(&mut c, "SELECT COUNT(*) FROM emp WHERE note = 'SALES'").0,
        vec![vec![Value::Int(25)]]
    );
}
// ANCHOR_END: deadlock
