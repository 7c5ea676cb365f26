//! Undo retention with autoextend (the book, chapter 4): committed undo is
//! not overwritten while it is younger than `undo_retention`, even after
//! the transaction-table slots of its transactions have been taken again,
//! and it is reused once it is older. Time is a manual clock the test moves;
//! nothing sleeps.

use std::time::Duration;

use blocklab::clock::Clock;
use blocklab::{ColType, Column, Config, Database, Error, RowId, Stat, Value};

const RETENTION_MS: u64 = 60_000;

fn cfg(clock: &Clock) -> Config {
    Config {
        // 2 KiB blocks: a transaction table of 31 slots, taken again soon.
        block_size: 2048,
        cache_frames: 256,
        // One segment and a ring of 8 blocks, with room to grow.
        undo_segments: 1,
        undo_blocks: 8,
        undo_autoextend: true,
        undo_max_blocks: 4096,
        undo_retention: Duration::from_millis(RETENTION_MS),
        background_writer: false,
        clock: clock.clone(),
        ..Config::default()
    }
}

fn table(db: &Database) -> Vec<RowId> {
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("v", ColType::Integer),
        ],
    )
    .unwrap();
    let ids = (0..10)
        .map(|i| s.insert("t", vec![Value::Int(i), Value::Int(0)]).unwrap())
        .collect();
    s.commit().unwrap();
    ids
}

/// `n` transactions, each updating row 3 once and committing: each fills
/// one undo block of its own and takes one transaction-table slot.
fn commits(db: &Database, row: RowId, n: i64) {
    let mut w = db.session();
    for k in 1..=n {
        w.update("t", row, vec![Value::Int(3), Value::Int(k)])
            .unwrap();
        w.commit().unwrap();
    }
}

#[test]
fn unexpired_undo_survives_the_reuse_of_its_transaction_slots() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_000_000);
    let db = Database::open(dir.path(), cfg(&clock)).unwrap();
    let ids = table(&db);
    let q = db.current_scn();
    let before = db.system_stats();
    // 100 commits within the retention (the clock does not move): more
    // than the 31 slots, so every slot is taken again two or three times.
    commits(&db, ids[3], 100);
    let d = db.system_stats().diff(&before);
    // No unexpired undo was stolen: the ring grew instead.
    assert_eq!(d.get(Stat::UndoUnexpiredStolen), 0);
    assert!(d.get(Stat::UndoExtends) > 0);
    assert!(
        db.undo_blocks().unwrap() >= 100,
        "one undo block per commit"
    );
    // So a reader as of the SCN before them all rolls the block back
    // through the 100 changes (on the old code the undo of the first
    // commits was reused as soon as their slots were: snapshot too old).
    let mut reader = db.session();
    let s0 = reader.stats();
    let old = reader
        .scan_as_of("t", q)
        .unwrap_or_else(|e| panic!("retention not honoured: {e}"));
    assert!(old.iter().all(|(_, r)| r[1] == Value::Int(0)));
    assert_eq!(
        reader.stats().diff(&s0).get(Stat::UndoRecordsAppliedCr),
        100,
        "one undo record per change"
    );
}

#[test]
fn undo_older_than_the_retention_is_reused_and_the_ring_stops_growing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_000_000);
    let db = Database::open(dir.path(), cfg(&clock)).unwrap();
    let ids = table(&db);
    let q = db.current_scn();
    commits(&db, ids[3], 100);
    let grown = db.undo_blocks().unwrap();
    // Once every commit so far is older than the retention, the next
    // commits reuse its undo blocks: the ring does not grow. (25 commits,
    // fewer than the 31 slots: none of them has to take a slot from a
    // commit younger than the retention, which would make the engine keep
    // older undo longer, see `undo::ring_state`.)
    clock.advance(RETENTION_MS);
    let before = db.system_stats();
    commits(&db, ids[3], 25);
    let d = db.system_stats().diff(&before);
    assert_eq!(d.get(Stat::UndoExtends), 0);
    assert_eq!(d.get(Stat::UndoUnexpiredStolen), 0);
    assert_eq!(db.undo_blocks().unwrap(), grown);
    // The reused undo is gone: a reader as of the SCN before the first
    // hundred needs it and fails.
    let mut reader = db.session();
    match reader.scan_as_of("t", q) {
        Err(Error::SnapshotTooOld { .. }) => {}
        other => panic!("expected snapshot too old, got {other:?}"),
    }
}

#[test]
fn one_millisecond_short_of_the_retention_the_undo_is_still_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_000_000);
    let db = Database::open(dir.path(), cfg(&clock)).unwrap();
    let ids = table(&db);
    commits(&db, ids[3], 100);
    let grown = db.undo_blocks().unwrap();
    clock.advance(RETENTION_MS - 1);
    let before = db.system_stats();
    commits(&db, ids[3], 100);
    let d = db.system_stats().diff(&before);
    // Every older block is still unexpired: the ring grows again.
    assert_eq!(d.get(Stat::UndoUnexpiredStolen), 0);
    assert!(d.get(Stat::UndoExtends) > 0);
    assert!(db.undo_blocks().unwrap() >= grown + 100);
}
