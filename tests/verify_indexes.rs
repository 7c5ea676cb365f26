//! `blocklab verify` compares every index with its table (the logical
//! level, `verify::logical`): a missing entry and an entry naming no row are
//! reported, with the index, rowid and key, and verify exits 1; healthy
//! databases with indexes of every kind verify clean, after updates that
//! move rows, deletes, rollbacks, direct-path loads committed and rolled
//! back, and a crash in the middle of a load once recovery has run. A
//! database that was not shut down cleanly is not judged: its blocks are
//! not the committed state.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use blocklab::block::index::IdxEntry;
use blocklab::block::{Block, Body};
use blocklab::storage::{stamp_crc, ControlFile, SimBackend};
use blocklab::verify::{verify_bytes, verify_dir, IndexCheck, IndexProblem, DATA_FILE};
use blocklab::{BlockNo, Config, Database, RowId, Session};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");
const BS: usize = 4096;

fn cfg() -> Config {
    Config {
        block_size: BS,
        background_writer: false,
        log_file_size: 1 << 20,
        log_files: 3,
        ..Config::default()
    }
}

fn run(s: &mut Session, sql: &str) {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
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

/// The index check of a clean report: (indexes, unusable, entries).
fn checked(check: &IndexCheck) -> (usize, usize, u64) {
    match check {
        IndexCheck::Checked {
            indexes,
            unusable,
            entries,
            problems,
            unlisted,
        } => {
            assert_eq!((problems.as_slice(), *unlisted), (&[][..], 0), "{check:?}");
            (*indexes, *unusable, *entries)
        }
        IndexCheck::Skipped(why) => panic!("the index check was skipped: {why}"),
    }
}

#[test]
fn a_healthy_database_with_indexes_of_every_kind_verifies_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = Database::open(dir, cfg()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, r REAL)",
        "CREATE INDEX t_v ON t (v)",
        "CREATE INDEX t_rv ON t (r DESC, v)",
        "CREATE TABLE u (a INTEGER, b TEXT)",
        "CREATE UNIQUE INDEX u_a ON u (a)",
        "CREATE INDEX u_b ON u (b)",
        "CREATE TABLE plain (x INTEGER)",
        "INSERT INTO plain SELECT value FROM generate_series(1, 50)",
        "INSERT INTO t SELECT value, 'v' || value, value / 7 FROM generate_series(1, 3000)",
        "UPDATE t SET r = NULL WHERE id % 11 = 0",
        // Rows that grow move to other blocks: their entries must follow.
        "UPDATE t SET v = v || 'padding padding padding padding' WHERE id % 5 = 0",
        "DELETE FROM t WHERE id % 3 = 0",
        "COMMIT",
        "INSERT INTO t VALUES (-1, 'rolled back', 1.0)",
        "ROLLBACK",
        "INSERT /*+ APPEND */ INTO u SELECT value, 'b' || (value % 10) FROM generate_series(1, 800)",
        "COMMIT",
        "INSERT /*+ APPEND */ INTO u SELECT value + 1000, 'gone' FROM generate_series(1, 800)",
        "ROLLBACK",
        "INSERT INTO u VALUES (NULL, NULL)",
        "COMMIT",
        "ALTER INDEX u_b UNUSABLE",
        "INSERT INTO u VALUES (5000, 'not in u_b')",
        "COMMIT",
    ] {
        run(&mut s, sql);
    }
    drop(s);
    db.close().unwrap();
    let report = verify_dir(dir).unwrap();
    assert!(report.corrupt.is_empty(), "{:?}", report.corrupt);
    // t: 3000 - 1000 deleted rows in t_pk (the primary key's index), t_v
    // and t_rv; u: 800 + 1 + 1 rows in u_a; u_b is unusable.
    let t_rows = 2000;
    let u_rows = 802;
    assert_eq!(
        checked(&report.indexes),
        (4, 1, 3 * t_rows + u_rows),
        "{:?}",
        report.indexes
    );
    assert!(report.is_clean());
    let out = verify(dir);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "checked 4 indexes against their tables (1 unusable, not checked): {} entries, 0 problems\n",
            3 * t_rows + u_rows
        )),
        "{stdout}"
    );
}

/// A closed database with `t (id, v)` and one index, `t_v`, on 2000 rows.
fn one_index_db(dir: &Path) {
    let db = Database::open(dir, cfg()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER, v TEXT)",
        "CREATE INDEX t_v ON t (v)",
        "INSERT INTO t SELECT value, 'v' || (1000 + value) FROM generate_series(1, 2000)",
        "COMMIT",
    ] {
        run(&mut s, sql);
    }
    drop(s);
    db.close().unwrap();
}

/// The leaf blocks of the data file (the only index is `t_v`), with their
/// entry counts, in block order.
fn leaves(dir: &Path) -> Vec<(u32, usize)> {
    let bytes = std::fs::read(dir.join(DATA_FILE)).unwrap();
    let mut out = Vec::new();
    for (no, buf) in bytes.chunks_exact(BS).enumerate() {
        if let Ok(Block {
            body: Body::Index(n),
            ..
        }) = Block::decode(BlockNo(no as u32), buf)
        {
            if n.is_leaf() {
                out.push((no as u32, n.entries().len()));
            }
        }
    }
    out
}

/// Rewrites index block `no` through `f`, with a valid checksum: damage the
/// physical level cannot see.
fn rewrite_leaf(dir: &Path, no: u32, f: impl FnOnce(&mut Vec<IdxEntry>)) {
    let path = dir.join(DATA_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let buf = &mut bytes[no as usize * BS..(no as usize + 1) * BS];
    let mut b = Block::decode(BlockNo(no), buf).unwrap();
    let Body::Index(n) = &mut b.body else {
        panic!("block {no} is not an index block")
    };
    let mut entries = n.entries().to_vec();
    f(&mut entries);
    n.set_entries(entries);
    buf.fill(0);
    b.encode(buf).unwrap();
    stamp_crc(buf);
    std::fs::write(&path, bytes).unwrap();
}

/// Splits a `t_v` entry key (`'v…'` then the rowid) into value and rowid.
fn parts(key: &[u8]) -> (String, RowId) {
    let (k, rowid) = blocklab::btree::key::split_rowid(key).unwrap();
    let cols = [blocklab::btree::key::KeyColumn::asc(
        blocklab::ColType::Text,
    )];
    let vals = blocklab::btree::key::decode_key(&cols, k).unwrap();
    (vals[0].to_string(), rowid)
}

#[test]
fn a_missing_entry_and_an_entry_naming_no_row_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    one_index_db(dir);
    let l = leaves(dir);
    assert!(l.len() >= 3, "several leaves: {l:?}");
    // A row loses its entry in one leaf...
    let mut removed = None;
    rewrite_leaf(dir, l[0].0, |entries| {
        removed = Some(entries.remove(entries.len() / 2));
    });
    let (gone_v, gone_rowid) = parts(removed.unwrap().key());
    // ... and another leaf gains an entry for a slot that holds no row,
    // placed right after an existing entry with the same value (so the
    // leaf stays in order and within its fences).
    let mut planted = None;
    rewrite_leaf(dir, l[1].0, |entries| {
        let i = entries.len() / 2;
        let (v, rowid) = parts(entries[i].key());
        let ghost = RowId {
            block: rowid.block,
            slot: 999,
        };
        let mut key = entries[i].key()[..entries[i].key().len() - 6].to_vec();
        blocklab::btree::key::append_rowid(&mut key, ghost);
        entries.insert(i + 1, IdxEntry::new(key.into(), ghost.to_u64(), 0));
        planted = Some((v, ghost));
    });
    let (ghost_v, ghost) = planted.unwrap();
    let report = verify_dir(dir).unwrap();
    assert!(
        report.corrupt.is_empty(),
        "the damage is invisible to the physical level: {:?}",
        report.corrupt
    );
    let problem = |what: String| IndexProblem {
        index: "t_v".into(),
        table: "t".into(),
        what,
    };
    // The entry count still equals the row count (one lost, one gained):
    // only comparing each entry with its row finds the two.
    assert_eq!(
        report.indexes,
        IndexCheck::Checked {
            indexes: 1,
            unusable: 0,
            entries: 2000,
            problems: vec![
                problem(format!(
                    "entry ('{ghost_v}') rowid {ghost} points at no row \
                     (slot 999 of block {} holds no live row)",
                    ghost.block.0
                )),
                problem(format!(
                    "row {gone_rowid} has no entry (its key is ('{gone_v}') rowid {gone_rowid})"
                )),
            ],
            unlisted: 0,
        }
    );
    assert!(!report.is_clean());
    let out = verify(dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "index t_v on t: row {gone_rowid} has no entry (its key is ('{gone_v}') rowid {gone_rowid})\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("checked 1 indexes against their tables: 2000 entries, 2 problems\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("blocks, 0 corrupt\n"), "{stdout}");
}

#[test]
fn a_lost_entry_also_shows_in_the_count_and_a_wrong_key_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    one_index_db(dir);
    let l = leaves(dir);
    let mut taken = None;
    rewrite_leaf(dir, l[1].0, |entries| {
        taken = Some(entries.remove(0));
    });
    // The last entry of the first leaf now names the row of the leaf's
    // first entry (its key still says its own row's value).
    let mut swapped = None;
    rewrite_leaf(dir, l[0].0, |entries| {
        let (_, other) = parts(entries[0].key());
        let last = entries.last_mut().unwrap();
        let (v, rowid) = parts(last.key());
        last.val = other.to_u64();
        swapped = Some((v, rowid, other));
    });
    let (v, rowid, other) = swapped.unwrap();
    let (taken_v, taken_rowid) = parts(taken.unwrap().key());
    let report = verify_dir(dir).unwrap();
    let IndexCheck::Checked { problems, .. } = &report.indexes else {
        panic!("{:?}", report.indexes)
    };
    let lines: Vec<&str> = problems.iter().map(|p| p.what.as_str()).collect();
    let other_v = match lines.iter().find(|l| {
        l.starts_with(&format!(
            "entry ('{v}') rowid {rowid} points at rowid {other}"
        ))
    }) {
        Some(l) => l.to_string(),
        None => panic!("the swapped entry is reported: {lines:#?}"),
    };
    assert!(other_v.contains(", whose row's key is ('"), "{other_v}");
    for want in [
        format!("row {taken_rowid} has no entry (its key is ('{taken_v}') rowid {taken_rowid})"),
        // The row the swapped entry came from has none left (the row it
        // names still has its own).
        format!("row {rowid} has no entry (its key is ('{v}') rowid {rowid})"),
        "1999 entries for 2000 rows of t".to_string(),
    ] {
        assert!(lines.contains(&want.as_str()), "{want}: {lines:#?}");
    }
    assert_eq!(lines.len(), 4, "{lines:#?}");
}

/// The load of `tests/direct_path_recovery.rs`, cut short by a power loss.
#[test]
fn a_crashed_database_is_not_judged_until_recovery_has_run_then_it_is_clean() {
    let be = SimBackend::new();
    let db = Database::open_with(Arc::new(be.clone()), cfg()).unwrap();
    let mut s = db.session();
    for sql in [
        "CREATE TABLE t (id INTEGER, v TEXT)",
        "CREATE INDEX t_v ON t (v)",
        "INSERT INTO t SELECT value, 'v' || (value * 2) FROM generate_series(1, 1500)",
        "COMMIT",
        "INSERT /*+ APPEND */ INTO t SELECT value + 100000, 'v' || (value * 2 + 1) \
         FROM generate_series(1, 1000)",
    ] {
        run(&mut s, sql);
    }
    db.checkpoint().unwrap(); // the load's entries reach the data file
    let crashed = be.crash();
    std::mem::forget(s);
    std::mem::forget(db);
    let image = |be: &SimBackend| {
        let (_, control) = ControlFile::open(be).unwrap();
        verify_bytes(&be.current_bytes(DATA_FILE).unwrap(), control)
    };
    let report = image(&crashed);
    assert!(report.corrupt.is_empty(), "{:?}", report.corrupt);
    assert!(
        matches!(&report.indexes, IndexCheck::Skipped(why) if why.contains("not shut down cleanly")),
        "{:?}",
        report.indexes
    );
    let db = Database::open_with(Arc::new(crashed.clone()), cfg()).unwrap();
    db.close().unwrap();
    let report = image(&crashed);
    assert_eq!(checked(&report.indexes), (1, 0, 1500));
}

#[test]
fn index_entries_naming_any_block_or_rowid_are_reported_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    one_index_db(dir);
    let pristine = std::fs::read(dir.join(DATA_FILE)).unwrap();
    // Every index block (branches too: their entries name child blocks).
    let index_blocks: Vec<u32> = pristine
        .chunks_exact(BS)
        .enumerate()
        .filter(|(no, buf)| {
            matches!(
                Block::decode(BlockNo(*no as u32), buf),
                Ok(Block {
                    body: Body::Index(_),
                    ..
                })
            )
        })
        .map(|(no, _)| no as u32)
        .collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..60 {
        std::fs::write(dir.join(DATA_FILE), &pristine).unwrap();
        let no = index_blocks[round % index_blocks.len()];
        let vals = [0, 1, u64::MAX, next(), next() % 4096, next() % (1 << 40)];
        let val = vals[(next() % vals.len() as u64) as usize];
        rewrite_leaf(dir, no, |entries| {
            let i = (next() as usize) % entries.len();
            entries[i].val = val;
        });
        let report = verify_dir(dir).unwrap();
        assert!(
            !report.is_clean(),
            "round {round}: block {no} with an entry naming {val} passed"
        );
    }
}
