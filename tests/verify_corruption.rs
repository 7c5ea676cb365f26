//! `blocklab verify` finds damaged blocks, and the engine reports them as
//! errors instead of panicking.
//!
//! Each case damages one block of a small, cleanly closed database on disk
//! (one flipped byte, as bit rot would), runs `blocklab verify`, and then
//! opens the database with the library and reads the table. Further tests
//! feed verify arbitrary bytes (with valid checksums, so the decoder and the
//! structural rules are reached) and require a report, never a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Output};

use blocklab::block::{Block, Body};
use blocklab::storage::{stamp_crc, ControlFile, OsBackend};
use blocklab::verify::{check_block, FileContext, DATA_FILE};
use blocklab::{BlockNo, ColType, Column, Config, Database, Value};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");
const BS: usize = 4096;

fn cfg() -> Config {
    Config {
        block_size: BS,
        background_writer: false,
        // Small, so each test database is a few hundred KiB plus its logs.
        log_file_size: 1 << 20,
        undo_blocks: 16,
        ..Config::default()
    }
}

/// A closed database with table `t` of 300 rows. Returns (segment header
/// block, first table block) of `t`.
fn make_db(dir: &Path) -> (u32, u32) {
    let db = Database::open(dir, cfg()).unwrap();
    let mut s = db.session();
    s.create_table(
        "t",
        &[
            Column::new("id", ColType::Integer),
            Column::new("name", ColType::Text),
        ],
    )
    .unwrap();
    let mut first = None;
    for i in 0..300 {
        let r = s
            .insert("t", vec![Value::Int(i), Value::Text(format!("row {i}"))])
            .unwrap();
        first.get_or_insert(r);
    }
    s.commit().unwrap();
    let seg = db.tables()[0].seg.0;
    drop(s);
    db.close().unwrap();
    (seg, first.unwrap().block.0)
}

fn verify(dir: &Path) -> Output {
    Command::new(BIN)
        .args(["verify", "--db"])
        .arg(dir)
        .output()
        .expect("running blocklab verify")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// XORs one byte of the data file (XOR again to restore it).
fn flip(dir: &Path, offset: usize) {
    let path = dir.join(DATA_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
}

/// Opens the database and scans `t`; Ok(true) if that worked, Ok(false) if
/// it returned an error, Err if the engine panicked.
fn open_and_scan(dir: &Path) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(|| {
        Database::open(dir, cfg())
            .and_then(|db| db.session().scan("t").map(|_| ()))
            .is_ok()
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

#[test]
fn a_clean_database_verifies_with_no_corrupt_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    make_db(tmp.path());
    let out = verify(tmp.path());
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with(" blocks, 0 corrupt\n"), "{stdout}");
    assert!(!stdout.contains("corrupt block"), "{stdout}");
}

#[test]
fn a_flipped_byte_is_reported_by_verify_and_is_an_error_for_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (seg, table_block) = make_db(dir);
    // Open checks the file header and reads the undo header (to roll back
    // active transactions) and the catalog; the scan reads the table's
    // blocks. So every case must be an error for the engine too.
    let cases = [
        (0, "file header"),
        (1, "undo header"),
        (2, "catalog segment header"),
        (seg, "table segment header"),
        (table_block, "table block"),
    ];
    for (block, what) in cases {
        let offset = block as usize * BS + BS / 2;
        flip(dir, offset);

        let out = verify(dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
        assert!(
            stdout.contains(&format!("corrupt block {DATA_FILE} {block}:")),
            "{what}: {}",
            text(&out)
        );
        // Exactly the one damaged block.
        assert!(stdout.contains(" blocks, 1 corrupt\n"), "{what}: {stdout}");

        // The block's last image written from the cache is also in the
        // doublewrite area, which the next open would put back (that repair
        // is tested in tests/fault_sweep.rs): without it, the damage stays.
        std::fs::remove_file(dir.join("doublewrite.dbf")).unwrap();
        assert_eq!(
            open_and_scan(dir),
            Ok(false),
            "{what} (block {block}): opening and scanning must be an error"
        );

        flip(dir, offset);
        let out = verify(dir);
        assert!(out.status.success(), "{what} restored: {}", text(&out));
    }
}

/// Rewrites block `no` through `f` with a valid checksum: damage that the
/// CRC cannot see (a bug, or a foreign writer), so only structure catches it.
fn rewrite_block(dir: &Path, no: u32, f: impl FnOnce(&mut Block)) {
    let path = dir.join(DATA_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let buf = &mut bytes[no as usize * BS..(no as usize + 1) * BS];
    let mut b = Block::decode(BlockNo(no), buf).unwrap();
    f(&mut b);
    b.encode(buf).unwrap();
    stamp_crc(buf);
    std::fs::write(&path, bytes).unwrap();
}

#[test]
fn structural_damage_under_a_valid_checksum_is_reported_by_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, table_block) = make_db(dir);
    // A lock byte naming an ITL entry the block does not have.
    rewrite_block(dir, table_block, |b| {
        if let Body::Heap(slots) = &mut b.body {
            slots[0].lock = b.itl.len() as u8 + 1;
        }
    });
    // An undo header whose ring has no blocks.
    rewrite_block(dir, 1, |b| {
        if let Body::UndoHeader(h) = &mut b.body {
            h.extents.clear();
        }
    });
    let out = verify(dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout.contains(&format!(
            "corrupt block {DATA_FILE} {table_block}: slot 0 lock byte"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "corrupt block {DATA_FILE} 1: undo header has no undo extents"
        )),
        "{stdout}"
    );
    assert!(stdout.contains(" blocks, 2 corrupt\n"), "{stdout}");
}

/// An undo header with no extents under a valid checksum once made the
/// first change panic (a division by the ring length in
/// `undo::alloc_undo_block`); it must be an error.
#[test]
fn an_undo_header_without_extents_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    make_db(dir);
    rewrite_block(dir, 1, |b| {
        if let Body::UndoHeader(h) = &mut b.body {
            h.extents.clear();
        }
    });
    let r = catch_unwind(AssertUnwindSafe(|| {
        let db = Database::open(dir, cfg())?;
        let mut s = db.session();
        s.insert("t", vec![Value::Int(1), Value::Null])?;
        s.commit()
    }));
    match r {
        Ok(res) => assert!(res.is_err(), "the change must fail"),
        Err(_) => panic!("the engine panicked on a block read from disk"),
    }
}

/// `clean_shutdown` in the control file, which `verify` reports on, must be
/// cleared while the database is open (it once stayed set forever after
/// the first clean close).
#[test]
fn an_open_database_is_not_marked_clean() {
    let tmp = tempfile::tempdir().unwrap();
    make_db(tmp.path()); // opened and closed cleanly once
    let db = Database::open(tmp.path(), cfg()).unwrap();
    let backend = OsBackend::new(tmp.path()).unwrap();
    let (_, control) = ControlFile::open(&backend).unwrap();
    assert!(
        !control.clean_shutdown,
        "the database is open, yet the control file records a clean shutdown"
    );
    drop(db);
}

/// SplitMix64 for reproducible garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[test]
fn verify_never_panics_on_mutated_blocks_with_valid_checksums() {
    let tmp = tempfile::tempdir().unwrap();
    make_db(tmp.path());
    let image = std::fs::read(tmp.path().join(DATA_FILE)).unwrap();
    let count = (image.len() / BS) as u32;
    let header = match Block::decode(BlockNo(0), &image[..BS]).unwrap().body {
        Body::FileHeader(h) => h,
        other => panic!("block 0 is {other:?}"),
    };
    let ctx = FileContext::new(count, BS as u32, Some(&header));
    let mut rng = Rng(7);
    let mut rejected = 0;
    // Real blocks (every kind the engine writes) with a few bytes changed
    // in their first 256 bytes, where headers, ITLs and counts live, then
    // re-checksummed so that decoding and the structural rules run.
    for round in 0..20_000 {
        let no = (round as u32) % count.min(64);
        let mut buf = image[no as usize * BS..(no as usize + 1) * BS].to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let at = 4 + (rng.next() % 252) as usize;
            buf[at] = rng.next() as u8;
        }
        stamp_crc(&mut buf);
        if check_block(no, &buf, &ctx).is_err() {
            rejected += 1;
        }
    }
    // Most mutations hit something verify checks; the point is that none
    // of them panicked.
    assert!(rejected > 0);
}

#[test]
fn verify_reports_a_file_of_garbage_and_a_partial_block_without_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    make_db(dir);
    let mut rng = Rng(11);
    let mut bytes = vec![0u8; 8 * BS + 100];
    for (n, block) in bytes.chunks_exact_mut(BS).enumerate() {
        for b in block.iter_mut() {
            *b = rng.next() as u8;
        }
        // A plausible header: kind 1..=5, few ITLs, the right self-address.
        block[4] = 1 + (n % 5) as u8;
        block[6] %= 4;
        block[8..12].copy_from_slice(&(n as u32).to_le_bytes());
        stamp_crc(block);
    }
    std::fs::write(dir.join(DATA_FILE), &bytes).unwrap();
    let out = verify(dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // 8 whole blocks of garbage + the 100-byte partial block at the end.
    assert!(
        stdout.contains(&format!("corrupt block {DATA_FILE} 8: partial block")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("verified 9 blocks, 9 corrupt\n"),
        "{stdout}"
    );
}

#[test]
fn verify_of_a_directory_without_a_database_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let out = verify(&missing);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        !missing.exists(),
        "verify must not create the directory it was pointed at"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no control file"));
}

/// The torn write of the issue that brought the doublewrite area: a block
/// whose first half is new and whose second half is zero (the disk filled
/// up mid-write). Verify says the next open repairs it; the open does, and
/// verify then shows the repair from the alert log.
#[test]
fn a_torn_block_is_repaired_at_open_and_verify_reports_the_repair() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, table_block) = make_db(dir);
    let path = dir.join(DATA_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let start = table_block as usize * BS;
    bytes[start + BS / 2..start + BS].fill(0);
    std::fs::write(&path, &bytes).unwrap();

    let out = verify(dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stdout.contains(&format!(
            "corrupt block {DATA_FILE} {table_block}: checksum mismatch"
        )) && stdout.contains("the next open repairs it"),
        "{}",
        text(&out)
    );

    let (db, report) = Database::open_report(
        std::sync::Arc::new(blocklab::storage::OsBackend::new(dir).unwrap()),
        cfg(),
    )
    .expect("the torn block no longer keeps the database from opening");
    assert_eq!(report.torn_blocks_repaired, vec![table_block]);
    assert_eq!(
        db.session().scan("t").unwrap().len(),
        300,
        "every committed row"
    );
    db.close().unwrap();

    let out = verify(dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout.contains(&format!(
            "block {table_block} of {DATA_FILE} failed its checksum (a torn write); \
             repaired from its copy in the doublewrite area"
        )),
        "{stdout}"
    );
}
