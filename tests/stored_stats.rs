//! Optimizer statistics survive a restart: `ANALYZE TABLE` stores them in
//! the catalog (`stats` rows, in the ANALYZE's own DDL transaction) and
//! `Database::open` loads them, so the optimizer costs the same plans
//! after a reopen as before it. Replaced by each ANALYZE, dropped with the
//! table.
//!
//! The shape: `t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)` with a
//! 750-byte pad, ten rows to an 8 KiB block.

use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig};
use blocklab::sql::Explain;
use blocklab::storage::OsBackend;
use blocklab::{Config, Database, Lsn, Value};

fn open(dir: &std::path::Path) -> Database {
    let cfg = Config {
        background_writer: false,
        ..Config::default()
    };
    Database::open(dir, cfg).unwrap()
}

fn load(db: &Database, keys: std::ops::Range<i64>) {
    let mut s = db.session();
    for k in keys {
        s.insert(
            "t",
            vec![
                Value::Int(k),
                Value::Int(k % 7),
                Value::Text("p".repeat(750)),
            ],
        )
        .unwrap();
    }
    s.commit().unwrap();
}

fn create(db: &Database) {
    db.session()
        .execute("CREATE TABLE t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)")
        .unwrap();
}

const QUERIES: [&str; 4] = [
    "SELECT * FROM t WHERE k = 500",
    "SELECT k, grp FROM t WHERE k BETWEEN 300 AND 499",
    "SELECT k FROM t WHERE grp = 3 ORDER BY k",
    "UPDATE t SET grp = 0 WHERE k < 100",
];

fn explain_all(db: &Database) -> Vec<Explain> {
    let mut s = db.session();
    QUERIES
        .iter()
        .map(|q| s.execute(&format!("EXPLAIN {q}")).unwrap().explain.unwrap())
        .collect()
}

fn no_statistics(e: &Explain) -> bool {
    e.notes.iter().any(|n| n.contains("no statistics"))
}

#[test]
fn analyzed_costs_are_the_same_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db);
    load(&db, 0..1000);
    let before_analyze = explain_all(&db);
    assert!(before_analyze.iter().all(no_statistics));
    db.session().execute("ANALYZE TABLE t").unwrap();
    let analyzed = explain_all(&db);
    assert!(analyzed.iter().all(|e| !no_statistics(e)));
    assert_ne!(
        analyzed, before_analyze,
        "costed from statistics, not defaults"
    );
    db.close().unwrap();

    let db = open(dir.path());
    let reopened = explain_all(&db);
    // Every line, cost, row estimate, plan_table row and note identical.
    assert_eq!(reopened, analyzed);
}

#[test]
fn each_analyze_replaces_the_stored_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db);
    load(&db, 0..100);
    db.session().execute("ANALYZE TABLE t").unwrap();
    let small = explain_all(&db);
    load(&db, 100..1000);
    db.session().execute("ANALYZE TABLE t").unwrap();
    let big = explain_all(&db);
    assert_ne!(small, big, "10 blocks, then 100");
    db.close().unwrap();
    let db = open(dir.path());
    assert_eq!(explain_all(&db), big, "the second ANALYZE's statistics");
}

#[test]
fn drop_table_drops_its_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db);
    load(&db, 0..100);
    db.session().execute("ANALYZE TABLE t").unwrap();
    let mut s = db.session();
    s.execute("DROP TABLE t").unwrap();
    create(&db);
    // A new table of the same name starts without statistics, now…
    assert!(explain_all(&db).iter().all(no_statistics));
    drop(s);
    db.close().unwrap();
    // …and after a reopen.
    let db = open(dir.path());
    assert!(explain_all(&db).iter().all(no_statistics));
}

#[test]
fn analyze_is_logged_as_ddl_and_commits_like_ddl() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path());
    create(&db);
    load(&db, 0..10);
    let mut s = db.session();
    // An open transaction is committed by ANALYZE, as by any DDL.
    s.execute("INSERT INTO t VALUES (10, 3, 'x')").unwrap();
    s.execute("ANALYZE TABLE t").unwrap();
    s.execute("ROLLBACK").unwrap();
    let n = s.execute("SELECT COUNT(*) FROM t").unwrap();
    assert_eq!(n.rows, vec![vec![Value::Int(11)]]);
    drop(s);
    let log = LogConfig {
        file_size: db.config().log_file_size,
        files: db.config().log_files,
    };
    db.close().unwrap();
    // The redo holds the ANALYZE as a DDL marker, like CREATE TABLE's.
    let backend = OsBackend::new(dir.path()).unwrap();
    let ddl: Vec<String> = read_log(&backend, &log, Lsn(0))
        .unwrap()
        .records
        .iter()
        .map(|r| decode_payload(&r.payload).unwrap())
        .filter(|p| p.kind == RecKind::Ddl)
        .map(|p| p.text)
        .collect();
    assert!(ddl.contains(&"ANALYZE TABLE t".to_string()), "{ddl:?}");
    let db = open(dir.path());
    let e = db
        .session()
        .execute("EXPLAIN SELECT * FROM t WHERE k = 3")
        .unwrap()
        .explain
        .unwrap();
    assert!(!no_statistics(&e));
}

#[test]
fn statistics_longer_than_a_block_are_stored_in_parts() {
    // 2 KiB blocks and 40 text columns: the JSON (about 100 bytes per
    // column) needs several catalog rows.
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        block_size: 2048,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open(dir.path(), cfg.clone()).unwrap();
    let cols: Vec<String> = (0..40).map(|i| format!("column_{i:02} TEXT")).collect();
    let mut s = db.session();
    s.execute(&format!("CREATE TABLE w (k INTEGER, {})", cols.join(", ")))
        .unwrap();
    s.execute("CREATE INDEX w_k ON w (k)").unwrap();
    for k in 0..50 {
        let mut row = vec![Value::Int(k)];
        row.extend((0..40).map(|i| Value::Text(format!("{i:02}-{k:03}-{}", "v".repeat(20)))));
        s.insert("w", row).unwrap();
    }
    s.commit().unwrap();
    s.execute("ANALYZE TABLE w").unwrap();
    let q = "EXPLAIN SELECT k FROM w WHERE column_07 > '07-010' AND k BETWEEN 5 AND 9";
    let before = s.execute(q).unwrap().explain.unwrap();
    assert!(!no_statistics(&before));
    drop(s);
    db.close().unwrap();
    let db = Database::open(dir.path(), cfg).unwrap();
    let after = db.session().execute(q).unwrap().explain.unwrap();
    assert_eq!(after, before);
}
