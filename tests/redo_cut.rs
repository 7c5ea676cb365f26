//! R1 `crash_every_wal_boundary`, R3 `torn_wal_tail` and R4
//! `wal_midlog_corruption`: cut, tear and damage the redo of
//! a scripted workload, then recover.
//!
//! The workload (two sessions, multi-statement transactions, a rollback, a
//! transaction still open at the power cut) runs on a `SimBackend` with a
//! cache large enough that no block is written after the last checkpoint
//! (the one at open, or one taken in the middle with a transaction open).
//! So the data file holds only what that checkpoint wrote, and whatever
//! prefix of the redo after it survives is a state a real crash could leave:
//! cutting the log shorter never breaks the write-ahead rule.
//!
//! ```text
//!  redo01.log: | header 512 | rec | rec | rec | ... | rec | zeros ... |
//!                            ^ checkpoint            cut c ^ zeroed from here
//! ```
//!
//! For a cut at stream byte `c`, exactly the records that end at or before
//! `c` survive (or whose bytes from `c` on were zero anyway), so recovery
//! must produce the committed state after exactly the commits whose commit
//! record survives, roll back every other transaction with a surviving
//! record (or with a slot the checkpoint wrote as active), read exactly the
//! surviving records, and give the same answer when run a second time.
//!
//! A damaged byte in the last write batch looks exactly like a torn write of
//! that batch, so recovery ends the log at the damaged record. Before the
//! last batch, with later batches intact, it cannot be a torn write (each
//! batch is synced before the next is written): opening must fail with
//! `Error::CorruptLog`, at the damaged record.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use blocklab::redo::log::FILE_HEADER_SIZE;
use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig, LogRecord};
use blocklab::storage::{ControlFile, SimBackend};
use blocklab::{ColType, Column, Config, Database, Error, Lsn, RowId, Session, Stat, Value, Xid};

const TABLE: &str = "t";
const LOG: &str = "redo01.log";

fn config() -> Config {
    Config {
        block_size: 2048,
        // Far more frames than the workload touches: nothing is evicted.
        cache_frames: 512,
        log_file_size: 64 * 2048,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    }
}

fn log_config() -> LogConfig {
    let cfg = config();
    LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    }
}

/// Committed rows: key -> (value, padding).
type State = BTreeMap<i64, (i64, String)>;

/// One writing session with its uncommitted changes.
struct Writer {
    s: Session,
    pending: Vec<(i64, Option<(i64, String)>)>,
}

/// The scripted workload and its model.
struct Workload {
    be: SimBackend,
    db: Database,
    rowids: HashMap<i64, RowId>,
    committed: State,
    /// `states[i]`: the committed state after the first `i` commits.
    states: Vec<State>,
    /// The transaction of each commit, in commit order.
    commit_xids: Vec<Xid>,
    /// With a checkpoint in the middle: the transactions open then (their
    /// slots were written as active) and the commits before it.
    active_at_checkpoint: Vec<Xid>,
    commits_before_checkpoint: usize,
    /// Blocks written by the last checkpoint (at open: the bootstrap blocks).
    writes_at_checkpoint: u64,
    /// The durable image at the end of the workload (power cut).
    image: Option<SimBackend>,
    /// The same moment as `image`, but the process was killed instead:
    /// everything written reached the disk, synced or not.
    killed: Option<SimBackend>,
}

fn row(k: i64, v: i64, pad: &str) -> Vec<Value> {
    vec![Value::Int(k), Value::Int(v), Value::Text(pad.to_string())]
}

impl Workload {
    fn new() -> Workload {
        let be = SimBackend::new();
        let db = Database::open_with(Arc::new(be.clone()), config()).expect("create");
        let writes_at_open = db.system_stats().get(Stat::PhysicalWrites);
        db.session()
            .create_table(
                TABLE,
                &[
                    Column::new("k", ColType::Integer),
                    Column::new("v", ColType::Integer),
                    Column::new("pad", ColType::Text),
                ],
            )
            .expect("create table");
        Workload {
            be,
            db,
            rowids: HashMap::new(),
            committed: State::new(),
            states: vec![State::new()],
            commit_xids: Vec::new(),
            active_at_checkpoint: Vec::new(),
            commits_before_checkpoint: 0,
            writes_at_checkpoint: writes_at_open,
            image: None,
            killed: None,
        }
    }

    fn writer(&self) -> Writer {
        Writer {
            s: self.db.session(),
            pending: Vec::new(),
        }
    }

    fn insert(&mut self, w: &mut Writer, k: i64, v: i64, pad: &str) {
        let rowid = w.s.insert(TABLE, row(k, v, pad)).expect("insert");
        self.rowids.insert(k, rowid);
        w.pending.push((k, Some((v, pad.to_string()))));
    }

    fn update(&mut self, w: &mut Writer, k: i64, v: i64, pad: &str) {
        let rowid = self.rowids[&k];
        let new = w.s.update(TABLE, rowid, row(k, v, pad)).expect("update");
        self.rowids.insert(k, new);
        w.pending.push((k, Some((v, pad.to_string()))));
    }

    fn delete(&mut self, w: &mut Writer, k: i64) {
        w.s.delete(TABLE, self.rowids[&k]).expect("delete");
        self.rowids.remove(&k);
        w.pending.push((k, None));
    }

    fn commit(&mut self, w: &mut Writer) {
        let xid = w.s.xid().expect("a transaction with changes");
        w.s.commit().expect("commit");
        for (k, change) in w.pending.drain(..) {
            match change {
                Some(row) => self.committed.insert(k, row),
                None => self.committed.remove(&k),
            };
        }
        self.states.push(self.committed.clone());
        self.commit_xids.push(xid);
    }
}

/// Multi-statement transactions from two sessions, with a rollback, rows
/// that move when they grow, and a transaction left open at the end whose
/// redo is durable (the other session's commit synced it). With
/// `mid_checkpoint`, a checkpoint after the third commit, while b's
/// transaction is open: recovery then starts there.
fn run_workload(mid_checkpoint: bool) -> Workload {
    let mut w = Workload::new();
    let (mut a, mut b) = (w.writer(), w.writer());
    let long = "x".repeat(300);
    for k in 0..12 {
        w.insert(&mut a, k, k * 10, "");
    }
    w.commit(&mut a);
    for k in 0..3 {
        w.update(&mut a, k, -k, &long); // grows: some rows move
    }
    w.delete(&mut a, 5);
    w.delete(&mut a, 6);
    w.insert(&mut a, 20, 200, "new");
    w.commit(&mut a);
    w.insert(&mut b, 100, 1, "b"); // b stays open across a's commits
    w.insert(&mut b, 101, 2, "b");
    let n =
        a.s.update_where(
            TABLE,
            |r| r[0].as_int().is_some_and(|k| (7..=9).contains(&k)),
            |r| row(r[0].as_int().unwrap_or(0), 77, "uw"),
        )
        .expect("update_where");
    assert_eq!(n, 3, "keys 7, 8, 9");
    for k in 7..=9 {
        a.pending.push((k, Some((77, "uw".to_string()))));
    }
    w.commit(&mut a);
    if mid_checkpoint {
        w.db.checkpoint().expect("checkpoint");
        w.active_at_checkpoint = b.s.xid().into_iter().collect();
        w.commits_before_checkpoint = w.commit_xids.len();
        w.writes_at_checkpoint = w.db.system_stats().get(Stat::PhysicalWrites);
    }
    w.insert(&mut a, 30, 300, "rolled back");
    w.update(&mut a, 10, 1000, &long);
    a.s.rollback().expect("rollback");
    a.pending.clear();
    w.rowids.remove(&30);
    w.insert(&mut a, 31, 310, "");
    w.update(&mut a, 11, 1100, "");
    w.delete(&mut a, 20);
    w.commit(&mut a);
    w.update(&mut b, 100, 11, &long);
    w.commit(&mut b);
    w.delete(&mut a, 0);
    w.insert(&mut a, 40, 400, &long);
    w.commit(&mut a);
    w.insert(&mut b, 102, 3, "never committed");
    w.update(&mut a, 1, 12, "");
    w.commit(&mut a);
    // The power goes while b's transaction is open (its redo is durable:
    // a's commit synced it).
    w.image = Some(w.be.crash());
    w.killed = Some(w.be.crash_keeping(&mut |_, _| true));
    w
}

/// The table read back after recovery.
fn table(s: &mut Session) -> State {
    let mut out = State::new();
    for (_, r) in s.scan(TABLE).expect("scan after recovery") {
        let (Some(k), Some(v), Value::Text(pad)) = (r[0].as_int(), r[1].as_int(), &r[2]) else {
            panic!("unexpected row {r:?}");
        };
        assert!(out.insert(k, (v, pad.clone())).is_none(), "key {k} twice");
    }
    out
}

/// The durable image of the finished workload, its redo after the
/// checkpoint, and where each commit record ends.
struct Crashed {
    image: SimBackend,
    records: Vec<(LogRecord, RecKind, Xid)>,
    checkpoint: u64,
    commit_ends: Vec<u64>,
    /// Transactions whose slots the checkpoint wrote as active.
    active_at_checkpoint: Vec<Xid>,
    /// The end of the create-table transaction's commit record: `t` does
    /// not exist before it.
    ddl_end: u64,
    /// The durable bytes of redo01.log.
    log: Vec<u8>,
}

fn crash(w: &Workload) -> Crashed {
    let image = w
        .image
        .clone()
        .expect("the workload ended with a power cut");
    crashed(w, image)
}

fn crashed(w: &Workload, image: SimBackend) -> Crashed {
    let (_, control) = ControlFile::open(&image).expect("control file");
    let scan = read_log(&image, &log_config(), Lsn(control.checkpoint_lsn)).expect("read redo");
    let cap = log_config().segment_capacity();
    assert!(
        scan.end.0 < cap,
        "the whole workload stays in segment 0 (redo01.log): {} < {cap}",
        scan.end.0
    );
    let records: Vec<_> = scan
        .records
        .into_iter()
        .map(|r| {
            let p = decode_payload(&r.payload).expect("decodable payload");
            (r, p.kind, p.xid)
        })
        .collect();
    // Commits before the checkpoint are in the data file: they survive
    // any cut (as if their record ended at 0).
    let before = w.commits_before_checkpoint;
    let mut commit_ends = vec![0; before];
    commit_ends.extend(w.commit_xids[before..].iter().map(|xid| {
        records
            .iter()
            .find(|(_, kind, x)| *kind == RecKind::Commit && x == xid)
            .map(|(r, _, _)| r.end.0)
            .expect("every acknowledged commit is in the durable redo")
    }));
    let ddl_end = records
        .iter()
        .find(|(_, kind, x)| *kind == RecKind::Commit && !w.commit_xids.contains(x))
        .map_or(0, |(r, ..)| r.end.0);
    let log = image.durable_bytes(LOG).expect("redo01.log");
    Crashed {
        image,
        records,
        checkpoint: control.checkpoint_lsn,
        commit_ends,
        active_at_checkpoint: w.active_at_checkpoint.clone(),
        ddl_end,
        log,
    }
}

impl Crashed {
    /// A copy of the image whose log ends at stream byte `c` (zeros after).
    fn cut_at(&self, c: u64) -> SimBackend {
        let copy = self.image.crash();
        let mut log = self.log.clone();
        let from = (FILE_HEADER_SIZE + c) as usize;
        log[from..].fill(0);
        copy.set_bytes(LOG, &log);
        copy
    }

    /// A copy of the image with byte `lsn` of the stream XORed with `xor`.
    fn flipped_at(&self, lsn: u64, xor: u8) -> SimBackend {
        let copy = self.image.crash();
        copy.corrupt(LOG, FILE_HEADER_SIZE + lsn, xor)
            .expect("flip a byte");
        copy
    }

    /// Whether the record ending at `end` is intact in a log cut at `c`:
    /// it ends by `c`, or every byte of it from `c` on was zero anyway (a
    /// payload may well end in zero bytes).
    fn survives(&self, end: u64, c: u64) -> bool {
        let zero_from = (FILE_HEADER_SIZE + c) as usize;
        let rec_end = (FILE_HEADER_SIZE + end) as usize;
        end <= c || self.log[zero_from..rec_end].iter().all(|&b| b == 0)
    }

    /// What recovery must do when the log is cut at `c`: (committed state
    /// index, transactions to roll back, records read).
    fn expected_at(&self, c: u64) -> (usize, usize, usize) {
        let commits = self
            .commit_ends
            .iter()
            .filter(|&&e| self.survives(e, c))
            .count();
        let surviving: Vec<_> = self
            .records
            .iter()
            .filter(|(r, ..)| self.survives(r.end.0, c))
            .collect();
        let mut started: HashSet<Xid> = self.active_at_checkpoint.iter().copied().collect();
        let mut ended = HashSet::new();
        for (_, kind, xid) in &surviving {
            if xid.is_none() {
                continue;
            }
            started.insert(*xid);
            if matches!(kind, RecKind::Commit | RecKind::Rollback) {
                ended.insert(*xid);
            }
        }
        let open = started.difference(&ended).count();
        (commits, open, surviving.len())
    }

    /// Recovers `image` and checks it against the model for a log that
    /// ends at `c`; with `twice`, also crashes right after recovery and
    /// recovers again (recovery is idempotent).
    fn check_recovery(&self, w: &Workload, image: SimBackend, c: u64, what: &str, twice: bool) {
        let (commits, open, read) = self.expected_at(c);
        let (db, report) = Database::open_report(Arc::new(image.clone()), config())
            .unwrap_or_else(|e| panic!("{what}: recovery failed: {e}"));
        if !self.survives(self.ddl_end, c) {
            let err = db.session().scan(TABLE).err();
            assert!(
                matches!(err, Some(Error::NoSuchObject { .. })),
                "{what}: the create-table commit is cut off, so t must not exist: {err:?}"
            );
            return;
        }
        let seen = table(&mut db.session());
        assert_eq!(
            seen, w.states[commits],
            "{what}: the state after the {commits} commits whose record ends by {c}"
        );
        assert_eq!(
            (report.transactions_rolled_back, report.records_read),
            (open, read),
            "{what}: (transactions rolled back, records read); report {report:?}"
        );
        if twice {
            // Recovery ended with a checkpoint; cut the power right after it.
            let again = image.crash();
            let (db2, report2) = Database::open_report(Arc::new(again), config())
                .unwrap_or_else(|e| panic!("{what}: second recovery failed: {e}"));
            assert_eq!(
                table(&mut db2.session()),
                w.states[commits],
                "{what}: recovering the recovered database"
            );
            assert_eq!(
                report2.transactions_rolled_back, 0,
                "{what}: nothing left to roll back: {report2:?}"
            );
        }
    }
}

/// Cuts the log of the workload at every record boundary after its
/// checkpoint; returns the number of recoveries.
fn cut_at_every_boundary(mid_checkpoint: bool) -> usize {
    let w = run_workload(mid_checkpoint);
    let crashed = crash(&w);
    let mut boundaries: Vec<u64> = vec![crashed.checkpoint];
    boundaries.extend(crashed.records.iter().map(|(r, ..)| r.end.0));
    for &c in &boundaries {
        let what = format!("cut at record boundary {c} (mid_checkpoint {mid_checkpoint})");
        crashed.check_recovery(&w, crashed.cut_at(c), c, &what, true);
    }
    boundaries.len()
}

#[test]
fn a_cut_at_every_record_boundary_recovers_exactly_the_commits_before_it() {
    let started = Instant::now();
    let n = cut_at_every_boundary(false);
    println!(
        "redo_cut: {n} record boundaries from the checkpoint at open, each recovered \
         (and recovered again), 0 lost commits, 0 partial transactions, {:.2?}",
        started.elapsed()
    );
}

#[test]
fn a_cut_after_a_mid_log_checkpoint_recovers_from_that_checkpoint() {
    let started = Instant::now();
    let n = cut_at_every_boundary(true);
    println!(
        "redo_cut: {n} record boundaries from a checkpoint taken with a transaction \
         open, each recovered (and recovered again), {:.2?}",
        started.elapsed()
    );
}

#[test]
fn a_cut_at_every_byte_of_the_tail_is_a_torn_tail() {
    let started = Instant::now();
    let w = run_workload(false);
    let crashed = crash(&w);
    // From the first record of the third-to-last commit's transaction.
    let last3: HashSet<Xid> = w.commit_xids.iter().rev().take(3).copied().collect();
    let from = crashed
        .records
        .iter()
        .find(|(_, _, x)| last3.contains(x))
        .map(|(r, ..)| r.lsn.0)
        .expect("records of the last transactions");
    let end = crashed.records.last().expect("records").0.end.0;
    for c in from..=end {
        let twice = c % 97 == 0;
        crashed.check_recovery(&w, crashed.cut_at(c), c, &format!("cut at byte {c}"), twice);
    }
    println!(
        "redo_cut: torn tail at every byte {from}..={end}: {} recoveries, 0 misrecoveries, {:.2?}",
        end - from + 1,
        started.elapsed()
    );
}

/// The start of the write batch holding the record at `lsn` (the framing's
/// `batch` field, bytes 16..24 of the record).
fn batch_of(image: &SimBackend, lsn: u64) -> u64 {
    let log = image.durable_bytes(LOG).expect("redo01.log");
    let at = (FILE_HEADER_SIZE + lsn) as usize + 16;
    u64::from_le_bytes(log[at..at + 8].try_into().expect("8 bytes"))
}

#[test]
fn a_damaged_byte_in_the_last_batch_ends_the_log_there() {
    let started = Instant::now();
    let w = run_workload(false);
    let crashed = crash(&w);
    let last = crashed.records.last().expect("records").0.lsn.0;
    let last_batch = batch_of(&crashed.image, last);
    let mut n = 0;
    for (r, ..) in crashed
        .records
        .iter()
        .filter(|(r, ..)| r.lsn.0 >= last_batch)
    {
        for lsn in r.lsn.0..r.end.0 {
            let image = crashed.flipped_at(lsn, 0x40);
            let what = format!(
                "bit flipped at byte {lsn} of the last batch (record {})",
                r.lsn.0
            );
            crashed.check_recovery(&w, image, r.lsn.0, &what, false);
            n += 1;
        }
    }
    println!(
        "redo_cut: {n} damaged bytes in the last batch (from {last_batch}), \
         all read as a torn tail, {:.2?}",
        started.elapsed()
    );
}

#[test]
fn after_a_killed_process_a_damaged_byte_in_the_last_batch_is_corruption() {
    // The power cut above loses the sync mark written after the last batch
    // (it is never synced); a killed process leaves it on disk, and the
    // mark proves the batch before it was synced: damage there is not a
    // torn tail, and opening must not silently drop its commit.
    let started = Instant::now();
    let w = run_workload(false);
    let crashed = crashed(&w, w.killed.clone().expect("killed image"));
    let last = crashed.records.last().expect("records").0.clone();
    let last_batch = batch_of(&crashed.image, last.lsn.0);
    let mut n = 0;
    for (r, ..) in crashed
        .records
        .iter()
        .filter(|(r, ..)| r.lsn.0 >= last_batch)
    {
        for lsn in r.lsn.0..r.end.0 {
            match Database::open_with(Arc::new(crashed.flipped_at(lsn, 0x40)), config()) {
                Err(Error::CorruptLog { lsn: at, .. }) => assert_eq!(at, r.lsn.0),
                Err(e) => panic!("byte {lsn}: expected CorruptLog, got {e}"),
                Ok(_) => panic!(
                    "byte {lsn} of the last synced batch damaged: the open succeeded \
                     and dropped an acknowledged commit"
                ),
            }
            n += 1;
        }
    }
    // Damage to the mark itself loses nothing: the log simply ends there.
    for lsn in last.end.0..last.end.0 + 32 {
        let image = crashed.flipped_at(lsn, 0x40);
        crashed.check_recovery(&w, image, last.end.0, &format!("mark byte {lsn}"), false);
    }
    println!(
        "redo_cut: {n} damaged bytes in the last synced batch after a killed process, \
         {n} detected as corruption (100%), {:.2?}",
        started.elapsed()
    );
}

#[test]
fn a_damaged_byte_before_the_last_batch_is_corruption_not_a_torn_tail() {
    let started = Instant::now();
    let w = run_workload(false);
    let crashed = crash(&w);
    let last = crashed.records.last().expect("records").0.lsn.0;
    let last_batch = batch_of(&crashed.image, last);
    let earlier: Vec<&LogRecord> = crashed
        .records
        .iter()
        .map(|(r, ..)| r)
        .filter(|r| r.end.0 <= last_batch)
        .collect();
    assert!(earlier.len() >= 3, "the workload has several batches");
    // The first record after the checkpoint, one in the middle, and the last
    // one before the final batch: every byte of each.
    let picks = [0, earlier.len() / 2, earlier.len() - 1];
    let mut n = 0;
    for &i in &picks {
        let r = earlier[i];
        for lsn in r.lsn.0..r.end.0 {
            let image = crashed.flipped_at(lsn, 0x40);
            match Database::open_with(Arc::new(image), config()) {
                Err(Error::CorruptLog { lsn: at, .. }) => assert_eq!(
                    at, r.lsn.0,
                    "the damage at byte {lsn} is reported at its record"
                ),
                Err(e) => panic!(
                    "byte {lsn} of record {}: expected CorruptLog, got {e}",
                    r.lsn.0
                ),
                Ok(_) => panic!(
                    "byte {lsn} of record {} damaged, later batches intact: the open succeeded",
                    r.lsn.0
                ),
            }
            n += 1;
        }
    }
    println!(
        "redo_cut: {n} damaged bytes in {} records before the last batch, \
         {n} detected (100%), {:.2?}",
        picks.len(),
        started.elapsed()
    );
}

#[test]
fn the_workload_writes_no_block_after_its_checkpoint() {
    // The premise of every test above: no block reached the data file after
    // the last checkpoint, so a shorter log is a state a crash could leave.
    for mid_checkpoint in [false, true] {
        let w = run_workload(mid_checkpoint);
        let stats = w.db.system_stats();
        assert_eq!(
            stats.get(Stat::PhysicalWrites),
            w.writes_at_checkpoint,
            "no block written after the checkpoint (mid_checkpoint {mid_checkpoint})"
        );
        assert_eq!(
            stats.get(Stat::Checkpoints),
            1 + mid_checkpoint as u64,
            "the checkpoint at open (and the one in the middle)"
        );
    }
}
