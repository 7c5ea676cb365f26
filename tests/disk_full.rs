//! A real full disk: a database on a small tmpfs is filled until a write
//! fails with ENOSPC, then space is freed and the database reopened. Every
//! commit acknowledged before the disk filled must be there.
//!
//! Mounting a tmpfs needs root (or a user namespace); where the test cannot
//! mount one it says so and checks nothing else. The same failure at every
//! single write and sync, on the simulated backend, is in
//! `tests/fault_sweep.rs`, which runs everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use blocklab::{Config, Database, Error, Value};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn config() -> Config {
    Config {
        block_size: 8192,
        cache_frames: 64,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 64,
        ..Config::default()
    }
}

/// Fills the rest of the file system with one file (returned, to delete
/// when space is to be freed), leaving about `leave` bytes.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let path = dir.join("filler");
    let avail = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .expect("df");
    let avail: u64 = String::from_utf8_lossy(&avail.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df prints the available bytes");
    let size = avail.saturating_sub(leave);
    std::fs::write(&path, vec![0xa5u8; size as usize]).expect("filler");
    path
}

#[test]
fn a_database_filled_to_enospc_opens_with_every_acknowledged_commit() {
    let Some(fs) = Tmpfs::mount("24m") else {
        println!("disk_full: skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let dir = fs.path().join("db");
    let db = Database::open(&dir, config()).expect("create on the tmpfs");
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT)")
        .unwrap();
    let filler = fill(fs.path(), 1 << 20);

    // Insert and commit until the disk is full.
    let pad = "p".repeat(400);
    let mut acknowledged = 0i64;
    let error = loop {
        let id = acknowledged;
        let r = s
            .execute(&format!("INSERT INTO t VALUES ({id}, '{pad}')"))
            .and_then(|_| s.execute("COMMIT"))
            .and_then(|_| {
                // Make the data file grow too, not only the log.
                if id % 50 == 0 {
                    db.checkpoint()
                } else {
                    Ok(())
                }
            });
        match r {
            Ok(_) => acknowledged += 1,
            Err(e) => break e,
        }
        assert!(acknowledged < 1_000_000, "the disk never filled");
    };
    let message = error.to_string();
    assert!(
        message.contains("No space left on device")
            || matches!(error, Error::Poisoned(_) | Error::SpaceExhausted(_)),
        "a full disk is reported as such: {message}"
    );
    println!("disk_full: {acknowledged} commits acknowledged, then: {message}");
    drop(s);
    drop(db); // shutdown fails as far as the full disk makes it

    // Free the space and reopen: everything acknowledged is there.
    std::fs::remove_file(filler).unwrap();
    let db = Database::open(&dir, config()).expect("opens once space is freed");
    let mut s = db.session();
    let r = s.execute("SELECT COUNT(*), MAX(id) FROM t").unwrap();
    let (count, max) = match r.rows[0].as_slice() {
        [Value::Int(c), Value::Int(m)] => (*c, *m),
        other => panic!("unexpected {other:?}"),
    };
    assert!(
        count >= acknowledged && count <= acknowledged + 1,
        "{count} rows for {acknowledged} acknowledged commits (the failed one may be there)"
    );
    assert_eq!(max, count - 1, "no hole: ids 0..{count}");
    let by_index = s
        .execute("SELECT /*+ INDEX(t) */ COUNT(*) FROM t WHERE id >= 0")
        .unwrap();
    assert_eq!(by_index.rows[0][0], Value::Int(count));
    // And it takes new work again.
    s.execute("INSERT INTO t VALUES (-1, 'after')").unwrap();
    s.execute("COMMIT").unwrap();
}
