//! The table format of plan-diff's report: one block per statement (a
//! status line, the statement, the differing columns, the runs), then a
//! summary.

use std::fmt::{self, Write};

use super::{Impact, ImpactTable, StatementDiff, Status};

/// How many statements came out same, changed, in error, and the changed
/// ones by impact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub statements: usize,
    pub same: usize,
    pub changed: usize,
    pub errors: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl Summary {
    pub fn of(diffs: &[StatementDiff]) -> Summary {
        let mut s = Summary {
            statements: diffs.len(),
            ..Summary::default()
        };
        for d in diffs {
            match d.status() {
                Status::Same => s.same += 1,
                Status::Error => s.errors += 1,
                Status::Changed => {
                    s.changed += 1;
                    match d.comparison.as_ref().and_then(|c| c.impact()) {
                        Some(Impact::High) => s.high += 1,
                        Some(Impact::Medium) => s.medium += 1,
                        _ => s.low += 1,
                    }
                }
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} statements: {} same, {} changed (impact high {}, medium {}, low {}), {} errors",
            self.statements, self.same, self.changed, self.high, self.medium, self.low, self.errors
        )
    }
}

impl fmt::Display for StatementDiff {
    /// The table format of `blocklab plan-diff`: a status line, the
    /// statement, the differing columns, the runs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cost_a, cost_b) = self.costs();
        let show = |c: Option<u64>| c.map_or("-".to_string(), |c| c.to_string());
        write!(f, "{:>3}  {:<7}", self.queryno, self.status().name())?;
        if let Some(c) = &self.comparison {
            let imp = c
                .impact()
                .map_or(String::new(), |i| format!("  impact {i}"));
            write!(
                f,
                "{imp}  rows equal {}, in B {}, in A {}",
                c.rows_equal, c.rows_b, c.rows_a
            )?;
        }
        writeln!(f, "  cost A {}, B {}", show(cost_a), show(cost_b))?;
        for line in self.sql.lines() {
            writeln!(f, "     {line}")?;
        }
        for e in &self.errors {
            writeln!(f, "     error {e}")?;
        }
        if let Some(c) = self
            .comparison
            .as_ref()
            .filter(|c| !c.differences.is_empty())
        {
            let cell = |v: &Option<String>| match v.as_deref() {
                None => "-".to_string(),
                Some("") => "(blank)".to_string(),
                Some(v) => v.to_string(),
            };
            let rows: Vec<[String; 6]> = c
                .differences
                .iter()
                .map(|d| {
                    [
                        d.qblockno.to_string(),
                        d.planno.to_string(),
                        d.column.clone().unwrap_or_else(|| "(row)".into()),
                        cell(&d.a),
                        cell(&d.b),
                        d.impact.name().to_string(),
                    ]
                })
                .collect();
            let head = ["QBLOCKNO", "PLANNO", "COLUMN", "A", "B", "IMPACT"];
            table(f, &head, &rows)?;
        }
        if !self.runs.is_empty() {
            let rows: Vec<[String; 6]> = self
                .runs
                .iter()
                .map(|r| {
                    let plan = match &r.hint {
                        None => format!("{} (chosen)", r.plan.name()),
                        Some(h) => format!(
                            "{} (forced {h}{})",
                            r.plan.name(),
                            if r.plan_matches {
                                ""
                            } else {
                                ", but EXPLAIN differs"
                            }
                        ),
                    };
                    let n = |v: u64| {
                        if r.error.is_some() {
                            "-".to_string()
                        } else {
                            v.to_string()
                        }
                    };
                    [
                        r.database.name().to_string(),
                        plan,
                        n(r.rows),
                        n(r.consistent_gets),
                        n(r.db_block_gets),
                        r.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let head = [
                "DB",
                "PLAN",
                "ROWS",
                "CONSISTENT GETS",
                "DB BLOCK GETS",
                "ERROR",
            ];
            table(f, &head, &rows)?;
        }
        if let Some(n) = &self.run_note {
            writeln!(f, "     note: {n}")?;
        }
        Ok(())
    }
}

/// An aligned table indented by five spaces; numbers right-aligned, a last
/// column that is empty everywhere is left out.
fn table<const N: usize>(
    f: &mut fmt::Formatter<'_>,
    head: &[&str; N],
    rows: &[[String; N]],
) -> fmt::Result {
    let used = if rows.iter().all(|r| r[N - 1].is_empty()) {
        N - 1
    } else {
        N
    };
    let width: Vec<usize> = (0..used)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = (0..used)
        .map(|i| rows.iter().all(|r| r[i].parse::<u64>().is_ok()))
        .collect();
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if numeric[i] {
                    format!("{c:>w$}", w = width[i])
                } else {
                    format!("{c:<w$}", w = width[i])
                }
            })
            .collect();
        format!("     {}", parts.join("  ").trim_end())
    };
    writeln!(f, "{}", line(head[..used].to_vec()))?;
    for r in rows {
        writeln!(
            f,
            "{}",
            line(r[..used].iter().map(String::as_str).collect())
        )?;
    }
    Ok(())
}

/// The whole report in the table format: the impact table, each
/// statement, the summary.
pub fn render_table(diffs: &[StatementDiff], impact: &ImpactTable) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Compared plan_table columns by impact (COST is shown, never compared):"
    );
    out.push_str(&impact.describe());
    for d in diffs {
        let _ = write!(out, "\n{d}");
    }
    let _ = writeln!(out, "\n{}", Summary::of(diffs));
    out
}
