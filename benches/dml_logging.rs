//! DML and logging benchmarks (claims C03, C04, C10): commit latency with
//! fast vs force commit, group commit as committers grow, and single-row
//! insert throughput. Each database is built in a temp dir outside the
//! timed loop.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use blocklab::{ColType, Column, CommitMode, Config, Database, Value};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn open(mode: CommitMode) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = Config {
        commit_mode: mode,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg).expect("open");
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .expect("create");
    (dir, db)
}

/// One transaction: one row inserted, then commit.
fn commit_latency(c: &mut Criterion) {
    let mut g = c.benchmark_group("commit_latency");
    for (name, mode) in [("fast", CommitMode::Fast), ("force", CommitMode::Force)] {
        let (_dir, db) = open(mode);
        let mut s = db.session();
        let mut i = 0i64;
        g.bench_function(name, |b| {
            b.iter(|| {
                i += 1;
                s.insert("t", vec![Value::Int(i), Value::Text("x".repeat(50))])
                    .unwrap();
                s.commit().unwrap();
            })
        });
    }
    g.finish();
}

/// `n` threads each committing one-row transactions; the time per commit
/// across all threads (group commit shares log syncs among committers).
fn group_commit(c: &mut Criterion) {
    let mut g = c.benchmark_group("group_commit");
    for n in [1usize, 2, 4, 8] {
        let (_dir, db) = open(CommitMode::Fast);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let barrier = Barrier::new(n);
                let start = Instant::now();
                std::thread::scope(|sc| {
                    for t in 0..n {
                        let (db, barrier) = (&db, &barrier);
                        sc.spawn(move || {
                            let mut s = db.session();
                            barrier.wait();
                            for i in 0..iters {
                                s.insert(
                                    "t",
                                    vec![Value::Int((t as i64) << 40 | i as i64), Value::Null],
                                )
                                .unwrap();
                                s.commit().unwrap();
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// Single-row inserts inside one transaction (committed every 10,000 rows
/// outside the measurement's concern: commit cost is amortised away).
fn insert_rows(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_rows");
    g.throughput(Throughput::Elements(1));
    let (_dir, db) = open(CommitMode::Fast);
    let mut s = db.session();
    let mut i = 0i64;
    g.bench_function("single_row_in_one_txn", |b| {
        b.iter(|| {
            i += 1;
            s.insert("t", vec![Value::Int(i), Value::Text("y".repeat(50))])
                .unwrap();
            if i % 10_000 == 0 {
                s.commit().unwrap();
            }
        })
    });
    s.commit().unwrap();
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    targets = commit_latency, group_commit, insert_rows
}
criterion_main!(benches);
