//! Times a 1,000-row index range scan and a point lookup repeatedly (a
//! profiling aid for the vs_sqlite benchmark): `cargo run --release --example range_probe`.
use blocklab::{Config, Database, Value};
use std::time::Instant;

fn main() -> blocklab::Result<()> {
    let dir = std::env::temp_dir().join(format!("blocklab-range-probe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Database::open(&dir, Config::default())?;
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER, v TEXT)")?;
    s.execute("INSERT INTO t SELECT value, (value * 7919) % 100003, value % 1000, 'row' || value FROM generate_series(0, 99999)")?;
    s.execute("CREATE INDEX t_ba ON t (b, a)")?;
    s.execute("COMMIT")?;
    s.execute("ANALYZE TABLE t")?;
    let p =
        s.prepare("SELECT /*+ INDEX(t t_ba) */ id, v FROM t WHERE b BETWEEN ? AND ? AND a >= 0")?;
    let n = 300;
    let t = Instant::now();
    for i in 0..n {
        let x = (i * 37) % 990;
        let r = s.execute_prepared(&p, &[Value::Int(x), Value::Int(x + 9)])?;
        assert_eq!(r.rows.len(), 1000);
    }
    println!(
        "{:.1} µs per 1,000-row range scan",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    s.execute("CREATE INDEX t_id ON t (id)")?;
    s.execute("ANALYZE TABLE t")?;
    let p = s.prepare("SELECT v FROM t WHERE id = ?")?;
    let n = 20_000;
    let t = Instant::now();
    for i in 0..n {
        let r = s.execute_prepared(&p, &[Value::Int((i * 7919) % 100_000)])?;
        assert_eq!(r.rows.len(), 1);
    }
    println!(
        "{:.2} µs per point lookup",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
