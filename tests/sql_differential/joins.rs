//! Joins against SQLite: 2 to 4 random tables, queries joining them with
//! inner and left joins on equality and range predicates (NULLs in the
//! join columns), with and without GROUP BY, each run unhinted and then
//! forced into every join method by hint — nested loops, hash join (in
//! memory and spilling past a tiny `HASH_AREA_SIZE`), sort-merge join —
//! and every run must give SQLite's rows.
//!
//! ```text
//!  CREATE TABLE jN (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)    N < 4
//!  [CREATE INDEX jN_k ON jN (k)]                  so NL can probe by index
//!  INSERT …                                       0..40 rows, ~20% NULLs
//!  [ANALYZE TABLE jN]                             blocklab only: costs move
//!  SELECT /*+ LEADING(…) USE_NL(…) | USE_HASH(…) | USE_MERGE(…) */ …
//!    FROM j0 [LEFT] JOIN j1 ON j0.k = j1.k [AND j1.v > 3] …  (or a comma
//!    join with the ON conditions in WHERE) [WHERE …] [GROUP BY jA.k]
//! ```
//!
//! A join predicate is `=`, a range (`<`, `<=`, `>`, `>=`) or both; an
//! equality lets every method apply, a range alone leaves nested loops
//! (and the cartesian merge join), and the hint that cannot apply must be
//! ignored, never change the answer. The LEADING order is a permutation
//! of the tables for inner joins and the FROM order when a LEFT JOIN is
//! present (blocklab keeps it there). Values are small integers, so joins
//! fan out and sums stay exact; no ORDER BY, so rows compare as multisets.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::{Check, Pair};

/// Tables at most in one case.
const MAX_TABLES: usize = 4;

#[derive(Clone, Copy, Debug)]
enum JoinCmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `a.k = b.k AND a.v <= b.v`: an equality key and a range residue.
    EqAndRange,
}

/// The join of table `i` (1..) to an earlier one.
#[derive(Clone, Debug)]
struct JoinSpec {
    /// The earlier table, modulo `i`.
    to: u8,
    left: bool,
    /// Join column on each side: `k` when false, `v` when true.
    on_v: (bool, bool),
    cmp: JoinCmp,
    /// `AND ji.v > lit` inside the ON: for a LEFT JOIN it limits which
    /// rows match, not which outer rows survive.
    extra: Option<i8>,
}

#[derive(Clone, Debug)]
enum Filter {
    /// `jN.v > lit`
    Gt(u8, i8),
    /// `jN.v IS NULL`: after a LEFT JOIN, keeps the unmatched rows.
    IsNull(u8),
    /// `jN.k <> lit`
    Ne(u8, i8),
}

#[derive(Clone, Debug)]
struct JoinQuery {
    joins: Vec<JoinSpec>,
    /// Inner joins written as `FROM a, b WHERE …` instead of `JOIN … ON`.
    comma: bool,
    filter: Option<Filter>,
    /// `GROUP BY jA.k` with COUNT/SUM/MIN over jB.v.
    group: Option<(u8, u8)>,
    /// The LEADING order: the tables sorted by these keys.
    order_keys: Vec<u8>,
}

#[derive(Clone, Debug)]
struct JoinCase {
    /// (k, v) of every row of every table.
    tables: Vec<Vec<(Option<i8>, Option<i8>)>>,
    indexed: Vec<bool>,
    analyzed: bool,
    queries: Vec<JoinQuery>,
}

fn join_spec() -> impl Strategy<Value = JoinSpec> {
    let cmp = prop::sample::select(vec![
        JoinCmp::Eq,
        JoinCmp::Eq,
        JoinCmp::Eq,
        JoinCmp::Lt,
        JoinCmp::Le,
        JoinCmp::Gt,
        JoinCmp::Ge,
        JoinCmp::EqAndRange,
    ]);
    (
        any::<u8>(),
        prop::bool::weighted(0.35),
        (prop::bool::weighted(0.2), prop::bool::weighted(0.2)),
        cmp,
        prop::option::weighted(0.3, -3i8..4),
    )
        .prop_map(|(to, left, on_v, cmp, extra)| JoinSpec {
            to,
            left,
            on_v,
            cmp,
            extra,
        })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![
        2 => (any::<u8>(), -3i8..4).prop_map(|(t, l)| Filter::Gt(t, l)),
        1 => any::<u8>().prop_map(Filter::IsNull),
        1 => (any::<u8>(), 0i8..6).prop_map(|(t, l)| Filter::Ne(t, l)),
    ]
}

fn join_query(tables: usize) -> impl Strategy<Value = JoinQuery> {
    (
        prop::collection::vec(join_spec(), tables - 1),
        any::<bool>(),
        prop::option::weighted(0.5, filter()),
        prop::option::weighted(0.35, (any::<u8>(), any::<u8>())),
        prop::collection::vec(any::<u8>(), tables),
    )
        .prop_map(|(joins, comma, filter, group, order_keys)| JoinQuery {
            joins,
            comma,
            filter,
            group,
            order_keys,
        })
}

fn join_case() -> impl Strategy<Value = JoinCase> {
    (2..=MAX_TABLES).prop_flat_map(|n| {
        let row = (
            prop::option::weighted(0.8, 0i8..6),
            prop::option::weighted(0.8, -4i8..5),
        );
        (
            prop::collection::vec(prop::collection::vec(row, 0..40), n),
            prop::collection::vec(any::<bool>(), n),
            any::<bool>(),
            prop::collection::vec(join_query(n), 1..4),
        )
            .prop_map(|(tables, indexed, analyzed, queries)| JoinCase {
                tables,
                indexed,
                analyzed,
                queries,
            })
    })
}

fn lit(v: Option<i8>) -> String {
    v.map_or("NULL".to_string(), |v| v.to_string())
}

/// The statements that create and fill the tables, for both engines.
fn setup(case: &JoinCase) -> Vec<String> {
    let mut script = Vec::new();
    for (t, rows) in case.tables.iter().enumerate() {
        script.push(format!(
            "CREATE TABLE j{t} (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER)"
        ));
        if case.indexed[t] {
            script.push(format!("CREATE INDEX j{t}_k ON j{t} (k)"));
        }
        if !rows.is_empty() {
            let values: Vec<String> = rows
                .iter()
                .enumerate()
                .map(|(i, (k, v))| format!("({i}, {}, {})", lit(*k), lit(*v)))
                .collect();
            script.push(format!("INSERT INTO j{t} VALUES {}", values.join(", ")));
        }
    }
    script
}

/// The join method a hint forces on every table but the first.
#[derive(Clone, Copy, Debug)]
enum Forced {
    Unhinted,
    NestedLoops,
    Hash,
    /// A hash join with a 64-byte work area: every build spills.
    HashSpilling,
    Merge,
}

impl Forced {
    const ALL: [Forced; 5] = [
        Forced::Unhinted,
        Forced::NestedLoops,
        Forced::Hash,
        Forced::HashSpilling,
        Forced::Merge,
    ];
}

/// The query's text under `forced`.
fn render(q: &JoinQuery, n: usize, forced: Forced) -> String {
    let col = |t: usize, v: bool| format!("j{t}.{}", if v { "v" } else { "k" });
    let any_left = q.joins.iter().any(|j| j.left);
    let comma = q.comma && !any_left;
    let mut from = "j0".to_string();
    let mut conds: Vec<String> = Vec::new();
    for (idx, j) in q.joins.iter().enumerate() {
        let i = idx + 1;
        let p = j.to as usize % i;
        let (a, b) = (col(p, j.on_v.0), col(i, j.on_v.1));
        let mut on = match j.cmp {
            JoinCmp::Eq => format!("{a} = {b}"),
            JoinCmp::Lt => format!("{a} < {b}"),
            JoinCmp::Le => format!("{a} <= {b}"),
            JoinCmp::Gt => format!("{a} > {b}"),
            JoinCmp::Ge => format!("{a} >= {b}"),
            JoinCmp::EqAndRange => format!("{a} = {b} AND j{p}.v <= j{i}.v"),
        };
        if let Some(x) = j.extra {
            on.push_str(&format!(" AND j{i}.v > {x}"));
        }
        if comma {
            from.push_str(&format!(", j{i}"));
            conds.push(on);
        } else {
            let kind = if j.left { "LEFT JOIN" } else { "JOIN" };
            from.push_str(&format!(" {kind} j{i} ON {on}"));
        }
    }
    match &q.filter {
        Some(Filter::Gt(t, l)) => conds.push(format!("j{}.v > {l}", *t as usize % n)),
        Some(Filter::IsNull(t)) => conds.push(format!("j{}.v IS NULL", *t as usize % n)),
        Some(Filter::Ne(t, l)) => conds.push(format!("j{}.k <> {l}", *t as usize % n)),
        None => {}
    }
    let (items, group) = match q.group {
        Some((a, b)) => {
            let (a, b) = (a as usize % n, b as usize % n);
            (
                format!("j{a}.k, COUNT(*), COUNT(j{b}.v), SUM(j{b}.v), MIN(j{b}.id)"),
                format!(" GROUP BY j{a}.k"),
            )
        }
        None => (
            (0..n)
                .map(|t| format!("j{t}.id, j{t}.v"))
                .collect::<Vec<_>>()
                .join(", "),
            String::new(),
        ),
    };
    let hint = hint(q, n, forced, any_left);
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    format!("SELECT {hint}{items} FROM {from}{filter}{group}")
}

/// `/*+ LEADING(…) USE_…(…) */` for `forced`, empty when unhinted.
fn hint(q: &JoinQuery, n: usize, forced: Forced, any_left: bool) -> String {
    let method = match forced {
        Forced::Unhinted => return String::new(),
        Forced::NestedLoops => "USE_NL",
        Forced::Hash | Forced::HashSpilling => "USE_HASH",
        Forced::Merge => "USE_MERGE",
    };
    let mut order: Vec<usize> = (0..n).collect();
    if !any_left {
        order.sort_by_key(|&t| (q.order_keys[t], t));
    }
    let names: Vec<String> = order.iter().map(|t| format!("j{t}")).collect();
    format!(
        "/*+ LEADING({}) {method}({}) */ ",
        names.join(" "),
        names[1..].join(" ")
    )
}

/// Runs `sql` on blocklab alone: session settings SQLite has no word for.
fn ours_only(pair: &mut Pair, sql: &str) -> Result<(), TestCaseError> {
    pair.script.push(format!("{sql}  -- blocklab only"));
    pair.session
        .execute(sql)
        .map(|_| ())
        .map_err(|e| pair.fail(format!("blocklab rejected {sql}: {e}")))
}

fn run_join_case(case: &JoinCase) -> Result<(), TestCaseError> {
    let n = case.tables.len();
    let mut pair = Pair::new();
    for sql in setup(case) {
        pair.statement(&sql, sql.starts_with("INSERT"))?;
    }
    if case.analyzed {
        for t in 0..n {
            ours_only(&mut pair, &format!("ANALYZE TABLE j{t}"))?;
        }
    }
    for q in &case.queries {
        for forced in Forced::ALL {
            let spill = matches!(forced, Forced::HashSpilling);
            if spill {
                ours_only(&mut pair, "ALTER SESSION SET HASH_AREA_SIZE = 64")?;
            }
            pair.query(&render(q, n, forced), &Check::Multiset)?;
            if spill {
                ours_only(&mut pair, "ALTER SESSION SET HASH_AREA_SIZE = 1048576")?;
            }
        }
    }
    Ok(())
}

// ANCHOR: joins_differential
proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn joins_agree_with_sqlite_under_every_method(case in join_case()) {
        run_join_case(&case)?;
    }
}
// ANCHOR_END: joins_differential
