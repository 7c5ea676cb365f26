//! Clustering (C30) and batched table access by rowid (C32): the same rows
//! and the same index on `k`, loaded in key order or displaced to a target
//! cluster ratio, then read by the same index range scan.
//!
//! ## Reaching a target cluster ratio
//!
//! Rows are all the same width, so the p-th row loaded into a fresh table
//! lands in block `p / per_block` (`per_block` is measured once, on a probe
//! table). The clustering factor of a load order is then known before
//! loading (the book's chapter 7: walk the keys in order, count block changes):
//!
//! ```text
//!  position p:  0 1 2 | 3 4 5 | 6 7 8      per_block = 3
//!  key at p:    0 1 7 | 3 4 5 | 6 2 8      keys 2 and 7 swapped
//!  block of k:  0 0 2 1 1 1 2 0 2          (k = 0..8)
//!  changes:     ^   ^ ^     ^ ^ ^          CF = 6 (the first counts), B = 3
//!  cluster ratio = (N − CF) / (N − B) = (9 − 6) / (9 − 3) = 0.5
//! ```
//!
//! Starting from key order (CF = B, ratio 1), the lab swaps the keys of two
//! random positions until the ratio falls to the target. A swap changes at
//! most four neighbouring pairs, so CF is kept up to date in O(1) per swap.
//! A target of 0 is a full shuffle (Fisher–Yates): ratio ≈ 0. `ANALYZE`
//! then measures the real clustering factor, which the lab reports next to
//! the model's.

use std::path::PathBuf;

use super::pad;
use crate::rng::Rng;
use crate::{report, Chart, Evidence, Lab, LabCtx, Report, Scale, Verdict};
use blocklab::config::Config;
use blocklab::db::Database;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::{Row, Value};

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C30.0,
            title: C30.1,
            claim: C30.2,
            run: c30,
        },
        Lab {
            id: C32.0,
            title: C32.1,
            claim: C32.2,
            run: c32,
        },
    ]
}

/// Width of the pad column: about 60 rows to an 8 KiB block.
const PAD: usize = 100;

/// The labs' configuration with 4 MiB log files instead of 16 MiB: each
/// table gets a database of its own, and creating one writes its log files
/// in full. The load then switches logs (and checkpoints) a few times,
/// which changes no counter these labs report.
fn config(ctx: &LabCtx) -> Config {
    Config {
        log_file_size: 4 << 20,
        ..ctx.config()
    }
}

/// Rows per block for `t(k, v, pad)`, measured on a probe table: rows are
/// inserted until one lands in a new block.
fn rows_per_block(ctx: &mut LabCtx) -> Result<usize> {
    let (_db, mut s) = ctx.open("probe", config(ctx))?;
    create(&mut s)?;
    let first = s.insert("t", row(0))?.block;
    let mut n = 1;
    while s.insert("t", row(n as i64))?.block == first {
        n += 1;
    }
    s.rollback()?;
    Ok(n)
}

fn create(s: &mut Session) -> Result<()> {
    s.execute("CREATE TABLE t (k INTEGER, v INTEGER, pad TEXT)")?;
    Ok(())
}

fn row(k: i64) -> Row {
    vec![Value::Int(k), Value::Int(k % 100), Value::Text(pad(PAD))]
}

/// A load order of keys `0..n` whose index on k has a cluster ratio just
/// at or below `target`, and the clustering factor that order implies.
fn load_order(n: usize, per_block: usize, target: f64, rng: &mut Rng) -> (Vec<i64>, u64) {
    let blocks = n.div_ceil(per_block);
    let mut key_at: Vec<usize> = (0..n).collect();
    if target <= 0.0 {
        for i in (1..n).rev() {
            key_at.swap(i, rng.below(i as u64 + 1) as usize);
        }
    }
    let mut pos_of = vec![0; n];
    for (p, &k) in key_at.iter().enumerate() {
        pos_of[k] = p;
    }
    // Pair i (i ≥ 1) is keys (i − 1, i): it counts when their blocks differ.
    let differs = |pos_of: &[usize], i: usize| pos_of[i - 1] / per_block != pos_of[i] / per_block;
    let mut cf = 1 + (1..n).filter(|&i| differs(&pos_of, i)).count();
    if target > 0.0 && n > 1 {
        let want = n as f64 - target * (n - blocks) as f64;
        let mut swaps = 0;
        while (cf as f64) < want && swaps < 4 * n {
            swaps += 1;
            let (a, b) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            let (x, y) = (key_at[a], key_at[b]);
            let mut pairs: Vec<usize> = [x, x + 1, y, y + 1]
                .into_iter()
                .filter(|&i| i >= 1 && i < n)
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            let before = pairs.iter().filter(|&&i| differs(&pos_of, i)).count();
            key_at.swap(a, b);
            pos_of[x] = b;
            pos_of[y] = a;
            let after = pairs.iter().filter(|&&i| differs(&pos_of, i)).count();
            cf = cf + after - before;
        }
    }
    (key_at.into_iter().map(|k| k as i64).collect(), cf as u64)
}

/// Loads `t` in `order` (committing every 1000 rows), indexes k, cleans
/// the blocks out with a full scan, and returns (CF, cluster ratio, table
/// blocks) from `ANALYZE`.
fn load(s: &mut Session, order: &[i64]) -> Result<(u64, f64, u64)> {
    create(s)?;
    for chunk in order.chunks(1000) {
        s.insert_rows("t", chunk.iter().map(|&k| row(k)).collect())?;
        s.commit()?;
    }
    s.execute("CREATE INDEX t_k ON t (k)")?;
    s.execute("SELECT /*+ FULL(t) */ COUNT(*) FROM t")?;
    let st = s.analyze("t")?;
    let ix = st
        .index("t_k")
        .ok_or_else(|| Error::Internal("ANALYZE returned no statistics for t_k".into()))?;
    Ok((ix.clustering_factor, ix.cluster_ratio, st.blocks))
}

fn range_query(lo: u64, hi: u64, batched: bool) -> String {
    let hint = if batched {
        "INDEX(t t_k) BATCH_TABLE_ACCESS_BY_ROWID(t)"
    } else {
        "INDEX(t t_k)"
    };
    format!("SELECT /*+ {hint} */ SUM(v) FROM t WHERE k BETWEEN {lo} AND {hi}")
}

fn permille(r: f64) -> u64 {
    (r * 1000.0).round() as u64
}

fn targets(ctx: &LabCtx, quick: &[f64], full: &[f64]) -> Vec<f64> {
    if ctx.quick {
        quick.to_vec()
    } else {
        full.to_vec()
    }
}

// ---------------------------------------------------------------- C30

const C30: (&str, &str, &str) = (
    "C30",
    "A range scan reads far fewer table blocks on a well-clustered table",
    "With the same rows and the same index, a range scan reads far fewer table blocks when the table is ordered by the searched column (cluster ratio 100%) than when it is not (e.g. 67%).",
);

/// One table of C30: the same rows, loaded to one cluster ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct C30Point {
    pub cluster_ratio: f64,
    pub clustering_factor: u64,
    pub table_blocks_visited: u64,
    pub consistent_gets: u64,
}

/// What C30 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C30Evidence {
    pub rows_in_range: u64,
    pub points: Vec<C30Point>,
}

/// "Far fewer": the ordered table must need at most half the table blocks
/// of the table at about 67%.
const FAR_FEWER: f64 = 2.0;

/// Holds when the query on the ordered table (ratio ≥ 0.99) visits at most
/// 1/FAR_FEWER of the table blocks it visits on the table whose ratio is
/// the highest at or below 0.70 (the claim's "e.g. 67%").
pub fn c30_verdict(e: &C30Evidence) -> (Verdict, String) {
    let ordered = e
        .points
        .iter()
        .filter(|p| p.cluster_ratio >= 0.99)
        .max_by(|a, b| a.cluster_ratio.total_cmp(&b.cluster_ratio));
    let loose = e
        .points
        .iter()
        .filter(|p| p.cluster_ratio <= 0.70)
        .max_by(|a, b| a.cluster_ratio.total_cmp(&b.cluster_ratio));
    let (Some(o), Some(l)) = (ordered, loose) else {
        return (
            Verdict::DoesNotHold,
            "the lab measured no table at ratio ≥ 99% and at ≤ 70% to compare".to_string(),
        );
    };
    let mut pts = e.points.clone();
    pts.sort_by(|a, b| b.cluster_ratio.total_cmp(&a.cluster_ratio));
    let curve: Vec<String> = pts
        .iter()
        .map(|p| {
            format!(
                "{:.0}% → {}",
                p.cluster_ratio * 100.0,
                p.table_blocks_visited
            )
        })
        .collect();
    let factor = l.table_blocks_visited as f64 / o.table_blocks_visited.max(1) as f64;
    let text = format!(
        "table blocks visited for the same {} rows by cluster ratio: {} ({:.1}× more at {:.0}% than at {:.0}%)",
        e.rows_in_range,
        curve.join(", "),
        factor,
        l.cluster_ratio * 100.0,
        o.cluster_ratio * 100.0
    );
    if o.table_blocks_visited as f64 * FAR_FEWER <= l.table_blocks_visited as f64 {
        (Verdict::Holds, text)
    } else {
        (Verdict::DoesNotHold, text)
    }
}

fn c30(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(5_000, 50_000) as usize;
    let lo = n as u64 / 3;
    let hi = lo + n as u64 / 50 - 1;
    let reps = ctx.size(3, 7) as usize;
    let goals = targets(ctx, &[1.0, 0.67, 0.0], &[1.0, 0.9, 0.67, 0.3, 0.0]);
    ctx.step("measuring rows per block");
    let per_block = rows_per_block(ctx)?;
    let mut points = Vec::new();
    let mut evidence = vec![
        Evidence::counter("rows", n as u64, "rows"),
        Evidence::counter("rows_per_block", per_block as u64, "rows"),
        Evidence::counter("rows_in_range", hi - lo + 1, "rows"),
    ];
    let mut timings = Vec::new();
    for &goal in &goals {
        let g = permille(goal);
        ctx.step(&format!("loading to cluster ratio {:.0}%", goal * 100.0));
        let mut rng = Rng::xorshift64(ctx.seed ^ g);
        let (order, model_cf) = load_order(n, per_block, goal, &mut rng);
        let (_db, mut s) = ctx.open(&format!("c30-{g}"), config(ctx))?;
        let (cf, ratio, blocks) = load(&mut s, &order)?;
        let q = range_query(lo, hi, false);
        let r = s.execute(&q)?;
        let p = C30Point {
            cluster_ratio: ratio,
            clustering_factor: cf,
            table_blocks_visited: r.stats.get(Stat::TableBlockGetsByRowid),
            consistent_gets: r.stats.get(Stat::ConsistentGets),
        };
        let samples = crate::time_ms(reps, || s.execute(&q).map(|_| ()))?;
        let k = format!("target_{g}");
        evidence.extend([
            Evidence::counter(format!("{k}.table_blocks"), blocks, "blocks"),
            Evidence::counter(format!("{k}.model_clustering_factor"), model_cf, "blocks"),
            Evidence::counter(format!("{k}.clustering_factor"), cf, "blocks"),
            Evidence::counter(format!("{k}.cluster_ratio_permille"), permille(ratio), "‰"),
            Evidence::counter(
                format!("{k}.table_blocks_visited"),
                p.table_blocks_visited,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.buffer_is_pinned"),
                r.stats.get(Stat::BufferIsPinned),
                "rows",
            ),
            Evidence::counter(format!("{k}.consistent_gets"), p.consistent_gets, "gets"),
        ]);
        timings.push(Evidence::timing(format!("{k}.query_ms"), &samples, "ms"));
        points.push(p);
    }
    evidence.extend(timings);
    let e = C30Evidence {
        rows_in_range: hi - lo + 1,
        points,
    };
    let chart = Chart {
        title: format!(
            "C30: table blocks visited for {} rows by cluster ratio",
            e.rows_in_range
        ),
        x_label: "cluster ratio of the index (%)".into(),
        y_label: "table blocks visited by rowid".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: false,
        series: vec![(
            "index range scan".into(),
            e.points
                .iter()
                .map(|p| (p.cluster_ratio * 100.0, p.table_blocks_visited as f64))
                .collect(),
        )],
    };
    let mut r = report(
        C30,
        c30_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("range".into(), format!("k BETWEEN {lo} AND {hi}")),
            (
                "targets".into(),
                goals
                    .iter()
                    .map(|g| format!("{:.0}%", g * 100.0))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ],
        vec![range_query(lo, hi, false)],
    );
    // The claim is about blocks read; the query times are shown beside.
    r.timed_verdict = false;
    r.chart = Some(chart);
    Ok(r)
}

// ---------------------------------------------------------------- C32

const C32: (&str, &str, &str) = (
    "C32",
    "Sorting rowids before visiting the table saves reads on a poorly clustered index",
    "Sorting the rowids gathered from an index before visiting the table (list prefetch / batched table access) saves table reads on a poorly clustered index.",
);

/// One table of C32, read by the same range with and without sorting the
/// rowids, each time from a cold, small cache.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct C32Point {
    pub cluster_ratio: f64,
    pub plain_visits: u64,
    pub batched_visits: u64,
    pub plain_physical: u64,
    pub batched_physical: u64,
}

/// What C32 measures.
#[derive(Clone, Debug, PartialEq)]
pub struct C32Evidence {
    pub points: Vec<C32Point>,
}

/// Looks at the least clustered table measured (which must be at or below
/// 50%): holds when sorting the rowids there visits fewer table blocks and
/// makes fewer physical reads; depends when it saves only one of the two;
/// does not hold when it saves neither.
pub fn c32_verdict(e: &C32Evidence) -> (Verdict, String) {
    let Some(p) = e
        .points
        .iter()
        .min_by(|a, b| a.cluster_ratio.total_cmp(&b.cluster_ratio))
    else {
        return (Verdict::DoesNotHold, "nothing was measured".to_string());
    };
    if p.cluster_ratio > 0.5 {
        return (
            Verdict::DoesNotHold,
            format!(
                "no poorly clustered index was measured (lowest ratio {:.0}%)",
                p.cluster_ratio * 100.0
            ),
        );
    }
    let visits = p.batched_visits < p.plain_visits;
    let physical = p.batched_physical < p.plain_physical;
    let mut pts = e.points.clone();
    pts.sort_by(|a, b| b.cluster_ratio.total_cmp(&a.cluster_ratio));
    let curve: Vec<String> = pts
        .iter()
        .map(|q| {
            format!(
                "{:.0}%: visits {} → {}, physical reads {} → {}",
                q.cluster_ratio * 100.0,
                q.plain_visits,
                q.batched_visits,
                q.plain_physical,
                q.batched_physical
            )
        })
        .collect();
    let text = format!("plain → batched by cluster ratio: {}", curve.join("; "));
    match (visits, physical) {
        (true, true) => (Verdict::Holds, text),
        (true, false) => (
            Verdict::Depends,
            format!(
                "batching saved table block visits but not physical reads at {:.0}% — {text}",
                p.cluster_ratio * 100.0
            ),
        ),
        (false, true) => (
            Verdict::Depends,
            format!(
                "batching saved physical reads but not table block visits at {:.0}% — {text}",
                p.cluster_ratio * 100.0
            ),
        ),
        (false, false) => (Verdict::DoesNotHold, text),
    }
}

/// Opens the database in `dir` with a cold cache of `cfg.cache_frames`,
/// runs `sql` once, and returns its statistics.
fn cold_run(dir: &PathBuf, cfg: &Config, sql: &str) -> Result<blocklab::stats::StatsSnapshot> {
    let db = Database::open(dir, cfg.clone())?;
    let r = db.session().execute(sql)?;
    db.close()?;
    Ok(r.stats)
}

fn c32(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(4_000, 20_000) as usize;
    let lo = n as u64 / 4;
    let hi = lo + n as u64 / 10 - 1;
    let goals = targets(ctx, &[1.0, 0.3, 0.0], &[1.0, 0.67, 0.3, 0.0]);
    let small = Config {
        cache_frames: ctx.size(16, 64) as usize,
        ..config(ctx)
    };
    ctx.step("measuring rows per block");
    let per_block = rows_per_block(ctx)?;
    let mut points = Vec::new();
    let mut evidence = vec![
        Evidence::counter("rows", n as u64, "rows"),
        Evidence::counter("rows_in_range", hi - lo + 1, "rows"),
        Evidence::counter("cache_frames", small.cache_frames as u64, "blocks"),
    ];
    let mut blocks_max = 0;
    for &goal in &goals {
        let g = permille(goal);
        ctx.step(&format!("loading to cluster ratio {:.0}%", goal * 100.0));
        let mut rng = Rng::xorshift64(ctx.seed ^ g);
        let (order, _) = load_order(n, per_block, goal, &mut rng);
        let (db, dir) = ctx.database(&format!("c32-{g}"), config(ctx))?;
        let (cf, ratio, blocks) = load(&mut db.session(), &order)?;
        db.close()?;
        blocks_max = blocks_max.max(blocks);
        ctx.step(&format!("cold reads at cluster ratio {:.0}%", goal * 100.0));
        let plain = cold_run(&dir, &small, &range_query(lo, hi, false))?;
        let batched = cold_run(&dir, &small, &range_query(lo, hi, true))?;
        let p = C32Point {
            cluster_ratio: ratio,
            plain_visits: plain.get(Stat::TableBlockGetsByRowid),
            batched_visits: batched.get(Stat::TableBlockGetsByRowid),
            plain_physical: plain.get(Stat::PhysicalReads),
            batched_physical: batched.get(Stat::PhysicalReads),
        };
        let k = format!("target_{g}");
        evidence.extend([
            Evidence::counter(format!("{k}.table_blocks"), blocks, "blocks"),
            Evidence::counter(format!("{k}.clustering_factor"), cf, "blocks"),
            Evidence::counter(format!("{k}.cluster_ratio_permille"), permille(ratio), "‰"),
            Evidence::counter(
                format!("{k}.plain.table_blocks_visited"),
                p.plain_visits,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.batched.table_blocks_visited"),
                p.batched_visits,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.plain.physical_reads"),
                p.plain_physical,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.batched.physical_reads"),
                p.batched_physical,
                "blocks",
            ),
            Evidence::counter(
                format!("{k}.plain.consistent_gets"),
                plain.get(Stat::ConsistentGets),
                "gets",
            ),
            Evidence::counter(
                format!("{k}.batched.consistent_gets"),
                batched.get(Stat::ConsistentGets),
                "gets",
            ),
        ]);
        points.push(p);
    }
    let e = C32Evidence { points };
    let series = |name: &str, f: fn(&C32Point) -> u64| {
        (
            name.to_string(),
            e.points
                .iter()
                .map(|p| (p.cluster_ratio * 100.0, f(p) as f64))
                .collect(),
        )
    };
    let chart = Chart {
        title: format!(
            "C32: table reads for {} rows, cold {}-block cache",
            hi - lo + 1,
            small.cache_frames
        ),
        x_label: "cluster ratio of the index (%)".into(),
        y_label: "blocks".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        timings: false,
        series: vec![
            series("visits, index order", |p| p.plain_visits),
            series("visits, rowids sorted", |p| p.batched_visits),
            series("physical reads, index order", |p| p.plain_physical),
            series("physical reads, rowids sorted", |p| p.batched_physical),
        ],
    };
    let mut r = report(
        C32,
        c32_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("range".into(), format!("k BETWEEN {lo} AND {hi}")),
            ("cache_frames".into(), small.cache_frames.to_string()),
            ("table_blocks".into(), blocks_max.to_string()),
        ],
        vec![
            "Each query runs once on the database just reopened with a small cache, so every block it needs \
             starts on disk; physical reads include the index blocks, the same for both plans."
                .to_string(),
            range_query(lo, hi, true),
        ],
    );
    r.chart = Some(chart);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_order_model_counts_block_changes() {
        let mut rng = Rng::xorshift64(1);
        // Key order: CF is the number of blocks.
        let (order, cf) = load_order(90, 10, 1.0, &mut rng);
        assert_eq!(order, (0..90).collect::<Vec<i64>>());
        assert_eq!(cf, 9);
        // Displaced to about half: (N − CF) / (N − B) at or just below 0.5.
        let (order, cf) = load_order(90, 10, 0.5, &mut rng);
        let ratio = (90.0 - cf as f64) / (90.0 - 9.0);
        assert!(ratio <= 0.5 && ratio > 0.4, "{ratio}");
        // The incremental count agrees with a count from scratch.
        let mut block_of = vec![0; 90];
        for (p, &k) in order.iter().enumerate() {
            block_of[k as usize] = p / 10;
        }
        let scratch = 1 + block_of.windows(2).filter(|w| w[0] != w[1]).count() as u64;
        assert_eq!(cf, scratch);
        // The same keys, each once.
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..90).collect::<Vec<i64>>());
    }

    fn p30(ratio: f64, visited: u64) -> C30Point {
        C30Point {
            cluster_ratio: ratio,
            clustering_factor: 0,
            table_blocks_visited: visited,
            consistent_gets: visited + 3,
        }
    }

    #[test]
    fn c30_rule_on_synthetic_evidence() {
        let good = C30Evidence {
            rows_in_range: 1000,
            points: vec![p30(1.0, 17), p30(0.67, 340), p30(0.0, 990)],
        };
        assert_eq!(c30_verdict(&good).0, Verdict::Holds);
        let close = C30Evidence {
            rows_in_range: 1000,
            points: vec![p30(1.0, 17), p30(0.67, 30)],
        };
        assert_eq!(c30_verdict(&close).0, Verdict::DoesNotHold);
        let missing = C30Evidence {
            rows_in_range: 1000,
            points: vec![p30(1.0, 17), p30(0.9, 100)],
        };
        assert_eq!(c30_verdict(&missing).0, Verdict::DoesNotHold);
    }

    fn p32(ratio: f64, pv: u64, bv: u64, pp: u64, bp: u64) -> C32Point {
        C32Point {
            cluster_ratio: ratio,
            plain_visits: pv,
            batched_visits: bv,
            plain_physical: pp,
            batched_physical: bp,
        }
    }

    #[test]
    fn c32_rule_on_synthetic_evidence() {
        let good = C32Evidence {
            points: vec![p32(1.0, 34, 34, 40, 40), p32(0.0, 1990, 330, 1700, 336)],
        };
        assert_eq!(c32_verdict(&good).0, Verdict::Holds);
        let cache_big = C32Evidence {
            points: vec![p32(0.0, 1990, 330, 336, 336)],
        };
        assert_eq!(c32_verdict(&cache_big).0, Verdict::Depends);
        let nothing = C32Evidence {
            points: vec![p32(0.0, 330, 330, 336, 336)],
        };
        assert_eq!(c32_verdict(&nothing).0, Verdict::DoesNotHold);
        let clustered_only = C32Evidence {
            points: vec![p32(0.9, 60, 40, 60, 40)],
        };
        assert_eq!(c32_verdict(&clustered_only).0, Verdict::DoesNotHold);
    }
}
