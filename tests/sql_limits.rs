//! Size limits on names and tables: each refused at CREATE or ALTER with an
//! error that names the limit, not with whatever broke further down (a
//! catalog row that does not fit, a redo record too long).

use std::sync::Arc;

use blocklab::catalog::{MAX_COLUMNS, MAX_NAME_LEN};
use blocklab::storage::SimBackend;
use blocklab::value::{ColType, Column};
use blocklab::{Config, Database, Error, Session};

fn db(block_size: usize) -> Database {
    let cfg = Config {
        block_size,
        cache_frames: 256,
        log_file_size: 8 << 20,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    };
    Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db")
}

fn err(s: &mut Session, sql: &str) -> String {
    match s.execute(sql) {
        Ok(_) => panic!("{}… succeeded", &sql[..60.min(sql.len())]),
        Err(e) => e.to_string(),
    }
}

fn create_sql(table: &str, columns: usize) -> String {
    let cols: Vec<String> = (0..columns).map(|i| format!("c{i} INTEGER")).collect();
    format!("CREATE TABLE {table} ({})", cols.join(", "))
}

#[test]
fn more_columns_than_the_limit_are_refused_naming_it() {
    assert_eq!(MAX_COLUMNS, 1000);
    // 32 KiB blocks hold the definition of 1000 short-named columns.
    let db = db(32768);
    let mut s = db.session();
    for n in [MAX_COLUMNS + 1, 2_000] {
        let e = err(&mut s, &create_sql("wide", n));
        assert_eq!(e, format!("table wide would have {n} columns (limit 1000)"));
    }
    s.execute(&create_sql("wide", MAX_COLUMNS))
        .expect("1000 columns fit");
    let e = err(&mut s, "ALTER TABLE wide ADD COLUMN extra INTEGER");
    assert_eq!(e, "table wide would have 1001 columns (limit 1000)");
    // Nothing was left behind by the refused statements.
    let r = s
        .execute("SELECT COUNT(*) FROM wide")
        .expect("the table works");
    assert_eq!(r.rows.len(), 1);
    // The typed API is held to the same limit.
    let cols: Vec<Column> = (0..=MAX_COLUMNS)
        .map(|i| Column::new(&format!("c{i}"), ColType::Integer))
        .collect();
    match s.create_table("wide2", &cols) {
        Err(Error::Sql(m)) => assert!(m.ends_with("(limit 1000)"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// Below the column limit, a definition can still be too large for one
/// catalog block (8 KiB here): the error says it is the definition.
#[test]
fn a_definition_larger_than_a_catalog_block_says_so() {
    let db = db(8192);
    let mut s = db.session();
    let e = err(&mut s, &create_sql("wide", 900));
    assert!(
        e.starts_with("the definition of table wide (900 columns) takes ")
            && e.ends_with("use fewer columns or shorter names"),
        "{e}"
    );
}

#[test]
fn names_longer_than_the_limit_are_refused_naming_it() {
    assert_eq!(MAX_NAME_LEN, 128);
    let db = db(8192);
    let mut s = db.session();
    let ok = "n".repeat(MAX_NAME_LEN);
    let long = "n".repeat(MAX_NAME_LEN + 1);
    let huge = "x".repeat(100_000);
    for sql in [
        format!("CREATE TABLE {long} (a INT)"),
        format!("CREATE TABLE \"{long}\" (a INT)"),
        format!("CREATE TABLE t ({long} INT)"),
        format!("CREATE TABLE {huge} (a INT)"),
        format!("SELECT 1 AS {long}"),
        format!("SELECT {huge} FROM t"),
    ] {
        let e = err(&mut s, &sql);
        assert!(
            e.contains("characters long (limit 128)") && e.starts_with("syntax error"),
            "{e}"
        );
    }
    // Exactly the limit is fine, for every kind of name.
    s.execute(&format!("CREATE TABLE {ok} ({ok} INT, b INT)"))
        .expect("128 characters");
    s.execute(&format!("CREATE INDEX i{} ON {ok} (b)", &ok[1..]))
        .expect("index name of 128 characters");
    s.execute(&format!("INSERT INTO {ok} ({ok}, b) VALUES (1, 2)"))
        .expect("insert");
    // Characters, not bytes: 128 two-byte characters are allowed.
    s.execute(&format!(
        "CREATE TABLE {} (a INT)",
        "é".repeat(MAX_NAME_LEN)
    ))
    .expect("128 non-ASCII characters");
    // The typed API is held to the same limit.
    match s.create_table(&long, &[Column::new("a", ColType::Integer)]) {
        Err(Error::Sql(m)) => assert!(m.ends_with("characters long (limit 128)"), "{m}"),
        other => panic!("{other:?}"),
    }
    match s.create_table("u", &[Column::new(&long, ColType::Integer)]) {
        Err(Error::Sql(m)) => assert!(m.starts_with("column name nnn"), "{m}"),
        other => panic!("{other:?}"),
    }
}
