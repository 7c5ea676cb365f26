//! Array insert (`Session::insert_array`, and every multi-row SQL insert:
//! `execute_array`, `INSERT … SELECT`, a VALUES list): the rows go into a
//! table block as many at a time as fit, in one logged change with one undo
//! record, where a row-at-a-time insert logs one redo record and one undo
//! record per row (Oracle's array insert does the same).
//!
//! What must hold, besides the counters:
//! - the rows are all there, at the rowids returned, in order;
//! - a reader whose snapshot is older sees none of them, before and after
//!   the commit; a rollback takes every one back;
//! - free slots below the HWM are reused as a row-at-a-time insert would;
//! - the log miner lists one INSERT per row (and one UNDO per row after a
//!   rollback).

use blocklab::logminer::{mine, MineOptions, MinedOp};
use blocklab::{ColType, Column, Config, Database, Row, RowId, Session, Stat, Value};

fn config() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 512,
        background_writer: false,
        ..Config::default()
    }
}

fn table(s: &mut Session) {
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
}

fn rows(ids: std::ops::Range<i64>) -> Vec<Row> {
    ids.map(|i| vec![Value::Int(i), Value::Text(format!("row {i:05}"))])
        .collect()
}

fn count_and_sum(s: &mut Session, as_of: Option<u64>) -> (i64, i64) {
    let sql = match as_of {
        Some(scn) => format!("SELECT COUNT(*), SUM(id) FROM t AS OF SCN {scn}"),
        None => "SELECT COUNT(*), SUM(id) FROM t".to_string(),
    };
    let r = s.execute(&sql).unwrap();
    let n = r.rows[0][0].as_int().unwrap();
    let sum = r.rows[0][1].as_int().unwrap_or(0);
    (n, sum)
}

fn distinct_blocks(rowids: &[RowId]) -> u64 {
    let mut b: Vec<u32> = rowids.iter().map(|r| r.block.0).collect();
    b.sort_unstable();
    b.dedup();
    b.len() as u64
}

#[test]
fn one_undo_record_per_block_instead_of_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    let mut s = db.session();
    table(&mut s);
    s.commit().unwrap();

    let before = s.stats();
    let rowids = s.insert_array("t", rows(0..1000)).unwrap();
    s.commit().unwrap();
    let array = s.stats().diff(&before);

    // The rows, at the rowids returned, in order.
    assert_eq!(rowids.len(), 1000);
    for (i, rid) in rowids.iter().enumerate() {
        let got = s.get("t", *rid).unwrap().expect("row at its rowid");
        assert_eq!(got[0], Value::Int(i as i64));
    }
    let blocks = distinct_blocks(&rowids);
    assert!(
        blocks > 10,
        "1,000 rows of ~20 bytes fill many 2 KiB blocks"
    );
    assert_eq!(array.get(Stat::UndoRecordsWritten), blocks);
    assert_eq!(array.get(Stat::RowsProcessed), 1000);

    // The same rows one at a time, into a second table.
    s.create_table(
        "u",
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    s.commit().unwrap();
    let before = s.stats();
    for r in rows(0..1000) {
        s.insert("u", r).unwrap();
    }
    s.commit().unwrap();
    let single = s.stats().diff(&before);
    assert_eq!(single.get(Stat::UndoRecordsWritten), 1000);
    // Each row-at-a-time insert logs its row, an undo record and the
    // transaction's new chain head; the array insert logs those per block.
    assert!(
        array.get(Stat::RedoSize) * 3 < single.get(Stat::RedoSize),
        "redo: array {} vs row at a time {}",
        array.get(Stat::RedoSize),
        single.get(Stat::RedoSize)
    );
    assert!(array.get(Stat::DbBlockGets) * 10 < single.get(Stat::DbBlockGets));
}

#[test]
fn older_readers_do_not_see_the_rows_and_rollback_takes_them_all_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    let mut s = db.session();
    table(&mut s);
    let first: Vec<u32> = s
        .insert_array("t", rows(0..500))
        .unwrap()
        .iter()
        .map(|r| r.block.0)
        .collect();
    s.commit().unwrap();
    // Free slots below the HWM: every other row deleted and committed.
    s.execute("DELETE FROM t WHERE MOD(id, 2) = 1").unwrap();
    s.commit().unwrap();
    let old_scn = db.current_scn().0;
    let old = count_and_sum(&mut s, None);
    assert_eq!(old.0, 250);

    // Committed: visible now, not as of the older SCN.
    let rowids = s.insert_array("t", rows(1000..1200)).unwrap();
    let mut other = db.session();
    assert_eq!(
        count_and_sum(&mut other, None),
        old,
        "uncommitted: invisible"
    );
    s.commit().unwrap();
    let sum_new: i64 = (1000..1200).sum();
    let now = (450, old.1 + sum_new);
    assert_eq!(count_and_sum(&mut other, None), now);
    assert_eq!(count_and_sum(&mut other, Some(old_scn)), old);
    // The 250 slots the DELETE freed, in the first load's blocks, took all
    // 200 new rows (of the same size): no block above them was used.
    assert!(rowids.iter().all(|r| first.contains(&r.block.0)));

    // A rolled-back array insert leaves nothing behind.
    let rowids = s.insert_array("t", rows(2000..2300)).unwrap();
    assert_eq!(
        count_and_sum(&mut s, None).0,
        750,
        "the session sees its rows"
    );
    assert_eq!(
        count_and_sum(&mut other, None),
        now,
        "uncommitted: invisible"
    );
    s.rollback().unwrap();
    assert_eq!(count_and_sum(&mut s, None), now);
    for rid in &rowids {
        assert_eq!(s.get("t", *rid).unwrap(), None);
    }
}

#[test]
fn the_log_miner_lists_each_row() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path(), config()).unwrap();
        let mut s = db.session();
        table(&mut s);
        s.insert_array("t", rows(0..300)).unwrap();
        s.commit().unwrap();
        s.insert_array("t", rows(300..350)).unwrap();
        s.rollback().unwrap();
        db.close().unwrap();
    }
    let m = mine(dir.path(), &MineOptions::default()).unwrap();
    let of_t = |op: MinedOp| {
        m.records
            .iter()
            .filter(|r| r.op == op && r.table.as_deref() == Some("t"))
            .collect::<Vec<_>>()
    };
    let inserts = of_t(MinedOp::Insert);
    assert_eq!(inserts.len(), 350);
    let ids: Vec<i64> = inserts
        .iter()
        .map(|r| r.values[0].value.as_int().unwrap())
        .collect();
    assert_eq!(ids, (0..350).collect::<Vec<_>>());
    assert_eq!(inserts.iter().filter(|r| r.rolled_back).count(), 50);
    assert_eq!(of_t(MinedOp::Undo).len(), 50);
}
