//! An autoextending undo grows until `undo_max_blocks`, however many
//! extents that takes: the list of extents in the undo segment header is
//! not a second, hidden limit (see `undo`'s module docs for how extents
//! grow once that list fills). When the undo does stop growing, the error
//! names the limit that stopped it.
//!
//! With 2 KiB blocks and 8-block extents the header has room for 127
//! extents, about 1,000 blocks of undo: less than one transaction that
//! rewrites 40,000 rows needs.

use blocklab::{Config, Database, Error, Session};

fn cfg(undo_max_blocks: u32) -> Config {
    Config {
        block_size: 2048,
        background_writer: false,
        log_file_size: 8 << 20,
        log_files: 3,
        undo_segments: 1,
        undo_blocks: 16,
        undo_autoextend: true,
        undo_max_blocks,
        extent_blocks: 8,
        ..Config::default()
    }
}

const ROWS: i64 = 40_000;

fn run(s: &mut Session, sql: &str) -> Result<(), Error> {
    s.execute(sql).map(|_| ())
}

/// `t (id, v)` with two indexes and `ROWS` rows, loaded in `chunks`
/// transactions.
fn table(db: &Database, chunks: i64) {
    let mut s = db.session();
    let mut sqls = vec![
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)".to_string(),
        "CREATE INDEX t_v ON t (v)".to_string(),
    ];
    let per = ROWS / chunks;
    for c in 0..chunks {
        sqls.push(format!(
            "INSERT INTO t SELECT value, 'v' || value FROM generate_series({}, {})",
            c * per + 1,
            (c + 1) * per
        ));
        sqls.push("COMMIT".to_string());
    }
    for sql in &sqls {
        run(&mut s, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn one_transaction_can_grow_the_undo_past_what_the_header_extent_list_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::open(tmp.path(), cfg(1 << 20)).unwrap();
    // One transaction: its undo alone is more than 127 extents of 8.
    table(&db, 1);
    let before = db.undo_blocks().unwrap();
    let mut s = db.session();
    run(&mut s, "ALTER TABLE t ADD COLUMN extra TEXT").unwrap();
    run(&mut s, "UPDATE t SET extra = 'x' || id").unwrap();
    let after = db.undo_blocks().unwrap();
    // 127 extents of 8 blocks: the most a header list of equal extents holds.
    assert!(
        after > 127 * 8,
        "the transaction's undo needed more than the header's 127 extents of 8: {before} -> {after}"
    );
    run(&mut s, "COMMIT").unwrap();
    let n = s
        .execute("SELECT COUNT(*) FROM t WHERE extra IS NOT NULL")
        .unwrap();
    assert_eq!(n.rows[0][0].as_int(), Some(ROWS));
    drop(s);
    db.close().unwrap();
    let report = blocklab::verify::verify_dir(tmp.path()).unwrap();
    assert!(
        report.is_clean(),
        "{:?} {:?}",
        report.corrupt,
        report.indexes
    );
}

#[test]
fn undo_that_reaches_undo_max_blocks_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::open(
        tmp.path(),
        Config {
            // Committed undo is reused at once: small transactions fit.
            undo_retention: std::time::Duration::ZERO,
            ..cfg(400)
        },
    )
    .unwrap();
    table(&db, 40);
    let mut s = db.session();
    let err = run(&mut s, "UPDATE t SET v = v || '.'").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::UndoExhausted { .. }), "{text}");
    assert!(text.contains("undo_max_blocks"), "{text}");
    assert!(!text.contains("enable undo_autoextend"), "{text}");
    // The statement was rolled back; the session goes on.
    run(&mut s, "ROLLBACK").unwrap();
    assert_eq!(db.undo_blocks().unwrap(), 400);
}
