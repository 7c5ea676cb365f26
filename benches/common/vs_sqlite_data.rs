//! The data and configuration of the SQLite comparison, shared by
//! `benches/vs_sqlite.rs` and `examples/workload.rs` (which runs one of its
//! workloads alone, for a profiler), so that both always measure the same
//! work. Included by `#[path]`; not a target of its own.

use blocklab::{Config, Row, Value};

/// The blocklab configuration of every workload: 64 MiB log files (fewer
/// log switches and checkpoints during a load), undo pre-sized to 8,192
/// blocks (a million-row load in one transaction still grows it, see
/// tests/one_transaction_load.rs, which loads on the default
/// configuration), and a cache that holds the table.
pub fn cfg() -> Config {
    Config {
        log_file_size: 64 << 20,
        undo_blocks: 8192,
        cache_frames: 16384,
        ..Config::default()
    }
}

/// `n` rows: a key, a scattered integer, one of 1,000 values, a short text.
pub fn rows(n: usize) -> Vec<Row> {
    (0..n as i64)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(i.wrapping_mul(7919) % 100_003),
                Value::Int(i % 1000),
                Value::Text(format!("row{i}")),
            ]
        })
        .collect()
}

pub const DDL: &str = "CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER, v TEXT)";

/// The three secondary indexes of the `bulk_insert_3ix` workload.
pub const IX: [&str; 3] = [
    "CREATE INDEX t_a ON t (a)",
    "CREATE INDEX t_b ON t (b)",
    "CREATE INDEX t_v ON t (v)",
];
