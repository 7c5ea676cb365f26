//! Fuzz target: any bytes, read as UTF-8 SQL (lossily), are parsed and
//! executed against a small in-memory database, statement by statement
//! (split at `;`). Nothing may panic, abort or overflow the stack: every
//! input ends in results or `Error`s.
//!
//! Building a database costs far more than running a statement, so one
//! database serves [`INPUTS_PER_DATABASE`] inputs, each ending with a
//! ROLLBACK (DDL commits by itself, so tables an input created may stay).
//! A crash almost always reproduces from its input alone
//! (`cargo fuzz run --fuzz-dir tests/fuzz sql_parse <crash file>`, which
//! starts on a fresh database); when it does not, the inputs just before
//! it in the log built the state it needed.
//! Statements run on a thread with a 2 MiB stack, the size of the
//! `blocklab` binary's session threads, so a stack overflow the binary
//! would hit is found here too.

#![no_main]

use std::sync::{Arc, Mutex};

use blocklab::storage::SimBackend;
use blocklab::{Config, Database};
use libfuzzer_sys::fuzz_target;

/// The tables the statements can read and change.
const SETUP: &[&str] = &[
    "CREATE TABLE t1 (a INTEGER PRIMARY KEY, b INTEGER, c TEXT)",
    "INSERT INTO t1 SELECT value, value % 4, 'x' || value FROM generate_series(1, 12)",
    "CREATE INDEX t1_b ON t1 (b)",
    "COMMIT",
];

/// Inputs one database serves before a fresh one is built.
const INPUTS_PER_DATABASE: u32 = 200;

fn fresh() -> Database {
    let cfg = Config {
        block_size: 2048,
        cache_frames: 64,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 32,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory database");
    let mut s = db.session();
    for setup in SETUP {
        s.execute(setup).expect("setup statement");
    }
    drop(s);
    db
}

/// The database for the next input.
fn database() -> Arc<Database> {
    static CURRENT: Mutex<Option<(Arc<Database>, u32)>> = Mutex::new(None);
    let mut cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    match cur.as_mut() {
        Some((db, used)) if *used < INPUTS_PER_DATABASE => {
            *used += 1;
            db.clone()
        }
        _ => {
            let db = Arc::new(fresh());
            *cur = Some((db.clone(), 1));
            db
        }
    }
}

fn run(db: &Database, sql: &str) {
    let mut s = db.session();
    // At most a few statements per input keeps each run short.
    for stmt in sql.split(';').take(8) {
        let _ = s.prepare(stmt);
        let _ = s.execute(stmt);
    }
    let _ = s.execute("ROLLBACK");
}

fuzz_target!(|data: &[u8]| {
    let sql = String::from_utf8_lossy(data).into_owned();
    let db = database();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run(&db, &sql))
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
});
