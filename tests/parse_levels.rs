//! Parse calls, soft parses, the session cursor cache and held cursors, as
//! Oracle counts them (`parse count (total)`, `parse count (hard)`,
//! `session cursor cache hits`, `execute count`), and the plan a cursor
//! keeps until DDL or new statistics invalidate it.

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Stat, StatsSnapshot, Value};

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
        "CREATE TABLE t (a INTEGER, b INTEGER, pad TEXT)",
        "INSERT INTO t SELECT value, value % 10, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' FROM generate_series(1, 2000)",
        "CREATE TABLE u (x INTEGER)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db
}

/// The four counters of one call: (total, hard, cursor cache hits, executes).
fn parse_counters(st: &StatsSnapshot) -> (u64, u64, u64, u64) {
    (
        st.get(Stat::ParseCountTotal),
        st.get(Stat::ParseCountHard),
        st.get(Stat::SessionCursorCacheHits),
        st.get(Stat::ExecuteCount),
    )
}

fn run(s: &mut Session, sql: &str, binds: &[Value]) -> StatsSnapshot {
    s.execute_with(sql, binds)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .stats
}

fn gets(st: &StatsSnapshot) -> u64 {
    st.get(Stat::ConsistentGets)
}

#[test]
fn every_new_text_is_a_hard_parse() {
    let db = database();
    let mut s = db.session();
    for a in 1..=5 {
        let st = run(&mut s, &format!("SELECT b FROM t WHERE a = {a}"), &[]);
        // A literal makes a new text: parsed and optimized every time.
        assert_eq!(parse_counters(&st), (1, 1, 0, 1), "literal {a}");
    }
}

// ANCHOR: levels
#[test]
fn one_text_with_binds_is_hard_once_then_soft_then_served_by_the_cursor_cache() {
    let db = database();
    let mut s = db.session();
    let sql = "SELECT b FROM t WHERE a = ?";
    let mut seen = Vec::new();
    for a in 1..=6 {
        seen.push(parse_counters(&run(&mut s, sql, &[Value::Int(a)])));
    }
    assert_eq!(
        seen,
        vec![
            (1, 1, 0, 1), // new text: hard parse
            (1, 0, 0, 1), // found with its plan in the statement cache: soft
            (1, 0, 0, 1), // soft; this third parse call caches the cursor
            (1, 0, 1, 1), // served by the session cursor cache
            (1, 0, 1, 1),
            (1, 0, 1, 1),
        ]
    );
}

#[test]
fn a_held_prepared_statement_makes_no_parse_call() {
    let db = database();
    let mut s = db.session();
    let before = s.stats();
    let p = s.prepare("SELECT b FROM t WHERE a = ?").unwrap();
    assert_eq!(parse_counters(&s.stats().diff(&before)), (1, 1, 0, 0));
    for a in 1..=10 {
        let st = s.execute_prepared(&p, &[Value::Int(a)]).unwrap().stats;
        assert_eq!(parse_counters(&st), (0, 0, 0, 1), "execution {a}");
    }
}
// ANCHOR_END: levels

#[test]
fn two_sessions_share_the_statement_cache() {
    let db = database();
    let mut a = db.session();
    let mut b = db.session();
    let sql = "SELECT COUNT(*) FROM t WHERE b = ?";
    assert_eq!(
        parse_counters(&run(&mut a, sql, &[Value::Int(1)])),
        (1, 1, 0, 1)
    );
    // b never parsed it, but a did: b's first parse call is soft.
    assert_eq!(
        parse_counters(&run(&mut b, sql, &[Value::Int(2)])),
        (1, 0, 0, 1)
    );
    // The session cursor caches are each session's own: b's fourth parse
    // call is its first hit, though the text was parsed five times in all.
    for _ in 0..2 {
        assert_eq!(
            parse_counters(&run(&mut b, sql, &[Value::Int(3)])),
            (1, 0, 0, 1)
        );
    }
    assert_eq!(
        parse_counters(&run(&mut b, sql, &[Value::Int(4)])),
        (1, 0, 1, 1)
    );
    assert_eq!(
        parse_counters(&run(&mut a, sql, &[Value::Int(5)])),
        (1, 0, 0, 1)
    );
}

/// `t` with an index on `a` and statistics: `a > 0` is best read by a full
/// scan, `a > 1995` (5 rows) through the index.
fn analyzed() -> (Database, Session) {
    let db = database();
    let mut s = db.session();
    s.execute("CREATE INDEX t_a ON t (a)").unwrap();
    s.execute("ANALYZE TABLE t").unwrap();
    (db, s)
}

#[test]
fn a_cursor_keeps_the_plan_of_its_first_execution_whatever_the_binds() {
    let (_db, mut s) = analyzed();
    // The same plans, each optimized for its own literal (a full scan's
    // gets also count its fetch calls, so they depend on the rows).
    let full = gets(&run(&mut s, "SELECT b FROM t WHERE a > 0", &[]));
    let index = gets(&run(&mut s, "SELECT b FROM t WHERE a > 1995", &[]));
    let full_1995 = gets(&run(
        &mut s,
        "SELECT /*+ FULL(t) */ b FROM t WHERE a > 1995",
        &[],
    ));
    assert!(index < full_1995, "index {index} vs full scan {full_1995}");
    let sql = "SELECT b FROM t WHERE a > ?";
    assert_eq!(gets(&run(&mut s, sql, &[Value::Int(0)])), full);
    // Soft parse: the plan optimized for 0 (a full scan) is kept for 1995.
    let st = run(&mut s, sql, &[Value::Int(1995)]);
    assert_eq!(parse_counters(&st), (1, 0, 0, 1));
    assert_eq!(gets(&st), full_1995);
}

#[test]
fn ddl_on_a_table_the_plan_uses_invalidates_it_and_the_next_execution_reoptimizes() {
    let db = database();
    let mut s = db.session();
    s.execute("ANALYZE TABLE t").unwrap();
    let p = s.prepare("SELECT b FROM t WHERE a = ?").unwrap();
    let full = gets(&s.execute_prepared(&p, &[Value::Int(7)]).unwrap().stats);
    // DDL on another table leaves the plan alone.
    s.execute("CREATE INDEX u_x ON u (x)").unwrap();
    let st = s.execute_prepared(&p, &[Value::Int(7)]).unwrap().stats;
    assert_eq!(parse_counters(&st), (0, 0, 0, 1));
    assert_eq!(gets(&st), full);
    // An index on t invalidates it: the held cursor's next execution is a
    // hard parse (a reload, no parse call) and uses the index.
    s.execute("CREATE INDEX t_a ON t (a)").unwrap();
    let st = s.execute_prepared(&p, &[Value::Int(7)]).unwrap().stats;
    assert_eq!(parse_counters(&st), (0, 1, 0, 1));
    let by_index = gets(&st);
    assert!(by_index < full, "index {by_index} vs full scan {full}");
    // Then the new plan is kept again.
    let st = s.execute_prepared(&p, &[Value::Int(8)]).unwrap().stats;
    assert_eq!(parse_counters(&st), (0, 0, 0, 1));
    assert_eq!(gets(&st), by_index);
    // Dropping the index invalidates it again.
    s.execute("DROP INDEX t_a").unwrap();
    let st = s.execute_prepared(&p, &[Value::Int(8)]).unwrap().stats;
    assert_eq!(parse_counters(&st), (0, 1, 0, 1));
    assert_eq!(gets(&st), full);
}

#[test]
fn analyze_invalidates_the_plan_and_the_next_parse_call_is_hard() {
    let (_db, mut s) = analyzed();
    let sql = "SELECT b FROM t WHERE a > ?";
    for _ in 0..4 {
        run(&mut s, sql, &[Value::Int(0)]);
    }
    // Cached in the session cursor cache by now: a hit, and soft.
    let st = run(&mut s, sql, &[Value::Int(1995)]);
    assert_eq!(parse_counters(&st), (1, 0, 1, 1));
    let full = gets(&st);
    s.execute("ANALYZE TABLE t").unwrap();
    // Still a cursor cache hit, but the plan is invalid: parsed hard, and
    // optimized for the bind it now sees (1995: the index).
    let st = run(&mut s, sql, &[Value::Int(1995)]);
    assert_eq!(parse_counters(&st), (1, 1, 1, 1));
    assert!(gets(&st) < full);
    let st = run(&mut s, sql, &[Value::Int(0)]);
    assert_eq!(parse_counters(&st), (1, 0, 1, 1));
}

#[test]
fn a_session_that_invalidates_a_plan_another_holds_reoptimizes_once_for_both() {
    let (db, mut a) = analyzed();
    let mut b = db.session();
    let sql = "SELECT b FROM t WHERE a = ?";
    let p = b.prepare(sql).unwrap();
    b.execute_prepared(&p, &[Value::Int(1)]).unwrap();
    a.execute("ANALYZE TABLE t").unwrap();
    // a's parse call finds the cursor invalidated: hard; its execution
    // optimizes and stores the new plan in the shared cursor ...
    assert_eq!(
        parse_counters(&run(&mut a, sql, &[Value::Int(2)])),
        (1, 1, 0, 1)
    );
    // ... which b's held cursor then uses: no reload there.
    let st = b.execute_prepared(&p, &[Value::Int(3)]).unwrap().stats;
    assert_eq!(parse_counters(&st), (0, 0, 0, 1));
}

#[test]
fn a_kept_plan_still_sorts_when_other_binds_break_the_index_order() {
    let db = database();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE o (a INTEGER, b INTEGER)",
        "INSERT INTO o VALUES (1, 10), (1, 30), (2, 20), (2, 40)",
        "CREATE INDEX o_ab ON o (a, b)",
    ] {
        s.execute(sql).unwrap();
    }
    let sql = "SELECT b FROM o WHERE a IN (?, ?) ORDER BY b";
    let b_values = |s: &mut Session, x: i64, y: i64| -> (Vec<Value>, u64) {
        let r = s
            .execute_with(sql, &[Value::Int(x), Value::Int(y)])
            .unwrap();
        let sorts = r.stats.get(Stat::SortsMemory);
        (r.rows.into_iter().map(|mut r| r.remove(0)).collect(), sorts)
    };
    // Equal binds: one probe of the index, whose order is the ORDER BY's.
    assert_eq!(
        b_values(&mut s, 1, 1),
        (vec![Value::Int(10), Value::Int(30)], 0)
    );
    // The same plan with two probes returns 10, 30 then 20, 40: it must sort.
    assert_eq!(
        b_values(&mut s, 1, 2),
        (
            vec![
                Value::Int(10),
                Value::Int(20),
                Value::Int(30),
                Value::Int(40)
            ],
            1
        )
    );
}
