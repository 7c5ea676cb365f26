//! Direct-path loads (claims C13, C14): above the HWM, without the buffer
//! cache or undo for the rows, LOGGING or NOLOGGING, published by commit.

use std::ops::Bound::Unbounded;
use std::sync::Arc;
use std::time::Duration;

use blocklab::btree::key::Order;
use blocklab::storage::SimBackend;
use blocklab::{ColType, Column, Config, Database, Error, Row, Stat, StatsSnapshot, Value};

fn cfg() -> Config {
    Config {
        block_size: 4096,
        background_writer: false,
        lock_timeout: Duration::from_secs(10),
        log_file_size: 2 << 20,
        log_files: 3,
        ..Config::default()
    }
}

fn table(db: &Database, name: &str) {
    let mut s = db.session();
    s.create_table(
        name,
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
}

fn rows(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| vec![Value::Int(i), Value::Text(format!("{i:>60}"))])
        .collect()
}

/// Loads 2000 rows conventionally (None) or by direct path; returns the
/// loading session's counters and the table's contents.
fn load(mode: Option<bool>) -> (StatsSnapshot, Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    table(&db, "t");
    let mut s = db.session();
    if let Some(logging) = mode {
        s.set_table_logging("t", logging).unwrap();
    }
    let before = s.stats();
    match mode {
        None => {
            for r in rows(2000) {
                s.insert("t", r).unwrap();
            }
        }
        Some(_) => {
            s.insert_append("t", rows(2000)).unwrap();
        }
    }
    s.commit().unwrap();
    let d = s.stats().diff(&before);
    let contents = s.scan("t").unwrap().into_iter().map(|(_, r)| r).collect();
    (d, contents)
}

#[test]
fn conventional_direct_and_nologging_loads_give_the_same_rows_at_different_costs() {
    let (conv, a) = load(None);
    let (logged, b) = load(Some(true));
    let (nolog, c) = load(Some(false));
    assert_eq!(a.len(), 2000);
    assert_eq!(a, b);
    assert_eq!(a, c);
    // 2000 rows of ~75 bytes: the row data is about 150 KB.
    let data = 2000 * 75;
    // Direct path writes whole blocks itself: no buffer gets for them, and
    // undo only for the segment header's HWM.
    assert_eq!(
        logged.get(Stat::PhysicalWritesDirect),
        logged.get(Stat::DirectBlocksFormatted)
    );
    assert!(logged.get(Stat::PhysicalWritesDirect) > 30);
    assert!(
        logged.get(Stat::UndoChangeBytes) < 200,
        "{}",
        logged.get(Stat::UndoChangeBytes)
    );
    assert!(conv.get(Stat::UndoChangeBytes) > 100_000);
    assert!(logged.get(Stat::DbBlockGets) < 20 && conv.get(Stat::DbBlockGets) > 6000);
    // LOGGING: redo near the data size (block images); NOLOGGING: near zero.
    let lr = logged.get(Stat::RedoSize);
    assert!(lr > data && lr < 2 * data, "logging redo {lr}");
    assert!(
        nolog.get(Stat::RedoSize) < 2000,
        "nologging redo {}",
        nolog.get(Stat::RedoSize)
    );
    assert!(conv.get(Stat::RedoSize) > lr);
}

#[test]
fn rows_are_invisible_until_commit_and_a_rollback_leaves_the_hwm() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    table(&db, "t");
    let (_, hwm0) = db.segment_info("t").unwrap();
    let mut loader = db.session();
    let load = loader.insert_append("t", rows(500)).unwrap();
    assert_eq!((load.hwm_before, load.rows), (hwm0, 500));
    let mut other = db.session();
    assert_eq!(
        other.scan("t").unwrap().len(),
        0,
        "not visible before commit"
    );
    // The loading session may not touch the table again (ORA-12838).
    assert!(matches!(
        loader.scan("t"),
        Err(Error::DirectPathPending { .. })
    ));
    assert!(matches!(
        loader.insert("t", rows(1).remove(0)),
        Err(Error::DirectPathPending { .. })
    ));
    loader.rollback().unwrap();
    assert_eq!(other.scan("t").unwrap().len(), 0);
    let (size_after_rollback, hwm1) = db.segment_info("t").unwrap();
    assert_eq!(hwm1, hwm0, "a rollback leaves the HWM where it was");
    assert!(
        size_after_rollback > load.blocks,
        "the space stays allocated"
    );
    loader.set_table_logging("t", false).unwrap();
    let load = loader.insert_append("t", rows(500)).unwrap();
    loader.commit().unwrap();
    assert_eq!(other.scan("t").unwrap().len(), 500);
    assert_eq!(db.segment_info("t").unwrap().1, load.hwm_after);
}

// ANCHOR: hwm_reuse
#[test]
fn direct_path_never_reuses_free_space_below_the_hwm_but_a_conventional_insert_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    table(&db, "t");
    let mut s = db.session();
    s.insert_append("t", rows(1000)).unwrap();
    s.commit().unwrap();
    let (_, hwm) = db.segment_info("t").unwrap();
    s.delete_where("t", |_| true).unwrap();
    s.commit().unwrap();
    s.insert_append("t", rows(1000)).unwrap();
    s.commit().unwrap();
    let (_, hwm2) = db.segment_info("t").unwrap();
    assert!(
        hwm2 >= 2 * hwm - 1,
        "direct path grew the segment: {hwm} -> {hwm2}"
    );
    s.delete_where("t", |_| true).unwrap();
    s.commit().unwrap();
    for r in rows(1000) {
        s.insert("t", r).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(
        db.segment_info("t").unwrap().1,
        hwm2,
        "conventional inserts reused the space"
    );
}
// ANCHOR_END: hwm_reuse

#[test]
fn other_sessions_dml_waits_for_the_loader_while_their_queries_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    table(&db, "t");
    let mut setup = db.session();
    let old = setup
        .insert("t", vec![Value::Int(-1), Value::Null])
        .unwrap();
    setup.commit().unwrap();
    let mut loader = db.session();
    loader.insert_append("t", rows(100)).unwrap();
    let waits_before = db.system_stats().get(Stat::LockWaits);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            let mut other = db.session();
            assert_eq!(other.scan("t").unwrap().len(), 1, "a query does not wait");
            // An UPDATE of a row that was there before the load waits for it.
            other
                .update("t", old, vec![Value::Int(-2), Value::Null])
                .unwrap();
            other.commit().unwrap();
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while db.system_stats().get(Stat::LockWaits) == waits_before {
            assert!(
                std::time::Instant::now() < deadline,
                "the update never waited"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        loader.commit().unwrap();
        h.join().unwrap();
    });
    let all = db.session().scan("t").unwrap();
    assert_eq!(all.len(), 101);
    assert!(all.iter().any(|(_, r)| r[0] == Value::Int(-2)));
}

#[test]
fn indexes_are_maintained_and_a_foreign_key_falls_back_to_conventional() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg()).unwrap();
    table(&db, "t");
    let mut s = db.session();
    s.create_index("t_id", "t", &[("id", Order::Desc)]).unwrap();
    s.insert_append("t", rows(700)).unwrap();
    s.commit().unwrap();
    assert_eq!(
        s.index_scan("t_id", Unbounded, Unbounded).unwrap().len(),
        700
    );
    s.add_constraint(
        "t",
        "t_pk",
        blocklab::ConstraintSpec::PrimaryKey {
            columns: &["id"],
            index: "t_id",
        },
    )
    .unwrap();
    table(&db, "c");
    s.add_constraint(
        "c",
        "c_fk",
        blocklab::ConstraintSpec::ForeignKey {
            columns: &["id"],
            parent: "t",
            parent_index: "t_id",
        },
    )
    .unwrap();
    let load = s.insert_append("c", rows(10)).unwrap();
    assert_eq!((load.rows, load.blocks), (10, 0), "loaded conventionally");
    assert_eq!(s.stats().get(Stat::DirectPathFallbacks), 1);
    s.commit().unwrap();
    // A duplicate key in a direct load is refused by the primary key.
    assert!(matches!(
        s.insert_append("t", rows(1)),
        Err(Error::UniqueViolation { .. })
    ));
}

#[test]
fn committed_loads_survive_a_crash_and_an_uncommitted_one_leaves_nothing() {
    for logging in [true, false] {
        let be = SimBackend::new();
        let db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
        table(&db, "t");
        let mut s = db.session();
        s.set_table_logging("t", logging).unwrap();
        s.insert_append("t", rows(800)).unwrap();
        s.commit().unwrap();
        let mut u = db.session();
        u.insert_append("t", rows(300)).unwrap();
        // Power off: the second load never committed.
        let crashed = be.crash();
        std::mem::forget(u);
        std::mem::forget(s);
        std::mem::forget(db);
        let db = Database::open_with(Arc::new(crashed), cfg()).unwrap();
        let got = db.session().scan("t").unwrap();
        assert_eq!(got.len(), 800, "logging = {logging}");
    }
}

#[test]
fn a_fault_at_any_io_of_a_load_leaves_it_all_there_or_not_at_all() {
    // Fail the n-th I/O from the start of the load on (persistently, like a
    // dying disk), then cut the power: after recovery the table holds the
    // whole load if its commit returned Ok, and none of it otherwise.
    for logging in [true, false] {
        let (mut failed, mut last_committed) = (0, false);
        for n in 1..=40 {
            let be = SimBackend::new();
            let db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
            table(&db, "t");
            let mut s = db.session();
            s.create_index("t_id", "t", &[("id", Order::Asc)]).unwrap();
            s.insert("t", rows(1).remove(0)).unwrap();
            s.commit().unwrap();
            s.set_table_logging("t", logging).unwrap();
            be.fail_op(n, true);
            let committed = s.insert_append("t", rows(400)).is_ok() && s.commit().is_ok();
            let crashed = be.crash();
            std::mem::forget(s);
            std::mem::forget(db);
            let db = Database::open_with(Arc::new(crashed), cfg()).unwrap();
            let mut r = db.session();
            let n_rows = r.scan("t").unwrap().len();
            let n_index = r.index_scan("t_id", Unbounded, Unbounded).unwrap().len();
            let want = if committed { 401 } else { 1 };
            assert_eq!(
                (n_rows, n_index),
                (want, want),
                "logging {logging}, fault at I/O {n}"
            );
            failed += usize::from(!committed);
            last_committed = committed;
        }
        // The sweep hit every I/O of the load and its commit, and went past
        // them. The 400 rows fill 8 blocks, written as one run (one write);
        // NOLOGGING, that write and the commit's data sync, redo write and
        // redo sync are all the I/Os there are to fail: 4.
        assert!(failed >= 4, "faults hit the load {failed} times");
        assert!(last_committed, "the last fault came after the commit");
    }
}
