//! Access-path rules for one index: which predicates delimit the leaf range,
//! which are checked on index entries, which need the table row.
//!
//! This module is pure logic — no blocks, no I/O. The SQL layer translates
//! its WHERE clause into [`Pred`]s; [`plan_for_index`] splits the top-level
//! AND terms ([`boolean_terms`]) into three classes (the book, chapter 6):
//!
//! | class | Db2 name | Oracle plan | where it is applied |
//! |---|---|---|---|
//! | matching | MATCHCOLS | `access(...)` | start/stop keys of the leaf walk |
//! | screening | index screening | `filter(...)` on INDEX | each index entry in the range |
//! | table | stage 1 / stage 2 on data | `filter(...)` on TABLE ACCESS | each fetched row |
//!
//! ```text
//!  index (C1, C2, C3, C4);  WHERE C1 = 1 AND C2 IN (1,2,3) AND C3 > 0 AND C4 < 100 AND C5 = 8
//!
//!  matching (MATCHCOLS 3, 3 probes)     one root→leaf descent per IN value:
//!     probe 1: (1, 1, >0) ──walk leaves──▶ stop at the first key outside
//!     probe 2: (1, 2, >0) ──walk leaves──▶ …
//!     probe 3: (1, 3, >0) ──walk leaves──▶ …
//!  screening: C4 < 100 on every entry in those ranges; FALSE → no table visit
//!  table:     C5 = 8 on the row fetched by rowid (C5 is not in the index)
//! ```
//!
//! **Where MATCHCOLS is decided**: `access/plan.rs`, [`plan_for_index`],
//! which walks the index columns in order and stops at the first column
//! without a usable predicate or after the first range or LIKE-prefix
//! predicate (the
//! rules of the book's chapter 6, followed literally). The plan it returns
//! is run by `crate::operators` (start/stop keys, screening on each entry,
//! table terms on each fetched row) and shown by `sql::explain`.
//! [`eval`] and [`eval_partial`] evaluate predicates with SQL's three-valued
//! logic; [`index_scan_cost`] prices a plan with the cost formula of the
//! book's chapter 7 (`access/cost.rs`).
//!
//! Invariant: in an [`AccessPlan`], `matching_terms`, `screening_terms` and
//! `table_terms` partition the term list, and `recheck_terms ⊆ matching_terms`.
//! Invariant: a row satisfies the WHERE clause iff its index key is admitted by
//! every bound ([`ColumnBound::admits`]) and every recheck, screening and table
//! term evaluates to TRUE (checked by a property test).
//!
//! Simplifications compared with Db2/Oracle:
//! - Only single-index access: no multi-index union/intersection (so an OR
//!   never matches), no range-list access, no list prefetch.
//! - `NOT (…)` is never rewritten (`NOT C1 > 5` does not become `C1 <= 5`):
//!   write the positive form to get a matching predicate.
//! - An [`Pred::Opaque`] predicate (a function of a column, a stage 2
//!   predicate in Db2 terms) is always a table term, even when its columns are
//!   in the index: the index cannot evaluate it.
//! - Constants are not coerced to the column type; the SQL layer should do that
//!   before planning, so that bounds and index keys have the same type.
//! - Selectivities assume independent columns and no histograms.

mod cost;
mod plan;
mod pred;
#[cfg(test)]
mod tests;

pub use cost::{
    bound_selectivity, cost_from_selectivities, index_scan_cost, selectivity, ColumnStats,
    CostEstimate, IndexStats, DEFAULT_SELECTIVITY,
};
pub use plan::{
    boolean_terms, index_only, never_true, plan_for_index, probe_order, probe_values,
    probe_values_by, AccessPlan, ColumnBound, Endpoint,
};
pub use pred::{
    compare, describe, eval, eval_partial, like_matches, like_prefix, render, try_eval, CmpOp,
    NotAvailable, OpaqueEval, OpaqueFn, Pred,
};
