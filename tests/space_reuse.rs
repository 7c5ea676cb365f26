//! Free space is found again, and the cache keeps what a scan needs.
//!
//! What must hold:
//! - a block whose rows were deleted goes on its segment's free list, and
//!   the list is not cut at some fixed count: deleting from 100 blocks and
//!   inserting as many rows again puts every row back in those blocks;
//! - the rollback of an insert puts its blocks back on the free list: the
//!   same rows inserted again land in the same blocks, the HWM stays;
//! - the buffer cache's clock sweep writes and reuses cold dirty frames
//!   rather than evicting the blocks of a scan that fits the cache: the
//!   second scan of such a table reads nothing from disk.

use std::collections::BTreeSet;

use blocklab::{ColType, Column, Config, Database, RowId, Session, Stat, Value};

fn config(frames: usize) -> Config {
    Config {
        block_size: 2048,
        cache_frames: frames,
        undo_blocks: 256,
        background_writer: false,
        ..Config::default()
    }
}

fn table(s: &mut Session, name: &str) {
    s.create_table(
        name,
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    s.commit().unwrap();
}

/// A 214-byte row (218 with its slot header): 8 to a 2 KiB block.
fn row(i: i64) -> Vec<Value> {
    vec![Value::Int(i), Value::Text(format!("{i:0>200}"))]
}

fn blocks(rowids: &[RowId]) -> BTreeSet<u32> {
    rowids.iter().map(|r| r.block.0).collect()
}

#[test]
fn deleted_space_in_more_than_64_blocks_is_all_reused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config(512)).unwrap();
    let mut s = db.session();
    table(&mut s, "t");
    let first: Vec<RowId> = (0..800).map(|i| s.insert("t", row(i)).unwrap()).collect();
    s.commit().unwrap();
    let used = blocks(&first);
    // 800 rows, 8 to a block.
    assert_eq!(used.len(), 100);
    for r in &first {
        s.delete("t", *r).unwrap();
    }
    s.commit().unwrap();
    let again: Vec<RowId> = (0..800).map(|i| s.insert("t", row(i)).unwrap()).collect();
    s.commit().unwrap();
    // Every block went back on the free list (not only the first 64), so
    // no row needed a block above the old HWM.
    assert_eq!(blocks(&again), used);
}

#[test]
fn a_rolled_back_insert_gives_its_blocks_back_to_the_free_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config(512)).unwrap();
    let mut s = db.session();
    table(&mut s, "t");
    let gone: Vec<RowId> = (0..80).map(|i| s.insert("t", row(i)).unwrap()).collect();
    s.rollback().unwrap();
    let used = blocks(&gone);
    // 80 rows, 8 to a block; each block left the free list when full.
    assert_eq!(used.len(), 10);
    let kept: Vec<RowId> = (0..80).map(|i| s.insert("t", row(i)).unwrap()).collect();
    s.commit().unwrap();
    assert_eq!(blocks(&kept), used);
}

#[test]
fn a_scan_that_fits_the_cache_is_not_reread_because_of_cold_dirty_frames() {
    let dir = tempfile::tempdir().unwrap();
    // 48 frames: the scanned table (1 header + 20 blocks) fits, but not
    // beside the ~30 dirty blocks of the other table and its undo.
    let db = Database::open(dir.path(), config(48)).unwrap();
    let mut s = db.session();
    table(&mut s, "scanned");
    table(&mut s, "dirty");
    for i in 0..180 {
        s.insert("scanned", row(i)).unwrap();
    }
    s.commit().unwrap();
    db.checkpoint().unwrap();
    // Dirty frames nobody reads again: 27 table blocks, their undo.
    for i in 0..240 {
        s.insert("dirty", row(i)).unwrap();
    }
    s.commit().unwrap();
    let first = s.stats();
    assert_eq!(s.scan("scanned").unwrap().len(), 180);
    let second = s.stats();
    assert_eq!(s.scan("scanned").unwrap().len(), 180);
    let reread = s.stats().diff(&second).get(Stat::PhysicalReads);
    // The first scan read the table (20 blocks, its header maybe cached);
    // the second reads nothing: every block it needs is still cached.
    assert!(second.diff(&first).get(Stat::PhysicalReads) >= 20);
    assert_eq!(reread, 0);
}
