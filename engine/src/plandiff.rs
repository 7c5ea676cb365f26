//! plan-diff: the same statements EXPLAINed in two databases, their
//! `plan_table` rows compared column by column (claim C31).
//!
//! A statement can get another access path in production than in test
//! because the optimizer statistics differ: row counts, distinct keys,
//! clustering. DB2 shops catch this before a deployment by binding the
//! package in both places and comparing the two `PLAN_TABLE`s, row by row,
//! on the columns that matter for performance. This module does the same
//! with blocklab's `plan_table` rows ([`PlanTableRow`], the book, chapter 10):
//!
//! ```text
//!  statements ──EXPLAIN in A──▶ plan_table A ─┐
//!             ──EXPLAIN in B──▶ plan_table B ─┴─▶ match rows by (QBLOCKNO, PLANNO)
//!                                                   │
//!      compare the compared columns of each pair ◀──┘
//!      rows compared equal = E, rows in B = nB, rows in A = nA
//!      same  ⇔  E = nB = nA
//! ```
//!
//! * **Compared columns** ([`COMPARED`]): METHOD, TNAME, ACCESSTYPE,
//!   MATCHCOLS, ACCESSNAME, INDEXONLY, PREFETCH and the sort flags
//!   SORTN_JOIN, SORTC_UNIQ, SORTC_JOIN, SORTC_ORDERBY, SORTC_GROUPBY.
//!   QUERYNO, QBLOCKNO and PLANNO only identify a row. COST is shown but
//!   never compared: the two databases have different statistics by
//!   design, so the estimates differ even when the access path is the same.
//! * **Impact** ([`Impact`], [`ImpactTable`]): each compared column has a
//!   level, high (ACCESSTYPE, ACCESSNAME, MATCHCOLS, INDEXONLY, METHOD,
//!   TNAME), medium (SORTC_ORDERBY, SORTC_GROUPBY, SORTC_UNIQ, PREFETCH) or
//!   low (the rest) by default; a user file of
//!   `COLUMN=high|medium|low|ignore` lines overrides them. An ignored
//!   column is not compared at all. A row that is in one plan only weighs
//!   as much as the heaviest compared column it sets (a value other than
//!   blank, `N` or `0`), and at least low; METHOD 3 only marks a sort
//!   step, which weighs what its sort flags weigh: a sort of its own
//!   (METHOD 3, SORTC_ORDERBY Y) is medium. A statement's impact is the
//!   highest impact of its differences.
//! * **Join plans**: a join has one row per table, PLANNO in join order,
//!   and METHOD saying how that table joins the rows before it: 0 the
//!   first table, 1 nested loops, 2 merge scan (sort-merge, and the
//!   cartesian merge join), 5 hash join — DB2 z/OS has no hash join and
//!   uses 4 for its hybrid join, so blocklab gives hash join a code of its
//!   own (the book, appendix "Reading plans"). Rows are matched by
//!   (QBLOCKNO, PLANNO), so a changed join order shows as TNAME changing
//!   at a PLANNO, and a changed join method as METHOD changing: both high,
//!   because either can multiply the gets (a nested loop that probes the
//!   inner table once per outer row where a hash join read it once).
//! * **The three counts** are DB2's: a plan is unchanged only when every
//!   row of both plans found an equal partner. Counting rows, not just
//!   differences, is what catches a step that appears or disappears (a
//!   sort the new index no longer avoids).
//!
//! [`diff_databases`] EXPLAINs each statement in both databases, with each
//! database's own stored statistics (`ANALYZE TABLE` persists them), and
//! with `run` also executes each SELECT in both: first the plan the
//! database chose, then — when the plans differ and the statement carries
//! no hint of its own — the other database's plan, forced with `FULL` or
//! `INDEX` hints (and `LEADING` plus the join-method hints for a join), so
//! the report shows what each plan really costs in each
//! database (consistent gets, db block gets, rows), measured by the
//! session counters, never by time. Each run is executed twice and the
//! second execution measured, so that a first reader's delayed block
//! cleanout is not counted against a plan. DML is never executed.
//!
//! Simplifications compared with DB2's tooling: rows are matched by
//! (QBLOCKNO, PLANNO) with no attempt to pair a moved step (a join order
//! that swaps two tables differs at both PLANNOs); the forced plan is
//! reproduced with hints only — FULL / INDEX for each table, and for a
//! join LEADING in the plan's order with USE_NL / USE_MERGE / USE_HASH
//! per joined table, named by table name, so a statement that gives its
//! tables aliases cannot be forced — and the report says whether the
//! forced EXPLAIN really matches the plan it imitates.

mod databases;
mod report;

use std::fmt::{self, Write};

use serde_json::{json, Value as Json};

use crate::error::{Error, Result};
use crate::sql::{Explain, PlanTableRow};

pub use databases::{diff_databases, Run, Side, StatementDiff, Status};
pub use report::{render_table, Summary};

/// How much a difference in one plan_table column matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// The column is not compared.
    Ignore,
    Low,
    Medium,
    High,
}

impl Impact {
    pub fn name(self) -> &'static str {
        match self {
            Impact::Ignore => "ignore",
            Impact::Low => "low",
            Impact::Medium => "medium",
            Impact::High => "high",
        }
    }

    /// `high`, `medium`, `low` or `ignore`, in any case.
    pub fn parse(text: &str) -> Option<Impact> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ignore" => Some(Impact::Ignore),
            "low" => Some(Impact::Low),
            "medium" => Some(Impact::Medium),
            "high" => Some(Impact::High),
            _ => None,
        }
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The plan_table columns plan-diff compares, in plan_table order.
pub const COMPARED: [&str; 12] = [
    "METHOD",
    "TNAME",
    "ACCESSTYPE",
    "MATCHCOLS",
    "ACCESSNAME",
    "INDEXONLY",
    "PREFETCH",
    "SORTN_JOIN",
    "SORTC_UNIQ",
    "SORTC_JOIN",
    "SORTC_ORDERBY",
    "SORTC_GROUPBY",
];

/// The plan_table columns that are never compared: the row's identity
/// and its cost estimate.
pub const NOT_COMPARED: [&str; 4] = ["QUERYNO", "QBLOCKNO", "PLANNO", "COST"];

/// The impact level of every compared column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpactTable {
    /// One level per entry of [`COMPARED`], same order.
    levels: [Impact; COMPARED.len()],
}

impl Default for ImpactTable {
    /// high: ACCESSTYPE, ACCESSNAME, MATCHCOLS, INDEXONLY, METHOD, TNAME;
    /// medium: SORTC_ORDERBY, SORTC_GROUPBY, SORTC_UNIQ, PREFETCH; low:
    /// SORTN_JOIN, SORTC_JOIN.
    fn default() -> Self {
        let levels = COMPARED.map(|c| match c {
            "ACCESSTYPE" | "ACCESSNAME" | "MATCHCOLS" | "INDEXONLY" | "METHOD" | "TNAME" => {
                Impact::High
            }
            "SORTC_ORDERBY" | "SORTC_GROUPBY" | "SORTC_UNIQ" | "PREFETCH" => Impact::Medium,
            _ => Impact::Low,
        });
        ImpactTable { levels }
    }
}

impl ImpactTable {
    /// The default table with the overrides of an impact file applied.
    pub fn from_overrides(text: &str) -> Result<ImpactTable> {
        let mut t = ImpactTable::default();
        t.apply(text)?;
        Ok(t)
    }

    /// Applies an impact file: one `COLUMN=high|medium|low|ignore` per
    /// line; blank lines and lines starting with `#` or `--` are skipped.
    /// A column that is not compared (QUERYNO, COST, …) or unknown, or a
    /// level that is not one of the four, is an error naming the line.
    pub fn apply(&mut self, text: &str) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("--") {
                continue;
            }
            let bad = |why: String| Error::Config(format!("impact file line {}: {why}", n + 1));
            let (col, level) = line
                .split_once('=')
                .ok_or_else(|| bad(format!("expected COLUMN=LEVEL, got {line:?}")))?;
            let level = Impact::parse(level).ok_or_else(|| {
                bad(format!(
                    "level {:?} is not high, medium, low or ignore",
                    level.trim()
                ))
            })?;
            self.set(col.trim(), level).map_err(|e| match e {
                Error::Config(why) => bad(why),
                other => other,
            })?;
        }
        Ok(())
    }

    /// Sets one column's level.
    pub fn set(&mut self, column: &str, level: Impact) -> Result<()> {
        let up = column.to_ascii_uppercase();
        match COMPARED.iter().position(|c| *c == up) {
            Some(i) => {
                self.levels[i] = level;
                Ok(())
            }
            None if NOT_COMPARED.contains(&up.as_str()) => Err(Error::Config(format!(
                "{up} is never compared (it identifies a row or is an estimate)"
            ))),
            None => Err(Error::Config(format!(
                "{column:?} is not a plan_table column plan-diff compares ({})",
                COMPARED.join(", ")
            ))),
        }
    }

    /// The level of a compared column (`Ignore` for any other name).
    pub fn level(&self, column: &str) -> Impact {
        COMPARED
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))
            .map_or(Impact::Ignore, |i| self.levels[i])
    }

    /// Every compared column with its level, in plan_table order.
    pub fn columns(&self) -> impl Iterator<Item = (&'static str, Impact)> + '_ {
        COMPARED.iter().copied().zip(self.levels.iter().copied())
    }

    /// One line per level: `high: ACCESSTYPE, MATCHCOLS, …`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for level in [Impact::High, Impact::Medium, Impact::Low, Impact::Ignore] {
            let cols: Vec<&str> = self
                .columns()
                .filter(|(_, l)| *l == level)
                .map(|(c, _)| c)
                .collect();
            if !cols.is_empty() {
                let _ = writeln!(out, "{:>6}: {}", level.name(), cols.join(", "));
            }
        }
        out
    }
}

/// The value of `column` in `row`, as plan_table text.
fn value(row: &PlanTableRow, column: &str) -> String {
    PlanTableRow::COLUMNS
        .iter()
        .position(|c| *c == column)
        .map(|i| row.values().swap_remove(i))
        .unwrap_or_default()
}

/// A value that says "nothing here": blank, `N` or `0`.
fn is_unset(v: &str) -> bool {
    matches!(v, "" | "N" | "0")
}

/// One way two plans differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub qblockno: u32,
    pub planno: u32,
    /// The column whose values differ; `None` when the whole row is in one
    /// plan only.
    pub column: Option<String>,
    /// The value in plan A; for a whole row, its set compared columns
    /// (`METHOD=3 SORTC_ORDERBY=Y`), `None` when the row is not in plan A.
    pub a: Option<String>,
    /// The same for plan B.
    pub b: Option<String>,
    pub impact: Impact,
}

/// The result of comparing two plans (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanComparison {
    /// Rows found in both plans with every compared column equal.
    pub rows_equal: usize,
    /// Rows in plan B.
    pub rows_b: usize,
    /// Rows in plan A.
    pub rows_a: usize,
    /// Every difference, in row order, then column order.
    pub differences: Vec<Difference>,
}

impl PlanComparison {
    /// DB2's rule: the plans are the same only when rows compared equal =
    /// rows in plan B = rows in plan A.
    pub fn same(&self) -> bool {
        self.rows_equal == self.rows_b && self.rows_b == self.rows_a
    }

    /// The highest impact among the differences (`None` when the plans
    /// are the same).
    pub fn impact(&self) -> Option<Impact> {
        self.differences.iter().map(|d| d.impact).max()
    }

    pub fn to_json(&self) -> Json {
        json!({
            "same": self.same(),
            "impact": self.impact().map(Impact::name),
            "rows_equal": self.rows_equal,
            "rows_b": self.rows_b,
            "rows_a": self.rows_a,
            "differences": self.differences.iter().map(|d| json!({
                "qblockno": d.qblockno,
                "planno": d.planno,
                "column": d.column,
                "a": d.a,
                "b": d.b,
                "impact": d.impact.name(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Compares plan A with plan B on the columns `impact` does not ignore.
/// Rows are matched by (QBLOCKNO, PLANNO); should a plan hold the same
/// pair twice, the k-th occurrence in A meets the k-th in B.
pub fn compare(a: &Explain, b: &Explain, impact: &ImpactTable) -> PlanComparison {
    let key = |rows: &[PlanTableRow], i: usize| {
        let r = &rows[i];
        let nth = rows[..i]
            .iter()
            .filter(|o| (o.qblockno, o.planno) == (r.qblockno, r.planno))
            .count();
        (r.qblockno, r.planno, nth)
    };
    let (ra, rb) = (&a.plan_table, &b.plan_table);
    let mut keys: Vec<(u32, u32, usize)> = (0..ra.len())
        .map(|i| key(ra, i))
        .chain((0..rb.len()).map(|i| key(rb, i)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    fn find(
        rows: &[PlanTableRow],
        key: impl Fn(&[PlanTableRow], usize) -> (u32, u32, usize),
        k: (u32, u32, usize),
    ) -> Option<&PlanTableRow> {
        (0..rows.len())
            .find(|&i| key(rows, i) == k)
            .map(|i| &rows[i])
    }
    let compared: Vec<(&str, Impact)> = impact
        .columns()
        .filter(|(_, l)| *l != Impact::Ignore)
        .collect();
    let mut out = PlanComparison {
        rows_a: ra.len(),
        rows_b: rb.len(),
        ..PlanComparison::default()
    };
    for k in keys {
        let (qblockno, planno, _) = k;
        match (find(ra, key, k), find(rb, key, k)) {
            (Some(x), Some(y)) => {
                let before = out.differences.len();
                for &(col, level) in &compared {
                    let (va, vb) = (value(x, col), value(y, col));
                    if va != vb {
                        out.differences.push(Difference {
                            qblockno,
                            planno,
                            column: Some(col.to_string()),
                            a: Some(va),
                            b: Some(vb),
                            impact: level,
                        });
                    }
                }
                if out.differences.len() == before {
                    out.rows_equal += 1;
                }
            }
            (x, y) => {
                let Some(row) = x.or(y) else { continue };
                let set: Vec<(&str, String)> = compared
                    .iter()
                    .map(|&(c, _)| (c, value(row, c)))
                    .filter(|(_, v)| !is_unset(v))
                    .collect();
                // METHOD 3 only says "this row is a sort": the sort flags
                // it sets weigh the step, not the join-method level.
                let level = compared
                    .iter()
                    .filter(|(c, _)| {
                        set.iter()
                            .any(|(s, v)| s == c && (*s, v.as_str()) != ("METHOD", "3"))
                    })
                    .map(|&(_, l)| l)
                    .max()
                    .unwrap_or(Impact::Low)
                    .max(Impact::Low);
                let text = set
                    .iter()
                    .map(|(c, v)| format!("{c}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                out.differences.push(Difference {
                    qblockno,
                    planno,
                    column: None,
                    a: x.map(|_| text.clone()),
                    b: y.map(|_| text),
                    impact: level,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan_table row of a full scan of T, as the optimizer writes it.
    pub(super) fn full_scan() -> PlanTableRow {
        PlanTableRow {
            queryno: 1,
            qblockno: 1,
            planno: 1,
            method: 0,
            tname: "T".into(),
            accesstype: "R".into(),
            matchcols: 0,
            accessname: String::new(),
            indexonly: "N".into(),
            prefetch: "S".into(),
            sortn_join: "N".into(),
            sortc_uniq: "N".into(),
            sortc_join: "N".into(),
            sortc_orderby: "N".into(),
            sortc_groupby: "N".into(),
            cost: 100,
        }
    }

    pub(super) fn index_scan() -> PlanTableRow {
        PlanTableRow {
            accesstype: "I".into(),
            matchcols: 1,
            accessname: "T_PK".into(),
            prefetch: String::new(),
            cost: 23,
            ..full_scan()
        }
    }

    /// The extra row EXPLAIN adds for an ORDER BY sort.
    pub(super) fn sort_row() -> PlanTableRow {
        PlanTableRow {
            planno: 2,
            method: 3,
            tname: String::new(),
            accesstype: String::new(),
            prefetch: String::new(),
            sortc_orderby: "Y".into(),
            ..full_scan()
        }
    }

    pub(super) fn plan(rows: Vec<PlanTableRow>) -> Explain {
        Explain {
            plan_table: rows,
            ..Explain::default()
        }
    }

    #[test]
    fn equal_plans_with_different_costs_are_the_same() {
        let mut cheaper = full_scan();
        cheaper.cost = 7;
        let c = compare(
            &plan(vec![full_scan()]),
            &plan(vec![cheaper]),
            &ImpactTable::default(),
        );
        // 1 row, equal on every compared column; COST is not compared.
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (1, 1, 1));
        assert!(c.same());
        assert_eq!(c.impact(), None);
        assert!(c.differences.is_empty());
    }

    #[test]
    fn one_changed_column_makes_the_row_unequal_at_that_columns_impact() {
        let mut sorted = full_scan();
        sorted.sortc_groupby = "Y".into();
        let c = compare(
            &plan(vec![full_scan()]),
            &plan(vec![sorted]),
            &ImpactTable::default(),
        );
        // Both plans have their one row, but it is not equal: 0 ≠ 1 = 1.
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (0, 1, 1));
        assert!(!c.same());
        assert_eq!(
            c.differences,
            [Difference {
                qblockno: 1,
                planno: 1,
                column: Some("SORTC_GROUPBY".into()),
                a: Some("N".into()),
                b: Some("Y".into()),
                impact: Impact::Medium,
            }]
        );
        assert_eq!(c.impact(), Some(Impact::Medium));
    }

    #[test]
    fn an_index_plan_against_a_full_scan_differs_at_high_impact() {
        let c = compare(
            &plan(vec![index_scan()]),
            &plan(vec![full_scan()]),
            &ImpactTable::default(),
        );
        let cols: Vec<(&str, Impact)> = c
            .differences
            .iter()
            .map(|d| (d.column.as_deref().unwrap(), d.impact))
            .collect();
        // INDEXONLY is N in both; PREFETCH is blank (index) vs S (scan).
        assert_eq!(
            cols,
            [
                ("ACCESSTYPE", Impact::High),
                ("MATCHCOLS", Impact::High),
                ("ACCESSNAME", Impact::High),
                ("PREFETCH", Impact::Medium),
            ]
        );
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (0, 1, 1));
        assert_eq!(c.impact(), Some(Impact::High));
    }

    #[test]
    fn an_extra_row_in_b_is_counted_and_weighs_what_it_sets() {
        let c = compare(
            &plan(vec![full_scan()]),
            &plan(vec![full_scan(), sort_row()]),
            &ImpactTable::default(),
        );
        // Row (1,1) is equal in both; row (1,2) is in B only: 1 = 1 ≠ 2.
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (1, 2, 1));
        assert!(!c.same());
        assert_eq!(
            c.differences,
            [Difference {
                qblockno: 1,
                planno: 2,
                column: None,
                a: None,
                b: Some("METHOD=3 SORTC_ORDERBY=Y".into()),
                // METHOD 3 marks a sort step; SORTC_ORDERBY is medium.
                impact: Impact::Medium,
            }]
        );
    }

    /// Row `planno` of a join: table `t` read by a full scan, joined by
    /// `method` (0 first table, 1 nested loops, 2 merge, 5 hash).
    fn join_row(planno: u32, t: &str, method: u32) -> PlanTableRow {
        PlanTableRow {
            planno,
            method,
            tname: t.into(),
            ..full_scan()
        }
    }

    #[test]
    fn a_join_method_change_differs_at_high_impact() {
        // Same order, same accesses: only the method that joins ORD.
        let c = compare(
            &plan(vec![join_row(1, "CUST", 0), join_row(2, "ORD", 1)]),
            &plan(vec![join_row(1, "CUST", 0), join_row(2, "ORD", 5)]),
            &ImpactTable::default(),
        );
        // Row 1 equal, row 2 not: 1 ≠ 2 = 2.
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (1, 2, 2));
        assert_eq!(
            c.differences,
            [Difference {
                qblockno: 1,
                planno: 2,
                column: Some("METHOD".into()),
                a: Some("1".into()),
                b: Some("5".into()),
                impact: Impact::High,
            }]
        );
        assert_eq!(c.impact(), Some(Impact::High));
    }

    #[test]
    fn a_join_order_change_shows_as_tname_changing_at_each_planno() {
        // A: CUST drives a nested loop into ORD; B: ORD first, CUST hashed.
        let c = compare(
            &plan(vec![join_row(1, "CUST", 0), join_row(2, "ORD", 1)]),
            &plan(vec![join_row(1, "ORD", 0), join_row(2, "CUST", 5)]),
            &ImpactTable::default(),
        );
        let cols: Vec<(u32, &str, Impact)> = c
            .differences
            .iter()
            .map(|d| (d.planno, d.column.as_deref().unwrap(), d.impact))
            .collect();
        assert_eq!(
            cols,
            [
                (1, "TNAME", Impact::High),
                (2, "METHOD", Impact::High),
                (2, "TNAME", Impact::High),
            ]
        );
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (0, 2, 2));
    }

    #[test]
    fn a_table_joined_in_one_plan_only_weighs_high() {
        // B joins a third table: a row with METHOD 1 and a TNAME.
        let c = compare(
            &plan(vec![join_row(1, "CUST", 0), join_row(2, "ORD", 5)]),
            &plan(vec![
                join_row(1, "CUST", 0),
                join_row(2, "ORD", 5),
                join_row(3, "REGION", 1),
            ]),
            &ImpactTable::default(),
        );
        assert_eq!((c.rows_equal, c.rows_b, c.rows_a), (2, 3, 2));
        assert_eq!(c.impact(), Some(Impact::High));
    }

    #[test]
    fn an_ignored_column_is_not_compared() {
        let impact = ImpactTable::from_overrides("# no prefetch\nPREFETCH=ignore\n").unwrap();
        let mut dynamic = full_scan();
        dynamic.prefetch = "D".into();
        let c = compare(&plan(vec![full_scan()]), &plan(vec![dynamic]), &impact);
        assert!(c.same());
    }

    #[test]
    fn an_impact_file_overrides_levels_and_refuses_what_it_cannot_mean() {
        let t = ImpactTable::from_overrides("tname = LOW\n\n-- comment\nMETHOD=low").unwrap();
        assert_eq!(t.level("TNAME"), Impact::Low);
        assert_eq!(t.level("METHOD"), Impact::Low);
        assert_eq!(t.level("ACCESSTYPE"), Impact::High, "untouched default");
        for bad in [
            "COST=high",
            "QUERYNO=low",
            "NOSUCH=low",
            "ACCESSTYPE=big",
            "ACCESSTYPE",
        ] {
            let e = ImpactTable::from_overrides(&format!("\n{bad}")).unwrap_err();
            assert!(e.to_string().contains("line 2"), "{bad}: {e}");
        }
    }
}
