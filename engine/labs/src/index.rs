//! Index-access labs measured through SQL: functions in predicates (C24)
//! and sort avoidance (C26).

use super::{delta, report, Evidence, Lab, LabCtx, Report, Verdict};
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C24.0,
            title: C24.1,
            claim: C24.2,
            run: c24,
        },
        Lab {
            id: C26.0,
            title: C26.1,
            claim: C26.2,
            run: c26,
        },
    ]
}

/// `t(a, b, c, d)`: a = 1..n, b = a % 10, c = a % 7, d = 'x' || a, with a
/// primary key on a and an index on (b, c), analyzed.
fn load_t(s: &mut Session, n: u64) -> Result<()> {
    s.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d TEXT)")?;
    s.execute(&format!(
        "INSERT INTO t SELECT value, value % 10, value % 7, 'x' || value FROM generate_series(1, {n})"
    ))?;
    s.execute("CREATE INDEX t_bc ON t (b, c)")?;
    s.execute("COMMIT")?;
    s.execute("ANALYZE TABLE t")?;
    Ok(())
}

const C24: (&str, &str, &str) = (
    "C24",
    "A function in a WHERE clause runs once per row examined",
    "A user-defined function in a WHERE clause runs once per row examined: per table row on a full scan, fewer times when other predicates filter first, and once when it supplies the value of an `=` matching predicate.",
);

/// What C24 measures: calls of the function per plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C24Evidence {
    pub rows: u64,
    /// Rows with b = 3 (what the other predicate lets through).
    pub rows_b3: u64,
    /// Full scan, the function alone.
    pub full_alone: u64,
    /// Full scan, `b = 3 AND f(a) = …` (the other predicate written first).
    pub full_other_first: u64,
    /// Full scan, `f(a) = … AND b = 3` (the function written first).
    pub full_function_first: u64,
    /// Index range scan on b = 3, the function on the fetched rows.
    pub index_filter: u64,
    /// `b = f(3)` through the index: the function gives the matching value.
    pub matching_value: u64,
    /// The same five plans calling `g`, the same function written as a
    /// query (`SELECT a FROM t WHERE a = ?`, recursive SQL): for each,
    /// (user function calls, recursive calls).
    pub query_fn: [(u64, u64); 5],
}

impl C24Evidence {
    /// The calls of `f` per plan, in the order of `query_fn`.
    fn plans(&self) -> [u64; 5] {
        [
            self.full_alone,
            self.full_other_first,
            self.full_function_first,
            self.index_filter,
            self.matching_value,
        ]
    }
}

/// The claim holds when the call counts are exactly: one per table row on
/// a full scan, one per surviving row when another predicate filters first
/// (on a full scan or through an index), and one per statement when the
/// function supplies a matching value; and the function written as a query
/// is called as often on every plan, each call one recursive call (one
/// execution of its query).
pub fn c24_verdict(e: &C24Evidence) -> (Verdict, String) {
    let per_row = e.full_alone == e.rows;
    let filtered = e.full_other_first == e.rows_b3 && e.index_filter == e.rows_b3;
    let once = e.matching_value == 1;
    let recursive = e
        .plans()
        .iter()
        .zip(&e.query_fn)
        .all(|(f, (g, rec))| g == f && rec == g);
    let order = if e.full_function_first == e.full_other_first {
        "the order the predicates are written in does not matter".to_string()
    } else {
        format!(
            "blocklab evaluates AND terms in the order written: function first costs {} calls instead of {}",
            e.full_function_first, e.full_other_first
        )
    };
    if per_row && filtered && once && recursive {
        (
            Verdict::Holds,
            format!(
                "{} calls for {} rows on a full scan, {} when b = 3 filters first (full scan or index), 1 when it supplies the matching value; {order}; written as a query, the function makes as many recursive calls on every plan",
                e.full_alone, e.rows, e.full_other_first
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "calls: full {} (rows {}), filtered {} / index {} (expected {}), matching {} (expected 1); the query function's (calls, recursive calls) per plan {:?} (expected {:?} each twice)",
                e.full_alone, e.rows, e.full_other_first, e.index_filter, e.rows_b3, e.matching_value, e.query_fn, e.plans()
            ),
        )
    }
}

fn c24(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(2_000, 100_000);
    let (db, _) = ctx.database("c24", ctx.config())?;
    db.register_function("f", |v: &[Value]| Ok(v[0].clone()));
    // The same function as a query: each call is recursive SQL.
    db.register_query_function("g", "SELECT a FROM t WHERE a = ?")?;
    let mut s = db.session();
    ctx.step("loading");
    load_t(&mut s, n)?;
    let calls = |s: &mut Session, sql: &str| -> Result<(u64, u64)> {
        let st = s.execute(sql)?.stats;
        Ok((
            st.get(Stat::UserFunctionCalls),
            st.get(Stat::RecursiveCalls),
        ))
    };
    let rows_b3 = s.execute("SELECT COUNT(*) FROM t WHERE b = 3")?.rows[0][0]
        .as_int()
        .unwrap_or(0) as u64;
    ctx.step("measuring");
    let plans = [
        "SELECT /*+ FULL(t) */ a FROM t WHERE f(a) = 5",
        "SELECT /*+ FULL(t) */ a FROM t WHERE b = 3 AND f(a) = 5",
        "SELECT /*+ FULL(t) */ a FROM t WHERE f(a) = 5 AND b = 3",
        "SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = 3 AND f(a) = 5",
        "SELECT /*+ INDEX(t t_bc) */ a FROM t WHERE b = f(3)",
    ];
    let mut by_f = [0u64; 5];
    let mut query_fn = [(0u64, 0u64); 5];
    for (i, sql) in plans.iter().enumerate() {
        by_f[i] = calls(&mut s, sql)?.0;
        query_fn[i] = calls(&mut s, &sql.replace("f(", "g("))?;
    }
    let e = C24Evidence {
        rows: n,
        rows_b3,
        full_alone: by_f[0],
        full_other_first: by_f[1],
        full_function_first: by_f[2],
        index_filter: by_f[3],
        matching_value: by_f[4],
        query_fn,
    };
    let mut evidence = vec![
        Evidence::counter("rows", e.rows, "rows"),
        Evidence::counter("rows_b_eq_3", e.rows_b3, "rows"),
        Evidence::counter("calls.full_scan", e.full_alone, "calls"),
        Evidence::counter("calls.full_scan_other_first", e.full_other_first, "calls"),
        Evidence::counter(
            "calls.full_scan_function_first",
            e.full_function_first,
            "calls",
        ),
        Evidence::counter("calls.index_then_filter", e.index_filter, "calls"),
        Evidence::counter("calls.matching_value", e.matching_value, "calls"),
    ];
    let names = [
        "full_scan",
        "full_scan_other_first",
        "full_scan_function_first",
        "index_then_filter",
        "matching_value",
    ];
    for (name, (g, rec)) in names.iter().zip(e.query_fn) {
        evidence.push(Evidence::counter(
            format!("query_function.{name}.calls"),
            g,
            "calls",
        ));
        evidence.push(Evidence::counter(
            format!("query_function.{name}.recursive_calls"),
            rec,
            "calls",
        ));
    }
    Ok(report(
        C24,
        c24_verdict(&e),
        evidence,
        vec![("rows".into(), n.to_string())],
        Vec::new(),
    ))
}

const C26: (&str, &str, &str) = (
    "C26",
    "An index on the = columns then the ORDER BY columns skips the sort",
    "An index built on the `=` columns followed by the ORDER BY columns lets a query skip the sort; an IN-list on a leading column breaks that (each element is a separate run), so a sort is needed again.",
);

/// What C26 measures: sorts and rows sorted per plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C26Evidence {
    pub eq_sorts: u64,
    pub eq_rows_sorted: u64,
    pub inlist_sorts: u64,
    pub inlist_rows_sorted: u64,
    pub full_sorts: u64,
    /// Whether the index plan returned the same rows, in the same order of
    /// the ORDER BY column, as the sorted full scan.
    pub same_order: bool,
}

/// Holds when the `=` plan sorts nothing and still returns the rows in
/// order, while the IN-list plan needs a sort again.
pub fn c26_verdict(e: &C26Evidence) -> (Verdict, String) {
    if e.eq_sorts == 0 && e.same_order && e.inlist_sorts > 0 {
        (
            Verdict::Holds,
            format!(
                "= on the leading column: 0 sorts, rows already in ORDER BY order; IN-list: {} sort of {} rows; full scan: {} sort",
                e.inlist_sorts, e.inlist_rows_sorted, e.full_sorts
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "= plan: {} sorts ({} rows, order kept: {}); IN-list plan: {} sorts",
                e.eq_sorts, e.eq_rows_sorted, e.same_order, e.inlist_sorts
            ),
        )
    }
}

fn c26(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(2_000, 100_000);
    let (_db, mut s) = ctx.open("c26", ctx.config())?;
    ctx.step("loading");
    load_t(&mut s, n)?;
    ctx.step("measuring");
    let sorts = |s: &mut Session, sql: &str| -> Result<(u64, u64, Vec<Vec<Value>>)> {
        let before = s.stats();
        let r = s.execute(sql)?;
        let after = s.stats();
        Ok((
            delta(&after, &before, Stat::SortsMemory),
            delta(&after, &before, Stat::SortsRows),
            r.rows,
        ))
    };
    let (eq_sorts, eq_rows_sorted, eq_rows) = sorts(
        &mut s,
        "SELECT /*+ INDEX(t t_bc) */ c FROM t WHERE b = 3 ORDER BY c",
    )?;
    let (inlist_sorts, inlist_rows_sorted, _) = sorts(
        &mut s,
        "SELECT /*+ INDEX(t t_bc) */ c FROM t WHERE b IN (3, 4) ORDER BY c",
    )?;
    let (full_sorts, _, full_rows) = sorts(
        &mut s,
        "SELECT /*+ FULL(t) */ c FROM t WHERE b = 3 ORDER BY c",
    )?;
    let e = C26Evidence {
        eq_sorts,
        eq_rows_sorted,
        inlist_sorts,
        inlist_rows_sorted,
        full_sorts,
        same_order: eq_rows == full_rows,
    };
    let plan = s
        .execute("EXPLAIN SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b IN (3, 4) ORDER BY c")?
        .explain
        .map(|e| e.render())
        .unwrap_or_default();
    Ok(report(
        C26,
        c26_verdict(&e),
        vec![
            Evidence::counter("eq_order_by.sorts", e.eq_sorts, "sorts"),
            Evidence::counter("eq_order_by.rows_sorted", e.eq_rows_sorted, "rows"),
            Evidence::counter("in_list_order_by.sorts", e.inlist_sorts, "sorts"),
            Evidence::counter("in_list_order_by.rows_sorted", e.inlist_rows_sorted, "rows"),
            Evidence::counter("full_scan_order_by.sorts", e.full_sorts, "sorts"),
            Evidence::counter("eq_order_matches_sorted", u64::from(e.same_order), "bool"),
        ],
        vec![("rows".into(), n.to_string())],
        vec![plan],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c24_rule_on_synthetic_evidence() {
        let good = C24Evidence {
            rows: 100,
            rows_b3: 10,
            full_alone: 100,
            full_other_first: 10,
            full_function_first: 100,
            index_filter: 10,
            matching_value: 1,
            query_fn: [(100, 100), (10, 10), (100, 100), (10, 10), (1, 1)],
        };
        assert_eq!(c24_verdict(&good).0, Verdict::Holds);
        // A query function whose calls are not each one recursive call
        // (its query not run per call, or run more than once).
        let cached = C24Evidence {
            query_fn: [(100, 1), (10, 10), (100, 100), (10, 10), (1, 1)],
            ..good
        };
        assert_eq!(c24_verdict(&cached).0, Verdict::DoesNotHold);
        // Called more often than the Rust function on the same plan.
        let more = C24Evidence {
            query_fn: [(100, 100), (100, 100), (100, 100), (10, 10), (1, 1)],
            ..good
        };
        assert_eq!(c24_verdict(&more).0, Verdict::DoesNotHold);
        let every_row = C24Evidence {
            matching_value: 100,
            ..good
        };
        assert_eq!(c24_verdict(&every_row).0, Verdict::DoesNotHold);
        let no_filtering = C24Evidence {
            full_other_first: 100,
            ..good
        };
        assert_eq!(c24_verdict(&no_filtering).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c26_rule_on_synthetic_evidence() {
        let good = C26Evidence {
            eq_sorts: 0,
            eq_rows_sorted: 0,
            inlist_sorts: 1,
            inlist_rows_sorted: 20,
            full_sorts: 1,
            same_order: true,
        };
        assert_eq!(c26_verdict(&good).0, Verdict::Holds);
        assert_eq!(
            c26_verdict(&C26Evidence {
                eq_sorts: 1,
                ..good
            })
            .0,
            Verdict::DoesNotHold
        );
        assert_eq!(
            c26_verdict(&C26Evidence {
                inlist_sorts: 0,
                ..good
            })
            .0,
            Verdict::DoesNotHold
        );
    }
}
