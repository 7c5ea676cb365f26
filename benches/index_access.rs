//! Index access benchmarks (claims C01, C30): what each secondary index
//! costs a single-row insert, what an update of an indexed column costs
//! against one of a plain column, a point lookup through an index, and a
//! range scan through a composite index on a table whose rows are stored in
//! key order (clustered) or in random order (scattered).
//!
//! Every database is built in a temp dir outside the timed loop. Times
//! explain nothing by themselves, so each group also prints (once, to
//! stderr) the counters behind its numbers: counters count work and are the
//! same on every machine (see `stats`).
//!
//! Data sizes: the lookup and range tables have 100,000 rows under
//! `cargo bench`; under `cargo test --bench index_access` (which runs each
//! benchmark once, at opt-level 1) they have 10,000. `BLOCKLAB_BENCH_ROWS`
//! overrides both.

use std::time::{Duration, Instant};

use blocklab::access::{CmpOp, Pred};
use blocklab::btree::key::Order;
use blocklab::operators::Access;
use blocklab::{ColType, Column, Config, Database, Row, RowId, Session, Stat, Value};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// The six integer columns of the insert, update and range tables.
const COLS: [&str; 6] = ["c1", "c2", "c3", "c4", "c5", "c6"];

/// Rows per transaction while loading and inside the DML benchmarks.
const COMMIT_EVERY: u64 = 1_000;

/// Rows sharing one `c1` value in the range tables: `c1 BETWEEN x AND x+9`
/// then matches 10 * 100 = 1,000 rows.
const ROWS_PER_C1: u64 = 100;

/// Whether criterion runs in test mode (each benchmark once): `cargo bench`
/// passes `--bench`, `cargo test --bench` does not.
fn test_mode() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// Rows in the lookup and range tables.
fn table_rows() -> u64 {
    if let Some(n) = std::env::var("BLOCKLAB_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if test_mode() {
        10_000
    } else {
        100_000
    }
}

/// Rows already in the table before the insert benchmark starts, so that
/// every index has grown past a single leaf.
fn insert_preload() -> u64 {
    if test_mode() {
        2_000
    } else {
        10_000
    }
}

/// Rows of the update table (the update benchmark rotates over all of them).
const UPDATE_ROWS: u64 = 10_000;

/// A seeded pseudo-random number (splitmix64): the same data on every run,
/// without a dependency.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A pseudo-random value in `0..1_000_000` for column `col` of row `i`.
fn rand_val(i: u64, col: u64) -> i64 {
    (mix(i.wrapping_mul(8).wrapping_add(col)) % 1_000_000) as i64
}

/// Row `i` of the insert and update tables: a random value in every
/// column, so each index takes its keys at random leaf positions (the
/// common case for a secondary index).
fn dml_row(i: u64) -> Row {
    (0..COLS.len() as u64)
        .map(|c| Value::Int(rand_val(i, c)))
        .collect()
}

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(dir.path(), Config::default()).expect("open");
    (dir, db)
}

fn create_table(s: &mut Session, name: &str, cols: &[&str]) {
    let cols: Vec<Column> = cols
        .iter()
        .map(|c| Column::new(c, ColType::Integer))
        .collect();
    s.create_table(name, &cols).expect("create table");
}

/// Inserts `rows` in order, committing every `COMMIT_EVERY`; returns the rowids.
fn load(s: &mut Session, table: &str, rows: impl Iterator<Item = Row>) -> Vec<RowId> {
    let mut ids = Vec::new();
    for row in rows {
        ids.push(s.insert(table, row).expect("insert"));
        if (ids.len() as u64).is_multiple_of(COMMIT_EVERY) {
            s.commit().expect("commit");
        }
    }
    s.commit().expect("commit");
    ids
}

/// A Fisher-Yates shuffle of `0..n` driven by `mix`.
fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    for i in (1..v.len()).rev() {
        let j = (mix(seed ^ i as u64) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// C01: single-row inserts into a six-column table with 0, 1, 2, 3 or 5
/// single-column secondary indexes (on `c2`, `c3`, ...), committed every
/// 1,000 rows. Each index adds a descent, a leaf change, and the redo and
/// undo for it; the printed per-row counters show it.
fn insert_with_indexes(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_with_indexes");
    g.throughput(Throughput::Elements(1));
    for n in [0usize, 1, 2, 3, 5] {
        let (_dir, db) = open();
        let mut s = db.session();
        create_table(&mut s, "t", &COLS);
        for col in &COLS[1..=n] {
            s.create_index(&format!("t_{col}"), "t", &[(col, Order::Asc)])
                .expect("create index");
        }
        let preload = insert_preload();
        load(&mut s, "t", (0..preload).map(dml_row));

        // One fixed batch of 1,000 rows (commit included), counted.
        let before = s.stats();
        load(&mut s, "t", (preload..preload + COMMIT_EVERY).map(dml_row));
        let d = s.stats().diff(&before);
        let per_row = |stat| d.get(stat) as f64 / COMMIT_EVERY as f64;
        eprintln!(
            "insert_with_indexes/{n}: per row: {:.1} db block gets, {:.0} B redo, \
             {:.0} B undo change vectors, {:.1} index keys inserted",
            per_row(Stat::DbBlockGets),
            per_row(Stat::RedoSize),
            per_row(Stat::UndoChangeBytes),
            per_row(Stat::IndexKeysInserted),
        );

        let mut i = preload + COMMIT_EVERY;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                s.insert("t", dml_row(i)).unwrap();
                i += 1;
                if i.is_multiple_of(COMMIT_EVERY) {
                    s.commit().unwrap();
                }
            })
        });
        s.commit().expect("commit");
    }
    g.finish();
}

/// Updates one row by rowid (rotating over 10,000 rows), committed every
/// 1,000: changing the indexed `c2` deletes one index entry and inserts
/// another; changing the unindexed `c3` touches only the table block.
fn update(c: &mut Criterion) {
    let mut g = c.benchmark_group("update");
    for (name, col) in [("indexed_column", 1usize), ("non_indexed_column", 2)] {
        let (_dir, db) = open();
        let mut s = db.session();
        create_table(&mut s, "t", &COLS);
        s.create_index("t_c2", "t", &[("c2", Order::Asc)])
            .expect("create index");
        let mut rows: Vec<Row> = (0..UPDATE_ROWS).map(dml_row).collect();
        let mut ids = load(&mut s, "t", rows.iter().cloned());

        // One fixed batch of 1,000 updates (commit included), counted.
        let mut next = 0u64;
        let mut update_one = |s: &mut Session, next: &mut u64| {
            let j = (*next % UPDATE_ROWS) as usize;
            rows[j][col] = Value::Int(rand_val(UPDATE_ROWS + *next, col as u64));
            ids[j] = s.update("t", ids[j], rows[j].clone()).unwrap();
            *next += 1;
            if next.is_multiple_of(COMMIT_EVERY) {
                s.commit().unwrap();
            }
        };
        let before = s.stats();
        for _ in 0..COMMIT_EVERY {
            update_one(&mut s, &mut next);
        }
        let d = s.stats().diff(&before);
        let per_row = |stat| d.get(stat) as f64 / COMMIT_EVERY as f64;
        eprintln!(
            "update/{name}: per row: {:.1} db block gets, {:.0} B redo, \
             {:.0} B undo change vectors, {:.1} index keys inserted, {:.1} deleted",
            per_row(Stat::DbBlockGets),
            per_row(Stat::RedoSize),
            per_row(Stat::UndoChangeBytes),
            per_row(Stat::IndexKeysInserted),
            per_row(Stat::IndexKeysDeleted),
        );

        g.bench_function(name, |b| b.iter(|| update_one(&mut s, &mut next)));
        s.commit().expect("commit");
    }
    g.finish();
}

/// A point lookup `a = k` through an index on `a` (unique values) on the
/// large table, `k` drawn from a seeded sequence.
fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    let n = table_rows();
    let (_dir, db) = open();
    let mut s = db.session();
    create_table(&mut s, "t", &["a", "b", "c", "d", "e", "f"]);
    let t = Instant::now();
    // `a` takes the values 0..n in random order.
    let order = shuffled(n, 0xA11CE);
    load(
        &mut s,
        "t",
        order.iter().map(|&a| {
            let mut row = dml_row(a);
            row[0] = Value::Int(a as i64);
            row
        }),
    );
    s.create_index("t_a", "t", &[("a", Order::Asc)])
        .expect("create index");
    eprintln!(
        "lookup: built {n} rows and the index in {:.1?}",
        t.elapsed()
    );

    let access = || Access::Index {
        name: "t_a".into(),
        max_matching: None,
    };
    let key = |k: u64| (mix(k ^ 0x5EED) % n) as i64;
    let before = s.stats();
    let r = s
        .query("t", &Pred::cmp(0, CmpOp::Eq, key(0)), access())
        .expect("query");
    assert_eq!(r.rows.len(), 1, "a is unique");
    let d = s.stats().diff(&before);
    eprintln!(
        "lookup/unique_point: {} consistent gets ({} index descents, {} table blocks by rowid)",
        d.get(Stat::ConsistentGets),
        d.get(Stat::IndexDescents),
        d.get(Stat::TableBlockGetsByRowid),
    );

    let mut k = 0u64;
    g.bench_function("unique_point", |b| {
        b.iter(|| {
            k += 1;
            s.query("t", &Pred::cmp(0, CmpOp::Eq, key(k)), access())
                .unwrap()
        })
    });
    g.finish();
}

/// C30: `c1 BETWEEN x AND x+9` (1,000 rows) through an index on (c1, c2).
/// The same rows are loaded in `c1` order (clustered: consecutive index
/// entries point into the same table block, which stays pinned) or in a
/// shuffled order (scattered: nearly every entry visits another block).
fn range_scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("range_scan");
    let n = table_rows();
    let c1_values = n / ROWS_PER_C1;
    assert!(c1_values > 10, "the range table needs more than 1,000 rows");
    // Logical row `i`: c1 = i / 100, c2 = i % 100, the rest random.
    let row = |i: u64| {
        let mut r = dml_row(i);
        r[0] = Value::Int((i / ROWS_PER_C1) as i64);
        r[1] = Value::Int((i % ROWS_PER_C1) as i64);
        r
    };
    let between = |x: i64| Pred::Between {
        col: 0,
        low: Value::Int(x),
        high: Value::Int(x + 9),
        negated: false,
    };
    let access = || Access::Index {
        name: "t_c1_c2".into(),
        max_matching: None,
    };
    let start = |k: u64| (mix(k ^ 0xC30) % (c1_values - 9)) as i64;

    // Clustered: loaded in key order; scattered: the same rows shuffled.
    let order: Vec<(&str, Vec<u64>)> = vec![
        ("clustered", (0..n).collect()),
        ("scattered", shuffled(n, 0xC30)),
    ];
    for (name, order) in order {
        let (_dir, db) = open();
        let mut s = db.session();
        create_table(&mut s, "t", &COLS);
        let t = Instant::now();
        load(&mut s, "t", order.iter().map(|&i| row(i)));
        s.create_index("t_c1_c2", "t", &[("c1", Order::Asc), ("c2", Order::Asc)])
            .expect("create index");
        let built = t.elapsed();

        let before = s.stats();
        s.query("t", &Pred::And(vec![]), Access::Full)
            .expect("full scan");
        let table_blocks = s.stats().diff(&before).get(Stat::TableScanBlocks);

        let before = s.stats();
        let r = s.query("t", &between(start(0)), access()).expect("query");
        assert_eq!(r.rows.len() as u64, 10 * ROWS_PER_C1);
        let d = s.stats().diff(&before);
        eprintln!(
            "range_scan/{name}: {n} rows in {table_blocks} table blocks (built in {built:.1?}); \
             one 1,000-row range: {} table blocks visited by rowid, {} buffer is pinned, \
             {} consistent gets",
            d.get(Stat::TableBlockGetsByRowid),
            d.get(Stat::BufferIsPinned),
            d.get(Stat::ConsistentGets),
        );

        let mut k = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                k += 1;
                s.query("t", &between(start(k)), access()).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(10);
    targets = insert_with_indexes, update, lookup, range_scan
}
criterion_main!(benches);
