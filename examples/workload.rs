//! Runs one of the `vs_sqlite` bench's blocklab workloads on its own, so a
//! profiler sees only that work:
//!
//! ```text
//! cargo run --release --example workload -- bulk0|bulk3|direct|lookup|range [ROWS]
//! perf record -g target/release/examples/workload bulk0
//! ```
//!
//! It prints the elapsed time and the session's statistics. The data and
//! the configuration are those of `benches/vs_sqlite.rs`.

use std::time::Instant;

use blocklab::{Database, Value};

#[path = "../benches/common/vs_sqlite_data.rs"]
mod data;
use data::{rows, DDL, IX};

fn main() -> blocklab::Result<()> {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "bulk0".into());
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile_dir();
    let cfg = data::cfg();
    let opened = Instant::now();
    let db = Database::open(&dir, cfg)?;
    eprintln!("open: {:.3} s", opened.elapsed().as_secs_f64());
    let mut s = db.session();
    let data = rows(n);
    let nologging = if what == "direct" { " NOLOGGING" } else { "" };
    s.execute(&format!("{DDL}{nologging}"))?;
    let indexes = if what == "bulk3" { 3 } else { 0 };
    for ix in &IX[..indexes] {
        s.execute(ix)?;
    }
    let load = |s: &mut blocklab::Session| -> blocklab::Result<()> {
        let p = s.prepare("INSERT INTO t VALUES (?, ?, ?, ?)")?;
        // One transaction, as in benches/vs_sqlite.
        for chunk in data.chunks(1000) {
            s.execute_array(&p, chunk)?;
        }
        s.commit()
    };
    // `insert_append` takes its rows by value: the copy is made before the
    // clock starts, as in benches/vs_sqlite.
    let batch = if what == "direct" {
        data.clone()
    } else {
        Vec::new()
    };
    let t = Instant::now();
    match what.as_str() {
        "bulk0" | "bulk3" => load(&mut s)?,
        "direct" => {
            s.insert_append("t", batch)?;
            eprintln!("insert_append: {:.3} s", t.elapsed().as_secs_f64());
            s.commit()?;
        }
        "lookup" | "range" => {
            s.execute("CREATE INDEX t_id ON t (id)")?;
            load(&mut s)?;
            s.execute("CREATE INDEX t_ba ON t (b, a)")?;
            s.execute("ANALYZE TABLE t")?;
            let t = Instant::now();
            let before = s.stats();
            let iters = 200_000 / if what == "range" { 100 } else { 1 };
            if what == "lookup" {
                let p = s.prepare("SELECT v FROM t WHERE id = ?")?;
                let mut k = 0i64;
                for _ in 0..iters {
                    k = (k + 7919) % n as i64;
                    let r = s.execute_prepared(&p, &[Value::Int(k)])?;
                    assert_eq!(r.rows.len(), 1);
                }
            } else {
                let p = s.prepare(
                    "SELECT /*+ INDEX(t t_ba) */ id, v FROM t WHERE b BETWEEN ? AND ? AND a >= 0",
                )?;
                let per_b = (n / 1000).max(1) as i64;
                let span = (1000 / per_b).max(1);
                let mut x = 0i64;
                for _ in 0..iters {
                    x = (x + 37) % (1000 - span);
                    s.execute_prepared(&p, &[Value::Int(x), Value::Int(x + span - 1)])?;
                }
            }
            let el = t.elapsed();
            println!(
                "{iters} queries: {:.2} µs each",
                el.as_secs_f64() * 1e6 / iters as f64
            );
            print!("{}", s.stats().diff(&before));
            drop(s);
            drop(db);
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(());
        }
        other => panic!("unknown workload {other}"),
    }
    let el = t.elapsed();
    println!(
        "{what}: {n} rows in {:.3} s ({:.0} ns/row)",
        el.as_secs_f64(),
        el.as_nanos() as f64 / n as f64
    );
    print!("{}", s.stats());
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("blocklab-workload-{}", std::process::id()))
}
