//! Default selectivities and the Oracle-style I/O cost of an index range
//! scan plus table access (the book, chapter 7):
//!
//! ```text
//! cost = BLEVEL                                       -- root and branch blocks
//!      + ceil(LEAF_BLOCKS       × ix_sel)              -- leaf blocks walked
//!      + ceil(CLUSTERING_FACTOR × ix_sel_with_filters) -- table block visits
//! ```
//!
//! `ix_sel` comes from the matching bounds only (they delimit the range);
//! `ix_sel_with_filters` also multiplies in the screening terms (they stop
//! table visits but not leaf reads). Table terms change neither.
//!
//! An IN-list (ACCESSTYPE 'N') is costed as the sum over its values (the
//! note in the book's chapter 7): each value is its own descent with selectivity
//! `ix_sel / probes`, and both ceilings are taken per probe.
//!
//! Default selectivities, without histograms (the book, chapter 7): `= v` → 1/NDV;
//! `> v` → (hi − v)/(hi − lo), `< v` → (v − lo)/(hi − lo), each inclusive end
//! adds 1/NDV (so BETWEEN adds 2/NDV); `IN (k values)` → k/NDV capped at 1;
//! `LIKE 'p…'` → the range of strings starting with `p`. Negations are
//! 1 − the positive form, AND multiplies, OR is s₁ + s₂ − s₁s₂ (independent
//! columns). Anything that cannot be estimated — no statistics, no low/high,
//! a non-numeric range, an opaque predicate — is [`DEFAULT_SELECTIVITY`].
//! `IS NULL` is 0 when the column has no NULLs and the default otherwise
//! (the column statistics do not carry the row count).
//!
//! Text values are placed on the number line by their first 7 bytes read as
//! a base-256 fraction — the same idea as Oracle's use of the leading bytes
//! of a string for range estimates.

use super::plan::{usable, AccessPlan, ColumnBound, Endpoint};
use super::pred::{CmpOp, Pred};
use crate::value::Value;

/// Selectivity used when nothing better is known.
pub const DEFAULT_SELECTIVITY: f64 = 0.05;

/// Index statistics (Oracle USER_INDEXES names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Branch levels above the leaves (height − 1).
    pub blevel: u32,
    pub leaf_blocks: u64,
    pub clustering_factor: u64,
    pub num_rows: u64,
    pub distinct_keys: u64,
}

/// Column statistics (Oracle USER_TAB_COL_STATISTICS names).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnStats {
    /// Number of distinct non-NULL values.
    pub ndv: u64,
    pub low: Option<Value>,
    pub high: Option<Value>,
    pub nulls: u64,
}

/// The estimated cost of one index access, in blocks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    /// Root-to-leaf descents.
    pub probes: usize,
    /// probes × BLEVEL.
    pub branch_blocks: u64,
    /// probes × ceil(LEAF_BLOCKS × ix_sel / probes).
    pub leaf_blocks: u64,
    /// probes × ceil(CF × ix_sel_with_filters / probes).
    pub table_blocks: u64,
    /// branch + leaf + table blocks.
    pub total: u64,
    pub ix_sel: f64,
    pub ix_sel_with_filters: f64,
}

impl CostEstimate {
    /// The cost without table visits, for an index-only plan.
    pub fn index_only_total(&self) -> u64 {
        self.branch_blocks + self.leaf_blocks
    }
}

/// Selectivity of one term, by the defaults above.
pub fn selectivity(term: &Pred, stats: &dyn Fn(usize) -> Option<ColumnStats>) -> f64 {
    let s = match term {
        Pred::And(ps) => ps.iter().map(|p| selectivity(p, stats)).product(),
        Pred::Or(ps) => ps
            .iter()
            .map(|p| selectivity(p, stats))
            .fold(0.0, |acc, s| acc + s - acc * s),
        Pred::Not(p) => 1.0 - selectivity(p, stats),
        Pred::Opaque { .. } => DEFAULT_SELECTIVITY,
        // A comparison with a NULL constant is never TRUE.
        Pred::Cmp { value, .. } if value.is_null() => 0.0,
        _ => match (positive_form(term), usable(term)) {
            (Some(positive), _) => 1.0 - selectivity(&positive, stats),
            (None, Some((col, u))) => bound_selectivity(col, &u.into_bound(), stats),
            (None, None) => DEFAULT_SELECTIVITY, // e.g. LIKE '%x', IN (NULL)
        },
    };
    s.clamp(0.0, 1.0)
}

/// The predicate a negative leaf negates: `<>` → `=`, `NOT BETWEEN` →
/// `BETWEEN`, and so on; `None` for anything else.
fn positive_form(term: &Pred) -> Option<Pred> {
    let mut p = term.clone();
    match &mut p {
        Pred::Cmp { op, .. } if *op == CmpOp::Ne => *op = CmpOp::Eq,
        Pred::Between { negated, .. }
        | Pred::In { negated, .. }
        | Pred::Like { negated, .. }
        | Pred::IsNull { negated, .. }
            if *negated =>
        {
            *negated = false
        }
        _ => return None,
    }
    Some(p)
}

/// Selectivity of a matching bound on column `col`.
pub fn bound_selectivity(
    col: usize,
    bound: &ColumnBound,
    stats: &dyn Fn(usize) -> Option<ColumnStats>,
) -> f64 {
    let Some(s) = stats(col) else {
        return DEFAULT_SELECTIVITY;
    };
    let ndv = s.ndv.max(1) as f64;
    let sel = match bound {
        ColumnBound::Eq(_) => 1.0 / ndv,
        ColumnBound::In(vs) => vs.len() as f64 / ndv,
        ColumnBound::IsNull if s.nulls == 0 => 0.0,
        ColumnBound::IsNull => DEFAULT_SELECTIVITY,
        ColumnBound::Range { low, high } => {
            let end = |e: &Option<Endpoint>| match e {
                None => Some(None),
                Some(e) => position(&e.value).map(|p| Some((p, e.inclusive))),
            };
            match (end(low), end(high)) {
                (Some(l), Some(h)) => range_selectivity(&s, ndv, l, h),
                _ => None,
            }
            .unwrap_or(DEFAULT_SELECTIVITY)
        }
        ColumnBound::LikePrefix(p) => {
            // Strings starting with p lie in [pos(p), pos(p) + 256^-len).
            let start = position(&Value::Text(p.clone())).unwrap_or(0.0);
            let width = 256f64.powi(-(p.len().min(TEXT_BYTES) as i32));
            range_selectivity(&s, ndv, Some((start, true)), Some((start + width, false)))
                .unwrap_or(DEFAULT_SELECTIVITY)
        }
    };
    sel.clamp(0.0, 1.0)
}

/// `(b − a)/(hi − lo)` plus 1/NDV per inclusive end, with an open end taken
/// as the column's low or high value and both ends clamped into [lo, hi].
fn range_selectivity(
    s: &ColumnStats,
    ndv: f64,
    low: Option<(f64, bool)>,
    high: Option<(f64, bool)>,
) -> Option<f64> {
    let lo = position(s.low.as_ref()?)?;
    let hi = position(s.high.as_ref()?)?;
    if hi <= lo {
        return None; // one distinct value: no width to divide by
    }
    let a = low.map_or(lo, |(v, _)| v.clamp(lo, hi));
    let b = high.map_or(hi, |(v, _)| v.clamp(lo, hi));
    if a > b {
        return Some(0.0);
    }
    let inclusive_ends = [low, high].iter().flatten().filter(|(_, inc)| *inc).count();
    Some((b - a) / (hi - lo) + inclusive_ends as f64 / ndv)
}

/// Leading bytes of a text value used for its position (an f64 holds 53 bits).
const TEXT_BYTES: usize = 7;

/// A value's place on the number line for range estimates.
fn position(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Real(r) if !r.is_nan() => Some(*r),
        Value::Text(t) => Some(
            t.bytes()
                .take(TEXT_BYTES)
                .enumerate()
                .map(|(k, b)| b as f64 * 256f64.powi(-(k as i32 + 1)))
                .sum(),
        ),
        _ => None,
    }
}

/// The estimated cost of `plan` on an index with `stats`; see the module docs.
pub fn index_scan_cost(
    plan: &AccessPlan,
    terms: &[Pred],
    stats: &IndexStats,
    col_stats: &dyn Fn(usize) -> Option<ColumnStats>,
) -> CostEstimate {
    let ix_sel: f64 = plan
        .bounds
        .iter()
        .zip(&plan.index_cols)
        .map(|(b, &col)| bound_selectivity(col, b, col_stats))
        .product();
    let screening: f64 = plan
        .screening_terms
        .iter()
        .filter_map(|&i| terms.get(i))
        .map(|t| selectivity(t, col_stats))
        .product();
    cost_from_selectivities(stats, plan.probes, ix_sel, ix_sel * screening)
}

/// Rounding error tolerated before a ceiling goes up one block.
const CEIL_SLACK: f64 = 1e-9;

/// The cost formula from selectivities already known (`ix_sel` for all
/// probes together).
pub fn cost_from_selectivities(
    stats: &IndexStats,
    probes: usize,
    ix_sel: f64,
    ix_sel_with_filters: f64,
) -> CostEstimate {
    let probes = probes.max(1);
    let per_probe = |blocks: u64, sel: f64| {
        let exact = blocks as f64 * sel.clamp(0.0, 1.0) / probes as f64;
        // 50000 × 0.1 × 0.1 is 500.00000000000006 in f64; it must cost 500.
        let blocks = (exact - CEIL_SLACK).ceil().max(0.0) as u64;
        blocks * probes as u64
    };
    let branch_blocks = u64::from(stats.blevel) * probes as u64;
    let leaf_blocks = per_probe(stats.leaf_blocks, ix_sel);
    let table_blocks = per_probe(stats.clustering_factor, ix_sel_with_filters);
    CostEstimate {
        probes,
        branch_blocks,
        leaf_blocks,
        table_blocks,
        total: branch_blocks + leaf_blocks + table_blocks,
        ix_sel,
        ix_sel_with_filters,
    }
}
