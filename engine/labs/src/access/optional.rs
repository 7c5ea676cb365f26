//! Optional filters — a search screen's "this field may be empty": the
//! `(col = :v OR :v IS NULL)` form and its split (C22), and the LIKE /
//! BETWEEN rewrites that look equivalent but are not (C23).
//!
//! C22 runs the split as the claim describes it, one statement:
//!
//! ```text
//! SELECT pad FROM t WHERE cust = :v AND :v IS NOT NULL
//! UNION ALL
//! SELECT pad FROM t WHERE :v IS NULL
//! ```
//!
//! Binds are peeked: a bound value is a constant when the statement is
//! planned, so each branch's guard (`:v IS NOT NULL`, `:v IS NULL`) is a
//! constant predicate. Oracle puts it in a startup FILTER above the
//! branch, which then reads nothing when the guard is false. blocklab's
//! single-table query blocks (each arm of a UNION ALL is one) have no
//! startup filter: a false guard is evaluated per row and the arm still
//! reads its table. C22 measures that: besides the one statement it runs
//! each branch alone, which shows where the statement's gets go.

use super::super::{report, Evidence, Lab, LabCtx, Report, Verdict};
use super::{explain, lab_config, load, run};
use crate::rng::Rng;
use blocklab::error::Result;
use blocklab::session::Session;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    vec![
        Lab {
            id: C22.0,
            title: C22.1,
            claim: C22.2,
            run: c22,
        },
        Lab {
            id: C23.0,
            title: C23.1,
            claim: C23.2,
            run: c23,
        },
    ]
}

// ---------------------------------------------------------------- C22 --

const C22: (&str, &str, &str) = (
    "C22",
    "(col = :v OR :v IS NULL) cannot use the index; a UNION ALL split can",
    "Optional-filter predicates written as `(col = :v OR :v IS NULL)` cannot be matching or screening predicates on an index led by `col`; splitting the query into a UNION ALL of the two cases lets each branch use the index.",
);

/// Gets and rows of one statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct C22Run {
    pub gets: u64,
    pub rows: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct C22Evidence {
    /// MATCHCOLS / screening predicates of the OR form with an INDEX hint,
    /// and whether the optimizer, unhinted, chose a full scan.
    pub or_hinted_matchcols: u64,
    pub or_hinted_screening: u64,
    pub or_full_scan: bool,
    /// MATCHCOLS of the split's first branch (`col = :v AND :v IS NOT
    /// NULL`) in the plan of the UNION ALL statement.
    pub branch1_matchcols: u64,
    /// With a value bound: the OR form (optimizer's plan), the OR form
    /// forced through the index, the UNION ALL statement, and each of its
    /// branches run alone.
    pub or_value: C22Run,
    pub or_hinted_value: C22Run,
    pub union_value: C22Run,
    pub b1_value: C22Run,
    pub b2_value: C22Run,
    /// With NULL bound.
    pub or_null: C22Run,
    pub union_null: C22Run,
    pub b1_null: C22Run,
    pub b2_null: C22Run,
}

/// The claim holds when the OR form can neither match nor screen on the
/// index (even when forced onto it), the first branch of the UNION ALL
/// matches on it, the UNION ALL returns the OR form's rows, and — with a
/// value bound — the UNION ALL statement costs fewer gets than the OR
/// form. If only the index branch alone beats the OR form (the statement
/// would win if the branch whose guard is false read nothing, as under
/// Oracle's startup FILTER), the verdict is `depends`, with the numbers.
pub fn c22_verdict(e: &C22Evidence) -> (Verdict, String) {
    if e.or_hinted_matchcols > 0 || e.or_hinted_screening > 0 {
        return (
            Verdict::DoesNotHold,
            format!(
                "the OR form matched {} column(s) and screened {} predicate(s) on the index",
                e.or_hinted_matchcols, e.or_hinted_screening
            ),
        );
    }
    if e.branch1_matchcols == 0 {
        return (
            Verdict::DoesNotHold,
            "the UNION ALL's `col = :v` branch did not match on the index".into(),
        );
    }
    if e.or_value.rows != e.union_value.rows || e.or_null.rows != e.union_null.rows {
        return (
            Verdict::DoesNotHold,
            format!(
                "the split changed the result: OR form {} rows, UNION ALL {} (value); {} and {} (NULL)",
                e.or_value.rows, e.union_value.rows, e.or_null.rows, e.union_null.rows
            ),
        );
    }
    let facts = format!(
        "OR form: no matching or screening even with INDEX hint ({} gets forced through the index, {} gets on its {}); UNION ALL branch `col = :v`: matchcols {}, alone {} gets for {} rows",
        e.or_hinted_value.gets,
        e.or_value.gets,
        if e.or_full_scan { "full scan" } else { "chosen plan" },
        e.branch1_matchcols,
        e.b1_value.gets,
        e.b1_value.rows
    );
    let nulls = format!(
        "with NULL bound: OR form {} gets, UNION ALL {} gets (branches alone {} + {}: a UNION ALL's arms run to their end before the first fetch, so its full scan is not re-read at each fetch call as a single query's is)",
        e.or_null.gets, e.union_null.gets, e.b1_null.gets, e.b2_null.gets
    );
    if e.union_value.gets < e.or_value.gets {
        (
            Verdict::Holds,
            format!(
                "{facts}; the UNION ALL statement {} gets < {}; {nulls}",
                e.union_value.gets, e.or_value.gets
            ),
        )
    } else if e.b1_value.gets < e.or_value.gets {
        (
            Verdict::Depends,
            format!(
                "{facts}; the UNION ALL wins only if the branch whose guard is false costs nothing (a startup FILTER, as in Oracle): blocklab has none, so its `WHERE :v IS NULL` branch with a value bound still reads the table ({} gets for 0 rows alone) and the one statement costs {} gets against the OR form's {}; {nulls}",
                e.b2_value.gets, e.union_value.gets, e.or_value.gets
            ),
        )
    } else {
        (
            Verdict::DoesNotHold,
            format!(
                "{facts}; the index branch is no cheaper than the OR form ({} gets); {nulls}",
                e.or_value.gets
            ),
        )
    }
}

fn c22(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(10_000, 100_000);
    let custs = n / 100;
    let (_db, mut s) = ctx.open("c22", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, cust INTEGER, amount INTEGER, pad TEXT)")?;
    s.execute("CREATE INDEX t_cust ON t (cust)")?;
    let mut rng = Rng::splitmix64(ctx.seed);
    let rows: Vec<Vec<Value>> = (0..n)
        .map(|i| {
            vec![
                Value::Int(i as i64),
                Value::Int(rng.below(custs) as i64),
                Value::Int(rng.below(1000) as i64),
                Value::Text(format!("{i:040}")),
            ]
        })
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?, ?)", &rows)?;
    s.execute("ANALYZE TABLE t")?;
    ctx.step("measuring");
    let or_form = "SELECT pad FROM t WHERE (cust = :v OR :v IS NULL)";
    let or_hinted = "SELECT /*+ INDEX(t t_cust) */ pad FROM t WHERE (cust = :v OR :v IS NULL)";
    let branch1 = "SELECT pad FROM t WHERE cust = :v AND :v IS NOT NULL";
    let branch2 = "SELECT pad FROM t WHERE :v IS NULL";
    let union_all = format!("{branch1} UNION ALL {branch2}");
    let v = [Value::Int(42)];
    let null = [Value::Null];
    let go = |s: &mut Session, sql: &str, b: &[Value]| -> Result<C22Run> {
        let m = run(s, sql, b)?;
        Ok(C22Run {
            gets: m.consistent_gets,
            rows: m.rows,
        })
    };
    let or_plan = explain(&mut s, or_form, &v)?;
    let or_hint_plan = explain(&mut s, or_hinted, &v)?;
    let union_plan = explain(&mut s, &union_all, &v)?;
    let e = C22Evidence {
        or_hinted_matchcols: or_hint_plan.matchcols.unwrap_or(0) as u64,
        or_hinted_screening: or_hint_plan.screening as u64,
        or_full_scan: or_plan.matchcols.is_none(),
        branch1_matchcols: union_plan.matchcols.unwrap_or(0) as u64,
        or_value: go(&mut s, or_form, &v)?,
        or_hinted_value: go(&mut s, or_hinted, &v)?,
        union_value: go(&mut s, &union_all, &v)?,
        b1_value: go(&mut s, branch1, &v)?,
        b2_value: go(&mut s, branch2, &v)?,
        or_null: go(&mut s, or_form, &null)?,
        union_null: go(&mut s, &union_all, &null)?,
        b1_null: go(&mut s, branch1, &null)?,
        b2_null: go(&mut s, branch2, &null)?,
    };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("or_form.hinted.matchcols", e.or_hinted_matchcols, "columns"),
        Evidence::counter(
            "or_form.hinted.screening_preds",
            e.or_hinted_screening,
            "preds",
        ),
        Evidence::counter("or_form.full_scan", u64::from(e.or_full_scan), "bool"),
        Evidence::counter(
            "union_all.branch1.matchcols",
            e.branch1_matchcols,
            "columns",
        ),
    ];
    for (p, r) in [
        ("value.or_form", e.or_value),
        ("value.or_form_index_hint", e.or_hinted_value),
        ("value.union_all", e.union_value),
        ("value.branch1_alone", e.b1_value),
        ("value.branch2_alone", e.b2_value),
        ("null.or_form", e.or_null),
        ("null.union_all", e.union_null),
        ("null.branch1_alone", e.b1_null),
        ("null.branch2_alone", e.b2_null),
    ] {
        evidence.push(Evidence::counter(
            format!("{p}.consistent_gets"),
            r.gets,
            "gets",
        ));
        evidence.push(Evidence::counter(format!("{p}.rows"), r.rows, "rows"));
    }
    Ok(report(
        C22,
        c22_verdict(&e),
        evidence,
        vec![("rows".into(), n.to_string()), ("v".into(), "42".into())],
        vec![
            "the split is one statement (UNION ALL); each branch is also run alone, to show where the statement's gets go".into(),
            or_plan.text,
            or_hint_plan.text,
            union_plan.text,
        ],
    ))
}

// ---------------------------------------------------------------- C23 --

const C23: (&str, &str, &str) = (
    "C23",
    "LIKE / BETWEEN rewrites of optional filters return wrong rows",
    "Rewriting optional filters with LIKE or BETWEEN has traps: NULL-able columns drop rows, numeric columns need ranges, variable-length text needs care.",
);

/// One rewrite of an optional filter: rows returned for each bind next to
/// the correct answer (counted from the data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C23Form {
    /// `text` or `num`.
    pub column: &'static str,
    pub form: &'static str,
    /// Rows for the binds (NULL, value 1, value 2).
    pub rows: [u64; 3],
    pub truth: [u64; 3],
    /// MATCHCOLS with the first value bound and an INDEX hint: whether the
    /// form can use the column's index at all.
    pub matchcols: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct C23Evidence {
    pub forms: Vec<C23Form>,
    /// Rows whose text / number column is NULL.
    pub null_text: u64,
    pub null_num: u64,
}

impl C23Evidence {
    fn form(&self, column: &str, form: &str) -> Option<&C23Form> {
        self.forms
            .iter()
            .find(|f| f.column == column && f.form == form)
    }
}

/// Holds when each of the three traps shows in the rows returned, while
/// the `(col = :v OR :v IS NULL)` forms return exactly the correct rows:
/// (1) NULLs: some rewrite, with NULL bound, returns fewer rows than the
/// table holds; (2) numbers: the LIKE prefix rewrite on the numeric column
/// returns wrong rows for a value while the BETWEEN (range) rewrite returns
/// the right ones; (3) variable-length text: the LIKE prefix rewrite returns
/// longer strings for a value, or the BETWEEN rewrite with a fixed-length
/// sentinel misses strings beyond it. Depends when only some traps show;
/// does not hold when none does.
pub fn c23_verdict(e: &C23Evidence) -> (Verdict, String) {
    if let Some(f) = e
        .forms
        .iter()
        .find(|f| f.form == "correct" && f.rows != f.truth)
    {
        return (
            Verdict::DoesNotHold,
            format!(
                "the reference form on {} returned {:?} rows, the data says {:?}",
                f.column, f.rows, f.truth
            ),
        );
    }
    let nulls = e
        .forms
        .iter()
        .filter(|f| f.form != "correct" && f.rows[0] < f.truth[0])
        .map(|f| format!("{}.{} {} of {}", f.column, f.form, f.rows[0], f.truth[0]))
        .collect::<Vec<_>>();
    let numbers = match (e.form("num", "like_prefix"), e.form("num", "between_sentinels")) {
        (Some(l), Some(b)) if l.rows[1..] != l.truth[1..] && b.rows[1..] == b.truth[1..] => Some(
            format!(
                "num LIKE :n || '%' returns {:?} rows for the values where {:?} are right, BETWEEN returns {:?}",
                &l.rows[1..],
                &l.truth[1..],
                &b.rows[1..]
            ),
        ),
        _ => None,
    };
    let varlen = {
        let prefix = e
            .form("text", "like_prefix")
            .filter(|f| f.rows[1] > f.truth[1]);
        let sentinel = e
            .form("text", "between_sentinels")
            .filter(|f| f.rows[0] + e.null_text < f.truth[0]);
        match (prefix, sentinel) {
            (None, None) => None,
            (p, s) => Some(format!(
                "{}{}",
                p.map(|f| format!(
                    "name LIKE :v || '%' returns {} rows for {} right; ",
                    f.rows[1], f.truth[1]
                ))
                .unwrap_or_default(),
                s.map(|f| format!(
                    "BETWEEN ' ' AND 'zzzz' with NULL bound keeps {} of the {} non-NULL names",
                    f.rows[0],
                    f.truth[0] - e.null_text
                ))
                .unwrap_or_default()
            )),
        }
    };
    let wildcard = e
        .form("text", "like_nvl")
        .filter(|f| f.rows[2] > f.truth[2])
        .map(|f| {
            format!(
                "; a '_' in the value is a wildcard: LIKE 'a_b' returns {} rows for {}",
                f.rows[2], f.truth[2]
            )
        })
        .unwrap_or_default();
    let found = [!nulls.is_empty(), numbers.is_some(), varlen.is_some()];
    let text = format!(
        "NULLs dropped with NULL bound: {}; numbers: {}; variable-length text: {}{wildcard}",
        if nulls.is_empty() {
            "none".into()
        } else {
            nulls.join(", ")
        },
        numbers.unwrap_or_else(|| "no difference".into()),
        varlen.unwrap_or_else(|| "no difference".into()),
    );
    match found.iter().filter(|&&b| b).count() {
        3 => (Verdict::Holds, text),
        0 => (Verdict::DoesNotHold, text),
        _ => (Verdict::Depends, text),
    }
}

/// Text values: short and long, a wildcard character, above 'z', non-ASCII.
const NAMES: [Option<&str>; 13] = [
    None,
    Some("a"),
    Some("ab"),
    Some("abc"),
    Some("abcd"),
    Some("a_b"),
    Some("axb"),
    Some("b"),
    Some("zz"),
    Some("zzzzzz"),
    Some("~x"),
    Some("é"),
    Some("AB"),
];

fn c23(ctx: &mut LabCtx) -> Result<Report> {
    let n = ctx.size(2_000, 20_000);
    let (_db, mut s) = ctx.open("c23", lab_config(ctx))?;
    ctx.step("loading");
    s.execute("CREATE TABLE t (id INTEGER, name TEXT, num INTEGER)")?;
    s.execute("CREATE INDEX t_name ON t (name)")?;
    s.execute("CREATE INDEX t_num ON t (num)")?;
    let mut rng = Rng::splitmix64(ctx.seed);
    let data: Vec<(Option<&str>, Option<i64>)> = (0..n)
        .map(|_| {
            let name = NAMES[rng.below(NAMES.len() as u64) as usize];
            let num = (rng.below(10) != 0).then(|| rng.below(300) as i64 - 50);
            (name, num)
        })
        .collect();
    let rows: Vec<Vec<Value>> = data
        .iter()
        .enumerate()
        .map(|(i, (name, num))| {
            vec![
                Value::Int(i as i64),
                name.map_or(Value::Null, |x| Value::Text(x.into())),
                num.map_or(Value::Null, Value::Int),
            ]
        })
        .collect();
    load(&mut s, "INSERT INTO t VALUES (?, ?, ?)", &rows)?;
    s.execute("ANALYZE TABLE t")?;
    ctx.step("measuring");
    let text_binds = [
        Value::Null,
        Value::Text("ab".into()),
        Value::Text("a_b".into()),
    ];
    let num_binds = [Value::Null, Value::Int(1), Value::Int(12)];
    let truth_text: Vec<u64> = text_binds
        .iter()
        .map(|b| match b {
            Value::Text(x) => data.iter().filter(|d| d.0 == Some(x.as_str())).count() as u64,
            _ => n,
        })
        .collect();
    let truth_num: Vec<u64> = num_binds
        .iter()
        .map(|b| match b {
            Value::Int(x) => data.iter().filter(|d| d.1 == Some(*x)).count() as u64,
            _ => n,
        })
        .collect();
    let text_forms: [(&str, &str); 5] = [
        ("correct", "(name = :v OR :v IS NULL)"),
        ("like_nvl", "name LIKE NVL(:v, '%')"),
        ("like_prefix", "name LIKE NVL(:v, '') || '%'"),
        (
            "between_sentinels",
            "name BETWEEN NVL(:v, ' ') AND NVL(:v, 'zzzz')",
        ),
        ("eq_nvl_self", "name = NVL(:v, name)"),
    ];
    let num_forms: [(&str, &str); 4] = [
        ("correct", "(num = :v OR :v IS NULL)"),
        ("like_prefix", "num LIKE NVL(:v, '') || '%'"),
        (
            "between_sentinels",
            "num BETWEEN NVL(:v, -1000000000) AND NVL(:v, 1000000000)",
        ),
        ("eq_nvl_self", "num = NVL(:v, num)"),
    ];
    let mut forms = Vec::new();
    let mut notes = Vec::new();
    for (column, ix, list, binds, truth) in [
        ("text", "t_name", &text_forms[..], &text_binds, &truth_text),
        ("num", "t_num", &num_forms[..], &num_binds, &truth_num),
    ] {
        for &(form, pred) in list {
            let sql = format!("SELECT id FROM t WHERE {pred}");
            let mut rows = [0u64; 3];
            for (i, b) in binds.iter().enumerate() {
                rows[i] = run(&mut s, &sql, std::slice::from_ref(b))?.rows;
            }
            let hinted = format!("SELECT /*+ INDEX(t {ix}) */ id FROM t WHERE {pred}");
            let plan = explain(&mut s, &hinted, &binds[1..2])?;
            notes.push(format!(
                "{column:4} {form:18} {pred:58} rows {:?} (correct {:?}), matchcols {}",
                rows,
                truth,
                plan.matchcols.unwrap_or(0)
            ));
            forms.push(C23Form {
                column,
                form,
                rows,
                truth: [truth[0], truth[1], truth[2]],
                matchcols: plan.matchcols.unwrap_or(0) as u64,
            });
        }
    }
    let e = C23Evidence {
        forms,
        null_text: data.iter().filter(|d| d.0.is_none()).count() as u64,
        null_num: data.iter().filter(|d| d.1.is_none()).count() as u64,
    };
    let mut evidence = vec![
        Evidence::counter("rows", n, "rows"),
        Evidence::counter("text.null_rows", e.null_text, "rows"),
        Evidence::counter("num.null_rows", e.null_num, "rows"),
    ];
    for f in &e.forms {
        let p = format!("{}.{}", f.column, f.form);
        for (i, b) in ["bind_null", "bind_1", "bind_2"].iter().enumerate() {
            evidence.push(Evidence::counter(
                format!("{p}.{b}.rows"),
                f.rows[i],
                "rows",
            ));
        }
        evidence.push(Evidence::counter(
            format!("{p}.matchcols"),
            f.matchcols,
            "columns",
        ));
    }
    notes.insert(
        0,
        "binds: text NULL, 'ab', 'a_b'; num NULL, 1, 12. Correct = the rows whose column equals the bind, or every row for NULL".into(),
    );
    Ok(report(
        C23,
        c23_verdict(&e),
        evidence,
        vec![("rows".into(), n.to_string())],
        vec![notes.join("\n")],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good22() -> C22Evidence {
        let r = |gets, rows| C22Run { gets, rows };
        C22Evidence {
            or_hinted_matchcols: 0,
            or_hinted_screening: 0,
            or_full_scan: true,
            branch1_matchcols: 1,
            or_value: r(104, 40),
            or_hinted_value: r(20_102, 40),
            union_value: r(43, 40),
            b1_value: r(43, 40),
            b2_value: r(0, 0),
            or_null: r(104, 20_000),
            union_null: r(105, 20_000),
            b1_null: r(1, 0),
            b2_null: r(104, 20_000),
        }
    }

    #[test]
    fn c22_rule_on_synthetic_evidence() {
        assert_eq!(c22_verdict(&good22()).0, Verdict::Holds);
        let no_startup_filter = C22Evidence {
            b2_value: C22Run { gets: 104, rows: 0 },
            union_value: C22Run {
                gets: 147,
                rows: 40,
            },
            ..good22()
        };
        assert_eq!(c22_verdict(&no_startup_filter).0, Verdict::Depends);
        let screened = C22Evidence {
            or_hinted_screening: 1,
            ..good22()
        };
        assert_eq!(c22_verdict(&screened).0, Verdict::DoesNotHold);
        let no_index = C22Evidence {
            branch1_matchcols: 0,
            ..good22()
        };
        assert_eq!(c22_verdict(&no_index).0, Verdict::DoesNotHold);
        let wrong_rows = C22Evidence {
            union_value: C22Run { gets: 43, rows: 39 },
            ..good22()
        };
        assert_eq!(c22_verdict(&wrong_rows).0, Verdict::DoesNotHold);
        let no_cheaper = C22Evidence {
            b1_value: C22Run {
                gets: 104,
                rows: 40,
            },
            union_value: C22Run {
                gets: 208,
                rows: 40,
            },
            ..good22()
        };
        assert_eq!(c22_verdict(&no_cheaper).0, Verdict::DoesNotHold);
    }

    fn f(column: &'static str, form: &'static str, rows: [u64; 3], truth: [u64; 3]) -> C23Form {
        C23Form {
            column,
            form,
            rows,
            truth,
            matchcols: 0,
        }
    }

    #[test]
    fn c23_rule_on_synthetic_evidence() {
        let t = [100, 8, 8];
        let nt = [100, 1, 1];
        let all = C23Evidence {
            forms: vec![
                f("text", "correct", t, t),
                f("text", "like_prefix", [92, 16, 8], t),
                f("text", "between_sentinels", [70, 8, 8], t),
                f("num", "correct", nt, nt),
                f("num", "like_prefix", [90, 12, 1], nt),
                f("num", "between_sentinels", [90, 1, 1], nt),
            ],
            null_text: 8,
            null_num: 10,
        };
        assert_eq!(c23_verdict(&all).0, Verdict::Holds);
        let only_nulls = C23Evidence {
            forms: vec![
                f("text", "correct", t, t),
                f("text", "like_prefix", [92, 8, 8], t),
                f("num", "like_prefix", [90, 1, 1], nt),
                f("num", "between_sentinels", [90, 1, 1], nt),
            ],
            ..all.clone()
        };
        assert_eq!(c23_verdict(&only_nulls).0, Verdict::Depends);
        let none = C23Evidence {
            forms: vec![
                f("text", "like_prefix", t, t),
                f("num", "like_prefix", nt, nt),
            ],
            ..all.clone()
        };
        assert_eq!(c23_verdict(&none).0, Verdict::DoesNotHold);
        let broken = C23Evidence {
            forms: vec![f("text", "correct", [99, 8, 8], t)],
            ..all
        };
        assert_eq!(c23_verdict(&broken).0, Verdict::DoesNotHold);
    }
}
