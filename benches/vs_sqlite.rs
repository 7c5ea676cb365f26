//! blocklab side by side with SQLite (bundled, through rusqlite) and redb (an
//! embedded copy-on-write B-tree key-value store in Rust) on the same
//! workloads, in one run, with the physical floor of a durable commit
//! measured on the same disk:
//!
//! | id | blocklab | SQLite |
//! |---|---|---|
//! | `bulk_insert_0ix`, `bulk_insert_3ix` | prepared INSERT, array execution in batches of 1,000, one transaction | prepared INSERT in one transaction |
//! | `commit_1row` | INSERT + COMMIT (fast commit: one redo sync) | INSERT in autocommit, WAL, synchronous=FULL |
//! | `commit_8threads` | 8 sessions committing concurrently (group commit) | 8 connections, WAL, synchronous=FULL |
//! | `point_lookup` | prepared `SELECT v FROM t WHERE id = ?` | the same, prepared |
//! | `range_1000` | `WHERE a = ? AND b BETWEEN ? AND ?` through index (a, b), 1,000 rows | the same |
//! | `load_direct` | `insert_append` into a NOLOGGING table (direct path) | the fastest bulk insert: journal_mode=OFF, synchronous=OFF, one transaction |
//! | `floor_fsync` | a 4 KiB overwrite + fdatasync of a preallocated file: the physical floor of a durable commit | |
//!
//! The key-value workloads, against redb, on a table keyed by `id` (`kv`,
//! the same rows with a PRIMARY KEY; in redb a table `id → (a, b, v)`):
//!
//! | id | blocklab | redb |
//! |---|---|---|
//! | `kv_insert` | prepared INSERT into the keyed table, array execution in batches of 1,000, one transaction | `insert` of every row in one write transaction, committed (durable) |
//! | `kv_lookup` | `Session::lookup_pk` (the typed API: one index descent, one table block) | a read transaction, `open_table`, `get`, the value decoded |
//! | `kv_range_1000` | `Session::range_pk` over 1,000 consecutive keys | a read transaction, `open_table`, `range` over the same keys, each value decoded |
//!
//! `point_lookup` and `kv_lookup` also run on blocklab with the session's
//! statistics counting switched off (`blocklab_uncounted`), so the table
//! shows what the counters cost.
//!
//! A blocklab call is a statement with its own read snapshot, so each redb
//! lookup or range opens its own read transaction too. blocklab returns
//! each row as an owned `Vec<Value>`; redb's values are read in place
//! (zero-copy), as a Rust user of redb would read them.
//!
//! `cargo bench --bench vs_sqlite` runs the full sizes (1,000,000 rows for
//! the loads) and then writes `benches/vs_sqlite.md`: the ratio
//! blocklab / SQLite per workload, with the machine and the date. In
//! `cargo test` (test mode) every workload runs once at a small size and no
//! table is written.

use std::io::{Seek, SeekFrom, Write};
use std::ops::Bound::{Excluded, Included};
use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklab::{Database, Row, Value};
use criterion::{BenchmarkId, Criterion};
use redb::{ReadableDatabase, TableDefinition};
use rusqlite::{params, Connection};

#[path = "common/vs_sqlite_data.rs"]
mod data;
#[path = "common/machine.rs"]
mod machine;
use data::{cfg, rows, DDL, IX};

/// The columns of `DDL` keyed by `id`: the table of the key-value workloads
/// (redb's `id → (a, b, v)`).
const DDL_KEYED: &str = "CREATE TABLE kv (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, v TEXT)";

/// redb's table of the key-value workloads: `id → (a, b, v)`.
const KV: TableDefinition<i64, (i64, i64, &str)> = TableDefinition::new("kv");

fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn load_rows() -> usize {
    if full() {
        1_000_000
    } else {
        5_000
    }
}

fn blocklab_db(indexes: usize, nologging: bool) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(dir.path(), cfg()).expect("open");
    let mut s = db.session();
    s.execute(&format!(
        "{DDL}{}",
        if nologging { " NOLOGGING" } else { "" }
    ))
    .expect("create");
    for ix in &IX[..indexes] {
        s.execute(ix).expect("index");
    }
    drop(s);
    (dir, db)
}

fn sqlite_db(indexes: usize, fast: bool) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let c = Connection::open(dir.path().join("t.db")).expect("open");
    if fast {
        c.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
            .expect("pragma");
    } else {
        c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .expect("pragma");
    }
    c.execute_batch(DDL).expect("create");
    for ix in &IX[..indexes] {
        c.execute_batch(ix).expect("index");
    }
    (dir, c)
}

fn sqlite_value(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Real(r) => rusqlite::types::Value::Real(*r),
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

fn sqlite_insert_all(c: &mut Connection, data: &[Row]) {
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare_cached("INSERT INTO t VALUES (?1, ?2, ?3, ?4)")
            .expect("prepare");
        for r in data {
            st.execute(rusqlite::params_from_iter(r.iter().map(sqlite_value)))
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn bulk_insert(c: &mut Criterion) {
    let n = load_rows();
    let data = rows(n);
    let mut g = c.benchmark_group("vs_sqlite");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(if full() { 40 } else { 1 }));
    for indexes in [0usize, 3] {
        g.bench_function(
            BenchmarkId::new(format!("bulk_insert_{indexes}ix"), "blocklab"),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (_d, db) = blocklab_db(indexes, false);
                        let mut s = db.session();
                        let p = s
                            .prepare("INSERT INTO t VALUES (?, ?, ?, ?)")
                            .expect("prepare");
                        let t = Instant::now();
                        // One transaction, as SQLite's and redb's loads:
                        // its undo (~0.5 GB with three indexes) grows the
                        // undo segments as it goes (tests/one_transaction_load.rs).
                        for chunk in data.chunks(1000) {
                            s.execute_array(&p, chunk).expect("insert");
                        }
                        s.commit().expect("commit");
                        total += t.elapsed();
                    }
                    total
                })
            },
        );
        g.bench_function(
            BenchmarkId::new(format!("bulk_insert_{indexes}ix"), "sqlite"),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (_d, mut c) = sqlite_db(indexes, false);
                        let t = Instant::now();
                        sqlite_insert_all(&mut c, &data);
                        total += t.elapsed();
                    }
                    total
                })
            },
        );
    }
    g.bench_function(BenchmarkId::new("load_direct", "blocklab"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_d, db) = blocklab_db(0, true);
                let mut s = db.session();
                let batch = data.clone();
                let t = Instant::now();
                s.insert_append("t", batch).expect("append");
                s.commit().expect("commit");
                total += t.elapsed();
            }
            total
        })
    });
    g.bench_function(BenchmarkId::new("load_direct", "sqlite"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_d, mut c) = sqlite_db(0, true);
                let t = Instant::now();
                sqlite_insert_all(&mut c, &data);
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn commits(c: &mut Criterion) {
    let mut g = c.benchmark_group("vs_sqlite");
    g.sample_size(20);
    {
        let (_d, db) = blocklab_db(0, false);
        let mut s = db.session();
        let p = s
            .prepare("INSERT INTO t VALUES (?, 1, 1, 'x')")
            .expect("prepare");
        let mut i = 0i64;
        g.bench_function(BenchmarkId::new("commit_1row", "blocklab"), |b| {
            b.iter(|| {
                i += 1;
                s.execute_prepared(&p, &[Value::Int(i)]).expect("insert");
                s.commit().expect("commit");
            })
        });
    }
    {
        let (_d, c) = sqlite_db(0, false);
        let mut st = c
            .prepare("INSERT INTO t VALUES (?1, 1, 1, 'x')")
            .expect("prepare");
        let mut i = 0i64;
        g.bench_function(BenchmarkId::new("commit_1row", "sqlite"), |b| {
            b.iter(|| {
                i += 1;
                st.execute(params![i]).expect("insert");
            })
        });
    }
    {
        // The physical floor: overwrite 4 KiB of a preallocated file and
        // fdatasync it, on the same disk as the databases.
        let dir = tempfile::tempdir().expect("temp dir");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(dir.path().join("floor"))
            .expect("open");
        f.write_all(&vec![0u8; 1 << 20]).expect("preallocate");
        f.sync_all().expect("sync");
        let page = [7u8; 4096];
        let mut k = 0u64;
        g.bench_function(BenchmarkId::new("floor_fsync", "4KiB"), |b| {
            b.iter(|| {
                k = (k + 1) % 256;
                f.seek(SeekFrom::Start(k * 4096)).expect("seek");
                f.write_all(&page).expect("write");
                f.sync_data().expect("fdatasync");
            })
        });
    }
    // Group commit: 8 committers at once.
    const THREADS: u64 = 8;
    {
        let (_d, db) = blocklab_db(0, false);
        let db = Arc::new(db);
        g.bench_function(BenchmarkId::new("commit_8threads", "blocklab"), |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(THREADS);
                let t = Instant::now();
                std::thread::scope(|sc| {
                    for th in 0..THREADS {
                        let db = db.clone();
                        sc.spawn(move || {
                            let mut s = db.session();
                            let p = s
                                .prepare("INSERT INTO t VALUES (?, 2, 2, 'y')")
                                .expect("prepare");
                            for i in 0..per {
                                s.execute_prepared(&p, &[Value::Int((th * 1_000_000 + i) as i64)])
                                    .expect("insert");
                                s.commit().expect("commit");
                            }
                        });
                    }
                });
                // Time per commit, as for commit_1row.
                t.elapsed().mul_f64(iters as f64 / (per * THREADS) as f64)
            })
        });
    }
    {
        let (d, c) = sqlite_db(0, false);
        drop(c);
        let path = d.path().join("t.db");
        g.bench_function(BenchmarkId::new("commit_8threads", "sqlite"), |b| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(THREADS);
                let t = Instant::now();
                std::thread::scope(|sc| {
                    for th in 0..THREADS {
                        let path = path.clone();
                        sc.spawn(move || {
                            let c = Connection::open(&path).expect("open");
                            c.busy_timeout(Duration::from_secs(30)).expect("timeout");
                            c.execute_batch("PRAGMA synchronous=FULL;").expect("pragma");
                            let mut st = c
                                .prepare("INSERT INTO t VALUES (?1, 2, 2, 'y')")
                                .expect("prepare");
                            for i in 0..per {
                                st.execute(params![(th * 1_000_000 + i) as i64])
                                    .expect("insert");
                            }
                        });
                    }
                });
                t.elapsed().mul_f64(iters as f64 / (per * THREADS) as f64)
            })
        });
    }
    g.finish();
}

/// The table size of the reads: large enough that the index has a branch
/// level, small enough to stay cached.
fn read_rows() -> usize {
    if full() {
        100_000
    } else {
        2_000
    }
}

fn reads(c: &mut Criterion) {
    let n = read_rows();
    let data = rows(n);
    let mut g = c.benchmark_group("vs_sqlite");
    // Point lookups by key.
    let (_d1, db) = blocklab_db(0, false);
    let mut s = db.session();
    s.execute("CREATE INDEX t_id ON t (id)").expect("index");
    let p = s
        .prepare("INSERT INTO t VALUES (?, ?, ?, ?)")
        .expect("prepare");
    for chunk in data.chunks(1000) {
        s.execute_array(&p, chunk).expect("load");
    }
    s.execute("CREATE INDEX t_ba ON t (b, a)").expect("index");
    s.commit().expect("commit");
    s.execute("ANALYZE TABLE t").expect("analyze");
    let (_d2, mut sc) = sqlite_db(0, false);
    sc.execute_batch("CREATE INDEX t_id ON t (id); CREATE INDEX t_ba ON t (b, a);")
        .expect("index");
    sqlite_insert_all(&mut sc, &data);
    sc.execute_batch("ANALYZE").expect("analyze");

    let lookup = s.prepare("SELECT v FROM t WHERE id = ?").expect("prepare");
    let mut k = 0i64;
    g.bench_function(BenchmarkId::new("point_lookup", "blocklab"), |b| {
        b.iter(|| {
            k = (k + 7919) % n as i64;
            let r = s
                .execute_prepared(&lookup, &[Value::Int(k)])
                .expect("lookup");
            assert_eq!(r.rows.len(), 1);
        })
    });
    s.set_counting(false);
    let mut k = 0i64;
    g.bench_function(
        BenchmarkId::new("point_lookup", "blocklab_uncounted"),
        |b| {
            b.iter(|| {
                k = (k + 7919) % n as i64;
                let r = s
                    .execute_prepared(&lookup, &[Value::Int(k)])
                    .expect("lookup");
                assert_eq!(r.rows.len(), 1);
            })
        },
    );
    s.set_counting(true);
    {
        let mut st = sc
            .prepare("SELECT v FROM t WHERE id = ?1")
            .expect("prepare");
        let mut k = 0i64;
        g.bench_function(BenchmarkId::new("point_lookup", "sqlite"), |b| {
            b.iter(|| {
                k = (k + 7919) % n as i64;
                let v: String = st.query_row(params![k], |r| r.get(0)).expect("lookup");
                assert!(!v.is_empty());
            })
        });
    }
    // 1,000 rows through the composite index (b, a): b = 0..999 has n/1000
    // rows each, so b BETWEEN x AND x + k covers 1,000 rows.
    let per_b = (n / 1000).max(1) as i64;
    let span = (1000 / per_b).max(1);
    let range = s
        .prepare("SELECT /*+ INDEX(t t_ba) */ id, v FROM t WHERE b BETWEEN ? AND ? AND a >= 0")
        .expect("prepare");
    let expect = (span * per_b) as usize;
    let mut x = 0i64;
    g.bench_function(BenchmarkId::new("range_1000", "blocklab"), |b| {
        b.iter(|| {
            x = (x + 37) % (1000 - span);
            let r = s
                .execute_prepared(&range, &[Value::Int(x), Value::Int(x + span - 1)])
                .expect("range");
            assert_eq!(r.rows.len(), expect);
        })
    });
    {
        let mut st = sc
            .prepare("SELECT id, v FROM t INDEXED BY t_ba WHERE b BETWEEN ?1 AND ?2 AND a >= 0")
            .expect("prepare");
        let mut x = 0i64;
        g.bench_function(BenchmarkId::new("range_1000", "sqlite"), |b| {
            b.iter(|| {
                x = (x + 37) % (1000 - span);
                let mut rows = st.query(params![x, x + span - 1]).expect("range");
                let mut got = 0;
                while let Some(r) = rows.next().expect("row") {
                    let _: i64 = r.get(0).expect("id");
                    let _: String = r.get(1).expect("v");
                    got += 1;
                }
                assert_eq!(got, expect);
            })
        });
    }
    g.finish();
}

/// A blocklab database with the keyed table `kv` (empty).
fn blocklab_kv() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(dir.path(), cfg()).expect("open");
    db.session().execute(DDL_KEYED).expect("create");
    (dir, db)
}

/// Loads `data` into blocklab's `kv`: array inserts of 1,000 rows, one
/// commit.
fn blocklab_kv_load(db: &Database, data: &[Row]) {
    let mut s = db.session();
    let p = s
        .prepare("INSERT INTO kv VALUES (?, ?, ?, ?)")
        .expect("prepare");
    for chunk in data.chunks(1000) {
        s.execute_array(&p, chunk).expect("insert");
    }
    s.commit().expect("commit");
}

/// A redb database (one file in a temp dir) with its table `kv` created.
fn redb_kv() -> (tempfile::TempDir, redb::Database) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = redb::Database::create(dir.path().join("kv.redb")).expect("create");
    let w = db.begin_write().expect("begin");
    w.open_table(KV).expect("table");
    w.commit().expect("commit");
    (dir, db)
}

/// Inserts `data` into redb's `kv` in one write transaction, committed
/// with redb's default durability (synced).
fn redb_kv_load(db: &redb::Database, data: &[Row]) {
    let w = db.begin_write().expect("begin");
    {
        let mut t = w.open_table(KV).expect("table");
        for r in data {
            let (Value::Int(id), Value::Int(a), Value::Int(b), Value::Text(v)) =
                (&r[0], &r[1], &r[2], &r[3])
            else {
                panic!("a bench row is (int, int, int, text)");
            };
            t.insert(id, (*a, *b, v.as_str())).expect("insert");
        }
    }
    w.commit().expect("commit");
}

/// The key-value workloads, blocklab (the typed API for reads) against
/// redb: a bulk insert by key in one transaction, a point lookup by key, a
/// range of 1,000 keys.
fn key_value(c: &mut Criterion) {
    let mut g = c.benchmark_group("vs_sqlite");
    {
        let data = rows(load_rows());
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(if full() { 40 } else { 1 }));
        g.bench_function(BenchmarkId::new("kv_insert", "blocklab"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (_d, db) = blocklab_kv();
                    let t = Instant::now();
                    blocklab_kv_load(&db, &data);
                    total += t.elapsed();
                }
                total
            })
        });
        g.bench_function(BenchmarkId::new("kv_insert", "redb"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (_d, db) = redb_kv();
                    let t = Instant::now();
                    redb_kv_load(&db, &data);
                    total += t.elapsed();
                }
                total
            })
        });
    }
    // Reads: the table size of the SQL reads.
    let n = read_rows();
    let data = rows(n);
    let (_d1, bdb) = blocklab_kv();
    blocklab_kv_load(&bdb, &data);
    let (_d2, rdb) = redb_kv();
    redb_kv_load(&rdb, &data);
    g.sample_size(100);
    g.measurement_time(Duration::from_secs(if full() { 5 } else { 1 }));
    let mut s = bdb.session();
    let mut k = 0i64;
    g.bench_function(BenchmarkId::new("kv_lookup", "blocklab"), |b| {
        b.iter(|| {
            k = (k + 7919) % n as i64;
            let row = s.lookup_pk("kv", &[Value::Int(k)]).expect("lookup");
            assert!(row.is_some());
        })
    });
    // The same lookups with the session's statistics counting switched
    // off: what the counters cost.
    s.set_counting(false);
    let mut k = 0i64;
    g.bench_function(BenchmarkId::new("kv_lookup", "blocklab_uncounted"), |b| {
        b.iter(|| {
            k = (k + 7919) % n as i64;
            let row = s.lookup_pk("kv", &[Value::Int(k)]).expect("lookup");
            assert!(row.is_some());
        })
    });
    s.set_counting(true);
    let mut k = 0i64;
    g.bench_function(BenchmarkId::new("kv_lookup", "redb"), |b| {
        b.iter(|| {
            k = (k + 7919) % n as i64;
            let r = rdb.begin_read().expect("begin");
            let t = r.open_table(KV).expect("table");
            let got = t.get(k).expect("get").expect("a row");
            let (_, _, v) = got.value();
            assert!(!v.is_empty());
        })
    });
    let span = 1000.min(n as i64 / 2);
    let mut x = 0i64;
    g.bench_function(BenchmarkId::new("kv_range_1000", "blocklab"), |b| {
        b.iter(|| {
            x = (x + 7919) % (n as i64 - span);
            let rows = s
                .range_pk(
                    "kv",
                    Included(&[Value::Int(x)]),
                    Excluded(&[Value::Int(x + span)]),
                )
                .expect("range");
            assert_eq!(rows.len(), span as usize);
        })
    });
    let mut x = 0i64;
    g.bench_function(BenchmarkId::new("kv_range_1000", "redb"), |b| {
        b.iter(|| {
            x = (x + 7919) % (n as i64 - span);
            let r = rdb.begin_read().expect("begin");
            let t = r.open_table(KV).expect("table");
            let mut got = 0;
            for e in t.range(x..x + span).expect("range") {
                let (_, v) = e.expect("entry");
                let (_, _, text) = v.value();
                assert!(!text.is_empty());
                got += 1;
            }
            assert_eq!(got, span);
        })
    });
    g.finish();
}

/// The mean time of one benchmark from criterion's estimates, in ns.
/// Where criterion writes its estimates: `CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion` (criterion's own
/// order).
fn criterion_home() -> std::path::PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return h.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    std::path::PathBuf::from(target).join("criterion")
}

fn mean_ns(id: &str, who: &str) -> Option<f64> {
    let path = criterion_home().join(format!("vs_sqlite/{id}/{who}/new/estimates.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn write_table() -> std::io::Result<()> {
    let machine = machine::machine_line();
    let floor = mean_ns("floor_fsync", "4KiB");
    let mut out = String::new();
    out.push_str("# blocklab vs SQLite\n\n");
    out.push_str(&format!(
        "Written by `cargo bench --bench vs_sqlite` on {machine}, temp-dir disk. \
         Mean time per operation (per row for loads: divide by {} rows), from criterion's estimates; \
         ratio = blocklab / SQLite (below 1 means blocklab is faster).\n\n",
        load_rows()
    ));
    out.push_str(
        "| workload | blocklab | SQLite | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    let fmt = |ns: f64| {
        if ns >= 1e9 {
            format!("{:.2} s", ns / 1e9)
        } else if ns >= 1e6 {
            format!("{:.2} ms", ns / 1e6)
        } else {
            format!("{:.1} µs", ns / 1e3)
        }
    };
    let rows: [(&str, &str, f64); 6] = [
        ("bulk_insert_0ix", "≤ 0.8", 0.8),
        ("bulk_insert_3ix", "≤ 1.0", 1.0),
        ("point_lookup", "≤ 1.0", 1.0),
        ("range_1000", "≤ 1.0", 1.0),
        ("commit_1row", "(vs floor below)", f64::INFINITY),
        ("commit_8threads", "(group commit)", f64::INFINITY),
    ];
    for (id, target, max) in rows {
        if let (Some(a), Some(b)) = (mean_ns(id, "blocklab"), mean_ns(id, "sqlite")) {
            let r = a / b;
            let met = if max.is_finite() {
                if r <= max {
                    "yes"
                } else {
                    "no"
                }
            } else {
                "—"
            };
            out.push_str(&format!(
                "| {id} | {} | {} | {r:.2} | {target} | {met} |\n",
                fmt(a),
                fmt(b)
            ));
        }
    }
    if let (Some(direct), Some(sqlite_fast), Some(sqlite_bulk)) = (
        mean_ns("load_direct", "blocklab"),
        mean_ns("load_direct", "sqlite"),
        mean_ns("bulk_insert_0ix", "sqlite"),
    ) {
        let speedup = sqlite_bulk / direct;
        out.push_str(&format!(
            "| load_direct (vs SQLite journal off, sync off) | {} | {} | {:.2} | — | — |\n",
            fmt(direct),
            fmt(sqlite_fast),
            direct / sqlite_fast
        ));
        out.push_str(&format!(
            "| load_direct vs SQLite bulk insert (WAL) | {} | {} | speedup {speedup:.2}× | ≥ 3× | {} |\n",
            fmt(direct),
            fmt(sqlite_bulk),
            if speedup >= 3.0 { "yes" } else { "no" }
        ));
    }
    if let (Some(f), Some(c)) = (floor, mean_ns("commit_1row", "blocklab")) {
        let r = c / f;
        out.push_str(&format!(
            "| commit_1row vs the physical floor (4 KiB write + fdatasync) | {} | floor {} | {r:.2} | ≤ 1.2 | {} |\n",
            fmt(c),
            fmt(f),
            if r <= 1.2 { "yes" } else { "no" }
        ));
    }
    out.push_str(
        "\nThe key-value workloads against redb (blocklab's reads through the typed API, \
         `lookup_pk` / `range_pk`; per row for `kv_insert`):\n\n\
         | workload | blocklab | redb | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    let kv: [(&str, &str, f64); 3] = [
        ("kv_insert", "—", f64::INFINITY),
        ("kv_lookup", "≤ 1.5", 1.5),
        ("kv_range_1000", "≤ 1.5", 1.5),
    ];
    for (id, target, max) in kv {
        if let (Some(a), Some(b)) = (mean_ns(id, "blocklab"), mean_ns(id, "redb")) {
            let r = a / b;
            let met = match (max.is_finite(), r <= max) {
                (false, _) => "—",
                (true, true) => "yes",
                (true, false) => "no",
            };
            out.push_str(&format!(
                "| {id} | {} | {} | {r:.2} | {target} | {met} |\n",
                fmt(a),
                fmt(b)
            ));
        }
    }
    out.push_str(
        "\nWhat the statistics counters cost: the same lookups with the session's counting \
         switched off (`Session::set_counting(false)`), in the same run:\n\n\
         | workload | counted | uncounted | counting costs | target | met |\n|---|---|---|---|---|---|\n",
    );
    for id in ["point_lookup", "kv_lookup"] {
        if let (Some(on), Some(off)) = (mean_ns(id, "blocklab"), mean_ns(id, "blocklab_uncounted"))
        {
            let share = (on - off) / on * 100.0;
            out.push_str(&format!(
                "| {id} | {} | {} | {share:.1} % | ≤ 3 % | {} |\n",
                fmt(on),
                fmt(off),
                if share <= 3.0 { "yes" } else { "no" }
            ));
        }
    }
    out.push_str("\nWhere a target is not met, the reason is in README.md (\"Performance against SQLite\").\n");
    let mut f = std::fs::File::create("benches/vs_sqlite.md")?;
    f.write_all(out.as_bytes())
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bulk_insert(&mut c);
    commits(&mut c);
    reads(&mut c);
    key_value(&mut c);
    c.final_summary();
    if full() {
        if let Err(e) = write_table() {
            eprintln!("cannot write benches/vs_sqlite.md: {e}");
        }
    }
}
