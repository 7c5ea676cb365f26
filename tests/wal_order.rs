//! R14 `wal_before_data`: the write-ahead rule, checked on
//! every block write, and "acknowledged means durable", checked on every
//! commit.
//!
//! A `SimBackend` write observer sees each write to the data file before it
//! lands. For each block written it compares what the block says with what
//! the *durable* redo holds at that moment (the redo a crash right now
//! would leave):
//!
//! ```text
//!   block image being written           durable redo (read_log on a crash copy)
//!   ┌───────────────────────────┐       ┌──────────────────────────────────┐
//!   │ 16..24 SCN of last change ├──────▶│ a record with that SCN that      │
//!   │ ITL: commit SCN (cleanout)├──┐    │ changes this very block          │
//!   └───────────────────────────┘  └───▶│ SCNs up to max_scn               │
//!                                       └──────────────────────────────────┘
//! ```
//!
//! SCNs grow with LSN and redo becomes durable in LSN order, so "the record
//! carrying the block's SCN is durable" means every change in the image is
//! durable, undo blocks (the undo of uncommitted changes) included.
//!
//! The cache is tiny (16 frames) so most writes are evictions in the middle
//! of transactions, not checkpoint writes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use blocklab::block::Block;
use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig};
use blocklab::storage::SimBackend;
use blocklab::{BlockNo, ColType, Column, CommitMode, Config, Database, Lsn, RowId, Value, Xid};

const DATA: &str = "data01.dbf";

fn config(commit_mode: CommitMode, background_writer: bool) -> Config {
    Config {
        block_size: 2048,
        cache_frames: 16,
        // Large enough that the stream never leaves redo01.log, so the
        // durable redo can always be read from LSN 0.
        log_file_size: 2 << 20,
        log_files: 3,
        undo_blocks: 16,
        commit_mode,
        background_writer,
        ..Config::default()
    }
}

fn log_config(cfg: &Config) -> LogConfig {
    LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    }
}

/// What the durable redo holds at one moment.
#[derive(Default)]
struct DurableRedo {
    max_scn: u64,
    /// SCN -> blocks its record changes.
    changed: HashMap<u64, HashSet<u32>>,
    commits: HashSet<Xid>,
    end: u64,
}

fn durable_redo(be: &SimBackend, log: &LogConfig) -> DurableRedo {
    let image = be.crash();
    let scan = read_log(&image, log, Lsn(0)).expect("the durable redo reads back");
    let mut out = DurableRedo {
        max_scn: scan.max_scn.0,
        end: scan.end.0,
        ..Default::default()
    };
    for r in &scan.records {
        let p = decode_payload(&r.payload).expect("decodable redo");
        if p.kind == RecKind::Commit {
            out.commits.insert(p.xid);
        }
        let blocks = out.changed.entry(r.scn.0).or_default();
        blocks.extend(p.changes.iter().map(|(b, _)| b.0));
    }
    out
}

/// Everything the observer found.
#[derive(Default)]
struct Findings {
    block_writes: u64,
    /// Blocks whose SCN is not (yet) in the durable redo.
    violations: Vec<String>,
    /// Blocks carrying an ITL commit SCN (stamped by commit cleanout, which
    /// logs nothing) beyond the durable redo.
    early_stamps: Vec<String>,
    /// Cache of the durable redo, keyed by the log files' sync count (the
    /// durable redo changes only on a sync of a log file).
    cached: Option<(u64, Arc<DurableRedo>)>,
}

/// Installs the write-ahead check on `be`.
fn observe(be: &SimBackend, cfg: &Config) -> Arc<Mutex<Findings>> {
    let findings = Arc::new(Mutex::new(Findings::default()));
    let (found, sim, log, bs) = (
        findings.clone(),
        be.clone(),
        log_config(cfg),
        cfg.block_size,
    );
    be.set_write_observer(Some(Arc::new(
        move |name: &str, offset: u64, data: &[u8]| {
            if name != DATA {
                return;
            }
            let mut f = found.lock().unwrap();
            let syncs: u64 = (0..log.files)
                .map(|i| sim.syncs_of(&LogConfig::file_name(i)))
                .sum();
            let redo = match &f.cached {
                Some((at, redo)) if *at == syncs => redo.clone(),
                _ => {
                    let redo = Arc::new(durable_redo(&sim, &log));
                    f.cached = Some((syncs, redo.clone()));
                    redo
                }
            };
            for (i, image) in data.chunks(bs).enumerate() {
                f.block_writes += 1;
                let no = BlockNo((offset / bs as u64) as u32 + i as u32);
                let block = match Block::decode(no, image) {
                    Ok(b) => b,
                    Err(e) => {
                        f.violations
                            .push(format!("block {}: undecodable image: {e}", no.0));
                        continue;
                    }
                };
                let scn = block.scn.0;
                if scn > redo.max_scn {
                    f.violations.push(format!(
                        "block {} written with SCN {scn}, durable redo ends at SCN {} (LSN {})",
                        no.0, redo.max_scn, redo.end
                    ));
                } else if scn > 0 && !redo.changed.get(&scn).is_some_and(|b| b.contains(&no.0)) {
                    f.violations.push(format!(
                        "block {} has SCN {scn}, but the durable record with that SCN \
                     does not change it",
                        no.0
                    ));
                }
                for itl in &block.itl {
                    if itl.commit_scn.0 > redo.max_scn {
                        f.early_stamps.push(format!(
                        "block {} written with ITL commit SCN {} of {} before its commit record \
                         is durable (durable redo ends at SCN {})",
                        no.0, itl.commit_scn.0, itl.xid, redo.max_scn
                    ));
                    }
                }
            }
        },
    )));
    findings
}

/// A small deterministic generator for the workload.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What one run found.
struct Outcome {
    block_writes: u64,
    violations: Vec<String>,
    early_stamps: Vec<String>,
    commits_checked: usize,
}

/// Runs a mixed workload with two interleaved sessions; after every commit
/// checks that its commit record is durable.
fn run(commit_mode: CommitMode, background_writer: bool) -> Outcome {
    let cfg = config(commit_mode, background_writer);
    let be = SimBackend::new();
    let findings = observe(&be, &cfg);
    let db = Database::open_with(Arc::new(be.clone()), cfg.clone()).expect("create");
    let mut sessions = [db.session(), db.session()];
    sessions[0]
        .create_table(
            "t",
            &[
                Column::new("k", ColType::Integer),
                Column::new("v", ColType::Integer),
                Column::new("pad", ColType::Text),
            ],
        )
        .expect("create table");
    // Each session works on its own keys (no lock waits in one thread).
    let mut rows: [BTreeMap<i64, RowId>; 2] = Default::default();
    let mut committed_rows = rows.clone();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut commits_checked = 0;
    let log = log_config(&cfg);
    let mut next_key = [0i64, 1_000_000];
    for round in 0..60 {
        let i = round % 2;
        let s = &mut sessions[i];
        for _ in 0..rng.below(40) + 5 {
            let pad = "p".repeat(rng.below(200) as usize);
            let choice = rng.below(10);
            if choice < 6 || rows[i].is_empty() {
                let k = next_key[i];
                next_key[i] += 1;
                let row = vec![Value::Int(k), Value::Int(0), Value::Text(pad)];
                let rowid = s.insert("t", row).expect("insert");
                rows[i].insert(k, rowid);
            } else {
                let nth = rng.below(rows[i].len() as u64) as usize;
                let (&k, &rowid) = rows[i].iter().nth(nth).expect("in range");
                if choice < 9 {
                    let row = vec![Value::Int(k), Value::Int(round as i64), Value::Text(pad)];
                    let new = s.update("t", rowid, row).expect("update");
                    rows[i].insert(k, new);
                } else {
                    s.delete("t", rowid).expect("delete");
                    rows[i].remove(&k);
                }
            }
        }
        match rng.below(8) {
            0 => {
                s.rollback().expect("rollback");
                rows[i] = committed_rows[i].clone();
            }
            1 => {} // stays open across the other session's work
            _ => {
                let xid = s.xid().expect("a transaction with changes");
                s.commit().expect("commit");
                committed_rows[i] = rows[i].clone();
                let redo = durable_redo(&be, &log);
                assert!(
                    redo.commits.contains(&xid),
                    "commit of {xid} returned, but its commit record is not durable \
                     (durable redo ends at LSN {})",
                    redo.end
                );
                commits_checked += 1;
            }
        }
        if round % 20 == 19 {
            db.checkpoint().expect("checkpoint");
        }
    }
    for s in &mut sessions {
        s.commit().expect("final commit");
    }
    drop(sessions);
    drop(db); // the shutdown checkpoint's writes are checked too
    be.set_write_observer(None); // the observer holds a clone of `be`
    let mut f = findings.lock().unwrap();
    Outcome {
        block_writes: f.block_writes,
        violations: std::mem::take(&mut f.violations),
        early_stamps: std::mem::take(&mut f.early_stamps),
        commits_checked,
    }
}

// ANCHOR: wal_check
fn check(commit_mode: CommitMode, background_writer: bool) -> Outcome {
    let started = Instant::now();
    let out = run(commit_mode, background_writer);
    println!(
        "wal_order ({commit_mode:?}, background writer {background_writer}): \
         {} block writes checked, {} violations, {} early commit-SCN stamps; \
         {} commits durable on return, {:.2?}",
        out.block_writes,
        out.violations.len(),
        out.early_stamps.len(),
        out.commits_checked,
        started.elapsed()
    );
    assert!(
        out.block_writes >= 100,
        "the tiny cache makes the workload write many blocks, got {}",
        out.block_writes
    );
    assert!(
        out.violations.is_empty(),
        "{} write-ahead violations, first: {:#?}",
        out.violations.len(),
        &out.violations[..out.violations.len().min(5)]
    );
    out
}

#[test]
fn every_block_write_follows_its_redo_with_fast_commit() {
    let out = check(CommitMode::Fast, false);
    assert_eq!(out.early_stamps, Vec::<String>::new(), "cleanout stamps");
}
// ANCHOR_END: wal_check

#[test]
fn every_block_write_follows_its_redo_with_force_commit() {
    check(CommitMode::Force, false);
}

#[test]
fn every_block_write_follows_its_redo_with_the_background_writer() {
    check(CommitMode::Fast, true);
}

/// Found by the force-commit variant: `Session::commit` stamps the commit
/// SCN into the ITL entries of the cached blocks (commit cleanout, no redo)
/// and, with `commit_mode = force`, writes those blocks *before* it flushes
/// the commit record. So a data block can reach the disk saying "committed
/// at SCN s" while the redo holding SCN s is not durable. Recovery happens
/// to repair it (the transaction has no durable commit, so it is rolled
/// back and undo restores each ITL entry), but the block image depends on
/// redo that a crash can lose, which is what the write-ahead rule forbids.
#[test]
fn force_commit_writes_no_commit_scn_stamp_ahead_of_the_commit_record() {
    let out = run(CommitMode::Force, false);
    assert!(
        out.early_stamps.is_empty(),
        "{} blocks written with a commit SCN not yet durable, first: {:#?}",
        out.early_stamps.len(),
        &out.early_stamps[..out.early_stamps.len().min(3)]
    );
}

/// Found by the background-writer variant above: a statement that must
/// evict a block fails with `Internal("victim frame latched")` (or "dirty
/// victim latched") when a cache-wide scan (checkpoint, `write_dirty`,
/// `dirty_count`, `checkpoint_lsn`) latches the chosen frame between the
/// victim search and the reuse of the frame. A checkpoint loop in a second
/// thread widens that window so the race shows within a second.
#[test]
fn eviction_does_not_fail_while_a_checkpoint_scans_the_cache() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cfg = config(CommitMode::Fast, false);
    let be = SimBackend::new();
    // A slow disk: block writes (done under the frame's exclusive latch)
    // take long enough for the other thread to queue on that latch.
    be.set_write_observer(Some(Arc::new(|name: &str, _: u64, _: &[u8]| {
        if name == DATA {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    })));
    let db = Database::open_with(Arc::new(be.clone()), cfg).expect("create");
    let mut s = db.session();
    let cols = [
        Column::new("k", ColType::Integer),
        Column::new("pad", ColType::Text),
    ];
    s.create_table("t", &cols).expect("create table");
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Acquire) {
                db.checkpoint().expect("checkpoint");
            }
        });
        let mut result = Ok(0);
        for k in 0..20_000 {
            let row = vec![Value::Int(k), Value::Text("e".repeat(100))];
            if let Err(e) = s.insert("t", row).and_then(|_| {
                if k % 100 == 99 {
                    s.commit()?;
                }
                Ok(())
            }) {
                result = Err(format!("statement {k} failed: {e}"));
                break;
            }
            result = Ok(k + 1);
        }
        stop.store(true, Ordering::Release);
        result
    });
    println!(
        "wal_order: eviction under a concurrent checkpoint loop: {result:?}, {:.2?}",
        started.elapsed()
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());
}
