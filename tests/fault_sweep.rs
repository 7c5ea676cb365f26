//! The I/O fault sweep and the torn-write sweep: a scripted workload (DDL,
//! DML, a direct-path load, a checkpoint) run once per I/O operation, with
//! that operation failing (EIO once; ENOSPC from then on, as a full disk)
//! or torn by a power cut at each 512-byte boundary; then the database is
//! reopened and checked:
//!
//! - every acknowledged commit is there, and nothing else (a commit that
//!   itself failed may have gone either way);
//! - the database opens (0 unopenable);
//! - the index path and the full scan give the same rows (0 wrong results).
//!
//! The figures each sweep prints are the ones in the README's reliability
//! section (`cargo test --test fault_sweep -- --nocapture`).

use std::collections::BTreeMap;
use std::sync::Arc;

use blocklab::storage::{Fault, Keep, Pending, SimBackend};
use blocklab::{Config, Database, Error, Value};

fn config() -> Config {
    Config {
        block_size: 2048,
        // Small, so that dirty blocks are evicted (and written) mid-run.
        cache_frames: 24,
        // Large enough that the log writer only writes when a commit asks
        // (its size trigger is never reached), so that the I/O operations
        // come in the same order on every run.
        log_file_size: 512 << 10,
        log_files: 3,
        undo_blocks: 64,
        background_writer: false,
        ..Config::default()
    }
}

/// One step of the workload.
enum Step {
    Sql(String),
    Commit,
    Checkpoint,
}

fn workload() -> Vec<Step> {
    let mut steps = vec![
        Step::Sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)".into()),
        Step::Sql("CREATE INDEX t_v ON t (v)".into()),
    ];
    for batch in 0..4 {
        for i in 0..12 {
            let id = batch * 12 + i;
            steps.push(Step::Sql(format!(
                "INSERT INTO t VALUES ({id}, {}, '{}')",
                id * 7 % 50,
                "x".repeat(60 + (id as usize % 5) * 20)
            )));
        }
        steps.push(Step::Commit);
    }
    steps.extend([
        Step::Sql("UPDATE t SET v = v + 1000 WHERE id % 3 = 0".into()),
        Step::Commit,
        Step::Checkpoint,
        Step::Sql("DELETE FROM t WHERE id % 7 = 0".into()),
        Step::Commit,
        Step::Sql(
            "INSERT /*+ APPEND */ INTO t SELECT value, value % 40, 'loaded row ' || value \
             FROM generate_series(100, 160)"
                .into(),
        ),
        Step::Commit,
        Step::Sql("CREATE INDEX t_pad ON t (pad)".into()),
        Step::Sql("UPDATE t SET pad = pad || '!' WHERE v < 20".into()),
        Step::Commit,
        Step::Checkpoint,
        Step::Sql("INSERT INTO t SELECT value, 1, 'array' FROM generate_series(200, 240)".into()),
        Step::Commit,
        // Left open: recovery must roll it back.
        Step::Sql("UPDATE t SET v = -1 WHERE id < 30".into()),
        Step::Sql("INSERT INTO t VALUES (999, 999, 'never committed')".into()),
    ]);
    steps
}

/// `t` as (id, v, pad), read through one access path.
type Rows = Vec<(i64, i64, String)>;

fn read(db: &Database, hint: &str) -> Result<Rows, Error> {
    let mut s = db.session();
    let r = s.execute(&format!("SELECT {hint} id, v, pad FROM t ORDER BY id"))?;
    Ok(r.rows
        .iter()
        .map(|row| match row.as_slice() {
            [Value::Int(id), Value::Int(v), Value::Text(p)] => (*id, *v, p.to_string()),
            other => panic!("unexpected row {other:?}"),
        })
        .collect())
}

/// How far one run of the workload got.
struct Run {
    /// Commits that returned Ok.
    acknowledged: usize,
    /// Whether the step that failed was a commit (its outcome is unknown).
    failed_in_commit: bool,
    /// The error that stopped the run, if one did.
    error: Option<Error>,
    /// The backend's operation count when the workload began (after the
    /// database was created).
    base_op: u64,
}

/// Runs the workload on `sim` until a step fails; `before` is called just
/// before the first step (to arm a fault once the database is created).
fn run(sim: &SimBackend, before: impl FnOnce()) -> Run {
    let db = Database::open_with(Arc::new(sim.clone()), config()).expect("create");
    let mut s = db.session();
    let base_op = sim.op_count();
    before();
    let mut out = Run {
        acknowledged: 0,
        failed_in_commit: false,
        error: None,
        base_op,
    };
    for step in workload() {
        let r = match &step {
            Step::Sql(sql) => s.execute(sql).map(|_| ()),
            Step::Commit => s.execute("COMMIT").map(|_| ()),
            Step::Checkpoint => db.checkpoint(),
        };
        match r {
            Ok(()) if matches!(step, Step::Commit) => out.acknowledged += 1,
            Ok(()) => {}
            Err(e) => {
                out.failed_in_commit = matches!(step, Step::Commit);
                out.error = Some(e);
                break;
            }
        }
    }
    // Dropping shuts down as far as the faults let it (errors ignored).
    drop(s);
    drop(db);
    out
}

/// The committed contents of `t` after each commit of a fault-free run
/// (index 0: before the first commit, when `t` is empty), and the number
/// of mutating-or-sync I/O operations of the run after creation.
struct Reference {
    states: Vec<Rows>,
    ops: u64,
}

fn reference() -> Reference {
    // Runs the whole workload on a fresh database, calling `after_commit`
    // after each commit; returns the I/O operations after creation.
    let replay = |after_commit: &mut dyn FnMut(&Database)| -> u64 {
        let sim = SimBackend::new();
        let db = Database::open_with(Arc::new(sim.clone()), config()).expect("create");
        let first_op = sim.op_count();
        let mut s = db.session();
        for step in workload() {
            match &step {
                Step::Sql(sql) => drop(s.execute(sql).unwrap()),
                Step::Commit => {
                    s.execute("COMMIT").unwrap();
                    after_commit(&db);
                }
                Step::Checkpoint => db.checkpoint().unwrap(),
            }
        }
        sim.op_count() - first_op
    };
    let mut states = vec![Vec::new()];
    replay(&mut |db| states.push(read(db, "/*+ FULL(t) */").unwrap()));
    // Reading after each commit costs I/O too: count a run without it.
    let ops = replay(&mut |_| {});
    Reference { states, ops }
}

/// What one reopen found.
#[derive(Debug, Default)]
struct Tally {
    recoveries: u64,
    lost: u64,
    unopenable: u64,
    wrong: u64,
    torn_repaired: u64,
    failures: Vec<String>,
}

impl Tally {
    /// Opens `after` and checks it against the run that produced it.
    fn check(&mut self, what: &str, after: &SimBackend, run: &Run, refs: &Reference) {
        self.recoveries += 1;
        let (db, report) = match Database::open_report(Arc::new(after.clone()), config()) {
            Ok(x) => x,
            Err(e) => {
                self.unopenable += 1;
                self.failures.push(format!("{what}: does not open: {e}"));
                return;
            }
        };
        self.torn_repaired += report.torn_blocks_repaired.len() as u64;
        let full = read(&db, "/*+ FULL(t) */");
        let by_pk = read(&db, "/*+ INDEX(t) */");
        let (full, by_pk) = match (full, by_pk) {
            (Ok(a), Ok(b)) => (a, b),
            // No table yet: the failure came before its creation committed.
            (Err(Error::NoSuchObject { .. }), _) if run.acknowledged == 0 => return,
            (a, b) => {
                self.wrong += 1;
                self.failures.push(format!(
                    "{what}: reading fails: {:?} / {:?}",
                    a.err(),
                    b.err()
                ));
                return;
            }
        };
        let mut ok_states = vec![&refs.states[run.acknowledged]];
        if run.failed_in_commit {
            ok_states.push(&refs.states[run.acknowledged + 1]);
        }
        if !ok_states.contains(&&full) {
            let have: BTreeMap<i64, i64> = full.iter().map(|r| (r.0, r.1)).collect();
            let want: BTreeMap<i64, i64> = ok_states[0].iter().map(|r| (r.0, r.1)).collect();
            let lost = want.keys().filter(|k| !have.contains_key(k)).count();
            self.lost += 1;
            self.failures.push(format!(
                "{what}: after {} acknowledged commits the table is not the committed state \
                 ({} rows, expected {}; {lost} acknowledged rows missing; stopped by {:?})",
                run.acknowledged,
                full.len(),
                ok_states[0].len(),
                run.error
            ));
        } else if full != by_pk {
            self.wrong += 1;
            self.failures.push(format!(
                "{what}: the index path disagrees with the full scan"
            ));
        }
    }

    fn assert_clean(&self, sweep: &str) {
        assert!(
            self.failures.is_empty(),
            "{sweep}: {} lost, {} unopenable, {} wrong; first failures:\n{}",
            self.lost,
            self.unopenable,
            self.wrong,
            self.failures
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn every_write_and_sync_failing_loses_no_acknowledged_commit() {
    let refs = reference();
    let mut tally = Tally::default();
    let mut stopped = 0;
    for n in 1..=refs.ops {
        // EIO once: the statement fails, the run stops; a killed process
        // keeps what it wrote.
        let sim = SimBackend::new();
        let run1 = run(&sim, || sim.fail_op_with(n, false, Fault::Eio));
        stopped += run1.error.is_some() as u64;
        tally.check(
            &format!("EIO at op {n}"),
            &sim.crash_keeping(&mut |_, _| true),
            &run1,
            &refs,
        );
        // ENOSPC from op n on: the disk is full until space is freed; then
        // the database must open, after a killed process and after a power
        // cut alike.
        let sim = SimBackend::new();
        let run2 = run(&sim, || sim.fail_op_with(n, true, Fault::Enospc));
        if let Some(e) = &run2.error {
            assert!(
                e.to_string().contains("No space left on device")
                    || matches!(e, Error::Poisoned(_)),
                "a full disk is reported as such, got: {e}"
            );
        }
        sim.clear_faults();
        tally.check(
            &format!("ENOSPC from op {n}, process killed"),
            &sim.crash_keeping(&mut |_, _| true),
            &run2,
            &refs,
        );
        tally.check(
            &format!("ENOSPC from op {n}, power cut"),
            &sim.crash(),
            &run2,
            &refs,
        );
    }
    println!(
        "I/O fault sweep: {} fault points (each write and sync of the workload) x (EIO once, \
         ENOSPC until freed): {} runs stopped by the fault, {} recoveries; lost {}, unopenable \
         {}, wrong {}",
        refs.ops, stopped, tally.recoveries, tally.lost, tally.unopenable, tally.wrong
    );
    assert!(
        refs.ops > 100,
        "the workload does real I/O ({} ops)",
        refs.ops
    );
    tally.assert_clean("I/O fault sweep");
}

/// Runs the workload with every operation after its `n`-th failing, as if
/// the power went out while operation `n` was under way; returns the run
/// and operation `n` if it is an unsynced write.
fn cut_after(n: u64) -> (SimBackend, Run, Option<Pending>) {
    let sim = SimBackend::new();
    let run = run(&sim, || sim.fail_op(n + 1, true));
    let op = run.base_op + n;
    let torn = sim
        .pending()
        .into_iter()
        .find(|p| p.op == op && p.write.is_some());
    (sim, run, torn)
}

#[test]
fn every_write_torn_at_each_sector_boundary_loses_nothing() {
    const SECTOR: usize = 512;
    let refs = reference();
    let mut tally = Tally::default();
    let (mut data_tears, mut redo_tears, mut other_tears) = (0u64, 0u64, 0u64);
    // ANCHOR: torn_sweep
    for n in 1..=refs.ops {
        let (sim, run, torn) = cut_after(n);
        // A sync, a directory change or a set_len has nothing to tear.
        let Some(torn) = torn else { continue };
        let Some((_, len)) = torn.write else { continue };
        for k in 1..len.div_ceil(SECTOR) {
            for keep in [Keep::Head(k * SECTOR), Keep::Tail(len - k * SECTOR)] {
                let after = sim.crash_tearing(&mut |p: &Pending| {
                    if p.op == torn.op {
                        keep
                    } else {
                        Keep::All
                    }
                });
                match torn.file.as_str() {
                    "data01.dbf" => data_tears += 1,
                    f if f.starts_with("redo") => redo_tears += 1,
                    _ => other_tears += 1,
                }
                tally.check(
                    &format!("op {n} ({}, {len} bytes) torn {keep:?}", torn.file),
                    &after,
                    &run,
                    &refs,
                );
            }
        }
    }
    // ANCHOR_END: torn_sweep
    println!(
        "torn-write sweep: {} tears at 512-byte boundaries ({data_tears} of data-block writes, \
         {redo_tears} of redo writes, {other_tears} of doublewrite and control-file writes), \
         {} torn blocks repaired from the doublewrite area; lost {}, unopenable {}, wrong {}",
        tally.recoveries, tally.torn_repaired, tally.lost, tally.unopenable, tally.wrong
    );
    assert!(
        data_tears > 0 && redo_tears > 0,
        "both kinds of write were torn"
    );
    assert!(
        tally.torn_repaired > 0,
        "some tear left a block failing its checksum, and it was repaired"
    );
    tally.assert_clean("torn-write sweep");
}
