//! Creating a database is explicit: only an empty (or absent) directory, or
//! one that a creation cut short left behind, is made into a new database.
//! A directory that holds data files or redo logs but no control file once
//! opened as a brand-new database over the old files, silently, exit
//! status 0; it is an error now, and the old files are left as they were.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use blocklab::storage::{ControlFile, SimBackend};
use blocklab::{Config, Database, Error, Value};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

fn cfg() -> Config {
    Config {
        block_size: 4096,
        log_file_size: 128 << 10,
        undo_blocks: 16,
        background_writer: false,
        ..Config::default()
    }
}

/// A closed database in `dir` with one committed row.
fn database_with_a_row(dir: &Path) {
    let db = Database::open(dir, cfg()).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER)").unwrap();
    s.execute("INSERT INTO t VALUES (7)").unwrap();
    s.commit().unwrap();
    drop(s);
    db.close().unwrap();
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_missing_control_file_is_an_error_and_the_data_files_are_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    database_with_a_row(tmp.path());
    std::fs::remove_file(tmp.path().join(ControlFile::NAME)).unwrap();
    let before = files(tmp.path());
    match Database::open(tmp.path(), cfg()) {
        Err(Error::IncompleteDatabase { dir, present }) => {
            assert_eq!(dir, tmp.path().display().to_string());
            // The data file, its doublewrite area and the 4 redo logs of
            // the default ring.
            assert_eq!(present.len(), 6, "{present:?}");
            assert!(present.contains(&"data01.dbf".to_string()), "{present:?}");
        }
        Err(e) => panic!("expected IncompleteDatabase, got {e}"),
        Ok(_) => panic!("a new database was created over the old files"),
    }
    let after = files(tmp.path());
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    // Only the lock file may have been rewritten (it holds the opener's pid).
    let without_lock = |f: Vec<(String, Vec<u8>)>| {
        f.into_iter()
            .filter(|(n, _)| n != "lock")
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&before), names(&after));
    assert!(
        without_lock(before) == without_lock(after),
        "a file changed"
    );
}

#[test]
fn redo_logs_alone_also_make_a_directory_a_database() {
    let tmp = tempfile::tempdir().unwrap();
    database_with_a_row(tmp.path());
    std::fs::remove_file(tmp.path().join(ControlFile::NAME)).unwrap();
    std::fs::remove_file(tmp.path().join("data01.dbf")).unwrap();
    std::fs::remove_file(tmp.path().join("doublewrite.dbf")).unwrap();
    assert!(matches!(
        Database::open(tmp.path(), cfg()),
        Err(Error::IncompleteDatabase { present, .. }) if present.len() == 4
    ));
}

#[test]
fn the_cli_refuses_a_directory_without_its_control_file() {
    let tmp = tempfile::tempdir().unwrap();
    database_with_a_row(tmp.path());
    std::fs::remove_file(tmp.path().join(ControlFile::NAME)).unwrap();
    let out = Command::new(BIN)
        .args(["sql", "-e", "SELECT * FROM t", "--db"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("not a complete blocklab database: control file missing; data files present"),
        "{stderr}"
    );
    assert!(!tmp.path().join(ControlFile::NAME).exists());
}

#[test]
fn an_empty_or_absent_directory_becomes_a_new_database() {
    let tmp = tempfile::tempdir().unwrap();
    Database::open(tmp.path(), cfg()).unwrap().close().unwrap();
    let absent = tmp.path().join("a").join("b");
    let db = Database::open(&absent, cfg()).unwrap();
    assert!(db.tables().is_empty());
    drop(db);
    // And the new database reopens as itself, with its row.
    let dir = tmp.path().join("c");
    database_with_a_row(&dir);
    let db = Database::open(&dir, cfg()).unwrap();
    let rows = db.session().execute("SELECT id FROM t").unwrap().rows;
    assert_eq!(rows, vec![vec![Value::Int(7)]]);
}

/// Creation stays crash-safe: a power cut at any I/O of the first open
/// (creation, bootstrap, first checkpoint, close) leaves a directory whose
/// next open succeeds and gives an empty database, whether the disk had
/// written none or all of the unsynced writes.
#[test]
fn a_crash_at_any_io_of_a_creation_reopens_as_an_empty_database() {
    let total = {
        let sim = SimBackend::new();
        drop(Database::open_with(Arc::new(sim.clone()), cfg()).unwrap());
        sim.op_count()
    };
    assert!(total > 10, "a creation does {total} I/Os");
    let mut failures = Vec::new();
    for keep_unsynced in [false, true] {
        for n in 1..=total {
            let sim = SimBackend::new();
            sim.fail_op(n, true);
            drop(Database::open_with(Arc::new(sim.clone()), cfg()));
            let after = sim.crash_keeping(&mut |_, _| keep_unsynced);
            match Database::open_with(Arc::new(after.clone()), cfg()) {
                Ok(db) if db.tables().is_empty() => {
                    drop(db);
                    // Created for good: the marker of a creation in progress
                    // is gone, so losing the control file now is an error.
                    let names = after.file_names();
                    assert!(!names.iter().any(|n| n.contains("creat")), "{names:?}");
                }
                Ok(db) => failures.push(format!("I/O {n}: tables {:?}", db.tables())),
                Err(e) => failures.push(format!("crash at I/O {n} of {total}: reopen failed: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
