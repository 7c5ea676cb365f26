//! Calls as Oracle counts them: a query's rows come back in fetch calls of
//! ARRAYSIZE rows (`fetch calls`); `user calls` counts parse, execute and
//! fetch calls; each fetch call of a streaming full scan gets the block it
//! resumes in again, so consistent gets fall as the array grows
//! (≈ blocks + rows / arraysize).

use std::sync::Arc;

use blocklab::script::{run_script, ScriptOptions};
use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Stat, StatsSnapshot, Value};

const ROWS: u64 = 2000;

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
        "INSERT INTO t SELECT value, value % 10, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' FROM generate_series(1, 2000)",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    db
}

fn query(s: &mut Session, sql: &str, fetch: usize) -> StatsSnapshot {
    s.set_fetch_size(fetch);
    s.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .stats
}

// ANCHOR: arraysize
#[test]
fn fetch_calls_user_calls_and_gets_follow_the_array_size() {
    let db = database();
    let mut s = db.session();
    let sql = "SELECT * FROM t";
    // One fetch call brings every row: the scan's own gets, no re-get.
    let scan = query(&mut s, sql, 5000).get(Stat::ConsistentGets);
    for a in [1u64, 2, 10, 15, 100, 1000, 2000] {
        let st = query(&mut s, sql, a as usize);
        // Fetch until a call comes back short: rows / a + 1 calls.
        let fetches = ROWS / a + 1;
        assert_eq!(st.get(Stat::FetchCalls), fetches, "arraysize {a}");
        // A soft parse call, an execute call, the fetch calls.
        assert_eq!(st.get(Stat::UserCalls), 2 + fetches, "arraysize {a}");
        // Every fetch call after the first resumes the scan in a block it
        // released: one more consistent get each.
        assert_eq!(
            st.get(Stat::ConsistentGets),
            scan + fetches - 1,
            "arraysize {a}"
        );
        assert_eq!(st.get(Stat::RowsProcessed), ROWS);
    }
}
// ANCHOR_END: arraysize

#[test]
fn rows_held_by_a_sort_or_an_aggregate_are_fetched_without_gets() {
    let db = database();
    let mut s = db.session();
    for sql in [
        "SELECT * FROM t ORDER BY b",
        "SELECT DISTINCT a FROM t",
        "SELECT a, COUNT(*) FROM t GROUP BY a",
    ] {
        let all = query(&mut s, sql, 5000);
        let small = query(&mut s, sql, 10);
        assert_eq!(small.get(Stat::FetchCalls), ROWS / 10 + 1, "{sql}");
        // The scan ran to the end inside the execute call; the fetches
        // read the sorted rows from memory.
        assert_eq!(
            small.get(Stat::ConsistentGets),
            all.get(Stat::ConsistentGets),
            "{sql}"
        );
    }
}

#[test]
fn a_one_row_query_is_three_user_calls_and_dml_two() {
    let db = database();
    let mut s = db.session();
    let st = query(&mut s, "SELECT COUNT(*) FROM t", 15);
    // parse, execute, one fetch (1 row < 15: the client knows it is done).
    assert_eq!(st.get(Stat::FetchCalls), 1);
    assert_eq!(st.get(Stat::UserCalls), 3);
    let st = s.execute("UPDATE t SET b = 0 WHERE a = 1").unwrap().stats;
    // parse and execute; DML fetches nothing.
    assert_eq!(st.get(Stat::FetchCalls), 0);
    assert_eq!(st.get(Stat::UserCalls), 2);
}

#[test]
fn a_held_cursor_is_an_execute_call_and_its_fetches() {
    let db = database();
    let mut s = db.session();
    let before = s.stats();
    let p = s.prepare("SELECT a FROM t WHERE b = ?").unwrap();
    // The parse call.
    assert_eq!(s.stats().diff(&before).get(Stat::UserCalls), 1);
    s.set_fetch_size(50);
    let st = s.execute_prepared(&p, &[Value::Int(3)]).unwrap().stats;
    // 200 rows: 4 full fetches and an empty one, plus the execute call.
    assert_eq!(st.get(Stat::FetchCalls), 5);
    assert_eq!(st.get(Stat::UserCalls), 1 + 5);
    // A typed API call is one user call.
    let before = s.stats();
    s.scan("t").unwrap();
    assert_eq!(s.stats().diff(&before).get(Stat::UserCalls), 1);
}

#[test]
fn set_arraysize_in_a_script_sets_the_fetch_size() {
    let db = database();
    let script = "SET AUTOTRACE TRACEONLY\nSET ARRAYSIZE 100\nSELECT * FROM t;\nSET ARRAYSIZE 0\n";
    let mut out = Vec::new();
    run_script(&db, script, &ScriptOptions::default(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let calls = out
        .lines()
        .find(|l| l.contains("fetch calls"))
        .unwrap_or_else(|| panic!("no fetch calls in\n{out}"));
    // 2000 rows by 100: 20 full fetches and an empty one.
    assert_eq!(calls.split_whitespace().next(), Some("21"), "{out}");
    assert!(out.contains("SP2-0267"), "{out}");
}

/// A fetch call's re-get finds its block in the cache, even when the
/// table is larger than the cache: the call resumes in the block the
/// previous call stopped in, which nothing has displaced since. Before the
/// re-gets were made in their place in the scan, they came after the whole
/// scan had passed through the cache and read every block a second time
/// from disk (569 physical reads for a 284-block table in 64 frames).
#[test]
fn re_gets_find_their_block_cached_when_the_table_outgrows_the_cache() {
    let cfg = Config {
        block_size: 2048,
        cache_frames: 16,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (a INTEGER, pad TEXT)",
        "INSERT INTO t SELECT value, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' FROM generate_series(1, 2000)",
        "COMMIT",
        "SELECT * FROM t",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let (_, hwm) = db.segment_info("t").unwrap();
    assert!(hwm as usize > 16 * 2, "the table is larger than the cache");
    let one_call = query(&mut s, "SELECT * FROM t", 5000);
    let st = query(&mut s, "SELECT * FROM t", 15);
    assert_eq!(st.get(Stat::FetchCalls), ROWS / 15 + 1);
    assert_eq!(
        st.get(Stat::ConsistentGets),
        one_call.get(Stat::ConsistentGets) + ROWS / 15
    );
    // Only the scan's own misses, at most one per block below the HWM
    // and the segment header (`hwm` counts both): every re-get is a hit.
    assert!(
        st.get(Stat::PhysicalReads) <= hwm as u64,
        "{} physical reads for {hwm} blocks",
        st.get(Stat::PhysicalReads)
    );
}
