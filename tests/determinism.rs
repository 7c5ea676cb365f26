//! The counters are exact: one single-session workload, run twice from
//! scratch, gives identical statistics (the book, chapter 11).

use blocklab::{ColType, Column, Config, Database, Stat, StatsSnapshot, Value};

fn workload() -> (StatsSnapshot, StatsSnapshot) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        block_size: 4096,
        // Small enough that the workload evicts blocks and reads them back.
        cache_frames: 32,
        undo_blocks: 64,
        background_writer: false,
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
    let mut ids = Vec::new();
    for i in 0..3000 {
        ids.push(
            s.insert("t", vec![Value::Int(i), Value::Text(format!("{i:>40}"))])
                .unwrap(),
        );
        if i % 100 == 99 {
            s.commit().unwrap();
        }
    }
    for (n, id) in ids.iter().enumerate().step_by(7) {
        s.update(
            "t",
            *id,
            vec![Value::Int(n as i64), Value::Text("short".into())],
        )
        .unwrap();
    }
    s.rollback().unwrap();
    for id in ids.iter().step_by(11) {
        s.delete("t", *id).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(s.scan("t").unwrap().len(), 3000 - 3000usize.div_ceil(11));
    (s.stats(), db.system_stats())
}

#[test]
fn a_single_session_workload_gives_identical_counters_twice() {
    let (a, sys_a) = workload();
    let (b, _) = workload();
    assert_eq!(a, b, "session counters differ between two identical runs");
    // The workload really did the kinds of work being compared.
    for stat in [
        Stat::ConsistentGets,
        Stat::DbBlockGets,
        Stat::PhysicalReads,
        Stat::RedoSize,
        Stat::UndoChangeBytes,
        Stat::RollbackUndoApplied,
        Stat::UserCommits,
        Stat::UserRollbacks,
    ] {
        assert!(a.get(stat) > 0, "{} is zero", stat.name());
    }
    // Invariant: physical reads never exceed logical reads.
    assert!(a.get(Stat::PhysicalReads) <= a.logical_reads());
    // Blocks were written by eviction (system counters), ahead of a checkpoint.
    assert!(sys_a.get(Stat::PhysicalWrites) > 0);
}
