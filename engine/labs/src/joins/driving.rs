//! C28: an IN-list that can grow, driven from a table.
//!
//! `t(c1, c2, pad)` holds `n` rows, ten per value of `c1`, with an index on
//! `c1`; `drive(id, v)` holds one distinct value of `c1` per row (a seeded
//! permutation) and no index, so every index descent counted is one of
//! `t_c1`. For m driving rows (`drive.id < m`), m = 1, 10, 100, … up to the
//! number of values, three statements fetch the same rows:
//!
//! * the literal IN-list of C19: `WHERE c1 IN (v1, …, vm)`;
//! * `WHERE c1 IN (SELECT v FROM drive WHERE id < m)`: uncorrelated, so
//!   blocklab runs the subquery once when the statement is bound and the
//!   list of its values replaces it — the plan is the literal list's
//!   (INLIST ITERATOR), and the subquery's scan of `drive` is added to the
//!   statement's gets;
//! * the nested-loops join from `drive`,
//!   `LEADING(d t) USE_NL(t) INDEX(t t_c1)`: one probe of `t_c1` per driving
//!   row — the table-driven form that needs no list at all.
//!
//! The two IN forms carry an `INDEX(t t_c1)` hint, as C19's statements do:
//! unhinted, a long list is read by a full scan (C19's point, not this
//! one's).
//!
//! The descents decide: each form should make one per driving row, the
//! literal list's cost shape.

use super::super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use crate::access::{in_list_of, lab_config, load, run};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![Lab {
        id: C28.0,
        title: C28.1,
        claim: C28.2,
        run: c28,
    }]
}

const C28: (&str, &str, &str) = (
    "C28",
    "A driving table gives an IN-list's descents without the list",
    "When an IN-list can grow, drive the index from a table instead (an NL join or `IN (SELECT …)`): one inner descent per driving row, the IN-list's cost shape without a literal list.",
);

/// Rows of `t` per value of `c1`.
const ROWS_PER_VALUE: u64 = 10;

/// What one statement did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct C28Form {
    pub descents: u64,
    pub gets: u64,
    pub rows: u64,
}

/// One count of driving rows: the literal IN-list, `IN (SELECT …)` and the
/// nested-loops join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C28Point {
    pub m: u64,
    pub literal: C28Form,
    pub subquery: C28Form,
    pub join: C28Form,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C28Evidence {
    pub points: Vec<C28Point>,
}

/// Holds when, at every count m of driving rows, the nested-loops join
/// and the `IN (SELECT …)` each make exactly m descents of the index — one
/// per driving row, as many as the literal IN-list of the same m values —
/// and return the literal list's rows. Depends when only one of the two
/// table-driven forms does; does not hold when neither does (or the
/// literal list itself does not make one descent per element).
pub fn c28_verdict(e: &C28Evidence) -> (Verdict, String) {
    if e.points.is_empty() {
        return (Verdict::DoesNotHold, "nothing was measured".into());
    }
    let shaped = |f: &C28Form, p: &C28Point| f.descents == p.m && f.rows == p.literal.rows;
    if let Some(p) = e.points.iter().find(|p| p.literal.descents != p.m) {
        return (
            Verdict::DoesNotHold,
            format!(
                "the literal IN-list of {} values made {} descents, not one per element",
                p.m, p.literal.descents
            ),
        );
    }
    let join_ok = e.points.iter().all(|p| shaped(&p.join, p));
    let sub_ok = e.points.iter().all(|p| shaped(&p.subquery, p));
    let per_m: Vec<String> = e
        .points
        .iter()
        .map(|p| {
            format!(
                "m = {}: descents {} / {} / {}, gets {} / {} / {}",
                p.m,
                p.literal.descents,
                p.subquery.descents,
                p.join.descents,
                p.literal.gets,
                p.subquery.gets,
                p.join.gets
            )
        })
        .collect();
    let text = format!(
        "(literal IN-list / IN (SELECT) / NL join) {}; IN (SELECT) adds the driving table's scan to the list's gets; the NL join probes in the driving rows' order, the list in sorted key order (where neighbouring values share index and table blocks), so its gets grow faster for the same descents",
        per_m.join("; ")
    );
    let name = |ok: bool, what: &str| if ok { None } else { Some(what.to_string()) };
    match (join_ok, sub_ok) {
        (true, true) => (
            Verdict::Holds,
            format!("one descent per driving row for the NL join and IN (SELECT), as for the literal list; {text}"),
        ),
        (false, false) => (
            Verdict::DoesNotHold,
            format!("neither table-driven form makes one descent per driving row; {text}"),
        ),
        (j, s) => (
            Verdict::Depends,
            format!(
                "{} does not make one descent per driving row; {text}",
                name(j, "the NL join")
                    .or(name(s, "IN (SELECT)"))
                    .unwrap_or_default()
            ),
        ),
    }
}

fn c28(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 100_000);
    let values = n / ROWS_PER_VALUE;
    let (_db, mut s) = ctx.open("c28", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (c1 INTEGER, c2 INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX t_c1 ON t (c1)")?;
    s.execute("CREATE TABLE drive (id INTEGER, v INTEGER)")?;
    let rows: Vec<Vec<Value>> = (0..n as i64)
        .map(|i| {
            vec![
                Value::Int(i / ROWS_PER_VALUE as i64),
                Value::Int(i % ROWS_PER_VALUE as i64),
                Value::Text(format!("{i:040}")),
            ]
        })
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?)", &rows)?;
    let mut perm: Vec<u64> = (0..values).collect();
    Rng::splitmix64(ctx.seed).shuffle(&mut perm);
    let drive: Vec<Vec<Value>> = perm
        .iter()
        .enumerate()
        .map(|(id, &v)| vec![Value::Int(id as i64), Value::Int(v as i64)])
        .collect();
    load(&mut s, "INSERT INTO drive VALUES (?, ?)", &drive)?;
    s.execute("ANALYZE TABLE t")?;
    s.execute("ANALYZE TABLE drive")?;
    ctx.step("measuring");
    let ms: Vec<u64> = std::iter::successors(Some(1u64), |m| Some(m * 10))
        .take_while(|&m| m <= values)
        .collect();
    let form = |sc: crate::access::Scan| C28Form {
        descents: sc.descents,
        gets: sc.consistent_gets,
        rows: sc.rows,
    };
    let mut points = Vec::new();
    let mut notes = Vec::new();
    for &m in &ms {
        let list = in_list_of(&perm[..m as usize]);
        let literal = format!("SELECT /*+ INDEX(t t_c1) */ t.pad FROM t WHERE t.c1 IN {list}");
        let subquery = format!("SELECT /*+ INDEX(t t_c1) */ t.pad FROM t WHERE t.c1 IN (SELECT v FROM drive WHERE id < {m})");
        let join = format!(
            "SELECT /*+ LEADING(d t) USE_NL(t) INDEX(t t_c1) */ t.pad FROM drive d JOIN t ON t.c1 = d.v WHERE d.id < {m}"
        );
        points.push(C28Point {
            m,
            literal: form(run(&mut s, &literal, &[])?),
            subquery: form(run(&mut s, &subquery, &[])?),
            join: form(run(&mut s, &join, &[])?),
        });
        if m == 10 {
            for sql in [&subquery, &join] {
                let e = s.execute(&format!("EXPLAIN {sql}"))?;
                if let Some(x) = e.explain {
                    notes.push(format!("{sql}\n{}", x.render()));
                }
            }
        }
    }
    let e = C28Evidence { points };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("values", values, "values"),
    ];
    for p in &e.points {
        for (name, f) in [
            ("literal", p.literal),
            ("in_subquery", p.subquery),
            ("nl_join", p.join),
        ] {
            let at = format!("m{}.{name}", p.m);
            evidence.push(Evidence::counter(
                format!("{at}.index_descents"),
                f.descents,
                "descents",
            ));
            evidence.push(Evidence::counter(
                format!("{at}.consistent_gets"),
                f.gets,
                "gets",
            ));
            evidence.push(Evidence::counter(format!("{at}.rows"), f.rows, "rows"));
        }
    }
    notes.insert(
        0,
        "m driving rows: drive.id < m; the literal list holds the same m values. The IN (SELECT) is uncorrelated: run once when the statement is bound, its values become a literal list (the plan shows them)".into(),
    );
    Ok(report(
        C28,
        c28_verdict(&e),
        evidence,
        vec![
            ("rows".into(), n.to_string()),
            ("rows_per_value".into(), ROWS_PER_VALUE.to_string()),
        ],
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(descents: u64, gets: u64, rows: u64) -> C28Form {
        C28Form {
            descents,
            gets,
            rows,
        }
    }

    fn good() -> C28Evidence {
        C28Evidence {
            points: vec![
                C28Point {
                    m: 1,
                    literal: f(1, 12, 10),
                    subquery: f(1, 14, 10),
                    join: f(1, 14, 10),
                },
                C28Point {
                    m: 10,
                    literal: f(10, 120, 100),
                    subquery: f(10, 122, 100),
                    join: f(10, 122, 100),
                },
            ],
        }
    }

    #[test]
    fn c28_rule_on_synthetic_evidence() {
        assert_eq!(c28_verdict(&good()).0, Verdict::Holds);
        let mut join_scans = good();
        join_scans.points[1].join = f(0, 900, 100);
        let (v, reason) = c28_verdict(&join_scans);
        assert_eq!(v, Verdict::Depends);
        assert!(reason.starts_with("the NL join"), "{reason}");
        let mut neither = join_scans.clone();
        neither.points[0].subquery = f(2, 20, 10);
        assert_eq!(c28_verdict(&neither).0, Verdict::DoesNotHold);
        let mut wrong_rows = good();
        wrong_rows.points[0].subquery = f(1, 14, 9);
        assert_eq!(c28_verdict(&wrong_rows).0, Verdict::Depends);
        let mut literal = good();
        literal.points[1].literal = f(1, 60, 100);
        assert_eq!(c28_verdict(&literal).0, Verdict::DoesNotHold);
        let empty = C28Evidence { points: Vec::new() };
        assert_eq!(c28_verdict(&empty).0, Verdict::DoesNotHold);
    }
}
