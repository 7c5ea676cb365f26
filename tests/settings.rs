//! Settings are checked against their documented ranges, and the settings a
//! database fixes at creation cannot be asked for with another value later.
//!
//! Found by a hostile user: `--set cache_frames=18446744073709551615`
//! panicked, `log_files=18446744073709551615` hung, `log_files=4294967299`
//! silently became 3 and `undo_blocks=4294967299` was refused with "got 3"
//! (the numbers were cut to 32 bits before being checked); and
//! `--set block_size=4096` on an existing 8 KiB database was ignored.

use std::process::Command;

use blocklab::{Config, Database, Error};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

/// The message of a `Config` error, or a panic naming what came instead.
fn config_error(r: blocklab::Result<()>) -> String {
    match r {
        Err(Error::Config(m)) => m,
        Err(e) => panic!("expected a configuration error, got {e}"),
        Ok(()) => panic!("expected a configuration error, got Ok"),
    }
}

#[test]
fn the_four_values_of_the_issue_are_errors_naming_the_setting_and_its_range() {
    for (key, value, range) in [
        ("cache_frames", "18446744073709551615", "from 16 to 1048576"),
        ("log_files", "18446744073709551615", "from 3 to 255"),
        ("log_files", "4294967299", "from 3 to 255"),
        ("undo_blocks", "4294967299", "from 4 to 16777216"),
    ] {
        let msg = config_error(Config::default().set(key, value));
        assert!(
            msg.contains(key) && msg.contains(range) && msg.contains(value),
            "{key}={value}: {msg}"
        );
    }
}

#[test]
fn every_numeric_setting_takes_its_bounds_and_refuses_one_past_them() {
    for limit in Config::LIMITS {
        let mut c = Config::default();
        // The relative rules (at least 32 blocks of log, 4 undo blocks per
        // segment, ...) hold for the bounds with these companions.
        c.set("undo_segments", "1").unwrap();
        c.set("block_size", "2048").unwrap();
        c.set("undo_autoextend", "off").unwrap();
        for ok in [limit.min, limit.max] {
            let mut c = c.clone();
            c.set(limit.name, &ok.to_string())
                .unwrap_or_else(|e| panic!("{}={ok}: {e}", limit.name));
            if limit.name != "initrans" || ok <= 31 {
                c.validate()
                    .unwrap_or_else(|e| panic!("{}={ok}: {e}", limit.name));
            }
        }
        let past = limit.max + 1;
        let msg = config_error(c.clone().set(limit.name, &past.to_string()));
        assert!(msg.contains(limit.name), "{msg}");
        if limit.min > 0 {
            let below = limit.min - 1;
            assert!(
                c.set(limit.name, &below.to_string()).is_err(),
                "{} = {below}",
                limit.name
            );
        }
    }
}

#[test]
fn numbers_are_never_truncated_or_wrapped() {
    let mut c = Config::default();
    assert!(c.set("log_files", "99999999999999999999999").is_err()); // > u64
    assert!(c.set("undo_segments", "65537").is_err()); // 1 as u16
    assert!(c.set("initrans", "257").is_err()); // 1 as u8
    assert!(c.set("lock_timeout", "18446744073709551615").is_err());
    assert!(c.set("cache_frames", "-1").is_err());
    assert_eq!(
        c.log_files,
        Config::default().log_files,
        "a refused value changes nothing"
    );
}

#[test]
fn struct_literals_are_checked_too() {
    let c = Config {
        cache_frames: usize::MAX,
        ..Config::default()
    };
    assert!(config_error(c.validate()).contains("cache_frames"));
    let c = Config {
        initrans: 40,
        block_size: 2048,
        ..Config::default()
    };
    assert!(config_error(c.validate()).contains("initrans"));
}

#[test]
fn the_cli_reports_bad_settings_without_panicking_or_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    for set in [
        "cache_frames=18446744073709551615",
        "log_files=18446744073709551615",
        "log_files=4294967299",
        "undo_blocks=4294967299",
    ] {
        let out = Command::new(BIN)
            .args(["sql", "-e", "SELECT 1 AS a", "--set", set, "--db"])
            .arg(tmp.path().join("db"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {stderr}");
        let key = set.split('=').next().unwrap();
        assert!(
            stderr.contains(key) && stderr.contains(" to "),
            "{set}: {stderr}"
        );
    }
    assert!(
        !tmp.path().join("db").join("control").exists(),
        "nothing was created"
    );
}

#[test]
fn settings_fixed_at_creation_cannot_change_on_a_later_open() {
    let tmp = tempfile::tempdir().unwrap();
    let mut created = Config::default();
    created.set("block_size", "4096").unwrap();
    created.set("log_file_size", "262144").unwrap();
    created.set("log_files", "3").unwrap();
    created.set("undo_segments", "2").unwrap();
    Database::open(tmp.path(), created.clone())
        .unwrap()
        .close()
        .unwrap();

    // Not given: the database's own values are used.
    let db = Database::open(tmp.path(), Config::default()).unwrap();
    assert_eq!(db.config().block_size, 4096);
    db.close().unwrap();
    // Given with the same values: fine.
    Database::open(tmp.path(), created)
        .unwrap()
        .close()
        .unwrap();
    // Given with another value, even the default one: an error naming both.
    for (key, value, has) in [
        ("block_size", "8192", "4096"),
        ("log_file_size", "16777216", "262144"),
        ("log_files", "4", "3"),
        ("undo_segments", "4", "2"),
    ] {
        let mut c = Config::default();
        c.set(key, value).unwrap();
        let msg = match Database::open(tmp.path(), c) {
            Err(Error::Config(m)) => m,
            Err(e) => panic!("{key}: expected a configuration error, got {e}"),
            Ok(_) => panic!("{key}={value} was ignored"),
        };
        assert!(
            msg.contains(key) && msg.contains(value) && msg.contains(has),
            "{key}: {msg}"
        );
    }
    // A struct literal with a value other than the default counts as given.
    let c = Config {
        log_files: 5,
        ..Config::default()
    };
    assert!(matches!(
        Database::open(tmp.path(), c),
        Err(Error::Config(_))
    ));

    // And on the command line.
    let (status, stderr) = sql_with_set(tmp.path(), "block_size=8192");
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("block_size") && stderr.contains("4096"),
        "{stderr}"
    );
}

#[test]
fn the_ranges_are_documented_in_the_help_and_the_readme() {
    let help = Config::settings_help();
    for limit in Config::LIMITS {
        assert!(
            help.contains(limit.name),
            "{} missing from {help}",
            limit.name
        );
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&help),
        "README.md must carry Config::settings_help():\n{help}"
    );
    let out = Command::new(BIN).args(["sql", "--help"]).output().unwrap();
    let cli = String::from_utf8_lossy(&out.stdout);
    for line in help.lines() {
        assert!(cli.contains(line.trim_end()), "sql --help lacks {line:?}");
    }
}

/// `blocklab sql --db DIR -e "SELECT 1 AS a" --set SET`: (exit status,
/// stderr).
fn sql_with_set(dir: &std::path::Path, set: &str) -> (Option<i32>, String) {
    let out = Command::new(BIN)
        .args(["sql", "-e", "SELECT 1 AS a", "--set", set, "--db"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `blocklab sql --db DIR -f tests/scripts/snapshot_too_old.sql` with the
/// given `--set`s; (exit status, stdout, stderr).
fn snapshot_too_old_script(dir: &std::path::Path, sets: &[&str]) -> (Option<i32>, String, String) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scripts/snapshot_too_old.sql"
    );
    let mut cmd = Command::new(BIN);
    cmd.args(["sql", "-f", script, "--db"]).arg(dir);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates a database in `dir` with the given settings and closes it.
fn create_with(dir: &std::path::Path, sets: &[(&str, &str)]) {
    let mut cfg = Config::default();
    for (k, v) in sets {
        cfg.set(k, v).unwrap();
    }
    Database::open(dir, cfg).unwrap().close().unwrap();
}

#[test]
fn an_existing_database_refuses_the_scripts_undo_size_instead_of_ignoring_it() {
    // Issue 19: the script's header asks for 64 undo blocks in one segment;
    // on a database created with 1024, the header was silently ignored and
    // no ORA-01555 appeared. undo_segments=1 matches, so undo_blocks is the
    // one setting that differs.
    let tmp = tempfile::tempdir().unwrap();
    create_with(tmp.path(), &[("undo_segments", "1")]);
    let (status, stdout, stderr) = snapshot_too_old_script(tmp.path(), &[]);
    assert_eq!(status, Some(2), "{stdout}{stderr}");
    for part in ["undo_blocks", "1024", "64", "new directory"] {
        assert!(stderr.contains(part), "{part} missing from: {stderr}");
    }
    // --set on the command line, too: the same error before anything runs.
    let (status, stderr) = sql_with_set(tmp.path(), "undo_blocks=64");
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("undo_blocks"), "{stderr}");
}

#[test]
fn the_same_creation_value_is_accepted_and_runtime_settings_take_effect() {
    // Created with the script's undo size but the default autoextend and
    // retention: rerunning the header is fine, and its undo_autoextend=off
    // and undo_retention=0 apply to this open, so the reporter gets its
    // ORA-01555 (with autoextend on, the undo would grow instead).
    let tmp = tempfile::tempdir().unwrap();
    create_with(tmp.path(), &[("undo_segments", "1"), ("undo_blocks", "64")]);
    let (status, stdout, stderr) = snapshot_too_old_script(tmp.path(), &[]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.contains("ORA-01555"), "{stdout}");

    // The control: the same database with the runtime settings put back
    // to autoextend and a long retention does not fail.
    let tmp = tempfile::tempdir().unwrap();
    create_with(tmp.path(), &[("undo_segments", "1"), ("undo_blocks", "64")]);
    let (status, stdout, stderr) =
        snapshot_too_old_script(tmp.path(), &["undo_autoextend=on", "undo_retention=900000"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!stdout.contains("ORA-01555"), "{stdout}");
}
