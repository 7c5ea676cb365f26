//! The execution layer: the operators a plan is made of, and the access
//! paths its leaves read through (the book, chapters 6 and 7).
//!
//! ```text
//!   Limit ─ pulls until OFFSET + LIMIT rows, then stops asking
//!     │
//!   Sort · Distinct · Aggregate · Map (project) · Filter     tree.rs, aggregate.rs
//!   Concat · SortUnique · SetFilter (compound queries)      set.rs
//!     │
//!   HashJoin ─────────────┐ build input (the smaller one)    join.rs
//!     │ probe input       │
//!   NestedLoops ──── Probe: the inner table read per outer row (TableRead)
//!     │
//!   FullScan (one block per step) · Once(TableRead): an index range scan
//!   in one call · Rows in memory · a leaf the SQL layer writes
//!                                  └── scan.rs: the access paths
//! ```
//!
//! * `scan.rs` reads one table by an [`Access`]: a full scan, an index
//!   range scan separating matching from screening predicates, a batched
//!   (list-prefetch) or index-only scan, each counted as it reads.
//! * `tree.rs` is the `Operator` trait and the operators above the
//!   leaves: every operator *pulls* rows from its inputs one at a time
//!   (`next`), so a LIMIT that has its rows simply stops asking and nothing
//!   below it reads further; a full scan leaf reads one block per pull of
//!   a new block. An operator that needs its input whole — a sort, an
//!   aggregate, a hash join's build input, the inputs of a sort-merge join
//!   that are not in key order already — reads it whole, and only then;
//!   DISTINCT streams, remembering what it has passed.
//! * `join.rs` holds the join operators (nested loops, hash join with a
//!   one-pass spill, sort-merge join, merge join cartesian), all pairing
//!   rows through one rule so that they cannot disagree on what a match is.
//! * `aggregate.rs` groups (SORT AGGREGATE / HASH GROUP BY); `set.rs` runs
//!   compound queries; `temp.rs` is the temporary-block format a spilled
//!   hash join or sort writes its partitions and runs in.
//!
//! Work areas: a hash join's build input beyond `HASH_AREA_SIZE` and a
//! sort's rows beyond `SORT_AREA_SIZE` go to temporary blocks (counted as
//! written and read; kept in memory in this version, see `temp.rs`).
//!
//! The layer knows neither SQL text nor the SQL layer's expression type:
//! expressions reach it through the `Expr` trait (the SQL layer's bound
//! expressions implement it), and the session through the `Env` trait (a
//! session `Context` implements it). A leaf that only the SQL layer can
//! produce (a derived table, a dictionary view) is an `Operator` the SQL
//! layer writes, plugged into the same tree.

mod aggregate;
mod join;
mod scan;
mod set;
mod temp;
mod tree;

pub(crate) use aggregate::{AggCall, AggFn, AggSpec, Aggregate};
pub(crate) use join::{
    Cartesian, HashJoin, JoinSpec, MergeJoin, NestedLoops, Once, Probe, TableRead,
};
pub(crate) use scan::{run, run_limited, FetchCalls, RowidFetcher};
pub use scan::{Access, QueryResult};
pub(crate) use set::{Concat, SetFilter, SortUnique};
pub(crate) use tree::{
    all_true, drain, Distinct, Env, Expr, Filter, FullScan, Limit, Map, Node, Operator, Placement,
    Rows, Sort, SortKey,
};
