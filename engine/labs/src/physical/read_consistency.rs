//! Consistent reads (C06) and snapshot too old (C07), measured with two
//! sessions driven from one thread: a SERIALIZABLE reader whose snapshot is
//! fixed by its first statement, and a writer that commits single-row
//! changes after it. Everything here is a counter; C06 also times the query,
//! and shows the times beside a verdict that rests on the undo records
//! applied and the clones built, which are the work that makes the query
//! slower.
//!
//! C07 also shows the other way to ORA-01555 (Kyte, *Expert Oracle
//! Database Architecture*, "Delayed Block Cleanout"): a block left
//! uncleaned by a big update that committed *before* the reader's snapshot,
//! met after so many small commits that the update's transaction-table
//! slot has been reused and nothing proves its commit older than the
//! snapshot.

use std::time::{Duration, Instant};

use super::pad;
use crate::rng::Rng;
use crate::{report, sep, Chart, Evidence, Lab, LabCtx, Report, Scale, Sep, Timing, Verdict};
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C06.0,
            title: C06.1,
            claim: C06.2,
            run: c06,
        },
        Lab {
            id: C07.0,
            title: C07.1,
            claim: C07.2,
            run: c07,
        },
    ]
}

/// The reader's query: a full scan, so it visits every table block.
const SCAN: &str = "SELECT /*+ FULL(t) */ SUM(v) FROM t";

/// `t(id, v, pad)`: ids 1..=rows, v = 0, a 100-character pad (about 60
/// rows to an 8 KiB block), a primary key on id so the writer's single-row
/// UPDATE finds its row through the index.
fn load(s: &mut Session, rows: u64) -> Result<()> {
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, 0, '{}' FROM generate_series(1, {rows})",
        pad(100)
    ))?;
    s.execute("COMMIT")?;
    // Clean out the loaded blocks now, so no later read pays for it.
    s.execute(SCAN)?;
    Ok(())
}

/// `n` committed transactions, each updating one row picked by `rng`.
fn committed_changes(w: &mut Session, rng: &mut Rng, rows: u64, n: u64) -> Result<()> {
    let upd = w.prepare("UPDATE t SET v = v + 1 WHERE id = ?")?;
    for _ in 0..n {
        let id = 1 + rng.below(rows) as i64;
        w.execute_prepared(&upd, &[Value::Int(id)])?;
        w.commit()?;
    }
    Ok(())
}

// ---------------------------------------------------------------- C06

const C06: (&str, &str, &str) = (
    "C06",
    "A consistent read rolls a clone back with undo; a current read does not",
    "A consistent-mode read that meets a block changed after the query's SCN clones the block and rolls the clone back with undo; the more changes since the query began, the more undo it applies. A current-mode read (DML) reads the block as it is.",
);

/// The reader's query after `changes` committed changes since its snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C06Point {
    pub changes: u64,
    pub cr_blocks_created: u64,
    pub undo_records_applied: u64,
    pub consistent_gets: u64,
    /// The query returned what it returned at its snapshot.
    pub as_of_snapshot: bool,
}

/// What C06 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C06Evidence {
    pub points: Vec<C06Point>,
    /// The query's time at each point, in the order of `points` (shown
    /// beside the verdict, never deciding it).
    pub query_ms: Vec<Timing>,
    /// An UPDATE of every row by another session, on the same blocks, at
    /// the moment of the largest point.
    pub update_db_block_gets: u64,
    pub update_cr_blocks_created: u64,
    pub update_undo_records_applied: u64,
}

/// Holds when: with no change since the snapshot the query builds no clone
/// and applies no undo; with changes it builds clones, returns the
/// snapshot's answer, and applies strictly more undo the more changes
/// there were; and the UPDATE gets blocks in current mode without any
/// clone or undo. The undo records applied are the work the time grows
/// with, so they decide; the query times are shown beside them
/// (`c06_timing_note`).
pub fn c06_verdict(e: &C06Evidence) -> (Verdict, String) {
    let mut pts = e.points.clone();
    pts.sort_by_key(|p| p.changes);
    let mut broken = Vec::new();
    match pts.first() {
        Some(p) if p.changes == 0 => {
            if p.cr_blocks_created != 0 || p.undo_records_applied != 0 {
                broken.push(format!(
                    "with no change since the snapshot the query still built {} clones and applied {} undo records",
                    p.cr_blocks_created, p.undo_records_applied
                ));
            }
        }
        _ => broken.push("no query without changes was measured".to_string()),
    }
    for p in pts.iter().filter(|p| p.changes > 0) {
        if p.cr_blocks_created == 0 {
            broken.push(format!("{} changes but no clone built", p.changes));
        }
    }
    if let Some(p) = pts.iter().find(|p| !p.as_of_snapshot) {
        broken.push(format!(
            "after {} changes the query did not return its snapshot's answer",
            p.changes
        ));
    }
    for w in pts.windows(2) {
        if w[1].undo_records_applied <= w[0].undo_records_applied {
            broken.push(format!(
                "{} changes applied {} undo records, not more than the {} of {} changes",
                w[1].changes, w[1].undo_records_applied, w[0].undo_records_applied, w[0].changes
            ));
        }
    }
    if pts.len() < 2 {
        broken.push("fewer than two amounts of change were measured".to_string());
    }
    if e.update_db_block_gets == 0
        || e.update_cr_blocks_created != 0
        || e.update_undo_records_applied != 0
    {
        broken.push(format!(
            "the UPDATE made {} db block gets, built {} clones, applied {} undo records",
            e.update_db_block_gets, e.update_cr_blocks_created, e.update_undo_records_applied
        ));
    }
    if !broken.is_empty() {
        return (Verdict::DoesNotHold, broken.join("; "));
    }
    let curve: Vec<String> = pts
        .iter()
        .map(|p| {
            format!(
                "{} changes → {} clones, {} undo records",
                p.changes, p.cr_blocks_created, p.undo_records_applied
            )
        })
        .collect();
    (
        Verdict::Holds,
        format!(
            "{}; every answer was the snapshot's; the UPDATE on the same blocks made {} db block gets and built no clone",
            curve.join(", "),
            e.update_db_block_gets
        ),
    )
}

/// What the query times say beside C06's verdict: whether the query got
/// clearly slower from each amount of change to the next, as the undo it
/// applied grew. At the quick size, 10 changes apply 10 undo records to a
/// scan of a few blocks, within the noise of one query.
pub fn c06_timing_note(e: &C06Evidence) -> String {
    let mut pts: Vec<(u64, &Timing)> = e
        .points
        .iter()
        .zip(&e.query_ms)
        .map(|(p, t)| (p.changes, t))
        .collect();
    pts.sort_by_key(|(n, _)| *n);
    let times: Vec<String> = pts
        .iter()
        .map(|(n, t)| format!("{n} changes {:.2} ms", t.median))
        .collect();
    let mut overlap = Vec::new();
    let mut faster = Vec::new();
    for w in pts.windows(2) {
        let step = format!("{} -> {}", w[0].0, w[1].0);
        match sep(w[1].1, w[0].1) {
            Sep::Above => {}
            Sep::Overlap => overlap.push(step),
            Sep::Below => faster.push(step),
        }
    }
    let times = format!("query time {}", times.join(", "));
    if !faster.is_empty() {
        format!(
            "{times}: more changes clearly faster on this run ({}), against the counters",
            faster.join(", ")
        )
    } else if !overlap.is_empty() {
        format!(
            "{times}: within the noise for {} changes",
            overlap.join(", ")
        )
    } else {
        format!("{times}: the query clearly slower the more undo it applied")
    }
}

fn c06(ctx: &mut LabCtx) -> Result<Report> {
    let rows = ctx.size(500, 2_000);
    let changes: Vec<u64> = if ctx.quick {
        vec![0, 10, 100]
    } else {
        vec![0, 10, 100, 1_000]
    };
    let reps = ctx.size(1, 3) as usize;
    let (db, mut writer) = ctx.open("c06", ctx.config())?;
    ctx.step("loading");
    load(&mut writer, rows)?;
    let mut reader = db.session();
    let mut other = db.session();
    let mut points = Vec::new();
    let mut timings = Vec::new();
    let mut query_ms = Vec::new();
    let (mut upd_gets, mut upd_cr, mut upd_undo) = (0, 0, 0);
    let (mut fresh_cr, mut fresh_undo, mut table_blocks) = (0, 0, 0);
    let last = changes.last().copied().unwrap_or(0);
    for &n in &changes {
        ctx.step(&format!("{n} changes"));
        let mut samples = Vec::new();
        for rep in 0..reps {
            reader.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
            let at_snapshot = reader.execute(SCAN)?.rows;
            // The same rows change in every repetition of this amount.
            let mut rng = Rng::xorshift64(ctx.seed ^ n);
            committed_changes(&mut writer, &mut rng, rows, n)?;
            let t = Instant::now();
            let r = reader.execute(SCAN)?;
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
            if rep == 0 {
                points.push(C06Point {
                    changes: n,
                    cr_blocks_created: r.stats.get(Stat::CrBlocksCreated),
                    undo_records_applied: r.stats.get(Stat::UndoRecordsAppliedCr),
                    consistent_gets: r.stats.get(Stat::ConsistentGets),
                    as_of_snapshot: r.rows == at_snapshot,
                });
            }
            if n == last && rep + 1 == reps {
                // Same blocks, same moment, while the reader still holds its
                // old snapshot: a new query reads the current blocks, and
                // an UPDATE gets them in current mode.
                let f = other.execute(SCAN)?;
                fresh_cr = f.stats.get(Stat::CrBlocksCreated);
                fresh_undo = f.stats.get(Stat::UndoRecordsAppliedCr);
                table_blocks = f.stats.get(Stat::TableScanBlocks);
                let u = other.execute("UPDATE t SET v = v + 1")?;
                upd_gets = u.stats.get(Stat::DbBlockGets);
                upd_cr = u.stats.get(Stat::CrBlocksCreated);
                upd_undo = u.stats.get(Stat::UndoRecordsAppliedCr);
                other.execute("ROLLBACK")?;
            }
            reader.execute("COMMIT")?;
        }
        timings.push(Evidence::timing(
            format!("changes_{n}.query_ms"),
            &samples,
            "ms",
        ));
        query_ms.push(Timing::of(&samples));
    }
    let e = C06Evidence {
        points,
        query_ms,
        update_db_block_gets: upd_gets,
        update_cr_blocks_created: upd_cr,
        update_undo_records_applied: upd_undo,
    };
    let mut evidence = vec![
        Evidence::counter("rows", rows, "rows"),
        Evidence::counter("table_blocks", table_blocks, "blocks"),
    ];
    for p in &e.points {
        let k = format!("changes_{}", p.changes);
        evidence.push(Evidence::counter(
            format!("{k}.cr_blocks_created"),
            p.cr_blocks_created,
            "blocks",
        ));
        evidence.push(Evidence::counter(
            format!("{k}.undo_records_applied"),
            p.undo_records_applied,
            "records",
        ));
        evidence.push(Evidence::counter(
            format!("{k}.consistent_gets"),
            p.consistent_gets,
            "gets",
        ));
        evidence.push(Evidence::counter(
            format!("{k}.answer_as_of_snapshot"),
            u64::from(p.as_of_snapshot),
            "bool",
        ));
    }
    evidence.extend([
        Evidence::counter("new_query.cr_blocks_created", fresh_cr, "blocks"),
        Evidence::counter("new_query.undo_records_applied", fresh_undo, "records"),
        Evidence::counter("update.db_block_gets", e.update_db_block_gets, "gets"),
        Evidence::counter(
            "update.cr_blocks_created",
            e.update_cr_blocks_created,
            "blocks",
        ),
        Evidence::counter(
            "update.undo_records_applied",
            e.update_undo_records_applied,
            "records",
        ),
    ]);
    evidence.extend(timings);
    let chart = Chart {
        title: "C06: consistent read cost by changes since the snapshot".into(),
        x_label: "committed changes after the query's snapshot".into(),
        y_label: "per query".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: false,
        series: vec![
            (
                "undo records applied".into(),
                e.points
                    .iter()
                    .map(|p| (p.changes as f64, p.undo_records_applied as f64))
                    .collect(),
            ),
            (
                "CR blocks created".into(),
                e.points
                    .iter()
                    .map(|p| (p.changes as f64, p.cr_blocks_created as f64))
                    .collect(),
            ),
        ],
    };
    let mut r = report(
        C06,
        c06_verdict(&e),
        evidence,
        vec![
            ("rows".into(), rows.to_string()),
            ("repetitions".into(), reps.to_string()),
            (
                "changes".into(),
                "single-row UPDATEs of random rows, each committed".into(),
            ),
        ],
        Vec::new(),
    );
    // Undo records applied and clones built explain the query time.
    r.timed_verdict = false;
    r.timing_note = Some(c06_timing_note(&e));
    r.chart = Some(chart);
    Ok(r)
}

// ---------------------------------------------------------------- C07

const C07: (&str, &str, &str) = (
    "C07",
    "A long query fails with snapshot too old when its undo was overwritten",
    "A long query fails with \"snapshot too old\" when the undo it needs has been overwritten by other transactions.",
);

/// The retention C07 calls "long": far longer than the lab runs, so every
/// committed undo block stays unexpired throughout.
pub const C07_LONG_RETENTION_MS: u64 = 3_600_000;

/// One configuration of C07: a reader re-reads the table as of its
/// snapshot after every `step` committed changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C07Run {
    pub undo_blocks: u32,
    pub retention_ms: u64,
    pub autoextend: bool,
    pub queries: u64,
    /// Queries that failed with snapshot too old (ORA-01555).
    pub failed: u64,
    /// Committed changes since the snapshot at the first failure (0: none).
    pub first_failure_after: u64,
    /// Failed queries for which more undo blocks had not been allocated
    /// since the snapshot than the undo has (no sign of overwritten undo).
    pub failed_intact: u64,
    /// Queries that succeeded although more undo blocks had been allocated
    /// since the snapshot than the undo has (so some undo written after the
    /// snapshot, which the query needs, was overwritten).
    pub overwritten_ok: u64,
    pub undo_blocks_end: u32,
    pub unexpired_stolen: u64,
    pub undo_extends: u64,
}

impl C07Run {
    fn policy(&self) -> String {
        let ret = if self.retention_ms == 0 {
            "ret0".to_string()
        } else {
            format!("ret{}s", self.retention_ms / 1000)
        };
        let size = if self.autoextend { "auto" } else { "fixed" };
        format!("{size}.{ret}")
    }
}

/// C07's cleanout case: a big update commits, leaving blocks uncleaned; a
/// SERIALIZABLE reader fixes its snapshot on another table; small commits
/// reuse every transaction-table slot; the reader then scans the big
/// update's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C07Cleanout {
    /// Transaction-table slots of the one undo segment.
    pub slots: u64,
    /// Small commits between the snapshot and the scan.
    pub small_commits: u64,
    /// The old snapshot's scan failed with snapshot too old.
    pub failed: bool,
    /// A scan with a new snapshot, right after, succeeded.
    pub new_snapshot_ok: bool,
}

/// What C07 measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C07Evidence {
    pub runs: Vec<C07Run>,
    pub cleanout: Option<C07Cleanout>,
}

/// Holds when some query fails, every failure comes after its undo was
/// overwritten (more undo blocks allocated since the snapshot than the undo
/// holds), every query whose undo was overwritten fails, and, on fixed-size
/// undo at each retention, a larger undo never fails earlier (with
/// autoextend the starting size bounds nothing).
///
/// The reason also names any autoextend run with a retention whose queries
/// failed although no unexpired undo was counted as stolen: undo retention
/// was not honoured there, which is the engine's fault, not the claim's.
pub fn c07_verdict(e: &C07Evidence) -> (Verdict, String) {
    let failed: u64 = e.runs.iter().map(|r| r.failed).sum();
    let mut broken = Vec::new();
    if failed == 0 {
        broken.push("no query failed in any configuration".to_string());
    }
    for r in &e.runs {
        if r.failed_intact > 0 {
            broken.push(format!(
                "{} blocks {}: {} queries failed although no undo written after their snapshot was overwritten",
                r.undo_blocks,
                r.policy(),
                r.failed_intact
            ));
        }
        if r.overwritten_ok > 0 {
            broken.push(format!(
                "{} blocks {}: {} queries succeeded although undo they needed was overwritten",
                r.undo_blocks,
                r.policy(),
                r.overwritten_ok
            ));
        }
    }
    match e.cleanout {
        Some(c) if !c.failed => broken.push(format!(
            "the cleanout case: after {} small commits through {} slots the old snapshot still read the uncleaned blocks",
            c.small_commits, c.slots
        )),
        Some(c) if !c.new_snapshot_ok => {
            broken.push("the cleanout case: a new snapshot failed too".to_string())
        }
        Some(_) => {}
        None => broken.push("the cleanout case was not measured".to_string()),
    }
    let mut policies: Vec<String> = e.runs.iter().map(|r| r.policy()).collect();
    policies.sort();
    policies.dedup();
    let mut summary = Vec::new();
    for p in &policies {
        let mut rs: Vec<&C07Run> = e.runs.iter().filter(|r| &r.policy() == p).collect();
        rs.sort_by_key(|r| r.undo_blocks);
        let first = |r: &C07Run| {
            if r.failed == 0 {
                u64::MAX
            } else {
                r.first_failure_after
            }
        };
        for w in rs.windows(2).filter(|w| !w[0].autoextend) {
            if first(w[1]) < first(w[0]) {
                broken.push(format!(
                    "{p}: {} undo blocks failed after {} changes, earlier than {} blocks after {}",
                    w[1].undo_blocks,
                    w[1].first_failure_after,
                    w[0].undo_blocks,
                    w[0].first_failure_after
                ));
            }
        }
        let parts: Vec<String> = rs
            .iter()
            .map(|r| {
                if r.failed == 0 {
                    format!(
                        "{} blocks: none failed (undo ended at {})",
                        r.undo_blocks, r.undo_blocks_end
                    )
                } else {
                    format!(
                        "{} blocks: {}/{} failed, first after {} changes",
                        r.undo_blocks, r.failed, r.queries, r.first_failure_after
                    )
                }
            })
            .collect();
        summary.push(format!("{p}: {}", parts.join(", ")));
    }
    if !broken.is_empty() {
        return (Verdict::DoesNotHold, broken.join("; "));
    }
    let unkept: Vec<String> = e
        .runs
        .iter()
        .filter(|r| r.autoextend && r.retention_ms > 0 && r.failed > 0 && r.unexpired_stolen == 0)
        .map(|r| {
            format!(
                "{} blocks after {} changes",
                r.undo_blocks, r.first_failure_after
            )
        })
        .collect();
    let engine = if unkept.is_empty() {
        String::new()
    } else {
        format!(
            ". Engine fault: with autoextend and a {} s retention, undo was still overwritten without any unexpired block counted as stolen ({}) — retention was not honoured",
            e.runs
                .iter()
                .find(|r| r.autoextend && r.retention_ms > 0)
                .map_or(0, |r| r.retention_ms / 1000),
            unkept.join(", ")
        )
    };
    let cleanout = e.cleanout.map_or(String::new(), |c| {
        format!(
            ". Cleanout case: a big update committed before the snapshot, left uncleaned; after {} small commits through {} transaction-table slots the old snapshot's scan failed with ORA-01555 (it needed no undo: nothing proved the commit older), a new snapshot's succeeded",
            c.small_commits, c.slots
        )
    });
    (
        Verdict::Holds,
        format!(
            "queries failed exactly when undo written after their snapshot had been reused; on fixed undo, later the larger the undo — {}{engine}{cleanout}",
            summary.join("; ")
        ),
    )
}

/// C07's cleanout case on a fresh database `db` (one undo segment, a cache
/// smaller than the table): see [`C07Cleanout`].
fn c07_cleanout(db: &Database, rows: u64) -> Result<C07Cleanout> {
    let mut w = db.session();
    load(&mut w, rows)?;
    w.execute("CREATE TABLE u (id INTEGER, v INTEGER)")?;
    w.execute("INSERT INTO u VALUES (1, 0)")?;
    w.execute("COMMIT")?;
    // The big update: commit cleanout reaches a tenth of the cache at most.
    w.execute("UPDATE t SET v = v + 1")?;
    w.execute("COMMIT")?;
    let mut reader = db.session();
    reader.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
    // The snapshot, fixed on another table: t's blocks stay uncleaned.
    reader.execute("SELECT COUNT(*) FROM u")?;
    // Every slot taken again, then as many again as a tenth of them, so
    // slots of commits after the snapshot are reused too.
    let slots = u64::from(db.transaction_slots());
    let small_commits = slots + slots / 10;
    let upd = w.prepare("UPDATE u SET v = v + 1")?;
    for _ in 0..small_commits {
        w.execute_prepared(&upd, &[])?;
        w.commit()?;
    }
    let failed = match reader.execute(SCAN) {
        Ok(_) => false,
        Err(Error::SnapshotTooOld { .. }) => true,
        Err(e) => return Err(e),
    };
    reader.execute("COMMIT")?;
    let new_snapshot_ok = reader.execute(SCAN).is_ok();
    Ok(C07Cleanout {
        slots,
        small_commits,
        failed,
        new_snapshot_ok,
    })
}

fn c07(ctx: &mut LabCtx) -> Result<Report> {
    let rows = ctx.size(200, 500);
    let sizes: Vec<u32> = if ctx.quick {
        vec![8, 16]
    } else {
        vec![32, 64, 128]
    };
    let step = ctx.size(4, 16);
    let max_changes = ctx.size(32, 256);
    let policies = [
        (false, 0),
        (false, C07_LONG_RETENTION_MS),
        (true, 0),
        (true, C07_LONG_RETENTION_MS),
    ];
    let mut runs = Vec::new();
    for &undo_blocks in &sizes {
        for &(autoextend, retention_ms) in &policies {
            ctx.step(&format!(
                "undo {undo_blocks} blocks, autoextend {autoextend}, retention {retention_ms} ms"
            ));
            let cfg = Config {
                // One undo segment: one ring, whose reuse can be counted.
                undo_segments: 1,
                undo_blocks,
                undo_autoextend: autoextend,
                undo_max_blocks: undo_blocks.max(1 << 16),
                undo_retention: Duration::from_millis(retention_ms),
                // Little redo is written; small log files make creating each
                // of the lab's databases quick.
                log_file_size: 1 << 20,
                ..ctx.config()
            };
            let (db, _) = ctx.database(&format!("c07-{undo_blocks}"), cfg)?;
            runs.push(c07_run(&db, ctx.seed, rows, step, max_changes)?);
        }
    }
    ctx.step("cleanout case");
    let cfg = Config {
        undo_segments: 1,
        undo_retention: Duration::ZERO,
        // A cache smaller than the table (rows of about 130 bytes).
        cache_frames: 64,
        log_file_size: 4 << 20,
        ..ctx.config()
    };
    let (db, _) = ctx.database("c07-cleanout", cfg)?;
    let cleanout = Some(c07_cleanout(&db, ctx.size(5_000, 20_000))?);
    let e = C07Evidence { runs, cleanout };
    let queries = e.runs.first().map_or(0, |r| r.queries);
    let mut evidence = vec![
        Evidence::counter("queries_per_configuration", queries, "queries"),
        Evidence::counter("changes_between_queries", step, "changes"),
    ];
    for r in &e.runs {
        let k = format!("undo_{}.{}", r.undo_blocks, r.policy());
        evidence.extend([
            Evidence::counter(format!("{k}.failed_queries"), r.failed, "queries"),
            Evidence::counter(
                format!("{k}.first_failure_after"),
                r.first_failure_after,
                "changes (0: none)",
            ),
            Evidence::counter(
                format!("{k}.unexpired_stolen"),
                r.unexpired_stolen,
                "blocks",
            ),
            Evidence::counter(format!("{k}.undo_extends"), r.undo_extends, "extents"),
            Evidence::counter(
                format!("{k}.undo_blocks_end"),
                r.undo_blocks_end as u64,
                "blocks",
            ),
        ]);
    }
    if let Some(c) = e.cleanout {
        evidence.extend([
            Evidence::counter("cleanout.transaction_slots", c.slots, "slots"),
            Evidence::counter("cleanout.small_commits", c.small_commits, "commits"),
            Evidence::counter("cleanout.failed_queries", u64::from(c.failed), "queries"),
            Evidence::counter(
                "cleanout.new_snapshot_ok",
                u64::from(c.new_snapshot_ok),
                "bool",
            ),
        ]);
    }
    let mut policies: Vec<String> = e.runs.iter().map(|r| r.policy()).collect();
    policies.sort();
    policies.dedup();
    let chart = Chart {
        title: format!("C07: queries failing with ORA-01555 (of {queries}) by undo size"),
        x_label: "undo size at start (blocks)".into(),
        y_label: "failed queries".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: false,
        series: policies
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    e.runs
                        .iter()
                        .filter(|r| &r.policy() == p)
                        .map(|r| (r.undo_blocks as f64, r.failed as f64))
                        .collect(),
                )
            })
            .collect(),
    };
    let mut r = report(
        C07,
        c07_verdict(&e),
        evidence,
        vec![
            ("rows".into(), rows.to_string()),
            ("max_changes".into(), max_changes.to_string()),
            ("undo_segments".into(), "1".into()),
            (
                "retentions_ms".into(),
                format!("0, {C07_LONG_RETENTION_MS}"),
            ),
        ],
        vec![
            "Each configuration: a SERIALIZABLE reader reads the whole table, then a writer commits single-row \
             UPDATEs (one undo block each); after every step of changes the reader reads again as of its snapshot."
                .to_string(),
        ],
    );
    r.chart = Some(chart);
    Ok(r)
}

/// One C07 configuration on a fresh database `db`.
fn c07_run(db: &Database, seed: u64, rows: u64, step: u64, max_changes: u64) -> Result<C07Run> {
    let mut writer = db.session();
    load(&mut writer, rows)?;
    let mut reader = db.session();
    reader.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
    let at_snapshot = reader.execute(SCAN)?.rows;
    let sys0 = db.system_stats();
    let mut rng = Rng::xorshift64(seed);
    let cfg = db.config().clone();
    let mut run = C07Run {
        undo_blocks: cfg.undo_blocks,
        retention_ms: cfg.undo_retention.as_millis() as u64,
        autoextend: cfg.undo_autoextend,
        queries: 0,
        failed: 0,
        first_failure_after: 0,
        failed_intact: 0,
        overwritten_ok: 0,
        undo_blocks_end: 0,
        unexpired_stolen: 0,
        undo_extends: 0,
    };
    let mut changes = 0;
    while changes < max_changes {
        committed_changes(&mut writer, &mut rng, rows, step)?;
        changes += step;
        let allocated = db
            .system_stats()
            .get(Stat::UndoBlocksAllocated)
            .saturating_sub(sys0.get(Stat::UndoBlocksAllocated));
        // More allocations since the snapshot than blocks in the undo: some
        // block was given out twice, so undo written after the snapshot —
        // which this query needs, as every change hit a block it reads —
        // was overwritten (pigeonhole).
        let overwritten = allocated > db.undo_blocks()? as u64;
        run.queries += 1;
        match reader.execute(SCAN) {
            Ok(r) => {
                if r.rows != at_snapshot {
                    return Err(Error::Internal(
                        "C07: a query as of its snapshot returned another answer".into(),
                    ));
                }
                if overwritten {
                    run.overwritten_ok += 1;
                }
            }
            Err(Error::SnapshotTooOld { .. }) => {
                run.failed += 1;
                if run.first_failure_after == 0 {
                    run.first_failure_after = changes;
                }
                if !overwritten {
                    run.failed_intact += 1;
                }
            }
            Err(e) => return Err(e),
        }
    }
    reader.execute("COMMIT")?;
    let sys = db.system_stats();
    run.unexpired_stolen = sys.get(Stat::UndoUnexpiredStolen) - sys0.get(Stat::UndoUnexpiredStolen);
    run.undo_extends = sys.get(Stat::UndoExtends) - sys0.get(Stat::UndoExtends);
    run.undo_blocks_end = db.undo_blocks()?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(changes: u64, cr: u64, undo: u64) -> C06Point {
        C06Point {
            changes,
            cr_blocks_created: cr,
            undo_records_applied: undo,
            consistent_gets: 10 + undo,
            as_of_snapshot: true,
        }
    }

    fn c06_good() -> C06Evidence {
        C06Evidence {
            points: vec![point(0, 0, 0), point(10, 8, 10), point(100, 17, 100)],
            query_ms: vec![
                Timing::of(&[1.0, 1.1, 1.2]),
                Timing::of(&[1.3, 1.4, 1.5]),
                Timing::of(&[2.0, 2.2, 2.4]),
            ],
            update_db_block_gets: 40,
            update_cr_blocks_created: 0,
            update_undo_records_applied: 0,
        }
    }

    #[test]
    fn c06_rule_on_synthetic_evidence() {
        assert_eq!(c06_verdict(&c06_good()).0, Verdict::Holds);
        // Undo applied does not grow with the changes.
        let mut flat = c06_good();
        flat.points[2].undo_records_applied = 10;
        assert_eq!(c06_verdict(&flat).0, Verdict::DoesNotHold);
        // The DML rolled blocks back like a query.
        let cr_dml = C06Evidence {
            update_cr_blocks_created: 3,
            ..c06_good()
        };
        assert_eq!(c06_verdict(&cr_dml).0, Verdict::DoesNotHold);
        // A clone at the snapshot itself.
        let mut early = c06_good();
        early.points[0].cr_blocks_created = 1;
        assert_eq!(c06_verdict(&early).0, Verdict::DoesNotHold);
        // The wrong answer.
        let mut wrong = c06_good();
        wrong.points[1].as_of_snapshot = false;
        assert_eq!(c06_verdict(&wrong).0, Verdict::DoesNotHold);
        // Changes that built no clone.
        let mut unseen = c06_good();
        unseen.points[2].cr_blocks_created = 0;
        assert_eq!(c06_verdict(&unseen).0, Verdict::DoesNotHold);
        // An UPDATE that read no block in current mode.
        let no_current = C06Evidence {
            update_db_block_gets: 0,
            ..c06_good()
        };
        assert_eq!(c06_verdict(&no_current).0, Verdict::DoesNotHold);
        // Only one amount of change.
        let mut one = c06_good();
        one.points.truncate(1);
        assert_eq!(c06_verdict(&one).0, Verdict::DoesNotHold);
        // Times never change the verdict; the note says what they show.
        let mut noisy = c06_good();
        noisy.query_ms[1] = Timing::of(&[0.9, 1.4, 1.3]);
        assert_eq!(c06_verdict(&noisy).0, Verdict::Holds);
        assert!(c06_timing_note(&noisy).contains("within the noise for 0 -> 10"));
        let mut reversed = c06_good();
        reversed.query_ms[2] = Timing::of(&[0.5, 0.6, 0.7]);
        assert_eq!(c06_verdict(&reversed).0, Verdict::Holds);
        assert!(c06_timing_note(&reversed).contains("against the counters"));
        assert!(c06_timing_note(&c06_good()).contains("clearly slower"));
    }

    fn run(undo_blocks: u32, autoextend: bool, retention_ms: u64, first: u64) -> C07Run {
        C07Run {
            undo_blocks,
            retention_ms,
            autoextend,
            queries: 10,
            failed: if first == 0 { 0 } else { 10 - first / 10 + 1 },
            first_failure_after: first,
            failed_intact: 0,
            overwritten_ok: 0,
            undo_blocks_end: undo_blocks,
            unexpired_stolen: 0,
            undo_extends: 0,
        }
    }

    fn cleanout(failed: bool) -> Option<C07Cleanout> {
        Some(C07Cleanout {
            slots: 127,
            small_commits: 139,
            failed,
            new_snapshot_ok: true,
        })
    }

    fn c07_good() -> C07Evidence {
        C07Evidence {
            cleanout: cleanout(true),
            runs: vec![
                run(16, false, 0, 20),
                run(32, false, 0, 40),
                run(16, true, 3_600_000, 0),
                run(32, true, 3_600_000, 0),
            ],
        }
    }

    #[test]
    fn c07_rule_on_synthetic_evidence() {
        assert_eq!(c07_verdict(&c07_good()).0, Verdict::Holds);
        // Nothing ever fails.
        let none = C07Evidence {
            runs: vec![run(16, false, 0, 0), run(32, false, 0, 0)],
            cleanout: cleanout(true),
        };
        assert_eq!(c07_verdict(&none).0, Verdict::DoesNotHold);
        // The cleanout case read its uncleaned blocks without failing.
        let none = C07Evidence {
            cleanout: cleanout(false),
            ..c07_good()
        };
        assert_eq!(c07_verdict(&none).0, Verdict::DoesNotHold);
        // A failure with the undo intact.
        let mut intact = c07_good();
        intact.runs[0].failed_intact = 1;
        assert_eq!(c07_verdict(&intact).0, Verdict::DoesNotHold);
        // Overwritten undo, yet the query read fine.
        let mut ok = c07_good();
        ok.runs[1].overwritten_ok = 2;
        assert_eq!(c07_verdict(&ok).0, Verdict::DoesNotHold);
        // A larger fixed undo failing earlier.
        let mut earlier = c07_good();
        earlier.runs[1].first_failure_after = 10;
        assert_eq!(c07_verdict(&earlier).0, Verdict::DoesNotHold);
        // Autoextend with retention failing anyway: still the claim's
        // mechanism (the undo was overwritten), but the reason blames the
        // engine for not keeping unexpired undo.
        let mut unkept = c07_good();
        unkept.runs[3].failed = 2;
        unkept.runs[3].first_failure_after = 90;
        let (v, why) = c07_verdict(&unkept);
        assert_eq!(v, Verdict::Holds);
        assert!(why.contains("retention was not honoured"), "{why}");
    }
}
