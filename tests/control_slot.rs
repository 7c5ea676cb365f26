//! Losing the newest copy of the control file (storage::control keeps two
//! slots so that one can be lost).
//!
//! The older slot holds the checkpoint before the last one. Recovering from
//! it replays more redo than needed, which is harmless (a change is applied
//! only to a block older than it), as long as that redo is still in the
//! online log: then the database opens, and says on stderr which slot was
//! lost. Once the log has been reused past that checkpoint, the redo needed
//! is gone; opening must fail with an error that names the control file,
//! never blame a redo log, and never open with committed work silently
//! missing.

use std::sync::Arc;

use blocklab::redo::{LogConfig, Ring};
use blocklab::storage::{ControlFile, SimBackend};
use blocklab::{Config, Database, Error};

const SLOT: usize = 512;

fn cfg() -> Config {
    Config {
        block_size: 2048,
        background_writer: false,
        // The smallest ring: 3 files of 32 blocks.
        log_file_size: 32 * 2048,
        log_files: 3,
        undo_blocks: 64,
        ..Config::default()
    }
}

/// Each slot's (sequence number, checkpoint LSN), from their fixed
/// places (see `storage::control`).
fn slots(be: &SimBackend) -> [(u64, u64); 2] {
    let bytes = be.current_bytes(ControlFile::NAME).unwrap();
    let at = |s: usize, off: usize| {
        u64::from_le_bytes(
            bytes[s * SLOT + off..s * SLOT + off + 8]
                .try_into()
                .unwrap(),
        )
    };
    [(at(0, 8), at(0, 48)), (at(1, 8), at(1, 48))]
}

/// (newest slot, whether the older slot's checkpoint segment is still in
/// the online log).
fn state(be: &SimBackend) -> (usize, bool) {
    let s = slots(be);
    let newest = usize::from(s[1].0 > s[0].0);
    let older_lsn = s[1 - newest].1;
    let c = cfg();
    let log = LogConfig {
        file_size: c.log_file_size,
        files: c.log_files,
    };
    let k = older_lsn / log.segment_capacity();
    let headers = Ring::open(be, &log).unwrap().headers().unwrap();
    let held = headers[(k % c.log_files as u64) as usize];
    (newest, held.is_none_or(|h| h == k))
}

/// Commits rows into `t` one transaction at a time (checkpoints come as
/// the ring fills) until `done(image)` says a power cut now gives the
/// state wanted; returns that image and the rows committed.
fn workload(mut done: impl FnMut(&SimBackend) -> bool) -> (SimBackend, i64) {
    let be = SimBackend::new();
    let db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER, pad TEXT)").unwrap();
    s.execute("COMMIT").unwrap();
    for i in 1..=2000 {
        s.execute(&format!(
            "INSERT INTO t VALUES ({i}, '{}')",
            "x".repeat(300)
        ))
        .unwrap();
        s.execute("COMMIT").unwrap();
        let image = be.crash();
        if done(&image) {
            std::mem::forget(s);
            std::mem::forget(db);
            return (image, i);
        }
    }
    panic!("the wanted state never came");
}

fn count(db: &Database) -> i64 {
    let r = db.session().execute("SELECT COUNT(*) FROM t").unwrap();
    r.rows[0][0].as_int().unwrap()
}

#[test]
fn a_lost_newest_slot_recovers_from_the_older_one_while_its_redo_is_online() {
    // The older slot's checkpoint is an earlier one (not the one at open),
    // and its redo is still all there.
    let (image, rows) = workload(|be| {
        let s = slots(be);
        s[0].1 != s[1].1 && s[0].0 > 3 && s[1].0 > 3 && state(be).1
    });
    let (newest, _) = state(&image);
    image
        .corrupt(ControlFile::NAME, (newest * SLOT + 40) as u64, 0xff)
        .unwrap();
    let (db, report) = Database::open_report(Arc::new(image.clone()), cfg())
        .unwrap_or_else(|e| panic!("the older slot's redo is all there: {e}"));
    assert_eq!(count(&db), rows, "every committed row");
    let warning = report.warnings.join("\n");
    assert!(
        warning.starts_with("control file sim:control: ")
            && warning.contains(&format!("slot {newest} is damaged (checksum mismatch")),
        "{warning}"
    );
    db.close().unwrap();
    // Opening rewrote the damaged slot: both are valid again.
    let s = slots(&image);
    assert_eq!(s[0].0.abs_diff(s[1].0), 1, "{s:?}");
    let (_, data) = ControlFile::open(&image).unwrap();
    assert!(data.clean_shutdown);
}

#[test]
fn a_lost_newest_slot_whose_older_checkpoint_redo_was_reused_names_the_control_file() {
    let (image, _) = workload(|be| !state(be).1);
    let (newest, _) = state(&image);
    image
        .corrupt(ControlFile::NAME, (newest * SLOT + 40) as u64, 0xff)
        .unwrap();
    let err = Database::open_with(Arc::new(image), cfg())
        .err()
        .expect("the redo from the older checkpoint is gone: opening must fail");
    let text = err.to_string();
    assert!(
        matches!(&err, Error::CorruptControl { .. }),
        "the error must be about the control file: {text}"
    );
    assert!(text.contains(&format!("slot {newest}")), "{text}");
}

#[test]
fn verify_reports_a_lost_control_file_slot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = Database::open(dir, cfg()).unwrap();
    db.session()
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        .unwrap();
    db.close().unwrap();
    let path = dir.join(ControlFile::NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    let seq =
        |b: &[u8], s: usize| u64::from_le_bytes(b[s * SLOT + 8..s * SLOT + 16].try_into().unwrap());
    let newest = usize::from(seq(&bytes, 1) > seq(&bytes, 0));
    bytes[newest * SLOT + 40] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let report = blocklab::verify::verify_dir(dir).unwrap();
    let lost = report.control_lost_slot.clone().unwrap_or_default();
    assert!(
        lost.starts_with(&format!("slot {newest} is damaged")),
        "{lost}"
    );
    assert!(!report.is_clean());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blocklab"))
        .args(["verify", "--db"])
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with(&format!("control file control: slot {newest} is damaged")),
        "{stdout}"
    );
}
