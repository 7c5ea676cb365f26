//! Physical design benchmarks: the claims of the physical group whose
//! evidence is time.
//!
//! * **C30** — one index range scan, `k BETWEEN lo AND hi`, on the same
//!   rows loaded in key order (cluster ratio 100%) and displaced to about
//!   67%: the ordered table visits far fewer table blocks. Timed with a
//!   cache that holds the table (the difference is logical reads only, and
//!   small next to the per-row work) and with a 32-block cache (each block
//!   visited is read from the data file again: the difference the claim
//!   is about).
//! * **C32** — the same scan on a poorly clustered index (about 67%, and
//!   shuffled) with the rowids visited in index order or sorted first
//!   (`BATCH_TABLE_ACCESS_BY_ROWID`). The cache is far smaller than the
//!   table, so every query reads blocks from the data file again; sorting
//!   the rowids visits each table block once.
//! * **C06** — a SERIALIZABLE query whose snapshot is followed by 0, 10,
//!   100 and 1000 committed single-row changes: the more changes, the more
//!   undo the consistent read applies to its clones.
//!
//! The C30 and C32 tables are built once, in temp dirs, outside the timed
//! loops. C06 needs a fresh snapshot and fresh changes for every timed
//! query (clones made for one snapshot are reused by the next query of the
//! same snapshot), so each iteration makes its changes untimed before the
//! timed query; those changes are thousands of commits, and the database
//! runs on the simulated disk (`SimBackend`) so that they cost no fsync —
//! the timed query reads only the buffer cache either way.
//!
//! Each group prints once, to stderr, the counters behind its times
//! (cluster ratio, table blocks visited, physical reads, clones, undo
//! records applied): the times vary by machine, the counters do not.
//!
//! `cargo bench --bench physical_design` uses 20,000-row tables and up to
//! 1000 changes (about a minute and a half on two cores);
//! `cargo test --bench physical_design`
//! (test mode: each benchmark once) uses 2,000 rows and up to 100 changes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Stat, Value};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// Whether criterion runs in test mode (each benchmark once): `cargo bench`
/// passes `--bench`, `cargo test --bench` does not.
fn test_mode() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// Rows in each C30/C32 table.
fn table_rows() -> u64 {
    if test_mode() {
        2_000
    } else {
        20_000
    }
}

/// Rows in the range scanned: 5% of the table.
fn range_rows() -> u64 {
    table_rows() / 20
}

/// A seeded pseudo-random number (splitmix64): the same data every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Rows of `t(k, v, pad)`: a 100-byte pad makes about 60 rows a block.
fn row(k: u64) -> Vec<Value> {
    vec![
        Value::Int(k as i64),
        Value::Int((k % 100) as i64),
        Value::Text("x".repeat(100)),
    ]
}

/// The clustering factor of loading keys in `order` into blocks of
/// `per_block` rows: walking the keys in order, how many times the block
/// changes (the first block counts).
fn clustering_factor(order: &[u64], per_block: usize) -> usize {
    let mut block_of = vec![0; order.len()];
    for (p, &k) in order.iter().enumerate() {
        block_of[k as usize] = p / per_block;
    }
    1 + block_of.windows(2).filter(|w| w[0] != w[1]).count()
}

/// A load order of `0..n` with a cluster ratio at or just below `target`
/// (1.0: key order; 0.0: a full shuffle): random swaps from key order
/// until the ratio `(N − CF) / (N − blocks)` falls to the target.
fn load_order(n: u64, per_block: usize, target: f64) -> Vec<u64> {
    let mut order: Vec<u64> = (0..n).collect();
    let mut seed = 7u64;
    let mut rand = |below: u64| {
        seed += 1;
        mix(seed) % below
    };
    if target <= 0.0 {
        for i in (1..order.len()).rev() {
            order.swap(i, rand(i as u64 + 1) as usize);
        }
        return order;
    }
    let n_f = n as f64;
    let blocks = n.div_ceil(per_block as u64) as f64;
    let ratio = |o: &[u64]| (n_f - clustering_factor(o, per_block) as f64) / (n_f - blocks);
    // Swaps in rounds of 1% of the rows, the ratio recounted after each.
    while ratio(&order) > target {
        for _ in 0..(n / 100).max(1) {
            let (a, b) = (rand(n) as usize, rand(n) as usize);
            order.swap(a, b);
        }
    }
    order
}

/// Rows per block, measured: rows go into a probe table until one lands
/// in a new block.
fn rows_per_block(s: &mut Session) -> usize {
    s.execute("CREATE TABLE probe (k INTEGER, v INTEGER, pad TEXT)")
        .expect("probe");
    let first = s.insert("probe", row(0)).expect("insert").block;
    let mut n = 1;
    while s.insert("probe", row(n)).expect("insert").block == first {
        n += 1;
    }
    s.rollback().expect("rollback");
    n as usize
}

/// A database in a temp dir holding `t` loaded at `target` cluster ratio,
/// indexed on k, cleaned out and analyzed; returns the measured ratio.
fn clustered_table(target: f64, cache_frames: usize) -> (tempfile::TempDir, Database, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = Config {
        cache_frames,
        log_file_size: 8 << 20,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg).expect("open");
    let mut s = db.session();
    let per_block = rows_per_block(&mut s);
    s.execute("CREATE TABLE t (k INTEGER, v INTEGER, pad TEXT)")
        .expect("create");
    let order = load_order(table_rows(), per_block, target);
    for chunk in order.chunks(1000) {
        s.insert_rows("t", chunk.iter().map(|&k| row(k)).collect())
            .expect("load");
        s.commit().expect("commit");
    }
    s.execute("CREATE INDEX t_k ON t (k)").expect("index");
    // A full scan cleans out every block, so no query below pays for it.
    s.execute("SELECT /*+ FULL(t) */ COUNT(*) FROM t")
        .expect("scan");
    let st = s.analyze("t").expect("analyze");
    let ratio = st.index("t_k").map_or(0.0, |i| i.cluster_ratio);
    drop(s);
    (dir, db, ratio)
}

fn range_query(batched: bool) -> String {
    let lo = table_rows() / 3;
    let hi = lo + range_rows() - 1;
    let hint = if batched {
        "INDEX(t t_k) BATCH_TABLE_ACCESS_BY_ROWID(t)"
    } else {
        "INDEX(t t_k)"
    };
    format!("SELECT /*+ {hint} */ SUM(v) FROM t WHERE k BETWEEN {lo} AND {hi}")
}

/// C30: the same range scan on an ordered and a displaced table, with a
/// cache that holds the table (logical reads only) and with one far
/// smaller than the table (every table block visited is read again).
fn c30_clustering(c: &mut Criterion) {
    let mut g = c.benchmark_group("c30_range_scan");
    let sql = range_query(false);
    for (cache, frames) in [("cached", 4096), ("small_cache", 32)] {
        for (name, target) in [("ordered", 1.0), ("ratio_67", 0.67)] {
            let (_dir, db, ratio) = clustered_table(target, frames);
            let mut s = db.session();
            s.execute(&sql).expect("query");
            let r = s.execute(&sql).expect("query");
            eprintln!(
                "c30 {name}, {frames}-block cache: cluster ratio {:.1}%, {} rows in range: {} table blocks visited, {} consistent gets, {} physical reads",
                ratio * 100.0,
                range_rows(),
                r.stats.get(Stat::TableBlockGetsByRowid),
                r.stats.get(Stat::ConsistentGets),
                r.stats.get(Stat::PhysicalReads)
            );
            g.bench_function(
                BenchmarkId::new(format!("{name}_{cache}"), range_rows()),
                |b| b.iter(|| s.execute(&sql).expect("query")),
            );
        }
    }
    g.finish();
}

/// C32: rowids in index order vs sorted, on poorly clustered tables with
/// a cache much smaller than the table.
fn c32_batched(c: &mut Criterion) {
    let mut g = c.benchmark_group("c32_rowid_access");
    let frames = 32;
    for (table, target) in [("ratio_67", 0.67), ("shuffled", 0.0)] {
        let (_dir, db, ratio) = clustered_table(target, frames);
        let mut s = db.session();
        for (mode, batched) in [("index_order", false), ("rowids_sorted", true)] {
            let sql = range_query(batched);
            // One query first: the cache settles into the state every
            // timed query starts from.
            s.execute(&sql).expect("query");
            let r = s.execute(&sql).expect("query");
            eprintln!(
                "c32 {table} (cluster ratio {:.1}%, {frames}-block cache) {mode}: {} table blocks visited, {} physical reads",
                ratio * 100.0,
                r.stats.get(Stat::TableBlockGetsByRowid),
                r.stats.get(Stat::PhysicalReads)
            );
            g.bench_function(
                BenchmarkId::new(format!("{table}_{mode}"), range_rows()),
                |b| b.iter(|| s.execute(&sql).expect("query")),
            );
        }
    }
    g.finish();
}

/// C06: one consistent-mode full scan after `changes` committed changes
/// since its snapshot.
fn c06_consistent_read(c: &mut Criterion) {
    let rows: u64 = if test_mode() { 500 } else { 2_000 };
    let steps: &[u64] = if test_mode() {
        &[0, 10, 100]
    } else {
        &[0, 10, 100, 1_000]
    };
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("open");
    let mut writer = db.session();
    writer
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)")
        .expect("create");
    writer
        .execute(&format!(
            "INSERT INTO t SELECT value, 0, 'row ' || value FROM generate_series(1, {rows})"
        ))
        .expect("load");
    writer.commit().expect("commit");
    let upd = writer
        .prepare("UPDATE t SET v = v + 1 WHERE id = ?")
        .expect("prepare");
    let mut reader = db.session();
    let scan = "SELECT /*+ FULL(t) */ SUM(v) FROM t";
    let mut next = 0u64;
    // Opens a snapshot, commits `n` single-row changes after it (untimed),
    // and times the query as of the snapshot.
    let mut one = |n: u64| -> (Duration, u64, u64) {
        reader
            .execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            .expect("serializable");
        reader.execute(scan).expect("snapshot");
        for _ in 0..n {
            next += 1;
            let id = 1 + mix(next) % rows;
            writer
                .execute_prepared(&upd, &[Value::Int(id as i64)])
                .expect("update");
            writer.commit().expect("commit");
        }
        let t = Instant::now();
        let r = reader.execute(scan).expect("query");
        let elapsed = t.elapsed();
        reader.execute("COMMIT").expect("end snapshot");
        (
            elapsed,
            r.stats.get(Stat::CrBlocksCreated),
            r.stats.get(Stat::UndoRecordsAppliedCr),
        )
    };
    let mut g = c.benchmark_group("c06_consistent_read");
    for &n in steps {
        let (_, clones, undo) = one(n);
        eprintln!(
            "c06 {n} changes since the snapshot: {clones} CR blocks created, {undo} undo records applied ({rows} rows)"
        );
        g.bench_function(BenchmarkId::new("changes", n), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| one(n).0).sum())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    targets = c30_clustering, c32_batched, c06_consistent_read
}
criterion_main!(benches);
