//! What a commit waits for (C04): fast commit syncs the log only, force
//! commit also writes and syncs the changed data blocks; group commit
//! shares log syncs among concurrent committers.

use std::sync::{Arc, Barrier};
use std::time::Instant;

use super::super::{delta, report, Chart, Evidence, LabCtx, Report, Scale, Verdict};
use super::{counters, per, reps, sep, LabText, Sep, Timing};
use crate::rng::Rng;
use blocklab::config::{CommitMode, Config};
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::storage::SimBackend;
use blocklab::value::Value;

pub(super) const C04: LabText = (
    "C04",
    "Fast commit waits only for the redo; forcing data blocks at commit is much slower",
    "Fast commit: a commit only waits for the redo to be appended and synced sequentially; changed data blocks are written later, in batches, by the writer. Forcing data blocks at commit is much slower.",
);

/// One commit mode of C04.
#[derive(Clone, Debug, PartialEq)]
pub struct C04Mode {
    /// Counted on a simulated disk, which counts every write and sync.
    pub commits: u64,
    /// Data blocks written during the transactions (all at commit: the
    /// workload fits the cache and no writer runs).
    pub data_block_writes: u64,
    pub data_syncs: u64,
    pub log_syncs: u64,
    /// Commits that waited for the log writer.
    pub redo_synch_writes: u64,
    /// Mean commit latency of each repetition, on the real file system.
    pub commit_ms: Timing,
    pub commits_per_s: Timing,
}

/// Group commit: `threads` committers at once (timings only).
#[derive(Clone, Debug, PartialEq)]
pub struct C04Group {
    pub threads: u64,
    pub commits_per_s: Timing,
    pub commits_per_sync: Timing,
}

/// What C04 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C04Evidence {
    pub rows_per_txn: u64,
    pub fast: C04Mode,
    pub force: C04Mode,
    pub group: Vec<C04Group>,
}

/// Holds when a fast commit writes no data block and syncs only the log
/// (one log sync per commit, no data-file sync), a forced commit writes
/// the changed blocks and syncs the data file at every commit. Those
/// writes and syncs are what make a forced commit slower, so they decide;
/// the latencies and group commit are shown beside them
/// (`c04_timing_note`), not judged.
pub fn c04_verdict(e: &C04Evidence) -> (Verdict, String) {
    let (f, x) = (&e.fast, &e.force);
    let mut wrong = Vec::new();
    if f.data_block_writes != 0 || f.data_syncs != 0 {
        wrong.push(format!(
            "fast commit wrote {} data blocks and synced the data file {} times",
            f.data_block_writes, f.data_syncs
        ));
    }
    if f.commits == 0 || f.log_syncs < f.commits || f.redo_synch_writes != f.commits {
        wrong.push(format!(
            "fast commit: {} commits, {} log syncs, {} commits waited for the log",
            f.commits, f.log_syncs, f.redo_synch_writes
        ));
    }
    if x.commits == 0 || x.data_block_writes < x.commits || x.data_syncs < x.commits {
        wrong.push(format!(
            "force commit: {} commits wrote {} data blocks with {} data-file syncs",
            x.commits, x.data_block_writes, x.data_syncs
        ));
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    let counters = format!(
        "per commit: fast {:.0} data block writes, {:.0} data syncs, {:.2} log syncs; force {:.1} data block writes, {:.0} data syncs, {:.2} log syncs",
        per(f.data_block_writes, f.commits),
        per(f.data_syncs, f.commits),
        per(f.log_syncs, f.commits),
        per(x.data_block_writes, x.commits),
        per(x.data_syncs, x.commits),
        per(x.log_syncs, x.commits),
    );
    (Verdict::Holds, counters)
}

/// What the timings say beside C04's verdict: the commit latencies of the
/// two modes (a forced commit is slower only by what its data-file syncs
/// cost on this machine) and the group-commit rates.
pub fn c04_timing_note(e: &C04Evidence) -> String {
    let (f, x) = (&e.fast, &e.force);
    let times = format!(
        "commit latency fast {:.2} ms vs force {:.2} ms ({:.1}x; {:.0} vs {:.0} commits/s)",
        f.commit_ms.median,
        x.commit_ms.median,
        x.commit_ms.median / f.commit_ms.median.max(1e-9),
        f.commits_per_s.median,
        x.commits_per_s.median
    );
    let group = match (e.group.first(), e.group.last()) {
        (Some(a), Some(b)) => format!(
            "; group commit: {} -> {} threads {:.0} -> {:.0} commits/s, {:.1} -> {:.1} commits per log sync",
            a.threads,
            b.threads,
            a.commits_per_s.median,
            b.commits_per_s.median,
            a.commits_per_sync.median,
            b.commits_per_sync.median
        ),
        _ => String::new(),
    };
    let verdict = match sep(&x.commit_ms, &f.commit_ms) {
        Sep::Above => "forcing clearly slower",
        Sep::Overlap => "the latencies overlap on this run: a data-file sync costs no more than this machine's noise",
        Sep::Below => "forcing was clearly faster on this run, against the counters",
    };
    format!("{times}: {verdict}{group}")
}

/// Redo log files of the timed databases: this workload's redo fits
/// many times over, and a smaller ring is quicker to create.
const SMALL_LOG: u64 = 4 << 20;

/// `acct(id PRIMARY KEY, bal, pad)` with `n` rows, checkpointed (nothing
/// dirty), and the prepared single-row update the transactions run.
fn c04_accounts(db: &Database, n: u64) -> Result<Session> {
    let mut s = db.session();
    s.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER, pad TEXT)")?;
    s.execute(&format!(
        "INSERT INTO acct SELECT value, 0, 'account ' || value FROM generate_series(1, {n})"
    ))?;
    s.commit()?;
    db.checkpoint()?;
    Ok(s)
}

/// Runs `txns` transactions of `k` random account updates each; calls
/// `commit` for each commit (so the caller can time it).
fn c04_txns(
    s: &mut Session,
    rng: &mut Rng,
    accounts: u64,
    txns: u64,
    k: u64,
    mut commit: impl FnMut(&mut Session) -> Result<()>,
) -> Result<()> {
    let upd = s.prepare("UPDATE acct SET bal = bal + 1 WHERE id = ?")?;
    for _ in 0..txns {
        for _ in 0..k {
            let id = rng.below(accounts) as i64 + 1;
            s.execute_prepared(&upd, &[Value::Int(id)])?;
        }
        commit(s)?;
    }
    Ok(())
}

/// The counters of one commit mode, on a simulated disk.
fn c04_counted(
    ctx: &LabCtx,
    mode: CommitMode,
    accounts: u64,
    txns: u64,
    k: u64,
) -> Result<C04Mode> {
    let be = SimBackend::new();
    let cfg = Config {
        commit_mode: mode,
        ..ctx.config()
    };
    let db = Database::open_with(Arc::new(be.clone()), cfg)?;
    let mut s = c04_accounts(&db, accounts)?;
    let (sys0, log0, syncs0, ses0) = (db.system_stats(), db.log_stats(), be.syncs(), s.stats());
    let mut rng = Rng::splitmix64(ctx.seed);
    c04_txns(&mut s, &mut rng, accounts, txns, k, |s| s.commit())?;
    let (sys1, log1, syncs1, ses1) = (db.system_stats(), db.log_stats(), be.syncs(), s.stats());
    let log_syncs = log1.log_syncs - log0.log_syncs;
    Ok(C04Mode {
        commits: delta(&ses1, &ses0, Stat::UserCommits),
        data_block_writes: delta(&sys1, &sys0, Stat::PhysicalWrites),
        data_syncs: (syncs1 - syncs0).saturating_sub(log_syncs),
        log_syncs,
        redo_synch_writes: delta(&ses1, &ses0, Stat::RedoSynchWrites),
        commit_ms: Timing::exactly(0.0),
        commits_per_s: Timing::exactly(0.0),
    })
}

/// Commit latencies (ms) and commit rates, one of each per repetition.
type Samples = (Vec<f64>, Vec<f64>);

/// Per commit mode (fast, then force) and repetition: the mean commit
/// latency (ms) and commits per second, on the real file system. The two
/// modes run on two databases, repetitions alternating between them.
fn c04_timed(
    ctx: &mut LabCtx,
    accounts: u64,
    txns: u64,
    k: u64,
    reps: usize,
) -> Result<[Samples; 2]> {
    let mut dbs = Vec::new();
    for mode in [CommitMode::Fast, CommitMode::Force] {
        let cfg = Config {
            commit_mode: mode,
            log_file_size: SMALL_LOG,
            ..ctx.config()
        };
        let (db, _) = ctx.database(&format!("c04-{mode:?}"), cfg)?;
        let s = c04_accounts(&db, accounts)?;
        dbs.push((db, s, Rng::splitmix64(ctx.seed)));
    }
    let mut out: [Samples; 2] = Default::default();
    for rep in 0..reps {
        ctx.step(&format!("timing commits, repetition {}/{reps}", rep + 1));
        for ((_, s, rng), (latency, rate)) in dbs.iter_mut().zip(out.iter_mut()) {
            let mut in_commit = 0.0;
            let t = Instant::now();
            c04_txns(s, rng, accounts, txns, k, |s| {
                let c = Instant::now();
                s.commit()?;
                in_commit += c.elapsed().as_secs_f64() * 1000.0;
                Ok(())
            })?;
            let total = t.elapsed().as_secs_f64();
            latency.push(in_commit / txns as f64);
            rate.push(txns as f64 / total.max(1e-9));
        }
    }
    Ok(out)
}

/// `threads` sessions each committing `per_thread` one-row transactions at
/// once; per repetition, commits per second and commits per log sync.
fn c04_group(
    db: &Database,
    threads: u64,
    per_thread: u64,
    reps: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut rate, mut per_sync) = (Vec::new(), Vec::new());
    for rep in 0..reps {
        let syncs0 = db.log_stats().log_syncs;
        let barrier = Barrier::new(threads as usize);
        let t = Instant::now();
        let results: Vec<Result<()>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..threads)
                .map(|th| {
                    let barrier = &barrier;
                    sc.spawn(move || -> Result<()> {
                        let mut s = db.session();
                        let ins = s.prepare("INSERT INTO g VALUES (?, ?)");
                        // Every thread reaches the barrier, even one whose
                        // prepare failed, so that none waits forever.
                        barrier.wait();
                        let ins = ins?;
                        for i in 0..per_thread {
                            let id = ((rep as u64 * 64 + th) << 32 | i) as i64;
                            s.execute_prepared(&ins, &[Value::Int(id), Value::Int(th as i64)])?;
                            s.commit()?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Internal("committer panicked".into())))
                })
                .collect()
        });
        let secs = t.elapsed().as_secs_f64();
        for r in results {
            r?;
        }
        let commits = (threads * per_thread) as f64;
        let syncs = (db.log_stats().log_syncs - syncs0).max(1) as f64;
        rate.push(commits / secs.max(1e-9));
        per_sync.push(commits / syncs);
    }
    Ok((rate, per_sync))
}

pub(super) fn c04(ctx: &mut LabCtx) -> Result<Report> {
    let accounts = ctx.size(2_000, 20_000);
    let counted_txns = ctx.size(20, 200);
    let timed_txns = ctx.size(10, 100);
    let per_thread = ctx.size(5, 40);
    let k = 4;
    let reps = reps(ctx);
    ctx.step("counting (simulated disk)");
    let mut fast = c04_counted(ctx, CommitMode::Fast, accounts, counted_txns, k)?;
    let mut force = c04_counted(ctx, CommitMode::Force, accounts, counted_txns, k)?;
    let [(fl, fr), (xl, xr)] = c04_timed(ctx, accounts, timed_txns, k, reps)?;
    fast.commit_ms = Timing::of(&fl);
    fast.commits_per_s = Timing::of(&fr);
    force.commit_ms = Timing::of(&xl);
    force.commits_per_s = Timing::of(&xr);
    ctx.step("group commit");
    let cfg = Config {
        log_file_size: SMALL_LOG,
        ..ctx.config()
    };
    let (db, _) = ctx.database("c04-group", cfg)?;
    db.session()
        .execute("CREATE TABLE g (id INTEGER, th INTEGER)")?;
    let mut group = Vec::new();
    let mut group_samples = Vec::new();
    for threads in [1u64, 2, 4, 8] {
        let (r, p) = c04_group(&db, threads, per_thread, reps)?;
        group.push(C04Group {
            threads,
            commits_per_s: Timing::of(&r),
            commits_per_sync: Timing::of(&p),
        });
        group_samples.push((threads, r, p));
    }
    let e = C04Evidence {
        rows_per_txn: k,
        fast,
        force,
        group,
    };
    let mut ev = vec![Evidence::counter("rows_per_txn", k, "rows")];
    for (name, m) in [("fast", &e.fast), ("force", &e.force)] {
        ev.extend(counters(
            name,
            [
                ("commits", m.commits, "commits"),
                ("data_block_writes", m.data_block_writes, "blocks"),
                ("data_file_syncs", m.data_syncs, "syncs"),
                ("log_syncs", m.log_syncs, "syncs"),
                ("redo_synch_writes", m.redo_synch_writes, "waits"),
            ],
        ));
    }
    ev.extend([
        Evidence::timing("fast.commit_latency", &fl, "ms"),
        Evidence::timing("force.commit_latency", &xl, "ms"),
        Evidence::timing("fast.commit_rate", &fr, "commits/s"),
        Evidence::timing("force.commit_rate", &xr, "commits/s"),
    ]);
    for (threads, r, p) in &group_samples {
        ev.push(Evidence::timing(
            format!("group_commit.threads{threads}.commit_rate"),
            r,
            "commits/s",
        ));
        ev.push(Evidence::timing(
            format!("group_commit.threads{threads}.commits_per_log_sync"),
            p,
            "commits",
        ));
    }
    let chart = c04_chart(&e);
    let mut r = report(
        C04,
        c04_verdict(&e),
        ev,
        vec![
            ("accounts".into(), accounts.to_string()),
            ("counted_txns".into(), counted_txns.to_string()),
            ("timed_txns".into(), timed_txns.to_string()),
            ("repetitions".into(), reps.to_string()),
            ("group_commits_per_thread".into(), per_thread.to_string()),
        ],
        vec![
            "counters: on a simulated disk (every write and sync counted); timings: on the real file system; group commit: timings only (threads race)".into(),
        ],
    );
    // Data-block writes and syncs per commit explain the latency.
    r.timed_verdict = false;
    r.timing_note = Some(c04_timing_note(&e));
    r.chart = Some(chart);
    Ok(r)
}

/// Group commit as committers are added: the commit rate and how many
/// commits each log sync carried, medians of the repetitions. Both are
/// timings (how commits share a sync depends on how the threads race), so
/// the chart differs from run to run; a log axis holds rates in the
/// hundreds next to a handful of commits per sync.
fn c04_chart(e: &C04Evidence) -> Chart {
    let curve = |f: fn(&C04Group) -> f64| -> Vec<(f64, f64)> {
        e.group.iter().map(|g| (g.threads as f64, f(g))).collect()
    };
    Chart {
        title: "C04: group commit by concurrent committers".into(),
        x_label: "sessions committing at once".into(),
        y_label: "median of the repetitions (log scale)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        timings: true,
        series: vec![
            (
                "commits per second".into(),
                curve(|g| g.commits_per_s.median),
            ),
            (
                "commits per log sync".into(),
                curve(|g| g.commits_per_sync.median),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(writes: u64, data_syncs: u64, ms: f64) -> C04Mode {
        C04Mode {
            commits: 10,
            data_block_writes: writes,
            data_syncs,
            log_syncs: 10,
            redo_synch_writes: 10,
            commit_ms: Timing::of(&[ms * 0.9, ms, ms * 1.1]),
            commits_per_s: Timing::exactly(1000.0 / ms),
        }
    }

    #[test]
    fn c04_rule_on_synthetic_evidence() {
        let good = C04Evidence {
            rows_per_txn: 4,
            fast: mode(0, 0, 2.0),
            force: mode(60, 10, 6.0),
            group: vec![],
        };
        assert_eq!(c04_verdict(&good).0, Verdict::Holds);
        // A fast commit that writes data blocks.
        let eager = C04Evidence {
            fast: mode(60, 0, 2.0),
            ..good.clone()
        };
        assert_eq!(c04_verdict(&eager).0, Verdict::DoesNotHold);
        // A force commit that never syncs the data file.
        let lazy = C04Evidence {
            force: mode(60, 0, 6.0),
            ..good.clone()
        };
        assert_eq!(c04_verdict(&lazy).0, Verdict::DoesNotHold);
        // Latencies never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.force.commit_ms = Timing::of(&[1.7, 2.1, 2.4]);
        assert_eq!(c04_verdict(&noisy).0, Verdict::Holds);
        assert!(c04_timing_note(&noisy).contains("overlap"));
        let odd = C04Evidence {
            force: mode(60, 10, 0.5),
            ..good.clone()
        };
        assert_eq!(c04_verdict(&odd).0, Verdict::Holds);
        assert!(c04_timing_note(&odd).contains("against the counters"));
        assert!(c04_timing_note(&good).contains("clearly slower"));
    }
}
