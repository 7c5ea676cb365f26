//! A crash during `INSERT /*+ APPEND */ … SELECT` into an indexed table,
//! at every point of its redo: after recovery the index holds exactly the
//! table's rows (R7 `direct_path_append_crash`, seen from
//! the index side).
//!
//! A direct-path load writes the rows above the HWM with no undo for them;
//! their index entries go in afterwards, through ordinary undo-logged
//! changes, and full leaves are split by system transactions that commit
//! at once. A crash in the middle leaves the load active: recovery takes
//! back the HWM move and every index entry. If it does not, the index path
//! and the full scan disagree and the extra entries point at rows above the
//! HWM, whose values come back through the index. (They did, once: a crash
//! inside a split left the split's system transaction active too, and
//! recovery rolled back the load first, then the split, whose undo put the
//! moved entries, the load's among them, back into the split node. See
//! `undo::rollback_all`.)
//!
//! The method is the one of `tests/redo_cut.rs`: the load runs on a
//! `SimBackend` with a cache that never evicts, after a checkpoint, so the
//! data file holds the checkpoint's blocks plus the load's direct writes
//! (above the HWM, harmless to any prefix of the redo) and each cut of the
//! redo at a record boundary is a state a crash could leave. The cuts are
//! every record boundary while a split's system transaction is open (where
//! the recovery of the two transactions interleaves) and every `STRIDE`-th
//! one elsewhere, to keep the test to a few seconds. After each recovery the
//! database is closed and `verify` must find the index equal to the table.

use std::collections::BTreeSet;
use std::sync::Arc;

use blocklab::redo::log::FILE_HEADER_SIZE;
use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig};
use blocklab::storage::{ControlFile, SimBackend};
use blocklab::verify::{verify_bytes, IndexCheck, DATA_FILE};
use blocklab::{Config, Database, Lsn, Session, Stat, Value, Xid};

const LOG: &str = "redo01.log";
/// Rows committed before the load, and rows the load adds.
const BASE: i64 = 1500;
const LOADED: i64 = 600;
/// Every how many record boundaries outside a split a cut is made.
const STRIDE: usize = 25;

fn config() -> Config {
    Config {
        block_size: 2048,
        // Far more frames than the workload touches: nothing is evicted, so
        // no block reaches the data file after the checkpoint but the load's.
        cache_frames: 8192,
        // One big segment: the whole load's redo stays in redo01.log.
        log_file_size: 2 << 20,
        log_files: 3,
        background_writer: false,
        ..Config::default()
    }
}

fn run(s: &mut Session, sql: &str) -> blocklab::SqlResult {
    s.execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn ints(s: &mut Session, sql: &str) -> Vec<i64> {
    run(s, sql)
        .rows
        .iter()
        .map(|r| r[0].as_int().unwrap_or_else(|| panic!("{sql}: {r:?}")))
        .collect()
}

/// `(full scan ids, index path ids)`, both sorted, through hints that force
/// each access path.
fn both_paths(s: &mut Session) -> (Vec<i64>, Vec<i64>) {
    let mut full = ints(s, "SELECT /*+ FULL(t) */ id FROM t");
    let mut index = ints(s, "SELECT /*+ INDEX(t t_v) */ id FROM t");
    full.sort_unstable();
    index.sort_unstable();
    (full, index)
}

/// The table `t (id, v)` with an index on `v` (keys interleaving with the
/// loaded rows', so the load splits leaves all over the tree), `BASE` rows.
fn base(db: &Database) {
    let mut s = db.session();
    run(&mut s, "CREATE TABLE t (id INTEGER, v TEXT)");
    run(&mut s, "CREATE INDEX t_v ON t (v)");
    run(&mut s, "CREATE TABLE other (id INTEGER)");
    run(
        &mut s,
        &format!("INSERT INTO t SELECT value, 'v' || (value * 2) FROM generate_series(1, {BASE})"),
    );
    run(&mut s, "COMMIT");
}

/// The statement of the load: ids above the base rows', keys between
/// theirs.
fn load_sql() -> String {
    format!(
        "INSERT /*+ APPEND */ INTO t SELECT value + 100000, 'v' || (value * 2 + 1) \
         FROM generate_series(1, {LOADED})"
    )
}

/// The load, left open, with all its redo durable; the durable image and
/// the load's transaction.
fn crashed_load() -> (SimBackend, Xid) {
    let be = SimBackend::new();
    let db = Database::open_with(Arc::new(be.clone()), config()).expect("create");
    base(&db);
    db.checkpoint().expect("checkpoint");
    let writes = db.system_stats().get(Stat::PhysicalWrites);
    let mut s = db.session();
    run(&mut s, &load_sql());
    let xid = s.xid().expect("the load's transaction");
    // Another session's commit syncs the whole log, the load's redo included.
    let mut o = db.session();
    run(&mut o, "INSERT INTO other VALUES (1)");
    run(&mut o, "COMMIT");
    assert_eq!(
        db.system_stats().get(Stat::PhysicalWrites),
        writes,
        "no block went through the cache to the data file after the checkpoint"
    );
    let image = be.crash();
    std::mem::forget(s);
    std::mem::forget(o);
    std::mem::forget(db);
    (image, xid)
}

/// The boundaries to cut at (stream byte offsets), from the load's first
/// record on; and how many fall inside a split.
fn cut_points(image: &SimBackend, load: Xid) -> (Vec<u64>, usize) {
    let (_, control) = ControlFile::open(image).expect("control file");
    let cfg = config();
    let log_cfg = LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    };
    let scan = read_log(image, &log_cfg, Lsn(control.checkpoint_lsn)).expect("read redo");
    assert!(scan.end.0 < log_cfg.segment_capacity(), "all in redo01.log");
    let mut started = false;
    let mut open_splits: BTreeSet<Xid> = BTreeSet::new();
    let (mut cuts, mut in_split) = (Vec::new(), 0);
    for (i, r) in scan.records.iter().enumerate() {
        let p = decode_payload(&r.payload).expect("decodable payload");
        started |= p.xid == load;
        if !started {
            continue;
        }
        match p.kind {
            RecKind::Begin if p.text == "SYS" => {
                open_splits.insert(p.xid);
            }
            RecKind::Commit | RecKind::Rollback => {
                open_splits.remove(&p.xid);
            }
            _ => {}
        }
        if !open_splits.is_empty() {
            in_split += 1;
            cuts.push(r.end.0);
        } else if i % STRIDE == 0 {
            cuts.push(r.end.0);
        }
    }
    assert!(
        in_split > 20,
        "the load split leaves ({in_split} cuts in splits)"
    );
    (cuts, in_split)
}

/// `verify` of the closed database in `dir` finds nothing wrong and reads
/// `entries` index entries.
fn verify_clean(dir: &std::path::Path, entries: u64) {
    let report = blocklab::verify::verify_dir(dir).unwrap();
    assert!(
        report.is_clean(),
        "{:?} {:?}",
        report.corrupt,
        report.indexes
    );
    assert!(
        matches!(report.indexes, IndexCheck::Checked { entries: e, .. } if e == entries),
        "{:?}",
        report.indexes
    );
}

/// A copy of `image` whose log ends at stream byte `c`.
fn cut_at(image: &SimBackend, log: &[u8], c: u64) -> SimBackend {
    let copy = image.crash();
    let mut log = log.to_vec();
    log[(FILE_HEADER_SIZE + c) as usize..].fill(0);
    copy.set_bytes(LOG, &log);
    copy
}

#[test]
fn a_crash_anywhere_in_an_append_load_leaves_the_index_equal_to_the_table() {
    let (image, load) = crashed_load();
    let (cuts, in_split) = cut_points(&image, load);
    let log = image.durable_bytes(LOG).expect("redo01.log");
    let want: Vec<i64> = (1..=BASE).collect();
    for &c in &cuts {
        let cut = cut_at(&image, &log, c);
        let db = Database::open_with(Arc::new(cut.clone()), config())
            .unwrap_or_else(|e| panic!("cut at {c}: recovery failed: {e}"));
        let mut s = db.session();
        let (full, index) = both_paths(&mut s);
        assert_eq!(full, want, "cut at {c}: the load never committed");
        assert_eq!(
            index.len(),
            full.len(),
            "cut at {c}: index entries vs table rows"
        );
        assert_eq!(index, full, "cut at {c}: index path vs full scan");
        let vals = run(&mut s, "SELECT /*+ INDEX(t t_v) */ v FROM t WHERE v > 'v'");
        assert!(
            vals.rows.iter().all(|r| match &r[0] {
                Value::Text(v) => v[1..].parse::<i64>().is_ok_and(|n| n % 2 == 0),
                _ => false,
            }),
            "cut at {c}: an uncommitted value came back through the index"
        );
        // And verify, once the recovered database is closed, agrees.
        drop(s);
        db.close().expect("close");
        let (_, control) = ControlFile::open(&cut).expect("control file");
        let data = cut.current_bytes(DATA_FILE).expect("data file");
        let report = verify_bytes(&data, control);
        assert!(
            report.corrupt.is_empty(),
            "cut at {c}: {:?}",
            report.corrupt
        );
        match &report.indexes {
            IndexCheck::Checked {
                indexes: 1,
                entries,
                problems,
                ..
            } if problems.is_empty() => assert_eq!(*entries, BASE as u64, "cut at {c}"),
            other => panic!("cut at {c}: verify: {other:?}"),
        }
    }
    eprintln!("{} cuts, {in_split} inside splits", cuts.len());
}

#[test]
fn a_rolled_back_append_load_leaves_the_index_equal_to_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    base(&db);
    let mut s = db.session();
    run(&mut s, &load_sql());
    run(&mut s, "ROLLBACK");
    let want: Vec<i64> = (1..=BASE).collect();
    assert_eq!(both_paths(&mut s), (want.clone(), want.clone()));
    // And after the rollback reaches the disk and the database reopens.
    drop(s);
    db.close().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    assert_eq!(both_paths(&mut db.session()), (want.clone(), want.clone()));
    db.close().unwrap();
    verify_clean(dir.path(), want.len() as u64);
}

#[test]
fn a_failed_append_statement_takes_its_index_entries_back_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    base(&db);
    let mut s = db.session();
    run(&mut s, "CREATE UNIQUE INDEX t_id ON t (id)");
    run(&mut s, "INSERT INTO t VALUES (-1, 'v-1')");
    // The last loaded id is taken: the load fails at its unique index,
    // after its rows were written and most of its entries went in.
    run(
        &mut s,
        &format!("INSERT INTO t VALUES ({}, 'taken')", 100_000 + LOADED),
    );
    run(&mut s, "COMMIT");
    run(&mut s, "INSERT INTO t VALUES (-2, 'v-2')");
    let err = s.execute(&load_sql()).unwrap_err();
    assert!(
        matches!(err, blocklab::Error::UniqueViolation { .. }),
        "{err}"
    );
    // The statement is gone; the transaction (with -2) goes on.
    let mut want: Vec<i64> = (1..=BASE).collect();
    want.extend([-2, -1, 100_000 + LOADED]);
    want.sort_unstable();
    assert_eq!(both_paths(&mut s), (want.clone(), want.clone()));
    let mut by_id = ints(&mut s, "SELECT /*+ INDEX(t t_id) */ id FROM t");
    by_id.sort_unstable();
    assert_eq!(by_id, want);
    run(&mut s, "COMMIT");
    drop(s);
    db.close().unwrap();
    let db = Database::open(dir.path(), config()).unwrap();
    assert_eq!(both_paths(&mut db.session()), (want.clone(), want.clone()));
    db.close().unwrap();
    // Two indexes: t_v and t_id.
    verify_clean(dir.path(), 2 * want.len() as u64);
}
