//! C27: nested loops against hash and merge join as the number of outer
//! rows grows.
//!
//! Two tables of `n` rows: the outer `o(id, j, pad)`, clustered on `id`
//! with an index on it, whose `j` is a seeded permutation of `0..n`; the
//! inner `i(id, j, pad)` loaded in `j` order with an index on `j`. So every
//! outer row joins exactly one inner row, somewhere in the inner table.
//! `WHERE o.id < k` keeps k outer rows, k = 1, 10, 100, … up to n, and each
//! method is forced by hint:
//!
//! * nested loops `LEADING(o i) USE_NL(i) INDEX(i i_j)`: one descent of
//!   `i_j` and one table block per outer row — the cost grows with k;
//! * hash `LEADING(i o) USE_HASH(o) FULL(i)`: the k outer rows are the
//!   build input, `i` is read once by a full scan and probes them (blocklab
//!   builds on the relation joined second, so this order builds on the
//!   smaller input, as Oracle's `LEADING(o i) USE_HASH(i)` does) — the
//!   cost is one scan of `i` whatever k;
//! * merge `LEADING(o i) USE_MERGE(i) FULL(i)`: both inputs sorted, `i`
//!   read once — the same gets as hash, plus two sorts.
//!
//! The session's hash work area is set to 128 KiB, Oracle's default
//! HASH_AREA_SIZE (twice SORT_AREA_SIZE), not blocklab's roomier 1 MiB, so
//! that a large build input spills (temporary writes and reads) at the
//! quick size too. The gets decide; temp blocks and times are shown beside.
//! The unhinted statement shows which method the optimizer picks at each k
//! and what it costs against the cheapest forced method.

use super::super::{report, time_ms, Chart, Evidence, Lab, LabCtx, Report, Scale, Verdict};
use super::plan_method;
use crate::access::{lab_config, load};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C27.0,
        title: C27.1,
        claim: C27.2,
        run: c27,
    }]
}

const C27: (&str, &str, &str) = (
    "C27",
    "Nested loops win for few outer rows, hash and merge joins for many",
    "A nested-loop join wins when few outer rows probe an index on the inner join column; a hash (or sort-merge) join wins when many do.",
);

/// The optimizer's choice is called wrong at a k where its statement costs
/// more than the cheapest forced method by more than this (in percent of
/// the cheapest): a smaller difference is within what the cost formula's
/// rounding and the outer access it may choose differently can explain.
pub const C27_MARGIN_PERCENT: u64 = 20;

/// A join method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum C27Method {
    NestedLoops,
    Hash,
    Merge,
}

impl C27Method {
    /// In the order the evidence lists them.
    pub const ALL: [C27Method; 3] = [C27Method::NestedLoops, C27Method::Hash, C27Method::Merge];

    pub fn name(self) -> &'static str {
        match self {
            C27Method::NestedLoops => "nl",
            C27Method::Hash => "hash",
            C27Method::Merge => "merge",
        }
    }

    /// DB2's plan_table METHOD code, as EXPLAIN writes it (1 nested loops,
    /// 2 merge scan join, 5 hash join).
    pub fn db2_code(self) -> u64 {
        match self {
            C27Method::NestedLoops => 1,
            C27Method::Merge => 2,
            C27Method::Hash => 5,
        }
    }

    fn index(self) -> usize {
        match self {
            C27Method::NestedLoops => 0,
            C27Method::Hash => 1,
            C27Method::Merge => 2,
        }
    }
}

/// What one outer row count measured: per method (in `C27Method::ALL`
/// order) the gets, temp blocks and rows, and the unhinted statement.
#[derive(Clone, Debug, PartialEq)]
pub struct C27Point {
    pub k: u64,
    pub gets: [u64; 3],
    pub temp_writes: [u64; 3],
    pub temp_reads: [u64; 3],
    pub rows: [u64; 3],
    /// Median milliseconds per method (shown, never deciding).
    pub ms: [f64; 3],
    /// The method the optimizer chose unhinted, and its statement's gets.
    pub chosen: Option<C27Method>,
    pub chosen_gets: u64,
}

impl C27Point {
    /// The method with the fewest gets (the first of equals, so a tie
    /// between hash and merge is hash).
    pub fn cheapest(&self) -> C27Method {
        let mut best = C27Method::NestedLoops;
        for m in C27Method::ALL {
            if self.gets[m.index()] < self.gets[best.index()] {
                best = m;
            }
        }
        best
    }

    pub fn gets_of(&self, m: C27Method) -> u64 {
        self.gets[m.index()]
    }

    /// Whether the unhinted statement cost more than the cheapest forced
    /// method by more than the margin.
    pub fn optimizer_wrong(&self) -> bool {
        let best = self.gets_of(self.cheapest());
        self.chosen_gets * 100 > best * (100 + C27_MARGIN_PERCENT)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct C27Evidence {
    pub points: Vec<C27Point>,
}

impl C27Evidence {
    /// The first k at which nested loops stop being the cheapest, if they
    /// were cheapest at the smallest k.
    pub fn crossover(&self) -> Option<u64> {
        let first = self.points.first()?;
        if first.cheapest() != C27Method::NestedLoops {
            return None;
        }
        self.points
            .iter()
            .find(|p| p.cheapest() != C27Method::NestedLoops)
            .map(|p| p.k)
    }
}

/// Holds when every method returns the same rows at every k, nested loops
/// have the fewest gets at the smallest k, and hash or merge at the
/// largest (a crossover exists). Does not hold otherwise: a method that
/// loses rows, nested loops never cheapest, or never beaten. The reason
/// gives the crossover and where the optimizer's unhinted choice costs
/// more than the cheapest method by more than `C27_MARGIN_PERCENT`.
pub fn c27_verdict(e: &C27Evidence) -> (Verdict, String) {
    let (Some(first), Some(last)) = (e.points.first(), e.points.last()) else {
        return (Verdict::DoesNotHold, "nothing was measured".into());
    };
    if let Some(p) = e.points.iter().find(|p| p.rows.iter().any(|&r| r != p.k)) {
        return (
            Verdict::DoesNotHold,
            format!(
                "at k = {} the methods returned {:?} rows (nested loops, hash, merge), not {}",
                p.k, p.rows, p.k
            ),
        );
    }
    let gets = |p: &C27Point| {
        format!(
            "k = {}: NL {}, hash {}, merge {}",
            p.k,
            p.gets_of(C27Method::NestedLoops),
            p.gets_of(C27Method::Hash),
            p.gets_of(C27Method::Merge)
        )
    };
    let chosen = e
        .points
        .iter()
        .map(|p| {
            format!(
                "{} at k = {}{}",
                p.chosen.map_or("no join", C27Method::name),
                p.k,
                if p.optimizer_wrong() {
                    format!(
                        " (wrong: {} gets against {})",
                        p.chosen_gets,
                        p.gets_of(p.cheapest())
                    )
                } else {
                    String::new()
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let wrong = e.points.iter().filter(|p| p.optimizer_wrong()).count();
    let optimizer = format!(
        "the optimizer chose {chosen}: {}",
        if wrong == 0 {
            format!("never more than {C27_MARGIN_PERCENT}% above the cheapest method's gets")
        } else {
            format!("wrong at {wrong} k (more than {C27_MARGIN_PERCENT}% above the cheapest)")
        }
    );
    let range = format!("gets {}; {}", gets(first), gets(last));
    match (first.cheapest(), last.cheapest(), e.crossover()) {
        (C27Method::NestedLoops, C27Method::Hash | C27Method::Merge, Some(k)) => {
            let cross = e
                .points
                .iter()
                .find(|p| p.k == k)
                .map(gets)
                .unwrap_or_default();
            (
                Verdict::Holds,
                format!(
                    "nested loops have the fewest gets at k = {}, {} at k = {}; crossover at k = {k} ({cross}); {range}; {optimizer}",
                    first.k,
                    last.cheapest().name(),
                    last.k
                ),
            )
        }
        (C27Method::NestedLoops, _, _) => (
            Verdict::DoesNotHold,
            format!("nested loops have the fewest gets at every k; {range}; {optimizer}"),
        ),
        (m, _, _) => (
            Verdict::DoesNotHold,
            format!(
                "{} has fewer gets than nested loops already at k = {}; {range}; {optimizer}",
                m.name(),
                first.k
            ),
        ),
    }
}

/// What the times say beside the verdict: the fastest method by median
/// time at each k, and whether it is the one with the fewest gets.
pub fn c27_timing_note(e: &C27Evidence) -> String {
    let mut agree = 0;
    let fastest: Vec<String> = e
        .points
        .iter()
        .map(|p| {
            let mut best = 0;
            for i in 1..3 {
                if p.ms[i] < p.ms[best] {
                    best = i;
                }
            }
            let m = C27Method::ALL[best];
            if m == p.cheapest() || p.gets_of(m) == p.gets_of(p.cheapest()) {
                agree += 1;
            }
            format!("k = {} {} ({:.3} ms)", p.k, m.name(), p.ms[best])
        })
        .collect();
    format!(
        "fastest by median time: {}; the fastest is a method with the fewest gets at {agree} of {} k",
        fastest.join(", "),
        e.points.len()
    )
}

/// The forced statement of `m` for k outer rows.
fn forced(m: C27Method, k: u64) -> String {
    let hint = match m {
        C27Method::NestedLoops => "LEADING(o i) USE_NL(i) INDEX(i i_j)",
        C27Method::Hash => "LEADING(i o) USE_HASH(o) FULL(i)",
        C27Method::Merge => "LEADING(o i) USE_MERGE(i) FULL(i)",
    };
    format!(
        "SELECT /*+ {hint} */ {}",
        unhinted(k).trim_start_matches("SELECT ")
    )
}

fn unhinted(k: u64) -> String {
    format!("SELECT o.id, i.pad FROM o JOIN i ON i.j = o.j WHERE o.id < {k}")
}

/// Gets, temp writes, temp reads and rows of one run of `sql`.
fn measure(s: &mut Session, sql: &str) -> Result<(u64, u64, u64, u64)> {
    let r = s.execute(sql)?;
    Ok((
        r.stats.get(Stat::ConsistentGets),
        r.stats.get(Stat::TempWrites),
        r.stats.get(Stat::TempReads),
        r.rows.len() as u64,
    ))
}

fn c27(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 100_000);
    let reps = 3;
    let (_db, mut s) = ctx.open("c27", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE o (id INTEGER, j INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX o_id ON o (id)")?;
    s.execute("CREATE TABLE i (id INTEGER, j INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX i_j ON i (j)")?;
    let mut perm: Vec<u64> = (0..n).collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut perm);
    let outer: Vec<Vec<Value>> = perm
        .iter()
        .enumerate()
        .map(|(id, &j)| {
            vec![
                Value::Int(id as i64),
                Value::Int(j as i64),
                Value::Text(format!("{id:040}")),
            ]
        })
        .collect();
    let inner: Vec<Vec<Value>> = (0..n as i64)
        .map(|j| {
            vec![
                Value::Int(j),
                Value::Int(j),
                Value::Text(format!("{j:040}")),
            ]
        })
        .collect();
    load(&mut s, "INSERT INTO o VALUES (?, ?, ?)", &outer)?;
    load(&mut s, "INSERT INTO i VALUES (?, ?, ?)", &inner)?;
    s.execute("ANALYZE TABLE o")?;
    s.execute("ANALYZE TABLE i")?;
    s.execute("ALTER SESSION SET HASH_AREA_SIZE = 131072")?;
    let ks: Vec<u64> = std::iter::successors(Some(1u64), |k| Some(k * 10))
        .take_while(|&k| k <= n)
        .collect();
    let mut points = Vec::new();
    let mut notes = Vec::new();
    let mut timings = Vec::new();
    for &k in &ks {
        ctx.step(&format!("k = {k}"));
        let mut p = C27Point {
            k,
            gets: [0; 3],
            temp_writes: [0; 3],
            temp_reads: [0; 3],
            rows: [0; 3],
            ms: [0.0; 3],
            chosen: None,
            chosen_gets: 0,
        };
        for m in C27Method::ALL {
            let sql = forced(m, k);
            let (g, w, r, rows) = measure(&mut s, &sql)?;
            let i = m.index();
            (p.gets[i], p.temp_writes[i], p.temp_reads[i], p.rows[i]) = (g, w, r, rows);
            let ms = time_ms(reps, || s.execute(&sql).map(|_| ()))?;
            let t = Evidence::timing(format!("k{k}.{}.time", m.name()), &ms, "ms");
            p.ms[i] = t.value;
            timings.push(t);
        }
        let (chosen, plan) = plan_method(&mut s, &unhinted(k))?;
        p.chosen = chosen;
        p.chosen_gets = measure(&mut s, &unhinted(k))?.0;
        if k == ks[1.min(ks.len() - 1)] || k == n {
            notes.push(format!("unhinted at k = {k}: {plan}"));
        }
        points.push(p);
    }
    let e = C27Evidence { points };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("crossover_k", e.crossover().unwrap_or(0), "rows"),
    ];
    for p in &e.points {
        let at = format!("k{}", p.k);
        for m in C27Method::ALL {
            let i = m.index();
            let name = m.name();
            evidence.push(Evidence::counter(
                format!("{at}.{name}.consistent_gets"),
                p.gets[i],
                "gets",
            ));
            evidence.push(Evidence::counter(
                format!("{at}.{name}.temp_writes"),
                p.temp_writes[i],
                "blocks",
            ));
            evidence.push(Evidence::counter(
                format!("{at}.{name}.temp_reads"),
                p.temp_reads[i],
                "blocks",
            ));
            evidence.push(Evidence::counter(
                format!("{at}.{name}.rows"),
                p.rows[i],
                "rows",
            ));
        }
        evidence.push(Evidence::counter(
            format!("{at}.optimizer.method"),
            p.chosen.map_or(0, C27Method::db2_code),
            "METHOD",
        ));
        evidence.push(Evidence::counter(
            format!("{at}.optimizer.consistent_gets"),
            p.chosen_gets,
            "gets",
        ));
    }
    evidence.extend(timings);
    let series = C27Method::ALL
        .iter()
        .map(|&m| {
            (
                m.name().to_string(),
                e.points
                    .iter()
                    .map(|p| (p.k as f64, p.gets_of(m) as f64))
                    .collect(),
            )
        })
        .collect();
    let chart = Chart {
        title: "C27: consistent gets of each join method by outer rows".into(),
        x_label: "k, outer rows (log scale)".into(),
        y_label: "consistent gets (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        timings: false,
        series,
    };
    notes.insert(
        0,
        format!(
            "forced: {} / {} / {}; the optimizer's method as DB2 plan_table METHOD (1 nested loops, 2 merge, 5 hash)",
            forced(C27Method::NestedLoops, 0).replace(" < 0", " < :k"),
            forced(C27Method::Hash, 0).replace(" < 0", " < :k"),
            forced(C27Method::Merge, 0).replace(" < 0", " < :k"),
        ),
    );
    let mut r = report(
        C27,
        c27_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("hash_area_size".into(), "131072".into()),
            ("repetitions".into(), reps.to_string()),
        ],
        notes,
    );
    // Gets explain the times, so they decide; the times are shown beside.
    r.timed_verdict = false;
    r.timing_note = Some(c27_timing_note(&e));
    r.chart = Some(chart);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(k: u64, gets: [u64; 3], chosen: C27Method, chosen_gets: u64) -> C27Point {
        C27Point {
            k,
            gets,
            temp_writes: [0; 3],
            temp_reads: [0; 3],
            rows: [k; 3],
            ms: [1.0, 2.0, 3.0],
            chosen: Some(chosen),
            chosen_gets,
        }
    }

    fn good() -> C27Evidence {
        use C27Method::*;
        C27Evidence {
            points: vec![
                point(1, [6, 90, 90], NestedLoops, 6),
                point(10, [33, 90, 90], NestedLoops, 33),
                point(100, [310, 92, 92], NestedLoops, 310),
                point(1000, [3100, 110, 110], Hash, 110),
            ],
        }
    }

    #[test]
    fn c27_rule_on_synthetic_evidence() {
        let e = good();
        assert_eq!(e.crossover(), Some(100));
        let (v, reason) = c27_verdict(&e);
        assert_eq!(v, Verdict::Holds);
        // At k = 100 the optimizer's nested loops cost 310 gets against
        // hash's 92: more than 20% above, so it is reported wrong.
        assert!(reason.contains("wrong at 1 k"), "{reason}");
        assert!(e.points[2].optimizer_wrong() && !e.points[3].optimizer_wrong());
        // Nested loops never beaten.
        let mut never = good();
        for p in &mut never.points {
            p.gets[1] = p.gets[0] + 1;
            p.gets[2] = p.gets[0] + 1;
        }
        assert_eq!(c27_verdict(&never).0, Verdict::DoesNotHold);
        // Hash cheaper from the start.
        let mut always = good();
        always.points[0].gets = [6, 5, 5];
        assert_eq!(c27_verdict(&always).0, Verdict::DoesNotHold);
        // A method that loses rows.
        let mut lost = good();
        lost.points[1].rows = [10, 9, 10];
        assert_eq!(c27_verdict(&lost).0, Verdict::DoesNotHold);
        let empty = C27Evidence { points: Vec::new() };
        assert_eq!(c27_verdict(&empty).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c27_timing_note_compares_the_fastest_with_the_fewest_gets() {
        let note = c27_timing_note(&good());
        // ms [1, 2, 3] everywhere: nested loops fastest, which has the
        // fewest gets at k = 1 and 10 only.
        assert!(note.contains("at 2 of 4 k"), "{note}");
    }
}
