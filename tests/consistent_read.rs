//! Consistent reads and snapshot too old (claims C05–C07).

use std::time::Duration;

use blocklab::{ColType, Column, Config, Database, Error, Stat, Value};

fn cfg(undo_blocks: u32, autoextend: bool) -> Config {
    Config {
        block_size: 4096,
        cache_frames: 256,
        undo_blocks,
        undo_autoextend: autoextend,
        // One ring, so the order in which undo blocks are reused is easy to follow.
        undo_segments: 1,
        undo_retention: Duration::ZERO,
        background_writer: false,
        ..Config::default()
    }
}

fn setup(db: &Database, rows: i64) -> Vec<blocklab::RowId> {
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("v", ColType::Integer),
        ],
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..rows {
        ids.push(s.insert("t", vec![Value::Int(i), Value::Int(0)]).unwrap());
        if i % 50 == 49 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    ids
}

// ANCHOR: cr_rollback
#[test]
fn a_snapshot_reads_the_state_as_of_its_scn_by_rolling_clones_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(64, true)).unwrap();
    let ids = setup(&db, 10);
    let q = db.current_scn();
    let mut writer = db.session();
    // 25 committed changes to row 3 after the snapshot, each its own transaction.
    for n in 1..=25 {
        writer
            .update("t", ids[3], vec![Value::Int(3), Value::Int(n)])
            .unwrap();
        writer.commit().unwrap();
    }
    let mut reader = db.session();
    let before = reader.stats();
    let old = reader.scan_as_of("t", q).unwrap();
    let d = reader.stats().diff(&before);
    assert!(
        old.iter().all(|(_, r)| r[1] == Value::Int(0)),
        "the snapshot sees no change"
    );
    // All 10 rows share one block: one clone, rolled back through 25 undo records.
    assert_eq!(d.get(Stat::CrBlocksCreated), 1);
    assert_eq!(d.get(Stat::UndoRecordsAppliedCr), 25);
    // The current read needs no clone.
    let before = reader.stats();
    let now = reader.scan("t").unwrap();
    assert_eq!(now[3].1[1], Value::Int(25));
    assert_eq!(reader.stats().diff(&before).get(Stat::CrBlocksCreated), 0);
}
// ANCHOR_END: cr_rollback

#[test]
fn uncommitted_changes_of_another_session_are_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(64, true)).unwrap();
    let ids = setup(&db, 5);
    let mut w = db.session();
    w.update("t", ids[0], vec![Value::Int(0), Value::Int(99)])
        .unwrap();
    w.insert("t", vec![Value::Int(5), Value::Int(5)]).unwrap();
    w.delete("t", ids[1]).unwrap();
    let mut r = db.session();
    let rows = r.scan("t").unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].1[1], Value::Int(0));
    // The writer sees its own changes.
    let own = w.scan("t").unwrap();
    assert_eq!(own.len(), 5);
    assert_eq!(own[0].1[1], Value::Int(99));
    w.commit().unwrap();
    let rows = r.scan("t").unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].1[1], Value::Int(99));
}

/// Runs the snapshot-too-old script: a snapshot, then `changes` committed
/// transactions each updating row 0, then a query as of the snapshot.
fn query_after_changes(
    undo_blocks: u32,
    changes: i64,
) -> (Result<usize, Error>, blocklab::StatsSnapshot) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(undo_blocks, false)).unwrap();
    let ids = setup(&db, 4);
    let q = db.current_scn();
    let mut w = db.session();
    for n in 1..=changes {
        w.update("t", ids[0], vec![Value::Int(0), Value::Int(n)])
            .unwrap();
        w.commit().unwrap();
    }
    let mut r = db.session();
    let res = r.scan_as_of("t", q).map(|rows| rows.len());
    (res, r.stats())
}

// ANCHOR: snapshot_too_old_exact
#[test]
fn snapshot_too_old_fires_exactly_when_the_needed_undo_was_reused() {
    // Each transaction takes its own undo block from a ring of 8. The setup
    // (CREATE TABLE, then the inserts) used ring blocks 0 and 1; changes 1..6
    // after the snapshot use blocks 2..7, changes 7 and 8 wrap onto blocks 0
    // and 1, and change 9 reuses block 2 — the undo of change 1, which the
    // query needs to see row 0 as of its snapshot.
    let mut first_failure = None;
    for changes in 1..=12 {
        let (res, stats) = query_after_changes(8, changes);
        match res {
            Ok(n) => assert_eq!(n, 4),
            Err(Error::SnapshotTooOld { .. }) => {
                assert_eq!(stats.get(Stat::SnapshotTooOld), 1);
                first_failure.get_or_insert(changes);
            }
            Err(e) => panic!("unexpected error {e}"),
        }
        if let Some(f) = first_failure {
            assert!(changes >= f);
        }
    }
    assert_eq!(
        first_failure,
        Some(9),
        "the first query to fail comes after 9 changes"
    );
    // With a larger undo the same script succeeds.
    let (res, stats) = query_after_changes(64, 12);
    assert_eq!(res.unwrap(), 4);
    assert_eq!(stats.get(Stat::UndoRecordsAppliedCr), 12);
}
// ANCHOR_END: snapshot_too_old_exact

#[test]
fn a_query_over_blocks_nobody_changed_never_fails_however_old() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(8, false)).unwrap();
    let mut s = db.session();
    s.create_table("quiet", &[Column::new("id", ColType::Integer)])
        .unwrap();
    s.insert("quiet", vec![Value::Int(1)]).unwrap();
    s.commit().unwrap();
    let ids = setup(&db, 4);
    let q = db.current_scn();
    for n in 1..=40 {
        s.update("t", ids[0], vec![Value::Int(0), Value::Int(n)])
            .unwrap();
        s.commit().unwrap();
    }
    let mut r = db.session();
    assert_eq!(r.scan_as_of("quiet", q).unwrap().len(), 1);
    assert!(matches!(
        r.scan_as_of("t", q),
        Err(Error::SnapshotTooOld { .. })
    ));
}

#[test]
fn fixed_undo_fails_the_writer_and_autoextend_grows() {
    // A single transaction larger than the whole undo: with fixed undo the
    // writer fails with a clear error; with autoextend the undo grows (C40).
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(4, false)).unwrap();
    let ids = setup(&db, 400);
    let mut s = db.session();
    let mut failed = None;
    for (n, id) in ids.iter().enumerate() {
        if let Err(e) = s.update("t", *id, vec![Value::Int(n as i64), Value::Int(1)]) {
            failed = Some(e);
            break;
        }
    }
    assert!(
        matches!(failed, Some(Error::UndoExhausted { .. })),
        "{failed:?}"
    );
    s.rollback().unwrap();
    assert!(db
        .session()
        .scan("t")
        .unwrap()
        .iter()
        .all(|(_, r)| r[1] == Value::Int(0)));

    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(4, true)).unwrap();
    let ids = setup(&db, 400);
    let mut s = db.session();
    for (n, id) in ids.iter().enumerate() {
        s.update("t", *id, vec![Value::Int(n as i64), Value::Int(1)])
            .unwrap();
    }
    s.commit().unwrap();
    assert!(s.stats().get(Stat::UndoExtends) > 0);
}

#[test]
fn snapshot_too_old_hits_an_index_scan_too() {
    // Index blocks are rolled back with undo like table blocks: a query
    // through the index, as of a snapshot older than undo that was reused,
    // fails the same way.
    use blocklab::btree::key::Order;
    use std::ops::Bound::Unbounded;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), cfg(8, false)).unwrap();
    let ids = setup(&db, 4);
    let mut s = db.session();
    s.create_index("t_v", "t", &[("v", Order::Asc)]).unwrap();
    let mut reader = db.session();
    reader
        .set_isolation(blocklab::Isolation::Serializable)
        .unwrap();
    assert_eq!(
        reader
            .index_scan("t_v", Unbounded, Unbounded)
            .unwrap()
            .len(),
        4
    );
    // Each committed update moves row 0's index entry (a delete and an
    // insert in the index leaf) and uses a fresh undo block of the 8.
    for n in 1..=12 {
        s.update("t", ids[0], vec![Value::Int(0), Value::Int(100 + n)])
            .unwrap();
        s.commit().unwrap();
    }
    let e = reader.index_scan("t_v", Unbounded, Unbounded).unwrap_err();
    // The index leaf is read first, so it is the block that fails.
    assert!(
        matches!(e, Error::SnapshotTooOld { block, .. } if block != ids[0].block.0),
        "{e}"
    );
}
