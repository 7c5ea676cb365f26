//! Inserts many rows through the Rust API and prints the session's
//! statistics: run with `cargo run --release --example bulk_insert [ROWS]`.

use std::time::Instant;

use blocklab::{ColType, Column, Config, Database, Value};

fn main() -> blocklab::Result<()> {
    let rows: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!("blocklab-bulk-{}", std::process::id()));
    let db = Database::open(&dir, Config::default())?;
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )?;
    let start = Instant::now();
    for i in 0..rows {
        s.insert("t", vec![Value::Int(i), Value::Text("y".repeat(50))])?;
        if i % 10_000 == 9_999 {
            s.commit()?;
        }
    }
    s.commit()?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{rows} rows in {secs:.2} s ({:.0} rows/s)",
        rows as f64 / secs
    );
    print!("{}", s.stats());
    drop(s);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
