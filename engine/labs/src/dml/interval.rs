//! How often to commit (C10): every row pays a log sync; one transaction
//! for a whole job holds all its undo, and a fixed-size undo runs out.

use std::time::Instant;

use super::super::{delta, report, Chart, Evidence, LabCtx, Report, Scale, Verdict};
use super::{counters, rates, sep, LabText, Sep, Timing};
use blocklab::config::Config;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) const C10: LabText = (
    "C10",
    "Commit at a sensible interval: every row is slow, never exhausts undo",
    "Committing every row is slow (one log sync per commit); never committing a huge job exhausts undo; commit at a sensible interval.",
);

/// One commit interval of C10 (`interval == 0` is "never": one commit at
/// the end).
#[derive(Clone, Debug, PartialEq)]
pub struct C10Run {
    pub interval: u64,
    pub commits: u64,
    pub log_syncs: u64,
    pub undo_bytes: u64,
    /// The most undo one transaction held (its undo bytes at commit).
    pub max_txn_undo_bytes: u64,
    pub undo_extends: u64,
    pub rows_per_s: Timing,
}

/// What C10 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C10Evidence {
    pub rows: u64,
    /// Intervals 1, 10, 100, 1000 and never, on an undo that may grow.
    pub runs: Vec<C10Run>,
    /// On a fixed-size undo, a job of `fixed_job_rows` rows: committed
    /// every `fixed_interval` rows it did `fixed_interval_rows` rows;
    /// committed never, `fixed_never_rows` rows before it stopped (with
    /// `UndoExhausted` when `fixed_never_exhausted`).
    pub fixed_undo_blocks: u64,
    pub fixed_job_rows: u64,
    pub fixed_interval: u64,
    pub fixed_interval_rows: u64,
    pub fixed_never_rows: u64,
    pub fixed_never_exhausted: bool,
}

/// Holds when committing every row costs a log sync per commit and
/// committing every 100 rows a hundredth of that (the syncs are what make
/// per-row commits slow, so they decide; the rates are shown beside them,
/// `c10_timing_note`); when never committing
/// makes one transaction hold all the job's undo (more than with any
/// interval shorter than the job) and, on a fixed-size undo, fails with
/// "undo exhausted" where the same job committed every 1000 rows
/// finishes.
pub fn c10_verdict(e: &C10Evidence) -> (Verdict, String) {
    let find = |i: u64| e.runs.iter().find(|r| r.interval == i);
    let (Some(one), Some(hundred), Some(never)) = (find(1), find(100), find(0)) else {
        return (
            Verdict::DoesNotHold,
            "intervals 1, 100 and never were not all measured".into(),
        );
    };
    let mut wrong = Vec::new();
    if one.commits < e.rows || one.log_syncs < one.commits {
        wrong.push(format!(
            "committing every row: {} commits, {} log syncs for {} rows",
            one.commits, one.log_syncs, e.rows
        ));
    }
    // Every 100 rows: about a hundredth of the syncs; at least ten times
    // fewer leaves room for the background writer's own log writes.
    if hundred.log_syncs.saturating_mul(10) > one.log_syncs {
        wrong.push(format!(
            "committing every 100 rows made {} log syncs against {} for every row",
            hundred.log_syncs, one.log_syncs
        ));
    }
    // An interval at least as long as the job is "never" under another name.
    let most_other = e
        .runs
        .iter()
        .filter(|r| r.interval != 0 && r.interval < e.rows)
        .map(|r| r.max_txn_undo_bytes)
        .max()
        .unwrap_or(0);
    if never.max_txn_undo_bytes <= most_other {
        wrong.push(format!(
            "the job in one transaction held {} undo bytes, no more than a shorter interval's {most_other}",
            never.max_txn_undo_bytes
        ));
    }
    if !e.fixed_never_exhausted || e.fixed_interval_rows != e.fixed_job_rows {
        wrong.push(format!(
            "on a fixed {}-block undo: never committing {} after {} rows; committing every {} rows did {} of {}",
            e.fixed_undo_blocks,
            if e.fixed_never_exhausted { "failed" } else { "did not fail" },
            e.fixed_never_rows,
            e.fixed_interval,
            e.fixed_interval_rows,
            e.fixed_job_rows
        ));
    }
    if !wrong.is_empty() {
        return (Verdict::DoesNotHold, wrong.join("; "));
    }
    let facts = format!(
        "log syncs for {} rows: {} committing every row, {} every 100 rows; one transaction for the whole job held {} undo bytes (committing at an interval shorter than the job, at most {}); on a fixed {}-block undo a {}-row job in one transaction failed with ORA-30036 after {} rows, while committing every {} rows finished",
        e.rows,
        one.log_syncs,
        hundred.log_syncs,
        never.max_txn_undo_bytes,
        most_other,
        e.fixed_undo_blocks,
        e.fixed_job_rows,
        e.fixed_never_rows,
        e.fixed_interval,
    );
    (Verdict::Holds, facts)
}

/// What the rates say beside C10's verdict: rows per second by commit
/// interval, and whether every 100 rows was clearly faster than every row
/// on this run.
pub fn c10_timing_note(e: &C10Evidence) -> String {
    let rates: Vec<String> = e
        .runs
        .iter()
        .map(|r| {
            let i = if r.interval == 0 {
                "never".to_string()
            } else {
                r.interval.to_string()
            };
            format!("{i}: {:.0}", r.rows_per_s.median)
        })
        .collect();
    let find = |i: u64| e.runs.iter().find(|r| r.interval == i);
    let verdict = match (find(1), find(100)) {
        (Some(one), Some(hundred)) => match sep(&hundred.rows_per_s, &one.rows_per_s) {
            Sep::Above => "every 100 rows clearly faster than every row",
            Sep::Overlap => {
                "every 100 rows not clearly faster than every row on this run (rates overlap)"
            }
            Sep::Below => {
                "every row was clearly faster than every 100 on this run, against the counters"
            }
        },
        _ => "intervals 1 and 100 were not both measured",
    };
    format!("rows/s by commit interval {}: {verdict}", rates.join(", "))
}

/// Inserts `n` rows (one statement each) into `table`, committing every
/// `interval` rows (0: once at the end). Returns the rows done, the most
/// undo one transaction held, and the error that stopped it, if any.
fn c10_job(
    s: &mut Session,
    table: &str,
    n: u64,
    interval: u64,
) -> Result<(u64, u64, Option<Error>)> {
    let ins = s.prepare(&format!("INSERT INTO {table} VALUES (?, ?, ?)"))?;
    let pad = Value::Text("j".repeat(60));
    let mut txn_start = s.stats().get(Stat::UndoChangeBytes);
    let mut most = 0;
    let mut end_txn = |s: &mut Session| -> Result<()> {
        let now = s.stats().get(Stat::UndoChangeBytes);
        most = u64::max(most, now - txn_start);
        s.commit()?;
        txn_start = now;
        Ok(())
    };
    for i in 0..n {
        let row = [
            Value::Int(i as i64),
            Value::Int((i * 7) as i64 % 1000),
            pad.clone(),
        ];
        if let Err(e) = s.execute_prepared(&ins, &row) {
            s.rollback()?;
            return Ok((i, most, Some(e)));
        }
        if (interval != 0 && (i + 1) % interval == 0) || i + 1 == n {
            end_txn(s)?;
        }
    }
    Ok((n, most, None))
}

pub(super) fn c10(ctx: &mut LabCtx) -> Result<Report> {
    // Committing every row costs a log sync (milliseconds) per row: the
    // job stays small, and the quick size repeats it only twice.
    let n = ctx.size(100, 1_500);
    let log_file_size = ctx.size(4 << 20, Config::default().log_file_size);
    let reps = ctx.size(2, 3) as usize;
    let intervals = [1u64, 10, 100, 1000, 0];
    // One undo segment that starts small and may grow; committed undo may
    // be reused at once (no retention), so what a transaction holds is
    // what it needs.
    let grow = Config {
        undo_segments: 1,
        undo_blocks: 8,
        undo_retention: std::time::Duration::ZERO,
        log_file_size,
        ..ctx.config()
    };
    let (db, mut s) = ctx.open("c10", grow)?;
    let mut runs = Vec::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); intervals.len()];
    for rep in 0..reps {
        ctx.step(&format!("commit intervals, repetition {}/{reps}", rep + 1));
        for (j, &interval) in intervals.iter().enumerate() {
            let table = format!("job_{interval}_{rep}");
            s.execute(&format!(
                "CREATE TABLE {table} (id INTEGER, v INTEGER, pad TEXT)"
            ))?;
            let (ses0, log0) = (s.stats(), db.log_stats());
            let t = Instant::now();
            let (_, most, err) = c10_job(&mut s, &table, n, interval)?;
            samples[j].push(t.elapsed().as_secs_f64() * 1000.0);
            if let Some(e) = err {
                return Err(e);
            }
            if rep == 0 {
                let ses1 = s.stats();
                runs.push(C10Run {
                    interval,
                    commits: delta(&ses1, &ses0, Stat::UserCommits),
                    log_syncs: db.log_stats().log_syncs - log0.log_syncs,
                    undo_bytes: delta(&ses1, &ses0, Stat::UndoChangeBytes),
                    max_txn_undo_bytes: most,
                    undo_extends: delta(&ses1, &ses0, Stat::UndoExtends),
                    rows_per_s: Timing::exactly(0.0),
                });
            }
        }
    }
    for (r, ms) in runs.iter_mut().zip(&samples) {
        r.rows_per_s = Timing::of(&rates(n, ms));
    }
    // The same kind of job on an undo that cannot grow: 32 blocks hold a
    // few 1000-row transactions but not a much larger one.
    ctx.step("fixed-size undo");
    let fixed_blocks = 32u64;
    let fixed = Config {
        undo_segments: 1,
        undo_blocks: fixed_blocks as u32,
        undo_autoextend: false,
        undo_retention: std::time::Duration::ZERO,
        log_file_size,
        ..ctx.config()
    };
    let job = 10_000;
    let fixed_interval = 1000;
    let (_db2, mut s2) = ctx.open("c10-fixed", fixed)?;
    s2.execute("CREATE TABLE job_fixed_interval (id INTEGER, v INTEGER, pad TEXT)")?;
    s2.execute("CREATE TABLE job_fixed_never (id INTEGER, v INTEGER, pad TEXT)")?;
    let (done_interval, _, err) = c10_job(&mut s2, "job_fixed_interval", job, fixed_interval)?;
    if let Some(e) = err {
        return Err(e);
    }
    let (done_never, _, err) = c10_job(&mut s2, "job_fixed_never", job, 0)?;
    let exhausted = matches!(err, Some(Error::UndoExhausted { .. }));
    if let Some(e) = err.filter(|_| !exhausted) {
        return Err(e);
    }
    let e = C10Evidence {
        rows: n,
        runs,
        fixed_undo_blocks: fixed_blocks,
        fixed_job_rows: job,
        fixed_interval,
        fixed_interval_rows: done_interval,
        fixed_never_rows: done_never,
        fixed_never_exhausted: exhausted,
    };
    let mut ev = vec![Evidence::counter("rows", n, "rows")];
    let name = |i: u64| {
        if i == 0 {
            "never".to_string()
        } else {
            format!("every{i}")
        }
    };
    for r in &e.runs {
        ev.extend(counters(
            &name(r.interval),
            [
                ("commits", r.commits, "commits"),
                ("log_syncs", r.log_syncs, "syncs"),
                ("undo_bytes", r.undo_bytes, "bytes"),
                ("max_undo_per_txn", r.max_txn_undo_bytes, "bytes"),
                ("undo_extends", r.undo_extends, "extents"),
            ],
        ));
    }
    ev.extend([
        Evidence::counter("fixed_undo.blocks", fixed_blocks, "blocks"),
        Evidence::counter("fixed_undo.job_rows", job, "rows"),
        Evidence::counter(
            format!("fixed_undo.every{fixed_interval}.rows_done"),
            done_interval,
            "rows",
        ),
        Evidence::counter("fixed_undo.never.rows_done", done_never, "rows"),
        Evidence::counter(
            "fixed_undo.never.undo_exhausted",
            u64::from(exhausted),
            "bool",
        ),
    ]);
    for (r, ms) in e.runs.iter().zip(&samples) {
        ev.push(Evidence::timing(
            format!("{}.insert_rate", name(r.interval)),
            &rates(n, ms),
            "rows/s",
        ));
    }
    let mut r = report(
        C10,
        c10_verdict(&e),
        ev,
        vec![
            ("rows".into(), n.to_string()),
            ("repetitions".into(), reps.to_string()),
            ("fixed_undo_job_rows".into(), job.to_string()),
        ],
        Vec::new(),
    );
    // Log syncs per row explain the rate, so they decide.
    r.timed_verdict = false;
    r.timing_note = Some(c10_timing_note(&e));
    r.chart = Some(c10_chart(&e));
    Ok(r)
}

/// Log syncs against the undo one transaction holds, over the rows each
/// transaction really had (job rows / commits: an interval longer than
/// the job, and "never", are one transaction of the whole job). Counters
/// only; the insert rates are in the evidence.
fn c10_chart(e: &C10Evidence) -> Chart {
    let curve = |f: fn(&C10Run) -> u64| -> Vec<(f64, f64)> {
        e.runs
            .iter()
            .map(|r| (e.rows as f64 / r.commits.max(1) as f64, f(r) as f64))
            .collect()
    };
    Chart {
        title: format!("C10: a {}-row job by rows per commit", e.rows),
        x_label: "rows per transaction (log scale)".into(),
        y_label: "count or bytes (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: false,
        series: vec![
            ("log syncs in the job".into(), curve(|r| r.log_syncs)),
            (
                "most undo bytes one transaction held".into(),
                curve(|r| r.max_txn_undo_bytes),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(interval: u64, commits: u64, most: u64, rate: f64) -> C10Run {
        C10Run {
            interval,
            commits,
            log_syncs: commits,
            undo_bytes: 7_000,
            max_txn_undo_bytes: most,
            undo_extends: 0,
            rows_per_s: Timing::of(&[rate * 0.9, rate, rate * 1.1]),
        }
    }

    fn c10_good() -> C10Evidence {
        C10Evidence {
            rows: 2000,
            runs: vec![
                run(1, 2000, 68, 300.0),
                run(10, 200, 680, 2_500.0),
                run(100, 20, 6_800, 20_000.0),
                run(1000, 2, 68_000, 21_000.0),
                run(0, 1, 136_000, 21_000.0),
            ],
            fixed_undo_blocks: 32,
            fixed_job_rows: 10_000,
            fixed_interval: 1000,
            fixed_interval_rows: 10_000,
            fixed_never_rows: 3_000,
            fixed_never_exhausted: true,
        }
    }

    #[test]
    fn c10_rule_on_synthetic_evidence() {
        let good = c10_good();
        assert_eq!(c10_verdict(&good).0, Verdict::Holds);
        // An interval as long as the job counts as "never": with 1000 rows,
        // every 1000 is one transaction too, and still never holds more
        // than every 100.
        let mut short = good.clone();
        short.rows = 1000;
        short.runs[0].commits = 1000;
        short.runs[0].log_syncs = 1000;
        short.runs[4].max_txn_undo_bytes = 68_000;
        assert_eq!(c10_verdict(&short).0, Verdict::Holds);
        // Never committing held no more undo than an interval.
        let mut flat = good.clone();
        flat.runs[4].max_txn_undo_bytes = 68_000;
        assert_eq!(c10_verdict(&flat).0, Verdict::DoesNotHold);
        // A fixed undo that never ran out.
        let roomy = C10Evidence {
            fixed_never_exhausted: false,
            fixed_never_rows: 10_000,
            ..good.clone()
        };
        assert_eq!(c10_verdict(&roomy).0, Verdict::DoesNotHold);
        // Rates never change the verdict; the note says what they show.
        let mut noisy = good.clone();
        noisy.runs[0].rows_per_s = Timing::of(&[15_000.0, 21_000.0, 18_000.0]);
        assert_eq!(c10_verdict(&noisy).0, Verdict::Holds);
        assert!(c10_timing_note(&noisy).contains("not clearly faster"));
        assert!(c10_timing_note(&good).contains("clearly faster"));
        // Every 100 rows without fewer syncs.
        let mut unsynced = good.clone();
        unsynced.runs[2].log_syncs = unsynced.runs[0].log_syncs;
        assert_eq!(c10_verdict(&unsynced).0, Verdict::DoesNotHold);
        // Fewer log syncs than commits.
        let mut grouped = good.clone();
        grouped.runs[0].log_syncs = 10;
        assert_eq!(c10_verdict(&grouped).0, Verdict::DoesNotHold);
    }
}
