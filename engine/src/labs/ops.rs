//! Plan stability and operations labs: plans that change between test and
//! production (C31).

use super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use crate::db::Database;
use crate::error::Result;
use crate::plandiff::{diff_databases, ImpactTable, Side, Status};
use crate::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C31.0,
        title: C31.1,
        claim: C31.2,
        run: c31,
    }]
}

const C31: (&str, &str, &str) = (
    "C31",
    "Plans change between test and production; plan-diff catches it",
    "The same statement can get a different access path in production than in test because the statistics differ (row counts, distinct keys, clustering). Comparing the two plans column by column — only the columns that matter for performance — before deployment catches it. Two plans are the same only when rows-compared-equal = rows-in-new-plan = rows-in-old-plan.",
);

/// Rows per table block in the C31 tables (750-byte rows in 8 KiB blocks).
const PER_BLOCK: usize = 10;

/// A deterministic xorshift64 generator.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// The cluster ratio of an index on the key when the i-th inserted row
/// lives in block i / PER_BLOCK: (N − CF) / (N − B), CF counting block
/// changes walking the keys in order (MECHANISMS §6.2).
fn cluster_ratio(order: &[usize]) -> f64 {
    let n = order.len();
    let mut block = vec![0usize; n];
    for (i, &k) in order.iter().enumerate() {
        block[k] = i / PER_BLOCK;
    }
    let cf = 1 + block.windows(2).filter(|w| w[0] != w[1]).count();
    let b = n.div_ceil(PER_BLOCK);
    (n - cf) as f64 / (n - b).max(1) as f64
}

/// Keys 0..n in load order: swaps random pairs (fixed seed) until the
/// cluster ratio is at or below `target`.
fn order_with_ratio(n: usize, target: f64, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut x = seed;
    while cluster_ratio(&v) > target {
        let i = (next(&mut x) % n as u64) as usize;
        let j = (next(&mut x) % n as u64) as usize;
        v.swap(i, j);
    }
    v
}

fn load(db: &Database, order: &[usize]) -> Result<()> {
    let mut s = db.session();
    s.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, grp INTEGER, pad TEXT)")?;
    let p = s.prepare("INSERT INTO t VALUES (?, ?, ?)")?;
    let pad = Value::Text("p".repeat(750));
    let rows: Vec<Vec<Value>> = order
        .iter()
        .map(|&k| vec![Value::Int(k as i64), Value::Int(k as i64 % 7), pad.clone()])
        .collect();
    for chunk in rows.chunks(500) {
        s.execute_array(&p, chunk)?;
    }
    s.commit()?;
    s.execute("ANALYZE TABLE t")?;
    Ok(())
}

/// What C31 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C31Evidence {
    /// Statements compared, and how many plan-diff reported changed.
    pub statements: u64,
    pub changed: u64,
    /// The range query: the method's three counts and the number of
    /// high-impact column differences.
    pub range_rows_equal: u64,
    pub range_rows_b: u64,
    pub range_rows_a: u64,
    pub range_high_diffs: u64,
    /// The point lookup: the three counts.
    pub lookup_rows_equal: u64,
    pub lookup_rows_b: u64,
    pub lookup_rows_a: u64,
    /// Consistent gets in production (B): its own plan, and the test
    /// plan forced there.
    pub prod_own_gets: u64,
    pub prod_test_plan_gets: u64,
}

/// Holds when plan-diff reports the range query as changed with at least
/// one high-impact column (the counts not all equal), the lookup as the
/// same (all three counts equal), and the comparison was worth making:
/// production's own plan reads fewer blocks there than the test plan
/// would. Does not hold if the plans did not change, or plan-diff missed
/// or invented a change.
pub fn c31_verdict(e: &C31Evidence) -> (Verdict, String) {
    let range_changed = !(e.range_rows_equal == e.range_rows_b && e.range_rows_b == e.range_rows_a);
    let lookup_same = e.lookup_rows_equal == e.lookup_rows_b && e.lookup_rows_b == e.lookup_rows_a;
    if range_changed && e.range_high_diffs > 0 && lookup_same {
        let worth = if e.prod_own_gets < e.prod_test_plan_gets {
            format!(
                "in production its own plan reads {} blocks where the test plan would read {}",
                e.prod_own_gets, e.prod_test_plan_gets
            )
        } else {
            format!(
                "although in production the test plan would have read no more ({} vs {})",
                e.prod_test_plan_gets, e.prod_own_gets
            )
        };
        (
            Verdict::Holds,
            format!(
                "the range query's plan changed (rows equal {}, in B {}, in A {}; {} high-impact columns) and plan-diff flagged it, the lookup's did not (counts {}/{}/{}); {worth}",
                e.range_rows_equal,
                e.range_rows_b,
                e.range_rows_a,
                e.range_high_diffs,
                e.lookup_rows_equal,
                e.lookup_rows_b,
                e.lookup_rows_a
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "range counts {}/{}/{} with {} high-impact differences, lookup counts {}/{}/{}",
                e.range_rows_equal,
                e.range_rows_b,
                e.range_rows_a,
                e.range_high_diffs,
                e.lookup_rows_equal,
                e.lookup_rows_b,
                e.lookup_rows_a
            ),
        )
    }
}

fn c31(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 20_000) as usize;
    let target = 0.67;
    ctx.step("building the test database (key order)");
    let (a, _) = ctx.database("c31-test", ctx.config())?;
    let test_order: Vec<usize> = (0..n).collect();
    load(&a, &test_order)?;
    ctx.step("building the production database (shuffled)");
    let (b, _) = ctx.database("c31-prod", ctx.config())?;
    let prod_order = order_with_ratio(n, target, ctx.seed);
    load(&b, &prod_order)?;
    let ratio_b = cluster_ratio(&prod_order);

    // The narrowest range (in steps of n/100 keys) whose plans differ:
    // where the §6.1 costs cross for production's clustering and not for
    // the test's.
    ctx.step("finding where the costs cross");
    let impact = ImpactTable::default();
    let lo = n / 4;
    let mut width = n / 100;
    let range = loop {
        let sql = format!(
            "SELECT k, grp FROM t WHERE k BETWEEN {lo} AND {}",
            lo + width - 1
        );
        let d = diff_databases(&a, &b, std::slice::from_ref(&sql), &impact, false)?;
        if d[0].status() == Status::Changed || width >= n / 2 {
            break sql;
        }
        width += n / 100;
    };
    let lookup = format!("SELECT * FROM t WHERE k = {}", n / 2);
    ctx.step("comparing and running the plans");
    let diffs = diff_databases(&a, &b, &[range.clone(), lookup.clone()], &impact, true)?;
    let cmp = |i: usize| diffs[i].comparison.clone();
    let rc = cmp(0).unwrap_or_default();
    let lc = cmp(1).unwrap_or_default();
    let gets = |database: Side, plan: Side| {
        diffs[0]
            .runs
            .iter()
            .find(|r| r.database == database && r.plan == plan)
            .map_or(0, |r| r.consistent_gets)
    };
    let e = C31Evidence {
        statements: diffs.len() as u64,
        changed: diffs
            .iter()
            .filter(|d| d.status() == Status::Changed)
            .count() as u64,
        range_rows_equal: rc.rows_equal as u64,
        range_rows_b: rc.rows_b as u64,
        range_rows_a: rc.rows_a as u64,
        range_high_diffs: rc
            .differences
            .iter()
            .filter(|d| d.impact == crate::plandiff::Impact::High)
            .count() as u64,
        lookup_rows_equal: lc.rows_equal as u64,
        lookup_rows_b: lc.rows_b as u64,
        lookup_rows_a: lc.rows_a as u64,
        prod_own_gets: gets(Side::B, Side::B),
        prod_test_plan_gets: gets(Side::B, Side::A),
    };
    let evidence = vec![
        Evidence::counter("rows", n as u64, "rows"),
        Evidence::counter(
            "prod.cluster_ratio_pct",
            (ratio_b * 100.0).round() as u64,
            "%",
        ),
        Evidence::counter("range.width", width as u64, "keys"),
        Evidence::counter("statements", e.statements, "count"),
        Evidence::counter("changed", e.changed, "count"),
        Evidence::counter("range.rows_equal", e.range_rows_equal, "rows"),
        Evidence::counter("range.rows_in_b", e.range_rows_b, "rows"),
        Evidence::counter("range.rows_in_a", e.range_rows_a, "rows"),
        Evidence::counter("range.high_impact_columns", e.range_high_diffs, "count"),
        Evidence::counter("lookup.rows_equal", e.lookup_rows_equal, "rows"),
        Evidence::counter("lookup.rows_in_b", e.lookup_rows_b, "rows"),
        Evidence::counter("lookup.rows_in_a", e.lookup_rows_a, "rows"),
        Evidence::counter("test.own_plan_gets", gets(Side::A, Side::A), "blocks"),
        Evidence::counter("test.prod_plan_gets", gets(Side::A, Side::B), "blocks"),
        Evidence::counter("prod.own_plan_gets", e.prod_own_gets, "blocks"),
        Evidence::counter("prod.test_plan_gets", e.prod_test_plan_gets, "blocks"),
    ];
    let notes = vec![crate::plandiff::render_table(&diffs, &impact)];
    Ok(report(
        C31,
        c31_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("target_cluster_ratio".into(), format!("{target}")),
        ],
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c31_rule_on_synthetic_evidence() {
        let good = C31Evidence {
            statements: 2,
            changed: 1,
            range_rows_equal: 0,
            range_rows_b: 1,
            range_rows_a: 1,
            range_high_diffs: 3,
            lookup_rows_equal: 1,
            lookup_rows_b: 1,
            lookup_rows_a: 1,
            prod_own_gets: 100,
            prod_test_plan_gets: 160,
        };
        assert_eq!(c31_verdict(&good).0, Verdict::Holds);
        let unchanged = C31Evidence {
            range_rows_equal: 1,
            range_high_diffs: 0,
            changed: 0,
            ..good
        };
        assert_eq!(c31_verdict(&unchanged).0, Verdict::DoesNotHold);
        let false_alarm = C31Evidence {
            lookup_rows_equal: 0,
            ..good
        };
        assert_eq!(c31_verdict(&false_alarm).0, Verdict::DoesNotHold);
    }

    #[test]
    fn the_shuffle_reaches_its_target_ratio() {
        let o = order_with_ratio(1000, 0.67, 42);
        let r = cluster_ratio(&o);
        assert!(r <= 0.67 && r > 0.6, "{r}");
        assert_eq!(cluster_ratio(&(0..1000).collect::<Vec<_>>()), 1.0);
    }
}
