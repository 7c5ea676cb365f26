//! The write-ahead rule, checked on every block write (C09): a simulated
//! disk shows each data-file write to an observer before it lands, and the
//! observer compares the block with the redo a crash at that moment would
//! leave; after every commit, its commit record must be in that redo.
//!
//! ```text
//!   block image being written         durable redo (read back from a crash copy)
//!   ┌──────────────────────────┐      ┌────────────────────────────────┐
//!   │ SCN of its last change   ├─────▶│ a record with that SCN that    │
//!   │ ITL commit SCNs          ├──┐   │ changes this very block        │
//!   └──────────────────────────┘  └──▶│ SCNs up to max_scn             │
//!                                     └────────────────────────────────┘
//! ```
//!
//! The same check as `tests/wal_order.rs`, run as a lab with its counts as
//! evidence.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::super::{delta, report, Evidence, LabCtx, Report, Verdict};
use super::LabText;
use crate::rng::Rng;
use blocklab::block::Block;
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::ids::{BlockNo, Lsn, RowId, Xid};
use blocklab::redo::record::{decode_payload, RecKind};
use blocklab::redo::{read_log, LogConfig};
use blocklab::stats::Stat;
use blocklab::storage::SimBackend;
use blocklab::storage::DATA_FILE;
use blocklab::value::Value;

pub(super) const C09: LabText = (
    "C09",
    "Redo reaches the log before the block reaches the data file; a commit's redo is on disk before it returns",
    "Write-ahead logging: redo for a change reaches the log before the changed block reaches the data file, and the commit's redo is on disk before the commit returns.",
);

/// What C09 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C09Evidence {
    /// Data-file block writes the observer checked.
    pub block_writes: u64,
    /// Of those, written by evicting a dirty block (mid-transaction,
    /// typically), not by a checkpoint.
    pub eviction_writes: u64,
    /// Blocks whose last change (SCN) was not in the durable redo when the
    /// block was written, or whose durable record with that SCN does not
    /// change the block.
    pub violations: u64,
    /// Blocks carrying a commit SCN (ITL cleanout) beyond the durable redo.
    pub early_commit_stamps: u64,
    pub commits_checked: u64,
    /// Commits that returned while their commit record was not durable.
    pub commits_not_durable: u64,
}

/// Holds when the workload wrote blocks (evictions among them, so writes
/// happened in the middle of transactions), none was written ahead of its
/// redo (no violation, no early commit stamp), and every acknowledged
/// commit found its commit record in the durable redo.
pub fn c09_verdict(e: &C09Evidence) -> (Verdict, String) {
    let facts = format!(
        "{} block writes checked ({} evictions): {} written ahead of their redo, {} with a commit SCN ahead of the durable redo; {} commits acknowledged, {} not durable on return",
        e.block_writes,
        e.eviction_writes,
        e.violations,
        e.early_commit_stamps,
        e.commits_checked,
        e.commits_not_durable
    );
    if e.block_writes == 0 || e.eviction_writes == 0 || e.commits_checked == 0 {
        return (
            Verdict::DoesNotHold,
            format!("the workload did not exercise the rule: {facts}"),
        );
    }
    if e.violations == 0 && e.early_commit_stamps == 0 && e.commits_not_durable == 0 {
        (Verdict::Holds, facts)
    } else {
        (Verdict::DoesNotHold, facts)
    }
}

/// What the durable redo holds: what a crash at this moment would leave.
/// It changes only when the backend syncs, and then only by records after
/// those already read, so it is read again incrementally, from the log
/// files alone.
#[derive(Default)]
struct DurableRedo {
    /// The backend's sync count when it was last read.
    read_at: Option<u64>,
    /// Where the records read so far end.
    end: u64,
    max_scn: u64,
    /// SCN -> the blocks its record changes.
    changed: HashMap<u64, HashSet<u32>>,
    commits: HashSet<Xid>,
}

impl DurableRedo {
    fn refresh(&mut self, be: &SimBackend, log: &LogConfig) -> Result<()> {
        let syncs = be.syncs();
        if self.read_at == Some(syncs) {
            return Ok(());
        }
        let image = SimBackend::new();
        for i in 0..log.files {
            let name = LogConfig::file_name(i);
            if let Some(bytes) = be.durable_bytes(&name) {
                image.set_bytes(&name, &bytes);
            }
        }
        let scan = read_log(&image, log, Lsn(self.end))?;
        for r in &scan.records {
            let p = decode_payload(&r.payload)
                .map_err(|e| Error::Internal(format!("undecodable redo: {e}")))?;
            if p.kind == RecKind::Commit {
                self.commits.insert(p.xid);
            }
            self.changed
                .entry(r.scn.0)
                .or_default()
                .extend(p.changes.iter().map(|(b, _)| b.0));
        }
        self.max_scn = self.max_scn.max(scan.max_scn.0);
        self.end = scan.end.0;
        self.read_at = Some(syncs);
        Ok(())
    }
}

#[derive(Default)]
struct Findings {
    block_writes: u64,
    violations: Vec<String>,
    early: Vec<String>,
    redo: DurableRedo,
    error: Option<String>,
}

/// Checks every data-file write against the durable redo.
fn observe(be: &SimBackend, log: LogConfig, block_size: usize) -> Arc<Mutex<Findings>> {
    let found = Arc::new(Mutex::new(Findings::default()));
    let (f2, sim) = (found.clone(), be.clone());
    be.set_write_observer(Some(Arc::new(
        move |name: &str, offset: u64, data: &[u8]| {
            if name != DATA_FILE {
                return;
            }
            let Ok(mut f) = f2.lock() else { return };
            // The redo read so far is exact up to its highest SCN (SCNs grow
            // with LSN): read more only for a block that goes beyond it.
            let newest = data
                .chunks(block_size)
                .enumerate()
                .filter_map(|(i, image)| {
                    let no = BlockNo((offset / block_size as u64) as u32 + i as u32);
                    Block::decode(no, image).ok()
                })
                .flat_map(|b| {
                    let itls: Vec<u64> = b.itl.iter().map(|t| t.commit_scn.0).collect();
                    itls.into_iter().chain([b.scn.0])
                })
                .max()
                .unwrap_or(0);
            if newest > f.redo.max_scn {
                if let Err(e) = f.redo.refresh(&sim, &log) {
                    f.error = Some(e.to_string());
                    return;
                }
            }
            for (i, image) in data.chunks(block_size).enumerate() {
                f.block_writes += 1;
                let no = BlockNo((offset / block_size as u64) as u32 + i as u32);
                let block = match Block::decode(no, image) {
                    Ok(b) => b,
                    Err(e) => {
                        f.violations
                            .push(format!("block {}: undecodable: {e}", no.0));
                        continue;
                    }
                };
                let scn = block.scn.0;
                let max_scn = f.redo.max_scn;
                if scn > max_scn {
                    f.violations.push(format!(
                        "block {} written with SCN {scn}; the durable redo ends at SCN {max_scn}",
                        no.0
                    ));
                } else if scn > 0
                    && !f.redo.changed.get(&scn).is_some_and(|b| b.contains(&no.0))
                {
                    f.violations.push(format!(
                        "block {} has SCN {scn}, but no durable record with that SCN changes it",
                        no.0
                    ));
                }
                for itl in &block.itl {
                    if itl.commit_scn.0 > max_scn {
                        f.early.push(format!(
                            "block {} carries commit SCN {} of {} beyond the durable redo (SCN {max_scn})",
                            no.0, itl.commit_scn.0, itl.xid
                        ));
                    }
                }
            }
        },
    )));
    found
}

pub(super) fn c09(ctx: &mut LabCtx) -> Result<Report> {
    let rounds = ctx.size(40, 100);
    // A tiny cache: most block writes are evictions in the middle of
    // transactions, where the write-ahead rule has work to do.
    let cfg = Config {
        block_size: 2048,
        cache_frames: 16,
        // The whole run's redo fits in the ring: no record is overwritten
        // before the observer has read it.
        log_file_size: ctx.size(256 << 10, 1 << 20),
        log_files: 3,
        undo_blocks: 16,
        ..ctx.config()
    };
    let log = LogConfig {
        file_size: cfg.log_file_size,
        files: cfg.log_files,
    };
    let be = SimBackend::new();
    let found = observe(&be, log, cfg.block_size);
    let db = Database::open_with(Arc::new(be.clone()), cfg.clone())?;
    let mut sessions = [db.session(), db.session()];
    sessions[0].execute("CREATE TABLE t (k INTEGER, v INTEGER, pad TEXT)")?;
    let sys0 = db.system_stats();
    let mut rows: [BTreeMap<i64, RowId>; 2] = Default::default();
    let mut committed = rows.clone();
    let mut rng = Rng::splitmix64(ctx.seed);
    let mut next_key = [0i64, 1_000_000];
    let (mut commits_checked, mut not_durable) = (0u64, 0u64);
    let mut checkpoint_writes = 0;
    ctx.step("writing");
    // Two sessions take turns, each on its own keys; a transaction may
    // stay open across the other's work, or roll back.
    for round in 0..rounds {
        let i = (round % 2) as usize;
        let s = &mut sessions[i];
        for _ in 0..rng.below(40) + 5 {
            let pad = "p".repeat(rng.below(200) as usize);
            let choice = rng.below(10);
            if choice < 6 || rows[i].is_empty() {
                let k = next_key[i];
                next_key[i] += 1;
                let rowid = s.insert("t", vec![Value::Int(k), Value::Int(0), Value::Text(pad)])?;
                rows[i].insert(k, rowid);
            } else {
                let nth = rng.below(rows[i].len() as u64) as usize;
                let Some((&k, &rowid)) = rows[i].iter().nth(nth) else {
                    continue;
                };
                if choice < 9 {
                    let row = vec![Value::Int(k), Value::Int(round as i64), Value::Text(pad)];
                    let new = s.update("t", rowid, row)?;
                    rows[i].insert(k, new);
                } else {
                    s.delete("t", rowid)?;
                    rows[i].remove(&k);
                }
            }
        }
        match rng.below(8) {
            0 => {
                s.rollback()?;
                rows[i] = committed[i].clone();
            }
            1 => {}
            _ => {
                let xid = s.xid();
                s.commit()?;
                committed[i] = rows[i].clone();
                if let Some(xid) = xid {
                    commits_checked += 1;
                    let mut f = found
                        .lock()
                        .map_err(|_| Error::Internal("the write observer panicked".into()))?;
                    if !f.redo.commits.contains(&xid) {
                        f.redo.refresh(&be, &log)?;
                    }
                    if !f.redo.commits.contains(&xid) {
                        not_durable += 1;
                    }
                }
            }
        }
        if round % 20 == 19 {
            let before = db.system_stats();
            db.checkpoint()?;
            checkpoint_writes += delta(&db.system_stats(), &before, Stat::PhysicalWrites);
        }
    }
    for s in &mut sessions {
        s.commit()?;
    }
    let sys1 = db.system_stats();
    drop(sessions);
    drop(db); // the shutdown checkpoint's writes are checked too
    be.set_write_observer(None);
    let f = found
        .lock()
        .map_err(|_| Error::Internal("the write observer panicked".into()))?;
    if let Some(e) = &f.error {
        return Err(Error::Internal(format!("reading the durable redo: {e}")));
    }
    let e = C09Evidence {
        block_writes: f.block_writes,
        eviction_writes: delta(&sys1, &sys0, Stat::PhysicalWrites)
            .saturating_sub(checkpoint_writes),
        violations: f.violations.len() as u64,
        early_commit_stamps: f.early.len() as u64,
        commits_checked,
        commits_not_durable: not_durable,
    };
    let notes: Vec<String> = f
        .violations
        .iter()
        .chain(&f.early)
        .take(5)
        .cloned()
        .collect();
    Ok(report(
        C09,
        c09_verdict(&e),
        vec![
            Evidence::counter("block_writes_checked", e.block_writes, "blocks"),
            Evidence::counter("block_writes_during_work", e.eviction_writes, "blocks"),
            Evidence::counter("written_ahead_of_redo", e.violations, "blocks"),
            Evidence::counter("commit_scn_ahead_of_redo", e.early_commit_stamps, "blocks"),
            Evidence::counter("commits_acknowledged", e.commits_checked, "commits"),
            Evidence::counter(
                "commits_not_durable_on_return",
                e.commits_not_durable,
                "commits",
            ),
        ],
        vec![
            ("rounds".into(), rounds.to_string()),
            ("cache_frames".into(), cfg.cache_frames.to_string()),
            ("block_size".into(), cfg.block_size.to_string()),
        ],
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c09_rule_on_synthetic_evidence() {
        let good = C09Evidence {
            block_writes: 300,
            eviction_writes: 200,
            violations: 0,
            early_commit_stamps: 0,
            commits_checked: 30,
            commits_not_durable: 0,
        };
        assert_eq!(c09_verdict(&good).0, Verdict::Holds);
        for bad in [
            C09Evidence {
                violations: 1,
                ..good
            },
            C09Evidence {
                early_commit_stamps: 2,
                ..good
            },
            C09Evidence {
                commits_not_durable: 1,
                ..good
            },
            // Nothing written: nothing shown.
            C09Evidence {
                block_writes: 0,
                eviction_writes: 0,
                ..good
            },
        ] {
            assert_eq!(c09_verdict(&bad).0, Verdict::DoesNotHold, "{bad:?}");
        }
    }
}
