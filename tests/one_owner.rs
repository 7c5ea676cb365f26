//! A database directory has one owner: the first process (or `Database`)
//! to open it holds an exclusive lock until it closes or dies, and every
//! other open fails at once with `Error::Locked`, naming the directory and
//! the holder's pid. Two writers on one directory once both ran: each
//! believed it owned the data file and the redo ring, and about half of the
//! commits either of them printed were gone afterwards, without `verify`
//! noticing anything.
//!
//! Who is refused while the lock is held: `stress`, `sql`, `shell`,
//! `verify`, `backup` and the Rust API. `logminer` only reads redo and
//! keeps working on a live database.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

use blocklab::storage::SimBackend;
use blocklab::{Config, Database, Error};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

fn cfg() -> Config {
    Config {
        background_writer: false,
        ..Config::default()
    }
}

fn blocklab(args: &[&str], db: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("running blocklab")
}

/// Starts `blocklab stress` on `db` and returns once it printed its first
/// commit (so it holds the database), with a reader collecting the rest.
fn start_stress(db: &Path, seconds: &str) -> (Child, std::thread::JoinHandle<Vec<i64>>) {
    let mut child = Command::new(BIN)
        .args(["stress", "--threads", "2", "--seconds", seconds, "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning blocklab stress");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines
        .next()
        .expect("stress printed nothing")
        .expect("reading stress output");
    let parse = |l: &str| -> i64 {
        l.strip_prefix("commit ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected stress output {l:?}"))
    };
    let first = parse(&first);
    let reader = std::thread::spawn(move || {
        let mut commits = vec![first];
        commits.extend(lines.map_while(|l| l.ok()).map(|l| parse(&l)));
        commits
    });
    (child, reader)
}

fn commits_in(stdout: &[u8]) -> Vec<i64> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("commit ")?.parse().ok())
        .collect()
}

/// The acceptance test of the issue: `stress & stress` on one database.
#[test]
fn a_second_stress_on_the_same_database_is_refused_and_no_commit_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let (mut first, reader) = start_stress(&db, "4");
    let second = blocklab(&["stress", "--threads", "2", "--seconds", "2"], &db);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        second.status.code(),
        Some(2),
        "the second stress must be refused, not run: {stderr}"
    );
    assert!(
        stderr.contains(&db.display().to_string())
            && stderr.contains(&format!("pid {}", first.id())),
        "the message names the directory and the holder's pid: {stderr}"
    );
    assert!(
        commits_in(&second.stdout).is_empty(),
        "a refused stress commits nothing"
    );
    assert!(first.wait().unwrap().success());
    let printed: BTreeSet<i64> = reader.join().unwrap().into_iter().collect();

    let check = blocklab(&["stress-check", "--list"], &db);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let listed: BTreeSet<i64> = String::from_utf8_lossy(&check.stdout)
        .lines()
        .skip(1) // the JSON summary
        .map(|l| l.parse().unwrap())
        .collect();
    let lost = printed.difference(&listed).count();
    assert_eq!(
        lost,
        0,
        "{lost} of {} printed commits are missing",
        printed.len()
    );
}

#[test]
fn kill_9_of_the_holder_leaves_no_stale_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let (mut child, reader) = start_stress(&db, "30");
    let holder = child.id();
    match Database::open(&db, cfg()) {
        Err(Error::Locked { pid, .. }) => assert_eq!(pid, Some(holder)),
        Err(e) => panic!("expected Locked while stress runs, got {e}"),
        Ok(_) => panic!("opened a database that stress holds"),
    }
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    let printed = reader.join().unwrap();
    // The kernel dropped the lock with the process: the next open recovers.
    let db = Database::open(&db, cfg()).expect("open after kill -9");
    let mut s = db.session();
    for txn in printed.iter().take(5) {
        let rows = s
            .execute(&format!(
                "SELECT COUNT(*) FROM stress_rows WHERE txn = {txn}"
            ))
            .unwrap();
        assert_eq!(rows.rows[0][0], blocklab::Value::Int(5), "txn {txn}");
    }
}

#[test]
fn a_second_open_in_the_same_process_is_refused_until_the_first_closes() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Database::open(tmp.path(), cfg()).unwrap();
    match Database::open(tmp.path(), cfg()) {
        Err(Error::Locked { dir, pid }) => {
            assert_eq!(dir, tmp.path().display().to_string());
            assert_eq!(pid, Some(std::process::id()));
        }
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("two Databases own one directory"),
    }
    first.close().unwrap();
    Database::open(tmp.path(), cfg()).unwrap().close().unwrap();
}

#[test]
fn a_sim_backend_has_one_owner_but_its_crashed_copy_opens() {
    let sim = SimBackend::new();
    let first = Database::open_with(Arc::new(sim.clone()), cfg()).unwrap();
    assert!(matches!(
        Database::open_with(Arc::new(sim.clone()), cfg()),
        Err(Error::Locked { .. })
    ));
    // The power is cut: the new backend is what a restart finds, and the
    // old owner died with the old one.
    let after = Database::open_with(Arc::new(sim.crash()), cfg()).unwrap();
    drop(after);
    drop(first);
    Database::open_with(Arc::new(sim), cfg()).unwrap();
}

#[test]
fn sql_shell_verify_and_backup_are_refused_while_a_writer_holds_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, cfg()).unwrap();
    db.session().execute("CREATE TABLE t (id INTEGER)").unwrap();
    db.checkpoint().unwrap();
    let pid = format!("pid {}", std::process::id());
    let backup_to = tmp.path().join("backup");
    let backup_to = backup_to.to_str().unwrap();
    for args in [
        &["sql", "-e", "SELECT 1 FROM dual"][..],
        &["shell"][..],
        &["verify"][..],
        &["backup", "--to", backup_to][..],
    ] {
        let out = blocklab(args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("already open") && stderr.contains(&pid),
            "{args:?}: {stderr}"
        );
    }
    assert!(matches!(
        blocklab::backup::backup(&dir, &tmp.path().join("b2")),
        Err(Error::Locked { .. })
    ));
    drop(db);
}

#[test]
fn logminer_reads_the_redo_of_a_database_open_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let db = Database::open(&dir, cfg()).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER)").unwrap();
    s.execute("INSERT INTO t VALUES (42)").unwrap();
    s.commit().unwrap();
    let out = blocklab(&["logminer", "--table", "t"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("42"));
    drop(s);
    drop(db);
}
