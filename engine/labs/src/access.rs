//! Index-access labs measured through SQL: matching and screening (C15,
//! C18, C20, C21), pinning and the cost formula (C16, C17), IN-lists
//! against BETWEEN (C19), optional filters (C22, C23) and an index design
//! exercise (C25). C24 and C26 live in `index`.
//!
//! Every lab here follows the same recipe:
//!
//! 1. A fresh database (`LabCtx::database` with `lab_config`: background
//!    writer off, a cache that holds the lab's data), its indexes created
//!    **before** the rows are loaded, and the rows loaded in chunks that
//!    each commit. These choices keep the counters about the access path
//!    alone: every block the load changed is cleaned out at its commit
//!    while still cached, so no later read has to consult a transaction
//!    table (`transaction table lookups`, which would add consistent gets
//!    that belong to no access path).
//! 2. Data from a fixed seed (`Rng::splitmix64`), so the expected answers
//!    (how many entries a range holds, how many rows a filter keeps) are
//!    computed here from the generated rows, independently of the engine.
//! 3. Each statement run through `Session::execute[_with]`, its exact
//!    counters read from `SqlResult::stats` (`Scan`) and its plan from
//!    `EXPLAIN` (`PlanInfo`).
//! 4. A pure `cNN_verdict(&CNNEvidence)` written from the claim text,
//!    unit-tested on synthetic evidence for each outcome.

mod costs;
mod design;
mod matching;
mod optional;

pub use costs::{
    c16_verdict, c17_verdict, c19_verdict, C16Evidence, C16Side, C17Evidence, C17Query,
    C19Evidence, C19Shape,
};
pub use design::{c25_verdict, C25Candidate, C25Evidence};
pub use matching::{
    c15_verdict, c18_verdict, c20_verdict, c21_verdict, C15Case, C15Evidence, C18Evidence,
    C18Query, C20Evidence, C20Side, C21Evidence, C21Form,
};
pub use optional::{c22_verdict, c23_verdict, C22Evidence, C22Run, C23Evidence, C23Form};

use super::{Lab, LabCtx};
use blocklab::analyze::IndexStatsRow;
use blocklab::config::Config;
use blocklab::error::{Error, Result};
use blocklab::session::Session;
use blocklab::sql::SqlResult;
use blocklab::stats::Stat;
use blocklab::value::Value;

pub(super) fn labs() -> Vec<Lab> {
    let mut v = Vec::new();
    v.extend(matching::labs());
    v.extend(costs::labs());
    v.extend(optional::labs());
    v.extend(design::labs());
    v
}

/// Rows per load chunk: each chunk is one array insert and one commit.
const LOAD_CHUNK: usize = 10_000;

/// The labs' configuration (`LabCtx::config`: no background writer) with a
/// buffer cache large enough (128 MB of 8 KB frames) for a whole lab's data
/// and the undo its load keeps: commit cleanout only reaches blocks still
/// cached, and blocklab's consistent reads never clean a block out, so a
/// block evicted before its transaction committed would cost a transaction
/// table lookup — one more consistent get — on every later read.
pub(crate) fn lab_config(ctx: &LabCtx) -> Config {
    Config {
        cache_frames: 16_384,
        ..ctx.config()
    }
}

/// Inserts `rows` with `insert` (a statement with one `?` per column), in
/// chunks that each commit.
pub(crate) fn load(s: &mut Session, insert: &str, rows: &[Vec<Value>]) -> Result<()> {
    let p = s.prepare(insert)?;
    for chunk in rows.chunks(LOAD_CHUNK) {
        s.execute_array(&p, chunk)?;
        s.execute("COMMIT")?;
    }
    Ok(())
}

/// Runs `sql` with `from..=to` of generate_series substituted for `{lo}`
/// and `{hi}`, in committed chunks (loads whose rows SQL can compute).
pub(crate) fn load_series(s: &mut Session, sql: &str, from: u64, to: u64) -> Result<()> {
    let mut lo = from;
    while lo <= to {
        let hi = (lo + LOAD_CHUNK as u64 - 1).min(to);
        s.execute(
            &sql.replace("{lo}", &lo.to_string())
                .replace("{hi}", &hi.to_string()),
        )?;
        s.execute("COMMIT")?;
        lo = hi + 1;
    }
    Ok(())
}

/// The ANALYZE row of index `name` of `table` (gathered now).
pub(crate) fn index_stats(s: &mut Session, table: &str, name: &str) -> Result<IndexStatsRow> {
    s.analyze(table)?
        .index(name)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("ANALYZE {table} has no index {name}")))
}

/// What one statement did, from its exact counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    pub rows: u64,
    pub consistent_gets: u64,
    pub root: u64,
    pub branch: u64,
    pub leaf: u64,
    pub descents: u64,
    pub examined: u64,
    pub screened_out: u64,
    pub fetched: u64,
    pub table_gets: u64,
    pub pinned: u64,
    pub scan_blocks: u64,
    pub tx_lookups: u64,
}

impl Scan {
    pub(crate) fn of(r: &SqlResult) -> Scan {
        let g = |s: Stat| r.stats.get(s);
        Scan {
            rows: r.rows.len() as u64,
            consistent_gets: g(Stat::ConsistentGets),
            root: g(Stat::IndexRootGets),
            branch: g(Stat::IndexBranchGets),
            leaf: g(Stat::IndexLeafGets),
            descents: g(Stat::IndexDescents),
            examined: g(Stat::IndexEntriesExamined),
            screened_out: g(Stat::IndexEntriesScreenedOut),
            fetched: g(Stat::TableFetchByRowid),
            table_gets: g(Stat::TableBlockGetsByRowid),
            pinned: g(Stat::BufferIsPinned),
            scan_blocks: g(Stat::TableScanBlocks),
            tx_lookups: g(Stat::TxTableLookups),
        }
    }

    /// Index blocks read: root and branch (vertical) plus leaves (horizontal).
    pub(crate) fn index_gets(&self) -> u64 {
        self.root + self.branch + self.leaf
    }
}

/// Runs `sql` with `binds` and returns its counters.
pub(crate) fn run(s: &mut Session, sql: &str, binds: &[Value]) -> Result<Scan> {
    Ok(Scan::of(&s.execute_with(sql, binds)?))
}

/// What EXPLAIN says about a statement's table access.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PlanInfo {
    /// MATCHCOLS of the index line; `None` for a full table scan.
    pub matchcols: Option<usize>,
    /// Number of screening (index filter) predicates on the index line.
    pub screening: usize,
    /// Number of predicates checked on the table row.
    pub table_filters: usize,
    /// Cost of the index line (BLEVEL + leaf blocks).
    pub index_cost: u64,
    /// Cost of the whole access (index + table blocks).
    pub total_cost: u64,
    /// The rendered plan, for the report's notes.
    pub text: String,
}

/// EXPLAINs `sql` with `binds`.
pub(crate) fn explain(s: &mut Session, sql: &str, binds: &[Value]) -> Result<PlanInfo> {
    let r = s.execute_with(&format!("EXPLAIN {sql}"), binds)?;
    let Some(e) = r.explain else {
        return Ok(PlanInfo::default());
    };
    let ix = e.lines.iter().find(|l| l.matchcols.is_some());
    let table = e
        .lines
        .iter()
        .find(|l| l.operation.starts_with("TABLE ACCESS") || l.operation.starts_with("INDEX"));
    Ok(PlanInfo {
        matchcols: ix.and_then(|l| l.matchcols),
        screening: ix
            .and_then(|l| l.screening.as_deref())
            .map_or(0, count_terms),
        table_filters: e
            .lines
            .iter()
            .filter_map(|l| l.filter.as_deref())
            .map(count_terms)
            .sum(),
        index_cost: ix.map_or(0, |l| l.cost),
        total_cost: table.map_or(0, |l| l.cost),
        text: format!("{sql}\n{}", e.render()),
    })
}

/// The number of top-level AND terms in a predicate as EXPLAIN prints it
/// (`a=1 AND b BETWEEN 2 AND 3 AND (c=1 OR d=2)` has three): the ` AND `s
/// outside parentheses, less the ones that belong to a BETWEEN, plus one.
pub(crate) fn count_terms(text: &str) -> usize {
    if text.trim().is_empty() {
        return 0;
    }
    let mut depth = 0i32;
    let mut outside = String::with_capacity(text.len());
    let mut in_quote = false;
    for ch in text.chars() {
        match ch {
            '\'' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => depth -= 1,
            _ => {}
        }
        // Keep only what is outside parentheses and quotes.
        outside.push(if depth == 0 && !in_quote { ch } else { '_' });
    }
    let ands = outside.matches(" AND ").count();
    let betweens = outside.matches(" BETWEEN ").count();
    ands.saturating_sub(betweens) + 1
}

/// `n` as a SQL list `(a, b, …)` of the values `from..from + n`.
pub(crate) fn in_list(from: i64, n: usize) -> String {
    let v: Vec<String> = (0..n as i64).map(|i| (from + i).to_string()).collect();
    format!("({})", v.join(", "))
}

/// The values `vals` as a SQL list `(a, b, …)`.
pub(crate) fn in_list_of(vals: &[u64]) -> String {
    let v: Vec<String> = vals.iter().map(u64::to_string).collect();
    format!("({})", v.join(", "))
}

/// `a / b` in thousandths, rounded (relative errors and ratios as counters).
pub(crate) fn permille(a: u64, b: u64) -> u64 {
    (a * 1000 + b / 2).checked_div(b).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_counted_outside_parentheses_and_betweens() {
        assert_eq!(count_terms(""), 0);
        assert_eq!(count_terms("c2=4"), 1);
        assert_eq!(count_terms("c1=3 AND c2=4"), 2);
        assert_eq!(count_terms("c1 BETWEEN 3 AND 5 AND c2=4"), 2);
        assert_eq!(count_terms("(c1=3 AND c2=4 OR x=1) AND d='A AND B'"), 2);
    }

    #[test]
    fn permille_rounds() {
        assert_eq!(permille(1, 3), 333);
        assert_eq!(permille(2, 3), 667);
        assert_eq!(permille(5, 0), 0);
    }
}
