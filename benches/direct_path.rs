//! Direct-path loads (claim C13): rows/s for a large load done
//! conventionally (one transaction), by direct path with LOGGING, and by
//! direct path with NOLOGGING; with 0 and 2 indexes. Before timing, each
//! variant's redo size is printed once, so the output shows why.
//!
//! `cargo bench --bench direct_path` loads 1,000,000 rows per run;
//! `cargo test --bench direct_path` (test mode) loads 20,000.

use std::time::{Duration, Instant};

use blocklab::btree::key::Order;
use blocklab::{ColType, Column, Config, Database, Row, Stat, Value};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn rows_per_run() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        20_000
    }
}

fn rows(n: usize) -> Vec<Row> {
    // Narrow rows: two integers and a short text.
    (0..n as i64)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(i.wrapping_mul(7919) % 100_003),
                Value::Text(format!("r{i}")),
            ]
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Mode {
    Conventional,
    Logging,
    Nologging,
}

/// A fresh database with the table and `indexes` indexes (outside timing).
fn fresh(indexes: usize) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = Config {
        log_file_size: 64 << 20,
        undo_blocks: 4096,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg).expect("open");
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("a", ColType::Integer),
            Column::new("b", ColType::Integer),
            Column::new("c", ColType::Text),
        ],
    )
    .expect("create");
    for (i, col) in ["a", "b"].iter().take(indexes).enumerate() {
        s.create_index(&format!("t_ix{i}"), "t", &[(col, Order::Asc)])
            .expect("index");
    }
    (dir, db)
}

/// Loads `data` and commits; returns the elapsed time and the redo size.
fn load(db: &Database, data: Vec<Row>, mode: Mode) -> (Duration, u64) {
    let mut s = db.session();
    if matches!(mode, Mode::Nologging) {
        s.set_table_logging("t", false).expect("nologging");
    }
    let before = s.stats();
    let start = Instant::now();
    match mode {
        Mode::Conventional => {
            for r in data {
                s.insert("t", r).expect("insert");
            }
        }
        Mode::Logging | Mode::Nologging => {
            s.insert_append("t", data).expect("load");
        }
    }
    s.commit().expect("commit");
    (start.elapsed(), s.stats().diff(&before).get(Stat::RedoSize))
}

fn direct_path(c: &mut Criterion) {
    let n = rows_per_run();
    let mut g = c.benchmark_group("load");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for indexes in [0usize, 2] {
        for (name, mode) in [
            ("conventional", Mode::Conventional),
            ("direct_logging", Mode::Logging),
            ("direct_nologging", Mode::Nologging),
        ] {
            let (_d, db) = fresh(indexes);
            let (t, redo) = load(&db, rows(n), mode);
            eprintln!("{name} with {indexes} indexes: {n} rows in {t:.2?}, redo {redo} bytes");
            g.bench_with_input(
                BenchmarkId::new(format!("{name}_{indexes}ix"), n),
                &n,
                |b, &n| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let (_d, db) = fresh(indexes);
                            total += load(&db, rows(n), mode).0;
                        }
                        total
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_millis(200));
    targets = direct_path
}
criterion_main!(benches);
