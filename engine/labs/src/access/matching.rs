//! Matching and screening on a composite index (C15), contiguous and
//! scattered entries (C18), NUM_INDEX_KEYS (C20), BETWEEN x AND x against
//! LIKE 'x%' (C21).
//!
//! The expected numbers (entries a matching range holds, entries that
//! survive screening, rows returned) are counted here from the generated
//! rows, not asked of the engine; the expected MATCHCOLS and screening
//! predicates are the Db2 rules of the book's chapter 6 applied by hand.

use super::super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use super::{explain, index_stats, lab_config, load, run};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C15.0,
            title: C15.1,
            claim: C15.2,
            run: c15,
        },
        Lab {
            id: C18.0,
            title: C18.1,
            claim: C18.2,
            run: c18,
        },
        Lab {
            id: C20.0,
            title: C20.1,
            claim: C20.2,
            run: c20,
        },
        Lab {
            id: C21.0,
            title: C21.1,
            claim: C21.2,
            run: c21,
        },
    ]
}

/// A 40-character pad: about 80 rows to an 8 KB block.
fn pad(i: u64) -> Value {
    Value::Text(format!("{i:040}"))
}

/// Integer value.
fn int(v: u64) -> Value {
    Value::Int(v as i64)
}

// ---------------------------------------------------------------- C15 --

const C15: (&str, &str, &str) = (
    "C15",
    "Matching predicates bound the leaf walk; screening predicates filter index entries",
    "An index range scan descends root → branch → leaf once (vertical), then walks leaves (horizontal) until a stop key. Predicates that fix the start and stop of that walk are *matching* (access) predicates; predicates checked on index entries without visiting the table are *screening* (index filter) predicates; the rest are table filters.",
);

/// One C15 query: what EXPLAIN and the counters said, next to what the
/// rules and the data predict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C15Case {
    pub name: &'static str,
    pub matchcols: u64,
    pub screening: u64,
    pub table_filters: u64,
    /// MATCHCOLS, screening and table predicates by the matching rules.
    pub want_plan: (u64, u64, u64),
    pub descents: u64,
    pub root: u64,
    pub branch: u64,
    pub leaf: u64,
    pub examined: u64,
    pub screened_out: u64,
    pub fetched: u64,
    pub table_gets: u64,
    pub rows: u64,
    /// Rows of the data inside the matching range (entries the walk must
    /// examine), passing the index predicates too (rows to fetch), and
    /// passing everything (rows returned).
    pub want_range: u64,
    pub want_fetched: u64,
    pub want_rows: u64,
}

/// What C15 measures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C15Evidence {
    /// BLEVEL of the index (ANALYZE): root-and-branch blocks per descent.
    pub blevel: u64,
    pub leaf_blocks: u64,
    pub cases: Vec<C15Case>,
}

/// The claim holds when every case shows its parts: one descent reading
/// BLEVEL root-and-branch blocks (vertical); a walk that examines exactly
/// the entries inside the matching range (horizontal; with no matching
/// column, every leaf); screening that drops entries before any table
/// visit (fetches = entries passing the index predicates); table filters
/// applied after the fetch; and EXPLAIN's MATCHCOLS / screening / table
/// predicates as the matching rules give them.
pub fn c15_verdict(e: &C15Evidence) -> (Verdict, String) {
    for c in &e.cases {
        let vertical = if e.blevel == 0 {
            c.root == 1 && c.branch == 0
        } else {
            c.root == 1 && c.root + c.branch == e.blevel
        };
        let checks = [
            (
                (c.matchcols, c.screening, c.table_filters) == c.want_plan,
                format!(
                    "plan: matchcols {}, screening {}, table filters {} (rules: {:?})",
                    c.matchcols, c.screening, c.table_filters, c.want_plan
                ),
            ),
            (
                c.descents == 1 && vertical,
                format!(
                    "vertical: {} descents, root {} + branch {} gets (BLEVEL {})",
                    c.descents, c.root, c.branch, e.blevel
                ),
            ),
            (
                c.examined == c.want_range
                    && (c.matchcols > 0 || c.leaf == e.leaf_blocks),
                format!(
                    "horizontal: {} entries examined in {} leaves, the matching range holds {} ({} leaf blocks in all)",
                    c.examined, c.leaf, c.want_range, e.leaf_blocks
                ),
            ),
            (
                c.fetched == c.want_fetched && c.screened_out + c.fetched == c.examined,
                format!(
                    "screening: {} screened out, {} fetched, {} pass the index predicates",
                    c.screened_out, c.fetched, c.want_fetched
                ),
            ),
            (
                c.rows == c.want_rows,
                format!("table filter: {} rows returned, {} expected", c.rows, c.want_rows),
            ),
        ];
        if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
            return (Verdict::DoesNotHold, format!("case {}: {why}", c.name));
        }
    }
    let show = |name: &str| {
        e.cases
            .iter()
            .find(|c| c.name == name)
            .map(|c| {
                format!(
                    "{name}: matchcols {}, {} examined, {} screened out, {} fetched, {} leaf gets",
                    c.matchcols, c.examined, c.screened_out, c.fetched, c.leaf
                )
            })
            .unwrap_or_default()
    };
    (
        Verdict::Holds,
        format!(
            "every case: 1 descent through {} root/branch block(s), entries examined = the matching range counted in the data, screening drops entries before the table, table filters after; {}; {}",
            e.blevel,
            show("c1_range_c2_eq"),
            show("c2_eq_only")
        ),
    )
}

/// One C15 query: its WHERE clause, the plan the rules give it, and which
/// of its predicates are matching / index-checkable, as functions of a row
/// (c1, c2, id).
struct Case15 {
    name: &'static str,
    where_: String,
    want_plan: (u64, u64, u64),
    matching: Box<dyn Fn(u64, u64, u64) -> bool>,
    in_index: Box<dyn Fn(u64, u64, u64) -> bool>,
    all: Box<dyn Fn(u64, u64, u64) -> bool>,
}

fn c15(ctx: &mut LabCtx) -> Result<Report> {
    // c1 in 0..a, c2 in 0..b, r rows for each pair, loaded in random order.
    let (a, b, r) = if ctx.quick {
        (20, 50, 10)
    } else {
        (100, 100, 10)
    };
    let (_db, mut s) = ctx.open("c15", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, c1 INTEGER, c2 INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX t_c1_c2 ON t (c1, c2)")?;
    let mut keys: Vec<(u64, u64)> = (0..a)
        .flat_map(|c1| (0..b).flat_map(move |c2| (0..r).map(move |_| (c1, c2))))
        .collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut keys);
    let n = keys.len() as u64;
    let data: Vec<(u64, u64, u64)> = keys
        .iter()
        .enumerate()
        .map(|(id, &(c1, c2))| (c1, c2, id as u64))
        .collect();
    let rows: Vec<Vec<Value>> = data
        .iter()
        .map(|&(c1, c2, id)| vec![int(id), int(c1), int(c2), pad(id)])
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?, ?)", &rows)?;
    s.execute("ANALYZE TABLE t")?;
    let ix = index_stats(&mut s, "t", "t_c1_c2")?;

    let k = a / 3; // the c1 value
    let half = n / 2;
    let cases = vec![
        Case15 {
            name: "c1_eq_c2_eq",
            where_: format!("c1 = {k} AND c2 = 42"),
            want_plan: (2, 0, 0),
            matching: Box::new(move |c1, c2, _| c1 == k && c2 == 42),
            in_index: Box::new(|_, _, _| true),
            all: Box::new(|_, _, _| true),
        },
        Case15 {
            name: "c1_eq_c2_range",
            where_: format!("c1 = {k} AND c2 BETWEEN 40 AND 49"),
            want_plan: (2, 0, 0),
            matching: Box::new(move |c1, c2, _| c1 == k && (40..=49).contains(&c2)),
            in_index: Box::new(|_, _, _| true),
            all: Box::new(|_, _, _| true),
        },
        Case15 {
            name: "c1_range_c2_eq",
            where_: format!("c1 BETWEEN {k} AND {} AND c2 = 42", k + 2),
            want_plan: (1, 1, 0),
            matching: Box::new(move |c1, _, _| (k..=k + 2).contains(&c1)),
            in_index: Box::new(|_, c2, _| c2 == 42),
            all: Box::new(|_, _, _| true),
        },
        Case15 {
            name: "c2_eq_only",
            where_: "c2 = 42".into(),
            want_plan: (0, 1, 0),
            matching: Box::new(|_, _, _| true),
            in_index: Box::new(|_, c2, _| c2 == 42),
            all: Box::new(|_, _, _| true),
        },
        Case15 {
            name: "c1_eq_only",
            where_: format!("c1 = {k}"),
            want_plan: (1, 0, 0),
            matching: Box::new(move |c1, _, _| c1 == k),
            in_index: Box::new(|_, _, _| true),
            all: Box::new(|_, _, _| true),
        },
        Case15 {
            name: "c1_eq_c2_range_table_filter",
            where_: format!("c1 = {k} AND c2 BETWEEN 40 AND 49 AND id < {half}"),
            want_plan: (2, 0, 1),
            matching: Box::new(move |c1, c2, _| c1 == k && (40..=49).contains(&c2)),
            in_index: Box::new(|_, _, _| true),
            all: Box::new(move |_, _, id| id < half),
        },
    ];

    ctx.step("measuring");
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for c in &cases {
        let sql = format!(
            "SELECT /*+ INDEX(t t_c1_c2) */ pad FROM t WHERE {}",
            c.where_
        );
        let plan = explain(&mut s, &sql, &[])?;
        let m = run(&mut s, &sql, &[])?;
        let count = |f: &dyn Fn(u64, u64, u64) -> bool| -> u64 {
            data.iter().filter(|&&(c1, c2, id)| f(c1, c2, id)).count() as u64
        };
        let in_range = |c1, c2, id| (c.matching)(c1, c2, id);
        let fetched = |c1, c2, id| in_range(c1, c2, id) && (c.in_index)(c1, c2, id);
        out.push(C15Case {
            name: c.name,
            matchcols: plan.matchcols.unwrap_or(0) as u64,
            screening: plan.screening as u64,
            table_filters: plan.table_filters as u64,
            want_plan: c.want_plan,
            descents: m.descents,
            root: m.root,
            branch: m.branch,
            leaf: m.leaf,
            examined: m.examined,
            screened_out: m.screened_out,
            fetched: m.fetched,
            table_gets: m.table_gets,
            rows: m.rows,
            want_range: count(&in_range),
            want_fetched: count(&fetched),
            want_rows: count(&|c1, c2, id| fetched(c1, c2, id) && (c.all)(c1, c2, id)),
        });
        notes.push(plan.text);
    }
    let e = C15Evidence {
        blevel: u64::from(ix.blevel),
        leaf_blocks: ix.leaf_blocks,
        cases: out,
    };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("index.blevel", e.blevel, "levels"),
        Evidence::counter("index.leaf_blocks", e.leaf_blocks, "blocks"),
    ];
    for c in &e.cases {
        let p = c.name;
        evidence.extend([
            Evidence::counter(format!("{p}.matchcols"), c.matchcols, "columns"),
            Evidence::counter(format!("{p}.screening_preds"), c.screening, "preds"),
            Evidence::counter(format!("{p}.table_filter_preds"), c.table_filters, "preds"),
            Evidence::counter(format!("{p}.index_root_gets"), c.root, "gets"),
            Evidence::counter(format!("{p}.index_branch_gets"), c.branch, "gets"),
            Evidence::counter(format!("{p}.index_leaf_gets"), c.leaf, "gets"),
            Evidence::counter(format!("{p}.entries_examined"), c.examined, "entries"),
            Evidence::counter(
                format!("{p}.entries_screened_out"),
                c.screened_out,
                "entries",
            ),
            Evidence::counter(format!("{p}.table_rows_fetched"), c.fetched, "rows"),
            Evidence::counter(format!("{p}.table_block_gets"), c.table_gets, "gets"),
            Evidence::counter(format!("{p}.rows_returned"), c.rows, "rows"),
        ]);
    }
    Ok(report(
        C15,
        c15_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("c1_values".into(), a.to_string()),
            ("c2_values".into(), b.to_string()),
        ],
        notes,
    ))
}

// ---------------------------------------------------------------- C18 --

const C18: (&str, &str, &str) = (
    "C18",
    "Entries up to the first range are contiguous; later predicates are scattered",
    "Entries matching every leading `=` predicate up to and including the first range predicate are contiguous in the index; entries that also satisfy predicates on later columns are scattered, whatever the operator.",
);

/// One C18 query: the first range at some key position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C18Query {
    pub name: &'static str,
    /// Key position (1-based) of the first range predicate.
    pub range_at: u64,
    pub matchcols: u64,
    pub examined: u64,
    pub leaf: u64,
    pub rows: u64,
    /// Rows satisfying the predicates up to and including the first range.
    pub want_prefix: u64,
    /// Rows satisfying every predicate.
    pub want_rows: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C18Evidence {
    pub queries: Vec<C18Query>,
}

/// Holds when every query examines exactly the entries that satisfy the
/// predicates up to and including the first range (one contiguous run:
/// nothing outside it is read, nothing inside it skipped) and returns the
/// rows that satisfy everything — so predicates on later columns, `=` or
/// not, never shorten the walk — and at least one query shows later
/// predicates dropping entries inside the run (the survivors are scattered
/// through it).
pub fn c18_verdict(e: &C18Evidence) -> (Verdict, String) {
    if let Some(q) = e
        .queries
        .iter()
        .find(|q| q.examined != q.want_prefix || q.rows != q.want_rows)
    {
        return (
            Verdict::DoesNotHold,
            format!(
                "{}: {} entries examined for a prefix run of {}, {} rows returned of {}",
                q.name, q.examined, q.want_prefix, q.rows, q.want_rows
            ),
        );
    }
    if !e.queries.iter().any(|q| q.rows < q.examined) {
        return (
            Verdict::DoesNotHold,
            "no query had predicates after the first range that dropped entries".into(),
        );
    }
    let runs: Vec<String> = e
        .queries
        .iter()
        .map(|q| {
            format!(
                "range at column {} ({}): {} examined, {} returned",
                q.range_at, q.name, q.examined, q.rows
            )
        })
        .collect();
    (
        Verdict::Holds,
        format!(
            "entries examined = the rows matching the predicates up to the first range, in every query, whatever the later operators; {}",
            runs.join("; ")
        ),
    )
}

fn c18(ctx: &mut LabCtx) -> Result<Report> {
    let (d, r) = if ctx.quick { (10u64, 10u64) } else { (10, 100) };
    let (_db, mut s) = ctx.open("c18", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER)")?;
    s.execute("CREATE INDEX t_abc ON t (a, b, c)")?;
    let mut data: Vec<[u64; 3]> = (0..d * d * d)
        .flat_map(|k| (0..r).map(move |_| [k / (d * d), k / d % d, k % d]))
        .collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut data);
    let rows: Vec<Vec<Value>> = data.iter().map(|k| k.map(int).to_vec()).collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?)", &rows)?;
    ctx.step("measuring");
    let t = d / 2;
    let lo = t - 2;
    type P = Box<dyn Fn(&[u64; 3]) -> bool>;
    // (name, first range at, WHERE, prefix predicate, full predicate)
    let qs: Vec<(&'static str, u64, String, P, P)> = vec![
        (
            "range_on_c",
            3,
            format!("a = {t} AND b = {t} AND c BETWEEN {lo} AND {t}"),
            Box::new(move |k| k[0] == t && k[1] == t && (lo..=t).contains(&k[2])),
            Box::new(|_| true),
        ),
        (
            "range_on_b_then_eq",
            2,
            format!("a = {t} AND b BETWEEN {lo} AND {t} AND c = {t}"),
            Box::new(move |k| k[0] == t && (lo..=t).contains(&k[1])),
            Box::new(move |k| k[2] == t),
        ),
        (
            "range_on_b_then_gt",
            2,
            format!("a = {t} AND b BETWEEN {lo} AND {t} AND c > {}", d - 3),
            Box::new(move |k| k[0] == t && (lo..=t).contains(&k[1])),
            Box::new(move |k| k[2] > d - 3),
        ),
        (
            "range_on_a_then_eq",
            1,
            format!("a BETWEEN {lo} AND {t} AND b = {t} AND c = {t}"),
            Box::new(move |k| (lo..=t).contains(&k[0])),
            Box::new(move |k| k[1] == t && k[2] == t),
        ),
        (
            "range_on_a_then_in_ne",
            1,
            format!("a BETWEEN {lo} AND {t} AND b <> {t} AND c IN (1, 2)"),
            Box::new(move |k| (lo..=t).contains(&k[0])),
            Box::new(move |k| k[1] != t && (1..=2).contains(&k[2])),
        ),
    ];
    let mut queries = Vec::new();
    let mut notes = Vec::new();
    for (name, range_at, where_, prefix, rest) in &qs {
        let sql = format!("SELECT /*+ INDEX(t t_abc) */ a, b, c FROM t WHERE {where_}");
        let plan = explain(&mut s, &sql, &[])?;
        let m = run(&mut s, &sql, &[])?;
        queries.push(C18Query {
            name,
            range_at: *range_at,
            matchcols: plan.matchcols.unwrap_or(0) as u64,
            examined: m.examined,
            leaf: m.leaf,
            rows: m.rows,
            want_prefix: data.iter().filter(|k| prefix(k)).count() as u64,
            want_rows: data.iter().filter(|k| prefix(k) && rest(k)).count() as u64,
        });
        notes.push(format!(
            "{name}: {where_}  → matchcols {}",
            plan.matchcols.unwrap_or(0)
        ));
    }
    let e = C18Evidence { queries };
    let mut evidence = vec![Evidence::counter("rows", data.len() as u64, "rows")];
    for q in &e.queries {
        evidence.extend([
            Evidence::counter(format!("{}.matchcols", q.name), q.matchcols, "columns"),
            Evidence::counter(
                format!("{}.entries_examined", q.name),
                q.examined,
                "entries",
            ),
            Evidence::counter(format!("{}.index_leaf_gets", q.name), q.leaf, "gets"),
            Evidence::counter(format!("{}.rows_returned", q.name), q.rows, "rows"),
        ]);
    }
    Ok(report(
        C18,
        c18_verdict(&e),
        evidence,
        vec![
            ("rows".into(), data.len().to_string()),
            ("values_per_column".into(), d.to_string()),
        ],
        notes,
    ))
}

// ---------------------------------------------------------------- C20 --

const C20: (&str, &str, &str) = (
    "C20",
    "NUM_INDEX_KEYS moves later predicates from matching to screening",
    "Limiting the access to the first n index columns (a NUM_INDEX_KEYS-style hint) moves the later predicates from matching to screening.",
);

/// One plan of a C20 query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct C20Side {
    pub matchcols: u64,
    pub screening: u64,
    pub descents: u64,
    pub index_gets: u64,
    pub examined: u64,
    pub screened_out: u64,
    pub fetched: u64,
    pub rows: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C20Evidence {
    /// `c1 = k AND c2 = v`: plain INDEX hint, then NUM_INDEX_KEYS(1).
    pub eq_plain: C20Side,
    pub eq_hinted: C20Side,
    /// `c1 = k AND c2 IN (…)`.
    pub in_plain: C20Side,
    pub in_hinted: C20Side,
}

/// Holds when, for both queries, the plain plan matches both columns with
/// no screening, the hinted plan matches one column and screens the rest,
/// and the hinted plan returns the same rows with the same table fetches
/// (a screening predicate still stops table visits) while examining at
/// least as many entries (the walk now spans all of c1 = k).
pub fn c20_verdict(e: &C20Evidence) -> (Verdict, String) {
    for (name, p, h) in [
        ("c2 =", e.eq_plain, e.eq_hinted),
        ("c2 IN", e.in_plain, e.in_hinted),
    ] {
        let ok = p.matchcols == 2
            && p.screening == 0
            && h.matchcols == 1
            && h.screening >= 1
            && h.rows == p.rows
            && h.fetched == p.fetched
            && h.examined >= p.examined;
        if !ok {
            return (
                Verdict::DoesNotHold,
                format!(
                    "{name}: without the hint matchcols {} screening {}, with NUM_INDEX_KEYS(1) matchcols {} screening {}; rows {} vs {}, fetches {} vs {}, examined {} vs {}",
                    p.matchcols, p.screening, h.matchcols, h.screening, p.rows, h.rows, p.fetched, h.fetched, p.examined, h.examined
                ),
            );
        }
    }
    (
        Verdict::Holds,
        format!(
            "NUM_INDEX_KEYS(1): matchcols 2 → 1, the c2 predicate screens; c2 = v: {} → {} entries examined, index gets {} → {}; c2 IN-list: descents {} → {}, entries {} → {}, index gets {} → {}; same rows and table fetches",
            e.eq_plain.examined,
            e.eq_hinted.examined,
            e.eq_plain.index_gets,
            e.eq_hinted.index_gets,
            e.in_plain.descents,
            e.in_hinted.descents,
            e.in_plain.examined,
            e.in_hinted.examined,
            e.in_plain.index_gets,
            e.in_hinted.index_gets
        ),
    )
}

fn side(s: &mut Session, sql: &str) -> Result<(C20Side, String)> {
    let plan = explain(s, sql, &[])?;
    let m = run(s, sql, &[])?;
    Ok((
        C20Side {
            matchcols: plan.matchcols.unwrap_or(0) as u64,
            screening: plan.screening as u64,
            descents: m.descents,
            index_gets: m.index_gets(),
            examined: m.examined,
            screened_out: m.screened_out,
            fetched: m.fetched,
            rows: m.rows,
        },
        plan.text,
    ))
}

fn c20(ctx: &mut LabCtx) -> Result<Report> {
    let (a, b, r) = if ctx.quick {
        (20u64, 100u64, 5u64)
    } else {
        (100, 100, 10)
    };
    let (_db, mut s) = ctx.open("c20", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, c1 INTEGER, c2 INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX t_c1_c2 ON t (c1, c2)")?;
    let mut keys: Vec<(u64, u64)> = (0..a * b * r).map(|i| (i / r / b, i / r % b)).collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut keys);
    let rows: Vec<Vec<Value>> = keys
        .iter()
        .enumerate()
        .map(|(id, &(c1, c2))| vec![int(id as u64), int(c1), int(c2), pad(id as u64)])
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?, ?)", &rows)?;
    s.execute("ANALYZE TABLE t")?;
    ctx.step("measuring");
    let k = a / 3;
    let list = super::in_list(40, 20);
    let plain = "/*+ INDEX(t t_c1_c2) */";
    let hinted = "/*+ NUM_INDEX_KEYS(t t_c1_c2 1) */";
    let q = |hint: &str, pred: &str| format!("SELECT {hint} pad FROM t WHERE c1 = {k} AND {pred}");
    let (eq_plain, n1) = side(&mut s, &q(plain, "c2 = 42"))?;
    let (eq_hinted, n2) = side(&mut s, &q(hinted, "c2 = 42"))?;
    let (in_plain, n3) = side(&mut s, &q(plain, &format!("c2 IN {list}")))?;
    let (in_hinted, n4) = side(&mut s, &q(hinted, &format!("c2 IN {list}")))?;
    let e = C20Evidence {
        eq_plain,
        eq_hinted,
        in_plain,
        in_hinted,
    };
    let mut evidence = vec![Evidence::counter("rows", a * b * r, "rows")];
    for (p, x) in [
        ("eq.plain", e.eq_plain),
        ("eq.num_index_keys_1", e.eq_hinted),
        ("in_list_20.plain", e.in_plain),
        ("in_list_20.num_index_keys_1", e.in_hinted),
    ] {
        evidence.extend([
            Evidence::counter(format!("{p}.matchcols"), x.matchcols, "columns"),
            Evidence::counter(format!("{p}.screening_preds"), x.screening, "preds"),
            Evidence::counter(format!("{p}.index_descents"), x.descents, "descents"),
            Evidence::counter(format!("{p}.index_gets"), x.index_gets, "gets"),
            Evidence::counter(format!("{p}.entries_examined"), x.examined, "entries"),
            Evidence::counter(
                format!("{p}.entries_screened_out"),
                x.screened_out,
                "entries",
            ),
            Evidence::counter(format!("{p}.table_rows_fetched"), x.fetched, "rows"),
            Evidence::counter(format!("{p}.rows_returned"), x.rows, "rows"),
        ]);
    }
    Ok(report(
        C20,
        c20_verdict(&e),
        evidence,
        vec![("rows".into(), (a * b * r).to_string())],
        vec![n1, n2, n3, n4],
    ))
}

// ---------------------------------------------------------------- C21 --

const C21: (&str, &str, &str) = (
    "C21",
    "BETWEEN x AND x stops at (x,'B'); LIKE 'x%' scans all of month x",
    "On an index (month, kind), `month BETWEEN x AND x AND kind = 'B'` stops at the first entry past (x,'B'), while `month LIKE 'x%' AND kind = 'B'` must scan every entry of month x.",
);

/// One form of the C21 query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct C21Form {
    pub matchcols: u64,
    pub screening: u64,
    pub examined: u64,
    pub screened_out: u64,
    pub leaf: u64,
    pub rows: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C21Evidence {
    pub between: C21Form,
    pub like: C21Form,
    /// Rows of month x, and of month x with kind 'B', counted in the data.
    pub rows_month: u64,
    pub rows_month_kind: u64,
}

/// Holds when BETWEEN x AND x matches both columns and examines exactly the
/// (x, 'B') entries, while LIKE 'x%' matches only the month and examines
/// every entry of month x, both returning the same rows.
pub fn c21_verdict(e: &C21Evidence) -> (Verdict, String) {
    let ok = e.between.matchcols == 2
        && e.between.examined == e.rows_month_kind
        && e.like.matchcols == 1
        && e.like.examined == e.rows_month
        && e.between.rows == e.rows_month_kind
        && e.like.rows == e.rows_month_kind;
    let text = format!(
        "BETWEEN x AND x: matchcols {}, {} entries examined, {} leaf gets; LIKE 'x%': matchcols {}, {} examined ({} screened out), {} leaf gets; month x holds {} entries, (x,'B') {}",
        e.between.matchcols,
        e.between.examined,
        e.between.leaf,
        e.like.matchcols,
        e.like.examined,
        e.like.screened_out,
        e.like.leaf,
        e.rows_month,
        e.rows_month_kind
    );
    if ok {
        (Verdict::Holds, text)
    } else {
        (Verdict::DoesNotHold, text)
    }
}

fn c21(ctx: &mut LabCtx) -> Result<Report> {
    let per = ctx.size(80, 800);
    let (_db, mut s) = ctx.open("c21", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, month TEXT, kind TEXT, pad TEXT)")?;
    s.execute("CREATE INDEX t_month_kind ON t (month, kind)")?;
    let months: Vec<String> = (0..24)
        .map(|m| format!("{}-{:02}", 2023 + m / 12, m % 12 + 1))
        .collect();
    let kinds = ["A", "B", "C", "D", "E"];
    let mut keys: Vec<(usize, usize)> = (0..months.len())
        .flat_map(|m| (0..kinds.len()).flat_map(move |k| (0..per).map(move |_| (m, k))))
        .collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut keys);
    let rows: Vec<Vec<Value>> = keys
        .iter()
        .enumerate()
        .map(|(id, &(m, k))| {
            vec![
                int(id as u64),
                Value::Text(months[m].clone()),
                Value::Text(kinds[k].into()),
                pad(id as u64),
            ]
        })
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?, ?)", &rows)?;
    ctx.step("measuring");
    let x = "2024-03";
    let xm = months.iter().position(|m| m == x).unwrap_or(0);
    let form = |s: &mut Session, pred: &str| -> Result<(C21Form, String)> {
        let sql =
            format!("SELECT /*+ INDEX(t t_month_kind) */ id FROM t WHERE {pred} AND kind = 'B'");
        let plan = explain(s, &sql, &[])?;
        let m = run(s, &sql, &[])?;
        Ok((
            C21Form {
                matchcols: plan.matchcols.unwrap_or(0) as u64,
                screening: plan.screening as u64,
                examined: m.examined,
                screened_out: m.screened_out,
                leaf: m.leaf,
                rows: m.rows,
            },
            plan.text,
        ))
    };
    let (between, n1) = form(&mut s, &format!("month BETWEEN '{x}' AND '{x}'"))?;
    let (like, n2) = form(&mut s, &format!("month LIKE '{x}%'"))?;
    let e = C21Evidence {
        between,
        like,
        rows_month: keys.iter().filter(|k| k.0 == xm).count() as u64,
        rows_month_kind: keys.iter().filter(|k| k.0 == xm && k.1 == 1).count() as u64,
    };
    let mut evidence = vec![
        Evidence::counter("rows", keys.len() as u64, "rows"),
        Evidence::counter("rows_in_month_x", e.rows_month, "rows"),
        Evidence::counter("rows_in_month_x_kind_b", e.rows_month_kind, "rows"),
    ];
    for (p, f) in [("between_x_and_x", e.between), ("like_x_prefix", e.like)] {
        evidence.extend([
            Evidence::counter(format!("{p}.matchcols"), f.matchcols, "columns"),
            Evidence::counter(format!("{p}.screening_preds"), f.screening, "preds"),
            Evidence::counter(format!("{p}.entries_examined"), f.examined, "entries"),
            Evidence::counter(
                format!("{p}.entries_screened_out"),
                f.screened_out,
                "entries",
            ),
            Evidence::counter(format!("{p}.index_leaf_gets"), f.leaf, "gets"),
            Evidence::counter(format!("{p}.rows_returned"), f.rows, "rows"),
        ]);
    }
    Ok(report(
        C21,
        c21_verdict(&e),
        evidence,
        vec![
            ("rows".into(), keys.len().to_string()),
            ("month".into(), x.into()),
        ],
        vec![n1, n2],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> C15Case {
        C15Case {
            name: "c1_range_c2_eq",
            matchcols: 1,
            screening: 1,
            table_filters: 0,
            want_plan: (1, 1, 0),
            descents: 1,
            root: 1,
            branch: 1,
            leaf: 21,
            examined: 3000,
            screened_out: 2970,
            fetched: 30,
            table_gets: 29,
            rows: 30,
            want_range: 3000,
            want_fetched: 30,
            want_rows: 30,
        }
    }

    #[test]
    fn c15_rule_on_synthetic_evidence() {
        let good = C15Evidence {
            blevel: 2,
            leaf_blocks: 900,
            cases: vec![case()],
        };
        assert_eq!(c15_verdict(&good).0, Verdict::Holds);
        // A screening predicate that did not stop table visits.
        let no_screen = C15Evidence {
            cases: vec![C15Case {
                screened_out: 0,
                fetched: 3000,
                ..case()
            }],
            ..good.clone()
        };
        assert_eq!(c15_verdict(&no_screen).0, Verdict::DoesNotHold);
        // A walk wider than the matching range.
        let wide = C15Evidence {
            cases: vec![C15Case {
                examined: 3100,
                screened_out: 3070,
                ..case()
            }],
            ..good.clone()
        };
        assert_eq!(c15_verdict(&wide).0, Verdict::DoesNotHold);
        // Two descents.
        let twice = C15Evidence {
            cases: vec![C15Case {
                descents: 2,
                ..case()
            }],
            ..good.clone()
        };
        assert_eq!(c15_verdict(&twice).0, Verdict::DoesNotHold);
        // A plan that differs from the rules.
        let plan = C15Evidence {
            cases: vec![C15Case {
                matchcols: 2,
                screening: 0,
                ..case()
            }],
            ..good.clone()
        };
        assert_eq!(c15_verdict(&plan).0, Verdict::DoesNotHold);
        // With no matching column the walk must cover every leaf.
        let full = C15Evidence {
            cases: vec![C15Case {
                matchcols: 0,
                want_plan: (0, 1, 0),
                leaf: 899,
                ..case()
            }],
            ..good
        };
        assert_eq!(c15_verdict(&full).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c18_rule_on_synthetic_evidence() {
        let q = |examined, rows, want_prefix, want_rows| C18Query {
            name: "q",
            range_at: 1,
            matchcols: 1,
            examined,
            leaf: 1,
            rows,
            want_prefix,
            want_rows,
        };
        let good = C18Evidence {
            queries: vec![q(30, 30, 30, 30), q(3000, 30, 3000, 30)],
        };
        assert_eq!(c18_verdict(&good).0, Verdict::Holds);
        // A later predicate that shortened the walk (not scattered).
        let narrowed = C18Evidence {
            queries: vec![q(30, 30, 3000, 30)],
        };
        assert_eq!(c18_verdict(&narrowed).0, Verdict::DoesNotHold);
        // Nothing after the first range dropped anything.
        let flat = C18Evidence {
            queries: vec![q(30, 30, 30, 30)],
        };
        assert_eq!(c18_verdict(&flat).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c20_rule_on_synthetic_evidence() {
        let plain = C20Side {
            matchcols: 2,
            screening: 0,
            descents: 1,
            index_gets: 3,
            examined: 10,
            screened_out: 0,
            fetched: 10,
            rows: 10,
        };
        let hinted = C20Side {
            matchcols: 1,
            screening: 1,
            examined: 1000,
            screened_out: 990,
            index_gets: 12,
            ..plain
        };
        let good = C20Evidence {
            eq_plain: plain,
            eq_hinted: hinted,
            in_plain: C20Side {
                descents: 20,
                ..plain
            },
            in_hinted: hinted,
        };
        assert_eq!(c20_verdict(&good).0, Verdict::Holds);
        let ignored = C20Evidence {
            eq_hinted: plain,
            ..good
        };
        assert_eq!(c20_verdict(&ignored).0, Verdict::DoesNotHold);
        let table_filter = C20Evidence {
            in_hinted: C20Side {
                screening: 0,
                fetched: 1000,
                ..hinted
            },
            ..good
        };
        assert_eq!(c20_verdict(&table_filter).0, Verdict::DoesNotHold);
    }

    #[test]
    fn c21_rule_on_synthetic_evidence() {
        let good = C21Evidence {
            between: C21Form {
                matchcols: 2,
                screening: 0,
                examined: 80,
                screened_out: 0,
                leaf: 1,
                rows: 80,
            },
            like: C21Form {
                matchcols: 1,
                screening: 2,
                examined: 400,
                screened_out: 320,
                leaf: 4,
                rows: 80,
            },
            rows_month: 400,
            rows_month_kind: 80,
        };
        assert_eq!(c21_verdict(&good).0, Verdict::Holds);
        // BETWEEN x AND x treated as a range: it too scans the month.
        let as_range = C21Evidence {
            between: C21Form {
                matchcols: 1,
                examined: 400,
                ..good.between
            },
            ..good
        };
        assert_eq!(c21_verdict(&as_range).0, Verdict::DoesNotHold);
        // LIKE stopping early.
        let like_short = C21Evidence {
            like: C21Form {
                examined: 80,
                ..good.like
            },
            ..good
        };
        assert_eq!(c21_verdict(&like_short).0, Verdict::DoesNotHold);
    }
}
