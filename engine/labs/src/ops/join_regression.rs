//! C33: a plan regression by join method. The same join, in a test and a
//! production database whose statistics differ, gets nested loops in one
//! and a hash (or merge) join in the other; plan-diff flags METHOD (and the
//! join order when it moved) at high impact, and each plan is run, forced
//! by hint, in both databases.
//!
//! ```text
//!  cust (id PK, region, name)  n rows        ord (id PK, cust_id, amount)
//!  ord_cust ON ord (cust_id)                 2n rows, two per customer
//!
//!  test:       region = id % 10     NDV 10   region = 3 → n/10 customers
//!  production: region = id % 500    NDV 500  region = 3 → n/500 customers
//!
//!  SELECT cust.name, ord.amount FROM cust JOIN ord ON ord.cust_id = cust.id
//!   WHERE cust.region = 3
//! ```
//!
//! Same row counts, same indexes, same query: only the number of distinct
//! regions differs, so the estimated customers driving the join differ
//! fifty-fold. Few drivers make a descent of `ord_cust` per customer
//! cheaper than reading `ord` whole (nested loops); many make it dearer
//! (hash join). The statement names its tables without aliases so that
//! plan-diff can force each plan in the other database by hint.

use super::super::{report, Evidence, LabCtx, Report, Verdict};
use blocklab::db::Database;
use blocklab::error::Result;
use blocklab::plandiff::{diff_databases, Impact, ImpactTable, Side};

pub(super) const C33: (&str, &str, &str) = (
    "C33",
    "Plans regress by join method too; plan-diff catches METHOD and the join order",
    "A plan can regress by join method, not only by access path: with other statistics the same join gets NL in one database and hash/merge in another; comparing METHOD and the join order catches it.",
);

/// The join both databases run.
const JOIN: &str = "SELECT cust.name, ord.amount FROM cust JOIN ord ON ord.cust_id = cust.id \
                    WHERE cust.region = 3";

/// Loads `n` customers with `regions` distinct regions and two orders
/// each, then gathers statistics.
fn load(db: &Database, n: u64, regions: u64) -> Result<()> {
    let mut s = db.session();
    for sql in [
        "CREATE TABLE cust (id INTEGER PRIMARY KEY, region INTEGER, name TEXT)".to_string(),
        "CREATE TABLE ord (id INTEGER PRIMARY KEY, cust_id INTEGER, amount INTEGER)".to_string(),
        format!(
            "INSERT INTO cust SELECT value, value % {regions}, 'customer ' || value \
             FROM generate_series(1, {n})"
        ),
        // (id * 7) % n + 1 visits every customer twice, in scattered order.
        format!(
            "INSERT INTO ord SELECT value, (value * 7) % {n} + 1, value % 1000 \
             FROM generate_series(1, {})",
            2 * n
        ),
        "CREATE INDEX ord_cust ON ord (cust_id)".to_string(),
        "COMMIT".to_string(),
        "ANALYZE TABLE cust".to_string(),
        "ANALYZE TABLE ord".to_string(),
    ] {
        s.execute(&sql)?;
    }
    Ok(())
}

/// What C33 measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C33Evidence {
    /// plan-diff's three counts for the join.
    pub rows_equal: u64,
    pub rows_b: u64,
    pub rows_a: u64,
    /// High-impact differences on METHOD and on TNAME (the join order).
    pub method_diffs: u64,
    pub order_diffs: u64,
    /// Whether one plan joins by nested loops (METHOD 1) and the other by
    /// hash or merge (METHOD 5 or 2).
    pub nl_vs_set: bool,
    /// Consistent gets of each plan in each database, and whether each
    /// forced run's EXPLAIN matched the plan it imitates.
    pub test_own_gets: u64,
    pub test_prod_plan_gets: u64,
    pub prod_own_gets: u64,
    pub prod_test_plan_gets: u64,
    pub forced_plans_matched: bool,
    /// Both plans returned the same number of rows in each database.
    pub same_rows: bool,
}

/// Holds when plan-diff reports the join changed (the three counts not
/// all equal) with METHOD at high impact, one plan is nested loops and the
/// other a hash or merge join, each forced plan really ran as the plan it
/// imitates with the same rows, and each database's own plan reads fewer
/// blocks there than the other database's plan would: the regression is
/// real both ways. Depends when the change is flagged but a database's
/// own plan is not the cheaper one there (the optimizer's estimate is
/// off); does not hold when plan-diff misses the change.
pub fn c33_verdict(e: &C33Evidence) -> (Verdict, String) {
    let changed = !(e.rows_equal == e.rows_b && e.rows_b == e.rows_a);
    let counts = format!(
        "rows equal {}, in B {}, in A {}; METHOD differs at {} row(s), TNAME at {}",
        e.rows_equal, e.rows_b, e.rows_a, e.method_diffs, e.order_diffs
    );
    if !(changed && e.method_diffs > 0 && e.nl_vs_set) {
        return (
            Verdict::DoesNotHold,
            format!("plan-diff did not flag a nested-loops / hash-or-merge change: {counts}"),
        );
    }
    if !(e.forced_plans_matched && e.same_rows) {
        return (
            Verdict::DoesNotHold,
            format!("flagged ({counts}), but a forced plan did not run as the plan it imitates, or returned other rows"),
        );
    }
    let gets = format!(
        "test reads {} blocks with its plan and {} with production's; production {} with its own and {} with test's",
        e.test_own_gets, e.test_prod_plan_gets, e.prod_own_gets, e.prod_test_plan_gets
    );
    if e.test_own_gets < e.test_prod_plan_gets && e.prod_own_gets < e.prod_test_plan_gets {
        (
            Verdict::Holds,
            format!("plan-diff flagged the join at high impact ({counts}); each plan is the cheaper one where it was chosen: {gets}"),
        )
    } else {
        (
            Verdict::Depends,
            format!("plan-diff flagged the join ({counts}), but a database's own plan is not its cheaper one: {gets}"),
        )
    }
}

pub(super) fn c33(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(1_000, 10_000);
    let (test_regions, prod_regions) = (10, 500);
    ctx.step("building the test database (10 regions)");
    let (a, _) = ctx.database("c33-test", ctx.config())?;
    load(&a, n, test_regions)?;
    ctx.step("building the production database (500 regions)");
    let (b, _) = ctx.database("c33-prod", ctx.config())?;
    load(&b, n, prod_regions)?;

    ctx.step("comparing and running the plans");
    let impact = ImpactTable::default();
    let diffs = diff_databases(&a, &b, &[JOIN.to_string()], &impact, true)?;
    let d = &diffs[0];
    let cmp = d.comparison.clone().unwrap_or_default();
    let high = |col: &str| {
        cmp.differences
            .iter()
            .filter(|x| x.column.as_deref() == Some(col) && x.impact == Impact::High)
            .count() as u64
    };
    let methods = |e: &Option<blocklab::sql::Explain>| -> Vec<u32> {
        e.as_ref()
            .map(|e| e.plan_table.iter().map(|r| r.method).collect())
            .unwrap_or_default()
    };
    let (ma, mb) = (methods(&d.explain_a), methods(&d.explain_b));
    let is_nl = |m: &[u32]| m.contains(&1);
    let is_set = |m: &[u32]| m.contains(&5) || m.contains(&2);
    let run = |database: Side, plan: Side| {
        d.runs
            .iter()
            .find(|r| r.database == database && r.plan == plan)
    };
    let gets = |database: Side, plan: Side| run(database, plan).map_or(0, |r| r.consistent_gets);
    let rows = |database: Side, plan: Side| run(database, plan).map_or(u64::MAX, |r| r.rows);
    let forced_ok = [(Side::A, Side::B), (Side::B, Side::A)]
        .iter()
        .all(|&(db, plan)| run(db, plan).is_some_and(|r| r.plan_matches && r.error.is_none()));
    let e = C33Evidence {
        rows_equal: cmp.rows_equal as u64,
        rows_b: cmp.rows_b as u64,
        rows_a: cmp.rows_a as u64,
        method_diffs: high("METHOD"),
        order_diffs: high("TNAME"),
        nl_vs_set: (is_nl(&ma) && is_set(&mb)) || (is_set(&ma) && is_nl(&mb)),
        test_own_gets: gets(Side::A, Side::A),
        test_prod_plan_gets: gets(Side::A, Side::B),
        prod_own_gets: gets(Side::B, Side::B),
        prod_test_plan_gets: gets(Side::B, Side::A),
        forced_plans_matched: forced_ok,
        same_rows: rows(Side::A, Side::A) == rows(Side::A, Side::B)
            && rows(Side::B, Side::B) == rows(Side::B, Side::A),
    };
    let method_code = |m: &[u32]| m.iter().copied().max().unwrap_or(0) as u64;
    let evidence = vec![
        Evidence::counter("customers", n, "rows"),
        Evidence::counter("orders", 2 * n, "rows"),
        Evidence::counter("test.regions", test_regions, "count"),
        Evidence::counter("prod.regions", prod_regions, "count"),
        Evidence::counter("test.join_method", method_code(&ma), "METHOD"),
        Evidence::counter("prod.join_method", method_code(&mb), "METHOD"),
        Evidence::counter("rows_equal", e.rows_equal, "rows"),
        Evidence::counter("rows_in_b", e.rows_b, "rows"),
        Evidence::counter("rows_in_a", e.rows_a, "rows"),
        Evidence::counter("method.high_impact", e.method_diffs, "count"),
        Evidence::counter("tname.high_impact", e.order_diffs, "count"),
        Evidence::counter("test.rows", rows(Side::A, Side::A), "rows"),
        Evidence::counter("prod.rows", rows(Side::B, Side::B), "rows"),
        Evidence::counter("test.own_plan_gets", e.test_own_gets, "blocks"),
        Evidence::counter("test.prod_plan_gets", e.test_prod_plan_gets, "blocks"),
        Evidence::counter("prod.own_plan_gets", e.prod_own_gets, "blocks"),
        Evidence::counter("prod.test_plan_gets", e.prod_test_plan_gets, "blocks"),
    ];
    let notes = vec![blocklab::plandiff::render_table(&diffs, &impact)];
    Ok(report(
        C33,
        c33_verdict(&e),
        evidence,
        vec![
            ("customers".into(), n.to_string()),
            ("test.regions".into(), test_regions.to_string()),
            ("prod.regions".into(), prod_regions.to_string()),
        ],
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c33_rule_on_synthetic_evidence() {
        let good = C33Evidence {
            rows_equal: 1,
            rows_b: 2,
            rows_a: 2,
            method_diffs: 1,
            order_diffs: 0,
            nl_vs_set: true,
            test_own_gets: 30,
            test_prod_plan_gets: 200,
            prod_own_gets: 12,
            prod_test_plan_gets: 30,
            forced_plans_matched: true,
            same_rows: true,
        };
        assert_eq!(c33_verdict(&good).0, Verdict::Holds);
        let unflagged = C33Evidence {
            rows_equal: 2,
            method_diffs: 0,
            ..good
        };
        assert_eq!(c33_verdict(&unflagged).0, Verdict::DoesNotHold);
        let same_method = C33Evidence {
            nl_vs_set: false,
            ..good
        };
        assert_eq!(c33_verdict(&same_method).0, Verdict::DoesNotHold);
        let not_forced = C33Evidence {
            forced_plans_matched: false,
            ..good
        };
        assert_eq!(c33_verdict(&not_forced).0, Verdict::DoesNotHold);
        let other_rows = C33Evidence {
            same_rows: false,
            ..good
        };
        assert_eq!(c33_verdict(&other_rows).0, Verdict::DoesNotHold);
        let misjudged = C33Evidence {
            prod_own_gets: 40,
            ..good
        };
        assert_eq!(c33_verdict(&misjudged).0, Verdict::Depends);
    }
}
