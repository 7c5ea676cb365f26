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

/// `a`, `b`, `c` of 2,000 rows each, a chain `a.id = b.a_id`,
/// `b.id = c.b_id`, each join column indexed, all three analyzed: a join
/// from a few rows of `a` is best run by nested loops through the indexes,
/// one from all of them by hash joins over full scans.
fn chain() -> (Database, Session) {
    let db = database();
    let mut s = db.session();
    let pad = "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'";
    for sql in [
        "CREATE TABLE a (id INTEGER, k INTEGER, pad TEXT)".to_string(),
        "CREATE TABLE b (id INTEGER, a_id INTEGER, pad TEXT)".to_string(),
        "CREATE TABLE c (id INTEGER, b_id INTEGER, pad TEXT)".to_string(),
        format!("INSERT INTO a SELECT value, value, {pad} FROM generate_series(1, 2000)"),
        format!("INSERT INTO b SELECT value, value, {pad} FROM generate_series(1, 2000)"),
        format!("INSERT INTO c SELECT value, value, {pad} FROM generate_series(1, 2000)"),
        "CREATE INDEX a_k ON a (k)".to_string(),
        "CREATE INDEX b_a ON b (a_id)".to_string(),
        "CREATE INDEX c_b ON c (b_id)".to_string(),
        "COMMIT".to_string(),
        "ANALYZE TABLE a".to_string(),
        "ANALYZE TABLE b".to_string(),
        "ANALYZE TABLE c".to_string(),
    ] {
        s.execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    (db, s)
}

const CHAIN: &str =
    "SELECT COUNT(*) FROM a JOIN b ON b.a_id = a.id JOIN c ON c.b_id = b.id WHERE a.k <= ?";

/// The gets of `CHAIN` with literal `k`: a text of its own, optimized for
/// that value.
fn chain_fresh(s: &mut Session, k: i64) -> u64 {
    gets(&run(s, &CHAIN.replace('?', &k.to_string()), &[]))
}

#[test]
fn a_prepared_join_keeps_its_order_methods_and_access_paths_whatever_the_binds() {
    let (_db, mut s) = chain();
    // Each optimized for its own literal: 3 rows of a lead nested loops
    // through a_k, b_a and c_b (3 index probes a table, 18 gets); all
    // 2,000 are hash-joined over full scans (55 gets).
    let nl_3 = chain_fresh(&mut s, 3);
    let hash_2000 = chain_fresh(&mut s, 2000);
    assert_eq!((nl_3, hash_2000), (18, 55));
    // The nested-loops plan forced on all 2,000 rows: an index probe of b
    // and of c per row of a.
    let nl_2000 = gets(&run(
        &mut s,
        "SELECT /*+ LEADING(a b c) USE_NL(b) USE_NL(c) INDEX(a a_k) */ COUNT(*) \
         FROM a JOIN b ON b.a_id = a.id JOIN c ON c.b_id = b.id WHERE a.k <= 2000",
        &[],
    ));
    assert!(
        nl_2000 > 100 * hash_2000,
        "kept {nl_2000} vs fresh {hash_2000}"
    );

    let p = s.prepare(CHAIN).unwrap();
    let count = |s: &mut Session, k: i64| {
        let r = s.execute_prepared(&p, &[Value::Int(k)]).unwrap();
        (
            r.rows[0][0].clone(),
            parse_counters(&r.stats),
            gets(&r.stats),
        )
    };
    // The first execution peeks at 3 and chooses the nested loops ...
    assert_eq!(count(&mut s, 3), (Value::Int(3), (0, 0, 0, 1), nl_3));
    // ... which the next one runs for 2,000 rows: no optimizing, and the
    // gets of the nested loops, not of the hash joins a fresh plan takes.
    assert_eq!(
        count(&mut s, 2000),
        (Value::Int(2000), (0, 0, 0, 1), nl_2000)
    );
    // New statistics on the last table joined invalidate the whole plan:
    // the next execution is a hard parse (a reload) and optimizes for the
    // 2,000 rows it now sees ...
    s.execute("ANALYZE TABLE c").unwrap();
    assert_eq!(
        count(&mut s, 2000),
        (Value::Int(2000), (0, 1, 0, 1), hash_2000)
    );
    // ... and that plan is kept in turn: full scans for 3 rows.
    assert_eq!(count(&mut s, 3), (Value::Int(3), (0, 0, 0, 1), hash_2000));
}

#[test]
fn a_soft_parse_finds_a_joins_plan_until_ddl_on_one_of_its_tables() {
    let (_db, mut s) = chain();
    let nl_3 = chain_fresh(&mut s, 3);
    let first = run(&mut s, CHAIN, &[Value::Int(2000)]);
    assert_eq!(parse_counters(&first), (1, 1, 0, 1));
    let hash = gets(&first);
    // A soft parse: the hash joins over full scans, for 3 rows too.
    let st = run(&mut s, CHAIN, &[Value::Int(3)]);
    assert_eq!((parse_counters(&st), gets(&st)), ((1, 0, 0, 1), hash));
    assert!(nl_3 < hash, "fresh {nl_3} vs kept {hash}");
    // DDL on a table the join does not read leaves the plan alone.
    s.execute("CREATE INDEX u_x ON u (x)").unwrap();
    let st = run(&mut s, CHAIN, &[Value::Int(3)]);
    assert_eq!((parse_counters(&st), gets(&st)), ((1, 0, 0, 1), hash));
    // An index on b, the middle table, invalidates it: a hard parse (of
    // a text the session cursor cache holds by its fourth parse call), and
    // the plan a fresh text gets for 3.
    s.execute("CREATE INDEX b_id ON b (id)").unwrap();
    let nl_3 = chain_fresh(&mut s, 3);
    let st = run(&mut s, CHAIN, &[Value::Int(3)]);
    assert_eq!((parse_counters(&st), gets(&st)), ((1, 1, 1, 1), nl_3));
}

#[test]
fn each_work_area_setting_keeps_a_join_plan_of_its_own() {
    let (_db, mut s) = chain();
    let set = |s: &mut Session, bytes: u64| {
        for p in ["HASH_AREA_SIZE", "SORT_AREA_SIZE"] {
            s.execute(&format!("ALTER SESSION SET {p} = {bytes}"))
                .unwrap();
        }
    };
    let at = |s: &mut Session, k: i64| {
        let st = run(s, CHAIN, &[Value::Int(k)]);
        (parse_counters(&st).1, gets(&st))
    };
    // The default areas: optimized for 2,000 rows, hash joins (55 gets).
    set(&mut s, 1 << 20);
    assert_eq!(at(&mut s, 2000), (1, 55));
    // Areas of 64 bytes cost hash joins and sorts otherwise: the join is
    // optimized again for them, with the binds it now sees (3 rows:
    // nested loops, 18 gets), counting no hard parse, as Oracle opens a
    // child cursor for another optimizer environment ...
    set(&mut s, 64);
    assert_eq!(at(&mut s, 3), (0, 18));
    // ... which keeps that plan for 2,000 rows: a probe of b and of c per
    // row of a, the gets of the hinted nested loops in the test above.
    assert_eq!(at(&mut s, 2000), (0, 10033));
    // Back to the default areas: the hash joins kept for them, for 3 rows.
    set(&mut s, 1 << 20);
    assert_eq!(at(&mut s, 3), (0, 55));
}

/// A comparison with NULL is never TRUE, so no access path reads anything
/// for it (Oracle's `NULL IS NOT NULL` filter): a kept index plan run with
/// a NULL bind would otherwise match no key column and walk the whole
/// index, and a literal `= NULL` would scan the table.
#[test]
fn a_comparison_with_null_reads_nothing_whatever_the_plan() {
    let (_db, mut s) = analyzed();
    let sql = "SELECT b FROM t WHERE a = ?";
    let first = run(&mut s, sql, &[Value::Int(7)]);
    assert_eq!(
        first.get(Stat::IndexDescents),
        1,
        "an index probe: {first:?}"
    );
    let null = run(&mut s, sql, &[Value::Null]);
    assert_eq!(parse_counters(&null), (1, 0, 0, 1), "the kept plan");
    assert_eq!(null.get(Stat::IndexDescents), 0, "{null:?}");
    assert_eq!(null.get(Stat::IndexEntriesExamined), 0, "{null:?}");
    assert_eq!(gets(&null), 0, "{null:?}");
    for sql in [
        "SELECT b FROM t WHERE a = NULL",
        "SELECT /*+ FULL(t) */ b FROM t WHERE b < NULL AND a > 0",
        "SELECT COUNT(*) FROM t WHERE pad <> NULL",
    ] {
        let st = run(&mut s, sql, &[]);
        assert_eq!(gets(&st), 0, "{sql}: {st:?}");
        assert_eq!(st.get(Stat::TableScanBlocks), 0, "{sql}: {st:?}");
    }
    // An IS NULL test is not a comparison: it still reads.
    let st = run(&mut s, "SELECT COUNT(*) FROM t WHERE pad IS NULL", &[]);
    assert!(gets(&st) > 0, "{st:?}");
}
