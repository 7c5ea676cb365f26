//! The databases half of plan-diff: EXPLAIN (and with `run`, execute)
//! each statement in both databases, compare the plans with
//! [`compare`], force the other database's plan with a hint.

use serde_json::{json, Value as Json};

use super::{compare, Impact, ImpactTable, PlanComparison};
use crate::db::Database;
use crate::error::Result;
use crate::sql::{Explain, PlanTableRow};
use crate::stats::Stat;

/// One of the two databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// One execution of a statement in one database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Where it ran.
    pub database: Side,
    /// Whose plan it ran: its own database's choice, or the other's forced.
    pub plan: Side,
    /// The hint that forced the plan (`None`: the optimizer's choice).
    pub hint: Option<String>,
    /// For a forced plan: whether EXPLAIN of the hinted statement compares
    /// the same as the plan it imitates. Always true for a chosen plan.
    pub plan_matches: bool,
    pub rows: u64,
    pub consistent_gets: u64,
    pub db_block_gets: u64,
    /// The error the execution returned, if any (the counters are then 0).
    pub error: Option<String>,
}

/// Whether a statement's plans are the same in both databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Same,
    Changed,
    /// EXPLAIN failed in one database or both.
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Changed => "changed",
            Status::Error => "error",
        }
    }
}

/// What plan-diff found for one statement.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementDiff {
    /// The statement's position in the list, from 1 (its QUERYNO).
    pub queryno: usize,
    pub sql: String,
    /// The plans (`None` where EXPLAIN failed).
    pub explain_a: Option<Explain>,
    pub explain_b: Option<Explain>,
    /// EXPLAIN's errors, prefixed `A: ` / `B: `.
    pub errors: Vec<String>,
    /// `None` when a plan is missing.
    pub comparison: Option<PlanComparison>,
    /// Executions (only when asked to run, and only for SELECTs).
    pub runs: Vec<Run>,
    /// Why the statement, or the other plan, was not run.
    pub run_note: Option<String>,
}

impl StatementDiff {
    pub fn status(&self) -> Status {
        match &self.comparison {
            None => Status::Error,
            Some(c) if c.same() => Status::Same,
            Some(_) => Status::Changed,
        }
    }

    /// The estimated cost of each plan (its top line); shown, not compared.
    pub fn costs(&self) -> (Option<u64>, Option<u64>) {
        let cost = |e: &Option<Explain>| e.as_ref().and_then(|e| e.lines.first().map(|l| l.cost));
        (cost(&self.explain_a), cost(&self.explain_b))
    }

    /// The whole result as one JSON object (one line of `--format json`).
    pub fn to_json(&self) -> Json {
        let plan = |e: &Option<Explain>| {
            e.as_ref().map(|e| {
                e.plan_table
                    .iter()
                    .map(|r| {
                        let mut o = serde_json::Map::new();
                        for (c, v) in PlanTableRow::COLUMNS.iter().zip(r.values()) {
                            o.insert(c.to_string(), Json::String(v));
                        }
                        Json::Object(o)
                    })
                    .collect::<Vec<_>>()
            })
        };
        let (cost_a, cost_b) = self.costs();
        json!({
            "queryno": self.queryno,
            "sql": self.sql,
            "status": self.status().name(),
            "impact": self.comparison.as_ref().and_then(|c| c.impact()).map(Impact::name),
            "comparison": self.comparison.as_ref().map(PlanComparison::to_json),
            "cost_a": cost_a,
            "cost_b": cost_b,
            "plan_table_a": plan(&self.explain_a),
            "plan_table_b": plan(&self.explain_b),
            "errors": self.errors,
            "runs": self.runs.iter().map(|r| json!({
                "database": r.database.name(),
                "plan": r.plan.name(),
                "hint": r.hint,
                "plan_matches": r.plan_matches,
                "rows": r.rows,
                "consistent_gets": r.consistent_gets,
                "db_block_gets": r.db_block_gets,
                "error": r.error,
            })).collect::<Vec<_>>(),
            "run_note": self.run_note,
        })
    }
}

/// The first keyword of a statement, upper case, after comments.
fn first_keyword(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, t)| t).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, t)| t).trim_start();
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

/// The hint that makes the optimizer take the plan of `row` (a table
/// access row), if the row says enough to name one.
fn forcing_hint(row: &PlanTableRow) -> Option<String> {
    access_hint(row).map(|h| format!("/*+ {h} */"))
}

/// `FULL(t)` or `INDEX(t i)` for one table access row.
fn access_hint(row: &PlanTableRow) -> Option<String> {
    let t = row.tname.to_ascii_lowercase();
    match row.accesstype.as_str() {
        "R" if !t.is_empty() => Some(format!("FULL({t})")),
        "I" | "I1" | "N" if !t.is_empty() && !row.accessname.is_empty() => Some(format!(
            "INDEX({t} {})",
            row.accessname.to_ascii_lowercase()
        )),
        _ => None,
    }
}

/// The hint that makes the optimizer take a join plan: `LEADING` in the
/// plan's table order (PLANNO), the method of every joined table
/// (METHOD 1 `USE_NL`, 2 `USE_MERGE`, 5 `USE_HASH`) and each table's
/// access. Tables are named by TNAME, so the hint forces the plan only
/// when the statement names its tables without aliases (the caller
/// checks the forced EXPLAIN against the plan).
fn join_forcing_hint(rows: &[&PlanTableRow]) -> Option<String> {
    let mut order = Vec::new();
    let mut parts = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let t = r.tname.to_ascii_lowercase();
        if t.is_empty() {
            return None;
        }
        let method = match (i, r.method) {
            (0, 0) => None,
            (i, 1) if i > 0 => Some("USE_NL"),
            (i, 2) if i > 0 => Some("USE_MERGE"),
            (i, 5) if i > 0 => Some("USE_HASH"),
            _ => return None,
        };
        if let Some(m) = method {
            parts.push(format!("{m}({t})"));
        }
        parts.push(access_hint(r)?);
        order.push(t);
    }
    Some(format!(
        "/*+ LEADING({}) {} */",
        order.join(" "),
        parts.join(" ")
    ))
}

/// EXPLAINs every statement in both databases and compares the plans;
/// with `run`, also executes each SELECT in both (see the module docs).
/// A statement that starts with `EXPLAIN` is explained as written and
/// never run. Errors of single statements are reported in their
/// [`StatementDiff`]; `Err` means a database could not be used at all.
pub fn diff_databases(
    a: &Database,
    b: &Database,
    statements: &[String],
    impact: &ImpactTable,
    run: bool,
) -> Result<Vec<StatementDiff>> {
    let mut sa = a.session();
    let mut sb = b.session();
    let mut out = Vec::with_capacity(statements.len());
    for (i, sql) in statements.iter().enumerate() {
        let kw = first_keyword(sql);
        let text = if kw == "EXPLAIN" {
            sql.clone()
        } else {
            format!("EXPLAIN {sql}")
        };
        let mut errors = Vec::new();
        let mut explain = |s: &mut crate::Session, side: Side| match s.execute(&text) {
            Ok(r) => r.explain,
            Err(e) => {
                errors.push(format!("{}: {e}", side.name()));
                None
            }
        };
        let explain_a = explain(&mut sa, Side::A);
        let explain_b = explain(&mut sb, Side::B);
        let comparison = match (&explain_a, &explain_b) {
            (Some(x), Some(y)) => Some(compare(x, y, impact)),
            _ => None,
        };
        let mut d = StatementDiff {
            queryno: i + 1,
            sql: sql.clone(),
            explain_a,
            explain_b,
            errors,
            comparison,
            runs: Vec::new(),
            run_note: None,
        };
        if run {
            run_both(&mut sa, &mut sb, &mut d, impact, &kw);
        }
        out.push(d);
    }
    Ok(out)
}

/// The `run` half of [`diff_databases`] for one statement.
fn run_both(
    sa: &mut crate::Session,
    sb: &mut crate::Session,
    d: &mut StatementDiff,
    impact: &ImpactTable,
    kw: &str,
) {
    if kw != "SELECT" && kw != "WITH" {
        d.run_note = Some(format!("not run: only SELECTs are executed, this is {kw}"));
        return;
    }
    let changed = d.status() == Status::Changed;
    // The other database's plan, forced: only when the plans differ and
    // the statement has no hints of its own.
    let forced = |e: &Option<Explain>| -> std::result::Result<String, String> {
        if d.sql.contains("/*+") {
            return Err("the statement has hints of its own".into());
        }
        let e = e.as_ref().ok_or("no plan")?;
        let rows: Vec<&PlanTableRow> = e
            .plan_table
            .iter()
            .filter(|r| !r.accesstype.is_empty())
            .collect();
        match rows.as_slice() {
            [r] => forcing_hint(r).ok_or_else(|| "no hint forces this access".into()),
            [] => Err("the plan has no table access".into()),
            rows => join_forcing_hint(rows).ok_or_else(|| "no hint forces this join".into()),
        }
    };
    // (database, its session, the other plan and how to force it)
    let sides = [
        (
            Side::A,
            sa,
            Side::B,
            d.explain_b.clone(),
            forced(&d.explain_b),
        ),
        (
            Side::B,
            sb,
            Side::A,
            d.explain_a.clone(),
            forced(&d.explain_a),
        ),
    ];
    let mut runs = Vec::new();
    let mut notes = Vec::new();
    for (db, s, plan, other, hint) in sides {
        runs.push(execute(s, db, db, &d.sql, None, true));
        if !changed {
            continue;
        }
        match hint {
            Ok(hint) => {
                let text = format!("{hint} {}", d.sql);
                let matches = match (s.execute(&format!("EXPLAIN {text}")), &other) {
                    (Ok(r), Some(y)) => r.explain.is_some_and(|x| compare(&x, y, impact).same()),
                    _ => false,
                };
                runs.push(execute(s, db, plan, &text, Some(hint), matches));
            }
            Err(why) => notes.push(format!(
                "{}'s plan not forced in {}: {why}",
                plan.name(),
                db.name()
            )),
        }
    }
    d.runs = runs;
    if !notes.is_empty() {
        d.run_note = Some(notes.join("; "));
    }
}

fn execute(
    s: &mut crate::Session,
    database: Side,
    plan: Side,
    sql: &str,
    hint: Option<String>,
    plan_matches: bool,
) -> Run {
    let mut run = Run {
        database,
        plan,
        hint,
        plan_matches,
        rows: 0,
        consistent_gets: 0,
        db_block_gets: 0,
        error: None,
    };
    // A warm-up execution first: the first reader of a block a loader
    // left behind may clean it out (delayed block cleanout), which costs
    // gets that belong to the load, not to the plan.
    match s.execute(sql).and_then(|_| s.execute(sql)) {
        Ok(r) => {
            run.rows = r.rows.len() as u64;
            run.consistent_gets = r.stats.get(Stat::ConsistentGets);
            run.db_block_gets = r.stats.get(Stat::DbBlockGets);
        }
        Err(e) => run.error = Some(e.to_string()),
    }
    run
}

#[cfg(test)]
mod tests {
    use super::super::tests::{full_scan, index_scan, sort_row};
    use super::*;

    #[test]
    fn the_first_keyword_skips_comments() {
        assert_eq!(first_keyword("  -- why\n/* x */ select 1"), "SELECT");
        assert_eq!(first_keyword("update t set a = 1"), "UPDATE");
        assert_eq!(first_keyword(""), "");
    }

    #[test]
    fn hints_force_a_full_scan_or_the_named_index() {
        assert_eq!(
            forcing_hint(&full_scan()).as_deref(),
            Some("/*+ FULL(t) */")
        );
        assert_eq!(
            forcing_hint(&index_scan()).as_deref(),
            Some("/*+ INDEX(t t_pk) */")
        );
        assert_eq!(forcing_hint(&sort_row()), None);
    }

    #[test]
    fn a_join_plan_is_forced_by_leading_the_methods_and_the_accesses() {
        let first = PlanTableRow {
            tname: "CUST".into(),
            ..full_scan()
        };
        let nl = PlanTableRow {
            planno: 2,
            method: 1,
            tname: "ORD".into(),
            accessname: "ORD_CUST".into(),
            ..index_scan()
        };
        let hash = PlanTableRow {
            planno: 3,
            method: 5,
            tname: "REGION".into(),
            ..full_scan()
        };
        assert_eq!(
            join_forcing_hint(&[&first, &nl, &hash]).as_deref(),
            Some(
                "/*+ LEADING(cust ord region) FULL(cust) USE_NL(ord) INDEX(ord ord_cust) \
                 USE_HASH(region) FULL(region) */"
            )
        );
        // A sort row has no table to name: no hint.
        assert_eq!(join_forcing_hint(&[&first, &sort_row()]), None);
    }
}
