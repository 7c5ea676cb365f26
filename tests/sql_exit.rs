//! The exit status of `blocklab sql` and `blocklab shell` after SQL errors.
//!
//! - `sql -e SQL` exits 1 when one of its statements failed, as
//!   `sqlite3 DB "SQL"` does (every statement still runs).
//! - A script (`-f FILE`, stdin) runs to its end and exits 0, as `psql -f`
//!   does: workshop scripts fail on purpose (ORA-01555 is the lesson).
//! - `--bail` stops a script at its first error with exit status 1
//!   (sqlite3 `-bail`, psql `ON_ERROR_STOP`).
//! - `WHENEVER SQLERROR EXIT [SUCCESS|FAILURE|n] | CONTINUE` in a script
//!   works as in SQL*Plus: the next failing statement ends the script with
//!   that status (a bare `EXIT` is SUCCESS, as SQL*Plus has it).
//! - 2 stays "the command could not run".

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

/// Runs `blocklab <args> --db <db>` with `stdin` as its standard input.
fn blocklab(args: &[&str], db: &Path, stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--db")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning blocklab");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A script whose second statement fails; the others print 1 and 3.
const FAILS_IN_THE_MIDDLE: &str = "SELECT 1 AS a;\nSELECT * FROM nope;\nSELECT 3 AS c;\n";

#[test]
fn sql_e_exits_1_when_a_statement_failed_and_0_when_none_did() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = blocklab(&["sql", "-e", "SELECT 1 AS a"], tmp.path(), "");
    assert_eq!(ok.status.code(), Some(0));
    let failed = blocklab(&["sql", "-e", FAILS_IN_THE_MIDDLE], tmp.path(), "");
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    let out = stdout(&failed);
    assert!(out.contains("ORA-00942"), "{out}");
    assert!(
        out.contains("SELECT 3 AS c;\nc\n-\n3\n"),
        "every statement ran: {out}"
    );
}

#[test]
fn a_script_runs_to_its_end_and_exits_0_despite_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.sql");
    std::fs::write(&file, FAILS_IN_THE_MIDDLE).unwrap();
    let db = tmp.path().join("db");
    let from_file = blocklab(&["sql", "-f", file.to_str().unwrap()], &db, "");
    let from_stdin = blocklab(&["sql"], &db, FAILS_IN_THE_MIDDLE);
    let shell = blocklab(&["shell"], &db, FAILS_IN_THE_MIDDLE);
    for o in [&from_file, &from_stdin, &shell] {
        assert_eq!(o.status.code(), Some(0), "{}", stdout(o));
        assert!(stdout(o).contains("ORA-00942") && stdout(o).contains("SELECT 3"));
    }
}

#[test]
fn bail_stops_a_script_at_its_first_error_with_status_1() {
    let tmp = tempfile::tempdir().unwrap();
    for cmd in ["sql", "shell"] {
        let o = blocklab(&[cmd, "--bail"], tmp.path(), FAILS_IN_THE_MIDDLE);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stdout(&o));
        assert!(stdout(&o).contains("ORA-00942"));
        assert!(
            !stdout(&o).contains("SELECT 3"),
            "{cmd} went on: {}",
            stdout(&o)
        );
    }
    // A bad client command stops it too, as a bad dot-command stops sqlite3.
    let o = blocklab(
        &["sql", "--bail"],
        tmp.path(),
        "\\frobnicate\nSELECT 3 AS c;\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("SP2-0042") && !stdout(&o).contains("SELECT 3"));
    // No error, no stop.
    let o = blocklab(
        &["sql", "--bail"],
        tmp.path(),
        "SELECT 1 AS a;\nSELECT 3 AS c;\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("SELECT 3"));
}

#[test]
fn whenever_sqlerror_exit_ends_the_script_with_the_status_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    for (whenever, status) in [
        ("WHENEVER SQLERROR EXIT FAILURE", 1),
        ("whenever sqlerror exit failure rollback;", 1),
        ("WHENEVER SQLERROR EXIT SUCCESS", 0),
        ("WHENEVER SQLERROR EXIT", 0),
        ("WHENEVER SQLERROR EXIT 3", 3),
    ] {
        let script = format!("{whenever}\n{FAILS_IN_THE_MIDDLE}");
        let o = blocklab(&["sql"], tmp.path(), &script);
        assert_eq!(o.status.code(), Some(status), "{whenever}: {}", stdout(&o));
        assert!(stdout(&o).contains("ORA-00942"), "{whenever}");
        assert!(!stdout(&o).contains("SELECT 3"), "{whenever}: went on");
    }
    // CONTINUE turns EXIT off again; errors before EXIT was set do not count.
    let script = format!(
        "WHENEVER SQLERROR EXIT FAILURE\nWHENEVER SQLERROR CONTINUE\n{FAILS_IN_THE_MIDDLE}\
         SELECT * FROM nope;\nWHENEVER SQLERROR EXIT FAILURE\nSELECT 4 AS d;\n"
    );
    let o = blocklab(&["sql"], tmp.path(), &script);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("SELECT 4"));
    // And in -e, an explicit EXIT SUCCESS wins over "a statement failed".
    let script = format!("WHENEVER SQLERROR EXIT SUCCESS\n{FAILS_IN_THE_MIDDLE}");
    let o = blocklab(&["sql", "-e", &script], tmp.path(), "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_whenever_that_blocklab_cannot_do_is_a_client_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = blocklab(
        &["sql"],
        tmp.path(),
        "WHENEVER SQLERROR EXIT FAILURE COMMIT\nWHENEVER OSERROR EXIT\nWHENEVER SQLERROR EXIT 256\n",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o).matches("ERROR: SP2-").count(),
        3,
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_help_documents_the_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    for cmd in ["sql", "shell"] {
        let o = Command::new(BIN).args([cmd, "--help"]).output().unwrap();
        let help = stdout(&o);
        assert!(help.contains("Exit status"), "{cmd} --help: {help}");
        assert!(help.contains("--bail"), "{cmd} --help: {help}");
    }
    drop(tmp);
}

/// The driver's own account: a statement that was waiting for a lock and
/// fails only at the end of the script counts. At the end, main (idle)
/// disconnects first and its UPDATE rolls back, so key 1 is back and b's
/// waiting INSERT of key 1 fails with ORA-00001.
#[test]
fn the_outcome_counts_errors_of_statements_that_finish_at_the_end() {
    use blocklab::script::{Driver, ScriptOptions};
    use blocklab::{Config, Database};
    let tmp = tempfile::tempdir().unwrap();
    let cfg = Config {
        lock_timeout: std::time::Duration::MAX,
        background_writer: false,
        ..Config::default()
    };
    let db = Database::open(tmp.path(), cfg).unwrap();
    let mut out = Vec::new();
    let mut d = Driver::new(&db, ScriptOptions::default(), &mut out);
    d.feed_text(
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO t VALUES (1);\nCOMMIT;\n\
         UPDATE t SET id = 2 WHERE id = 1;\n\\connect b\nINSERT INTO t VALUES (1);\n",
    )
    .unwrap();
    let outcome = d.finish_outcome().unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("(waiting for a lock)"), "b waited: {out}");
    assert!(
        out.contains("ORA-00001"),
        "b's insert failed at the end: {out}"
    );
    assert_eq!(
        (outcome.sql_errors, outcome.client_errors, outcome.exit),
        (1, 0, None)
    );
}
