//! The redo ring is reused after checkpoints: a workload that writes many
//! times the ring's size of redo runs to the end (claim: log files are
//! reused after checkpoint).

use blocklab::{ColType, Column, Config, Database, Stat, Value};

fn run(background_writer: bool) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        block_size: 4096,
        cache_frames: 512,
        log_file_size: 256 * 1024,
        log_files: 3,
        background_writer,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg).unwrap();
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    // About 20 times the 768 KiB ring.
    for i in 0..60_000 {
        s.insert("t", vec![Value::Int(i), Value::Text("z".repeat(100))])
            .unwrap();
        if i % 1000 == 999 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    assert!(s.stats().get(Stat::RedoSize) > 20 * 768 * 1024);
    assert!(db.system_stats().get(Stat::Checkpoints) > 10);
    drop(s);
    drop(db);
    let db = Database::open(dir.path(), Config::default()).unwrap();
    assert_eq!(db.session().scan("t").unwrap().len(), 60_000);
}

#[test]
fn the_redo_ring_wraps_with_session_checkpoints() {
    run(false);
}

#[test]
fn the_redo_ring_wraps_with_the_background_writer() {
    run(true);
}
