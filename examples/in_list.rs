//! Times planning and running a query with a 100,000-value IN list on an
//! indexed column (the planner once took most of a minute on it, removing
//! duplicates by a quadratic scan): `cargo run --release --example in_list [N]`.

use std::time::Instant;

use blocklab::{Config, Database};

fn main() -> blocklab::Result<()> {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("blocklab-in-list-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Database::open(&dir, Config::default())?;
    let mut s = db.session();
    s.execute("CREATE TABLE t (a INTEGER, b INTEGER)")?;
    s.execute("INSERT INTO t SELECT value, value FROM generate_series(1, 200000)")?;
    s.execute("CREATE INDEX t_a ON t (a)")?;
    s.execute("COMMIT")?;
    // Descending, so that a list kept in the order written is unsorted.
    let list: Vec<String> = (1..=n).rev().map(|v| (v * 2).to_string()).collect();
    let sql = format!("SELECT COUNT(*) FROM t WHERE a IN ({})", list.join(", "));
    let start = Instant::now();
    s.execute(&format!("EXPLAIN {sql}"))?;
    let plan = start.elapsed();
    let start = Instant::now();
    let r = s.execute(&sql)?;
    let run = start.elapsed();
    println!(
        "{n} values: EXPLAIN {:.3} s, query {:.3} s ({:?} rows)",
        plan.as_secs_f64(),
        run.as_secs_f64(),
        r.rows[0][0]
    );
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
