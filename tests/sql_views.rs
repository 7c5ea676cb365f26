//! Views: CREATE [OR REPLACE] VIEW, DROP VIEW, a view read alone, joined
//! and filtered as the derived table it stands for, its column list, the
//! errors Oracle gives, and a view surviving a crash (it is a catalog row,
//! written in its DDL's committed transaction).

use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Session, Value};

use Value::{Int, Null};

fn cfg() -> Config {
    Config {
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 32,
        background_writer: false,
        ..Config::default()
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).rows
}

/// `t (x, y)` with four rows, one of them with a NULL `x`.
fn with_t(be: Arc<SimBackend>) -> (Database, Session) {
    let db = Database::open_with(be, cfg()).expect("in-memory db");
    let mut s = db.session();
    s.execute("CREATE TABLE t (x INTEGER, y TEXT)").unwrap();
    s.execute("INSERT INTO t VALUES (1, 'one'), (0, 'zero'), (NULL, 'none'), (5, 'five')")
        .unwrap();
    s.commit().unwrap();
    (db, s)
}

#[test]
fn a_view_reads_as_its_query() {
    let (_db, mut s) = with_t(Arc::new(SimBackend::new()));
    s.execute("CREATE VIEW pos AS SELECT x, y FROM t WHERE x > 0")
        .unwrap();
    assert_eq!(
        rows(&mut s, "SELECT y FROM pos ORDER BY x"),
        vec![vec![text("one")], vec![text("five")]]
    );
    // Filtered, aggregated and joined like the derived table it is.
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM pos WHERE x > 2"),
        vec![vec![Int(1)]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT p.y, t.y FROM pos p JOIN t ON t.x = p.x - 1 ORDER BY p.x"
        ),
        vec![vec![text("one"), text("zero")]]
    );
    // A column list renames the query's columns.
    s.execute("CREATE VIEW named (a, b) AS SELECT x, y FROM t WHERE x IS NULL")
        .unwrap();
    let q = s.execute("SELECT * FROM named").unwrap();
    assert_eq!(q.columns, ["a", "b"]);
    assert_eq!(q.rows, vec![vec![Null, text("none")]]);
}

#[test]
fn view_ddl_follows_oracle_rules() {
    let (_db, mut s) = with_t(Arc::new(SimBackend::new()));
    s.execute("CREATE VIEW v AS SELECT x FROM t").unwrap();
    // The name is taken (ORA-00955), by a view or by a table.
    assert_eq!(
        s.execute("CREATE VIEW v AS SELECT x FROM t")
            .unwrap_err()
            .code(),
        "ORA-00955"
    );
    assert_eq!(
        s.execute("CREATE VIEW t AS SELECT 1").unwrap_err().code(),
        "ORA-00955"
    );
    // A column list of the wrong length (ORA-01730); a query that does
    // not bind is refused at once.
    assert_eq!(
        s.execute("CREATE VIEW w (a) AS SELECT x, y FROM t")
            .unwrap_err()
            .code(),
        "ORA-01730"
    );
    assert!(s.execute("CREATE VIEW w AS SELECT nope FROM t").is_err());
    // OR REPLACE changes the query; the view is read afresh.
    s.execute("CREATE OR REPLACE VIEW v AS SELECT x * 10 AS x FROM t WHERE x = 5")
        .unwrap();
    assert_eq!(rows(&mut s, "SELECT x FROM v"), vec![vec![Int(50)]]);
    s.execute("DROP VIEW v").unwrap();
    assert!(s.execute("SELECT * FROM v").is_err());
    assert_eq!(s.execute("DROP VIEW v").unwrap_err().code(), "ORA-00942");
    s.execute("DROP VIEW IF EXISTS v").unwrap();
}

#[test]
fn a_prepared_query_on_a_view_sees_it_replaced() {
    let (_db, mut s) = with_t(Arc::new(SimBackend::new()));
    s.execute("CREATE VIEW v AS SELECT x FROM t WHERE x = 1")
        .unwrap();
    let sql = "SELECT x FROM v";
    assert_eq!(rows(&mut s, sql), vec![vec![Int(1)]]);
    s.execute("CREATE OR REPLACE VIEW v AS SELECT y AS x FROM t WHERE x = 5")
        .unwrap();
    assert_eq!(rows(&mut s, sql), vec![vec![text("five")]]);
}

#[test]
fn a_committed_view_survives_a_crash() {
    let be = Arc::new(SimBackend::new());
    let (db, mut s) = with_t(be.clone());
    s.execute("CREATE VIEW v (n) AS SELECT COUNT(*) FROM t")
        .unwrap();
    let image = Arc::new(be.crash());
    drop(s);
    drop(db);
    let db = Database::open_with(image, cfg()).unwrap();
    let mut s = db.session();
    assert_eq!(rows(&mut s, "SELECT n FROM v"), vec![vec![Int(4)]]);
}

/// The data dictionary views read the catalog and the statistics ANALYZE
/// stored, joined and filtered like any table; a user's table of the
/// same name hides one.
#[test]
fn dictionary_views_answer_queries() {
    let (_db, mut s) = with_t(Arc::new(SimBackend::new()));
    s.execute("CREATE INDEX t_x ON t (x)").unwrap();
    assert_eq!(
        rows(&mut s, "SELECT table_name, num_rows FROM user_tables"),
        vec![vec![text("t"), Null]]
    );
    s.execute("ANALYZE TABLE t").unwrap();
    assert_eq!(
        rows(
            &mut s,
            "SELECT num_rows FROM user_tables WHERE table_name = 't'"
        ),
        vec![vec![Int(4)]]
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT i.index_name, c.column_name, i.distinct_keys FROM user_indexes i \
             JOIN user_ind_columns c ON c.index_name = i.index_name"
        ),
        // Four keys: blocklab's indexes hold an entry for a NULL key (an
        // Oracle single-column index holds none, and would count 3).
        vec![vec![text("t_x"), text("x"), Int(4)]]
    );
    s.execute("CREATE TABLE user_tables (mine INTEGER)")
        .unwrap();
    assert_eq!(
        s.execute("SELECT * FROM user_tables").unwrap().columns,
        ["mine"]
    );
}

/// UPDATE and DELETE through a stored view change the view's table (one
/// table: key-preserved by itself), as Oracle does; the view's WHERE
/// limits the rows reached.
#[test]
fn dml_through_a_stored_view_changes_its_table() {
    let (_db, mut s) = with_t(Arc::new(SimBackend::new()));
    s.execute("CREATE VIEW pos AS SELECT x FROM t WHERE x > 0")
        .unwrap();
    let r = s.execute("UPDATE pos SET x = x + 10 WHERE x = 5").unwrap();
    assert_eq!(r.affected, Some(1));
    let r = s.execute("DELETE FROM pos WHERE x > 10").unwrap();
    assert_eq!(r.affected, Some(1));
    assert_eq!(
        rows(&mut s, "SELECT x, y FROM t ORDER BY y"),
        vec![
            vec![Null, text("none")],
            vec![Int(1), text("one")],
            vec![Int(0), text("zero")],
        ]
    );
}
