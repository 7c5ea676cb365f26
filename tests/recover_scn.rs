//! Backup and recovery to an SCN (claims C41, C42): undo a mistake by
//! recovering a backup to just before it, then replay what came after from
//! the log miner's SQL_REDO.
//!
//! ```text
//!  alice: CREATE t, INSERT 1..3 ── backup ── INSERT 4..6, filler (the ring
//!  wraps: archive mode keeps the redo) ── partner: DROP COLUMN note (SCN D)
//!  ── alice: INSERT 7..8
//!  recover_until(backup, D-1)  → rows 1..6 with their notes
//!  + SQL_REDO of t after D      → rows 1..8, NULL note for 7 and 8
//! ```
//!
//! Also: exactly the transactions committed at or before the SCN survive
//! (one open across the target is rolled back), a hole in the redo is an
//! error naming its LSN range, and an SCN older than the backup is refused.

use std::path::Path;

use blocklab::backup::{backup, read_incarnation, read_manifest, recover_until};
use blocklab::logminer::{mine, MineOptions, MinedOp};
use blocklab::{ColType, Column, Config, Database, Error, Scn, Session, Value};

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

fn session(db: &Database, user: &str) -> Session {
    let mut s = db.session();
    s.set_user(user);
    s
}

fn run(s: &mut Session, sql: &str) {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    s.execute(sql).unwrap().rows
}

fn row(id: i64, note: Option<&str>) -> Vec<Value> {
    vec![
        Value::Int(id),
        Value::Text(format!("name {id}")),
        note.map_or(Value::Null, |n| Value::Text(n.into())),
    ]
}

/// 3000 filler rows, committed 100 at a time: the ring (3 x 126 KiB)
/// wraps about twice.
fn fill(db: &Database) {
    let mut s = session(db, "loader");
    s.create_table(
        "filler",
        &[
            Column::new("k", ColType::Integer),
            Column::new("pad", ColType::Text),
        ],
    )
    .unwrap();
    for k in 0..3000 {
        s.insert("filler", vec![Value::Int(k), Value::Text("x".repeat(100))])
            .unwrap();
        if k % 100 == 99 {
            s.commit().unwrap();
        }
    }
}

/// Creates `t` with rows 1..=3 and takes a backup.
fn before_the_incident(dir: &Path, bk: &Path, archive: Option<&Path>) {
    let db = Database::open(dir, config(archive)).unwrap();
    let mut alice = session(&db, "alice");
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
    drop(alice);
    db.close().unwrap();
    backup(dir, bk).unwrap();
}

// ANCHOR: incident
#[test]
fn the_dropped_column_comes_back_and_the_later_inserts_are_replayed() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, bk, arch) = (
        tmp.path().join("db"),
        tmp.path().join("backup"),
        tmp.path().join("arch"),
    );
    before_the_incident(&dir, &bk, Some(&arch));
    let info = read_manifest(&bk).unwrap();

    // Archive mode is remembered: this open does not repeat it.
    let db = Database::open(&dir, config(None)).unwrap();
    assert_eq!(db.config().archive_dir.as_deref(), Some(arch.as_path()));
    let mut alice = session(&db, "alice");
    for i in 4..=6 {
        run(
            &mut alice,
            &format!("INSERT INTO t VALUES ({i}, 'name {i}', 'note {i}')"),
        );
    }
    run(&mut alice, "COMMIT");
    fill(&db);
    let mut partner = session(&db, "partner");
    run(&mut partner, "ALTER TABLE t DROP COLUMN note");
    for i in 7..=8 {
        run(
            &mut alice,
            &format!("INSERT INTO t VALUES ({i}, 'name {i}')"),
        );
    }
    run(&mut alice, "COMMIT");
    drop((alice, partner));
    db.close().unwrap();

    // Who, and when.
    let m = mine(
        &dir,
        &MineOptions {
            table: Some("t".into()),
            ..MineOptions::default()
        },
    )
    .unwrap();
    let drop_col = m
        .records
        .iter()
        .find(|r| {
            r.op == MinedOp::Ddl && r.text.as_deref() == Some("ALTER TABLE t DROP COLUMN note")
        })
        .unwrap();
    assert_eq!(drop_col.user.as_deref(), Some("partner"));
    let d = drop_col.scn;

    // Recover the backup to just before the drop.
    let rec = tmp.path().join("recovered");
    let report = recover_until(&bk, &rec, Scn(d.0 - 1), &[], Some(&dir)).unwrap();
    assert_eq!(report.backup_scn, info.scn);
    assert_eq!(report.last_applied_scn, Scn(d.0 - 1));
    assert_eq!(report.from_lsn, info.checkpoint_lsn);
    // The ring wrapped since the backup: the oldest redo came from the archive.
    assert!(report.segments_archived >= 3, "{report:?}");
    assert!(report.segments_online >= 1, "{report:?}");
    // SCN D-1 is the DROP COLUMN transaction's own start: it is rolled back.
    assert_eq!(report.recovery.transactions_rolled_back, 1);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let inc = read_incarnation(&rec).unwrap().unwrap();
    assert_eq!(
        (inc.resetlogs_lsn, inc.resetlogs_scn, inc.parent_db_id),
        (report.to_lsn, Scn(d.0 - 1), info.db_id)
    );

    let rdb = Database::open(&rec, config(None)).unwrap();
    let mut s = session(&rdb, "dba");
    let notes: Vec<Vec<Value>> = (1..=6)
        .map(|i| row(i, Some(&format!("note {i}"))))
        .collect();
    assert_eq!(rows(&mut s, "SELECT * FROM t ORDER BY id"), notes);
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM filler"),
        vec![vec![Value::Int(3000)]]
    );

    // Replay what alice did after the drop, from the original's redo.
    let after = mine(
        &dir,
        &MineOptions {
            from_scn: Some(Scn(d.0 + 1)),
            table: Some("t".into()),
            ..MineOptions::default()
        },
    )
    .unwrap();
    let sql: Vec<&str> = after
        .records
        .iter()
        .filter_map(|r| r.sql_redo.as_deref())
        .collect();
    assert_eq!(
        sql,
        vec![
            "INSERT INTO t (id, name) VALUES (7, 'name 7')",
            "INSERT INTO t (id, name) VALUES (8, 'name 8')",
            "COMMIT"
        ]
    );
    for stmt in sql {
        run(&mut s, stmt);
    }
    let mut all = notes;
    all.extend([row(7, None), row(8, None)]);
    assert_eq!(rows(&mut s, "SELECT * FROM t ORDER BY id"), all);
    drop(s);
    rdb.close().unwrap();

    // The recovered database is a new incarnation: it opens again as it
    // was left, and its own redo starts where recovery ended.
    let rdb = Database::open(&rec, config(None)).unwrap();
    assert_eq!(
        rows(&mut session(&rdb, "dba"), "SELECT COUNT(*) FROM t"),
        vec![vec![Value::Int(8)]]
    );
    rdb.close().unwrap();
    let own = mine(&rec, &MineOptions::default()).unwrap();
    assert!(own.gaps[0].contains("which this one was recovered from"));
    let inserts = own
        .records
        .iter()
        .filter(|r| r.op == MinedOp::Insert)
        .count();
    assert_eq!(inserts, 2, "the replayed inserts, by user dba");
}
// ANCHOR_END: incident

#[test]
fn exactly_the_transactions_committed_by_the_scn_survive() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, bk) = (tmp.path().join("db"), tmp.path().join("backup"));
    before_the_incident(&dir, &bk, None);
    let db = Database::open(&dir, config(None)).unwrap();
    let (mut a, mut b) = (session(&db, "a"), session(&db, "b"));
    // a's transaction spans b's: b commits first.
    run(&mut a, "INSERT INTO t VALUES (10, 'name 10', 'a')");
    run(&mut b, "INSERT INTO t VALUES (20, 'name 20', 'b')");
    run(&mut b, "UPDATE t SET note = 'b too' WHERE id = 1");
    run(&mut b, "COMMIT");
    run(&mut a, "DELETE FROM t WHERE id = 2");
    run(&mut a, "COMMIT");
    drop((a, b));
    db.close().unwrap();

    let m = mine(&dir, &MineOptions::default()).unwrap();
    let commits: Vec<Scn> = m
        .records
        .iter()
        .filter(|r| r.op == MinedOp::Commit && r.user.as_deref() != Some("alice"))
        .map(|r| r.scn)
        .collect();
    assert_eq!(commits.len(), 2, "b's, then a's");
    let state = |until: Scn, name: &str| {
        let to = tmp.path().join(name);
        recover_until(&bk, &to, until, &[], Some(&dir)).unwrap();
        let rdb = Database::open(&to, config(None)).unwrap();
        let r = rows(
            &mut session(&rdb, "dba"),
            "SELECT id, note FROM t ORDER BY id",
        );
        rdb.close().unwrap();
        r
    };
    let note = |id: i64, n: &str| vec![Value::Int(id), Value::Text(n.into())];
    // Just before b's commit: neither transaction.
    assert_eq!(
        state(Scn(commits[0].0 - 1), "r1"),
        vec![note(1, "note 1"), note(2, "note 2"), note(3, "note 3")]
    );
    // At b's commit: b's work only (a's insert, logged earlier, rolled back).
    assert_eq!(
        state(commits[0], "r2"),
        vec![
            note(1, "b too"),
            note(2, "note 2"),
            note(3, "note 3"),
            note(20, "b")
        ]
    );
    // At a's commit: both.
    assert_eq!(
        state(commits[1], "r3"),
        vec![
            note(1, "b too"),
            note(3, "note 3"),
            note(10, "a"),
            note(20, "b")
        ]
    );
}

#[test]
fn a_hole_in_the_redo_is_an_error_naming_its_lsn_range() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, bk) = (tmp.path().join("db"), tmp.path().join("backup"));
    // No archive mode: the ring wraps and the redo after the backup is lost.
    before_the_incident(&dir, &bk, None);
    let info = read_manifest(&bk).unwrap();
    let db = Database::open(&dir, config(None)).unwrap();
    fill(&db);
    let last = db.current_scn();
    db.close().unwrap();

    let err = recover_until(&bk, &tmp.path().join("r"), last, &[], Some(&dir)).unwrap_err();
    match &err {
        // The backup's own ring ends where the backup was taken; the live
        // ring starts segments later.
        Error::RedoMissing {
            from, to: Some(to), ..
        } => {
            assert_eq!(*from, info.checkpoint_lsn.0);
            assert!(*to > *from + 2 * 64 * 2048, "{err}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("is not available"), "{err}");
    assert!(!tmp.path().join("r").exists(), "nothing is left behind");

    // Without the live database, the redo simply ends too early.
    let err = recover_until(&bk, &tmp.path().join("r"), last, &[], None).unwrap_err();
    assert!(
        matches!(&err, Error::RedoMissing { from, to: None, .. } if *from == info.checkpoint_lsn.0),
        "{err}"
    );
    // The backup alone is enough for its own SCN.
    let r = recover_until(&bk, &tmp.path().join("r"), info.scn, &[], None).unwrap();
    assert_eq!(
        (r.recovery.records_read, r.to_lsn),
        (0, info.checkpoint_lsn)
    );
}

#[test]
fn an_scn_older_than_the_backup_is_refused() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, bk) = (tmp.path().join("db"), tmp.path().join("backup"));
    before_the_incident(&dir, &bk, None);
    let info = read_manifest(&bk).unwrap();
    let err = recover_until(
        &bk,
        &tmp.path().join("r"),
        Scn(info.scn.0 - 1),
        &[],
        Some(&dir),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("already holds changes up to SCN")),
        "{err}"
    );
    // And a target that is not empty is refused before anything is copied.
    let err = recover_until(&bk, &dir, info.scn, &[], None).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
}

#[test]
fn a_nologging_load_after_the_backup_is_marked_corrupt_not_lost_silently() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (dir, bk) = (tmp.path().join("db"), tmp.path().join("backup"));
    before_the_incident(&dir, &bk, None);
    let db = Database::open(&dir, config(None)).unwrap();
    let mut s = session(&db, "loader");
    run(&mut s, "CREATE TABLE big (k INTEGER, pad TEXT) NOLOGGING");
    let loaded = (0..50)
        .map(|k| vec![Value::Int(k), Value::Text("p".repeat(100))])
        .collect();
    let load = s.insert_append("big", loaded).unwrap();
    s.commit().unwrap();
    // A logged change to a loaded row: recovery cannot apply it either.
    run(&mut s, "UPDATE big SET pad = 'q' WHERE k = 3");
    run(&mut s, "COMMIT");
    run(
        &mut s,
        "INSERT INTO t VALUES (4, 'name 4', 'after the load')",
    );
    run(&mut s, "COMMIT");
    drop(s);
    let last = db.current_scn();
    db.close().unwrap();

    let to = tmp.path().join("r");
    let r = recover_until(&bk, &to, last, &[], Some(&dir)).unwrap();
    // 50 rows of ~110 bytes: 4 blocks of 2 KiB.
    assert_eq!(load.blocks, 4);
    assert_eq!(r.recovery.nologging_blocks.len(), 4);
    assert_eq!(r.recovery.changes_lost, 1);
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].contains("loaded NOLOGGING"),
        "{}",
        r.warnings[0]
    );
    let rdb = Database::open(&to, config(None)).unwrap();
    let mut s = session(&rdb, "dba");
    // The table's blocks fail to read instead of looking empty…
    let err = s.execute("SELECT COUNT(*) FROM big").unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    // …and everything else was recovered.
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM t"),
        vec![vec![Value::Int(4)]]
    );
}

fn blocklab(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blocklab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_commands_do_the_same_from_the_shell() {
    let tmp = tempfile::TempDir::new().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (db, bk, rec, arch) = (p("db"), p("backup"), p("rec"), p("arch"));
    // Archive mode and a small ring from the script's header lines.
    let setup = format!(
        "-- blocklab: set archive_dir={arch} block_size=2048 log_file_size=131072 log_files=3\n\
         CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT);\n\
         INSERT INTO t VALUES (1, 'name 1', 'note 1');\n\
         COMMIT;\n"
    );
    let script = p("setup.sql");
    std::fs::write(&script, setup).unwrap();
    let (code, _, err) = blocklab(&["sql", "--db", &db, "--user", "alice", "-f", &script]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = blocklab(&["backup", "--db", &db, "--to", &bk]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("backup of database "), "{out}");
    let incident =
        "ALTER TABLE t DROP COLUMN note;\nINSERT INTO t VALUES (2, 'name 2');\nCOMMIT;\n";
    let (code, _, err) = blocklab(&["sql", "--db", &db, "--user", "partner", "-e", incident]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = blocklab(&["logminer", "--db", &db, "--table", "t", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let records = json["records"].as_array().unwrap();
    let drop_col = records
        .iter()
        .find(|r| r["text"] == "ALTER TABLE t DROP COLUMN note")
        .unwrap();
    assert_eq!(drop_col["user"], "partner");
    let d = drop_col["scn"].as_u64().unwrap();
    let (code, table, _) = blocklab(&["logminer", "--db", &db, "--table", "t"]);
    assert_eq!(code, 0);
    assert!(table.contains("partner  DDL"), "{table}");

    let until = (d - 1).to_string();
    let (code, out, err) = blocklab(&[
        "recover",
        "--backup",
        &bk,
        "--to",
        &rec,
        "--until-scn",
        &until,
        "--db",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 transaction rolled back;"), "{out}");
    let from = (d + 1).to_string();
    let (code, sql, _) = blocklab(&[
        "logminer",
        "--db",
        &db,
        "--table",
        "t",
        "--from-scn",
        &from,
        "--format",
        "sql",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        sql,
        "INSERT INTO t (id, name) VALUES (2, 'name 2');\nCOMMIT;\n"
    );
    let replay = format!("{sql}SELECT id, note FROM t ORDER BY id;\n");
    let (code, out, err) = blocklab(&["sql", "--db", &rec, "--format", "csv", "-e", &replay]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("id,note\n1,note 1\n2,\n"), "{out}");

    // Errors: an SCN older than the backup, a target that is not empty.
    let (code, _, err) = blocklab(&[
        "recover",
        "--backup",
        &bk,
        "--to",
        &p("r2"),
        "--until-scn",
        "1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("already holds changes up to SCN"), "{err}");
}
