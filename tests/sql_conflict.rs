//! SQL written for other engines: `INSERT OR REPLACE` / `REPLACE INTO`
//! (SQLite, MySQL), `INSERT OR IGNORE` (SQLite), and `BEGIN` / `START
//! TRANSACTION`. Oracle has none of them (it writes a MERGE, and starts a
//! transaction at its first change); blocklab runs them with the meaning
//! those engines give them, so a script brought from SQLite runs as it
//! did there (`sql::execute::insert_resolving`, `Context::begin_transaction`).

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Value};

use Value::{Int, Null};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).rows
}

fn affected(s: &mut Session, sql: &str) -> u64 {
    s.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .affected
        .unwrap_or_else(|| panic!("{sql}: no row count"))
}

/// `t (id PRIMARY KEY, code UNIQUE, v)` with rows 1/'a', 2/'b', 3/NULL.
fn db() -> (Database, Session) {
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open_with(Arc::new(SimBackend::new()), cfg).expect("in-memory db");
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE, v TEXT)",
        "INSERT INTO t VALUES (1, 'a', 'one'), (2, 'b', 'two'), (3, NULL, 'three')",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    s.commit().unwrap();
    (db, s)
}

/// The table in id order, read once by a full scan and once through each
/// unique index: a replace that left an index entry behind (or missed one)
/// makes them differ.
fn table(s: &mut Session) -> Vec<Vec<Value>> {
    let full = rows(s, "SELECT /*+ FULL(t) */ id, code, v FROM t ORDER BY id");
    let mut probe = |sql: &str, key: &Value| {
        s.execute_with(sql, std::slice::from_ref(key))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows
    };
    for r in &full {
        assert_eq!(
            probe("SELECT id, code, v FROM t WHERE id = :1", &r[0]),
            vec![r.clone()],
            "primary-key probe of {r:?}"
        );
        if !r[1].is_null() {
            assert_eq!(
                probe("SELECT id, code, v FROM t WHERE code = :1", &r[1]),
                vec![r.clone()],
                "unique-key probe of {r:?}"
            );
        }
    }
    let by_code = rows(s, "SELECT COUNT(*) FROM t WHERE code IS NOT NULL");
    let codes = full.iter().filter(|r| !r[1].is_null()).count() as i64;
    assert_eq!(by_code, vec![vec![Int(codes)]]);
    full
}

#[test]
fn replace_into_a_taken_primary_key_replaces_the_row() {
    let (_db, mut s) = db();
    assert_eq!(affected(&mut s, "REPLACE INTO t VALUES (2, 'b', 'TWO')"), 1);
    assert_eq!(
        affected(&mut s, "INSERT OR REPLACE INTO t VALUES (1, 'a', 'ONE')"),
        1
    );
    assert_eq!(
        affected(&mut s, "REPLACE INTO t VALUES (4, 'd', 'four')"),
        1
    );
    assert_eq!(
        table(&mut s),
        vec![
            vec![Int(1), text("a"), text("ONE")],
            vec![Int(2), text("b"), text("TWO")],
            vec![Int(3), Null, text("three")],
            vec![Int(4), text("d"), text("four")],
        ]
    );
}

#[test]
fn a_row_taking_two_rows_keys_replaces_both() {
    let (_db, mut s) = db();
    // id 1 is row 1's, code 'b' is row 2's: both go, one row comes.
    assert_eq!(
        affected(&mut s, "REPLACE INTO t VALUES (1, 'b', 'both')"),
        1
    );
    assert_eq!(
        table(&mut s),
        vec![
            vec![Int(1), text("b"), text("both")],
            vec![Int(3), Null, text("three")],
        ]
    );
}

#[test]
fn a_null_key_never_conflicts() {
    let (_db, mut s) = db();
    assert_eq!(
        affected(&mut s, "REPLACE INTO t VALUES (5, NULL, 'five')"),
        1
    );
    assert_eq!(table(&mut s).len(), 4, "row 3's NULL code was not replaced");
}

#[test]
fn rows_of_one_statement_replace_each_other_in_order() {
    let (_db, mut s) = db();
    assert_eq!(
        affected(
            &mut s,
            "INSERT OR REPLACE INTO t VALUES (7, 'x', 'first'), (7, 'y', 'second'), (8, 'y', 'third')"
        ),
        3
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT id, code, v FROM t WHERE id >= 7 ORDER BY id"
        ),
        vec![vec![Int(8), text("y"), text("third")]]
    );
}

#[test]
fn replace_from_a_query_and_with_a_column_list() {
    let (_db, mut s) = db();
    assert_eq!(
        affected(
            &mut s,
            "REPLACE INTO t (v, id) SELECT v || '!', id FROM t WHERE id <= 2"
        ),
        2
    );
    assert_eq!(
        table(&mut s),
        vec![
            vec![Int(1), Null, text("one!")],
            vec![Int(2), Null, text("two!")],
            vec![Int(3), Null, text("three")],
        ]
    );
}

#[test]
fn insert_or_ignore_skips_the_rows_whose_keys_are_taken() {
    let (_db, mut s) = db();
    assert_eq!(
        affected(
            &mut s,
            "INSERT OR IGNORE INTO t VALUES (1, 'z', 'no'), (9, 'a', 'no'), (9, 'c', 'yes')"
        ),
        1
    );
    assert_eq!(
        table(&mut s),
        vec![
            vec![Int(1), text("a"), text("one")],
            vec![Int(2), text("b"), text("two")],
            vec![Int(3), Null, text("three")],
            vec![Int(9), text("c"), text("yes")],
        ]
    );
}

#[test]
fn a_plain_insert_still_fails_on_a_taken_key() {
    let (_db, mut s) = db();
    let e = s
        .execute("INSERT INTO t VALUES (1, 'q', 'no')")
        .unwrap_err();
    assert!(e.to_string().contains("unique constraint"), "{e}");
}

#[test]
fn a_replace_is_undone_by_rollback() {
    let (_db, mut s) = db();
    let before = table(&mut s);
    affected(&mut s, "REPLACE INTO t VALUES (1, 'b', 'both')");
    s.execute("ROLLBACK").unwrap();
    assert_eq!(table(&mut s), before);
}

#[test]
fn a_replace_is_kept_by_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path(), Config::default()).unwrap();
        let mut s = db.session();
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE, v TEXT)")
            .unwrap();
        s.execute("INSERT INTO t VALUES (1, 'a', 'one'), (2, 'b', 'two')")
            .unwrap();
        s.execute("REPLACE INTO t VALUES (1, 'b', 'both')").unwrap();
        s.commit().unwrap();
    }
    let db = Database::open(dir.path(), Config::default()).unwrap();
    let mut s = db.session();
    assert_eq!(
        rows(&mut s, "SELECT id, code, v FROM t ORDER BY id"),
        vec![vec![Int(1), text("b"), text("both")]]
    );
}

#[test]
fn insert_or_something_else_is_a_syntax_error() {
    let (_db, mut s) = db();
    let e = s
        .execute("INSERT OR FAIL INTO t VALUES (1, 'a', 'x')")
        .unwrap_err();
    assert!(e.to_string().contains("expected REPLACE or IGNORE"), "{e}");
}

#[test]
fn begin_starts_nothing_but_refuses_an_open_transaction() {
    let (_db, mut s) = db();
    for sql in [
        "BEGIN",
        "BEGIN TRANSACTION",
        "START TRANSACTION",
        "begin work",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    s.execute("INSERT INTO t VALUES (4, 'd', 'four')").unwrap();
    let e = s.execute("BEGIN").unwrap_err();
    assert!(e.to_string().contains("open transaction"), "{e}");
    // The refused BEGIN changed nothing: the open transaction's row is
    // still there to commit.
    s.execute("COMMIT").unwrap();
    s.execute("BEGIN").unwrap();
    assert_eq!(table(&mut s).len(), 4);
}
