//! R12 `model_fuzz` and R8 `io_error_countdown`, as a
//! proptest state machine.
//!
//! Random sequences of engine-API operations run against a database on a
//! `SimBackend` and, side by side, against a model: a `BTreeMap` of the
//! committed rows plus the open transaction's view. Among the operations are
//! power cuts (everything unsynced lost, or a random subset of the unsynced
//! writes kept, ALICE-style) and I/O faults (the n-th I/O operation fails,
//! once or from then on, as in SQLite's I/O-error loop and redb's fuzzer
//! backend).
//!
//! What must hold:
//! - after every crash and reopen, a scan of `t` equals the committed model
//!   exactly (durability of acknowledged commits, atomicity of the others);
//! - a commit that returned an error has an unknown outcome for the caller;
//!   the surviving redo decides it: with its commit record the table holds
//!   the transaction, without it the table does not;
//! - a statement that failed on a one-shot fault changed nothing (statement
//!   rollback) and, unless the log was poisoned, the session goes on;
//! - recovery rolls back exactly the transactions whose slot it finds active:
//!   those with surviving redo but no commit or rollback record, and those a
//!   checkpoint wrote as active (a range when the checkpoint ran in the very
//!   step that began or ended the transaction);
//! - between crashes, the writing session reads its own uncommitted changes,
//!   at the rowids the engine returned.
//!
//! The cache is small (16 frames) so dirty blocks are evicted, and so written
//! to the data file, in the middle of transactions.
//!
//! `CRASH_MODEL_SEED` replays a run; `PROPTEST_CASES` (default 64) sets its
//! length.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig};
use blocklab::storage::{ControlFile, Keep, SimBackend};
use blocklab::{ColType, Column, Config, Database, Error, Lsn, RowId, Session, Stat, Value, Xid};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as PropConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};

const TABLE: &str = "t";
/// The unit a disk writes atomically: torn writes break at these boundaries.
const SECTOR: usize = 512;

fn config() -> Config {
    Config {
        block_size: 2048,
        cache_frames: 16,
        log_file_size: 64 * 2048,
        log_files: 3,
        undo_blocks: 16,
        background_writer: false,
        ..Config::default()
    }
}

/// One step of the state machine.
#[derive(Clone, Debug)]
enum Step {
    Insert {
        key: i64,
        val: i64,
    },
    /// Updates the `pick % n`-th key of the transaction's view.
    Update {
        pick: usize,
        val: i64,
    },
    Delete {
        pick: usize,
    },
    /// Inserts keys `start..start + n` that are not there yet, in one
    /// array insert (a block at a time, one redo and undo record per
    /// block): many blocks, evictions.
    Bulk {
        start: i64,
        n: i64,
        val: i64,
    },
    /// One `update_where` statement: `v = val` where `k % modulus == 0`.
    UpdateWhere {
        modulus: i64,
        val: i64,
    },
    Commit,
    Rollback,
    Checkpoint,
    /// Power cut: only synced data survives.
    Crash,
    /// Power cut that keeps a random (seeded) subset of the unsynced writes,
    /// tearing some of the kept writes at a 512-byte boundary (only their
    /// first or last sectors reach the disk).
    CrashKeeping {
        seed: u64,
    },
    /// The `n`-th I/O operation from now fails: once, or with `persistent`
    /// it and every later one (a dead disk) until the next crash.
    FailNthIo {
        n: u64,
        persistent: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0i64..48, any::<i32>())
            .prop_map(|(key, v)| Step::Insert { key, val: v as i64 }),
        5 => (any::<usize>(), any::<i32>())
            .prop_map(|(pick, v)| Step::Update { pick, val: v as i64 }),
        2 => any::<usize>().prop_map(|pick| Step::Delete { pick }),
        2 => (0i64..3000, 1i64..200, any::<i32>())
            .prop_map(|(start, n, v)| Step::Bulk { start, n, val: v as i64 }),
        1 => (1i64..5, any::<i32>())
            .prop_map(|(modulus, v)| Step::UpdateWhere { modulus, val: v as i64 }),
        4 => Just(Step::Commit),
        1 => Just(Step::Rollback),
        1 => Just(Step::Checkpoint),
        1 => Just(Step::Crash),
        1 => any::<u64>().prop_map(|seed| Step::CrashKeeping { seed }),
        1 => (1u64..40, prop::bool::weighted(0.25))
            .prop_map(|(n, persistent)| Step::FailNthIo { n, persistent }),
    ]
}

/// splitmix64: a tiny deterministic generator for the crash subsets.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The differences between a table and its model, at most 8 of them.
fn diff(seen: &BTreeMap<i64, i64>, model: &BTreeMap<i64, i64>) -> String {
    let mut out = Vec::new();
    for (k, v) in seen {
        match model.get(k) {
            None => out.push(format!("extra {k}={v}")),
            Some(m) if m != v => out.push(format!("{k}={v} (model {m})")),
            Some(_) => {}
        }
    }
    for (k, m) in model {
        if !seen.contains_key(k) {
            out.push(format!("missing {k}={m}"));
        }
    }
    let n = out.len();
    out.truncate(8);
    format!("{n} differences: {}", out.join(", "))
}

fn row(key: i64, val: i64) -> Vec<Value> {
    vec![Value::Int(key), Value::Int(val)]
}

type Table = (BTreeMap<i64, i64>, HashMap<i64, RowId>);

/// A scan of `t` as (key, value) pairs in key order, plus key -> rowid.
/// Duplicate keys are reported: the model has none.
fn table_of(rows: Vec<(RowId, blocklab::Row)>) -> Result<Table, TestCaseError> {
    let mut map = BTreeMap::new();
    let mut rowids = HashMap::new();
    for (rowid, r) in rows {
        let (Some(k), Some(v)) = (r[0].as_int(), r[1].as_int()) else {
            return Err(TestCaseError::fail(format!(
                "row {rowid:?} is not two integers: {r:?}"
            )));
        };
        if map.insert(k, v).is_some() {
            return Err(TestCaseError::fail(format!("key {k} appears twice")));
        }
        rowids.insert(k, rowid);
    }
    Ok((map, rowids))
}

/// Scans `t` on a database that must work (no fault injected).
fn read_table(s: &mut Session) -> Result<Table, TestCaseError> {
    let rows = s
        .scan(TABLE)
        .map_err(|e| TestCaseError::fail(format!("scan failed: {e}")))?;
    table_of(rows)
}

/// How the last checkpoint found a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AtCheckpoint {
    Inactive,
    Active,
    /// The checkpoint ran in the step that began or ended it.
    Unknown,
}

struct Harness {
    be: SimBackend,
    db: Option<Database>,
    s: Option<Session>,
    /// Committed rows (what a crash must preserve).
    committed: BTreeMap<i64, i64>,
    committed_rowids: HashMap<i64, RowId>,
    /// The open transaction's view: committed + its own changes.
    current: BTreeMap<i64, i64>,
    rowids: HashMap<i64, RowId>,
    /// A fault was injected on this backend: errors are expected from here on.
    fault_armed: bool,
    /// ... and it is persistent.
    fault_persistent: bool,
    /// Every transaction begun since the last (re)open, and how the last
    /// checkpoint found it (that is how it wrote its slot).
    txns: Vec<(Xid, AtCheckpoint)>,
    crashes: u64,
    faults_fired: u64,
    /// Dirty blocks written by DML statements (evictions).
    evictions: u64,
    before: StepStart,
}

/// What a step started with.
#[derive(Default)]
struct StepStart {
    xid: Option<Xid>,
    checkpoints: u64,
    faults: u64,
}

impl Harness {
    fn new() -> Harness {
        let be = SimBackend::new();
        let db = Database::open_with(Arc::new(be.clone()), config()).expect("create");
        let mut s = db.session();
        s.create_table(
            TABLE,
            &[
                Column::new("k", ColType::Integer),
                Column::new("v", ColType::Integer),
            ],
        )
        .expect("create table");
        Harness {
            be,
            db: Some(db),
            s: Some(s),
            committed: BTreeMap::new(),
            committed_rowids: HashMap::new(),
            current: BTreeMap::new(),
            rowids: HashMap::new(),
            fault_armed: false,
            fault_persistent: false,
            txns: Vec::new(),
            crashes: 0,
            faults_fired: 0,
            evictions: 0,
            before: StepStart::default(),
        }
    }

    fn session(&mut self) -> &mut Session {
        self.s.as_mut().expect("session is open between steps")
    }

    /// Errors are expected only after an injected fault.
    fn expect_fault(&mut self, what: &str, e: &Error) -> Result<(), TestCaseError> {
        if !self.fault_armed {
            return Err(TestCaseError::fail(format!(
                "{what} failed with no fault injected: {e}"
            )));
        }
        self.faults_fired += 1;
        Ok(())
    }

    /// A statement failed. Fine after an injected fault, a test failure
    /// otherwise. Statement rollback keeps the transaction as it was before
    /// the statement, so the model stays as it is, unless the log is
    /// poisoned: then the instance can no longer undo anything (undo needs
    /// redo) and must be reopened, which is what we do.
    fn failed(&mut self, what: &str, e: Error) -> Result<(), TestCaseError> {
        self.expect_fault(what, &e)?;
        // With a dead disk (persistent fault) the statement's own rollback
        // may fail too: the transaction then holds half a statement and can
        // only roll back (see `a_failed_statement_whose_rollback_also_failed_
        // cannot_be_committed`). Like an instance on a dead disk, we restart.
        if matches!(e, Error::Poisoned(_)) || self.fault_persistent {
            return self.crash_and_check(None, None);
        }
        Ok(())
    }

    fn pick(&self, pick: usize) -> Option<i64> {
        let n = self.current.len();
        (n > 0).then(|| *self.current.keys().nth(pick % n).expect("in range"))
    }

    fn stat(&self, stat: Stat) -> u64 {
        let db = self.db.as_ref().expect("open between steps");
        db.system_stats().get(stat)
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let writes = self.stat(Stat::PhysicalWrites);
        let generation = self.crashes;
        self.step_started();
        self.apply(step)?;
        if self.crashes != generation {
            return Ok(()); // reopened: a fresh instance, tracked in crash_and_check
        }
        if !matches!(step, Step::Checkpoint | Step::Commit | Step::Rollback) {
            // Blocks written by a statement were evicted to make room.
            self.evictions += self.stat(Stat::PhysicalWrites).saturating_sub(writes);
        }
        self.track_step();
        Ok(())
    }

    /// Remembers what `track_step` compares with.
    fn step_started(&mut self) {
        self.before = StepStart {
            xid: self.s.as_ref().and_then(|s| s.xid()),
            checkpoints: self.stat(Stat::Checkpoints),
            faults: self.faults_fired,
        };
    }

    /// Tracks transactions begun in the step and what the step's
    /// checkpoints (explicit, or a statement's when the log is half full)
    /// wrote for each transaction slot.
    fn track_step(&mut self) {
        let after = self.s.as_ref().and_then(|s| s.xid());
        if let Some(xid) = after {
            if self.txns.last().map(|t| t.0) != Some(xid) {
                self.txns.push((xid, AtCheckpoint::Inactive));
            }
        }
        let done = self.stat(Stat::Checkpoints) > self.before.checkpoints;
        // A checkpoint that failed may still have written (some of) the
        // blocks and even the control file (written, then the sync failed:
        // a crash may keep the unsynced write).
        let maybe = self.faults_fired > self.before.faults;
        if !done && !maybe {
            return;
        }
        for (xid, at) in &mut self.txns {
            let now = match (self.before.xid == Some(*xid), after == Some(*xid)) {
                (true, true) => AtCheckpoint::Active,
                (false, false) => AtCheckpoint::Inactive,
                // It began or ended during this step: before or after?
                _ => AtCheckpoint::Unknown,
            };
            *at = if done && !maybe || *at == now {
                now
            } else {
                AtCheckpoint::Unknown
            };
        }
    }

    fn apply(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match *step {
            Step::Insert { key, val } => {
                if self.current.contains_key(&key) {
                    return Ok(());
                }
                match self.session().insert(TABLE, row(key, val)) {
                    Ok(rowid) => {
                        self.current.insert(key, val);
                        self.rowids.insert(key, rowid);
                    }
                    Err(e) => self.failed("insert", e)?,
                }
            }
            Step::Update { pick, val } => {
                let Some(key) = self.pick(pick) else {
                    return Ok(());
                };
                let rowid = self.rowids[&key];
                match self.session().update(TABLE, rowid, row(key, val)) {
                    Ok(new) => {
                        self.current.insert(key, val);
                        self.rowids.insert(key, new);
                    }
                    Err(e) => self.failed("update", e)?,
                }
            }
            Step::Delete { pick } => {
                let Some(key) = self.pick(pick) else {
                    return Ok(());
                };
                let rowid = self.rowids[&key];
                match self.session().delete(TABLE, rowid) {
                    Ok(()) => {
                        self.current.remove(&key);
                        self.rowids.remove(&key);
                    }
                    Err(e) => self.failed("delete", e)?,
                }
            }
            Step::Bulk { start, n, val } => {
                let keys: Vec<i64> = (start..start + n)
                    .filter(|k| !self.current.contains_key(k))
                    .collect();
                let rows = keys.iter().map(|&k| row(k, val)).collect();
                match self.session().insert_array(TABLE, rows) {
                    Ok(rowids) => {
                        prop_assert_eq!(rowids.len(), keys.len(), "rowids from insert_array");
                        for (k, rowid) in keys.into_iter().zip(rowids) {
                            self.current.insert(k, val);
                            self.rowids.insert(k, rowid);
                        }
                    }
                    Err(e) => self.failed("bulk insert", e)?,
                }
            }
            Step::UpdateWhere { modulus, val } => {
                let hit = move |k: i64| k % modulus == 0;
                let pred = move |r: &blocklab::Row| r[0].as_int().is_some_and(hit);
                let set = move |r: &blocklab::Row| vec![r[0].clone(), Value::Int(val)];
                match self.session().update_where(TABLE, pred, set) {
                    Ok(n) => {
                        let mut expect = 0;
                        for (_, v) in self.current.iter_mut().filter(|(k, _)| hit(**k)) {
                            *v = val;
                            expect += 1;
                        }
                        prop_assert_eq!(n, expect, "rows updated by update_where");
                    }
                    Err(e) => self.failed("update_where", e)?,
                }
            }
            Step::Commit => {
                let xid = self.session().xid();
                match self.session().commit() {
                    Ok(()) => {
                        self.committed = self.current.clone();
                        self.committed_rowids = self.rowids.clone();
                    }
                    Err(e) => {
                        self.expect_fault("commit", &e)?;
                        // Unknown outcome: the surviving redo decides.
                        let after = self.current.clone();
                        let xid = xid.expect("a commit can only fail inside a transaction");
                        return self.crash_and_check(None, Some((xid, after)));
                    }
                }
            }
            Step::Rollback => match self.session().rollback() {
                Ok(()) => {
                    // Rollback puts back every row where it was, so the
                    // committed rowids are valid again.
                    self.current = self.committed.clone();
                    self.rowids = self.committed_rowids.clone();
                }
                Err(e) => {
                    self.expect_fault("rollback", &e)?;
                    return self.crash_and_check(None, None);
                }
            },
            Step::Checkpoint => {
                let r = self.db.as_ref().expect("open").checkpoint();
                match r {
                    Ok(()) => {}
                    Err(e) => self.failed("checkpoint", e)?,
                }
            }
            Step::Crash => return self.crash_and_check(None, None),
            Step::CrashKeeping { seed } => return self.crash_and_check(Some(seed), None),
            Step::FailNthIo { n, persistent } => {
                self.be.fail_op(n, persistent);
                self.fault_armed = true;
                self.fault_persistent |= persistent;
            }
        }
        self.check_own_view()
    }

    /// The writing session sees committed rows plus its own changes.
    fn check_own_view(&mut self) -> Result<(), TestCaseError> {
        let rows = match self.session().scan(TABLE) {
            Ok(rows) => rows,
            // A read that had to evict a dirty block can meet the fault.
            Err(e) => return self.failed("scan", e),
        };
        let (seen, rowids) = table_of(rows)?;
        prop_assert!(
            seen == self.current,
            "the session's own view: {}",
            diff(&seen, &self.current)
        );
        prop_assert_eq!(&rowids, &self.rowids, "rowids of the session's view");
        Ok(())
    }

    /// Cuts the power, reopens the surviving image and compares with the
    /// model. `unknown` is a commit that returned an error: its transaction
    /// and the state it would have produced.
    fn crash_and_check(
        &mut self,
        keep_seed: Option<u64>,
        unknown: Option<(Xid, BTreeMap<i64, i64>)>,
    ) -> Result<(), TestCaseError> {
        let crashed = match keep_seed {
            None => self.be.crash(),
            Some(seed) => {
                let mut st = seed;
                self.be.crash_tearing(&mut |p| {
                    let r = splitmix(&mut st);
                    match (r & 3, p.write) {
                        (0 | 1, _) => Keep::Nothing,
                        (3, Some((_, len))) if len > SECTOR => {
                            let k = 1 + (r >> 8) as usize % (len.div_ceil(SECTOR) - 1);
                            if r & 4 == 0 {
                                Keep::Head(k * SECTOR)
                            } else {
                                Keep::Tail(len - k * SECTOR)
                            }
                        }
                        _ => Keep::All,
                    }
                })
            }
        };
        self.track_step();
        // Close the old instance against the old backend: nothing it writes
        // from here on can reach `crashed`.
        drop(self.s.take());
        drop(self.db.take());
        self.crashes += 1;

        // What recovery must do follows from the surviving redo (read from
        // the surviving checkpoint): a transaction with a durable commit or
        // rollback record is finished; one with other durable records is
        // rolled back; one with none is rolled back iff the last checkpoint
        // wrote its slot as active.
        let ends = redo_after_checkpoint(&crashed);
        let (mut least, mut most) = (0, 0);
        for &(xid, at_ckpt) in &self.txns {
            let (lo, hi) = match (ends.get(&xid), at_ckpt) {
                (Some(Durable::Ended), _) => (0, 0),
                (Some(Durable::Started), _) => (1, 1),
                (None, AtCheckpoint::Inactive) => (0, 0),
                (None, AtCheckpoint::Active) => (1, 1),
                (None, AtCheckpoint::Unknown) => (0, 1),
            };
            least += lo;
            most += hi;
        }
        let expected = match &unknown {
            Some((xid, after)) if ends.get(xid) == Some(&Durable::Ended) => after.clone(),
            _ => self.committed.clone(),
        };

        let (db, report) = Database::open_report(Arc::new(crashed.clone()), config())
            .map_err(|e| TestCaseError::fail(format!("reopen after crash failed: {e}")))?;
        let mut s = db.session();
        let (seen, rowids) = read_table(&mut s)?;
        prop_assert!(
            seen == expected,
            "table after crash #{} (commit with unknown outcome: {:?}): {}",
            self.crashes,
            unknown.as_ref().map(|u| u.0),
            diff(&seen, &expected)
        );
        prop_assert!(
            (least..=most).contains(&report.transactions_rolled_back),
            "recovery rolled back {} transactions, expected {least}..={most} \
             (transactions {:?}, durable redo {:?}, report {:?})",
            report.transactions_rolled_back,
            &self.txns,
            &ends,
            &report
        );
        self.be = crashed;
        self.committed = seen.clone();
        self.current = seen;
        self.committed_rowids = rowids.clone();
        self.rowids = rowids;
        self.fault_armed = false;
        self.fault_persistent = false;
        self.txns.clear();
        self.s = Some(s);
        self.db = Some(db);
        self.step_started();
        Ok(())
    }
}

/// What the durable redo says about a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Durable {
    /// Some of its records, but no commit or rollback record.
    Started,
    /// Its commit or rollback record.
    Ended,
}

/// The transactions named by the redo after the checkpoint of `be`.
fn redo_after_checkpoint(be: &SimBackend) -> HashMap<Xid, Durable> {
    let cfg = config();
    let (_, control) = ControlFile::open(be).expect("control file of the crashed image");
    let log = LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    };
    let mut out = HashMap::new();
    // A damaged log makes the reopen fail, which the caller reports.
    let Ok(scan) = read_log(be, &log, Lsn(control.checkpoint_lsn)) else {
        return out;
    };
    for rec in &scan.records {
        let Ok(p) = decode_payload(&rec.payload) else {
            continue;
        };
        if p.xid.is_none() {
            continue;
        }
        let ended = matches!(p.kind, RecKind::Commit | RecKind::Rollback);
        let e = out.entry(p.xid).or_insert(Durable::Started);
        if ended {
            *e = Durable::Ended;
        }
    }
    out
}

fn run_case(steps: &[Step]) -> Result<[u64; 3], TestCaseError> {
    let mut h = Harness::new();
    for st in steps {
        h.run(st)?;
    }
    // Every case ends with a power cut, then a clean close and reopen.
    h.crash_and_check(None, None)?;
    drop(h.s.take());
    drop(h.db.take());
    let db = Database::open_with(Arc::new(h.be.clone()), config())
        .map_err(|e| TestCaseError::fail(format!("reopen after clean close failed: {e}")))?;
    let (seen, _) = read_table(&mut db.session())?;
    prop_assert!(
        seen == h.committed,
        "after a clean close: {}",
        diff(&seen, &h.committed)
    );
    Ok([h.crashes, h.faults_fired, h.evictions])
}

// ANCHOR: crash_model_loop
#[test]
fn committed_state_survives_random_crashes_and_io_faults() {
    let started = Instant::now();
    let totals = std::sync::Mutex::new([0u64; 4]);
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let seed: u64 = std::env::var("CRASH_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            t.map(|d| d.as_nanos() as u64).unwrap_or(1)
        });
    println!("crash_model: seed={seed} cases={cases}");
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        PropConfig {
            cases,
            failure_persistence: None,
            ..PropConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let result = runner.run(&prop::collection::vec(step(), 1..60), |steps| {
        let counts = run_case(&steps)?;
        let mut t = totals.lock().unwrap();
        t[0] += 1;
        for (total, n) in t[1..].iter_mut().zip(counts) {
            *total += n;
        }
        Ok(())
    });
    let t = totals.lock().unwrap();
    println!(
        "crash_model: {} sequences, {} crash recoveries, {} failed statements on injected faults, \
         {} blocks evicted by DML, {:.2?}",
        t[0],
        t[1],
        t[2],
        t[3],
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("seed={seed}: {e}");
    }
}
// ANCHOR_END: crash_model_loop

/// Statement atomicity when the statement's own rollback fails too.
///
/// A statement that fails is rolled back to its start (statement-level
/// rollback). If that rollback fails as well (here: the disk fails for a
/// while, so the evictions the rollback needs fail too), the transaction
/// holds half a statement. Then the session must not be able to commit it:
/// the statement returned an error, so none of it may become durable.
#[test]
fn a_failed_statement_whose_rollback_also_failed_cannot_be_committed() {
    let mut checked = 0;
    for n in 1..=60 {
        let be = SimBackend::new();
        let db = Database::open_with(Arc::new(be.clone()), config()).expect("create");
        let mut s = db.session();
        s.create_table(
            TABLE,
            &[
                Column::new("k", ColType::Integer),
                Column::new("v", ColType::Integer),
            ],
        )
        .expect("create table");
        for k in 0..600 {
            s.insert(TABLE, row(k, 0)).expect("insert");
        }
        s.commit().expect("commit");
        db.checkpoint().expect("checkpoint");
        // The disk fails from the n-th I/O on, for the rest of the statement.
        be.fail_op(n, true);
        let r = s.update_where(TABLE, |_| true, |r| vec![r[0].clone(), Value::Int(1)]);
        be.clear_faults();
        if r.is_ok() {
            continue; // the statement needed fewer than n I/Os
        }
        checked += 1;
        // Either the session refuses to commit, or nothing of the statement
        // is in what it commits.
        if s.commit().is_err() {
            continue;
        }
        let crashed = be.crash();
        drop(s);
        drop(db);
        let db = Database::open_with(Arc::new(crashed), config()).expect("reopen");
        let (seen, _) = read_table(&mut db.session()).expect("scan");
        let changed = seen.values().filter(|&&v| v != 0).count();
        assert_eq!(
            changed,
            0,
            "fault at I/O {n}: update_where failed ({}), yet commit succeeded and made \
             {changed} of its 600 row changes durable",
            r.unwrap_err()
        );
    }
    assert!(checked > 0, "some statement met the fault");
}
