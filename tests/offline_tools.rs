//! The offline tools, `blocklab verify` and `blocklab logminer`, only read:
//! they run on a read-only file system, and a data file they cannot map
//! whole (a sparse file on a full file system) is no reason to die.
//!
//! The real-file-system cases need `mount` (a tmpfs of a few MiB, remounted
//! read-only, or filled up); where mounting is not permitted they say so on
//! stderr and check what they can without it: the same run against a
//! directory whose files and directory lost their write permission (which
//! proves something only for a user other than root, who ignores
//! permissions), and the library's read-only backend, whose handles are
//! opened read-only (a write through one fails in the kernel, even for root).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blocklab::storage::{Backend, ReadOnlyBackend};
use blocklab::{Config, Database};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

fn cfg() -> Config {
    Config {
        block_size: 4096,
        background_writer: false,
        log_file_size: 1 << 20,
        log_files: 3,
        undo_blocks: 16,
        ..Config::default()
    }
}

/// A closed database in `dir`: a table with an index, 500 rows, a delete.
fn make_db(dir: &Path) {
    let db = Database::open(dir, cfg()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
        "CREATE INDEX t_v ON t (v)",
        "INSERT INTO t SELECT value, 'v' || value FROM generate_series(1, 500)",
        "DELETE FROM t WHERE id % 7 = 0",
        "COMMIT",
    ] {
        s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    drop(s);
    db.close().unwrap();
}

fn run(args: &[&str], db: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("running blocklab")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs verify and logminer on `db` and requires both to succeed.
fn both_tools_succeed(db: &Path, what: &str) {
    let v = run(&["verify"], db);
    assert!(v.status.success(), "{what}: verify: {}", text(&v));
    assert!(
        String::from_utf8_lossy(&v.stdout).ends_with(" blocks, 0 corrupt\n"),
        "{what}: {}",
        text(&v)
    );
    let m = run(&["logminer", "--table", "t"], db);
    assert!(m.status.success(), "{what}: logminer: {}", text(&m));
    assert!(
        String::from_utf8_lossy(&m.stdout).contains("INSERT"),
        "{what}: logminer lists the inserts: {}",
        text(&m)
    );
}

/// A tmpfs mounted at a fresh directory, unmounted on drop.
struct Tmpfs {
    _parent: tempfile::TempDir,
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mib` MiB, or says why not.
    fn mount(mib: u32) -> Result<Tmpfs, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = parent.path().join("mnt");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs {
            _parent: parent,
            dir,
        })
    }

    fn remount(&self, opts: &str) {
        let out = Command::new("mount")
            .args(["-o", opts])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "remount {opts}: {out:?}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn verify_and_logminer_run_on_a_read_only_file_system() {
    match Tmpfs::mount(16) {
        Ok(fs) => {
            let db = fs.dir.join("db");
            make_db(&db);
            fs.remount("remount,ro");
            assert!(
                std::fs::write(db.join("probe"), b"x").is_err(),
                "the file system is read-only"
            );
            both_tools_succeed(&db, "read-only tmpfs");
            fs.remount("remount,rw");
        }
        Err(why) => eprintln!(
            "SKIPPED the real read-only file system part (mount not permitted: {why}); \
             only the permission and library checks ran"
        ),
    }
    // Without mount: no write permission anywhere in the database.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    make_db(&db);
    let set_mode = |mode: u32, dir_mode: u32| {
        for e in std::fs::read_dir(&db).unwrap() {
            let p = e.unwrap().path();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(dir_mode)).unwrap();
    };
    set_mode(0o444, 0o555);
    both_tools_succeed(&db, "read-only permissions");
    set_mode(0o644, 0o755);
}

#[test]
fn the_read_only_backend_opens_files_read_only_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    make_db(&db);
    let missing = tmp.path().join("missing");
    assert!(ReadOnlyBackend::new(&missing).is_err());
    assert!(!missing.exists(), "a missing directory is not created");
    let be = ReadOnlyBackend::new(&db).unwrap();
    let f = be.open("control", false).unwrap();
    let mut b = [0u8; 8];
    f.read_at(&mut b, 0).unwrap();
    assert_eq!(&b, b"BLKCTL01");
    // The handle is read-only in the kernel: a write fails even for root.
    assert!(f.write_at(b"x", 0).is_err());
    assert!(f.set_len(0).is_err());
    assert!(be.open("new-file", true).is_err());
    assert!(!db.join("new-file").exists());
    assert!(be.remove("control").is_err() && db.join("control").exists());
    assert!(be.rename("control", "c2").is_err() && db.join("control").exists());
    let mut bytes = [0u8; 8];
    std::fs::File::open(db.join("control"))
        .and_then(|f| std::os::unix::fs::FileExt::read_exact_at(&f, &mut bytes, 0))
        .unwrap();
    assert_eq!(&bytes, b"BLKCTL01", "nothing was written");
}

#[test]
fn verify_survives_a_sparse_data_file_on_a_full_file_system() {
    // Mapping a sparse file on a full tmpfs and touching a hole kills the
    // process with SIGBUS (the page cannot be allocated); reading it with
    // pread returns zeros.
    let fs = match Tmpfs::mount(8) {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED: needs a tmpfs to fill up (mount not permitted: {why})");
            return;
        }
    };
    let db = fs.dir.join("db");
    make_db(&db);
    // A hole of 64 MiB at the end of the data file, more than the file
    // system can hold, then every free byte taken.
    let data = std::fs::OpenOptions::new()
        .write(true)
        .open(db.join(blocklab::verify::DATA_FILE))
        .unwrap();
    let len = data.metadata().unwrap().len();
    data.set_len(len + (64 << 20)).unwrap();
    drop(data);
    let mut filler = std::fs::File::create(fs.dir.join("filler")).unwrap();
    let chunk = vec![1u8; 64 << 10];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    drop(filler);
    let out = run(&["verify"], &db);
    assert!(
        out.status.code().is_some(),
        "verify was killed by a signal: {}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The hole reads as zero blocks, which are unformatted, not damage.
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout.ends_with(" blocks, 0 corrupt\n"), "{}", text(&out));
}
