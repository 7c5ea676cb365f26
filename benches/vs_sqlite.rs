//! blocklab side by side with SQLite (bundled, through rusqlite) on the same
//! workloads, in one run, with the physical floor of a durable commit
//! measured on the same disk:
//!
//! | id | blocklab | SQLite |
//! |---|---|---|
//! | `bulk_insert_0ix`, `bulk_insert_3ix` | prepared INSERT, array execution in batches of 1,000, a commit every 100,000 rows | prepared INSERT in one transaction |
//! | `commit_1row` | INSERT + COMMIT (fast commit: one redo sync) | INSERT in autocommit, WAL, synchronous=FULL |
//! | `commit_8threads` | 8 sessions committing concurrently (group commit) | 8 connections, WAL, synchronous=FULL |
//! | `point_lookup` | prepared `SELECT v FROM t WHERE id = ?` | the same, prepared |
//! | `range_1000` | `WHERE a = ? AND b BETWEEN ? AND ?` through index (a, b), 1,000 rows | the same |
//! | `load_direct` | `insert_append` into a NOLOGGING table (direct path) | the fastest bulk insert: journal_mode=OFF, synchronous=OFF, one transaction |
//! | `floor_fsync` | a 4 KiB overwrite + fdatasync of a preallocated file: the physical floor of a durable commit | |
//!
//! `cargo bench --bench vs_sqlite` runs the full sizes (1,000,000 rows for
//! the loads) and then writes `benches/vs_sqlite.md`: the ratio
//! blocklab / SQLite per workload, with the machine and the date. In
//! `cargo test` (test mode) every workload runs once at a small size and no
//! table is written.

use std::io::{Seek, SeekFrom, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use blocklab::{Database, Row, Value};
use criterion::{BenchmarkId, Criterion};
use rusqlite::{params, Connection};

#[path = "common/vs_sqlite_data.rs"]
mod data;
use data::{cfg, rows, DDL, IX};

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
                        // A commit every 100,000 rows: one transaction of
                        // a million rows with three indexes needs ~0.5 GB
                        // of undo.
                        for (k, chunk) in data.chunks(1000).enumerate() {
                            s.execute_array(&p, chunk).expect("insert");
                            if (k + 1) % 100 == 0 {
                                s.commit().expect("commit");
                            }
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

fn reads(c: &mut Criterion) {
    let n = if full() { 100_000 } else { 2_000 };
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
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let floor = mean_ns("floor_fsync", "4KiB");
    let mut out = String::new();
    out.push_str("# blocklab vs SQLite\n\n");
    out.push_str(&format!(
        "Written by `cargo bench --bench vs_sqlite` on {date}: {machine}, {cores} cores, temp-dir disk. \
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
        ("bulk_insert_0ix", "≤ 1.0", 1.0),
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
    out.push_str("\nWhere a target is not met, the reason is in README.md (\"Performance against SQLite\").\n");
    let mut f = std::fs::File::create("benches/vs_sqlite.md")?;
    f.write_all(out.as_bytes())
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bulk_insert(&mut c);
    commits(&mut c);
    reads(&mut c);
    c.final_summary();
    if full() {
        if let Err(e) = write_table() {
            eprintln!("cannot write benches/vs_sqlite.md: {e}");
        }
    }
}
