//! The log miner (claims C41, C42): who changed what, when, and the SQL that
//! does it again — from the redo alone, with the history that no longer
//! exists named rather than skipped.
//!
//! The scripted incident: user `alice` creates `t (id PK, name, note)` and
//! inserts rows; user `partner` runs `ALTER TABLE t DROP COLUMN note`; alice
//! inserts more rows. The miner must name `partner`, the SCN and the time of
//! the DROP COLUMN, show every row by column name (the dropped `note` under
//! its own name), and its SQL_REDO must rebuild the committed rows exactly.
//!
//! The redo ring is small (3 files of 64 blocks of 2 KiB) so that a few
//! thousand row changes make it reuse its files: without archive mode the
//! oldest redo is then gone, with it every filled file is archived first.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use blocklab::logminer::{mine, render_json, render_sql, render_table, MineOptions, MinedOp};
use blocklab::{ColType, Column, Config, Database, Scn, Session, Value};

fn config(archive: Option<&Path>) -> Config {
    Config {
        block_size: 2048,
        cache_frames: 256,
        log_file_size: 64 * 2048,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        archive_dir: archive.map(Path::to_path_buf),
        ..Config::default()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn session(db: &Database, user: &str) -> Session {
    let mut s = db.session();
    s.set_user(user);
    s
}

fn run(s: &mut Session, sql: &str) {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Rows of `filler`, inserted and committed 100 at a time: each insert
/// logs about 300 bytes, so 1500 of them fill the 3 x 126 KiB ring once.
fn fill(db: &Database, rows: std::ops::Range<i64>) {
    let mut s = session(db, "loader");
    for k in rows {
        s.insert("filler", vec![Value::Int(k), Value::Text("x".repeat(100))])
            .unwrap();
        if k % 100 == 99 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
}

fn create_filler(db: &Database) {
    session(db, "loader")
        .create_table(
            "filler",
            &[
                Column::new("k", ColType::Integer),
                Column::new("pad", ColType::Text),
            ],
        )
        .unwrap();
}

fn only_t() -> MineOptions {
    MineOptions {
        table: Some("t".into()),
        ..MineOptions::default()
    }
}

/// The incident; returns the wall-clock window the DROP COLUMN ran in.
fn incident(db: &Database) -> (u64, u64) {
    let mut alice = session(db, "alice");
    run(
        &mut alice,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT)",
    );
    for i in 1..=3 {
        run(
            &mut alice,
            &format!("INSERT INTO t VALUES ({i}, 'name {i}', 'note {i}')"),
        );
    }
    run(&mut alice, "COMMIT");
    let mut partner = session(db, "partner");
    let before = now_ms();
    run(&mut partner, "ALTER TABLE t DROP COLUMN note");
    let after = now_ms();
    for i in 4..=5 {
        run(
            &mut alice,
            &format!("INSERT INTO t VALUES ({i}, 'name {i}')"),
        );
    }
    run(&mut alice, "COMMIT");
    (before, after)
}

#[test]
fn the_miner_names_who_dropped_the_column_and_when() {
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, config(None)).unwrap();
    let (before, after) = incident(&db);
    db.close().unwrap();

    let m = mine(&dir, &only_t()).unwrap();
    assert!(m.gaps.is_empty(), "{:?}", m.gaps);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let ops: Vec<(MinedOp, &str)> = m
        .records
        .iter()
        .map(|r| (r.op, r.user.as_deref().unwrap()))
        .collect();
    use MinedOp::*;
    assert_eq!(
        ops,
        vec![
            // CREATE TABLE with a PRIMARY KEY is three DDL statements, each
            // its own transaction: the table, its index, the constraint.
            (Ddl, "alice"),
            (Commit, "alice"),
            (Ddl, "alice"),
            (Commit, "alice"),
            (Ddl, "alice"),
            (Commit, "alice"),
            (Insert, "alice"),
            (Insert, "alice"),
            (Insert, "alice"),
            (Commit, "alice"),
            (Ddl, "partner"),
            (Commit, "partner"),
            (Insert, "alice"),
            (Insert, "alice"),
            (Commit, "alice"),
        ]
    );
    let drop = &m.records[10];
    assert_eq!(drop.text.as_deref(), Some("ALTER TABLE t DROP COLUMN note"));
    assert_eq!(drop.table.as_deref(), Some("t"));
    let t = drop.time_ms.unwrap();
    assert!((before..=after).contains(&t), "{before} <= {t} <= {after}");
    assert_eq!(drop.time().unwrap().len(), "2024-01-01T00:00:00.000Z".len());
    // The DROP COLUMN's transaction: its commit follows with a later SCN,
    // and alice's next insert is later still.
    assert!(drop.scn < m.records[11].scn && m.records[11].scn < m.records[12].scn);

    // Rows by column name; the dropped column under its own name, marked.
    let first = &m.records[6];
    let shown: Vec<(&str, &Value, bool)> = first
        .values
        .iter()
        .map(|c| (c.name.as_str(), &c.value, c.dropped))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("id", &Value::Int(1), false),
            ("name", &Value::Text("name 1".into()), false),
            ("note", &Value::Text("note 1".into()), true),
        ]
    );
    // A row inserted after the drop carries NULL in the dropped column.
    assert_eq!(m.records[12].values[2].value, Value::Null);
    // SQL_REDO leaves the dropped column out.
    assert_eq!(
        first.sql_redo.as_deref(),
        Some("INSERT INTO t (id, name) VALUES (1, 'name 1')")
    );

    // The three formats say the same.
    let table = render_table(&m);
    assert!(table.contains("partner  DDL"), "{table}");
    assert!(table.contains("note (dropped)='note 1'"), "{table}");
    assert!(table.ends_with("15 records\n"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&render_json(&m)).unwrap();
    assert_eq!(json["records"][10]["user"], "partner");
    assert_eq!(json["records"][6]["values"]["note"], "note 1");
    assert_eq!(json["records"][6]["dropped_columns"][0], "note");
    let sql = render_sql(&m);
    assert!(sql.contains("ALTER TABLE t DROP COLUMN note;\nINSERT INTO t (id, name) VALUES (4, 'name 4');\nINSERT INTO t (id, name) VALUES (5, 'name 5');\nCOMMIT;\n"), "{sql}");
}

#[test]
fn sql_redo_rebuilds_exactly_the_committed_rows() {
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, config(None)).unwrap();
    let mut a = session(&db, "alice");
    run(
        &mut a,
        "CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
    );
    run(&mut a, "CREATE TABLE nk (a INTEGER, b TEXT, c REAL)");
    for i in 1..=6 {
        run(
            &mut a,
            &format!("INSERT INTO k VALUES ({i}, {i}, 'it''s {i}')"),
        );
        run(&mut a, &format!("INSERT INTO nk VALUES ({i}, NULL, {i}.5)"));
    }
    run(&mut a, "COMMIT");
    // Updates and deletes, by key and (nk) by every old value, plus a
    // statement that fails half-way (a duplicate key): its changes are
    // rolled back by the engine, the transaction goes on and commits.
    run(&mut a, "UPDATE k SET v = v * 10 WHERE id <= 3");
    run(&mut a, "DELETE FROM k WHERE id = 4");
    run(&mut a, "UPDATE nk SET b = 'set' WHERE a >= 5");
    run(&mut a, "DELETE FROM nk WHERE a = 2");
    assert!(a.execute("INSERT INTO k VALUES (1, 0, 'dup')").is_err());
    run(&mut a, "COMMIT");
    // A transaction rolled back: no SQL at all.
    run(&mut a, "INSERT INTO k VALUES (7, 7, 'gone')");
    run(&mut a, "UPDATE nk SET c = 0.0");
    run(&mut a, "ROLLBACK");
    // A direct-path load.
    a.insert_append(
        "nk",
        vec![
            vec![Value::Int(10), Value::Text("direct".into()), Value::Null],
            vec![Value::Int(11), Value::Null, Value::Real(-1.25)],
        ],
    )
    .unwrap();
    a.commit().unwrap();
    // Open when the session goes: rolled back on its disconnect.
    run(&mut a, "DELETE FROM k WHERE id = 5");
    drop(a);
    let mut check = session(&db, "check");
    let expected_k = check.execute("SELECT * FROM k ORDER BY id").unwrap().rows;
    let expected_nk = check.execute("SELECT * FROM nk ORDER BY a").unwrap().rows;
    drop(check);
    db.close().unwrap();

    let m = mine(&dir, &MineOptions::default()).unwrap();
    let count = |op: MinedOp| m.records.iter().filter(|r| r.op == op).count();
    // Inserts: 12, the duplicate, the rolled-back one; and 2 by direct path.
    // Updates: 3 + 2, and 5 rolled back (nk has 5 rows then). Deletes:
    // 1 + 1, and the one rolled back at the disconnect.
    assert_eq!(count(MinedOp::Insert), 14);
    assert_eq!(count(MinedOp::DirectInsert), 2);
    assert_eq!(count(MinedOp::Update), 10);
    assert_eq!(count(MinedOp::Delete), 3);
    // Each rolled-back row change is taken back by one UNDO record (index
    // changes are undone too, but not listed): the duplicate, the 1 + 5 of
    // the rolled-back transaction, the disconnected delete.
    assert_eq!(count(MinedOp::Undo), 8);
    let rolled_back = m.records.iter().filter(|r| r.rolled_back).count();
    assert_eq!(rolled_back, 8);
    let with_sql = |op: MinedOp| {
        m.records
            .iter()
            .filter(|r| r.op == op && r.sql_redo.is_some())
            .count()
    };
    assert_eq!(with_sql(MinedOp::Insert), 12);
    assert_eq!(with_sql(MinedOp::Update), 5);
    assert_eq!(with_sql(MinedOp::Delete), 2);
    let sql: Vec<&str> = m
        .records
        .iter()
        .filter_map(|r| r.sql_redo.as_deref())
        .collect();
    assert!(sql.contains(&"UPDATE k SET v = 10 WHERE id = 1"), "{sql:?}");
    assert!(
        sql.contains(&"DELETE FROM nk WHERE a = 2 AND b IS NULL AND c = 2.5"),
        "{sql:?}"
    );
    assert!(
        sql.contains(&"INSERT INTO nk (a, b, c) VALUES (11, NULL, -1.25)"),
        "{sql:?}"
    );

    // Replaying the DML on empty copies of the tables gives the same rows.
    let replay = Database::open(tmp.path().join("replay"), config(None)).unwrap();
    let mut r = session(&replay, "replay");
    run(
        &mut r,
        "CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)",
    );
    run(&mut r, "CREATE TABLE nk (a INTEGER, b TEXT, c REAL)");
    for rec in m.records.iter().filter(|r| r.op != MinedOp::Ddl) {
        if let Some(sql) = &rec.sql_redo {
            run(&mut r, sql);
        }
    }
    assert_eq!(
        r.execute("SELECT * FROM k ORDER BY id").unwrap().rows,
        expected_k
    );
    assert_eq!(
        r.execute("SELECT * FROM nk ORDER BY a").unwrap().rows,
        expected_nk
    );
}

#[test]
fn recycled_redo_is_a_gap_unless_archived() {
    let tmp = tempfile::TempDir::new().unwrap();
    for archived in [false, true] {
        let dir = tmp.path().join(format!("db-{archived}"));
        let arch = tmp.path().join(format!("arch-{archived}"));
        let db = Database::open(&dir, config(archived.then_some(arch.as_path()))).unwrap();
        create_filler(&db);
        incident(&db);
        fill(&db, 0..4000); // more than twice the ring
        db.close().unwrap();

        let m = mine(&dir, &only_t()).unwrap();
        let all = mine(&dir, &MineOptions::default()).unwrap();
        let keys: Vec<i64> = all
            .records
            .iter()
            .filter(|r| r.op == MinedOp::Insert && r.table.as_deref() == Some("filler"))
            .map(|r| r.values[0].value.as_int().unwrap())
            .collect();
        let fills = keys.len();
        // Whatever survives is the newest part of the history, without holes.
        assert_eq!(keys, ((4000 - fills as i64)..4000).collect::<Vec<_>>());
        if archived {
            assert!(m.gaps.is_empty() && all.gaps.is_empty(), "{:?}", all.gaps);
            assert_eq!(m.records.len(), 15, "the whole incident");
            assert_eq!(fills, 4000);
            let files = std::fs::read_dir(&arch).unwrap().count();
            assert!(files >= 6, "{files} archived log files");
        } else {
            assert_eq!(m.gaps.len(), 1, "{:?}", m.gaps);
            assert!(
                m.gaps[0].starts_with("redo before SCN ")
                    && m.gaps[0].ends_with("is no longer available: log recycled, not archived"),
                "{}",
                m.gaps[0]
            );
            assert!(m.records.is_empty(), "the incident was recycled");
            // The ring holds 3 x 126 KiB: about a third of the 4000 rows.
            assert!(
                fills < 4000 && fills > 1000,
                "{fills} filler rows still in the ring"
            );
        }
    }
}

#[test]
fn an_scn_window_lists_only_its_records_and_commits_inside_it() {
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, config(None)).unwrap();
    incident(&db);
    db.close().unwrap();
    let all = mine(&dir, &only_t()).unwrap();
    let drop_scn = all.records[10].scn;
    let after = mine(
        &dir,
        &MineOptions {
            from_scn: Some(Scn(drop_scn.0 + 1)),
            ..only_t()
        },
    )
    .unwrap();
    let sql: Vec<&str> = after
        .records
        .iter()
        .filter_map(|r| r.sql_redo.as_deref())
        .collect();
    // The DDL's commit has no SQL (DDL commits itself); alice's inserts do.
    assert_eq!(
        sql,
        vec![
            "INSERT INTO t (id, name) VALUES (4, 'name 4')",
            "INSERT INTO t (id, name) VALUES (5, 'name 5')",
            "COMMIT"
        ]
    );
    // A window that ends before alice's commit: her inserts are listed but
    // not committed as far as the window knows, so they get no SQL.
    let before_commit = mine(
        &dir,
        &MineOptions {
            from_scn: Some(Scn(drop_scn.0 + 1)),
            to_scn: Some(Scn(all.records[14].scn.0 - 1)),
            ..only_t()
        },
    )
    .unwrap();
    // (The DROP COLUMN's own COMMIT is inside the window too, but not its
    // DDL record, so it is not listed: a commit is shown with its work.)
    let ops: Vec<MinedOp> = before_commit.records.iter().map(|r| r.op).collect();
    assert_eq!(ops, vec![MinedOp::Insert, MinedOp::Insert]);
    assert!(before_commit.records.iter().all(|r| r.sql_redo.is_none()));
}

#[test]
fn a_database_open_in_this_process_can_be_mined() {
    let tmp = tempfile::TempDir::new().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, config(None)).unwrap();
    incident(&db);
    // Committed work is durable in the online logs; the files are only read.
    let open = mine(&dir, &only_t()).unwrap();
    assert_eq!(open.records.len(), 15);
    db.close().unwrap();
    let closed = mine(&dir, &only_t()).unwrap();
    assert_eq!(open.records, closed.records);
}

#[test]
fn archive_mode_keeps_up_with_concurrent_sessions_and_the_background_writer() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, arch) = (tmp.path().join("db"), tmp.path().join("arch"));
    let db = Database::open(
        &dir,
        Config {
            background_writer: true,
            ..config(Some(&arch))
        },
    )
    .unwrap();
    create_filler(&db);
    // Three sessions, 2000 rows each: about four times the ring, so the
    // checkpoints of the background writer and the archiver both pace them.
    std::thread::scope(|scope| {
        for t in 0..3i64 {
            let db = &db;
            scope.spawn(move || {
                let mut s = session(db, &format!("loader{t}"));
                for i in 0..2000 {
                    let k = t * 10_000 + i;
                    s.insert("filler", vec![Value::Int(k), Value::Text("y".repeat(100))])
                        .unwrap();
                    if i % 50 == 49 {
                        s.commit().unwrap();
                    }
                }
            });
        }
    });
    let filled = db.log_stats().archived;
    db.close().unwrap();
    assert!(filled >= 9, "{filled} log files archived");

    let m = mine(&dir, &MineOptions::default()).unwrap();
    assert!(m.gaps.is_empty(), "{:?}", m.gaps);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    for t in 0..3i64 {
        let user = format!("loader{t}");
        let mine: Vec<i64> = m
            .records
            .iter()
            .filter(|r| r.op == MinedOp::Insert && r.user.as_deref() == Some(user.as_str()))
            .map(|r| r.values[0].value.as_int().unwrap())
            .collect();
        // Every row of every session, each session's in its order.
        assert_eq!(mine, (t * 10_000..t * 10_000 + 2000).collect::<Vec<_>>());
        let commits = m
            .records
            .iter()
            .filter(|r| r.op == MinedOp::Commit && r.user.as_deref() == Some(user.as_str()))
            .count();
        assert_eq!(commits, 40, "2000 rows, a commit every 50");
    }
}
