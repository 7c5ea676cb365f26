//! Row locks, waits, deadlocks and the serializable write conflict.

use std::sync::Barrier;
use std::time::Duration;

use blocklab::{ColType, Column, Config, Database, Error, Isolation, RowId, Stat, Value};

fn open(dir: &std::path::Path, lock_timeout: Duration) -> Database {
    let cfg = Config {
        block_size: 4096,
        cache_frames: 128,
        lock_timeout,
        background_writer: false,
        ..Config::default()
    };
    Database::open(dir, cfg).unwrap()
}

fn accounts(db: &Database) -> Vec<RowId> {
    let mut s = db.session();
    s.create_table(
        "acct",
        &[
            Column::new("id", ColType::Integer),
            Column::new("bal", ColType::Integer),
        ],
    )
    .unwrap();
    let ids = (0..4)
        .map(|i| {
            s.insert("acct", vec![Value::Int(i), Value::Int(100)])
                .unwrap()
        })
        .collect();
    s.commit().unwrap();
    ids
}

#[test]
fn a_writer_waits_for_the_row_lock_and_then_sees_the_committed_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Duration::from_secs(10));
    let ids = accounts(&db);
    let mut a = db.session();
    a.update("acct", ids[0], vec![Value::Int(0), Value::Int(50)])
        .unwrap();
    let started = Barrier::new(2);
    let waits_before = db.system_stats().get(Stat::LockWaits);
    std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            let mut b = db.session();
            started.wait();
            // Blocks until `a` commits.
            b.update_where(
                "acct",
                |r| r[0] == Value::Int(0),
                |r| vec![r[0].clone(), Value::Int(r[1].as_int().unwrap() + 1)],
            )
            .unwrap();
            b.commit().unwrap();
            b.stats()
        });
        started.wait();
        until_someone_waits(&db, waits_before);
        a.commit().unwrap();
        let stats = h.join().unwrap();
        assert_eq!(stats.get(Stat::LockWaits), 1);
    });
    let rows = db.session().scan("acct").unwrap();
    // The waiter re-read the committed 50, not the 100 its snapshot saw.
    assert_eq!(rows[0].1[1], Value::Int(51));
}

#[test]
fn a_lock_wait_times_out_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Duration::from_millis(100));
    let ids = accounts(&db);
    let mut a = db.session();
    a.update("acct", ids[1], vec![Value::Int(1), Value::Int(0)])
        .unwrap();
    let mut b = db.session();
    let e = b
        .update("acct", ids[1], vec![Value::Int(1), Value::Int(7)])
        .unwrap_err();
    assert!(matches!(e, Error::LockTimeout { millis: 100, .. }), "{e}");
    assert_eq!(b.stats().get(Stat::LockTimeouts), 1);
}

// ANCHOR: deadlock
#[test]
fn a_deadlock_is_detected_and_reported_to_one_victim() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Duration::from_secs(20));
    let ids = accounts(&db);
    let barrier = Barrier::new(2);
    let results: Vec<Result<(), Error>> = std::thread::scope(|sc| {
        let hs: Vec<_> = [(0usize, 1usize), (1, 0)]
            .into_iter()
            .map(|(first, second)| {
                let (db, ids, barrier) = (&db, &ids, &barrier);
                sc.spawn(move || {
                    let mut s = db.session();
                    s.update(
                        "acct",
                        ids[first],
                        vec![Value::Int(first as i64), Value::Int(1)],
                    )
                    .unwrap();
                    barrier.wait();
                    let r = s.update(
                        "acct",
                        ids[second],
                        vec![Value::Int(second as i64), Value::Int(2)],
                    );
                    match r {
                        Ok(_) => s.commit().map(|_| ()),
                        Err(e) => {
                            s.rollback().unwrap();
                            Err(e)
                        }
                    }
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let victims = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Deadlock { .. })))
        .count();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!((victims, winners), (1, 1), "{results:?}");
    assert_eq!(db.system_stats().get(Stat::Deadlocks), 1);
}
// ANCHOR_END: deadlock

// ANCHOR: deadlock_victim
/// Oracle's rule: the session that has waited longest detects the deadlock
/// (its wait times out first) and gets ORA-00060; only its statement is
/// rolled back, its transaction keeps its locks, and the session that
/// closed the cycle waits on until the victim ends. Here `b` waits first
/// (for `a`'s row 0), then `a` closes the cycle (asking for `b`'s row 1):
/// `b` is the victim, not `a`.
#[test]
fn the_session_that_waited_first_is_the_deadlock_victim() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Duration::from_secs(30));
    let ids = accounts(&db);
    let mut a = db.session();
    let mut b = db.session();
    a.update("acct", ids[0], vec![Value::Int(0), Value::Int(10)])
        .unwrap();
    b.update("acct", ids[1], vec![Value::Int(1), Value::Int(20)])
        .unwrap();
    let a_waiting = a.wait_probe();
    let (row0, row1) = (ids[0], ids[1]);
    std::thread::scope(|sc| {
        let waits = db.system_stats().get(Stat::LockWaits);
        let hb = sc.spawn(move || {
            // Waits for `a`'s row 0 ...
            let e = b
                .update("acct", row0, vec![Value::Int(0), Value::Int(21)])
                .unwrap_err();
            (b, e)
        });
        until_someone_waits(&db, waits);
        let waits = db.system_stats().get(Stat::LockWaits);
        // ... then `a` asks for `b`'s row 1 and closes the cycle.
        let ha = sc.spawn(move || {
            a.update("acct", row1, vec![Value::Int(1), Value::Int(11)])
                .unwrap();
            a
        });
        until_someone_waits(&db, waits);
        let (mut b, e) = hb.join().unwrap();
        assert!(matches!(e, Error::Deadlock { .. }), "{e}");
        assert_eq!(b.stats().get(Stat::Deadlocks), 1);
        // The victim's transaction is still open with its first change,
        // so `a` is still waiting for it.
        assert!(b.xid().is_some());
        assert_eq!(
            b.get("acct", row1).unwrap(),
            Some(vec![Value::Int(1), Value::Int(20)])
        );
        assert!(a_waiting.load(std::sync::atomic::Ordering::SeqCst));
        // The victim ends its transaction: `a` gets row 1.
        b.rollback().unwrap();
        let mut a = ha.join().unwrap();
        assert_eq!(a.stats().get(Stat::Deadlocks), 0);
        a.commit().unwrap();
    });
    assert_eq!(db.system_stats().get(Stat::Deadlocks), 1);
    let rows = db.session().scan("acct").unwrap();
    assert_eq!(rows[0].1[1], Value::Int(10));
    assert_eq!(rows[1].1[1], Value::Int(11));
}
// ANCHOR_END: deadlock_victim

#[test]
fn serializable_write_to_a_row_changed_after_the_snapshot_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Duration::from_secs(5));
    let ids = accounts(&db);
    let mut s1 = db.session();
    s1.set_isolation(Isolation::Serializable).unwrap();
    assert_eq!(s1.scan("acct").unwrap()[2].1[1], Value::Int(100));
    let mut s2 = db.session();
    s2.update("acct", ids[2], vec![Value::Int(2), Value::Int(1)])
        .unwrap();
    s2.commit().unwrap();
    // s1 still reads its snapshot ...
    assert_eq!(s1.scan("acct").unwrap()[2].1[1], Value::Int(100));
    // ... may change rows nobody changed ...
    s1.update("acct", ids[3], vec![Value::Int(3), Value::Int(3)])
        .unwrap();
    // ... but not the row changed after its snapshot.
    let e = s1
        .update("acct", ids[2], vec![Value::Int(2), Value::Int(2)])
        .unwrap_err();
    assert!(matches!(e, Error::CannotSerialize { .. }), "{e}");
    // Under READ COMMITTED the same write succeeds.
    s1.rollback().unwrap();
    s1.set_isolation(Isolation::ReadCommitted).unwrap();
    s1.update("acct", ids[2], vec![Value::Int(2), Value::Int(2)])
        .unwrap();
    s1.commit().unwrap();
}

/// Waits until some session of `db` is waiting for a lock (the statistic
/// is counted as the wait begins), so a test orders its steps by what
/// happened, not by how long it slept.
fn until_someone_waits(db: &Database, before: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.system_stats().get(Stat::LockWaits) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "nobody started waiting"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A typed searched change (`update_where` / `delete_where`) whose row was
/// changed by another transaction between its snapshot and its lock, so
/// that it no longer matches, restarts on a new snapshot as a SQL UPDATE or
/// DELETE does (Oracle's write consistency), instead of skipping the row.
#[test]
fn a_typed_searched_change_restarts_when_a_found_row_stops_matching() {
    for delete in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path(), Duration::from_secs(10));
        let ids = accounts(&db);
        let mut a = db.session();
        // Row 0 leaves the set `bal = 100` once `a` commits.
        a.update("acct", ids[0], vec![Value::Int(0), Value::Int(7)])
            .unwrap();
        let started = Barrier::new(2);
        let waits_before = db.system_stats().get(Stat::LockWaits);
        let (n, stats) = std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                let mut b = db.session();
                started.wait();
                let matches = |r: &Vec<Value>| r[1] == Value::Int(100);
                let before = b.stats();
                // Finds rows 0–3 in its snapshot, then waits for row 0's lock.
                let n = if delete {
                    b.delete_where("acct", matches).unwrap()
                } else {
                    b.update_where("acct", matches, |r| vec![r[0].clone(), Value::Int(1)])
                        .unwrap()
                };
                b.commit().unwrap();
                (n, b.stats().diff(&before))
            });
            started.wait();
            until_someone_waits(&db, waits_before);
            a.commit().unwrap();
            h.join().unwrap()
        });
        assert_eq!(n, 3, "delete = {delete}: rows 1–3 only");
        assert_eq!(stats.get(Stat::StatementRestarts), 1, "delete = {delete}");
        assert_eq!(stats.get(Stat::RowsProcessed), 3, "delete = {delete}");
        let rows = db.session().scan("acct").unwrap();
        let bals: Vec<&Value> = rows.iter().map(|(_, r)| &r[1]).collect();
        if delete {
            assert_eq!(bals, [&Value::Int(7)]);
        } else {
            assert_eq!(
                bals,
                [
                    &Value::Int(7),
                    &Value::Int(1),
                    &Value::Int(1),
                    &Value::Int(1)
                ]
            );
        }
    }
}

/// When a READ COMMITTED searched UPDATE restarts: Oracle compares the
/// consistent-read values of the columns its WHERE clause reads with the
/// current values of the row it locked, and restarts when any of them
/// differs — even if the row still matches (Kyte, *Expert Oracle Database
/// Architecture*, "Write Consistency"). A change to a column the WHERE
/// clause does not read never restarts it: the UPDATE changes the current
/// version. `other` is what the blocking transaction does to row 0 before
/// it commits; the waiting SQL UPDATE is
/// `UPDATE acct SET bal = bal + 1 WHERE bal >= 50`.
// ANCHOR: rc_restart_rule
#[test]
fn a_read_committed_update_restarts_exactly_when_a_where_column_changed() {
    // (row 0 as the blocker commits it, restarts expected, final row 0)
    let cases = [
        // bal is read by the WHERE clause and changed, but still matches:
        // Oracle restarts.
        ([0, 60], 1, [0, 61]),
        // bal changed so that the row no longer matches: restart, and the
        // row is left alone.
        ([0, 10], 1, [0, 10]),
        // Only id changed, which the WHERE clause does not read: no
        // restart; the update applies to the current version.
        ([9, 100], 0, [9, 101]),
    ];
    for (other, restarts, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path(), Duration::from_secs(10));
        let ids = accounts(&db);
        let mut a = db.session();
        a.update(
            "acct",
            ids[0],
            other.iter().map(|&v| Value::Int(v)).collect(),
        )
        .unwrap();
        let started = Barrier::new(2);
        let waits_before = db.system_stats().get(Stat::LockWaits);
        let stats = std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                let mut b = db.session();
                started.wait();
                let before = b.stats();
                b.execute("UPDATE acct SET bal = bal + 1 WHERE bal >= 50")
                    .unwrap();
                b.execute("COMMIT").unwrap();
                b.stats().diff(&before)
            });
            started.wait();
            until_someone_waits(&db, waits_before);
            a.commit().unwrap();
            h.join().unwrap()
        });
        assert_eq!(
            stats.get(Stat::StatementRestarts),
            restarts,
            "blocker set row 0 to {other:?}"
        );
        let row0 = db.session().get("acct", ids[0]).unwrap().unwrap();
        assert_eq!(
            row0,
            want.iter().map(|&v| Value::Int(v)).collect::<Vec<_>>()
        );
    }
}
// ANCHOR_END: rc_restart_rule

/// A script driver whose sessions wait for locks as the shell's do: until
/// the holder ends (`lock_timeout` = `Duration::MAX`).
fn shell_like(dir: &std::path::Path) -> Database {
    open(dir, Duration::MAX)
}

fn driver<'a>(db: &'a Database, out: &'a mut Vec<u8>) -> blocklab::script::Driver<'a> {
    use blocklab::script::{Driver, ScriptOptions};
    Driver::new(db, ScriptOptions::default(), out)
}

const TWO_SESSIONS_SETUP: &str = "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER);\n\
    INSERT INTO acct VALUES (1, 100);\nCOMMIT;\n\
    UPDATE acct SET bal = bal - 10 WHERE id = 1;\n\
    \\connect b\nUPDATE acct SET bal = bal + 10 WHERE id = 1;\n";

#[test]
fn two_sessions_at_human_speed_wait_longer_than_the_old_ten_second_timeout() {
    // Issue 19: the two-session exercise failed at typing speed because a
    // lock wait gave up after 10 s. Here b waits 11 s for main's COMMIT
    // and then goes on.
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out);
    d.feed_text(TWO_SESSIONS_SETUP).unwrap();
    std::thread::sleep(Duration::from_secs(11));
    d.feed_text("\\connect main\nCOMMIT;\n\\wait b\n\\connect b\nCOMMIT;\nSELECT bal FROM acct;\n")
        .unwrap();
    let outcome = d.finish_outcome().unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(outcome.sql_errors + outcome.client_errors, 0, "{out}");
    assert!(out.contains("[b] (finished) UPDATE"), "{out}");
    // 100 - 10 + 10: no update lost.
    assert!(out.contains("\n100\n"), "{out}");
}

#[test]
fn a_statement_typed_into_a_waiting_session_is_answered_at_once() {
    // Before, the driver waited for b's blocked UPDATE before running the
    // next statement typed in b: the shell froze until the lock timeout
    // (forever, with an indefinite one). Now it says b is waiting and
    // what to do; b's pending statement is untouched.
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out);
    d.feed_text(TWO_SESSIONS_SETUP).unwrap();
    d.feed_text("SELECT 1 AS one;\n\\wait b\n").unwrap();
    d.feed_text("\\connect main\nCOMMIT;\n\\wait b\n").unwrap();
    let outcome = d.finish_outcome().unwrap();
    let out = String::from_utf8(out).unwrap();
    // The SELECT and the first \wait b: two client errors, no SQL error.
    assert_eq!((outcome.sql_errors, outcome.client_errors), (0, 2), "{out}");
    assert!(
        out.contains(
            "ERROR: BLK-00100: session b is waiting for a lock (UPDATE acct SET bal = bal + 10 \
             WHERE id = 1), this statement was not run: \\connect the session that holds the \
             lock and COMMIT or ROLLBACK there, then \\wait b"
        ),
        "{out}"
    );
    assert!(out.contains("\\wait would never return"), "{out}");
    assert!(!out.contains("one\n---"), "the SELECT did not run: {out}");
    assert!(out.contains("[b] (finished) UPDATE"), "{out}");
}

#[test]
fn a_script_that_ends_with_a_blocked_session_does_not_hang() {
    // main never commits: at the end it disconnects first (rolling back),
    // which lets b's UPDATE finish; with an indefinite lock timeout,
    // waiting for b first would never end.
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out);
    d.feed_text(TWO_SESSIONS_SETUP).unwrap();
    let outcome = d.finish_outcome().unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(outcome.sql_errors, 0, "{out}");
    assert!(
        out.ends_with(
            "[b] (finished) UPDATE acct SET bal = bal + 10 WHERE id = 1\n1 row updated.\n\n"
        ),
        "{out}"
    );
}

#[test]
fn wait_main_works_before_main_ran_anything() {
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out);
    d.feed_text("\\connect b\n\\wait main\n").unwrap();
    let outcome = d.finish_outcome().unwrap();
    assert_eq!(
        outcome.client_errors,
        0,
        "{}",
        String::from_utf8_lossy(&out)
    );
}

/// `acct` with one row, and a session outside any script that has updated
/// it without committing: the transaction of another client.
fn held_outside(db: &Database) -> blocklab::Session {
    let mut s = db.session();
    s.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)")
        .unwrap();
    s.execute("INSERT INTO acct VALUES (1, 100)").unwrap();
    s.execute("COMMIT").unwrap();
    s.execute("UPDATE acct SET bal = bal - 10 WHERE id = 1")
        .unwrap();
    s
}

#[test]
fn a_script_waits_for_a_lock_held_outside_it() {
    // Issue 19: a script's statement after one that waits for another
    // client's lock was refused with BLK-00100. A script waits instead,
    // until that client commits; here the client commits 300 ms later
    // (the wait does not depend on how long).
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut other = held_outside(&db);
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out);
    d.feed_text("UPDATE acct SET bal = bal + 10 WHERE id = 1;\n")
        .unwrap();
    let outcome = std::thread::scope(|sc| {
        sc.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            other.commit().unwrap();
        });
        d.feed_text("COMMIT;\nSELECT bal FROM acct;\n").unwrap();
        d.finish_outcome().unwrap()
    });
    let out = String::from_utf8(out).unwrap();
    assert_eq!((outcome.sql_errors, outcome.client_errors), (0, 0), "{out}");
    assert!(out.contains("[main] (finished) UPDATE"), "{out}");
    assert!(out.contains("Commit complete."), "{out}");
    // 100 - 10 (the other client) + 10 (the script): no update lost.
    assert!(out.contains("\n100\n"), "{out}");
}

#[test]
fn a_prompt_is_answered_at_once_even_when_the_lock_is_held_outside() {
    // The same wait typed at an interactive prompt: BLK-00100 at once (a
    // person should not be frozen), and the pending UPDATE goes on once
    // the other client commits.
    let dir = tempfile::tempdir().unwrap();
    let db = shell_like(dir.path());
    let mut other = held_outside(&db);
    let mut out = Vec::new();
    let mut d = driver(&db, &mut out).interactive(true);
    d.feed_text("UPDATE acct SET bal = bal + 10 WHERE id = 1;\nCOMMIT;\n")
        .unwrap();
    other.commit().unwrap();
    d.feed_text("\\wait main\nCOMMIT;\n").unwrap();
    let outcome = d.finish_outcome().unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!((outcome.sql_errors, outcome.client_errors), (0, 1), "{out}");
    assert!(
        out.contains("ERROR: BLK-00100: session main is waiting for a lock"),
        "{out}"
    );
    assert!(out.contains("[main] (finished) UPDATE"), "{out}");
}
