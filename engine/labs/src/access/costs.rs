//! What an index access costs in block gets: pinning the table block
//! between consecutive rowids (C16), the cost formula against the
//! counters (C17), and IN-list descents against one BETWEEN walk (C19).

use super::super::{report, Chart, Evidence, Lab, LabCtx, Report, Scale, Verdict};
use super::{explain, in_list, index_stats, lab_config, load, load_series, permille, run};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C16.0,
            title: C16.1,
            claim: C16.2,
            run: c16,
        },
        Lab {
            id: C17.0,
            title: C17.1,
            claim: C17.2,
            run: c17,
        },
        Lab {
            id: C19.0,
            title: C19.1,
            claim: C19.2,
            run: c19,
        },
    ]
}

/// `t(id, seq, rnd, pad)` with `n` rows loaded in id order: `seq = id`
/// (the index on it is clustered: neighbouring keys share table blocks) and
/// `rnd` a seeded random permutation of `0..n` (the index on it is
/// scattered). Both indexes exist before the load; the table is analyzed.
fn load_seq_rnd(s: &mut Session, seed: u64, n: u64) -> Result<()> {
    s.execute("CREATE TABLE t (id INTEGER, seq INTEGER, rnd INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX t_seq ON t (seq)")?;
    s.execute("CREATE INDEX t_rnd ON t (rnd)")?;
    let mut perm: Vec<u64> = (0..n).collect();
    Rng::splitmix64(seed).shuffle(&mut perm);
    let rows: Vec<Vec<Value>> = perm
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            vec![
                Value::Int(i as i64),
                Value::Int(i as i64),
                Value::Int(r as i64),
                Value::Text(format!("{i:060}")),
            ]
        })
        .collect();
    load(s, "INSERT INTO t VALUES (?, ?, ?, ?)", &rows)?;
    s.execute("ANALYZE TABLE t")?;
    Ok(())
}

// ---------------------------------------------------------------- C16 --

const C16: (&str, &str, &str) = (
    "C16",
    "Consecutive rowids in one table block cost one get (the block stays pinned)",
    "When consecutive rowids from an index point into the same table block, the block stays pinned and no extra logical read is made (\"an index read of 7,463 blocks found 10 rows in 8 table blocks\").",
);

/// Table access through one index range scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct C16Side {
    pub fetched: u64,
    /// `table blocks visited by rowid`: table gets.
    pub table_gets: u64,
    /// `buffer is pinned count`: fetches served by the still-pinned block.
    pub pinned: u64,
    pub consistent_gets: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C16Evidence {
    pub table_blocks: u64,
    /// The same number of rows through the clustered and the scattered index.
    pub range_clustered: C16Side,
    pub range_scattered: C16Side,
    /// Every row through each index (a full index walk).
    pub walk_clustered: C16Side,
    pub walk_scattered: C16Side,
    /// Clustering factors from ANALYZE (block changes in key order,
    /// counted by the statistics code, not the executor).
    pub cf_clustered: u64,
    pub cf_scattered: u64,
}

/// Holds when every rowid fetch is either a table get or a visit to the
/// block still pinned (gets + pinned = fetches), a full index walk makes
/// exactly as many table gets as the index has block changes in key order
/// (its clustering factor), and the clustered range is served with fewer
/// gets than rows because consecutive rowids shared a block.
pub fn c16_verdict(e: &C16Evidence) -> (Verdict, String) {
    let sides = [
        e.range_clustered,
        e.range_scattered,
        e.walk_clustered,
        e.walk_scattered,
    ];
    let accounted = sides.iter().all(|s| s.table_gets + s.pinned == s.fetched);
    let cf = e.walk_clustered.table_gets == e.cf_clustered
        && e.walk_scattered.table_gets == e.cf_scattered;
    let pinned =
        e.range_clustered.pinned > 0 && e.range_clustered.table_gets < e.range_clustered.fetched;
    let text = format!(
        "clustered index: {} rows fetched with {} table gets ({} pinned visits); scattered index: {} rows, {} table gets ({} pinned); full walks: {} and {} table gets = clustering factors {} and {} ({} table blocks)",
        e.range_clustered.fetched,
        e.range_clustered.table_gets,
        e.range_clustered.pinned,
        e.range_scattered.fetched,
        e.range_scattered.table_gets,
        e.range_scattered.pinned,
        e.walk_clustered.table_gets,
        e.walk_scattered.table_gets,
        e.cf_clustered,
        e.cf_scattered,
        e.table_blocks
    );
    if accounted && cf && pinned {
        (Verdict::Holds, text)
    } else {
        (
            Verdict::DoesNotHold,
            format!("gets + pinned = fetches: {accounted}, walk gets = CF: {cf}, pinning saved gets: {pinned}; {text}"),
        )
    }
}

fn c16(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 100_000);
    let k = ctx.size(500, 2_000);
    let (_db, mut s) = ctx.open("c16", lab_config(ctx))?;
    ctx.step("loading");
    load_seq_rnd(&mut s, ctx.seed, n)?;
    let st = s.analyze("t")?;
    let cf = |name: &str| st.index(name).map_or(0, |i| i.clustering_factor);
    ctx.step("measuring");
    let side = |s: &mut Session, sql: &str| -> Result<C16Side> {
        let m = run(s, sql, &[])?;
        Ok(C16Side {
            fetched: m.fetched,
            table_gets: m.table_gets,
            pinned: m.pinned,
            consistent_gets: m.consistent_gets,
        })
    };
    let a = n / 3;
    let range = |col: &str| {
        format!(
            "SELECT /*+ INDEX(t t_{col}) */ pad FROM t WHERE {col} BETWEEN {a} AND {}",
            a + k - 1
        )
    };
    let walk = |col: &str| format!("SELECT /*+ INDEX(t t_{col}) */ pad FROM t WHERE {col} >= 0");
    let e = C16Evidence {
        table_blocks: st.blocks,
        range_clustered: side(&mut s, &range("seq"))?,
        range_scattered: side(&mut s, &range("rnd"))?,
        walk_clustered: side(&mut s, &walk("seq"))?,
        walk_scattered: side(&mut s, &walk("rnd"))?,
        cf_clustered: cf("t_seq"),
        cf_scattered: cf("t_rnd"),
    };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("table_blocks", e.table_blocks, "blocks"),
        Evidence::counter("clustered.clustering_factor", e.cf_clustered, "blocks"),
        Evidence::counter("scattered.clustering_factor", e.cf_scattered, "blocks"),
    ];
    for (p, x) in [
        ("clustered.range", e.range_clustered),
        ("scattered.range", e.range_scattered),
        ("clustered.full_walk", e.walk_clustered),
        ("scattered.full_walk", e.walk_scattered),
    ] {
        evidence.extend([
            Evidence::counter(format!("{p}.table_fetch_by_rowid"), x.fetched, "rows"),
            Evidence::counter(format!("{p}.table_block_gets"), x.table_gets, "gets"),
            Evidence::counter(format!("{p}.buffer_is_pinned"), x.pinned, "visits"),
            Evidence::counter(format!("{p}.consistent_gets"), x.consistent_gets, "gets"),
        ]);
    }
    Ok(report(
        C16,
        c16_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("range_rows".into(), k.to_string()),
        ],
        Vec::new(),
    ))
}

// ---------------------------------------------------------------- C17 --

const C17: (&str, &str, &str) = (
    "C17",
    "Index access cost = vertical + horizontal + table blocks",
    "Index access cost = vertical cost (root and branch blocks) + horizontal cost (leaf blocks scanned) + table random-access cost (table blocks visited).",
);

/// One C17 query: the optimizer's three terms and the measured ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C17Query {
    pub index: &'static str,
    pub width: u64,
    /// EXPLAIN: BLEVEL, leaf blocks (index line cost − BLEVEL), table
    /// blocks (access cost − index line cost).
    pub est: [u64; 3],
    /// Counters: root + branch gets, leaf gets, table blocks visited.
    pub got: [u64; 3],
    pub consistent_gets: u64,
    /// Transaction table lookups: undo segment header reads for a block
    /// whose ITL still names a transaction not cleaned out (not part of
    /// any access path; see `lab_config`).
    pub tx_lookups: u64,
}

impl C17Query {
    pub fn est_total(&self) -> u64 {
        self.est.iter().sum()
    }

    pub fn got_total(&self) -> u64 {
        self.got.iter().sum()
    }

    /// |estimate − measured|.
    pub fn error(&self) -> u64 {
        self.est_total().abs_diff(self.got_total())
    }

    /// Within the formula's own rounding: two blocks (a range can straddle
    /// one more leaf and one more table block than its ceilings say) or
    /// 10 % of the measured gets, whichever is larger.
    pub fn close(&self) -> bool {
        self.error() <= 2.max(self.got_total() / 10)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C17Evidence {
    pub queries: Vec<C17Query>,
}

/// Holds when every query's logical reads are exactly its three parts
/// (root/branch + leaf + table blocks: nothing else is read, apart from
/// transaction table lookups, which are counted and reported) and the cost-formula
/// estimate built from those parts comes within its rounding of the
/// measured total (`C17Query::close`). Depends when the decomposition is
/// exact but some estimates are further off (the formula's shape is right,
/// its inputs — selectivity, clustering factor — are not); does not hold
/// when the reads are not the sum of the three parts.
pub fn c17_verdict(e: &C17Evidence) -> (Verdict, String) {
    if let Some(q) = e
        .queries
        .iter()
        .find(|q| q.consistent_gets != q.got_total() + q.tx_lookups)
    {
        return (
            Verdict::DoesNotHold,
            format!(
                "{} width {}: {} consistent gets but vertical {} + horizontal {} + table {} + transaction table lookups {} = {}",
                q.index,
                q.width,
                q.consistent_gets,
                q.got[0],
                q.got[1],
                q.got[2],
                q.tx_lookups,
                q.got_total() + q.tx_lookups
            ),
        );
    }
    let lookups: u64 = e.queries.iter().map(|q| q.tx_lookups).sum();
    let lookups = if lookups == 0 {
        String::new()
    } else {
        format!(
            " (plus {lookups} transaction table lookup(s) in {} queries: reads of a leaf whose ITL was never cleaned out, outside the access path)",
            e.queries.iter().filter(|q| q.tx_lookups > 0).count()
        )
    };
    let worst = e
        .queries
        .iter()
        .max_by_key(|q| (permille(q.error(), q.got_total().max(1)), q.error()));
    let far: Vec<&C17Query> = e.queries.iter().filter(|q| !q.close()).collect();
    let worst_text = worst
        .map(|q| {
            format!(
                "largest relative error {}‰ ({} width {}: estimated {}+{}+{} = {}, measured {}+{}+{} = {})",
                permille(q.error(), q.got_total().max(1)),
                q.index,
                q.width,
                q.est[0],
                q.est[1],
                q.est[2],
                q.est_total(),
                q.got[0],
                q.got[1],
                q.got[2],
                q.got_total()
            )
        })
        .unwrap_or_default();
    if far.is_empty() {
        (
            Verdict::Holds,
            format!(
                "in all {} queries consistent gets = root/branch + leaf + table block gets exactly{lookups}, and the cost-formula estimate is within max(2 blocks, 10%); {worst_text}",
                e.queries.len()
            ),
        )
    } else {
        (
            Verdict::Depends,
            format!(
                "the gets are exactly vertical + horizontal + table in all {} queries{lookups}, but {} estimates are off by more than max(2 blocks, 10%); {worst_text}",
                e.queries.len(),
                far.len()
            ),
        )
    }
}

fn c17(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 100_000);
    let widths: Vec<u64> = [1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000]
        .into_iter()
        .filter(|&w| w * 10 <= n)
        .collect();
    let (_db, mut s) = ctx.open("c17", lab_config(ctx))?;
    ctx.step("loading");
    load_seq_rnd(&mut s, ctx.seed, n)?;
    let st = s.analyze("t")?;
    ctx.step("measuring");
    let mut queries = Vec::new();
    let mut notes = vec![
        "index  width  start  est v+h+t = total   measured v+h+t = total   consistent gets"
            .to_string(),
    ];
    for (index, col) in [("clustered", "seq"), ("scattered", "rnd")] {
        let blevel = st
            .index(&format!("t_{col}"))
            .map_or(0, |i| u64::from(i.blevel));
        for &w in &widths {
            for start in [n / 10 + 7, n / 2 + 3, n * 8 / 10 + 1] {
                let sql = format!(
                    "SELECT /*+ INDEX(t t_{col}) */ pad FROM t WHERE {col} BETWEEN {start} AND {}",
                    start + w - 1
                );
                let plan = explain(&mut s, &sql, &[])?;
                let m = run(&mut s, &sql, &[])?;
                let q = C17Query {
                    index,
                    width: w,
                    est: [
                        blevel,
                        plan.index_cost.saturating_sub(blevel),
                        plan.total_cost.saturating_sub(plan.index_cost),
                    ],
                    got: [m.root + m.branch, m.leaf, m.table_gets],
                    consistent_gets: m.consistent_gets,
                    tx_lookups: m.tx_lookups,
                };
                notes.push(format!(
                    "{index:9} {w:5} {start:6}  {:>3}+{:>3}+{:>5} = {:>5}   {:>3}+{:>3}+{:>5} = {:>5}   {:>5} ({} tx lookups)",
                    q.est[0],
                    q.est[1],
                    q.est[2],
                    q.est_total(),
                    q.got[0],
                    q.got[1],
                    q.got[2],
                    q.got_total(),
                    q.consistent_gets,
                    m.tx_lookups
                ));
                queries.push(q);
            }
        }
    }
    let e = C17Evidence { queries };
    let mut evidence = vec![Evidence::counter("rows", n, "rows")];
    for index in ["clustered", "scattered"] {
        let qs: Vec<&C17Query> = e.queries.iter().filter(|q| q.index == index).collect();
        let sum = |f: &dyn Fn(&C17Query) -> u64| qs.iter().map(|q| f(q)).sum::<u64>();
        let max = |f: &dyn Fn(&C17Query) -> u64| qs.iter().map(|q| f(q)).max().unwrap_or(0);
        evidence.extend([
            Evidence::counter(format!("{index}.queries"), qs.len() as u64, "queries"),
            Evidence::counter(
                format!("{index}.exact_decompositions"),
                qs.iter()
                    .filter(|q| q.consistent_gets == q.got_total() + q.tx_lookups)
                    .count() as u64,
                "queries",
            ),
            Evidence::counter(
                format!("{index}.tx_table_lookups"),
                sum(&|q| q.tx_lookups),
                "gets",
            ),
            Evidence::counter(
                format!("{index}.estimated_total"),
                sum(&|q| q.est_total()),
                "blocks",
            ),
            Evidence::counter(
                format!("{index}.measured_total"),
                sum(&|q| q.got_total()),
                "gets",
            ),
            Evidence::counter(
                format!("{index}.max_error_vertical"),
                max(&|q| q.est[0].abs_diff(q.got[0])),
                "blocks",
            ),
            Evidence::counter(
                format!("{index}.max_error_horizontal"),
                max(&|q| q.est[1].abs_diff(q.got[1])),
                "blocks",
            ),
            Evidence::counter(
                format!("{index}.max_error_table"),
                max(&|q| q.est[2].abs_diff(q.got[2])),
                "blocks",
            ),
            Evidence::counter(format!("{index}.max_error"), max(&|q| q.error()), "blocks"),
            Evidence::counter(
                format!("{index}.max_relative_error"),
                max(&|q| permille(q.error(), q.got_total().max(1))),
                "‰",
            ),
            Evidence::counter(
                format!("{index}.within_rounding"),
                qs.iter().filter(|q| q.close()).count() as u64,
                "queries",
            ),
        ]);
    }
    let series = |index: &str, est: bool| -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = e
            .queries
            .iter()
            .filter(|q| q.index == index)
            .map(|q| {
                let y = if est { q.est_total() } else { q.got_total() };
                (q.width as f64, y as f64)
            })
            .collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        p
    };
    let mut r = report(
        C17,
        c17_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            (
                "widths".into(),
                widths
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ],
        vec![notes.join("\n")],
    );
    r.chart = Some(Chart {
        title: "C17: cost-formula estimate vs measured gets".into(),
        x_label: "rows in range (log scale)".into(),
        y_label: "blocks (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: false,
        series: vec![
            ("clustered measured".into(), series("clustered", false)),
            ("clustered estimate".into(), series("clustered", true)),
            ("scattered measured".into(), series("scattered", false)),
            ("scattered estimate".into(), series("scattered", true)),
        ],
    });
    Ok(r)
}

// ---------------------------------------------------------------- C19 --

const C19: (&str, &str, &str) = (
    "C19",
    "BETWEEN vs IN-list: one walk against one descent per element",
    "Turning BETWEEN on a leading column into an IN-list makes each list element a separate descent: a win for short lists, a loss for long ones, where repeated branch descents cost more than a leaf walk.",
);

/// One data shape of C19: `rows_per_value` index entries per leading value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C19Shape {
    pub rows_per_value: u64,
    pub values: u64,
    pub blevel: u64,
    pub leaf_blocks: u64,
    /// (k, gets with BETWEEN, gets with an IN-list of k elements)
    pub points: Vec<(u64, u64, u64)>,
}

impl C19Shape {
    /// Whether the IN-list won at the shortest list measured.
    pub fn in_wins_short(&self) -> bool {
        self.points.first().is_some_and(|&(_, b, i)| i < b)
    }

    /// Whether the IN-list lost at the longest list measured.
    pub fn in_loses_long(&self) -> bool {
        self.points.last().is_some_and(|&(_, b, i)| i > b)
    }

    /// The first k at which the IN-list stops winning, if it ever won.
    pub fn crossover(&self) -> Option<u64> {
        if !self.in_wins_short() {
            return None;
        }
        self.points.iter().find(|&&(_, b, i)| i >= b).map(|p| p.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C19Evidence {
    pub shapes: Vec<C19Shape>,
}

/// Holds when, in every data shape, the IN-list wins at the shortest list
/// and loses at the longest (a crossover exists); does not hold when no
/// shape shows that pattern; depends when some do and some don't — then
/// the reason says, per shape, where the crossover falls, or that there is
/// none, with the leaf blocks one leading value spans (L) against the
/// blocks one descent reads (BLEVEL + 1).
pub fn c19_verdict(e: &C19Evidence) -> (Verdict, String) {
    let describe = |sh: &C19Shape| {
        let l = sh.leaf_blocks as f64 / sh.values.max(1) as f64;
        let kmax = sh.points.last().map_or(0, |p| p.0);
        let what = match (sh.in_wins_short(), sh.in_loses_long(), sh.crossover()) {
            (true, true, Some(k)) => format!("IN wins for short lists, crossover at k = {k}"),
            (true, _, _) => format!("IN wins at every k up to {kmax}"),
            (false, _, _) => "IN loses from k = 2".to_string(),
        };
        format!(
            "{} rows per value (L = {:.2} leaf blocks per value, {} blocks per descent): {what}",
            sh.rows_per_value,
            l,
            sh.blevel + 1
        )
    };
    let crossing = e
        .shapes
        .iter()
        .filter(|s| s.in_wins_short() && s.in_loses_long())
        .count();
    let text: Vec<String> = e.shapes.iter().map(describe).collect();
    let text = text.join("; ");
    if crossing == e.shapes.len() && crossing > 0 {
        (Verdict::Holds, text)
    } else if crossing == 0 {
        (Verdict::DoesNotHold, text)
    } else {
        (
            Verdict::Depends,
            format!("the crossover is set by how many leaf blocks a leading value spans (L), not by k alone: each element costs one descent (BLEVEL + 1 blocks), each value of the BETWEEN walk costs L leaf blocks, so IN wins short lists only when L > (BLEVEL + 1)/2 and loses long ones only when L < BLEVEL + 1; {text}"),
        )
    }
}

fn c19(ctx: &mut LabCtx) -> Result<Report> {
    let total = ctx.size(10_000, 100_000);
    let shapes_nv: [u64; 5] = [10, 100, 200, 300, 1_000];
    let ks: [u64; 9] = [2, 5, 10, 20, 50, 100, 200, 500, 1_000];
    let (_db, mut s) = ctx.open("c19", lab_config(ctx))?;
    let mut shapes = Vec::new();
    for nv in shapes_nv {
        ctx.step(&format!("{nv} rows per value"));
        let t = format!("t{nv}");
        s.execute(&format!("CREATE TABLE {t} (c1 INTEGER, c2 INTEGER)"))?;
        s.execute(&format!("CREATE INDEX {t}_ix ON {t} (c1, c2)"))?;
        load_series(
            &mut s,
            &format!(
                "INSERT INTO {t} SELECT value / {nv}, value % {nv} FROM generate_series({{lo}}, {{hi}})"
            ),
            0,
            total - 1,
        )?;
        let ix = index_stats(&mut s, &t, &format!("{t}_ix"))?;
        let values = total / nv;
        let mut points = Vec::new();
        for &k in ks.iter().filter(|&&k| k <= values) {
            let base = format!("SELECT /*+ INDEX({t} {t}_ix) */ c1, c2 FROM {t} WHERE");
            let between = run(
                &mut s,
                &format!("{base} c1 BETWEEN 0 AND {} AND c2 = 1", k - 1),
                &[],
            )?;
            let inl = run(
                &mut s,
                &format!("{base} c1 IN {} AND c2 = 1", in_list(0, k as usize)),
                &[],
            )?;
            points.push((k, between.index_gets(), inl.index_gets()));
        }
        shapes.push(C19Shape {
            rows_per_value: nv,
            values,
            blevel: u64::from(ix.blevel),
            leaf_blocks: ix.leaf_blocks,
            points,
        });
    }
    let e = C19Evidence { shapes };
    let mut evidence = Vec::new();
    for sh in &e.shapes {
        let p = format!("nv{}", sh.rows_per_value);
        evidence.extend([
            Evidence::counter(format!("{p}.blevel"), sh.blevel, "levels"),
            Evidence::counter(format!("{p}.leaf_blocks"), sh.leaf_blocks, "blocks"),
            Evidence::counter(
                format!("{p}.crossover_k"),
                sh.crossover().unwrap_or(0),
                "elements",
            ),
        ]);
        for &(k, b, i) in &sh.points {
            evidence.push(Evidence::counter(
                format!("{p}.k{k}.between_gets"),
                b,
                "gets",
            ));
            evidence.push(Evidence::counter(
                format!("{p}.k{k}.in_list_gets"),
                i,
                "gets",
            ));
        }
    }
    // The ratio crosses 1 where the IN-list stops winning; the flat line
    // marks it. Both axes are logarithmic: k goes 2…1000 and the ratio
    // from about a fifth to twenty.
    let ks_measured = e.shapes.iter().flat_map(|sh| sh.points.iter().map(|p| p.0));
    let (k_lo, k_hi) = (
        ks_measured.clone().min().unwrap_or(1) as f64,
        ks_measured.max().unwrap_or(1) as f64,
    );
    let mut series: Vec<(String, Vec<(f64, f64)>)> = e
        .shapes
        .iter()
        .map(|sh| {
            (
                format!("{} rows per value", sh.rows_per_value),
                sh.points
                    .iter()
                    .map(|&(k, b, i)| (k as f64, i as f64 / b.max(1) as f64))
                    .collect(),
            )
        })
        .collect();
    series.push(("IN = BETWEEN".into(), vec![(k_lo, 1.0), (k_hi, 1.0)]));
    let chart = Chart {
        title: "C19: IN-list gets / BETWEEN gets".into(),
        x_label: "k, elements in the IN-list (log scale)".into(),
        y_label: "IN gets / BETWEEN gets (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: false,
        series,
    };
    let mut r = report(
        C19,
        c19_verdict(&e),
        evidence,
        vec![
            ("rows_per_shape".into(), total.to_string()),
            ("query".into(), "c1 BETWEEN 0 AND k-1 AND c2 = 1 vs c1 IN (0..k-1) AND c2 = 1, index (c1, c2), index only".into()),
        ],
        Vec::new(),
    );
    r.chart = Some(chart);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c16_rule_on_synthetic_evidence() {
        let side = |fetched, table_gets| C16Side {
            fetched,
            table_gets,
            pinned: fetched - table_gets,
            consistent_gets: table_gets + 3,
        };
        let good = C16Evidence {
            table_blocks: 100,
            range_clustered: side(500, 7),
            range_scattered: side(500, 497),
            walk_clustered: side(10_000, 100),
            walk_scattered: side(10_000, 9_990),
            cf_clustered: 100,
            cf_scattered: 9_990,
        };
        assert_eq!(c16_verdict(&good).0, Verdict::Holds);
        // No pinning: every fetch a get.
        let unpinned = C16Evidence {
            range_clustered: side(500, 500),
            walk_clustered: side(10_000, 10_000),
            ..good
        };
        assert_eq!(c16_verdict(&unpinned).0, Verdict::DoesNotHold);
        // Fetches unaccounted for.
        let leak = C16Evidence {
            range_scattered: C16Side {
                pinned: 0,
                ..side(500, 497)
            },
            ..good
        };
        assert_eq!(c16_verdict(&leak).0, Verdict::DoesNotHold);
    }

    fn q(est: [u64; 3], got: [u64; 3], extra: u64) -> C17Query {
        C17Query {
            index: "clustered",
            width: 100,
            est,
            got,
            consistent_gets: got.iter().sum::<u64>() + extra,
            tx_lookups: 0,
        }
    }

    #[test]
    fn c17_rule_on_synthetic_evidence() {
        let good = C17Evidence {
            queries: vec![
                q([2, 1, 2], [2, 1, 3], 0),
                q([2, 10, 1000], [2, 11, 990], 0),
            ],
        };
        assert_eq!(c17_verdict(&good).0, Verdict::Holds);
        let far = C17Evidence {
            queries: vec![q([2, 1, 2], [2, 1, 3], 0), q([2, 10, 100], [2, 11, 990], 0)],
        };
        assert_eq!(c17_verdict(&far).0, Verdict::Depends);
        let other_reads = C17Evidence {
            queries: vec![q([2, 1, 2], [2, 1, 3], 4)],
        };
        assert_eq!(c17_verdict(&other_reads).0, Verdict::DoesNotHold);
        // A read accounted for as a transaction table lookup is reported,
        // not counted against the decomposition.
        let lookup = C17Evidence {
            queries: vec![C17Query {
                tx_lookups: 1,
                ..q([2, 1, 2], [2, 1, 3], 1)
            }],
        };
        assert_eq!(c17_verdict(&lookup).0, Verdict::Holds);
    }

    fn shape(nv: u64, points: Vec<(u64, u64, u64)>) -> C19Shape {
        C19Shape {
            rows_per_value: nv,
            values: 100,
            blevel: 2,
            leaf_blocks: 300,
            points,
        }
    }

    #[test]
    fn c19_rule_on_synthetic_evidence() {
        let crossing = shape(300, vec![(2, 9, 6), (10, 30, 30), (100, 273, 300)]);
        assert_eq!(crossing.crossover(), Some(10));
        let always = shape(1000, vec![(2, 20, 6), (100, 900, 300)]);
        let never = shape(10, vec![(2, 3, 6), (100, 10, 300)]);
        assert_eq!(never.crossover(), None);
        let all = C19Evidence {
            shapes: vec![crossing.clone()],
        };
        assert_eq!(c19_verdict(&all).0, Verdict::Holds);
        let some = C19Evidence {
            shapes: vec![crossing, always.clone(), never.clone()],
        };
        assert_eq!(c19_verdict(&some).0, Verdict::Depends);
        let none = C19Evidence {
            shapes: vec![always, never],
        };
        assert_eq!(c19_verdict(&none).0, Verdict::DoesNotHold);
    }
}
